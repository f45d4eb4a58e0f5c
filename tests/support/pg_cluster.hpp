// Test helper: a private PostgreSQL cluster for one test, in a temporary folder, reachable only
// through its own Unix socket (no TCP: parallel tests never collide on a port), with fsync off,
// removed when the PgCluster goes out of scope. When PostgreSQL's server programs are not
// installed, start() says why and the test skips (FLAGCRAWL_START_PG_OR_SKIP).
//
// initdb runs once per machine and PostgreSQL version into a template folder that later clusters
// copy (initdb costs about a second of CPU; a copy a tenth of that). As root (CI), the server
// programs run as the `postgres` user through runuser, since PostgreSQL refuses to run as root.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace flagcrawl::testing_support {

// One row of a query's result, each field as text ("" for NULL).
using SqlRow = std::vector<std::string>;

class PgCluster {
public:
    // A running cluster, or nullptr with `why_not` saying what is missing or what failed. A
    // failure after PostgreSQL was found (initdb or the server failing) is also reported with
    // ADD_FAILURE: only a missing installation is a reason to skip.
    static std::unique_ptr<PgCluster> start(std::string& why_not);
    ~PgCluster(); // stops the server (immediate mode) and removes the folder

    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    // A libpq connection URI for the superuser `flagcrawl` (no password: trusted locally), to
    // database `postgres`: "postgresql://flagcrawl@/postgres?host=/tmp/...&port=5432".
    std::string uri() const { return uri_for("flagcrawl", ""); }
    // The same for another role, with a password ("" for none) embedded in the URI.
    std::string uri_for(const std::string& user, const std::string& password) const;

    // Runs SQL as the superuser and returns the rows of its last statement's result. A failure
    // is a test failure (ADD_FAILURE) and returns no rows.
    std::vector<SqlRow> sql(const std::string& statement) const;
    // The first field of the first row, or "" when there is none.
    std::string value(const std::string& statement) const;

    // Stops the server (fast mode: open sessions are ended) and starts it again, for outage
    // tests. Both wait until done; a failure is a test failure.
    void stop_server();
    void start_server();

    const std::filesystem::path& folder() const { return m_folder; }

private:
    PgCluster() = default;
    bool run_pg_ctl(const std::vector<std::string>& args) const;

    std::filesystem::path m_bin;    // PostgreSQL's server programs
    std::filesystem::path m_folder; // data/, the socket and the server log
    bool m_as_postgres = false;     // root: run the server programs through runuser
    bool m_running = false;
};

} // namespace flagcrawl::testing_support

// Declares `std::unique_ptr<PgCluster> name` started for this test, or skips the test (with the
// reason) when PostgreSQL is not installed.
#define FLAGCRAWL_START_PG_OR_SKIP(name)                                                           \
    std::string name##_why_not;                                                                    \
    auto name = ::flagcrawl::testing_support::PgCluster::start(name##_why_not);                    \
    if (!name) {                                                                                   \
        GTEST_SKIP() << name##_why_not;                                                            \
    }
