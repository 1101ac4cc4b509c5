// Convergence: random ops from three authors, with concurrency (two authors that never see
// the third's writes while it sees theirs), applied in several causal orders, give the same
// state tables byte for byte. And a large directory lists in pages with stable offsets.
#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include <fmt/format.h>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/ids.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_content.h"
#include "state/fs_keys.h"
#include "storage/keys.h"
#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT

constexpr uint64_t kT0 = 1'700'000'000'000;

struct Seen {
  std::vector<uint64_t> dirs{kFsRootId};
  std::vector<FsDirEntryView> entries;
  std::vector<FsDirEntryView> files;
};

// Every field of an inode as shown, for comparing two readings of it.
std::string Describe(const FsInode& inode) {
  std::string out = fmt::format("{} {} size={} nlink={} blocks={} link={} copy={}/{} live={}",
                                inode.id, inode.attr.ShortDebugString(), inode.size, inode.nlink,
                                inode.blocks, inode.symlink_target, inode.conflict_copy,
                                inode.copy_of, inode.live);
  if (inode.winner) out += " winner=" + inode.winner->ShortDebugString();
  for (const auto& head : inode.other_heads) out += " other=" + head.ShortDebugString();
  return out;
}

// Everything shown, walking from the root; fails on a directory reached twice (a cycle),
// and on an entry whose attributes as listed differ from its inode read on its own.
Seen Walk(const FsReader& reader) {
  Seen seen;
  std::set<uint64_t> visited{kFsRootId};
  std::vector<std::pair<uint64_t, int>> todo{{kFsRootId, 0}};
  while (!todo.empty()) {
    auto [dir, depth] = todo.back();
    todo.pop_back();
    bool end = false;
    auto listed = reader.List(dir, 0, 1 << 20, &end, /*attrs=*/true);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return seen;
    for (const auto& e : *listed) {
      auto inode = reader.Inode(e.inode);
      EXPECT_TRUE(inode.ok() && inode->has_value() && e.attrs.has_value()) << e.name;
      if (inode.ok() && inode->has_value() && e.attrs) {
        EXPECT_EQ(Describe(*e.attrs), Describe(**inode)) << e.name;
      }
      if (e.entry == 0) continue;  // a conflict copy
      seen.entries.push_back(e);
      if ((e.mode & S_IFMT) == S_IFDIR) {
        EXPECT_TRUE(visited.insert(e.inode).second) << "directory " << e.inode << " shown twice";
        seen.dirs.push_back(e.inode);
        if (depth < 64) todo.emplace_back(e.inode, depth + 1);
      } else if ((e.mode & S_IFMT) == S_IFREG) {
        seen.files.push_back(e);
      }
    }
  }
  return seen;
}

std::vector<std::string> HeadsOf(const FsReader& reader, uint64_t ino) {
  std::vector<std::string> out;
  auto inode = reader.Inode(ino);
  if (!inode.ok() || !inode->has_value()) return out;
  if ((*inode)->winner) out.push_back((*inode)->winner->id());
  for (const auto& h : (*inode)->other_heads) out.push_back(h.id());
  return out;
}

v1::FsExtent RandomExtent(std::mt19937_64& rng) {
  // A small pool of chunks and holes, so versions share extents as edited files do.
  v1::FsExtent e;
  int n = static_cast<int>(rng() % 24);
  if (n >= 2) e.set_hash(Blake2b256("chunk " + std::to_string(n)));
  e.set_length(1 + static_cast<uint64_t>(n) * 100);
  return e;
}

// A write of `ino` in full form, or in delta form on the version the writer sees (its
// intention cited through `cite`), with a few extents inserted, dropped or replaced.
v1::FsOp RandomWrite(std::mt19937_64& rng, const FsReader& reader, uint64_t ino,
                     std::vector<std::string>* cite) {
  auto inode = reader.Inode(ino);
  const v1::FsVersion* base = nullptr;
  if (inode.ok() && inode->has_value() && (*inode)->winner) base = &*(*inode)->winner;
  v1::FsOp op;
  auto* w = op.mutable_write();
  w->set_inode(ino);
  for (const auto& head : HeadsOf(reader, ino)) w->add_replaces(head);
  google::protobuf::RepeatedPtrField<v1::FsExtent> extents;
  if (base != nullptr) extents = base->extents();
  if (base == nullptr || rng() % 3 == 0) {
    extents.Clear();
    for (int i = 1 + static_cast<int>(rng() % 8); i > 0; --i) *extents.Add() = RandomExtent(rng);
  } else {
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
      int at = static_cast<int>(rng() % (extents.size() + 1));
      if (rng() % 2 == 0 || at == extents.size()) {
        *extents.Add() = RandomExtent(rng);
        for (int i = extents.size() - 1; i > at; --i) extents.SwapElements(i, i - 1);
      } else if (rng() % 2 == 0) {
        extents.DeleteSubrange(at, 1);
      } else {
        *extents.Mutable(at) = RandomExtent(rng);
      }
    }
  }
  uint64_t size = 0;
  for (const auto& e : extents) size += e.length();
  w->set_size(size);
  if (base != nullptr && rng() % 4 != 0) {
    w->set_base(base->id());
    for (auto& s : fs::FsSplicesBetween(base->extents(), extents)) *w->add_splices() = s;
    cite->push_back(base->id().substr(0, kHashBytes));
  } else {
    *w->mutable_extents() = std::move(extents);
  }
  return op;
}

v1::FsOp RandomOp(std::mt19937_64& rng, const FsReader& reader, const Seen& seen,
                  std::vector<std::string>* cite) {
  static const std::vector<std::string> kNames = {"a", "b", "c", "d"};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::string& name = kNames[pick(kNames.size())];
  uint64_t dir = seen.dirs[pick(seen.dirs.size())];
  int roll = static_cast<int>(rng() % 100);
  if (seen.entries.empty() || roll < 25) {
    return Create(dir, name, rng() % 3 == 0 ? (S_IFDIR | 0755) : (S_IFREG | 0644));
  }
  const FsDirEntryView& entry = seen.entries[pick(seen.entries.size())];
  if (roll < 50) return Move(entry.entry, dir, name);
  if (roll < 62) return Move(entry.entry, kFsTrashId, entry.name, HeadsOf(reader, entry.inode));
  if (!seen.files.empty()) {
    const FsDirEntryView& file = seen.files[pick(seen.files.size())];
    if (roll < 72) return Write(file.inode, 1 + rng() % 1000, HeadsOf(reader, file.inode));
    if (roll < 82) return RandomWrite(rng, reader, file.inode, cite);
    if (roll < 87) return Link(file.inode, dir, name);
    if (roll < 92) {
      auto heads = HeadsOf(reader, file.inode);
      if (heads.size() > 1) return Resolve(file.inode, {heads.back()});
    }
  }
  if (roll < 96) return SetMode(entry.inode, static_cast<uint32_t>(rng() % 0777));
  bool remove = rng() % 4 == 0;
  return SetXattr(entry.inode, "user." + name, remove ? "" : std::to_string(rng() % 10), remove);
}

struct Step {
  int round;
  int author;  // 0, 1 see each other; 2 sees them, they never see 2
  DecodedIntention intention;
};

struct Coverage {
  int name_conflicts = 0;
  int content_conflicts = 0;
  int cycles_skipped = 0;
  int deltas = 0;  // intentions with writes in delta form
};

void ConvergesForSeed(uint64_t seed, int rounds, Coverage* coverage) {
  std::mt19937_64 rng(seed);
  std::vector<FsAuthor> authors = {MakeFsAuthor("alpha", 'a'), MakeFsAuthor("beta", 'b'),
                                   MakeFsAuthor("gamma", 'c')};
  FsReplica pair_view;  // what authors 0 and 1 see
  FsReplica all;        // what author 2 sees; the canonical order
  std::vector<Step> steps;
  for (int round = 0; round < rounds; ++round) {
    std::vector<Step> now;
    for (int author = 0; author < 3; ++author) {
      FsReplica& view = author == 2 ? all : pair_view;
      FsReader reader = view.Reader();
      Seen seen = Walk(reader);
      std::vector<v1::FsOp> ops;
      std::vector<std::string> cite;
      int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) ops.push_back(RandomOp(rng, reader, seen, &cite));
      uint64_t wall = kT0 + static_cast<uint64_t>(round) * 100 + rng() % 100;
      DecodedIntention x = FsIntention(authors[author], wall, 0, Payload(ops));
      if (!cite.empty()) {
        // A write in delta form cites its base's intention, as a node's write does.
        std::sort(cite.begin(), cite.end());
        cite.erase(std::unique(cite.begin(), cite.end()), cite.end());
        for (const auto& hash : cite) x.body.add_deps(hash);
        x.hash = Blake2b256(x.body.SerializeAsString());
        coverage->deltas += static_cast<int>(cite.size());
      }
      now.push_back(Step{round, author, std::move(x)});
    }
    for (const auto& step : now) {
      if (step.author != 2) {
        auto applied = pair_view.Apply(step.intention);
        ASSERT_TRUE(applied.ok()) << applied;
      }
      auto applied = all.Apply(step.intention);
      ASSERT_TRUE(applied.ok()) << applied;
      if (!step.intention.body.deps().empty()) {
        // Resolved into the full version: what a write in full form would have stored.
        auto payload = ParseFsPayload(step.intention.body.payload());
        ASSERT_TRUE(payload.ok());
        for (int i = 0; i < payload->ops_size(); ++i) {
          const auto& w = payload->ops(i).write();
          if (w.base().empty()) continue;
          auto version = all.Reader().Version(w.inode(), FsVersionId(step.intention.hash, i));
          ASSERT_TRUE(version.ok() && version->has_value());
          EXPECT_EQ((*version)->size(), w.size());
        }
      }
      steps.push_back(step);
    }
  }
  const std::string expected = all.Dump();
  Walk(all.Reader());
  {
    // What the history exercised, so the test keeps meaning something.
    FsReader reader = all.Reader();
    auto conflicts = reader.Conflicts(1000);
    ASSERT_TRUE(conflicts.ok());
    for (const auto& c : *conflicts) ++(c.version.empty() ? coverage->name_conflicts
                                                         : coverage->content_conflicts);
    std::string prefix = fs::TablePrefix(fs::kMoveLogTable);
    ASSERT_TRUE(all.db()
                    .Scan(prefix, keys::PrefixEnd(prefix),
                          [&](std::string_view, std::string_view v) {
                            v1::FsMoveRecord move;
                            if (move.ParseFromArray(v.data(), static_cast<int>(v.size())) &&
                                move.skipped()) {
                              ++coverage->cycles_skipped;
                            }
                            return true;
                          })
                    .ok());
  }

  auto check = [&](const std::vector<const Step*>& order, std::string_view what) {
    FsReplica r;
    for (const Step* step : order) {
      ASSERT_TRUE(r.Apply(step->intention).ok()) << what;
    }
    EXPECT_EQ(r.Dump(), expected) << what << " (seed " << seed << ")";
  };
  // The pair's writes first, then the third author's.
  std::vector<const Step*> order;
  for (const auto& s : steps) if (s.author != 2) order.push_back(&s);
  for (const auto& s : steps) if (s.author == 2) order.push_back(&s);
  check(order, "pair first");
  // Round by round, each round backwards.
  order.clear();
  for (int round = 0; round < rounds; ++round) {
    for (int author = 2; author >= 0; --author) order.push_back(&steps[round * 3 + author]);
  }
  check(order, "rounds reversed");
  // Random causal orders: a pair write needs the pair's earlier rounds; the third author's
  // write needs every earlier round.
  for (int trial = 0; trial < 2; ++trial) {
    std::vector<int> done(3, 0);  // rounds applied per author
    order.clear();
    while (order.size() < steps.size()) {
      int author = static_cast<int>(rng() % 3);
      int round = done[author];
      if (round >= rounds) continue;
      bool ready = author == 2 ? (done[0] >= round && done[1] >= round)
                               : (done[author == 0 ? 1 : 0] >= round);
      if (!ready) continue;
      order.push_back(&steps[round * 3 + author]);
      ++done[author];
    }
    check(order, "random causal order");
  }
}

TEST(FsConvergenceTest, RandomConcurrentOpsConvergeInEveryCausalOrder) {
  Coverage coverage;
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    SCOPED_TRACE(seed);
    ConvergesForSeed(seed, 30, &coverage);
  }
  EXPECT_GT(coverage.name_conflicts, 0);
  EXPECT_GT(coverage.content_conflicts, 0);
  EXPECT_GT(coverage.cycles_skipped, 0);
  EXPECT_GT(coverage.deltas, 0);
  std::printf("name conflicts %d, content conflicts %d, cycles skipped %d, delta writes %d\n",
              coverage.name_conflicts, coverage.content_conflicts, coverage.cycles_skipped,
              coverage.deltas);
}

TEST(FsScaleTest, TenThousandEntriesListInPagesWithStableOffsets) {
  FsReplica r;
  FsAuthor a = MakeFsAuthor("alpha", 'a');
  constexpr int kEntries = 10'000;
  uint64_t wall = kT0;
  std::set<uint64_t> created;
  for (int made = 0; made < kEntries;) {
    std::vector<v1::FsOp> ops;
    for (int i = 0; i < 64 && made < kEntries; ++i, ++made) {
      ops.push_back(Create(kFsRootId, "file-" + std::to_string(made), S_IFREG | 0644));
    }
    auto x = FsIntention(a, ++wall, 0, Payload(ops));
    ASSERT_TRUE(r.Apply(x).ok());
    for (uint32_t i = 0; i < ops.size(); ++i) created.insert(FsDerivedId(x.hash, i));
  }
  FsReader reader = r.Reader();
  std::vector<uint64_t> listed;
  std::set<uint64_t> removed;
  uint64_t offset = 0;
  bool end = false;
  int pages = 0;
  while (!end) {
    auto page = reader.List(kFsRootId, offset, 1000, &end);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->size(), 1000u);
    ASSERT_TRUE(end || !page->empty());
    for (const auto& e : *page) {
      EXPECT_GT(e.offset, offset);
      offset = e.offset;
      listed.push_back(e.entry);
    }
    ++pages;
    // Meanwhile: a new file, and one already listed goes.
    if (!end && !page->empty()) {
      uint64_t gone = page->front().entry;
      auto x = FsIntention(a, ++wall, 0,
                           Payload({Create(kFsRootId, "new-" + std::to_string(pages),
                                           S_IFREG | 0644),
                                    Move(gone, kFsTrashId, "gone")}));
      ASSERT_TRUE(r.Apply(x).ok());
      removed.insert(gone);
    }
  }
  EXPECT_GE(pages, 10);
  std::set<uint64_t> unique(listed.begin(), listed.end());
  EXPECT_EQ(unique.size(), listed.size()) << "an entry was listed twice";
  for (uint64_t id : created) EXPECT_TRUE(unique.contains(id)) << "entry " << id << " skipped";
  EXPECT_EQ(*reader.InodeCount(), 1u + kEntries + (pages - 1) - removed.size());
  auto found = reader.Lookup(kFsRootId, "file-9999");
  ASSERT_TRUE(found.ok() && found->has_value());
}


TEST(FsScaleTest, ADeepTreeAndALateRenameStayCheap) {
  FsReplica r;
  FsAuthor a = MakeFsAuthor("alpha", 'a');
  FsAuthor b = MakeFsAuthor("beta", 'b');
  auto setup = FsIntention(a, kT0, 0,
                           Payload({Create(kFsRootId, "x", S_IFDIR | 0755),
                                    Create(kFsRootId, "y", S_IFDIR | 0755)}));
  ASSERT_TRUE(r.Apply(setup).ok());
  uint64_t x = FsDerivedId(setup.hash, 0), y = FsDerivedId(setup.hash, 1);
  // A chain of directories deeper than the cycle walk goes, made by creates alone.
  std::vector<uint64_t> chain;
  uint64_t parent = kFsRootId;
  uint64_t wall = kT0 + 10;
  while (chain.size() < limits::kMaxFsTreeDepth + 10) {
    std::vector<v1::FsOp> ops;
    for (uint32_t i = 0; i < 64; ++i) {
      ops.push_back(Create(i == 0 ? parent : FsOpRef(i - 1), "d", S_IFDIR | 0755));
    }
    auto made = FsIntention(a, ++wall, 0, Payload(ops));
    ASSERT_TRUE(r.Apply(made).ok());
    for (uint32_t i = 0; i < 64; ++i) chain.push_back(FsDerivedId(made.hash, i));
    parent = chain.back();
  }
  // A rename stamped before all of them arrives last: no create is undone for it.
  ASSERT_TRUE(r.Apply(FsIntention(b, kT0 + 5, 0, Payload({Move(x, y, "x")}))).ok());
  auto reader = r.Reader();
  EXPECT_EQ((*reader.Lookup(y, "x"))->inode, x);
  // Moving a directory below the walk's reach is skipped, as a cycle would be; above, it is not.
  ASSERT_TRUE(r.Apply(FsIntention(a, wall + 100, 0, Payload({Move(y, chain.back(), "y")}))).ok());
  EXPECT_TRUE(reader.Lookup(kFsRootId, "y")->has_value());
  ASSERT_TRUE(r.Apply(FsIntention(a, wall + 200, 0, Payload({Move(y, chain[10], "y")}))).ok());
  EXPECT_FALSE(reader.Lookup(kFsRootId, "y")->has_value());
  EXPECT_EQ((*reader.Lookup(chain[10], "y"))->inode, y);
}

}  // namespace
}  // namespace lattice::kernel::testing
