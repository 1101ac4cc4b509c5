#include "baselines.h"

#include <fmt/format.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <sodium.h>

#include <atomic>
#include <filesystem>
#include <memory>

namespace lattice::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string PaddedKey(uint64_t thread, uint64_t seq, size_t bytes) {
  std::string key = fmt::format("bench/{:04}/{:016}", thread, seq);
  if (key.size() < bytes) key.append(bytes - key.size(), 'k');
  return key;
}

// Runs `step` until `duration` has passed; returns calls per second.
template <typename Step>
double RatePerSecond(std::chrono::milliseconds duration, Step&& step) {
  uint64_t calls = 0;
  Clock::time_point start = Clock::now();
  Clock::time_point end = start + duration;
  Clock::time_point now = start;
  while (now < end) {
    for (int i = 0; i < 64; ++i) step();
    calls += 64;
    now = Clock::now();
  }
  return static_cast<double>(calls) / std::chrono::duration<double>(now - start).count();
}

}  // namespace

std::string Filler(size_t n, uint64_t seed) {
  std::string out(n, ' ');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>('!' + x % 94);
  }
  return out;
}

absl::StatusOr<LoadResult> MeasureLevelDbSyncWrites(const LevelDbBaselineOptions& options) {
  std::error_code ignored;
  std::filesystem::remove_all(options.dir, ignored);
  std::filesystem::create_directories(options.dir, ignored);
  leveldb::Options db_options;
  db_options.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  leveldb::Status opened = leveldb::DB::Open(db_options, options.dir, &raw);
  if (!opened.ok()) {
    return absl::UnavailableError(fmt::format("open LevelDB at {}: {}", options.dir, opened.ToString()));
  }
  std::unique_ptr<leveldb::DB> db(raw);
  const std::string value = Filler(options.value_bytes, 7);

  LoadOptions load = options.load;
  load.clients = options.threads;
  auto result = RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    auto seq = std::make_shared<uint64_t>(0);
    const uint64_t thread = static_cast<uint64_t>(index);
    leveldb::DB* target = db.get();
    size_t rows = std::max<size_t>(1, options.rows_per_write);
    size_t key_bytes = options.key_bytes;
    return Operation([=, &value]() -> absl::Status {
      leveldb::WriteOptions write_options;
      write_options.sync = true;
      leveldb::Status s;
      if (rows == 1) {
        s = target->Put(write_options, PaddedKey(thread, (*seq)++, key_bytes), value);
      } else {
        leveldb::WriteBatch batch;
        for (size_t r = 0; r < rows; ++r) batch.Put(PaddedKey(thread, (*seq)++, key_bytes), value);
        s = target->Write(write_options, &batch);
      }
      if (!s.ok()) return absl::UnavailableError(s.ToString());
      return absl::OkStatus();
    });
  });
  db.reset();
  std::filesystem::remove_all(options.dir, ignored);
  return result;
}

double MeasureEd25519SignRate(std::chrono::milliseconds duration, size_t message_bytes) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string message = Filler(message_bytes, 1);
  unsigned char sig[crypto_sign_BYTES];
  return RatePerSecond(duration, [&] {
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), sk);
    message[0] = static_cast<char>(sig[0]);  // each signature depends on the previous one
  });
}

double MeasureEd25519VerifyRate(std::chrono::milliseconds duration, size_t message_bytes) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string message = Filler(message_bytes, 2);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk);
  std::atomic<int> failures{0};
  double rate = RatePerSecond(duration, [&] {
    if (crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(message.data()),
                                    message.size(), pk) != 0) {
      failures.fetch_add(1, std::memory_order_relaxed);
    }
  });
  return failures.load() == 0 ? rate : 0;
}

}  // namespace lattice::bench
