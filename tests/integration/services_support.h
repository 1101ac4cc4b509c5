// Helpers of the ServiceManager's end-to-end tests: `service list` of a kernel, waiting for an
// instance to reach a status, the daemons' processes as /proc shows them, free loopback
// ports, and an IRC client on a raw socket that registers, joins and talks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "harness/kernel_process.h"

namespace lattice::testing {

inline constexpr char kIrcGateway[] = "lattice.irc-gateway";

// `lattice-ctl --json ARGS` on `kernel`, parsed; the command's stderr on failure.
absl::StatusOr<nlohmann::json> CtlJsonOf(KernelProcess& kernel, const std::vector<std::string>& args);
// Creates a chat store and returns its id.
absl::StatusOr<std::string> CreateChatStore(KernelProcess& kernel, const std::string& name);

// This node's instance of `service` for `store_id` in `service list --json`, or NOT_FOUND.
absl::StatusOr<nlohmann::json> InstanceOf(KernelProcess& kernel, const std::string& service,
                                          const std::string& store_id);
// Polls until the instance's status is `status` and `also` holds; returns it, or the last
// one seen in the error.
absl::StatusOr<nlohmann::json> WaitForInstance(
    KernelProcess& kernel, const std::string& service, const std::string& store_id,
    const std::string& status, std::chrono::milliseconds timeout = std::chrono::seconds(30),
    const std::function<bool(const nlohmann::json&)>& also = {});
// The port of an instance's first endpoint "tcp://HOST:PORT" (0 when none).
int EndpointPort(const nlohmann::json& instance);

// Processes of lattice-irc serving `store_id` (argv holds --store=STORE), from /proc.
std::vector<pid_t> DaemonPids(const std::string& store_id);
bool ProcessAlive(pid_t pid);
// The environment of a process, as NAME=value strings.
std::vector<std::string> EnvironmentOf(pid_t pid);

// A port on 127.0.0.1 that nothing listens on right now.
int FreePort();
// Whether something accepts a TCP connection on 127.0.0.1:port.
bool Accepts(int port);

// Connects to an IRC server on 127.0.0.1:port, registers as `nick`, joins `channel` and
// sends `text` to it; OK once the server has answered the JOIN and taken the message.
absl::Status ChatThroughIrc(int port, const std::string& nick, const std::string& channel,
                            const std::string& text);
// Polls `chat history STORE CHANNEL` on `kernel` until a message holds `text`; `channel` is
// the IRC channel ("#general").
bool WaitForChatMessage(KernelProcess& kernel, const std::string& store, const std::string& channel,
                        const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace lattice::testing
