// lattice-bench-floor: serves the gRPC floor (src/floor_service.h) on a Unix socket until
// SIGTERM or SIGINT, in a process of its own like the kernel it is compared with.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "floor_service.h"

int main(int argc, char** argv) {
  CLI::App app{"lattice-bench-floor: a do-nothing Store Protocol server, the gRPC floor"};
  std::string socket;
  size_t value_bytes = 128;
  std::string sync_file;
  app.add_option("--socket", socket, "Unix socket to serve on")->required();
  app.add_option("--value-bytes", value_bytes, "size of the value Kv.Get answers");
  app.add_option("--sync-file", sync_file,
                 "write each write's request here as the kernel writes its log, and sync it before answering");
  bool hand_off = false;
  app.add_flag("--hand-off", hand_off,
               "with --sync-file: sync on a writer thread of its own and answer from there, as the kernel must")
      ->needs("--sync-file");
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto server = lattice::bench::FloorServer::Start(socket, value_bytes, sync_file, hand_off);
  if (!server.ok()) {
    std::fprintf(stderr, "lattice-bench-floor: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Shutdown();
  return 0;
}
