// KvReader::GetSorted, which reads many keys in one ordered pass (Database walks one
// iterator, LayeredReader answers its own keys first), and BatchView::Prefetch over it: the
// answers must be those of a Get for every key, whichever way the walk went.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>

#include "storage/batch_view.h"
#include "storage/layered_reader.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

std::string Key(int n) { return fmt::format("k/{:06}", n); }

// A database holding Key(n) = "v<n>" for every n in [0, count) that `present` names.
template <typename Present>
std::unique_ptr<Database> Filled(const std::string& dir, int count, Present present) {
  auto db = Database::Open(dir);
  EXPECT_TRUE(db.ok()) << db.status();
  leveldb::WriteBatch batch;
  for (int n = 0; n < count; ++n) {
    if (present(n)) batch.Put(Key(n), "v" + std::to_string(n));
  }
  EXPECT_TRUE((*db)->Write(&batch, false).ok());
  return *std::move(db);
}

// What GetSorted answers for `keys` (sorted), each index once, as "key=value" or "key=-".
std::vector<std::string> ReadSorted(const KvReader& reader, const std::vector<std::string>& keys) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> out(keys.size());
  std::vector<int> calls(keys.size(), 0);
  absl::Status s = reader.GetSorted(views, [&](size_t i, std::optional<std::string_view> v) {
    ++calls.at(i);
    out[i] = keys[i] + "=" + (v ? std::string(*v) : "-");
  });
  EXPECT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], 1) << "index " << i;
  return out;
}

// The same answers, one Get each.
std::vector<std::string> ReadEach(const KvReader& reader, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const auto& key : keys) {
    auto v = reader.Get(key);
    EXPECT_TRUE(v.ok()) << v.status();
    out.push_back(key + "=" + (v.ok() && *v ? **v : "-"));
  }
  return out;
}

TEST(GetSortedTest, AnswersAsGetDoesForNearbyKeysPresentOrNot) {
  TempDir dir;
  // Every third key of the first 3,000 present, so the walk steps over present keys, lands on
  // absent ones, and runs past the last key of all.
  auto db = Filled(dir.path() + "/db", 3000, [](int n) { return n % 3 == 0; });
  std::vector<std::string> keys;
  for (int n = 0; n < 3200; ++n) {
    if (n % 7 != 0) keys.push_back(Key(n));
  }
  keys.insert(keys.begin(), "a-before-every-key");
  std::vector<std::string> sorted = ReadSorted(*db, keys);
  EXPECT_EQ(sorted, ReadEach(*db, keys));
  EXPECT_EQ(sorted[1], Key(1) + "=-");
  EXPECT_EQ(sorted[3], Key(3) + "=v3");
}

TEST(GetSortedTest, AnswersAsGetDoesForKeysFarApart) {
  TempDir dir;
  // Keys a hundred apart among 20,000: each lies beyond the iterator's steps, so the walk
  // seeks for each and, after a few, reads the rest with Get.
  auto db = Filled(dir.path() + "/db", 20000, [](int n) { return n % 2 == 0; });
  std::vector<std::string> keys;
  for (int n = 1; n < 20000; n += 101) keys.push_back(Key(n));   // odd and even alike
  keys.push_back("z-past-every-key");
  EXPECT_EQ(ReadSorted(*db, keys), ReadEach(*db, keys));
}

TEST(GetSortedTest, ALayeredReaderAnswersItsOwnWritesOverTheDatabase) {
  TempDir dir;
  auto db = Filled(dir.path() + "/db", 100, [](int) { return true; });
  BatchView in_flight(*db);
  in_flight.Put(Key(10), "flight-10");
  in_flight.Delete(Key(11));
  in_flight.Put(Key(150), "flight-150");
  LayeredReader reader(*db, in_flight.writes());
  std::vector<std::string> keys = {Key(9), Key(10), Key(11), Key(12), Key(150), Key(151)};
  std::vector<std::string> sorted = ReadSorted(reader, keys);
  EXPECT_EQ(sorted, ReadEach(reader, keys));
  EXPECT_EQ(sorted, (std::vector<std::string>{Key(9) + "=v9", Key(10) + "=flight-10",
                                              Key(11) + "=-", Key(12) + "=v12",
                                              Key(150) + "=flight-150", Key(151) + "=-"}));
}

// A reader that counts the reads reaching it, and fails its GetSorted when told to.
class CountingReader final : public KvReader {
 public:
  explicit CountingReader(const KvReader& below) : below_(below) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override {
    ++gets;
    return below_.Get(key);
  }
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override {
    return below_.Scan(start, end, visit);
  }
  absl::Status GetSorted(std::span<const std::string_view> sorted,
                         const SortedVisitor& found) const override {
    if (fail) return absl::UnavailableError("the disk went away");
    sorted_keys += sorted.size();
    return below_.GetSorted(sorted, found);
  }
  mutable int gets = 0;
  mutable size_t sorted_keys = 0;
  bool fail = false;

 private:
  const KvReader& below_;
};

TEST(BatchViewPrefetchTest, PrefetchedKeysAreAnsweredWithoutReadingBelowAgain) {
  TempDir dir;
  auto db = Filled(dir.path() + "/db", 100, [](int n) { return n % 2 == 0; });
  CountingReader below(*db);
  BatchView view(below);
  view.Put(Key(4), "mine");
  ASSERT_EQ(view.Get(Key(6)), std::optional<std::string>("v6"));  // read before: not again
  ASSERT_EQ(below.gets, 1);

  // Unsorted, with a repeat, a key the view wrote and one it read.
  view.Prefetch({Key(3), Key(2), Key(4), Key(200), Key(2), Key(6)});
  EXPECT_EQ(below.sorted_keys, 3u);  // 2, 3 and 200
  EXPECT_EQ(view.Get(Key(2)), std::optional<std::string>("v2"));
  EXPECT_EQ(view.Get(Key(3)), std::nullopt);
  EXPECT_EQ(view.Get(Key(4)), std::optional<std::string>("mine"));
  EXPECT_EQ(view.Get(Key(6)), std::optional<std::string>("v6"));
  EXPECT_EQ(view.Get(Key(200)), std::nullopt);
  EXPECT_EQ(below.gets, 1);
  EXPECT_TRUE(view.status().ok());
}

TEST(BatchViewPrefetchTest, AFailedPrefetchFailsTheBatch) {
  TempDir dir;
  auto db = Filled(dir.path() + "/db", 10, [](int) { return true; });
  CountingReader below(*db);
  below.fail = true;
  BatchView view(below);
  view.Prefetch({Key(1), Key(2)});
  EXPECT_EQ(view.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lattice::kernel::testing
