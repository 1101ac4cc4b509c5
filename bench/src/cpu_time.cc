#include "cpu_time.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <cstring>
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

absl::StatusOr<uint64_t> ProcessContextSwitches(pid_t pid) {
  std::error_code error;
  std::filesystem::directory_iterator tasks(fmt::format("/proc/{}/task", pid), error);
  if (error) return absl::NotFoundError(fmt::format("no /proc/{}/task", pid));
  uint64_t switches = 0;
  for (const auto& task : tasks) {
    // A thread may end while it is read: it then counts for nothing.
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      for (const char* field : {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
        if (line.rfind(field, 0) == 0) switches += std::stoull(line.substr(std::strlen(field)));
      }
    }
  }
  return switches;
}

}  // namespace lattice::bench

namespace lattice::bench {

void CpuWindow::Attach(LoadOptions& load) {
  load.at_window_start = [this] {
    self_start_ = SelfCpuSeconds();
    if (server_ > 0) {
      server_start_ = ProcessCpuSeconds(server_).value_or(0);
      if (auto switches = ProcessContextSwitches(server_); switches.ok()) {
        server_switches_start_ = *switches;
      }
    }
  };
  load.at_window_end = [this] {
    self_end_ = SelfCpuSeconds();
    if (server_ > 0) {
      server_end_ = ProcessCpuSeconds(server_).value_or(0);
      if (auto switches = ProcessContextSwitches(server_); switches.ok()) {
        server_switches_end_ = *switches;
      }
    }
  };
}

}  // namespace lattice::bench
