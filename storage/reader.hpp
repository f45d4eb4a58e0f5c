// The store's read side (stats, export, crawl --resume): a read-only connection that streams rows
// to a callback, one row in memory at a time. Safe to use while a Writer (even in another
// process) is writing: WAL readers see the last committed state when each query starts.
#pragma once

#include "storage/crawl_records.hpp"
#include "storage/records.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace flagcrawl::storage {

// Owns one read-only connection: use it from one thread at a time (it is movable to another).
// Callbacks run on the calling thread and return false to stop early; the row they get is valid
// only during the call.
class Reader {
public:
    // Opens an existing flagcrawl database read-only. Errors name the file (missing, not a
    // database, not a flagcrawl database, newer schema).
    static Result<Reader> open(const std::string& path);

    Result<std::optional<RunRow>> find_run(std::int64_t id);
    // The run with the highest id, optionally only among runs of `command` ("download", ...).
    Result<std::optional<RunRow>> latest_run(const std::optional<std::string>& command = {});
    // All runs, by id.
    Result<void> for_each_run(const std::function<bool(const RunRow&)>& on_run);
    // The downloads of one run (or of all runs), by id.
    Result<void> for_each_download(std::optional<std::int64_t> run_id,
                                   const std::function<bool(const DownloadRecord&)>& on_download);

    // Crawls (crawl_records.hpp documents the tables).
    Result<std::optional<CrawlRow>> find_crawl(std::int64_t id);
    // The most recent crawl that can be resumed (status running, interrupted or stopped).
    Result<std::optional<CrawlRow>> latest_resumable_crawl();
    Result<CrawlProgress> crawl_progress(std::int64_t crawl_id);
    // Frontier rows of a crawl with seq > after_seq, by seq, at most `limit` (0: all); only the
    // queued ones when queued_only.
    Result<void> for_each_frontier(std::int64_t crawl_id, std::int64_t after_seq, std::size_t limit,
                                   bool queued_only,
                                   const std::function<bool(const FrontierRow&)>& on_row);
    // The queued frontier rows of a crawl whose (depth, seq) comes after (after_depth,
    // after_seq), in that order, at most `limit` (0: all): the order a crawl fetches them in.
    Result<void> for_each_queued(std::int64_t crawl_id, int after_depth, std::int64_t after_seq,
                                 std::size_t limit,
                                 const std::function<bool(const FrontierRow&)>& on_row);
    // The key hashes of every frontier row of a crawl (the seen-set), in no particular order.
    Result<void> for_each_seen_key(std::int64_t crawl_id,
                                   const std::function<void(std::uint64_t)>& on_key);

    // The key hashes of a crawl's skips rows, each with its tentative flag (none in a file from
    // before step 6).
    Result<void> for_each_skip_key(std::int64_t crawl_id,
                                   const std::function<void(std::uint64_t, bool)>& on_key);

    // For queries not covered above: prepare on it and stream with for_each_row().
    Database& database() noexcept { return m_db; }
    int schema_version() const noexcept { return m_version; }

    Result<void> close() { return m_db.close(); }

private:
    Reader(Database db, int version)
        : m_db(std::move(db))
        , m_version(version) {}

    Database m_db;
    int m_version = 0;
};

} // namespace flagcrawl::storage
