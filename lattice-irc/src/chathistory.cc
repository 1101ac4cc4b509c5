// CHATHISTORY parsing and selection (see chathistory.h).
#include "chathistory.h"

#include <algorithm>
#include <cctype>

#include "chat_backend.h"

namespace lattice::irc {
namespace {

HistoryError Invalid(std::vector<std::string> context, std::string description) {
  return HistoryError{"INVALID_PARAMS", std::move(context), std::move(description)};
}

bool ParseRef(std::string_view text, HistoryRef* ref) {
  if (text == "*") {
    *ref = HistoryRef{};
    return true;
  }
  if (text.substr(0, 6) == "msgid=" && text.size() > 6) {
    ref->kind = HistoryRef::Kind::kMsgid;
    ref->msgid = std::string(text.substr(6));
    return true;
  }
  if (text.substr(0, 10) == "timestamp=") {
    ref->kind = HistoryRef::Kind::kTimestamp;
    return ParseServerTime(text.substr(10), &ref->time_ms);
  }
  return false;
}

bool ParseDigits(std::string_view text, size_t count, uint64_t* out) {
  if (text.size() != count) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
int64_t DaysFromCivil(int64_t y, uint64_t m, uint64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const uint64_t yoe = static_cast<uint64_t>(y - era * 400);
  const uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

uint64_t TimeOf(const v1::ChatMessage& message) { return message.hlc().wall_ms(); }

// A reference placed among the messages read, newest first.
class Placed {
 public:
  Placed(const HistoryRef& ref, const std::vector<v1::ChatMessage>& messages) : ref_(ref) {
    if (ref.kind == HistoryRef::Kind::kMsgid) {
      for (size_t i = 0; i < messages.size(); ++i) {
        if (MsgidOf(messages[i]) == ref.msgid || messages[i].hash() == ref.msgid) {
          index_ = i;
          found_ = true;
          time_ms_ = TimeOf(messages[i]);
          break;
        }
      }
    } else if (ref.kind == HistoryRef::Kind::kTimestamp) {
      time_ms_ = ref.time_ms;
      // Read far enough once something older than the time was read.
      found_ = std::any_of(messages.begin(), messages.end(),
                           [&](const v1::ChatMessage& m) { return TimeOf(m) < ref.time_ms; });
    } else {
      found_ = true;
    }
  }

  bool found() const { return found_; }
  bool is_msgid() const { return ref_.kind == HistoryRef::Kind::kMsgid; }
  size_t index() const { return index_; }
  uint64_t time_ms() const { return time_ms_; }

  bool Newer(size_t i, const v1::ChatMessage& m) const {
    switch (ref_.kind) {
      case HistoryRef::Kind::kNone:
        return true;
      case HistoryRef::Kind::kMsgid:
        return found_ && i < index_;
      case HistoryRef::Kind::kTimestamp:
        return TimeOf(m) > ref_.time_ms;
    }
    return false;
  }
  bool Older(size_t i, const v1::ChatMessage& m) const {
    switch (ref_.kind) {
      case HistoryRef::Kind::kNone:
        return false;
      case HistoryRef::Kind::kMsgid:
        return found_ && i > index_;
      case HistoryRef::Kind::kTimestamp:
        return TimeOf(m) < ref_.time_ms;
    }
    return false;
  }

 private:
  const HistoryRef& ref_;
  bool found_ = false;
  size_t index_ = 0;
  uint64_t time_ms_ = 0;
};

template <typename Pred>
std::vector<size_t> Matching(const std::vector<v1::ChatMessage>& messages, Pred pred) {
  std::vector<size_t> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (pred(i, messages[i])) out.push_back(i);
  }
  return out;
}

// The first `n` of `indexes` (the newest), or the last `n` (the oldest).
std::vector<size_t> Newest(std::vector<size_t> indexes, size_t n) {
  if (indexes.size() > n) indexes.resize(n);
  return indexes;
}
std::vector<size_t> Oldest(std::vector<size_t> indexes, size_t n) {
  if (indexes.size() > n) {
    indexes.erase(indexes.begin(), indexes.end() - static_cast<std::ptrdiff_t>(n));
  }
  return indexes;
}

// Whether BETWEEN goes from an older `a` up to a newer `b`.
bool Ascending(const Placed& a, const Placed& b) {
  if (a.is_msgid() && b.is_msgid()) return a.index() > b.index();
  return a.time_ms() <= b.time_ms();
}

}  // namespace

bool ParseServerTime(std::string_view text, uint64_t* unix_ms) {
  // YYYY-MM-DDThh:mm:ss[.sss]Z
  if (text.size() < 20 || text.back() != 'Z') return false;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return false;
  }
  uint64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!ParseDigits(text.substr(0, 4), 4, &year) || !ParseDigits(text.substr(5, 2), 2, &month) ||
      !ParseDigits(text.substr(8, 2), 2, &day) || !ParseDigits(text.substr(11, 2), 2, &hour) ||
      !ParseDigits(text.substr(14, 2), 2, &minute) ||
      !ParseDigits(text.substr(17, 2), 2, &second)) {
    return false;
  }
  std::string_view rest = text.substr(19, text.size() - 20);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 4) return false;
    uint64_t fraction = 0;
    if (!ParseDigits(rest.substr(1), rest.size() - 1, &fraction)) return false;
    for (size_t digits = rest.size() - 1; digits < 3; ++digits) fraction *= 10;
    millis = fraction;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  int64_t days = DaysFromCivil(static_cast<int64_t>(year), month, day);
  *unix_ms = static_cast<uint64_t>(days) * 86'400'000 + hour * 3'600'000 + minute * 60'000 +
             second * 1000 + millis;
  return true;
}

std::variant<HistoryQuery, HistoryError> ParseHistoryQuery(const std::vector<std::string>& params,
                                                           uint32_t max_limit) {
  if (params.empty() || params[0].empty()) return Invalid({}, "Missing subcommand");
  HistoryQuery query;
  query.subcommand = params[0];
  for (char& c : query.subcommand) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string& sub = query.subcommand;
  size_t refs = 1;
  bool has_target = true;
  if (sub == "LATEST") {
    query.sub = HistoryQuery::Sub::kLatest;
  } else if (sub == "BEFORE") {
    query.sub = HistoryQuery::Sub::kBefore;
  } else if (sub == "AFTER") {
    query.sub = HistoryQuery::Sub::kAfter;
  } else if (sub == "AROUND") {
    query.sub = HistoryQuery::Sub::kAround;
  } else if (sub == "BETWEEN") {
    query.sub = HistoryQuery::Sub::kBetween;
    refs = 2;
  } else if (sub == "TARGETS") {
    query.sub = HistoryQuery::Sub::kTargets;
    refs = 2;
    has_target = false;
  } else {
    return Invalid({params[0]}, "Unknown subcommand");
  }
  size_t needed = 1 + (has_target ? 1 : 0) + refs + 1;
  if (params.size() < needed) return Invalid({sub}, "Missing parameters");
  size_t next = 1;
  if (has_target) {
    query.target = params[next++];
    if (query.target.empty()) return Invalid({sub}, "Missing target");
  }
  for (size_t r = 0; r < refs; ++r) {
    const std::string& text = params[next++];
    HistoryRef& ref = r == 0 ? query.a : query.b;
    if (!ParseRef(text, &ref)) {
      return Invalid({sub, text}, "A message reference is msgid=<id>, timestamp=<time> or *");
    }
    bool star_ok = query.sub == HistoryQuery::Sub::kLatest;
    if (ref.kind == HistoryRef::Kind::kNone && !star_ok) {
      return Invalid({sub, text}, "* is only allowed with LATEST");
    }
    if (query.sub == HistoryQuery::Sub::kTargets && ref.kind != HistoryRef::Kind::kTimestamp) {
      return Invalid({sub, text}, "TARGETS takes two timestamps");
    }
  }
  uint64_t limit = 0;
  const std::string& limit_text = params[next];
  if (limit_text.empty() || limit_text.size() > 9 ||
      !ParseDigits(limit_text, limit_text.size(), &limit) || limit == 0) {
    return Invalid({sub, limit_text}, "The limit is a positive number");
  }
  query.limit = static_cast<uint32_t>(std::min<uint64_t>(limit, max_limit));
  return query;
}

bool IsPlayable(const v1::ChatMessage& message) {
  return message.kind() == "post" || message.kind() == "reply" || message.kind() == "react";
}

bool ScanIsEnough(const HistoryQuery& query, const std::vector<v1::ChatMessage>& newest_first) {
  Placed a(query.a, newest_first);
  auto older_count = [&](const Placed& ref) {
    return Matching(newest_first, [&](size_t i, const v1::ChatMessage& m) {
             return ref.Older(i, m);
           }).size();
  };
  switch (query.sub) {
    case HistoryQuery::Sub::kLatest:
      return newest_first.size() >= query.limit ||
             (query.a.kind != HistoryRef::Kind::kNone && a.found());
    case HistoryQuery::Sub::kBefore:
      return a.found() && older_count(a) >= query.limit;
    case HistoryQuery::Sub::kAfter:
      return a.found();
    case HistoryQuery::Sub::kAround:
      return a.found() && older_count(a) >= query.limit / 2;
    case HistoryQuery::Sub::kBetween:
      return a.found() && Placed(query.b, newest_first).found();
    case HistoryQuery::Sub::kTargets:
      return true;
  }
  return true;
}

HistorySelection SelectHistory(const HistoryQuery& query,
                               const std::vector<v1::ChatMessage>& newest_first) {
  HistorySelection selection;
  Placed a(query.a, newest_first);
  Placed b(query.b, newest_first);
  if (query.a.kind == HistoryRef::Kind::kMsgid && !a.found()) {
    selection.missing_msgid = query.a.msgid;
    return selection;
  }
  if (query.sub == HistoryQuery::Sub::kBetween && query.b.kind == HistoryRef::Kind::kMsgid &&
      !b.found()) {
    selection.missing_msgid = query.b.msgid;
    return selection;
  }
  const size_t limit = query.limit;
  auto newer = [&](size_t i, const v1::ChatMessage& m) { return a.Newer(i, m); };
  auto older = [&](size_t i, const v1::ChatMessage& m) { return a.Older(i, m); };
  std::vector<size_t> chosen;
  switch (query.sub) {
    case HistoryQuery::Sub::kLatest:
      chosen = Newest(Matching(newest_first, newer), limit);
      break;
    case HistoryQuery::Sub::kBefore:
      chosen = Newest(Matching(newest_first, older), limit);
      break;
    case HistoryQuery::Sub::kAfter:
      chosen = Oldest(Matching(newest_first, newer), limit);
      break;
    case HistoryQuery::Sub::kAround: {
      chosen = Newest(Matching(newest_first, older), limit / 2);
      if (a.is_msgid() && chosen.size() < limit) chosen.push_back(a.index());
      // With a timestamp, a message at exactly that time counts as after it.
      auto after = [&](size_t i, const v1::ChatMessage& m) {
        return a.is_msgid() ? a.Newer(i, m) : !a.Older(i, m);
      };
      for (size_t i : Oldest(Matching(newest_first, after), limit - chosen.size())) {
        chosen.push_back(i);
      }
      break;
    }
    case HistoryQuery::Sub::kBetween: {
      bool ascending = Ascending(a, b);
      auto between = [&](size_t i, const v1::ChatMessage& m) {
        return ascending ? a.Newer(i, m) && b.Older(i, m) : a.Older(i, m) && b.Newer(i, m);
      };
      std::vector<size_t> inside = Matching(newest_first, between);
      chosen = ascending ? Oldest(std::move(inside), limit) : Newest(std::move(inside), limit);
      break;
    }
    case HistoryQuery::Sub::kTargets:
      break;
  }
  std::sort(chosen.begin(), chosen.end(), std::greater<size_t>());
  for (size_t i : chosen) selection.messages.push_back(newest_first[i]);
  return selection;
}

TargetScan ScanForTarget(const std::vector<v1::ChatMessage>& page, uint64_t lo_ms,
                         uint64_t hi_ms) {
  TargetScan scan;
  for (auto it = page.rbegin(); it != page.rend(); ++it) {
    if (!IsPlayable(*it)) continue;
    uint64_t time = TimeOf(*it);
    if (time > hi_ms) continue;
    scan.decided = true;
    if (time >= lo_ms) scan.latest_ms = time;
    break;
  }
  return scan;
}

}  // namespace lattice::irc
