#include "pg_cluster.hpp"

#include <libpq-fe.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <system_error>

namespace flagcrawl::testing_support {
namespace {

namespace fs = std::filesystem;

// The folder of initdb and pg_ctl: $FLAGCRAWL_PG_BIN, else the newest Debian-style
// /usr/lib/postgresql/N/bin, else the folder on PATH that has both. Empty when none.
fs::path find_server_programs() {
    auto usable = [](const fs::path& dir) {
        return ::access((dir / "initdb").c_str(), X_OK) == 0 &&
               ::access((dir / "pg_ctl").c_str(), X_OK) == 0;
    };
    if (const char* env = std::getenv("FLAGCRAWL_PG_BIN"); env && *env) {
        return usable(env) ? fs::path(env) : fs::path();
    }
    std::error_code ec;
    std::vector<fs::path> versions;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        if (usable(entry.path() / "bin")) {
            versions.push_back(entry.path() / "bin");
        }
    }
    if (!versions.empty()) {
        // "9.6" < "15": compare the major versions as numbers.
        std::sort(versions.begin(), versions.end(), [](const fs::path& a, const fs::path& b) {
            return std::atof(a.parent_path().filename().c_str()) <
                   std::atof(b.parent_path().filename().c_str());
        });
        return versions.back();
    }
    const char* path = std::getenv("PATH");
    std::string rest = path ? path : "";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const fs::path dir = rest.substr(0, colon);
        if (!dir.empty() && usable(dir)) {
            return dir;
        }
        rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    return {};
}

// Runs argv (argv[0] a path) with stdin from /dev/null and stdout+stderr appended to `log`;
// true when it exits 0. As root with `as_postgres`, through `runuser -u postgres --`.
bool run(std::vector<std::string> argv, bool as_postgres, const fs::path& log) {
    if (as_postgres) {
        argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
        if (::access(argv[0].c_str(), X_OK) != 0) {
            argv[0] = "/sbin/runuser";
        }
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0) {
            ::_exit(126);
        }
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string random_digits() {
    std::random_device random;
    return std::to_string(random()) + std::to_string(random());
}

// Access for the tests: the superuser `flagcrawl` is trusted on the socket; every other role
// must give its password (so that an authentication failure can be tested).
constexpr const char* k_hba = "local all flagcrawl trust\n"
                              "local all all scram-sha-256\n";

// The template cluster for these server programs, made once (under a lock: parallel tests
// race for it). Returns its data folder, or empty with `why_not` set.
fs::path template_cluster(const fs::path& bin, bool as_postgres, std::string& why_not) {
    const std::string version = bin.parent_path().filename().string();
    const fs::path base = fs::temp_directory_path() /
                          ("flagcrawl-pg-template-" + version + "-" + std::to_string(::getuid()));
    const fs::path data = base / "data";
    std::error_code ec;
    fs::create_directories(base, ec);
    const int lock = ::open((base / "lock").c_str(), O_RDWR | O_CREAT, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        why_not = "cannot lock " + (base / "lock").string();
        if (lock >= 0) {
            ::close(lock);
        }
        return {};
    }
    if (!fs::exists(data / "PG_VERSION")) {
        fs::remove_all(data, ec);
        const fs::path building = base / ("building-" + random_digits());
        fs::create_directories(building, ec);
        if (as_postgres) {
            const passwd* pw = ::getpwnam("postgres");
            if (::chown(base.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
                ::chown(building.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                why_not = "cannot give " + base.string() + " to the postgres user";
            }
        }
        const fs::path log = base / "initdb.log";
        if (why_not.empty() &&
            !run({(bin / "initdb").string(), "-D", (building / "data").string(), "-U", "flagcrawl",
                  "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                 as_postgres, log)) {
            why_not = "initdb failed: " + read_text(log);
        }
        if (why_not.empty()) {
            std::ofstream(building / "data" / "pg_hba.conf", std::ios::trunc) << k_hba;
            fs::rename(building / "data", data, ec);
            if (ec) {
                why_not = "cannot move the template cluster to " + data.string();
            }
        }
        fs::remove_all(building, ec);
    }
    ::close(lock);
    return why_not.empty() ? data : fs::path();
}

} // namespace

std::unique_ptr<PgCluster> PgCluster::start(std::string& why_not) {
    std::unique_ptr<PgCluster> cluster(new PgCluster);
    cluster->m_bin = find_server_programs();
    if (cluster->m_bin.empty()) {
        why_not = "PostgreSQL's server programs (initdb, pg_ctl) are not installed: .ci/setup "
                  "installs postgresql-15";
        return nullptr;
    }
    cluster->m_as_postgres = ::geteuid() == 0;
    const passwd* pw = nullptr;
    if (cluster->m_as_postgres) {
        pw = ::getpwnam("postgres");
        if (pw == nullptr) {
            why_not = "running as root and there is no `postgres` user to run PostgreSQL as";
            return nullptr;
        }
    }
    const fs::path data_template =
        template_cluster(cluster->m_bin, cluster->m_as_postgres, why_not);
    if (data_template.empty()) {
        ADD_FAILURE() << "PostgreSQL cluster: " << why_not;
        return nullptr;
    }
    cluster->m_folder = fs::temp_directory_path() / ("flagcrawl-pg-" + random_digits());
    std::error_code ec;
    fs::create_directories(cluster->m_folder, ec);
    if (pw != nullptr && ::chown(cluster->m_folder.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        why_not = "cannot give " + cluster->m_folder.string() + " to the postgres user";
        ADD_FAILURE() << why_not;
        return nullptr;
    }
    const fs::path log = cluster->m_folder / "setup.log";
    if (!run({"/bin/cp", "-a", data_template.string(), (cluster->m_folder / "data").string()},
             cluster->m_as_postgres, log)) {
        why_not = "cannot copy the template cluster: " + read_text(log);
        ADD_FAILURE() << why_not;
        return nullptr;
    }
    cluster->start_server();
    if (!cluster->m_running) {
        why_not = "the PostgreSQL server did not start";
        return nullptr;
    }
    return cluster;
}

PgCluster::~PgCluster() {
    if (m_running) {
        run_pg_ctl({"stop", "-m", "immediate"});
    }
    std::error_code ignored;
    fs::remove_all(m_folder, ignored);
}

bool PgCluster::run_pg_ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {
        (m_bin / "pg_ctl").string(), "-D", (m_folder / "data").string(), "-w", "-t", "60"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, m_as_postgres, m_folder / "setup.log");
}

void PgCluster::start_server() {
    // Unix socket only, in this cluster's own folder; the port only names the socket file.
    const std::string options = "-c listen_addresses='' -c unix_socket_directories='" +
                                m_folder.string() +
                                "' -c port=5432 -c fsync=off -c full_page_writes=off "
                                "-c synchronous_commit=off -c max_connections=40 "
                                "-c shared_buffers=16MB";
    m_running = run_pg_ctl({"-l", (m_folder / "server.log").string(), "-o", options, "start"});
    if (!m_running) {
        ADD_FAILURE() << "pg_ctl start failed: " << read_text(m_folder / "setup.log")
                      << read_text(m_folder / "server.log");
    }
}

void PgCluster::stop_server() {
    if (!run_pg_ctl({"stop", "-m", "fast"})) {
        ADD_FAILURE() << "pg_ctl stop failed: " << read_text(m_folder / "setup.log");
    }
    m_running = false;
}

std::string PgCluster::uri_for(const std::string& user, const std::string& password) const {
    return "postgresql://" + user + (password.empty() ? "" : ":" + password) +
           "@/postgres?host=" + m_folder.string() + "&port=5432";
}

std::vector<SqlRow> PgCluster::sql(const std::string& statement) const {
    std::vector<SqlRow> rows;
    PGconn* conn = PQconnectdb(uri().c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        ADD_FAILURE() << "cannot connect to the test cluster: " << PQerrorMessage(conn);
        PQfinish(conn);
        return rows;
    }
    PGresult* result = PQexec(conn, statement.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
        for (int r = 0; r < PQntuples(result); ++r) {
            SqlRow& row = rows.emplace_back();
            for (int c = 0; c < PQnfields(result); ++c) {
                row.emplace_back(PQgetvalue(result, r, c));
            }
        }
    } else if (status != PGRES_COMMAND_OK) {
        ADD_FAILURE() << "SQL failed: " << statement << ": " << PQerrorMessage(conn);
    }
    PQclear(result);
    PQfinish(conn);
    return rows;
}

std::string PgCluster::value(const std::string& statement) const {
    const auto rows = sql(statement);
    return rows.empty() || rows.front().empty() ? std::string() : rows.front().front();
}

} // namespace flagcrawl::testing_support
