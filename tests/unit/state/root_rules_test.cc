// The root store's write rules and the fold that derives each member's standing
// (state/root_rules.h), on hand-built payloads and intentions.
#include "state/root_rules.h"

#include <gtest/gtest.h>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"

namespace lattice::kernel {
namespace {

const std::string kMesh(16, 'm');
const std::string kStore(16, 's');

std::string NodeKey(const std::string& node, const std::string& field) {
  return "/nodes/" + ToHex(node) + "/" + field;
}

v1::KvPayload Payload(const std::vector<std::pair<std::string, std::string>>& writes) {
  v1::KvPayload payload;
  for (const auto& [key, value] : writes) {
    v1::KvOp* op = payload.add_ops();
    op->set_key(key);
    op->set_value(value);
  }
  return payload;
}

DecodedIntention Signed(const KeyPair& author, uint64_t seq, uint64_t wall_ms,
                        const v1::KvPayload& payload) {
  v1::Intention body;
  body.set_store_id(kMesh);
  body.set_author(author.public_key);
  body.set_seq(seq);
  body.set_prev(seq == 1 ? "" : std::string(32, 'p'));
  body.mutable_hlc()->set_wall_ms(wall_ms);
  body.set_op_type(std::string(kOpKv));
  body.set_payload(payload.SerializeAsString());
  return SignIntention(author, body);
}

StandingInput Input(const KeyPair& author, uint64_t seq, uint64_t wall_ms,
                    const v1::KvPayload& payload) {
  DecodedIntention intention = Signed(author, seq, wall_ms, payload);
  return StandingInput{intention.hlc(), intention.hash, author.public_key, seq,
                       StandingChangesOf(intention)};
}

v1::KvPayload Revocation(const KeyPair& node, uint64_t root_cut, uint64_t store_cut) {
  return Payload({{NodeKey(node.public_key, "status"), "revoked"},
                  {NodeKey(node.public_key, "cut/" + FormatStoreId(kMesh)), FormatCut(root_cut)},
                  {NodeKey(node.public_key, "cut/" + FormatStoreId(kStore)), FormatCut(store_cut)}});
}

v1::KvPayload Admission(const KeyPair& node) {
  return Payload({{NodeKey(node.public_key, "status"), "active"}});
}

TEST(RootRules, ANodeWritesItsOwnNameAddressesTagsAndDiscoveryRecords) {
  KeyPair self = GenerateKeyPair();
  for (const std::string field : {"name", "addrs", "tags", "services/irc"}) {
    EXPECT_TRUE(CheckRootWrite(self.public_key, Payload({{NodeKey(self.public_key, field), "x"}})).ok())
        << field;
  }
}

TEST(RootRules, NoNodeWritesAnotherNodesNameAddressesTagsOrDiscoveryRecords) {
  KeyPair self = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  for (const std::string field : {"name", "addrs", "tags", "services/irc", "anything"}) {
    auto status = CheckRootWrite(self.public_key, Payload({{NodeKey(other.public_key, field), "x"}}));
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << field;
    EXPECT_NE(status.message().find("only by node " + ShortHex(other.public_key)), std::string::npos)
        << status;
  }
  // The id spelled in upper case is another key for the same node: refused too.
  std::string upper = ToHex(other.public_key);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(CheckRootWrite(self.public_key, Payload({{"/nodes/" + upper + "/name", "x"}})).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RootRules, NobodyWritesVoidRangesNotEvenTheNodeItself) {
  KeyPair self = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  std::string field = "void/" + FormatStoreId(kStore);
  EXPECT_EQ(CheckRootWrite(self.public_key, Payload({{NodeKey(other.public_key, field), "0-"}})).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRootWrite(self.public_key, Payload({{NodeKey(self.public_key, field), "0-"}})).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RootRules, StatusIsActiveOrRevokedAndACutComesOnlyWithAStatusChange) {
  KeyPair self = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  EXPECT_TRUE(CheckRootWrite(self.public_key, Revocation(other, 3, 4)).ok());
  EXPECT_TRUE(CheckRootWrite(self.public_key, Admission(other)).ok());
  EXPECT_EQ(CheckRootWrite(self.public_key, Payload({{NodeKey(other.public_key, "status"), "boss"}})).code(),
            absl::StatusCode::kInvalidArgument);
  std::string cut = NodeKey(other.public_key, "cut/" + FormatStoreId(kStore));
  EXPECT_EQ(CheckRootWrite(self.public_key, Payload({{cut, "3"}})).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRootWrite(self.public_key,
                           Payload({{NodeKey(other.public_key, "status"), "revoked"}, {cut, "x"}}))
                .code(),
            absl::StatusCode::kInvalidArgument);
  // The rest of the root store is any member's.
  EXPECT_TRUE(CheckRootWrite(self.public_key, Payload({{"/stores/abc/name", "notes"}})).ok());
}

TEST(RootRules, AnIntentionThatBreaksARuleChangesNoStanding) {
  KeyPair self = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  v1::KvPayload payload = Revocation(other, 1, 1);
  v1::KvOp* rename = payload.add_ops();
  rename->set_key(NodeKey(other.public_key, "name"));
  rename->set_value("mallory");
  EXPECT_TRUE(StandingChangesOf(Signed(self, 1, 10, payload)).empty());
}

TEST(RootRules, ARevocationVoidsWhatTheMemberWritesAfterItsCut) {
  KeyPair creator = GenerateKeyPair();
  KeyPair member = GenerateKeyPair();
  auto standing = FoldStanding({Input(creator, 1, 10, Admission(creator)),
                                Input(creator, 2, 20, Admission(member)),
                                Input(creator, 3, 30, Revocation(member, 2, 5))},
                               kMesh, creator.public_key);
  const MemberStanding& revoked = standing.at(member.public_key);
  EXPECT_EQ(revoked.status, kMemberRevoked);
  EXPECT_EQ(revoked.revoked_by, creator.public_key);
  EXPECT_EQ(revoked.revoked_at_ms, 30u);
  EXPECT_EQ(revoked.void_ranges.at(kStore), (std::vector<SeqRange>{{5, UINT64_MAX}}));
  EXPECT_EQ(revoked.void_ranges.at(kMesh), (std::vector<SeqRange>{{2, UINT64_MAX}}));
  EXPECT_EQ(standing.at(creator.public_key).status, kMemberActive);
}

TEST(RootRules, ARevocationStaysUntilAnExplicitReadmission) {
  KeyPair creator = GenerateKeyPair();
  KeyPair member = GenerateKeyPair();
  std::vector<StandingInput> inputs = {Input(creator, 1, 10, Admission(creator)),
                                       Input(creator, 2, 20, Admission(member)),
                                       Input(creator, 3, 30, Revocation(member, 2, 5)),
                                       Input(creator, 4, 40, Admission(member))};
  EXPECT_EQ(FoldStanding(inputs, kMesh, creator.public_key).at(member.public_key).status,
            kMemberRevoked)
      << "a plain admission does not undo a revocation";
  inputs.push_back(Input(creator, 5, 50,
                         Payload({{NodeKey(member.public_key, "status"), "active"},
                                  {NodeKey(member.public_key, "cut/" + FormatStoreId(kStore)), "9"}})));
  auto standing = FoldStanding(inputs, kMesh, creator.public_key);
  EXPECT_EQ(standing.at(member.public_key).status, kMemberActive);
  EXPECT_EQ(standing.at(member.public_key).void_ranges.at(kStore), (std::vector<SeqRange>{{5, 10}}));
}

TEST(RootRules, OfTwoMembersRevokingEachOtherTheEarlierRevocationStandsInAnyOrder) {
  KeyPair creator = GenerateKeyPair();
  KeyPair a = GenerateKeyPair();
  KeyPair b = GenerateKeyPair();
  // a and b each saw the other up to seq 1 of the root, then revoked it while apart.
  std::vector<StandingInput> inputs = {Input(creator, 1, 10, Admission(creator)),
                                       Input(creator, 2, 20, Admission(a)),
                                       Input(creator, 3, 30, Admission(b)),
                                       Input(a, 2, 50, Revocation(b, 1, 0)),
                                       Input(b, 2, 60, Revocation(a, 1, 0))};
  for (int order = 0; order < 2; ++order) {
    if (order == 1) std::reverse(inputs.begin(), inputs.end());
    auto standing = FoldStanding(inputs, kMesh, creator.public_key);
    EXPECT_EQ(standing.at(b.public_key).status, kMemberRevoked) << "order " << order;
    EXPECT_EQ(standing.at(a.public_key).status, kMemberActive)
        << "b's revocation came after b was revoked: void";
  }
}

TEST(RootRules, AChangeByANodeThatIsNoMemberCountsForNothing) {
  KeyPair creator = GenerateKeyPair();
  KeyPair stranger = GenerateKeyPair();
  auto standing = FoldStanding({Input(creator, 1, 10, Admission(creator)),
                                Input(stranger, 1, 20, Revocation(creator, 1, 1))},
                               kMesh, creator.public_key);
  EXPECT_EQ(standing.at(creator.public_key).status, kMemberActive);
}

}  // namespace
}  // namespace lattice::kernel
