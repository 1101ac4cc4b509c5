// Negentropy sessions end to end over in-memory sets: the initiator learns exactly the
// symmetric difference whatever the sets, the frame limit and the other side's tuning, and
// hostile or malformed messages end a session with a clear error.
#include "sync/negentropy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <string>

#include "sync/sorted_items.h"

namespace lattice::kernel::sync {
namespace {

Item RandomItem(std::mt19937_64& rng, uint64_t span_ms = 365ull * 24 * 3600 * 1000) {
  Item item;
  item.timestamp = 1'700'000'000'000ull + rng() % span_ms;
  for (size_t i = 0; i < kIdBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(item.id.data() + i, &v, 8);
  }
  return item;
}

struct Pair {
  SortedItems initiator, responder;
  std::set<ItemId> only_initiator, only_responder;
};

// `common` shared items, then extras on each side, each made by `make_item`.
Pair MakePairOf(const std::function<Item()>& make_item, size_t common, size_t only_a,
                size_t only_b) {
  Pair pair;
  for (size_t i = 0; i < common; ++i) {
    Item item = make_item();
    pair.initiator.Insert(item);
    pair.responder.Insert(item);
  }
  for (size_t i = 0; i < only_a; ++i) {
    Item item = make_item();
    pair.initiator.Insert(item);
    pair.only_initiator.insert(item.id);
  }
  for (size_t i = 0; i < only_b; ++i) {
    Item item = make_item();
    pair.responder.Insert(item);
    pair.only_responder.insert(item.id);
  }
  pair.initiator.Seal();
  pair.responder.Seal();
  return pair;
}

Pair MakePair(uint64_t seed, size_t common, size_t only_a, size_t only_b,
              uint64_t span_ms = 365ull * 24 * 3600 * 1000) {
  std::mt19937_64 rng(seed);
  return MakePairOf([&] { return RandomItem(rng, span_ms); }, common, only_a, only_b);
}

struct SyncOutcome {
  std::set<ItemId> have, need;
  std::set<ItemId> responder_have, responder_need;  // what the responder learned
  bool incomplete = false;
  size_t round_trips = 0;
  uint64_t bytes = 0;
  size_t largest_message = 0;
};

SyncOutcome RunSync(ItemSource& a, ItemSource& b, NegentropyOptions opts_a = {},
                    NegentropyOptions opts_b = {}) {
  SyncOutcome outcome;
  auto initiator = NegentropySession::Create(Role::kInitiator, opts_a);
  auto responder = NegentropySession::Create(Role::kResponder, opts_b);
  EXPECT_TRUE(initiator.ok() && responder.ok());
  auto message = initiator->Initiate(a);
  EXPECT_TRUE(message.ok()) << message.status();
  std::string next = *message;
  while (outcome.round_trips < 250) {
    outcome.bytes += next.size();
    outcome.largest_message = std::max(outcome.largest_message, next.size());
    auto answer = responder->Reconcile(b, next);
    EXPECT_TRUE(answer.ok()) << answer.status();
    if (!answer.ok()) break;
    ++outcome.round_trips;
    outcome.responder_have.insert(answer->have.begin(), answer->have.end());
    outcome.responder_need.insert(answer->need.begin(), answer->need.end());
    outcome.bytes += answer->reply->size();
    outcome.largest_message = std::max(outcome.largest_message, answer->reply->size());
    auto step = initiator->Reconcile(a, *answer->reply);
    EXPECT_TRUE(step.ok()) << step.status();
    if (!step.ok()) break;
    for (const auto& id : step->have) EXPECT_TRUE(outcome.have.insert(id).second);
    for (const auto& id : step->need) EXPECT_TRUE(outcome.need.insert(id).second);
    outcome.incomplete = step->incomplete;
    if (!step->reply) break;
    next = *step->reply;
  }
  EXPECT_TRUE(initiator->done());
  return outcome;
}

void ExpectExact(const Pair& pair, const SyncOutcome& outcome) {
  // Compared as sets without printing them: a failure reports the sizes.
  EXPECT_TRUE(outcome.have == pair.only_initiator)
      << "have " << outcome.have.size() << " ids, expected " << pair.only_initiator.size();
  EXPECT_TRUE(outcome.need == pair.only_responder)
      << "need " << outcome.need.size() << " ids, expected " << pair.only_responder.size();
  // The responder reports only what it learned for certain.
  EXPECT_TRUE(std::includes(pair.only_responder.begin(), pair.only_responder.end(),
                            outcome.responder_have.begin(), outcome.responder_have.end()));
  EXPECT_TRUE(std::includes(pair.only_initiator.begin(), pair.only_initiator.end(),
                            outcome.responder_need.begin(), outcome.responder_need.end()));
}

class DifferenceSizes : public ::testing::TestWithParam<std::pair<size_t, size_t>> {};

TEST_P(DifferenceSizes, InitiatorLearnsExactlyTheSymmetricDifference) {
  auto [only_a, only_b] = GetParam();
  Pair pair = MakePair(only_a * 7919 + only_b, 10'000, only_a, only_b);
  SyncOutcome outcome = RunSync(pair.initiator, pair.responder);
  ExpectExact(pair, outcome);
  if (only_a + only_b == 0) {
    EXPECT_EQ(outcome.round_trips, 1u);
  }
  if (only_a + only_b <= 10) {
    // Two, and one more when the initiator's own extras are found last: the responder
    // confirms them (a guessed single difference is never taken on trust).
    EXPECT_LE(outcome.round_trips, 3u);
  }
}

INSTANTIATE_TEST_SUITE_P(TenThousandItems, DifferenceSizes,
                         ::testing::Values(std::pair<size_t, size_t>{0, 0},
                                           std::pair<size_t, size_t>{1, 0},
                                           std::pair<size_t, size_t>{0, 1},
                                           std::pair<size_t, size_t>{5, 5},
                                           std::pair<size_t, size_t>{500, 500},
                                           std::pair<size_t, size_t>{3000, 0}));

TEST(Negentropy, DisjointSetsReconcile) {
  Pair pair = MakePair(11, 0, 5000, 5000);
  ExpectExact(pair, RunSync(pair.initiator, pair.responder));
}

TEST(Negentropy, EmptySidesReconcile) {
  Pair empty_initiator = MakePair(12, 0, 0, 3000);
  ExpectExact(empty_initiator, RunSync(empty_initiator.initiator, empty_initiator.responder));
  Pair empty_responder = MakePair(13, 0, 3000, 0);
  ExpectExact(empty_responder, RunSync(empty_responder.initiator, empty_responder.responder));
  Pair both_empty = MakePair(14, 0, 0, 0);
  SyncOutcome outcome = RunSync(both_empty.initiator, both_empty.responder);
  ExpectExact(both_empty, outcome);
  EXPECT_EQ(outcome.round_trips, 1u);
}

TEST(Negentropy, BurstsInOneMillisecondReconcile) {
  Pair pair = MakePair(15, 5000, 40, 40, /*span_ms=*/1);
  ExpectExact(pair, RunSync(pair.initiator, pair.responder));
}

TEST(Negentropy, FrameLimitIsNeverExceededAndTheResultStaysExact) {
  Pair pair = MakePair(16, 20'000, 300, 300);
  NegentropyOptions opts;
  opts.frame_size_limit = limits::kMinFrameSizeLimit;
  SyncOutcome outcome = RunSync(pair.initiator, pair.responder, opts, opts);
  ExpectExact(pair, outcome);
  EXPECT_LE(outcome.largest_message, limits::kMinFrameSizeLimit);
  EXPECT_GT(outcome.round_trips, 3u);
}

TEST(Negentropy, FrameLimitOnOneSideOnly) {
  Pair pair = MakePair(17, 20'000, 300, 700);
  NegentropyOptions limited;
  limited.frame_size_limit = 8192;
  NegentropyOptions unlimited;
  unlimited.frame_size_limit = 0;
  ExpectExact(pair, RunSync(pair.initiator, pair.responder, limited, unlimited));
  ExpectExact(pair, RunSync(pair.initiator, pair.responder, unlimited, limited));
}

TEST(Negentropy, SidesWithDifferentTuningInteroperate) {
  // Each side plans on its own; the wire format is all they share.
  Pair pair = MakePair(18, 10'000, 30, 30);
  NegentropyOptions coarse;
  coarse.detect_max_items = 1;
  coarse.max_plan_parts = 2;
  NegentropyOptions fine;
  fine.detect_max_items = 500;
  fine.max_plan_parts = 100;
  ExpectExact(pair, RunSync(pair.initiator, pair.responder, coarse, fine));
  ExpectExact(pair, RunSync(pair.initiator, pair.responder, fine, coarse));
}

TEST(Negentropy, SmallDifferencesBeatTheReferenceFigures) {
  // The authors report 14,028 bytes in 2 round trips for 100,000 items differing in 10.
  // Ours take fewer bytes, and a third round trip that confirms what the initiator found
  // it holds alone.
  Pair pair = MakePair(19, 100'000, 5, 5);
  SyncOutcome outcome = RunSync(pair.initiator, pair.responder);
  ExpectExact(pair, outcome);
  EXPECT_LE(outcome.round_trips, 3u);
  EXPECT_LT(outcome.bytes, 14'028u);
}

TEST(Negentropy, DenseDifferencesCostAboutTheSameWhateverTheSizeDetectionCovers) {
  // Dense differences end in ranges listed whole. Their size is the plan's own bound, not a
  // multiple of the size detection covers: a wider detection must not list larger ranges
  // that are mostly items both sides hold.
  Pair pair = MakePair(23, 100'000, 5'000, 5'000);
  NegentropyOptions narrow, wide;
  narrow.detect_max_items = 64;
  wide.detect_max_items = 128;
  SyncOutcome with_narrow = RunSync(pair.initiator, pair.responder, narrow, narrow);
  SyncOutcome with_wide = RunSync(pair.initiator, pair.responder, wide, wide);
  ExpectExact(pair, with_narrow);
  ExpectExact(pair, with_wide);
  EXPECT_EQ(with_wide.round_trips, with_narrow.round_trips);
  EXPECT_LE(with_wide.bytes, with_narrow.bytes + with_narrow.bytes / 10)
      << "narrow " << with_narrow.bytes << " bytes, wide " << with_wide.bytes;
}

TEST(Negentropy, ResponderAnswersAReferenceStyleIdListWithOnlyTheDifference) {
  // A reference initiator lists sets under 32 items whole. Our responder, holding one
  // extra, answers with that id alone instead of echoing its whole list.
  Pair pair = MakePair(20, 20, 0, 1);
  MessageWriter writer;
  writer.AppendBound(Bound::Infinity());
  writer.AppendMode(Mode::kIdList);
  writer.AppendIdCount(pair.initiator.items().size());
  for (const Item& item : pair.initiator.items()) writer.AppendId(item.id);
  auto responder = NegentropySession::Create(Role::kResponder);
  auto answer = responder->Reconcile(pair.responder, writer.bytes());
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_LT(answer->reply->size(), 100u);
  auto ranges = ParseRanges(std::string_view(*answer->reply).substr(1), 16);
  ASSERT_TRUE(ranges.ok());
  size_t ids = 0;
  for (const auto& range : *ranges) ids += range.ids.size();
  EXPECT_EQ(ids, 1u);
  EXPECT_EQ(answer->have.size(), 1u);
  // The initiator side, fed the same answer, learns that it needs that id.
  auto initiator = NegentropySession::Create(Role::kInitiator);
  ASSERT_TRUE(initiator->Initiate(pair.initiator).ok());
  auto step = initiator->Reconcile(pair.initiator, *answer->reply);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(std::set<ItemId>(step->need.begin(), step->need.end()), pair.only_responder);
}

TEST(Negentropy, ResponderFallsBackToItsFullListWhenTheirsIsOutOfOrder) {
  Pair pair = MakePair(21, 10, 1, 0);
  std::vector<Item> items = pair.initiator.items();
  std::reverse(items.begin(), items.end());
  MessageWriter writer;
  writer.AppendBound(Bound::Infinity());
  writer.AppendMode(Mode::kIdList);
  writer.AppendIdCount(items.size());
  for (const Item& item : items) writer.AppendId(item.id);
  auto responder = NegentropySession::Create(Role::kResponder);
  auto answer = responder->Reconcile(pair.responder, writer.bytes());
  ASSERT_TRUE(answer.ok());
  auto ranges = ParseRanges(std::string_view(*answer->reply).substr(1), 16);
  ASSERT_TRUE(ranges.ok());
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_EQ((*ranges)[0].ids.size(), pair.responder.items().size());
}

// A peer that follows the authors' reference algorithm (written here from its published
// description, over our codec): 16 equal buckets, an IdList below 32 items, a responder
// that echoes its whole list for an IdList, no frame limit. Our sessions must reconcile
// with it in either role.
class ReferenceStylePeer {
 public:
  ReferenceStylePeer(SortedItems& items, bool initiator) : items_(items), initiator_(initiator) {}

  std::string Initiate() {
    MessageWriter out;
    SplitRange(out, 0, items_.items().size(), Bound::Infinity());
    return out.bytes();
  }

  // The reply, or nullopt when this (initiator) peer is done.
  std::optional<std::string> Reconcile(std::string_view message, std::set<ItemId>* have,
                                       std::set<ItemId>* need) {
    const auto& items = items_.items();
    auto ranges = ParseRanges(message.substr(1), 1 << 20);
    EXPECT_TRUE(ranges.ok()) << ranges.status();
    MessageWriter out;
    size_t lower = 0;
    Bound previous;
    bool skip = false;
    auto flush_skip = [&] {
      if (!skip) return;
      skip = false;
      out.AppendBound(previous);
      out.AppendMode(Mode::kSkip);
    };
    for (const auto& range : *ranges) {
      size_t upper = static_cast<size_t>(
          std::partition_point(items.begin() + static_cast<long>(lower), items.end(),
                               [&](const Item& i) { return ItemBelow(i, range.upper); }) -
          items.begin());
      if (range.mode == Mode::kSkip) {
        skip = true;
      } else if (range.mode == Mode::kFingerprint) {
        if (FingerprintOf(Sum(lower, upper)) != range.fingerprint) {
          flush_skip();
          SplitRange(out, lower, upper, range.upper);
        } else {
          skip = true;
        }
      } else {
        std::set<ItemId> theirs(range.ids.begin(), range.ids.end());
        if (initiator_) {
          for (size_t i = lower; i < upper; ++i) {
            if (!theirs.erase(items[i].id)) have->insert(items[i].id);
          }
          need->insert(theirs.begin(), theirs.end());
          skip = true;
        } else {
          flush_skip();
          out.AppendBound(range.upper);
          out.AppendMode(Mode::kIdList);
          out.AppendIdCount(upper - lower);
          for (size_t i = lower; i < upper; ++i) out.AppendId(items[i].id);
        }
      }
      lower = upper;
      previous = range.upper;
    }
    if (initiator_ && out.size() == 1) return std::nullopt;
    return out.bytes();
  }

 private:
  Aggregate Sum(size_t begin, size_t end) const {
    Aggregate sum;
    for (size_t i = begin; i < end; ++i) sum.Add(items_.items()[i]);
    return sum;
  }

  void SplitRange(MessageWriter& out, size_t lower, size_t upper, const Bound& upper_bound) {
    const auto& items = items_.items();
    size_t n = upper - lower;
    if (n < 32) {
      out.AppendBound(upper_bound);
      out.AppendMode(Mode::kIdList);
      out.AppendIdCount(n);
      for (size_t i = lower; i < upper; ++i) out.AppendId(items[i].id);
      return;
    }
    size_t per = n / 16, extra = n % 16, current = lower;
    for (size_t b = 0; b < 16; ++b) {
      size_t size = per + (b < extra ? 1 : 0);
      Fingerprint fingerprint = FingerprintOf(Sum(current, current + size));
      current += size;
      out.AppendBound(current == upper ? upper_bound
                                       : Bound::Between(items[current - 1], items[current]));
      out.AppendMode(Mode::kFingerprint);
      out.AppendFingerprint(fingerprint);
    }
  }

  SortedItems& items_;
  bool initiator_;
};

TEST(Negentropy, OurResponderServesAReferenceStyleInitiator) {
  for (auto [only_a, only_b] : {std::pair<size_t, size_t>{0, 0}, {10, 0}, {0, 10}, {300, 200}}) {
    Pair pair = MakePair(30 + only_a, 20'000, only_a, only_b);
    ReferenceStylePeer initiator(pair.initiator, /*initiator=*/true);
    auto responder = NegentropySession::Create(Role::kResponder);
    std::set<ItemId> have, need;
    std::string next = initiator.Initiate();
    bool done = false;
    for (int round = 0; round < 20 && !done; ++round) {
      auto answer = responder->Reconcile(pair.responder, next);
      ASSERT_TRUE(answer.ok()) << answer.status();
      auto reply = initiator.Reconcile(*answer->reply, &have, &need);
      done = !reply.has_value();
      if (reply) next = *reply;
    }
    EXPECT_TRUE(done);
    EXPECT_TRUE(have == pair.only_initiator) << have.size() << " vs " << only_a;
    EXPECT_TRUE(need == pair.only_responder) << need.size() << " vs " << only_b;
  }
}

TEST(Negentropy, OurInitiatorUsesAReferenceStyleResponder) {
  for (auto [only_a, only_b] : {std::pair<size_t, size_t>{0, 0}, {10, 0}, {0, 10}, {300, 200}}) {
    Pair pair = MakePair(40 + only_a, 20'000, only_a, only_b);
    ReferenceStylePeer responder(pair.responder, /*initiator=*/false);
    auto initiator = NegentropySession::Create(Role::kInitiator);
    std::set<ItemId> have, need, unused;
    auto first = initiator->Initiate(pair.initiator);
    ASSERT_TRUE(first.ok());
    std::string next = *first;
    for (int round = 0; round < 20 && !initiator->done(); ++round) {
      auto answer = responder.Reconcile(next, &unused, &unused);
      ASSERT_TRUE(answer.has_value());
      auto step = initiator->Reconcile(pair.initiator, *answer);
      ASSERT_TRUE(step.ok()) << step.status();
      have.insert(step->have.begin(), step->have.end());
      need.insert(step->need.begin(), step->need.end());
      if (step->reply) next = *step->reply;
    }
    EXPECT_TRUE(initiator->done());
    EXPECT_TRUE(have == pair.only_initiator) << have.size() << " vs " << only_a;
    EXPECT_TRUE(need == pair.only_responder) << need.size() << " vs " << only_b;
  }
}

TEST(Negentropy, VersionNegotiation) {
  SortedItems empty;
  empty.Seal();
  // A responder asked in version 2 answers with the version it speaks, as V1 says.
  auto responder = NegentropySession::Create(Role::kResponder);
  auto answer = responder->Reconcile(empty, std::string("\x62\xaa\xbb\xcc\xdd\xee\xff"));
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer->reply, "\x61");
  // An initiator answered in another version cannot go on.
  auto initiator = NegentropySession::Create(Role::kInitiator);
  ASSERT_TRUE(initiator->Initiate(empty).ok());
  auto step = initiator->Reconcile(empty, "\x62");
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(initiator->done());
  // A byte outside 0x60..0x6f is not Negentropy at all.
  auto other = NegentropySession::Create(Role::kResponder);
  EXPECT_EQ(other->Reconcile(empty, "\x10").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Negentropy, HostileMessagesAreRejected) {
  Pair pair = MakePair(22, 1000, 0, 0);
  auto reject = [&](std::string message, absl::StatusCode code, NegentropyOptions opts = {}) {
    auto responder = NegentropySession::Create(Role::kResponder, opts);
    auto answer = responder->Reconcile(pair.responder, message);
    EXPECT_FALSE(answer.ok());
    EXPECT_EQ(answer.status().code(), code) << answer.status();
    EXPECT_TRUE(responder->done());
    EXPECT_FALSE(responder->Reconcile(pair.responder, "\x61").ok());  // finished
  };
  reject("", absl::StatusCode::kInvalidArgument);
  reject(std::string("\x61\x00\x00\x02\xff\xff\xff\xff\x0f", 9), absl::StatusCode::kInvalidArgument);
  reject(std::string("\x61\x00\x00\x07", 4), absl::StatusCode::kInvalidArgument);
  NegentropyOptions small;
  small.max_incoming_bytes = 10;
  reject(std::string(11, '\x61'), absl::StatusCode::kResourceExhausted, small);
}

TEST(Negentropy, RoundsAreBounded) {
  Pair pair = MakePair(23, 1000, 0, 1);
  NegentropyOptions opts;
  opts.max_rounds = 2;
  auto responder = NegentropySession::Create(Role::kResponder, opts);
  auto initiator = NegentropySession::Create(Role::kInitiator);
  auto first = initiator->Initiate(pair.initiator);
  ASSERT_TRUE(first.ok());
  // The same message, replayed: the responder answers twice, then refuses.
  EXPECT_TRUE(responder->Reconcile(pair.responder, *first).ok());
  EXPECT_TRUE(responder->Reconcile(pair.responder, *first).ok());
  auto third = responder->Reconcile(pair.responder, *first);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Negentropy, MisuseIsAPreconditionError) {
  SortedItems empty;
  empty.Seal();
  auto responder = NegentropySession::Create(Role::kResponder);
  EXPECT_EQ(responder->Initiate(empty).status().code(), absl::StatusCode::kFailedPrecondition);
  auto initiator = NegentropySession::Create(Role::kInitiator);
  EXPECT_EQ(initiator->Reconcile(empty, "\x61").status().code(),
            absl::StatusCode::kFailedPrecondition);
  NegentropyOptions tiny;
  tiny.frame_size_limit = 100;
  EXPECT_EQ(NegentropySession::Create(Role::kInitiator, tiny).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Ids equal but for their last `free_bytes` bytes. As little-endian sums they differ only
// in those top bytes, so "their fingerprint is ours less item x" holds for a wrong x about
// once per 256^free_bytes items tested, and a reconciliation that trusted it would end with
// differences unreported. (Sums of ranges of equal counts collide once in 256^free_bytes
// too, which no fingerprint protocol detects: hence two free bytes for the many seeds of
// the property test.)
Pair MakePrefixPair(uint64_t seed, size_t common, size_t only_a, size_t only_b,
                    size_t free_bytes = 1) {
  std::mt19937_64 rng(seed);
  ItemId prefix{};
  for (auto& byte : prefix) byte = static_cast<uint8_t>(rng());
  std::set<ItemId> used;
  auto item = [&] {
    Item out;
    out.timestamp = 1'700'000'000'000ull + rng() % 1000;
    do {
      out.id = prefix;
      for (size_t i = kIdBytes - free_bytes; i < kIdBytes; ++i) {
        out.id[i] = static_cast<uint8_t>(rng());
      }
    } while (!used.insert(out.id).second);
    return out;
  };
  return MakePairOf(item, common, only_a, only_b);
}

// What a reconciliation between one of our sessions and a reference-style peer taught the
// side that learns everything (the initiator).
struct Learned {
  std::set<ItemId> have, need;
  bool done = false;
};

Learned RunAgainstReferenceResponder(Pair& pair) {
  ReferenceStylePeer responder(pair.responder, /*initiator=*/false);
  auto initiator = NegentropySession::Create(Role::kInitiator);
  Learned learned;
  std::set<ItemId> unused;
  auto first = initiator->Initiate(pair.initiator);
  EXPECT_TRUE(first.ok());
  std::string next = *first;
  for (int round = 0; round < 50 && !initiator->done(); ++round) {
    auto answer = responder.Reconcile(next, &unused, &unused);
    if (!answer) break;
    auto step = initiator->Reconcile(pair.initiator, *answer);
    EXPECT_TRUE(step.ok()) << step.status();
    if (!step.ok()) break;
    learned.have.insert(step->have.begin(), step->have.end());
    learned.need.insert(step->need.begin(), step->need.end());
    if (step->reply) next = *step->reply;
  }
  learned.done = initiator->done();
  return learned;
}

Learned RunAgainstReferenceInitiator(Pair& pair) {
  ReferenceStylePeer initiator(pair.initiator, /*initiator=*/true);
  auto responder = NegentropySession::Create(Role::kResponder);
  Learned learned;
  std::string next = initiator.Initiate();
  for (int round = 0; round < 50 && !learned.done; ++round) {
    auto answer = responder->Reconcile(pair.responder, next);
    EXPECT_TRUE(answer.ok()) << answer.status();
    if (!answer.ok()) break;
    auto reply = initiator.Reconcile(*answer->reply, &learned.have, &learned.need);
    learned.done = !reply.has_value();
    if (reply) next = *reply;
  }
  return learned;
}

TEST(Negentropy, IdsSharingLongPrefixesReconcileExactly) {
  // 35 ids that differ only in their last byte, 2 and 3 of them on one side only. Sums of
  // such ids collide so often that over these seeds a guessed single difference is wrong
  // several times (first with seed 32), which a session that trusted it never reported.
  for (uint64_t seed = 0; seed < 500; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair = MakePrefixPair(seed, 30, 2, 3);
    ExpectExact(pair, RunSync(pair.initiator, pair.responder));
  }
}

TEST(Negentropy, PropertyRandomPrefixSetsReconcileExactlyInEveryRole) {
  // Over many random sets of ids sharing long prefixes, of random sizes and tuning: our
  // sessions with each other, and with a reference-style peer in either role, end with
  // the initiator knowing exactly the symmetric difference, as the reference does.
  std::mt19937_64 sizes(2026);
  for (uint64_t seed = 100; seed < 1100; ++seed) {
    SCOPED_TRACE(seed);
    size_t common = sizes() % 400, only_a = sizes() % 60, only_b = sizes() % 60;
    Pair pair = MakePrefixPair(seed, common, only_a, only_b, /*free_bytes=*/2);
    NegentropyOptions tuning;
    tuning.detect_max_items = 1 + sizes() % 64;
    tuning.max_plan_parts = 2 + sizes() % 16;
    ExpectExact(pair, RunSync(pair.initiator, pair.responder, tuning, tuning));
    ExpectExact(pair, RunSync(pair.initiator, pair.responder));
    Learned with_reference_responder = RunAgainstReferenceResponder(pair);
    EXPECT_TRUE(with_reference_responder.done);
    EXPECT_TRUE(with_reference_responder.have == pair.only_initiator);
    EXPECT_TRUE(with_reference_responder.need == pair.only_responder);
    Learned with_reference_initiator = RunAgainstReferenceInitiator(pair);
    EXPECT_TRUE(with_reference_initiator.done);
    EXPECT_TRUE(with_reference_initiator.have == pair.only_initiator);
    EXPECT_TRUE(with_reference_initiator.need == pair.only_responder);
    if (HasFailure()) break;  // one seed's report is enough
  }
}

TEST(Negentropy, ASessionPastItsMessageBudgetEndsIncompleteAndTheNextFinishes) {
  // Small frames and a large difference need more messages than one session may send:
  // the initiator stops before its peer would refuse, exact so far, and new sessions over
  // the sets with those differences resolved take up the rest.
  Pair pair = MakePair(24, 2000, 3000, 3000);
  NegentropyOptions small;
  small.frame_size_limit = limits::kMinFrameSizeLimit;
  small.max_rounds = 6;
  std::set<Item> a(pair.initiator.items().begin(), pair.initiator.items().end());
  std::set<Item> b(pair.responder.items().begin(), pair.responder.items().end());
  std::set<ItemId> have, need;
  size_t sessions = 0;
  for (bool incomplete = true; incomplete && sessions < 100; ++sessions) {
    SortedItems initiator, responder;
    for (const Item& item : a) initiator.Insert(item);
    for (const Item& item : b) responder.Insert(item);
    initiator.Seal();
    responder.Seal();
    SyncOutcome outcome = RunSync(initiator, responder, small, small);
    ASSERT_FALSE(HasFailure()) << "session " << sessions;
    // What a session reports is a real difference, and once resolved it is not reported again.
    for (const ItemId& id : outcome.have) {
      EXPECT_TRUE(pair.only_initiator.count(id) && have.insert(id).second);
    }
    for (const ItemId& id : outcome.need) {
      EXPECT_TRUE(pair.only_responder.count(id) && need.insert(id).second);
    }
    for (const Item& item : pair.initiator.items()) {
      if (outcome.have.count(item.id)) b.insert(item);
    }
    for (const Item& item : pair.responder.items()) {
      if (outcome.need.count(item.id)) a.insert(item);
    }
    incomplete = outcome.incomplete;
  }
  EXPECT_GT(sessions, 1u);
  EXPECT_TRUE(have == pair.only_initiator);
  EXPECT_TRUE(need == pair.only_responder);
  EXPECT_TRUE(a == b);
}

}  // namespace
}  // namespace lattice::kernel::sync
