// IrcServer: CHATHISTORY (IRCv3 draft/chathistory). A request reads the channel's history
// from the kernel page by page, newest first, until what was read decides the answer (see
// chathistory.h), then answers in a "chathistory" batch with each message's msgid (its
// hash) and time (its HLC). Only channels have history: private messages are not stored, so
// TARGETS lists the channels the client is in whose newest message lies in the window.
#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "casemap.h"
#include "chathistory.h"
#include "server_state.h"
#include "text_lines.h"

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

// CHATHISTORY TARGETS: only channels have history here (private messages are not kept), so
// the targets are the channels the client is in on this gateway.
struct IrcServer::TargetsJob {
  ClientId client = 0;
  uint64_t label = 0;
  uint64_t lo_ms = 0;
  uint64_t hi_ms = 0;
  uint32_t limit = 0;
  size_t pending = 0;  // channels still being read
  std::vector<std::pair<uint64_t, std::string>> found;  // latest time, channel
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
    if (client.history_requests >= kMaxHistoryRequestsPerClient) {
      HistoryFail(client, "MESSAGE_ERROR", {query.subcommand},
                  fmt::format("At most {} history requests at once", kMaxHistoryRequestsPerClient));
      return;
    }
    auto job = std::make_shared<TargetsJob>();
    job->client = client.id;
    job->lo_ms = std::min(query.a.time_ms, query.b.time_ms);
    job->hi_ms = std::max(query.a.time_ms, query.b.time_ms);
    job->limit = query.limit;
    std::vector<std::string> keys;
    for (const auto& [key, membership] : client.channels) {
      if (!membership.joining) keys.push_back(key);
    }
    if (keys.empty()) {
      AnswerTargets(client, *job);
      return;
    }
    ++client.history_requests;
    BeginWait(client);  // the client's next lines wait for the answer
    job->label = HoldLabel(client);
    job->pending = keys.size();
    for (const auto& key : keys) ScanTarget(job, key, "", 0);
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
  BeginWait(client);  // the client's next lines wait for the answer
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
    EndWait(job->client);
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
    SendStored(client, message, job.channel, batch);
  }
  EndBatch(client, batch);
}

void IrcServer::ScanTarget(std::shared_ptr<TargetsJob> job, const std::string& key,
                           const std::string& before, size_t read) {
  backend_.FetchHistoryPage(
      StoreChannelFor(key), kHistoryScanPage, before,
      [this, job, key, read](HistoryPage page) {
        LocalClient* client = FindClient(job->client);
        if (client == nullptr) return;
        // A channel the kernel cannot read now is left out rather than failing the others.
        if (page.status.ok()) {
          TargetScan scan = ScanForTarget(page.messages, job->lo_ms, job->hi_ms);
          size_t total = read + page.messages.size();
          if (scan.latest_ms != 0) {
            job->found.emplace_back(scan.latest_ms, key);
          } else if (!scan.decided && !page.next_before.empty() && !page.messages.empty() &&
                     total < kMaxHistoryScan) {
            ScanTarget(job, key, page.next_before, total);
            return;
          }
        }
        if (--job->pending > 0) return;
        if (client->history_requests > 0) --client->history_requests;
        RunLabeled(job->client, job->label, [&] { AnswerTargets(*client, *job); });
        EndWait(job->client);
      });
}

void IrcServer::AnswerTargets(LocalClient& client, TargetsJob& job) {
  std::sort(job.found.begin(), job.found.end());
  if (job.found.size() > job.limit) job.found.resize(job.limit);
  std::string batch;
  if ((client.caps & kCapBatch) != 0) {
    batch = fmt::format("targets{}", ++batch_counter_);
    Message start;
    start.prefix = options_.server_name;
    start.command = "BATCH";
    start.params = {"+" + batch, "draft/chathistory-targets"};
    Send(client, Render(start));
  }
  for (const auto& [time_ms, channel] : job.found) {
    Message line;
    if (!batch.empty()) line.tags = {{"batch", batch}};
    line.prefix = options_.server_name;
    line.command = "CHATHISTORY";
    line.params = {"TARGETS", channel, FormatServerTime(time_ms)};
    Send(client, Render(line));
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
