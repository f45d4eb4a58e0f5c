#include "storage/record_statements.hpp"

#include "storage/run_owner.hpp"
#include "util/json.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <optional>

namespace flagcrawl::storage {

namespace {

// Appends `text` at `p` and moves `p` past it.
void put(char*& p, std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
}

// A page's links as page_links stores them (schema step 5): [[to_url, kind, nofollow], ...].
void append_links_json(std::string& out, const LinkList& links) {
    const std::size_t n = links.size();
    if (n > 0 && !util::json_needs_any_escape(links.text())) {
        // No URL or kind needs an escape (almost every page): one scan of all their bytes, the
        // exact size, then each piece copied in. A link is ["URL","KIND",N] (9 bytes besides its
        // text), the links are separated by commas, and the list is bracketed.
        const std::size_t at = out.size();
        out.resize(at + links.text().size() + 10 * n + 1);
        char* p = out.data() + at;
        *p++ = '[';
        for (std::size_t i = 0; i < n; ++i) {
            const LinkList::View link = links[i];
            put(p, i == 0 ? "[\"" : ",[\"");
            put(p, link.to_url);
            put(p, "\",\"");
            put(p, link.kind);
            put(p, link.nofollow ? "\",1]" : "\",0]");
        }
        *p++ = ']';
        return;
    }
    out += '[';
    for (std::size_t i = 0; i < n; ++i) {
        const LinkList::View link = links[i];
        out += '[';
        util::append_json_string(out, link.to_url);
        out += ',';
        util::append_json_string(out, link.kind);
        out += link.nofollow ? ",1]," : ",0],";
    }
    if (out.back() == ',') {
        out.pop_back();
    }
    out += ']';
}

// `insert` (an INSERT up to VALUES) followed by `count` rows of `row` ("(?, ?, ...)").
std::string multi_row_sql(std::string_view insert, std::string_view row, std::size_t count) {
    std::string sql(insert);
    for (std::size_t i = 0; i < count; ++i) {
        sql += i == 0 ? " " : ", ";
        sql += row;
    }
    return sql;
}

// The INSERT of `count` frontier rows in one statement.
std::string frontier_insert_sql(std::size_t count) {
    return multi_row_sql("INSERT INTO frontier_urls (crawl_id, seq, key_hash, url, depth, "
                         "redirects, requisite, chain_seq, chain_keys, sitemap, from_seq, "
                         "external) VALUES",
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count);
}

// The INSERT of the frontier_queue rows of `count` new frontier rows in one statement.
std::string queue_insert_sql(std::size_t count) {
    return multi_row_sql("INSERT INTO frontier_queue (crawl_id, depth, seq) VALUES", "(?, ?, ?)",
                         count);
}

} // namespace

Error writer_error(const std::string& path, std::string_view reason) {
    return Error{boost::system::error_code(1 /* SQLITE_ERROR */, sqlite_category()),
                 path + ": " + std::string(reason)};
}

RecordStatements::RecordStatements(Database& db)
    : m_db(db)
    , m_insert_run(db.prepare("INSERT INTO runs (command, arguments, strategy, concurrency, "
                              "started_at, status, host, boot_id, pid_ns, pid, pid_start) "
                              "VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)"))
    , m_finish_run(db.prepare("UPDATE runs SET finished_at = ?, status = ?, ok = ?, "
                              "not_found = ?, errors = ?, bytes = ?, requests = ? "
                              "WHERE id = ?"))
    , m_insert_download(db.prepare(
          "INSERT INTO downloads (run_id, url, final_url, http_status, bytes, path, sha256, "
          "elapsed_ms, attempts, error, dns_ms, connect_ms, ttfb_ms, fetched_at, error_kind) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
    , m_insert_crawl(db.prepare("INSERT INTO crawls (id, seeds, options, status) "
                                "VALUES (?, ?, ?, 'running')"))
    , m_resume_crawl(db.prepare("UPDATE crawls SET status = 'running', stop_reason = NULL, "
                                "options = coalesce(?, options) WHERE id = ?"))
    // Plain INSERTs: every run is a new runs row, so a (crawl, run) pair comes once; seqs are
    // new (seeds of a new crawl, then numbered on from the crawl's max seq, and a resume sends
    // none). A collision is a bug that must fail the writer: ignoring a frontier row would let
    // frontier_done mark another URL's row as done and --resume lose both.
    , m_insert_crawl_run(db.prepare("INSERT INTO crawl_runs (crawl_id, run_id) VALUES (?, ?)"))
    , m_mark_dead_runs(db.prepare("UPDATE runs SET status = 'killed' WHERE status = "
                                  "'running' AND id IN (SELECT run_id FROM crawl_runs WHERE "
                                  "crawl_id = ?)"))
    , m_end_crawl(db.prepare("UPDATE crawls SET status = ?, stop_reason = ?, "
                             "seen_urls = coalesce(?, seen_urls), "
                             "seen_bytes = coalesce(?, seen_bytes) WHERE id = ?"))
    , m_insert_page(db.prepare(
          "INSERT INTO pages (crawl_id, run_id, seq, kind, url, final_url, http_status, "
          "content_type, bytes, title, depth, location, noindex, fetched_at, elapsed_ms, "
          "attempts, error, body, dns_ms, connect_ms, ttfb_ms, error_kind, external) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
    , m_insert_links(db.prepare("INSERT INTO page_links (page_id, links) VALUES (?, ?)"))
    , m_insert_frontier_row(db.prepare(frontier_insert_sql(1)))
    , m_insert_queue_row(db.prepare(queue_insert_sql(1)))
    , m_frontier_done(
          db.prepare("DELETE FROM frontier_queue WHERE crawl_id = ? AND depth = ? AND seq = ?"))
    , m_frontier_done_any_depth(
          db.prepare("DELETE FROM frontier_queue WHERE crawl_id = ?1 AND seq = ?2 AND depth = "
                     "(SELECT depth FROM frontier_urls WHERE crawl_id = ?1 AND seq = ?2)"))
    // A tentative skip (nofollow, past the depth) is replaced by a final one of the same URL;
    // the crawl never records a URL twice otherwise. The plain INSERT is tried first (see
    // insert_skip()), the replacing one only when the URL has a row already.
    , m_insert_skip(db.prepare("INSERT INTO skips (crawl_id, key_hash, run_id, page_id, kind, "
                               "rule, url, tentative) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
    , m_replace_skip(db.prepare("INSERT OR REPLACE INTO skips (crawl_id, key_hash, run_id, "
                                "page_id, kind, rule, url, tentative) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
    , m_delete_skip(
          db.prepare("DELETE FROM skips WHERE crawl_id = ? AND key_hash = ? AND tentative = 1"))
    , m_fail_chain(db.prepare("UPDATE pages SET error = ?, error_kind = ? "
                              "WHERE crawl_id = ? AND seq = ? AND kind != 'robots'"))
    , m_find_skip(
          db.prepare("SELECT run_id, kind, rule FROM skips WHERE crawl_id = ? AND key_hash = ?"))
    , m_find_tentative_skip(db.prepare("SELECT run_id, kind, rule FROM skips WHERE crawl_id = ? "
                                       "AND key_hash = ? AND tentative = 1"))
    , m_find_chain_rows(db.prepare(
          "SELECT run_id, kind, external, http_status, attempts, bytes, error IS NOT NULL, "
          "attempts = 0 AND error LIKE 'disallowed by robots%', error_kind FROM pages "
          "WHERE crawl_id = ? AND seq = ? AND kind != 'robots'"))
    // Only a run that wrote its totals: a running one writes them from its tally when it ends,
    // and a killed one never wrote any.
    , m_adjust_ended_run(
          db.prepare("UPDATE runs SET ok = ok + ?, not_found = not_found + ?, errors = errors + ?, "
                     "bytes = bytes + ?, requests = requests + ? "
                     "WHERE id = ? AND status IN ('finished', 'interrupted', 'failed')")) {}

Result<std::int64_t> RecordStatements::begin_run(const RunInfo& info, CrawlBeginRecord* crawl) {
    std::array<char, 24> started;
    m_insert_run.bind_all(info.command, info.arguments, info.strategy, info.concurrency,
                          format_time(info.started_at, started));
    // The run's owner is this process: a later one marks the run 'killed' once it is gone
    // (run_owner.hpp). Without /proc the owner stays NULL and is never judged.
    const auto& self = this_process();
    m_insert_run.bind(6, self ? std::optional(self->host) : std::nullopt);
    m_insert_run.bind(7, self ? std::optional(self->boot_id) : std::nullopt);
    m_insert_run.bind(8, self ? std::optional(self->pid_ns) : std::nullopt);
    m_insert_run.bind(9, self ? std::optional(self->pid) : std::nullopt);
    m_insert_run.bind(10, self ? std::optional(self->start) : std::nullopt);
    if (auto r = m_insert_run.run(); !r) {
        return r.error();
    }
    const std::int64_t run_id = m_db.last_insert_rowid();
    if (!crawl) {
        return run_id;
    }
    crawl->run_id = run_id;
    if (crawl->is_new) {
        crawl->crawl_id = run_id; // a new crawl is named after its first run
    }
    if (auto r = apply(*crawl); !r) {
        return r.error();
    }
    return run_id;
}

Result<bool> RecordStatements::finish_run(std::int64_t run_id, const RunTotals& totals,
                                          RunStatus status, TimePoint finished_at) {
    std::array<char, 24> finished;
    m_finish_run.bind_all(format_time(finished_at, finished), to_string(status), totals.ok,
                          totals.not_found, totals.errors, totals.bytes, totals.requests, run_id);
    if (auto r = m_finish_run.run(); !r) {
        return r.error();
    }
    return m_db.changes() != 0;
}

Result<void> RecordStatements::apply(const DownloadRecord& d) {
    std::array<char, 24> fetched;
    auto& insert = m_insert_download;
    // Text is bound without copying: `d` and `fetched` outlive the run() below, and every
    // parameter is rebound for each record.
    insert.bind(1, d.run_id);
    insert.bind_view(2, d.url);
    insert.bind_view(3, d.final_url);
    insert.bind(4, d.http_status);
    insert.bind(5, d.bytes);
    insert.bind_view(6, d.path);
    insert.bind_view(7, d.sha256);
    insert.bind(8, d.elapsed_ms);
    insert.bind(9, d.attempts);
    insert.bind_view(10, d.error);
    insert.bind(11, d.dns_ms);
    insert.bind(12, d.connect_ms);
    insert.bind(13, d.ttfb_ms);
    insert.bind_view(14, format_time(d.fetched_at, fetched));
    insert.bind_view(15, d.error_kind);
    return insert.run();
}

Result<void> RecordStatements::apply(const CrawlBeginRecord& c) {
    if (c.is_new) {
        auto& insert = m_insert_crawl;
        insert.bind(1, c.crawl_id);
        insert.bind_view(2, c.seeds);
        insert.bind_view(3, c.options);
        if (auto r = insert.run(); !r) {
            return r;
        }
    } else {
        // Its runs still 'running' here ended without recording it and recorded no owner that
        // says otherwise (older builds, or another host: `crawl --resume` refuses a crawl whose
        // owner it sees alive): the resume is the later run that finds them dead.
        auto& dead = m_mark_dead_runs;
        dead.bind(1, c.crawl_id);
        if (auto r = dead.run(); !r) {
            return r;
        }
        auto& resume = m_resume_crawl;
        resume.bind(1, c.options.empty() ? std::nullopt : std::optional<std::string>(c.options));
        resume.bind(2, c.crawl_id);
        if (auto r = resume.run(); !r) {
            return r;
        }
        if (m_db.changes() == 0) {
            return writer_error(m_db.path(),
                                "crawl --resume: no crawl with id " + std::to_string(c.crawl_id));
        }
    }
    if (auto r = flush(); !r) {
        return r;
    }
    auto& link = m_insert_crawl_run;
    link.bind_all(c.crawl_id, c.run_id);
    if (auto r = link.run(); !r) {
        return r;
    }
    return insert_frontier_rows(c.crawl_id, c.frontier);
}

void RecordStatements::bind_frontier_row(Statement& insert, int at, std::int64_t crawl_id,
                                         const FrontierRow& row, std::string& keys) {
    insert.bind(at + 1, crawl_id);
    insert.bind(at + 2, row.seq);
    // The hash's 64 bits as SQLite's signed INTEGER (crawl_records.hpp).
    insert.bind(at + 3, static_cast<std::int64_t>(row.key_hash));
    insert.bind_view(at + 4, row.url);
    insert.bind(at + 5, row.depth);
    insert.bind(at + 6, row.redirects);
    insert.bind(at + 7, row.requisite ? 1 : 0);
    if (row.chain_seq > 0) {
        insert.bind(at + 8, row.chain_seq);
        keys.assign(row.chain.size() * 8, '\0');
        for (std::size_t k = 0; k < row.chain.size(); ++k) {
            for (std::size_t b = 0; b < 8; ++b) {
                keys[k * 8 + b] = static_cast<char>((row.chain[k] >> (8 * b)) & 0xff);
            }
        }
        insert.bind_blob_view(at + 9, keys);
    } else {
        insert.bind(at + 8, std::nullopt);
        insert.bind(at + 9, std::nullopt);
    }
    insert.bind(at + 10, row.sitemap);
    if (row.from_seq > 0) {
        insert.bind(at + 11, row.from_seq);
    } else {
        insert.bind(at + 11, std::nullopt);
    }
    insert.bind(at + 12, row.external ? 1 : 0);
}

void RecordStatements::bind_queue_row(Statement& insert, int at, std::int64_t crawl_id,
                                      const FrontierRow& row) {
    insert.bind(at + 1, crawl_id);
    insert.bind(at + 2, row.depth);
    insert.bind(at + 3, row.seq);
}

Result<void> RecordStatements::insert_frontier_rows(std::int64_t crawl_id,
                                                    std::span<const FrontierRow> rows) {
    constexpr int k_columns = 12;
    constexpr int k_queue_columns = 3;
    std::size_t first = 0;
    for (; rows.size() - first >= k_frontier_chunk; first += k_frontier_chunk) {
        if (!m_insert_frontier_chunk) {
            m_insert_frontier_chunk.emplace(m_db.prepare(frontier_insert_sql(k_frontier_chunk)));
            m_insert_queue_chunk.emplace(m_db.prepare(queue_insert_sql(k_frontier_chunk)));
        }
        Statement& insert = *m_insert_frontier_chunk;
        Statement& queue = *m_insert_queue_chunk;
        for (std::size_t i = 0; i < k_frontier_chunk; ++i) {
            bind_frontier_row(insert, static_cast<int>(i) * k_columns, crawl_id, rows[first + i],
                              m_chain_keys[i]);
            bind_queue_row(queue, static_cast<int>(i) * k_queue_columns, crawl_id, rows[first + i]);
        }
        if (auto r = insert.run(); !r) {
            return r;
        }
        if (auto r = queue.run(); !r) {
            return r;
        }
    }
    for (; first < rows.size(); ++first) {
        bind_frontier_row(m_insert_frontier_row, 0, crawl_id, rows[first], m_chain_keys[0]);
        if (auto r = m_insert_frontier_row.run(); !r) {
            return r;
        }
        bind_queue_row(m_insert_queue_row, 0, crawl_id, rows[first]);
        if (auto r = m_insert_queue_row.run(); !r) {
            return r;
        }
    }
    return {};
}

Result<void> RecordStatements::flush() {
    auto inserted = insert_frontier_rows(m_held_crawl, m_held);
    m_held.clear();
    return inserted;
}

Result<void> RecordStatements::apply(PageRecord& p) {
    std::optional<std::int64_t> page_id;
    if (p.has_page) {
        auto inserted = insert_page(p);
        if (!inserted) {
            return inserted.error();
        }
        page_id = *inserted;
        const std::optional<std::int64_t> status =
            p.http_status ? std::optional<std::int64_t>(*p.http_status) : std::nullopt;
        const bool failed = p.error.has_value();
        m_tallies[p.run_id].add_page(
            {to_string(p.kind), p.external, status, failed,
             failed && p.attempts == 0 && is_disallowed_error(*p.error), p.attempts, p.bytes},
            failed ? error_count_kind(p.error_kind, status) : std::string());
    }
    if (!p.discovered.empty()) {
        if (!m_held.empty() && m_held_crawl != p.crawl_id) {
            if (auto r = flush(); !r) {
                return r;
            }
        }
        m_held_crawl = p.crawl_id;
        std::move(p.discovered.begin(), p.discovered.end(), std::back_inserter(m_held));
        // Full statements now; the rest waits for the next records or the commit.
        const std::size_t ready = m_held.size() - m_held.size() % k_frontier_chunk;
        if (ready > 0) {
            auto inserted = insert_frontier_rows(m_held_crawl, std::span(m_held).first(ready));
            m_held.erase(m_held.begin(), m_held.begin() + static_cast<std::ptrdiff_t>(ready));
            if (!inserted) {
                return inserted;
            }
        }
    }
    for (const SkipRow& skip : p.skips) {
        if (auto r = insert_skip(p, skip, page_id); !r) {
            return r;
        }
    }
    for (std::uint64_t key : p.unskipped) {
        m_find_tentative_skip.bind(1, p.crawl_id);
        m_find_tentative_skip.bind(2, static_cast<std::int64_t>(key));
        if (auto r = untally_skips(m_find_tentative_skip); !r) {
            return r;
        }
        auto& erase = m_delete_skip;
        erase.bind(1, p.crawl_id);
        erase.bind(2, static_cast<std::int64_t>(key));
        if (auto r = erase.run(); !r) {
            return r;
        }
    }
    if (p.chain_failure) {
        if (auto r = tally_chain_failure(p.crawl_id, *p.chain_failure); !r) {
            return r;
        }
        auto& fail = m_fail_chain;
        fail.bind_view(1, p.chain_failure->error);
        fail.bind_view(2, p.chain_failure->error_kind);
        fail.bind(3, p.crawl_id);
        fail.bind(4, p.chain_failure->seq);
        if (auto r = fail.run(); !r) {
            return r;
        }
    }
    if (p.seq) {
        // A URL found and fetched within one transaction: its row goes in before it is done.
        if (std::any_of(m_held.begin(), m_held.end(),
                        [&](const FrontierRow& row) { return row.seq == *p.seq; })) {
            if (auto r = flush(); !r) {
                return r;
            }
        }
        auto& done = m_frontier_done;
        done.bind(1, p.crawl_id);
        done.bind(2, p.depth);
        done.bind(3, *p.seq);
        if (auto r = done.run(); !r || m_db.changes() != 0) {
            return r;
        }
        // No queued row at the record's depth: the row is done already, or the record's depth
        // is not its row's (crawl_records.hpp asks for it, the crawl's records have it). The
        // row's own depth, so that a resume never fetches the URL again.
        auto& any_depth = m_frontier_done_any_depth;
        any_depth.bind(1, p.crawl_id);
        any_depth.bind(2, *p.seq);
        return any_depth.run();
    }
    return {};
}

// INSERT OR REPLACE may delete a row before it inserts one, so SQLite runs it in a statement
// transaction of its own (a savepoint and a journal of the pages it changes): about a fifth of
// what a skips row costs. Almost every skip is a URL's first, which the plain INSERT writes
// without one; a conflict on the key (a final skip after a tentative one) changes nothing, and
// the replacing statement then writes it.
Result<void> RecordStatements::insert_skip(const PageRecord& p, const SkipRow& skip,
                                           std::optional<std::int64_t> page_id) {
    const auto run = [&](Statement& insert) {
        insert.bind(1, p.crawl_id);
        insert.bind(2, static_cast<std::int64_t>(skip.key_hash));
        insert.bind(3, p.run_id);
        insert.bind(4, page_id);
        insert.bind_view(5, skip.kind);
        insert.bind_view(6, skip.rule);
        insert.bind_view(7, skip.url);
        insert.bind(8, skip.tentative ? 1 : 0);
        return insert.run();
    };
    auto inserted = run(m_insert_skip);
    if (!inserted && inserted.error().duplicate_key()) {
        m_find_skip.bind(1, p.crawl_id);
        m_find_skip.bind(2, static_cast<std::int64_t>(skip.key_hash));
        if (auto r = untally_skips(m_find_skip); !r) {
            return r;
        }
        inserted = run(m_replace_skip);
    }
    if (inserted) {
        m_tallies[p.run_id].add_skip(skip.kind, skip.rule);
    }
    return inserted;
}

Result<void> RecordStatements::untally_skips(Statement& find) {
    return for_each_row(find, [&](const Statement& row) {
        m_tallies[row.column_int64(0)].add_skip(row.column_text(1), row.column_text(2), -1);
        return true;
    });
}

Result<void> RecordStatements::tally_chain_failure(std::int64_t crawl_id,
                                                   const ChainFailure& failure) {
    auto& find = m_find_chain_rows;
    find.bind(1, crawl_id);
    find.bind(2, failure.seq);
    const std::optional<std::string> new_kind(failure.error_kind);
    // What the change does to each run's counts; a run that has ended has its `runs` row
    // corrected too, in this transaction, so that `stats --runs` keeps agreeing with its rows.
    std::map<std::int64_t, RunTally> changes;
    auto found = for_each_row(find, [&](const Statement& row) {
        RunTally& change = changes[row.column_int64(0)];
        const std::string kind(row.column_text(1));
        PageRowFacts facts{kind,
                           row.column_int64(2) != 0,
                           row.column_optional_int64(3),
                           row.column_int64(6) != 0,
                           row.column_int64(7) != 0,
                           row.column_int64(4),
                           row.column_uint64(5)};
        const std::optional<std::string> old_kind =
            row.is_null(8) ? std::nullopt : std::optional<std::string>(row.column_text(8));
        change.add_page(facts, error_count_kind(old_kind, facts.http_status), -1);
        facts.failed = true;
        facts.disallowed = facts.attempts == 0 && is_disallowed_error(failure.error);
        change.add_page(facts, error_count_kind(new_kind, facts.http_status));
        return true;
    });
    if (!found) {
        return found;
    }
    for (const auto& [run_id, change] : changes) {
        m_tallies[run_id].merge(change);
        // The sums are modulo 2^64: a count taken back reads as a negative INTEGER.
        const RunTotals d = crawl_run_totals(change.summary());
        m_adjust_ended_run.bind_all(
            static_cast<std::int64_t>(d.ok), static_cast<std::int64_t>(d.not_found),
            static_cast<std::int64_t>(d.errors), static_cast<std::int64_t>(d.bytes),
            static_cast<std::int64_t>(d.requests), run_id);
        if (auto r = m_adjust_ended_run.run(); !r) {
            return r;
        }
    }
    return {};
}

Result<std::int64_t> RecordStatements::insert_page(const PageRecord& p) {
    std::array<char, 24> fetched;
    auto& insert = m_insert_page;
    insert.bind(1, p.crawl_id);
    insert.bind(2, p.run_id);
    insert.bind(3, p.seq);
    insert.bind_view(4, to_string(p.kind));
    insert.bind_view(5, p.url);
    insert.bind_view(6, p.final_url);
    insert.bind(7, p.http_status);
    insert.bind_view(8, p.content_type);
    insert.bind(9, p.bytes);
    insert.bind_view(10, p.title);
    insert.bind(11, p.depth);
    insert.bind_view(12, p.location);
    insert.bind(13, p.noindex ? 1 : 0);
    insert.bind_view(14, format_time(p.fetched_at, fetched));
    insert.bind(15, p.elapsed_ms);
    insert.bind(16, p.attempts);
    insert.bind_view(17, p.error);
    if (p.body) {
        insert.bind_blob_view(18, *p.body);
    } else {
        insert.bind(18, std::nullopt);
    }
    insert.bind(19, p.dns_ms);
    insert.bind(20, p.connect_ms);
    insert.bind(21, p.ttfb_ms);
    insert.bind_view(22, p.error_kind);
    insert.bind(23, p.external ? 1 : 0);
    if (auto r = insert.run(); !r) {
        return r.error();
    }
    const std::int64_t page_id = m_db.last_insert_rowid();
    if (!p.links.empty()) {
        m_links_json.clear();
        append_links_json(m_links_json, p.links);
        auto& links = m_insert_links;
        links.bind(1, page_id);
        links.bind_view(2, m_links_json);
        if (auto r = links.run(); !r) {
            return r.error();
        }
    }
    return page_id;
}

Result<void> RecordStatements::apply(const CrawlEndRecord& c) {
    auto& end = m_end_crawl;
    end.bind(1, to_string(c.status));
    end.bind_view(2, c.stop_reason);
    end.bind(3, c.seen_urls);
    end.bind(4, c.seen_bytes);
    end.bind(5, c.crawl_id);
    return end.run();
}

} // namespace flagcrawl::storage
