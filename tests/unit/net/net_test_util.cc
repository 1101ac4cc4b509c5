#include "net_test_util.h"

#include <thread>

namespace lattice::kernel::net::testing {

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

LinkProbe::LinkProbe() : state_(std::make_shared<State>()) {}

Link::Handler LinkProbe::handler() {
  Link::Handler handler;
  handler.on_payload = [state = state_](std::string payload) {
    std::lock_guard lock(state->mu);
    state->payload_bytes += payload.size();
    if (state->keep_payloads) {
      state->payloads.push_back(std::move(payload));
    } else {
      state->payloads.emplace_back();
    }
    state->cv.notify_all();
  };
  handler.on_close = [state = state_](const absl::Status& reason) {
    std::lock_guard lock(state->mu);
    ++state->close_calls;
    state->close_reason = reason;
    state->cv.notify_all();
  };
  return handler;
}

bool LinkProbe::WaitForPayloads(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return state_->payloads.size() >= count; });
}

bool LinkProbe::WaitForClose(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return state_->close_calls > 0; });
}

std::vector<std::string> LinkProbe::payloads() const {
  std::lock_guard lock(state_->mu);
  return state_->payloads;
}

size_t LinkProbe::payload_count() const {
  std::lock_guard lock(state_->mu);
  return state_->payloads.size();
}

uint64_t LinkProbe::payload_bytes() const {
  std::lock_guard lock(state_->mu);
  return state_->payload_bytes;
}

bool LinkProbe::closed() const {
  std::lock_guard lock(state_->mu);
  return state_->close_calls > 0;
}

absl::Status LinkProbe::close_reason() const {
  std::lock_guard lock(state_->mu);
  return state_->close_reason;
}

int LinkProbe::close_calls() const {
  std::lock_guard lock(state_->mu);
  return state_->close_calls;
}

void LinkProbe::CountOnly() {
  std::lock_guard lock(state_->mu);
  state_->keep_payloads = false;
}

AcceptLog::AcceptLog() : state_(std::make_shared<State>()) {}

ListenHandlers AcceptLog::handlers() {
  ListenHandlers handlers;
  handlers.on_link = [state = state_](std::shared_ptr<Link> link) {
    std::lock_guard lock(state->mu);
    state->links.push_back(std::move(link));
    state->cv.notify_all();
  };
  handlers.on_refused = [state = state_](const std::string&, const absl::Status& reason) {
    std::lock_guard lock(state->mu);
    state->refusals.push_back(reason);
    state->cv.notify_all();
  };
  return handlers;
}

std::shared_ptr<Link> AcceptLog::NextLink(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  if (!state_->cv.wait_for(lock, timeout, [&] { return !state_->links.empty(); })) {
    return nullptr;
  }
  auto link = std::move(state_->links.front());
  state_->links.erase(state_->links.begin());
  return link;
}

std::optional<absl::Status> AcceptLog::NextRefusal(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  if (!state_->cv.wait_for(lock, timeout, [&] { return !state_->refusals.empty(); })) {
    return std::nullopt;
  }
  auto reason = state_->refusals.front();
  state_->refusals.erase(state_->refusals.begin());
  return reason;
}

std::string PatternPayload(uint64_t index, size_t size) {
  std::string payload(size, '\0');
  uint64_t x = index * 0x9e3779b97f4a7c15ull + size;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    payload[i] = static_cast<char>(x & 0xff);
  }
  return payload;
}

}  // namespace lattice::kernel::net::testing
