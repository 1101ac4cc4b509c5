#include "input.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>


namespace lattice::ctl {

absl::StatusOr<std::string> ReadStream(std::FILE* stream, size_t max_bytes,
                                       const std::string& what) {
  std::string data;
  char buffer[64 * 1024];
  while (true) {
    size_t n = std::fread(buffer, 1, sizeof buffer, stream);
    data.append(buffer, n);
    if (data.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          fmt::format("{} is larger than the {} byte limit", what, max_bytes));
    }
    if (n < sizeof buffer) {
      if (std::ferror(stream)) {
        return absl::UnavailableError(
            fmt::format("cannot read {}: {}", what, std::strerror(errno)));
      }
      if (std::feof(stream)) break;
    }
  }
  return data;
}

absl::StatusOr<std::string> ReadFileOrStdin(const std::string& path, size_t max_bytes) {
  if (path == "-") return ReadStream(stdin, max_bytes, "stdin");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int err = errno;
    std::string message = fmt::format("cannot open {}: {}", path, std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  auto data = ReadStream(file, max_bytes, path);
  std::fclose(file);
  return data;
}

}  // namespace lattice::ctl
