// Test fixtures for a single Store on a temporary directory, and a builder of foreign
// intentions signed by identities the test owns.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dag/intention.h"
#include "lattice/common/crypto.h"
#include "lattice/common/ids.h"
#include "store/store.h"

namespace lattice::kernel::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Builds the author chain of one foreign identity in one store.
class ForeignAuthor {
 public:
  ForeignAuthor(std::string store_id, KeyPair key = GenerateKeyPair())
      : store_id_(std::move(store_id)), key_(std::move(key)) {}

  const std::string& id() const { return key_.public_key; }
  const KeyPair& key() const { return key_; }

  // The next intention of the chain (seq, prev follow on), with the given deps.
  DecodedIntention Next(std::string_view op_type, std::string payload,
                        std::vector<std::string> deps = {}, HlcStamp hlc = {});
  DecodedIntention NextKv(const std::string& key, const std::string& value,
                          std::vector<std::string> replaces = {}, std::vector<std::string> deps = {},
                          HlcStamp hlc = {});
  // An intention at an explicit position of the chain, without advancing it (forks, gaps).
  DecodedIntention At(uint64_t seq, std::string prev, std::string_view op_type,
                      std::string payload, std::vector<std::string> deps = {}, HlcStamp hlc = {});

  uint64_t seq() const { return seq_; }
  const std::string& tip() const { return tip_; }

 private:
  std::string store_id_;
  KeyPair key_;
  uint64_t seq_ = 0;
  std::string tip_;
  uint64_t wall_ = 1'700'000'000'000;
};

// Options of a store at `dir` that signs with `self` and stamps with `clock` (both outlive
// it); every author may write to it.
Store::Options StoreOptions(const std::string& dir, const std::string& id, const KeyPair& self,
                            HybridClock& clock);

// The winning value of `key` in a kv store, "<absent>" when it has none, "<error>".
std::string KvValue(const Store& store, const std::string& key);

// Polls `condition` until it holds or `timeout` passes; true when it held.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Bytes of the LevelDB logs in `dir` that are not zero: the records an open would replay
// (a write-ahead log holds zeros laid ahead of its next record).
size_t LoggedBytes(const std::string& dir);

std::string KvPayloadOf(const std::string& key, const std::string& value,
                        std::vector<std::string> replaces = {}, bool tombstone = false);

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Opens (or reopens) the store with a membership rule that admits self and `members_`.
  void OpenStore(StoreType type = StoreType::kKv);

  IngestOutcome IngestOne(const DecodedIntention& intention);
  std::string Get(const std::string& key);
  v1::KvHeads Heads(const std::string& key);

  TempDir dir_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  HybridClock clock_;
  std::set<std::string> members_;
  std::unique_ptr<Store> store_;
};

}  // namespace lattice::kernel::testing
