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

TEST(BuildCreateTokenRequest, OnlyAMetricsTokenMayNameNoStore) {
  Arguments args;
  args.name = "scraper";
  args.rights = "metrics";
  auto request = BuildCreateTokenRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->stores_size(), 0);
  ASSERT_EQ(request->rights_size(), 1);
  EXPECT_EQ(request->rights(0), "metrics");

  args.rights = "metrics,read";
  auto with_read = BuildCreateTokenRequest(args);
  ASSERT_FALSE(with_read.ok());
  EXPECT_TRUE(IsUsageError(with_read.status()));
  EXPECT_NE(std::string(with_read.status().message()).find("--store"), std::string::npos);
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

TEST(ParseDurationOption, NamesTheFlagInErrorsAndRefusesZero) {
  auto hours = ParseDurationOption("--ttl", "2h");
  ASSERT_TRUE(hours.ok()) << hours.status();
  EXPECT_EQ(*hours, 7200u);
  auto bad = ParseDurationOption("--timeout", "soon");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(IsUsageError(bad.status()));
  EXPECT_EQ(std::string(bad.status().message()).rfind("--timeout: ", 0), 0u) << bad.status();
  auto zero = ParseDurationOption("--ttl", "0s");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "--ttl must be longer than zero");
}

TEST(ParseTimeoutMs, AbsentIsTheKernelsDefaultAndTheMaximumHolds) {
  EXPECT_EQ(*ParseTimeoutMs(""), 0u);
  EXPECT_EQ(*ParseTimeoutMs("90s"), 90'000u);
  EXPECT_EQ(*ParseTimeoutMs("24h"), kMaxTimeoutSeconds * 1000);
  for (const char* text : {"25h", "2d", "0", "fast"}) {
    auto timeout = ParseTimeoutMs(text);
    ASSERT_FALSE(timeout.ok()) << text;
    EXPECT_TRUE(IsUsageError(timeout.status())) << text;
  }
  EXPECT_NE(std::string(ParseTimeoutMs("2d").status().message()).find("maximum of 24h"),
            std::string::npos);
}

TEST(BuildInvitePeerRequest, MapsMeshAndTtl) {
  Arguments args;
  auto plain = BuildInvitePeerRequest(args);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->mesh(), "");
  EXPECT_EQ(plain->ttl_seconds(), 0u);

  args.mesh = "home";
  args.ttl = "30m";
  auto full = BuildInvitePeerRequest(args);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->mesh(), "home");
  EXPECT_EQ(full->ttl_seconds(), 1800u);

  for (const char* ttl : {"0", "tomorrow", "3y"}) {
    args.ttl = ttl;
    EXPECT_TRUE(IsUsageError(BuildInvitePeerRequest(args).status())) << ttl;
  }
}

TEST(BuildJoinMeshRequest, StripsBlanksFromThePastedTokenAndMapsOptions) {
  Arguments args;
  args.invite = "  lat1abc\n def\t\r\n";
  args.name = "laptop";
  args.timeout = "2m";
  auto request = BuildJoinMeshRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "lat1abcdef");
  EXPECT_EQ(request->name(), "laptop");
  EXPECT_EQ(request->timeout_ms(), 120'000u);

  args.timeout = "";
  args.name = "";
  auto defaults = BuildJoinMeshRequest(args);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->timeout_ms(), 0u);
  EXPECT_EQ(defaults->name(), "");
}

TEST(BuildJoinMeshRequest, BlankTokenLongNameAndBadTimeoutAreUsageErrors) {
  Arguments args;
  args.invite = " \n";
  auto blank = BuildJoinMeshRequest(args);
  EXPECT_TRUE(IsUsageError(blank.status()));
  EXPECT_NE(std::string(blank.status().message()).find("TOKEN is empty"), std::string::npos);

  args.invite = "tok";
  args.name = std::string(limits::kMaxNodeNameBytes + 1, 'n');
  auto long_name = BuildJoinMeshRequest(args);
  EXPECT_TRUE(IsUsageError(long_name.status()));
  EXPECT_NE(std::string(long_name.status().message()).find("--name"), std::string::npos);
  args.name = std::string(limits::kMaxNodeNameBytes, 'n');
  EXPECT_TRUE(BuildJoinMeshRequest(args).ok());

  args.timeout = "forever";
  EXPECT_TRUE(IsUsageError(BuildJoinMeshRequest(args).status()));
}

TEST(BuildRevokePeerRequest, MapsNodeAndMeshAndNeedsANode) {
  Arguments args;
  args.node = "1a2b3c4d";
  args.mesh = "home";
  auto request = BuildRevokePeerRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->node(), "1a2b3c4d");
  EXPECT_EQ(request->mesh(), "home");
  args.node = "";
  EXPECT_TRUE(IsUsageError(BuildRevokePeerRequest(args).status()));
}

TEST(BuildRenamePeerRequest, NeedsANodeAndANameWithinTheLimit) {
  Arguments args;
  args.node = "laptop";
  args.name = "old laptop";
  auto request = BuildRenamePeerRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->node(), "laptop");
  EXPECT_EQ(request->name(), "old laptop");
  EXPECT_EQ(request->mesh(), "");

  args.name = "";
  EXPECT_TRUE(IsUsageError(BuildRenamePeerRequest(args).status()));
  args.name = std::string(limits::kMaxNodeNameBytes + 1, 'x');
  EXPECT_TRUE(IsUsageError(BuildRenamePeerRequest(args).status()));
  args.name = "n";
  args.node = "";
  EXPECT_TRUE(IsUsageError(BuildRenamePeerRequest(args).status()));
}

TEST(BuildSyncStoreRequest, NeedsWaitAndMapsPeerAndTimeout) {
  Arguments args;
  args.store = "notes";
  auto no_wait = BuildSyncStoreRequest(args);
  ASSERT_FALSE(no_wait.ok());
  EXPECT_TRUE(IsUsageError(no_wait.status()));
  EXPECT_NE(std::string(no_wait.status().message()).find("--wait"), std::string::npos);

  args.wait = true;
  auto every_peer = BuildSyncStoreRequest(args);
  ASSERT_TRUE(every_peer.ok()) << every_peer.status();
  EXPECT_EQ(every_peer->store(), "notes");
  EXPECT_EQ(every_peer->peer(), "");
  EXPECT_EQ(every_peer->timeout_ms(), 0u);

  args.node = "laptop";
  args.timeout = "10s";
  auto one_peer = BuildSyncStoreRequest(args);
  ASSERT_TRUE(one_peer.ok()) << one_peer.status();
  EXPECT_EQ(one_peer->peer(), "laptop");
  EXPECT_EQ(one_peer->timeout_ms(), 10'000u);

  args.timeout = "-5s";
  EXPECT_TRUE(IsUsageError(BuildSyncStoreRequest(args).status()));
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

TEST(ServiceRequests, DeclareNeedsExactlyOneOfPolicyAndLocal) {
  Arguments args;
  args.service = "lattice.irc-gateway";
  args.store = "lobby";
  EXPECT_TRUE(IsUsageError(BuildDeclareServiceRequest(args).status()));
  args.policy = "Global";
  args.local = true;
  EXPECT_TRUE(IsUsageError(BuildDeclareServiceRequest(args).status()));
  args.local = false;
  args.sets = {"port=6667", "motd=a=b", "password="};
  auto request = BuildDeclareServiceRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->settings_size(), 3);
  EXPECT_EQ(request->settings(1).name(), "motd");
  EXPECT_EQ(request->settings(1).value(), "a=b");
  EXPECT_EQ(request->settings(2).value(), "");
  args.sets = {"=6667"};
  EXPECT_TRUE(IsUsageError(BuildDeclareServiceRequest(args).status()));
  args.sets = {"port"};
  EXPECT_TRUE(IsUsageError(BuildDeclareServiceRequest(args).status()));
}

TEST(ServiceRequests, OverrideSetsOrClearsOneKey) {
  Arguments args;
  args.service = "lattice.irc-gateway";
  args.store = "lobby";
  EXPECT_TRUE(IsUsageError(BuildSetServiceOverrideRequest(args).status()));
  args.assignment = "port=6668";
  auto set = BuildSetServiceOverrideRequest(args);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->key(), "port");
  EXPECT_EQ(set->value(), "6668");
  EXPECT_FALSE(set->clear());
  args.clear = "port";
  EXPECT_TRUE(IsUsageError(BuildSetServiceOverrideRequest(args).status()));
  args.assignment.clear();
  auto cleared = BuildSetServiceOverrideRequest(args);
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(cleared->clear());
}

}  // namespace
}  // namespace lattice::ctl
