#include "presence/presence_hub.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "lattice/common/status.h"
#include "presence/presence_signature.h"

namespace lattice::kernel::presence {
namespace {

// The expiry thread looks at least this often, whatever it expects.
constexpr uint64_t kMaxExpirySleepMs = 1000;

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t WallUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

absl::Status CheckAnnouncement(const std::string& key, const std::string& value, uint32_t ttl_ms) {
  if (key.size() < limits::kMinKeyBytes || key.size() > limits::kMaxKeyBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "a presence key of {} bytes; it must have {} to {} bytes", key.size(),
        limits::kMinKeyBytes, limits::kMaxKeyBytes));
  }
  if (value.size() > limits::kMaxValueBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "a presence value of {} bytes; it may have at most {}", value.size(),
        limits::kMaxValueBytes));
  }
  if (ttl_ms != 0 && (ttl_ms < limits::kMinTtlMs || ttl_ms > limits::kMaxTtlMs)) {
    return absl::InvalidArgumentError(fmt::format(
        "a presence ttl of {} ms; it must be {} to {} ms (renew before it runs out), or 0 to "
        "withdraw",
        ttl_ms, limits::kMinTtlMs, limits::kMaxTtlMs));
  }
  return absl::OkStatus();
}

}  // namespace

PresenceHub::PresenceHub(KeyPair identity, PresenceHubOptions options)
    : identity_(std::move(identity)), options_(std::move(options)), table_(options_.limits) {
  if (!options_.now_ms) options_.now_ms = SteadyMs;
  if (!options_.wall_us) options_.wall_us = WallUs;
  if (options_.expiry_thread) expiry_thread_ = std::thread([this] { RunExpiry(); });
}

PresenceHub::~PresenceHub() {
  {
    std::lock_guard lock(expiry_mu_);
    stopping_ = true;
  }
  expiry_cv_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

absl::Status PresenceHub::Announce(const std::string& store_id, const std::string& key,
                                   const std::string& value, uint32_t ttl_ms) {
  LATTICE_RETURN_IF_ERROR(CheckAnnouncement(key, value, ttl_ms));
  v1::PresenceAnnouncement announcement;
  announcement.set_store_id(store_id);
  announcement.set_key(key);
  if (ttl_ms != 0) announcement.set_value(value);
  announcement.set_ttl_ms(ttl_ms);
  {
    std::lock_guard lock(mu_);
    // Increasing across restarts too: a restarted node starts from the wall clock, past
    // anything it announced before (unless its clock went back).
    uint64_t sequence = std::max(last_sequence_ + 1, options_.wall_us());
    announcement.set_sequence(sequence);
    SignAnnouncement(identity_, announcement);
    auto result = table_.Offer(announcement, ttl_ms, options_.now_ms());
    if (result.outcome == PresenceTable::Outcome::kFull) {
      return absl::ResourceExhaustedError(fmt::format(
          "the store holds as many presence entries as it keeps ({} of one node, {} in all; "
          "this node has {}); withdraw some first",
          limits::kMaxEntriesPerOrigin, limits::kMaxEntriesPerStore,
          table_.LiveCountOf(store_id, identity_.public_key)));
    }
    last_sequence_ = sequence;
    if (result.change) Notify(*result.change);
  }
  if (ttl_ms != 0) ExpireBy(options_.now_ms() + ttl_ms);
  Send(store_id, {announcement}, "");
  return absl::OkStatus();
}

size_t PresenceHub::Receive(const std::string& from_peer,
                            const std::vector<v1::PresenceAnnouncement>& entries) {
  std::map<std::string, std::vector<v1::PresenceAnnouncement>> news;  // by store
  uint64_t earliest = UINT64_MAX;
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    uint64_t now = options_.now_ms();
    for (const auto& entry : entries) {
      // This node's own entries are its own to say: an old copy coming back is ignored.
      if (entry.origin() == identity_.public_key) continue;
      uint32_t ttl = std::min(entry.ttl_ms(), limits::kMaxTtlMs);
      if (ttl != 0 && entry.remaining_ms() != 0) ttl = std::min(ttl, entry.remaining_ms());
      auto result = table_.Offer(entry, ttl, now);
      if (!result.news()) continue;
      if (result.change) Notify(*result.change);
      if (ttl != 0) earliest = std::min(earliest, now + ttl);
      auto& out = news[entry.store_id()];
      out.push_back(entry);
      out.back().set_remaining_ms(ttl);
      ++count;
    }
  }
  if (earliest != UINT64_MAX) ExpireBy(earliest);
  for (const auto& [store_id, announcements] : news) Send(store_id, announcements, from_peer);
  return count;
}

std::vector<v1::PresenceAnnouncement> PresenceHub::LiveAnnouncements(const std::string& store_id) {
  std::lock_guard lock(mu_);
  return table_.LiveAnnouncements(store_id, options_.now_ms());
}

uint64_t PresenceHub::Watch(const std::string& store_id, const std::string& prefix,
                            PresenceWatcher watcher, std::vector<PresenceChange>* snapshot) {
  std::lock_guard lock(mu_);
  *snapshot = table_.Live(store_id, prefix);
  uint64_t id = next_watch_id_++;
  watchers_.emplace(id, WatchEntry{store_id, prefix, std::move(watcher)});
  return id;
}

void PresenceHub::Unwatch(uint64_t id) {
  std::lock_guard lock(mu_);
  watchers_.erase(id);
}

void PresenceHub::SetSender(PresenceSender sender) {
  std::lock_guard lock(sender_mu_);
  sender_ = std::move(sender);
}

void PresenceHub::ExpireNow() {
  std::lock_guard lock(mu_);
  for (const auto& change : table_.Expire(options_.now_ms())) Notify(change);
}

size_t PresenceHub::live_count() const {
  std::lock_guard lock(mu_);
  return table_.live_count();
}

void PresenceHub::Notify(const PresenceChange& change) {
  for (const auto& [id, entry] : watchers_) {
    if (entry.store_id != change.store_id) continue;
    if (std::string_view(change.key).substr(0, entry.prefix.size()) != entry.prefix) continue;
    entry.watcher(change);
  }
}

void PresenceHub::Send(const std::string& store_id,
                       const std::vector<v1::PresenceAnnouncement>& entries,
                       const std::string& except_peer) {
  std::lock_guard lock(sender_mu_);
  if (sender_) sender_(store_id, entries, except_peer);
}

void PresenceHub::ExpireBy(uint64_t deadline_ms) {
  {
    std::lock_guard lock(expiry_mu_);
    if (deadline_ms >= planned_wake_ms_) return;
    deadline_moved_ = true;
  }
  expiry_cv_.notify_all();
}

void PresenceHub::RunExpiry() {
  std::unique_lock lock(expiry_mu_);
  while (!stopping_) {
    // While the next wake-up is being worked out, any new deadline wakes the thread again.
    planned_wake_ms_ = UINT64_MAX;
    deadline_moved_ = false;
    lock.unlock();
    ExpireNow();
    uint64_t now = options_.now_ms();
    uint64_t wake = now + kMaxExpirySleepMs;
    {
      std::lock_guard table_lock(mu_);
      if (auto next = table_.NextDeadline()) wake = std::min(wake, std::max(*next, now));
    }
    lock.lock();
    planned_wake_ms_ = wake;
    expiry_cv_.wait_for(lock, std::chrono::milliseconds(wake - now),
                        [&] { return stopping_ || deadline_moved_; });
  }
}

}  // namespace lattice::kernel::presence
