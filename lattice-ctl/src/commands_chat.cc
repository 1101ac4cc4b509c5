// Chat commands: chat post, history, topic, channels, watch.
#include "commands.h"
#include "format_chat.h"
#include "format_kv.h"
#include "interrupt.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {

absl::Status RunChatPost(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(
      v1::WriteResult result,
      client->Post(args.store, args.channel, args.text, args.sender, args.action));
  if (session.json()) return session.printer().Json(WriteResultJson(result));
  return session.printer().Line(result.hash());
}

absl::Status RunChatHistory(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::HistoryRequest request, BuildHistoryRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::HistoryResponse history, client->History(request));
  if (session.json()) return session.printer().Json(HistoryJson(history));
  return session.printer().Write(HistoryText(history));
}

absl::Status RunChatTopic(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  if (args.topic.has_value()) {
    LATTICE_ASSIGN_OR_RETURN(v1::WriteResult result,
                             client->SetTopic(args.store, args.channel, *args.topic, args.sender));
    if (session.json()) return session.printer().Json(WriteResultJson(result));
    return absl::OkStatus();
  }
  LATTICE_ASSIGN_OR_RETURN(v1::Topic topic, client->GetTopic(args.store, args.channel));
  if (session.json()) return session.printer().Json(TopicJson(topic));
  return session.printer().Write(TopicText(topic));
}

absl::Status RunChatChannels(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListChannelsResponse channels,
                           client->ListChannels(session.args().store));
  if (session.json()) return session.printer().Json(ChannelsJson(channels));
  return session.printer().Write(ChannelsText(channels));
}

absl::Status RunChatWatch(Session& session) {
  const Arguments& args = session.args();
  v1::ChatWatchRequest request = BuildChatWatchRequest(args);
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  Printer& printer = session.printer();
  client::WatchCanceller canceller;
  ScopedInterruptHook interrupt([&canceller] { canceller.Cancel(); });
  uint64_t printed = 0;
  absl::Status write_status;
  absl::Status status = client->WatchChat(
      request,
      [&](const v1::ChatWatchResponse& response) {
        for (const auto& message : response.messages()) {
          write_status = printer.json() ? printer.Json(ChatMessageJson(message), /*flush=*/true)
                                        : printer.Line(ChatWatchLine(message), /*flush=*/true);
          if (!write_status.ok()) return false;
          if (args.count != 0 && ++printed >= args.count) return false;
        }
        return true;
      },
      &canceller);
  LATTICE_RETURN_IF_ERROR(write_status);
  return ExplainBrokenStream(status);
}

}  // namespace lattice::ctl
