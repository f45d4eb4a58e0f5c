// The header-only helpers of util/: ASCII text, percent-decoding, hashes, HTTP reason phrases,
// writing to file descriptors.
#include "util/ascii.hpp"
#include "util/fd.hpp"
#include "util/hash.hpp"
#include "util/http_reason.hpp"
#include "util/json.hpp"
#include "util/percent.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include <unistd.h>

namespace util = flagcrawl::util;

namespace {

TEST(UtilAscii, CaseConversionTouchesAsciiLettersOnly) {
    EXPECT_EQ(util::to_lower("MiXeD-09_Z@[`{"), "mixed-09_z@[`{");
    EXPECT_EQ(util::to_upper("MiXeD-09_z@[`{"), "MIXED-09_Z@[`{");
    // Bytes of UTF-8 sequences are not letters: "É" stays as it is.
    EXPECT_EQ(util::to_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
    for (int c = 0; c < 256; ++c) {
        const auto ch = static_cast<char>(c);
        const bool upper = c >= 'A' && c <= 'Z';
        const bool lower = c >= 'a' && c <= 'z';
        EXPECT_EQ(util::to_lower(ch), upper ? static_cast<char>(c + 32) : ch) << c;
        EXPECT_EQ(util::to_upper(ch), lower ? static_cast<char>(c - 32) : ch) << c;
        EXPECT_EQ(util::is_ascii_alpha(ch), upper || lower) << c;
        EXPECT_EQ(util::is_ascii_digit(ch), c >= '0' && c <= '9') << c;
    }
}

TEST(UtilAscii, CaseInsensitiveComparison) {
    EXPECT_TRUE(util::iequals("Content-Type", "content-TYPE"));
    EXPECT_TRUE(util::iequals("", ""));
    EXPECT_FALSE(util::iequals("content-type", "content-typ"));
    EXPECT_FALSE(util::iequals("a", "b"));
    // '@' (0x40) and '`' (0x60) differ by 0x20 like a letter pair but are not letters.
    EXPECT_FALSE(util::iequals("@", "`"));
    EXPECT_FALSE(util::iequals("[", "{"));
    EXPECT_FALSE(util::iequals("\xC3\x89", "\xC3\xA9")); // É / é: not ASCII

    EXPECT_TRUE(util::iequals_prefix("TEXT/html; charset=utf-8", "text/html"));
    EXPECT_TRUE(util::iequals_prefix("abc", ""));
    EXPECT_FALSE(util::iequals_prefix("text", "text/html"));
    EXPECT_FALSE(util::iequals_prefix("image/png", "text/"));
    static_assert(util::iequals("ABC", "abc"));
}

TEST(UtilAscii, TrimRemovesAsciiWhitespaceOnly) {
    EXPECT_EQ(util::trim(" \t\n\f\rvalue x \r\n"), "value x");
    EXPECT_EQ(util::trim(""), "");
    EXPECT_EQ(util::trim(" \t "), "");
    EXPECT_EQ(util::trim("\vx\v"), "\vx\v");         // VT is not ASCII whitespace (WHATWG)
    EXPECT_EQ(util::trim("\xC2\xA0x"), "\xC2\xA0x"); // nor is a no-break space
    for (int c = 0; c < 256; ++c) {
        const auto ch = static_cast<char>(c);
        const bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\f' || ch == '\r';
        EXPECT_EQ(util::is_ascii_space(ch), space) << c;
        EXPECT_EQ(util::k_ascii_whitespace.find(ch) != std::string_view::npos, space) << c;
    }
    // With a set of one's own.
    EXPECT_EQ(util::trim("\v\t x \f", " \t\v\f"), "x");
    EXPECT_EQ(util::trim("\n x", " "), "\n x");
    EXPECT_EQ(util::trim("   ", " "), "");
    // A view into the argument, never a copy.
    const std::string_view text = "  abc  ";
    EXPECT_EQ(util::trim(text).data(), text.data() + 2);
}

TEST(UtilPercent, HexValueAndDecoding) {
    const std::string digits = "0123456789abcdef";
    for (int c = 0; c < 256; ++c) {
        const auto ch = static_cast<char>(c);
        const auto at = digits.find(util::to_lower(ch));
        const int expected = at != std::string::npos ? static_cast<int>(at) : -1;
        EXPECT_EQ(util::hex_value(ch), expected) << c;
    }
    std::string out;
    util::percent_decode_into("a%20b%2F%2f%zz%4%", out);
    EXPECT_EQ(out, "a b//%zz%4%");
}

TEST(UtilHash, Fnv1aIsTheStandardFunction) {
    // Reference values of 64-bit FNV-1a.
    EXPECT_EQ(util::fnv1a(""), 0xcbf29ce484222325ULL);
    EXPECT_EQ(util::fnv1a("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(util::fnv1a("foobar"), 0x85944171f73967e8ULL);
}

TEST(UtilHash, SplitMix64MatchesTheReferenceSequence) {
    // The first outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
    std::uint64_t state = 0;
    EXPECT_EQ(util::splitmix64(state), 0xe220a8397b1dcdafULL);
    EXPECT_EQ(util::splitmix64(state), 0x6e789e6aa1b965f4ULL);
    EXPECT_EQ(util::splitmix64(state), 0x06c45d188009454fULL);
    EXPECT_EQ(util::mix64(0), 0xe220a8397b1dcdafULL);
    const double u = util::unit_interval(~0ULL);
    EXPECT_LT(u, 1.0);
    EXPECT_GT(u, 0.999999);
    EXPECT_EQ(util::unit_interval(0), 0.0);
}

TEST(UtilHash, StringHashLooksUpByView) {
    std::unordered_map<std::string, int, util::StringHash, std::equal_to<>> map;
    map.emplace("host:80", 1);
    const std::string_view key = "host:80";
    EXPECT_EQ(map.find(key)->second, 1);
    EXPECT_EQ(map.find(std::string_view("host:81")), map.end());
}

TEST(UtilHttpReason, StandardPhrasesAndTheTeapot) {
    EXPECT_EQ(util::http_reason(200), "OK");
    EXPECT_EQ(util::http_reason(404), "Not Found");
    EXPECT_EQ(util::http_reason(503), "Service Unavailable");
    EXPECT_EQ(util::http_reason(418), "I'm a teapot");
    EXPECT_EQ(util::http_reason(299), "");
    EXPECT_EQ(util::http_reason(-1), "");
    EXPECT_EQ(util::http_reason(0), "");
}

TEST(UtilFd, WriteAllWritesEverythingThroughAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    // Four times a pipe's default capacity: the writer blocks until the reader drains it.
    std::string data(256 * 1024, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 7 % 251);
    }
    std::string received;
    std::thread reader([&] {
        char buffer[1000];
        ssize_t n;
        while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
        }
    });
    EXPECT_TRUE(util::write_all(fds[1], data));
    ::close(fds[1]);
    reader.join();
    ::close(fds[0]);
    EXPECT_EQ(received, data);
}

TEST(UtilFd, WriteAllReportsTheFailureInErrno) {
    errno = 0;
    EXPECT_FALSE(util::write_all(-1, std::string_view("x")));
    EXPECT_EQ(errno, EBADF);
    EXPECT_TRUE(util::write_all(-1, std::string_view())); // nothing to write: no call
}

} // namespace

namespace {

std::string json_string(std::string_view text) {
    std::string out;
    flagcrawl::util::append_json_string(out, text);
    return out;
}

} // namespace

TEST(Json, StringsAreEscapedWhereverTheCharacterFalls) {
    EXPECT_EQ(json_string(""), "\"\"");
    EXPECT_EQ(json_string("http://a.test/caf\xC3\xA9"), "\"http://a.test/caf\xC3\xA9\"");
    EXPECT_EQ(json_string("q\"b\\s/\n\r\t\b\f"), "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\"");
    EXPECT_EQ(json_string(std::string("\x01\x1f\0\x7f", 4)), "\"\\u0001\\u001f\\u0000\x7f\"");
    // Each position in and around the 16- and 8-byte blocks the escaper checks whole, in texts
    // of every length up to 40 (the tail block overlaps the last whole one).
    for (std::size_t size = 1; size <= 40; ++size) {
        for (std::size_t at = 0; at < size; ++at) {
            for (const char c : {'"', '\\', '\n', '\x1f', '\0'}) {
                std::string text(size, 'a');
                text[at] = c;
                std::string expected = "\"";
                for (const char t : text) {
                    if (t == c) {
                        flagcrawl::util::append_json_escape(expected, t);
                    } else {
                        expected += t;
                    }
                }
                expected += '"';
                EXPECT_EQ(json_string(text), expected)
                    << "at " << at << " of " << size << ", " << int(c);
            }
        }
        EXPECT_EQ(json_string(std::string(size, 'a')), '"' + std::string(size, 'a') + '"');
        EXPECT_FALSE(flagcrawl::util::json_needs_any_escape(std::string(size, 'a')));
    }
}

// Bytes next to those that need an escape pass through as they are, in every block position:
// space, DEL, bytes >= 0x80 (which the 16-byte check must not take for control bytes), the
// UTF-8 of U+2028 and U+2029 (JSON allows them raw), invalid UTF-8.
TEST(Json, BytesThatNeedNoEscapePassThrough) {
    const std::string kept[] = {" ",        "\x7f",         "\x80",         "\x9f",
                                "\xa0",     "\xff",         "\xe2\x80\xa8", "\xe2\x80\xa9",
                                "\xc3\x28", "\xed\xa0\x80", "!#[]{}/~"};
    for (std::size_t size = 0; size <= 40; ++size) {
        for (const std::string& piece : kept) {
            for (std::size_t at = 0; at <= size; ++at) {
                std::string text(size, 'a');
                text.insert(at, piece);
                EXPECT_FALSE(flagcrawl::util::json_needs_any_escape(text)) << size << " " << at;
                EXPECT_EQ(json_string(text), '"' + text + '"') << size << " " << at;
            }
        }
    }
    EXPECT_FALSE(flagcrawl::util::json_needs_any_escape(""));
}
