// Channel mode parsing and state (see channel_modes.h).
#include "channel_modes.h"

#include <tuple>

#include "casemap.h"
#include "limits.h"
#include "numerics.h"

namespace lattice::irc {
namespace {

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > limits::kMaxKeyBytes) return false;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == ',' || u == 0x7f) return false;
  }
  return key[0] != ':';
}

// 1..kMaxChannelLimit in plain decimal digits.
bool ParseLimit(std::string_view text, size_t* limit) {
  if (text.empty() || text.size() > 7) return false;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  if (value == 0 || value > limits::kMaxChannelLimit) return false;
  *limit = value;
  return true;
}

// Glob match of folded strings, '*' any run and '?' one byte.
bool Glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool IsReplicatedMode(char mode) { return kReplicatedModes.find(mode) != std::string_view::npos; }

ParsedModes ParseChannelModes(std::string_view channel, std::string_view modestring,
                              const std::vector<std::string>& params) {
  ParsedModes out;
  bool on = true;
  size_t next = 0;        // the next unused parameter
  size_t with_param = 0;  // changes kept that took one
  std::string unknown;    // letters already answered with 472
  size_t invalid_count = 0;
  auto invalid = [&](char mode, const std::string& param, std::string why) {
    // One line cannot make the server answer with hundreds of numerics.
    if (++invalid_count > limits::kMaxModeParams) return;
    out.errors.push_back(ModeError{numeric::kErrInvalidModeParam,
                                   {std::string(channel), std::string(1, mode),
                                    param.empty() ? std::string("*") : param, std::move(why)}});
  };
  // The next parameter for a change that takes one, or nullptr when the line has none left
  // or the MODES= budget is spent (`*over` then says so).
  auto take = [&](bool* over) -> const std::string* {
    *over = with_param >= limits::kMaxModeParams;
    if (*over || next >= params.size()) return nullptr;
    return &params[next++];
  };
  for (char c : modestring) {
    if (c == '+' || c == '-') {
      on = c == '+';
      continue;
    }
    bool over = false;
    switch (c) {
      case 'i':
      case 'm':
      case 'n':
      case 's':
      case 't':
        out.changes.push_back(ModeChange{c, on, ""});
        break;
      case 'b': {
        const std::string* mask = take(&over);
        if (mask == nullptr) {
          if (!over) out.list_bans = true;
          break;
        }
        if (mask->empty() || mask->size() > limits::kMaxBanMaskBytes || (*mask)[0] == ':') {
          invalid(c, *mask, "Invalid ban mask");
          break;
        }
        ++with_param;
        out.changes.push_back(ModeChange{c, on, NormalizeMask(*mask)});
        break;
      }
      case 'k': {
        const std::string* key = take(&over);
        if (over) break;
        if (!on) {
          // Type B: a parameter is taken when unsetting too, whatever it says.
          if (key != nullptr) ++with_param;
          out.changes.push_back(ModeChange{c, false, ""});
          break;
        }
        if (key == nullptr) {
          invalid(c, "", "You must specify a parameter for the key mode. Syntax: <key>");
          break;
        }
        if (!ValidKey(*key)) {
          invalid(c, *key,
                  "Invalid key: at most " + std::to_string(limits::kMaxKeyBytes) +
                      " bytes, without spaces, commas or control characters");
          break;
        }
        ++with_param;
        out.changes.push_back(ModeChange{c, true, *key});
        break;
      }
      case 'l': {
        if (!on) {
          out.changes.push_back(ModeChange{c, false, ""});
          break;
        }
        const std::string* text = take(&over);
        if (over) break;
        size_t limit = 0;
        if (text == nullptr) {
          invalid(c, "", "You must specify a parameter for the limit mode. Syntax: <limit>");
          break;
        }
        if (!ParseLimit(*text, &limit)) {
          invalid(c, *text,
                  "Invalid limit: a whole number from 1 to " +
                      std::to_string(limits::kMaxChannelLimit));
          break;
        }
        ++with_param;
        out.changes.push_back(ModeChange{c, true, std::to_string(limit)});
        break;
      }
      case 'o':
      case 'v': {
        const std::string* nick = take(&over);
        if (over) break;
        if (nick == nullptr || nick->empty()) {
          invalid(c, "", "You must specify a nick");
          break;
        }
        ++with_param;
        out.changes.push_back(ModeChange{c, on, *nick});
        break;
      }
      default:
        if (unknown.find(c) == std::string::npos) {
          unknown.push_back(c);
          out.errors.push_back(ModeError{numeric::kErrUnknownMode,
                                         {std::string(1, c), "is unknown mode char to me"}});
        }
        break;
    }
  }
  return out;
}

std::vector<std::string> RenderModeChanges(const std::vector<ModeChange>& changes) {
  std::string letters;
  std::vector<std::string> args;
  int sign = 0;  // 1: '+', -1: '-'
  for (const auto& change : changes) {
    int wanted = change.on ? 1 : -1;
    if (wanted != sign) {
      letters.push_back(change.on ? '+' : '-');
      sign = wanted;
    }
    letters.push_back(change.mode);
    if (!change.arg.empty()) args.push_back(change.arg);
  }
  args.insert(args.begin(), std::move(letters));
  return args;
}

std::string NormalizeMask(std::string_view mask) {
  size_t bang = mask.find('!');
  size_t at = mask.find('@');
  if (bang == std::string_view::npos && at == std::string_view::npos) {
    return std::string(mask) + "!*@*";
  }
  if (bang == std::string_view::npos) return "*!" + std::string(mask);
  if (at == std::string_view::npos) return std::string(mask) + "@*";
  return std::string(mask);
}

bool BanMaskMatches(std::string_view mask, std::string_view hostmask) {
  return Glob(FoldCase(mask), FoldCase(hostmask));
}

bool ModeStamp::NewerThan(const ModeStamp& other) const {
  return std::tie(wall_ms, counter, hash) > std::tie(other.wall_ms, other.counter, other.hash);
}

// ---- Replicated settings ----

bool ChannelModes::Has(char mode) const {
  auto it = settings_.find(mode);
  return it != settings_.end() && it->second.on;
}

std::string ChannelModes::Arg(char mode) const {
  auto it = settings_.find(mode);
  return it != settings_.end() && it->second.on ? it->second.arg : std::string();
}

size_t ChannelModes::Limit() const {
  size_t limit = 0;
  if (!Has('l') || !ParseLimit(Arg('l'), &limit)) return 0;
  return limit;
}

bool ChannelModes::ApplyStored(const ModeChange& change, const ModeStamp& stamp, uint64_t cursor) {
  if (!IsReplicatedMode(change.mode)) return false;
  Register& reg = settings_[change.mode];
  bool known = reg.stamp.wall_ms != 0 || reg.stamp.counter != 0 || !reg.stamp.hash.empty();
  // The same write again (shown at the kernel's answer, then off the watch) brings the
  // store's stamp and cursor in place of the provisional ones.
  bool same_write = known && !stamp.hash.empty() && reg.stamp.hash == stamp.hash;
  if (known && !same_write && !stamp.NewerThan(reg.stamp)) return false;
  std::string arg = change.on ? change.arg : std::string();
  // A stored +l that is not a number this gateway understands is no limit here.
  if (change.mode == 'l' && change.on) {
    size_t limit = 0;
    if (!ParseLimit(arg, &limit)) arg.clear();
  }
  bool changed = reg.on != change.on || reg.arg != arg;
  reg.on = change.on;
  reg.arg = std::move(arg);
  reg.stamp = stamp;
  reg.cursor = cursor;
  return changed;
}

void ChannelModes::ApplySnapshot(const std::vector<std::pair<ModeChange, ModeStamp>>& on,
                                 uint64_t horizon) {
  std::set<char> listed;
  for (const auto& [change, stamp] : on) {
    listed.insert(change.mode);
    ApplyStored(change, stamp, 0);
  }
  for (auto& [mode, reg] : settings_) {
    if (reg.on && listed.count(mode) == 0 && reg.cursor != 0 && reg.cursor <= horizon) {
      reg.on = false;
      reg.arg.clear();
    }
  }
}

bool ChannelModes::WouldChange(const ModeChange& change) const {
  if (!IsReplicatedMode(change.mode)) return false;
  if (change.on) return !Has(change.mode) || Arg(change.mode) != change.arg;
  return Has(change.mode);
}

std::vector<std::string> ChannelModes::Describe(bool with_args) const {
  std::vector<std::string> out{"+"};
  for (char mode : kReplicatedModes) {
    if (!Has(mode)) continue;
    out[0].push_back(mode);
    if (with_args && (mode == 'k' || mode == 'l')) out.push_back(Arg(mode));
  }
  return out;
}

// ---- Per gateway ----

bool ChannelModes::SetStatus(char mode, ClientId id, bool on) {
  std::set<ClientId>& holders = mode == 'o' ? ops_ : voiced_;
  return on ? holders.insert(id).second : holders.erase(id) != 0;
}

std::string ChannelModes::Prefixes(ClientId id, bool all) const {
  std::string out;
  if (IsOp(id)) out.push_back('@');
  if (IsVoiced(id) && (all || out.empty())) out.push_back('+');
  return out;
}

void ChannelModes::Forget(ClientId id) {
  ops_.erase(id);
  voiced_.erase(id);
  invited_.erase(id);
}

bool ChannelModes::AddBan(const std::string& mask, const std::string& setter, uint64_t set_unix) {
  for (const auto& ban : bans_) {
    if (EqualsFolded(ban.mask, mask)) return false;
  }
  if (BanListFull()) return false;
  bans_.push_back(BanEntry{mask, setter, set_unix});
  return true;
}

bool ChannelModes::RemoveBan(const std::string& mask) {
  for (auto it = bans_.begin(); it != bans_.end(); ++it) {
    if (EqualsFolded(it->mask, mask)) {
      bans_.erase(it);
      return true;
    }
  }
  return false;
}

bool ChannelModes::BanListFull() const { return bans_.size() >= limits::kMaxBans; }

bool ChannelModes::IsBanned(std::string_view hostmask) const {
  for (const auto& ban : bans_) {
    if (BanMaskMatches(ban.mask, hostmask)) return true;
  }
  return false;
}

void ChannelModes::Invite(ClientId id) { invited_.insert(id); }

}  // namespace lattice::irc
