// The checks every kv.v1 payload meets before it is applied (ParseKvPayload): a payload
// wrong in several ways is refused for the first problem in op order, whatever the checks'
// own order, so every node records the same reason for the same no-op.
#include <gtest/gtest.h>

#include "lattice/common/limits.h"
#include "state/kv_state.h"

namespace lattice::kernel::testing {
namespace {

v1::KvOp* AddOp(v1::KvPayload* payload, const std::string& key, const std::string& value = "v") {
  v1::KvOp* op = payload->add_ops();
  op->set_key(key);
  op->set_value(value);
  return op;
}

std::string Refusal(const v1::KvPayload& payload) {
  auto parsed = ParseKvPayload(payload.SerializeAsString());
  return parsed.ok() ? "accepted" : std::string(parsed.status().message());
}

TEST(KvPayloadTest, ABatchOfDistinctKeysIsAcceptedWithItsOpsInOrder) {
  v1::KvPayload payload;
  for (const char* key : {"c", "a", "b"}) AddOp(&payload, key);
  auto parsed = ParseKvPayload(payload.SerializeAsString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->ops_size(), 3);
  EXPECT_EQ(parsed->ops(0).key(), "c");
  EXPECT_EQ(parsed->ops(2).key(), "b");
}

TEST(KvPayloadTest, AKeyWrittenTwiceIsRefusedWhereverTheRepeatIs) {
  for (int repeat_at : {1, 5, 9}) {
    v1::KvPayload payload;
    for (int i = 0; i < 10; ++i) AddOp(&payload, i == repeat_at ? "k0" : "k" + std::to_string(i));
    EXPECT_EQ(Refusal(payload), "kv batch writes the same key twice") << repeat_at;
  }
}

TEST(KvPayloadTest, TheFirstProblemInOpOrderIsTheOneNamed) {
  // A repeat at op 2, a deletion with a value at op 4: the repeat is named.
  v1::KvPayload repeat_first;
  AddOp(&repeat_first, "a");
  AddOp(&repeat_first, "b");
  AddOp(&repeat_first, "a");
  AddOp(&repeat_first, "c");
  AddOp(&repeat_first, "d")->set_tombstone(true);
  EXPECT_EQ(Refusal(repeat_first), "kv batch writes the same key twice");

  // The same problems the other way round: the deletion is named.
  v1::KvPayload deletion_first;
  AddOp(&deletion_first, "a");
  AddOp(&deletion_first, "d")->set_tombstone(true);
  AddOp(&deletion_first, "b");
  AddOp(&deletion_first, "a");
  EXPECT_EQ(Refusal(deletion_first), "kv deletion carries a value");

  // Within one op, its own checks come before the repeat: an empty key repeated.
  v1::KvPayload empty_twice;
  AddOp(&empty_twice, "");
  AddOp(&empty_twice, "");
  EXPECT_EQ(Refusal(empty_twice), "kv key must not be empty");
  v1::KvPayload bad_hash_on_repeat;
  AddOp(&bad_hash_on_repeat, "a");
  AddOp(&bad_hash_on_repeat, "a")->add_replaces("short");
  EXPECT_EQ(Refusal(bad_hash_on_repeat), "kv replaces a bad hash");
}

TEST(KvPayloadTest, GarbageAndEmptyPayloadsAreRefused) {
  EXPECT_FALSE(ParseKvPayload("\xff\xff\xff").ok());
  EXPECT_EQ(Refusal(v1::KvPayload{}), "kv payload has no operations");
  v1::KvPayload too_many;
  for (size_t i = 0; i <= limits::kMaxBatchOps; ++i) AddOp(&too_many, "k" + std::to_string(i));
  EXPECT_EQ(ParseKvPayload(too_many.SerializeAsString()).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace lattice::kernel::testing
