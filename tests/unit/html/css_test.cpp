// URLs in CSS: the tokenizer cases that decide what is a URL, spans, and CSS in HTML
// (<style>, style attributes) under both parsers.
#include "crawler/html/css.hpp"
#include "crawler/html/links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;

namespace {

std::vector<std::string> css_urls(std::string_view css) {
    std::vector<fc::CssUrl> urls;
    std::deque<std::string> storage;
    fc::extract_css_urls(css, 0, urls, storage);
    std::vector<std::string> out;
    for (const auto& u : urls) {
        out.push_back(std::string(u.import ? "@" : "") + std::string(u.url));
    }
    return out;
}

TEST(Css, Urls) {
    const std::pair<std::string, std::vector<std::string>> cases[] = {
        {"a{background:url(a.png)}", {"a.png"}},
        {"a{background:URL( 'b c.png' )}", {"b c.png"}},
        {"a{background:url(\"d.png\")}", {"d.png"}},
        {"@import 'imp.css';", {"@imp.css"}},
        {"@import url(imp2.css) screen;", {"@imp2.css"}},
        {"@IMPORT \"imp3.css\";", {"@imp3.css"}},
        {"/* url(no.png) */ b{x:url(yes.png)}", {"yes.png"}},
        {"a{content:'url(no.png)'} b{x:url(y.png)}", {"y.png"}},
        {"a{x:myurl(no.png); y:url(ok.png)}", {"ok.png"}},
        {"a{x:url(bad\"quote.png) ; y:url(after.png)}", {"after.png"}},
        {"a{x:url(sp ace.png) ; y:url(after2.png)}", {"after2.png"}},
        {"a{x:url(esc\\29 aped.png)}", {"esc)aped.png"}},
        {"a{x:url('q\\'uote.png')}", {"q'uote.png"}},
        {"a{x:url()} b{y:url('')}", {}},
        {"@font-face{src:url(f.woff2) format('woff2'),url(f.woff)}", {"f.woff2", "f.woff"}},
        {"a{x:url(unterminated.png", {"unterminated.png"}},
        {"@importx 'no.css'; @import", {}},
    };
    for (const auto& [css, want] : cases) {
        EXPECT_EQ(css_urls(css), want) << css;
    }
}

TEST(Css, SpansPointAtTheUrl) {
    const std::string css = "a{x:url( a.png )} @import 'b.css'; c{y:url(e\\73 c.png)}";
    std::vector<fc::CssUrl> urls;
    std::deque<std::string> storage;
    fc::extract_css_urls(css, 100, urls, storage);
    ASSERT_EQ(urls.size(), 3u);
    for (const auto& u : urls) {
        const std::string_view at =
            std::string_view(css).substr(u.source.begin - 100, u.source.end - u.source.begin);
        if (u.source_exact) {
            EXPECT_EQ(at, u.url);
        } else {
            EXPECT_EQ(at, "e\\73 c.png");
        }
    }
    EXPECT_EQ(urls[2].url, "esc.png");
    EXPECT_FALSE(urls[2].source_exact);
}

TEST(Css, InHtmlUnderBothParsers) {
    const std::string html =
        "<style>@import 'i.css'; body{background:url(/bg.png)}</style>"
        "<div style=\"background:url('/d.png')\">x</div><p style='x:url(&quot;/q.png&quot;)'>"
        "<a href=/a style='b:url(/sa.png)'>a</a><template><i "
        "style='x:url(/no.png)'></i></template>";
    for (const fc::HtmlParser parser : {fc::HtmlParser::fast, fc::HtmlParser::full}) {
        fc::ExtractorOptions options;
        options.parser = parser;
        options.css = true;
        fc::LinkExtractor extractor(options);
        const fc::PageLinks& page = extractor.extract(html);
        std::vector<std::string> got;
        for (const auto& l : page.links) {
            got.push_back(std::string(fc::to_string(l.kind)) + " " + std::string(l.url));
            EXPECT_TRUE(l.requisite || l.kind == fc::LinkKind::anchor);
            if (l.source_exact) {
                EXPECT_EQ(
                    std::string_view(html).substr(l.source.begin, l.source.end - l.source.begin),
                    l.url);
            }
        }
        const std::vector<std::string> want = {"stylesheet i.css", "css_url /bg.png",
                                               "css_url /d.png",   "css_url /q.png",
                                               "anchor /a",        "css_url /sa.png"};
        EXPECT_EQ(got, want) << fc::to_string(parser);
        // Without the option, no CSS is read.
        fc::ExtractorOptions plain;
        plain.parser = parser;
        fc::LinkExtractor without(plain);
        EXPECT_EQ(without.extract(html).links.size(), 1u);
    }
}

TEST(Css, Stylesheet) {
    fc::LinkExtractor extractor;
    const fc::PageLinks& page = extractor.extract_css("@import url(more.css);\na{b:url(i.png)}");
    ASSERT_EQ(page.links.size(), 2u);
    EXPECT_EQ(page.links[0].kind, fc::LinkKind::stylesheet);
    EXPECT_EQ(page.links[0].url, "more.css");
    EXPECT_EQ(page.links[1].kind, fc::LinkKind::css_url);
    EXPECT_TRUE(page.links[1].requisite);
}

} // namespace
