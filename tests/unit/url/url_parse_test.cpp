// URL parsing and resolution (crawler/url.hpp): table-driven cases written for flagcrawl,
// grouped by what they exercise; expected values follow the WHATWG URL Standard.
#include "crawler/url/url.hpp"
#include "crawler/url/url_host.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using flagcrawl::crawler::parse;
using flagcrawl::crawler::Url;
using flagcrawl::crawler::UrlError;

struct Case {
    const char* input;
    const char* base;     // nullptr: parse input on its own
    const char* expected; // nullptr: must be rejected
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << '"' << c.input << "\" against " << (c.base ? c.base : "(no base)");
}

class ResolveTest : public testing::TestWithParam<Case> {};

TEST_P(ResolveTest, MatchesTheStandard) {
    const Case& c = GetParam();
    const auto result = c.base ? parse(c.input, std::string_view(c.base)) : parse(c.input);
    if (c.expected == nullptr) {
        EXPECT_FALSE(result) << "accepted as " << result->href();
    } else {
        ASSERT_TRUE(result) << "rejected: " << to_string(result.error());
        EXPECT_EQ(result->href(), c.expected);
        // The serialization is a fixed point: parsing it again gives itself.
        const auto again = parse(result->href());
        ASSERT_TRUE(again);
        EXPECT_EQ(again->href(), result->href());
    }
}

constexpr const char* k_page = "http://example.com/a/b/c?q#f";

const Case k_relative[] = {
    {"d", k_page, "http://example.com/a/b/d"},
    {"./d", k_page, "http://example.com/a/b/d"},
    {"../d", k_page, "http://example.com/a/d"},
    {"../../../../d", k_page, "http://example.com/d"},
    {"/d", k_page, "http://example.com/d"},
    {"//other.org/x", k_page, "http://other.org/x"},
    {"?y", k_page, "http://example.com/a/b/c?y"},
    {"#g", k_page, "http://example.com/a/b/c?q#g"},
    {"", k_page, "http://example.com/a/b/c?q"},
    {".", k_page, "http://example.com/a/b/"},
    {"..", k_page, "http://example.com/a/"},
    {"d/./e/../f", k_page, "http://example.com/a/b/d/f"},
    {"d/e/..", k_page, "http://example.com/a/b/d/"},
    {"%2e%2E/x", k_page, "http://example.com/a/x"},
    {".%2e/x", k_page, "http://example.com/a/x"},
    {"d/%2e", k_page, "http://example.com/a/b/d/"},
    {"..d/e", k_page, "http://example.com/a/b/..d/e"},
    {"  \t d \n ", k_page, "http://example.com/a/b/d"},
    {"x\ty\nz\r", k_page, "http://example.com/a/b/xyz"},
    {"\\d\\e", k_page, "http://example.com/d/e"},
    {"\\\\other.org\\x", k_page, "http://other.org/x"},
    {"http:d", k_page, "http://example.com/a/b/d"},
    {"http:/d", k_page, "http://example.com/d"},
    {"https:d", k_page, "https://d/"},
    {"HTTP://EXAMPLE.COM:80/X", k_page, "http://example.com/X"},
    {"https://h:443/", k_page, "https://h/"},
    {"http://h:8080", k_page, "http://h:8080/"},
    {"http://h:0080/", k_page, "http://h/"},
    {"http://h:/", k_page, "http://h/"},
    {"ftp://h:21/f", k_page, "ftp://h/f"},
    {"ws://h:80/", k_page, "ws://h/"},
    {"wss://h:443/", k_page, "wss://h/"},
    {"a b/é?x y'é#f g`é", k_page,
     "http://example.com/a/b/a%20b/%C3%A9?x%20y%27%C3%A9#f%20g%60%C3%A9"},
    {"p{x}^|", k_page, "http://example.com/a/b/p%7Bx%7D%5E|"},
    {"?a=\"<>", k_page, "http://example.com/a/b/c?a=%22%3C%3E"},
    {"#\"<>", k_page, "http://example.com/a/b/c?q#%22%3C%3E"},
    {"%zz%41", k_page, "http://example.com/a/b/%zz%41"},
    {"http://user:pa ss@h/", k_page, "http://user:pa%20ss@h/"},
    {"http://a@b@c/", k_page, "http://a%40b@c/"},
    {"http://a:b:c@h/", k_page, "http://a:b%3Ac@h/"},
    {"http://:pw@h/", k_page, "http://:pw@h/"},
    {"http://user:@h/", k_page, "http://user@h/"},
    {"sc://h/a/../b", k_page, "sc://h/b"},
    {"sc:/a/b", k_page, "sc:/a/b"},
    {"sc:", k_page, "sc:"},
    {"sc://h", k_page, "sc://h"},
    {"sc://h?x'y", k_page, "sc://h?x'y"},
    {"sc://H%41/", k_page, "sc://H%41/"},
    {"sc://[::1]:5/", k_page, "sc://[::1]:5/"},
    {"web+demo:/.//not-a-host/", k_page, "web+demo:/.//not-a-host/"},
    {"web+demo:/path/..//not-a-host/", k_page, "web+demo:/.//not-a-host/"},
    {"x", "sc://h/a/b", "sc://h/a/x"},
    {"\\x", "sc://h/a/b", "sc://h/a/\\x"},
    {"//h2/y", "sc://h/a/b", "sc://h2/y"},
};
INSTANTIATE_TEST_SUITE_P(Relative, ResolveTest, testing::ValuesIn(k_relative));

const Case k_ipv4[] = {
    {"http://0x7f.1/", nullptr, "http://127.0.0.1/"},
    {"http://2130706433/", nullptr, "http://127.0.0.1/"},
    {"http://0177.0.0.1/", nullptr, "http://127.0.0.1/"},
    {"http://0x7F.0.0.0x1/", nullptr, "http://127.0.0.1/"},
    {"http://127.1/", nullptr, "http://127.0.0.1/"},
    {"http://1.2.65535/", nullptr, "http://1.2.255.255/"},
    {"http://1.2.65536/", nullptr, nullptr},
    {"http://4294967295/", nullptr, "http://255.255.255.255/"},
    {"http://4294967296/", nullptr, nullptr},
    {"http://0xffffffff1/", nullptr, nullptr},
    {"http://99999999999999999999999/", nullptr, nullptr},
    {"http://1.2.3.4.5/", nullptr, nullptr},
    {"http://256.1.1.1/", nullptr, nullptr},
    {"http://1.2.3.256/", nullptr, nullptr},
    {"http://1.2.3.09/", nullptr, nullptr},
    {"http://1..2/", nullptr, nullptr},
    {"http://0x/", nullptr, "http://0.0.0.0/"},
    {"http://1.2.3.4./", nullptr, "http://1.2.3.4/"},
    {"http://foo.09/", nullptr, nullptr},
    {"http://foo.0x1g/", nullptr, "http://foo.0x1g/"},
    {"http://foo.1a/", nullptr, "http://foo.1a/"},
    {"http://%31%32%37.1/", nullptr, "http://127.0.0.1/"},
    {"sc://127.1/", nullptr, "sc://127.1/"},
};
INSTANTIATE_TEST_SUITE_P(Ipv4, ResolveTest, testing::ValuesIn(k_ipv4));

const Case k_ipv6[] = {
    {"http://[::1]/", nullptr, "http://[::1]/"},
    {"http://[0:0:0:0:0:0:0:1]", nullptr, "http://[::1]/"},
    {"http://[::]/", nullptr, "http://[::]/"},
    {"http://[1:0:0:2:0:0:0:3]/", nullptr, "http://[1:0:0:2::3]/"},
    {"http://[1:0:0:0:2:0:0:3]/", nullptr, "http://[1::2:0:0:3]/"},
    {"http://[1:0:2:3:4:5:6:7]/", nullptr, "http://[1:0:2:3:4:5:6:7]/"},
    {"http://[ABCD:0001::]:8080/", nullptr, "http://[abcd:1::]:8080/"},
    {"http://[::ffff:192.168.0.1]/", nullptr, "http://[::ffff:c0a8:1]/"},
    {"http://[1:2:3:4:5:6:1.2.3.4]/", nullptr, "http://[1:2:3:4:5:6:102:304]/"},
    {"http://[1::2::3]/", nullptr, nullptr},
    {"http://[::1/", nullptr, nullptr},
    {"http://[1:2:3:4:5:6:7:8:9]/", nullptr, nullptr},
    {"http://[1:2:3:4:5:6:7]/", nullptr, nullptr},
    {"http://[:1]/", nullptr, nullptr},
    {"http://[1:]/", nullptr, nullptr},
    {"http://[12345::]/", nullptr, nullptr},
    {"http://[::127.0.0.01]/", nullptr, nullptr},
    {"http://[::1.2.3]/", nullptr, nullptr},
    {"http://[::1.2.3.256]/", nullptr, nullptr},
    {"http://[1:2:3:4:5:6:7:1.2.3.4]/", nullptr, nullptr},
    {"http://[www.example.com]/", nullptr, nullptr},
    {"http://[::1]x/", nullptr, nullptr},
};
INSTANTIATE_TEST_SUITE_P(Ipv6, ResolveTest, testing::ValuesIn(k_ipv6));

const Case k_idna[] = {
    {"http://Bücher.example/", nullptr, "http://xn--bcher-kva.example/"},
    {"http://B%C3%BCcher.example/", nullptr, "http://xn--bcher-kva.example/"},
    {"http://XN--BCHER-KVA.example/", nullptr, "http://xn--bcher-kva.example/"},
    {"http://faß.de/", nullptr, "http://xn--fa-hia.de/"},
    {"http://ΣΊΣΥΦΟΣ.gr/", nullptr, "http://xn--kxa6akbbkh.gr/"},
    {"http://例え.テスト/", nullptr, "http://xn--r8jz45g.xn--zckzah/"},
    {"http://ＥＸＡＭＰＬＥ．ｃｏｍ/", nullptr, "http://example.com/"},
    {"http://a\u3002b/", nullptr, "http://a.b/"},
    {"http://ex\u00ADample.com/", nullptr, "http://example.com/"},
    {"http://ex%41mple.com/", nullptr, "http://example.com/"},
    {"http://%F0%9F%92%A9.la/", nullptr, "http://xn--ls8h.la/"},
    {"http://i\u2764\uFE0F.ws/", nullptr, "http://xn--i-7iq.ws/"},
    {"http://\u2603.net/", nullptr, "http://xn--n3h.net/"},
    {"http://\u00FC-.com/", nullptr, "http://xn----dha.com/"},
    {"http://-\u00FC.com/", nullptr, "http://xn----eha.com/"},
    {"http://ab--\u00FC.com/", nullptr, "http://xn--ab---3ra.com/"},
    {"http://r3---sn-x.\u00FC/", nullptr, "http://r3---sn-x.xn--tda/"},
    {"http://\u00FC.xn--ls8h/", nullptr, "http://xn--tda.xn--ls8h/"},
    {"http://xn--pokxncvks.example/", nullptr, "http://xn--pokxncvks.example/"},
    {"http://,\u00E9/", nullptr, "http://xn--,-bga/"}, // STD3 rules off
    {"http://\u00E9;x/", nullptr, "http://xn--;x-9ia/"},
    {"http://a\u2190\u0338b.\u00E9/", nullptr, "http://xn--ab-n0u.xn--9ca/"}, // NFC: U+219A
    {"http://=\u0338\u00E9/", nullptr, "http://xn--9ca742o/"},
    {"http://0\u0338\u2603/", nullptr, "http://xn--0-2eb538x/"},
    {"http://\u0661\u0662.com/", nullptr, nullptr},     // Bidi: a label cannot start with AN
    {"http://xn--i\u00F1valid.com/", nullptr, nullptr}, // an A-label holding non-ASCII
    {"http://\u00E9.xn--pokxncvks/", nullptr, nullptr}, // A-label decoding to mapped code points
    {"http://\u00E9.xn--/", nullptr, nullptr},
    {"http://a\u200Db.\u00E9/", nullptr, nullptr},        // ZWJ without a virama (CheckJoiners)
    {"http://\u0301a.com/", nullptr, nullptr},            // leading combining mark
    {"http://\uFDD0.com/", nullptr, nullptr},             // noncharacter: disallowed
    {"http://%FF.com/", nullptr, nullptr},                // not UTF-8
    {"http://%C2%AD/", nullptr, nullptr},                 // maps to the empty string
    {"http://\uFF05\uFF14\uFF11.com/", nullptr, nullptr}, // fullwidth "%41" maps to '%'
    {"http://ex ample.com/", nullptr, nullptr},
    {"http://ex%20ample.com/", nullptr, nullptr},
    {"http://ex%00ample.com/", nullptr, nullptr},
    {"http://a<b/", nullptr, nullptr},
    {"http://a%b/", nullptr, nullptr},
    {"http://a^b/", nullptr, nullptr},
    {"http://\uFF10\uFF38\uFF43\uFF10.\uFF10\uFF12\uFF15\uFF10.\uFF10\uFF11", nullptr,
     "http://192.168.0.1/"},
};
INSTANTIATE_TEST_SUITE_P(Idna, ResolveTest, testing::ValuesIn(k_idna));

const Case k_file_and_opaque[] = {
    {"mailto:Joe@Example.COM", nullptr, "mailto:Joe@Example.COM"},
    {"javascript:alert('x y')", k_page, "javascript:alert('x y')"},
    {"data:text/html,<b>x</b>", nullptr, "data:text/html,<b>x</b>"},
    {"mailto:a\x01"
     "b",
     nullptr, "mailto:a%01b"},
    {"sc:opaque  ?q", nullptr, "sc:opaque %20?q"},
    {"sc:opaque #f", nullptr, "sc:opaque%20#f"},
    {"x", "mailto:a@b", nullptr},
    {"#f", "mailto:a@b?c", "mailto:a@b?c#f"},
    {"file:///C:/x/../y", nullptr, "file:///C:/y"},
    {"file:c:\\foo\\bar", nullptr, "file:///c:/foo/bar"},
    {"file:///C|/x", nullptr, "file:///C:/x"},
    {"file://localhost/etc/hosts", nullptr, "file:///etc/hosts"},
    {"file://LOCALHOST/x", nullptr, "file:///x"},
    {"file://host/share/x", nullptr, "file://host/share/x"},
    {"file://C:/x", nullptr, "file:///C:/x"},
    {"file:/x", nullptr, "file:///x"},
    {"file:x", nullptr, "file:///x"},
    {"/C|/x", "file:///D:/a", "file:///C:/x"},
    {"..", "file:///C:/", "file:///C:/"},
    {"../../..", "file:///C:/a/b", "file:///C:/"},
    {"/x", "file:///C:/a", "file:///C:/x"},
    {"x", "file://h/a/b", "file://h/a/x"},
    {"?q", "file:///a/b", "file:///a/b?q"},
    {"file:", "file:///a/b?x#y", "file:///a/b?x"},
    {"file:#z", "file:///a/b?x", "file:///a/b?x#z"},
    {"file://h:80/", nullptr, nullptr},
};
INSTANTIATE_TEST_SUITE_P(FileAndOpaque, ResolveTest, testing::ValuesIn(k_file_and_opaque));

const Case k_failures[] = {
    {"", nullptr, nullptr},
    {"foo", nullptr, nullptr},
    {"//h/x", nullptr, nullptr},
    {"http://", nullptr, nullptr},
    {"http:///", nullptr, nullptr},
    {"http://user@/x", nullptr, nullptr},
    {"http://a:b@", nullptr, nullptr},
    {"http://:80/", nullptr, nullptr},
    {"http://h:65536/", nullptr, nullptr},
    {"http://h:8x/", nullptr, nullptr},
    {"http://h:-1/", nullptr, nullptr},
    {"sc://h:99999/", nullptr, nullptr},
    {"sc://h:x/", nullptr, nullptr},
    {"sc://a b/", nullptr, nullptr},
    {"sc://a|b/", nullptr, nullptr},
    {"sc://:1/", nullptr, nullptr},
    {"https://ex ample.org/", k_page, nullptr},
    {"http://[::1]x/", k_page, nullptr},
};
INSTANTIATE_TEST_SUITE_P(Failures, ResolveTest, testing::ValuesIn(k_failures));

TEST(UrlComponents, AreSlicesOfTheSerialization) {
    const auto url = parse("HTTPS://user:pw@Host.COM:8443/p/a?q=1#f");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->href(), "https://user:pw@host.com:8443/p/a?q=1#f");
    EXPECT_EQ(url->scheme(), "https");
    EXPECT_TRUE(url->is_special());
    EXPECT_EQ(url->username(), "user");
    EXPECT_EQ(url->password(), "pw");
    EXPECT_TRUE(url->has_host());
    EXPECT_EQ(url->host(), "host.com");
    EXPECT_EQ(url->port(), "8443");
    EXPECT_EQ(url->port_or_default(), 8443);
    EXPECT_EQ(url->path(), "/p/a");
    EXPECT_TRUE(url->has_query());
    EXPECT_EQ(url->query(), "q=1");
    EXPECT_TRUE(url->has_fragment());
    EXPECT_EQ(url->fragment(), "f");
    EXPECT_EQ(url->href_without_fragment(), "https://user:pw@host.com:8443/p/a?q=1");
    EXPECT_FALSE(url->has_opaque_path());
}

// One Url reused for a page's links gives, link after link, what a fresh parse gives: every
// component of the href, an error's kind, and an empty URL after an error.
TEST(UrlParseInto, EqualsAFreshParseLinkAfterLink) {
    const auto base = parse("https://user:pw@h.test:8443/dir/page.html?q=1#top");
    ASSERT_TRUE(base);
    const std::vector<std::string> inputs = {
        "https://h.test/a-much-longer-path/than/the/next/one/so/the/storage/shrinks?x=1#f",
        "b",
        "../up?v=2&from=nav#frag",
        "http://[::1]:8080/six",
        "http://a b/", // invalid host: an error between two good ones
        "//other.test/p",
        "mailto:someone@example.test",
        "http://h.test:99999/", // invalid port
        "?only-query",
        "#only-fragment",
        "https://xn--bcher-kva.test/caf%C3%A9",
        "https://B\xC3\xBC"
        "cher.test/",
    };
    Url reused;
    for (const std::string& input : inputs) {
        SCOPED_TRACE(input);
        const auto fresh = parse(input, &*base);
        const auto into = flagcrawl::crawler::parse_into(reused, input, &*base);
        ASSERT_EQ(bool(fresh), bool(into));
        if (!fresh) {
            EXPECT_EQ(fresh.error(), into.error());
            EXPECT_EQ(reused.href(), "");
            EXPECT_FALSE(reused.has_host());
            EXPECT_FALSE(reused.has_query());
            EXPECT_FALSE(reused.has_fragment());
            continue;
        }
        EXPECT_EQ(reused, *fresh);
        EXPECT_EQ(reused.scheme(), fresh->scheme());
        EXPECT_EQ(reused.is_http(), fresh->is_http());
        EXPECT_EQ(reused.username(), fresh->username());
        EXPECT_EQ(reused.password(), fresh->password());
        EXPECT_EQ(reused.has_host(), fresh->has_host());
        EXPECT_EQ(reused.host(), fresh->host());
        EXPECT_EQ(reused.port(), fresh->port());
        EXPECT_EQ(reused.port_or_default(), fresh->port_or_default());
        EXPECT_EQ(reused.path(), fresh->path());
        EXPECT_EQ(reused.has_opaque_path(), fresh->has_opaque_path());
        EXPECT_EQ(reused.has_query(), fresh->has_query());
        EXPECT_EQ(reused.query(), fresh->query());
        EXPECT_EQ(reused.has_fragment(), fresh->has_fragment());
        EXPECT_EQ(reused.fragment(), fresh->fragment());
        EXPECT_EQ(reused.href_without_fragment(), fresh->href_without_fragment());
    }
}

TEST(UrlParseInto, TheBaseMayBeTheUrlItself) {
    auto url = parse("https://h.test/a/b/c?q=1");
    ASSERT_TRUE(url);
    ASSERT_TRUE(flagcrawl::crawler::parse_into(*url, "../d#f", &*url));
    EXPECT_EQ(url->href(), "https://h.test/a/d#f");
    EXPECT_EQ(url->path(), "/a/d");
    EXPECT_EQ(url->fragment(), "f");
    Url empty;
    EXPECT_EQ(flagcrawl::crawler::parse_into(empty, "relative", nullptr).error(),
              UrlError::no_base);
    EXPECT_EQ(empty.href(), "");
}

TEST(UrlComponents, EmptyAndMissingPartsAreTold) {
    const auto plain = parse("http://h");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->path(), "/");
    EXPECT_EQ(plain->port(), "");
    EXPECT_EQ(plain->port_or_default(), 80);
    EXPECT_FALSE(plain->has_query());
    EXPECT_FALSE(plain->has_fragment());
    EXPECT_EQ(plain->username(), "");
    EXPECT_EQ(plain->password(), "");

    const auto empty_query = parse("http://h/?#");
    ASSERT_TRUE(empty_query);
    EXPECT_TRUE(empty_query->has_query());
    EXPECT_EQ(empty_query->query(), "");
    EXPECT_TRUE(empty_query->has_fragment());
    EXPECT_EQ(empty_query->fragment(), "");

    const auto mail = parse("mailto:a@b?subject=x");
    ASSERT_TRUE(mail);
    EXPECT_FALSE(mail->is_special());
    EXPECT_FALSE(mail->has_host());
    EXPECT_TRUE(mail->has_opaque_path());
    EXPECT_EQ(mail->path(), "a@b");
    EXPECT_EQ(mail->query(), "subject=x");
    EXPECT_EQ(mail->port_or_default(), std::nullopt);

    const auto file = parse("file:///x");
    ASSERT_TRUE(file);
    EXPECT_TRUE(file->has_host());
    EXPECT_EQ(file->host(), "");
    EXPECT_EQ(file->path(), "/x");

    const auto dotted = parse("sc:/.//p");
    ASSERT_TRUE(dotted);
    EXPECT_EQ(dotted->href(), "sc:/.//p");
    EXPECT_EQ(dotted->path(), "//p");

    const auto v6 = parse("http://[::1]:81/");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host(), "[::1]");
    EXPECT_EQ(v6->port(), "81");
}

TEST(UrlErrors, TellWhy) {
    EXPECT_EQ(parse("foo").error(), UrlError::no_base);
    EXPECT_EQ(parse("x", std::string_view("mailto:a")).error(), UrlError::no_base);
    EXPECT_EQ(parse("http://").error(), UrlError::missing_host);
    EXPECT_EQ(parse("http://u@/").error(), UrlError::missing_host);
    EXPECT_EQ(parse("http://a b/").error(), UrlError::invalid_host);
    EXPECT_EQ(parse("http://xn--i\u00F1valid.com/").error(), UrlError::invalid_idna);
    EXPECT_EQ(parse("http://1.2.3.256/").error(), UrlError::invalid_ipv4);
    EXPECT_EQ(parse("http://[1::2::3]/").error(), UrlError::invalid_ipv6);
    EXPECT_EQ(parse("http://h:99999/").error(), UrlError::invalid_port);
    EXPECT_EQ(to_string(UrlError::invalid_port), "invalid port");
    EXPECT_THROW((void)parse("foo").value(), std::invalid_argument);
}

TEST(UrlParse, ResolvesAgainstAParsedBase) {
    const auto base = parse("https://www.example.com/dir/page.html");
    ASSERT_TRUE(base);
    const auto a = parse("img/a.png", &*base);
    const auto b = parse("../b.css", &*base);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->href(), "https://www.example.com/dir/img/a.png");
    EXPECT_EQ(b->href(), "https://www.example.com/b.css");
    // A copy is independent of the original.
    Url copy = *a;
    EXPECT_EQ(copy, *a);
    EXPECT_EQ(copy.path(), "/dir/img/a.png");
}

TEST(UrlParse, IsThreadSafe) {
    // Each thread resolves its own links with the per-thread scratch buffers; results must
    // not leak between threads.
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &failures] {
            std::string base = "http://h";
            base += std::to_string(t);
            base += ".example/d/";
            for (int i = 0; i < 2000; ++i) {
                std::string href = std::to_string(i);
                href += "?t=";
                href += std::to_string(t);
                const auto url = parse(href, std::string_view(base));
                if (!url || url->href() != base + href)
                    ++failures[static_cast<std::size_t>(t)];
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(Punycode, EncodesAndDecodesRfc3492Samples) {
    using flagcrawl::crawler::url_detail::punycode_decode;
    using flagcrawl::crawler::url_detail::punycode_encode;
    struct Sample {
        std::u32string_view text;
        std::string_view encoded;
    };
    const Sample samples[] = {
        {U"b\u00FCcher", "bcher-kva"},
        {U"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
        {U"\u2603", "n3h"},
        {U"-> $1.00 <-", "-> $1.00 <--"},
        {U"\U0001F4A9", "ls8h"},
    };
    for (const Sample& sample : samples) {
        std::string encoded;
        ASSERT_TRUE(punycode_encode(sample.text, encoded));
        EXPECT_EQ(encoded, sample.encoded);
        std::u32string decoded;
        ASSERT_TRUE(punycode_decode(sample.encoded, decoded)) << sample.encoded;
        EXPECT_TRUE(decoded == sample.text) << sample.encoded;
    }
    std::u32string decoded;
    EXPECT_TRUE(punycode_decode("bcher-KVA", decoded)); // digits are case-insensitive
    EXPECT_TRUE(decoded == U"b\u00FCcher");
    EXPECT_FALSE(punycode_decode("a!", decoded));          // not a base-36 digit
    EXPECT_FALSE(punycode_decode("\xC3\xA9-a", decoded));  // non-ASCII basic code points
    EXPECT_FALSE(punycode_decode("99999999999", decoded)); // overflow
    EXPECT_FALSE(punycode_decode("zz", decoded));          // ends inside a number
}

} // namespace
