#include "src/watcher.h"

#include <spdlog/spdlog.h>

#include "lattice/client/backoff.h"
#include "lattice/common/status.h"

namespace lattice::fuse {

Watcher::Watcher(KernelLink* link, OnChange on_change, std::function<void()> on_start)
    : link_(link), on_change_(std::move(on_change)), on_start_(std::move(on_start)) {}

Watcher::~Watcher() { Stop(); }

void Watcher::Start() { thread_ = std::thread([this] { Run(); }); }

void Watcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void Watcher::Run() {
  client::Backoff backoff(client::BackoffPolicy{std::chrono::milliseconds(50),
                                                std::chrono::milliseconds(2000), 2.0, 0.2});
  while (true) {
    grpc::ClientContext context;
    link_->Prepare(&context, std::chrono::milliseconds(0));
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      context_ = &context;
    }
    v1::FsWatchRequest request;
    request.set_store(link_->store());
    // Every change but those of this mount's own calls: other nodes' and those other
    // clients of this node make (another mount, lattice-ctl).
    request.set_skip_writer(link_->writer_tag());
    request.set_cursor_at_once(true);
    const bool from_now = cursor_ == 0;
    if (from_now) {
      request.set_from_now(true);
    } else {
      request.set_from_cursor(cursor_);
    }
    auto reader = link_->stub()->Watch(&context, request);
    v1::FsWatchResponse response;
    bool healthy = false;
    while (reader->Read(&response)) {
      if (!healthy) {
        healthy = true;
        backoff.Reset();
        NoteWitnessFile(response.witness_file());
        if (from_now && on_start_) on_start_();
      }
      for (const v1::FsChange& change : response.changes()) {
        on_change_(change);
        if (change.cursor() > cursor_) cursor_ = change.cursor();
      }
      if (response.cursor() > cursor_) cursor_ = response.cursor();
      // After the changes were handed on: HeardAll's caller then sees what they dropped.
      heard_.store(cursor_, std::memory_order_release);
    }
    heard_.store(0, std::memory_order_release);
    grpc::Status status = reader->Finish();
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) link_->RereadCookie();
    {
      std::lock_guard lock(mu_);
      context_ = nullptr;
      if (stopping_) return;
    }
    auto delay = backoff.Next();
    spdlog::debug("the change watch ended ({}); resuming from cursor {} in {} ms",
                  status.error_message(), cursor_, delay.count());
    // Sleep in small steps so Stop() is not held up.
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

bool Watcher::HeardAll() const {
  const PublishedWitnessReader* published = published_.load(std::memory_order_acquire);
  if (published == nullptr) return false;
  uint64_t heard = heard_.load(std::memory_order_acquire);
  return heard != 0 && published->Read() == heard;
}

void Watcher::NoteWitnessFile(const std::string& path) {
  const PublishedWitnessReader* current = published_.load();
  if (current != nullptr && current->path() == path) return;
  // A kernel that publishes nothing now (or elsewhere) no longer writes the file named
  // before: compared with it, a watch would seem to have heard everything.
  published_.store(nullptr, std::memory_order_release);
  if (path.empty()) return;
  auto reader = PublishedWitnessReader::Open(path);
  if (!reader.ok()) {
    spdlog::warn("every open asks the kernel: the store's published witness cannot be read: {}",
                 reader.status().message());
    return;
  }
  std::lock_guard lock(mu_);
  readers_.push_back(*std::move(reader));
  published_.store(readers_.back().get(), std::memory_order_release);
}

}  // namespace lattice::fuse
