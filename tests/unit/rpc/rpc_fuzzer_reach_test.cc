// The RPC request fuzzer (tests/fuzz/rpc_requests_fuzz.cc) reaches every method of the Store
// Protocol, with the admin cookie and with a service token: the methods are listed here from
// the .proto files themselves, independently of the descriptors the fuzzer reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "fuzz/rpc_fuzz_methods.h"
#include "lattice/common/files.h"

namespace lattice::fuzz {
namespace {

// "/lattice.v1.Service/Method" for each `rpc` of each `service` in the project's .proto files.
std::vector<std::string> DeclaredMethods() {
  const std::regex service_line(R"(^service\s+(\w+)\s*\{)");
  const std::regex rpc_line(R"(^\s*rpc\s+(\w+)\s*\()");
  std::vector<std::string> methods;
  for (const auto& entry :
       std::filesystem::directory_iterator(LATTICE_SOURCE_DIR "/proto/lattice/v1")) {
    if (entry.path().extension() != ".proto") continue;
    auto text = ReadFile(entry.path().string());
    EXPECT_TRUE(text.ok()) << text.status();
    if (!text.ok()) continue;
    std::string service;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      std::string line = text->substr(start, end - start);
      start = end + 1;
      std::smatch match;
      if (std::regex_search(line, match, service_line)) {
        service = match[1];
      } else if (line.rfind("}", 0) == 0) {
        service.clear();
      } else if (!service.empty() && std::regex_search(line, match, rpc_line)) {
        methods.push_back("/lattice.v1." + service + "/" + std::string(match[1]));
      }
    }
  }
  return methods;
}

TEST(RpcFuzzerReach, EveryDeclaredMethodIsCalledWithTheCookieAndWithAToken) {
  std::vector<std::string> declared = DeclaredMethods();
  // Today's services, so a parser that finds nothing cannot pass.
  std::set<std::string> services;
  for (const auto& path : declared) services.insert(path.substr(1, path.rfind('/') - 1));
  EXPECT_EQ(services, (std::set<std::string>{"lattice.v1.Controller", "lattice.v1.Kv",
                                             "lattice.v1.Chat", "lattice.v1.Presence",
                                             "lattice.v1.Admin", "lattice.v1.Fs"}));

  std::vector<FuzzedMethod> fuzzed = StoreProtocolMethods();
  std::map<std::string, std::set<bool>> reached;  // path -> the credentials it is called with
  for (int selector = 0; selector < 256; ++selector) {
    FuzzedCall call = CallFor(static_cast<uint8_t>(selector), fuzzed.size());
    ASSERT_LT(call.method, fuzzed.size());
    reached[fuzzed[call.method].path].insert(call.as_admin);
  }
  for (const auto& path : declared) {
    EXPECT_EQ(reached[path], (std::set<bool>{false, true}))
        << path << " is not called both with the admin cookie and with a service token";
  }
  EXPECT_EQ(fuzzed.size(), declared.size()) << "the fuzzer calls methods no .proto declares";
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(RpcFuzzerReach, EveryMethodHasASeedAndEverySeedCallsTheMethodItIsNamedFor) {
  // A seed (a valid request) takes a fuzzing run past a method's checks from its start. Its
  // first byte picks its method by position, so a method declared before it would move it.
  // Seeds are named service-method[-variant]: "kv-put", "chat-post-tags".
  std::vector<FuzzedMethod> fuzzed = StoreProtocolMethods();
  std::set<std::string> seeded;
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           LATTICE_SOURCE_DIR "/tests/fuzz/corpus/fuzz_rpc_requests")) {
    std::string name = entry.path().filename().string();
    auto bytes = ReadFile(entry.path().string());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_FALSE(bytes->empty()) << name;
    ++seeds;
    FuzzedCall call = CallFor(static_cast<uint8_t>((*bytes)[0]), fuzzed.size());
    const std::string& path = fuzzed[call.method].path;
    seeded.insert(path);
    std::string service = Lower(path.substr(12, path.rfind('/') - 12));  // after "/lattice.v1."
    std::string method = Lower(path.substr(path.rfind('/') + 1));
    std::string words = name.substr(name.find('-') + 1);
    words.erase(std::remove(words.begin(), words.end(), '-'), words.end());
    EXPECT_EQ(name.substr(0, name.find('-')), service) << "seed " << name << " calls " << path;
    EXPECT_EQ(words.rfind(method, 0), 0u) << "seed " << name << " calls " << path;
  }
  EXPECT_GT(seeds, 0u);
  for (const auto& path : DeclaredMethods()) {
    EXPECT_EQ(seeded.count(path), 1u) << path << " has no seed in tests/fuzz/corpus";
  }
}

}  // namespace
}  // namespace lattice::fuzz
