#include "unit/store/test_store.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "lattice/common/files.h"
#include "state/kv_state.h"

namespace lattice::kernel::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lattice-test-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

size_t LoggedBytes(const std::string& dir) {
  size_t logged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    auto text = ReadFile(entry.path().string());
    EXPECT_TRUE(text.ok()) << text.status();
    if (text.ok()) logged += text->size() - std::count(text->begin(), text->end(), '\0');
  }
  return logged;
}

DecodedIntention ForeignAuthor::At(uint64_t seq, std::string prev, std::string_view op_type,
                                   std::string payload, std::vector<std::string> deps,
                                   HlcStamp hlc) {
  v1::Intention body;
  body.set_store_id(store_id_);
  body.set_author(key_.public_key);
  body.set_seq(seq);
  body.set_prev(std::move(prev));
  if (hlc == HlcStamp{}) hlc = {++wall_, 0};
  body.mutable_hlc()->set_wall_ms(hlc.wall_ms);
  body.mutable_hlc()->set_counter(hlc.counter);
  for (auto& dep : deps) body.add_deps(std::move(dep));
  body.set_op_type(std::string(op_type));
  body.set_payload(std::move(payload));
  return SignIntention(key_, body);
}

DecodedIntention ForeignAuthor::Next(std::string_view op_type, std::string payload,
                                     std::vector<std::string> deps, HlcStamp hlc) {
  DecodedIntention intention = At(seq_ + 1, tip_, op_type, std::move(payload), std::move(deps), hlc);
  ++seq_;
  tip_ = intention.hash;
  return intention;
}

DecodedIntention ForeignAuthor::NextKv(const std::string& key, const std::string& value,
                                       std::vector<std::string> replaces,
                                       std::vector<std::string> deps, HlcStamp hlc) {
  return Next(kOpKv, KvPayloadOf(key, value, std::move(replaces)), std::move(deps), hlc);
}

std::string KvPayloadOf(const std::string& key, const std::string& value,
                        std::vector<std::string> replaces, bool tombstone) {
  v1::KvPayload payload;
  auto* op = payload.add_ops();
  op->set_key(key);
  op->set_value(value);
  op->set_tombstone(tombstone);
  for (auto& r : replaces) op->add_replaces(std::move(r));
  return payload.SerializeAsString();
}

void StoreTest::SetUp() { OpenStore(); }

void StoreTest::TearDown() { store_.reset(); }

void StoreTest::OpenStore(StoreType type) {
  store_.reset();
  Store::Options options = StoreOptions(dir_.path() + "/store", store_id_, self_, clock_);
  options.type = type;
  options.may_write = [this](std::string_view author, BatchView&) {
    return author == self_.public_key || members_.count(std::string(author)) > 0;
  };
  auto opened = Store::Open(std::move(options));
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
}

IngestOutcome StoreTest::IngestOne(const DecodedIntention& intention) {
  return store_->Ingest({intention.signed_intention}).at(0);
}

Store::Options StoreOptions(const std::string& dir, const std::string& id, const KeyPair& self,
                            HybridClock& clock) {
  Store::Options options;
  options.dir = dir;
  options.id = id;
  options.identity = &self;
  options.clock = &clock;
  return options;
}

std::string KvValue(const Store& store, const std::string& key) {
  auto heads = ReadHeads(store.db(), key);
  if (!heads.ok()) return "<error>";
  KvRead read = ResolveHeads(*heads);
  return read.found ? read.winner.value() : "<absent>";
}

std::string StoreTest::Get(const std::string& key) { return KvValue(*store_, key); }

v1::KvHeads StoreTest::Heads(const std::string& key) {
  auto heads = ReadHeads(store_->db(), key);
  return heads.ok() ? *heads : v1::KvHeads();
}

}  // namespace lattice::kernel::testing
