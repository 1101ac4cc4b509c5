#include "sync/range_index.h"

#include <algorithm>
#include <span>
#include <vector>

#include "lattice/common/status.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {
namespace {

using trie::AddChild;
using trie::BucketRecord;
using trie::ChildIndex;
using trie::ChildSet;
using trie::DecodeLeaf;
using trie::DecodeRecord;
using trie::DepthBits;
using trie::EncodeLeaf;
using trie::EncodeRecord;
using trie::Key;
using trie::KeyOfItem;
using trie::kLevels;
using trie::LeafKey;
using trie::MaskTo;
using trie::NodeKey;

// Writes the children of a bucket at `level` that is being split, from its sorted items:
// each child's bucket record and, for a child that is a leaf, its leaf record. Returns
// which children exist.
ChildSet WriteChildren(KvWriter& batch, const std::string& prefix, int level,
                       std::span<const Item> items) {
  ChildSet created{};
  size_t begin = 0;
  while (begin < items.size()) {
    Key first = KeyOfItem(items[begin]);
    unsigned child = ChildIndex(first, level + 1);
    size_t end = begin + 1;
    while (end < items.size() && ChildIndex(KeyOfItem(items[end]), level + 1) == child) ++end;
    std::span<const Item> child_items = items.subspan(begin, end - begin);
    Key child_path = MaskTo(first, DepthBits(level + 1));
    BucketRecord record;
    for (const Item& item : child_items) record.aggregate.Add(item);
    record.split = record.aggregate.count > RangeIndex::kLeafCapacity && level + 2 < kLevels;
    if (record.split) {
      record.children = WriteChildren(batch, prefix, level + 1, child_items);
    } else {
      batch.Put(LeafKey(prefix, child_path), EncodeLeaf(child_items));
    }
    batch.Put(NodeKey(prefix, level + 1, child_path), EncodeRecord(record, level + 1));
    AddChild(&created, child);
    begin = end;
  }
  return created;
}

// A split bucket on an item's path, read on the way down and rewritten once the item is
// known to be new.
struct SplitStep {
  int level;
  std::string key;
  BucketRecord record;
};

}  // namespace

absl::StatusOr<bool> RangeIndex::Add(KvWriter& batch, uint64_t timestamp,
                                     const ItemId& id) const {
  const std::string& prefix = options_.prefix;
  Item item{std::min(timestamp, kMaxItemTimestamp), id};
  Key key = KeyOfItem(item);

  // Down to the leaf that holds the item or would.
  std::vector<SplitStep> above;
  int level = 0;
  std::string node_key;
  BucketRecord leaf;
  while (true) {
    node_key = NodeKey(prefix, level, MaskTo(key, DepthBits(level)));
    LATTICE_ASSIGN_OR_RETURN(auto raw, batch.Get(node_key));
    BucketRecord record;
    if (raw.has_value()) {
      LATTICE_ASSIGN_OR_RETURN(record, DecodeRecord(*raw, level));
    }
    if (!record.split) {
      leaf = std::move(record);
      break;
    }
    if (level + 1 >= kLevels) {
      return absl::DataLossError("range index bucket at the deepest level is split");
    }
    above.push_back(SplitStep{level, std::move(node_key), std::move(record)});
    ++level;
  }
  std::string leaf_key = LeafKey(prefix, MaskTo(key, DepthBits(level)));
  std::vector<Item> items;
  if (leaf.aggregate.count > 0) {
    LATTICE_ASSIGN_OR_RETURN(auto raw, batch.Get(leaf_key));
    if (!raw.has_value()) {
      return absl::DataLossError(fmt::format(
          "range index leaf at level {} counts {} items but has no record", level,
          leaf.aggregate.count));
    }
    items.reserve(leaf.aggregate.count + 1);
    LATTICE_RETURN_IF_ERROR(DecodeLeaf(*raw, level, leaf.aggregate.count, &items));
  }
  auto at = std::lower_bound(items.begin(), items.end(), item);
  if (at != items.end() && *at == item) return false;
  items.insert(at, item);

  for (SplitStep& step : above) {
    step.record.aggregate.Add(item);
    AddChild(&step.record.children, ChildIndex(key, step.level + 1));
    batch.Put(step.key, EncodeRecord(step.record, step.level));
  }
  leaf.aggregate.Add(item);
  if (leaf.aggregate.count > kLeafCapacity && level + 1 < kLevels) {
    // The leaf overflows: its items go to its children, one of which may take its key.
    batch.Delete(leaf_key);
    leaf.children = WriteChildren(batch, prefix, level, items);
    leaf.split = true;
  } else {
    batch.Put(leaf_key, EncodeLeaf(items));
  }
  batch.Put(node_key, EncodeRecord(leaf, level));
  return true;
}

}  // namespace lattice::kernel::sync
