// The table layout of an fs store's state (all under keys::kState) and the one interface the
// fs code reads it through, a Database or a BatchView alike.
//
//   S n be64(inode)                     -> FsInodeRecord (the root's is implicit until set)
//   S e be64(entry)                     -> FsEntryRecord
//   S c be64(dir) be64(entry)           -> kind: entries shown in `dir` (placed there, or in
//                                          the trash with `dir` their place before it)
//   S N be64(dir) name 0 be64(entry)    -> "" the same, by name (names hold no NUL)
//   S i be64(inode) be64(entry)         -> "" every entry of an inode
//   S L stamp                           -> FsMoveRecord: the move log
//   S l stamp                           -> "" the moves of existing directories
//   S m be64(entry) stamp               -> "" the moves of one entry
//   S v be64(inode) version id          -> FsVersionRecord: every content version
//   S h be64(inode) version id          -> "" heads
//   S x be64(inode) version id          -> "" replaced before it arrived here
//   S k be64(copy id)                   -> be64(inode) version id: conflict copies
//   S a be64(inode) name                -> FsXattrRecord
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lattice/v1/intention.pb.h"
#include "storage/batch_view.h"
#include "storage/database.h"

namespace lattice::kernel::fs {

inline constexpr char kInodeTable = 'n';
inline constexpr char kEntryTable = 'e';
inline constexpr char kChildTable = 'c';
// The directory rows of kChildTable again, so a directory's nlink costs its subdirectories,
// not its files.
inline constexpr char kSubdirTable = 's';
inline constexpr char kNameTable = 'N';
inline constexpr char kInodeEntriesTable = 'i';
inline constexpr char kMoveLogTable = 'L';
inline constexpr char kDirMovesTable = 'l';
inline constexpr char kEntryMovesTable = 'm';
inline constexpr char kVersionTable = 'v';
inline constexpr char kHeadTable = 'h';
inline constexpr char kReplacedTable = 'x';
inline constexpr char kCopyTable = 'k';
inline constexpr char kXattrTable = 'a';

// Value of a kChildTable record: placed or trashed, directory or not.
inline constexpr char kChildPlaced = 'p';
inline constexpr char kChildTrashed = 't';
inline constexpr char kChildDir = 'd';
inline constexpr char kChildOther = 'o';

inline constexpr size_t kStampBytes = 48;

std::string Be64(uint64_t v);
uint64_t ReadBe64(std::string_view bytes);  // REQUIRES: at least 8 bytes

// The order key of op `index` of an intention: (hlc, intention hash, op index).
std::string Stamp(const v1::Hlc& hlc, std::string_view hash, uint32_t index);
uint64_t StampWallMs(std::string_view stamp);

std::string TablePrefix(char table);
std::string Key(char table, uint64_t id);             // table be64(id)
std::string Key(char table, uint64_t id, std::string_view rest);
std::string ChildKey(uint64_t dir, uint64_t entry);
std::string SubdirKey(uint64_t dir, uint64_t entry);
std::string NamePrefix(uint64_t dir, std::string_view name);  // ... name 0
std::string NameKey(uint64_t dir, std::string_view name, uint64_t entry);

// Reads of the state tables.
class FsSource {
 public:
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  virtual ~FsSource() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Keys in [start, end) in order until `visit` returns false.
  virtual absl::Status Scan(std::string_view start, std::string_view end,
                            const Visitor& visit) const = 0;
  absl::Status ScanPrefix(std::string_view prefix, const Visitor& visit) const;
  // Parses a record into `out`; false when absent. A record that does not parse is an error.
  template <typename Message>
  absl::StatusOr<bool> Read(std::string_view key, Message* out) const {
    auto value = Get(key);
    if (!value.ok()) return value.status();
    if (!*value) return false;
    if (!out->ParseFromString(**value)) {
      return absl::DataLossError("a record of the fs state does not parse");
    }
    return true;
  }
};

class DatabaseSource final : public FsSource {
 public:
  explicit DatabaseSource(const Database& db) : db_(db) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;

 private:
  const Database& db_;
};

// Reads through a BatchView; a read error is remembered by the view (and returned here).
class ViewSource final : public FsSource {
 public:
  explicit ViewSource(BatchView& view) : view_(view) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;

 private:
  BatchView& view_;
};

}  // namespace lattice::kernel::fs
