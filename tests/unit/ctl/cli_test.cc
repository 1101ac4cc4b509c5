#include "cli.h"

#include <sstream>

#include <gtest/gtest.h>

namespace lattice::ctl {
namespace {

struct Parsed {
  std::optional<int> exit_code;
  Arguments args;
  std::string out;
  std::string err;
};

Parsed Parse(std::vector<std::string> words) {
  words.insert(words.begin(), "lattice-ctl");
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  Parsed parsed;
  std::ostringstream out;
  std::ostringstream err;
  parsed.exit_code = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), &parsed.args,
                                      out, err);
  parsed.out = out.str();
  parsed.err = err.str();
  return parsed;
}

TEST(Cli, KvPutTakesStoreKeyAndValue) {
  Parsed p = Parse({"kv", "put", "notes", "greeting", "hello world"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kKvPut);
  EXPECT_EQ(p.args.store, "notes");
  EXPECT_EQ(p.args.key, "greeting");
  EXPECT_EQ(p.args.value, "hello world");
}

TEST(Cli, DashValueMeansStdinAndDoubleDashAllowsLeadingDashes) {
  EXPECT_EQ(Parse({"kv", "put", "s", "k", "-"}).args.value, "-");
  EXPECT_EQ(Parse({"kv", "put", "s", "k", "--", "-5"}).args.value, "-5");
}

TEST(Cli, GlobalOptionsWorkBeforeAndAfterTheCommand) {
  Parsed before = Parse({"--socket", "/tmp/k.sock", "--token", "t", "--json", "kv", "get", "s",
                         "k"});
  ASSERT_FALSE(before.exit_code.has_value()) << before.err;
  EXPECT_EQ(before.args.global.socket, "/tmp/k.sock");
  EXPECT_EQ(before.args.global.token, "t");
  EXPECT_TRUE(before.args.global.json);

  Parsed after = Parse({"kv", "get", "s", "k", "--json", "--socket", "/x.sock"});
  ASSERT_FALSE(after.exit_code.has_value()) << after.err;
  EXPECT_EQ(after.args.command, Command::kKvGet);
  EXPECT_TRUE(after.args.global.json);
  EXPECT_EQ(after.args.global.socket, "/x.sock");
}

TEST(Cli, StoreCommands) {
  Parsed create = Parse({"store", "create", "notes", "--type", "kv"});
  ASSERT_FALSE(create.exit_code.has_value()) << create.err;
  EXPECT_EQ(create.args.command, Command::kStoreCreate);
  EXPECT_EQ(create.args.name, "notes");
  EXPECT_EQ(create.args.type, "kv");

  Parsed list = Parse({"store", "list", "--all"});
  EXPECT_EQ(list.args.command, Command::kStoreList);
  EXPECT_TRUE(list.args.all);
  EXPECT_FALSE(Parse({"store", "list"}).args.all);

  EXPECT_EQ(Parse({"store", "archive", "notes"}).args.command, Command::kStoreArchive);
  EXPECT_EQ(Parse({"store", "unarchive", "notes"}).args.command, Command::kStoreUnarchive);
}

TEST(Cli, StoreTypeMustBeKvChatOrFs) {
  Parsed fs = Parse({"store", "create", "x", "--type", "fs"});
  ASSERT_FALSE(fs.exit_code.has_value()) << fs.err;
  EXPECT_EQ(fs.args.type, "fs");
  Parsed p = Parse({"store", "create", "x", "--type", "files"});
  EXPECT_EQ(p.exit_code, 2);
  Parsed missing = Parse({"store", "create", "x"});
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(Cli, WatchStartsNowUnlessFromIsGiven) {
  Parsed now = Parse({"kv", "watch", "s"});
  ASSERT_FALSE(now.exit_code.has_value()) << now.err;
  EXPECT_FALSE(now.args.from.has_value());
  EXPECT_EQ(now.args.count, 0u);

  Parsed from = Parse({"kv", "watch", "s", "users/", "--from", "0", "--count", "3"});
  ASSERT_FALSE(from.exit_code.has_value()) << from.err;
  EXPECT_EQ(from.args.command, Command::kKvWatch);
  EXPECT_EQ(from.args.prefix, "users/");
  ASSERT_TRUE(from.args.from.has_value());
  EXPECT_EQ(*from.args.from, 0u);
  EXPECT_EQ(from.args.count, 3u);

  EXPECT_EQ(Parse({"kv", "watch", "s", "--count", "many"}).exit_code, 2);
}

TEST(Cli, BatchCollectsEveryOp) {
  Parsed p = Parse({"kv", "batch", "s", "put:a=1", "del:b", "put:c="});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.ops, (std::vector<std::string>{"put:a=1", "del:b", "put:c="}));
  EXPECT_EQ(Parse({"kv", "batch", "s"}).exit_code, 2);
}

TEST(Cli, NoSyncAsksForWritesAcknowledgedOnceApplied) {
  Parsed put = Parse({"kv", "put", "s", "k", "v", "--no-sync"});
  ASSERT_FALSE(put.exit_code.has_value()) << put.err;
  EXPECT_TRUE(put.args.no_sync);
  EXPECT_FALSE(Parse({"kv", "put", "s", "k", "v"}).args.no_sync);
  EXPECT_TRUE(Parse({"kv", "del", "s", "k", "--no-sync"}).args.no_sync);
  EXPECT_TRUE(Parse({"kv", "batch", "s", "put:a=1", "--no-sync"}).args.no_sync);
  Parsed sync = Parse({"kv", "sync", "s"});
  ASSERT_FALSE(sync.exit_code.has_value()) << sync.err;
  EXPECT_EQ(sync.args.command, Command::kKvSync);
  EXPECT_EQ(sync.args.store, "s");
  EXPECT_EQ(Parse({"kv", "sync"}).exit_code, 2);
}

TEST(Cli, ChatTopicShowsWithoutTextAndSetsWithIt) {
  Parsed show = Parse({"chat", "topic", "c", "general"});
  ASSERT_FALSE(show.exit_code.has_value()) << show.err;
  EXPECT_EQ(show.args.command, Command::kChatTopic);
  EXPECT_FALSE(show.args.topic.has_value());

  Parsed set = Parse({"chat", "topic", "c", "general", "release day", "--sender", "ops"});
  ASSERT_FALSE(set.exit_code.has_value()) << set.err;
  ASSERT_TRUE(set.args.topic.has_value());
  EXPECT_EQ(*set.args.topic, "release day");
  EXPECT_EQ(set.args.sender, "ops");

  Parsed empty = Parse({"chat", "topic", "c", "general", ""});
  ASSERT_TRUE(empty.args.topic.has_value());
  EXPECT_EQ(*empty.args.topic, "");
}

TEST(Cli, ChatPostAndHistory) {
  Parsed post = Parse({"chat", "post", "c", "general", "hi", "--sender", "alice"});
  ASSERT_FALSE(post.exit_code.has_value()) << post.err;
  EXPECT_EQ(post.args.channel, "general");
  EXPECT_EQ(post.args.text, "hi");
  EXPECT_EQ(post.args.sender, "alice");

  Parsed history = Parse({"chat", "history", "c", "general", "--limit", "10"});
  EXPECT_EQ(history.args.command, Command::kChatHistory);
  EXPECT_EQ(history.args.limit, 10u);
}

TEST(Cli, TokenCreateTakesRepeatedStoresAndPrefixes) {
  Parsed p = Parse({"token", "create", "irc", "--store", "chat1", "--store", "chat2", "--prefix",
                    "a/", "--prefix", "b/", "--rights", "read,watch", "--ttl", "30d"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kTokenCreate);
  EXPECT_EQ(p.args.name, "irc");
  EXPECT_EQ(p.args.stores, (std::vector<std::string>{"chat1", "chat2"}));
  EXPECT_EQ(p.args.prefixes, (std::vector<std::string>{"a/", "b/"}));
  EXPECT_EQ(p.args.rights, "read,watch");
  EXPECT_EQ(p.args.ttl, "30d");

  // --store is optional to the parser: a metrics token names none (BuildCreateTokenRequest
  // refuses a store-less token with any other right).
  Parsed metrics = Parse({"token", "create", "scraper", "--rights", "metrics"});
  ASSERT_FALSE(metrics.exit_code.has_value()) << metrics.err;
  EXPECT_TRUE(metrics.args.stores.empty());
  EXPECT_EQ(Parse({"token", "create", "irc", "--store", "s"}).exit_code, 2) << "--rights is required";
}

TEST(Cli, MetricsCommand) {
  EXPECT_EQ(Parse({"metrics"}).args.command, Command::kMetrics);
  EXPECT_TRUE(Parse({"--json", "metrics"}).args.global.json);
}

TEST(Cli, DebugCommands) {
  EXPECT_EQ(Parse({"debug", "verify", "s"}).args.command, Command::kDebugVerify);
  Parsed ingest = Parse({"debug", "ingest", "s", "intentions.hex"});
  EXPECT_EQ(ingest.args.command, Command::kDebugIngest);
  EXPECT_EQ(ingest.args.file, "intentions.hex");
}

TEST(Cli, PeerInviteTakesAnOptionalMeshAndTtl) {
  Parsed plain = Parse({"peer", "invite"});
  ASSERT_FALSE(plain.exit_code.has_value()) << plain.err;
  EXPECT_EQ(plain.args.command, Command::kPeerInvite);
  EXPECT_EQ(plain.args.mesh, "");
  EXPECT_EQ(plain.args.ttl, "");

  Parsed full = Parse({"peer", "invite", "--mesh", "home", "--ttl", "2h"});
  ASSERT_FALSE(full.exit_code.has_value()) << full.err;
  EXPECT_EQ(full.args.mesh, "home");
  EXPECT_EQ(full.args.ttl, "2h");

  EXPECT_EQ(Parse({"peer", "invite", "extra"}).exit_code, 2);
  EXPECT_EQ(Parse({"peer", "invite", "--mesh"}).exit_code, 2);
}

TEST(Cli, PeerJoinNeedsATokenAndTakesNameAndTimeout) {
  Parsed p = Parse({"peer", "join", "TOKEN123", "--name", "laptop", "--timeout", "1m"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kPeerJoin);
  EXPECT_EQ(p.args.invite, "TOKEN123");
  EXPECT_EQ(p.args.name, "laptop");
  EXPECT_EQ(p.args.timeout, "1m");

  EXPECT_EQ(Parse({"peer", "join"}).exit_code, 2);
  EXPECT_EQ(Parse({"peer", "join", "t1", "t2"}).exit_code, 2);
}

TEST(Cli, PeerListRevokeAndRename) {
  Parsed list = Parse({"peer", "list", "--mesh", "home"});
  ASSERT_FALSE(list.exit_code.has_value()) << list.err;
  EXPECT_EQ(list.args.command, Command::kPeerList);
  EXPECT_EQ(list.args.mesh, "home");

  Parsed revoke = Parse({"peer", "revoke", "1a2b3c4d"});
  ASSERT_FALSE(revoke.exit_code.has_value()) << revoke.err;
  EXPECT_EQ(revoke.args.command, Command::kPeerRevoke);
  EXPECT_EQ(revoke.args.node, "1a2b3c4d");
  EXPECT_EQ(revoke.args.mesh, "");

  Parsed rename = Parse({"peer", "rename", "1a2b3c4d", "laptop", "--mesh", "home"});
  ASSERT_FALSE(rename.exit_code.has_value()) << rename.err;
  EXPECT_EQ(rename.args.command, Command::kPeerRename);
  EXPECT_EQ(rename.args.node, "1a2b3c4d");
  EXPECT_EQ(rename.args.name, "laptop");
  EXPECT_EQ(rename.args.mesh, "home");

  EXPECT_EQ(Parse({"peer", "revoke"}).exit_code, 2);
  EXPECT_EQ(Parse({"peer", "rename", "1a2b3c4d"}).exit_code, 2);
  EXPECT_EQ(Parse({"peer"}).exit_code, 2);
  EXPECT_EQ(Parse({"peer", "befriend", "x"}).exit_code, 2);
}

TEST(Cli, StoreStatusAndSync) {
  Parsed status = Parse({"store", "status", "notes"});
  ASSERT_FALSE(status.exit_code.has_value()) << status.err;
  EXPECT_EQ(status.args.command, Command::kStoreStatus);
  EXPECT_EQ(status.args.store, "notes");
  EXPECT_EQ(Parse({"store", "status"}).exit_code, 2);

  Parsed sync = Parse({"store", "sync", "notes", "--peer", "laptop", "--wait", "--timeout", "45s"});
  ASSERT_FALSE(sync.exit_code.has_value()) << sync.err;
  EXPECT_EQ(sync.args.command, Command::kStoreSync);
  EXPECT_EQ(sync.args.store, "notes");
  EXPECT_EQ(sync.args.node, "laptop");
  EXPECT_TRUE(sync.args.wait);
  EXPECT_EQ(sync.args.timeout, "45s");

  // --wait is checked when the request is built, with a message that explains it.
  Parsed no_wait = Parse({"store", "sync", "notes"});
  ASSERT_FALSE(no_wait.exit_code.has_value()) << no_wait.err;
  EXPECT_FALSE(no_wait.args.wait);
  EXPECT_EQ(Parse({"store", "sync", "--wait"}).exit_code, 2);
}

TEST(Cli, DebugFloatingNeedsAStore) {
  Parsed p = Parse({"debug", "floating", "notes"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kDebugFloating);
  EXPECT_EQ(p.args.store, "notes");
  EXPECT_EQ(Parse({"debug", "floating"}).exit_code, 2);
}

TEST(Cli, HelpGoesToStdoutAndExitsZero) {
  Parsed p = Parse({"--help"});
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(p.out.find("Usage:"), std::string::npos);
  EXPECT_NE(p.out.find("kv"), std::string::npos);
  EXPECT_TRUE(p.err.empty());

  Parsed sub = Parse({"kv", "watch", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--count"), std::string::npos);

  EXPECT_NE(p.out.find("peer"), std::string::npos);
  Parsed peer = Parse({"peer", "--help"});
  EXPECT_EQ(peer.exit_code, 0);
  for (const char* command : {"invite", "join", "list", "revoke", "rename"}) {
    EXPECT_NE(peer.out.find(command), std::string::npos) << command << "\n" << peer.out;
  }
  Parsed sync = Parse({"store", "sync", "--help"});
  EXPECT_EQ(sync.exit_code, 0);
  EXPECT_NE(sync.out.find("--wait"), std::string::npos);
  EXPECT_NE(sync.out.find("--timeout"), std::string::npos);
}

TEST(Cli, UsageErrorsAreOneLineAndExitTwo) {
  for (const auto& words : std::vector<std::vector<std::string>>{
           {},
           {"kv"},
           {"kv", "put", "s", "k"},
           {"frobnicate"},
           {"kv", "get", "s", "k", "x"},
           {"peer", "join"},
           {"peer", "rename", "n"},
           {"store", "status"},
           {"debug", "floating"}}) {
    Parsed p = Parse(words);
    EXPECT_EQ(p.exit_code, 2);
    EXPECT_EQ(p.err.rfind("lattice-ctl: ", 0), 0u) << p.err;
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
  }
}

TEST(Cli, ServiceCommands) {
  Parsed p = Parse({"service", "declare", "lattice.irc-gateway", "--store", "lobby", "--policy",
                    "TaggedNodes:gateway", "--set", "port=6667", "--set", "bind=127.0.0.1"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kServiceDeclare);
  EXPECT_EQ(p.args.service, "lattice.irc-gateway");
  EXPECT_EQ(p.args.store, "lobby");
  EXPECT_EQ(p.args.policy, "TaggedNodes:gateway");
  EXPECT_EQ(p.args.sets, (std::vector<std::string>{"port=6667", "bind=127.0.0.1"}));
  p = Parse({"service", "consent", "lattice.irc-gateway", "follow-mesh", "--mesh", "work"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kServiceConsent);
  EXPECT_EQ(p.args.consent, "follow-mesh");
  EXPECT_EQ(p.args.mesh, "work");
  EXPECT_EQ(Parse({"service", "consent", "x", "sometimes"}).exit_code, 2);
  p = Parse({"service", "override", "x", "--store", "s", "--clear", "port"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.clear, "port");
  for (auto [word, command] : {std::pair{"start", Command::kServiceStart}, std::pair{"stop", Command::kServiceStop},
                               std::pair{"reset", Command::kServiceReset}}) {
    p = Parse({"service", word, "x", "--store", "s"});
    ASSERT_FALSE(p.exit_code.has_value()) << p.err;
    EXPECT_EQ(p.args.command, command);
  }
  EXPECT_EQ(Parse({"service", "start", "x"}).exit_code, 2) << "--store is required";
  p = Parse({"node", "tag", "remove", "gateway", "--mesh", "work"});
  ASSERT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(p.args.command, Command::kNodeTagRemove);
  EXPECT_EQ(p.args.tag, "gateway");
}

}  // namespace
}  // namespace lattice::ctl
