#include "crawler/pgfrontier/schema.hpp"

#include <string>
#include <vector>

namespace flagcrawl::pgfrontier {
namespace {

// pg_advisory_xact_lock key serializing schema changes ("flagcraw" in ASCII).
constexpr std::int64_t k_schema_lock = 0x666c6167637261;

// Step N brings version N-1 to N. Every statement is idempotent (IF NOT EXISTS), so that two
// workers racing past the version check both succeed. Append new steps; never edit one.
const std::vector<std::vector<std::string>>& steps() {
    static const std::vector<std::vector<std::string>> all = {
        // 1: the first version.
        {
            "CREATE TABLE IF NOT EXISTS flagcrawl.crawls ("
            " id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " name text NOT NULL UNIQUE,"
            " seeds text NOT NULL,"
            " options text NOT NULL,"
            " max_pages bigint NOT NULL DEFAULT 0,"
            " max_bytes bigint NOT NULL DEFAULT 0,"
            " pages bigint NOT NULL DEFAULT 0,"
            " bytes bigint NOT NULL DEFAULT 0,"
            " status text NOT NULL DEFAULT 'running',"
            " stop_reason text,"
            " created_at timestamptz NOT NULL DEFAULT now(),"
            " ended_at timestamptz)",
            "CREATE TABLE IF NOT EXISTS flagcrawl.workers ("
            " id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " crawl integer NOT NULL REFERENCES flagcrawl.crawls (id),"
            " label text NOT NULL,"
            " started_at timestamptz NOT NULL DEFAULT now(),"
            " seen_at timestamptz NOT NULL DEFAULT now(),"
            " last_batch bigint NOT NULL DEFAULT 0,"
            " ended_at timestamptz,"
            " verdict text)",
            // Host rows are updated by every batch that completes or discovers their URLs:
            // room on each page keeps those updates HOT (no index entry per update).
            "CREATE TABLE IF NOT EXISTS flagcrawl.hosts ("
            " id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " crawl integer NOT NULL REFERENCES flagcrawl.crawls (id),"
            " origin text NOT NULL,"
            " pending integer NOT NULL DEFAULT 0,"
            " owner integer,"
            " epoch integer NOT NULL DEFAULT 0,"
            " lease_until timestamptz,"
            " next_at timestamptz,"
            " UNIQUE (crawl, origin)) WITH (fillfactor = 50)",
            // Discovery order: a batch takes one number and numbers its discoveries from it,
            // since it inserts them in key order (for the lock order), not in the order found.
            "CREATE SEQUENCE IF NOT EXISTS flagcrawl.url_order INCREMENT BY 1000000",
            // Fixed-width columns first (no alignment padding), the path last.
            "CREATE TABLE IF NOT EXISTS flagcrawl.urls ("
            " crawl integer NOT NULL,"
            " host integer NOT NULL,"
            " key bigint NOT NULL,"
            " seq bigint NOT NULL,"
            " epoch integer NOT NULL DEFAULT 0,"
            " worker integer,"
            " depth smallint NOT NULL,"
            " redirects smallint NOT NULL,"
            " state smallint NOT NULL DEFAULT 0,"
            " deliveries smallint NOT NULL DEFAULT 0,"
            " status smallint,"
            " requisite boolean NOT NULL,"
            " bytes bigint,"
            " done_at timestamptz,"
            " error_kind text,"
            " path text NOT NULL,"
            " PRIMARY KEY (crawl, key))",
            // The queue: a host's undone URLs in discovery order.
            "CREATE INDEX IF NOT EXISTS urls_queued ON flagcrawl.urls (crawl, host, seq)"
            " WHERE state = 0",
        },
    };
    return all;
}

PgError schema_error(std::string message) {
    return PgError{PgError::Kind::server, "", std::move(message)};
}

} // namespace

asio::awaitable<PgResult<int>> schema_version(PgConnection& connection) {
    // Read first: a role that may use the tables need not be allowed to create them.
    const Statement exists_query{"SELECT to_regclass('flagcrawl.meta') IS NOT NULL"};
    auto exists = co_await connection.run(exists_query);
    if (!exists) {
        co_return exists.error();
    }
    if (!exists->boolean(0, 0)) {
        co_return 0;
    }
    const Statement version_query{"SELECT value FROM flagcrawl.meta WHERE key = 'schema_version'"};
    auto stored = co_await connection.run(version_query);
    if (!stored) {
        co_return stored.error();
    }
    if (stored->empty()) {
        co_return 0;
    }
    try {
        co_return std::stoi(std::string(stored->text(0, 0)));
    } catch (const std::exception&) {
        co_return schema_error("the server's flagcrawl.meta holds an unreadable schema_version '" +
                               std::string(stored->text(0, 0)) + "'");
    }
}

PgError newer_schema_error(int version) {
    return schema_error("the server's flagcrawl tables are schema version " +
                        std::to_string(version) + ", newer than this flagcrawl's (" +
                        std::to_string(k_schema_version) +
                        "): use a flagcrawl as new as the other workers");
}

asio::awaitable<PgResult<void>> ensure_schema(PgConnection& connection) {
    auto current = co_await schema_version(connection);
    if (!current) {
        co_return current.error();
    }
    const int version = *current;
    if (version > k_schema_version) {
        co_return newer_schema_error(version);
    }
    if (version == k_schema_version) {
        co_return PgResult<void>();
    }
    std::vector<Statement> change;
    change.push_back({"SELECT pg_advisory_xact_lock($1::int8)", Params().add(k_schema_lock)});
    change.push_back({"CREATE SCHEMA IF NOT EXISTS flagcrawl"});
    change.push_back({"CREATE TABLE IF NOT EXISTS flagcrawl.meta (key text PRIMARY KEY, value "
                      "text NOT NULL)"});
    for (std::size_t step = static_cast<std::size_t>(version); step < steps().size(); ++step) {
        for (const std::string& sql : steps()[step]) {
            change.push_back({sql});
        }
    }
    // GREATEST: a newer worker may have won the race; never take the version back.
    change.push_back({"INSERT INTO flagcrawl.meta (key, value) VALUES ('schema_version', $1) "
                      "ON CONFLICT (key) DO UPDATE SET value = GREATEST(flagcrawl.meta.value::int, "
                      "excluded.value::int)::text",
                      Params().add(std::to_string(k_schema_version))});
    auto changed = co_await connection.run(change);
    if (!changed) {
        co_return changed.error();
    }
    co_return PgResult<void>();
}

} // namespace flagcrawl::pgfrontier
