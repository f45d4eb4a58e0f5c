// Seen-set keys and their hash (crawler/url.hpp: normalize_key, key_hash).
#include "crawler/url/url.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <unordered_set>

namespace {

using flagcrawl::crawler::key_hash;
using flagcrawl::crawler::normalize_key;
using flagcrawl::crawler::parse;
using flagcrawl::crawler::url_key_hash;

std::string key(std::string_view input, bool canonical) {
    const auto url = parse(input);
    EXPECT_TRUE(url) << input;
    return url ? normalize_key(*url, canonical) : std::string();
}

struct KeyCase {
    const char* input;
    const char* plain;     // normalize_key(url, false)
    const char* canonical; // normalize_key(url, true)
};

class KeyTest : public testing::TestWithParam<KeyCase> {};

TEST_P(KeyTest, IsTheNormalizedSerialization) {
    const KeyCase& c = GetParam();
    EXPECT_EQ(key(c.input, false), c.plain);
    EXPECT_EQ(key(c.input, true), c.canonical);
}

TEST_P(KeyTest, UrlKeyHashIsTheHashOfTheKey) {
    const KeyCase& c = GetParam();
    const auto url = parse(c.input);
    ASSERT_TRUE(url);
    EXPECT_EQ(url_key_hash(*url, false), key_hash(c.plain));
    EXPECT_EQ(url_key_hash(*url, true), key_hash(c.canonical));
}

const KeyCase k_keys[] = {
    {"HTTP://Example.COM:80/a/./b/../c?x=1#frag", "http://example.com/a/c?x=1",
     "http://example.com/a/c?x=1"},
    {"http://h/p#", "http://h/p", "http://h/p"},
    {"http://h/p?", "http://h/p?", "http://h/p"},
    {"http://h/p?#f", "http://h/p?", "http://h/p"},
    {"http://h/p?b=2&a=1&a=0", "http://h/p?b=2&a=1&a=0", "http://h/p?a=0&a=1&b=2"},
    {"http://h/p?a=2&a=1", "http://h/p?a=2&a=1", "http://h/p?a=1&a=2"},
    {"http://h/p?a=1&a=1", "http://h/p?a=1&a=1", "http://h/p?a=1&a=1"},
    {"http://h/p?a=&a&b", "http://h/p?a=&a&b", "http://h/p?a&a=&b"},
    {"http://h/p?&&x=1&", "http://h/p?&&x=1&", "http://h/p?x=1"},
    {"http://h/p?B=1&a=1", "http://h/p?B=1&a=1", "http://h/p?B=1&a=1"},
    {"http://h/p?PHPSESSID=abc&x=1&sid=2&ASPSESSIONIDQQGGGNCG=1&cftoken=9&CFID=1",
     "http://h/p?PHPSESSID=abc&x=1&sid=2&ASPSESSIONIDQQGGGNCG=1&cftoken=9&CFID=1",
     "http://h/p?x=1"},
    {"http://h/p?JSessionId=1&session_id=2&sessionid=3&sessid=4&osCsid=5&zenid=6",
     "http://h/p?JSessionId=1&session_id=2&sessionid=3&sessid=4&osCsid=5&zenid=6", "http://h/p"},
    {"http://h/p?sessionidx=1&mysid=2", "http://h/p?sessionidx=1&mysid=2",
     "http://h/p?mysid=2&sessionidx=1"},
    {"http://h/p;jsessionid=ABC?x=1", "http://h/p;jsessionid=ABC?x=1", "http://h/p?x=1"},
    {"http://h/a;JSESSIONID=1/b", "http://h/a;JSESSIONID=1/b", "http://h/a/b"},
    {"http://h/a;v=1;jsessionid=2;w=3", "http://h/a;v=1;jsessionid=2;w=3", "http://h/a;v=1;w=3"},
    {"http://h/a;jsessionid", "http://h/a;jsessionid", "http://h/a;jsessionid"},
    {"mailto:x?b&a#f", "mailto:x?b&a", "mailto:x?b&a"},
    {"sc:/.//p?b&a", "sc:/.//p?b&a", "sc:/.//p?a&b"},
    {"http://u:p@h:81/x?b=%41&a", "http://u:p@h:81/x?b=%41&a", "http://u:p@h:81/x?a&b=%41"},
};
INSTANTIATE_TEST_SUITE_P(Keys, KeyTest, testing::ValuesIn(k_keys));

TEST(KeyHash, HasFixedValues) {
    // Stored hashes must stay valid across versions and platforms: these never change.
    EXPECT_EQ(key_hash(""), 0x1f3b6067672484a6ull);
    EXPECT_EQ(key_hash("a"), 0x44895f1cee99e265ull);
    EXPECT_EQ(key_hash("http://example.com/"), 0x8c92525aa8befc88ull);
    EXPECT_EQ(key_hash("https://www.example.org/a/long/path/with/segments?and=a&query=1"),
              0x38459281d2d9e287ull);
}

TEST(KeyHash, SeparatesNearbyKeys) {
    EXPECT_NE(key_hash("a"), key_hash(std::string_view("a\0", 2)));
    EXPECT_NE(key_hash("http://h/p1"), key_hash("http://h/p2"));
    EXPECT_NE(key_hash(std::string(16, 'x')), key_hash(std::string(17, 'x')));
    std::unordered_set<std::uint64_t> seen;
    for (int i = 0; i < 200000; ++i)
        seen.insert(key_hash("http://example.com/page/" + std::to_string(i)));
    EXPECT_EQ(seen.size(), 200000u);
}

TEST(KeyHash, BitsAreBalancedAndAvalanche) {
    // Every output bit is set about half the time over similar keys, and flipping one input
    // bit flips about half of the output bits.
    constexpr int k_count = 20000;
    int ones[64] = {};
    double flipped = 0;
    int flips = 0;
    for (int i = 0; i < k_count; ++i) {
        std::string k = "https://h/item?id=" + std::to_string(i);
        const std::uint64_t h = key_hash(k);
        for (int b = 0; b < 64; ++b)
            ones[b] += static_cast<int>((h >> b) & 1);
        const std::size_t byte = static_cast<std::size_t>(i) % k.size();
        k[byte] = static_cast<char>(k[byte] ^ (1 << (i % 8)));
        flipped += std::popcount(h ^ key_hash(k));
        ++flips;
    }
    for (int b = 0; b < 64; ++b) {
        EXPECT_GT(ones[b], k_count * 47 / 100) << "bit " << b;
        EXPECT_LT(ones[b], k_count * 53 / 100) << "bit " << b;
    }
    EXPECT_NEAR(flipped / flips, 32.0, 1.0);
}

} // namespace
