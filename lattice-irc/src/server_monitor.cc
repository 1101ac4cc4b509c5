// IrcServer: MONITOR (IRCv3): a client names nicks and is told as each comes online or goes
// offline, on this gateway or on any other the kernel's presence announces (see server.h).
#include <fmt/format.h>

#include "casemap.h"
#include "limits.h"
#include "numerics.h"
#include "server_state.h"

namespace lattice::irc {

using namespace numeric;

namespace {

// `items` joined by commas, a few hundred bytes to a line so every reply fits in one.
std::vector<std::string> CommaLines(const std::vector<std::string>& items) {
  constexpr size_t kMaxListBytes = 400;
  std::vector<std::string> lines;
  std::string line;
  for (const auto& item : items) {
    if (!line.empty() && line.size() + 1 + item.size() > kMaxListBytes) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line.push_back(',');
    line += item;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// A client's monitored nicks, as it gave them.
std::vector<std::string> GivenNicks(const std::map<std::string, std::string>& monitoring) {
  std::vector<std::string> nicks;
  for (const auto& [folded, given] : monitoring) nicks.push_back(given);
  return nicks;
}

}  // namespace

void IrcServer::HandleMonitor(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].size() != 1) {
    Numeric(client, kErrNeedMoreParams, {"MONITOR", "Not enough parameters"});
    return;
  }
  const char op = m.params[0][0];
  const bool with_targets = op == '+' || op == '-';
  if (with_targets && (m.params.size() < 2 || m.params[1].empty())) {
    Numeric(client, kErrNeedMoreParams, {"MONITOR", "Not enough parameters"});
    return;
  }
  std::vector<std::string> targets = with_targets ? SplitCommaList(m.params[1]) : std::vector<std::string>{};
  switch (op) {
    case '+': {
      std::vector<std::string> added;
      for (size_t i = 0; i < targets.size(); ++i) {
        const std::string& nick = targets[i];
        if (!IsValidNick(nick)) continue;
        std::string folded = FoldCase(nick);
        if (client.monitoring.count(folded) == 0) {
          if (client.monitoring.size() >= limits::kMaxMonitorTargets) {
            std::string rest = nick;
            for (size_t j = i + 1; j < targets.size(); ++j) rest += "," + targets[j];
            Numeric(client, kErrMonListFull,
                    {std::to_string(limits::kMaxMonitorTargets), rest, "Monitor list is full."});
            break;
          }
          client.monitoring.emplace(folded, nick);
          MonitoredNick& entry = monitored_[folded];
          if (entry.watchers.empty()) entry.online = !OnlineMask(nick).empty();
          entry.watchers.insert(client.id);
        }
        added.push_back(nick);
      }
      SendMonitorStatus(client, added);
      return;
    }
    case '-':
      for (const auto& nick : targets) StopMonitoring(client, FoldCase(nick));
      return;
    case 'C':
    case 'c':
      StopMonitoringAll(client);
      return;
    case 'L':
    case 'l':
      for (const auto& line : CommaLines(GivenNicks(client.monitoring))) {
        Numeric(client, kRplMonList, {line});
      }
      Numeric(client, kRplEndOfMonList, {"End of MONITOR list"});
      return;
    case 'S':
    case 's':
      SendMonitorStatus(client, GivenNicks(client.monitoring));
      return;
    default:
      Numeric(client, kErrNeedMoreParams, {"MONITOR", "Not enough parameters"});
      return;
  }
}

std::string IrcServer::OnlineMask(const std::string& nick) {
  if (LocalClient* who = FindClientByNick(nick); who != nullptr && who->registration.registered()) {
    return who->Prefix();
  }
  ExternalUser* remote = OnlineRemoteUser(nick);
  return remote == nullptr ? "" : remote->Prefix();
}

void IrcServer::RefreshMonitored(const std::string& nick) {
  auto it = monitored_.find(FoldCase(nick));
  if (it == monitored_.end()) return;
  std::string mask = OnlineMask(nick);
  bool online = !mask.empty();
  if (online == it->second.online) return;
  it->second.online = online;
  for (ClientId id : it->second.watchers) {
    LocalClient* watcher = FindClient(id);
    if (watcher == nullptr) continue;
    if (online) {
      Numeric(*watcher, kRplMonOnline, {mask});
    } else {
      auto given = watcher->monitoring.find(it->first);
      Numeric(*watcher, kRplMonOffline,
              {given == watcher->monitoring.end() ? nick : given->second});
    }
  }
}

void IrcServer::RefreshAllMonitored() {
  std::vector<std::string> nicks;
  nicks.reserve(monitored_.size());
  for (const auto& [folded, entry] : monitored_) nicks.push_back(folded);
  for (const auto& nick : nicks) RefreshMonitored(nick);
}

void IrcServer::SendToMonitors(const std::string& nick, Outgoing& line, CapSet required,
                               const std::unordered_set<ClientId>& already) {
  auto it = monitored_.find(FoldCase(nick));
  if (it == monitored_.end()) return;
  required |= kCapExtendedMonitor;
  for (ClientId id : it->second.watchers) {
    if (already.count(id) != 0) continue;
    LocalClient* watcher = FindClient(id);
    if (watcher != nullptr && (watcher->caps & required) == required) Send(*watcher, line);
  }
}

void IrcServer::StopMonitoring(LocalClient& client, const std::string& folded_nick) {
  if (client.monitoring.erase(folded_nick) == 0) return;
  auto it = monitored_.find(folded_nick);
  if (it == monitored_.end()) return;
  it->second.watchers.erase(client.id);
  if (it->second.watchers.empty()) monitored_.erase(it);
}

void IrcServer::StopMonitoringAll(LocalClient& client) {
  for (const auto& [folded, given] : client.monitoring) {
    auto it = monitored_.find(folded);
    if (it == monitored_.end()) continue;
    it->second.watchers.erase(client.id);
    if (it->second.watchers.empty()) monitored_.erase(it);
  }
  client.monitoring.clear();
}

void IrcServer::SendMonitorStatus(LocalClient& client, const std::vector<std::string>& nicks) {
  std::vector<std::string> online;
  std::vector<std::string> offline;
  for (const auto& nick : nicks) {
    std::string mask = OnlineMask(nick);
    if (mask.empty()) {
      offline.push_back(nick);
    } else {
      online.push_back(std::move(mask));
    }
  }
  for (const auto& line : CommaLines(online)) Numeric(client, kRplMonOnline, {line});
  for (const auto& line : CommaLines(offline)) Numeric(client, kRplMonOffline, {line});
}

}  // namespace lattice::irc
