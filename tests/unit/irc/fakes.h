// Stand-ins for the IRC server's two neighbours: a transport that records what each client
// was sent, and a chat backend whose answers the test gives by hand, so a test decides the
// order in which writes answer and watch events arrive.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/chat_backend.h"
#include "src/transport.h"

namespace lattice::irc::testing {

class FakeTransport final : public ClientTransport {
 public:
  void Send(ClientId id, std::string_view bytes) override { output[id].append(bytes); }
  void Close(ClientId id, std::string_view reason) override { closed[id] = std::string(reason); }
  void HoldInput(ClientId id, bool hold) override { held.emplace_back(id, hold); }

  // The lines sent to `id` since the last call, without CR LF.
  std::vector<std::string> Take(ClientId id) {
    std::vector<std::string> lines;
    std::string& out = output[id];
    size_t pos = 0;
    while (true) {
      size_t end = out.find("\r\n", pos);
      if (end == std::string::npos) break;
      lines.push_back(out.substr(pos, end - pos));
      pos = end + 2;
    }
    out.erase(0, pos);
    return lines;
  }

  std::map<ClientId, std::string> output;
  std::map<ClientId, std::string> closed;
  std::vector<std::pair<ClientId, bool>> held;  // HoldInput calls, in order
};

class FakeBackend final : public ChatBackend {
 public:
  struct Write {
    std::string kind;  // post | topic | reply | react | modes
    std::string channel;
    std::string text;
    std::string sender;
    bool action = false;
    uint64_t order = 0;
    std::function<void(PostOutcome)> done;
  };
  struct Fetch {
    std::string channel;
    uint32_t limit;
    std::function<void(ChannelSnapshot)> done;
  };

  void Post(const v1::PostRequest& r, uint64_t order,
            std::function<void(PostOutcome)> done) override {
    posts.push_back(r);
    writes.push_back(
        {"post", r.channel(), r.text(), r.sender(), r.action(), order, std::move(done)});
  }
  void SetTopic(const v1::SetTopicRequest& r, uint64_t order,
                std::function<void(PostOutcome)> done) override {
    writes.push_back({"topic", r.channel(), r.text(), r.sender(), false, order, std::move(done)});
  }
  // The changes are in `text` as "+k key,-t"; the request itself in `mode_requests`.
  void SetModes(const v1::SetModesRequest& r, uint64_t order,
                std::function<void(PostOutcome)> done) override {
    std::string text;
    for (const auto& change : r.changes()) {
      if (!text.empty()) text += ",";
      text += (change.on() ? "+" : "-") + change.mode();
      if (!change.arg().empty()) text += " " + change.arg();
    }
    mode_requests.push_back(r);
    writes.push_back({"modes", r.channel(), text, r.sender(), false, order, std::move(done)});
  }
  void Reply(const v1::ReplyRequest& r, uint64_t order,
             std::function<void(PostOutcome)> done) override {
    writes.push_back({"reply", r.ref(), r.text(), r.sender(), false, order, std::move(done)});
  }
  void React(const v1::ReactRequest& r, uint64_t order,
             std::function<void(PostOutcome)> done) override {
    writes.push_back({"react", r.ref(), r.emoji(), r.sender(), false, order, std::move(done)});
  }
  void FetchChannel(const std::string& channel, uint32_t limit,
                    std::function<void(ChannelSnapshot)> done) override {
    fetches.push_back({channel, limit, std::move(done)});
  }
  void FetchTopic(const std::string& channel, std::function<void(TopicAnswer)> done) override {
    TopicAnswer answer;
    auto it = topics.find(channel);
    if (it != topics.end()) answer.topic = it->second;
    done(answer);
  }
  void ListChannels(std::function<void(ChannelList)> done) override {
    ChannelList list;
    list.channels = channels;
    done(list);
  }
  // Pages `history[channel]` (oldest first) as the kernel does, newest first, the token
  // being the index the next older page ends at; answers at once.
  void FetchHistoryPage(const std::string& channel, uint32_t limit, const std::string& before,
                        std::function<void(HistoryPage)> done) override {
    history_reads.push_back({channel, limit, before});
    const std::vector<v1::ChatMessage>& all = history[channel];
    size_t end = before.empty() ? all.size() : std::stoul(before);
    size_t begin = end > limit ? end - limit : 0;
    HistoryPage page;
    page.messages.assign(all.begin() + static_cast<std::ptrdiff_t>(begin),
                         all.begin() + static_cast<std::ptrdiff_t>(end));
    if (begin > 0) page.next_before = std::to_string(begin);
    done(std::move(page));
  }

  // Answers the oldest unanswered write (or the one at `index`) with `hash` (or the error)
  // and forgets it.
  Write AnswerWrite(const std::string& hash, absl::Status status = absl::OkStatus(),
                    size_t index = 0) {
    Write write = std::move(writes[index]);
    writes.erase(writes.begin() + static_cast<std::ptrdiff_t>(index));
    write.done(PostOutcome{status, hash, 0});
    return write;
  }
  // Answers the oldest fetch with `snapshot`.
  void AnswerFetch(ChannelSnapshot snapshot) {
    Fetch fetch = std::move(fetches.front());
    fetches.pop_front();
    fetch.done(std::move(snapshot));
  }

  struct HistoryRead {
    std::string channel;
    uint32_t limit = 0;
    std::string before;
  };

  std::deque<Write> writes;
  std::vector<v1::SetModesRequest> mode_requests;
  std::vector<v1::PostRequest> posts;  // every Post, as requested
  std::map<std::string, std::vector<v1::ChatMessage>> history;  // by chat channel
  std::vector<HistoryRead> history_reads;
  std::deque<Fetch> fetches;
  std::map<std::string, v1::Topic> topics;
  std::vector<v1::ChannelInfo> channels;
};

}  // namespace lattice::irc::testing
