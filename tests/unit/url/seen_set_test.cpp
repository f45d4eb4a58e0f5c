// The seen-set: no false negatives through many growths, hash 0, and its memory per key.
#include "crawler/url/seen_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

using flagcrawl::crawler::SeenSet;

namespace {

TEST(SeenSet, EveryInsertedKeyIsFoundAndOnlyOnceNew) {
    SeenSet set;
    std::mt19937_64 random(7);
    std::vector<std::uint64_t> keys(300'000);
    for (auto& k : keys) {
        k = random();
    }
    keys[10] = 0; // the empty-slot value must still be storable
    for (auto k : keys) {
        ASSERT_TRUE(set.insert(k));
    }
    EXPECT_EQ(set.size(), keys.size());
    for (auto k : keys) {
        ASSERT_TRUE(set.contains(k));
        ASSERT_FALSE(set.insert(k));
    }
    std::mt19937_64 other(8);
    int false_positives = 0;
    for (int i = 0; i < 100'000; ++i) {
        false_positives += set.contains(other()) ? 1 : 0;
    }
    EXPECT_EQ(false_positives, 0);
}

TEST(SeenSet, StaysUnder12BytesPerKeyAtEverySize) {
    SeenSet set;
    std::mt19937_64 random(9);
    double worst = 0;
    for (std::size_t n = 1; n <= 1'000'000; ++n) {
        set.insert(random());
        if (n >= 10'000 && n % 997 == 0) {
            worst = std::max(worst, double(set.memory_bytes()) / double(set.size()));
        }
    }
    EXPECT_LE(worst, 11.8 + 0.01);
    EXPECT_GE(double(set.memory_bytes()) / double(set.size()), 8.0 / 0.85 - 0.01);
}

TEST(SeenSet, ReserveAvoidsGrowth) {
    SeenSet set;
    set.reserve(100'000);
    const auto capacity = set.capacity();
    for (std::uint64_t i = 1; i <= 100'000; ++i) {
        set.insert(i * 0x9e3779b97f4a7c15ULL);
    }
    EXPECT_EQ(set.capacity(), capacity);
}

} // namespace
