// Fuzzes intention decoding and the ingest path of a real store. The first input byte picks
// the mode: raw SignedIntention bytes (signature checks), or an Intention body that the
// harness signs with a member's key, so the chain, floating, fork and state machine rules
// see arbitrary but validly signed input. Whenever an input applied something, the store is
// verified (its state replayed from its intentions, and its sync index recounted): a store
// that fails verification is a finding. Stores are replaced once they hold kMaxWitnessed
// intentions, so verifying stays cheap. With LATTICE_FUZZ_REPORT set in the environment, a
// run ends by saying how many inputs applied something and were verified.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "dag/intention.h"
#include "lattice/common/crypto.h"
#include "lattice/common/ids.h"
#include "store/store.h"

namespace {

using namespace lattice;
using namespace lattice::kernel;

constexpr uint64_t kMaxWitnessed = 256;

uint64_t verified_inputs = 0;
uint64_t stores_renewed = 0;

void PrintReport() {
  std::fprintf(stderr, "inputs that applied something, each verified: %llu; stores renewed: %llu\n",
               static_cast<unsigned long long>(verified_inputs),
               static_cast<unsigned long long>(stores_renewed));
}

struct Harness {
  std::string dir;
  KeyPair self = GenerateKeyPair();
  KeyPair member = GenerateKeyPair();
  HybridClock clock;
  std::string store_id = NewStoreId();
  uint64_t opened = 0;
  std::unique_ptr<Store> kv;
  std::unique_ptr<Store> chat;

  Harness() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lattice-fuzz-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    kv = Open(StoreType::kKv);
    chat = Open(StoreType::kChat);
    if (std::getenv("LATTICE_FUZZ_REPORT") != nullptr) std::atexit(PrintReport);
  }

  // Replays `store` and aborts, saying why, when its state or index disagree with its log.
  void VerifyOrDie(Store& store) {
    VerifyReport report = store.Verify(dir + "/verify");
    ++verified_inputs;
    if (report.ok) return;
    std::fprintf(stderr, "store fails verification after an ingest (%zu problems):\n",
                 report.problems.size());
    for (const auto& problem : report.problems) std::fprintf(stderr, "  %s\n", problem.c_str());
    std::abort();
  }

  // A fresh store in place of `store` once it holds enough to make verifying slow.
  void RenewIfFull(std::unique_ptr<Store>& store) {
    if (store->last_witness() < kMaxWitnessed) return;
    std::string old_dir = store->db().dir();
    StoreType type = store->type();
    store.reset();
    std::filesystem::remove_all(old_dir);
    ++stores_renewed;
    store = Open(type);
  }

  std::unique_ptr<Store> Open(StoreType type) {
    Store::Options options;
    options.dir = dir + "/store" + std::to_string(++opened);
    options.id = store_id;
    options.type = type;
    options.identity = &self;
    options.clock = &clock;
    options.may_write = [this](std::string_view author, BatchView&) {
      return author == self.public_key || author == member.public_key;
    };
    auto store = Store::Open(std::move(options));
    if (!store.ok()) std::abort();
    return *std::move(store);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  if (size < 1) return 0;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::unique_ptr<Store>& slot = (data[0] & 2) ? harness->chat : harness->kv;
  Store& store = *slot;
  v1::SignedIntention signed_intention;
  if ((data[0] & 1) == 0) {
    if (!signed_intention.ParseFromString(input)) return 0;
  } else {
    v1::Intention body;
    if (!body.ParseFromString(input)) return 0;
    // Keep the store id and author valid often enough to reach the deeper rules.
    if (data[0] & 4) body.set_store_id(harness->store_id);
    if (data[0] & 8) body.set_author(harness->member.public_key);
    signed_intention = SignIntention(harness->member, body).signed_intention;
  }
  uint64_t witnessed_before = store.last_witness();
  auto outcomes = store.Ingest({signed_intention});
  if (outcomes.size() != 1) std::abort();
  // Something applied (this intention, or floating ones it released): check the store.
  if (store.last_witness() != witnessed_before) {
    harness->VerifyOrDie(store);
    harness->RenewIfFull(slot);
  }
  return 0;
}
