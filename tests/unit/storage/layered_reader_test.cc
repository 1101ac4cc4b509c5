// LayeredReader: the database as it will be once a batch being committed is in it, which the
// store's writer builds the next group over; and the batch a BatchView commits.
#include <gtest/gtest.h>

#include "storage/batch_view.h"
#include "storage/layered_reader.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

std::unique_ptr<Database> OpenWith(const std::string& dir,
                                   std::initializer_list<const char*> keys) {
  auto db = Database::Open(dir);
  EXPECT_TRUE(db.ok()) << db.status();
  leveldb::WriteBatch batch;
  for (const char* k : keys) batch.Put(k, std::string("db-") + k);
  EXPECT_TRUE((*db)->Write(&batch, false).ok());
  return *std::move(db);
}

std::vector<std::string> ScanAll(const KvReader& reader, std::string_view start,
                                 std::string_view end) {
  std::vector<std::string> seen;
  absl::Status s = reader.Scan(start, end, [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return seen;
}

TEST(LayeredReaderTest, ShowsTheBatchInFlightOverTheDatabase) {
  TempDir dir;
  auto db = OpenWith(dir.path() + "/db", {"a", "c", "e"});
  BatchView in_flight(*db);
  in_flight.Put("b", "flight-b");
  in_flight.Delete("c");
  in_flight.Put("e", "flight-e");
  LayeredReader reader(*db, in_flight.writes());

  EXPECT_EQ(*reader.Get("a"), std::optional<std::string>("db-a"));
  EXPECT_EQ(*reader.Get("b"), std::optional<std::string>("flight-b"));
  EXPECT_EQ(*reader.Get("c"), std::nullopt);
  EXPECT_EQ(*reader.Get("e"), std::optional<std::string>("flight-e"));
  EXPECT_EQ(ScanAll(reader, "a", ""),
            (std::vector<std::string>{"a=db-a", "b=flight-b", "e=flight-e"}));
  EXPECT_EQ(ScanAll(reader, "b", "e"), (std::vector<std::string>{"b=flight-b"}));

  // The next group's view reads through it, its own writes over both.
  BatchView next(reader);
  next.Put("c", "next-c");
  next.Delete("b");
  EXPECT_EQ(next.Get("c"), std::optional<std::string>("next-c"));
  EXPECT_EQ(next.Get("e"), std::optional<std::string>("flight-e"));
  std::vector<std::string> seen;
  next.Scan("a", "", [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a=db-a", "c=next-c", "e=flight-e"}));
  seen.clear();
  next.ScanPrefix("", [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a=db-a", "c=next-c", "e=flight-e"}));

  // Once the batch in flight is committed, the reader's answers stay the same.
  ASSERT_TRUE(db->Write(in_flight.batch(), false).ok());
  EXPECT_EQ(ScanAll(reader, "a", ""),
            (std::vector<std::string>{"a=db-a", "b=flight-b", "e=flight-e"}));
}

TEST(LayeredReaderTest, ABatchHoldsEachKeyOnceWithItsLastWrite) {
  TempDir dir;
  auto db = OpenWith(dir.path() + "/db", {"x"});
  BatchView view(*db);
  view.Put("k", "first");
  view.Put("k", "second");
  view.Put("x", "gone soon");
  view.Delete("x");
  struct Counter : leveldb::WriteBatch::Handler {
    std::vector<std::string> records;
    void Put(const leveldb::Slice& key, const leveldb::Slice& value) override {
      records.push_back(key.ToString() + "=" + value.ToString());
    }
    void Delete(const leveldb::Slice& key) override { records.push_back(key.ToString() + " deleted"); }
  } counter;
  ASSERT_TRUE(view.batch()->Iterate(&counter).ok());
  EXPECT_EQ(counter.records, (std::vector<std::string>{"k=second", "x deleted"}));
  ASSERT_TRUE(db->Write(view.batch(), false).ok());
  EXPECT_EQ(*db->Get("k"), std::optional<std::string>("second"));
  EXPECT_EQ(*db->Get("x"), std::nullopt);
}

TEST(LayeredReaderTest, TheWritesInFlightOutliveTheirView) {
  TempDir dir;
  auto db = OpenWith(dir.path() + "/db", {"a"});
  std::shared_ptr<const BatchView::Writes> writes;
  {
    BatchView view(*db);
    // Enough writes to fill more than the arena's first block.
    for (int i = 0; i < 2000; ++i) view.Put("key" + std::to_string(i), std::string(100, 'v'));
    view.Put("b", "flight-b");
    view.Delete("a");
    writes = view.writes();
  }
  LayeredReader reader(*db, writes);
  EXPECT_EQ(*reader.Get("a"), std::nullopt);
  EXPECT_EQ(*reader.Get("b"), std::optional<std::string>("flight-b"));
  EXPECT_EQ(*reader.Get("key1999"), std::optional<std::string>(std::string(100, 'v')));
  EXPECT_EQ(ScanAll(reader, "b", "key0~").front(), "b=flight-b");
}

}  // namespace
}  // namespace lattice::kernel::testing
