// The seen-set: no false negatives through many growths, hash 0, and its memory per key.
#include "crawler/url/seen_set.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

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

// Measured on the heap (glibc's mallinfo2: in-use chunks plus mmapped ones), not computed from
// the table's own size: what the process really holds for the set at rest.
TEST(SeenSet, StaysUnder12BytesPerKeyAtEverySize) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "a sanitizer's allocator replaces glibc's, whose mallinfo2 this measures";
#endif
    const auto heap = [] {
        const struct mallinfo2 info = ::mallinfo2();
        return static_cast<double>(info.uordblks + info.hblkhd);
    };
    const double before = heap();
    SeenSet set;
    std::mt19937_64 random(9);
    double worst = 0;
    for (std::size_t n = 1; n <= 1'000'000; ++n) {
        set.insert(random());
        if (n >= 100'000 && n % 997 == 0) {
            const double held = heap() - before;
            worst = std::max(worst, held / double(set.size()));
            // memory_bytes() (reported to users) is what the heap holds, within a page.
            EXPECT_NEAR(double(set.memory_bytes()), held, 4096.0) << n;
        }
    }
    EXPECT_LT(worst, 12.0);
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
