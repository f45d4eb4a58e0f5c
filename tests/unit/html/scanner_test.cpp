// The scanner against the full parse, one tokenizer or tree-builder state at a time: every
// case states the links expected and checks that both parsers give exactly those.
#include "crawler/html/links.hpp"
#include "crawler/html/text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;

namespace {

std::vector<std::string> urls_of(const fc::PageLinks& page) {
    std::vector<std::string> urls;
    for (const fc::Link& link : page.links) {
        urls.emplace_back(link.url);
    }
    return urls;
}

struct Case {
    const char* name;
    std::string html;
    std::vector<std::string> urls;
};

void expect_both(const Case& c) {
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    fc::LinkExtractor fast;
    fc::LinkExtractor full(full_options);
    EXPECT_EQ(urls_of(fast.extract(c.html)), c.urls) << c.name << " (fast)";
    EXPECT_EQ(urls_of(full.extract(c.html)), c.urls) << c.name << " (full)";
}

TEST(Scanner, CommentsAndBogusComments) {
    const Case cases[] = {
        {"comment", "<!-- <a href=/no> --><a href=/yes>", {"/yes"}},
        {"empty comment closes at once", "<!--><a href=/yes>", {"/yes"}},
        {"dash comment closes at once", "<!---><a href=/yes>", {"/yes"}},
        {"bang end", "<!-- x --!><a href=/yes>", {"/yes"}},
        {"dashes before end", "<!-- <a href=/no> ---><a href=/yes>", {"/yes"}},
        {"double dash inside", "<!-- -- <a href=/no> --><a href=/yes>", {"/yes"}},
        {"unterminated comment", "<a href=/before><!-- <a href=/no>", {"/before"}},
        {"processing instruction", "<?xml <a href=/no> ?><a href=/yes>", {"/yes"}},
        {"pi ends at first gt", "<?x><a href=/yes>", {"/yes"}},
        {"bogus end tag", "</1 <a href=/no>><a href=/yes>", {"/yes"}},
        {"empty end tag dropped", "</><a href=/yes>", {"/yes"}},
        {"doctype", "<!DOCTYPE html PUBLIC \"a>b\"><a href=/yes>", {"/yes"}},
        {"bang bogus", "<!x <a href=/no>><a href=/yes>", {"/yes"}},
        {"cdata in html is bogus", "<![CDATA[<a href=/no>]]><a href=/yes>", {"/yes"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, CdataInForeignContent) {
    expect_both(
        {"cdata in svg", "<svg><![CDATA[ </svg><a href=/no> ]]></svg><a href=/yes>", {"/yes"}});
    expect_both({"unterminated cdata", "<a href=/a><math><![CDATA[<a href=/no>", {"/a"}});
}

TEST(Scanner, ScriptData) {
    const Case cases[] = {
        {"markup in script", "<script>x='<a href=/no>'</script><a href=/yes>", {"/yes"}},
        {"end tag inside string ends the script",
         "<script>x='</script><a href=/in-string>';</script>",
         {"/in-string"}},
        {"split end tag", "<script>document.write('</scr'+'ipt>')</script><a href=/y>", {"/y"}},
        {"script end needs a delimiter",
         "<script></scriptx><a href=/no></script><a href=/y>",
         {"/y"}},
        {"escaped", "<script><!-- </script><a href=/after>", {"/after"}},
        {"double escaped keeps the script open",
         "<script><!-- <script> </script> <a href=/no> --></script><a href=/yes>",
         {"/yes"}},
        {"double escaped ends at arrow",
         "<script><!--<script>--><a href=/no></script><a href=/yes>",
         {"/yes"}},
        {"escape closed at once", "<script><!--></script><a href=/yes>", {"/yes"}},
        {"src recorded", "<script src=/s.js></script>", {"/s.js"}},
        {"unterminated script", "<a href=/a><script><a href=/no>", {"/a"}},
        {"self-closing script still opens", "<script src=/s.js /><a href=/no></script>", {"/s.js"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, RawTextAndRcdata) {
    const Case cases[] = {
        {"textarea", "<textarea><a href=/no></textarea><a href=/yes>", {"/yes"}},
        {"title", "<title><a href=/no></title><a href=/yes>", {"/yes"}},
        {"style", "<style>a{} <a href=/no></style><a href=/yes>", {"/yes"}},
        {"xmp", "<xmp><a href=/no></xmp><a href=/yes>", {"/yes"}},
        {"iframe content", "<iframe src=/f><a href=/no></iframe><a href=/yes>", {"/f", "/yes"}},
        {"noembed", "<noembed><a href=/no></noembed><a href=/yes>", {"/yes"}},
        {"noframes", "<noframes><a href=/no></noframes><a href=/yes>", {"/yes"}},
        {"end tag case and attributes",
         "<TEXTAREA><a href=/no></TextArea x='>'><a href=/yes>",
         {"/yes"}},
        {"other end tag inside", "<title></div><a href=/no></title><a href=/yes>", {"/yes"}},
        {"unterminated rcdata", "<a href=/a><textarea><a href=/no>", {"/a"}},
        {"noscript is markup", "<noscript><img src=/p.gif></noscript>", {"/p.gif"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, PlaintextEndsMarkup) {
    expect_both(
        {"plaintext", "<a href=/a><plaintext><a href=/no></plaintext><a href=/no2>", {"/a"}});
    expect_both(
        {"plaintext in svg is foreign", "<svg><plaintext></plaintext></svg><a href=/y>", {"/y"}});
}

TEST(Scanner, Template) {
    expect_both({"template inert",
                 "<template><a href=/no><img src=/no.png></template><a href=/yes>",
                 {"/yes"}});
    expect_both({"nested template",
                 "<template><template></template><a href=/no></template><a href=/yes>",
                 {"/yes"}});
    expect_both(
        {"template base ignored", "<template><base href=/t/></template><a href=/yes>", {"/yes"}});
    expect_both({"raw text inside template still raw",
                 "<template><script></template><a href=/no></script></template><a href=/y>",
                 {"/y"}});
}

TEST(Scanner, ForeignContent) {
    const Case cases[] = {
        {"svg links are not followed",
         "<svg><a href=/svg-a><image href=/i.png /></a><a xlink:href=/xl></a></svg><a href=/y>",
         {"/y"}},
        {"svg title is not raw text",
         "<svg><title><a href=/in-title></title></svg>",
         {"/in-title"}},
        {"foreignObject holds html",
         "<svg><foreignObject><a href=/fo></a></foreignObject><a href=/svg></svg>",
         {"/fo"}},
        {"foreignObject stays open while html is open",
         "<svg><foreignObject><a href=/fo></foreignObject><a href=/html></svg>",
         {"/fo", "/html"}},
        {"breakout", "<svg><g><p><a href=/out></svg>", {"/out"}},
        {"breakout img", "<svg><img src=/i.png><a href=/html>", {"/i.png", "/html"}},
        {"font breaks out only with attributes",
         "<svg><font><a href=/no></font><font color=red><a href=/yes>",
         {"/yes"}},
        {"style in svg is not raw text",
         "<svg><style><a href=/no></style></svg><a href=/y>",
         {"/y"}},
        {"script in svg is not script data",
         "<svg><script><a href=/no></script></svg><a href=/y>",
         {"/y"}},
        {"end of svg", "<svg><circle></circle></svg><a href=/after>", {"/after"}},
        {"self-closing svg", "<svg/><a href=/after>", {"/after"}},
        {"math text integration point",
         "<math><mi><a href=/mi></mi><mo><img src=/mo.png>",
         {"/mi", "/mo.png"}},
        {"annotation-xml html", "<math><annotation-xml encoding=text/html><a href=/ax>", {"/ax"}},
        {"annotation-xml other", "<math><annotation-xml><a href=/no></annotation-xml></math>", {}},
        {"html end tag closes svg", "<div><svg><g></div><a href=/after>", {"/after"}},
        {"nested svg", "<svg><svg></svg><a href=/no></svg><a href=/y>", {"/y"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, TreeBuilderDrops) {
    const Case cases[] = {
        {"select drops tags",
         "<select><a href=/no><img src=/no.png><option>x</select><a href=/y>",
         {"/y"}},
        {"input closes select",
         "<select><input type=image src=/i.png><a href=/y>",
         {"/i.png", "/y"}},
        {"script in select", "<select><script src=/s.js></script></select>", {"/s.js"}},
        {"frame outside frameset dropped", "<body><frame src=/no><a href=/y>", {"/y"}},
        {"frameset",
         "<html><head></head><frameset><frame src=/l><frame src=/r></frameset>",
         {"/l", "/r"}},
        {"after frameset only frames",
         "<frameset><frame src=/f><a href=/no></frameset><a href=/x>",
         {"/f"}},
        {"image is img", "<image src=/im.png>", {"/im.png"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, TagsAndAttributesCutAtEof) {
    const Case cases[] = {
        {"tag at eof", "<a href=/ok><a href=/cut", {"/ok"}},
        {"quoted value at eof", "<a href=/ok><a href=\"/cut>", {"/ok"}},
        {"single quote at eof", "<a href=/ok><a href='/cut", {"/ok"}},
        {"name at eof", "<a href=/ok><a", {"/ok"}},
        {"lt at eof", "<a href=/ok><", {"/ok"}},
        {"attribute name at eof", "<a href=/ok><img src", {"/ok"}},
        {"self-closing slash at eof", "<a href=/ok><img src=/x /", {"/ok"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, AttributeSyntax) {
    const Case cases[] = {
        {"duplicate keeps first", "<a href=/first href=/second>", {"/first"}},
        {"case-insensitive names", "<A HREF=/up>", {"/up"}},
        {"unquoted ends at space", "<a href=/a b=c>", {"/a"}},
        {"unquoted keeps quotes", "<a href=/a\"b>", {"/a\"b"}},
        {"no space between attributes", "<a id='x'href='/y'>", {"/y"}},
        {"slash between attributes", "<a/href=/z>", {"/z"}},
        {"spaces around equals", "<a href = '/sp' >", {"/sp"}},
        {"value with gt", "<a title='a>b' href=/after>", {"/after"}},
        {"equals starts a name", "<a =x href=/e>", {"/e"}},
        {"valueless then value", "<a download href=/d>", {"/d"}},
        {"lt in tag name", "<a<b href=/no><a href=/y>", {"/y"}},
        {"references",
         "<a href='/q?a=1&amp;b=2&lt;&#x41;&#66;&#x80;'>",
         {"/q?a=1&b=2<AB\xE2\x82\xAC"}},
        {"legacy reference rule",
         "<a href='/r?x=1&copy=2&copy;&notit;'>",
         {"/r?x=1&copy=2\xC2\xA9&notit;"}},
        {"bad numeric references",
         "<a href='/n&#0;&#xD800;&#x110000;&#;&#x;'>",
         {"/n\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD&#;&#x;"}},
        {"newlines", "<a href='/c\r\nr\rl'>", {"/c\nr\nl"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

// The scanner finds tag names by a hash of their first 8 bytes and attribute names by their
// length and first letter: near misses must stay misses, in any case and at the end of input.
TEST(Scanner, NamesMatchExactly) {
    const Case cases[] = {
        {"attribute name case", "<a hReF=/mixed>", {"/mixed"}},
        {"same length and first letter", "<a hreg=/no href=/y>", {"/y"}},
        {"first byte equal modulo 32", "<a (ref=/no href=/y>", {"/y"}},
        {"longer name", "<img srcsetx=/no.png src=/i>", {"/i"}},
        {"upper-case meta refresh", "<META HTTP-EQUIV=Refresh CONTENT='0; url=/r'>", {"/r"}},
        {"near http-equiv", "<meta http-equiw=refresh content='0; url=/no'>", {}},
        {"upper-case tags", "<IMG SRC=/i><A HREF=/a>", {"/i", "/a"}},
        {"name past 8 bytes", "<plaintexts><a href=/a>", {"/a"}},
        {"long name", "<PLAINTEXT><a href=/no>", {}},
        {"8-byte prefix of a longer name", "<templates><a href=/x></templates>", {"/x"}},
        {"upper-case end tags",
         "<select><a href=/no></SELECT><template><a href=/no></TEMPLATE><a href=/y>",
         {"/y"}},
        {"link at the very end", "<a href=/end>", {"/end"}},
        {"short tag at the end", "<p><a href=/e><i>", {"/e"}},
    };
    for (const Case& c : cases) {
        expect_both(c);
    }
}

TEST(Scanner, NulBytes) {
    expect_both({"nul in value", std::string("<a href='/n\0l'>", 15), {"/n\xEF\xBF\xBDl"}});
    expect_both({"nul in text", std::string("x\0<a href=/y>", 13), {"/y"}});
    expect_both({"nul in tag name", std::string("<a\0 href=/no><a href=/y>", 24), {"/y"}});
    expect_both({"nul in attribute name", std::string("<a h\0ref=/no href=/y>", 21), {"/y"}});
}

TEST(Scanner, BaseAfterLinksAndMultipleBases) {
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    for (const auto& options : {fc::ExtractorOptions{}, full_options}) {
        fc::LinkExtractor extractor(options);
        const std::string html = "<a href=rel>x</a><base href='/first/'><base href='/second/'>";
        const fc::PageLinks& page = extractor.extract(html);
        EXPECT_TRUE(page.has_base);
        EXPECT_EQ(page.base_href, "/first/");
        EXPECT_EQ(urls_of(page), std::vector<std::string>{"rel"});
        const fc::PageLinks& second = extractor.extract("<base target=_top><base href=/b/>");
        EXPECT_EQ(second.base_href, "/b/");
    }
}

TEST(Scanner, SourceSpansPointAtTheUrl) {
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    const std::string html =
        "<a href=\" /x \">a</a><img srcset='s1.png 1x, s2.png 2x'>"
        "<a href='/q?a&amp;b'>q</a><meta http-equiv=refresh content='0; url=/r'>";
    for (const auto& options : {fc::ExtractorOptions{}, full_options}) {
        fc::LinkExtractor extractor(options);
        const fc::PageLinks& page = extractor.extract(html);
        ASSERT_EQ(page.links.size(), 5U);
        for (const fc::Link& link : page.links) {
            const std::string_view source = std::string_view(html).substr(
                link.source.begin, link.source.end - link.source.begin);
            if (link.source_exact) {
                EXPECT_EQ(source, link.url);
            } else {
                EXPECT_EQ(source, "/q?a&amp;b");
            }
        }
        EXPECT_FALSE(page.links[3].source_exact);
        EXPECT_TRUE(page.links[2].source_exact);
    }
}

TEST(Scanner, TitleStates) {
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    const std::pair<std::string, std::string> cases[] = {
        {"<svg><title>svg</title></svg><title>html</title>", "html"},
        {"<title>a &amp; b &notit; &copy2</title>", "a & b \xC2\xACit; \xC2\xA9"
                                                    "2"},
        {"<template><title>no</title></template><title>yes</title>", "yes"},
        {"<svg><foreignObject><title>inside</title></foreignObject></svg>", "inside"},
        {"<title>cut at eof", "cut at eof"},
        {std::string("<title>n\0l</title>", 18), "n\xEF\xBF\xBDl"},
    };
    for (const auto& [html, title] : cases) {
        fc::LinkExtractor fast;
        fc::LinkExtractor full(full_options);
        EXPECT_EQ(fast.extract(html).title, title) << html;
        EXPECT_EQ(full.extract(html).title, title) << html;
    }
}

} // namespace

namespace {

// Found by fuzz_links_diff, where gumbo (the oracle) deviates from the HTML Standard and the
// scanner must not: control characters in attribute values are kept (gumbo makes them U+FFFD;
// the URL parser percent-encodes them), and a duplicate attribute without a value does not
// take the next attribute's value away (gumbo drops it: `<a x x href=/y>` has no href there).
TEST(Scanner, FollowsTheStandardWhereGumboDoesNot) {
    fc::LinkExtractor fast;
    EXPECT_EQ(urls_of(fast.extract("<a href=/2o\x1e</script>")),
              std::vector<std::string>{"/2o\x1e</script"});
    EXPECT_EQ(urls_of(fast.extract("<a x x href=/y>")), std::vector<std::string>{"/y"});
    EXPECT_EQ(urls_of(fast.extract("<img alt alt src=/i.png>")),
              std::vector<std::string>{"/i.png"});
    EXPECT_EQ(urls_of(fast.extract(std::string("<a \0a h/\t\0a href=/n2>", 22))),
              std::vector<std::string>{"/n2"});
    // A numeric reference past U+10FFFF is U+FFFD however long (gumbo's overflows: "&").
    EXPECT_EQ(urls_of(fast.extract("<a href='/n&#xFFFFFFFF;x'>")),
              std::vector<std::string>{"/n\xEF\xBF\xBDx"});
    EXPECT_EQ(urls_of(fast.extract("<a href='/n&#x44444444444444448888;x'>")),
              std::vector<std::string>{"/n\xEF\xBF\xBDx"});
    // gumbo drops the NUL that starts "\0href" (the standard makes it U+FFFD): no href here.
    EXPECT_TRUE(fast.extract(std::string("<a \n\0href=';&#x;'>", 19)).links.empty());
    // The same right after a quoted value (missing whitespace between attributes).
    EXPECT_TRUE(fast.extract(std::string("<link rel='x'\0href=/s.css>", 26)).links.empty());
    // gumbo drops the NUL that starts "\0a", so the next "a" repeats it there.
    EXPECT_EQ(urls_of(fast.extract(std::string("<a \0a a href=/n3>", 17))),
              std::vector<std::string>{"/n3"});
}

// The scanner's fast path reads eight bytes at a time: every byte that needs decoding is found
// at every offset of values shorter and longer than a word, and nothing else is.
TEST(Scanner, PlainTextTestAtEveryOffset) {
    using fc::html_detail::is_plain_text;
    for (std::size_t size = 0; size <= 20; ++size) {
        const std::string plain(size, 'a');
        EXPECT_TRUE(is_plain_text(plain)) << size;
        for (std::size_t at = 0; at < size; ++at) {
            for (const char c : {'&', '\r', '\0', '\x80', '\xff', '\xc3'}) {
                std::string text = plain;
                text[at] = c;
                EXPECT_FALSE(is_plain_text(text)) << size << " " << at << " " << int(c);
            }
            for (const char c : {'\n', '\'', '"', '\x7f', '\x01', '%', '=', '\t'}) {
                std::string text = plain;
                text[at] = c;
                EXPECT_TRUE(is_plain_text(text)) << size << " " << at << " " << int(c);
            }
        }
    }
}

// The scanner finds the end of a quoted value and whether decoding changes it in one pass, 16
// bytes at a time: a reference anywhere before the closing quote, at any offset in a block,
// is decoded (bytes after the quote are text, whatever block they share with it).
TEST(Scanner, QuotedValueDecodedAtEveryOffset) {
    fc::LinkExtractor extractor;
    for (std::size_t size = 1; size <= 40; ++size) {
        for (std::size_t at = 0; at <= size; ++at) {
            std::string value(size, 'a');
            value[0] = '/';
            std::string expected = value;
            if (at < size) {
                value.replace(at, 1, "&amp;");
                expected[at] = '&';
            }
            const std::string html = "<a href=\"" + value + "\">&amp;\r\x80 text";
            const fc::PageLinks& page = extractor.extract(html);
            ASSERT_EQ(page.links.size(), 1U) << size << " " << at;
            EXPECT_EQ(page.links[0].url, expected) << size << " " << at;
            EXPECT_EQ(page.links[0].source_exact, at == size) << size << " " << at;
            // Padded so that the value's end falls at every offset of a 16-byte block.
            const std::string padded = std::string(at % 16, ' ') + html;
            const fc::PageLinks& again = extractor.extract(padded);
            ASSERT_EQ(again.links.size(), 1U) << size << " " << at;
            EXPECT_EQ(again.links[0].url, expected) << size << " " << at;
        }
    }
}

} // namespace
