// A store's applied-change counter (its last witness number), published by the kernel in a
// small shared file that a mount maps and reads without a call. A mount that has heard every
// change up to the number it reads there (its watch's cursor) knows nothing it holds is stale,
// and may answer an open without asking the kernel: the kernel writes the number before it
// acknowledges the write that raised it, so a change acknowledged to anyone before the open
// began is counted. The file lives in the directory beside the kernel's socket
// (WitnessDirForSocket), is kept across kernel restarts (its readers' mappings stay valid)
// and only ever grows while a kernel holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace lattice {

// "fs-witness" beside the default "kernel.sock", "<socket file name>.fs-witness" beside any
// other socket (as the admin cookie is named); one file per store, named by the kernel.
std::string WitnessDirForSocket(const std::string& socket_path);

class PublishedWitnessWriter {
 public:
  // Opens `path`, creating it (mode 0640: whoever may dial the socket may read it) when
  // missing; a symbolic link or anything but a regular file is refused. The number it holds
  // is kept until Publish.
  static absl::StatusOr<std::unique_ptr<PublishedWitnessWriter>> Open(const std::string& path);
  ~PublishedWitnessWriter();
  PublishedWitnessWriter(const PublishedWitnessWriter&) = delete;
  PublishedWitnessWriter& operator=(const PublishedWitnessWriter&) = delete;

  // Publishes `witness`, visible to readers once this returns.
  void Publish(uint64_t witness);
  const std::string& path() const { return path_; }

 private:
  PublishedWitnessWriter(std::string path, void* map) : path_(std::move(path)), map_(map) {}
  std::string path_;
  void* map_;
};

class PublishedWitnessReader {
 public:
  // Maps `path` read-only; it must be a regular file (no symbolic link) of the size the
  // writer gives it.
  static absl::StatusOr<std::unique_ptr<PublishedWitnessReader>> Open(const std::string& path);
  ~PublishedWitnessReader();
  PublishedWitnessReader(const PublishedWitnessReader&) = delete;
  PublishedWitnessReader& operator=(const PublishedWitnessReader&) = delete;

  uint64_t Read() const;
  const std::string& path() const { return path_; }

 private:
  PublishedWitnessReader(std::string path, const void* map) : path_(std::move(path)), map_(map) {}
  std::string path_;
  const void* map_;
};

}  // namespace lattice
