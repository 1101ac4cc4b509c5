#include "load_generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lattice::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct ClientTally {
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<double> latencies_us;
  std::vector<SlowCall> slow_calls;
};

}  // namespace

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

double LoadResult::PercentileUs(double p) const {
  std::vector<double> copy = latencies_us;
  return Percentile(copy, p);
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const OperationFactory& factory) {
  const int clients = std::max(1, options.clients);
  std::vector<ClientTally> tallies(static_cast<size_t>(clients));
  std::vector<absl::Status> setup(static_cast<size_t>(clients));

  // Every client builds its operation, then waits for the common start.
  std::mutex mutex;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  bool abort = false;
  Clock::time_point measure_start, measure_end;

  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(clients));
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto built = factory(i);
      {
        std::unique_lock lock(mutex);
        if (!built.ok()) setup[static_cast<size_t>(i)] = built.status();
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go || abort; });
        if (abort || !built.ok()) return;
      }
      Operation& op = *built;
      ClientTally& tally = tallies[static_cast<size_t>(i)];
      tally.latencies_us.reserve(1 << 16);
      while (true) {
        Clock::time_point begin = Clock::now();
        if (begin >= measure_end) break;
        absl::Status status = op();
        Clock::time_point end = Clock::now();
        if (end < measure_start || end > measure_end) continue;
        if (!status.ok()) {
          if (tally.errors++ == 0) tally.first_error = status.ToString();
          continue;
        }
        ++tally.ops;
        double us = std::chrono::duration<double, std::micro>(end - begin).count();
        tally.latencies_us.push_back(us);
        if (options.slow_call.count() > 0 && us > static_cast<double>(options.slow_call.count())) {
          auto ago = std::chrono::duration_cast<std::chrono::system_clock::duration>(end - begin);
          tally.slow_calls.push_back({std::chrono::system_clock::now() - ago, us});
        }
      }
    });
  }

  absl::Status failed;
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return ready == clients; });
    for (const auto& s : setup) {
      if (!s.ok() && failed.ok()) failed = s;
    }
    if (failed.ok()) {
      measure_start = Clock::now() + options.warmup;
      measure_end = measure_start + options.duration;
      go = true;
    } else {
      abort = true;
    }
  }
  cv.notify_all();
  if (failed.ok()) {
    std::this_thread::sleep_until(measure_start);
    if (options.at_window_start) options.at_window_start();
    std::this_thread::sleep_until(measure_end);
    if (options.at_window_end) options.at_window_end();
  }
  for (auto& t : threads) t.join();
  if (!failed.ok()) return failed;

  LoadResult result;
  result.seconds = std::chrono::duration<double>(measure_end - measure_start).count();
  for (auto& tally : tallies) {
    result.ops += tally.ops;
    if (tally.errors > 0 && result.errors == 0) result.first_error = tally.first_error;
    result.errors += tally.errors;
    result.latencies_us.insert(result.latencies_us.end(), tally.latencies_us.begin(),
                               tally.latencies_us.end());
    result.slow_calls.insert(result.slow_calls.end(), tally.slow_calls.begin(),
                             tally.slow_calls.end());
  }
  return result;
}

}  // namespace lattice::bench
