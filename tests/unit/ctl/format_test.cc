#include <regex>
#include <tuple>

#include <gtest/gtest.h>

#include "format_admin.h"
#include "format_chat.h"
#include "format_kv.h"
#include "format_peer.h"
#include "format_sync.h"

namespace lattice::ctl {
namespace {

// The cells of each line of a FormatTable, which separates columns by two or more spaces.
std::vector<std::vector<std::string>> Cells(const std::string& table) {
  static const std::regex kGap("  +");
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (end == std::string::npos) end = table.size();
    std::string line = table.substr(start, end - start);
    rows.emplace_back(std::sregex_token_iterator(line.begin(), line.end(), kGap, -1),
                      std::sregex_token_iterator());
    start = end + 1;
  }
  return rows;
}

using Row = std::vector<std::string>;

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
  v1::ChatMessage modes = Message("modes", "");
  for (auto [mode, on, arg] : {std::tuple{"t", true, ""}, std::tuple{"k", true, "sekrit"},
                               std::tuple{"l", false, ""}}) {
    v1::ChatModeChange* change = modes.add_modes();
    change->set_mode(mode);
    change->set_on(on);
    change->set_arg(arg);
  }
  EXPECT_EQ(ChatMessageLine(modes),
            "2023-11-14T22:13:20Z general [1a2b3c4d] alice set modes: +t +k sekrit -l");
  EXPECT_EQ(ChatMessageJson(modes)["modes"][1]["arg"], "sekrit");
}

TEST(ChatFormat, TagsShowInJsonOnlyWhenThereAreSome) {
  v1::ChatMessage post = Message("post", "hello");
  EXPECT_FALSE(ChatMessageJson(post).contains("tags"));
  v1::ChatTag* tag = post.add_tags();
  tag->set_key("+draft/reply");
  tag->set_value("abc");
  nlohmann::json json = ChatMessageJson(post);
  EXPECT_EQ(json["tags"][0]["key"], "+draft/reply");
  EXPECT_EQ(json["tags"][0]["value"], "abc");
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

TEST(AdminFormat, StatusShowsAddressesPeersMeshesAndRunningBootstraps) {
  v1::StatusResponse status;
  status.add_listen_addresses("0.0.0.0:7470");
  status.add_listen_addresses("[::]:7470");
  status.add_advertised_addresses("192.0.2.1:7470");
  status.set_peers_connected(1);
  status.set_peers_known(3);
  status.add_meshes("3f2a1b4c-0000-4000-8000-000000000001");
  status.add_meshes("9bc1d2e3-0000-4000-8000-000000000002");
  auto* running = status.add_bootstraps();
  running->set_store_id("5d6e7f80-0000-4000-8000-000000000003");
  running->set_store_name("notes");
  running->set_source("1a2b3c4d5e6f7a8b9c0d");
  running->set_received(120);
  running->set_total(500);
  auto* finished = status.add_bootstraps();
  finished->set_store_name("done-store");
  finished->set_done(true);
  std::string text = StatusText(status);
  for (const char* expected :
       {"listen:         0.0.0.0:7470, [::]:7470\n", "advertised:     192.0.2.1:7470\n",
        "peers:          1 connected, 3 known\n",
        "meshes:         3f2a1b4c-0000-4000-8000-000000000001, "
        "9bc1d2e3-0000-4000-8000-000000000002\n",
        "\nbootstrap notes from 1a2b3c4d5e6f: 120/500\n"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  EXPECT_EQ(text.find("done-store"), std::string::npos) << text;

  nlohmann::json json = StatusJson(status);
  EXPECT_EQ(json["listen_addresses"], (nlohmann::json{"0.0.0.0:7470", "[::]:7470"}));
  EXPECT_EQ(json["advertised_addresses"][0], "192.0.2.1:7470");
  EXPECT_EQ(json["peers_connected"], 1);
  EXPECT_EQ(json["peers_known"], 3);
  EXPECT_EQ(json["meshes"].size(), 2u);
  ASSERT_EQ(json["bootstraps"].size(), 2u);
  EXPECT_EQ(json["bootstraps"][0],
            (nlohmann::json{{"store_id", "5d6e7f80-0000-4000-8000-000000000003"},
                            {"store_name", "notes"},
                            {"source", "1a2b3c4d5e6f7a8b9c0d"},
                            {"received", 120},
                            {"total", 500},
                            {"done", false}}));
  EXPECT_EQ(json["bootstraps"][1]["done"], true);

  v1::StatusResponse alone;
  std::string lonely = StatusText(alone);
  EXPECT_NE(lonely.find("listen:         none\n"), std::string::npos) << lonely;
  EXPECT_NE(lonely.find("peers:          0 connected, 0 known\n"), std::string::npos);
  EXPECT_EQ(lonely.find("bootstrap"), std::string::npos);
}

TEST(AdminFormat, BootstrapLineFallsBackToTheStoreIdAndAnUnknownTotal) {
  v1::BootstrapProgress progress;
  progress.set_store_id("5d6e7f80-0000-4000-8000-000000000003");
  progress.set_source("1a2b3c4d5e6f7a8b9c0d");
  progress.set_received(7);
  EXPECT_EQ(BootstrapLine(progress),
            "bootstrap 5d6e7f80-0000-4000-8000-000000000003 from 1a2b3c4d5e6f: 7/?");
}

constexpr uint64_t kNowMs = 1'700'000'000'000;
constexpr char kMesh[] = "3f2a1b4c-0000-4000-8000-000000000001";

v1::ListPeersResponse ThreePeers() {
  v1::ListPeersResponse response;
  auto* self = response.add_peers();
  self->set_node_id(std::string(64, 'a'));
  self->set_name("desk");
  self->set_status("active");
  self->set_mesh_id(kMesh);
  self->add_addresses("192.0.2.1:7470");
  self->set_self(true);
  auto* laptop = response.add_peers();
  laptop->set_node_id(std::string(64, 'b'));
  laptop->set_name("laptop");
  laptop->set_status("active");
  laptop->set_mesh_id(kMesh);
  laptop->add_addresses("198.51.100.7:7470");
  laptop->add_addresses("[2001:db8::7]:7470");
  laptop->set_connected(true);
  laptop->set_last_seen_ms(kNowMs - 5'000);
  laptop->set_lag(3);
  laptop->set_remote_address("198.51.100.7:51234");
  auto* rogue = response.add_peers();
  rogue->set_node_id(std::string(64, 'c'));
  rogue->set_status("revoked");
  rogue->set_mesh_id(kMesh);
  rogue->set_forked(true);
  rogue->set_last_seen_ms(kNowMs - 3 * 3'600'000);
  return response;
}

TEST(PeerFormat, ListShowsOneRowPerPeerWithShortIdsRelativeTimesAndNotes) {
  std::string text = PeerListText(ThreePeers(), kNowMs);
  std::vector<Row> cells = Cells(text);
  ASSERT_EQ(cells.size(), 4u) << text;
  EXPECT_EQ(cells[0], (Row{"NODE", "NAME", "STATUS", "MESH", "CONNECTED", "LAST SEEN", "LAG",
                           "ADDRESSES", "NOTES"}));
  EXPECT_EQ(cells[1], (Row{"aaaaaaaaaaaa", "desk", "active", "3f2a1b4c", "-", "-", "-",
                           "192.0.2.1:7470", "self"}));
  EXPECT_EQ(cells[2], (Row{"bbbbbbbbbbbb", "laptop", "active", "3f2a1b4c", "yes", "5s ago", "3",
                           "198.51.100.7:7470,[2001:db8::7]:7470"}));
  EXPECT_EQ(cells[3], (Row{"cccccccccccc", "-", "revoked", "3f2a1b4c", "no", "3h ago", "0", "-",
                           "FORKED"}));
  EXPECT_EQ(PeerListText(v1::ListPeersResponse(), kNowMs), "(no peers)\n");
}

TEST(PeerFormat, ListJsonKeepsFullIdsAndEveryField) {
  nlohmann::json json = PeerListJson(ThreePeers());
  ASSERT_EQ(json["peers"].size(), 3u);
  EXPECT_EQ(json["peers"][1],
            (nlohmann::json{{"node_id", std::string(64, 'b')},
                            {"name", "laptop"},
                            {"status", "active"},
                            {"mesh_id", kMesh},
                            {"addresses", {"198.51.100.7:7470", "[2001:db8::7]:7470"}},
                            {"connected", true},
                            {"remote_address", "198.51.100.7:51234"},
                            {"last_seen_ms", kNowMs - 5'000},
                            {"last_sync_ms", 0},
                            {"lag", 3},
                            {"forked", false},
                            {"self", false},
                            {"revoked_by", ""},
                            {"revoked_at_ms", 0}}));
  EXPECT_EQ(json["peers"][0]["self"], true);
  EXPECT_EQ(json["peers"][2]["forked"], true);
}

TEST(PeerFormat, InviteDetailsSayWhereTheJoinerWillDialOrWarn) {
  v1::InvitePeerResponse invite;
  invite.set_token("lat1secret");
  invite.set_invite_id("inv-7");
  invite.set_mesh_id(kMesh);
  invite.set_expires_ms(kNowMs);
  invite.add_addresses("192.0.2.1:7470");
  invite.add_addresses("[2001:db8::1]:7470");
  std::vector<std::string> lines = InviteDetailLines(invite);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], std::string("invite inv-7 into mesh ") + kMesh +
                          ": single use, expires 2023-11-14T22:13:20Z; the token is shown only "
                          "this once");
  EXPECT_EQ(lines[1], "the joiner will dial 192.0.2.1:7470, [2001:db8::1]:7470");
  EXPECT_EQ(lines[2], "on the other node: lattice-ctl peer join TOKEN --name NAME");
  for (const auto& line : lines) EXPECT_EQ(line.find("lat1secret"), std::string::npos);

  invite.clear_addresses();
  lines = InviteDetailLines(invite);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind("warning: this node announces no address", 0), 0u) << lines[1];

  nlohmann::json json = InviteJson(invite);
  EXPECT_EQ(json, (nlohmann::json{{"token", "lat1secret"},
                                  {"invite_id", "inv-7"},
                                  {"mesh_id", kMesh},
                                  {"expires_ms", kNowMs},
                                  {"addresses", nlohmann::json::array()}}));
}

TEST(PeerFormat, JoinNamesTheMeshAndTheInviter) {
  v1::JoinMeshResponse joined;
  joined.set_mesh_id(kMesh);
  joined.set_inviter_id(std::string(64, 'a'));
  joined.set_inviter_name("desk");
  EXPECT_EQ(JoinLine(joined), std::string("joined mesh ") + kMesh +
                                  ", invited by desk (aaaaaaaaaaaa)");
  joined.clear_inviter_name();
  EXPECT_EQ(JoinLine(joined), std::string("joined mesh ") + kMesh + ", invited by aaaaaaaaaaaa");
  EXPECT_EQ(JoinJson(joined), (nlohmann::json{{"mesh_id", kMesh},
                                              {"inviter_id", std::string(64, 'a')},
                                              {"inviter_name", ""}}));
}

TEST(PeerFormat, RevokedAndRenamedSayWhichNodeInWhichMesh) {
  v1::ListPeersResponse changed;
  auto* laptop = changed.add_peers();
  laptop->set_node_id(std::string(64, 'b'));
  laptop->set_name("laptop");
  laptop->set_mesh_id(kMesh);
  auto* unnamed = changed.add_peers();
  unnamed->set_node_id(std::string(64, 'c'));
  unnamed->set_mesh_id("9bc1d2e3-0000-4000-8000-000000000002");
  EXPECT_EQ(RevokedPeersText(changed),
            "revoked bbbbbbbbbbbb (laptop) in mesh 3f2a1b4c\n"
            "revoked cccccccccccc in mesh 9bc1d2e3\n");
  changed.mutable_peers()->RemoveLast();
  EXPECT_EQ(RenamedPeersText(changed), "renamed bbbbbbbbbbbb to laptop in mesh 3f2a1b4c\n");
}

v1::StoreStatusResponse NotesStatus() {
  v1::StoreStatusResponse response;
  response.mutable_store()->set_id("5d6e7f80-0000-4000-8000-000000000003");
  response.mutable_store()->set_name("notes");
  response.mutable_store()->set_type("kv");
  response.set_witnessed(120);
  response.set_floating(2);
  response.set_forks(1);
  response.set_noops(4);
  response.set_sync_items(120);
  response.set_fingerprint("f1f2");
  response.set_state_hash("e1e2");
  auto* laptop = response.add_peers();
  laptop->set_node_id(std::string(64, 'b'));
  laptop->set_name("laptop");
  laptop->set_connected(true);
  laptop->set_last_sync_ms(kNowMs - 90'000);
  laptop->set_lag(2);
  auto* phone = response.add_peers();
  phone->set_node_id(std::string(64, 'c'));
  phone->set_last_error("connection refused\nby peer");
  return response;
}

TEST(SyncFormat, StoreStatusShowsCountsHashesAndAPeerTable) {
  std::string text = StoreStatusText(NotesStatus(), kNowMs);
  std::string fields = text.substr(0, text.find("\n\n") + 1);
  EXPECT_EQ(fields,
            "store:       notes (5d6e7f80-0000-4000-8000-000000000003)\n"
            "type:        kv\n"
            "witnessed:   120\n"
            "floating:    2\n"
            "forks:       1\n"
            "no-ops:      4\n"
            "sync items:  120\n"
            "fingerprint: f1f2\n"
            "state hash:  e1e2\n"
            "peers:       2 (1 connected)\n");
  std::vector<Row> table = Cells(text.substr(text.find("\n\n") + 2));
  ASSERT_EQ(table.size(), 3u) << text;
  EXPECT_EQ(table[0], (Row{"NODE", "NAME", "CONNECTED", "LAST SYNC", "LAG", "LAST ERROR"}));
  EXPECT_EQ(table[1], (Row{"bbbbbbbbbbbb", "laptop", "yes", "1m ago", "2", "-"}));
  EXPECT_EQ(table[2],
            (Row{"cccccccccccc", "-", "no", "never", "0", "connection refused\\nby peer"}));

  v1::StoreStatusResponse lonely = NotesStatus();
  lonely.clear_peers();
  std::string alone = StoreStatusText(lonely, kNowMs);
  EXPECT_NE(alone.find("peers:       none\n"), std::string::npos) << alone;
  EXPECT_EQ(alone.find("NODE"), std::string::npos) << alone;
}

TEST(SyncFormat, StoreStatusJson) {
  nlohmann::json json = StoreStatusJson(NotesStatus());
  EXPECT_EQ(json["store"]["name"], "notes");
  EXPECT_EQ(json["store"]["type"], "kv");
  EXPECT_EQ(json["witnessed"], 120);
  EXPECT_EQ(json["floating"], 2);
  EXPECT_EQ(json["forks"], 1);
  EXPECT_EQ(json["noops"], 4);
  EXPECT_EQ(json["sync_items"], 120);
  EXPECT_EQ(json["fingerprint"], "f1f2");
  EXPECT_EQ(json["state_hash"], "e1e2");
  ASSERT_EQ(json["peers"].size(), 2u);
  EXPECT_EQ(json["peers"][0], (nlohmann::json{{"node_id", std::string(64, 'b')},
                                              {"name", "laptop"},
                                              {"connected", true},
                                              {"last_sync_ms", kNowMs - 90'000},
                                              {"lag", 2},
                                              {"last_error", ""}}));
  EXPECT_EQ(json["peers"][1]["last_error"], "connection refused\nby peer");
}

v1::SyncStoreResponse OneGoodOneBad() {
  v1::SyncStoreResponse response;
  auto* good = response.add_results();
  good->set_node_id(std::string(64, 'b'));
  good->set_ok(true);
  good->set_fetched(5);
  good->set_sent(1);
  good->set_rounds(2);
  good->set_bytes(4096);
  auto* bad = response.add_results();
  bad->set_node_id(std::string(64, 'c'));
  bad->set_error("timed out after 30s");
  return response;
}

TEST(SyncFormat, SyncResultsTableAndJson) {
  std::vector<Row> table = Cells(SyncResultsText("notes", OneGoodOneBad()));
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[0], (Row{"PEER", "RESULT", "FETCHED", "SENT", "ROUNDS", "BYTES", "ERROR"}));
  EXPECT_EQ(table[1], (Row{"bbbbbbbbbbbb", "ok", "5", "1", "2", "4096", "-"}));
  EXPECT_EQ(table[2], (Row{"cccccccccccc", "FAILED", "0", "0", "0", "0", "timed out after 30s"}));
  EXPECT_EQ(SyncResultsText("notes", v1::SyncStoreResponse()),
            "store notes: nothing to reconcile: no other node shares it\n");
  EXPECT_EQ(SyncResultsJson("notes", v1::SyncStoreResponse())["ok"], true);
  EXPECT_EQ(SyncResultsJson("notes", v1::SyncStoreResponse())["nothing_to_reconcile"], true);

  nlohmann::json json = SyncResultsJson("notes", OneGoodOneBad());
  EXPECT_EQ(json["store"], "notes");
  EXPECT_EQ(json["ok"], false);
  ASSERT_EQ(json["results"].size(), 2u);
  EXPECT_EQ(json["results"][0], (nlohmann::json{{"node_id", std::string(64, 'b')},
                                                {"ok", true},
                                                {"error", ""},
                                                {"fetched", 5},
                                                {"sent", 1},
                                                {"rounds", 2},
                                                {"bytes", 4096}}));
  v1::SyncStoreResponse good = OneGoodOneBad();
  good.mutable_results()->RemoveLast();
  EXPECT_EQ(SyncResultsJson("notes", good)["ok"], true);
  EXPECT_EQ(SyncResultsJson("notes", good)["nothing_to_reconcile"], false);
}

TEST(SyncFormat, FloatingLinesSayWhatEachIntentionWaitsFor) {
  v1::FloatingResponse response;
  auto* missing = response.add_intentions();
  missing->set_hash("h1");
  missing->set_author(std::string(64, 'a'));
  missing->set_seq(7);
  missing->add_missing("d1");
  missing->add_missing("d2");
  auto* held = response.add_intentions();
  held->set_hash("h2");
  held->set_author(std::string(64, 'b'));
  held->set_seq(3);
  held->set_held(true);
  held->set_wall_ms(kNowMs);
  auto* both = response.add_intentions();
  both->set_hash("h3");
  both->set_author(std::string(64, 'c'));
  both->set_seq(1);
  both->set_held(true);
  both->add_missing("d3");
  EXPECT_EQ(FloatingText(response),
            "h1 aaaaaaaaaaaa seq 7 missing d1,d2\n"
            "h2 bbbbbbbbbbbb seq 3 held\n"
            "h3 cccccccccccc seq 1 held, missing d3\n");
  EXPECT_EQ(FloatingText(v1::FloatingResponse()), "(no floating intentions)\n");

  nlohmann::json json = FloatingJson(response);
  ASSERT_EQ(json["intentions"].size(), 3u);
  EXPECT_EQ(json["intentions"][0], (nlohmann::json{{"hash", "h1"},
                                                   {"author", std::string(64, 'a')},
                                                   {"seq", 7},
                                                   {"wall_ms", 0},
                                                   {"held", false},
                                                   {"missing", {"d1", "d2"}}}));
  EXPECT_EQ(json["intentions"][1]["held"], true);
  EXPECT_EQ(json["intentions"][1]["wall_ms"], kNowMs);
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

TEST(AdminFormat, AMetricsTokenWithoutStoresKeepsItsColumns) {
  v1::ListTokensResponse response;
  auto* scraper = response.add_tokens();
  scraper->set_id("t1");
  scraper->set_name("scraper");
  scraper->add_rights("metrics");
  std::string text = TokenListText(response, /*now_ms=*/1000);
  std::string row = text.substr(text.find('\n') + 1);
  EXPECT_EQ(row.substr(0, row.find('\n')).find("metrics  -  "), row.find("metrics")) << text;
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
