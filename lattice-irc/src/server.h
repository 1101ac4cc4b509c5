// The IRC server of the gateway: registration, channels, messages and queries for the
// clients of this gateway, with the channels of one chat store behind them. It owns no
// socket and no thread: the transport hands it lines and the backend hands it kernel
// answers and watch events, all on the event loop thread.
//
// Order of replies: a client's commands are answered in the order it sent them. A command
// whose answer depends on the kernel (JOIN fetching topic and history, TOPIC asking for a
// topic or setting one, LIST, a PRIVMSG/NOTICE/TAGMSG written to a channel) makes the client
// wait: its later lines are held, in order and bounded (ServerOptions::max_held_input_bytes,
// beyond which it is disconnected with an ERROR saying so), and handled when the command has
// completed. The transport is asked to stop reading from the client meanwhile (HoldInput),
// so the held queue stays short and a fast client is slowed by TCP instead of cut off.
//
// Delivery model: a client's PRIVMSG to a channel is delivered to the channel's local members
// (and to its sender under echo-message) as soon as the server accepts it, as a relay would,
// with a msgid the gateway mints and stores with the post (PostRequest.msgid), so every node
// and every later CHATHISTORY shows the same one. It is then posted to the kernel, which
// answers once it is applied (DURABILITY_APPLIED: readable by everyone, its fsync following
// at once behind the answer, and sent to other nodes once that is done); the sender's next
// line is handled after that answer, so one client's posts are stored in the order it sent
// them. The watch event of the post is recognised by its msgid and not delivered again. A
// reply, a reaction, a TOPIC or a MODE change is delivered when the kernel answers, with the
// hash it returned as msgid, and recognised by that hash (the watch event of a TOPIC or MODE
// change only brings the store's stamp, quietly). Everything else (messages of other nodes, of other tools, of
// this node written before a restart) is delivered from the watch. All deliveries happen on
// the one loop thread, so every local member sees every message exactly once and all of them
// in the same order: for the messages of this gateway, the order the kernel accepted them; a
// watch event of this node that no answered write produced is held until every write
// submitted before it has answered (see DrainEvents), in case it is one of ours.
// The price of answering in order is that a client has one channel write in flight at a time
// (its next line waits for the kernel's answer); different clients write concurrently.
// A post the kernel refuses or cannot store (its sender is told: "shown here but not
// stored"), or whose fsync then fails (a failing disk: the kernel reopens the store, or the
// machine loses power before the fsync), was seen by the local members and may be missing
// from the history afterwards; it never reached another node (they get only durable
// writes), so the stores still agree, and the node's chain goes on from what survived. The
// gateway does not take it back: what its members saw is what a relay such as ngIRCd, which
// keeps nothing, would have shown. Replies, reactions, topics and modes are still
// acknowledged only once durable.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "capabilities.h"
#include "chat_backend.h"
#include "limits.h"
#include "message.h"
#include "nick_directory.h"
#include "outgoing.h"
#include "presence_link.h"
#include "presence_roster.h"
#include "registration.h"
#include "transport.h"

namespace lattice::irc {

struct ServerOptions {
  std::string server_name = "irc.lattice";  // the prefix of numerics
  std::string network_name = "Lattice";
  std::string version = "0.0.0";
  std::string store;     // the chat store, as named on the command line
  std::string node_id;   // this node, hex
  std::string password;  // empty: none
  uint32_t history_limit = 50;
  std::vector<std::string> motd;  // empty: ERR_NOMOTD
  int64_t registration_timeout_ms = 60'000;
  int64_t ping_interval_ms = 90'000;
  int64_t ping_timeout_ms = 60'000;
  int64_t remote_idle_part_ms = 60 * 60 * 1000;
  // Input a client sent while waiting for the kernel, held until its command completes;
  // beyond it the client is disconnected ("Excess Flood").
  size_t max_held_input_bytes = limits::kMaxHeldInputBytes;
  // Names this gateway's presence announcements (presence_roster.h): random per start.
  std::string presence_instance = "gateway";
  // Unix milliseconds, for server-time on messages the gateway makes up (JOIN, QUIT, ...).
  std::function<uint64_t()> wall_clock_ms;
};

// Single-threaded: every method runs on the event loop thread.
class IrcServer {
 public:
  IrcServer(ServerOptions options, ClientTransport& transport, ChatBackend& backend);
  ~IrcServer();
  IrcServer(const IrcServer&) = delete;
  IrcServer& operator=(const IrcServer&) = delete;

  // ---- From the transport; `now_ms` is a steady clock ----
  void OnConnect(ClientId id, int64_t now_ms);
  // One line without its terminator, after flood control.
  void OnLine(ClientId id, std::string_view line, int64_t now_ms);
  // The client sent a line longer than the limit; it was discarded.
  void OnLineTooLong(ClientId id);
  // The connection is gone (closed by us or the peer); `reason` goes into the QUIT.
  void OnDisconnect(ClientId id, std::string_view reason);
  // Pings idle clients, drops silent ones, expires registrations and idle remote users.
  void OnTick(int64_t now_ms);

  // ---- From the watch, in cursor order ----
  void OnChatMessage(v1::ChatMessage message, int64_t now_ms);
  // The watch stopped for good (e.g. the token was revoked): tell everyone why.
  void OnWatchFailed(std::string_view reason);

  // ---- Presence across nodes (server_presence.cc) ----
  // Where this gateway's clients are announced; none (the default) announces nothing.
  void SetPresence(PresencePublisher* publisher);
  // Other gateways' announcements, from the presence watch.
  void OnPresence(PresenceEventBatch batch, int64_t now_ms);

  size_t client_count() const { return clients_.size(); }
  size_t held_event_count() const { return held_events_.size(); }

 private:
  struct Delivery;
  struct Membership;
  struct LocalClient;
  struct Channel;
  struct OwnWrite;
  struct LabelContext;
  struct HistoryJob;
  struct TargetsJob;

  // ---- server.cc: connection, registration, dispatch ----
  // One line as the client sent it, once nothing earlier of the client is pending.
  void ProcessLine(LocalClient& client, std::string_view line);
  // The client waits for the kernel: its later lines are held until EndWait.
  void BeginWait(LocalClient& client);
  // One wait of the client ended: handles its held lines while it is not waiting again.
  void EndWait(ClientId id);
  // `done`, with the client made to wait for it: the wait ends after `done` has run.
  template <typename Answer>
  std::function<void(Answer)> Awaiting(LocalClient& client, std::function<void(Answer)> done);
  LocalClient* FindClient(ClientId id);
  LocalClient* FindClientByNick(std::string_view nick);
  void Dispatch(LocalClient& client, const Message& message, int64_t now_ms);
  void HandleCap(LocalClient& client, const Message& message);
  void HandlePass(LocalClient& client, const Message& message);
  void HandleNick(LocalClient& client, const Message& message);
  void HandleUser(LocalClient& client, const Message& message);
  void HandlePing(LocalClient& client, const Message& message);
  void HandleQuit(LocalClient& client, const Message& message);
  void MaybeCompleteRegistration(LocalClient& client);
  void SendWelcome(LocalClient& client);
  void SendMotd(LocalClient& client);
  void ChangeNick(LocalClient& client, const std::string& nick);
  void CloseClient(LocalClient& client, std::string_view reason);

  // ---- server_channels.cc ----
  void HandleJoin(LocalClient& client, const Message& message);
  void JoinOne(LocalClient& client, const std::string& name, const std::string& join_key = "");
  void CompleteJoin(ClientId id, const std::string& key, ChannelSnapshot snapshot);
  void HandlePart(LocalClient& client, const Message& message);
  void PartOne(LocalClient& client, const std::string& key, std::string_view reason, bool announce);
  void HandleTopic(LocalClient& client, const Message& message);
  void SendTopic(LocalClient& client, const Channel& channel, bool on_join);
  void HandleNames(LocalClient& client, const Message& message);
  void SendNames(LocalClient& client, const Channel& channel);
  void HandleList(LocalClient& client, const Message& message);
  void PlayHistory(LocalClient& client, Membership& membership, const Channel& channel,
                   const std::vector<v1::ChatMessage>& history);
  // Users of other nodes who spoke in `history` within the remote idle time are shown as
  // present, as if their messages had arrived live.
  void ShowRecentSpeakers(Channel& channel, const std::vector<v1::ChatMessage>& history);
  Channel& ChannelFor(const std::string& key);
  void DropChannelIfUnused(const std::string& key);
  bool UpdateTopic(Channel& channel, const v1::Topic& topic);

  // ---- server_messages.cc ----
  void HandleMessage(LocalClient& client, const Message& message, bool notice);
  void HandleTagMsg(LocalClient& client, const Message& message);
  // 417 when the client's tag data is over the message-tags limit.
  bool TagsTooLong(LocalClient& client, const Message& message);
  std::string EphemeralMsgid();
  std::string MintPostMsgid();
  void PostToChannel(LocalClient& client, const std::string& key, std::string text, bool action,
                     bool notice, const Message& message);
  enum class WriteKind { kMessage, kNotice, kTopic, kModes };
  // `shown` is the message as delivered: at once when it carries a msgid (a channel post),
  // else once the kernel has stored it (hash and time are filled in then). Either way the
  // client's later lines wait until the kernel answers, so its writes are stored in order.
  void SubmitWrite(LocalClient& client, const std::string& channel_name, WriteKind kind,
                   v1::ChatMessage shown,
                   const std::function<void(std::function<void(PostOutcome)>)>& submit);
  // Own writes by msgid (MsgidOf: a post's minted msgid, else the hash), so their watch
  // events are not delivered again.
  void RememberOwnWrite(const std::string& msgid, OwnWrite write);
  // The ordering key for a reply or reaction to `parent`: that of the client whose post it is
  // while the kernel has not answered the post, else the replying client's.
  uint64_t OrderAfterParent(const LocalClient& client, const std::string& parent) const;
  void OnWriteDone(uint64_t seq, ClientId id, const std::string& channel_name, WriteKind kind,
                   const std::string& prefix, v1::ChatMessage shown, PostOutcome outcome,
                   uint64_t label);
  // A write of this gateway the kernel has just stored, delivered to the channel's local
  // members now (see the delivery model above).
  void DeliverOwnWrite(ClientId sender, const std::string& key, WriteKind kind,
                       const std::string& prefix, const v1::ChatMessage& message);
  // Sends `delivery` to the channel's members (the sender only under echo-message), holding
  // it for members still joining and skipping members whose history showed it.
  void DeliverToMembers(Channel& channel, const Delivery& delivery, ClientId sender);
  void DrainEvents();
  void DeliverEvent(const v1::ChatMessage& message);
  void DeliverTopicEvent(const v1::ChatMessage& message, const std::string& key,
                         const std::string& source);
  // The hostmask a stored message is shown from, for live delivery or history.
  // `consume` (live delivery) forgets the gateway's record of its own write.
  std::string SourceOf(const v1::ChatMessage& message, bool consume, ClientId* local_sender,
                       bool* notice, ExternalUser** external);
  // The nick shown as having set a topic.
  std::string TopicSetter(const v1::Topic& topic);
  void EnsurePresent(Channel& channel, ExternalUser& user, int64_t now_ms);
  void SendDelivery(LocalClient& client, const Delivery& delivery, std::vector<Outgoing>* rendered);
  // A stored reaction is a TAGMSG with +draft/react and +draft/reply for `tags_client`s
  // (message-tags), an ACTION "reacted with ..." for the others.
  std::vector<Outgoing> RenderDelivery(const Delivery& delivery, const std::string& batch,
                                       bool tags_client);
  // A private PRIVMSG, NOTICE or TAGMSG to its recipient: never under the recipient's label,
  // even when it is the sender itself (only the echo answers the sender's command).
  void SendToRecipient(LocalClient& recipient, Outgoing& message);
  // A stored message of `channel` shown to `client` as history (inside `batch`, if any), and
  // the end of that batch: for history on JOIN and for CHATHISTORY alike.
  void SendStored(LocalClient& client, const v1::ChatMessage& message, const std::string& channel,
                  const std::string& batch);
  void EndBatch(LocalClient& client, const std::string& batch);

  // ---- server_labels.cc: labeled-response ----
  // A command's label context: a client's replies sent while its context is current carry
  // the label (on the one reply, on a BATCH of them, or as an ACK when there was none).
  // BeginLabel makes the command's context current (0: the command has no label) and
  // EndLabel ends the synchronous part; a command that completes later takes a hold
  // (HoldLabel, while its context is current) and runs its completion in RunLabeled or
  // under a LabelScope, which releases the hold. The context ends when the synchronous part
  // and every hold have.
  uint64_t BeginLabel(LocalClient& client, const Message& message);
  void EndLabel(LocalClient& client, uint64_t label);
  uint64_t HoldLabel(LocalClient& client);
  void RunLabeled(ClientId id, uint64_t label, const std::function<void()>& body);
  // RunLabeled for the rest of a scope: the completion callback's first line.
  class LabelScope;
  void ReleaseLabel(LocalClient& client, uint64_t label);
  // Send() of a line while a label context is current; false: not taken.
  bool SendLabeled(LocalClient& client, const std::string& line);
  void FinishLabel(LocalClient& client, uint64_t label);

  // ---- server_history.cc: CHATHISTORY ----
  void HandleChatHistory(LocalClient& client, const Message& message);
  void ContinueHistory(std::shared_ptr<HistoryJob> job, const std::string& before);
  void AnswerHistory(LocalClient& client, const HistoryJob& job);
  // TARGETS: the client's channels with messages between two times, one scan per channel.
  void ScanTarget(std::shared_ptr<TargetsJob> job, const std::string& key,
                  const std::string& before, size_t read);
  void AnswerTargets(LocalClient& client, TargetsJob& job);
  void HistoryFail(LocalClient& client, const std::string& code, std::vector<std::string> context,
                   const std::string& description);

  // ---- server_queries.cc ----
  void HandleWho(LocalClient& client, const Message& message);
  // Whether a WHO glob of `asker` lists `other`: not invisible (+i), or sharing a channel.
  bool VisibleTo(const LocalClient& asker, const LocalClient& other) const;
  void HandleWhois(LocalClient& client, const Message& message);
  void HandleAway(LocalClient& client, const Message& message);
  void HandleIson(LocalClient& client, const Message& message);
  // The user of another gateway announced now that `nick` names; null when none is.
  ExternalUser* OnlineRemoteUser(const std::string& nick);
  void HandleUserhost(LocalClient& client, const Message& message);
  // 251-255, 265 and 266: this gateway is the one server; its registered clients are the
  // local users, and with the users other gateways announce, the global ones.
  void HandleLusers(LocalClient& client);

  // ---- server_modes.cc (channel_modes.h says which modes are kept where) ----
  void HandleMode(LocalClient& client, const Message& message);
  void HandleChannelMode(LocalClient& client, const Message& message);
  // MODE #chan for a channel with no member on this gateway: its stored settings.
  void QueryStoredModes(LocalClient& client, const std::string& name);
  void HandleUserMode(LocalClient& client, const Message& message);
  void HandleKick(LocalClient& client, const Message& message);
  void HandleInvite(LocalClient& client, const Message& message);
  // A "modes" watch event: the channel's replicated settings change, members see MODE.
  void DeliverModesEvent(const v1::ChatMessage& message, const std::string& key,
                         const std::string& source);
  void ApplySnapshotModes(Channel& channel, const ChannelSnapshot& snapshot);
  // Whether `client` may complete its JOIN of `channel` (+b, +i, +k, +l); if not, the
  // numeric that says why has been sent.
  bool AdmitJoin(LocalClient& client, Channel& channel, const std::string& key);
  // Why `client` may not speak in the channel `key` (for a 404), or "" when it may.
  std::string CannotSendReason(const LocalClient& client, const std::string& key);
  // PRIVMSG/NOTICE to "@#chan" or "+#chan": to this gateway's members with that status only,
  // not stored (the chat store's messages go to everyone on every node).
  void SendStatusMessage(LocalClient& client, const std::string& target, const std::string& text,
                         bool notice);
  // "@+nick" (multi-prefix) or "@nick", "nick!user@host" with userhost-in-names.
  std::string MemberPrefix(const LocalClient& asker, const Channel& channel, ClientId member);
  // Whether `client` has completed its JOIN of the channel `key`.
  bool IsJoined(const LocalClient& client, const std::string& key) const;

  // ---- server_presence.cc ----
  void AnnounceUser(const LocalClient& client, std::optional<std::string> quit = std::nullopt);
  void AnnounceMembership(const LocalClient& client, const std::string& key,
                          std::optional<std::string> part = std::nullopt);
  void AnnounceQuit(const LocalClient& client, std::string_view reason);
  void RenewPresence(int64_t now_ms);
  void ShowPresenceChange(const PresenceChange& change);
  // Users other gateways announce in `channel` are shown in it (a client is joining).
  void ShowPresentMembers(Channel& channel);
  // The channels that show `user` as a member here.
  std::vector<Channel*> ChannelsShowing(ExternalUser& user);
  // `line` once to each fully joined local member of `channels` with every capability in
  // `required`.
  // Returns the local members it looked at (sent to or not).
  std::unordered_set<ClientId> SendToMembers(const std::vector<Channel*>& channels,
                                             Outgoing& line, CapSet required);
  // Whether `user`'s gateway announces it in the channel `key`: it is not idle-parted.
  bool AnnouncedIn(const ExternalUser& user, const std::string& key) const;

  // ---- server_monitor.cc ----
  void HandleMonitor(LocalClient& client, const Message& message);
  // The hostmask of whoever is on IRC as `nick` now, of this gateway or another; empty when
  // nobody is.
  std::string OnlineMask(const std::string& nick);
  // Tells the clients monitoring `nick` (any case) that it came or went, when it did since
  // they were last told.
  void RefreshMonitored(const std::string& nick);
  // The same for every monitored nick (after presence changed).
  void RefreshAllMonitored();
  void StopMonitoring(LocalClient& client, const std::string& folded_nick);
  void StopMonitoringAll(LocalClient& client);
  // `line` to the extended-monitor clients monitoring `nick` with every capability in
  // `required`, but those in `already` (who got it through a shared channel).
  void SendToMonitors(const std::string& nick, Outgoing& line, CapSet required,
                      const std::unordered_set<ClientId>& already);
  // 730 for those of `nicks` online now and 731 for the rest, a few to a line.
  void SendMonitorStatus(LocalClient& client, const std::vector<std::string>& nicks);

  // ---- output helpers (server.cc) ----
  void Send(LocalClient& client, const std::string& line);
  void Send(LocalClient& client, Outgoing& message);
  // ":<server> <code> <nick> <params...>", the last parameter as trailing text.
  void Numeric(LocalClient& client, int code, std::vector<std::string> params);
  // A message from `source` (a hostmask) made now, with @time for server-time clients.
  Outgoing Event(const std::string& source, std::string command, std::vector<std::string> params,
                 bool trailing = true);
  // Sends `message` to every fully joined local member of `channel`, except `except`, that
  // has negotiated every capability in `required`.
  void Broadcast(Channel& channel, Outgoing& message, ClientId except = 0, CapSet required = 0);
  // Sends to `client` and every client sharing a channel with it, once each; to those with
  // every capability in `required`. Returns the clients it looked at (sent to or not).
  std::unordered_set<ClientId> BroadcastToPeers(LocalClient& client, Outgoing& message,
                                                bool include_self, CapSet required = 0);
  // AWAY (with the away text, or none when back) to the away-notify clients sharing a
  // channel with `client`.
  void NotifyAway(LocalClient& client);
  void Notice(LocalClient& client, const std::string& text);
  // An IRCv3 standard reply: ":<server> FAIL|WARN|NOTE <command> <code> :<description>".
  void StandardReply(LocalClient& client, const std::string& type, const std::string& command,
                     const std::string& code, const std::string& description);
  std::string Target(const LocalClient& client) const;
  uint64_t NowWallMs() const;

  ServerOptions options_;
  ClientTransport& transport_;
  ChatBackend& backend_;
  int64_t now_ms_ = 0;  // steady time of the event being handled

  std::unordered_map<ClientId, std::unique_ptr<LocalClient>> clients_;
  std::unordered_map<std::string, ClientId> nicks_;  // folded nick -> client
  std::map<std::string, Channel> channels_;          // folded "#name" -> channel
  NickDirectory directory_;

  // Writes are numbered as submitted; those not answered yet.
  uint64_t last_write_seq_ = 0;
  std::set<uint64_t> unanswered_writes_;
  // Those among them whose message is known by its hash only once answered (every write but
  // a post, which carries its msgid): a watch event of this node may be one of them.
  std::set<uint64_t> unanswered_unnamed_writes_;
  // Posts shown and not yet answered by the kernel: msgid -> the writing client's ordering key.
  std::unordered_map<std::string, ClientId> posts_in_flight_;
  // Msgids of messages this gateway wrote (MsgidOf), until their watch event arrives.
  std::unordered_map<std::string, OwnWrite> own_writes_;
  // Watch events not delivered yet. While the head is held, it waits for every write
  // numbered up to hold_until_seq_ to answer.
  std::deque<v1::ChatMessage> held_events_;
  bool holding_ = false;
  uint64_t hold_until_seq_ = 0;
  uint64_t batch_counter_ = 0;
  uint64_t label_counter_ = 0;
  uint64_t ephemeral_msgid_base_ = 0;  // wall time of the first, so ids differ across restarts
  uint64_t ephemeral_msgid_counter_ = 0;
  uint64_t post_msgid_counter_ = 0;
  std::string created_;

  PresencePublisher* presence_ = nullptr;
  PresenceRoster roster_;
  // MONITOR: the clients watching each nick, and whether they were last told it is online.
  struct MonitoredNick {
    std::set<ClientId> watchers;
    bool online = false;
  };
  std::map<std::string, MonitoredNick> monitored_;  // folded nick
  // For LUSERS: registered clients now and the most at once; the most users known at once.
  size_t registered_clients_ = 0;
  size_t max_local_users_ = 0;
  size_t max_global_users_ = 0;
  int64_t last_presence_renewal_ms_ = 0;
};

}  // namespace lattice::irc
