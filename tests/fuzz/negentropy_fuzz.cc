// libFuzzer target: arbitrary bytes as a peer's Negentropy message, to a responder and to
// an initiator (after its first message) over a small set. The session must answer or
// fail with a status, never crash, and never send more than its frame limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sync/negentropy.h"
#include "sync/sorted_items.h"

namespace {

using namespace lattice::kernel::sync;

SortedItems& SmallSet() {
  static SortedItems* items = [] {
    auto* set = new SortedItems();
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 300; ++i) {
      Item item;
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      item.timestamp = 1000 + (state >> 40) % 500;  // bursts: many items per stamp
      for (size_t b = 0; b < kIdBytes; ++b) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        item.id[b] = static_cast<uint8_t>(state >> 56);
      }
      set->Insert(item);
    }
    set->Seal();
    return set;
  }();
  return *items;
}

void Check(const absl::StatusOr<ReconcileResult>& result, size_t limit) {
  if (result.ok() && result->reply.has_value() && result->reply->size() > limit) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  NegentropyOptions options;
  options.frame_size_limit = limits::kMinFrameSizeLimit;
  options.max_ranges = 512;
  SortedItems& items = SmallSet();

  auto responder = NegentropySession::Create(Role::kResponder, options);
  if (!responder.ok()) std::abort();
  Check(responder->Reconcile(items, message), options.frame_size_limit);

  auto initiator = NegentropySession::Create(Role::kInitiator, options);
  if (!initiator.ok() || !initiator->Initiate(items).ok()) std::abort();
  Check(initiator->Reconcile(items, message), options.frame_size_limit);
  return 0;
}
