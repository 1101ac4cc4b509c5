#include "lattice/common/status.h"
#include "services/catalog.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "lattice/common/files.h"
#include "services/service_limits.h"

namespace lattice::services {

std::shared_ptr<const ServiceDescriptor> Catalog::Find(const std::string& id) const {
  auto it = descriptors.find(id);
  return it == descriptors.end() ? nullptr : it->second;
}

Catalog LoadCatalog(const std::vector<std::string>& dirs, bool allow_absolute_binary,
                    bool missing_ok) {
  namespace fs = std::filesystem;
  Catalog catalog;
  size_t files = 0;
  for (size_t d = 0; d < dirs.size() && d < limits::kMaxServicesDirs; ++d) {
    const std::string& dir = dirs[d];
    std::error_code ec;
    std::vector<fs::path> paths;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".toml") paths.push_back(it->path());
    }
    if (ec) {
      if (!(missing_ok && ec == std::errc::no_such_file_or_directory)) {
        catalog.errors.push_back(fmt::format("{}: cannot read the directory: {}", dir, ec.message()));
      }
      continue;
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      if (++files > limits::kMaxDescriptors) {
        catalog.errors.push_back(fmt::format("{}: skipped, more than {} descriptors",
                                             path.string(), limits::kMaxDescriptors));
        continue;
      }
      // Bounded and non-blocking: a FIFO or a link to /dev/zero here is reported, not read.
      auto text = ReadFileBounded(path.string(), limits::kMaxDescriptorBytes);
      if (!text.ok()) {
        catalog.errors.push_back(fmt::format("{}:1: {}", path.string(), text.status().message()));
        continue;
      }
      auto parsed = ParseDescriptor(*text, path.string(), allow_absolute_binary);
      if (!parsed.ok()) {
        catalog.errors.push_back(std::string(parsed.status().message()));
        continue;
      }
      if (auto existing = catalog.Find(parsed->id)) {
        catalog.errors.push_back(fmt::format("{}:1: {} is already described by {}; ignored",
                                             path.string(), parsed->id, existing->path));
        continue;
      }
      std::string id = parsed->id;
      catalog.descriptors[id] = std::make_shared<const ServiceDescriptor>(*std::move(parsed));
    }
  }
  for (const auto& error : catalog.errors) spdlog::error("service descriptor skipped: {}", error);
  return catalog;
}

std::string KernelBinDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/local/bin";
  return exe.parent_path().string();
}

std::string DefaultServicesDir() {
  return (std::filesystem::path(KernelBinDir()) / ".." / "share" / "lattice" / "services")
      .lexically_normal()
      .string();
}

}  // namespace lattice::services
