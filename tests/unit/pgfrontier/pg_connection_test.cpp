// The async libpq connection against a private PostgreSQL cluster: a pipeline is one round
// trip and one transaction, binary parameters (arrays, NULLs, any bytes) arrive intact,
// statements with parameters are prepared once per connection, notifications are read, and
// failures (no server, wrong password, a bad connection string, the session killed) are one-line
// errors that never show the password.
#include "pg_cluster.hpp"
#include "pg_sync.hpp"

#include "crawler/pgfrontier/pg_connection.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

using namespace flagcrawl::pgfrontier;
using flagcrawl::testing_support::PgSync;

namespace {

TEST(PgConnection, PipelineReturnsEveryStatementsRows) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    std::vector<Statement> s;
    s.push_back({"SELECT 1 + $1::int4", Params().add(std::int32_t{41})});
    s.push_back({"SELECT $1::text || '!'", Params().add("hi")});
    s.push_back({"SELECT generate_series(1, 3)"});
    auto rows = sync.run(c->run(std::move(s)));
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[0].int64(0, 0), 42);
    EXPECT_EQ((*rows)[1].text(0, 0), "hi!");
    EXPECT_EQ((*rows)[2].size(), 3);
}

TEST(PgConnection, BinaryArraysKeepEveryValue) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    const std::vector<std::int64_t> big = {0, -1, INT64_MIN, INT64_MAX};
    const std::vector<std::string> texts = {"",    "a,b", "q\"uote\\", "{}", "\xC3\xA9t\xC3\xA9",
                                            "NULL"};
    const std::vector<std::optional<std::string>> maybe = {std::nullopt, "x"};
    const std::vector<std::optional<std::int32_t>> maybe_ints = {7, std::nullopt};
    const std::vector<std::int16_t> small = {-3, 300};
    const std::vector<bool> flags = {true, false};
    auto rows = sync.run(c->run(Statement{
        "SELECT (SELECT array_agg(x::text ORDER BY n) FROM unnest($1::int8[]) WITH ORDINALITY "
        "AS t(x, n)) = ARRAY['0', '-1', '-9223372036854775808', '9223372036854775807'],"
        " $2::text[] = ARRAY['', 'a,b', 'q\"uote\\', '{}', 'été', 'NULL'],"
        " $3::text[] = ARRAY[NULL, 'x'] IS NOT FALSE AND ($3::text[])[1] IS NULL,"
        " ($4::int4[])[1] = 7 AND ($4::int4[])[2] IS NULL,"
        " $5::int2[] = ARRAY[-3, 300]::int2[], $6::bool[] = ARRAY[true, false],"
        " cardinality($7::int8[]) = 0",
        Params()
            .add(big)
            .add(texts)
            .add(maybe)
            .add(maybe_ints)
            .add(small)
            .add(flags)
            .add(std::vector<std::int64_t>{})}));
    ASSERT_TRUE(rows) << rows.error().message;
    for (int column = 0; column < rows->columns(); ++column) {
        EXPECT_TRUE(rows->boolean(0, column)) << "column " << column;
    }
}

TEST(PgConnection, AFailingStatementUndoesTheWholePipeline) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    pg->sql("CREATE TABLE t (x int PRIMARY KEY)");
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    std::vector<Statement> s;
    s.push_back({"INSERT INTO t VALUES (1)"});
    s.push_back({"INSERT INTO t VALUES (1)"}); // duplicate key
    s.push_back({"INSERT INTO t VALUES (2)"});
    auto rows = sync.run(c->run(std::move(s)));
    ASSERT_FALSE(rows);
    EXPECT_EQ(rows.error().kind, PgError::Kind::server);
    EXPECT_EQ(rows.error().sqlstate, "23505");
    EXPECT_FALSE(rows.error().transient());
    EXPECT_EQ(pg->value("SELECT count(*) FROM t"), "0");
    // The connection is still usable.
    auto again = sync.run(c->run(Statement{"INSERT INTO t VALUES (3)"}));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->affected(), 1u);
    EXPECT_EQ(pg->value("SELECT count(*) FROM t"), "1");
}

// A statement with parameters is prepared once per connection and run by name after; one whose
// preparation failed (its table did not exist yet) is prepared again the next time.
TEST(PgConnection, AStatementIsPreparedOnceAndAgainAfterAFailedPreparation) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    const Statement query{"SELECT count(*) FROM later WHERE x = $1::int4",
                          Params().add(std::int32_t{1})};
    auto missing = sync.run(c->run(query));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().sqlstate, "42P01");
    pg->sql("CREATE TABLE later (x int); INSERT INTO later VALUES (1), (1)");
    for (int i = 0; i < 3; ++i) {
        auto rows = sync.run(c->run(query));
        ASSERT_TRUE(rows) << rows.error().message;
        EXPECT_EQ(rows->int64(0, 0), 2);
    }
    // In a pipeline after a failing statement, a new one is not prepared (skipped): next time.
    std::vector<Statement> s;
    s.push_back({"SELECT 1 / 0"});
    s.push_back({"SELECT $1::int4 + 1", Params().add(std::int32_t{1})});
    ASSERT_FALSE(sync.run(c->run(s)));
    auto after = sync.run(c->run(s[1]));
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->int64(0, 0), 2);
    auto prepared = sync.run(c->run(Statement{"SELECT count(*) FROM pg_prepared_statements"}));
    ASSERT_TRUE(prepared) << prepared.error().message;
    EXPECT_EQ(prepared->int64(0, 0), 2);
}

TEST(PgConnection, NotificationsAreRead) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    ASSERT_TRUE(sync.run(c->run(Statement{"LISTEN chan"})));
    pg->sql("NOTIFY chan, 'hello'");
    std::vector<Notification> got;
    for (int i = 0; i < 50 && got.empty(); ++i) {
        auto waited = sync.run(c->wait_readable());
        ASSERT_TRUE(waited) << waited.error().message;
        got = c->take_notifications();
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].channel, "chan");
    EXPECT_EQ(got[0].payload, "hello");
}

TEST(PgConnection, WaitingCanBeCancelled) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    using namespace boost::asio::experimental::awaitable_operators;
    auto wait = [&]() -> boost::asio::awaitable<int> {
        boost::asio::steady_timer timer(sync.io(), std::chrono::milliseconds(50));
        auto which = co_await (c->wait_readable() || timer.async_wait(boost::asio::use_awaitable));
        co_return static_cast<int>(which.index());
    };
    EXPECT_EQ(sync.run(wait()), 1); // the timer won; the wait was cancelled
    EXPECT_FALSE(c->broken());
    auto rows = sync.run(c->run(Statement{"SELECT 1"}));
    ASSERT_TRUE(rows) << rows.error().message;
}

TEST(PgConnection, AKilledSessionIsAConnectionError) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    auto c = sync.connect(pg->uri());
    ASSERT_TRUE(c);
    pg->sql("SELECT pg_terminate_backend(" + std::to_string(c->backend_pid()) + ")");
    auto rows = sync.run(c->run(Statement{"SELECT 1"}));
    ASSERT_FALSE(rows);
    EXPECT_EQ(rows.error().kind, PgError::Kind::connection);
    EXPECT_TRUE(rows.error().transient());
    EXPECT_TRUE(c->broken());
}

TEST(PgConnection, NoServerIsAOneLineConnectionError) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    PgSync sync;
    const std::string missing =
        "postgresql://flagcrawl@/postgres?host=" + (pg->folder() / "nowhere").string();
    auto c = sync.run(PgConnection::connect(missing, std::chrono::seconds(5)));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().kind, PgError::Kind::connection);
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("nowhere"), std::string::npos) << c.error().message;
}

TEST(PgConnection, AWrongPasswordIsNeverShown) {
    FLAGCRAWL_START_PG_OR_SKIP(pg);
    pg->sql("CREATE ROLE crawler LOGIN PASSWORD 'right-horse'");
    PgSync sync;
    auto ok = sync.run(
        PgConnection::connect(pg->uri_for("crawler", "right-horse"), std::chrono::seconds(10)));
    ASSERT_TRUE(ok) << ok.error().message;
    auto c = sync.run(
        PgConnection::connect(pg->uri_for("crawler", "wrong-battery"), std::chrono::seconds(10)));
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("password authentication failed"), std::string::npos)
        << c.error().message;
    EXPECT_EQ(c.error().message.find("wrong-battery"), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos);
}

TEST(PgConnection, ABadConnectionStringIsNamedWithoutItsPassword) {
    EXPECT_FALSE(conninfo_problem("postgresql://u:p@h/db"));
    EXPECT_FALSE(conninfo_problem("host=/tmp dbname=x"));
    auto problem = conninfo_problem("postgresql://u:sec%ZZret@h/db");
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->find("sec"), std::string::npos) << *problem;
    EXPECT_NE(problem->find("not a PostgreSQL connection string"), std::string::npos);
    EXPECT_TRUE(conninfo_problem("postgresql://u:pw@h/db?nonsense=1"));
    EXPECT_TRUE(conninfo_problem("just words"));
    EXPECT_EQ(conninfo_target("postgresql://crawler:pw@db.lan:5433/flagcrawl"),
              "crawler@db.lan:5433/flagcrawl");
    EXPECT_EQ(conninfo_target("host=/run/pg dbname=x"), "/run/pg/x");
}

} // namespace
