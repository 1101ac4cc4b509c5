// The naming scheme for senders that are not clients of this gateway (see nick_directory.h).
#include "nick_directory.h"

#include <fmt/format.h>

#include "casemap.h"
#include "limits.h"

namespace lattice::irc {
namespace {

bool IsNickChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '[' || c == ']' || c == '\\' || c == '`' || c == '_' || c == '^' || c == '{' ||
         c == '|' || c == '}';
}

std::string ShortNode(std::string_view author_hex) {
  std::string out(author_hex.substr(0, 8));
  while (out.size() < 8) out.push_back('0');
  return out;
}

}  // namespace

std::string BaseNick(std::string_view sender, std::string_view author_hex) {
  if (sender.empty()) return "node-" + ShortNode(author_hex);
  std::string out;
  for (char c : sender) {
    if (out.size() == limits::kMaxNickBytes) break;
    out.push_back(IsNickChar(c) ? c : '_');
  }
  if ((out[0] >= '0' && out[0] <= '9') || out[0] == '-') {
    out.insert(out.begin(), '_');
    if (out.size() > limits::kMaxNickBytes) out.pop_back();
  }
  return out;
}

std::string NickCandidate(std::string_view base, std::string_view author_hex, int attempt) {
  if (attempt == 0) return std::string(base);
  std::string suffix = "|" + ShortNode(author_hex);
  if (attempt > 1) suffix += fmt::format("-{}", attempt);
  size_t keep = limits::kMaxNickBytes > suffix.size() ? limits::kMaxNickBytes - suffix.size() : 0;
  return std::string(base.substr(0, std::min(base.size(), keep))) + suffix;
}

std::string HostForNode(std::string_view author_hex) { return ShortNode(author_hex) + ".lattice"; }

bool NickDirectory::Taken(const std::string& folded) const {
  return by_nick_.count(folded) != 0 || local_taken_(folded);
}

void NickDirectory::AssignNick(ExternalUser& user, int first_attempt) {
  std::string base = BaseNick(user.sender, user.author);
  for (int attempt = first_attempt;; ++attempt) {
    std::string candidate = NickCandidate(base, user.author, attempt);
    // The plain base is only for nicks a local client could not take either.
    if (attempt == 0 && IsReservedRemoteNick(candidate)) continue;
    std::string folded = FoldCase(candidate);
    if (Taken(folded)) continue;
    user.nick = std::move(candidate);
    user.attempt = attempt;
    by_nick_[folded] = &user;
    return;
  }
}

ExternalUser& NickDirectory::Resolve(std::string_view author, std::string_view sender) {
  std::string key(author);
  key.push_back('\0');
  key.append(sender);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return *it->second;
  auto user = std::make_unique<ExternalUser>();
  user->author = std::string(author);
  user->sender = std::string(sender);
  std::string base = BaseNick(sender, author);
  user->user = FoldCase(base.substr(0, std::min(base.size(), limits::kMaxUserBytes)));
  user->host = HostForNode(author);
  AssignNick(*user, 0);
  ExternalUser& ref = *user;
  by_key_.emplace(std::move(key), std::move(user));
  return ref;
}

ExternalUser* NickDirectory::FindByNick(std::string_view nick) {
  auto it = by_nick_.find(FoldCase(nick));
  return it == by_nick_.end() ? nullptr : it->second;
}

std::optional<std::pair<ExternalUser*, std::string>> NickDirectory::YieldNick(
    std::string_view nick) {
  std::string folded = FoldCase(nick);
  auto it = by_nick_.find(folded);
  if (it == by_nick_.end()) return std::nullopt;
  ExternalUser* user = it->second;
  by_nick_.erase(it);
  std::string old_nick = user->nick;
  // The local client does not hold the nick yet; keep the sender off it explicitly.
  auto taken_before = local_taken_;
  local_taken_ = [&](const std::string& f) { return f == folded || taken_before(f); };
  AssignNick(*user, std::max(1, user->attempt + 1));
  local_taken_ = std::move(taken_before);
  return std::make_pair(user, old_nick);
}

}  // namespace lattice::irc
