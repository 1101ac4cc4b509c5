// IrcServer: PRIVMSG, NOTICE and TAGMSG from clients, and delivery of the chat store's
// messages as they come off the watch (see server.h for the delivery model).
#include <fmt/format.h>

#include <utility>

#include "casemap.h"
#include "limits.h"
#include "message_tags.h"
#include "numerics.h"
#include "server_state.h"
#include "text_lines.h"
#include "utf8.h"

namespace lattice::irc {

using namespace numeric;

namespace {

bool IsHashHex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Whether a +draft/reply names a stored message: its hash, or a post's msgid (MintPostMsgid's
// "<instance>.<n>"); an ephemeral msgid ("e<time>-<n>") names nothing the kernel holds.
bool NamesStoredMessage(std::string_view text) {
  if (IsHashHex(text)) return true;
  return !text.empty() && text.size() <= 64 && text.find('.') != std::string_view::npos &&
         text.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.") ==
             std::string_view::npos;
}

}  // namespace

// ---- Client-only tags ------------------------------------------------------------------------

bool IrcServer::TagsTooLong(LocalClient& client, const Message& m) {
  if (TagDataBytes(m.tags) <= kMaxClientTagDataBytes) return false;
  Numeric(client, kErrInputTooLong,
          {fmt::format("Input line was too long (tags over {} bytes)", kMaxClientTagDataBytes)});
  return true;
}

// Private messages and TAGMSGs are not stored, so they have no hash: their msgid only has to
// be unique (and never a 64-digit hash, so no reply can take it for a stored message).
std::string IrcServer::EphemeralMsgid() {
  if (ephemeral_msgid_base_ == 0) ephemeral_msgid_base_ = NowWallMs();
  return fmt::format("e{:x}-{:x}", ephemeral_msgid_base_, ++ephemeral_msgid_counter_);
}

// A channel post's msgid is stored with it (PostRequest.msgid), so every node and every later
// history shows the one its local members saw at once. The instance is random per start.
std::string IrcServer::MintPostMsgid() {
  return fmt::format("{}.{:x}", options_.presence_instance, ++post_msgid_counter_);
}

// ---- From clients ----------------------------------------------------------------------------

void IrcServer::HandleMessage(LocalClient& client, const Message& m, bool notice) {
  const char* command = notice ? "NOTICE" : "PRIVMSG";
  // RFC 2812 §3.3.2: no automatic replies to a NOTICE, errors included.
  auto error = [&](int code, std::vector<std::string> params) {
    if (!notice) Numeric(client, code, std::move(params));
  };
  if (TagsTooLong(client, m)) return;
  if (m.params.empty() || m.params[0].empty()) {
    error(kErrNoRecipient, {fmt::format("No recipient given ({})", command)});
    return;
  }
  if (m.params.size() < 2 || m.params[1].empty()) {
    error(kErrNoTextToSend, {"No text to send"});
    return;
  }
  std::vector<std::string> targets = SplitCommaList(m.params[0]);
  if (targets.size() > limits::kMaxTargets) {
    error(kErrTooManyTargets,
          {m.params[0], fmt::format("Too many recipients (at most {})", limits::kMaxTargets)});
    return;
  }
  const std::string& text = m.params[1];
  for (const auto& target : targets) {
    if ((target[0] == '@' || target[0] == '+') && target.size() > 1 && target[1] == '#') {
      SendStatusMessage(client, target, text, notice);  // STATUSMSG (server_modes.cc)
      continue;
    }
    if (target[0] == '#') {
      if (!IsValidChannelName(target)) {
        error(kErrNoSuchChannel, {target, "No such channel"});
        continue;
      }
      std::string key = FoldCase(target);
      if (std::string why = CannotSendReason(client, key); !why.empty()) {
        error(kErrCannotSendToChan, {target, why});
        continue;
      }
      std::string body = text;
      bool action = false;
      if (!body.empty() && body[0] == '\x01') {
        std::string_view inner(body);
        inner.remove_prefix(1);
        if (!inner.empty() && inner.back() == '\x01') inner.remove_suffix(1);
        // Only actions are chat; other CTCP to a channel (VERSION, ...) is not stored.
        if (notice || inner.substr(0, 6) != "ACTION") continue;
        inner.remove_prefix(6);
        if (!inner.empty() && inner[0] == ' ') inner.remove_prefix(1);
        body = std::string(inner);
        action = true;
      }
      PostToChannel(client, key, std::move(body), action, notice, m);
      continue;
    }
    LocalClient* peer = FindClientByNick(target);
    if (peer != nullptr && peer->registration.registered() && !peer->closing) {
      Message out;
      out.prefix = client.Prefix();
      out.command = command;
      out.params = {peer->nick, text};
      Outgoing message(std::move(out), true, NowWallMs(), EphemeralMsgid(), "",
                       ClientOnlyTags(m));
      SendToRecipient(*peer, message);
      if ((client.caps & kCapEchoMessage) != 0) Send(client, message);
      if (!notice && !peer->away.empty()) Numeric(client, kRplAway, {peer->nick, peer->away});
      continue;
    }
    if (directory_.FindByNick(target) != nullptr) {
      error(kErrNoSuchNick, {target,
                             "is on another node: private messages do not cross nodes, talk in a "
                             "channel"});
      continue;
    }
    error(kErrNoSuchNick, {target, "No such nick/channel"});
  }
}

void IrcServer::PostToChannel(LocalClient& client, const std::string& key, std::string text,
                              bool action, bool notice, const Message& m) {
  if (client.pending_writes >= limits::kMaxPendingPostsPerClient ||
      unanswered_writes_.size() >= limits::kMaxPendingPosts) {
    Numeric(client, kErrCannotSendToChan,
            {key, fmt::format("Message not sent: the kernel is not answering and {} of your "
                              "messages are waiting",
                              client.pending_writes)});
    return;
  }
  std::vector<Tag> tags = ClientOnlyTags(m);
  const std::string* reply =
      (client.caps & kCapMessageTags) != 0 ? m.FindTag("+draft/reply") : nullptr;
  // A reply with more client tags than +draft/reply is posted with all of them (a ReplyRequest
  // carries no tags), so what the client sent is kept; +draft/reply then travels as a tag.
  if (reply != nullptr && NamesStoredMessage(*reply) && !action && !notice && tags.size() == 1) {
    v1::ReplyRequest request;
    request.set_store(options_.store);
    request.set_ref(*reply);
    request.set_text(text);
    request.set_sender(client.nick);
    v1::ChatMessage shown;
    shown.set_kind("reply");
    shown.set_ref(*reply);
    shown.set_text(request.text());
    SubmitWrite(client, key, WriteKind::kMessage, std::move(shown),
                [&](std::function<void(PostOutcome)> done) {
                  backend_.Reply(request, OrderAfterParent(client, *reply), std::move(done));
                });
    return;
  }
  v1::PostRequest request;
  request.set_store(options_.store);
  request.set_channel(StoreChannelFor(key));
  request.set_text(std::move(text));
  request.set_sender(client.nick);
  request.set_action(action);
  // Shown to the local members now, with the msgid it is stored under; the kernel acknowledges
  // it once applied and syncs it at once behind that answer (server.h, Delivery model).
  request.set_durability(v1::DURABILITY_APPLIED);
  request.set_msgid(MintPostMsgid());
  request.set_time_ms(NowWallMs());
  for (auto& tag : StorableTags(tags)) *request.add_tags() = std::move(tag);
  v1::ChatMessage shown;
  shown.set_kind("post");
  shown.set_text(request.text());
  shown.set_action(action);
  shown.set_msgid(request.msgid());
  shown.set_time_ms(request.time_ms());
  *shown.mutable_tags() = request.tags();
  SubmitWrite(client, key, notice ? WriteKind::kNotice : WriteKind::kMessage, std::move(shown),
              [&](std::function<void(PostOutcome)> done) {
                backend_.Post(request, client.id, std::move(done));
              });
}

void IrcServer::HandleTagMsg(LocalClient& client, const Message& m) {
  if (TagsTooLong(client, m)) return;
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNeedMoreParams, {"TAGMSG", "Not enough parameters"});
    return;
  }
  const std::string& target = m.params[0];
  const std::string* react = m.FindTag("+draft/react");
  const std::string* reply = m.FindTag("+draft/reply");
  if (target[0] == '#') {
    std::string key = FoldCase(target);
    auto channel = channels_.find(key);
    if (channel == channels_.end() || client.channels.count(key) == 0) {
      Numeric(client, kErrCannotSendToChan, {target, "Cannot send to channel (join it first)"});
      return;
    }
    // A reaction or a typing notice speaks in the channel as a message does: +m and bans
    // silence it too.
    if (std::string why = CannotSendReason(client, key); !why.empty()) {
      Numeric(client, kErrCannotSendToChan, {target, why});
      return;
    }
    if (react != nullptr && reply != nullptr && NamesStoredMessage(*reply) && !react->empty()) {
      v1::ReactRequest request;
      request.set_store(options_.store);
      request.set_ref(*reply);
      request.set_emoji(std::string(TruncateUtf8(*react, 64)));
      request.set_sender(client.nick);
      v1::ChatMessage shown;
      shown.set_kind("react");
      shown.set_ref(*reply);
      shown.set_text(request.emoji());
      SubmitWrite(client, key, WriteKind::kMessage, std::move(shown),
                  [&](std::function<void(PostOutcome)> done) {
                    backend_.React(request, OrderAfterParent(client, *reply), std::move(done));
                  });
      return;
    }
    // Other client-only tags (typing notifications, ...) are relayed to this gateway's
    // members and not stored: they are short-lived, and storing them would grow the chat
    // log with every keystroke. Other nodes do not see them.
    Message out;
    out.prefix = client.Prefix();
    out.command = "TAGMSG";
    out.params = {channel->second.name};
    Outgoing message(std::move(out), false, NowWallMs(), EphemeralMsgid(), "",
                     ClientOnlyTags(m));
    for (ClientId id : channel->second.members) {
      LocalClient* member = FindClient(id);
      if (member == nullptr || (member->caps & kCapMessageTags) == 0) continue;
      if (member == &client && (client.caps & kCapEchoMessage) == 0) continue;
      auto membership = member->channels.find(key);
      if (membership == member->channels.end() || membership->second.joining) continue;
      Send(*member, message);
    }
    return;
  }
  LocalClient* peer = FindClientByNick(target);
  if (peer == nullptr) {
    Numeric(client, kErrNoSuchNick, {target, "No such nick/channel"});
    return;
  }
  Message out;
  out.prefix = client.Prefix();
  out.command = "TAGMSG";
  out.params = {peer->nick};
  Outgoing message(std::move(out), false, NowWallMs(), EphemeralMsgid(), "",
                     ClientOnlyTags(m));
  if ((peer->caps & kCapMessageTags) != 0) SendToRecipient(*peer, message);
  if ((client.caps & kCapEchoMessage) != 0 && (client.caps & kCapMessageTags) != 0) {
    Send(client, message);
  }
}

// ---- Writes to the kernel ---------------------------------------------------------------------

void IrcServer::SubmitWrite(LocalClient& client, const std::string& channel_name, WriteKind kind,
                            v1::ChatMessage shown,
                            const std::function<void(std::function<void(PostOutcome)>)>& submit) {
  uint64_t seq = ++last_write_seq_;
  unanswered_writes_.insert(seq);
  if (shown.msgid().empty()) unanswered_unnamed_writes_.insert(seq);
  ++client.pending_writes;
  BeginWait(client);
  ClientId id = client.id;
  std::string prefix = client.Prefix();
  shown.set_sender(client.nick);
  shown.set_author(options_.node_id);
  // A labelled command's replies end with the kernel's answer (an echo shown now goes out
  // then, labelled; a failure is the labelled reply).
  uint64_t label = HoldLabel(client);
  if (!shown.msgid().empty()) {
    // A post that carries its msgid is shown now; its watch event is known by the msgid.
    RememberOwnWrite(shown.msgid(), OwnWrite{id, prefix, kind == WriteKind::kNotice, true});
    posts_in_flight_[shown.msgid()] = id;
    DeliverOwnWrite(id, channel_name, kind, prefix, shown);
  }
  submit([this, seq, id, channel_name, kind, prefix,
          shown = std::move(shown), label](PostOutcome outcome) mutable {
    OnWriteDone(seq, id, channel_name, kind, prefix, std::move(shown), std::move(outcome),
                label);
  });
}

void IrcServer::OnWriteDone(uint64_t seq, ClientId id, const std::string& channel_name,
                            WriteKind kind, const std::string& prefix, v1::ChatMessage shown,
                            PostOutcome outcome, uint64_t label) {
  unanswered_writes_.erase(seq);
  unanswered_unnamed_writes_.erase(seq);
  LocalClient* client = FindClient(id);
  if (client != nullptr && client->pending_writes > 0) --client->pending_writes;
  // The echo, the TOPIC change or the error is the labelled reply of the write; the label
  // ends before other events are delivered and before the client's next lines are handled.
  RunLabeled(id, label, [&] {
    if (!shown.msgid().empty()) {  // shown when it was accepted
      posts_in_flight_.erase(shown.msgid());
      if (outcome.status.ok()) return;
      own_writes_.erase(shown.msgid());
      if (client != nullptr) {
        Numeric(*client, kErrCannotSendToChan,
                {channel_name, fmt::format("Message shown here but not stored: {}",
                                           outcome.status.message())});
      }
      return;
    }
    if (outcome.status.ok()) {
      RememberOwnWrite(outcome.hash, OwnWrite{id, prefix, kind == WriteKind::kNotice, true});
      shown.set_hash(outcome.hash);
      // The time of the stored message's HLC, as its history will show it.
      shown.mutable_hlc()->set_wall_ms(outcome.wall_ms != 0 ? outcome.wall_ms : NowWallMs());
      DeliverOwnWrite(id, channel_name, kind, prefix, shown);
    } else if (client != nullptr) {
      if (kind == WriteKind::kModes) {
        Numeric(*client, kErrUnknownError,
                {"MODE", fmt::format("The modes of {} were not changed: {}", channel_name,
                                     outcome.status.message())});
      } else if (kind == WriteKind::kTopic) {
        Numeric(*client, kErrUnknownError,
                {"TOPIC", fmt::format("The topic of {} was not set: {}", channel_name,
                                      outcome.status.message())});
      } else {
        Numeric(*client, kErrCannotSendToChan,
                {channel_name,
                 fmt::format("Message not delivered: {}", outcome.status.message())});
      }
    }
  });
  DrainEvents();
  EndWait(id);
}

// A post is shown before the kernel has it, so a reply may name one still on its way: the
// reply then joins the writes of that post's client, which the backend makes one after
// another, and so reaches the kernel after its parent.
uint64_t IrcServer::OrderAfterParent(const LocalClient& client, const std::string& parent) const {
  auto pending = posts_in_flight_.find(parent);
  return pending != posts_in_flight_.end() ? pending->second : client.id;
}

void IrcServer::RememberOwnWrite(const std::string& msgid, OwnWrite write) {
  if (own_writes_.size() >= limits::kMaxRememberedOwnPosts) own_writes_.clear();
  own_writes_[msgid] = std::move(write);
}

// ---- Delivery in the order the kernel accepted (see server.h) ---------------------------------

void IrcServer::DeliverOwnWrite(ClientId sender, const std::string& key, WriteKind kind,
                                const std::string& prefix, const v1::ChatMessage& message) {
  auto found = channels_.find(key);
  if (found == channels_.end()) return;  // everybody here left meanwhile
  Channel& channel = found->second;
  LocalClient* writer = FindClient(sender);
  std::string source = writer != nullptr ? writer->Prefix() : prefix;
  if (kind == WriteKind::kTopic) {
    v1::Topic topic;
    topic.set_set(true);
    topic.set_text(message.text());
    topic.set_sender(message.sender());
    topic.set_author(message.author());
    *topic.mutable_hlc() = message.hlc();
    // Whatever the store decides between concurrent changes comes with the watch event,
    // which replaces this topic quietly (DeliverTopicEvent).
    channel.topic_known = true;
    channel.topic = topic;
    Message out;
    out.prefix = source;
    out.command = "TOPIC";
    out.params = {channel.name,
                  std::string(TruncateUtf8(ScrubUtf8(message.text()), limits::kMaxTopicBytes))};
    Outgoing change(std::move(out), true, message.hlc().wall_ms(), MsgidOf(message));
    Broadcast(channel, change);
    return;
  }
  if (kind == WriteKind::kModes) {
    DeliverModesEvent(message, key, source);
    return;
  }
  Delivery delivery;
  delivery.message = message;
  delivery.channel = channel.name;
  delivery.source = std::move(source);
  delivery.notice = kind == WriteKind::kNotice;
  DeliverToMembers(channel, delivery, sender);
}

void IrcServer::DeliverToMembers(Channel& channel, const Delivery& delivery, ClientId sender) {
  const v1::ChatMessage& message = delivery.message;
  // Own writes are delivered before the watch numbers them (cursor 0): only the history a
  // member was shown can hold them already.
  bool numbered = message.cursor() != 0;
  std::vector<Outgoing> rendered;
  for (ClientId id : channel.members) {
    LocalClient* member = FindClient(id);
    if (member == nullptr) continue;
    if (id == sender && (member->caps & kCapEchoMessage) == 0) continue;
    auto it = member->channels.find(channel.name);
    if (it == member->channels.end()) continue;
    Membership& membership = it->second;
    if (membership.joining) {
      if (membership.held.size() < limits::kMaxHeldJoinMessages) {
        membership.held.push_back(delivery);
      }
      continue;
    }
    if (!membership.played.empty()) {
      if (!numbered || message.cursor() <= membership.horizon) {
        if (membership.played.count(MsgidOf(message)) != 0) continue;
      } else {
        membership.played.clear();
      }
    }
    SendDelivery(*member, delivery, &rendered);
  }
}

// ---- From the watch ---------------------------------------------------------------------------

void IrcServer::OnChatMessage(v1::ChatMessage message, int64_t now_ms) {
  now_ms_ = now_ms;
  held_events_.push_back(std::move(message));
  DrainEvents();
}

void IrcServer::DrainEvents() {
  while (!held_events_.empty()) {
    const v1::ChatMessage& head = held_events_.front();
    // A message of this node that none of our answered writes produced may still be ours:
    // the write that made it was submitted before the message reached us, so once every
    // write submitted until then has answered, we know. (A post is known by its msgid from
    // the start, so only the other writes are waited for.)
    bool maybe_ours = head.author() == options_.node_id && !unanswered_unnamed_writes_.empty() &&
                      own_writes_.count(MsgidOf(head)) == 0 &&
                      held_events_.size() <= limits::kMaxQueuedWatchEvents;
    if (maybe_ours) {
      if (!holding_) {
        holding_ = true;
        hold_until_seq_ = last_write_seq_;
      }
      if (*unanswered_unnamed_writes_.begin() <= hold_until_seq_) return;
    }
    holding_ = false;
    v1::ChatMessage message = std::move(held_events_.front());
    held_events_.pop_front();
    DeliverEvent(message);
  }
}

std::string IrcServer::SourceOf(const v1::ChatMessage& message, bool consume,
                                ClientId* local_sender, bool* notice, ExternalUser** external) {
  *local_sender = 0;
  *notice = false;
  *external = nullptr;
  auto own = own_writes_.find(MsgidOf(message));
  if (own != own_writes_.end()) {
    LocalClient* writer = FindClient(own->second.client);
    std::string prefix = writer != nullptr ? writer->Prefix() : own->second.prefix;
    *local_sender = own->second.client;
    *notice = own->second.notice;
    if (consume) own_writes_.erase(own);
    return prefix;
  }
  // The same nick on the same node is the same person (a message written through another
  // tool, or before a reconnect).
  if (message.author() == options_.node_id && !message.sender().empty()) {
    LocalClient* local = FindClientByNick(message.sender());
    if (local != nullptr && local->registration.registered()) return local->Prefix();
  }
  ExternalUser& user = directory_.Resolve(message.author(), message.sender());
  *external = &user;
  return user.Prefix();
}

void IrcServer::EnsurePresent(Channel& channel, ExternalUser& user, int64_t now_ms) {
  auto [it, inserted] = channel.remote.emplace(&user, now_ms);
  it->second = now_ms;
  if (!inserted) return;
  Outgoing join = Event(user.Prefix(), "JOIN", {channel.name}, /*trailing=*/false);
  Broadcast(channel, join);
  if (!user.away.empty()) {
    Outgoing away = Event(user.Prefix(), "AWAY", {user.away});
    Broadcast(channel, away, 0, kCapAwayNotify);
  }
}

namespace {

v1::Topic StoredTopic(const v1::ChatMessage& message) {
  v1::Topic topic;
  topic.set_set(true);
  topic.set_text(message.text());
  topic.set_sender(message.sender());
  topic.set_author(message.author());
  *topic.mutable_hlc() = message.hlc();
  return topic;
}

}  // namespace

void IrcServer::DeliverEvent(const v1::ChatMessage& message) {
  auto own = own_writes_.find(MsgidOf(message));
  bool delivered = own != own_writes_.end() && own->second.delivered;
  ClientId sender = 0;
  bool notice = false;
  ExternalUser* external = nullptr;
  std::string source = SourceOf(message, /*consume=*/true, &sender, &notice, &external);
  std::string key = IrcChannelFor(message.channel());
  if (key.empty()) return;  // a chat channel no IRC channel can name
  auto found = channels_.find(key);
  if (found == channels_.end()) return;  // nobody here is in it
  Channel& channel = found->second;

  if (message.kind() == "topic") {
    if (delivered) {
      // Shown when the kernel answered: the store's version (its HLC) replaces it quietly,
      // unless another change was shown since.
      v1::Topic stored = StoredTopic(message);
      const v1::Topic& shown = channel.topic;
      if (shown.author() == stored.author() && shown.sender() == stored.sender() &&
          shown.text() == stored.text()) {
        channel.topic = stored;
        return;
      }
    }
    DeliverTopicEvent(message, key, source);
    return;
  }
  if (message.kind() == "modes") {
    // Also when shown at the kernel's answer: the store's stamp and cursor replace the
    // provisional ones quietly (ChannelModes::ApplyStored), so later changes order right.
    DeliverModesEvent(message, key, source);
    return;
  }
  if (delivered) return;  // shown when the kernel answered (see server.h)
  if (external != nullptr) EnsurePresent(channel, *external, now_ms_);

  Delivery delivery;
  delivery.message = message;
  delivery.channel = channel.name;
  delivery.source = std::move(source);
  delivery.notice = notice;
  DeliverToMembers(channel, delivery, sender);
}

void IrcServer::DeliverTopicEvent(const v1::ChatMessage& message, const std::string& key,
                                  const std::string& source) {
  Channel& channel = channels_.at(key);
  if (!UpdateTopic(channel, StoredTopic(message))) return;  // an older concurrent change
  Message out;
  out.prefix = source;
  out.command = "TOPIC";
  out.params = {channel.name,
                std::string(TruncateUtf8(ScrubUtf8(message.text()), limits::kMaxTopicBytes))};
  Outgoing change(std::move(out), true, message.hlc().wall_ms(), MsgidOf(message));
  Broadcast(channel, change);
}

std::vector<Outgoing> IrcServer::RenderDelivery(const Delivery& delivery,
                                                const std::string& batch, bool tags_client) {
  const v1::ChatMessage& message = delivery.message;
  std::string command = delivery.notice ? "NOTICE" : "PRIVMSG";
  std::string text = message.text();
  bool action = message.action();
  std::vector<Tag> client_tags;
  if (message.kind() == "reply") {
    client_tags.push_back({"+draft/reply", RefMsgidOf(message)});
  } else if (message.kind() == "react") {
    client_tags.push_back({"+draft/reply", RefMsgidOf(message)});
    client_tags.push_back({"+draft/react", message.text()});
    if (tags_client) {
      Message m;
      m.prefix = delivery.source;
      m.command = "TAGMSG";
      m.params = {delivery.channel};
      std::vector<Outgoing> out;
      out.emplace_back(std::move(m), false, ShownTimeOf(message), MsgidOf(message), batch,
                       std::move(client_tags));
      return out;
    }
    text = "reacted with " + message.text();
    action = true;
  }
  for (auto& tag : ShowableTags(message.tags())) client_tags.push_back(std::move(tag));
  // ":source PRIVMSG #channel :" + CTCP framing + CR LF must fit in 512 bytes.
  size_t overhead = 1 + delivery.source.size() + 1 + command.size() + 1 + delivery.channel.size() +
                    2 + 2 + (action ? 9 : 0);
  size_t room = overhead + 64 < limits::kMaxLineBytes ? limits::kMaxLineBytes - overhead : 64;
  std::vector<Outgoing> out;
  std::vector<std::string> pieces = SplitForIrc(text, room);
  for (size_t i = 0; i < pieces.size(); ++i) {
    Message m;
    m.prefix = delivery.source;
    m.command = command;
    std::string body = action ? "\x01"
                                "ACTION " +
                                    pieces[i] + "\x01"
                              : pieces[i];
    m.params = {delivery.channel, std::move(body)};
    out.emplace_back(std::move(m), true, ShownTimeOf(message),
                     i == 0 ? MsgidOf(message) : std::string(), batch,
                     i == 0 ? client_tags : std::vector<Tag>{});
  }
  return out;
}

void IrcServer::SendDelivery(LocalClient& client, const Delivery& delivery,
                             std::vector<Outgoing>* rendered) {
  bool tags_client = (client.caps & kCapMessageTags) != 0;
  if (delivery.message.kind() == "react") {
    // Rendered for each client (TAGMSG or ACTION); reactions are few.
    for (auto& line : RenderDelivery(delivery, "", tags_client)) Send(client, line);
    return;
  }
  std::vector<Outgoing> local;
  if (rendered == nullptr) rendered = &local;
  if (rendered->empty()) *rendered = RenderDelivery(delivery, "", tags_client);
  for (auto& line : *rendered) Send(client, line);
}

void IrcServer::SendToRecipient(LocalClient& recipient, Outgoing& message) {
  uint64_t label = std::exchange(recipient.current_label, 0);
  Send(recipient, message);
  recipient.current_label = label;
}

}  // namespace lattice::irc
