#include "sync/trie_layout.h"

#include <cstring>

#include <fmt/format.h>

namespace lattice::kernel::sync::trie {
namespace {

constexpr uint8_t kRecordFormat = 0x10;
constexpr uint8_t kSplitFlag = 0x01;
constexpr uint8_t kLeafFormat = 0x20;

}  // namespace

Key KeyOfItem(const Item& item) {
  Key key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<uint8_t>(item.timestamp >> (56 - 8 * i));
  std::memcpy(key.data() + 8, item.id.data(), kIdBytes);
  return key;
}

Key KeyOfBound(const Bound& bound) { return KeyOfItem(Item{bound.timestamp, bound.prefix}); }

Item ItemOfKey(std::string_view bytes) {
  Item item;
  for (int i = 0; i < 8; ++i) {
    item.timestamp = (item.timestamp << 8) | static_cast<uint8_t>(bytes[i]);
  }
  std::memcpy(item.id.data(), bytes.data() + 8, kIdBytes);
  return item;
}

Key MaskTo(const Key& key, int bits) {
  Key out{};
  size_t whole = static_cast<size_t>(bits / 8);
  std::memcpy(out.data(), key.data(), whole);
  if (bits % 8) out[whole] = key[whole] & static_cast<uint8_t>(0xff << (8 - bits % 8));
  return out;
}

unsigned ChildIndex(const Key& key, int child_level) {
  int depth = DepthBits(child_level - 1);
  uint8_t byte = key[static_cast<size_t>(depth / 8)];
  if (child_level <= 4) return byte;
  return depth % 8 == 0 ? byte >> 4 : byte & 0x0f;
}

void SetChild(Key* path, int child_level, unsigned child) {
  int depth = DepthBits(child_level - 1);
  uint8_t& byte = (*path)[static_cast<size_t>(depth / 8)];
  if (child_level <= 4) {
    byte = static_cast<uint8_t>(child);
  } else if (depth % 8 == 0) {
    byte = static_cast<uint8_t>(child << 4);
  } else {
    byte = static_cast<uint8_t>(byte | child);
  }
}

std::string EncodeRecord(const BucketRecord& record, int level) {
  std::string out;
  out.push_back(static_cast<char>(kRecordFormat | (record.split ? kSplitFlag : 0)));
  AppendVarint(&out, record.aggregate.count);
  ItemId sum = record.aggregate.sum.Bytes();
  out.append(IdBytes(sum));
  if (record.split) {
    for (unsigned byte = 0; byte < Fanout(level + 1) / 8; ++byte) {
      out.push_back(static_cast<char>(record.children[byte / 8] >> (8 * (byte % 8))));
    }
  }
  return out;
}

absl::StatusOr<BucketRecord> DecodeRecord(std::string_view value, int level) {
  if (value.empty() || (static_cast<uint8_t>(value[0]) & 0xf0) != kRecordFormat) {
    return absl::DataLossError("range index bucket record has an unknown format");
  }
  BucketRecord record;
  record.split = (static_cast<uint8_t>(value[0]) & kSplitFlag) != 0;
  value.remove_prefix(1);
  auto count = ReadVarint(&value);
  size_t bitmap_bytes = record.split ? Fanout(level + 1) / 8 : 0;
  if (!count.ok() || value.size() != kIdBytes + bitmap_bytes) {
    return absl::DataLossError("range index bucket record is truncated");
  }
  record.aggregate.count = *count;
  record.aggregate.sum = IdSum::FromBytes(IdFromBytes(value.substr(0, kIdBytes)));
  for (size_t byte = 0; byte < bitmap_bytes; ++byte) {
    record.children[byte / 8] |= uint64_t{static_cast<uint8_t>(value[kIdBytes + byte])}
                                 << (8 * (byte % 8));
  }
  return record;
}

std::string EncodeLeaf(std::span<const Item> items) {
  std::string out;
  out.reserve(1 + items.size() * kKeyBytes);
  out.push_back(static_cast<char>(kLeafFormat));
  for (const Item& item : items) {
    Key key = KeyOfItem(item);
    out.append(reinterpret_cast<const char*>(key.data()), key.size());
  }
  return out;
}

absl::Status DecodeLeaf(std::string_view value, std::vector<Item>* out) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kLeafFormat) {
    return absl::DataLossError("range index leaf record has an unknown format");
  }
  value.remove_prefix(1);
  if (value.size() % kKeyBytes != 0) {
    return absl::DataLossError(
        fmt::format("range index leaf record holds a partial item ({} bytes)", value.size()));
  }
  for (size_t at = 0; at < value.size(); at += kKeyBytes) {
    out->push_back(ItemOfKey(value.substr(at, kKeyBytes)));
  }
  return absl::OkStatus();
}

absl::Status DecodeLeaf(std::string_view value, int level, uint64_t count,
                        std::vector<Item>* out) {
  size_t before = out->size();
  if (absl::Status decoded = DecodeLeaf(value, out); !decoded.ok()) return decoded;
  if (out->size() - before != count) {
    return absl::DataLossError(
        fmt::format("range index leaf at level {} counts {} items but holds {}", level, count,
                    out->size() - before));
  }
  return absl::OkStatus();
}

std::string NodeKey(const std::string& prefix, int level, const Key& path) {
  std::string key = prefix;
  key.push_back('a');
  key.push_back(static_cast<char>(level));
  key.append(reinterpret_cast<const char*>(path.data()), PathBytes(level));
  return key;
}

std::string LeafKey(const std::string& prefix, const Key& path) {
  std::string out = prefix;
  out.push_back('l');
  out.append(reinterpret_cast<const char*>(path.data()), path.size());
  return out;
}

std::string LeafTableEnd(const std::string& prefix) { return prefix + "m"; }

std::string LegacyItemTable(const std::string& prefix) { return prefix + "i"; }

std::string BucketTable(const std::string& prefix) { return prefix + "a"; }

bool ParseNodeKey(const std::string& prefix, std::string_view key, int* level, Key* path) {
  if (key.size() < prefix.size() + 2 || key.substr(0, prefix.size()) != prefix ||
      key[prefix.size()] != 'a') {
    return false;
  }
  int at = static_cast<uint8_t>(key[prefix.size() + 1]);
  std::string_view bytes = key.substr(prefix.size() + 2);
  if (at >= kLevels || bytes.size() != PathBytes(at)) return false;
  *level = at;
  *path = Key{};
  std::memcpy(path->data(), bytes.data(), bytes.size());
  return true;
}

std::pair<std::string, std::string> BucketLeafRange(const std::string& prefix, int level,
                                                    const Key& path) {
  std::string start = LeafKey(prefix, path);
  int depth = DepthBits(level);
  if (depth == 0) return {start, LeafTableEnd(prefix)};
  Key end = path;
  size_t byte = static_cast<size_t>((depth - 1) / 8);
  unsigned carry = 1u << (7 - (depth - 1) % 8);
  while (true) {
    unsigned sum = end[byte] + carry;
    end[byte] = static_cast<uint8_t>(sum);
    if (sum <= 0xff) break;
    if (byte == 0) return {start, LeafTableEnd(prefix)};
    carry = 1;
    --byte;
  }
  return {start, LeafKey(prefix, end)};
}

}  // namespace lattice::kernel::sync::trie
