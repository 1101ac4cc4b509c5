#include "src/api/static_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace lattice::web {
namespace {

constexpr size_t kMaxFileBytes = 16 << 20;
constexpr size_t kMaxFiles = 256;

std::string ContentTypeOf(const std::string& name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json") || ends(".map")) return "application/json";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "";
}

// Reads a regular file in `dir` without following a link in its last component.
absl::StatusOr<std::string> ReadAt(int dir, const std::string& name, const std::string& shown) {
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::FailedPreconditionError(fmt::format("cannot open {}: {}", shown, std::strerror(errno)));
  struct stat info {};
  std::string body;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
      static_cast<size_t>(info.st_size) > kMaxFileBytes) {
    ::close(fd);
    return absl::FailedPreconditionError(
        fmt::format("{} is not a regular file of at most {} bytes", shown, kMaxFileBytes));
  }
  body.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < body.size()) {
    ssize_t n = ::read(fd, body.data() + done, body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  body.resize(done);
  return body;
}

// Names of the entries of an open directory (not . and ..).
std::vector<std::string> Entries(int dir) {
  std::vector<std::string> names;
  int copy = ::dup(dir);
  if (copy < 0) return names;
  DIR* listing = ::fdopendir(copy);
  if (listing == nullptr) {
    ::close(copy);
    return names;
  }
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && names.size() < kMaxFiles) names.push_back(name);
  }
  ::closedir(listing);
  return names;
}

}  // namespace

Headers PageSecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'"},
          {"X-Frame-Options", "DENY"},
          {"Referrer-Policy", "no-referrer"},
          {"Cross-Origin-Opener-Policy", "same-origin"},
          {"Cross-Origin-Resource-Policy", "same-origin"}};
}

absl::StatusOr<StaticFiles> StaticFiles::Load(const std::string& directory) {
  StaticFiles files;
  if (directory.empty()) return files;
  int root = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return absl::FailedPreconditionError(
        fmt::format("cannot open the page directory {}: {}", directory, std::strerror(errno)));
  }
  auto load_dir = [&](int dir, const std::string& url_prefix) -> absl::Status {
    for (const std::string& name : Entries(dir)) {
      std::string type = ContentTypeOf(name);
      if (type.empty() || name.front() == '.') continue;
      auto body = ReadAt(dir, name, directory + url_prefix + name);
      if (!body.ok()) continue;  // a folder or a link: not served
      files.files_[url_prefix + name] = File{type, *std::move(body), ""};
    }
    return absl::OkStatus();
  };
  absl::Status loaded = load_dir(root, "/");
  int assets = ::openat(root, "assets", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (loaded.ok() && assets >= 0) loaded = load_dir(assets, "/assets/");
  if (assets >= 0) ::close(assets);
  ::close(root);
  if (!loaded.ok()) return loaded;
  if (files.files_.count("/index.html") == 0) {
    return absl::FailedPreconditionError(fmt::format("{} holds no index.html", directory));
  }
  return files;
}

void StaticFiles::Serve(ApiCall& call) const {
  std::string path = call.request().path;
  auto it = files_.find(path);
  if (it == files_.end() && (path == "/" || path.find('.') == std::string::npos)) {
    it = files_.find("/index.html");
    if (it == files_.end()) {
      Headers headers = PageSecurityHeaders();
      return call.Bytes(200,
                        "lattice-web is running, but its page was not installed; the API is at "
                        "/api/v1/ (see /api/v1/openapi.json).\n",
                        "text/plain; charset=utf-8", std::move(headers));
    }
  }
  if (it == files_.end()) return call.Fail(404, "no such file: " + path);
  Headers headers = PageSecurityHeaders();
  headers.emplace_back("Cache-Control", "no-cache");
  call.Bytes(200, it->second.body, it->second.content_type, std::move(headers));
}

}  // namespace lattice::web
