// The fast path of resolving against a base (splicing a relative reference into the base's
// serialization) against the state machine alone (url_detail::parse_full), component by
// component, over generated references: every reference either takes the fast path and gives
// what the full parse gives, or falls back to the full parse.
#include "crawler/url/url.hpp"
#include "crawler/url/url_host.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using flagcrawl::crawler::parse;
using flagcrawl::crawler::parse_into;
using flagcrawl::crawler::Url;
namespace url_detail = flagcrawl::crawler::url_detail;

constexpr std::array<std::string_view, 12> k_bases = {
    "http://example.org/a/b/c.html",
    "https://example.org/",
    "http://example.org",
    "http://u:p@h.example:8080/dir/?q=1#frag",
    "http://127.0.0.1:56205/sec01/p0001.html?from=nav&v=2",
    "https://xn--bcher-kva.example/a/b/",
    "http://example.org/a/%2e%2E/b;p=1/",
    "http://[::1]:81/x/y?",
    // Bases the fast path leaves to the state machine.
    "file:///C:/dir/file",
    "sc://host/a/b",
    "mailto:someone@example.org",
    "ws://example.org/a/b",
};

// Pieces of references: path segments, dot segments (plain and percent-encoded), separators,
// the bytes the parser strips, removes or percent-encodes, schemes and the bases' own origins.
constexpr std::array<std::string_view, 48> k_tokens = {
    "a",
    "b.html",
    "c d",
    ".",
    "..",
    "%2e",
    "%2E%2e",
    ".%2E",
    "%2e.",
    "/",
    "/",
    "/",
    "//",
    "?",
    "?",
    "#",
    "#",
    "=",
    "&",
    "x:y",
    ":",
    "\\",
    " ",
    "\t",
    "\n",
    "\x01",
    "\x7f",
    "\xc3\xa9",
    "%41",
    "%",
    "'",
    "\"",
    "^",
    "{}",
    "`",
    "<>",
    "|~;,",
    "@",
    "[::1]",
    "http://example.org",
    "http://example.org:8080",
    "https://example.org",
    "http:",
    "HTTP://example.org",
    "http://u:p@h.example:8080",
    "http://127.0.0.1:56205",
    "mailto:x",
    "javascript:void(0)",
};

void expect_same(const Url& fast, const Url& full, std::string_view input, std::string_view base) {
    const std::string where = "\"" + std::string(input) + "\" against " + std::string(base);
    EXPECT_EQ(fast.href(), full.href()) << where;
    EXPECT_EQ(fast.scheme(), full.scheme()) << where;
    EXPECT_EQ(fast.is_special(), full.is_special()) << where;
    EXPECT_EQ(fast.is_http(), full.is_http()) << where;
    EXPECT_EQ(fast.username(), full.username()) << where;
    EXPECT_EQ(fast.password(), full.password()) << where;
    EXPECT_EQ(fast.has_host(), full.has_host()) << where;
    EXPECT_EQ(fast.host(), full.host()) << where;
    EXPECT_EQ(fast.port(), full.port()) << where;
    EXPECT_EQ(fast.port_or_default(), full.port_or_default()) << where;
    EXPECT_EQ(fast.path(), full.path()) << where;
    EXPECT_EQ(fast.has_opaque_path(), full.has_opaque_path()) << where;
    EXPECT_EQ(fast.has_query(), full.has_query()) << where;
    EXPECT_EQ(fast.query(), full.query()) << where;
    EXPECT_EQ(fast.has_fragment(), full.has_fragment()) << where;
    EXPECT_EQ(fast.fragment(), full.fragment()) << where;
    EXPECT_EQ(fast.href_without_fragment(), full.href_without_fragment()) << where;
}

// Resolves `input` both ways: through parse_into() into `reused` (a Url whose storage held
// earlier results, as in the crawler's link loop) and through the state machine alone.
void check(Url& reused, std::string_view input, const Url& base) {
    const auto full = url_detail::parse_full(input, &base);
    const auto fast = parse_into(reused, input, &base);
    ASSERT_EQ(static_cast<bool>(fast), static_cast<bool>(full))
        << "\"" << input << "\" against " << base.href();
    if (full) {
        expect_same(reused, *full, input, base.href());
    }
}

TEST(UrlSplice, EqualsTheFullParseOnGeneratedReferences) {
    std::mt19937 random(13);
    std::uniform_int_distribution<std::size_t> token(0, k_tokens.size() - 1);
    std::uniform_int_distribution<int> length(0, 6);
    for (const std::string_view base_text : k_bases) {
        const auto base = parse(base_text);
        ASSERT_TRUE(base) << base_text;
        Url reused;
        for (int i = 0; i < 20000; ++i) {
            std::string input;
            for (int n = length(random); n > 0; --n) {
                input.append(k_tokens[token(random)]);
            }
            check(reused, input, *base);
            if (testing::Test::HasFailure()) {
                return;
            }
        }
    }
}

// The references the bench site and most real pages hold, each of which the fast path takes.
TEST(UrlSplice, EqualsTheFullParseOnTypicalLinks) {
    constexpr std::array<std::string_view, 22> k_links = {
        "./p0002.html",
        "../sec02/p0003.html",
        "../../index.html",
        "../../../../../x",
        "/sec03/p0004.html",
        "p0005.html#top",
        "p0005.html?from=nav&v=2",
        "?v=2&from=nav",
        "?",
        "#",
        "#section-2",
        "/",
        ".",
        "..",
        "./",
        "a/./b/../c/",
        "a/%2e%2E/b/%2e",
        "x/y:z",
        "http://127.0.0.1:56205/sec01/p0001.html",
        "http://127.0.0.1:56205/",
        "http://127.0.0.1:56205//a/../b",
        "http://example.org/../a?#",
    };
    for (const std::string_view base_text : k_bases) {
        const auto base = parse(base_text);
        ASSERT_TRUE(base) << base_text;
        Url reused;
        for (const std::string_view link : k_links) {
            check(reused, link, *base);
        }
    }
}

TEST(UrlSplice, KeepsTheExpectedResults) {
    const auto base = parse("http://127.0.0.1:56205/sec01/p.html?from=nav#f");
    ASSERT_TRUE(base);
    const auto resolve = [&](std::string_view input) {
        const auto url = parse(input, &*base);
        return url ? std::string(url->href()) : std::string("ERROR");
    };
    EXPECT_EQ(resolve("../a/./b/../c.html?x=1#y"), "http://127.0.0.1:56205/a/c.html?x=1#y");
    EXPECT_EQ(resolve("#g"), "http://127.0.0.1:56205/sec01/p.html?from=nav#g");
    EXPECT_EQ(resolve("?q"), "http://127.0.0.1:56205/sec01/p.html?q");
    EXPECT_EQ(resolve("/../../x/.."), "http://127.0.0.1:56205/");
    EXPECT_EQ(resolve("http://127.0.0.1:56205/%2e%2E/z"), "http://127.0.0.1:56205/z");
    EXPECT_EQ(resolve("http://127.0.0.1:56206/z"), "http://127.0.0.1:56206/z");
    EXPECT_EQ(resolve("//example.org/z"), "http://example.org/z");
    EXPECT_EQ(resolve(" a\tb "), "http://127.0.0.1:56205/sec01/ab");
    EXPECT_EQ(resolve("a b"), "http://127.0.0.1:56205/sec01/a%20b");
}

} // namespace
