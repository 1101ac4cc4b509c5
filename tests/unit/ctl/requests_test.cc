#include "requests.h"

#include <gtest/gtest.h>

#include "errors.h"
#include "lattice/common/hex.h"
#include "lattice/common/limits.h"

namespace lattice::ctl {
namespace {

TEST(ParseBatchOp, PutSplitsAtTheFirstEquals) {
  auto op = ParseBatchOp("put:config/url=https://x?a=b");
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->key(), "config/url");
  EXPECT_EQ(op->value(), "https://x?a=b");
  EXPECT_FALSE(op->delete_());
}

TEST(ParseBatchOp, PutMayHaveAnEmptyValue) {
  auto op = ParseBatchOp("put:k=");
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->key(), "k");
  EXPECT_EQ(op->value(), "");
}

TEST(ParseBatchOp, Del) {
  auto op = ParseBatchOp("del:old:key");
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->key(), "old:key");
  EXPECT_TRUE(op->delete_());
}

TEST(ParseBatchOp, MalformedOpsAreUsageErrors) {
  for (const char* text : {"put:k", "put:=v", "del:", "set:k=v", "k=v", ""}) {
    auto op = ParseBatchOp(text);
    ASSERT_FALSE(op.ok()) << text;
    EXPECT_TRUE(IsUsageError(op.status())) << text;
    EXPECT_EQ(ExitCodeFor(op.status()), 2);
  }
}

TEST(BuildBatchRequest, KeepsOpsInOrder) {
  auto request = BuildBatchRequest("s", {"put:a=1", "del:b", "put:c=3"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->store(), "s");
  ASSERT_EQ(request->ops_size(), 3);
  EXPECT_EQ(request->ops(0).key(), "a");
  EXPECT_TRUE(request->ops(1).delete_());
  EXPECT_EQ(request->ops(2).value(), "3");
  EXPECT_FALSE(BuildBatchRequest("s", {}).ok());
  EXPECT_FALSE(BuildBatchRequest("s", {"put:a=1", "bogus"}).ok());
}

TEST(ParseRights, AcceptsKnownRightsAndCollapsesDuplicates) {
  auto rights = ParseRights("read, watch,read,write");
  ASSERT_TRUE(rights.ok()) << rights.status();
  EXPECT_EQ(*rights, (std::vector<std::string>{"read", "watch", "write"}));
}

TEST(ParseRights, RejectsUnknownAndEmpty) {
  auto unknown = ParseRights("read,admin");
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(IsUsageError(unknown.status()));
  EXPECT_NE(std::string(unknown.status().message()).find("admin"), std::string::npos);
  EXPECT_FALSE(ParseRights("").ok());
  EXPECT_FALSE(ParseRights(" , ").ok());
}

TEST(BuildCreateTokenRequest, MapsEveryOption) {
  Arguments args;
  args.name = "irc";
  args.stores = {"chat1", "chat2"};
  args.prefixes = {"rooms/"};
  args.rights = "read,watch";
  args.ttl = "2h";
  auto request = BuildCreateTokenRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->name(), "irc");
  ASSERT_EQ(request->stores_size(), 2);
  EXPECT_EQ(request->stores(1), "chat2");
  ASSERT_EQ(request->prefixes_size(), 1);
  EXPECT_EQ(request->prefixes(0), "rooms/");
  ASSERT_EQ(request->rights_size(), 2);
  EXPECT_EQ(request->rights(0), "read");
  EXPECT_EQ(request->ttl_seconds(), 7200u);
}

TEST(BuildCreateTokenRequest, NoTtlMeansNoExpiry) {
  Arguments args;
  args.name = "n";
  args.stores = {"s"};
  args.rights = "read";
  auto request = BuildCreateTokenRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->ttl_seconds(), 0u);
  EXPECT_EQ(request->prefixes_size(), 0);
}

TEST(BuildCreateTokenRequest, BadTtlIsAUsageError) {
  Arguments args;
  args.name = "n";
  args.stores = {"s"};
  args.rights = "read";
  for (const char* ttl : {"soon", "5y", "0"}) {
    args.ttl = ttl;
    auto request = BuildCreateTokenRequest(args);
    ASSERT_FALSE(request.ok()) << ttl;
    EXPECT_TRUE(IsUsageError(request.status())) << ttl;
  }
}

TEST(BuildWatchRequests, FromNowUnlessACursorIsGiven) {
  Arguments args;
  args.store = "s";
  args.prefix = "p/";
  v1::KvWatchRequest now = BuildKvWatchRequest(args);
  EXPECT_EQ(now.store(), "s");
  EXPECT_EQ(now.prefix(), "p/");
  EXPECT_TRUE(now.from_now());

  args.from = 0;
  v1::KvWatchRequest all = BuildKvWatchRequest(args);
  EXPECT_FALSE(all.from_now());
  EXPECT_EQ(all.from_cursor(), 0u);

  args.from = 17;
  args.channel = "general";
  v1::ChatWatchRequest chat = BuildChatWatchRequest(args);
  EXPECT_EQ(chat.channel(), "general");
  EXPECT_FALSE(chat.from_now());
  EXPECT_EQ(chat.from_cursor(), 17u);
}

TEST(BuildScanRequest, MapsPrefixAndLimit) {
  Arguments args;
  args.store = "s";
  args.prefix = "users/";
  args.limit = 10;
  v1::ScanRequest request = BuildScanRequest(args);
  EXPECT_EQ(request.store(), "s");
  EXPECT_EQ(request.prefix(), "users/");
  EXPECT_EQ(request.limit(), 10u);
}

TEST(BuildHistoryRequest, LimitIsBounded) {
  Arguments args;
  args.store = "c";
  args.channel = "general";
  args.limit = limits::kMaxHistoryLimit;
  args.before = "tok";
  auto request = BuildHistoryRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->limit(), limits::kMaxHistoryLimit);
  EXPECT_EQ(request->before(), "tok");
  args.limit = limits::kMaxHistoryLimit + 1;
  EXPECT_TRUE(IsUsageError(BuildHistoryRequest(args).status()));
}

std::string HexOf(const v1::SignedIntention& intention) {
  return ToHex(intention.SerializeAsString());
}

TEST(ParseIngestText, OneHexIntentionPerLineWithCommentsAndBlanks) {
  v1::SignedIntention first;
  first.set_body("body-1");
  first.set_signature("sig-1");
  v1::SignedIntention second;
  second.set_body("body-2");
  std::string upper = HexOf(second);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string text = "# two intentions\n" + HexOf(first) + "\r\n\n   " + upper + "  \n";
  auto intentions = ParseIngestText(text, "in.hex");
  ASSERT_TRUE(intentions.ok()) << intentions.status();
  ASSERT_EQ(intentions->size(), 2u);
  EXPECT_EQ((*intentions)[0].body(), "body-1");
  EXPECT_EQ((*intentions)[0].signature(), "sig-1");
  EXPECT_EQ((*intentions)[1].body(), "body-2");
}

TEST(ParseIngestText, BadLinesAreNamedByFileAndLine) {
  auto not_hex = ParseIngestText("# c\n0a00\nzz\n", "in.hex");
  ASSERT_FALSE(not_hex.ok());
  EXPECT_FALSE(IsUsageError(not_hex.status()));
  EXPECT_NE(std::string(not_hex.status().message()).find("in.hex:3"), std::string::npos)
      << not_hex.status();
  // 0xff is not a valid protobuf tag.
  auto not_proto = ParseIngestText("ffffffff\n", "in.hex");
  ASSERT_FALSE(not_proto.ok());
  EXPECT_NE(std::string(not_proto.status().message()).find("in.hex:1"), std::string::npos);
}

TEST(BuildIngestRequests, SplitsAtThePerCallLimit) {
  std::vector<v1::SignedIntention> intentions(limits::kMaxIngestPerCall + 1);
  intentions.back().set_body("last");
  auto requests = BuildIngestRequests("s", intentions);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(static_cast<size_t>(requests[0].intentions_size()), limits::kMaxIngestPerCall);
  ASSERT_EQ(requests[1].intentions_size(), 1);
  EXPECT_EQ(requests[1].intentions(0).body(), "last");
  EXPECT_EQ(requests[1].store(), "s");
  EXPECT_TRUE(BuildIngestRequests("s", {}).empty());
}

}  // namespace
}  // namespace lattice::ctl
