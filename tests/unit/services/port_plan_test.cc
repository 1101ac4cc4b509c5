// Port clashes between instances of one node, resolved before anything starts.
#include "services/port_plan.h"

#include <gtest/gtest.h>

#include "services/launch.h"

namespace lattice::services {
namespace {

PortClaim Claim(std::string instance, int64_t port, bool allow_zero = true) {
  PortClaim c;
  c.instance = std::move(instance);
  c.port = port;
  c.allow_zero = allow_zero;
  c.override_hint = "lattice-ctl service override ...";
  return c;
}

TEST(PortPlan, TheSecondInstanceOnAPortGetsOneFromTheOs) {
  auto plan = PlanPorts({Claim("irc@b", 6667), Claim("irc@a", 6667)});
  EXPECT_EQ(plan[1].port, 6667) << "the first by name keeps it";
  EXPECT_EQ(plan[0].port, 0);
  EXPECT_NE(plan[0].note.find("taken by irc@a"), std::string::npos);
}

TEST(PortPlan, WithoutPortZeroAClashIsRefusedNamingTheOverride) {
  auto plan = PlanPorts({Claim("irc@a", 6667), Claim("web@b", 6667, false)});
  EXPECT_FALSE(plan[0].refused);
  EXPECT_TRUE(plan[1].refused);
  EXPECT_NE(plan[1].note.find("service override"), std::string::npos);
}

TEST(PortPlan, ARunningInstanceKeepsItsPortThenAnOverriddenOne) {
  PortClaim running = Claim("irc@z", 6667);
  running.running_on_it = true;
  PortClaim overridden = Claim("irc@y", 6667);
  overridden.overridden = true;
  auto plan = PlanPorts({Claim("irc@a", 6667), overridden, running});
  EXPECT_EQ(plan[2].port, 6667);
  EXPECT_EQ(plan[0].port, 0);
  EXPECT_EQ(plan[1].port, 0);
  plan = PlanPorts({Claim("irc@a", 6667), overridden});
  EXPECT_EQ(plan[1].port, 6667);
}

TEST(PortPlan, PortZeroAndDistinctPortsNeverClash) {
  auto plan = PlanPorts({Claim("a", 0), Claim("b", 0), Claim("c", 1), Claim("d", 2)});
  for (size_t i = 0; i < plan.size(); ++i) EXPECT_TRUE(plan[i].note.empty()) << i;
}

TEST(ListeningLine, TheDaemonsReportedEndpoint) {
  EXPECT_EQ(ParseListeningLine("lattice-irc listening on 127.0.0.1:40123")->endpoint, "tcp://127.0.0.1:40123");
  EXPECT_EQ(ParseListeningLine("lattice-irc listening on [::1]:6667")->port, 6667);
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1:0").has_value());
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1:99999").has_value());
  EXPECT_FALSE(ParseListeningLine("listening on evil;host:80").has_value());
  EXPECT_FALSE(ParseListeningLine("ready").has_value());
}

}  // namespace
}  // namespace lattice::services
