// The pure parts of lattice-fuse: the byte-range sets, the commit plan that keeps untouched
// chunks, and the write buffer over a base version (fetched through a fake).
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "src/content.h"
#include "src/intervals.h"
#include "src/overlay.h"

namespace lattice::fuse {
namespace {

TEST(IntervalSet, MergesTouchingAndOverlappingRanges) {
  IntervalSet set;
  set.Add(10, 20);
  set.Add(30, 40);
  set.Add(20, 25);
  set.Add(35, 50);
  std::map<uint64_t, uint64_t> want = {{10, 25}, {30, 50}};
  EXPECT_EQ(set.ranges(), want);
  set.Add(0, 100);
  want = {{0, 100}};
  EXPECT_EQ(set.ranges(), want);
}

TEST(IntervalSet, GapsIntersectsAndClip) {
  IntervalSet set;
  set.Add(10, 20);
  set.Add(30, 40);
  auto gaps = set.Gaps(0, 50);
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_EQ(gaps[0], std::make_pair(uint64_t{0}, uint64_t{10}));
  EXPECT_EQ(gaps[1], std::make_pair(uint64_t{20}, uint64_t{30}));
  EXPECT_EQ(gaps[2], std::make_pair(uint64_t{40}, uint64_t{50}));
  EXPECT_TRUE(set.Gaps(12, 18).empty());
  EXPECT_TRUE(set.Intersects(19, 21));
  EXPECT_FALSE(set.Intersects(20, 30));
  set.ClipTo(35);
  std::map<uint64_t, uint64_t> want = {{10, 20}, {30, 35}};
  EXPECT_EQ(set.ranges(), want);
}

TEST(PlanCommit, KeepsExtentsNoWriteTouched) {
  std::vector<Extent> base = {{"a", 100}, {"b", 100}, {"c", 100}};
  IntervalSet dirty;
  dirty.Add(150, 160);
  auto plan = PlanCommit(base, 300, 300, dirty);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_TRUE(plan[0].keep);
  EXPECT_EQ(plan[0].extent.hash, "a");
  EXPECT_FALSE(plan[1].keep);
  EXPECT_EQ(plan[1].begin, 100u);
  EXPECT_EQ(plan[1].end, 200u);
  EXPECT_TRUE(plan[2].keep);
}

TEST(PlanCommit, TruncateAndExtendCutTheTail) {
  std::vector<Extent> base = {{"a", 100}, {"b", 100}};
  IntervalSet dirty;
  // Truncated to 150, then grown to 400: the cut extent and the zeros after it are new.
  auto plan = PlanCommit(base, 150, 400, dirty);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_TRUE(plan[0].keep);
  EXPECT_FALSE(plan[1].keep);
  EXPECT_EQ(plan[1].begin, 100u);
  EXPECT_EQ(plan[1].end, 400u);
  // Appending keeps every base extent.
  dirty.Add(200, 250);
  plan = PlanCommit(base, 200, 250, dirty);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_TRUE(plan[0].keep && plan[1].keep);
  EXPECT_EQ(plan[2].begin, 200u);
}

// A base version held in memory; counts what was fetched.
struct FakeBase {
  std::string content;
  uint64_t fetched = 0;
  FetchBase Fetch() {
    return [this](uint64_t offset, uint32_t length) -> absl::StatusOr<std::string> {
      fetched += length;
      if (offset >= content.size()) return std::string();
      return content.substr(offset, length);
    };
  }
};

std::string Pattern(size_t n, int seed) {
  std::string out(n, '\0');
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

// The content a built version describes, from the chunks the overlay holds and the base.
std::string Assemble(const BuiltContent& built, const Overlay& overlay,
                     const std::map<std::string, std::string>& known) {
  std::map<std::string, std::string> chunks = known;
  for (const NewChunk& chunk : built.chunks) {
    chunks[chunk.hash] = *overlay.ReadLocal(chunk.offset, chunk.length);
  }
  std::string out;
  for (const Extent& extent : built.extents) {
    if (extent.hash.empty()) {
      out.append(extent.length, '\0');
    } else {
      out += chunks.at(extent.hash);
    }
  }
  return out;
}

TEST(Overlay, ReadsSeeWritesOverTheBaseAndCommitReusesChunks) {
  FakeBase base{Pattern(1 << 20, 1)};
  // The base as 64 KiB extents.
  std::vector<Extent> extents;
  std::map<std::string, std::string> known;
  for (size_t at = 0; at < base.content.size(); at += 65536) {
    std::string piece = base.content.substr(at, 65536);
    std::string hash = HashChunk(piece);
    known[hash] = piece;
    extents.push_back({hash, piece.size()});
  }
  auto overlay = Overlay::Create("v1", base.content.size());
  ASSERT_TRUE(overlay.ok());
  ASSERT_TRUE((*overlay)->Write(500000, "hello").ok());
  auto read = (*overlay)->Read(499998, 9, base.Fetch());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, base.content.substr(499998, 2) + "hello" + base.content.substr(500005, 2));

  std::string expected = base.content;
  expected.replace(500000, 5, "hello");
  base.fetched = 0;
  auto built = (*overlay)->Build(extents, base.Fetch());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Assemble(*built, **overlay, known), expected);
  // Only the touched extent was fetched and cut again; the others kept their chunks.
  EXPECT_LE(base.fetched, 65536u);
  size_t kept = 0;
  for (const Extent& extent : built->extents) kept += known.count(extent.hash);
  EXPECT_GE(kept, extents.size() - 1);
}

// What may be kept as the committed content (kept_content.h): only a buffer holding every byte.
TEST(Overlay, HoldsAllOnlyWhenNoBaseByteIsMissing) {
  FakeBase base{Pattern(10000, 2)};
  auto fresh = Overlay::Create("", 0);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Write(0, "new file").ok());
  EXPECT_TRUE((*fresh)->HoldsAll());
  auto edited = Overlay::Create("v1", base.content.size());
  ASSERT_TRUE(edited.ok());
  ASSERT_TRUE((*edited)->Write(100, "edit").ok());
  EXPECT_FALSE((*edited)->HoldsAll()) << "the rest of the base is not here";
  ASSERT_TRUE((*edited)->EnsureLocal(0, base.content.size(), base.Fetch()).ok());
  EXPECT_TRUE((*edited)->HoldsAll());
  auto emptied = Overlay::Create("v1", base.content.size());
  ASSERT_TRUE(emptied.ok());
  ASSERT_TRUE((*emptied)->Truncate(0).ok());
  ASSERT_TRUE((*emptied)->Write(0, "again").ok());
  EXPECT_TRUE((*emptied)->HoldsAll()) << "truncated to nothing: no base byte is meaningful";
}

TEST(Overlay, TruncateBothWaysReadsZerosAndMakesHoles) {
  FakeBase base{Pattern(300000, 2)};
  std::vector<Extent> extents = {{HashChunk(base.content), base.content.size()}};
  std::map<std::string, std::string> known = {{extents[0].hash, base.content}};
  auto overlay = Overlay::Create("v1", base.content.size());
  ASSERT_TRUE(overlay.ok());
  ASSERT_TRUE((*overlay)->Truncate(1000).ok());
  ASSERT_TRUE((*overlay)->Truncate(2'000'000).ok());
  EXPECT_EQ((*overlay)->size(), 2'000'000u);
  auto read = (*overlay)->Read(990, 20, base.Fetch());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, base.content.substr(990, 10) + std::string(10, '\0'));
  auto built = (*overlay)->Build(extents, base.Fetch());
  ASSERT_TRUE(built.ok());
  std::string expected = base.content.substr(0, 1000) + std::string(2'000'000 - 1000, '\0');
  EXPECT_EQ(Assemble(*built, **overlay, known), expected);
  // The zeros are a hole, not chunks.
  ASSERT_FALSE(built->extents.empty());
  EXPECT_TRUE(built->extents.back().hash.empty());
  EXPECT_GT(built->extents.back().length, 1'000'000u);
}

TEST(Overlay, NewFileWithPunchedHole) {
  FakeBase base;
  auto overlay = Overlay::Create("", 0);
  ASSERT_TRUE(overlay.ok());
  std::string data = Pattern(600000, 3);
  ASSERT_TRUE((*overlay)->Write(0, data).ok());
  ASSERT_TRUE((*overlay)->Zero(100000, 300000).ok());
  EXPECT_EQ((*overlay)->size(), 600000u);
  data.replace(100000, 300000, std::string(300000, '\0'));
  auto built = (*overlay)->Build({}, base.Fetch());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Assemble(*built, **overlay, {}), data);
  EXPECT_EQ(base.fetched, 0u);
}

// Runs one streaming round of `overlay` the way lattice-fuse's streaming thread does (its
// upload succeeding); returns the bytes it covered, 0 when there was nothing to claim.
uint64_t StreamRound(Overlay& overlay, uint64_t max_bytes,
                     std::map<std::string, std::string>* uploaded) {
  auto claim = overlay.ClaimStream(max_bytes);
  if (!claim) return 0;
  std::string data(claim->end - claim->begin, '\0');
  EXPECT_EQ(::pread(claim->fd, data.data(), data.size(), static_cast<off_t>(claim->begin)),
            static_cast<ssize_t>(data.size()));
  ::close(claim->fd);
  BuiltContent cut;
  uint64_t covered = CutFinalChunks(data, claim->begin, false, &cut);
  for (const NewChunk& chunk : cut.chunks) {
    (*uploaded)[chunk.hash] = data.substr(chunk.offset - claim->begin, chunk.length);
  }
  EXPECT_TRUE(overlay.FinishCut(*claim, std::move(cut.extents), covered));
  EXPECT_TRUE(overlay.stream_busy());  // uploading
  overlay.FinishUpload(*claim, true);
  EXPECT_FALSE(overlay.stream_busy());
  return covered;
}

TEST(Overlay, StreamedRoundsCommitWhatOneCutWould) {
  std::string data = Pattern(3 << 20, 7);
  data.replace(1 << 20, 300000, std::string(300000, '\0'));  // a run of zeros: a hole
  auto streamed = Overlay::Create("", 0);
  auto whole = Overlay::Create("", 0);
  ASSERT_TRUE(streamed.ok() && whole.ok());
  std::map<std::string, std::string> uploaded;
  uint64_t rounds = 0;
  for (size_t at = 0; at < data.size(); at += 128 * 1024) {
    std::string_view piece = std::string_view(data).substr(at, 128 * 1024);
    ASSERT_TRUE((*streamed)->Write(at, piece).ok());
    ASSERT_TRUE((*whole)->Write(at, piece).ok());
    if ((*streamed)->StreamWanted(512 * 1024)) rounds += StreamRound(**streamed, 768 * 1024, &uploaded) > 0;
  }
  EXPECT_GE(rounds, 3u);
  EXPECT_GT((*streamed)->streamed(), 1u << 20);
  FakeBase base;
  auto built = (*streamed)->Build({}, base.Fetch());
  auto reference = (*whole)->Build({}, base.Fetch());
  ASSERT_TRUE(built.ok() && reference.ok());
  // The same chunks (the chunker's cuts depend on the bytes only), and the commit uploads only
  // those of the tail.
  EXPECT_EQ(built->extents, reference->extents);
  for (const NewChunk& chunk : built->chunks) EXPECT_GE(chunk.offset, (*streamed)->streamed());
  EXPECT_EQ(Assemble(*built, **streamed, uploaded), data);
}

TEST(Overlay, AWriteBelowTheStreamFallsBackToOneCut) {
  std::string data = Pattern(2 << 20, 8);
  auto overlay = Overlay::Create("", 0);
  ASSERT_TRUE(overlay.ok());
  ASSERT_TRUE((*overlay)->Write(0, data).ok());
  std::map<std::string, std::string> uploaded;
  ASSERT_GT(StreamRound(**overlay, 1 << 20, &uploaded), 0u);
  // A round claimed while a write lands inside it no longer counts.
  auto claim = (*overlay)->ClaimStream(1 << 20);
  ASSERT_TRUE(claim.has_value());
  ::close(claim->fd);
  EXPECT_FALSE((*overlay)->ClaimStream(1 << 20).has_value());  // one round at a time
  ASSERT_TRUE((*overlay)->Write(100, "changed").ok());
  EXPECT_FALSE((*overlay)->FinishCut(*claim, {}, 0));
  EXPECT_EQ((*overlay)->streamed(), 0u);
  EXPECT_FALSE((*overlay)->stream_busy());
  data.replace(100, 7, "changed");
  FakeBase base;
  auto built = (*overlay)->Build({}, base.Fetch());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Assemble(*built, **overlay, {}), data);  // every chunk cut and uploaded again
  // A truncate to nothing starts a new stream.
  ASSERT_TRUE((*overlay)->Truncate(0).ok());
  ASSERT_TRUE((*overlay)->Write(0, data).ok());
  EXPECT_TRUE((*overlay)->StreamWanted(1 << 20));
}

TEST(Content, HashIsBlake2b256) {
  // BLAKE2b-256 of the empty string.
  std::string hash = HashChunk("");
  ASSERT_EQ(hash.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(hash[0]), 0x0eu);
  EXPECT_EQ(static_cast<unsigned char>(hash[1]), 0x57u);
  EXPECT_TRUE(AllZero(std::string(10000, '\0')));
  EXPECT_FALSE(AllZero(std::string(9999, '\0') + "x"));
}

}  // namespace
}  // namespace lattice::fuse
