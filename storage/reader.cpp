#include "storage/reader.hpp"

#include "storage/schema.hpp"

#include <optional>

namespace flagcrawl::storage {

namespace {

constexpr std::string_view k_run_columns =
    "SELECT id, command, arguments, strategy, concurrency, started_at, finished_at, status, ok, "
    "not_found, errors, bytes, requests FROM runs ";

// The error kind comes last: the column, or its derivation in a file from before step 4.
constexpr std::string_view k_download_columns =
    "SELECT id, run_id, url, final_url, http_status, bytes, path, sha256, elapsed_ms, attempts, "
    "error, dns_ms, connect_ms, ttfb_ms, fetched_at, ";

TimePoint time_or_epoch(std::string_view text) {
    return parse_time(text).value_or(TimePoint{});
}

RunRow read_run(const Statement& row) {
    RunRow run;
    run.id = row.column_int64(0);
    run.info.command = row.column_text(1);
    run.info.arguments = row.column_text(2);
    run.info.strategy = row.column_text(3);
    run.info.concurrency = static_cast<int>(row.column_int64(4));
    run.info.started_at = time_or_epoch(row.column_text(5));
    if (!row.is_null(6)) {
        run.finished_at = parse_time(row.column_text(6));
    }
    // The CHECK constraint allows only the statuses RunStatus names.
    run.status = parse_run_status(row.column_text(7)).value_or(RunStatus::failed);
    run.totals.ok = row.column_uint64(8);
    run.totals.not_found = row.column_uint64(9);
    run.totals.errors = row.column_uint64(10);
    run.totals.bytes = row.column_uint64(11);
    run.totals.requests = row.column_uint64(12);
    return run;
}

void read_download(const Statement& row, DownloadRecord& d) {
    d.id = row.column_int64(0);
    d.run_id = row.column_int64(1);
    d.url = row.column_text(2);
    d.final_url = row.column_optional_text(3);
    d.http_status.reset();
    if (!row.is_null(4)) {
        d.http_status = static_cast<int>(row.column_int64(4));
    }
    d.bytes = row.column_uint64(5);
    d.path = row.column_optional_text(6);
    d.sha256 = row.column_optional_text(7);
    d.elapsed_ms = row.column_double(8);
    d.attempts = static_cast<int>(row.column_int64(9));
    d.error = row.column_optional_text(10);
    d.dns_ms = row.column_optional_double(11);
    d.connect_ms = row.column_optional_double(12);
    d.ttfb_ms = row.column_optional_double(13);
    d.fetched_at = time_or_epoch(row.column_text(14));
    d.error_kind = row.column_optional_text(15);
}

Result<std::optional<RunRow>> first_run(Statement& statement) {
    std::optional<RunRow> found;
    auto r = for_each_row(statement, [&](const Statement& row) {
        found = read_run(row);
        return false;
    });
    if (!r) {
        return r.error();
    }
    return found;
}

} // namespace

Result<Reader> Reader::open(const std::string& path) {
    OpenOptions options;
    options.mode = OpenMode::read_only;
    auto db = Database::open(path, options);
    if (!db) {
        return db.error();
    }
    auto version = check_schema(*db);
    if (!version) {
        return version.error();
    }
    return Reader(std::move(*db), *version);
}

Result<std::optional<RunRow>> Reader::find_run(std::int64_t id) {
    Statement statement = m_db.prepare(std::string(k_run_columns) + "WHERE id = ?");
    statement.bind(1, id);
    return first_run(statement);
}

Result<std::optional<RunRow>> Reader::latest_run(const std::optional<std::string>& command) {
    Statement statement =
        m_db.prepare(std::string(k_run_columns) + "WHERE ?1 IS NULL OR command = ?1 " +
                     "ORDER BY id DESC LIMIT 1");
    statement.bind(1, command);
    return first_run(statement);
}

Result<void> Reader::for_each_run(const std::function<bool(const RunRow&)>& on_run) {
    Statement statement = m_db.prepare(std::string(k_run_columns) + "ORDER BY id");
    return for_each_row(statement, [&](const Statement& row) { return on_run(read_run(row)); });
}

Result<void>
Reader::for_each_download(std::optional<std::int64_t> run_id,
                          const std::function<bool(const DownloadRecord&)>& on_download) {
    Statement statement =
        m_db.prepare(std::string(k_download_columns) + error_kind_sql(m_version) +
                     " FROM downloads WHERE ?1 IS NULL OR run_id = ?1 ORDER BY id");
    statement.bind(1, run_id);
    DownloadRecord download; // reused: its strings keep their capacity from row to row
    return for_each_row(statement, [&](const Statement& row) {
        read_download(row, download);
        return on_download(download);
    });
}

namespace {

// The table of the frontier's rows in a file at `version` (from step 13 on, the view `frontier`
// reads frontier_urls and frontier_queue: the readers read the table).
std::string frontier_table(int version) {
    return version >= k_frontier_queue_version ? "frontier_urls" : "frontier";
}

// The frontier columns for_each_frontier_row() reads, of the rows `f`, in a file at `version`
// (the redirect chain since step 6, the sitemap role since step 10, the referring row's seq
// since step 11, and for a redirect target the URLs of its chain's start and of that one's
// referring row; the external check since step 12), FROM `from`, which names the rows `f`.
// Column 11, the referring row's URL, is looked up by for_each_frontier_row().
std::string frontier_columns(int version, const std::string& from) {
    const std::string table = frontier_table(version);
    return std::string("SELECT f.seq, f.key_hash, f.url, f.depth, f.redirects, f.requisite, ") +
           (version >= k_skips_version ? "f.chain_seq, f.chain_keys, " : "NULL, NULL, ") +
           (version >= k_sitemaps_version ? "f.sitemap, " : "0, ") +
           (version >= k_external_version ? "f.external, " : "0, ") +
           (version >= k_referrer_version
                ? "f.from_seq, NULL, c.url, cr.url FROM " + from + " LEFT JOIN " + table +
                      " c ON c.crawl_id = f.crawl_id AND c.seq = f.chain_seq LEFT JOIN " + table +
                      " cr ON cr.crawl_id = f.crawl_id AND cr.seq = c.from_seq "
                : "NULL, NULL, NULL, NULL FROM " + from + " ");
}

// Streams the rows of a statement that selects frontier_columns() of the crawl `crawl_id`.
// The referring row's URL is read by a lookup of its own, made again only when the referrer
// changes: rows come in seq or (depth, seq) order, where a page's discoveries sit side by side,
// and a join sought the referrer's row again for every row (a third of a page-in's
// instructions). The lookup runs while `statement` is active, in the same read transaction:
// it sees the same snapshot.
Result<void> for_each_frontier_row(Database& db, int version, std::int64_t crawl_id,
                                   Statement& statement,
                                   const std::function<bool(const FrontierRow&)>& on_row) {
    FrontierRow frontier_row;
    std::optional<Statement> referrer;
    std::int64_t referrer_seq = 0;
    std::string referrer_url;
    std::optional<Error> failed;
    auto read = for_each_row(statement, [&](const Statement& row) {
        frontier_row.seq = row.column_int64(0);
        frontier_row.key_hash = static_cast<std::uint64_t>(row.column_int64(1));
        frontier_row.url = row.column_text(2);
        frontier_row.depth = static_cast<int>(row.column_int64(3));
        frontier_row.redirects = static_cast<int>(row.column_int64(4));
        frontier_row.requisite = row.column_int64(5) != 0;
        frontier_row.chain_seq = row.is_null(6) ? 0 : row.column_int64(6);
        frontier_row.sitemap = static_cast<int>(row.column_int64(8));
        frontier_row.chain.clear();
        const std::string_view keys = row.column_blob(7);
        for (std::size_t at = 0; at + 8 <= keys.size(); at += 8) {
            std::uint64_t key = 0;
            for (std::size_t b = 0; b < 8; ++b) {
                key |= std::uint64_t{static_cast<unsigned char>(keys[at + b])} << (8 * b);
            }
            frontier_row.chain.push_back(key);
        }
        frontier_row.external = row.column_int64(9) != 0;
        frontier_row.from_seq = row.is_null(10) ? 0 : row.column_int64(10);
        if (frontier_row.from_seq != 0 && frontier_row.from_seq != referrer_seq) {
            if (!referrer) {
                referrer.emplace(db.prepare("SELECT url FROM " + frontier_table(version) +
                                            " WHERE crawl_id = ? AND seq = ?"));
            }
            referrer->bind(1, crawl_id);
            referrer->bind(2, frontier_row.from_seq);
            referrer_url.clear(); // "" when the row is not there, as the join read it
            auto looked_up = for_each_row(*referrer, [&](const Statement& r) {
                referrer_url = r.column_text(0);
                return false;
            });
            if (!looked_up) {
                failed = looked_up.error();
                return false;
            }
            referrer_seq = frontier_row.from_seq;
        }
        if (frontier_row.from_seq != 0) {
            frontier_row.from_url = referrer_url;
        } else {
            frontier_row.from_url.clear();
        }
        frontier_row.chain_url = row.column_text(12);
        frontier_row.chain_from_url = row.column_text(13);
        return on_row(frontier_row);
    });
    if (failed) {
        return *failed;
    }
    return read;
}

constexpr std::string_view k_crawl_columns =
    "SELECT id, seeds, options, status, stop_reason FROM crawls ";

Result<std::optional<CrawlRow>> first_crawl(Statement& statement) {
    std::optional<CrawlRow> found;
    auto r = for_each_row(statement, [&](const Statement& row) {
        CrawlRow crawl;
        crawl.id = row.column_int64(0);
        crawl.seeds = row.column_text(1);
        crawl.options = row.column_text(2);
        crawl.status = parse_crawl_status(row.column_text(3)).value_or(CrawlStatus::failed);
        crawl.stop_reason = row.column_optional_text(4);
        found = std::move(crawl);
        return false;
    });
    if (!r) {
        return r.error();
    }
    return found;
}

} // namespace

Result<std::optional<CrawlRow>> Reader::find_crawl(std::int64_t id) {
    Statement statement = m_db.prepare(std::string(k_crawl_columns) + "WHERE id = ?");
    statement.bind(1, id);
    return first_crawl(statement);
}

Result<std::optional<CrawlRow>> Reader::latest_resumable_crawl() {
    Statement statement = m_db.prepare(
        std::string(k_crawl_columns) +
        "WHERE status IN ('running', 'interrupted', 'stopped') ORDER BY id DESC LIMIT 1");
    return first_crawl(statement);
}

Result<CrawlProgress> Reader::crawl_progress(std::int64_t crawl_id) {
    CrawlProgress progress;
    // Robots.txt and sitemap files are not pages of the crawl, nor are external checks: no limit
    // counts them.
    Statement pages =
        m_db.prepare(std::string("SELECT count(*), coalesce(sum(bytes), 0) FROM pages "
                                 "WHERE crawl_id = ? AND kind NOT IN ('robots', 'sitemap') "
                                 "AND attempts > 0") +
                     (m_version >= k_external_version ? " AND external = 0" : ""));
    pages.bind(1, crawl_id);
    auto r = for_each_row(pages, [&](const Statement& row) {
        progress.pages = row.column_uint64(0);
        progress.bytes = row.column_uint64(1);
        return false;
    });
    if (!r) {
        return r.error();
    }
    Statement frontier = m_db.prepare(
        m_version >= k_frontier_queue_version
            ? "SELECT coalesce(max(seq), 0), (SELECT count(*) FROM frontier_queue WHERE crawl_id = "
              "?1) FROM frontier_urls WHERE crawl_id = ?1"
            : "SELECT coalesce(max(seq), 0), coalesce(sum(state = 0), 0) FROM frontier "
              "WHERE crawl_id = ?1");
    frontier.bind(1, crawl_id);
    r = for_each_row(frontier, [&](const Statement& row) {
        progress.max_seq = row.column_int64(0);
        progress.queued = row.column_uint64(1);
        return false;
    });
    if (!r) {
        return r.error();
    }
    return progress;
}

Result<void> Reader::for_each_frontier(std::int64_t crawl_id, std::int64_t after_seq,
                                       std::size_t limit, bool queued_only,
                                       const std::function<bool(const FrontierRow&)>& on_row) {
    const char* const queued = m_version >= k_frontier_queue_version
                                   ? "EXISTS (SELECT 1 FROM frontier_queue q WHERE q.crawl_id = "
                                     "f.crawl_id AND q.depth = f.depth AND q.seq = f.seq)"
                                   : "f.state = 0";
    Statement statement =
        m_db.prepare(frontier_columns(m_version, frontier_table(m_version) + " f") +
                     "WHERE f.crawl_id = ?1 AND f.seq > ?2 AND (?3 = 0 OR " + queued +
                     ") ORDER BY f.seq LIMIT ?4");
    statement.bind(1, crawl_id);
    statement.bind(2, after_seq);
    statement.bind(3, queued_only ? 1 : 0);
    statement.bind(4, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
    return for_each_frontier_row(m_db, m_version, crawl_id, statement, on_row);
}

Result<void> Reader::for_each_queued(std::int64_t crawl_id, int after_depth, std::int64_t after_seq,
                                     std::size_t limit,
                                     const std::function<bool(const FrontierRow&)>& on_row) {
    // From schema step 13 on, the queued rows' keys in frontier_queue, in this order, each
    // joined to its row (CROSS JOIN: SQLite keeps that loop order). Before: the partial index
    // of step 5 on frontier; files before step 5 lack it: the same rows, by a scan of the
    // crawl's rows and a sort.
    Statement statement = m_db.prepare(
        m_version >= k_frontier_queue_version
            ? frontier_columns(m_version, "frontier_queue q CROSS JOIN frontier_urls f ON "
                                          "f.crawl_id = q.crawl_id AND f.seq = q.seq") +
                  "WHERE q.crawl_id = ?1 AND (q.depth, q.seq) > (?2, ?3) "
                  "ORDER BY q.depth, q.seq LIMIT ?4"
            : frontier_columns(m_version, "frontier f") +
                  "WHERE f.crawl_id = ?1 AND f.state = 0 AND (f.depth, f.seq) > (?2, ?3) "
                  "ORDER BY f.depth, f.seq LIMIT ?4");
    statement.bind(1, crawl_id);
    statement.bind(2, after_depth);
    statement.bind(3, after_seq);
    statement.bind(4, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
    return for_each_frontier_row(m_db, m_version, crawl_id, statement, on_row);
}

Result<void> Reader::for_each_seen_key(std::int64_t crawl_id,
                                       const std::function<void(std::uint64_t)>& on_key) {
    Statement statement =
        m_db.prepare("SELECT key_hash FROM " + frontier_table(m_version) + " WHERE crawl_id = ?");
    statement.bind(1, crawl_id);
    return for_each_row(statement, [&](const Statement& row) {
        on_key(static_cast<std::uint64_t>(row.column_int64(0)));
        return true;
    });
}

Result<void> Reader::for_each_skip_key(std::int64_t crawl_id,
                                       const std::function<void(std::uint64_t, bool)>& on_key) {
    if (m_version < k_skips_version) {
        return {};
    }
    Statement statement = m_db.prepare("SELECT key_hash, tentative FROM skips WHERE crawl_id = ?");
    statement.bind(1, crawl_id);
    return for_each_row(statement, [&](const Statement& row) {
        on_key(static_cast<std::uint64_t>(row.column_int64(0)), row.column_int64(1) != 0);
        return true;
    });
}

} // namespace flagcrawl::storage
