// IrcServer: CHATHISTORY (IRCv3 draft/chathistory). A request reads the channel's history
// from the kernel page by page, newest first, until what was read decides the answer (see
// chathistory.h), then answers in a "chathistory" batch with each message's msgid (its
// hash) and time (its HLC). Only channels have history: private messages are not stored.
#include <fmt/format.h>

#include <variant>

#include "casemap.h"
#include "chathistory.h"
#include "server_state.h"

namespace lattice::irc {
namespace {

// CHATHISTORY requests of one client being read at once.
constexpr size_t kMaxHistoryRequestsPerClient = 2;

}  // namespace

struct IrcServer::HistoryJob {
  ClientId client = 0;
  uint64_t label = 0;
  HistoryQuery query;
  std::string channel;        // the IRC channel, folded
  std::string store_channel;  // its chat channel
  std::vector<v1::ChatMessage> newest_first;  // playable messages read so far
  size_t read = 0;                            // messages read, playable or not
};

void IrcServer::HistoryFail(LocalClient& client, const std::string& code,
                            std::vector<std::string> context, const std::string& description) {
  Message fail;
  fail.prefix = options_.server_name;
  fail.command = "FAIL";
  fail.params = {"CHATHISTORY", code};
  for (auto& param : context) fail.params.push_back(std::move(param));
  fail.params.push_back(description);
  Send(client, Render(fail, /*trailing=*/true));
}

void IrcServer::HandleChatHistory(LocalClient& client, const Message& m) {
  auto parsed = ParseHistoryQuery(m.params, kMaxChatHistoryLimit);
  if (const auto* error = std::get_if<HistoryError>(&parsed)) {
    HistoryFail(client, error->code, error->context, error->description);
    return;
  }
  HistoryQuery query = std::get<HistoryQuery>(std::move(parsed));
  if (query.sub == HistoryQuery::Sub::kTargets) {
    HistoryFail(client, "INVALID_PARAMS", {query.subcommand},
                "TARGETS is not supported: private messages are not kept, ask each channel");
    return;
  }
  const std::string& target = query.target;
  if (target[0] != '#') {
    if (!IsValidNick(target)) {
      HistoryFail(client, "INVALID_TARGET", {query.subcommand, target}, "No such nick/channel");
      return;
    }
    // Private messages are not kept: an empty answer, as for any target without history.
    HistoryJob empty;
    empty.channel = target;
    empty.query = std::move(query);
    AnswerHistory(client, empty);
    return;
  }
  if (!IsValidChannelName(target)) {
    HistoryFail(client, "INVALID_TARGET", {query.subcommand, target}, "No such channel");
    return;
  }
  if (client.history_requests >= kMaxHistoryRequestsPerClient) {
    HistoryFail(client, "MESSAGE_ERROR", {query.subcommand, target},
                fmt::format("At most {} history requests at once", kMaxHistoryRequestsPerClient));
    return;
  }
  ++client.history_requests;
  auto job = std::make_shared<HistoryJob>();
  job->client = client.id;
  job->label = HoldLabel(client);
  job->channel = FoldCase(target);
  job->store_channel = StoreChannelFor(job->channel);
  job->query = std::move(query);
  ContinueHistory(std::move(job), "");
}

void IrcServer::ContinueHistory(std::shared_ptr<HistoryJob> job, const std::string& before) {
  const HistoryQuery& query = job->query;
  // LATEST * needs exactly the newest page; anything else looks for a reference.
  uint32_t page_size = query.sub == HistoryQuery::Sub::kLatest &&
                               query.a.kind == HistoryRef::Kind::kNone
                           ? query.limit
                           : kHistoryScanPage;
  std::string store_channel = job->store_channel;
  backend_.FetchHistoryPage(store_channel, page_size, before, [this, job](HistoryPage page) {
    LocalClient* client = FindClient(job->client);
    if (client == nullptr) return;
    if (page.status.ok()) {
      job->read += page.messages.size();
      for (auto it = page.messages.rbegin(); it != page.messages.rend(); ++it) {
        if (IsPlayable(*it)) job->newest_first.push_back(std::move(*it));
      }
      // Where the store cannot find a msgid or a time directly (AFTER, AROUND, BEFORE by
      // msgid), it is looked for by paging back from the newest, within kMaxHistoryScan.
      bool more = !page.next_before.empty() && !page.messages.empty() &&
                  job->read < kMaxHistoryScan;
      if (more && !ScanIsEnough(job->query, job->newest_first)) {
        ContinueHistory(job, page.next_before);
        return;
      }
    }
    if (client->history_requests > 0) --client->history_requests;
    RunLabeled(job->client, job->label, [&] {
      if (!page.status.ok()) {
        HistoryFail(*client, "MESSAGE_ERROR", {job->query.subcommand, job->query.target},
                    fmt::format("Messages could not be retrieved: {}", page.status.message()));
        return;
      }
      AnswerHistory(*client, *job);
    });
  });
}

void IrcServer::AnswerHistory(LocalClient& client, const HistoryJob& job) {
  HistorySelection selection = SelectHistory(job.query, job.newest_first);
  if (!selection.missing_msgid.empty()) {
    HistoryFail(client, "MESSAGE_ERROR", {job.query.subcommand, job.query.target},
                fmt::format("No message {} among the latest {} of {}", selection.missing_msgid,
                            kMaxHistoryScan, job.query.target));
    return;
  }
  std::string batch;
  if ((client.caps & kCapBatch) != 0) {
    batch = fmt::format("history{}", ++batch_counter_);
    Message start;
    start.prefix = options_.server_name;
    start.command = "BATCH";
    start.params = {"+" + batch, "chathistory", job.channel};
    Send(client, Render(start));
  }
  for (const auto& message : selection.messages) {
    Delivery delivery;
    delivery.message = message;
    delivery.channel = job.channel;
    ClientId sender = 0;
    ExternalUser* external = nullptr;
    delivery.source = SourceOf(message, /*consume=*/false, &sender, &delivery.notice, &external);
    for (auto& line : RenderDelivery(delivery, batch)) Send(client, line);
  }
  if (!batch.empty()) {
    Message end;
    end.prefix = options_.server_name;
    end.command = "BATCH";
    end.params = {"-" + batch};
    Send(client, Render(end));
  }
}

}  // namespace lattice::irc
