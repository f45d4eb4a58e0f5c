// The synthetic site: paths, determinism, page sizes, link kinds, and a real crawl over HTTP
// (hrefs extracted from the served HTML, resolved per RFC 3986 here) that must find every page
// and exactly the number of URLs Site::stats() announces.
#include "server/site.hpp"

#include "server/server.hpp"
#include "server_test_client.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <regex>
#include <set>

using namespace flagcrawl::server;
using flagcrawl::server::testing::TestClient;

namespace {

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string input) {
    std::string output;
    while (!input.empty()) {
        if (input.starts_with("../"))
            input.erase(0, 3);
        else if (input.starts_with("./"))
            input.erase(0, 2);
        else if (input.starts_with("/./"))
            input.erase(0, 2);
        else if (input == "/.")
            input = "/";
        else if (input.starts_with("/../") || input == "/..") {
            input = input == "/.." ? "/" : input.substr(3);
            const auto slash = output.rfind('/');
            output.erase(slash == std::string::npos ? 0 : slash);
        } else if (input == "." || input == "..")
            input.clear();
        else {
            const auto next = input.find('/', input.starts_with('/') ? 1 : 0);
            output += input.substr(0, next);
            input.erase(0, next == std::string::npos ? input.size() : next);
        }
    }
    return output;
}

// Resolves `href` against the absolute path `base` of a page on `origin` ("http://h:p"):
// the absolute path and query it names, fragment dropped, or "" when it leaves the origin.
std::string resolve(const std::string& href, const std::string& base, const std::string& origin) {
    std::string ref = href.substr(0, href.find('#'));
    if (ref.empty())
        return base;
    const auto colon = ref.find(':');
    if (colon != std::string::npos && ref.find('/') > colon) { // has a scheme
        if (!ref.starts_with(origin + "/") && ref != origin)
            return "";
        ref = ref.substr(origin.size());
        if (ref.empty())
            ref = "/";
    }
    std::string path = ref.substr(0, ref.find('?'));
    const std::string query = ref.find('?') == std::string::npos ? "" : ref.substr(ref.find('?'));
    if (path.empty()) {
        path = base.substr(0, base.find('?'));
    } else if (!path.starts_with('/')) {
        const std::string base_path = base.substr(0, base.find('?'));
        path = base_path.substr(0, base_path.rfind('/') + 1) + path;
    }
    return remove_dot_segments(path) + query;
}

std::string unescape_amp(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        out.push_back(text[i]);
        if (text.compare(i, 5, "&amp;") == 0)
            i += 4;
    }
    return out;
}

} // namespace

TEST(ServerSite, RemoveDotSegmentsHelper) {
    EXPECT_EQ(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
    EXPECT_EQ(resolve("../x.html?a=1#f", "/s/c/p.html", "http://h:1"), "/s/x.html?a=1");
    EXPECT_EQ(resolve("./", "/s/index.html", "http://h:1"), "/s/");
    EXPECT_EQ(resolve("http://h:1/y", "/s/p", "http://h:1"), "/y");
    EXPECT_EQ(resolve("http://h:2/y", "/s/p", "http://h:1"), "");
    EXPECT_EQ(resolve("mailto:x@y", "/s/p", "http://h:1"), "");
}

TEST(ServerSite, PathsRoundTripAndOnlyCanonicalSpellingsMatch) {
    const Site site({.pages = 500, .seed = 3});
    for (std::uint64_t id = 0; id < 500; ++id)
        EXPECT_EQ(site.page_id(site.page_path(id)), id) << site.page_path(id);
    EXPECT_EQ(site.page_path(0), "/index.html");
    EXPECT_EQ(site.page_path(1), "/sec00/index.html");
    EXPECT_EQ(site.page_path(20), "/sec19/index.html");
    EXPECT_EQ(site.page_path(21), "/sec01/cat01/p000021.html");
    EXPECT_EQ(site.page_id("/"), 0u);
    EXPECT_EQ(site.page_id("/sec07/"), 8u);
    for (const char* bad : {"/sec07", "/sec20/", "/sec7/", "/index.htm", "/sec01/cat01/p21.html",
                            "/sec02/cat01/p000021.html", "/sec01/cat01/p000500.html",
                            "/sec01/cat01/p000021.htm", "/sec00/index.html/", "/x"})
        EXPECT_EQ(site.page_id(bad), std::nullopt) << bad;

    const Site huge({.pages = 1'000'000, .seed = 1});
    EXPECT_EQ(huge.page_id(huge.page_path(999'999)), 999'999u);
    EXPECT_EQ(huge.page_id("/sec19/cat09/p1000000.html"), std::nullopt);
    const Site one({.pages = 1, .seed = 1});
    EXPECT_EQ(one.page_id("/sec00/"), std::nullopt);
    EXPECT_EQ(one.stats().pages_reachable, 1u);
}

TEST(ServerSite, PagesAreDeterministicSizedAndLinked) {
    const Site site({.pages = 2000, .seed = 5});
    const Site other_seed({.pages = 2000, .seed = 6});
    for (std::uint64_t id : {0ull, 1ull, 7ull, 21ull, 150ull, 1999ull}) {
        const std::string html = site.render(id, "127.0.0.1:8080");
        EXPECT_EQ(html, site.render(id, "127.0.0.1:8080"));
        EXPECT_NE(html, other_seed.render(id, "127.0.0.1:8080"));
        EXPECT_GE(html.size(), 6u * 1024) << id;
        EXPECT_LE(html.size(), 24u * 1024) << id;
        const auto hrefs = site.page_hrefs(id, "127.0.0.1:8080");
        EXPECT_GE(hrefs.size(), 20u) << id;
        EXPECT_LE(hrefs.size(), 45u) << id;
        for (const auto& href : hrefs) {
            std::string escaped;
            for (char c : href)
                escaped += c == '&' ? std::string("&amp;") : std::string(1, c);
            EXPECT_NE(html.find("href=\"" + escaped + "\""), std::string::npos) << href;
        }
    }
    // Absolute links carry the host the page was asked for; a hostile Host header is not echoed.
    std::string all;
    for (std::uint64_t id = 0; id < 50; ++id)
        all += site.render(id, "127.0.0.1:8080");
    EXPECT_NE(all.find("http://127.0.0.1:8080/"), std::string::npos);
    EXPECT_NE(all.find("http://127.0.0.2:8080/partner/"), std::string::npos);
    for (const char* kind :
         {"mailto:", "tel:", "javascript:", "?from=nav&amp;v=2", "#", "../", "./"})
        EXPECT_NE(all.find(kind), std::string::npos) << kind;
    EXPECT_EQ(site.render(3, "\"><script>").find("<script>"), std::string::npos);
}

TEST(ServerSite, HttpCrawlFindsEveryPageAndTheAnnouncedUrls) {
    auto site = std::make_shared<const Site>(SiteOptions{.pages = 300, .seed = 11});
    const SiteStats stats = site->stats();
    EXPECT_EQ(stats.pages_total, 300u);
    EXPECT_EQ(stats.pages_reachable, 300u);
    EXPECT_GT(stats.urls_fragment_stripped, 300u);
    EXPECT_LT(stats.urls_query_canonicalised, stats.urls_fragment_stripped);
    EXPECT_GT(stats.offsite_links, 0u);
    EXPECT_GT(stats.special_links, 0u);

    Server server(site_handler(site));
    ASSERT_FALSE(server.start());
    const std::string origin = "http://127.0.0.1:" + std::to_string(server.port());
    TestClient client(server.port());
    const std::regex anchor("<a href=\"([^\"]*)\"");
    std::set<std::string> seen{"/index.html"};
    std::set<std::string> pages;
    std::deque<std::string> queue{"/index.html"};
    std::uint64_t links = 0;
    while (!queue.empty()) {
        const std::string url = queue.front();
        queue.pop_front();
        auto response = client.get(url);
        ASSERT_TRUE(response) << url;
        ASSERT_EQ(response->status, 200) << url;
        EXPECT_EQ(response->header("Content-Type"), "text/html; charset=utf-8");
        const auto id = site->page_id(url.substr(0, url.find('?')));
        ASSERT_TRUE(id) << url;
        pages.insert(site->page_path(*id));
        for (std::sregex_iterator it(response->body.begin(), response->body.end(), anchor), end;
             it != end; ++it) {
            const std::string href = unescape_amp((*it)[1]);
            if (href.empty())
                continue;
            ++links;
            const std::string next = resolve(href, url, origin);
            if (!next.empty() && seen.insert(next).second)
                queue.push_back(next);
        }
    }
    EXPECT_EQ(pages.size(), 300u);
    EXPECT_EQ(seen.size(), stats.urls_fragment_stripped);
    EXPECT_EQ(links, stats.links_seen);
}

TEST(ServerSite, HandlerServesAssetsRedirectsAnd404) {
    auto site = std::make_shared<const Site>(SiteOptions{.pages = 1'000'000, .seed = 1});
    Server server(site_handler(site));
    ASSERT_FALSE(server.start());
    TestClient client(server.port());
    auto robots = client.get("/robots.txt");
    ASSERT_TRUE(robots);
    EXPECT_EQ(robots->body, "User-agent: *\nAllow: /\n");
    auto css = client.get("/static/site.css");
    ASSERT_TRUE(css);
    EXPECT_EQ(css->header("Content-Type"), "text/css; charset=utf-8");
    auto img = client.get("/img/img39.gif");
    ASSERT_TRUE(img);
    EXPECT_EQ(img->status, 200);
    EXPECT_EQ(img->body.substr(0, 6), "GIF89a");
    EXPECT_EQ(client.get("/img/img40.gif")->status, 404);
    auto hub = client.get("/sec03");
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->status, 301);
    EXPECT_EQ(hub->header("Location"), "/sec03/");
    EXPECT_EQ(client.get("/sec03/")->status, 200);
    EXPECT_EQ(client.get(site->page_path(999'999))->status, 200);
    EXPECT_EQ(client.get("/sec00/cat00/p1000000.html")->status, 404);
    EXPECT_EQ(client.get("/partner/p1234.html")->status, 404);
}
