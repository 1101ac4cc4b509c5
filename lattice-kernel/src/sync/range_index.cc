#include "sync/range_index.h"

#include <algorithm>
#include <span>

#include "lattice/common/status.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {
namespace {

using trie::AddChild;
using trie::BucketItemRange;
using trie::BucketRecord;
using trie::ChildIndex;
using trie::ChildSet;
using trie::DecodeRecord;
using trie::DepthBits;
using trie::EncodeRecord;
using trie::ItemKey;
using trie::ItemOfKey;
using trie::Key;
using trie::KeyOfItem;
using trie::kLevels;
using trie::kMaxLeafScan;
using trie::MaskTo;
using trie::NodeKey;

// Writes the children of a bucket at `level` that is being split, from its sorted items,
// and returns which children exist.
ChildSet WriteChildren(KvWriter& batch, const std::string& prefix, int level,
                       std::span<const Item> items) {
  ChildSet created{};
  size_t begin = 0;
  while (begin < items.size()) {
    Key first = KeyOfItem(items[begin]);
    unsigned child = ChildIndex(first, level + 1);
    size_t end = begin + 1;
    while (end < items.size() && ChildIndex(KeyOfItem(items[end]), level + 1) == child) ++end;
    BucketRecord record;
    for (size_t i = begin; i < end; ++i) record.aggregate.Add(items[i]);
    record.split = record.aggregate.count > RangeIndex::kLeafCapacity && level + 2 < kLevels;
    if (record.split) {
      record.children = WriteChildren(batch, prefix, level + 1, items.subspan(begin, end - begin));
    }
    batch.Put(NodeKey(prefix, level + 1, MaskTo(first, DepthBits(level + 1))),
              EncodeRecord(record, level + 1));
    AddChild(&created, child);
    begin = end;
  }
  return created;
}

}  // namespace

absl::Status RangeIndex::Add(KvWriter& batch, uint64_t timestamp, const ItemId& id) const {
  return Insert(batch, timestamp, id, /*may_be_present=*/true);
}

absl::Status RangeIndex::AddNew(KvWriter& batch, uint64_t timestamp, const ItemId& id) const {
  return Insert(batch, timestamp, id, /*may_be_present=*/false);
}

absl::Status RangeIndex::Insert(KvWriter& batch, uint64_t timestamp, const ItemId& id,
                                bool may_be_present) const {
  const std::string& prefix = options_.prefix;
  Item item{std::min(timestamp, kMaxItemTimestamp), id};
  Key key = KeyOfItem(item);
  std::string item_key = ItemKey(prefix, key);
  if (may_be_present) {
    LATTICE_ASSIGN_OR_RETURN(auto existing, batch.Get(item_key));
    if (existing.has_value()) return absl::OkStatus();
  }
  batch.Put(item_key, "");

  for (int level = 0; level < kLevels; ++level) {
    Key path = MaskTo(key, DepthBits(level));
    std::string node_key = NodeKey(prefix, level, path);
    LATTICE_ASSIGN_OR_RETURN(auto raw, batch.Get(node_key));
    BucketRecord record;
    if (raw.has_value()) {
      LATTICE_ASSIGN_OR_RETURN(record, DecodeRecord(*raw, level));
    }
    record.aggregate.Add(item);
    if (record.split) {
      AddChild(&record.children, ChildIndex(key, level + 1));
      batch.Put(node_key, EncodeRecord(record, level));
      continue;
    }
    if (record.aggregate.count > kLeafCapacity && level + 1 < kLevels) {
      // The leaf overflows: write its children from its items (the new one included).
      std::vector<Item> items;
      auto [start, end] = BucketItemRange(prefix, level, path);
      LATTICE_RETURN_IF_ERROR(batch.Scan(start, end, [&](std::string_view k, std::string_view) {
        items.push_back(ItemOfKey(k.substr(prefix.size() + 1)));
        return items.size() <= kMaxLeafScan;
      }));
      if (items.size() != record.aggregate.count) {
        return absl::DataLossError(fmt::format(
            "range index bucket at level {} counts {} items but holds {}", level,
            record.aggregate.count, items.size()));
      }
      record.children = WriteChildren(batch, prefix, level, items);
      record.split = true;
    }
    batch.Put(node_key, EncodeRecord(record, level));
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel::sync
