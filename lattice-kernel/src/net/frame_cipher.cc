#include "net/frame_cipher.h"

#include "lattice/common/crypto.h"
#include "lattice/common/status.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {
namespace {
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
}  // namespace

static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == kFrameOverheadBytes);

void AppendLengthPrefix(uint32_t n, std::string* out) {
  out->push_back(static_cast<char>((n >> 24) & 0xff));
  out->push_back(static_cast<char>((n >> 16) & 0xff));
  out->push_back(static_cast<char>((n >> 8) & 0xff));
  out->push_back(static_cast<char>(n & 0xff));
}

absl::StatusOr<FrameSealer> FrameSealer::Start(std::string_view key, std::string* header) {
  InitCrypto();
  if (key.size() != kStreamKeyBytes) {
    return absl::InvalidArgumentError(
        fmt::format("stream key of {} bytes, expected {}", key.size(), kStreamKeyBytes));
  }
  FrameSealer sealer;
  header->assign(kStreamHeaderBytes, '\0');
  crypto_secretstream_xchacha20poly1305_init_push(&sealer.state_, MutableBytes(*header),
                                                  Bytes(key));
  return sealer;
}

FrameSealer::~FrameSealer() { sodium_memzero(&state_, sizeof(state_)); }

std::string FrameSealer::Seal(std::string_view payload, bool final) {
  size_t ciphertext_bytes = payload.size() + kFrameOverheadBytes;
  std::string out;
  out.reserve(kLengthPrefixBytes + ciphertext_bytes);
  AppendLengthPrefix(static_cast<uint32_t>(ciphertext_bytes), &out);
  out.resize(kLengthPrefixBytes + ciphertext_bytes);
  crypto_secretstream_xchacha20poly1305_push(
      &state_, MutableBytes(out) + kLengthPrefixBytes, nullptr, Bytes(payload), payload.size(),
      nullptr, 0,
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  return out;
}

absl::StatusOr<FrameOpener> FrameOpener::Start(std::string_view key, std::string_view header) {
  InitCrypto();
  if (key.size() != kStreamKeyBytes || header.size() != kStreamHeaderBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "stream key of {} bytes and header of {} bytes, expected {} and {}", key.size(),
        header.size(), kStreamKeyBytes, kStreamHeaderBytes));
  }
  FrameOpener opener;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&opener.state_, Bytes(header),
                                                      Bytes(key)) != 0) {
    return absl::InvalidArgumentError("invalid stream header");
  }
  return opener;
}

FrameOpener::~FrameOpener() { sodium_memzero(&state_, sizeof(state_)); }

absl::Status FrameOpener::Open(std::string_view ciphertext, std::string* payload, bool* final) {
  if (ciphertext.size() < kFrameOverheadBytes) {
    return absl::DataLossError(fmt::format(
        "frame {} of {} bytes is shorter than its {} byte authenticator", frames_opened_ + 1,
        ciphertext.size(), kFrameOverheadBytes));
  }
  payload->resize(ciphertext.size() - kFrameOverheadBytes);
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_, MutableBytes(*payload), nullptr, &tag,
                                                 Bytes(ciphertext), ciphertext.size(), nullptr,
                                                 0) != 0) {
    payload->clear();
    return absl::DataLossError(fmt::format(
        "frame {} failed authentication (altered, reordered or not from this session)",
        frames_opened_ + 1));
  }
  if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
      tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
    payload->clear();
    return absl::DataLossError(
        fmt::format("frame {} carries an unexpected stream tag {}", frames_opened_ + 1, tag));
  }
  ++frames_opened_;
  *final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return absl::OkStatus();
}

}  // namespace lattice::kernel::net
