#include "storage/prepared_log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lattice::kernel {
namespace {

// LevelDB's own log file writes in pieces of this size too.
constexpr size_t kBufferBytes = 64 * 1024;

leveldb::Status ErrnoStatus(const std::string& context, int error) {
  if (error == ENOENT) return leveldb::Status::NotFound(context, std::strerror(error));
  return leveldb::Status::IOError(context, std::strerror(error));
}

}  // namespace

leveldb::Status PreparedLogFile::Create(const std::string& name,
                                        std::unique_ptr<leveldb::WritableFile>* result) {
  int fd = ::open(name.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(name, errno);
  result->reset(new PreparedLogFile(name, fd));
  return leveldb::Status::OK();
}

PreparedLogFile::PreparedLogFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}

PreparedLogFile::~PreparedLogFile() {
  if (fd_ >= 0) Close();
}

leveldb::Status PreparedLogFile::Append(const leveldb::Slice& data) {
  buffer_.append(data.data(), data.size());
  if (buffer_.size() < kBufferBytes) return leveldb::Status::OK();
  return Flush();
}

leveldb::Status PreparedLogFile::Flush() {
  if (buffer_.empty()) return leveldb::Status::OK();
  if (fd_ < 0) return leveldb::Status::IOError(name_, "file is closed");
  leveldb::Status s = WriteAt(buffer_.data(), buffer_.size(), written_);
  if (!s.ok()) return s;
  written_ += buffer_.size();
  prepared_ = std::max(prepared_, written_);
  buffer_.clear();
  PrepareAhead();
  return leveldb::Status::OK();
}

leveldb::Status PreparedLogFile::Sync() {
  leveldb::Status s = Flush();
  if (!s.ok()) return s;
  if (::fdatasync(fd_) != 0) return ErrnoStatus(name_, errno);
  return leveldb::Status::OK();
}

leveldb::Status PreparedLogFile::Close() {
  leveldb::Status s = Flush();
  if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = ErrnoStatus(name_, errno);
  fd_ = -1;
  return s;
}

leveldb::Status PreparedLogFile::WriteAt(const char* data, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd_, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(name_, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return leveldb::Status::OK();
}

void PreparedLogFile::PrepareAhead() {
  static const std::string kZeros(kBufferBytes, '\0');
  uint64_t ahead = std::clamp(written_, kMinAheadBytes, kMaxAheadBytes);
  // Extended when half is used up, so each extension (whose sync commits the new size and
  // blocks) serves many writes.
  if (prepared_ - written_ >= ahead / 2) return;
  uint64_t target = written_ + ahead;
  while (prepared_ < target) {
    size_t size = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), target - prepared_));
    ssize_t n = ::pwrite(fd_, kZeros.data(), size, static_cast<off_t>(prepared_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // no room: the data appends as any file's would
    prepared_ += static_cast<uint64_t>(n);
  }
}

}  // namespace lattice::kernel
