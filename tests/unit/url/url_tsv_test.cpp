// The line formats of `flagcrawl url resolve|normalize` (crawler/url_tsv.hpp).
#include "crawler/url/url_tsv.hpp"

#include <gtest/gtest.h>

namespace {

using namespace flagcrawl::crawler;

TEST(UrlTsv, UnescapesHexEscapesOnly) {
    EXPECT_EQ(unescape_tsv_field("a\\x09b"), "a\tb");
    EXPECT_EQ(unescape_tsv_field("\\x5c\\x5C"), "\\\\");
    EXPECT_EQ(unescape_tsv_field("\\x00"), std::string(1, '\0'));
    EXPECT_EQ(unescape_tsv_field("\\xZZ\\x4"), "\\xZZ\\x4");
    EXPECT_EQ(unescape_tsv_field("\\n é"), "\\n é");
}

TEST(UrlTsv, EscapesControlsDeleteAndBackslash) {
    std::string out;
    append_escaped_tsv_field(out, std::string("a\tb\nc\x7f\\d\x1f é", 12));
    EXPECT_EQ(out, "a\\x09b\\x0ac\\x7f\\x5cd\\x1f é");
    out.clear();
    append_escaped_tsv_field(out, std::string(1, '\0'));
    EXPECT_EQ(out, "\\x00");
}

TEST(UrlTsv, ResolveLineResolvesAndEscapes) {
    EXPECT_EQ(resolve_tsv_line("../x\thttp://h/a/b"), "../x\thttp://h/a/b\thttp://h/x");
    // Escaped input is unescaped before resolving and escaped again on output.
    EXPECT_EQ(resolve_tsv_line("a\\x09b\\x5cc\thttp://h/"),
              "a\\x09b\\x5cc\thttp://h/\thttp://h/ab/c");
    // A backslash survives in a fragment: escaped in the result column.
    EXPECT_EQ(resolve_tsv_line("#a\\x5cb\thttp://h/"), "#a\\x5cb\thttp://h/\thttp://h/#a\\x5cb");
    // Upper-case escapes come back in lower case; an empty base parses the input alone.
    EXPECT_EQ(resolve_tsv_line("HTTP://H\\x5C\t"), "HTTP://H\\x5c\t\thttp://h/");
    EXPECT_EQ(resolve_tsv_line("x\t"), "x\t\tERROR");
    EXPECT_EQ(resolve_tsv_line("http://[::1\thttp://h/"), "http://[::1\thttp://h/\tERROR");
    // A base that is not a URL makes every relative input fail.
    EXPECT_EQ(resolve_tsv_line("x\tnot a url"), "x\tnot a url\tERROR");
    // Columns after the base are ignored.
    EXPECT_EQ(resolve_tsv_line("x\thttp://h/\told"), "x\thttp://h/\thttp://h/x");
    EXPECT_EQ(resolve_tsv_line("no tab here"), std::nullopt);
}

TEST(UrlTsv, NormalizeLineWritesTheKey) {
    EXPECT_EQ(normalize_tsv_line("HTTP://H/b?z=1&a=2#f", false), "http://h/b?z=1&a=2");
    EXPECT_EQ(normalize_tsv_line("HTTP://H/b?z=1&a=2&sid=3#f", true), "http://h/b?a=2&z=1");
    EXPECT_EQ(normalize_tsv_line("relative/only", false), "ERROR");
    EXPECT_EQ(normalize_tsv_line("http://h/\\x09x", false), "http://h/x");
}

} // namespace
