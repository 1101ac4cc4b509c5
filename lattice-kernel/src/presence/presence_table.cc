#include "presence/presence_table.h"

#include <algorithm>

namespace lattice::kernel::presence {

PresenceTable::Result PresenceTable::Offer(const v1::PresenceAnnouncement& announcement,
                                           uint32_t ttl_ms, uint64_t now_ms) {
  SlotKey key{announcement.store_id(), announcement.origin(), announcement.key()};
  auto it = slots_.find(key);
  if (it != slots_.end() && announcement.sequence() <= it->second.sequence) {
    return {Outcome::kStale, std::nullopt};
  }
  if (ttl_ms == 0) {
    std::optional<PresenceChange> change;
    if (it == slots_.end()) {
      it = slots_.emplace(std::move(key), Slot{}).first;
    } else if (it->second.state == State::kLive) {
      change = ChangeOf(it->first, it->second, /*gone=*/true);
    }
    it->second.sequence = announcement.sequence();
    Remember(it, now_ms);
    return {Outcome::kWithdrawn, std::move(change)};
  }
  uint64_t deadline = now_ms + ttl_ms;
  if (it == slots_.end() || it->second.state != State::kLive) {
    auto of_origin = live_per_origin_.find({key.store_id, key.origin});
    auto of_store = live_per_store_.find(key.store_id);
    if ((of_origin != live_per_origin_.end() && of_origin->second >= limits_.max_per_origin) ||
        (of_store != live_per_store_.end() && of_store->second >= limits_.max_per_store)) {
      return {Outcome::kFull, std::nullopt};
    }
    if (it == slots_.end()) it = slots_.emplace(std::move(key), Slot{}).first;
    MakeLive(it, announcement, deadline);
    return {Outcome::kNew, ChangeOf(it->first, it->second, /*gone=*/false)};
  }
  bool same = it->second.announcement.value() == announcement.value();
  MakeLive(it, announcement, deadline);
  if (same) return {Outcome::kRenewed, std::nullopt};
  return {Outcome::kChanged, ChangeOf(it->first, it->second, /*gone=*/false)};
}

std::vector<PresenceChange> PresenceTable::Expire(uint64_t now_ms) {
  std::vector<PresenceChange> gone;
  while (!expiries_.empty() && expiries_.begin()->first <= now_ms) {
    auto it = slots_.find(expiries_.begin()->second);
    gone.push_back(ChangeOf(it->first, it->second, /*gone=*/true));
    Remember(it, now_ms);
  }
  for (auto store = forgets_.begin(); store != forgets_.end();) {
    auto& due = store->second;
    while (!due.empty() && due.begin()->first <= now_ms) {
      auto it = slots_.find(due.begin()->second);
      Erase(it);  // removes it from `due`
    }
    store = due.empty() ? forgets_.erase(store) : std::next(store);
  }
  return gone;
}

std::vector<PresenceChange> PresenceTable::Live(const std::string& store_id,
                                                std::string_view prefix) const {
  std::vector<PresenceChange> out;
  for (auto it = slots_.lower_bound(SlotKey{store_id, "", ""});
       it != slots_.end() && it->first.store_id == store_id; ++it) {
    if (it->second.state != State::kLive) continue;
    if (std::string_view(it->first.key).substr(0, prefix.size()) != prefix) continue;
    out.push_back(ChangeOf(it->first, it->second, /*gone=*/false));
  }
  return out;
}

std::vector<v1::PresenceAnnouncement> PresenceTable::LiveAnnouncements(const std::string& store_id,
                                                                       uint64_t now_ms) const {
  std::vector<v1::PresenceAnnouncement> out;
  for (auto it = slots_.lower_bound(SlotKey{store_id, "", ""});
       it != slots_.end() && it->first.store_id == store_id; ++it) {
    if (it->second.state != State::kLive || it->second.deadline_ms <= now_ms) continue;
    out.push_back(it->second.announcement);
    uint64_t left = it->second.deadline_ms - now_ms;
    out.back().set_remaining_ms(static_cast<uint32_t>(std::min<uint64_t>(left, UINT32_MAX)));
  }
  return out;
}

std::optional<uint64_t> PresenceTable::NextDeadline() const {
  std::optional<uint64_t> next;
  if (!expiries_.empty()) next = expiries_.begin()->first;
  for (const auto& [store, due] : forgets_) {
    if (!due.empty() && (!next || due.begin()->first < *next)) next = due.begin()->first;
  }
  return next;
}

uint64_t PresenceTable::SequenceOf(const std::string& store_id, const std::string& origin,
                                   const std::string& key) const {
  auto it = slots_.find(SlotKey{store_id, origin, key});
  return it == slots_.end() ? 0 : it->second.sequence;
}

size_t PresenceTable::remembered_count() const {
  size_t count = 0;
  for (const auto& [store, due] : forgets_) count += due.size();
  return count;
}

size_t PresenceTable::LiveCountOf(const std::string& store_id, const std::string& origin) const {
  auto it = live_per_origin_.find({store_id, origin});
  return it == live_per_origin_.end() ? 0 : it->second;
}

PresenceChange PresenceTable::ChangeOf(const SlotKey& key, const Slot& slot, bool gone) const {
  return PresenceChange{key.store_id, key.origin, key.key, slot.announcement.value(),
                        gone ? 0 : slot.deadline_ms, gone};
}

void PresenceTable::MakeLive(SlotMap::iterator it, const v1::PresenceAnnouncement& announcement,
                             uint64_t deadline_ms) {
  Unschedule(it);
  Slot& slot = it->second;
  slot.state = State::kLive;
  slot.sequence = announcement.sequence();
  slot.deadline_ms = deadline_ms;
  slot.announcement = announcement;
  slot.announcement.clear_remaining_ms();
  expiries_.emplace(deadline_ms, it->first);
  ++live_per_origin_[{it->first.store_id, it->first.origin}];
  ++live_per_store_[it->first.store_id];
}

void PresenceTable::Remember(SlotMap::iterator it, uint64_t now_ms) {
  Unschedule(it);
  auto& due = forgets_[it->first.store_id];
  // Room for one more: forget the sequence that would have been forgotten first.
  while (!due.empty() && due.size() >= limits_.max_remembered_per_store) {
    Erase(slots_.find(due.begin()->second));
  }
  Slot& slot = it->second;
  slot.state = State::kRemembered;
  slot.deadline_ms = now_ms + limits_.remember_ms;
  slot.announcement.Clear();
  due.emplace(slot.deadline_ms, it->first);
}

void PresenceTable::Unschedule(SlotMap::iterator it) {
  Slot& slot = it->second;
  const SlotKey& key = it->first;
  if (slot.state == State::kLive) {
    expiries_.erase({slot.deadline_ms, key});
    auto of_origin = live_per_origin_.find({key.store_id, key.origin});
    if (--of_origin->second == 0) live_per_origin_.erase(of_origin);
    auto of_store = live_per_store_.find(key.store_id);
    if (--of_store->second == 0) live_per_store_.erase(of_store);
  } else if (slot.state == State::kRemembered) {
    auto due = forgets_.find(key.store_id);
    if (due != forgets_.end()) due->second.erase({slot.deadline_ms, key});
  }
  slot.state = State::kFresh;
}

void PresenceTable::Erase(SlotMap::iterator it) {
  Unschedule(it);
  slots_.erase(it);
}

}  // namespace lattice::kernel::presence
