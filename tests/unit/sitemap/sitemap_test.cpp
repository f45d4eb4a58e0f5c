// The sitemap reader: urlset, sitemapindex, text, gzip, malformed XML and the protocol's bounds.
#include "crawler/sitemap/sitemap.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;

namespace {

std::string gzip(const std::string& text) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string urlset(std::size_t count) {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    for (std::size_t i = 0; i < count; ++i) {
        xml += "<url><loc>http://h/p" + std::to_string(i) + "</loc></url>\n";
    }
    return xml + "</urlset>\n";
}

} // namespace

TEST(Sitemap, UrlsetLocsInOrder) {
    const auto s = fc::parse_sitemap(
        "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
        "xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">\n"
        "<url><loc> http://h/a </loc><lastmod>2024-01-01</lastmod><priority>0.5</priority>"
        "<image:image><image:loc>http://h/img.png</image:loc></image:image></url>\n"
        "<url><loc>http://h/b</loc></url><url><loc>  </loc></url><url><changefreq/></url>\n"
        "</urlset>");
    EXPECT_EQ(s.kind, fc::SitemapKind::urlset);
    EXPECT_EQ(s.locs, (std::vector<std::string>{"http://h/a", "http://h/b"}));
    EXPECT_TRUE(s.warnings.empty());
}

TEST(Sitemap, WithoutNamespace) {
    const auto s = fc::parse_sitemap("<urlset><url><loc>http://h/a</loc></url></urlset>");
    EXPECT_EQ(s.kind, fc::SitemapKind::urlset);
    EXPECT_EQ(s.locs, std::vector<std::string>{"http://h/a"});
}

TEST(Sitemap, IndexListsSitemaps) {
    const auto s =
        fc::parse_sitemap("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                          "<sitemap><loc>http://h/s1.xml.gz</loc><lastmod>2024</lastmod></sitemap>"
                          "<sitemap><loc>http://h/s2.xml</loc></sitemap>"
                          "<url><loc>http://h/not-in-an-index</loc></url></sitemapindex>");
    EXPECT_EQ(s.kind, fc::SitemapKind::index);
    EXPECT_EQ(s.locs, (std::vector<std::string>{"http://h/s1.xml.gz", "http://h/s2.xml"}));
}

TEST(Sitemap, EntitiesAndCdataInLoc) {
    const auto s =
        fc::parse_sitemap("<urlset><url><loc>http://h/a?x=1&amp;y=2&#38;z=&#x33;</loc></url>"
                          "<url><loc><![CDATA[http://h/b?x=1&y=<2>]]></loc></url></urlset>");
    EXPECT_EQ(s.locs, (std::vector<std::string>{"http://h/a?x=1&y=2&z=3", "http://h/b?x=1&y=<2>"}));
}

TEST(Sitemap, LocsAsWrittenRelativeAndCrossHostIncluded) {
    // The reader keeps what the file says; resolving and scope are the crawl's.
    const auto s = fc::parse_sitemap(
        "<urlset><url><loc>/relative</loc></url><url><loc>http://other/x</loc></url></urlset>");
    EXPECT_EQ(s.locs, (std::vector<std::string>{"/relative", "http://other/x"}));
}

TEST(Sitemap, MalformedXmlKeepsWhatCameBefore) {
    const auto s = fc::parse_sitemap(
        "<urlset>\n<url><loc>http://h/a</loc></url>\n<url><loc>http://h/b</lock></url></urlset>");
    EXPECT_EQ(s.kind, fc::SitemapKind::urlset);
    EXPECT_EQ(s.locs, std::vector<std::string>{"http://h/a"});
    ASSERT_EQ(s.warnings.size(), 1U);
    EXPECT_NE(s.warnings[0].find("malformed XML at line 3"), std::string::npos) << s.warnings[0];
}

TEST(Sitemap, NotASitemap) {
    const auto html = fc::parse_sitemap("<!doctype html><html><body>Not found</body></html>");
    EXPECT_EQ(html.kind, fc::SitemapKind::unknown);
    EXPECT_TRUE(html.locs.empty());
    EXPECT_FALSE(html.warnings.empty());
    const auto rss = fc::parse_sitemap("<rss><channel><link>http://h/</link></channel></rss>");
    EXPECT_EQ(rss.kind, fc::SitemapKind::unknown);
    ASSERT_EQ(rss.warnings.size(), 1U);
    EXPECT_NE(rss.warnings[0].find("<rss>"), std::string::npos);
    EXPECT_FALSE(fc::parse_sitemap("   ").warnings.empty());
}

TEST(Sitemap, EntityDeclarationsRefused) {
    const auto s = fc::parse_sitemap(
        "<?xml version=\"1.0\"?><!DOCTYPE urlset [<!ENTITY a \"http://h/x\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><urlset><url><loc>&b;</loc></url></urlset>");
    EXPECT_TRUE(s.locs.empty());
    ASSERT_EQ(s.warnings.size(), 1U);
    EXPECT_NE(s.warnings[0].find("entity declaration"), std::string::npos);
}

TEST(Sitemap, TextSitemap) {
    const auto s = fc::parse_sitemap("\xEF\xBB\xBFhttp://h/a\r\n\nhttp://h/b\n  http://h/c  ");
    EXPECT_EQ(s.kind, fc::SitemapKind::text);
    EXPECT_EQ(s.locs, (std::vector<std::string>{"http://h/a", "http://h/b", "http://h/c"}));
}

TEST(Sitemap, Gzip) {
    const auto s = fc::parse_sitemap(gzip(urlset(3)));
    EXPECT_EQ(s.kind, fc::SitemapKind::urlset);
    EXPECT_EQ(s.locs, (std::vector<std::string>{"http://h/p0", "http://h/p1", "http://h/p2"}));
    EXPECT_TRUE(s.warnings.empty());
}

TEST(Sitemap, CorruptGzipKeepsWhatInflated) {
    std::string body = gzip(urlset(1000));
    body.resize(body.size() / 2);
    const auto s = fc::parse_sitemap(body);
    EXPECT_GT(s.locs.size(), 0U);
    EXPECT_LT(s.locs.size(), 1000U);
    EXPECT_FALSE(s.warnings.empty());
}

TEST(Sitemap, CutAt50000UrlsWithAWarning) {
    const auto s = fc::parse_sitemap(urlset(60'000));
    ASSERT_EQ(s.locs.size(), 50'000U);
    EXPECT_EQ(s.locs.back(), "http://h/p49999");
    ASSERT_EQ(s.warnings.size(), 1U);
    EXPECT_EQ(s.warnings[0],
              "more than 50000 URLs: the rest ignored (the sitemap protocol's limit)");
    const auto text = fc::parse_sitemap(std::string(60'000 * 2, '\n') + "http://h/a\nhttp://h/b\n",
                                        {1, fc::k_sitemap_max_bytes});
    EXPECT_EQ(text.locs, std::vector<std::string>{"http://h/a"});
    EXPECT_EQ(text.warnings.size(), 1U);
}

TEST(Sitemap, CutAtTheUncompressedSizeLimit) {
    // 50 MiB of a real sitemap would slow the suite: the same rule at 4 KiB.
    const fc::SitemapLimits limits{fc::k_sitemap_max_urls, 4096};
    const std::string xml = urlset(1000);
    for (const std::string& body : {xml, gzip(xml)}) {
        const auto s = fc::parse_sitemap(body, limits);
        EXPECT_GT(s.locs.size(), 50U);
        EXPECT_LT(s.locs.size(), 200U);
        ASSERT_FALSE(s.warnings.empty());
        EXPECT_EQ(s.warnings.back(), "larger than 4096 bytes uncompressed: read up to that size "
                                     "(the sitemap protocol's limit)");
    }
    // A gzip bomb inflates no further than the limit.
    const auto bomb = fc::parse_sitemap(gzip("<urlset>" + std::string(8 * 1024 * 1024, ' ')),
                                        {fc::k_sitemap_max_urls, 1024 * 1024});
    EXPECT_EQ(
        bomb.warnings.back(),
        "larger than 1 MiB uncompressed: read up to that size (the sitemap protocol's limit)");
}

TEST(Sitemap, TheProtocolsLimits) {
    EXPECT_EQ(fc::k_sitemap_max_urls, 50'000U);
    EXPECT_EQ(fc::k_sitemap_max_bytes, 52'428'800U);
}
