// A daemon for the ServiceManager's confinement test: tries to open each --probe=PATH, then
// writes what it found to key "probe" of its store through the kernel's socket with its own
// token, and exits. "PATH: opened" or "PATH: <error>" per line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "lattice/client.h"
#include "lattice/client/credentials.h"

int main(int argc, char** argv) {
  std::string store;
  std::string report;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg.starts_with("--store=")) {
      store = arg.substr(8);
    } else if (arg.starts_with("--probe=")) {
      std::string path(arg.substr(8));
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      report += path + ": " + (fd >= 0 ? "opened" : std::strerror(errno)) + "\n";
      if (fd >= 0) ::close(fd);
    }
  }
  std::cerr << report;
  lattice::client::ClientOptions options;
  options.token = lattice::client::TokenFromEnvironment();
  options.service_id = "confined-probe";
  auto client = lattice::client::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "cannot connect: " << client.status() << "\n";
    return 1;
  }
  auto put = (*client)->Put(store, "probe", report);
  if (!put.ok()) {
    std::cerr << "cannot write: " << put.status() << "\n";
    return 1;
  }
  return 0;
}
