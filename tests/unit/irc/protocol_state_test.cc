// Registration, flood control, capabilities and ISUPPORT: the small state machines.
#include <gtest/gtest.h>

#include "src/capabilities.h"
#include "src/flood_gate.h"
#include "src/isupport.h"
#include "src/limits.h"
#include "src/registration.h"

namespace lattice::irc {
namespace {

using State = Registration::State;

TEST(Registration, NickAndUserInEitherOrder) {
  Registration a;
  EXPECT_EQ(a.state(), State::kPending);
  a.OnNick("alice");
  EXPECT_EQ(a.state(), State::kPending);
  a.OnUser("alice", "Alice");
  EXPECT_EQ(a.state(), State::kReady);

  Registration b;
  b.OnUser("bob", "Bob");
  EXPECT_EQ(b.state(), State::kPending);
  b.OnNick("bob");
  EXPECT_EQ(b.state(), State::kReady);
  b.MarkRegistered();
  EXPECT_EQ(b.state(), State::kRegistered);
}

TEST(Registration, CapNegotiationSuspendsUntilEnd) {
  Registration r;
  r.OnCapStart();
  r.OnNick("n");
  r.OnUser("u", "r");
  EXPECT_EQ(r.state(), State::kPending);
  r.OnCapEnd();
  EXPECT_EQ(r.state(), State::kReady);
}

TEST(Registration, CapAfterRegistrationDoesNotSuspend) {
  Registration r;
  r.OnNick("n");
  r.OnUser("u", "r");
  r.MarkRegistered();
  r.OnCapStart();
  EXPECT_EQ(r.state(), State::kRegistered);
}

TEST(Registration, PasswordMustMatch) {
  Registration missing("s3cret");
  missing.OnNick("n");
  missing.OnUser("u", "r");
  EXPECT_EQ(missing.state(), State::kPasswordMismatch);

  Registration wrong("s3cret");
  wrong.OnPass("guess");
  wrong.OnNick("n");
  wrong.OnUser("u", "r");
  EXPECT_EQ(wrong.state(), State::kPasswordMismatch);

  Registration right("s3cret");
  right.OnPass("guess");
  right.OnPass("s3cret");  // the last PASS counts
  right.OnNick("n");
  right.OnUser("u", "r");
  EXPECT_EQ(right.state(), State::kReady);
}

TEST(Registration, UserNameIsCleanedForHostmasks) {
  Registration r;
  r.OnUser("we!rd@user name that is long", "Real \xff Name");
  EXPECT_EQ(r.user(), "we_rd_user_name_");
  EXPECT_EQ(r.user().size(), limits::kMaxUserBytes);
  EXPECT_EQ(r.realname(), "Real \xEF\xBF\xBD Name");
  Registration empty;
  empty.OnUser("", "");
  EXPECT_EQ(empty.user(), "user");
}

TEST(FloodGate, BurstThenSteadyRate) {
  FloodGate gate(5, 2, /*now_ms=*/0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(gate.TryTake(0)) << i;
  EXPECT_FALSE(gate.TryTake(0));
  EXPECT_EQ(gate.MsUntilToken(0), 500);
  EXPECT_FALSE(gate.TryTake(499));
  EXPECT_TRUE(gate.TryTake(500));
  EXPECT_FALSE(gate.TryTake(500));
  // A long pause refills to the burst, not beyond.
  EXPECT_EQ(gate.MsUntilToken(100'000), 0);
  int taken = 0;
  while (gate.TryTake(100'000)) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(FloodGate, ClockGoingBackwardsGrantsNothing) {
  FloodGate gate(1, 1, 1000);
  EXPECT_TRUE(gate.TryTake(1000));
  EXPECT_FALSE(gate.TryTake(0));
  EXPECT_FALSE(gate.TryTake(1500));
  EXPECT_TRUE(gate.TryTake(2000));
}

// ---- ClientInput: the penalty with a fake clock -----------------------------------------

std::string Lines(int from, int to) {
  std::string bytes;
  for (int i = from; i < to; ++i) bytes += "PING " + std::to_string(i) + "\r\n";
  return bytes;
}

TEST(ClientInput, ABotsThousandLinesAllGoOutInOrderAtTheRate) {
  ClientInput::Options options;  // the defaults: 100 lines ahead, 100 lines a second
  ClientInput input(options, /*now_ms=*/0);
  input.Append(Lines(0, 1000));
  int64_t now = 0;
  int next = 0;
  int64_t burst_end = -1;
  while (next < 1000) {
    ClientInput::Step step = input.Next(now);
    ASSERT_NE(step.kind, ClientInput::Step::Kind::kIdle);
    if (step.kind == ClientInput::Step::Kind::kWait) {
      if (burst_end < 0) burst_end = next;
      ASSERT_GT(step.wait_ms, 0);
      now += step.wait_ms;  // the timer fires
      continue;
    }
    ASSERT_EQ(step.kind, ClientInput::Step::Kind::kLine);
    EXPECT_EQ(step.line, "PING " + std::to_string(next));
    ++next;
  }
  EXPECT_EQ(burst_end, 100);  // the run-ahead at once, then paced
  EXPECT_GE(now, 8'900);
  EXPECT_LE(now, 9'100);
  EXPECT_EQ(input.Next(now).kind, ClientInput::Step::Kind::kIdle);
}

TEST(ClientInput, ReadingPausesWhileLinesWaitAndResumesWhenTheyGo) {
  ClientInput::Options options;
  options.burst = 1;
  options.per_second = 10;
  options.read_pause = 100;
  ClientInput input(options, 0);
  EXPECT_TRUE(input.WantsRead());
  input.Append(Lines(0, 20));  // 20 x 8 bytes
  EXPECT_FALSE(input.WantsRead());
  EXPECT_EQ(input.Next(0).kind, ClientInput::Step::Kind::kLine);
  ClientInput::Step wait = input.Next(0);
  EXPECT_EQ(wait.kind, ClientInput::Step::Kind::kWait);
  EXPECT_EQ(wait.wait_ms, 100);
  int64_t now = 0;
  while (!input.WantsRead()) {
    ClientInput::Step step = input.Next(now);
    if (step.kind == ClientInput::Step::Kind::kWait) now += step.wait_ms;
  }
  EXPECT_LT(input.pending(), 100u);
  EXPECT_GT(now, 0);
}

TEST(ClientInput, TheServersHoldStopsLinesWithoutCostingThePenalty) {
  ClientInput::Options options;
  options.burst = 2;
  options.per_second = 1;
  ClientInput input(options, 0);
  input.Append(Lines(0, 3));
  input.SetHeld(true);
  EXPECT_EQ(input.Next(0).kind, ClientInput::Step::Kind::kIdle);
  input.SetHeld(false);
  EXPECT_EQ(input.Next(5'000).line, "PING 0");
  EXPECT_EQ(input.Next(5'000).line, "PING 1");
  EXPECT_EQ(input.Next(5'000).kind, ClientInput::Step::Kind::kWait);
}

TEST(ClientInput, OnlyInputBeyondTheHardBoundIsTooMuch) {
  ClientInput::Options options;
  options.max_unhandled = 1000;
  ClientInput input(options, 0);
  input.Append(std::string(400, 'x'));  // no line end yet
  EXPECT_FALSE(input.Exceeds(600));
  EXPECT_TRUE(input.Exceeds(601));
}

TEST(ClientInput, AnOverlongLineIsReportedAndCostsALine) {
  ClientInput::Options options;
  options.burst = 1;
  options.per_second = 1;
  ClientInput input(options, 0);
  input.Append(std::string(limits::kMaxInputLineBytes + 10, 'x') + "\r\nPING a\r\n");
  EXPECT_EQ(input.Next(0).kind, ClientInput::Step::Kind::kTooLong);
  EXPECT_EQ(input.Next(0).kind, ClientInput::Step::Kind::kWait);
  EXPECT_EQ(input.Next(1'000).line, "PING a");
}

TEST(Capabilities, LsListsAll) {
  EXPECT_EQ(CapNames(kAllCaps),
            "server-time message-tags echo-message batch labeled-response draft/chathistory "
            "multi-prefix userhost-in-names away-notify extended-monitor");

  EXPECT_EQ(CapNames(0), "");
}

TEST(Capabilities, RequestsAreAllOrNothing) {
  CapRequest ok = ParseCapRequest("server-time  batch -echo-message");
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.enable, kCapServerTime | kCapBatch);
  EXPECT_EQ(ok.disable, static_cast<CapSet>(kCapEchoMessage));
  EXPECT_FALSE(ParseCapRequest("server-time sasl").ok);
  EXPECT_FALSE(ParseCapRequest("").ok);
  EXPECT_FALSE(ParseCapRequest("-").ok);
}

TEST(Isupport, AdvertisesTheConventionsClientsRelyOn) {
  std::vector<std::string> tokens = IsupportTokens("Lattice");
  auto has = [&](const std::string& token) {
    return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
  };
  EXPECT_TRUE(has("CHANTYPES=#"));
  EXPECT_TRUE(has("CASEMAPPING=rfc1459"));
  EXPECT_TRUE(has("NICKLEN=" + std::to_string(limits::kMaxNickBytes)));
  EXPECT_TRUE(has("CHANNELLEN=" + std::to_string(limits::kMaxChannelNameBytes)));
  EXPECT_TRUE(has("LINELEN=512"));
  EXPECT_TRUE(has("TOPICLEN=" + std::to_string(limits::kMaxTopicBytes)));
  EXPECT_TRUE(has("NETWORK=Lattice"));
  EXPECT_TRUE(has("UTF8ONLY"));
  EXPECT_TRUE(has("PREFIX=(ov)@+"));
  for (const auto& token : tokens) EXPECT_EQ(token.find(' '), std::string::npos) << token;
}

TEST(Isupport, LinesHoldAtMostThirteenTokens) {
  std::vector<std::string> tokens(30, "T");
  auto lines = IsupportLines(tokens);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 13u);
  EXPECT_EQ(lines[2].size(), 4u);
}

}  // namespace
}  // namespace lattice::irc
