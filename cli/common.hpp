// Options shared by the commands that fetch (download, flags, crawl, bench), and the steps
// they share: building the fetch policy, opening the store, recording the run.
#pragma once

#include "fetch/fetch.hpp"
#include "storage/writer.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::cli {

struct CommonOptions {
    std::string strategy = "async";
    int concurrency = 0;  // 0: the command's default
    double timeout_s = 0; // whole request (per attempt); 0: none
    double connect_timeout_s = 10;
    int retries = 2;
    std::string max_size; // "10M"; empty: no limit
    // A transfer under min_speed bytes/s for stall_timeout_s seconds is ended (0: never).
    double stall_timeout_s = 30;
    std::string min_speed = "1K";
    // Content-encoded bodies: decoded size at most max_decoded ("0": none) and max_ratio times
    // the bytes received (0: none).
    std::string max_decoded = "1G";
    int max_ratio = 100;
    std::string user_agent;
    std::vector<std::string> headers;
    std::string proxy;   // --proxy URL; empty: the environment's http_proxy, if any
    std::string cookies; // --cookies FILE; empty: no cookies kept
    std::string db;      // empty: the default store (see default_db_path)
    bool no_db = false;  // record nothing
    bool quiet = false;
    bool verbose = false;
    std::string progress = "auto";
    bool json = false;
};

// Adds the common options to a subcommand. `default_timeout_s` is that command's default for
// --timeout (0: none).
void add_common_options(CLI::App& command, CommonOptions& options, double default_timeout_s);

// The validated strategy; throws UsageError naming the bad value.
fetch::Strategy parse_strategy_option(const CommonOptions& options);
// The fetch policy the options describe; throws UsageError for bad values (and for a cookie file
// that cannot be read, naming its line).
fetch::Policy make_policy(const CommonOptions& options);

// --cookies FILE: one jar per process, shared by every fetcher and strategy, loaded from FILE by
// the first make_policy() that names it (a missing FILE is an empty jar). save_cookie_file() writes
// it back, atomically (a temporary file renamed over FILE, mode 0600); main() calls it once the
// command is over, whatever its outcome. Returns "" when saved (or there is no jar), else the
// one-line reason.
std::string save_cookie_file();
// "512", "64K", "10M", "1G" (powers of 1024) -> bytes; throws UsageError naming the option.
std::uint64_t parse_size(const std::string& text, const std::string& option);

// Where runs are recorded by default: $XDG_STATE_HOME/flagcrawl/flagcrawl.db, else
// ~/.local/state/flagcrawl/flagcrawl.db (like a shell history: every run is kept, and output
// folders stay clean), else ./flagcrawl.db when there is no home.
std::string default_db_path();
// The DB to use given the options; empty when recording is off.
std::string db_path(const CommonOptions& options);

// Creates the output folder `dir` (and its parents) unless it exists; throws FatalError
// ("cannot create output folder DIR: reason") when it cannot.
void create_output_folder(const std::string& dir);

// Raises the soft limit on open descriptors to the hard one, once at startup for every command:
// many concurrent connections need many descriptors (two per connection when a server and its
// clients share the process, plus the files being written).
void raise_descriptor_limit();

// The run this invocation records: opens the store (creating its folder for the default path)
// and begins a `runs` row; with --no-db, writer() is null and id() 0. Construct it after the
// InterruptWatcher (the writer starts a thread). Used by the main thread only.
class RecordedRun {
public:
    // 1024 queued records hold the writer's batches with room to spare (it applies a record in
    // about 2 us) and cost a quarter of the default queue's memory.
    static constexpr storage::WriterOptions k_writer_options{.queue_capacity = 1024};

    // Throws FatalError (the store's one-line reason) when the store cannot be opened or the
    // run not begun.
    RecordedRun(const CommonOptions& options, std::string command, fetch::Strategy strategy,
                int concurrency, const storage::WriterOptions& writer_options = k_writer_options);
    storage::Writer* writer() const { return m_writer.get(); }
    std::int64_t id() const { return m_id; }
    // Records the totals and the final status (failed when `store_error`, else interrupted or
    // finished) and closes the store. Throws FatalError with the first store error.
    void finish(const storage::RunTotals& totals, bool interrupted,
                const std::optional<storage::Error>& store_error);

private:
    std::unique_ptr<storage::Writer> m_writer;
    std::int64_t m_id = 0;
};

// The process's command line, saved once by main(); process_arguments() returns it as one
// string for the `runs` table (arguments quoted when they hold spaces or quotes; a password in
// a URL or a password= keyword recorded as "***").
void set_process_arguments(int argc, char** argv);
const std::string& process_arguments();
// The program as it was invoked (argv[0]), quoted for a shell: the first word of a command
// printed for the user to run again.
const std::string& invoked_program();
// `word` as one word for a POSIX shell: as it is when it holds nothing a shell would read,
// else in single quotes.
std::string shell_quote(std::string_view word);

} // namespace flagcrawl::cli
