// Fuzzes the receiving half of an established link: after a genuine handshake (done once),
// arbitrary bytes arrive where the peer's frames go. The first byte picks the mode:
//   0  the bytes are the wire, fed in chunks of a fuzzer-chosen size;
//   1  the bytes are payloads (split at '\n') that the peer seals genuinely, then one byte of
//      the wire is changed (position and mask from the input; mask 0 changes nothing, and
//      then every payload must arrive intact and in order);
//   2  the bytes go to the length-prefix decoder alone, with a small limit.
// Never crash; memory stays bounded by the frame limit.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "lattice/common/crypto.h"
#include "net/frame_decoder.h"
#include "net/frame_receiver.h"
#include "net/handshake.h"
#include "net/link_limits.h"

namespace {

using namespace lattice;
using namespace lattice::kernel::net;

struct Harness {
  KeyPair dialer_key = GenerateKeyPair();
  KeyPair listener_key = GenerateKeyPair();
  std::optional<EstablishedSession> dialer;
  std::optional<EstablishedSession> listener;

  Harness() {
    auto d = Handshake::ForDialer(&dialer_key, listener_key.public_key, std::nullopt);
    if (!d.ok()) std::abort();
    Handshake l = Handshake::ForListener(
        &listener_key,
        [](const std::string&, const std::optional<InviteProof>&) { return absl::OkStatus(); });
    for (int round = 0; round < 8 && !(d->established() && l.established()); ++round) {
      if (!l.Feed(d->TakeOutput()).ok()) std::abort();
      if (!d->Feed(l.TakeOutput()).ok()) std::abort();
    }
    if (!d->established() || !l.established()) std::abort();
    dialer.emplace(d->TakeSession());
    listener.emplace(l.TakeSession());
  }
};

void CheckBounded(const FrameReceiver& receiver) {
  if (receiver.buffered_bytes() > kLengthPrefixBytes + kMaxFrameCiphertextBytes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  if (size < 1) return 0;
  uint8_t mode = data[0] % 3;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  if (mode == 0) {
    FrameReceiver receiver(harness->listener->opener);
    size_t chunk = (data[0] >> 2) + 1;
    while (!input.empty()) {
      std::string_view piece = input.substr(0, chunk);
      input.remove_prefix(piece.size());
      if (!receiver.Feed(piece, [](std::string) {}).ok()) break;
      CheckBounded(receiver);
    }
    return 0;
  }

  if (mode == 1) {
    if (input.size() < 3) return 0;
    size_t position = static_cast<uint8_t>(input[0]) | (static_cast<uint8_t>(input[1]) << 8);
    uint8_t mask = static_cast<uint8_t>(input[2]);
    input.remove_prefix(3);
    std::vector<std::string> payloads;
    FrameSealer sealer = harness->dialer->sealer;
    std::string wire;
    size_t start = 0;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string_view::npos) end = input.size();
      payloads.emplace_back(input.substr(start, end - start));
      wire += sealer.Seal(payloads.back(), /*final=*/false);
      start = end + 1;
    }
    if (!wire.empty()) wire[position % wire.size()] ^= static_cast<char>(mask);
    FrameReceiver receiver(harness->listener->opener);
    std::vector<std::string> delivered;
    absl::Status status =
        receiver.Feed(wire, [&](std::string payload) { delivered.push_back(std::move(payload)); });
    CheckBounded(receiver);
    if (mask == 0 && (!status.ok() || delivered != payloads)) std::abort();
    // Whatever was delivered is a prefix of what was sent: nothing forged gets through.
    if (delivered.size() > payloads.size()) std::abort();
    for (size_t i = 0; i < delivered.size(); ++i) {
      if (delivered[i] != payloads[i]) std::abort();
    }
    return 0;
  }

  FrameDecoder decoder(kFrameOverheadBytes, 64 * 1024);
  while (!input.empty()) {
    auto frame = decoder.Next(&input);
    if (!frame.ok()) break;
    if (decoder.buffered_bytes() > kLengthPrefixBytes + 64 * 1024) std::abort();
    if (frame->has_value() && ((*frame)->size() < kFrameOverheadBytes ||
                               (*frame)->size() > 64 * 1024)) {
      std::abort();
    }
  }
  return 0;
}
