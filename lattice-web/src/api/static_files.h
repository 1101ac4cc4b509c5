// The management page's files, read once at start from the directory the build installed
// them in, and served from memory with a strict Content-Security-Policy. Only regular files
// directly in the directory or its assets/ folder are taken, opened without following
// links, so nothing placed there later by anyone can redirect what is served.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "src/api/api_call.h"

namespace lattice::web {

class StaticFiles {
 public:
  StaticFiles() = default;
  // Loads `directory` (index.html and assets/*). An empty path serves a page that says the
  // page was not installed.
  static absl::StatusOr<StaticFiles> Load(const std::string& directory);

  // "/" and unknown paths without a dot get index.html (the page routes itself); a file
  // that is not there gets 404.
  void Serve(ApiCall& call) const;

  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string etag;
  };
  std::map<std::string, File> files_;  // by URL path
};

// The headers every page response carries.
Headers PageSecurityHeaders();

}  // namespace lattice::web
