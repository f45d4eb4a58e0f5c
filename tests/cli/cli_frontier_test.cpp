// The shared crawl through PostgreSQL as a user runs it: `stats --frontier` on a crawl the
// server holds, and the one-line errors (exit 3) for a wrong crawl name, a bad connection string
// and a failed authentication, none of which shows the password.
#include "pg_cluster.hpp"
#include "process.hpp"

#include "crawler/pgfrontier/coordinator.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::count_lines;
using testing_support::flagcrawl_binary;
using testing_support::run_process;

namespace {

// Defines crawl `name` on the server with two seeds, as a first worker would, and leaves.
void define_crawl(const testing_support::PgCluster& pg, const std::string& name) {
    pgfrontier::CoordinatorOptions o;
    o.conninfo = pg.uri();
    o.crawl_name = name;
    o.label = "definer";
    pgfrontier::CrawlDefinition d;
    d.name = name;
    d.seeds_json = R"(["http://a.test/", "http://b.test/"])";
    d.options_json = "{}";
    d.seeds = {{1, "http://a.test", "/", 0, 0, false}, {2, "http://b.test", "/", 0, 0, false}};
    o.define = d;
    pgfrontier::Coordinator c(o);
    ASSERT_EQ(c.start().problem, pgfrontier::Coordinator::Started::Problem::none);
    c.close({}, "test", std::chrono::steady_clock::now() + 5s);
}

TEST(CliFrontier, StatsReadsTheSharedCrawlFromTheServer) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    define_crawl(*pg, "spring");
    auto text = run_process(
        {flagcrawl_binary(), "stats", "--frontier", pg->uri(), "--crawl-name", "spring"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("crawl 'spring'"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("2 seen, 0 done"), std::string::npos) << text.out;
    auto json = run_process(
        {flagcrawl_binary(), "stats", "--frontier", pg->uri(), "--crawl-name", "spring", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["urls"], 2);
    EXPECT_EQ(j["queued"], 2);
    EXPECT_EQ(j["status"], "running");
    EXPECT_EQ(j["workers"].size(), 1u);
    EXPECT_GT(j["server_bytes_per_url"].get<double>(), 0);
}

TEST(CliFrontier, StatsErrorsAreOneLineWithoutThePassword) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    define_crawl(*pg, "spring");
    pg->sql("CREATE ROLE crawler LOGIN PASSWORD 'good-one'");

    auto wrong_name = run_process(
        {flagcrawl_binary(), "stats", "--frontier", pg->uri(), "--crawl-name", "autumn"});
    EXPECT_EQ(wrong_name.exit_code, 3);
    EXPECT_EQ(count_lines(wrong_name.err), 1u) << wrong_name.err;
    EXPECT_NE(wrong_name.err.find("no crawl named 'autumn'"), std::string::npos);

    auto bad_url = run_process({flagcrawl_binary(), "stats", "--frontier",
                                "postgresql://crawler:s3cr%ZZet@/x", "--crawl-name", "spring"});
    EXPECT_EQ(bad_url.exit_code, 3);
    EXPECT_EQ(count_lines(bad_url.err), 1u) << bad_url.err;
    EXPECT_EQ(bad_url.err.find("s3cr"), std::string::npos) << bad_url.err;

    auto auth = run_process({flagcrawl_binary(), "stats", "--frontier",
                             pg->uri_for("crawler", "bad-guess"), "--crawl-name", "spring"});
    EXPECT_EQ(auth.exit_code, 3);
    EXPECT_EQ(count_lines(auth.err), 1u) << auth.err;
    EXPECT_NE(auth.err.find("password authentication failed"), std::string::npos) << auth.err;
    EXPECT_EQ(auth.err.find("bad-guess"), std::string::npos) << auth.err;

    auto usage = run_process({flagcrawl_binary(), "stats", "--frontier", pg->uri()});
    EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

} // namespace
