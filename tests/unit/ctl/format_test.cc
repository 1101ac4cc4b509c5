#include <gtest/gtest.h>

#include "format_admin.h"
#include "format_chat.h"
#include "format_kv.h"

namespace lattice::ctl {
namespace {

v1::Hlc MakeHlc(uint64_t wall_ms, uint32_t counter) {
  v1::Hlc hlc;
  hlc.set_wall_ms(wall_ms);
  hlc.set_counter(counter);
  return hlc;
}

TEST(KvFormat, WatchLinesCarryCursorOpKeyAndValue) {
  v1::KvEvent put;
  put.set_cursor(12);
  put.set_key("users/alice");
  put.set_value("admin");
  EXPECT_EQ(KvEventLine(put), "12 put users/alice admin");

  v1::KvEvent del;
  del.set_cursor(13);
  del.set_key("users/bob");
  del.set_deleted(true);
  EXPECT_EQ(KvEventLine(del), "13 del users/bob");

  v1::KvEvent multiline;
  multiline.set_cursor(14);
  multiline.set_key("k");
  multiline.set_value("two\nlines");
  EXPECT_EQ(KvEventLine(multiline), "14 put k two\\nlines");
}

TEST(KvFormat, WatchJson) {
  v1::KvEvent put;
  put.set_cursor(12);
  put.set_key("k");
  put.set_value("v");
  put.set_author("ab");
  put.set_hash("cd");
  *put.mutable_hlc() = MakeHlc(5, 1);
  nlohmann::json json = KvEventJson(put);
  EXPECT_EQ(json["cursor"], 12);
  EXPECT_EQ(json["op"], "put");
  EXPECT_EQ(json["key"], "k");
  EXPECT_EQ(json["value"], "v");
  EXPECT_EQ(json["author"], "ab");
  EXPECT_EQ(json["hash"], "cd");
  EXPECT_EQ(json["hlc"]["wall_ms"], 5);

  v1::KvEvent del;
  del.set_deleted(true);
  del.set_key("k");
  EXPECT_EQ(KvEventJson(del)["op"], "del");
  EXPECT_FALSE(KvEventJson(del).contains("value"));
}

TEST(KvFormat, GetJsonHasTheAgreedFields) {
  v1::GetResponse response;
  response.set_found(true);
  response.set_value("hello");
  response.set_conflicted(true);
  response.set_author("a1");
  *response.mutable_hlc() = MakeHlc(1000, 2);
  nlohmann::json json = GetJson("greeting", response);
  EXPECT_EQ(json, (nlohmann::json{{"key", "greeting"},
                                  {"value", "hello"},
                                  {"conflicted", true},
                                  {"hlc", {{"wall_ms", 1000}, {"counter", 2}}},
                                  {"author", "a1"}}));
}

TEST(KvFormat, ScanLines) {
  v1::ScanEntry entry;
  entry.set_key("a");
  entry.set_value("1");
  EXPECT_EQ(ScanEntryLine(entry), "a\t1");
  entry.set_conflicted(true);
  EXPECT_EQ(ScanEntryLine(entry), "a\t1\t(conflicted)");
  EXPECT_EQ(ScanEntryJson(entry)["conflicted"], true);
}

TEST(KvFormat, InspectShowsEveryHeadWinnerFirst) {
  v1::InspectResponse response;
  response.set_conflicted(true);
  auto* winner = response.add_heads();
  winner->set_value("blue");
  winner->set_author("aaaa");
  winner->set_hash("h1");
  auto* other = response.add_heads();
  other->set_deleted(true);
  other->set_author("bbbb");
  other->set_hash("h2");
  std::string text = InspectText("color", response);
  EXPECT_NE(text.find("key: color"), std::string::npos) << text;
  EXPECT_NE(text.find("heads: 2 (conflicted)"), std::string::npos) << text;
  EXPECT_NE(text.find("head 1 (winner)"), std::string::npos) << text;
  EXPECT_NE(text.find("blue"), std::string::npos) << text;
  EXPECT_NE(text.find("(deleted)"), std::string::npos) << text;

  nlohmann::json json = InspectJson("color", response);
  ASSERT_EQ(json["heads"].size(), 2u);
  EXPECT_EQ(json["heads"][0]["value"], "blue");
  EXPECT_EQ(json["heads"][1]["deleted"], true);
  EXPECT_FALSE(json["heads"][1].contains("value"));
}

TEST(KvFormat, WriteResultJson) {
  v1::WriteResult result;
  result.set_hash("ff");
  result.set_cursor(9);
  EXPECT_EQ(WriteResultJson(result)["cursor"], 9);
  EXPECT_EQ(WriteResultJson(result)["hash"], "ff");
}

v1::ChatMessage Message(const std::string& kind, const std::string& text) {
  v1::ChatMessage message;
  message.set_hash("1a2b3c4d5e6f");
  message.set_channel("general");
  message.set_kind(kind);
  message.set_text(text);
  message.set_sender("alice");
  message.set_author("99887766554433");
  message.set_cursor(3);
  *message.mutable_hlc() = MakeHlc(1700000000123, 0);
  return message;
}

TEST(ChatFormat, EachKindReadsNaturally) {
  EXPECT_EQ(ChatMessageLine(Message("post", "hello")),
            "2023-11-14T22:13:20Z general [1a2b3c4d] alice: hello");
  v1::ChatMessage action = Message("post", "waves");
  action.set_action(true);
  EXPECT_EQ(ChatMessageLine(action), "2023-11-14T22:13:20Z general [1a2b3c4d] * alice waves");
  v1::ChatMessage reply = Message("reply", "hi");
  reply.set_ref("0f0e0d0c0b0a");
  EXPECT_EQ(ChatMessageLine(reply),
            "2023-11-14T22:13:20Z general [1a2b3c4d] alice (reply to 0f0e0d0c): hi");
  v1::ChatMessage react = Message("react", "+1");
  react.set_ref("0f0e0d0c0b0a");
  EXPECT_EQ(ChatMessageLine(react),
            "2023-11-14T22:13:20Z general [1a2b3c4d] alice reacted +1 to 0f0e0d0c");
  EXPECT_EQ(ChatMessageLine(Message("topic", "releases")),
            "2023-11-14T22:13:20Z general [1a2b3c4d] alice set the topic: releases");
  v1::ChatMessage anonymous = Message("post", "x");
  anonymous.clear_sender();
  EXPECT_EQ(ChatMessageLine(anonymous), "2023-11-14T22:13:20Z general [1a2b3c4d] 99887766: x");
  EXPECT_EQ(ChatWatchLine(Message("post", "hello")),
            "3 2023-11-14T22:13:20Z general [1a2b3c4d] alice: hello");
}

TEST(ChatFormat, HistoryMentionsTheNextPage) {
  v1::HistoryResponse history;
  *history.add_messages() = Message("post", "one");
  history.set_next_before("page2");
  std::string text = HistoryText(history);
  EXPECT_NE(text.find("alice: one\n"), std::string::npos);
  EXPECT_NE(text.find("--before page2"), std::string::npos);
  nlohmann::json json = HistoryJson(history);
  EXPECT_EQ(json["messages"][0]["text"], "one");
  EXPECT_EQ(json["next_before"], "page2");
}

TEST(ChatFormat, Topic) {
  v1::Topic unset;
  EXPECT_EQ(TopicText(unset), "(no topic)\n");
  v1::Topic topic;
  topic.set_set(true);
  topic.set_text("release day");
  topic.set_sender("ops");
  *topic.mutable_hlc() = MakeHlc(1700000000123, 0);
  EXPECT_EQ(TopicText(topic), "release day\n(set by ops at 2023-11-14T22:13:20Z)\n");
  EXPECT_EQ(TopicJson(topic)["text"], "release day");
}

TEST(AdminFormat, StatusShowsTheHealthFields) {
  v1::StatusResponse status;
  status.mutable_node()->set_node_id("abcd");
  status.mutable_node()->set_name("node-a");
  status.set_data_dir("/var/lib/lattice");
  status.set_socket("/run/lattice/kernel.sock");
  status.set_uptime_ms(3'723'000);
  status.add_stores()->set_id("s1");
  status.add_stores()->set_id("s2");
  status.add_forked_authors("evil");
  std::string text = StatusText(status);
  for (const char* expected : {"node id:", "abcd", "name:", "node-a", "data dir:",
                               "/var/lib/lattice", "socket:", "/run/lattice/kernel.sock",
                               "uptime:", "1h 2m 3s", "stores:", "forked authors: 1",
                               "  evil\n"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  nlohmann::json json = StatusJson(status);
  EXPECT_EQ(json["node"]["id"], "abcd");
  EXPECT_EQ(json["store_count"], 2);
  EXPECT_EQ(json["forked_authors"][0], "evil");
  EXPECT_EQ(json["uptime_ms"], 3'723'000);

  v1::StatusResponse healthy;
  EXPECT_NE(StatusText(healthy).find("forked authors: none"), std::string::npos);
}

TEST(AdminFormat, StoreList) {
  v1::ListStoresResponse response;
  EXPECT_EQ(StoreListText(response), "(no stores)\n");
  auto* store = response.add_stores();
  store->set_id("id-1");
  store->set_name("notes");
  store->set_type("kv");
  store->set_status("active");
  store->set_intentions(5);
  std::string text = StoreListText(response);
  EXPECT_EQ(text.substr(0, text.find('\n')), "ID    NAME   TYPE  STATUS  INTENTIONS  FLOATING");
  EXPECT_NE(text.find("id-1  notes  kv    active  5           0"), std::string::npos) << text;
  EXPECT_EQ(StoreListJson(response)["stores"][0]["name"], "notes");
}

TEST(AdminFormat, CreatedTokenShowsIdThenSecret) {
  v1::CreateTokenResponse created;
  created.mutable_info()->set_id("tok-1");
  created.mutable_info()->set_name("irc");
  created.mutable_info()->add_rights("read");
  created.set_token("s3cret");
  EXPECT_EQ(CreatedTokenText(created), "id: tok-1\ntoken: s3cret\n");
  nlohmann::json json = CreatedTokenJson(created);
  EXPECT_EQ(json["id"], "tok-1");
  EXPECT_EQ(json["token"], "s3cret");
  EXPECT_EQ(json["rights"][0], "read");
}

TEST(AdminFormat, TokenListTellsActiveExpiredAndRevoked) {
  v1::ListTokensResponse response;
  auto* active = response.add_tokens();
  active->set_id("t1");
  active->set_expires_ms(0);
  auto* expired = response.add_tokens();
  expired->set_id("t2");
  expired->set_expires_ms(500);
  auto* revoked = response.add_tokens();
  revoked->set_id("t3");
  revoked->set_revoked(true);
  std::string text = TokenListText(response, /*now_ms=*/1000);
  EXPECT_NE(text.find("never"), std::string::npos) << text;
  EXPECT_NE(text.find("active"), std::string::npos) << text;
  EXPECT_NE(text.find("expired"), std::string::npos) << text;
  EXPECT_NE(text.find("revoked"), std::string::npos) << text;
  EXPECT_EQ(TokenListJson(response)["tokens"].size(), 3u);
}

TEST(AdminFormat, VerifyListsProblems) {
  v1::VerifyResponse report;
  report.set_ok(false);
  report.set_intentions(10);
  report.add_problems("state hash differs from replay");
  std::string text = VerifyText("notes", report);
  EXPECT_NE(text.find("ok:"), std::string::npos);
  EXPECT_NE(text.find("NO"), std::string::npos);
  EXPECT_NE(text.find("  - state hash differs from replay\n"), std::string::npos) << text;
  EXPECT_EQ(VerifyJson("notes", report)["problems"][0], "state hash differs from replay");
  EXPECT_EQ(VerifyJson("notes", report)["ok"], false);
}

TEST(AdminFormat, IngestOutcomes) {
  v1::IngestOutcome applied;
  applied.set_hash("h1");
  applied.set_result("applied");
  EXPECT_EQ(IngestOutcomeLine(applied), "h1 applied");
  v1::IngestOutcome rejected;
  rejected.set_hash("h2");
  rejected.set_result("rejected");
  rejected.set_reason("bad signature");
  EXPECT_EQ(IngestOutcomeLine(rejected), "h2 rejected (bad signature)");
  EXPECT_EQ(IngestOutcomeJson(rejected)["reason"], "bad signature");
}

}  // namespace
}  // namespace lattice::ctl
