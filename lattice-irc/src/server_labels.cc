// IrcServer: labeled-response (IRCv3). A labelled command's replies carry its label: a single
// reply has the label tag, several come in a "labeled-response" BATCH that has it, and a
// command without any reply is answered with ACK. Replies of commands that complete later
// (JOIN waits for the kernel, a channel PRIVMSG's echo comes from the watch) are found by
// the hold the command takes and releases in RunLabeled (see server.h).
#include <fmt/format.h>

#include "message_tags.h"
#include "server_state.h"

namespace lattice::irc {
namespace {

// Labels are client-chosen; anything longer is treated as absent rather than echoed.
constexpr size_t kMaxLabelBytes = 64;
// A context whose batch opened without the batch capability: later replies go out bare.
constexpr std::string_view kNoBatch = "-";

}  // namespace

uint64_t IrcServer::BeginLabel(LocalClient& client, const Message& message) {
  client.current_label = 0;
  if ((client.caps & kCapLabeledResponse) == 0) return 0;
  const std::string* label = message.FindTag("label");
  if (label == nullptr || label->empty() || label->size() > kMaxLabelBytes) return 0;
  uint64_t id = ++label_counter_;
  LabelContext& context = client.labels[id];
  context.label = *label;
  client.current_label = id;
  return id;
}

void IrcServer::EndLabel(LocalClient& client, uint64_t label) {
  if (client.current_label == label) client.current_label = 0;
  auto it = client.labels.find(label);
  if (it == client.labels.end()) return;
  it->second.dispatching = false;
  if (it->second.holds == 0) FinishLabel(client, label);
}

uint64_t IrcServer::HoldLabel(LocalClient& client) {
  auto it = client.labels.find(client.current_label);
  if (it == client.labels.end()) return 0;
  ++it->second.holds;
  return client.current_label;
}

void IrcServer::RunLabeled(ClientId id, uint64_t label, const std::function<void()>& body) {
  LabelScope labeled(*this, id, label);
  body();
}

void IrcServer::ReleaseLabel(LocalClient& client, uint64_t label) {
  auto it = client.labels.find(label);
  if (it == client.labels.end()) return;
  if (it->second.holds > 0) --it->second.holds;
  if (it->second.holds == 0 && !it->second.dispatching && client.current_label != label) {
    FinishLabel(client, label);
  }
}

bool IrcServer::SendLabeled(LocalClient& client, const std::string& line) {
  auto it = client.labels.find(client.current_label);
  if (it == client.labels.end()) return false;
  LabelContext& context = it->second;
  if (++context.replies == 1) {
    context.first = line;
    return true;
  }
  if (context.batch.empty()) {
    if ((client.caps & kCapBatch) == 0) {
      // labeled-response needs batch; a client without it gets the first reply labelled.
      context.batch = std::string(kNoBatch);
      transport_.Send(client.id, WithTag(context.first, "label", context.label));
    } else {
      context.batch = fmt::format("L{}", ++batch_counter_);
      Message start;
      start.tags = {{"label", context.label}};
      start.prefix = options_.server_name;
      start.command = "BATCH";
      start.params = {"+" + context.batch, "labeled-response"};
      transport_.Send(client.id, Render(start));
      transport_.Send(client.id, WithTag(context.first, "batch", context.batch));
    }
    context.first.clear();
  }
  // A line of a batch nested in this one (a chathistory batch) keeps its own batch tag.
  if (context.batch == kNoBatch || HasTag(line, "batch")) {
    transport_.Send(client.id, line);
  } else {
    transport_.Send(client.id, WithTag(line, "batch", context.batch));
  }
  return true;
}

void IrcServer::FinishLabel(LocalClient& client, uint64_t label) {
  auto it = client.labels.find(label);
  if (it == client.labels.end()) return;
  LabelContext context = std::move(it->second);
  client.labels.erase(it);
  if (client.current_label == label) client.current_label = 0;
  if (client.closing) return;
  if (context.replies == 0) {
    Message ack;
    ack.tags = {{"label", context.label}};
    ack.prefix = options_.server_name;
    ack.command = "ACK";
    transport_.Send(client.id, Render(ack));
  } else if (context.batch.empty()) {
    transport_.Send(client.id, WithTag(context.first, "label", context.label));
  } else if (context.batch != kNoBatch) {
    Message end;
    end.prefix = options_.server_name;
    end.command = "BATCH";
    end.params = {"-" + context.batch};
    transport_.Send(client.id, Render(end));
  }
}

}  // namespace lattice::irc
