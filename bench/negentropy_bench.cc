// Negentropy reconciliation figures (issue 7): bytes and round trips to reconcile two sets
// of random ids stamped over a year that differ in a given fraction, the CPU each side
// spends, the time to add items to the persistent range index, and its start-up cost.
//
//   lattice-negentropy-bench                       the table (100k and 1M items)
//   lattice-negentropy-bench --items 100000 --differences 10 --storage memory
//
// "Differing in d" means a symmetric difference of d ids, half held only by the
// initiator and half only by the responder. Round trips count the responder's replies.
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "sync/index_batch.h"
#include "sync/leveldb_kv.h"
#include "sync/negentropy.h"
#include "sync/range_index.h"
#include "sync/sorted_items.h"

namespace lattice::kernel::sync {
namespace {

constexpr uint64_t kYearMs = 365ull * 24 * 3600 * 1000;
constexpr uint64_t kStartMs = 1'700'000'000'000ull;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Sets {
  std::vector<Item> initiator;
  std::vector<Item> responder;
  std::unordered_set<std::string> only_initiator, only_responder;
};

Item RandomItem(std::mt19937_64& rng) {
  Item item;
  item.timestamp = kStartMs + rng() % kYearMs;
  for (size_t i = 0; i < kIdBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(item.id.data() + i, &v, 8);
  }
  return item;
}

Sets MakeSets(uint64_t items, uint64_t differences, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Sets sets;
  uint64_t only_a = differences / 2;
  uint64_t only_b = differences - only_a;
  uint64_t common = items - std::max(only_a, only_b);
  for (uint64_t i = 0; i < common; ++i) {
    Item item = RandomItem(rng);
    sets.initiator.push_back(item);
    sets.responder.push_back(item);
  }
  for (uint64_t i = 0; i < only_a; ++i) {
    Item item = RandomItem(rng);
    sets.initiator.push_back(item);
    sets.only_initiator.insert(std::string(IdBytes(item.id)));
  }
  for (uint64_t i = 0; i < only_b; ++i) {
    Item item = RandomItem(rng);
    sets.responder.push_back(item);
    sets.only_responder.insert(std::string(IdBytes(item.id)));
  }
  return sets;
}

// A persistent index in a LevelDB of its own, filled in batches as the kernel would.
struct IndexedStore {
  std::unique_ptr<leveldb::DB> db;
  double add_seconds = 0;
  double open_seconds = 0;   // LevelDB's own reopen (log replay, bounded by its buffer)
  double index_seconds = 0;  // the index's start-up: a reader and the set's total

  static std::unique_ptr<IndexedStore> Build(const std::string& dir,
                                             const std::vector<Item>& items, bool compact) {
    auto store = std::make_unique<IndexedStore>();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    if (leveldb::Status s = leveldb::DB::Open(options, dir, &raw); !s.ok()) {
      fmt::print(stderr, "open {}: {}\n", dir, s.ToString());
      std::exit(1);
    }
    store->db.reset(raw);
    RangeIndex index;
    LevelDbKv committed(store->db.get());
    double start = WallSeconds();
    constexpr size_t kBatch = 1000;
    for (size_t begin = 0; begin < items.size(); begin += kBatch) {
      leveldb::WriteBatch batch;
      IndexBatch writer(committed, [&](std::string_view k, std::string_view v) {
        batch.Put(leveldb::Slice(k.data(), k.size()), leveldb::Slice(v.data(), v.size()));
      });
      for (size_t i = begin; i < std::min(items.size(), begin + kBatch); ++i) {
        if (!index.Add(writer, items[i].timestamp, items[i].id).ok()) std::abort();
      }
      if (!store->db->Write(leveldb::WriteOptions(), &batch).ok()) std::abort();
    }
    store->add_seconds = WallSeconds() - start;
    if (compact) store->db->CompactRange(nullptr, nullptr);
    // Start-up: close, reopen and answer the first question (the whole set's count).
    store->db.reset();
    start = WallSeconds();
    options.create_if_missing = false;
    if (!leveldb::DB::Open(options, dir, &raw).ok()) std::abort();
    store->db.reset(raw);
    store->open_seconds = WallSeconds() - start;
    start = WallSeconds();
    LevelDbKv kv(store->db.get());
    RangeIndexReader reader(kv);
    if (!reader.Total().ok()) std::abort();
    store->index_seconds = WallSeconds() - start;
    return store;
  }
};

// What the kernel would make per message: a pinned LevelDB reader and the index over it.
struct PinnedReader : RangeIndexReader {
  explicit PinnedReader(leveldb::DB* db) : PinnedReader(LevelDbKv::Pinned(db)) {}
  explicit PinnedReader(std::unique_ptr<LevelDbKv> kv)
      : RangeIndexReader(*kv), kv_(std::move(kv)) {}
  std::unique_ptr<LevelDbKv> kv_;
};

struct Outcome {
  uint64_t bytes = 0;
  uint64_t round_trips = 0;
  double initiator_cpu = 0;
  double responder_cpu = 0;
  bool exact = false;
};

// Runs one reconciliation; `source_a` / `source_b` make a fresh ItemSource per message.
template <typename MakeA, typename MakeB>
Outcome Reconcile(const Sets& sets, MakeA make_a, MakeB make_b, const NegentropyOptions& opts) {
  Outcome outcome;
  auto initiator = NegentropySession::Create(Role::kInitiator, opts);
  auto responder = NegentropySession::Create(Role::kResponder, opts);
  if (!initiator.ok() || !responder.ok()) std::abort();
  std::unordered_set<std::string> have, need;
  double t0 = ThreadCpuSeconds();
  auto a = make_a();
  auto message = initiator->Initiate(*a);
  outcome.initiator_cpu += ThreadCpuSeconds() - t0;
  if (!message.ok()) {
    fmt::print(stderr, "initiate: {}\n", message.status().ToString());
    std::abort();
  }
  std::string next = *message;
  while (true) {
    outcome.bytes += next.size();
    t0 = ThreadCpuSeconds();
    auto b = make_b();
    auto answer = responder->Reconcile(*b, next);
    outcome.responder_cpu += ThreadCpuSeconds() - t0;
    if (!answer.ok()) {
      fmt::print(stderr, "responder: {}\n", answer.status().ToString());
      std::abort();
    }
    ++outcome.round_trips;
    outcome.bytes += answer->reply->size();
    t0 = ThreadCpuSeconds();
    auto a2 = make_a();
    auto step = initiator->Reconcile(*a2, *answer->reply);
    outcome.initiator_cpu += ThreadCpuSeconds() - t0;
    if (!step.ok()) {
      fmt::print(stderr, "initiator: {}\n", step.status().ToString());
      std::abort();
    }
    for (const auto& id : step->have) have.insert(std::string(IdBytes(id)));
    for (const auto& id : step->need) need.insert(std::string(IdBytes(id)));
    if (!step->reply.has_value()) break;
    next = *step->reply;
  }
  outcome.exact = have == sets.only_initiator && need == sets.only_responder;
  return outcome;
}

std::string Human(uint64_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) return fmt::format("{}M", n / 1'000'000);
  if (n >= 1000 && n % 1000 == 0) return fmt::format("{}k", n / 1000);
  return std::to_string(n);
}

std::string WithCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace
}  // namespace lattice::kernel::sync

int main(int argc, char** argv) {
  using namespace lattice::kernel::sync;
  CLI::App app("Negentropy reconciliation benchmark");
  std::vector<uint64_t> sizes{100'000, 1'000'000};
  std::vector<double> fractions{0.0001, 0.01, 0.1};
  std::vector<uint64_t> differences;
  std::string storage = "index";
  std::string dir = "/tmp/lattice-negentropy-bench";
  uint64_t seed = 7;
  size_t frame = 0;
  uint64_t detect = NegentropyOptions().detect_max_items;
  uint64_t parts = NegentropyOptions().max_plan_parts;
  bool compact = false;
  app.add_option("--items", sizes, "set sizes");
  app.add_option("--fractions", fractions, "differences as fractions of the set");
  app.add_option("--differences", differences, "differences as counts (instead of fractions)");
  app.add_option("--storage", storage, "index (persistent, LevelDB) or memory")
      ->check(CLI::IsMember({"index", "memory"}));
  app.add_option("--dir", dir, "scratch directory for the index databases");
  app.add_option("--seed", seed);
  app.add_option("--frame-limit", frame, "frame size limit (0 = none, as the reference)");
  app.add_option("--detect-max-items", detect);
  app.add_option("--max-plan-parts", parts);
  app.add_flag("--compact", compact,
               "compact LevelDB after the bulk load (a long-lived store's steady state)");
  CLI11_PARSE(app, argc, argv);

  NegentropyOptions opts;
  opts.frame_size_limit = frame;
  opts.detect_max_items = detect;
  opts.max_plan_parts = parts;
  opts.max_incoming_bytes = 256u << 20;
  opts.max_ranges = 1u << 24;

  fmt::print("storage: {}   frame limit: {}   ids 32 bytes, stamps over one year (ms)\n\n",
             storage, frame == 0 ? std::string("none") : std::to_string(frame));
  fmt::print("cpu ms: per side, first sync after start-up, then again warm; add: bulk load of\n"
             "the initiator's index (batches of 1000); open: LevelDB reopen; index: first read\n\n");
  fmt::print("{:>6} {:>9} {:>12} {:>5} {:>6} {:>6} {:>6} {:>6} {:>5}  {:>7} {:>8} {:>9} {:>9}\n",
             "items", "differ", "bytes", "trips", "init", "resp", "init", "resp", "exact",
             "add s", "us/item", "open ms", "index ms");
  fmt::print("{:>6} {:>9} {:>12} {:>5} {:>13} {:>13}\n", "", "", "", "", "cpu (first)",
             "cpu (warm)");
  for (uint64_t items : sizes) {
    std::vector<uint64_t> counts = differences;
    if (counts.empty()) {
      for (double f : fractions) counts.push_back(static_cast<uint64_t>(std::llround(f * items)));
    }
    for (uint64_t diff : counts) {
      Sets sets = MakeSets(items, diff, seed);
      Outcome outcome;
      std::string extra;
      std::string warm_cpu = fmt::format("{:>6} {:>6}", "-", "-");
      if (storage == "memory") {
        SortedItems a, b;
        for (const Item& item : sets.initiator) a.Insert(item);
        for (const Item& item : sets.responder) b.Insert(item);
        a.Seal();
        b.Seal();
        outcome = Reconcile(
            sets, [&] { return &a; }, [&] { return &b; }, opts);
      } else {
        auto a = IndexedStore::Build(dir + "/a", sets.initiator, compact);
        auto b = IndexedStore::Build(dir + "/b", sets.responder, compact);
        auto reader_of = [](leveldb::DB* db) {
          return [db] { return std::make_unique<PinnedReader>(db); };
        };
        outcome = Reconcile(sets, reader_of(a->db.get()), reader_of(b->db.get()), opts);
        Outcome warm = Reconcile(sets, reader_of(a->db.get()), reader_of(b->db.get()), opts);
        warm_cpu = fmt::format("{:>6.2f} {:>6.2f}", warm.initiator_cpu * 1e3,
                               warm.responder_cpu * 1e3);
        extra = fmt::format("  {:>7.1f} {:>8.1f} {:>9.1f} {:>9.3f}", a->add_seconds,
                            a->add_seconds * 1e6 / static_cast<double>(items),
                            a->open_seconds * 1e3, a->index_seconds * 1e3);
      }
      fmt::print("{:>6} {:>9} {:>12} {:>5} {:>6.2f} {:>6.2f} {} {:>5}{}\n", Human(items),
                 WithCommas(diff), WithCommas(outcome.bytes), outcome.round_trips,
                 outcome.initiator_cpu * 1e3, outcome.responder_cpu * 1e3, warm_cpu,
                 outcome.exact ? "yes" : "NO", extra);
      std::fflush(stdout);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
