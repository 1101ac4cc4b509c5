#include "src/watcher.h"

#include <spdlog/spdlog.h>

#include "lattice/client/backoff.h"

namespace lattice::fuse {

Watcher::Watcher(KernelLink* link, OnChange on_change)
    : link_(link), on_change_(std::move(on_change)) {}

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
    if (cursor_ == 0) {
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
      }
      for (const v1::FsChange& change : response.changes()) {
        on_change_(change);
        if (change.cursor() > cursor_) cursor_ = change.cursor();
      }
      if (response.cursor() > cursor_) cursor_ = response.cursor();
    }
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

}  // namespace lattice::fuse
