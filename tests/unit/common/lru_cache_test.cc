#include "lattice/common/lru_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace lattice {
namespace {

using Cache = LruCache<int, std::string>;

Cache::Ptr Value(const std::string& text) { return std::make_shared<const std::string>(text); }

TEST(LruCache, DropsTheLeastRecentlyUsedToStayWithinItsWeight) {
  Cache cache(10);
  cache.Put(1, Value("a"), 4);
  cache.Put(2, Value("b"), 4);
  ASSERT_NE(cache.Find(1), nullptr);  // 2 is now the least recently used
  cache.Put(3, Value("c"), 4);
  EXPECT_EQ(cache.Find(2), nullptr);
  EXPECT_EQ(*cache.Find(1), "a");
  EXPECT_EQ(*cache.Find(3), "c");
  EXPECT_EQ(cache.weight(), 8u);
  cache.Put(4, Value("d"), 10);  // takes the whole cache
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.weight(), 10u);
}

TEST(LruCache, PutReplacesAndATooHeavyValueIsNotKept) {
  Cache cache(10);
  cache.Put(1, Value("a"), 6);
  cache.Put(1, Value("b"), 3);
  EXPECT_EQ(*cache.Find(1), "b");
  EXPECT_EQ(cache.weight(), 3u);
  cache.Put(1, Value("too heavy"), 11);
  EXPECT_EQ(cache.Find(1), nullptr) << "the old value is dropped with the refused one";
  EXPECT_EQ(cache.weight(), 0u);
  cache.Put(2, Value("b"), 3);
  cache.Put(3, Value("too heavy"), 11);
  EXPECT_NE(cache.Find(2), nullptr) << "a refused value drops nothing else";
}

TEST(LruCache, PutIfAbsentKeepsTheFirstValue) {
  Cache cache(10);
  EXPECT_EQ(*cache.PutIfAbsent(1, Value("first"), 2), "first");
  EXPECT_EQ(*cache.PutIfAbsent(1, Value("second"), 2), "first");
  EXPECT_EQ(cache.weight(), 2u);
  EXPECT_EQ(*cache.PutIfAbsent(2, Value("too heavy"), 11), "too heavy") << "served, not kept";
  EXPECT_EQ(cache.Find(2), nullptr);
}

TEST(LruCache, AValueFoundOutlivesItsDropping) {
  Cache cache(10);
  cache.Put(1, Value("held"), 5);
  Cache::Ptr held = cache.Find(1);
  cache.Erase(1);
  cache.Put(2, Value("x"), 10);
  cache.Clear();
  EXPECT_EQ(*held, "held");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.weight(), 0u);
}

TEST(LruCache, ManyThreadsKeepTheWeightBound) {
  Cache cache(100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        int key = (i * 7 + t) % 64;
        if (i % 3 == 0) {
          cache.Put(key, Value(std::to_string(key)), 1 + key % 9);
        } else if (auto found = cache.Find(key)) {
          EXPECT_EQ(*found, std::to_string(key));
        }
        if (i % 97 == 0) cache.Erase(key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.weight(), 100u);
}

}  // namespace
}  // namespace lattice
