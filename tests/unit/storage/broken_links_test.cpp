// storage/links.hpp: the broken links of a crawl, from rows written by the real Writer into a
// real SQLite file.
#include "stats_fixture.hpp"

#include "storage/links.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flagcrawl {
namespace {

using testing_support::begin_crawl_run;
using testing_support::Failure;
using testing_support::page;
using testing_support::TempDir;

storage::LinkRow link(std::string to, std::string kind = "anchor") {
    return {std::move(to), std::move(kind), false};
}

const Failure k_404{"http_status", "HTTP 404 Not Found"};

storage::BrokenLinksOptions target_failures() {
    storage::BrokenLinksOptions options;
    options.kinds = {"http_status", "connect", "dns", "timeout", "redirect_loop"};
    return options;
}

std::vector<storage::BrokenLink> broken(const std::string& db, std::int64_t crawl,
                                        storage::BrokenLinksOptions options = target_failures()) {
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().message);
    std::vector<storage::BrokenLink> out;
    auto totals = storage::for_each_broken_link(*reader, crawl, options,
                                                [&](const storage::BrokenLink& link) {
                                                    out.push_back(link);
                                                    return true;
                                                });
    EXPECT_TRUE(totals) << (totals ? "" : totals.error().message);
    if (totals) {
        EXPECT_EQ(totals->links, out.size());
    }
    return out;
}

class BrokenLinks : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = storage::Writer::open(m_db);
        ASSERT_TRUE(opened) << opened.error().message;
        m_writer.emplace(std::move(*opened));
    }
    std::int64_t crawl() {
        const std::int64_t run = begin_crawl_run(*m_writer);
        m_crawl = run;
        m_run = run;
        return run;
    }
    void add(storage::PageRecord record) { ASSERT_TRUE(m_writer->submit(std::move(record))); }
    storage::PageRecord row(const std::string& url, std::optional<int> status, int depth,
                            std::optional<Failure> failure = std::nullopt) {
        return page(m_crawl, m_run, ++m_seq, url, status, depth, 10, 10, std::move(failure));
    }
    void close() { ASSERT_TRUE(m_writer->close()); }

    TempDir m_dir{"broken-links"};
    std::string m_db = m_dir.file("links.db");
    std::optional<storage::Writer> m_writer;
    std::int64_t m_crawl = 0;
    std::int64_t m_run = 0;
    std::int64_t m_seq = 0;
};

TEST_F(BrokenLinks, EachFailingTargetOnceWithEveryReferrerAndHowItIsLinked) {
    const std::int64_t id = crawl();
    auto index = row("http://a.test/", 200, 0);
    index.links = {link("http://a.test/a.html"),           link("http://a.test/b.html"),
                   link("http://a.test/img.gif", "image"), link("http://a.test/r.html"),
                   link("http://a.test/private.html"),     link("http://a.test/big.iso")};
    add(std::move(index));
    auto b = row("http://a.test/b.html", 200, 1);
    b.links = {link("http://a.test/a.html"), link("http://a.test/r.html"),
               link("http://a.test/a.html", "frame")};
    add(std::move(b));
    add(row("http://a.test/a.html", 404, 1, k_404));
    add(row("http://a.test/img.gif", 500, 1, Failure{"http_status", "HTTP 500"}));
    auto r = row("http://a.test/r.html", 301, 1);
    r.location = "http://a.test/gone.html#top";
    add(std::move(r));
    add(row("http://a.test/gone.html", 404, 1, k_404));
    // Not broken: refused by robots.txt, over our own size limit.
    add(row("http://a.test/private.html", std::nullopt, 1, Failure{"robots", "disallowed"}));
    add(row("http://a.test/big.iso", std::nullopt, 1, Failure{"too_large", "body larger"}));
    // A seed that failed: no referrer.
    add(row("http://down.test/", std::nullopt, 0,
            Failure{"connect", "connection refused (down.test:80)"}));
    close();

    const auto links = broken(m_db, id);
    ASSERT_EQ(links.size(), 4u);
    EXPECT_EQ(links[0].url, "http://a.test/a.html");
    EXPECT_EQ(links[0].http_status, 404);
    EXPECT_EQ(links[0].error_kind, "http_status");
    EXPECT_EQ(links[0].reason, "HTTP 404 Not Found");
    EXPECT_EQ(links[0].referrers,
              (std::vector<std::string>{"http://a.test/", "http://a.test/b.html"}));
    EXPECT_EQ(links[0].referrer_count, 2u);
    EXPECT_EQ(links[0].link_count, 3u); // b.html links it twice
    EXPECT_EQ(links[0].link_kinds, (std::vector<std::string>{"anchor", "frame"}));
    EXPECT_FALSE(links[0].redirects_to);
    EXPECT_FALSE(links[0].seed);

    EXPECT_EQ(links[1].url, "http://a.test/img.gif");
    EXPECT_EQ(links[1].http_status, 500);
    EXPECT_EQ(links[1].link_kinds, (std::vector<std::string>{"image"}));
    EXPECT_EQ(links[1].referrers, (std::vector<std::string>{"http://a.test/"}));

    // The link that redirected to a failure is listed, not the failure it reached alone.
    EXPECT_EQ(links[2].url, "http://a.test/r.html");
    EXPECT_EQ(links[2].redirects_to, "http://a.test/gone.html");
    EXPECT_EQ(links[2].redirect_hops, 1);
    EXPECT_EQ(links[2].http_status, 404);
    EXPECT_EQ(links[2].referrer_count, 2u);

    EXPECT_EQ(links[3].url, "http://down.test/");
    EXPECT_FALSE(links[3].http_status);
    EXPECT_EQ(links[3].error_kind, "connect");
    EXPECT_TRUE(links[3].seed);
    EXPECT_EQ(links[3].referrer_count, 0u);
}

TEST_F(BrokenLinks, ChainsOfRedirectsAndTargetsAlsoLinkedDirectly) {
    const std::int64_t id = crawl();
    auto index = row("http://a.test/", 200, 0);
    index.links = {link("http://a.test/one"), link("http://a.test/end")};
    add(std::move(index));
    auto one = row("http://a.test/one", 302, 1);
    one.location = "http://a.test/two";
    add(std::move(one));
    auto two = row("http://a.test/two", 307, 1);
    two.location = "http://a.test/end";
    add(std::move(two));
    add(row("http://a.test/end", 410, 1, Failure{"http_status", "HTTP 410 Gone"}));
    close();

    const auto links = broken(m_db, id);
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0].url, "http://a.test/end"); // linked directly too
    EXPECT_FALSE(links[0].redirects_to);
    EXPECT_EQ(links[1].url, "http://a.test/one");
    EXPECT_EQ(links[1].redirects_to, "http://a.test/end");
    EXPECT_EQ(links[1].redirect_hops, 2);
    EXPECT_EQ(links[1].http_status, 410);
    // "two" is only reached through "one": not listed.
}

// A redirect loop fails the chain's first URL, which keeps its 3xx and Location; the hop in
// between stays a redirect back to it. The loop is listed once, under the URL pages link.
TEST_F(BrokenLinks, ARedirectLoopIsListedUnderItsFirstUrlOnly) {
    const std::int64_t id = crawl();
    auto index = row("http://a.test/", 200, 0);
    index.links = {link("http://a.test/loop")};
    add(std::move(index));
    auto loop = row("http://a.test/loop", 302, 1,
                    Failure{"redirect_loop", "redirect loop: http://a.test/loop again"});
    loop.location = "http://a.test/back";
    add(std::move(loop));
    auto back = row("http://a.test/back", 302, 2);
    back.location = "http://a.test/loop";
    add(std::move(back));
    // A seed that redirects to itself: listed although no page links it.
    auto self = row("http://b.test/", 301, 0,
                    Failure{"redirect_loop", "redirect loop: http://b.test/ again"});
    self.location = "http://b.test/";
    add(std::move(self));
    close();

    const auto links = broken(m_db, id);
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0].url, "http://a.test/loop");
    EXPECT_EQ(links[0].error_kind, "redirect_loop");
    EXPECT_EQ(links[0].http_status, 302);
    EXPECT_EQ(links[0].referrers, (std::vector<std::string>{"http://a.test/"}));
    EXPECT_FALSE(links[0].redirects_to);
    EXPECT_EQ(links[1].url, "http://b.test/");
    EXPECT_TRUE(links[1].seed);
}

TEST_F(BrokenLinks, ReferrersCappedButCountedAndCrawlsKeptApart) {
    const std::int64_t first = crawl();
    for (int i = 0; i < 5; ++i) {
        auto p = row("http://a.test/p" + std::to_string(i), 200, 1);
        p.links = {link("http://a.test/missing")};
        add(std::move(p));
    }
    add(row("http://a.test/missing", 404, 2, k_404));
    const std::int64_t second = crawl();
    auto other = row("http://a.test/q", 200, 0);
    other.links = {link("http://a.test/missing")};
    add(std::move(other));
    close();

    auto options = target_failures();
    options.max_referrers = 2;
    const auto links = broken(m_db, first, options);
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].referrer_count, 5u);
    EXPECT_EQ(links[0].referrers,
              (std::vector<std::string>{"http://a.test/p0", "http://a.test/p1"}));
    // The second crawl links it, but never fetched it: nothing broken there.
    EXPECT_TRUE(broken(m_db, second).empty());
}

TEST_F(BrokenLinks, StopsWhenTheCallbackSaysSo) {
    const std::int64_t id = crawl();
    for (int i = 0; i < 3; ++i) {
        add(row("http://a.test/gone" + std::to_string(i), 404, 0, k_404));
    }
    close();
    auto reader = storage::Reader::open(m_db);
    ASSERT_TRUE(reader);
    int calls = 0;
    auto totals = storage::for_each_broken_link(*reader, id, target_failures(),
                                                [&](const storage::BrokenLink&) {
                                                    ++calls;
                                                    return false;
                                                });
    ASSERT_TRUE(totals);
    EXPECT_EQ(calls, 1);
    // The reader is usable again afterwards (the snapshot was ended).
    EXPECT_EQ(broken(m_db, id).size(), 3u);
    auto again = storage::for_each_broken_link(*reader, id, target_failures(),
                                               [](const storage::BrokenLink&) { return true; });
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->links, 3u);
}

} // namespace
} // namespace flagcrawl
