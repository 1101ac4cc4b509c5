// lattice-common: encodings, ids, durations and the crypto wrappers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lattice/common/base64.h"
#include "lattice/common/crypto.h"
#include "lattice/common/duration.h"
#include "lattice/common/fs_conflict_names.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/files.h"
#include "lattice/common/limits.h"
#include "lattice/common/published_witness.h"
#include "lattice/common/quote.h"
#include "lattice/common/utf8.h"
#include "unit/store/test_store.h"

namespace lattice {
namespace {

TEST(Hex, RoundTripsAndRejectsGarbage) {
  std::string bytes("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(ToHex(bytes), "0001feff");
  EXPECT_EQ(FromHex("0001FEff"), bytes);
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
}

TEST(Base64, RoundTripsEveryByteAndRejectsGarbage) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 255u, 256u}) {
    std::string bytes = all.substr(0, n);
    EXPECT_EQ(FromBase64(ToBase64(bytes)), bytes);
  }
  EXPECT_EQ(ToBase64("hi"), "aGk=");
  EXPECT_EQ(FromBase64("aGk="), "hi");
  EXPECT_FALSE(FromBase64("aGk").has_value());     // padding is required
  EXPECT_FALSE(FromBase64("aG k=").has_value());
  EXPECT_FALSE(FromBase64("a*k=").has_value());
  EXPECT_FALSE(FromBase64("aGk=aGk=").has_value());
}

TEST(Utf8, WholeStringValidity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("a\xff" "b"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
}

TEST(StoreIds, FormatAndParseAreInverse) {
  std::string id = NewStoreId();
  std::string text = FormatStoreId(id);
  EXPECT_EQ(text.size(), 36u);
  EXPECT_EQ(text[14], '4');  // version 4
  EXPECT_EQ(ParseStoreId(text), id);
  EXPECT_FALSE(ParseStoreId("not-a-uuid").has_value());
  EXPECT_FALSE(ParseStoreId(text.substr(0, 35) + "g").has_value());
}

TEST(FsConflictNames, AreTheNameTheMarkerTheUtcTimeAndWho) {
  EXPECT_EQ(FsConflictName("a.txt", 1'700'000'000'123, "node1"),
            "a.txt.sync-conflict-20231114-221320-node1");
  EXPECT_EQ(FsConflictName("", 0, "x"), ".sync-conflict-19700101-000000-x");
  EXPECT_NE(FsConflictName("a", 0, "x").find(kFsConflictMarker), std::string::npos);
}

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(*ParseDurationSeconds("90"), 90u);
  EXPECT_EQ(*ParseDurationSeconds("15m"), 900u);
  EXPECT_EQ(*ParseDurationSeconds("2h"), 7200u);
  EXPECT_EQ(*ParseDurationSeconds("30d"), 30u * 86400);
  EXPECT_FALSE(ParseDurationSeconds("5y").ok());
  EXPECT_FALSE(ParseDurationSeconds("h").ok());
}

TEST(Crypto, SignaturesBindContextMessageAndKey) {
  KeyPair key = GenerateKeyPair();
  std::string sig = Sign(key, "ctx/", "message");
  EXPECT_TRUE(Verify(key.public_key, "ctx/", "message", sig));
  EXPECT_FALSE(Verify(key.public_key, "ctx/", "messagf", sig));
  EXPECT_FALSE(Verify(key.public_key, "other/", "message", sig));
  EXPECT_FALSE(Verify(GenerateKeyPair().public_key, "ctx/", "message", sig));
  KeyPair restored;
  ASSERT_TRUE(KeyPairFromSecret(key.secret_key, &restored));
  EXPECT_EQ(restored.public_key, key.public_key);
  std::string corrupt = key.secret_key;
  corrupt[40] ^= 1;
  EXPECT_FALSE(KeyPairFromSecret(corrupt, &restored));
}

TEST(Crypto, IncrementalHashSeparatesFields) {
  Blake2bHasher a, b;
  a.UpdateField("ab");
  a.UpdateField("c");
  b.UpdateField("a");
  b.UpdateField("bc");
  EXPECT_NE(a.Finish(), b.Finish());
  EXPECT_EQ(Blake2b256("x").size(), 32u);
}

}  // namespace
}  // namespace lattice

namespace lattice {
namespace {

TEST(Quote, EscapesAndCutsWhatItEchoes) {
  EXPECT_EQ(Quote("notes"), "\"notes\"");
  EXPECT_EQ(Quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(Quote(std::string("a\"b\\c\n\xff", 7)), "\"a\\\"b\\\\c\\x0a\\xff\"");
  std::string cut = Quote(std::string(10'000, 'x'));
  EXPECT_EQ(cut, "\"" + std::string(limits::kMaxQuotedBytes, 'x') + "…\" (10000 bytes)");
  // A character is never split at the cut.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "\xc3\xa9";
  std::string quoted = Quote(accents);
  EXPECT_EQ(quoted.find("\\x"), std::string::npos) << quoted;
}

}  // namespace
}  // namespace lattice

namespace lattice {
namespace {

using kernel::testing::TempDir;

TEST(PublishedWitness, ReadersSeeWhatIsPublishedInAFileKeptAcrossWriters) {
  TempDir dir;
  const std::string path = dir.path() + "/store";
  auto writer = PublishedWitnessWriter::Open(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto reader = PublishedWitnessReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->Read(), 0u);
  (*writer)->Publish(41);
  EXPECT_EQ((*reader)->Read(), 41u);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  EXPECT_EQ(before.st_mode & 0027, 0u) << "written by its owner, read by its group at most";

  // A kernel that starts again writes the same file: a mount's mapping stays live, and the
  // number is kept until published again.
  writer->reset();
  auto again = PublishedWitnessWriter::Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ((*reader)->Read(), 41u);
  (*again)->Publish(42);
  EXPECT_EQ((*reader)->Read(), 42u);
}

TEST(PublishedWitness, OnlyARegularFileIsOpenedNeverThroughALink) {
  TempDir dir;
  const std::string target = dir.path() + "/target";
  ASSERT_TRUE(PublishedWitnessWriter::Open(target).ok());
  const std::string link = dir.path() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_FALSE(PublishedWitnessWriter::Open(link).ok());
  EXPECT_FALSE(PublishedWitnessReader::Open(link).ok());
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(PublishedWitnessWriter::Open(fifo).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PublishedWitnessReader::Open(fifo).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A file the writer did not size is not read past its end.
  const std::string short_file = dir.path() + "/short";
  ASSERT_TRUE(WriteFileAtomic(short_file, "1234", 0600).ok());
  EXPECT_EQ(PublishedWitnessReader::Open(short_file).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(PublishedWitnessReader::Open(dir.path() + "/missing").ok());
}

TEST(PublishedWitness, LivesBesideTheSocketNamedAfterIt) {
  EXPECT_EQ(WitnessDirForSocket("/run/lattice/kernel.sock"), "/run/lattice/fs-witness");
  EXPECT_EQ(WitnessDirForSocket("/tmp/t/other.sock"), "/tmp/t/other.sock.fs-witness");
}

}  // namespace
}  // namespace lattice
