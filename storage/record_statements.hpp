// The SQL of the writer's records: the prepared statements on the write connection and one
// apply() per record type. Internal to storage: the writer thread (storage/writer.cpp) calls
// it inside the transaction it opened; it knows nothing of queues, batches or threads.
#pragma once

#include "storage/crawl_records.hpp"
#include "storage/records.hpp"
#include "storage/run_tally.hpp"
#include "storage/sqlite.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flagcrawl::storage {

// An error of the writer's own (SQLITE_ERROR), as "<path>: <reason>".
Error writer_error(const std::string& path, std::string_view reason);

// Thread rules: those of its Database (one thread at a time); destroyed before the Database
// closes. Every call runs inside a transaction the caller opened: a failed call may have run
// part of its statements, so the caller rolls the transaction back.
class RecordStatements {
public:
    // Prepares every statement; throws Exception if one does not compile (a bug).
    explicit RecordStatements(Database& db);

    // Inserts a runs row (status 'running') and returns its id. `crawl` (may be null): the
    // crawl this run starts or resumes; its run_id, and a new crawl's crawl_id, are set to the
    // new run's id before it is applied.
    Result<std::int64_t> begin_run(const RunInfo& info, CrawlBeginRecord* crawl);

    // Sets a run's totals, status and finished_at; false when no run has that id.
    Result<bool> finish_run(std::int64_t run_id, const RunTotals& totals, RunStatus status,
                            TimePoint finished_at);

    Result<void> apply(const DownloadRecord& d);
    Result<void> apply(const CrawlBeginRecord& c);
    // A page's discovered frontier rows may be held back (moved out of `p`) and inserted with
    // those of the transaction's later records, by statements of k_frontier_chunk rows: the
    // caller calls flush() before it commits.
    Result<void> apply(PageRecord& p);
    Result<void> apply(const CrawlEndRecord& c);

    // Inserts the frontier rows held back; call it before committing the transaction (on a
    // failure, roll it back). Nothing is held back afterwards, whatever the outcome.
    Result<void> flush();
    // Forgets the rows held back (the transaction was rolled back).
    void discard() noexcept { m_held.clear(); }
    // What the records applied since the last call did to each run's totals (pages and skips
    // rows written, replaced, deleted or changed), by run id; the caller merges it once the
    // transaction commits, and drops it (drop_tallies()) when it rolls back.
    std::map<std::int64_t, RunTally> take_tallies() { return std::exchange(m_tallies, {}); }
    void drop_tallies() { m_tallies.clear(); }

private:
    Result<void> insert_frontier_rows(std::int64_t crawl_id, std::span<const FrontierRow> rows);
    // Binds `row` to the 12 parameters of `insert` from `at` + 1 on; `keys` holds its chain's
    // bytes until the statement has run.
    static void bind_frontier_row(Statement& insert, int at, std::int64_t crawl_id,
                                  const FrontierRow& row, std::string& keys);
    // Binds the frontier_queue row of `row` to the 3 parameters of `insert` from `at` + 1 on.
    static void bind_queue_row(Statement& insert, int at, std::int64_t crawl_id,
                               const FrontierRow& row);
    Result<std::int64_t> insert_page(const PageRecord& p); // the pages row and its links
    Result<void> insert_skip(const PageRecord& p, const SkipRow& skip,
                             std::optional<std::int64_t> page_id);
    // Takes the skips rows `find` selects (run_id, kind, rule) out of their runs' tallies.
    Result<void> untally_skips(Statement& find);
    // Tallies the change fail_chain is about to make to the rows of a chain's first URL.
    Result<void> tally_chain_failure(std::int64_t crawl_id, const ChainFailure& failure);

    Database& m_db;
    Statement m_insert_run;
    Statement m_finish_run;
    Statement m_insert_download;
    Statement m_insert_crawl;
    Statement m_resume_crawl;
    Statement m_insert_crawl_run;
    Statement m_mark_dead_runs;
    Statement m_end_crawl;
    Statement m_insert_page;
    Statement m_insert_links;
    // New URLs go in as multi-row INSERTs of up to this many rows, those of several pages of a
    // transaction together: one statement's cursors stay open across its rows, so each row
    // after the first is appended where the last went instead of being sought from the
    // B-tree's root (SQLite 3.40: ~16.4 k instructions per row alone, ~8.6 k per row 13 at a
    // time). A remainder goes in a row at a time: a compiled statement of every size would stay
    // resident for the whole crawl (~0.28 MB of the 5,000-page bench crawl's 2.8 MB heap peak),
    // for rows that come once per transaction.
    static constexpr std::size_t k_frontier_chunk = 16;
    // Each statement of frontier_urls rows is followed by one of their frontier_queue rows.
    std::optional<Statement> m_insert_frontier_chunk; // prepared on first use
    std::optional<Statement> m_insert_queue_chunk;    // with m_insert_frontier_chunk
    Statement m_insert_frontier_row;
    Statement m_insert_queue_row;
    // The chain keys of a chunk's rows, bound without a copy until its statement has run.
    std::array<std::string, k_frontier_chunk> m_chain_keys;
    // Frontier rows of the open transaction not inserted yet (fewer than k_frontier_chunk,
    // between records), in the order they came, all of the crawl m_held_crawl.
    std::vector<FrontierRow> m_held;
    std::int64_t m_held_crawl = 0;
    // A row is done: its frontier_queue row deleted, sought by the record's depth, or by the
    // row's own when that finds none.
    Statement m_frontier_done;
    Statement m_frontier_done_any_depth;
    Statement m_insert_skip;
    Statement m_replace_skip;
    Statement m_delete_skip;
    Statement m_fail_chain;
    Statement m_find_skip;                      // the row a replacing skip deletes
    Statement m_find_tentative_skip;            // the row m_delete_skip deletes
    Statement m_find_chain_rows;                // the rows m_fail_chain changes, as they are
    Statement m_adjust_ended_run;               // an ended run's totals, by a change to its rows
    std::map<std::int64_t, RunTally> m_tallies; // since take_tallies(), by run id
    std::string m_links_json;                   // reused by insert_page()
};

} // namespace flagcrawl::storage
