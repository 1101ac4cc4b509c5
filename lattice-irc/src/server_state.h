// The plain state behind IrcServer, shared by its server*.cc files only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "channel_modes.h"
#include "flood_gate.h"
#include "lattice/common/status.h"
#include "server.h"

namespace lattice::irc {

// A stored message on its way to clients: who it is shown from and as what.
struct IrcServer::Delivery {
  v1::ChatMessage message;
  std::string channel;  // IRC channel name
  std::string source;   // hostmask
  bool notice = false;  // a NOTICE this gateway posted
};

struct IrcServer::Membership {
  // Topic and history are being fetched: nothing has been sent about the channel yet and
  // live messages wait in `held`.
  bool joining = true;
  std::vector<Delivery> held;
  // Hashes of the history played back, and the witness number at or above all of them:
  // a watch event at or below `horizon` in `played` was already shown.
  std::unordered_set<std::string> played;
  uint64_t horizon = 0;
  // The key the JOIN gave, checked against +k when the channel's modes are known.
  std::string join_key;
};

// The replies of one labelled command (labeled-response, see server.h). The first reply is
// kept back until a second one shows whether it goes alone (with the label) or in a batch.
struct IrcServer::LabelContext {
  std::string label;
  std::string first;  // the first reply, until the batch opens or the command ends
  size_t replies = 0;
  std::string batch;  // the labeled-response batch, once opened
  size_t holds = 0;   // completions still to come
  bool dispatching = true;
};

struct IrcServer::LocalClient {
  ClientId id = 0;
  Registration registration;
  std::string nick;  // "" until a NICK was accepted
  std::string user;
  std::string realname;
  std::string host;
  CapSet caps = 0;
  std::map<std::string, Membership> channels;  // folded channel name
  std::string away;
  std::string modes;  // user modes set, of "iw"
  std::map<std::string, std::string> monitoring;  // MONITORed nicks: folded -> as given
  int64_t connected_ms = 0;
  int64_t last_input_ms = 0;
  int64_t last_message_ms = 0;  // for WHOIS idle time
  uint64_t signon_unix = 0;
  int64_t ping_sent_ms = 0;  // 0: no PING outstanding
  size_t pending_writes = 0;
  // Commands waiting for the kernel; while any is, later lines wait in `held_lines`.
  int waiting = 0;
  std::deque<std::string> held_lines;
  size_t held_bytes = 0;
  bool resuming = false;  // EndWait is handling held lines
  bool closing = false;
  // labeled-response: the contexts of commands not finished yet, and the current one.
  std::map<uint64_t, LabelContext> labels;
  uint64_t current_label = 0;
  size_t history_requests = 0;  // CHATHISTORY requests being read

  std::string Prefix() const { return nick + "!" + user + "@" + host; }
};

struct IrcServer::Channel {
  std::string name;           // "#general", folded
  std::string store_channel;  // "general"
  std::set<ClientId> members;
  // Users of other nodes (or other tools) shown as present, and when they last spoke.
  std::map<ExternalUser*, int64_t> remote;
  bool topic_known = false;
  v1::Topic topic;
  ChannelModes modes;
  uint64_t created_unix = 0;  // when this gateway first had a member in it (329)
};

struct IrcServer::OwnWrite {
  ClientId client = 0;
  std::string prefix;  // the writer's hostmask when it wrote
  bool notice = false;
  bool delivered = false;  // shown to local members (when accepted, or when the kernel answered)
};

// Makes a held label context current for the completion of its command, and releases the
// hold at the end of the scope.
class IrcServer::LabelScope {
 public:
  LabelScope(IrcServer& server, ClientId id, uint64_t label)
      : server_(server), id_(id), label_(label) {
    LocalClient* client = label_ == 0 ? nullptr : server_.FindClient(id_);
    if (client == nullptr) return;
    previous_ = client->current_label;
    client->current_label = label_;
  }
  ~LabelScope() {
    LocalClient* client = label_ == 0 ? nullptr : server_.FindClient(id_);
    if (client == nullptr) return;
    client->current_label = previous_;
    server_.ReleaseLabel(*client, label_);
  }
  LabelScope(const LabelScope&) = delete;
  LabelScope& operator=(const LabelScope&) = delete;

 private:
  IrcServer& server_;
  ClientId id_;
  uint64_t label_;
  uint64_t previous_ = 0;
};

template <typename Answer>
std::function<void(Answer)> IrcServer::Awaiting(LocalClient& client,
                                                std::function<void(Answer)> done) {
  BeginWait(client);
  ClientId id = client.id;
  // labeled-response: the answer is sent under the command's label, which ends before the
  // client's next lines are handled.
  uint64_t label = HoldLabel(client);
  return [this, id, label, done = std::move(done)](Answer answer) {
    {
      LabelScope labeled(*this, id, label);
      done(std::move(answer));
    }
    EndWait(id);
  };
}

}  // namespace lattice::irc
