// The loop behind Kv.Watch and Chat.Watch: stream the witness log from a cursor, then
// follow it live. The first response (possibly without events) names the starting cursor,
// and an idle stream sends its advanced cursor now and then, so a client that reconnects
// resumes exactly where it stopped even when nothing it cares about has happened.
#pragma once

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>

#include "rpc/call_context.h"
#include "rpc/services.h"
#include "store/store.h"

namespace lattice::kernel {

inline constexpr auto kWatchCursorRefresh = std::chrono::seconds(1);

inline int EventCount(const v1::KvWatchResponse& response) { return response.events_size(); }
inline int EventCount(const v1::ChatWatchResponse& response) { return response.messages_size(); }

// `collect(response, witness, intention, noop)` adds the events one intention yields. Ends
// with UNAVAILABLE within kWatchPollInterval once `stopping` is set.
template <typename Response>
grpc::Status RunWatchLoop(
    grpc::ServerContext* context, const std::atomic<bool>& stopping, const Store& store,
    uint64_t cursor, grpc::ServerWriter<Response>* writer,
    const std::function<void(Response&, uint64_t, const DecodedIntention&, bool)>& collect) {
  Response first;
  first.set_cursor(cursor);
  if (!writer->Write(first)) return grpc::Status::OK;
  auto last_sent = std::chrono::steady_clock::now();
  uint64_t sent_cursor = cursor;
  while (!context->IsCancelled()) {
    if (stopping.load()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          fmt::format("the kernel is stopping; resume the watch from cursor {}", cursor));
    }
    if (store.last_witness() <= cursor) {
      store.WaitForWitness(cursor, std::chrono::steady_clock::now() + kWatchPollInterval);
      if (cursor != sent_cursor && std::chrono::steady_clock::now() - last_sent > kWatchCursorRefresh) {
        Response refresh;
        refresh.set_cursor(cursor);
        if (!writer->Write(refresh)) break;
        sent_cursor = cursor;
        last_sent = std::chrono::steady_clock::now();
      }
      continue;
    }
    Response response;
    uint64_t scanned = cursor;
    absl::Status s = store.ReadLog(cursor, kWatchLogPage,
                                   [&](uint64_t witness, const DecodedIntention& intention, bool noop) {
                                     scanned = witness;
                                     collect(response, witness, intention, noop);
                                     return true;
                                   });
    if (!s.ok()) return ToGrpc(s);
    cursor = scanned;
    response.set_cursor(cursor);
    if (EventCount(response) > 0) {
      if (!writer->Write(response)) break;
      sent_cursor = cursor;
      last_sent = std::chrono::steady_clock::now();
    }
  }
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
