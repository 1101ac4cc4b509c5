// BatchView::Scan merges the batch's writes over the database within a range, lazily.
#include <gtest/gtest.h>

#include "storage/batch_view.h"
#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

TEST(BatchViewScanTest, MergesWritesOverTheDatabaseInARange) {
  FsScratch dir;
  auto db = Database::Open(dir.path() + "/db");
  ASSERT_TRUE(db.ok());
  {
    leveldb::WriteBatch batch;
    for (const char* k : {"a", "c", "e", "g"}) batch.Put(k, std::string("db-") + k);
    ASSERT_TRUE((*db)->Write(&batch, false).ok());
  }
  BatchView view(**db);
  view.Put("b", "view-b");
  view.Delete("c");
  view.Put("e", "view-e");
  view.Put("f", "view-f");
  view.Put("h", "view-h");
  std::vector<std::string> seen;
  view.Scan("a", "g", [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a=db-a", "b=view-b", "e=view-e", "f=view-f"}));
  seen.clear();
  view.Scan("b", "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return seen.size() < 3;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "e", "f"}));
  seen.clear();
  view.Scan("f", "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"f", "g", "h"}));
  EXPECT_TRUE(view.status().ok());
}

}  // namespace
}  // namespace lattice::kernel::testing
