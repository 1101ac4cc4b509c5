// libFuzzer target for what an IRC client controls: line framing, the line parser, UTF-8
// repair, and the IRC server behind them. Checks, beyond "no crash and no sanitizer report":
// - a parsed line renders to a line that parses back to the same message;
// - repaired text is valid UTF-8 and cutting it never splits a character;
// - the server answers every line without growing what it holds for a client unboundedly.
// Run longer with: build-asan/tests/fuzz/fuzz_irc_line -max_total_time=600 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fakes.h"
#include "src/line_reader.h"
#include "src/message.h"
#include "src/server.h"
#include "src/utf8.h"

namespace {

using lattice::irc::ClientId;
using lattice::irc::LineReader;
using lattice::irc::Message;
using lattice::irc::ParseError;

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckRoundTrip(std::string_view line) {
  lattice::irc::ParseResult parsed = lattice::irc::ParseLine(line);
  if (parsed.error != ParseError::kNone) return;
  const Message& m = parsed.message;
  std::string rendered = lattice::irc::Render(m);
  Require(rendered.size() >= 2 && rendered.compare(rendered.size() - 2, 2, "\r\n") == 0);
  std::string_view body(rendered.data(), rendered.size() - 2);
  Require(body.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
  // Rendering turns NUL into a space (nothing may carry one to a client), and may add a
  // ':' that makes the line too long: compare only what both sides can express.
  if (line.find('\0') != std::string_view::npos) return;
  lattice::irc::ParseResult again = lattice::irc::ParseLine(body);
  if (again.error == ParseError::kLineTooLong || again.error == ParseError::kTagsTooLong) return;
  Require(again.error == ParseError::kNone);
  Require(again.message.command == m.command);
  Require(again.message.params == m.params);
  Require(again.message.prefix == m.prefix);
  Require(again.message.tags.size() == m.tags.size());
  for (size_t i = 0; i < m.tags.size(); ++i) {
    Require(again.message.tags[i].key == m.tags[i].key);
    Require(again.message.tags[i].value == m.tags[i].value);
  }
}

void CheckUtf8(std::string_view bytes) {
  std::string clean = lattice::irc::ScrubUtf8(bytes);
  Require(lattice::irc::IsValidUtf8(clean));
  Require(lattice::irc::IsValidUtf8(bytes) == (clean == bytes));
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, clean.size() / 2}) {
    Require(lattice::irc::IsValidUtf8(lattice::irc::TruncateUtf8(clean, n)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckUtf8(input);

  lattice::irc::testing::FakeTransport transport;
  lattice::irc::testing::FakeBackend backend;
  lattice::irc::ServerOptions options;
  options.server_name = "irc.fuzz";
  options.store = "chat1";
  options.node_id = std::string(64, 'a');
  options.wall_clock_ms = [] { return uint64_t{1'700'000'000'000}; };
  lattice::irc::IrcServer server(options, transport, backend);
  constexpr ClientId kClient = 1;
  constexpr ClientId kPeer = 2;
  server.OnConnect(kClient, 0);
  server.OnConnect(kPeer, 0);
  for (const char* line : {"NICK peer", "USER peer 0 * :Peer", "JOIN #a"}) {
    server.OnLine(kPeer, line, 0);
  }

  // Small lines, so long inputs exercise the overflow path too.
  LineReader reader(600);
  // Feed in a few pieces, as TCP would.
  size_t cut = size / 3;
  uint64_t cursor = 1;
  int64_t now = 0;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    reader.Append(piece);
    std::string line;
    while (true) {
      LineReader::Next next = reader.Pop(&line);
      if (next == LineReader::Next::kNone) break;
      if (next == LineReader::Next::kTooLong) {
        server.OnLineTooLong(kClient);
        continue;
      }
      Require(line.size() <= 600);
      Require(line.find_first_of("\r\n") == std::string::npos);
      CheckRoundTrip(line);
      server.OnLine(kClient, line, now);
      // Let the kernel answer everything, and echo writes back as the watch would.
      while (!backend.fetches.empty()) backend.AnswerFetch({});
      while (!backend.writes.empty()) {
        std::string hash = "h" + std::to_string(cursor);
        auto write = backend.AnswerWrite(hash);
        lattice::v1::ChatMessage message;
        message.set_hash(hash);
        bool named = write.kind == "post" || write.kind == "topic" || write.kind == "modes";
        message.set_channel(named ? write.channel : "a");
        message.set_kind(write.kind);
        if (write.kind == "modes" && !backend.mode_requests.empty()) {
          *message.mutable_modes() = backend.mode_requests.back().changes();
        }
        message.set_text(write.text);
        message.set_sender(write.sender);
        message.set_author(options.node_id);
        message.set_cursor(cursor++);
        server.OnChatMessage(message, now);
      }
      now += 100;
      server.OnTick(now);
    }
    Require(reader.buffered() <= 600 + piece.size());
  }
  server.OnDisconnect(kClient, "fuzz done");
  return 0;
}
