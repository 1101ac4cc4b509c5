#include "sync/negentropy_codec.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "lattice/common/status.h"

namespace lattice::kernel::sync {
ItemId IdFromBytes(std::string_view bytes) {
  ItemId id{};
  std::memcpy(id.data(), bytes.data(), std::min(bytes.size(), id.size()));
  return id;
}

std::string_view IdBytes(const ItemId& id) {
  return std::string_view(reinterpret_cast<const char*>(id.data()), id.size());
}

Bound Bound::Between(const Item& prev, const Item& next) {
  if (prev.timestamp != next.timestamp) return Bound{next.timestamp, 0, {}};
  Bound bound{next.timestamp, 0, {}};
  size_t shared = 0;
  while (shared < kIdBytes && prev.id[shared] == next.id[shared]) ++shared;
  size_t len = std::min(shared + 1, kIdBytes);
  bound.prefix_len = static_cast<uint8_t>(len);
  std::copy_n(next.id.begin(), len, bound.prefix.begin());
  return bound;
}

std::strong_ordering Bound::operator<=>(const Bound& other) const {
  if (auto c = timestamp <=> other.timestamp; c != 0) return c;
  if (is_infinity()) return std::strong_ordering::equal;  // the id of infinity is irrelevant
  return prefix <=> other.prefix;
}

Aggregate Aggregate::Difference(const Aggregate& upper, const Aggregate& lower) {
  Aggregate out = upper;
  out.count -= lower.count;
  out.sum.Subtract(lower.sum);
  return out;
}

Fingerprint FingerprintOf(const Aggregate& aggregate) {
  uint8_t input[kIdBytes + kMaxVarintBytes];
  ItemId sum = aggregate.sum.Bytes();
  std::memcpy(input, sum.data(), kIdBytes);
  const size_t count_bytes = WriteVarint(aggregate.count, input + kIdBytes);
  uint8_t hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, input, kIdBytes + count_bytes);
  Fingerprint out;
  std::memcpy(out.data(), hash, out.size());
  return out;
}

size_t VarintLength(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

size_t WriteVarint(uint64_t value, uint8_t* out) {
  const size_t length = VarintLength(value);
  for (size_t i = length; i-- > 0; value >>= 7) {
    out[i] = static_cast<uint8_t>((value & 0x7f) | (i + 1 < length ? 0x80 : 0));
  }
  return length;
}

void AppendVarint(std::string* out, uint64_t value) {
  uint8_t digits[kMaxVarintBytes];
  out->append(reinterpret_cast<const char*>(digits), WriteVarint(value, digits));
}

absl::StatusOr<uint64_t> ReadVarint(std::string_view* in) {
  uint64_t value = 0;
  for (size_t i = 0; i < in->size(); ++i) {
    uint8_t byte = static_cast<uint8_t>((*in)[i]);
    if (value >> 57) return absl::InvalidArgumentError("negentropy varint exceeds 64 bits");
    value = (value << 7) | (byte & 0x7f);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      return value;
    }
  }
  return absl::InvalidArgumentError("negentropy message ends inside a varint");
}

MessageWriter::MessageWriter() { out_.push_back(static_cast<char>(kProtocolVersion)); }

size_t EncodedBoundLength(const Bound& bound, uint64_t* last_timestamp) {
  size_t ts = 1;
  if (bound.is_infinity()) {
    *last_timestamp = kInfinityTimestamp;
  } else {
    ts = VarintLength(bound.timestamp - *last_timestamp + 1);
    *last_timestamp = bound.timestamp;
  }
  return ts + VarintLength(bound.prefix_len) + bound.prefix_len;
}

void MessageWriter::AppendBound(const Bound& bound) {
  if (bound.is_infinity()) {
    AppendVarint(&out_, 0);
    last_timestamp_ = kInfinityTimestamp;
  } else {
    AppendVarint(&out_, bound.timestamp - last_timestamp_ + 1);
    last_timestamp_ = bound.timestamp;
  }
  AppendVarint(&out_, bound.prefix_len);
  out_.append(reinterpret_cast<const char*>(bound.prefix.data()), bound.prefix_len);
}

void MessageWriter::AppendMode(Mode mode) { AppendVarint(&out_, static_cast<uint64_t>(mode)); }

void MessageWriter::AppendFingerprint(const Fingerprint& fingerprint) {
  out_.append(reinterpret_cast<const char*>(fingerprint.data()), fingerprint.size());
}

void MessageWriter::AppendIdCount(uint64_t count) { AppendVarint(&out_, count); }

void MessageWriter::AppendId(const ItemId& id) { out_.append(IdBytes(id)); }

absl::StatusOr<std::vector<ReceivedRange>> ParseRanges(std::string_view body,
                                                       size_t max_ranges) {
  std::vector<ReceivedRange> ranges;
  uint64_t last_timestamp = 0;
  Bound previous;  // the lower bound of the first range: timestamp 0, empty prefix
  std::unordered_set<ItemId, ItemIdHash> seen;
  while (!body.empty()) {
    if (ranges.size() >= max_ranges) {
      return LimitExceeded("negentropy message", ranges.size() + 1, max_ranges, "ranges");
    }
    if (previous.is_infinity()) {
      return absl::InvalidArgumentError("negentropy message has a range after infinity");
    }
    ReceivedRange range;
    LATTICE_ASSIGN_OR_RETURN(uint64_t encoded, ReadVarint(&body));
    uint64_t timestamp = kInfinityTimestamp;
    if (encoded != 0) {
      timestamp = last_timestamp + (encoded - 1);
      if (timestamp < last_timestamp) timestamp = kInfinityTimestamp;  // saturates, as V1 does
    }
    last_timestamp = timestamp;
    LATTICE_ASSIGN_OR_RETURN(uint64_t prefix_len, ReadVarint(&body));
    if (prefix_len > kIdBytes) {
      return absl::InvalidArgumentError(
          fmt::format("negentropy bound has an id prefix of {} bytes (at most 32)", prefix_len));
    }
    if (body.size() < prefix_len) {
      return absl::InvalidArgumentError("negentropy message ends inside a bound");
    }
    range.upper.timestamp = timestamp;
    range.upper.prefix_len = static_cast<uint8_t>(prefix_len);
    std::memcpy(range.upper.prefix.data(), body.data(), prefix_len);
    body.remove_prefix(prefix_len);
    if (range.upper < previous) {
      return absl::InvalidArgumentError("negentropy message has bounds out of order");
    }
    LATTICE_ASSIGN_OR_RETURN(uint64_t mode, ReadVarint(&body));
    switch (mode) {
      case static_cast<uint64_t>(Mode::kSkip):
        range.mode = Mode::kSkip;
        break;
      case static_cast<uint64_t>(Mode::kFingerprint):
        range.mode = Mode::kFingerprint;
        if (body.size() < kFingerprintBytes) {
          return absl::InvalidArgumentError("negentropy message ends inside a fingerprint");
        }
        std::memcpy(range.fingerprint.data(), body.data(), kFingerprintBytes);
        body.remove_prefix(kFingerprintBytes);
        break;
      case static_cast<uint64_t>(Mode::kIdList): {
        range.mode = Mode::kIdList;
        LATTICE_ASSIGN_OR_RETURN(uint64_t count, ReadVarint(&body));
        if (count > body.size() / kIdBytes) {
          return absl::InvalidArgumentError(fmt::format(
              "negentropy id list claims {} ids but only {} bytes follow", count, body.size()));
        }
        range.ids.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
          ItemId id = IdFromBytes(body.substr(0, kIdBytes));
          body.remove_prefix(kIdBytes);
          if (!seen.insert(id).second) {
            return absl::InvalidArgumentError("negentropy message lists the same id twice");
          }
          range.ids.push_back(id);
        }
        break;
      }
      default:
        return absl::InvalidArgumentError(
            fmt::format("negentropy range has unknown mode {}", mode));
    }
    previous = range.upper;
    ranges.push_back(std::move(range));
  }
  return ranges;
}

}  // namespace lattice::kernel::sync
