// A write-ahead log file whose synced writes overwrite blocks already on disk.
//
// An acknowledged write costs one fdatasync of the log. When the write appends, the file's
// size and its new blocks are metadata, so on ext4 that fdatasync also commits the journal
// (or, without one, writes the inode): more device writes and flushes than the data needs.
// This file writes zeros ahead of the data, so all but an occasional sync only flush the
// data itself. LevelDB's log reader skips zero-filled regions (it reads them as zero-length
// records of type zero, as it does for the preallocated files of its own mmap writer), so
// the padding is invisible on recovery.
//
// If the disk has no room for the zeros the file falls back to plain appends: the data that
// fits is written, and only the data's own failure is an error.
#pragma once

#include <leveldb/env.h>

#include <cstdint>
#include <memory>
#include <string>

namespace lattice::kernel {

class PreparedLogFile final : public leveldb::WritableFile {
 public:
  // How far zeros reach past the data: as far as the file already holds, within these
  // bounds, so the log of an idle store stays small and a busy one extends rarely.
  static constexpr uint64_t kMinAheadBytes = 64 << 10;
  static constexpr uint64_t kMaxAheadBytes = 1 << 20;

  // Creates (truncating) the file `name`.
  static leveldb::Status Create(const std::string& name,
                                std::unique_ptr<leveldb::WritableFile>* result);
  ~PreparedLogFile() override;

  leveldb::Status Append(const leveldb::Slice& data) override;
  leveldb::Status Close() override;
  leveldb::Status Flush() override;
  leveldb::Status Sync() override;

  // Bytes of the file written so far, data and zeros together (for tests).
  uint64_t prepared_bytes() const { return prepared_; }

 private:
  PreparedLogFile(std::string name, int fd);
  leveldb::Status WriteAt(const char* data, size_t size, uint64_t offset);
  // Zero-fills past the data when little is left; best effort.
  void PrepareAhead();

  std::string name_;
  int fd_;
  std::string buffer_;    // appended, not yet written
  uint64_t written_ = 0;  // data bytes in the file
  uint64_t prepared_ = 0; // bytes of the file physically written, data or zeros
};

}  // namespace lattice::kernel
