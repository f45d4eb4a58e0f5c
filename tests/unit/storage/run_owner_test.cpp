// Run ownership (schema step 9): a run records the process that owns it; a later process marks it
// 'killed' once that process is gone (killed, a zombie, its pid reused, the machine rebooted),
// and never while it lives or when it cannot tell (another host or pid namespace, no owner).
// Real child processes, real SQLite files.
#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/run_owner.hpp"
#include "storage/schema.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

using namespace flagcrawl::storage;
using flagcrawl::testing_support::TempDir;

namespace {

// A child that sleeps until killed; killed and reaped when destroyed.
class Sleeper {
public:
    Sleeper() {
        m_pid = ::fork();
        if (m_pid == 0) {
            for (;;) {
                ::pause();
            }
        }
    }
    ~Sleeper() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            reap();
        }
    }
    Sleeper(const Sleeper&) = delete;
    Sleeper& operator=(const Sleeper&) = delete;

    pid_t pid() const { return m_pid; }
    void kill() const { ::kill(m_pid, SIGKILL); }
    void reap() {
        ::waitpid(m_pid, nullptr, 0);
        m_pid = -1;
    }

private:
    pid_t m_pid = -1;
};

ProcessIdentity self() {
    const auto& identity = this_process();
    EXPECT_TRUE(identity) << "/proc does not say who this process is";
    return identity.value_or(ProcessIdentity{});
}

RunInfo run_info(const std::string& command) {
    RunInfo info;
    info.command = command;
    info.arguments = "flagcrawl " + command;
    info.strategy = "async";
    return info;
}

std::string status_of(const std::string& path, const std::string& table, std::int64_t id) {
    auto reader = Reader::open(path);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().message);
    auto statement =
        reader->database().prepare("SELECT status || coalesce(' ' || " +
                                   std::string(table == "crawls" ? "stop_reason" : "NULL") +
                                   ", '') FROM " + table + " WHERE id = ?");
    statement.bind(1, id);
    std::string status;
    EXPECT_TRUE(for_each_row(statement, [&](const Statement& row) {
        status = row.column_text(0);
        return false;
    }));
    return status;
}

// Rewrites the owner of a run, as another process (or another boot, host, ...) would have
// recorded it.
void set_owner(const std::string& path, std::int64_t run_id, const ProcessIdentity& owner) {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    auto update = db->prepare("UPDATE runs SET host = ?, boot_id = ?, pid_ns = ?, pid = ?, "
                              "pid_start = ? WHERE id = ?");
    update.bind_all(owner.host, owner.boot_id, owner.pid_ns, owner.pid, owner.start, run_id);
    ASSERT_TRUE(update.run());
}

TEST(RunOwner, ThisProcessIsAliveAndItsFieldsAreItsOwn) {
    const ProcessIdentity me = self();
    EXPECT_EQ(me.pid, ::getpid());
    EXPECT_FALSE(me.host.empty());
    EXPECT_EQ(me.boot_id.size(), 36u) << me.boot_id; // a UUID
    struct stat ns {};
    ASSERT_EQ(::stat("/proc/self/ns/pid", &ns), 0);
    EXPECT_EQ(me.pid_ns, static_cast<std::uint64_t>(ns.st_ino));
    EXPECT_GT(me.start, 0u);
    EXPECT_EQ(liveness(me, me), Liveness::alive);
    EXPECT_EQ(process_identity(::getpid()), me);
}

TEST(RunOwner, ALiveChildIsAliveAndDeadOnceKilledEvenBeforeItIsReaped) {
    const ProcessIdentity me = self();
    Sleeper child;
    auto identity = process_identity(child.pid());
    ASSERT_TRUE(identity);
    EXPECT_EQ(liveness(*identity, me), Liveness::alive);
    child.kill();
    // Killed and not reaped yet: a zombie, which will never finish its run.
    for (int i = 0; i < 200; ++i) {
        if (liveness(*identity, me) == Liveness::dead) {
            break;
        }
        ::usleep(5000);
    }
    EXPECT_EQ(liveness(*identity, me), Liveness::dead);
    child.reap();
    EXPECT_EQ(liveness(*identity, me), Liveness::dead);
    EXPECT_FALSE(process_identity(identity->pid));
}

TEST(RunOwner, APidReusedOrAMachineRebootedIsDeadAnotherViewIsUnknown) {
    const ProcessIdentity me = self();
    ProcessIdentity other = me;
    other.start = me.start + 1; // this pid, another process (the pid was reused)
    EXPECT_EQ(liveness(other, me), Liveness::dead);
    other = me;
    other.boot_id = "00000000-0000-0000-0000-000000000000"; // the same pid before a reboot
    EXPECT_EQ(liveness(other, me), Liveness::dead);
    other = me;
    other.host = me.host + "-elsewhere"; // another machine writing the same file
    EXPECT_EQ(liveness(other, me), Liveness::unknown);
    other = me;
    other.pid_ns = me.pid_ns + 1; // a container: its pid numbers name other processes here
    EXPECT_EQ(liveness(other, me), Liveness::unknown);
    Sleeper child;
    auto identity = process_identity(child.pid());
    ASSERT_TRUE(identity);
    identity->start += 1; // the child's pid, but not the process that recorded the run
    EXPECT_EQ(liveness(*identity, me), Liveness::dead);
}

TEST(RunOwner, ARunRecordsThisProcessAsItsOwner) {
    TempDir dir("runowner");
    const auto path = dir.file("r.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    auto run = writer->begin_run(run_info("download"));
    ASSERT_TRUE(run);
    ASSERT_TRUE(writer->close());
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->schema_version(), schema_version());
    auto statement = reader->database().prepare(
        "SELECT host, boot_id, pid_ns, pid, pid_start FROM runs WHERE id = ?");
    statement.bind(1, *run);
    ProcessIdentity stored;
    ASSERT_TRUE(for_each_row(statement, [&](const Statement& row) {
        stored.host = row.column_text(0);
        stored.boot_id = row.column_text(1);
        stored.pid_ns = static_cast<std::uint64_t>(row.column_int64(2));
        stored.pid = row.column_int64(3);
        stored.start = static_cast<std::uint64_t>(row.column_uint64(4));
        return false;
    }));
    EXPECT_EQ(stored, self());
}

// Five runs left 'running': a dead owner, a live one, one of another host, one of another boot
// with this very pid, and one of a build that recorded no owner. The next writer marks the dead
// ones killed, and the crawl of a killed run interrupted (resumable); a reader's settle does the
// same for the runs that died since.
TEST(RunOwner, TheNextOpenMarksDeadRunsKilledAndLeavesTheOthers) {
    TempDir dir("runowner");
    const auto path = dir.file("r.db");
    Sleeper dead;
    Sleeper alive;
    Sleeper dies_later;
    std::int64_t ids[7] = {};
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer) << writer.error().message;
        for (auto& id : ids) {
            CrawlBeginRecord crawl;
            crawl.is_new = true;
            crawl.seeds = "[]";
            crawl.options = "{}";
            auto run = &id == &ids[0] ? writer->begin_run(run_info("crawl"), crawl)
                                      : writer->begin_run(run_info("download"));
            ASSERT_TRUE(run);
            id = *run;
        }
        ASSERT_TRUE(writer->close());
    }
    set_owner(path, ids[0], *process_identity(dead.pid()));
    set_owner(path, ids[1], *process_identity(alive.pid()));
    ProcessIdentity elsewhere = self();
    elsewhere.host += "-elsewhere";
    elsewhere.pid = 1;
    set_owner(path, ids[2], elsewhere);
    ProcessIdentity before_reboot = self();
    before_reboot.boot_id = "00000000-0000-0000-0000-000000000000";
    set_owner(path, ids[3], before_reboot);
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        auto no_owner = db->prepare("UPDATE runs SET host = NULL, boot_id = NULL, pid_ns = NULL, "
                                    "pid = NULL, pid_start = NULL WHERE id = ?");
        no_owner.bind(1, ids[4]);
        ASSERT_TRUE(no_owner.run());
    }
    set_owner(path, ids[5], *process_identity(dies_later.pid()));
    // ids[6] is this process's own run: alive.
    dead.kill();
    dead.reap();

    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(status_of(path, "runs", ids[0]), "killed");
    EXPECT_EQ(status_of(path, "crawls", ids[0]), "interrupted killed");
    EXPECT_EQ(status_of(path, "runs", ids[1]), "running");
    EXPECT_EQ(status_of(path, "runs", ids[2]), "running");
    EXPECT_EQ(status_of(path, "runs", ids[3]), "killed");
    EXPECT_EQ(status_of(path, "runs", ids[4]), "running");
    EXPECT_EQ(status_of(path, "runs", ids[5]), "running");
    EXPECT_EQ(status_of(path, "runs", ids[6]), "running");

    dies_later.kill();
    dies_later.reap();
    auto settled = settle_dead_runs(path, std::chrono::milliseconds(200));
    ASSERT_TRUE(settled) << settled.error().message;
    EXPECT_EQ(*settled, 1);
    EXPECT_EQ(status_of(path, "runs", ids[5]), "killed");
    EXPECT_EQ(status_of(path, "runs", ids[1]), "running");
    auto again = settle_dead_runs(path, std::chrono::milliseconds(200));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0);
}

// `crawl --resume` asks whether a crawl is being crawled now: its live owner, or nobody once the
// owner is dead (the resume then marks that run killed).
TEST(RunOwner, ACrawlHasALiveOwnerOnlyWhileItsProcessLives) {
    TempDir dir("runowner");
    const auto path = dir.file("r.db");
    Sleeper owner;
    std::int64_t crawl_id = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        CrawlBeginRecord crawl;
        crawl.is_new = true;
        crawl.seeds = "[]";
        crawl.options = "{}";
        auto run = writer->begin_run(run_info("crawl"), crawl);
        ASSERT_TRUE(run);
        crawl_id = *run;
        ASSERT_TRUE(writer->close());
    }
    const auto identity = *process_identity(owner.pid());
    set_owner(path, crawl_id, identity);
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto live = live_owner_of_crawl(reader->database(), crawl_id);
    ASSERT_TRUE(live);
    ASSERT_TRUE(*live);
    EXPECT_EQ((*live)->pid, owner.pid());
    owner.kill();
    owner.reap();
    live = live_owner_of_crawl(reader->database(), crawl_id);
    ASSERT_TRUE(live);
    EXPECT_FALSE(*live);
}

// A reader's settle leaves alone what it must not write: a file of another application (not
// switched to WAL, no -wal/-shm left), a file before step 9 (no owners to judge), a read-only
// file (its runs are read as they are).
TEST(RunOwner, AReadersSettleWritesOnlyWhereItMay) {
    TempDir dir("runowner");
    const auto foreign = dir.file("other.db");
    {
        auto db = Database::open(foreign, OpenOptions{.wal = false});
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("CREATE TABLE notes (text TEXT)"));
    }
    EXPECT_FALSE(settle_dead_runs(foreign, std::chrono::milliseconds(200)));
    EXPECT_FALSE(std::filesystem::exists(foreign + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(foreign + "-shm"));

    const auto old = dir.file("old.db");
    {
        auto db = Database::open(old);
        ASSERT_TRUE(db);
        ASSERT_TRUE(migrate(*db, k_run_owner_version - 1));
        ASSERT_TRUE(db->exec("INSERT INTO runs (command, arguments, strategy, concurrency, "
                             "started_at, status) VALUES ('download', '', 'async', 1, "
                             "'2026-01-01T00:00:00.000Z', 'running')"));
    }
    auto settled = settle_dead_runs(old, std::chrono::milliseconds(200));
    ASSERT_TRUE(settled) << settled.error().message;
    EXPECT_EQ(*settled, 0);
    EXPECT_EQ(status_of(old, "runs", 1), "running");
}

TEST(RunOwner, AReadOnlyFileIsReadAsItIs) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root writes read-only files";
    }
    TempDir dir("runowner");
    const auto path = dir.file("r.db");
    Sleeper dead;
    std::int64_t run_id = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        auto run = writer->begin_run(run_info("download"));
        ASSERT_TRUE(run);
        run_id = *run;
        ASSERT_TRUE(writer->close());
    }
    set_owner(path, run_id, *process_identity(dead.pid()));
    dead.kill();
    dead.reap();
    std::filesystem::permissions(path, std::filesystem::perms::owner_read);
    EXPECT_FALSE(settle_dead_runs(path, std::chrono::milliseconds(200)));
    EXPECT_EQ(status_of(path, "runs", run_id), "running");
}

// Step 9 rebuilds `runs` (a new CHECK): a step-8 file keeps its runs, their ids and every row
// that refers to them, and foreign keys are enforced again afterwards.
TEST(RunOwner, StepNineKeepsTheRunsAndTheirReferences) {
    TempDir dir("runowner");
    const auto path = dir.file("r.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(migrate(*db, k_run_owner_version - 1));
        ASSERT_TRUE(db->exec(
            "INSERT INTO runs (id, command, arguments, strategy, concurrency, started_at, "
            "finished_at, status, ok, not_found, errors, bytes, requests) VALUES "
            "(3, 'download', 'a', 'async', 4, '2026-01-01T00:00:00.000Z', "
            "'2026-01-01T00:00:01.000Z', 'finished', 5, 1, 2, 1000, 9), "
            "(7, 'crawl', 'b', 'threaded', 2, '2026-01-02T00:00:00.000Z', NULL, 'running', "
            "0, 0, 0, 0, 0);"
            "INSERT INTO downloads (run_id, url, bytes, elapsed_ms, attempts, fetched_at) "
            "VALUES (3, 'http://127.0.0.1/a', 10, 1.0, 1, '2026-01-01T00:00:00.500Z');"
            "INSERT INTO crawls (id, seeds, options, status) VALUES (7, '[]', '{}', 'running');"
            "INSERT INTO crawl_runs (crawl_id, run_id) VALUES (7, 7);"));
        ASSERT_TRUE(migrate(*db));
        EXPECT_EQ(*db->query_int("PRAGMA user_version"), schema_version());
        EXPECT_EQ(*db->query_int("PRAGMA foreign_keys"), 1);
        EXPECT_EQ(*db->query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
        // The rebuilt table is the one the other tables refer to.
        EXPECT_FALSE(db->exec("INSERT INTO downloads (run_id, url, bytes, elapsed_ms, attempts, "
                              "fetched_at) VALUES (99, 'x', 0, 0, 1, 'now')"));
        EXPECT_TRUE(db->exec("UPDATE runs SET status = 'killed' WHERE id = 7"));
        EXPECT_FALSE(db->exec("UPDATE runs SET status = 'gone' WHERE id = 7"));
    }
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto finished = reader->find_run(3);
    ASSERT_TRUE(finished && *finished);
    EXPECT_EQ((*finished)->status, RunStatus::finished);
    EXPECT_EQ((*finished)->totals.ok, 5u);
    EXPECT_EQ((*finished)->totals.requests, 9u);
    EXPECT_EQ((*finished)->info.concurrency, 4);
    auto killed = reader->find_run(7);
    ASSERT_TRUE(killed && *killed);
    EXPECT_EQ((*killed)->status, RunStatus::killed);
    std::int64_t downloads = 0;
    ASSERT_TRUE(reader->for_each_download(3, [&](const DownloadRecord&) {
        ++downloads;
        return true;
    }));
    EXPECT_EQ(downloads, 1);
}

} // namespace
