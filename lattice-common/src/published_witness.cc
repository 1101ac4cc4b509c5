#include "lattice/common/published_witness.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "lattice/common/files.h"

namespace lattice {
namespace {

// One page: the number sits at its start, the rest is left for what may follow it.
constexpr size_t kFileBytes = 4096;

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free,
              "the number is read across processes: it must be lock-free");

// Opens `path` as a regular file (never through a symbolic link), grows it to kFileBytes
// when `grow` (never truncating it) or refuses it shorter, and maps it with `prot`.
absl::StatusOr<void*> MapRegular(const std::string& path, int flags, int prot, bool grow) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
  if (fd < 0) return ErrnoStatus(errno, "open " + path);
  struct stat st;
  absl::Status sized = absl::OkStatus();
  if (::fstat(fd, &st) != 0) {
    sized = ErrnoStatus(errno, "stat " + path);
  } else if (!S_ISREG(st.st_mode)) {
    sized = absl::FailedPreconditionError(path + " is not a regular file");
  } else if (st.st_size < static_cast<off_t>(kFileBytes)) {
    // Grown, never truncated: a reader's mapping of this file stays valid across restarts.
    if (!grow) {
      sized = absl::FailedPreconditionError(path + " is shorter than a published witness");
    } else if (::ftruncate(fd, kFileBytes) != 0) {
      sized = ErrnoStatus(errno, "size " + path);
    }
  }
  void* map = sized.ok() ? ::mmap(nullptr, kFileBytes, prot, MAP_SHARED, fd, 0) : MAP_FAILED;
  if (sized.ok() && map == MAP_FAILED) sized = ErrnoStatus(errno, "map " + path);
  ::close(fd);
  if (!sized.ok()) return sized;
  return map;
}

}  // namespace

std::string WitnessDirForSocket(const std::string& socket_path) {
  std::filesystem::path socket(socket_path);
  std::string name = socket.filename().string();
  std::string dir = name == "kernel.sock" ? "fs-witness" : name + ".fs-witness";
  return (socket.parent_path() / dir).string();
}

absl::StatusOr<std::unique_ptr<PublishedWitnessWriter>> PublishedWitnessWriter::Open(
    const std::string& path) {
  auto map = MapRegular(path, O_RDWR | O_CREAT, PROT_READ | PROT_WRITE, /*grow=*/true);
  if (!map.ok()) return map.status();
  return std::unique_ptr<PublishedWitnessWriter>(new PublishedWitnessWriter(path, *map));
}

PublishedWitnessWriter::~PublishedWitnessWriter() { ::munmap(map_, kFileBytes); }

void PublishedWitnessWriter::Publish(uint64_t witness) {
  std::atomic_ref<uint64_t>(*static_cast<uint64_t*>(map_)).store(witness, std::memory_order_release);
}

absl::StatusOr<std::unique_ptr<PublishedWitnessReader>> PublishedWitnessReader::Open(
    const std::string& path) {
  auto map = MapRegular(path, O_RDONLY, PROT_READ, /*grow=*/false);
  if (!map.ok()) return map.status();
  return std::unique_ptr<PublishedWitnessReader>(new PublishedWitnessReader(path, *map));
}

PublishedWitnessReader::~PublishedWitnessReader() {
  ::munmap(const_cast<void*>(map_), kFileBytes);
}

uint64_t PublishedWitnessReader::Read() const {
  // atomic_ref needs a non-const object; the mapping is read-only and only loaded from.
  return std::atomic_ref<uint64_t>(*static_cast<uint64_t*>(const_cast<void*>(map_)))
      .load(std::memory_order_acquire);
}

}  // namespace lattice
