// Which caller on this node wrote which fs change, so that a watch leaves out the changes of
// its own caller and of no one else. A mount tags every call with a number of its own (gRPC
// metadata "lattice-fs-writer", 16 hex digits) and asks its watch to skip that tag: it hears
// other nodes' changes and those other clients of this node make (another mount,
// lattice-ctl, the web gateway), and not the echo of its own, which it knows from its calls.
//
// The tag is noted under the change's payload as the writer builds it, so it is known before
// the intention is applied and any watch can see it; payloads carry the planner's clock, so
// two calls do not build the same one. Only the last kKept payloads are remembered: a watch
// that lags further behind shows its caller's own changes, which costs that caller a cache
// refresh and nothing else. Nothing of this is stored or replicated.
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "lattice/common/fs_writer_tag.h"

namespace lattice::kernel {

// The tag a call carries (lattice/common/fs_writer_tag.h): 0 when it carries none, or one
// that is not a tag.
uint64_t FsWriterTagOf(const grpc::ServerContextBase& context);

class FsWriterTags {
 public:
  static constexpr size_t kKept = 1 << 16;

  // A call tagged `tag` (not 0) built `payload`.
  void Note(std::string_view payload, uint64_t tag);
  // The tag of the call that built `payload`, or 0.
  uint64_t Find(std::string_view payload) const;

 private:
  static uint64_t Key(std::string_view payload);

  mutable std::mutex mu_;
  std::unordered_map<uint64_t, uint64_t> tags_;  // payload key -> tag
  std::deque<uint64_t> order_;                   // keys, oldest first
};

}  // namespace lattice::kernel
