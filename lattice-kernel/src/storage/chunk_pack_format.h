// The on-disk format of the chunk store's packs (see chunk_store.cc for the layout and why),
// shared by the store (chunk_store.cc) and its collector (chunk_collection.cc).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "absl/status/statusor.h"
#include "lattice/common/status.h"

namespace lattice::kernel::chunk_pack {


constexpr char kChunkMagic[4] = {'L', 'C', 'K', '1'};
constexpr char kTombstoneMagic[4] = {'L', 'C', 'K', 'X'};
constexpr size_t kHashBytes = 32;
constexpr size_t kHeaderBytes = 4 + 4 + kHashBytes;
constexpr size_t kTrailerBytes = 4;

inline void PutU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

inline uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

inline uint32_t HeaderCheck(std::string_view header) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : header) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

inline std::string EncodeRecord(const char magic[4], std::string_view hash, std::string_view data) {
  std::string record(kHeaderBytes + data.size() + kTrailerBytes, '\0');
  std::memcpy(record.data(), magic, 4);
  PutU32(record.data() + 4, static_cast<uint32_t>(data.size()));
  std::memcpy(record.data() + 8, hash.data(), kHashBytes);
  if (!data.empty()) std::memcpy(record.data() + kHeaderBytes, data.data(), data.size());
  PutU32(record.data() + kHeaderBytes + data.size(),
         HeaderCheck(std::string_view(record.data(), kHeaderBytes)));
  return record;
}

inline std::string PackName(uint32_t number) { return fmt::format("{:06d}.pack", number); }

// Reads exactly `size` bytes at `offset`, or fewer at the end of the file.
inline absl::StatusOr<std::string> PreadUpTo(int fd, uint64_t offset, size_t size, const std::string& path) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read " + path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// An owned file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// The number of a pack file's name ("000042.pack"), or nullopt for any other name.
inline std::optional<uint32_t> PackNumberOf(const std::string& name) {
  if (name.size() != 11 || name.substr(6) != ".pack") return std::nullopt;
  if (!std::all_of(name.begin(), name.begin() + 6, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint32_t number = static_cast<uint32_t>(std::stoul(name.substr(0, 6)));
  if (number == 0) return std::nullopt;
  return number;
}


}  // namespace lattice::kernel::chunk_pack
