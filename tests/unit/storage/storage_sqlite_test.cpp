// The SQLite wrapper and the schema on real files in a temp folder: statements, transactions,
// schema creation and reopen, and errors as values that name the file.
#include "in_child.hpp"
#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;
using namespace flagcrawl::storage;
using flagcrawl::testing_support::run_in_child;
using flagcrawl::testing_support::TempDir;

namespace {

Database open_or_die(const std::string& path, OpenMode mode = OpenMode::read_write_create) {
    OpenOptions options;
    options.mode = mode;
    auto db = Database::open(path, options);
    if (!db) {
        throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
}

std::string text_of(Database& db, const std::string& sql) {
    Statement statement = db.prepare(sql);
    auto row = statement.step();
    if (!row || !*row) {
        return "<no row>";
    }
    return std::string(statement.column_text(0));
}

// The error message is one line and names the file.
void expect_names_file(const Error& error, const std::string& path) {
    EXPECT_NE(error.message.find(path), std::string::npos) << error.message;
    EXPECT_EQ(error.message.find('\n'), std::string::npos) << error.message;
}

RunInfo run_info(const std::string& command) {
    RunInfo info;
    info.command = command;
    return info;
}

TEST(StorageSqlite, StatementBindStepResetAndNulls) {
    TempDir dir("storage");
    Database db = open_or_die(dir.file("t.db"));
    ASSERT_TRUE(db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT)"));
    Statement insert = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
    insert.bind_all(std::int64_t{1}, 1.5, std::string("one"));
    ASSERT_TRUE(insert.run());
    insert.bind_all(std::optional<int>{}, std::optional<double>{}, std::optional<std::string>{});
    ASSERT_TRUE(insert.run());
    insert.bind_all(3u, 0.0, std::string_view("")); // empty text is not NULL
    ASSERT_TRUE(insert.run());

    Statement select = db.prepare("SELECT i, r, s FROM t ORDER BY rowid");
    EXPECT_EQ(select.column_count(), 3);
    EXPECT_EQ(select.column_name(2), "s");
    std::vector<std::optional<std::int64_t>> ints;
    std::vector<std::optional<std::string>> texts;
    ASSERT_TRUE(for_each_row(select, [&](const Statement& row) {
        ints.push_back(row.column_optional_int64(0));
        texts.push_back(row.column_optional_text(2));
        return true;
    }));
    ASSERT_EQ(ints.size(), 3u);
    EXPECT_EQ(ints[0], 1);
    EXPECT_FALSE(ints[1]);
    EXPECT_EQ(ints[2], 3);
    EXPECT_EQ(texts[0], "one");
    EXPECT_FALSE(texts[1]);
    EXPECT_EQ(texts[2], std::optional<std::string>(""));

    // The statement is reusable after for_each_row() reset it; stopping early works.
    int seen = 0;
    ASSERT_TRUE(for_each_row(select, [&](const Statement&) { return ++seen < 2; }));
    EXPECT_EQ(seen, 2);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM t"), 3);
}

TEST(StorageSqlite, BugsThrowAndNameTheFile) {
    TempDir dir("storage");
    const auto path = dir.file("bugs.db");
    Database db = open_or_die(path);
    try {
        (void)db.prepare("SELEKT 1");
        FAIL() << "a SQL typo must throw";
    } catch (const Exception& e) {
        expect_names_file(e.error(), path);
        EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    }
    Statement statement = db.prepare("SELECT ?");
    EXPECT_THROW(statement.bind(2, std::int64_t{1}), Exception);
    EXPECT_THROW(statement.bind(1, std::numeric_limits<std::uint64_t>::max()), std::out_of_range);
    // value() of a result holding an Error throws our Exception.
    auto failed = db.exec("INSERT INTO missing VALUES (1)");
    ASSERT_FALSE(failed);
    EXPECT_THROW(failed.value(), Exception);
}

TEST(StorageSqlite, StatementOutlivesMovesOfItsDatabase) {
    TempDir dir("storage");
    const auto path = dir.file("moved.db");
    Database first = open_or_die(path);
    ASSERT_TRUE(first.exec("CREATE TABLE t (i INTEGER NOT NULL)"));
    Statement insert = first.prepare("INSERT INTO t VALUES (?)");
    Database moved = std::move(first);
    insert.bind(1, std::nullopt);
    auto failed = insert.run(); // NOT NULL constraint: an error value naming the file
    ASSERT_FALSE(failed);
    expect_names_file(failed.error(), path);
    EXPECT_NE(failed.error().message.find("NOT NULL"), std::string::npos) << failed.error().message;
    insert.bind(1, 7);
    ASSERT_TRUE(insert.run()); // reusable after the failure
    EXPECT_EQ(*moved.query_int("SELECT i FROM t"), 7);
}

TEST(StorageSqlite, TransactionRollsBackUnlessCommitted) {
    TempDir dir("storage");
    Database db = open_or_die(dir.file("tx.db"));
    ASSERT_TRUE(db.exec("CREATE TABLE t (i INTEGER)"));
    {
        auto transaction = Transaction::begin(db);
        ASSERT_TRUE(transaction);
        ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)"));
    } // destroyed without commit
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM t"), 0);
    {
        auto transaction = Transaction::begin(db);
        ASSERT_TRUE(transaction);
        ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)"));
        ASSERT_TRUE(transaction->commit());
    }
    {
        auto transaction = Transaction::begin(db, Transaction::Kind::deferred);
        ASSERT_TRUE(transaction);
        ASSERT_TRUE(db.exec("INSERT INTO t VALUES (3)"));
        ASSERT_TRUE(transaction->rollback());
    }
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM t"), 1);
    EXPECT_EQ(*db.query_int("SELECT i FROM t"), 2);
}

TEST(StorageSqlite, CloseSurfacesErrors) {
    TempDir dir("storage");
    Database db = open_or_die(dir.file("close.db"));
    auto statement = std::make_unique<Statement>(db.prepare("SELECT 1"));
    auto closed = db.close(); // a statement is still alive: SQLite refuses
    ASSERT_FALSE(closed);
    EXPECT_NE(closed.error().message.find("unfinalized"), std::string::npos)
        << closed.error().message;
    statement.reset(); // the connection really closes now
    EXPECT_FALSE(db.is_open());
    EXPECT_TRUE(db.close()); // a no-op
}

TEST(StorageSqlite, WalAndPragmasOnWritableOpen) {
    TempDir dir("storage");
    Database db = open_or_die(dir.file("wal.db"));
    EXPECT_EQ(text_of(db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(*db.query_int("PRAGMA synchronous"), 1); // NORMAL
    EXPECT_EQ(*db.query_int("PRAGMA foreign_keys"), 1);
    EXPECT_EQ(*db.query_int("PRAGMA busy_timeout"), 5000);
}

// Page caches fill page by page: no connection, and no temporary database, starts with SQLite's
// bulk allocation of 20 pages (which SQLite writes whole, so it stays resident whether the cache
// is used or not). SQLite's allocator is wrapped to see the largest allocation it asks for;
// that must happen before SQLite initializes, so the test needs a process of its own (as ctest
// runs it).
namespace {

std::atomic<int> g_largest_sqlite_allocation{0};
sqlite3_mem_methods g_sqlite_allocator{};

void note_allocation(int bytes) {
    int seen = g_largest_sqlite_allocation.load();
    while (bytes > seen && !g_largest_sqlite_allocation.compare_exchange_weak(seen, bytes)) {
    }
}

} // namespace

TEST(StorageSqlite, PageCachesHaveNoBulkAllocation) {
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &g_sqlite_allocator) != SQLITE_OK) {
        GTEST_SKIP() << "SQLite is already initialized in this process: run this test alone";
    }
    sqlite3_mem_methods counting = g_sqlite_allocator;
    counting.xMalloc = [](int bytes) {
        note_allocation(bytes);
        return g_sqlite_allocator.xMalloc(bytes);
    };
    counting.xRealloc = [](void* p, int bytes) {
        note_allocation(bytes);
        return g_sqlite_allocator.xRealloc(p, bytes);
    };
    ASSERT_EQ(sqlite3_config(SQLITE_CONFIG_MALLOC, &counting), SQLITE_OK);

    TempDir dir("storage");
    Database db = open_or_die(dir.file("cache.db"));
    ASSERT_TRUE(
        db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                "CREATE TEMP TABLE scratch (k INTEGER);"
                "INSERT INTO scratch VALUES (1);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                "INSERT INTO t SELECT i, 'row' FROM n;"));
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM t"), 2000);
    const int page = static_cast<int>(*db.query_int("PRAGMA page_size"));
    EXPECT_LT(g_largest_sqlite_allocation.load(), 20 * page);
}

TEST(StorageSchema, CreatedThenReopened) {
    TempDir dir("storage");
    const auto path = dir.file("schema.db");
    std::int64_t run_id = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer) << writer.error().message;
        run_id = writer->begin_run(run_info("download")).value();
        ASSERT_TRUE(writer->close());
    }
    {
        Database db = open_or_die(path, OpenMode::read_only);
        EXPECT_EQ(*db.query_int("PRAGMA user_version"), schema_version());
        EXPECT_EQ(*db.query_int("SELECT count(*) FROM sqlite_schema WHERE name IN "
                                "('runs', 'downloads', 'downloads_run_id')"),
                  3);
    }
    // Reopening migrates nothing and keeps the data; a second run gets a new id.
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    auto second = writer->begin_run(run_info("crawl"));
    ASSERT_TRUE(second);
    EXPECT_GT(*second, run_id);
    ASSERT_TRUE(writer->close());
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->schema_version(), schema_version());
    int runs = 0;
    ASSERT_TRUE(reader->for_each_run([&](const RunRow&) { return ++runs, true; }));
    EXPECT_EQ(runs, 2);
    auto latest_download = reader->latest_run(std::string("download"));
    ASSERT_TRUE(latest_download && *latest_download);
    EXPECT_EQ((*latest_download)->id, run_id);
    auto latest = reader->latest_run();
    ASSERT_TRUE(latest && *latest);
    EXPECT_EQ((*latest)->id, *second);
}

// Step 8 edits the pages table's CHECK in place: a file upgraded from step 7 (its rows kept) and a
// new one both refuse a kind outside the three, accept the three, and compile no ephemeral index
// (an IN list) for an insert; a second connection open during the upgrade sees the new text.
TEST(StorageSchema, PageKindIsCheckedWithoutAnInList) {
    TempDir dir("storage");
    const std::string insert =
        "INSERT INTO pages (crawl_id, run_id, kind, url, bytes, depth, fetched_at, elapsed_ms, "
        "attempts) VALUES (1, 1, '%', 'http://a.test/', 0, 0, 't', 0, 1)";
    const auto with_kind = [&](const std::string& kind) {
        std::string sql = insert;
        sql.replace(sql.find('%'), 1, kind);
        return sql;
    };
    const auto ephemeral_indexes = [&](Database& db) {
        Statement plan = db.prepare("EXPLAIN " + with_kind("page"));
        int count = 0;
        EXPECT_TRUE(for_each_row(plan, [&](const Statement& row) {
            count += row.column_text(1) == "OpenEphemeral" ? 1 : 0;
            return true;
        }));
        return count;
    };
    const auto upgraded = dir.file("upgraded.db");
    const auto fresh = dir.file("fresh.db");
    {
        Database db = open_or_die(upgraded);
        ASSERT_TRUE(migrate(db, k_packed_links_version));
        ASSERT_TRUE(db.exec("INSERT INTO runs (id, command, arguments, strategy, concurrency, "
                            "started_at, status) VALUES (1, 'crawl', '', 'async', 1, 't', "
                            "'running'); INSERT INTO crawls (id, seeds, options, status) "
                            "VALUES (1, '[]', '{}', 'running');"));
        ASSERT_TRUE(db.exec(with_kind("robots")));
        Database other = open_or_die(upgraded);
        ASSERT_EQ(*other.query_int("SELECT count(*) FROM pages"), 1);
        ASSERT_TRUE(migrate(db));
        ASSERT_TRUE(other.exec(with_kind("requisite")));
        EXPECT_FALSE(other.exec(with_kind("pages")));
        EXPECT_EQ(ephemeral_indexes(other), 0);
    }
    {
        Database db = open_or_die(fresh);
        ASSERT_TRUE(migrate(db));
        ASSERT_TRUE(db.exec("INSERT INTO runs (id, command, arguments, strategy, concurrency, "
                            "started_at, status) VALUES (1, 'crawl', '', 'async', 1, 't', "
                            "'running'); INSERT INTO crawls (id, seeds, options, status) "
                            "VALUES (1, '[]', '{}', 'running');"));
    }
    for (const auto& path : {upgraded, fresh}) {
        SCOPED_TRACE(path);
        Database db = open_or_die(path);
        EXPECT_EQ(*db.query_int("PRAGMA user_version"), schema_version());
        EXPECT_EQ(text_of(db, "PRAGMA integrity_check"), "ok");
        for (const char* kind : {"page", "requisite", "robots"}) {
            EXPECT_TRUE(db.exec(with_kind(kind))) << kind;
        }
        for (const char* kind : {"Page", "pages", "", "robots "}) {
            auto refused = db.exec(with_kind(kind));
            ASSERT_FALSE(refused) << kind;
            EXPECT_NE(refused.error().message.find("CHECK constraint failed"), std::string::npos)
                << refused.error().message;
        }
        EXPECT_EQ(ephemeral_indexes(db), 0);
    }
}

TEST(StorageSchema, RefusesForeignAndNewerDatabases) {
    TempDir dir("storage");
    const auto foreign = dir.file("foreign.db");
    OpenOptions as_is; // another application's file, in SQLite's default rollback journal mode
    as_is.wal = false;
    {
        auto db = Database::open(foreign, as_is);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("CREATE TABLE notes (text TEXT)"));
    }
    auto writer = Writer::open(foreign);
    ASSERT_FALSE(writer);
    expect_names_file(writer.error(), foreign);
    EXPECT_NE(writer.error().message.find("not a flagcrawl database"), std::string::npos);
    // Refused before anything was written: not switched to WAL, no -wal/-shm files left.
    EXPECT_FALSE(std::filesystem::exists(foreign + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(foreign + "-shm"));
    {
        auto db = Database::open(foreign, as_is);
        ASSERT_TRUE(db);
        EXPECT_EQ(*db->query_int("SELECT count(*) FROM sqlite_schema"), 1); // untouched
        auto mode = db->prepare("PRAGMA journal_mode");
        std::string journal;
        ASSERT_TRUE(for_each_row(mode, [&](const Statement& row) {
            journal = row.column_text(0);
            return false;
        }));
        EXPECT_EQ(journal, "delete");
    }

    const auto newer = dir.file("newer.db");
    ASSERT_TRUE(Writer::open(newer).value().close());
    {
        Database db = open_or_die(newer);
        ASSERT_TRUE(db.exec("PRAGMA user_version = 99"));
    }
    auto reopened = Writer::open(newer);
    ASSERT_FALSE(reopened);
    EXPECT_NE(reopened.error().message.find("newer flagcrawl"), std::string::npos);
    auto reader = Reader::open(newer);
    ASSERT_FALSE(reader);
    expect_names_file(reader.error(), newer);

    // An empty file is a fresh database to the writer, but holds nothing for a reader.
    const auto empty = dir.file("empty.db");
    std::ofstream(empty).close();
    auto empty_reader = Reader::open(empty);
    ASSERT_FALSE(empty_reader);
    expect_names_file(empty_reader.error(), empty);
}

TEST(StorageErrors, BadPathsAreValuesNamingTheFile) {
    TempDir dir("storage");
    const auto not_db = dir.file("not-a-db.db");
    std::ofstream(not_db) << std::string(4096, 'x');
    const auto missing_folder = dir.file("no/such/folder/run.db");
    const auto under_a_file = not_db + "/run.db";
    const auto a_folder = dir.path().string();

    for (const auto& path : {not_db, missing_folder, under_a_file, a_folder}) {
        auto writer = Writer::open(path);
        ASSERT_FALSE(writer) << path;
        expect_names_file(writer.error(), path);
        auto reader = Reader::open(path);
        ASSERT_FALSE(reader) << path;
        expect_names_file(reader.error(), path);
    }
    EXPECT_NE(Writer::open(not_db).error().message.find("not a database"), std::string::npos);
    EXPECT_NE(Writer::open(missing_folder).error().message.find("No such file or directory"),
              std::string::npos);
    // The reader never creates a file.
    const auto absent = dir.file("absent.db");
    ASSERT_FALSE(Reader::open(absent));
    EXPECT_FALSE(fs::exists(absent));
}

// Permissions do not bind root, so the check runs in a child that drops to "nobody" if needed.
TEST(StorageErrors, UnwritablePathsAreValuesNamingTheFile) {
    TempDir dir("storage");
    const auto existing = dir.file("existing.db");
    ASSERT_TRUE(Writer::open(existing).value().close());
    const fs::path locked = dir.path() / "locked";
    fs::create_directories(locked);
    const auto in_locked = (locked / "run.db").string();
    ASSERT_EQ(chmod(existing.c_str(), 0444), 0);
    ASSERT_EQ(chmod(locked.c_str(), 0555), 0);
    ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);

    const auto [status, out] = run_in_child([&] {
        if (geteuid() == 0 && setuid(65534) != 0) {
            _exit(3);
        }
        std::string opened;
        for (const auto& path : {existing, in_locked}) {
            auto writer = Writer::open(path);
            opened += writer ? std::string("opened") : writer.error().message;
            opened += '\n';
        }
        return opened;
    });
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    const auto newline = out.find('\n');
    ASSERT_NE(newline, std::string::npos) << out;
    const std::string read_only = out.substr(0, newline);
    const std::string no_folder_access = out.substr(newline + 1);
    EXPECT_NE(read_only.find(existing), std::string::npos) << read_only;
    EXPECT_NE(read_only.find("read-only"), std::string::npos) << read_only;
    EXPECT_NE(no_folder_access.find(in_locked), std::string::npos) << no_folder_access;
    EXPECT_NE(no_folder_access.find("Permission denied"), std::string::npos) << no_folder_access;
}

TEST(StorageErrors, BusyIsAValue) {
    TempDir dir("storage");
    const auto path = dir.file("busy.db");
    ASSERT_TRUE(Writer::open(path).value().close());
    Database holder = open_or_die(path);
    ASSERT_TRUE(holder.exec("BEGIN IMMEDIATE")); // holds the write lock

    WriterOptions options;
    options.busy_timeout = std::chrono::milliseconds(50);
    auto writer = Writer::open(path, options); // migrate() needs the write lock
    ASSERT_FALSE(writer);
    EXPECT_TRUE(writer.error().busy()) << writer.error().message;
    expect_names_file(writer.error(), path);
    ASSERT_TRUE(holder.exec("COMMIT"));
    EXPECT_TRUE(Writer::open(path, options));
}

TEST(StorageRecords, TimeFormatRoundTrips) {
    using namespace std::chrono;
    const TimePoint t = sys_days{year{2026} / 11 / 22} + hours{4} + minutes{11} + seconds{47} +
                        milliseconds{123} + microseconds{999};
    EXPECT_EQ(format_time(t), "2026-11-22T04:11:47.123Z"); // truncated, not rounded
    EXPECT_EQ(format_time(TimePoint{}), "1970-01-01T00:00:00.000Z");
    const auto parsed = parse_time("2026-11-22T04:11:47.123Z");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, floor<milliseconds>(t));
    for (const char* bad :
         {"", "2026-11-22 04:11:47.123Z", "2026-13-22T04:11:47.123Z", "2026-02-30T04:11:47.123Z",
          "2026-11-22T24:11:47.123Z", "2026-11-22T04:11:47.123", "2026-11-22T04:11:4x.123Z"}) {
        EXPECT_FALSE(parse_time(bad)) << bad;
    }
    EXPECT_EQ(parse_run_status("interrupted"), RunStatus::interrupted);
    EXPECT_FALSE(parse_run_status("done"));
    EXPECT_EQ(to_string(RunStatus::failed), "failed");
}

} // namespace
