#include "cpu_time.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace lattice::bench {

absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::NotFoundError(fmt::format("no /proc/{}/stat", pid));
  }
  // The command name is in parentheses and may hold spaces; fields count from after it.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return absl::DataLossError("malformed /proc/<pid>/stat");
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
  // cmajflt utime(14) stime(15).
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stod(field);
    if (index == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace lattice::bench

namespace lattice::bench {

void CpuWindow::Attach(LoadOptions& load) {
  load.at_window_start = [this] {
    self_start_ = SelfCpuSeconds();
    if (server_ > 0) server_start_ = ProcessCpuSeconds(server_).value_or(0);
  };
  load.at_window_end = [this] {
    self_end_ = SelfCpuSeconds();
    if (server_ > 0) server_end_ = ProcessCpuSeconds(server_).value_or(0);
  };
}

}  // namespace lattice::bench
