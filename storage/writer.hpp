// The store's single writer ("executor"): one thread owns the only write connection and its
// prepared statements, fed by a bounded queue; records are committed in batched transactions.
#pragma once

#include "storage/crawl_records.hpp"
#include "storage/records.hpp"
#include "storage/sqlite.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace flagcrawl::storage {

struct Summary; // stats.hpp

// Everything submit() accepts. The queue carries these values; the writer thread applies each
// with the statements it prepared for that type (see writer.cpp: one apply() per alternative).
//
// Atomicity: one Record is always applied inside ONE transaction, never split across two, and
// records are applied in submission order. So data that must land together (a crawl's page
// result + its new frontier rows + its seen keys) is ONE record type holding all of it.
//
// Adding a record type: define the struct in records.hpp, add it here, add a migration step
// (schema.cpp) for its tables, prepare its statements in record_statements.cpp's
// RecordStatements and write its apply() overload there. Nothing else changes.
using Record = std::variant<DownloadRecord, CrawlBeginRecord, PageRecord, CrawlEndRecord>;

// Defaults measured with tests/storage_bench (storage/README.md has the figures): one
// transaction per 1024 rows costs ~2 us of writer CPU per row; committing whenever the queue
// runs dry (batch_delay 0) costs ~3.7 us per row at 25k rows/s, as batches shrink to ~30 rows.
struct WriterOptions {
    // Records queued or being applied, at most; submit() blocks beyond it (backpressure). About
    // 300 bytes plus the record's strings each: 4096 is ~2.5 MB, and absorbs ~150 ms of a
    // checkpoint's fsync at 25k rows/s.
    std::size_t queue_capacity = 4096;
    // ... and their bytes (the records' own and their strings' and vectors'), at most: a record
    // count alone lets records that hold much (a page's links and discoveries, a saved body)
    // keep many MiB alive whenever the writer falls behind. A record larger than this alone
    // waits for the queue to empty, then goes in alone.
    std::size_t queue_bytes = 8 << 20;
    // A batch (one transaction) is committed when it holds this many records ...
    std::size_t batch_records = 1024;
    // ... or when this much time has passed since its first record, whichever comes first.
    // Until then the writer gathers records (it wakes every `wake_records` queued records, not
    // for each one). 0 commits as soon as the queue runs dry. flush(), begin_run(),
    // finish_run() and close() commit at once. A SIGKILL loses the open batch and the queued
    // records.
    std::chrono::milliseconds batch_delay{50};
    // While a batch is open, the writer sleeps until this many records are queued (at most 256
    // are taken at once). Fewer wakeups against fewer records waiting in memory: a crawl's
    // records hold ~30 links each, and taking them 16 at a time instead of 256 cut its peak
    // RSS by ~0.5 MiB for ~2 context switches per 16 pages.
    std::size_t wake_records = 256;
    std::chrono::milliseconds busy_timeout{5000}; // waiting for another process's lock
};

// Counters since open(), for benchmarks and --verbose output.
struct WriterStats {
    std::uint64_t submitted = 0;       // records accepted by submit()
    std::uint64_t committed = 0;       // records in committed transactions
    std::uint64_t transactions = 0;    // commits
    std::size_t peak_queued = 0;       // most records queued or being applied at once
    std::size_t peak_queued_bytes = 0; // most bytes they held at once (see queue_bytes)
};

// Thread rules: every member function may be called from any thread, concurrently, EXCEPT that
// close() (and the destructor) must come after every other call has returned: a submit() that
// races close() throws std::logic_error. No call may be made from inside the writer thread
// (there is no user code on it). submit() costs a mutex and a move and blocks only while
// the queue is full; begin_run(), finish_run() and flush() wait for the writer to commit.
// Called from an event loop, a full queue stalls the loop: that is the intended backpressure.
//
// Errors: the first failure (disk full, I/O error, busy past busy_timeout, a constraint such as
// an unknown run_id) rolls back the open batch and makes the writer fail: later records are
// dropped, and submit(), flush(), begin_run(), finish_run() and close() return that error.
class Writer {
public:
    // Opens (creating if needed) the database for writing, migrates its schema, marks the runs
    // whose process died 'killed' (settle_dead_runs, run_owner.hpp), prepares the statements and
    // starts the writer thread. Errors name the file (missing folder, read-only
    // file or folder, not a database, newer schema, locked). Throws std::invalid_argument for
    // a zero queue_capacity, queue_bytes, batch_records or wake_records.
    static Result<Writer> open(const std::string& path, const WriterOptions& options = {});

    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) noexcept;
    ~Writer(); // close(), discarding its error: call close() to see it

    // Inserts a `runs` row (status 'running', owned by this process) and commits it with everything
    // queued before it; returns the run id. Blocks until committed. `crawl`: the crawl this run
    // starts or resumes, in the same transaction (so that no runs row of a crawl is ever left
    // without its crawls row); its run_id, and a new crawl's crawl_id, are the new run's id.
    Result<std::int64_t> begin_run(const RunInfo& info,
                                   std::optional<CrawlBeginRecord> crawl = std::nullopt);

    // Sets the totals, the status and finished_at, committing it with everything queued before
    // it. Blocks until committed.
    Result<void> finish_run(std::int64_t run_id, const RunTotals& totals, RunStatus status,
                            TimePoint finished_at = std::chrono::system_clock::now());

    // Queues a record; blocks while the queue is full. Returns the writer's error if it failed.
    Result<void> submit(Record record);

    // Waits until every record submitted before this call (by any thread) is committed. Returns
    // the writer's first error, if any.
    Result<void> flush();

    // Flushes, stops and joins the thread, then closes the connection. Returns the first error
    // (of the writer or of closing). Later calls return the same result; other calls then throw.
    Result<void> close();

    // Runs `gate` on the writer thread before each commit (nothing: no gate): what the batch
    // records must not be committed before something else holds it (a crawl's WARC: the
    // archived responses of the pages it records). A call in progress finishes before this one
    // returns, so that what the old gate refers to may go once it has. Any thread.
    void set_commit_gate(std::function<void()> gate);

    // A crawl run's totals as summarize_run() would read them from the file now: counted from
    // the pages and skips rows this writer committed (and the changes it made to them), so that
    // the crawl's closing summary does not read its rows back. Only the counts are set (outcomes,
    // requests, bytes, robots.txt, external checks, errors by kind, skips by kind and rule); all
    // zero for a run it wrote no such row of. Call it after flush() to count every record
    // submitted before. Any thread.
    Summary run_totals(std::int64_t run_id) const;

    WriterStats stats() const;
    // The writer's first error, once it failed (see Errors above); never waits for the writer.
    std::optional<Error> failure() const;

private:
    struct Impl;
    explicit Writer(std::unique_ptr<Impl> impl) noexcept;
    Impl& impl() const; // throws std::logic_error on a moved-from Writer
    std::unique_ptr<Impl> m_impl;
};

} // namespace flagcrawl::storage
