// The crawl tables through the writer and reader: a crawl begun, pages with their links and
// discoveries committed together, frontier state, seen keys, resume bookkeeping, the seen-set
// of schema step 3, and the migration of older files (steps 1, 2, 7, 10, 11, 12 and 13). Real
// SQLite files in a temp folder.
#include "schema_two_file.hpp"
#include "temp_dir.hpp"

#include "storage/export.hpp"
#include "storage/reader.hpp"
#include "storage/schema.hpp"
#include "storage/stats.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

using namespace flagcrawl::storage;
using flagcrawl::testing_support::SchemaTwoCrawl;
using flagcrawl::testing_support::TempDir;
using flagcrawl::testing_support::write_schema_two_file;

namespace {

// Every row `sql` selects, as "col|col|...|" text.
std::vector<std::string> text_rows(Database& db, const std::string& sql) {
    std::vector<std::string> rows;
    Statement statement = db.prepare(sql);
    EXPECT_TRUE(for_each_row(statement, [&](const Statement& row) {
        std::string text;
        for (int c = 0; c < statement.column_count(); ++c) {
            text += row.is_null(c) ? "NULL" : std::string(row.column_text(c));
            text += '|';
        }
        rows.push_back(std::move(text));
        return true;
    }));
    return rows;
}

FrontierRow row(std::int64_t seq, std::uint64_t hash, int depth) {
    return FrontierRow{seq, hash, "http://h/" + std::to_string(seq), depth, 0, false};
}

std::int64_t begin_crawl(Writer& writer) {
    auto run = writer.begin_run({.command = "crawl",
                                 .arguments = "crawl http://h/",
                                 .strategy = "async",
                                 .concurrency = 4});
    EXPECT_TRUE(run);
    CrawlBeginRecord begin;
    begin.crawl_id = *run;
    begin.run_id = *run;
    begin.seeds = R"(["http://h/"])";
    begin.options = R"({"scope":"host"})";
    // A hash with the top bit set must survive the signed INTEGER column.
    begin.frontier.push_back(row(1, 0xfedcba9876543210ULL, 0));
    EXPECT_TRUE(writer.submit(std::move(begin)));
    return *run;
}

// The run and the crawl it starts are one transaction: once begin_run() returned, a reader sees
// the crawls row (named after the run), its crawl_runs row and its seed frontier rows, so that a
// process killed right after never leaves a run without its crawl. A resume's begin stores the
// options it runs under.
TEST(CrawlStore, ARunBeginsWithItsCrawl) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    CrawlBeginRecord begin;
    begin.seeds = R"(["http://h/"])";
    begin.options = R"({"delay_s":1})";
    begin.frontier.push_back(row(1, 42, 0));
    auto run = writer->begin_run(
        {.command = "crawl", .arguments = "x", .strategy = "async", .concurrency = 1}, begin);
    ASSERT_TRUE(run);
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto crawl = reader->find_crawl(*run);
    ASSERT_TRUE(crawl && *crawl) << "no crawls row committed with the run";
    EXPECT_EQ((*crawl)->options, R"({"delay_s":1})");
    EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM crawl_runs WHERE crawl_id = " +
                                            std::to_string(*run)),
              1);
    auto progress = reader->crawl_progress(*run);
    ASSERT_TRUE(progress);
    EXPECT_EQ(progress->queued, 1u);

    CrawlBeginRecord resume;
    resume.is_new = false;
    resume.crawl_id = *run;
    resume.options = R"({"delay_s":0.5})";
    auto second = writer->begin_run(
        {.command = "crawl", .arguments = "y", .strategy = "async", .concurrency = 1}, resume);
    ASSERT_TRUE(second);
    crawl = reader->find_crawl(*run);
    ASSERT_TRUE(crawl && *crawl);
    EXPECT_EQ((*crawl)->options, R"({"delay_s":0.5})");
    EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM crawl_runs WHERE crawl_id = " +
                                            std::to_string(*run)),
              2);
    ASSERT_TRUE(writer->close());
}

TEST(CrawlStore, PageLinksAndDiscoveriesLandTogether) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);

    PageRecord page;
    page.crawl_id = crawl;
    page.run_id = crawl;
    page.seq = 1;
    page.url = "http://h/1";
    page.final_url = page.url;
    page.http_status = 200;
    page.content_type = "text/html";
    page.bytes = 42;
    page.title = "Home";
    page.body = std::string("a\0b", 3);
    page.links = {{"http://h/2", "anchor", false}, {"http://x/", "anchor", true}};
    page.discovered = {row(2, 2, 1), row(3, 3, 1)};
    ASSERT_TRUE(writer->submit(std::move(page)));

    PageRecord robots;
    robots.crawl_id = crawl;
    robots.run_id = crawl;
    robots.kind = PageKind::robots;
    robots.url = "http://h/robots.txt";
    robots.http_status = 404;
    robots.bytes = 9;
    ASSERT_TRUE(writer->submit(std::move(robots)));
    ASSERT_TRUE(writer->submit(CrawlEndRecord{crawl, CrawlStatus::stopped, "--max-pages 1"}));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto found = reader->latest_resumable_crawl();
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, crawl);
    EXPECT_EQ((*found)->status, CrawlStatus::stopped);
    EXPECT_EQ((*found)->stop_reason, "--max-pages 1");
    EXPECT_EQ((*found)->options, R"({"scope":"host"})");

    auto progress = reader->crawl_progress(crawl);
    ASSERT_TRUE(progress);
    EXPECT_EQ(progress->pages, 1u); // robots.txt is not a page
    EXPECT_EQ(progress->bytes, 42u);
    EXPECT_EQ(progress->max_seq, 3);
    EXPECT_EQ(progress->queued, 2u);

    std::vector<std::int64_t> queued;
    ASSERT_TRUE(reader->for_each_frontier(crawl, 0, 0, true, [&](const FrontierRow& r) {
        queued.push_back(r.seq);
        EXPECT_EQ(r.depth, 1);
        return true;
    }));
    EXPECT_EQ(queued, (std::vector<std::int64_t>{2, 3}));
    std::vector<std::int64_t> after2;
    ASSERT_TRUE(reader->for_each_frontier(crawl, 2, 5, false, [&](const FrontierRow& r) {
        after2.push_back(r.seq);
        return true;
    }));
    EXPECT_EQ(after2, (std::vector<std::int64_t>{3}));

    std::set<std::uint64_t> keys;
    ASSERT_TRUE(reader->for_each_seen_key(crawl, [&](std::uint64_t k) { keys.insert(k); }));
    EXPECT_EQ(keys, (std::set<std::uint64_t>{0xfedcba9876543210ULL, 2, 3}));

    auto links = reader->database().query_int(
        "SELECT count(*) FROM links JOIN pages ON pages.id = links.page_id "
        "WHERE pages.url = 'http://h/1' AND (n = 1) = nofollow");
    ASSERT_TRUE(links);
    EXPECT_EQ(*links, 2);
    auto body = reader->database().query_int(
        "SELECT length(body) FROM pages WHERE kind = 'page' AND typeof(body) = 'blob'");
    ASSERT_TRUE(body);
    EXPECT_EQ(*body, 3);
}

// A redirect target's chain (the keys of the URLs that led to it) reads back as written, for a
// chain short enough for the string's inline buffer and one long enough to live on the heap: the
// writer binds the bytes without a copy, so they must outlive the statement's step.
TEST(CrawlStore, RedirectChainKeysReadBackAsWritten) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);

    const std::vector<std::uint64_t> short_chain{0x0102030405060708ULL};
    const std::vector<std::uint64_t> long_chain{0x1111111111111111ULL, 0xfedcba9876543210ULL,
                                                0x0a0b0c0d0e0f1011ULL, 0x2222222222222222ULL};
    PageRecord page;
    page.crawl_id = crawl;
    page.run_id = crawl;
    page.seq = 1;
    page.url = "http://h/1";
    page.final_url = page.url;
    page.http_status = 301;
    FrontierRow one = row(2, 2, 1);
    one.chain_seq = 1;
    one.chain = short_chain;
    FrontierRow four = row(3, 3, 1);
    four.chain_seq = 1;
    four.chain = long_chain;
    page.discovered = {one, four};
    ASSERT_TRUE(writer->submit(std::move(page)));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::map<std::int64_t, std::vector<std::uint64_t>> chains;
    ASSERT_TRUE(reader->for_each_frontier(crawl, 1, 0, false, [&](const FrontierRow& r) {
        chains[r.seq] = r.chain;
        return true;
    }));
    EXPECT_EQ(chains[2], short_chain);
    EXPECT_EQ(chains[3], long_chain);
}

// A page's new URLs go in by statements of several rows: every column of every row reads back
// as written, whatever the row's place in its statement (37 rows: two full statements and a
// partial one), the referrer's URL too when referrers alternate, and a row whose seq is taken
// fails the writer with none of the page's rows kept.
TEST(CrawlStore, ManyDiscoveriesOfAPageReadBackAsWritten) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    std::vector<FrontierRow> rows;
    for (std::int64_t seq = 2; seq < 39; ++seq) {
        FrontierRow r = row(seq, 0x8000000000000000ULL + static_cast<std::uint64_t>(seq),
                            static_cast<int>(seq % 3) + 1);
        r.redirects = static_cast<int>(seq % 2);
        r.requisite = seq % 5 == 0;
        r.sitemap = static_cast<int>(seq % 4);
        r.external = seq % 7 == 0;
        r.from_seq = seq % 6 == 0 ? 0 : 1 + seq % 2; // none, or rows 1 and 2 in turn
        if (seq % 3 == 0) {
            r.chain_seq = 1;
            r.chain = {static_cast<std::uint64_t>(seq), 0xfedcba9876543210ULL};
        }
        rows.push_back(r);
    }
    std::int64_t crawl = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        crawl = begin_crawl(*writer);
        PageRecord page;
        page.crawl_id = crawl;
        page.run_id = crawl;
        page.seq = 1;
        page.url = "http://h/1";
        page.http_status = 200;
        page.discovered = rows;
        ASSERT_TRUE(writer->submit(std::move(page)));
        ASSERT_TRUE(writer->close());

        auto reader = Reader::open(path);
        ASSERT_TRUE(reader);
        std::vector<FrontierRow> read;
        ASSERT_TRUE(reader->for_each_frontier(crawl, 1, 0, false, [&](const FrontierRow& r) {
            read.push_back(r);
            return true;
        }));
        ASSERT_EQ(read.size(), rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            SCOPED_TRACE(rows[i].seq);
            EXPECT_EQ(read[i].seq, rows[i].seq);
            EXPECT_EQ(read[i].key_hash, rows[i].key_hash);
            EXPECT_EQ(read[i].url, rows[i].url);
            EXPECT_EQ(read[i].depth, rows[i].depth);
            EXPECT_EQ(read[i].redirects, rows[i].redirects);
            EXPECT_EQ(read[i].requisite, rows[i].requisite);
            EXPECT_EQ(read[i].sitemap, rows[i].sitemap);
            EXPECT_EQ(read[i].external, rows[i].external);
            EXPECT_EQ(read[i].from_seq, rows[i].from_seq);
            EXPECT_EQ(read[i].from_url,
                      rows[i].from_seq == 0 ? "" : "http://h/" + std::to_string(rows[i].from_seq));
            EXPECT_EQ(read[i].chain_seq, rows[i].chain_seq);
            EXPECT_EQ(read[i].chain, rows[i].chain);
        }
    }
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    PageRecord again;
    again.crawl_id = crawl;
    again.run_id = crawl;
    again.url = "http://h/2";
    again.http_status = 200;
    for (std::int64_t seq = 100; seq < 120; ++seq) {
        again.discovered.push_back(row(seq, static_cast<std::uint64_t>(seq), 1));
    }
    again.discovered[17].seq = 20; // taken above
    (void)writer->submit(std::move(again));
    EXPECT_FALSE(writer->close()) << "a frontier seq written twice must fail the writer";
    EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM frontier WHERE seq >= 100"), 0);
}

// Frontier rows wait to be inserted with those of later records of the transaction: a URL
// found and fetched in one transaction is recorded done, whether its row is the last of a
// statement or still waiting, and every row is there once the batch commits.
TEST(CrawlStore, AUrlFoundAndFetchedInOneTransactionIsDone) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path, WriterOptions{.batch_delay = std::chrono::hours(1)});
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    const auto page = [&](std::int64_t seq, std::int64_t first, std::int64_t count) {
        PageRecord p;
        p.crawl_id = crawl;
        p.run_id = crawl;
        p.seq = seq;
        p.url = "http://h/" + std::to_string(seq);
        p.http_status = 200;
        for (std::int64_t s = first; s < first + count; ++s) {
            p.discovered.push_back(row(s, static_cast<std::uint64_t>(s), 1));
        }
        return p;
    };
    ASSERT_TRUE(writer->submit(page(1, 2, 3)));  // 2..4, held back
    ASSERT_TRUE(writer->submit(page(3, 5, 20))); // 5..24: 2..17 inserted, 18..24 held
    ASSERT_TRUE(writer->submit(page(2, 25, 1)));
    ASSERT_TRUE(writer->submit(page(20, 26, 0)));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<std::int64_t> queued;
    ASSERT_TRUE(reader->for_each_frontier(crawl, 0, 0, true, [&](const FrontierRow& r) {
        queued.push_back(r.seq);
        return true;
    }));
    std::vector<std::int64_t> expected;
    for (std::int64_t s = 4; s <= 25; ++s) {
        if (s != 20) {
            expected.push_back(s);
        }
    }
    EXPECT_EQ(queued, expected);
    EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM frontier"), 25);
}

// A page's links share one string: each link reads back its own URL, kind and nofollow after
// the string has grown past what was reserved, empty URLs and kinds included.
TEST(LinkList, EachLinkReadsBackAsAddedWhileTheTextGrows) {
    LinkList links;
    links.reserve(2, 8);
    std::vector<std::string> urls;
    for (std::size_t n = 0; n < 50; ++n) {
        urls.push_back(n % 7 == 0 ? std::string() : "http://h.test/" + std::string(n, 'x'));
        links.push_back(urls.back(), n % 2 == 0 ? "anchor" : "", n % 3 == 0);
    }
    ASSERT_EQ(links.size(), urls.size());
    for (std::size_t n = 0; n < urls.size(); ++n) {
        EXPECT_EQ(links[n].to_url, urls[n]) << n;
        EXPECT_EQ(links[n].kind, n % 2 == 0 ? "anchor" : "") << n;
        EXPECT_EQ(links[n].nofollow, n % 3 == 0) << n;
    }
    const LinkList listed = {{"http://a.test/", "image", true},
                             {"http://b.test/", "anchor", false}};
    ASSERT_EQ(listed.size(), 2U);
    EXPECT_EQ(listed[1].to_url, "http://b.test/");
    EXPECT_EQ(listed[0].kind, "image");
    EXPECT_TRUE(listed[0].nofollow);
    EXPECT_TRUE(LinkList().empty());
}

// The writer inserts a page's links in multi-row statements of 16, 4 and 1 rows: every count
// around those sizes must keep every link, in order, with its own kind and nofollow.
TEST(CrawlStore, EveryLinkOfAPageInDocumentOrder) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    const std::vector<std::size_t> counts = {0, 1, 3, 4, 5, 15, 16, 17, 20, 21, 37, 100};
    for (std::size_t i = 0; i < counts.size(); ++i) {
        PageRecord page;
        page.crawl_id = crawl;
        page.run_id = crawl;
        page.url = "http://h/p" + std::to_string(i);
        for (std::size_t n = 0; n < counts[i]; ++n) {
            page.links.push_back(page.url + "/l" + std::to_string(n),
                                 n % 3 == 0 ? "anchor" : "image", n % 5 == 0);
        }
        ASSERT_TRUE(writer->submit(std::move(page)));
    }
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        const std::string url = "http://h/p" + std::to_string(i);
        auto statement = reader->database().prepare("SELECT n, to_url, links.kind, nofollow FROM "
                                                    "links JOIN pages ON pages.id = links.page_id "
                                                    "WHERE pages.url = ? ORDER BY n");
        statement.bind(1, url);
        std::size_t n = 0;
        ASSERT_TRUE(for_each_row(statement, [&](const Statement& r) {
            EXPECT_EQ(r.column_int64(0), static_cast<std::int64_t>(n));
            EXPECT_EQ(r.column_text(1), url + "/l" + std::to_string(n));
            EXPECT_EQ(r.column_text(2), n % 3 == 0 ? "anchor" : "image");
            EXPECT_EQ(r.column_int64(3), n % 5 == 0 ? 1 : 0);
            ++n;
            return true;
        }));
        EXPECT_EQ(n, counts[i]) << url;
    }
}

// page_links holds each page's links as JSON text, byte for byte as a plain escaper writes it:
// pages whose URLs and kinds need no escape (the writer's fast path) and pages where one byte of
// one link does (quotes, backslashes, control bytes; bytes >= 0x80, U+2028 and invalid UTF-8 pass
// as they are).
TEST(CrawlStore, LinksJsonIsExactWithAndWithoutEscapes) {
    const auto reference = [](const std::vector<LinkRow>& rows) {
        const auto quoted = [](std::string_view text) {
            std::string out = "\"";
            for (const char c : text) {
                const auto u = static_cast<unsigned char>(c);
                if (c == '"' || c == '\\') {
                    out += '\\';
                    out += c;
                } else if (c == '\n') {
                    out += "\\n";
                } else if (c == '\r') {
                    out += "\\r";
                } else if (c == '\t') {
                    out += "\\t";
                } else if (c == '\b') {
                    out += "\\b";
                } else if (c == '\f') {
                    out += "\\f";
                } else if (u < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", u);
                    out += buf;
                } else {
                    out += c;
                }
            }
            return out + '"';
        };
        std::string out = "[";
        for (const LinkRow& row : rows) {
            out += (out.size() > 1 ? ",[" : "[") + quoted(row.to_url) + ',' + quoted(row.kind) +
                   (row.nofollow ? ",1]" : ",0]");
        }
        return out + ']';
    };
    const std::vector<std::vector<LinkRow>> pages = {
        {{"http://h/a", "anchor", false}},
        {{"http://h/a", "anchor", false}, {"http://h/b?x=1&y=%22", "image", true}, {"", "", false}},
        {{"http://h/caf\xC3\xA9/\xE2\x80\xA8\xE2\x80\xA9/\xC3\x28/\x7f/\xff", "anchor", true}},
        {{"http://h/a", "anchor", false}, {"http://h/q\"uote", "anchor", false}},
        {{"http://h/back\\slash", "image", false}, {"http://h/b", "anchor", true}},
        {{std::string("http://h/\x01\x1f\0\n\t\r\b\f", 17), "anchor", false}},
        {{"http://h/a", "kind\"", true}},
        {{std::string(40, 'x'), std::string(17, 'y'), false},
         {std::string(39, 'x') + '"', "anchor", false}},
    };
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    for (std::size_t i = 0; i < pages.size(); ++i) {
        PageRecord page;
        page.crawl_id = crawl;
        page.run_id = crawl;
        page.url = "http://h/p" + std::to_string(i);
        for (const LinkRow& row : pages[i]) {
            page.links.push_back(row.to_url, row.kind, row.nofollow);
        }
        ASSERT_TRUE(writer->submit(std::move(page)));
    }
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    for (std::size_t i = 0; i < pages.size(); ++i) {
        auto statement = reader->database().prepare(
            "SELECT page_links.links FROM page_links JOIN pages ON pages.id = page_links.page_id "
            "WHERE pages.url = ?");
        statement.bind(1, "http://h/p" + std::to_string(i));
        std::size_t rows = 0;
        ASSERT_TRUE(for_each_row(statement, [&](const Statement& r) {
            EXPECT_EQ(r.column_text(0), reference(pages[i])) << i;
            ++rows;
            return true;
        }));
        EXPECT_EQ(rows, 1u) << i;
    }
}

// The crawl opens its writer with wake_records 16: while a batch is open, the writer takes
// records as soon as that many are queued (so few wait in memory), and still commits them in
// one transaction.
TEST(CrawlStore, WriterTakesRecordsByWakeRecordsAndStillBatches) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    WriterOptions options;
    options.wake_records = 4;
    options.batch_delay = std::chrono::hours(1);
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 4; ++i) {
            PageRecord page;
            page.crawl_id = crawl;
            page.run_id = crawl;
            page.url = "http://h/p" + std::to_string(round * 4 + i);
            page.links = {{page.url + "/a", "anchor", false}};
            ASSERT_TRUE(writer->submit(std::move(page)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Four at a time (a few more if the writer was slow to wake); with the default (256) the
    // records submitted after the first wakeup, 36 or more, would all have waited queued.
    EXPECT_LT(writer->stats().peak_queued, 20u);
    EXPECT_EQ(writer->stats().committed, 0u); // one open batch: the deadline is an hour away
    ASSERT_TRUE(writer->close());
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto links = reader->database().query_int("SELECT count(*) FROM links");
    ASSERT_TRUE(links);
    EXPECT_EQ(*links, 40);
}

TEST(CrawlStore, ResumeAddsARunToTheCrawl) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    std::int64_t crawl = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        crawl = begin_crawl(*writer);
        ASSERT_TRUE(writer->close());
    }
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run({.command = "crawl",
                                  .arguments = "crawl --resume",
                                  .strategy = "threaded",
                                  .concurrency = 2});
    ASSERT_TRUE(run);
    CrawlBeginRecord resume;
    resume.crawl_id = crawl;
    resume.run_id = *run;
    resume.is_new = false;
    ASSERT_TRUE(writer->submit(std::move(resume)));
    ASSERT_TRUE(writer->submit(CrawlEndRecord{crawl, CrawlStatus::finished, "frontier exhausted"}));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto runs = reader->database().query_int("SELECT count(*) FROM crawl_runs WHERE crawl_id = " +
                                             std::to_string(crawl));
    ASSERT_TRUE(runs);
    EXPECT_EQ(*runs, 2);
    auto resumable = reader->latest_resumable_crawl();
    ASSERT_TRUE(resumable);
    EXPECT_FALSE(*resumable); // finished
}

// A run that never recorded its end and whose owner says nothing against it (here: this very
// process, which settle_dead_runs sees alive; in a file of an older build: no owner) stays
// 'running' until a resume of its crawl takes it for dead and marks it killed; the resuming run
// is left running.
TEST(CrawlStore, AResumeMarksTheCrawlsDeadRunsKilled) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    std::int64_t crawl = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        crawl = begin_crawl(*writer);
        ASSERT_TRUE(writer->close()); // no finish_run: the process died
    }
    std::int64_t other = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        other = begin_crawl(*writer); // another crawl's run, still running
        ASSERT_TRUE(writer->close());
    }
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    CrawlBeginRecord resume;
    resume.is_new = false;
    resume.crawl_id = crawl;
    auto run = writer->begin_run(
        {.command = "crawl", .arguments = "y", .strategy = "async", .concurrency = 1}, resume);
    ASSERT_TRUE(run);
    ASSERT_TRUE(writer->close());
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto status = [&](std::int64_t id) {
        std::string text;
        auto statement = reader->database().prepare("SELECT status FROM runs WHERE id = ?");
        statement.bind(1, id);
        EXPECT_TRUE(for_each_row(statement, [&](const Statement& row) {
            text = row.column_text(0);
            return false;
        }));
        return text;
    };
    EXPECT_EQ(status(crawl), "killed");
    EXPECT_EQ(status(*run), "running");
    EXPECT_EQ(status(other), "running"); // not this crawl's
}

TEST(CrawlStore, ResumingAnUnknownCrawlFailsTheWriter) {
    TempDir dir("crawlstore");
    auto writer = Writer::open(dir.file("c.db"));
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(
        {.command = "crawl", .arguments = "", .strategy = "async", .concurrency = 1});
    ASSERT_TRUE(run);
    CrawlBeginRecord resume;
    resume.crawl_id = 777;
    resume.run_id = *run;
    resume.is_new = false;
    ASSERT_TRUE(writer->submit(std::move(resume)));
    auto flushed = writer->flush();
    ASSERT_FALSE(flushed);
    EXPECT_NE(flushed.error().message.find("no crawl with id 777"), std::string::npos);
}

TEST(CrawlStore, SchemaOneFileIsMigrated) {
    TempDir dir("crawlstore");
    const auto path = dir.file("old.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        // What a build with only step 1 left behind: the downloads schema at user_version 1.
        ASSERT_TRUE(db->exec("PRAGMA application_id = 1179403090; PRAGMA user_version = 1;"
                             "CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, "
                             "arguments TEXT NOT NULL, strategy TEXT NOT NULL, concurrency "
                             "INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, "
                             "status TEXT NOT NULL, ok INTEGER NOT NULL DEFAULT 0, not_found "
                             "INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0, "
                             "bytes INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL "
                             "DEFAULT 0);"
                             "CREATE TABLE downloads (id INTEGER PRIMARY KEY, run_id INTEGER, "
                             "url TEXT, final_url TEXT, http_status INTEGER, bytes INTEGER, "
                             "path TEXT, sha256 TEXT, elapsed_ms REAL, attempts INTEGER, error "
                             "TEXT, dns_ms REAL, connect_ms REAL, ttfb_ms REAL, fetched_at "
                             "TEXT);"));
        ASSERT_TRUE(db->close());
    }
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    begin_crawl(*writer);
    ASSERT_TRUE(writer->close());
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->schema_version(), schema_version());
    EXPECT_GE(schema_version(), 2);
}

// The crawl's seen-set as its latest run left it: each end record overwrites the previous one's,
// and an end record that measured nothing keeps them.
TEST(CrawlStore, EndRecordKeepsTheNewestSeenSet) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    const auto seen_set = [&] {
        EXPECT_TRUE(writer->flush());
        auto reader = Reader::open(path);
        EXPECT_TRUE(reader);
        auto statement = reader->database().prepare(
            "SELECT coalesce(seen_urls, -1), coalesce(seen_bytes, -1) FROM crawls WHERE id = ?");
        statement.bind(1, crawl);
        std::pair<std::int64_t, std::int64_t> values{0, 0};
        EXPECT_TRUE(for_each_row(statement, [&](const Statement& row) {
            values = {row.column_int64(0), row.column_int64(1)};
            return false;
        }));
        return values;
    };
    EXPECT_EQ(seen_set(), std::make_pair(std::int64_t{-1}, std::int64_t{-1})); // not ended yet
    ASSERT_TRUE(
        writer->submit(CrawlEndRecord{crawl, CrawlStatus::interrupted, "interrupted", 3, 64}));
    EXPECT_EQ(seen_set(), std::make_pair(std::int64_t{3}, std::int64_t{64}));
    ASSERT_TRUE(writer->submit(CrawlEndRecord{crawl, CrawlStatus::stopped, "limit", 900, 16384}));
    EXPECT_EQ(seen_set(), std::make_pair(std::int64_t{900}, std::int64_t{16384}));
    ASSERT_TRUE(writer->submit(CrawlEndRecord{crawl, CrawlStatus::failed, "store failed"}));
    EXPECT_EQ(seen_set(), std::make_pair(std::int64_t{900}, std::int64_t{16384}));
    ASSERT_TRUE(writer->close());
}

// Resumes the crawl of write_schema_two_file() in a new run of `writer`: the run's id (0 if
// it could not begin).
std::int64_t resume_schema_two_crawl(Writer& writer) {
    auto run = writer.begin_run(
        {.command = "crawl", .arguments = "crawl --resume", .strategy = "async", .concurrency = 1});
    EXPECT_TRUE(run);
    if (!run) {
        return 0;
    }
    CrawlBeginRecord resume;
    resume.crawl_id = SchemaTwoCrawl::crawl_id;
    resume.run_id = *run;
    resume.is_new = false;
    EXPECT_TRUE(writer.submit(std::move(resume)));
    return *run;
}

// A file a schema-2 build wrote: the writer adds step 3's columns, keeps every row (NULL in the
// new columns), and a resumed run of the old crawl records its timings and seen-set.
TEST(CrawlStore, SchemaTwoFileIsMigratedKeepingItsRows) {
    TempDir dir("crawlstore");
    const auto path = dir.file("v2.db");
    write_schema_two_file(path);
    // The schema-2 rows (the resumed run below adds its own and ends the crawl again).
    const auto rows_of = [](Database& db) {
        std::vector<std::string> rows;
        for (const char* sql :
             {"SELECT id, command, arguments, strategy, concurrency, started_at, finished_at, "
              "status, ok, not_found, errors, bytes, requests FROM runs WHERE id = 1",
              "SELECT id, seeds, options FROM crawls ORDER BY id",
              "SELECT * FROM crawl_runs WHERE run_id = 1",
              "SELECT id, crawl_id, run_id, seq, kind, url, final_url, http_status, content_type, "
              "bytes, title, depth, location, noindex, fetched_at, elapsed_ms, attempts, error, "
              "body FROM pages WHERE run_id = 1 ORDER BY id",
              "SELECT * FROM links",
              "SELECT crawl_id, seq, key_hash, url, depth, redirects, requisite, state "
              "FROM frontier"}) {
            const auto more = text_rows(db, sql);
            rows.insert(rows.end(), more.begin(), more.end());
        }
        return rows;
    };
    std::vector<std::string> before;
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        before = rows_of(*db);
    }
    ASSERT_EQ(before.size(), 1u + 1 + 1 + SchemaTwoCrawl::rows + 1 + 2);

    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    const std::int64_t run = resume_schema_two_crawl(*writer);
    ASSERT_NE(run, 0);
    PageRecord again;
    again.crawl_id = SchemaTwoCrawl::crawl_id;
    again.run_id = run;
    again.url = "http://a.test/robots.txt";
    again.kind = PageKind::robots;
    again.http_status = 200;
    again.ttfb_ms = 2.5;
    ASSERT_TRUE(writer->submit(std::move(again)));
    ASSERT_TRUE(writer->submit(
        CrawlEndRecord{SchemaTwoCrawl::crawl_id, CrawlStatus::finished, "finished", 2, 256}));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->schema_version(), schema_version());
    EXPECT_GE(schema_version(), k_error_kind_version);
    Database& db = reader->database();
    EXPECT_EQ(rows_of(db), before);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM pages WHERE ttfb_ms IS NULL AND dns_ms IS NULL "
                            "AND connect_ms IS NULL"),
              SchemaTwoCrawl::rows);
    EXPECT_EQ(*db.query_int("SELECT ttfb_ms * 10 FROM pages WHERE run_id = " + std::to_string(run)),
              25);
    EXPECT_EQ(*db.query_int("SELECT seen_urls * 1000 + seen_bytes FROM crawls"), 2256);
    // Step 4 gave the failed page of step 2 the kind its error text says.
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM pages WHERE error_kind = 'http_status'"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM pages WHERE (error IS NULL) != "
                            "(error_kind IS NULL)"),
              0);
    ASSERT_TRUE(reader->close());

    // A file is never taken back to an older schema.
    auto writable = Database::open(path);
    ASSERT_TRUE(writable);
    auto back = migrate(*writable, 2);
    ASSERT_FALSE(back);
    EXPECT_NE(
        back.error().message.find("already at schema version " + std::to_string(schema_version())),
        std::string::npos);
    EXPECT_THROW((void)migrate(*writable, 0), std::invalid_argument);
}

// The step that packs each page's links into one row: a file at the step before, with the links
// of several pages (stored out of order, nofollow, text JSON must escape), is migrated by the
// writer; the view `links` then returns every row as the table held it, with the same types,
// in document order, and the pages the writer adds next read back the same way.
TEST(CrawlStore, LinksOfAnOlderFileMoveIntoTheViewUnchanged) {
    TempDir dir("crawlstore");
    const auto path = dir.file("old.db");
    write_schema_two_file(path);
    const char* const select_links = "SELECT page_id, n, to_url, kind, nofollow, typeof(page_id),"
                                     " typeof(n), typeof(to_url), typeof(kind), typeof(nofollow)"
                                     " FROM links";
    const auto rows_of = [](Database& db, const std::string& sql) {
        std::vector<std::string> rows;
        Statement statement = db.prepare(sql);
        EXPECT_TRUE(for_each_row(statement, [&](const Statement& row) {
            std::string text;
            for (int c = 0; c < statement.column_count(); ++c) {
                text += std::string(row.column_text(c)) + '|';
            }
            rows.push_back(std::move(text));
            return true;
        }));
        return rows;
    };
    std::vector<std::string> before;
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(migrate(*db, k_packed_links_version - 1));
        ASSERT_TRUE(db->exec(R"sql(
INSERT INTO links VALUES (3, 1, 'http://a.test/b', 'anchor', 1),
                         (3, 0, 'http://a.test/z', 'image', 0),
                         (2, 2, 'http://a.test/q?x="1"&y=\2' || char(9) || char(1), 'anchor', 1),
                         (2, 1, 'http://a.test/caf' || char(233) || '/', 'stylesheet', 0);
)sql"));
        before = rows_of(*db, std::string(select_links) + " ORDER BY page_id, n");
    }
    ASSERT_EQ(before.size(), 5u);

    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    const std::int64_t run = resume_schema_two_crawl(*writer);
    ASSERT_NE(run, 0);
    PageRecord added;
    added.crawl_id = SchemaTwoCrawl::crawl_id;
    added.run_id = run;
    added.url = "http://a.test/new";
    added.kind = PageKind::page;
    added.http_status = 200;
    added.links = {{"http://a.test/x\"y", "anchor", false}, {"http://a.test/", "image", true}};
    ASSERT_TRUE(writer->submit(std::move(added)));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->schema_version(), schema_version());
    Database& db = reader->database();
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'links' AND "
                            "type = 'view'"),
              1);
    // In document order without an ORDER BY, as the table's key gave them.
    auto after = rows_of(db, select_links);
    ASSERT_EQ(after.size(), before.size() + 2);
    EXPECT_EQ(std::vector<std::string>(after.begin(), after.begin() + 5), before);
    EXPECT_EQ(after[5], "4|0|http://a.test/x\"y|anchor|0|integer|integer|text|text|integer|");
    EXPECT_EQ(after[6], "4|1|http://a.test/|image|1|integer|integer|text|text|integer|");
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM page_links"), 3);
    ASSERT_TRUE(reader->close());
}
} // namespace

// Step 10 widens pages.kind to 'sitemap' in a file of step 9 (its rows kept, the constraint still
// refusing any other kind) and adds frontier.sitemap, 0 for the rows already there.
TEST(CrawlStore, SitemapsStepWidensThePagesKindOfAnOlderFile) {
    TempDir dir("crawl-store");
    auto db = Database::open(dir.file("seven.db"));
    ASSERT_TRUE(db);
    ASSERT_TRUE(migrate(*db, k_sitemaps_version - 1));
    // The rows the pages refer to: migrate() checks the foreign keys before it commits.
    ASSERT_TRUE(db->exec(
        "INSERT INTO runs (id, command, arguments, strategy, concurrency, started_at, status) "
        "VALUES (1, 'crawl', '', 'async', 1, '2026-01-01T00:00:00.000Z', 'finished');"
        "INSERT INTO crawls (id, seeds, options, status) VALUES (1, '[]', '{}', 'finished');"));
    const char* insert_page =
        "INSERT INTO pages (crawl_id, run_id, kind, url, bytes, depth, fetched_at, elapsed_ms, "
        "attempts) VALUES (1, 1, '%s', 'http://h/', 0, 0, 'now', 0, 1)";
    auto page = [&](const char* kind) {
        char sql[512];
        std::snprintf(sql, sizeof sql, insert_page, kind);
        return db->exec(sql);
    };
    ASSERT_TRUE(page("page"));
    EXPECT_FALSE(page("sitemap"));
    ASSERT_TRUE(db->exec("INSERT INTO frontier (crawl_id, seq, key_hash, url, depth) "
                         "VALUES (1, 1, 7, 'http://h/', 0)"));

    ASSERT_TRUE(migrate(*db));
    EXPECT_TRUE(page("sitemap"));
    EXPECT_FALSE(page("other"));
    EXPECT_EQ(*db->query_int("SELECT count(*) FROM pages"), 2);
    EXPECT_EQ(*db->query_int("SELECT sitemap FROM frontier WHERE seq = 1"), 0);
    EXPECT_EQ(*db->query_int("PRAGMA user_version"), schema_version());
    EXPECT_EQ(*db->query_int("SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check = 'ok'"),
              1);
}

// Steps 11 and 12 add the referrer (frontier.from_seq) and the external checks (frontier.external,
// pages.external) to a file of step 10: its rows read as seeds and pages of the crawl (no
// referrer, not external), and a row written after reads its referrer's URL back by the join.
TEST(CrawlStore, ReferrerAndExternalStepsKeepTheRowsOfAnOlderFile) {
    TempDir dir("crawl-store");
    const std::string path = dir.file("ten.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(migrate(*db, k_referrer_version - 1));
        ASSERT_TRUE(db->exec(
            "INSERT INTO runs (id, command, arguments, strategy, concurrency, started_at, status) "
            "VALUES (1, 'crawl', '', 'async', 1, '2026-01-01T00:00:00.000Z', 'finished');"
            "INSERT INTO crawls (id, seeds, options, status) VALUES (1, '[]', '{}', 'stopped');"
            "INSERT INTO pages (crawl_id, run_id, seq, kind, url, bytes, depth, fetched_at, "
            "elapsed_ms, attempts) VALUES (1, 1, 1, 'page', 'http://h/', 0, 0, 'now', 0, 1);"
            "INSERT INTO frontier (crawl_id, seq, key_hash, url, depth, state) "
            "VALUES (1, 1, 7, 'http://h/', 0, 1), (1, 2, 8, 'http://h/a', 1, 0);"));

        ASSERT_TRUE(migrate(*db));
        EXPECT_EQ(*db->query_int("PRAGMA user_version"), schema_version());
        EXPECT_EQ(*db->query_int("SELECT count(*) FROM frontier WHERE from_seq IS NULL AND "
                                 "external = 0"),
                  2);
        EXPECT_EQ(*db->query_int("SELECT external FROM pages WHERE seq = 1"), 0);
        // Queued, as the writer adds a row since step 13.
        ASSERT_TRUE(db->exec("INSERT INTO frontier_urls (crawl_id, seq, key_hash, url, depth, "
                             "from_seq, external) VALUES (1, 3, 9, 'http://x/', 1, 1, 1);"
                             "INSERT INTO frontier_queue (crawl_id, depth, seq) VALUES (1, 1, 3)"));
    }
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<FrontierRow> queued;
    ASSERT_TRUE(reader->for_each_queued(1, -1, 0, 0, [&](const FrontierRow& r) {
        queued.push_back(r);
        return true;
    }));
    ASSERT_EQ(queued.size(), 2u);
    EXPECT_EQ(queued[0].url, "http://h/a");
    EXPECT_EQ(queued[0].from_seq, 0);
    EXPECT_EQ(queued[0].from_url, "");
    EXPECT_FALSE(queued[0].external);
    EXPECT_EQ(queued[1].url, "http://x/");
    EXPECT_EQ(queued[1].from_seq, 1);
    EXPECT_EQ(queued[1].from_url, "http://h/");
    EXPECT_TRUE(queued[1].external);
}

namespace {

std::vector<std::int64_t> queued_seqs(Reader& reader, int after_depth, std::int64_t after_seq) {
    std::vector<std::int64_t> seqs;
    EXPECT_TRUE(reader.for_each_queued(1, after_depth, after_seq, 0, [&](const FrontierRow& r) {
        seqs.push_back(r.seq);
        return true;
    }));
    return seqs;
}

} // namespace

// Step 13 moves a URL's queued state out of its frontier row into frontier_queue. A file of step
// 12 with done and queued rows at several depths reads the same through the view `frontier`
// (every column, state included, with its type) and exports the same columns; its queued rows,
// and only those, are paged in by depth then seq, also from a position with done rows after it
// (a resume); the counts are unchanged. A writer then marks one done and queues a new one.
TEST(CrawlStore, QueueStepKeepsTheFrontierStateOfAnOlderFile) {
    TempDir dir("crawl-store");
    const std::string path = dir.file("twelve.db");
    const std::string select_frontier =
        "SELECT crawl_id, seq, key_hash, url, depth, redirects, requisite, state, chain_seq, "
        "chain_keys, sitemap, from_seq, external, typeof(state), typeof(chain_keys) FROM frontier "
        "ORDER BY crawl_id, seq";
    std::vector<std::string> before;
    std::vector<std::string> columns_before;
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(migrate(*db, k_frontier_queue_version - 1));
        ASSERT_TRUE(db->exec(
            "INSERT INTO runs (id, command, arguments, strategy, concurrency, started_at, status) "
            "VALUES (1, 'crawl', '', 'async', 1, '2026-01-01T00:00:00.000Z', 'interrupted');"
            "INSERT INTO crawls (id, seeds, options, status) VALUES (1, '[]', '{}', 'stopped');"
            "INSERT INTO crawl_runs (crawl_id, run_id) VALUES (1, 1);"
            "INSERT INTO frontier (crawl_id, seq, key_hash, url, depth, state, chain_seq, "
            "chain_keys, sitemap, from_seq, external) VALUES "
            "(1, 1, -7, 'http://h/', 0, 1, NULL, NULL, 0, NULL, 0),"
            "(1, 2, 8, 'http://h/a', 1, 1, NULL, NULL, 1, 1, 0),"
            "(1, 3, 9, 'http://h/b', 1, 0, NULL, NULL, 0, 1, 0),"
            "(1, 4, 10, 'http://h/c', 1, 1, NULL, NULL, 0, 1, 0),"
            "(1, 5, 11, 'http://h/d', 2, 0, 4, x'0a00000000000000', 0, 4, 0),"
            "(1, 6, 12, 'http://x/e', 1, 0, NULL, NULL, 0, 1, 1),"
            "(1, 7, 13, 'http://h/f', 2, 1, NULL, NULL, 0, 2, 0);"));
        before = text_rows(*db, select_frontier);
        columns_before = text_rows(*db, "SELECT name, type FROM pragma_table_info('frontier')");
    }
    ASSERT_EQ(before.size(), 7u);

    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    {
        auto reader = Reader::open(path);
        ASSERT_TRUE(reader);
        ASSERT_EQ(reader->schema_version(), schema_version());
        Database& db = reader->database();
        EXPECT_EQ(text_rows(db, select_frontier), before);
        EXPECT_EQ(text_rows(db, "SELECT crawl_id, depth, seq FROM frontier_queue"),
                  (std::vector<std::string>{"1|1|3|", "1|1|6|", "1|2|5|"}));
        EXPECT_EQ(
            *db.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'frontier_queued'"), 0);
        EXPECT_EQ(queued_seqs(*reader, -1, 0), (std::vector<std::int64_t>{3, 6, 5}));
        EXPECT_EQ(queued_seqs(*reader, 1, 3), (std::vector<std::int64_t>{6, 5}));
        EXPECT_EQ(queued_seqs(*reader, 1, 6), (std::vector<std::int64_t>{5}));
        EXPECT_EQ(queued_seqs(*reader, 2, 5), (std::vector<std::int64_t>{}));
        auto progress = reader->crawl_progress(1);
        ASSERT_TRUE(progress);
        EXPECT_EQ(progress->max_seq, 7);
        EXPECT_EQ(progress->queued, 3u);
        auto summary = summarize_crawl(*reader, 1);
        ASSERT_TRUE(summary) << summary.error().message;
        EXPECT_EQ(summary->seen_urls, 7u);
        EXPECT_EQ(summary->queued_urls, 3u);
        std::vector<std::string> columns;
        std::vector<std::string> states;
        ASSERT_TRUE(export_rows(
            *reader, ExportTable::frontier, {},
            [&](const std::vector<ExportColumn>& list) {
                for (const ExportColumn& c : list) {
                    columns.push_back(c.name + '|' +
                                      (c.type == ColumnType::integer ? "INTEGER"
                                       : c.type == ColumnType::text  ? "TEXT"
                                       : c.type == ColumnType::blob  ? "BLOB"
                                                                     : "REAL") +
                                      '|');
                }
            },
            [&](const Statement& row) {
                states.push_back(std::string(row.column_text(7)));
                return true;
            }));
        EXPECT_EQ(columns, columns_before);
        EXPECT_EQ(states, (std::vector<std::string>{"1", "1", "0", "1", "0", "0", "1"}));
    }

    auto run = writer->begin_run(
        {.command = "crawl", .arguments = "crawl --resume", .strategy = "async", .concurrency = 1});
    ASSERT_TRUE(run);
    CrawlBeginRecord resume;
    resume.crawl_id = 1;
    resume.run_id = *run;
    resume.is_new = false;
    ASSERT_TRUE(writer->submit(std::move(resume)));
    PageRecord page;
    page.crawl_id = 1;
    page.run_id = *run;
    page.seq = 6;
    page.depth = 1;
    page.url = "http://x/e";
    page.http_status = 200;
    page.discovered = {row(8, 14, 2)};
    ASSERT_TRUE(writer->submit(std::move(page)));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(queued_seqs(*reader, -1, 0), (std::vector<std::int64_t>{3, 5, 8}));
    EXPECT_EQ(*reader->database().query_int("SELECT state FROM frontier WHERE seq = 6"), 1);
    EXPECT_EQ(*reader->database().query_int("SELECT state FROM frontier WHERE seq = 8"), 0);
}

// A row is done by its key in frontier_queue, which has its depth: a record whose depth is not
// its row's still marks the row done (then nothing pages it in again), and the rows of its
// depth stay queued.
TEST(CrawlStore, ARecordWithAnotherDepthStillMarksItsRowDone) {
    TempDir dir("crawlstore");
    const auto path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl(*writer);
    PageRecord seed;
    seed.crawl_id = crawl;
    seed.run_id = crawl;
    seed.seq = 1;
    seed.url = "http://h/1";
    seed.discovered = {row(2, 2, 1), row(3, 3, 1), row(4, 4, 2)};
    ASSERT_TRUE(writer->submit(std::move(seed)));
    PageRecord page;
    page.crawl_id = crawl;
    page.run_id = crawl;
    page.seq = 3;
    page.depth = 2; // the row's depth is 1
    page.url = "http://h/3";
    ASSERT_TRUE(writer->submit(std::move(page)));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<std::int64_t> queued;
    ASSERT_TRUE(reader->for_each_queued(crawl, -1, 0, 0, [&](const FrontierRow& r) {
        queued.push_back(r.seq);
        return true;
    }));
    EXPECT_EQ(queued, (std::vector<std::int64_t>{2, 4}));
    auto progress = reader->crawl_progress(crawl);
    ASSERT_TRUE(progress);
    EXPECT_EQ(progress->queued, 2u);
}
