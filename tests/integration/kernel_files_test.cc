// Files the kernel reads and writes, through the real binary: what another user or a careless
// operator places beside them (a planted link, a shared or world-writable directory, a FIFO
// or endless device as a descriptor) cannot turn them against the kernel, and what LevelDB
// repairs in a store at start-up is reported in the kernel's own log.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"
#include "lattice/common/paths.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

std::string LogOf(const KernelProcess& kernel) { return ReadFile(kernel.log_path()).value_or(""); }

TEST(KernelFiles, ALinkPlantedAtTheCookiesTemporaryNameIsNotFollowed) {
  ScratchDir dir;
  std::string victim = dir.path() + "/victim";
  std::ofstream(victim) << "precious";
  ASSERT_EQ(::symlink(victim.c_str(), (dir.path() + "/admin.cookie.tmp").c_str()), 0);
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok()) << LogOf(kernel);
  EXPECT_EQ(ReadFile(victim).value_or(""), "precious");
  EXPECT_EQ(kernel.Ctl({"status"}).exit_code, 0);
}

TEST(KernelFiles, ASocketDirectoryOthersCanWriteIsRefused) {
  ScratchDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  KernelProcess kernel(dir.path());
  EXPECT_FALSE(kernel.Start().ok());
  std::string log = LogOf(kernel);
  EXPECT_NE(log.find("socket directory " + dir.path() + " has mode 777: others may write into it"),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/admin.cookie"));
}

TEST(KernelFiles, KernelsWhoseSocketsShareADirectoryKeepTheirOwnCookies) {
  ScratchDir dir;
  ScratchDir other;
  KernelProcess first(dir.path());
  ASSERT_TRUE(first.Start().ok());
  std::string second_socket = dir.path() + "/second.sock";
  ChildProcess second;
  ASSERT_TRUE(second.Start({KernelBinary(), "--data-dir", other.path() + "/data", "--socket",
                            second_socket, "--listen", "127.0.0.1:0"},
                           other.path() + "/kernel.log"));
  CommandResult second_status;
  ASSERT_TRUE(WaitFor([&] {
    second_status = RunCommand({CtlBinary(), "--socket", second_socket, "status"});
    return second_status.exit_code == 0 || !second.running();
  }, 30s));
  EXPECT_EQ(second_status.exit_code, 0) << second_status.err;
  EXPECT_NE(CookiePathForSocket(second_socket), CookiePathForSocket(first.socket()));
  // The first kernel's operator still gets in with the cookie beside its own socket.
  CommandResult first_status = first.Ctl({"status"});
  EXPECT_EQ(first_status.exit_code, 0) << first_status.err;
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(), 0);
}

// `--socket kernel.sock --data-dir data`, as an operator types them in a folder: both are
// relative to the working directory (a bare socket name once made the kernel abort).
TEST(KernelFiles, ASocketAndDataDirectoryGivenRelativeToTheWorkingDirectoryServe) {
  ScratchDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  ChildProcess kernel;
  ASSERT_TRUE(kernel.Start({"/bin/sh", "-c",
                            "cd '" + dir.path() + "' && exec '" + KernelBinary() +
                                "' --data-dir data --socket kernel.sock --listen ''"},
                           dir.path() + "/kernel.log"));
  const std::string socket = dir.path() + "/kernel.sock";
  CommandResult status;
  ASSERT_TRUE(WaitFor([&] {
    status = RunCommand({CtlBinary(), "--socket", socket, "status"});
    return status.exit_code == 0 || !kernel.running();
  }, 30s));
  ASSERT_EQ(status.exit_code, 0) << status.err << ReadFile(dir.path() + "/kernel.log").value_or("");
  CommandResult created = RunCommand({CtlBinary(), "--socket", socket, "store", "create", "docs",
                                      "--type", "fs"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() + "/data/stores"));
  EXPECT_TRUE(kernel.running());
  kernel.Signal(SIGTERM);
  EXPECT_EQ(kernel.Wait(), 0);
}

TEST(KernelFiles, AFifoOrAnEndlessDeviceAmongDescriptorsIsSkippedAndTheKernelStillStops) {
  ScratchDir dir;
  std::string services = dir.path() + "/services";
  ASSERT_EQ(::mkdir(services.c_str(), 0700), 0);
  ASSERT_EQ(::mkfifo((services + "/fifo.toml").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/dev/zero", (services + "/zero.toml").c_str()), 0);
  KernelProcess kernel(dir.path(), {"--services-dir", services});
  ASSERT_TRUE(kernel.Start().ok()) << LogOf(kernel);
  CommandResult list = kernel.Ctl({"service", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  std::string log = LogOf(kernel);
  EXPECT_NE(log.find(services + "/fifo.toml is not a regular file"), std::string::npos) << log;
  EXPECT_NE(log.find(services + "/zero.toml is not a regular file"), std::string::npos) << log;
  EXPECT_EQ(kernel.Stop(), 0);
}

TEST(KernelFiles, ARepairOfAStoresLogAtStartUpIsReportedNamingTheStore) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  std::string store_id;
  {
    auto admin = kernel.Connect();
    ASSERT_TRUE(admin.ok());
    auto store = (*admin)->CreateStore("torn", "kv");
    ASSERT_TRUE(store.ok()) << store.status();
    store_id = store->id();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*admin)->Put("torn", "k" + std::to_string(i), "v").ok());
  }
  kernel.Kill();  // a power cut: the store's LevelDB log is not flushed into a table
  std::string log_file;
  for (const auto& entry : std::filesystem::directory_iterator(kernel.data_dir() + "/stores/" + store_id)) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0) log_file = entry.path().string();
  }
  ASSERT_FALSE(log_file.empty());
  {
    // The last record's last byte, damaged as a torn write would leave it. The log may be
    // preallocated: its records end at the last byte that is not zero.
    auto bytes = ReadFile(log_file);
    ASSERT_TRUE(bytes.ok());
    size_t last = bytes->find_last_not_of('\0');
    ASSERT_NE(last, std::string::npos);
    std::fstream file(log_file, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(last));
    file.put(static_cast<char>((*bytes)[last] ^ 0x5a));
  }
  ASSERT_TRUE(kernel.Start().ok()) << LogOf(kernel);
  std::string log = LogOf(kernel);
  bool reported = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    reported |= line.find("store " + store_id) != std::string::npos &&
                line.find("dropping") != std::string::npos;
  }
  EXPECT_TRUE(reported) << log;
}

}  // namespace
}  // namespace lattice::testing
