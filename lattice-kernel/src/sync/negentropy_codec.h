// The wire vocabulary of Negentropy protocol V1 as its authors publish it: items, bounds,
// varints, the 256-bit id sum and its fingerprint, and a writer and a reader of messages.
// The engine (negentropy.h) decides what to say; this file only says it byte for byte.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::kernel::sync {

inline constexpr uint8_t kProtocolVersion = 0x61;  // V1
inline constexpr size_t kIdBytes = 32;
inline constexpr size_t kFingerprintBytes = 16;
// The timestamp reserved for "infinity", the end of the universe of items.
inline constexpr uint64_t kInfinityTimestamp = UINT64_MAX;
// Items never carry kInfinityTimestamp: larger stamps are stored as this one.
inline constexpr uint64_t kMaxItemTimestamp = UINT64_MAX - 1;

using ItemId = std::array<uint8_t, kIdBytes>;
using Fingerprint = std::array<uint8_t, kFingerprintBytes>;

ItemId IdFromBytes(std::string_view bytes);  // REQUIRES: bytes.size() == kIdBytes
std::string_view IdBytes(const ItemId& id);

// For hash containers of ids: ids are hashes already, so their first bytes will do.
struct ItemIdHash {
  size_t operator()(const ItemId& id) const {
    uint64_t v;
    std::memcpy(&v, id.data(), sizeof(v));
    return static_cast<size_t>(v);
  }
};

// One element of a reconciled set, ordered by timestamp, then id bytes.
struct Item {
  uint64_t timestamp = 0;
  ItemId id{};

  auto operator<=>(const Item&) const = default;
  bool operator==(const Item&) const = default;
};

// A position in the item order: an item sorts before the bound when (timestamp, id) is less
// than (timestamp, prefix padded with zero bytes). Only `prefix_len` bytes go on the wire.
struct Bound {
  uint64_t timestamp = 0;
  uint8_t prefix_len = 0;
  ItemId prefix{};  // bytes past prefix_len are zero

  static Bound Infinity() { return Bound{kInfinityTimestamp, 0, {}}; }
  // The bound just at `item`: it and everything after lie at or above it.
  static Bound AtItem(const Item& item) { return Bound{item.timestamp, kIdBytes, item.id}; }
  // The shortest bound above `prev` and at or below `next` (REQUIRES prev < next).
  static Bound Between(const Item& prev, const Item& next);

  bool is_infinity() const { return timestamp == kInfinityTimestamp; }
  // Bounds compare by position; the prefix length does not matter beyond its zero padding.
  std::strong_ordering operator<=>(const Bound& other) const;
  bool operator==(const Bound& other) const { return (*this <=> other) == 0; }
};

inline bool ItemBelow(const Item& item, const Bound& bound) {
  if (item.timestamp != bound.timestamp) return item.timestamp < bound.timestamp;
  return item.id < bound.prefix;
}

// The sum of ids as 256-bit little-endian integers, modulo 2^256.
// Inline, with the carries kept in a 128-bit sum: a reconciliation adds up the items of
// every leaf it reads and subtracts aggregates at every bound, and a call and a
// byte-by-byte carry per limb cost more than the additions.
class IdSum {
 public:
  void Add(const ItemId& id) { Add(FromBytes(id)); }
  void Subtract(const ItemId& id) { Subtract(FromBytes(id)); }
  void Add(const IdSum& other) {
    Wide carry = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      carry += static_cast<Wide>(limbs_[i]) + other.limbs_[i];
      limbs_[i] = static_cast<uint64_t>(carry);
      carry >>= 64;
    }
  }
  void Subtract(const IdSum& other) {
    uint64_t borrow = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      Wide difference = static_cast<Wide>(limbs_[i]) - other.limbs_[i] - borrow;
      limbs_[i] = static_cast<uint64_t>(difference);
      borrow = static_cast<uint64_t>(difference >> 64) & 1;  // the high half wrapped
    }
  }
  // Little-endian bytes, as hashed into the fingerprint: the limbs as they lie in memory.
  static_assert(std::endian::native == std::endian::little, "limbs are the bytes in place");
  ItemId Bytes() const {
    ItemId out;
    std::memcpy(out.data(), limbs_.data(), sizeof(limbs_));
    return out;
  }
  static IdSum FromBytes(const ItemId& bytes) {
    IdSum sum;
    std::memcpy(sum.limbs_.data(), bytes.data(), sizeof(sum.limbs_));
    return sum;
  }
  bool operator==(const IdSum&) const = default;

 private:
  __extension__ using Wide = unsigned __int128;
  std::array<uint64_t, 4> limbs_{};  // least significant first
};

// Count and id sum of a set of items: what a fingerprint summarises.
struct Aggregate {
  uint64_t count = 0;
  IdSum sum;

  void Add(const Item& item) { ++count; sum.Add(item.id); }
  void Add(const Aggregate& other) { count += other.count; sum.Add(other.sum); }
  // The aggregate of `upper` without `lower` (REQUIRES lower's items ⊆ upper's).
  static Aggregate Difference(const Aggregate& upper, const Aggregate& lower);
  bool operator==(const Aggregate&) const = default;
};

// First 16 bytes of SHA-256(sum (32 bytes LE) || varint(count)).
Fingerprint FingerprintOf(const Aggregate& aggregate);

enum class Mode : uint64_t { kSkip = 0, kFingerprint = 1, kIdList = 2 };

// Varints: base-128 digits, most significant first, high bit set on all but the last.
inline constexpr size_t kMaxVarintBytes = 10;  // 2^64 - 1 in base 128
void AppendVarint(std::string* out, uint64_t value);
size_t VarintLength(uint64_t value);
// Writes `value`'s VarintLength(value) bytes at `out` (room for kMaxVarintBytes).
size_t WriteVarint(uint64_t value, uint8_t* out);
// Consumes one varint from `in`; INVALID_ARGUMENT when truncated or above 2^64 - 1.
absl::StatusOr<uint64_t> ReadVarint(std::string_view* in);

// Bytes `bound` takes on the wire after a bound of timestamp `*last_timestamp`, which it
// then advances as the writer would.
size_t EncodedBoundLength(const Bound& bound, uint64_t* last_timestamp);

// Builds one message: the version byte, then ranges by ascending upper bound. Timestamps
// are delta-encoded from the previous bound of the same message.
class MessageWriter {
 public:
  MessageWriter();
  void AppendBound(const Bound& bound);  // REQUIRES: not below the previous bound
  void AppendMode(Mode mode);
  void AppendFingerprint(const Fingerprint& fingerprint);
  void AppendIdCount(uint64_t count);
  void AppendId(const ItemId& id);
  size_t size() const { return out_.size(); }
  uint64_t last_timestamp() const { return last_timestamp_; }
  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  uint64_t last_timestamp_ = 0;
};

// One range of a received message, validated.
struct ReceivedRange {
  Bound upper;
  Mode mode = Mode::kSkip;
  Fingerprint fingerprint{};  // kFingerprint
  std::vector<ItemId> ids;    // kIdList, in the order received
};

// Parses a whole message after its version byte; INVALID_ARGUMENT (or RESOURCE_EXHAUSTED
// for the range limit) with a message naming what is wrong: truncation, a prefix longer
// than 32 bytes, bounds out of order, ranges after infinity, an unknown mode, an id list
// longer than the rest of the message, a repeated id.
absl::StatusOr<std::vector<ReceivedRange>> ParseRanges(std::string_view body, size_t max_ranges);

}  // namespace lattice::kernel::sync
