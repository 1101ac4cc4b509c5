// Writes in delta form (FsWrite.base and splices): resolving splices against a base's extent
// list, the splices between two lists, the state machine keeping the resolved full version,
// and refusing a delta whose base is unknown, uncited or too short alike on every node.
#include <random>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_limits.h"
#include "state/fs_content.h"
#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT
using Extents = google::protobuf::RepeatedPtrField<v1::FsExtent>;

constexpr uint32_t kFile = S_IFREG | 0644;
constexpr uint64_t kT0 = 1'700'000'000'000;

v1::FsExtent Ext(int n, uint64_t length = 1000) {
  v1::FsExtent e;
  if (n >= 0) e.set_hash(Blake2b256("chunk " + std::to_string(n)));  // n < 0: a hole
  e.set_length(length);
  return e;
}

Extents List(std::initializer_list<int> ns) {
  Extents out;
  for (int n : ns) *out.Add() = Ext(n);
  return out;
}

std::vector<std::string> Hashes(const Extents& extents) {
  std::vector<std::string> out;
  for (const auto& e : extents) out.push_back(e.hash() + "/" + std::to_string(e.length()));
  return out;
}

v1::FsSplice Splice(uint64_t begin, uint64_t end, std::initializer_list<int> ns) {
  v1::FsSplice s;
  s.set_begin(begin);
  s.set_end(end);
  for (int n : ns) *s.add_extents() = Ext(n);
  return s;
}

google::protobuf::RepeatedPtrField<v1::FsSplice> Splices(std::vector<v1::FsSplice> in) {
  google::protobuf::RepeatedPtrField<v1::FsSplice> out;
  for (auto& s : in) *out.Add() = std::move(s);
  return out;
}

uint64_t SizeOf(const Extents& extents) {
  uint64_t size = 0;
  for (const auto& e : extents) size += e.length();
  return size;
}

TEST(FsSplices, ResolveInsertsReplacesAndDeletes) {
  Extents base = List({0, 1, 2, 3, 4});
  auto none = fs::ResolveFsSplices(base, Splices({}));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(Hashes(*none), Hashes(base));

  auto edited = fs::ResolveFsSplices(
      base, Splices({Splice(0, 0, {10}), Splice(2, 3, {11, 12}), Splice(4, 5, {})}));
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(Hashes(*edited), Hashes(List({10, 0, 1, 11, 12, 3})));

  auto appended = fs::ResolveFsSplices(base, Splices({Splice(5, 5, {-1, 13})}));
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(Hashes(*appended), Hashes(List({0, 1, 2, 3, 4, -1, 13})));
}

TEST(FsSplices, ResolveRefusesSplicesOutsideTheBaseOrOutOfOrder) {
  Extents base = List({0, 1, 2});
  EXPECT_EQ(fs::ResolveFsSplices(base, Splices({Splice(2, 4, {})})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fs::ResolveFsSplices(base, Splices({Splice(4, 4, {1})})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fs::ResolveFsSplices(base, Splices({Splice(1, 2, {}), Splice(0, 1, {})}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fs::ResolveFsSplices(base, Splices({Splice(2, 1, {})})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FsSplices, BetweenAnEditAndItsBaseIsOneSmallSplice) {
  Extents base;
  for (int i = 0; i < 1000; ++i) *base.Add() = Ext(i);
  // A chunk inserted at the start (content-defined chunking re-cuts the first chunk).
  Extents inserted;
  *inserted.Add() = Ext(5000);
  *inserted.Add() = Ext(5001);
  for (int i = 1; i < 1000; ++i) *inserted.Add() = Ext(i);
  auto splices = fs::FsSplicesBetween(base, inserted);
  ASSERT_EQ(splices.size(), 1u);
  EXPECT_EQ(splices[0].begin(), 0u);
  EXPECT_EQ(splices[0].end(), 1u);
  EXPECT_EQ(splices[0].extents_size(), 2);
  // Identical lists: nothing.
  EXPECT_TRUE(fs::FsSplicesBetween(base, base).empty());
  // A change in the middle.
  Extents middle = base;
  *middle.Mutable(500) = Ext(6000);
  *middle.Mutable(501) = Ext(6001);
  splices = fs::FsSplicesBetween(base, middle);
  ASSERT_EQ(splices.size(), 1u);
  EXPECT_EQ(splices[0].begin(), 500u);
  EXPECT_EQ(splices[0].end(), 502u);
  // Everything gone.
  splices = fs::FsSplicesBetween(base, Extents());
  ASSERT_EQ(splices.size(), 1u);
  EXPECT_EQ(splices[0].end(), 1000u);
}

TEST(FsSplices, BetweenResolvesBackToTheTargetForRandomEdits) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    Extents base;
    int n = static_cast<int>(rng() % 40);
    // Few distinct chunks and holes, so lists repeat extents and the anchoring is tested.
    for (int i = 0; i < n; ++i) *base.Add() = Ext(static_cast<int>(rng() % 12) - 2);
    Extents target = base;
    int edits = static_cast<int>(rng() % 5);
    for (int k = 0; k < edits; ++k) {
      int at = target.empty() ? 0 : static_cast<int>(rng() % (target.size() + 1));
      switch (rng() % 3) {
        case 0: {  // insert
          Extents next;
          for (int i = 0; i < target.size(); ++i) {
            if (i == at) *next.Add() = Ext(100 + static_cast<int>(rng() % 5));
            *next.Add() = target[i];
          }
          if (at == target.size()) *next.Add() = Ext(100 + static_cast<int>(rng() % 5));
          target = next;
          break;
        }
        case 1:  // delete
          if (at < target.size()) target.DeleteSubrange(at, 1);
          break;
        default:  // replace
          if (at < target.size()) *target.Mutable(at) = Ext(200 + static_cast<int>(rng() % 5));
      }
    }
    auto splices = fs::FsSplicesBetween(base, target);
    google::protobuf::RepeatedPtrField<v1::FsSplice> field;
    for (auto& s : splices) *field.Add() = s;
    auto resolved = fs::ResolveFsSplices(base, field);
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    ASSERT_EQ(Hashes(*resolved), Hashes(target)) << "trial " << trial;
    // What ParseFsPayload demands of splices holds for what FsSplicesBetween makes.
    v1::FsOp op;
    auto* w = op.mutable_write();
    w->set_inode(100);
    w->set_size(SizeOf(target));
    w->set_base(std::string(36, 'v'));
    *w->mutable_splices() = field;
    ASSERT_TRUE(ParseFsPayload(Payload({op}).SerializeAsString()).ok()) << "trial " << trial;
  }
}

class FsDeltaTest : public ::testing::Test {
 protected:
  FsAuthor a_ = MakeFsAuthor("alpha", 'a');
  FsAuthor b_ = MakeFsAuthor("beta", 'b');

  void SetUp() override {
    v1::FsOp write;
    write.mutable_write()->set_inode(FsOpRef(0));
    *write.mutable_write()->mutable_extents() = List({0, 1, 2, 3, 4});
    write.mutable_write()->set_size(5000);
    create_ = FsIntention(a_, kT0, 0, Payload({Create(kFsRootId, "f", kFile), write}));
    f_ = FsDerivedId(create_.hash, 0);
    v1_ = FsVersionId(create_.hash, 1);
  }

  // A write of f_ in delta form on `base`, replacing it.
  v1::FsOp Delta(const std::string& base, std::vector<v1::FsSplice> splices, uint64_t size) {
    v1::FsOp op;
    auto* w = op.mutable_write();
    w->set_inode(f_);
    w->set_base(base);
    for (auto& s : splices) *w->add_splices() = std::move(s);
    w->set_size(size);
    w->add_replaces(base);
    return op;
  }

  // `x` citing `deps` (the hash is recomputed).
  static DecodedIntention Citing(DecodedIntention x, std::vector<std::string> deps) {
    for (auto& d : deps) x.body.add_deps(d);
    x.hash = Blake2b256(x.body.SerializeAsString());
    return x;
  }

  v1::FsVersion Winner(const FsReplica& r) {
    auto inode = r.Reader().Inode(f_);
    EXPECT_TRUE(inode.ok() && inode->has_value());
    if (!inode.ok() || !inode->has_value() || !(*inode)->winner) return {};
    return *(*inode)->winner;
  }

  DecodedIntention create_;
  uint64_t f_ = 0;
  std::string v1_;
};

TEST_F(FsDeltaTest, ADeltaIsKeptAsTheFullResolvedVersion) {
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  auto w = Citing(FsIntention(b_, kT0 + 10, 0,
                              Payload({Delta(v1_, {Splice(0, 0, {9}), Splice(3, 4, {})}, 5000)})),
                  {create_.hash});
  auto applied = r.Apply(w);
  ASSERT_TRUE(applied.ok()) << applied;
  v1::FsVersion winner = Winner(r);
  EXPECT_EQ(winner.id(), FsVersionId(w.hash, 0));
  EXPECT_EQ(winner.size(), 5000u);
  EXPECT_EQ(Hashes(winner.extents()), Hashes(List({9, 0, 1, 2, 4})));
  auto heads = r.Reader().Inode(f_);
  ASSERT_TRUE(heads.ok());
  EXPECT_TRUE((*heads)->other_heads.empty()) << "the delta replaces its base";

  // A delta on that delta, cited as the author's prev.
  auto w2 = FsIntention(b_, kT0 + 20, 0,
                        Payload({Delta(winner.id(), {Splice(5, 5, {-1})}, 6000)}));
  w2.body.set_prev(w.hash);
  w2.hash = Blake2b256(w2.body.SerializeAsString());
  applied = r.Apply(w2);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(Hashes(Winner(r).extents()), Hashes(List({9, 0, 1, 2, 4, -1})));
  EXPECT_EQ(Winner(r).size(), 6000u);
}

TEST_F(FsDeltaTest, ADeltaCitesOnlyItsNewChunks) {
  auto payload = Payload({Delta(v1_, {Splice(0, 1, {7, -1, 8}), Splice(2, 2, {7})}, 7000)});
  auto cited = FsChunksCited(payload);
  EXPECT_EQ(cited, (std::vector<std::string>{Ext(7).hash(), Ext(8).hash()}));
  EXPECT_EQ(FsBaseIntentions(payload), std::vector<std::string>{create_.hash});
}

// Every refusal is a recorded no-op that writes nothing, and the same on a node that applied
// the intentions in another order (the base's intention is always applied first).
TEST_F(FsDeltaTest, AHostileDeltaIsRefusedAlikeEverywhere) {
  struct Case {
    std::string what;
    DecodedIntention x;
  };
  uint64_t wall = kT0 + 100;
  auto cited = [&](std::vector<v1::FsOp> ops) {
    return Citing(FsIntention(b_, ++wall, 0, Payload(std::move(ops))), {create_.hash});
  };
  std::string unknown = FsVersionId(create_.hash, 7);
  std::vector<Case> cases = {
      {"base not cited", FsIntention(b_, ++wall, 0, Payload({Delta(v1_, {}, 5000)}))},
      {"unknown base of a cited intention", cited({Delta(unknown, {}, 5000)})},
      {"base of another inode", cited({Delta(FsVersionId(create_.hash, 0), {}, 5000)})},
      {"splice past the base's end", cited({Delta(v1_, {Splice(4, 6, {})}, 4000)})},
      {"splice starting past the end", cited({Delta(v1_, {Splice(6, 6, {1})}, 6000)})},
      {"size that is not the result's", cited({Delta(v1_, {Splice(0, 1, {})}, 5000)})},
      {"base of a file created in the payload",
       cited({Create(kFsRootId, "g", kFile),
              [&] {
                auto op = Delta(v1_, {}, 5000);
                op.mutable_write()->set_inode(FsOpRef(0));
                return op;
              }()})},
  };
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  const std::string before = r.Dump();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    absl::Status s = r.Apply(c.x);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(r.Dump(), before);
  }
  // A node that saw an honest later write first refuses the same ones.
  FsReplica other;
  ASSERT_TRUE(other.Apply(create_).ok());
  auto honest = FsIntention(a_, kT0 + 50, 0, Payload({Write(f_, 3, {v1_})}));
  ASSERT_TRUE(other.Apply(honest).ok());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(other.Apply(c.x).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(FsDeltaTest, MalformedDeltasAreRefusedWithoutState) {
  auto refused = [&](v1::FsOp op) {
    return ParseFsPayload(Payload({std::move(op)}).SerializeAsString()).status().code();
  };
  // A base that is not a version id.
  EXPECT_EQ(refused(Delta("short", {}, 5000)), absl::StatusCode::kInvalidArgument);
  // Splices without a base.
  {
    auto op = Delta(v1_, {Splice(0, 1, {})}, 4000);
    op.mutable_write()->clear_base();
    EXPECT_EQ(refused(op), absl::StatusCode::kInvalidArgument);
  }
  // Both a full list and splices.
  {
    auto op = Delta(v1_, {Splice(0, 1, {})}, 4000);
    *op.mutable_write()->add_extents() = Ext(1);
    EXPECT_EQ(refused(op), absl::StatusCode::kInvalidArgument);
  }
  // Overlapping, backwards, empty, or out-of-range splices; malformed extents.
  EXPECT_EQ(refused(Delta(v1_, {Splice(0, 2, {}), Splice(1, 3, {})}, 2000)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused(Delta(v1_, {Splice(3, 2, {})}, 5000)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused(Delta(v1_, {Splice(2, 2, {})}, 5000)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused(Delta(v1_, {Splice(limits::kMaxFsExtentsPerVersion + 1,
                                       limits::kMaxFsExtentsPerVersion + 1, {1})},
                          5000)),
            absl::StatusCode::kInvalidArgument);
  {
    auto op = Delta(v1_, {Splice(0, 0, {1})}, 6000);
    op.mutable_write()->mutable_splices(0)->mutable_extents(0)->set_hash("bad");
    EXPECT_EQ(refused(op), absl::StatusCode::kInvalidArgument);
    op.mutable_write()->mutable_splices(0)->mutable_extents(0)->set_hash(Ext(1).hash());
    op.mutable_write()->mutable_splices(0)->mutable_extents(0)->set_length(0);
    EXPECT_EQ(refused(op), absl::StatusCode::kInvalidArgument);
  }
  // Too many splices.
  {
    std::vector<v1::FsSplice> many;
    for (size_t i = 0; i <= limits::kMaxFsSplicesPerWrite; ++i) many.push_back(Splice(i, i, {1}));
    EXPECT_EQ(refused(Delta(v1_, many, 5000)), absl::StatusCode::kResourceExhausted);
  }
  // And a well-formed one passes.
  EXPECT_TRUE(ParseFsPayload(Payload({Delta(v1_, {Splice(0, 1, {7})}, 5000)}).SerializeAsString())
                  .ok());
}

}  // namespace
}  // namespace lattice::kernel::testing
