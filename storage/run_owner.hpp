// Who owns a `runs` row while it says 'running', and how a later process tells a dead owner
// from a live one (schema step 9): a run whose process was killed (kill -9, the OOM killer, a
// power loss) never records its end, so the next flagcrawl that opens the file marks it
// 'killed', and never a run whose process still works on it (another crawl writing the same file).
//
// A process is named by what no other process shares, even after its pid is reused or the
// machine reboots: the host name, the kernel's boot id, its pid namespace, its pid and its start
// time (clock ticks after boot, /proc/PID/stat). Linux only; without /proc a run records no
// owner and is never judged.
#pragma once

#include "storage/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace flagcrawl::storage {

struct ProcessIdentity {
    std::string host;         // gethostname()
    std::string boot_id;      // /proc/sys/kernel/random/boot_id
    std::uint64_t pid_ns = 0; // inode of /proc/self/ns/pid
    std::int64_t pid = 0;
    std::uint64_t start = 0; // field 22 of /proc/PID/stat: clock ticks after boot

    friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

// This process, read once (thread-safe); nullopt when /proc does not say.
const std::optional<ProcessIdentity>& this_process();
// The process `pid` of this host and pid namespace as /proc says now; nullopt when there is
// none (or it is hidden from this user).
std::optional<ProcessIdentity> process_identity(std::int64_t pid);

enum class Liveness {
    alive,   // the owner is this process or still runs
    dead,    // its machine rebooted since, its pid is gone, reused or a zombie
    unknown, // another host or pid namespace, or a process this user may not look at
};

// What `observer` (this process, as this_process() says) can tell of `owner`. Looks at /proc
// and kill(pid, 0) of the observer's pid namespace.
Liveness liveness(const ProcessIdentity& owner, const ProcessIdentity& observer);

// In one IMMEDIATE transaction (only when there is one to mark): sets every 'running' run whose
// owner is dead to 'killed', and every 'running' crawl none of whose runs is still 'running' to
// 'interrupted' with stop_reason "killed" (resumable, as after Ctrl-C). Runs without an owner
// (older builds) and owners judged alive or unknown are left alone. A file before step 9 is left
// alone. Returns the number of runs marked. `db` must be writable and ours (migrated).
Result<int> settle_dead_runs(Database& db);

// The same for a command that only reads the file (stats, export, links, report): opens it for
// writing without creating or converting it, waits at most `busy_timeout` for another writer,
// and leaves a file that is not a flagcrawl database of step 9 or later untouched. Its errors
// (a read-only file, a busy lock) are for the caller to ignore: the runs then stay as they are.
Result<int> settle_dead_runs(const std::string& path, std::chrono::milliseconds busy_timeout);

// The owner of a run of `crawl_id` still 'running' whose owner is alive (a process crawling it
// now), or nullopt. For `crawl --resume`, which must not run the same crawl twice at once.
Result<std::optional<ProcessIdentity>> live_owner_of_crawl(Database& db, std::int64_t crawl_id);

} // namespace flagcrawl::storage
