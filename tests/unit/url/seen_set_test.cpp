// The seen-set: no false negatives through many growths and splits, hash 0, keys that are not
// spread by a hash, its memory per key and its peak during growths.
#include "crawler/url/seen_set.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using flagcrawl::crawler::SeenSet;

namespace {

// A "Name:  N kB" line of a /proc file, in bytes; -1 when there is none.
double proc_bytes(const char* file, const char* name) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) == 0) {
            return 1024.0 * std::stod(line.substr(std::strlen(name)));
        }
    }
    return -1;
}

// The process's resident anonymous memory (the heap and anonymous mappings), exact: the kernel
// walks the page tables for smaps_rollup.
double anonymous_bytes() {
    return proc_bytes("/proc/self/smaps_rollup", "Anonymous:");
}

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

// Measured as the process's resident anonymous memory, not computed from the table's own size:
// what the process really holds for the set at rest, on the heap and in its mapped segments.
TEST(SeenSet, StaysUnder12BytesPerKeyAtEverySize) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "a sanitizer's allocator and shadow memory add to the process's memory";
#endif
    [[maybe_unused]] const double before = anonymous_bytes(); // read only unsanitized
    if (before < 0) {
        GTEST_SKIP() << "no /proc/self/smaps_rollup";
    }
    SeenSet set;
    std::mt19937_64 random(9);
    double worst = 0;
    for (std::size_t n = 1; n <= 1'000'000; ++n) {
        set.insert(random());
        if (n >= 100'000 && n % 997 == 0) {
            const double held = anonymous_bytes() - before;
            worst = std::max(worst, held / double(set.size()));
            // memory_bytes() (reported to users) is what the process holds, within 32 pages:
            // the directory and the segments' headers on the heap, and the heap's slack (8 to
            // 80 KiB measured).
            EXPECT_NEAR(double(set.memory_bytes()), held, 131072.0) << n;
        }
    }
    EXPECT_LT(worst, 12.0);
}

// A growth copies one segment, not the whole table: the process's peak resident memory while a
// set grows to a million keys is the set's final size and a few segments (a single table's
// last growth held its old 8 MB and its new 10 MB at once).
TEST(SeenSet, GrowingHoldsLittleMoreThanTheTable) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "a sanitizer's allocator and shadow memory add to the process's memory";
#endif
    {
        std::ofstream clear("/proc/self/clear_refs");
        clear << "5"; // resets VmHWM to the current VmRSS
        if (!clear.flush()) {
            GTEST_SKIP() << "cannot reset the peak RSS (/proc/self/clear_refs)";
        }
    }
    const double before = proc_bytes("/proc/self/status", "VmHWM:");
    ASSERT_GT(before, 0);
    SeenSet set;
    std::mt19937_64 random(11);
    for (std::size_t n = 0; n < 1'000'000; ++n) {
        set.insert(random());
    }
    const double peak = proc_bytes("/proc/self/status", "VmHWM:") - before;
    EXPECT_LE(set.largest_segment_bytes(), 128u * 1024);
    // 1 MiB: three segments (the old one, the new ones) and the kernel's batching of the RSS
    // counters (tens of pages a CPU).
    EXPECT_LT(peak, double(set.memory_bytes()) + 1024.0 * 1024) << set.memory_bytes();
}

TEST(SeenSet, ReserveAvoidsGrowth) {
    SeenSet set;
    set.reserve(100'000);
    const auto capacity = set.capacity();
    for (std::uint64_t i = 1; i <= 100'000; ++i) {
        set.insert(i * 0x9e3779b97f4a7c15ULL);
    }
    EXPECT_EQ(set.capacity(), capacity);
    EXPECT_LE(set.largest_segment_bytes(), 128u * 1024);
}

TEST(SeenSet, ReserveMakesRoomForRandomKeysToo) {
    SeenSet set;
    set.reserve(300'000);
    const auto capacity = set.capacity();
    EXPECT_LT(double(set.memory_bytes()) / 300'000, 11.8);
    std::mt19937_64 random(12);
    for (int i = 0; i < 300'000; ++i) {
        ASSERT_TRUE(set.insert(random()));
    }
    EXPECT_EQ(set.capacity(), capacity);
}

// Keys that share their top bits (not a uniform hash) cluster in their segment's slots, but
// stay exact; a segment whose split would leave all of its keys, or all but one, on one side
// grows instead, with a directory that stays small next to the table.
TEST(SeenSet, KeysSharingLongPrefixesStayExact) {
    std::mt19937_64 random(13);
    std::vector<std::uint64_t> keys;
    for (int j = 1; j <= 16; ++j) {
        keys.push_back((std::uint64_t{1} << (63 - j)) | (random() >> 17)); // j zeros, then 1
    }
    for (int i = 0; i < 20'000; ++i) {
        keys.push_back((random() >> 16) | 1); // 16 zeros
    }
    [[maybe_unused]] const double before = anonymous_bytes(); // read only unsanitized
    SeenSet set;
    for (auto k : keys) {
        set.insert(k);
    }
    for (auto k : keys) {
        ASSERT_TRUE(set.contains(k));
        ASSERT_FALSE(set.insert(k));
    }
    EXPECT_LE(set.size(), keys.size());
    EXPECT_GE(set.size(), keys.size() - 100); // the 20,000 random keys of 48 bits may repeat
    EXPECT_FALSE(set.contains(2));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    if (before > 0) {
        EXPECT_LT((anonymous_bytes() - before) / double(set.size()), 16.0);
    }
#endif
}

} // namespace
