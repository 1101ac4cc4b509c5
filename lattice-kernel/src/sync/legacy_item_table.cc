#include "sync/legacy_item_table.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "lattice/common/status.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {
namespace {

using trie::Key;

std::string_view BytesOf(const Key& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

struct LeafBucket {
  int level = 0;
  Key path{};
  uint64_t count = 0;
};

// Every leaf that holds items, in the order of their items.
absl::StatusOr<std::vector<LeafBucket>> ReadLeafBuckets(const KvReader& committed,
                                                        const std::string& prefix) {
  std::vector<LeafBucket> leaves;
  std::string table = trie::BucketTable(prefix);
  absl::Status bad;
  LATTICE_RETURN_IF_ERROR(committed.Scan(
      table, prefix + "b", [&](std::string_view key, std::string_view value) {
        LeafBucket leaf;
        if (!trie::ParseNodeKey(prefix, key, &leaf.level, &leaf.path)) {
          bad = absl::DataLossError("range index bucket table holds a key that is no bucket");
          return false;
        }
        auto record = trie::DecodeRecord(value, leaf.level);
        if (!record.ok()) {
          bad = record.status();
          return false;
        }
        leaf.count = record->aggregate.count;
        if (!record->split && leaf.count > 0) leaves.push_back(leaf);
        return true;
      }));
  LATTICE_RETURN_IF_ERROR(bad);
  std::sort(leaves.begin(), leaves.end(),
            [](const LeafBucket& a, const LeafBucket& b) { return a.path < b.path; });
  return leaves;
}

}  // namespace

absl::StatusOr<uint64_t> MoveItemsIntoLeaves(const KvReader& committed,
                                             const CommitBatch& commit,
                                             const RangeIndexOptions& options) {
  const std::string& prefix = options.prefix;
  const std::string table = trie::LegacyItemTable(prefix);
  const std::string table_end = prefix + static_cast<char>(table.back() + 1);
  const size_t skip = table.size();
  std::vector<LeafBucket> leaves;
  bool leaves_read = false;
  std::string cursor = table;
  uint64_t moved = 0;
  while (true) {
    std::vector<Key> keys;
    LATTICE_RETURN_IF_ERROR(
        committed.Scan(cursor, table_end, [&](std::string_view k, std::string_view) {
          if (k.size() != skip + trie::kKeyBytes) return true;  // not an item: left alone
          Key key;
          std::copy(k.begin() + static_cast<ptrdiff_t>(skip), k.end(), key.begin());
          keys.push_back(key);
          return keys.size() < kItemsPerBatch;
        }));
    if (keys.empty()) return moved;
    if (!leaves_read) {
      LATTICE_ASSIGN_OR_RETURN(leaves, ReadLeafBuckets(committed, prefix));
      leaves_read = true;
    }
    leveldb::WriteBatch batch;
    size_t begin = 0;
    while (begin < keys.size()) {
      // The leaf whose path is the greatest at or below the item's key holds it, if any does.
      auto after =
          std::upper_bound(leaves.begin(), leaves.end(), keys[begin],
                           [](const Key& key, const LeafBucket& leaf) { return key < leaf.path; });
      if (after == leaves.begin() ||
          trie::MaskTo(keys[begin], trie::DepthBits((after - 1)->level)) != (after - 1)->path) {
        return absl::DataLossError("range index item lies in no leaf of its trie");
      }
      const LeafBucket& leaf = *(after - 1);
      size_t end = begin;
      const int depth = trie::DepthBits(leaf.level);
      while (end < keys.size() && trie::MaskTo(keys[end], depth) == leaf.path) ++end;
      if (end == keys.size() && keys.size() == kItemsPerBatch && begin > 0) break;  // next batch
      if (end - begin != leaf.count) {
        return absl::DataLossError(fmt::format(
            "range index leaf at level {} counts {} items but holds {}", leaf.level, leaf.count,
            end - begin));
      }
      std::vector<Item> items;
      items.reserve(end - begin);
      for (size_t i = begin; i < end; ++i) {
        items.push_back(trie::ItemOfKey(BytesOf(keys[i])));
        batch.Delete(table + std::string(BytesOf(keys[i])));
      }
      batch.Put(trie::LeafKey(prefix, leaf.path), trie::EncodeLeaf(items));
      moved += end - begin;
      begin = end;
    }
    LATTICE_RETURN_IF_ERROR(commit(&batch));
    // On from the first item not moved: a leaf the batch ended in the middle of.
    if (begin < keys.size()) {
      cursor = table + std::string(BytesOf(keys[begin]));
    } else {
      cursor = table + std::string(BytesOf(keys.back())) + '\0';  // just past the last moved
    }
  }
}

}  // namespace lattice::kernel::sync
