// Helpers of the fs state tests: fs.v1 intentions built by hand (the state machine checks no
// signature) applied to an FsStateMachine over a real LevelDB in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dag/intention.h"
#include "lattice/v1/fs.pb.h"
#include "state/fs_payload.h"
#include "state/fs_reader.h"
#include "state/fs_state.h"
#include "storage/database.h"

namespace lattice::kernel::testing {

class FsScratch {
 public:
  FsScratch();
  ~FsScratch();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct FsAuthor {
  std::string id;    // 32 bytes
  std::string name;  // its node name
};
FsAuthor MakeFsAuthor(std::string_view name, char fill);

// An fs.v1 intention of `author` at hlc (wall_ms, counter) with a unique hash.
DecodedIntention FsIntention(const FsAuthor& author, uint64_t wall_ms, uint32_t counter,
                             const v1::FsPayload& payload);

namespace fsop {
v1::FsOp Create(uint64_t parent, std::string_view name, uint32_t mode,
                std::string_view target = "");
v1::FsOp Link(uint64_t inode, uint64_t parent, std::string_view name);
v1::FsOp Move(uint64_t entry, uint64_t parent, std::string_view name,
              std::vector<std::string> seen = {});
v1::FsOp Write(uint64_t inode, uint64_t size, std::vector<std::string> replaces = {});
v1::FsOp SetMode(uint64_t inode, uint32_t mode);
v1::FsOp SetXattr(uint64_t inode, std::string_view name, std::string_view value,
                  bool remove = false);
v1::FsOp Resolve(uint64_t inode, std::vector<std::string> versions);
}  // namespace fsop

v1::FsPayload Payload(std::vector<v1::FsOp> ops);

// One fs store's state on its own database.
class FsReplica {
 public:
  FsReplica();
  absl::Status Apply(const DecodedIntention& intention);
  // Every state record, keys and values, in order.
  std::string Dump() const;
  FsReader Reader() const;
  const Database& db() const { return *db_; }
  // Names authors for conflict names.
  void Name(const FsAuthor& author) { names_[author.id] = author.name; }

 private:
  FsScratch dir_;
  std::unique_ptr<Database> db_;
  FsStateMachine machine_;
  std::map<std::string, std::string> names_;
};

// Shown names of a directory's listing, in listing order.
std::vector<std::string> ShownNames(const FsReader& reader, uint64_t dir);

}  // namespace lattice::kernel::testing
