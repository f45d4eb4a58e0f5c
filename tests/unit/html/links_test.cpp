// HTML link extraction under both parsers (the scanner and gumbo's full parse): element kinds,
// page facts, srcset, meta refresh, robustness.
#include "crawler/html/links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace fc = flagcrawl::crawler;
using fc::LinkKind;

namespace {

fc::ExtractorOptions with_parser(fc::HtmlParser parser) {
    fc::ExtractorOptions options;
    options.parser = parser;
    return options;
}

constexpr fc::HtmlParser k_parsers[] = {fc::HtmlParser::fast, fc::HtmlParser::full};

struct Expected {
    std::string url;
    LinkKind kind;
    bool requisite;
    bool nofollow = false;
};

bool operator==(const fc::Link& link, const Expected& e) {
    return link.url == e.url && link.kind == e.kind && link.requisite == e.requisite &&
           link.nofollow == e.nofollow;
}

std::string describe(const std::vector<fc::Link>& links) {
    std::string out;
    for (const fc::Link& l : links) {
        out += "  [" + std::string(l.url) + "] " + std::string(fc::to_string(l.kind)) +
               (l.requisite ? " requisite" : " page") + (l.nofollow ? " nofollow" : "") + "\n";
    }
    return out;
}

struct LinkCase {
    const char* name;
    std::string html;
    std::vector<Expected> links;
};

TEST(Links, ElementKinds) {
    const std::vector<LinkCase> cases = {
        {"anchor",
         R"(<a href="/a">x</a><a>no href</a><a href="">empty</a>)",
         {{"/a", LinkKind::anchor, false}}},
        {"area",
         R"(<map><area href="m.html" alt=""></map>)",
         {{"m.html", LinkKind::anchor, false}}},
        {"anchor_nofollow_token_case_insensitive",
         R"(<a rel="external NoFollow" href="/n">n</a><a rel="nofollowx" href="/m">m</a>)",
         {{"/n", LinkKind::anchor, false, true}, {"/m", LinkKind::anchor, false, false}}},
        {"link_rels",
         R"(<head><link rel=stylesheet href=s.css><link rel="shortcut icon" href=/f.ico>
            <link rel=canonical href="http://h/c"><link rel=alternate hreflang=fr href=/fr/>
            <link rel=preload as=font href=/f.woff2><link rel=modulepreload href=/m.js>
            <link rel=next href=/p2><link href=/norel><link rel=manifest href=/m.json>
            <link rel="alternate stylesheet" href=/alt.css><link rel=apple-touch-icon href=/t.png>
            <link rel=preconnect href=https://cdn><link rel=dns-prefetch href=//cdn2>
            <link rel="preconnect stylesheet" href=/both.css><link rel="nofollow next" href=/p3>
            </head>)",
         {{"s.css", LinkKind::stylesheet, true},
          {"/f.ico", LinkKind::icon, true},
          {"http://h/c", LinkKind::canonical, false},
          {"/fr/", LinkKind::alternate, false},
          {"/f.woff2", LinkKind::preload, true},
          {"/m.js", LinkKind::preload, true},
          {"/p2", LinkKind::other_link, false},
          {"/norel", LinkKind::other_link, false},
          {"/m.json", LinkKind::other_link, true},
          {"/alt.css", LinkKind::stylesheet, true},
          {"/t.png", LinkKind::icon, true},
          {"/both.css", LinkKind::stylesheet, true},
          {"/p3", LinkKind::other_link, false, true}}},
        {"img_src_and_srcset",
         R"(<img src="a.png" srcset="a1.png 1x, a2.png 2x">)",
         {{"a.png", LinkKind::image, true},
          {"a1.png", LinkKind::image, true},
          {"a2.png", LinkKind::image, true}}},
        {"picture_sources",
         R"(<picture><source srcset="w.webp 100w, w2.webp 200w" type=image/webp>
            <img src=p.jpg></picture>)",
         {{"w.webp", LinkKind::image, true},
          {"w2.webp", LinkKind::image, true},
          {"p.jpg", LinkKind::image, true}}},
        {"media",
         R"(<video src=v.mp4 poster=v.jpg><source src=v.webm><track src=v.vtt></video>
            <audio src=a.ogg></audio>)",
         {{"v.mp4", LinkKind::media, true},
          {"v.jpg", LinkKind::image, true},
          {"v.webm", LinkKind::media, true},
          {"v.vtt", LinkKind::media, true},
          {"a.ogg", LinkKind::media, true}}},
        {"script_frames_embed_object",
         R"(<script src="/app.js"></script><script>var a = '<a href="/no">';</script>
            <iframe src="/frame.html"></iframe><embed src="e.swf"><object data="o.pdf"></object>)",
         {{"/app.js", LinkKind::script, true},
          {"/frame.html", LinkKind::frame, false},
          {"e.swf", LinkKind::embed, true},
          {"o.pdf", LinkKind::object, true}}},
        {"frameset",
         R"(<html><frameset><frame src="left.html"><frame src="right.html"></frameset></html>)",
         {{"left.html", LinkKind::frame, false}, {"right.html", LinkKind::frame, false}}},
        {"input_image",
         R"(<form><input type=IMAGE src=go.png><input type=text src=no.png></form>)",
         {{"go.png", LinkKind::image, true}}},
        {"meta_refresh",
         R"(<meta http-equiv="Refresh" content="5; url=/next">)",
         {{"/next", LinkKind::refresh, false}}},
        {"meta_refresh_without_url_is_no_link",
         R"(<meta http-equiv=refresh content="30"><meta http-equiv=refresh content="x; url=/bad">)",
         {}},
        {"entities_in_attributes",
         R"(<a href="/q?a=1&amp;b=2&lt;&#x41;&#66;">e</a><a href="/r?x=1&copy=2">legacy</a>)",
         {{"/q?a=1&b=2<AB", LinkKind::anchor, false}, {"/r?x=1&copy=2", LinkKind::anchor, false}}},
        {"whitespace_trimmed_not_inner",
         "<a href=\" \t\n/sp ace \r\n\f\">x</a><a href=\"   \">blank</a>",
         {{"/sp ace", LinkKind::anchor, false}}},
        {"javascript_and_mailto_returned_raw",
         R"x(<a href="javascript:void(0)">j</a><a href="mailto:x@y">m</a><a href="#top">t</a>)x",
         {{"javascript:void(0)", LinkKind::anchor, false},
          {"mailto:x@y", LinkKind::anchor, false},
          {"#top", LinkKind::anchor, false}}},
        {"svg_and_template_ignored",
         R"(<svg><a href="/svg-a"><image href="/i.png"/></a></svg>
            <template><a href="/tpl">t</a></template><a href="/real">r</a>)",
         {{"/real", LinkKind::anchor, false}}},
        {"noscript_content_is_parsed",
         R"(<noscript><img src="/pixel.gif"></noscript>)",
         {{"/pixel.gif", LinkKind::image, true}}},
        {"comments_ignored",
         R"(<!-- <a href="/commented">c</a> --><a href="/live">l</a>)",
         {{"/live", LinkKind::anchor, false}}},
        {"broken_html",
         R"(<html><body><div><a href="/a1">one<a href="/a2">two</b></i><p><a href=/a3 rel=nofollow
            >three</td></table><img src="x.png" <a href='/a4'>)",
         {{"/a1", LinkKind::anchor, false},
          {"/a2", LinkKind::anchor, false},
          {"/a3", LinkKind::anchor, false, true},
          {"x.png", LinkKind::image, true}}},
        {"unclosed_attribute_at_eof",
         R"(<a href="/ok">x</a><a href="/never)",
         {{"/ok", LinkKind::anchor, false}}},
        {"uppercase_tags_and_attrs",
         R"(<A HREF="/UP">u</A><IMG SRC="/I.PNG">)",
         {{"/UP", LinkKind::anchor, false}, {"/I.PNG", LinkKind::image, true}}},
        // The first of two same-named attributes wins, and the attribute after a repeated one
        // keeps its name (gumbo with max_errors = 0 read "hiddenhref" here).
        {"duplicate_attributes",
         R"(<a hidden hidden href="/dup">d</a><img src=/a.png src=/b.png ismap ismap src=/c.png>)",
         {{"/dup", LinkKind::anchor, false}, {"/a.png", LinkKind::image, true}}},
    };
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        for (const LinkCase& c : cases) {
            const fc::PageLinks& page = extractor.extract(c.html);
            const std::string where =
                std::string(c.name) + " (" + std::string(fc::to_string(parser)) + ")";
            EXPECT_EQ(page.links.size(), c.links.size()) << where << "\n" << describe(page.links);
            for (std::size_t i = 0; i < std::min(page.links.size(), c.links.size()); ++i) {
                EXPECT_TRUE(page.links[i] == c.links[i])
                    << where << " link " << i << " want [" << c.links[i].url << "] "
                    << fc::to_string(c.links[i].kind) << "\n"
                    << describe(page.links);
            }
        }
    }
}

TEST(Links, RelIsRecorded) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        const auto& page =
            extractor.extract(R"(<link rel="Alternate" type="application/rss+xml" href="/feed">)"
                              R"(<a rel="noopener" href="/x">x</a><img src=i.png>)");
        ASSERT_EQ(page.links.size(), 3U);
        EXPECT_EQ(page.links[0].rel, "Alternate");
        EXPECT_EQ(page.links[0].kind, LinkKind::alternate);
        EXPECT_EQ(page.links[1].rel, "noopener");
        EXPECT_EQ(page.links[2].rel, "");
    }
}

struct FactsCase {
    const char* name;
    std::string html;
    std::string title;
    std::string base;
    bool has_base;
    std::string canonical;
    bool noindex;
    bool nofollow;
};

std::vector<FactsCase> facts_cases() {
    return {
        {"plain", "<title>Hello</title>", "Hello", "", false, "", false, false},
        {"title_whitespace_and_entities",
         "<title>\n  Tom &amp;\t Jerry &lt;3&gt; &eacute;t&eacute;  </title>",
         "Tom & Jerry <3> \xC3\xA9t\xC3\xA9", "", false, "", false, false},
        {"first_title_wins_svg_title_ignored",
         "<body><svg><title>svg</title></svg><title>real</title><title>second</title>", "real", "",
         false, "", false, false},
        {"title_markup_is_text", "<title>a <b>bold</b> move</title>", "a <b>bold</b> move", "",
         false, "", false, false},
        {"no_title", "<p>x", "", "", false, "", false, false},
        {"base_first_with_href",
         "<head><base target=_top><base href=' /dir/ '><base href=/other/></head>", "", "/dir/",
         true, "", false, false},
        {"empty_base_href", "<base href=''>", "", "", true, "", false, false},
        {"canonical_first", "<link rel=canonical href=' /c1 '><link rel=CANONICAL href=/c2>", "",
         "", false, "/c1", false, false},
        {"meta_robots_noindex_nofollow", "<meta name=robots content='noindex, nofollow'>", "", "",
         false, "", true, true},
        {"meta_robots_none_case", "<meta name=ROBOTS content=NONE>", "", "", false, "", true, true},
        {"meta_robots_spaces", "<meta name=' robots ' content='noindex nofollow'>", "", "", false,
         "", true, true},
        {"meta_our_agent", "<meta name=FlagCrawl content=nofollow>", "", "", false, "", false,
         true},
        {"meta_other_agent_ignored", "<meta name=googlebot content=noindex>", "", "", false, "",
         false, false},
        {"meta_robots_union",
         "<meta name=robots content=noindex><meta name=robots content='index,follow'>"
         "<meta name=flagcrawl content=nofollow>",
         "", "", false, "", true, true},
        {"meta_robots_all_is_nothing", "<meta name=robots content='all, noarchive'>", "", "", false,
         "", false, false},
        {"meta_robots_in_body_counts", "<body><p>x<meta name=robots content=noindex>", "", "",
         false, "", true, false},
    };
}

TEST(Links, PageFacts) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        for (const FactsCase& c : facts_cases()) {
            for (int facts_only = 0; facts_only < 2; ++facts_only) {
                const fc::PageLinks& page =
                    facts_only ? extractor.extract_facts(c.html) : extractor.extract(c.html);
                const std::string where = std::string(c.name) + (facts_only ? " (facts" : " (") +
                                          std::string(fc::to_string(parser)) + ")";
                EXPECT_EQ(page.title, c.title) << where;
                EXPECT_EQ(page.base_href, c.base) << where;
                EXPECT_EQ(page.has_base, c.has_base) << where;
                EXPECT_EQ(page.canonical, c.canonical) << where;
                EXPECT_EQ(page.noindex, c.noindex) << where;
                EXPECT_EQ(page.nofollow, c.nofollow) << where;
                if (facts_only) {
                    EXPECT_TRUE(page.links.empty()) << where;
                }
            }
        }
    }
}

TEST(Links, TitleCappedOnUtf8Boundary) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::ExtractorOptions options = with_parser(parser);
        options.max_title_bytes = 10;
        fc::LinkExtractor extractor(options);
        // "abcdefghi" is 9 bytes; the next character, é, takes 2: it must not be split.
        EXPECT_EQ(extractor.extract("<title>abcdefghi\xC3\xA9xyz</title>").title, "abcdefghi");
        EXPECT_EQ(extractor.extract("<title>abcdefghij klm</title>").title, "abcdefghij");
        EXPECT_EQ(extractor.extract("<title>abcd  efghij</title>").title, "abcd efghi");
        EXPECT_EQ(extractor.extract("<title>abcdefghi \xE2\x82\xAC</title>").title, "abcdefghi");
    }
}

TEST(Srcset, Table) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"", {}},
        {"a.png", {"a.png"}},
        {"a.png 1x, b.png 2x", {"a.png", "b.png"}},
        {"  a.png   1.5x  ,b.png 2x,", {"a.png", "b.png"}},
        {"a.png 100w, b.png 200w 300h", {"a.png", "b.png"}},
        {"a.png,b.png", {"a.png,b.png"}}, // no space: one URL with a comma
        {"a.png,,, b.png", {"a.png", "b.png"}},
        {",,,a.png 1x", {"a.png"}},
        // Commas inside a URL are kept; only trailing ones end it.
        {"img.php?w=1,2 1x, c.png 2x", {"img.php?w=1,2", "c.png"}},
        {"data:image/png;base64,AAAA 1x", {"data:image/png;base64,AAAA"}},
        // Invalid descriptors drop the candidate (as browsers do).
        {"a.png 1x 2x, b.png 2x", {"b.png"}},
        {"a.png 100w 1x, b.png", {"b.png"}},
        {"a.png 0w, b.png 1.5w, c.png -1x, d.png 0x", {"d.png"}},
        {"a.png 100h, b.png 10w 10h", {"b.png"}},
        {"a.png foo, b.png 3x", {"b.png"}},
        {"a.png 1e1x, b.png .5x, c.png 5.x", {"a.png", "b.png"}},
        // A parenthesised descriptor keeps its commas and spaces, then is invalid.
        {"a.png (1, 2) 1x, b.png 1x", {"b.png"}},
        {"a.png 1x (unterminated", {}},
    };
    for (const auto& [input, want] : cases) {
        std::vector<std::string_view> urls;
        fc::parse_srcset(input, urls);
        EXPECT_EQ(std::vector<std::string>(urls.begin(), urls.end()), want) << input;
    }
}

TEST(MetaRefresh, Table) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"5; url=/next", "/next"},
        {"5;url=/next", "/next"},
        {"0; URL=http://h/x", "http://h/x"},
        {"  3 ,  Url = '/quoted page' trailing", "/quoted page"},
        {"3; url=\"/dq\"", "/dq"},
        {"3; url='/unterminated", "/unterminated"},
        {"3 /bare", "/bare"},
        {"3;/bare2", "/bare2"},
        {"3; 'quoted-bare'", "quoted-bare"},
        {"3; urlx=/y", "urlx=/y"},
        {"3; ur=/y", "ur=/y"},
        {"3; url /y", "url /y"},
        {"1.5; url=/frac", "/frac"},
        {".5; url=/dot", "/dot"},
        {"5; url=/t  \t", "/t"},
        {"5", ""},
        {"5;", ""},
        {"; url=/x", ""},
        {"x; url=/x", ""},
        {"5x; url=/x", ""},
        {"", ""},
        {"5; url=", ""},
    };
    for (const auto& [content, want] : cases) {
        EXPECT_EQ(fc::parse_refresh_url(content), want) << "[" << content << "]";
    }
}

TEST(MetaRobots, DirectivesAndStringHelpers) {
    struct Case {
        const char* tokens;
        bool noindex;
        bool nofollow;
    };
    const Case cases[] = {
        {"", false, false},
        {"all", false, false},
        {"NoIndex", true, false},
        {"index, NOFOLLOW", false, true},
        {"none", true, true},
        {" noindex\tnofollow ", true, true},
        {"noindexx,follow", false, false},
    };
    for (const Case& c : cases) {
        bool noindex = false;
        bool nofollow = false;
        fc::apply_robots_directives(c.tokens, noindex, nofollow);
        EXPECT_EQ(noindex, c.noindex) << c.tokens;
        EXPECT_EQ(nofollow, c.nofollow) << c.tokens;
    }
}

TEST(Links, ViewsStayValidUntilNextCall) {
    fc::LinkExtractor extractor;
    const auto& page = extractor.extract("<title>T</title><a href='/one'>1</a>");
    const std::string copy(page.links.at(0).url);
    EXPECT_EQ(copy, "/one");
    EXPECT_EQ(page.title, "T");
    const auto& again = extractor.extract("<a href='/two'>2</a>");
    ASSERT_EQ(again.links.size(), 1U);
    EXPECT_EQ(again.links[0].url, "/two");
    EXPECT_EQ(again.title, "");
}

TEST(Links, AllParserModesAgree) {
    std::string html = "<title>Modes</title>";
    for (int i = 0; i < 2000; ++i) {
        html += "<div><a href='/p" + std::to_string(i) + "'>x</a><img src=i.png></div>";
    }
    std::vector<std::vector<std::string>> results;
    for (int mode = 0; mode < 3; ++mode) {
        fc::ExtractorOptions options =
            with_parser(mode == 2 ? fc::HtmlParser::fast : fc::HtmlParser::full);
        options.arena = mode == 1;
        fc::LinkExtractor extractor(options);
        for (int round = 0; round < 2; ++round) {
            const auto& page = extractor.extract(html);
            std::vector<std::string> urls{std::string(page.title)};
            for (const auto& l : page.links) {
                urls.emplace_back(l.url);
            }
            results.push_back(urls);
        }
    }
    ASSERT_EQ(results[0].size(), 4001U);
    for (const auto& r : results) {
        EXPECT_EQ(r, results[0]);
    }
}

TEST(LinksRobustness, EmptyAndGarbage) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        EXPECT_TRUE(extractor.extract("").links.empty());
        EXPECT_TRUE(extractor.extract_facts("").links.empty());
        std::string binary;
        for (int i = 0; i < 70'000; ++i) {
            binary += static_cast<char>((i * 7919) & 0xFF);
        }
        extractor.extract(binary);
        // Invalid UTF-8 in attributes and title becomes U+FFFD; nothing crashes.
        const auto& page = extractor.extract("<title>\xFF\xFE t</title><a href='/\xC3\x28x'>a</a>");
        EXPECT_EQ(page.title, "\xEF\xBF\xBD\xEF\xBF\xBD t");
        ASSERT_EQ(page.links.size(), 1U);
        EXPECT_EQ(page.links[0].url, "/\xEF\xBF\xBD(x");
        // Embedded NULs.
        const std::string nuls("<a href='/n\0ul'>x</a>\0<a href='/after'>y</a>", 44);
        EXPECT_EQ(extractor.extract(nuls).links.size(), 2U);
    }
}

TEST(LinksRobustness, HugeAttributeValue) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        const std::string big(3'000'000, 'x');
        const std::string html = "<a href='/" + big + "'>a</a><img srcset='" + big + " 1x'>";
        const auto& page = extractor.extract(html);
        ASSERT_EQ(page.links.size(), 2U);
        EXPECT_EQ(page.links[0].url.size(), big.size() + 1);
        EXPECT_EQ(page.links[1].url.size(), big.size());
        EXPECT_EQ(extractor.extract("<a href=/small>s</a>").links.size(), 1U);
    }
}

TEST(LinksRobustness, DeepNesting) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        for (const char* tag : {"div", "b", "span", "table"}) {
            std::string html;
            for (int i = 0; i < 10'000; ++i) {
                html += std::string("<") + tag + "><a href='/d" + std::to_string(i % 3) + "'>";
            }
            const auto& page = extractor.extract(html);
            EXPECT_GE(page.links.size(), 3U) << tag;
            EXPECT_EQ(page.links.front().url, "/d0") << tag;
        }
    }
}

TEST(LinksRobustness, ManyPagesReuseTheArena) {
    fc::LinkExtractor extractor(with_parser(fc::HtmlParser::full));
    std::string page;
    for (int i = 0; i < 300; ++i) {
        page += "<p><a href='/x" + std::to_string(i) + "'>link</a> text text text</p>";
    }
    std::size_t first_bytes = 0;
    for (int round = 0; round < 50; ++round) {
        const auto& links = extractor.extract(page);
        ASSERT_EQ(links.links.size(), 300U);
        if (round == 0) {
            first_bytes = extractor.last_arena_bytes();
        }
        EXPECT_EQ(extractor.last_arena_bytes(), first_bytes);
    }
    EXPECT_GT(first_bytes, page.size());
}

} // namespace

namespace {

// The scanner's page facts must agree with the full parse's.
TEST(LinksFacts, ScannerAgreesWithFullParse) {
    const std::vector<std::string> documents = {
        R"(<script>var t = "<title>no</title>";</script><title>yes</title>)",
        R"(<!-- <title>no</title> --><title>yes</title>)",
        R"(<!--><title>a</title>)",
        R"(<!---><title>b</title>)",
        R"(<!-- x --!><title>c</title><!-- <meta name=robots content=noindex> -- > still -->)",
        R"(<script><!-- <script> </script> <title>in</title> </script> --></script><title>d</title>)",
        R"(<script><!--</script><title>e</title>)",
        R"(<script><!-- x --><title>f</title></script><title>g</title>)",
        R"(<textarea><title>no</title></textarea><title>yes</title>)",
        R"(<style>/* <meta name=robots content=noindex> </styles> */</style><title>s</title>)",
        R"(<meta name="robots" content="noindex>" ><title>x</title>)",
        R"(<div title='<title>no</title>' data-x="<meta name=robots content=nofollow>"><title>y</title>)",
        R"(<svg><title>svg</title><link rel=canonical href=/svg><base href=/svgbase/>)"
        R"(<meta name=robots content=noindex></svg><title>html</title>)",
        R"(<svg><style><title>no</title></style></svg><title>after svg</title>)",
        R"(<svg/><title>self-closing svg</title><link rel=canonical href=/c>)",
        R"(<svg width=10/><title>unquoted slash</title>)",
        R"(<math><title>m</title></math><title>after math</title>)",
        R"(<svg><![CDATA[ <title>cdata</title> ]]></svg><title>t</title>)",
        R"(<![CDATA[<title>no</title>]]><title>yes</title>)",
        R"(<template><title>no</title><meta name=robots content=noindex><base href=/t/></template>)"
        R"(<title>yes</title>)",
        R"(<plaintext><title>no</title><meta name=robots content=noindex>)",
        R"(<title>unterminated &amp; stuff)",
        R"(<title>a</titlex>b</title>)",
        R"(<title>a</title ignored="x>y">b<title>c</title>)",
        R"(<title>&amp;&lt;&notin;&notit;&#x1F600;&bogus;</title>)",
        R"(<TITLE>Up</TITLE><META NAME=ROBOTS CONTENT=NOINDEX><LINK REL=CANONICAL HREF=/U>)",
        R"(<meta/name=robots/content=noindex><meta name=robots/ content=nofollow>)",
        R"(<link rel=canonical href=/a><base href=/b/><base href=/c/><link rel=canonical href=/d>)",
        R"(<iframe><title>no</title></iframe><noembed><title>no</title></noembed><title>y</title>)",
        R"(<noscript><meta name=robots content=noindex></noscript>)",
        R"(<a href="x"<title>t</title>)",
        R"(<script>document.write("</scr"+"ipt>")</script><title>t</title>)",
        R"(<p>body text</p><title>late title</title><meta name=flagcrawl content=none>)",
        R"(<title>)",
        R"(<title></title>)",
        R"(<meta name=robots content=noindex)",
        R"(<)",
        R"(</)",
        R"(<!)",
        R"(<meta name=robots content='noindex)",
        R"(</title><title>x</title>)",
        R"(<table><meta name=robots content=noindex><tr><td><title>in table</title></table>)",
        R"(<xmp><meta name=robots content=noindex></xmp><noframes><title>n</title></noframes>)",
        std::string("<title>nul\0byte</title><meta name=robots content=\0noindex>", 58),
        "<title>\xFF\xFEinvalid\xC3</title>",
        "<?xml version='1.0'?><!DOCTYPE html><html><head><title>  spaced\n\ttitle  </title>",
    };
    fc::LinkExtractor full(with_parser(fc::HtmlParser::full));
    fc::LinkExtractor facts;
    for (const std::string& doc : documents) {
        const fc::PageLinks& a = full.extract(doc);
        const fc::PageLinks& b = facts.extract_facts(doc);
        EXPECT_EQ(a.title, b.title) << doc;
        EXPECT_EQ(a.base_href, b.base_href) << doc;
        EXPECT_EQ(a.has_base, b.has_base) << doc;
        EXPECT_EQ(a.canonical, b.canonical) << doc;
        EXPECT_EQ(a.noindex, b.noindex) << doc;
        EXPECT_EQ(a.nofollow, b.nofollow) << doc;
    }
    // Spot checks that the table exercises something.
    EXPECT_EQ(facts.extract_facts(documents[0]).title, "yes");
    EXPECT_EQ(facts.extract_facts(documents[5]).title, "d");
    EXPECT_TRUE(facts.extract_facts(documents[12]).noindex);
    EXPECT_EQ(facts.extract_facts(documents[12]).canonical, "");
    EXPECT_EQ(facts.extract_facts(documents[15]).title, "");
}

TEST(LinksFacts, RealisticPageAndDeepNesting) {
    std::string page = "<!DOCTYPE html><html><head><meta charset=utf-8>"
                       "<title>Shop &amp; Co \xE2\x80\x93 Page</title>"
                       "<link rel=stylesheet href=/s.css><link rel=canonical href='/c?p=1&amp;q'>"
                       "<script>if (a < b && c > d) { x = '</p>'; }</script>"
                       "<meta name=robots content='noindex'></head><body>";
    for (int i = 0; i < 500; ++i) {
        page += "<div class=item><a href='/p" + std::to_string(i) +
                "'>Item</a><img src=i.png alt='a > b'></div>";
    }
    for (int i = 0; i < 10'000; ++i) {
        page += "<span>";
    }
    fc::LinkExtractor full(with_parser(fc::HtmlParser::full));
    fc::LinkExtractor facts;
    const fc::PageLinks& a = full.extract(page);
    const fc::PageLinks& b = facts.extract_facts(page);
    EXPECT_EQ(b.title, "Shop & Co \xE2\x80\x93 Page");
    EXPECT_EQ(b.canonical, "/c?p=1&q");
    EXPECT_TRUE(b.noindex);
    EXPECT_FALSE(b.nofollow);
    EXPECT_EQ(a.title, b.title);
    EXPECT_EQ(a.canonical, b.canonical);
    EXPECT_TRUE(b.links.empty());
    EXPECT_EQ(facts.last_arena_bytes(), 0U);
    EXPECT_GT(full.last_arena_bytes(), page.size());
}

} // namespace

namespace {

// One extractor per thread, used concurrently: gumbo and the extractor share no state.
TEST(LinksThreads, OneExtractorPerThread) {
    std::string page = "<title>Threads</title>";
    for (int i = 0; i < 400; ++i) {
        page += "<p><a href='/t" + std::to_string(i) + "'>t</a><img srcset='a.png 1x, b.png 2x'>";
    }
    std::vector<std::size_t> counts(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < counts.size(); ++t) {
        threads.emplace_back([&page, &counts, t] {
            fc::LinkExtractor extractor(
                with_parser(t % 2 == 0 ? fc::HtmlParser::fast : fc::HtmlParser::full));
            for (int round = 0; round < 20; ++round) {
                const auto& result =
                    round % 2 == 0 ? extractor.extract(page) : extractor.extract_facts(page);
                if (result.title == "Threads") {
                    counts[t] += result.links.size();
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (std::size_t count : counts) {
        EXPECT_EQ(count, 10U * 1200U);
    }
}

} // namespace

namespace {

// A page of 200,000 nested <div> (2.2 MB, built here): the scanner reads it in one pass; the
// full parser refuses it before parsing (gumbo would take minutes) and says so. Pages with many
// unclosed <p>, <li> or <a> are not nested and are parsed.
TEST(LinksRobustness, FullParserRefusesPathologicalNesting) {
    std::string deep;
    for (int i = 0; i < 200'000; ++i) {
        deep += "<div>";
    }
    deep += "<a href=/leaf>leaf</a>";
    fc::LinkExtractor fast;
    fc::LinkExtractor full(with_parser(fc::HtmlParser::full));
    const fc::PageLinks& a = fast.extract(deep);
    EXPECT_FALSE(a.too_complex);
    ASSERT_EQ(a.links.size(), 1u);
    EXPECT_EQ(a.links[0].url, "/leaf");
    const fc::PageLinks& b = full.extract(deep);
    EXPECT_TRUE(b.too_complex);
    EXPECT_TRUE(b.links.empty());
    std::string flat;
    for (int i = 0; i < 20'000; ++i) {
        flat += "<p>x<li><a href=/f" + std::to_string(i % 5) + ">y";
    }
    const fc::PageLinks& c = full.extract(flat);
    EXPECT_FALSE(c.too_complex);
    EXPECT_EQ(c.links.size(), 20'000u);
}

} // namespace
