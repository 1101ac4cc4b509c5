// Decoding and verification of signed intentions.
#include <gtest/gtest.h>

#include "dag/hlc.h"
#include "dag/intention.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"

namespace lattice::kernel {
namespace {

v1::Intention Body(const KeyPair& key) {
  v1::Intention body;
  body.set_store_id(NewStoreId());
  body.set_author(key.public_key);
  body.set_seq(1);
  body.mutable_hlc()->set_wall_ms(1);
  body.set_op_type("kv.v1");
  return body;
}

TEST(Intention, SignedIntentionVerifiesAndHashesItsBody) {
  KeyPair key = GenerateKeyPair();
  DecodedIntention signed_intention = SignIntention(key, Body(key));
  auto decoded = DecodeAndVerify(signed_intention.signed_intention);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->hash, Blake2b256(signed_intention.signed_intention.body()));
}

TEST(Intention, MalformedShapesAreRefusedWithAReason) {
  KeyPair key = GenerateKeyPair();
  auto check = [&](v1::Intention body, std::string_view expected) {
    auto decoded = DecodeAndVerify(SignIntention(key, body).signed_intention);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(std::string(decoded.status().message()).find(expected), std::string::npos) << decoded.status();
  };
  v1::Intention body = Body(key);
  body.set_seq(0);
  check(body, "seq");
  body = Body(key);
  body.set_seq(2);
  check(body, "prev");
  body = Body(key);
  body.set_store_id("short");
  check(body, "store_id");
  body = Body(key);
  body.add_deps("short");
  check(body, "dep");
  body = Body(key);
  for (size_t i = 0; i <= limits::kMaxDeps; ++i) body.add_deps(Blake2b256(std::to_string(i)));
  check(body, "limit");
}

TEST(Intention, GarbageBodyIsRefused) {
  v1::SignedIntention garbage;
  garbage.set_body("\x0a\xff\xff\xff garbage");
  EXPECT_FALSE(DecodeAndVerify(garbage).ok());
}

TEST(HybridClock, NeverGoesBackwardsAndFollowsObservedStamps) {
  uint64_t wall = 1000;
  HybridClock clock([&] { return wall; });
  HlcStamp a = clock.Now();
  HlcStamp b = clock.Now();
  EXPECT_LT(a, b);
  wall = 500;  // the wall clock steps back
  EXPECT_LT(b, clock.Now());
  clock.Observe({5000, 7});
  HlcStamp c = clock.Now();
  EXPECT_EQ(c.wall_ms, 5000u);
  EXPECT_EQ(c.counter, 8u);
}

}  // namespace
}  // namespace lattice::kernel
