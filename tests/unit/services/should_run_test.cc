// The consent firewall's decision, case by case: every consent against every kind of
// declaration (none, disabled, Global, TaggedNodes with and without the tag, LocalOnly)
// and the operator's explicit start and stop.
#include "services/should_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lattice::services {
namespace {

enum class Declared { kNone, kMeshDisabled, kGlobal, kTaggedHasTag, kTaggedLacksTag, kLocal, kLocalDisabled };

const char* Name(Declared d) {
  switch (d) {
    case Declared::kNone: return "none";
    case Declared::kMeshDisabled: return "mesh-disabled";
    case Declared::kGlobal: return "Global";
    case Declared::kTaggedHasTag: return "TaggedNodes(tagged here)";
    case Declared::kTaggedLacksTag: return "TaggedNodes(not tagged here)";
    case Declared::kLocal: return "LocalOnly";
    case Declared::kLocalDisabled: return "LocalOnly-disabled";
  }
  return "?";
}

RunInputs Inputs(Consent consent, Declared declared, Control control) {
  RunInputs in;
  in.consent = consent;
  in.control = control;
  switch (declared) {
    case Declared::kNone: break;
    case Declared::kMeshDisabled:
      in.declared_by_mesh = true;
      in.mesh_enabled = false;
      break;
    case Declared::kGlobal:
      in.declared_by_mesh = true;
      in.mesh_policy = Policy{PolicyKind::kGlobal, ""};
      break;
    case Declared::kTaggedHasTag:
    case Declared::kTaggedLacksTag:
      in.declared_by_mesh = true;
      in.mesh_policy = Policy{PolicyKind::kTaggedNodes, "gateway"};
      in.node_has_tag = declared == Declared::kTaggedHasTag;
      break;
    case Declared::kLocal:
      in.declared_locally = true;
      break;
    case Declared::kLocalDisabled:
      in.declared_locally = true;
      in.local_enabled = false;
      break;
  }
  return in;
}

struct Row {
  Consent consent;
  Declared declared;
  Control control;
  bool run;
};

// The whole table. Read a row as: with this consent and this declaration, after this
// explicit act, does the node run the instance?
const std::vector<Row> kTable = {
    // No explicit act: the consent decides about mesh declarations; LocalOnly is the owner's.
    {Consent::kManual, Declared::kNone, Control::kNone, false},
    {Consent::kManual, Declared::kMeshDisabled, Control::kNone, false},
    {Consent::kManual, Declared::kGlobal, Control::kNone, false},
    {Consent::kManual, Declared::kTaggedHasTag, Control::kNone, false},
    {Consent::kManual, Declared::kTaggedLacksTag, Control::kNone, false},
    {Consent::kManual, Declared::kLocal, Control::kNone, true},
    {Consent::kManual, Declared::kLocalDisabled, Control::kNone, false},
    {Consent::kFollowMesh, Declared::kNone, Control::kNone, false},
    {Consent::kFollowMesh, Declared::kMeshDisabled, Control::kNone, false},
    {Consent::kFollowMesh, Declared::kGlobal, Control::kNone, true},
    {Consent::kFollowMesh, Declared::kTaggedHasTag, Control::kNone, true},
    {Consent::kFollowMesh, Declared::kTaggedLacksTag, Control::kNone, false},
    {Consent::kFollowMesh, Declared::kLocal, Control::kNone, true},
    {Consent::kFollowMesh, Declared::kLocalDisabled, Control::kNone, false},
    {Consent::kAlways, Declared::kNone, Control::kNone, false},
    {Consent::kAlways, Declared::kMeshDisabled, Control::kNone, false},
    {Consent::kAlways, Declared::kGlobal, Control::kNone, true},
    {Consent::kAlways, Declared::kTaggedHasTag, Control::kNone, true},
    {Consent::kAlways, Declared::kTaggedLacksTag, Control::kNone, true},
    {Consent::kAlways, Declared::kLocal, Control::kNone, true},
    {Consent::kAlways, Declared::kLocalDisabled, Control::kNone, false},
    {Consent::kBlock, Declared::kNone, Control::kNone, false},
    {Consent::kBlock, Declared::kMeshDisabled, Control::kNone, false},
    {Consent::kBlock, Declared::kGlobal, Control::kNone, false},
    {Consent::kBlock, Declared::kTaggedHasTag, Control::kNone, false},
    {Consent::kBlock, Declared::kTaggedLacksTag, Control::kNone, false},
    {Consent::kBlock, Declared::kLocal, Control::kNone, false},
    {Consent::kBlock, Declared::kLocalDisabled, Control::kNone, false},
};

TEST(ShouldRun, EveryConsentAgainstEveryDeclaration) {
  for (const Row& row : kTable) {
    RunDecision decision = ShouldRun(Inputs(row.consent, row.declared, row.control));
    EXPECT_EQ(decision.run, row.run) << ConsentName(row.consent) << " x " << Name(row.declared)
                                     << ": " << decision.reason;
    EXPECT_FALSE(decision.reason.empty());
  }
  EXPECT_EQ(kTable.size(), 4u * 7u) << "one row per consent and declaration";
}

TEST(ShouldRun, AnExplicitStartRunsUnderEveryConsentButBlock) {
  for (Consent consent : {Consent::kManual, Consent::kFollowMesh, Consent::kAlways, Consent::kBlock}) {
    for (Declared declared : {Declared::kNone, Declared::kMeshDisabled, Declared::kGlobal,
                              Declared::kTaggedHasTag, Declared::kTaggedLacksTag, Declared::kLocal,
                              Declared::kLocalDisabled}) {
      RunDecision start = ShouldRun(Inputs(consent, declared, Control::kStart));
      EXPECT_EQ(start.run, consent != Consent::kBlock) << ConsentName(consent) << " x " << Name(declared);
      RunDecision stop = ShouldRun(Inputs(consent, declared, Control::kStop));
      EXPECT_FALSE(stop.run) << ConsentName(consent) << " x " << Name(declared);
    }
  }
}

TEST(ShouldRun, ReasonsNameWhatDecided) {
  EXPECT_NE(ShouldRun(Inputs(Consent::kManual, Declared::kGlobal, Control::kNone)).reason.find("manual"),
            std::string::npos);
  EXPECT_NE(ShouldRun(Inputs(Consent::kFollowMesh, Declared::kTaggedLacksTag, Control::kNone))
                .reason.find("gateway"),
            std::string::npos);
  EXPECT_NE(ShouldRun(Inputs(Consent::kBlock, Declared::kLocal, Control::kStart)).reason.find("block"),
            std::string::npos);
}

TEST(ShouldRun, ConsentNamesRoundTrip) {
  for (Consent c : {Consent::kManual, Consent::kFollowMesh, Consent::kAlways, Consent::kBlock}) {
    auto parsed = ParseConsent(ConsentName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_FALSE(ParseConsent("yes").ok());
  EXPECT_FALSE(ParseConsent("").ok());
}

}  // namespace
}  // namespace lattice::services
