// Character encodings: labels, the BOM / Content-Type / <meta> / default order, the <meta>
// prescan, decoding pages under both parsers, and query encoding.
#include "crawler/html/charset.hpp"
#include "crawler/html/links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;
using fc::Encoding;

namespace {

constexpr fc::HtmlParser k_parsers[] = {fc::HtmlParser::fast, fc::HtmlParser::full};

fc::ExtractorOptions with_parser(fc::HtmlParser parser) {
    fc::ExtractorOptions options;
    options.parser = parser;
    return options;
}

TEST(Charset, LabelsMapAsTheStandardSays) {
    const std::pair<const char*, Encoding> cases[] = {
        {"utf-8", Encoding::utf8},
        {" UTF8 ", Encoding::utf8},
        {"ISO-8859-1", Encoding::windows_1252},
        {"latin1", Encoding::windows_1252},
        {"US-ASCII", Encoding::windows_1252},
        {"iso-8859-9", Encoding::windows_1254},
        {"Shift_JIS", Encoding::shift_jis},
        {"x-sjis", Encoding::shift_jis},
        {"windows-31j", Encoding::shift_jis},
        {"gb2312", Encoding::gbk},
        {"euc-kr", Encoding::euc_kr},
        {"big5-hkscs", Encoding::big5},
        {"utf-16", Encoding::utf16le},
        {"iso-2022-kr", Encoding::replacement},
        {"tis-620", Encoding::windows_874},
    };
    for (const auto& [label, want] : cases) {
        const auto got = fc::encoding_from_label(label);
        ASSERT_TRUE(got) << label;
        EXPECT_EQ(*got, want) << label;
    }
    EXPECT_FALSE(fc::encoding_from_label("utf-7"));
    EXPECT_FALSE(fc::encoding_from_label(""));
    EXPECT_EQ(fc::to_string(Encoding::shift_jis), "Shift_JIS");
}

TEST(Charset, ContentTypeCharset) {
    EXPECT_EQ(fc::encoding_from_content_type("text/html; charset=Shift_JIS"), Encoding::shift_jis);
    EXPECT_EQ(fc::encoding_from_content_type("text/html;charset=\"iso-8859-1\""),
              Encoding::windows_1252);
    EXPECT_EQ(fc::encoding_from_content_type("text/html; q=1; CHARSET=euc-jp"), Encoding::euc_jp);
    EXPECT_FALSE(fc::encoding_from_content_type("text/html"));
    EXPECT_FALSE(fc::encoding_from_content_type("text/html; charset=bogus"));
}

TEST(Charset, MetaPrescan) {
    const std::pair<std::string, std::optional<Encoding>> cases[] = {
        {"<meta charset=shift_jis>", Encoding::shift_jis},
        {"<META CHARSET='EUC-JP'>", Encoding::euc_jp},
        {"<meta http-equiv=Content-Type content='text/html; charset=windows-1251'>",
         Encoding::windows_1251},
        {"<meta content=\"text/html; charset=koi8-r\" http-equiv=\"content-type\">",
         Encoding::koi8_r},
        // content without http-equiv=content-type does not count.
        {"<meta content='text/html; charset=koi8-r'>", std::nullopt},
        {"<!-- <meta charset=big5> --><meta charset=gbk>", Encoding::gbk},
        {"<title>x</title><meta charset=utf-16>", Encoding::utf8},
        {"<meta charset=x-user-defined>", Encoding::windows_1252},
        {"<div title='<meta charset=big5>'><meta charset=euc-kr>", Encoding::euc_kr},
        {"<metal charset=big5>", std::nullopt},
        {"<meta/charset=big5>", Encoding::big5},
        {std::string(1100, ' ') + "<meta charset=big5>", std::nullopt}, // past 1024 bytes
        {"", std::nullopt},
    };
    for (const auto& [html, want] : cases) {
        EXPECT_EQ(fc::prescan_meta(html), want) << html.substr(0, 80);
    }
}

TEST(Charset, SniffOrder) {
    const auto bom =
        fc::sniff_encoding("\xEF\xBB\xBF<meta charset=big5>", "text/html; charset=euc-kr");
    EXPECT_EQ(bom.encoding, Encoding::utf8);
    EXPECT_EQ(bom.source, fc::EncodingSource::bom);
    const auto header = fc::sniff_encoding("<meta charset=big5>", "text/html; charset=euc-kr");
    EXPECT_EQ(header.encoding, Encoding::euc_kr);
    EXPECT_EQ(header.source, fc::EncodingSource::header);
    const auto meta = fc::sniff_encoding("<meta charset=big5>", "text/html");
    EXPECT_EQ(meta.encoding, Encoding::big5);
    EXPECT_EQ(meta.source, fc::EncodingSource::meta);
    const auto fallback = fc::sniff_encoding("<p>x", "");
    EXPECT_EQ(fallback.encoding, Encoding::windows_1252);
    EXPECT_EQ(fallback.source, fc::EncodingSource::fallback);
    EXPECT_EQ(fc::sniff_encoding("\xFF\xFE<\0", "").encoding, Encoding::utf16le);
}

// 表 is 0x95 0x5C in Shift_JIS: its second byte is '\' in ASCII, and must not act as one.
const std::string k_sjis_page = "<title>\x95\x5C</title><a href='/\x95\x5C/x?q=\x95\x5C'>t</a>"
                                "<a href='&#x8868;'>ref</a>";
const std::string k_hyo = "\xE8\xA1\xA8"; // 表 in UTF-8

TEST(Charset, ShiftJisPageByHeaderAndByMeta) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        for (int by_meta = 0; by_meta < 2; ++by_meta) {
            const std::string html =
                by_meta ? "<meta charset=shift_jis>" + k_sjis_page : k_sjis_page;
            const fc::PageLinks& page =
                extractor.extract(html, by_meta ? "text/html" : "text/html; charset=Shift_JIS");
            const std::string where =
                std::string(fc::to_string(parser)) + (by_meta ? " meta" : " header");
            EXPECT_EQ(page.encoding, Encoding::shift_jis) << where;
            EXPECT_EQ(page.title, k_hyo) << where;
            ASSERT_EQ(page.links.size(), 2u) << where;
            EXPECT_EQ(page.links[0].url, "/" + k_hyo + "/x?q=" + k_hyo) << where;
            EXPECT_EQ(page.links[1].url, k_hyo) << where;
        }
    }
}

TEST(Charset, Windows1252ByDefault) {
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        const fc::PageLinks& page =
            extractor.extract("<a href='caf\xE9'>x</a><title>\x80</title>", "");
        EXPECT_EQ(page.encoding, Encoding::windows_1252);
        ASSERT_EQ(page.links.size(), 1u);
        EXPECT_EQ(page.links[0].url, "caf\xC3\xA9");
        EXPECT_EQ(page.title, "\xE2\x82\xAC"); // 0x80 is the euro sign
        // The same bytes without a Content-Type: taken as UTF-8, the bad byte replaced.
        EXPECT_EQ(extractor.extract("<a href='caf\xE9'>x</a>").links.at(0).url, "caf\xEF\xBF\xBD");
    }
}

TEST(Charset, Utf16PageIsDecodedWhole) {
    std::string utf16;
    for (const char c : std::string("<title>t</title><a href='/u'>x</a>")) {
        utf16.push_back(c);
        utf16.push_back('\0');
    }
    for (const fc::HtmlParser parser : k_parsers) {
        fc::LinkExtractor extractor(with_parser(parser));
        const fc::PageLinks& page = extractor.extract("\xFF\xFE" + utf16, "text/html");
        EXPECT_EQ(page.encoding, Encoding::utf16le);
        EXPECT_EQ(page.title, "t");
        ASSERT_EQ(page.links.size(), 1u);
        EXPECT_EQ(page.links[0].url, "/u");
        EXPECT_FALSE(page.decoded_text.empty());
    }
}

TEST(Charset, QueryEncoding) {
    fc::Transcoder transcoder;
    std::string out;
    transcoder.encode_query(Encoding::shift_jis, "q=" + k_hyo, out);
    EXPECT_EQ(out, "q=\x95\x5C");
    out.clear();
    // A character Shift_JIS lacks: its numeric reference, percent-encoded.
    transcoder.encode_query(Encoding::shift_jis, "\xF0\x9F\x98\x80", out);
    EXPECT_EQ(out, "%26%23128512%3B");
    out.clear();
    transcoder.encode_query(Encoding::windows_1252, "caf\xC3\xA9", out);
    EXPECT_EQ(out, "caf\xE9");
    out.clear();
    transcoder.encode_query(Encoding::utf8, "caf\xC3\xA9", out);
    EXPECT_EQ(out, "caf\xC3\xA9");
}

TEST(Charset, DecodeReplacesBadBytes) {
    fc::Transcoder transcoder;
    std::string out;
    transcoder.decode(Encoding::shift_jis, "a\x95", out); // cut multi-byte character
    EXPECT_EQ(out, "a\xEF\xBF\xBD");
    out.clear();
    transcoder.decode(Encoding::windows_1252, "\x81\x9D", out); // C1 controls in the standard
    EXPECT_EQ(out, "\xC2\x81\xC2\x9D");
    out.clear();
    transcoder.decode(Encoding::replacement, "anything", out);
    EXPECT_EQ(out, "\xEF\xBF\xBD");
}

} // namespace
