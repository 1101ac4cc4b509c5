// The store's write pipeline: requests queue up, the writer thread builds them into groups,
// and each group is committed (written, fsynced when it must be) by the writer itself when it
// needs no sync or nothing waits behind it, or else by the committer thread while the writer
// builds the next.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "store/intention_applier.h"
#include "store/write_request.h"
#include "sync/index_compaction.h"

namespace lattice::kernel {
namespace {

// A group is cut at this many requests so one fsync never waits on an unbounded queue.
constexpr size_t kMaxGroupRequests = 512;
constexpr size_t kMaxGroupBytes = 16 << 20;
// A release of held intentions whose commit failed is retried after this.
constexpr auto kHeldRetryInterval = std::chrono::seconds(1);
// Requests committed unsynced before a group is synced whatever it asks: bounds what a power
// loss can take and what is held back from listeners, whatever the timer allows.
constexpr uint64_t kMaxUnsyncedRequests = 4096;
// While the group before it is being committed, the writer wakes to add requests to the
// next group once this many wait, not for each one.
constexpr size_t kRequestsToExtendAGroup = 4;

}  // namespace

bool Store::Submit(Request& request) {
  std::unique_lock lock(queue_mutex_);
  if (stopping_) return false;
  queue_.push_back(&request);
  if (queue_.size() - taken_ >= writer_wakes_at_) writer_cv_.notify_one();
  request.cv.wait(lock, [&] { return request.done; });
  return true;
}

void Store::SubmitAsync(std::unique_ptr<Request> request) {
  std::unique_lock lock(queue_mutex_);
  if (stopping_) {
    lock.unlock();
    request->callback(absl::UnavailableError("the store is closing"));
    return;
  }
  queue_.push_back(request.release());
  bool wake = queue_.size() - taken_ >= writer_wakes_at_;
  lock.unlock();
  if (wake) writer_cv_.notify_one();
}

std::vector<Store::Request*> Store::NextRequests(const BuiltGroup* group) const {
  std::vector<Request*> taken;
  const Request* first = group != nullptr ? group->requests.front() : nullptr;
  size_t count = group != nullptr ? group->requests.size() : 0;
  size_t bytes = group != nullptr ? group->bytes : 0;
  for (size_t i = taken_; i < queue_.size(); ++i) {
    Request* request = queue_[i];
    if (first != nullptr) {
      if (request->RunsAlone() || first->RunsAlone()) break;
      if (count >= kMaxGroupRequests || bytes + request->bytes > kMaxGroupBytes) break;
    } else {
      first = request;
    }
    bytes += request->bytes;
    ++count;
    taken.push_back(request);
  }
  return taken;
}

void Store::WaitAsWriter(std::unique_lock<std::mutex>& lock, size_t wake_at) {
  writer_wakes_at_ = wake_at;
  writer_cv_.wait(lock);
  writer_wakes_at_ = std::numeric_limits<size_t>::max();
}

void Store::WriterLoop() {
  std::unique_lock lock(queue_mutex_);
  uint64_t failures_seen = 0;
  // After a failed commit the writer's state may hold what never reached the disk, and the
  // disk may hold part of what failed: the state is read again from the reopened database.
  auto reload_after_failure = [&](uint64_t failures) {
    if (failures == failures_seen) return;
    failures_seen = failures;
    absl::Status s = db_->ReopenAfterFailure();
    if (s.ok()) s = LoadWriterState();
    if (!s.ok()) {
      spdlog::error("store {}: reloading writer state failed: {}", FormatStoreId(options_.id),
                    s.message());
    }
  };
  auto wait_for_commit = [&] {
    while (in_flight_ != nullptr) WaitAsWriter(lock, std::numeric_limits<size_t>::max());
  };
  while (true) {
    while (taken_ == queue_.size() && !stopping_) WaitAsWriter(lock, 1);
    if (taken_ == queue_.size()) break;  // closing, and every request is taken
    std::vector<Request*> requests = NextRequests(nullptr);
    taken_ += requests.size();
    if (requests.front()->RunsAlone()) {
      wait_for_commit();
      uint64_t failures = failed_commits_;
      lock.unlock();
      reload_after_failure(failures);
      CommitKind kind = RunAlone(*requests.front());
      lock.lock();
      CompleteGroup(requests, kind, lock, /*send_replies=*/false);
      continue;
    }
    std::shared_ptr<const BatchView::Writes> in_flight;
    if (in_flight_ != nullptr) in_flight = in_flight_->view->writes();
    uint64_t failures = failed_commits_;
    lock.unlock();
    reload_after_failure(failures);
    std::shared_ptr<BuiltGroup> built = StartGroup(std::move(in_flight));
    AddToGroup(*built, requests);
    lock.lock();
    // Until the group before it is committed, the group takes in what arrives: a few
    // requests at a time, so the writer does not wake for each.
    while (in_flight_ != nullptr) {
      std::vector<Request*> more = NextRequests(built.get());
      if (more.empty()) {
        // Nothing arrived, or nothing more the group may take (its limits, a request that
        // runs alone): only the commit is worth waking for then.
        WaitAsWriter(lock, taken_ < queue_.size() ? std::numeric_limits<size_t>::max()
                                                  : kRequestsToExtendAGroup);
        continue;
      }
      taken_ += more.size();
      lock.unlock();
      AddToGroup(*built, more);
      lock.lock();
    }
    if (failed_commits_ != failures) {
      // Built over a group whose commit failed: its requests are built again, from the
      // state the failure left, as if they had come after it.
      for (Request* request : built->requests) request->ClearResults();
      taken_ -= built->requests.size();
      continue;
    }
    lock.unlock();
    SealGroup(*built);
    lock.lock();
    in_flight_ = built;
    const bool syncs = SyncsOnCommit(*built) || built->sync_after;
    if (syncs && (taken_ < queue_.size() || built->requests.size() > 1)) {
      // A sync, with more waiting or to come (the group is not a lone write): the committer
      // writes this group while the writer builds the next.
      handed_over_ = true;
      committer_cv_.notify_one();
      continue;
    }
    // A group acknowledged when applied, whose commit is a write to memory, or a lone write
    // with nothing behind it: committed here, so it wakes no other thread.
    lock.unlock();
    CommitKind kind = CommitGroup(*built);
    lock.lock();
    // Its replies are sent here too: what arrives meanwhile waits and forms one larger group
    // (a thread switch costs more than a reply). Behind a lone write's sync, though, the
    // requests that came meanwhile are built while the completion thread replies.
    EndCommit(built, kind, lock, /*send_replies=*/!syncs || taken_ == queue_.size());
  }
  wait_for_commit();
}

void Store::CommitterLoop() {
  std::unique_lock lock(queue_mutex_);
  while (true) {
    committer_cv_.wait(lock, [&] { return handed_over_ || committer_stopping_; });
    if (!handed_over_) return;
    handed_over_ = false;
    std::shared_ptr<BuiltGroup> built = in_flight_;
    lock.unlock();
    CommitKind kind = CommitGroup(*built);
    lock.lock();
    // The writer seals the next group meanwhile; the committer sends the replies while it
    // has nothing else to do, and takes that group once they are sent.
    EndCommit(built, kind, lock, /*send_replies=*/true);
  }
}

void Store::EndCommit(const std::shared_ptr<BuiltGroup>& built, CommitKind kind,
                      std::unique_lock<std::mutex>& lock, bool send_replies) {
  if (built->index_quiet_due) {
    if (!index_written_at_) background_cv_.notify_all();  // its timer starts now
    index_written_at_ = std::chrono::steady_clock::now();
  }
  bool sync_after = kind == CommitKind::kApplied && built->sync_after;
  if (!sync_after) {
    in_flight_ = nullptr;
    CompleteGroup(built->requests, kind, lock, send_replies);
    return;
  }
  // Still in flight while its sync runs: the writer keeps adding what arrives to the group
  // it builds, which then goes to the disk behind the sync (group commit batches both).
  CompleteGroup(built->requests, kind, lock, send_replies);
  lock.unlock();
  CommitKind synced = SyncCommitted(built->last_witness);
  lock.lock();
  in_flight_ = nullptr;
  CompleteGroup({}, synced, lock, /*send_replies=*/false);
}

Store::CommitKind Store::SyncCommitted(uint64_t last_witness) {
  if (unsynced_requests_ == 0) return CommitKind::kNone;
  leveldb::WriteBatch nothing;
  if (absl::Status s = Commit(&nothing, /*sync=*/true, last_witness); !s.ok()) {
    spdlog::error("store {}: sync after an applied commit failed: {}", FormatStoreId(options_.id),
                  s.message());
    return CommitKind::kFailed;
  }
  NotifyDurable({}, {});
  return CommitKind::kSynced;
}

void Store::CompleteGroup(const std::vector<Request*>& group, CommitKind kind,
                          std::unique_lock<std::mutex>& lock, bool send_replies) {
  switch (kind) {
    case CommitKind::kNone:
      break;
    case CommitKind::kApplied:
      if (!unsynced_since_) {
        unsynced_since_ = std::chrono::steady_clock::now();
        background_cv_.notify_all();  // its timer starts now
      }
      break;
    case CommitKind::kSynced:
      unsynced_since_.reset();
      break;
    case CommitKind::kFailed:
      ++failed_commits_;
      // Retried after another interval rather than at once, in a loop.
      if (unsynced_since_) unsynced_since_ = std::chrono::steady_clock::now();
      break;
  }
  std::vector<Request*> calls;
  for (Request* member : group) {
    queue_.pop_front();
    --taken_;
    if (member->callback) {
      calls.push_back(member);
    } else {
      member->done = true;
      // Signalled under the lock: once `done` is visible the caller may return and
      // destroy its request, cv included.
      member->cv.notify_one();
    }
  }
  writer_cv_.notify_one();  // the writer may wait for this commit
  if (calls.empty()) return;
  replies_.push_back(std::move(calls));
  if (sending_replies_) return;  // whoever sends them sends these next, in order
  if (send_replies) {
    SendReplies(lock);
  } else {
    completions_.Post([this] {
      std::unique_lock lock(queue_mutex_);
      SendReplies(lock);
    });
  }
}

void Store::SendReplies(std::unique_lock<std::mutex>& lock) {
  if (sending_replies_) return;
  sending_replies_ = true;
  while (!replies_.empty()) {
    std::vector<Request*> calls = std::move(replies_.front());
    replies_.pop_front();
    lock.unlock();
    FinishCalls(calls);
    lock.lock();
  }
  sending_replies_ = false;
}

void Store::FinishCalls(const std::vector<Request*>& calls) {
  for (Request* call : calls) {
    std::unique_ptr<Request> owned(call);
    owned->callback(std::move(owned->local_result));
  }
}

Store::CommitKind Store::RunAlone(Request& request) {
  if (request.kind == Request::Kind::kVerify) {
    request.verify_report = VerifyQuiet(request.scratch_dir);
    return CommitKind::kNone;
  }
  request.count = ReexamineQuiet(request.author, request.rights);
  return unsynced_requests_ == 0 ? CommitKind::kSynced : CommitKind::kNone;
}

bool Store::SyncsOnCommit(const BuiltGroup& built) const {
  // The one decision of a group's durability: synced when any of its requests must be
  // acknowledged durable, or when too much is unsynced already. `unsynced_requests_` is the
  // commit stage's; the writer reads it here only with no other group in flight, just before
  // it commits `built` itself or hands it over under queue_mutex_, so no commit runs beside.
  return unsynced_requests_ >= kMaxUnsyncedRequests || built.needs_sync;
}

bool Store::StartSyncIndexCompaction() {
  auto [start, end] = sync::IndexTableRange(std::string(1, sync::kDefaultIndexTable));
  if (!db_->CompactInBackground(std::move(start), std::move(end))) return false;
  sync_compactions_.Started();
  return true;
}

bool Store::CompactSyncIndexWhenDue(uint64_t leaves_written) {
  if (leaves_written == 0) return false;
  const uint64_t held = sync_levels_.ItemsHeld();
  std::lock_guard compactions(sync_compactions_mutex_);
  // While one runs the count goes on, and the next commit tries again.
  if (sync_compactions_.Add(leaves_written, held) && StartSyncIndexCompaction()) return false;
  return options_.sync_index_quiet_ms != 0 && sync_compactions_.DueWhenQuiet(held);
}

void Store::CompactSyncIndexWhenQuiet() {
  const uint64_t held = sync_levels_.ItemsHeld();
  std::lock_guard compactions(sync_compactions_mutex_);
  if (!sync_compactions_.DueWhenQuiet(held) || StartSyncIndexCompaction()) return;
  // One is running, or the disk lacks room: try again once quiet as long again.
  std::lock_guard queue(queue_mutex_);
  if (!index_written_at_) index_written_at_ = std::chrono::steady_clock::now();
}

Store::CommitKind Store::CommitGroup(BuiltGroup& built) {
  const std::vector<Request*>& group = built.requests;
  absl::Status commit = built.status;
  bool sync = SyncsOnCommit(built);
  auto complete_barriers = [&] {
    for (Request* request : group) {
      if (request->kind != Request::Kind::kSync) continue;
      request->local_result = WriteReceipt{"", durable_witness_.load(), {}};
    }
  };
  // A group that changed nothing (duplicates only, nothing held was due, a barrier with
  // nothing unsynced) commits nothing: what it read is durable already, since LevelDB shows
  // a synced write only once synced, an earlier group's commit (which it may have read
  // before it reached the disk) is done by now, and an unsynced one is synced by the
  // empty batch below.
  if (commit.ok() && built.view->empty() && (!sync || unsynced_requests_ == 0)) {
    complete_barriers();
    return CommitKind::kNone;
  }
  if (commit.ok()) commit = Commit(built.view->batch(), sync, built.last_witness);
  if (commit.ok()) {
    if (built.wants_recorded) chunk_wants_generation_.fetch_add(1);
    if (!sync) unsynced_requests_ += group.size();
    if (auto s = sync_levels_.Publish(built.sync_update, *db_); !s.ok()) {
      spdlog::warn("store {}: sync index read from disk only: {}", FormatStoreId(options_.id),
                   s.message());
    }
    built.index_quiet_due = CompactSyncIndexWhenDue(built.sync_update.leaves_written());
    PublishCommit(built, sync);
    complete_barriers();
    return sync ? CommitKind::kSynced : CommitKind::kApplied;
  }
  spdlog::error("store {}: commit of {} requests failed: {}", FormatStoreId(options_.id),
                group.size(), commit.message());
  for (Request* request : group) {
    switch (request->kind) {
      case Request::Kind::kVerify:
      case Request::Kind::kReexamine:
      case Request::Kind::kReleaseHeld:
        break;
      case Request::Kind::kSync:
        request->local_result = commit;
        break;
      case Request::Kind::kExpire:
        request->count = commit;
        break;
      case Request::Kind::kForeign:
        for (auto& outcome : request->foreign_results) {
          outcome.kind = IngestOutcome::Kind::kRejected;
          outcome.reason = std::string(commit.message());
        }
        break;
      case Request::Kind::kLocalKv:
      case Request::Kind::kLocalChat:
      case Request::Kind::kLocalBuilt:
        if (request->local_result.ok()) request->local_result = commit;
        break;
    }
  }
  return CommitKind::kFailed;
}

absl::Status Store::Commit(leveldb::WriteBatch* batch, bool sync, uint64_t last_witness) {
  // Chunks first: an intention made durable must not cite a chunk a crash could lose. An
  // unsynced commit syncs neither (a power cut may lose both, or leave a version whose chunks
  // are gone, which a read then reports and wants again from a peer).
  if (sync && chunks_ != nullptr) LATTICE_RETURN_IF_ERROR(chunks_->Sync());
  LATTICE_RETURN_IF_ERROR(db_->Write(batch, sync));
  if (sync) {
    // The log is synced, and LevelDB synced every earlier log as it sealed it
    // (SealedLogEnv): everything applied so far is durable.
    unsynced_requests_ = 0;
    durable_witness_.store(last_witness);
  }
  return absl::OkStatus();
}

void Store::PublishCommit(BuiltGroup& built, bool durable) {
  last_witness_.store(built.last_witness);
  // Before any reply of the group: a mount then counts every change acknowledged to anyone.
  if (published_witness_) published_witness_->Publish(built.last_witness);
  floating_count_.store(built.floating_total);
  noop_count_.store(built.noops);
  std::vector<std::string> hashes = std::move(built.applied_hashes);
  std::vector<DecodedIntention> kept = std::move(built.applied_intentions);
  if (durable) {
    NotifyDurable(std::move(hashes), std::move(kept));
  } else {
    unsynced_hashes_.insert(unsynced_hashes_.end(), hashes.begin(), hashes.end());
    unsynced_intentions_.insert(unsynced_intentions_.end(), std::make_move_iterator(kept.begin()),
                                std::make_move_iterator(kept.end()));
  }
  {
    // Taken between the store and the notify so a waiter cannot check, miss, then sleep.
    std::lock_guard lock(witness_mutex_);
  }
  witness_cv_.notify_all();
  std::lock_guard lock(witness_listeners_mutex_);
  for (const auto& [id, wake] : witness_listeners_) wake();
}

void Store::NotifyDurable(std::vector<std::string> hashes, std::vector<DecodedIntention> kept) {
  if (!unsynced_hashes_.empty()) {
    // The groups committed unsynced before are durable with this commit: listeners get them
    // first, in witness order.
    unsynced_hashes_.insert(unsynced_hashes_.end(), hashes.begin(), hashes.end());
    hashes = std::move(unsynced_hashes_);
    unsynced_intentions_.insert(unsynced_intentions_.end(), std::make_move_iterator(kept.begin()),
                                std::make_move_iterator(kept.end()));
    kept = std::move(unsynced_intentions_);
    unsynced_hashes_.clear();
    unsynced_intentions_.clear();
  }
  NotifyApplied(std::move(hashes), std::move(kept));
}

void Store::NotifyApplied(std::vector<std::string> hashes, std::vector<DecodedIntention> kept) {
  if (hashes.empty()) return;
  std::lock_guard lock(listeners_mutex_);
  if (listeners_.empty()) return;
  if (kept.size() == hashes.size()) {
    for (const auto& [id, listener] : listeners_) listener(kept);
    return;
  }
  // The first listener arrived during this group: read back what it applied.
  std::vector<DecodedIntention> applied;
  applied.reserve(hashes.size());
  for (const auto& hash : hashes) {
    auto found = FindIntention(hash);
    if (!found.ok()) continue;
    auto decoded = DecodeTrusted(*found);
    if (decoded.ok()) applied.push_back(*std::move(decoded));
  }
  for (const auto& [id, listener] : listeners_) listener(applied);
}

void Store::BackgroundLoop() {
  using Clock = std::chrono::steady_clock;
  const auto max_unsynced = std::chrono::milliseconds(options_.max_unsynced_ms);
  const auto index_quiet = std::chrono::milliseconds(options_.sync_index_quiet_ms);
  // When the earliest held intention is due, by the store's clock; empty while none is.
  std::optional<uint64_t> held_due_ms;
  // A release whose commit failed is not retried in a loop: the next waits this long.
  Clock::time_point next_release_not_before{};
  std::unique_lock lock(queue_mutex_);
  while (!stopping_) {
    if (held_changed_) {
      held_changed_ = false;
      lock.unlock();
      held_due_ms = EarliestHeldDueMs(*db_);
      lock.lock();
      continue;
    }
    std::optional<Clock::time_point> wake;
    if (unsynced_since_) wake = *unsynced_since_ + max_unsynced;
    if (index_written_at_) {
      auto quiet_end = *index_written_at_ + index_quiet;
      wake = wake ? std::min(*wake, quiet_end) : quiet_end;
    }
    if (held_due_ms) {
      uint64_t now_ms = options_.clock->WallMs();
      uint64_t wait_ms = std::min(*held_due_ms > now_ms ? *held_due_ms - now_ms : 0,
                                  options_.held_recheck_ms);
      auto release = std::max(Clock::now() + std::chrono::milliseconds(wait_ms),
                              next_release_not_before);
      wake = wake ? std::min(*wake, release) : release;
    }
    background_until_ = wake ? wake->time_since_epoch().count() : kNoDeadline;
    background_waiting_ = true;
    if (wake) {
      background_cv_.wait_until(lock, *wake);
    } else {
      background_cv_.wait(lock);
    }
    background_waiting_ = false;
    ++background_wakeups_;
    if (stopping_) break;
    auto now = Clock::now();
    if (index_written_at_ && now >= *index_written_at_ + index_quiet) {
      index_written_at_.reset();
      lock.unlock();
      CompactSyncIndexWhenQuiet();
      lock.lock();
      continue;
    }
    Request::Kind kind;
    if (unsynced_since_ && now >= *unsynced_since_ + max_unsynced) {
      kind = Request::Kind::kSync;
    } else if (held_due_ms && options_.clock->WallMs() >= *held_due_ms &&
               now >= next_release_not_before) {
      kind = Request::Kind::kReleaseHeld;
    } else {
      continue;  // woken early: a commit started the sync timer, or an ingest held something
    }
    lock.unlock();
    Request request(kind);
    Submit(request);
    lock.lock();
    if (kind == Request::Kind::kReleaseHeld) {
      held_changed_ = true;
      next_release_not_before = Clock::now() + kHeldRetryInterval;
    }
  }
}

Store::BackgroundWait Store::background_wait() const {
  BackgroundWait wait;
  wait.wakeups = background_wakeups_.load();
  wait.waiting = background_waiting_.load();
  auto until = background_until_.load();
  if (until != kNoDeadline) {
    wait.until = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(until));
  }
  return wait;
}

}  // namespace lattice::kernel
