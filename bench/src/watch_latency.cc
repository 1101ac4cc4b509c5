#include "watch_latency.h"

#include <fmt/format.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "baselines.h"
#include "lattice/client/watch_canceller.h"

namespace lattice::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kEventTimeout = std::chrono::seconds(5);

}  // namespace

absl::StatusOr<WatchLatencyResult> MeasureWatchLatency(const ConnectFn& connect_writer,
                                                       const ConnectFn& connect_watcher,
                                                       const std::string& store,
                                                       size_t value_bytes,
                                                       std::chrono::milliseconds warmup,
                                                       std::chrono::milliseconds duration) {
  auto writer = connect_writer();
  if (!writer.ok()) return writer.status();
  auto watcher = connect_watcher();
  if (!watcher.ok()) return watcher.status();

  const std::string prefix = fmt::format("watch/{}/", Clock::now().time_since_epoch().count());
  const std::string value = Filler(value_bytes, 3);
  // The watch starts after this write's cursor, so no event of the samples can be missed
  // however late the stream is established. Cursors are a kernel's own witness numbers, so
  // the anchor is written on the watcher's kernel.
  auto anchor = (*watcher)->Put(store, prefix + "anchor", value);
  if (!anchor.ok()) return anchor.status();

  std::mutex mutex;
  std::condition_variable cv;
  std::unordered_map<std::string, Clock::time_point> arrivals;
  absl::Status stream_status;
  bool stream_ended = false;
  client::WatchCanceller canceller;

  std::thread watch_thread([&] {
    v1::KvWatchRequest request;
    request.set_store(store);
    request.set_prefix(prefix);
    request.set_from_cursor(anchor->cursor());
    absl::Status s = (*watcher)->WatchKv(request, [&](const v1::KvWatchResponse& response) {
      Clock::time_point now = Clock::now();
      std::lock_guard lock(mutex);
      for (const auto& event : response.events()) arrivals.emplace(event.key(), now);
      cv.notify_all();
      return true;
    }, &canceller);
    std::lock_guard lock(mutex);
    stream_status = s;
    stream_ended = true;
    cv.notify_all();
  });

  WatchLatencyResult result;
  absl::Status failure;
  Clock::time_point measure_start = Clock::now() + warmup;
  Clock::time_point measure_end = measure_start + duration;
  for (uint64_t i = 0; Clock::now() < measure_end; ++i) {
    std::string key = fmt::format("{}{:012}", prefix, i);
    Clock::time_point begin = Clock::now();
    auto put = (*writer)->Put(store, key, value);
    Clock::time_point returned = Clock::now();
    if (!put.ok()) {
      failure = put.status();
      break;
    }
    std::unique_lock lock(mutex);
    bool arrived = cv.wait_until(lock, Clock::now() + kEventTimeout,
                                 [&] { return stream_ended || arrivals.count(key) > 0; });
    if (stream_ended) {
      failure = stream_status.ok() ? absl::AbortedError("the watch stream ended") : stream_status;
      break;
    }
    if (!arrived) {
      if (begin >= measure_start) ++result.lost;
      continue;
    }
    Clock::time_point arrival = arrivals[key];
    arrivals.erase(key);
    if (begin >= measure_start) {
      result.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(arrival - begin).count());
      result.put_us.push_back(std::chrono::duration<double, std::micro>(returned - begin).count());
    }
  }
  canceller.Cancel();
  watch_thread.join();
  if (!failure.ok()) return failure;
  return result;
}

}  // namespace lattice::bench
