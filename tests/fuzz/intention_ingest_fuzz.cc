// Fuzzes intention decoding and the ingest path of a real store. The first input byte picks
// the mode: raw SignedIntention bytes (signature checks), or an Intention body that the
// harness signs with a member's key, so the chain, floating, fork and state machine rules
// see arbitrary but validly signed input.
#include <cstdint>
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

struct Harness {
  std::string dir;
  KeyPair self = GenerateKeyPair();
  KeyPair member = GenerateKeyPair();
  HybridClock clock;
  std::string store_id = NewStoreId();
  std::unique_ptr<Store> kv;
  std::unique_ptr<Store> chat;

  Harness() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lattice-fuzz-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    kv = Open(StoreType::kKv, "/kv");
    chat = Open(StoreType::kChat, "/chat");
  }

  std::unique_ptr<Store> Open(StoreType type, const std::string& sub) {
    Store::Options options;
    options.dir = dir + sub;
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
  Store& store = (data[0] & 2) ? *harness->chat : *harness->kv;
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
  auto outcomes = store.Ingest({signed_intention});
  if (outcomes.size() != 1) std::abort();
  return 0;
}
