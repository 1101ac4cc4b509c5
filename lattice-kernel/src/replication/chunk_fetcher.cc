#include "replication/chunk_fetcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "lattice/common/chunker.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "replication/replication_limits.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

namespace {

// A chunk the connected peers said they lack is asked again after this (one of them may have
// fetched it meanwhile, or a new peer may hold it), doubling each round up to the maximum.
constexpr auto kRetryUnknownAfter = std::chrono::seconds(5);
constexpr auto kMaxRetryUnknownAfter = std::chrono::minutes(10);
// What no peer held is forgotten after this without news (the want is likely gone), and at
// most this many chunks are remembered (beyond it, they are asked every pass).
constexpr auto kForgetTriedAfter = std::chrono::hours(1);
constexpr size_t kMaxTriedChunks = 100'000;

std::chrono::steady_clock::duration RetryDelay(uint32_t rounds) {
  auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kRetryUnknownAfter);
  for (uint32_t r = 1; r < rounds && delay < kMaxRetryUnknownAfter; ++r) delay *= 2;
  return std::min<std::chrono::steady_clock::duration>(delay, kMaxRetryUnknownAfter);
}

}  // namespace

void ChunkFetcher::Sweep() {
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = now - it->second.sent >= limits::kChunkFetchTimeout ? Forget(it) : std::next(it);
    }
    for (auto it = tried_.begin(); it != tried_.end();) {
      Tried& tried = it->second;
      if (now - tried.when >= kForgetTriedAfter) {
        it = tried_.erase(it);
        continue;
      }
      // The round is over: every peer may be asked again.
      if (!tried.peers.empty() && now - tried.when >= RetryDelay(tried.rounds)) tried.peers.clear();
      ++it;
    }
  }
  for (const auto& d : ctx_.node.ListStores(/*include_archived=*/true)) {
    Store* store = ctx_.node.StoreById(d.id);
    if (store != nullptr && store->chunks() != nullptr) FetchFor(d.id);
  }
}

void ChunkFetcher::FetchFor(const std::string& store_id) {
  Store* store = ctx_.node.StoreById(store_id);
  if (store == nullptr || store->chunks() == nullptr) return;
  std::string after;
  {
    std::lock_guard lock(mu_);
    after = cursor_[store_id];
  }
  auto wants = store->WantedChunks(limits::kMaxWantedChunksPerSweep, after);
  if (wants.ok() && wants->empty() && !after.empty()) {
    after.clear();  // past the last want: start again from the first
    wants = store->WantedChunks(limits::kMaxWantedChunksPerSweep);
  }
  if (!wants.ok()) {
    spdlog::warn("store {}: reading the wanted chunks failed: {}", FormatStoreId(store_id),
                 wants.status().message());
    return;
  }
  if (wants->empty()) return;
  // A full page: the next pass goes on after it; a short one: the next starts over (unless
  // every peer was busy before the page was through: then it goes on from there).
  std::string next_cursor =
      wants->size() < limits::kMaxWantedChunksPerSweep ? std::string() : wants->back();
  auto peers = ctx_.PeersOf(store_id);
  if (peers.empty()) return;
  // Wants that outlived their chunk (stored by a fetch that raced with the commit that
  // recorded them) are dropped here.
  std::vector<std::string> present;
  std::vector<std::string> candidates;
  for (auto& hash : *wants) {
    auto has = store->chunks()->Has(hash);
    if (has.ok() && *has) {
      present.push_back(std::move(hash));
    } else {
      candidates.push_back(std::move(hash));
    }
  }
  if (!present.empty()) (void)store->ChunksStored(present);

  std::vector<std::pair<ConnectionPtr, v1::PeerMessage>> to_send;
  {
    std::lock_guard lock(mu_);
    // This round's request to each peer, by index in `peers`.
    std::map<size_t, size_t> open;  // peer index -> index in to_send
    auto has_room = [&](size_t p) {
      auto it = open.find(p);
      if (it != open.end()) {
        return static_cast<size_t>(to_send[it->second].second.chunk_request().hashes_size()) <
               limits::kMaxChunksPerMessage;
      }
      return in_flight_[peers[p].get()] < limits::kMaxChunkRequestsInFlightPerPeer &&
             pending_.size() < limits::kMaxChunkRequestsInFlight;
    };
    auto now = Clock::now();
    std::string after_busy = after;
    for (const auto& hash : candidates) {
      Key key{store_id, hash};
      if (asking_.count(key)) continue;
      const Tried* tried = nullptr;
      if (auto t = tried_.find(key); t != tried_.end()) tried = &t->second;
      std::optional<size_t> chosen;
      bool any_room = false;
      for (size_t k = 0; k < peers.size(); ++k) {
        size_t p = (next_peer_ + k) % peers.size();
        if (!peers[p]->open() || !has_room(p)) continue;
        any_room = true;
        if (tried != nullptr && tried->peers.count(peers[p]->peer_id())) continue;
        chosen = p;
        break;
      }
      if (!any_room) {
        // Every peer is busy: the rest waits for answers, and the next pass starts here.
        next_cursor = after_busy;
        break;
      }
      after_busy = hash;
      if (!chosen) continue;  // no peer that has not said it lacks this chunk
      // Spread the next chunk to the next peer, so one slow peer does not hold up the rest.
      next_peer_ = *chosen + 1;
      size_t at;
      if (auto it = open.find(*chosen); it != open.end()) {
        at = it->second;
      } else {
        uint64_t id = next_request_id_++;
        v1::PeerMessage message;
        message.mutable_chunk_request()->set_store_id(store_id);
        message.mutable_chunk_request()->set_request_id(id);
        to_send.emplace_back(peers[*chosen], std::move(message));
        at = to_send.size() - 1;
        open[*chosen] = at;
        Pending pending;
        pending.conn_key = peers[*chosen].get();
        pending.peer_id = peers[*chosen]->peer_id();
        pending.store_id = store_id;
        pending.sent = now;
        pending_.emplace(id, std::move(pending));
        ++in_flight_[peers[*chosen].get()];
      }
      auto* request = to_send[at].second.mutable_chunk_request();
      request->add_hashes(hash);
      pending_[request->request_id()].hashes.insert(hash);
      asking_[key] = request->request_id();
    }
    cursor_[store_id] = next_cursor;
  }
  for (auto& [conn, message] : to_send) {
    // A request that cannot be queued stays pending and times out, then is asked again.
    (void)conn->Send(message, std::chrono::milliseconds(2000));
  }
}

void ChunkFetcher::OnRequest(const ConnectionPtr& conn, const v1::ChunkRequest& request) {
  v1::PeerMessage reply;
  v1::ChunkResponse* response = reply.mutable_chunk_response();
  response->set_store_id(request.store_id());
  response->set_request_id(request.request_id());
  Store* store = ctx_.StoreFor(conn->peer_id(), request.store_id());
  ChunkStore* chunks = store != nullptr ? store->chunks() : nullptr;
  std::vector<std::string> unknown;
  std::vector<std::string> damaged;
  size_t bytes = 0;
  uint64_t served_chunks = 0;
  uint64_t served_bytes = 0;
  for (const auto& hash : request.hashes()) {
    if (chunks == nullptr) {
      unknown.push_back(hash);
      continue;
    }
    // A chunk this node's collector dropped (store/chunk_gc.h: no version it still keeps
    // cites it) is answered "unknown" like one never held. The asking peer wants it because
    // it has not yet applied what superseded it here; once it has (the ordinary sync brings
    // it), its own collector drops the want. A Read also keeps the chunk a while (rule 4).
    auto data = chunks->Read(hash, 0, ::lattice::limits::kFsChunkMaxBytes, ChunkStore::Check::kAlways);
    if (!data.ok()) {
      if (data.status().code() == absl::StatusCode::kDataLoss) damaged.push_back(hash);
      unknown.push_back(hash);
      continue;
    }
    // Several responses when the chunks do not fit one message; the last says so.
    if (response->chunks_size() > 0 &&
        (static_cast<size_t>(response->chunks_size()) >= limits::kMaxChunksPerMessage ||
         bytes + data->size() > limits::kTargetChunkMessageBytes)) {
      (void)conn->Send(reply, std::chrono::milliseconds(5000));
      response->clear_chunks();
      bytes = 0;
    }
    bytes += data->size();
    served_chunks += 1;
    served_bytes += data->size();
    v1::ChunkData* chunk = response->add_chunks();
    chunk->set_hash(hash);
    chunk->set_data(*std::move(data));
  }
  for (auto& hash : unknown) response->add_unknown(std::move(hash));
  response->set_last(true);
  (void)conn->Send(reply, std::chrono::milliseconds(5000));
  if (!damaged.empty() && store != nullptr) (void)store->WantChunks(damaged);
  std::lock_guard lock(mu_);
  stats_.chunks_served += served_chunks;
  stats_.bytes_served += served_bytes;
}

void ChunkFetcher::OnResponse(const ConnectionPtr& conn, const v1::ChunkResponse& response) {
  // Every chunk is checked before anything of the message is kept: a peer that sends bytes
  // that are not what their hash names is cut off, and nothing it sent is stored.
  for (const auto& chunk : response.chunks()) {
    if (ChunkHash(chunk.data()) != chunk.hash()) {
      std::string why = fmt::format("sent {} bytes as chunk {} that do not match its hash",
                                    chunk.data().size(), ShortHex(chunk.hash()));
      spdlog::warn("peer {} {}; cutting it off", ShortHex(conn->peer_id()), why);
      {
        std::lock_guard lock(mu_);
        ++stats_.peers_cut_off;
      }
      cut_off_(conn, why);
      return;
    }
  }
  std::vector<const v1::ChunkData*> asked;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(response.request_id());
    if (it == pending_.end() || it->second.conn_key != conn.get() ||
        it->second.store_id != response.store_id()) {
      // A late answer to a request that timed out, or one never sent: nothing is taken
      // from it, since only chunks this node asked for are kept.
      return;
    }
    for (const auto& chunk : response.chunks()) {
      if (it->second.hashes.count(chunk.hash())) asked.push_back(&chunk);
    }
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), response.store_id());
  std::vector<std::string> stored;
  uint64_t stored_bytes = 0;
  if (store != nullptr && store->chunks() != nullptr) {
    for (const v1::ChunkData* chunk : asked) {
      auto put = store->chunks()->Put(chunk->hash(), chunk->data());
      if (!put.ok()) {
        // A full disk: the rest stays wanted and is asked again later.
        spdlog::warn("store {}: keeping a fetched chunk failed: {}",
                     FormatStoreId(response.store_id()), put.status().message());
        break;
      }
      stored.push_back(chunk->hash());
      stored_bytes += chunk->data().size();
    }
    if (auto s = store->ChunksStored(stored); !s.ok()) {
      spdlog::warn("store {}: dropping the wants of fetched chunks failed: {}",
                   FormatStoreId(response.store_id()), s.message());
    }
  }
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    stats_.chunks_received += stored.size();
    stats_.bytes_received += stored_bytes;
    stats_.answered_unknown += static_cast<uint64_t>(response.unknown_size());
    auto now = Clock::now();
    auto it = pending_.find(response.request_id());
    if (it == pending_.end()) return;  // closed or timed out meanwhile
    for (const auto& hash : stored) {
      it->second.hashes.erase(hash);
      asking_.erase({response.store_id(), hash});
      tried_.erase({response.store_id(), hash});
    }
    for (const auto& hash : response.unknown()) {
      Key key{response.store_id(), hash};
      auto t = tried_.find(key);
      if (t == tried_.end()) {
        if (tried_.size() >= kMaxTriedChunks) continue;
        t = tried_.emplace(key, Tried()).first;
      }
      if (t->second.peers.empty()) ++t->second.rounds;  // the first "no" of a new round
      t->second.peers.insert(conn->peer_id());
      t->second.when = now;
    }
    if (response.last()) {
      Forget(it);
      finished = true;
    }
  }
  // A slot is free: ask for more at once rather than at the next tick.
  if (finished) FetchFor(response.store_id());
}

std::map<uint64_t, ChunkFetcher::Pending>::iterator ChunkFetcher::Forget(
    std::map<uint64_t, Pending>::iterator it) {
  for (const auto& hash : it->second.hashes) asking_.erase({it->second.store_id, hash});
  auto flight = in_flight_.find(it->second.conn_key);
  if (flight != in_flight_.end() && --flight->second == 0) in_flight_.erase(flight);
  return pending_.erase(it);
}

void ChunkFetcher::OnClosed(const PeerConnection* conn) {
  std::lock_guard lock(mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second.conn_key == conn ? Forget(it) : std::next(it);
  }
  in_flight_.erase(conn);
}

ChunkFetchStats ChunkFetcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace lattice::kernel::replication
