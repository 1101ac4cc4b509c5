#include "sync/resident_trie.h"

#include <fmt/format.h>

#include <map>
#include <utility>
#include <vector>

#include "lattice/common/status.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {
namespace {

using trie::BucketRecord;
using trie::Key;

struct LoadedBucket {
  Key path;
  BucketRecord record;
  std::shared_ptr<const ResidentChildren> children;
};

absl::Status Disagree(int level, std::string_view what) {
  return absl::DataLossError(
      fmt::format("range index buckets of level {} disagree with {}", level, what));
}

// Reads the bucket table level by level (its keys sort by level first) until the buckets
// read would pass `max_buckets`; the level that would pass it is left out whole.
absl::StatusOr<std::vector<std::vector<LoadedBucket>>> ReadBuckets(const KvReader& kv,
                                                                   const std::string& prefix,
                                                                   size_t max_buckets,
                                                                   bool* complete) {
  std::vector<std::vector<LoadedBucket>> levels;
  std::vector<LoadedBucket> level_read;
  size_t held = 0;
  absl::Status bad;
  *complete = true;
  std::string table = trie::BucketTable(prefix);
  std::string table_end = prefix + static_cast<char>('a' + 1);
  LATTICE_RETURN_IF_ERROR(kv.Scan(table, table_end, [&](std::string_view k, std::string_view v) {
    int level = 0;
    Key path{};
    if (!trie::ParseNodeKey(prefix, k, &level, &path)) {
      bad = absl::DataLossError("range index holds a malformed bucket key");
      return false;
    }
    int reading = static_cast<int>(levels.size());
    if (level != reading) {
      if (level != reading + 1 || level_read.empty()) {
        bad = Disagree(level, "the levels above: a level between them is empty");
        return false;
      }
      held += level_read.size();
      levels.push_back(std::move(level_read));
      level_read.clear();
    }
    if (held + level_read.size() + 1 > max_buckets) {
      *complete = false;
      level_read.clear();
      return false;
    }
    auto record = trie::DecodeRecord(v, level);
    if (!record.ok()) {
      bad = record.status();
      return false;
    }
    level_read.push_back(LoadedBucket{path, *std::move(record), nullptr});
    return true;
  }));
  LATTICE_RETURN_IF_ERROR(bad);
  if (!level_read.empty()) levels.push_back(std::move(level_read));
  return levels;
}

// Gives each split bucket of `parents` (level `level`, sorted by path) its children among
// `children` (level + 1, sorted by path, so each parent's are consecutive), checking that
// they are exactly those its record lists and add up to it.
absl::Status Attach(int level, std::vector<LoadedBucket>& parents,
                    const std::vector<LoadedBucket>& children) {
  size_t next = 0;
  for (LoadedBucket& parent : parents) {
    if (!parent.record.split) continue;
    auto group = std::make_shared<ResidentChildren>();
    trie::ChildSet found{};
    Aggregate total;
    while (next < children.size() &&
           trie::MaskTo(children[next].path, trie::DepthBits(level)) == parent.path) {
      const LoadedBucket& child = children[next++];
      unsigned index = trie::ChildIndex(child.path, level + 1);
      trie::AddChild(&found, index);
      total.Add(child.record.aggregate);
      group->push_back(ResidentBucket{child.record.aggregate, child.children,
                                      static_cast<uint8_t>(index), child.record.split});
    }
    if (found != parent.record.children || !(total == parent.record.aggregate)) {
      return Disagree(level + 1, "their parents' records");
    }
    parent.children = std::move(group);
  }
  if (next != children.size()) return Disagree(level + 1, "their parents: some have none");
  return absl::OkStatus();
}

// Builds the levels bottom-up from what ReadBuckets read.
absl::StatusOr<std::shared_ptr<ResidentLevels>> BuildLevels(
    std::vector<std::vector<LoadedBucket>> levels, bool complete) {
  auto out = std::make_shared<ResidentLevels>();
  out->level_buckets.assign(trie::kLevels, 0);
  if (levels.empty()) {
    out->depth = complete ? trie::kLevels - 1 : 0;
    return out;
  }
  if (levels[0].size() != 1 || levels[0][0].path != Key{}) {
    return Disagree(0, "the single root an index has");
  }
  if (complete) {
    for (const LoadedBucket& bucket : levels.back()) {
      if (bucket.record.split) {
        return Disagree(static_cast<int>(levels.size()), "the split buckets above: none");
      }
    }
  }
  for (size_t level = levels.size() - 1; level > 0; --level) {
    LATTICE_RETURN_IF_ERROR(Attach(static_cast<int>(level - 1), levels[level - 1], levels[level]));
  }
  for (size_t level = 0; level < levels.size(); ++level) {
    out->level_buckets[level] = levels[level].size();
    out->buckets += levels[level].size();
  }
  // Complete: every level is held, and the next Publish may add deeper ones.
  out->depth = complete ? trie::kLevels - 1 : static_cast<int>(levels.size()) - 1;
  const LoadedBucket& root = levels[0][0];
  out->root = ResidentBucket{root.record.aggregate, root.children, 0, root.record.split};
  return out;
}

// The buckets a batch wrote, decoded, in (level, path) order: a bucket's written children
// are consecutive.
using WrittenBuckets = std::map<std::pair<int, Key>, BucketRecord>;

// Builds the next levels from the current ones and a batch's bucket records, copying only
// the buckets the batch wrote and sharing all others.
class NextLevels {
 public:
  NextLevels(const WrittenBuckets& written, ResidentLevels* out) : written_(written), out_(out) {}

  // The bucket at (level, path) as the batch left it, from its new record and its current
  // self (null when the batch created it).
  absl::StatusOr<ResidentBucket> Updated(int level, const Key& path, unsigned index,
                                         const BucketRecord& record, const ResidentBucket* old) {
    ResidentBucket out{record.aggregate, nullptr, static_cast<uint8_t>(index), record.split};
    if (old == nullptr) {
      ++out_->level_buckets[static_cast<size_t>(level)];
      ++out_->buckets;
    }
    if (!record.split || level >= out_->depth) return out;
    const ResidentChildren* old_children =
        old != nullptr && old->children != nullptr ? old->children.get() : nullptr;
    auto children = std::make_shared<ResidentChildren>();
    auto next_written = written_.lower_bound({level + 1, path});
    size_t next_old = 0;
    for (unsigned c = 0; c < trie::Fanout(level + 1); ++c) {
      if (!trie::HasChild(record.children, c)) continue;
      while (old_children != nullptr && next_old < old_children->size() &&
             (*old_children)[next_old].index < c) {
        ++next_old;
      }
      const ResidentBucket* old_child =
          old_children != nullptr && next_old < old_children->size() &&
                  (*old_children)[next_old].index == c
              ? &(*old_children)[next_old]
              : nullptr;
      Key child_path = path;
      trie::SetChild(&child_path, level + 1, c);
      if (next_written != written_.end() && next_written->first.first == level + 1 &&
          next_written->first.second == child_path) {
        LATTICE_ASSIGN_OR_RETURN(
            ResidentBucket child,
            Updated(level + 1, child_path, c, next_written->second, old_child));
        children->push_back(std::move(child));
        ++next_written;
      } else if (old_child != nullptr) {
        children->push_back(*old_child);
      } else {
        return absl::FailedPreconditionError(fmt::format(
            "a range index update names a child at level {} that neither it nor memory holds",
            level + 1));
      }
    }
    out.children = std::move(children);
    return out;
  }

 private:
  const WrittenBuckets& written_;
  ResidentLevels* out_;
};

// `bucket` (at `level`) without the buckets below `depth`.
ResidentBucket Pruned(const ResidentBucket& bucket, int level, int depth) {
  ResidentBucket out = bucket;
  if (bucket.children == nullptr) return out;
  if (level >= depth) {
    out.children.reset();
    return out;
  }
  auto children = std::make_shared<ResidentChildren>();
  children->reserve(bucket.children->size());
  for (const ResidentBucket& child : *bucket.children) {
    children->push_back(Pruned(child, level + 1, depth));
  }
  out.children = std::move(children);
  return out;
}

// Gives up the deepest levels until at most `max_buckets` are held.
void Shrink(ResidentLevels* levels, size_t max_buckets) {
  if (levels->buckets <= max_buckets) return;
  int deepest = trie::kLevels - 1;
  while (deepest > 0 && levels->level_buckets[static_cast<size_t>(deepest)] == 0) --deepest;
  while (deepest > 0 && levels->buckets > max_buckets) {
    levels->buckets -= levels->level_buckets[static_cast<size_t>(deepest)];
    levels->level_buckets[static_cast<size_t>(deepest)] = 0;
    --deepest;
  }
  levels->depth = deepest;
  levels->root = Pruned(levels->root, 0, deepest);
}

}  // namespace

void IndexUpdate::Record(std::string_view key, std::string_view value) {
  if (key.size() <= prefix_.size() || key.substr(0, prefix_.size()) != prefix_) return;
  if (key[prefix_.size()] == 'a') buckets_.insert_or_assign(std::string(key), std::string(value));
  if (key[prefix_.size()] == 'l') ++leaves_written_;
}

ResidentTrie::ResidentTrie(RangeIndexOptions options, size_t max_buckets)
    : options_(std::move(options)), max_buckets_(std::max<size_t>(1, max_buckets)) {}

absl::Status ResidentTrie::Load(const KvReader& committed) {
  bool complete = false;
  auto read = ReadBuckets(committed, options_.prefix, max_buckets_, &complete);
  absl::StatusOr<std::shared_ptr<ResidentLevels>> built =
      read.ok() ? BuildLevels(*std::move(read), complete) : read.status();
  if (!built.ok()) {
    Install(nullptr);
    return built.status();
  }
  // Leaves read before are not trusted across a reload, which may follow a failed batch.
  leaves_ = std::make_shared<LeafCache>();
  (*built)->leaves = leaves_;
  Install(*std::move(built));
  return absl::OkStatus();
}

absl::Status ResidentTrie::Publish(const IndexUpdate& update, const KvReader& committed) {
  if (update.empty()) return absl::OkStatus();
  std::shared_ptr<const ResidentLevels> base = Current();
  if (base == nullptr) return Load(committed);
  WrittenBuckets written;
  for (const auto& [key, value] : update.buckets_) {
    int level = 0;
    Key path{};
    if (!trie::ParseNodeKey(options_.prefix, key, &level, &path)) return Load(committed);
    auto record = trie::DecodeRecord(value, level);
    if (!record.ok()) return Load(committed);
    written.emplace(std::make_pair(level, path), *std::move(record));
  }
  auto root = written.find({0, Key{}});
  if (root == written.end() ||
      root->second.aggregate.count != base->root.aggregate.count + update.items_added()) {
    // Not the batch that follows the resident state: memory cannot tell what changed.
    return Load(committed);
  }
  auto next = std::make_shared<ResidentLevels>();
  next->depth = base->depth;
  next->buckets = base->buckets;
  next->level_buckets = base->level_buckets;
  next->leaves = base->leaves;
  bool had_root = base->root.split || base->root.aggregate.count > 0;
  auto updated = NextLevels(written, next.get())
                     .Updated(0, Key{}, 0, root->second, had_root ? &base->root : nullptr);
  if (!updated.ok()) return Load(committed);
  next->root = *std::move(updated);
  Shrink(next.get(), max_buckets_);
  Install(std::move(next));
  return absl::OkStatus();
}

void ResidentTrie::Invalidate() { Install(nullptr); }

std::shared_ptr<const ResidentLevels> ResidentTrie::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

uint64_t ResidentTrie::ItemsHeld() const {
  std::lock_guard lock(mutex_);
  return current_ != nullptr ? current_->root.aggregate.count : 0;
}

void ResidentTrie::Install(std::shared_ptr<const ResidentLevels> levels) {
  std::shared_ptr<const ResidentLevels> old;
  {
    std::lock_guard lock(mutex_);
    old = std::exchange(current_, std::move(levels));
  }
  // `old` is freed here, outside the lock, when no reader holds it.
}

}  // namespace lattice::kernel::sync
