#include "storage/run_owner.hpp"

#include "storage/schema.hpp"

#include <unistd.h>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>
#include <limits.h>
#include <sstream>
#include <vector>

namespace flagcrawl::storage {

namespace {

struct ProcessStat {
    char state = '?';
    std::uint64_t start = 0;
};

// State (field 3) and start time (field 22) of /proc/PID/stat; nullopt when it cannot be read
// (no such process, or hidden from this user). The name (field 2) may hold spaces and
// parentheses: the fields after it start after its last ')'.
std::optional<ProcessStat> read_stat(const std::string& pid) {
    std::ifstream file("/proc/" + pid + "/stat");
    if (!file) {
        return std::nullopt;
    }
    const std::string text((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    const auto name_end = text.rfind(')');
    if (name_end == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(text.substr(name_end + 1));
    ProcessStat stat;
    fields >> stat.state;
    std::string skipped;
    for (int field = 4; field < 22 && fields >> skipped; ++field) {
    }
    if (!(fields >> stat.start)) {
        return std::nullopt;
    }
    return stat;
}

// Host, boot id and pid namespace: what every process of this one's view shares.
std::optional<ProcessIdentity> read_this_view() {
    ProcessIdentity self;
    std::array<char, HOST_NAME_MAX + 1> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) {
        return std::nullopt;
    }
    self.host = host.data();
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    if (!(boot >> self.boot_id) || self.boot_id.empty()) {
        return std::nullopt;
    }
    struct stat ns {};
    if (::stat("/proc/self/ns/pid", &ns) != 0) {
        return std::nullopt;
    }
    self.pid_ns = static_cast<std::uint64_t>(ns.st_ino);
    return self;
}

constexpr std::string_view k_owner_columns = "host, boot_id, pid_ns, pid, pid_start";

ProcessIdentity read_owner(const Statement& row, int first) {
    ProcessIdentity owner;
    owner.host = row.column_text(first);
    owner.boot_id = row.column_text(first + 1);
    owner.pid_ns = static_cast<std::uint64_t>(row.column_int64(first + 2));
    owner.pid = row.column_int64(first + 3);
    owner.start = static_cast<std::uint64_t>(row.column_int64(first + 4));
    return owner;
}

// The runs still 'running' that recorded an owner, and of them those whose owner is dead.
Result<std::vector<std::int64_t>> dead_runs(Database& db, const ProcessIdentity& self) {
    Statement select = db.prepare("SELECT id, " + std::string(k_owner_columns) +
                                  " FROM runs WHERE status = 'running' AND pid IS NOT NULL");
    std::vector<std::int64_t> dead;
    auto r = for_each_row(select, [&](const Statement& row) {
        if (liveness(read_owner(row, 1), self) == Liveness::dead) {
            dead.push_back(row.column_int64(0));
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    return dead;
}

} // namespace

std::optional<ProcessIdentity> process_identity(std::int64_t pid) {
    if (pid <= 0 || pid > INT_MAX) {
        return std::nullopt;
    }
    auto identity = read_this_view();
    if (!identity) {
        return std::nullopt;
    }
    auto stat = read_stat(std::to_string(pid));
    if (!stat) {
        return std::nullopt;
    }
    identity->pid = pid;
    identity->start = stat->start;
    return identity;
}

const std::optional<ProcessIdentity>& this_process() {
    static const std::optional<ProcessIdentity> self = process_identity(::getpid());
    return self;
}

Liveness liveness(const ProcessIdentity& owner, const ProcessIdentity& observer) {
    if (owner.host != observer.host) {
        return Liveness::unknown;
    }
    if (owner.boot_id != observer.boot_id) {
        return Liveness::dead; // this host rebooted since: every process of then is gone
    }
    if (owner.pid_ns != observer.pid_ns) {
        return Liveness::unknown; // its pid means another process here
    }
    if (owner.pid == observer.pid) {
        return owner.start == observer.start ? Liveness::alive : Liveness::dead;
    }
    if (owner.pid <= 0 || owner.pid > INT_MAX) {
        return Liveness::dead;
    }
    if (auto stat = read_stat(std::to_string(owner.pid))) {
        // A zombie (Z) or dying (X) process has ended; its parent just has not reaped it yet.
        if (stat->start != owner.start || stat->state == 'Z' || stat->state == 'X') {
            return Liveness::dead;
        }
        return Liveness::alive;
    }
    // /proc hides it (mounted with hidepid) or it is gone: only the latter is certain.
    if (::kill(static_cast<pid_t>(owner.pid), 0) != 0 && errno == ESRCH) {
        return Liveness::dead;
    }
    return Liveness::unknown;
}

Result<int> settle_dead_runs(Database& db) {
    const auto& self = this_process();
    if (!self) {
        return 0;
    }
    auto version = db.query_int("PRAGMA user_version");
    if (!version) {
        return version.error();
    }
    if (*version < k_run_owner_version) {
        return 0;
    }
    // Judged outside the transaction (reading /proc), so that the write lock is taken only when
    // there is something to mark; a dead owner stays dead, so the verdicts still hold inside it.
    auto dead = dead_runs(db, *self);
    if (!dead) {
        return dead.error();
    }
    if (dead->empty()) {
        return 0;
    }
    auto transaction = Transaction::begin(db, Transaction::Kind::immediate);
    if (!transaction) {
        return transaction.error();
    }
    Statement kill_run =
        db.prepare("UPDATE runs SET status = 'killed' WHERE id = ? AND status = 'running'");
    int marked = 0;
    for (const std::int64_t id : *dead) {
        kill_run.bind(1, id);
        if (auto r = kill_run.run(); !r) {
            return r.error();
        }
        marked += static_cast<int>(db.changes());
    }
    if (auto r = db.exec("UPDATE crawls SET status = 'interrupted', stop_reason = 'killed' "
                         "WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM crawl_runs AS c "
                         "JOIN runs AS r ON r.id = c.run_id "
                         "WHERE c.crawl_id = crawls.id AND r.status = 'running')");
        !r) {
        return r.error();
    }
    if (auto r = transaction->commit(); !r) {
        return r.error();
    }
    return marked;
}

Result<int> settle_dead_runs(const std::string& path, std::chrono::milliseconds busy_timeout) {
    OpenOptions options;
    options.mode = OpenMode::read_write;
    options.busy_timeout = busy_timeout;
    options.wal = false; // a file that is not ours must not be switched to WAL
    auto db = Database::open(path, options);
    if (!db) {
        return db.error();
    }
    if (auto version = check_schema(*db); !version) {
        return version.error();
    }
    return settle_dead_runs(*db);
}

Result<std::optional<ProcessIdentity>> live_owner_of_crawl(Database& db, std::int64_t crawl_id) {
    const auto& self = this_process();
    auto version = db.query_int("PRAGMA user_version");
    if (!version) {
        return version.error();
    }
    if (!self || *version < k_run_owner_version) {
        return std::optional<ProcessIdentity>();
    }
    Statement select = db.prepare("SELECT " + std::string(k_owner_columns) +
                                  " FROM runs JOIN crawl_runs ON crawl_runs.run_id = runs.id "
                                  "WHERE crawl_runs.crawl_id = ? AND runs.status = 'running' "
                                  "AND runs.pid IS NOT NULL");
    select.bind(1, crawl_id);
    std::optional<ProcessIdentity> live;
    auto r = for_each_row(select, [&](const Statement& row) {
        ProcessIdentity owner = read_owner(row, 0);
        if (liveness(owner, *self) == Liveness::alive) {
            live = std::move(owner);
            return false;
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    return live;
}

} // namespace flagcrawl::storage
