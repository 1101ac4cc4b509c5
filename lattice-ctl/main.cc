// lattice-ctl: the operator's command line, a thin client of the kernel's socket.
// Exit status: 0 on success, 1 on failure (one "lattice-ctl: <reason>" line on stderr, or
// one line of JSON with --json), 2 on a usage error.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "errors.h"
#include "interrupt.h"
#include "output.h"

int main(int argc, char** argv) {
  using namespace lattice::ctl;
  Arguments args;
  if (auto exit_code = ParseCommandLine(argc, argv, &args, std::cout, std::cerr)) {
    return *exit_code;
  }
  // A closed stdout becomes EPIPE on write, handled as the quiet end of output.
  std::signal(SIGPIPE, SIG_IGN);
  InstallInterruptHandling();

  Printer printer(stdout, stderr, args.global.json);
  Session session(args, printer);
  absl::Status status = RunCommand(session);
  if (status.ok()) status = printer.Flush();
  if (!status.ok() && !IsStdoutClosed(status)) {
    std::fflush(stdout);
    if (args.global.json) {
      std::fprintf(stderr, "%s\n", DescribeStatusJson(status).c_str());
    } else {
      std::fprintf(stderr, "lattice-ctl: %s\n", DescribeStatus(status).c_str());
    }
  }
  return ExitCodeFor(status);
}
