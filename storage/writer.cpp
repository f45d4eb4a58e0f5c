#include "storage/writer.hpp"

#include "storage/schema.hpp"
#include "util/json.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace flagcrawl::storage {

namespace {

using Clock = std::chrono::steady_clock;

// The writer takes at most this many items from the queue per lock, then applies them unlocked.
constexpr std::size_t k_chunk = 256;

// Control items: executed on the writer thread in queue order, answered through a promise.
struct BeginRun {
    RunInfo info;
    std::optional<CrawlBeginRecord> crawl; // committed with the runs row
    std::promise<Result<std::int64_t>> reply;
};
struct FinishRun {
    std::int64_t run_id = 0;
    RunTotals totals;
    RunStatus status = RunStatus::finished;
    TimePoint finished_at;
    std::promise<Result<void>> reply;
};
struct Flush {
    std::promise<Result<void>> reply;
};
using Item = std::variant<Record, BeginRun, FinishRun, Flush>;

template <class T> Result<T> error_result(const Error& error) {
    return Result<T>(boost::system::in_place_error, error);
}

Error writer_error(const std::string& path, std::string_view reason) {
    return Error{boost::system::error_code(1 /* SQLITE_ERROR */, sqlite_category()),
                 path + ": " + std::string(reason)};
}

// A page's links as page_links stores them (schema step 5): [[to_url, kind, nofollow], ...].
void append_links_json(std::string& out, const std::vector<LinkRow>& links) {
    out += '[';
    for (const LinkRow& link : links) {
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

// The writer's prepared statements, one set per record type.
struct Statements {
    explicit Statements(Database& db)
        : insert_run(db.prepare("INSERT INTO runs (command, arguments, strategy, concurrency, "
                                "started_at, status) VALUES (?, ?, ?, ?, ?, 'running')"))
        , finish_run(db.prepare("UPDATE runs SET finished_at = ?, status = ?, ok = ?, "
                                "not_found = ?, errors = ?, bytes = ?, requests = ? "
                                "WHERE id = ?"))
        , insert_download(db.prepare(
              "INSERT INTO downloads (run_id, url, final_url, http_status, bytes, path, sha256, "
              "elapsed_ms, attempts, error, dns_ms, connect_ms, ttfb_ms, fetched_at, error_kind) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        , insert_crawl(db.prepare("INSERT INTO crawls (id, seeds, options, status) "
                                  "VALUES (?, ?, ?, 'running')"))
        , resume_crawl(db.prepare("UPDATE crawls SET status = 'running', stop_reason = NULL, "
                                  "options = coalesce(?, options) WHERE id = ?"))
        // Plain INSERTs: every run is a new runs row, so a (crawl, run) pair comes once; seqs
        // are new (seeds of a new crawl, then numbered on from the crawl's max seq, and a resume
        // sends none). A collision is a bug that must fail the writer: ignoring a frontier row
        // would let frontier_done mark another URL's row as done and --resume lose both.
        , insert_crawl_run(db.prepare("INSERT INTO crawl_runs (crawl_id, run_id) VALUES (?, ?)"))
        , mark_dead_runs(db.prepare("UPDATE runs SET status = 'interrupted' WHERE status = "
                                    "'running' AND id IN (SELECT run_id FROM crawl_runs WHERE "
                                    "crawl_id = ?)"))
        , end_crawl(db.prepare("UPDATE crawls SET status = ?, stop_reason = ?, "
                               "seen_urls = coalesce(?, seen_urls), "
                               "seen_bytes = coalesce(?, seen_bytes) WHERE id = ?"))
        , insert_page(db.prepare(
              "INSERT INTO pages (crawl_id, run_id, seq, kind, url, final_url, http_status, "
              "content_type, bytes, title, depth, location, noindex, fetched_at, elapsed_ms, "
              "attempts, error, body, dns_ms, connect_ms, ttfb_ms, error_kind) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        , insert_links(db.prepare("INSERT INTO page_links (page_id, links) VALUES (?, ?)"))
        , insert_frontier(db.prepare(
              "INSERT INTO frontier (crawl_id, seq, key_hash, url, depth, redirects, requisite, "
              "chain_seq, chain_keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        , frontier_done(db.prepare("UPDATE frontier SET state = 1 WHERE crawl_id = ? AND seq = ?"))
        // A tentative skip (nofollow, past the depth) is replaced by a final one of the same
        // URL; the crawl never records a URL twice otherwise.
        , insert_skip(db.prepare("INSERT OR REPLACE INTO skips (crawl_id, key_hash, run_id, "
                                 "page_id, kind, rule, url, tentative) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
        , delete_skip(
              db.prepare("DELETE FROM skips WHERE crawl_id = ? AND key_hash = ? AND tentative = 1"))
        , fail_chain(db.prepare("UPDATE pages SET error = ?, error_kind = ? "
                                "WHERE crawl_id = ? AND seq = ? AND kind != 'robots'")) {}

    Statement insert_run;
    Statement finish_run;
    Statement insert_download;
    Statement insert_crawl;
    Statement resume_crawl;
    Statement insert_crawl_run;
    Statement mark_dead_runs;
    Statement end_crawl;
    Statement insert_page;
    Statement insert_links;
    Statement insert_frontier;
    Statement frontier_done;
    Statement insert_skip;
    Statement delete_skip;
    Statement fail_chain;
};

} // namespace

struct Writer::Impl {
    Impl(Database database, const WriterOptions& writer_options)
        : options(writer_options)
        , db(std::move(database))
        , statements(std::in_place, db) {}

    // ---- producer side (any thread) ----

    template <class T> Result<void> push(T&& value) {
        std::unique_lock lock(mutex);
        if (stopping) {
            throw std::logic_error("storage: Writer used during or after close()");
        }
        while (in_flight >= options.queue_capacity && !failure) {
            ++producers_waiting;
            not_full.wait(lock);
            --producers_waiting;
            if (stopping) {
                throw std::logic_error("storage: Writer used during or after close()");
            }
        }
        if (failure) {
            return *failure;
        }
        queue.emplace_back(std::in_place_type<std::decay_t<T>>, std::forward<T>(value));
        const std::size_t count = queue.size();
        ++in_flight;
        if constexpr (std::is_same_v<std::decay_t<T>, Record>) {
            ++counters.submitted;
        } else {
            ++controls_queued;
        }
        counters.peak_queued = std::max(counters.peak_queued, in_flight);
        // A writer lingering in an open batch is woken only when it has enough work (see
        // wake_threshold) or a control item to answer: a wakeup per record costs more than the
        // insert.
        bool wake = waiting == Waiting::idle;
        if (waiting == Waiting::lingering) {
            wake = !std::is_same_v<std::decay_t<T>, Record> || count >= wake_at;
        }
        if (wake) {
            not_empty.notify_one();
        }
        return {};
    }

    // While lingering, the writer wants to run again once this many records are queued:
    // wake_records (at most a chunk), a full queue (producers are about to block), or what
    // completes the batch.
    std::size_t wake_threshold() const noexcept {
        const std::uint64_t to_complete = options.batch_records - batch_size;
        return static_cast<std::size_t>(std::min<std::uint64_t>(
            std::min({k_chunk, options.wake_records, options.queue_capacity}),
            std::max<std::uint64_t>(to_complete, 1)));
    }

    // ---- writer thread ----

    void run() {
        std::vector<Item> chunk;
        chunk.reserve(k_chunk);
        for (;;) {
            bool stop = false;
            {
                std::unique_lock lock(mutex);
                while (!stopping) {
                    if (!transaction) {
                        if (!queue.empty()) {
                            break;
                        }
                        waiting = Waiting::idle;
                        not_empty.wait(lock);
                    } else {
                        // A batch is open: gather records until a chunk's worth, a control
                        // item, or the batch's deadline.
                        if (queue.size() >= wake_threshold() || controls_queued > 0 ||
                            Clock::now() >= deadline) {
                            break;
                        }
                        waiting = Waiting::lingering;
                        wake_at = wake_threshold();
                        not_empty.wait_until(lock, deadline);
                    }
                    waiting = Waiting::no;
                }
                const std::size_t take = std::min(queue.size(), k_chunk);
                for (std::size_t i = 0; i < take; ++i) {
                    if (queue.front().index() != 0) {
                        --controls_queued;
                    }
                    chunk.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
                stop = take == 0 && stopping;
            }
            if (chunk.empty()) {
                // Queue dry past the batch deadline, or closing with nothing left.
                commit_or_fail();
                if (stop) {
                    return;
                }
                continue;
            }
            for (Item& item : chunk) {
                std::visit([this](auto& value) { process(value); }, item);
            }
            if (transaction && Clock::now() >= deadline) {
                commit_or_fail();
            }
            const std::size_t done = chunk.size();
            chunk.clear();
            std::lock_guard lock(mutex);
            in_flight -= done;
            if (producers_waiting > 0) {
                not_full.notify_all();
            }
        }
    }

    // Runs f, turning an exception (a bug: bad SQL, bad bind) into an Error value so that it
    // reaches the caller instead of terminating the process from the writer thread.
    template <class F> auto guarded(F&& f) -> decltype(f()) {
        try {
            return f();
        } catch (const std::exception& e) {
            return writer_error(db.path(), std::string("writer: ") + e.what());
        }
    }

    Result<void> ensure_transaction() {
        if (transaction) {
            return {};
        }
        auto begun = Transaction::begin(db, Transaction::Kind::immediate);
        if (!begun) {
            return begun.error();
        }
        transaction.emplace(std::move(*begun));
        batch_size = 0;
        deadline = Clock::now() + options.batch_delay;
        return {};
    }

    Result<void> commit() {
        if (!transaction) {
            return {};
        }
        auto committed = transaction->commit();
        transaction.reset(); // rolls back if the commit failed
        const std::uint64_t records = std::exchange(batch_size, 0);
        if (!committed) {
            return committed;
        }
        std::lock_guard lock(mutex);
        counters.committed += records;
        ++counters.transactions;
        return {};
    }

    void fail(const Error& error) {
        transaction.reset(); // rollback: the open batch is lost
        batch_size = 0;
        if (thread_failure) {
            return;
        }
        thread_failure = error;
        std::lock_guard lock(mutex);
        failure = error;
        if (producers_waiting > 0) {
            not_full.notify_all(); // blocked producers return the error
        }
    }

    void commit_or_fail() {
        if (thread_failure) {
            return;
        }
        if (auto r = commit(); !r) {
            fail(r.error());
        }
    }

    void process(Record& record) {
        if (thread_failure) {
            return; // dropped: the writer has failed
        }
        auto applied = guarded([&]() -> Result<void> {
            if (auto r = ensure_transaction(); !r) {
                return r;
            }
            return std::visit([this](const auto& value) { return apply(value); }, record);
        });
        if (!applied) {
            fail(applied.error());
            return;
        }
        if (++batch_size >= options.batch_records) {
            commit_or_fail();
        }
    }

    void process(BeginRun& item) {
        if (thread_failure) {
            item.reply.set_value(error_result<std::int64_t>(*thread_failure));
            return;
        }
        auto id = guarded([&]() -> Result<std::int64_t> {
            if (auto r = ensure_transaction(); !r) {
                return r.error();
            }
            std::array<char, 24> started;
            auto& insert = statements->insert_run;
            insert.bind_all(item.info.command, item.info.arguments, item.info.strategy,
                            item.info.concurrency, format_time(item.info.started_at, started));
            if (auto r = insert.run(); !r) {
                return r.error();
            }
            const std::int64_t run_id = db.last_insert_rowid();
            if (item.crawl) {
                item.crawl->run_id = run_id;
                if (item.crawl->is_new) {
                    item.crawl->crawl_id = run_id; // a new crawl is named after its first run
                }
                if (auto r = apply(*item.crawl); !r) {
                    return r.error();
                }
            }
            return run_id;
        });
        if (id) {
            if (auto r = commit(); !r) {
                id = r.error();
            }
        }
        if (!id) {
            fail(id.error());
        }
        item.reply.set_value(std::move(id));
    }

    void process(FinishRun& item) {
        if (thread_failure) {
            item.reply.set_value(error_result<void>(*thread_failure));
            return;
        }
        bool unknown_run = false;
        auto done = guarded([&]() -> Result<void> {
            if (auto r = ensure_transaction(); !r) {
                return r;
            }
            std::array<char, 24> finished;
            auto& update = statements->finish_run;
            update.bind_all(format_time(item.finished_at, finished), to_string(item.status),
                            item.totals.ok, item.totals.not_found, item.totals.errors,
                            item.totals.bytes, item.totals.requests, item.run_id);
            if (auto r = update.run(); !r) {
                return r;
            }
            unknown_run = db.changes() == 0;
            return commit();
        });
        if (!done) {
            fail(done.error());
        } else if (unknown_run) {
            // A caller's bug that harms nothing else: report it without failing the writer.
            done = writer_error(db.path(),
                                "finish_run: no run with id " + std::to_string(item.run_id));
        }
        item.reply.set_value(std::move(done));
    }

    void process(Flush& item) {
        commit_or_fail();
        item.reply.set_value(thread_failure ? error_result<void>(*thread_failure) : Result<void>());
    }

    Result<void> apply(const DownloadRecord& d) {
        std::array<char, 24> fetched;
        auto& insert = statements->insert_download;
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

    Result<void> apply(const CrawlBeginRecord& c) {
        if (c.is_new) {
            auto& insert = statements->insert_crawl;
            insert.bind(1, c.crawl_id);
            insert.bind_view(2, c.seeds);
            insert.bind_view(3, c.options);
            if (auto r = insert.run(); !r) {
                return r;
            }
        } else {
            // Its runs still 'running' ended without recording it (kill -9, a power loss): the
            // resume is the later run that finds them dead.
            auto& dead = statements->mark_dead_runs;
            dead.bind(1, c.crawl_id);
            if (auto r = dead.run(); !r) {
                return r;
            }
            auto& resume = statements->resume_crawl;
            resume.bind(1,
                        c.options.empty() ? std::nullopt : std::optional<std::string>(c.options));
            resume.bind(2, c.crawl_id);
            if (auto r = resume.run(); !r) {
                return r;
            }
            if (db.changes() == 0) {
                return writer_error(db.path(), "crawl --resume: no crawl with id " +
                                                   std::to_string(c.crawl_id));
            }
        }
        auto& link = statements->insert_crawl_run;
        link.bind_all(c.crawl_id, c.run_id);
        if (auto r = link.run(); !r) {
            return r;
        }
        return insert_frontier_rows(c.crawl_id, c.frontier);
    }

    Result<void> insert_frontier_rows(std::int64_t crawl_id, const std::vector<FrontierRow>& rows) {
        auto& insert = statements->insert_frontier;
        for (const FrontierRow& row : rows) {
            insert.bind(1, crawl_id);
            insert.bind(2, row.seq);
            // The hash's 64 bits as SQLite's signed INTEGER (crawl_records.hpp).
            insert.bind(3, static_cast<std::int64_t>(row.key_hash));
            insert.bind_view(4, row.url);
            insert.bind(5, row.depth);
            insert.bind(6, row.redirects);
            insert.bind(7, row.requisite ? 1 : 0);
            if (row.chain_seq > 0) {
                insert.bind(8, row.chain_seq);
                std::string keys(row.chain.size() * 8, '\0');
                for (std::size_t i = 0; i < row.chain.size(); ++i) {
                    for (std::size_t b = 0; b < 8; ++b) {
                        keys[i * 8 + b] = static_cast<char>((row.chain[i] >> (8 * b)) & 0xff);
                    }
                }
                insert.bind_blob_view(9, keys);
            } else {
                insert.bind(8, std::nullopt);
                insert.bind(9, std::nullopt);
            }
            if (auto r = insert.run(); !r) {
                return r;
            }
        }
        return {};
    }

    Result<void> apply(const PageRecord& p) {
        std::optional<std::int64_t> page_id;
        if (p.has_page) {
            auto inserted = insert_page(p);
            if (!inserted) {
                return inserted.error();
            }
            page_id = *inserted;
        }
        if (auto r = insert_frontier_rows(p.crawl_id, p.discovered); !r) {
            return r;
        }
        for (const SkipRow& skip : p.skips) {
            auto& insert = statements->insert_skip;
            insert.bind(1, p.crawl_id);
            insert.bind(2, static_cast<std::int64_t>(skip.key_hash));
            insert.bind(3, p.run_id);
            insert.bind(4, page_id);
            insert.bind_view(5, skip.kind);
            insert.bind_view(6, skip.rule);
            insert.bind_view(7, skip.url);
            insert.bind(8, skip.tentative ? 1 : 0);
            if (auto r = insert.run(); !r) {
                return r;
            }
        }
        for (std::uint64_t key : p.unskipped) {
            auto& erase = statements->delete_skip;
            erase.bind(1, p.crawl_id);
            erase.bind(2, static_cast<std::int64_t>(key));
            if (auto r = erase.run(); !r) {
                return r;
            }
        }
        if (p.chain_failure) {
            auto& fail = statements->fail_chain;
            fail.bind_view(1, p.chain_failure->error);
            fail.bind_view(2, p.chain_failure->error_kind);
            fail.bind(3, p.crawl_id);
            fail.bind(4, p.chain_failure->seq);
            if (auto r = fail.run(); !r) {
                return r;
            }
        }
        if (p.seq) {
            auto& done = statements->frontier_done;
            done.bind(1, p.crawl_id);
            done.bind(2, *p.seq);
            return done.run();
        }
        return {};
    }

    // The pages row and its links; returns the row's id.
    Result<std::int64_t> insert_page(const PageRecord& p) {
        std::array<char, 24> fetched;
        auto& insert = statements->insert_page;
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
        if (auto r = insert.run(); !r) {
            return r.error();
        }
        const std::int64_t page_id = db.last_insert_rowid();
        if (!p.links.empty()) {
            links_json.clear();
            append_links_json(links_json, p.links);
            auto& links = statements->insert_links;
            links.bind(1, page_id);
            links.bind_view(2, links_json);
            if (auto r = links.run(); !r) {
                return r.error();
            }
        }
        return page_id;
    }

    Result<void> apply(const CrawlEndRecord& c) {
        auto& end = statements->end_crawl;
        end.bind(1, to_string(c.status));
        end.bind_view(2, c.stop_reason);
        end.bind(3, c.seen_urls);
        end.bind(4, c.seen_bytes);
        end.bind(5, c.crawl_id);
        return end.run();
    }

    const WriterOptions options;
    Database db;                          // the only write connection; writer thread only
    std::optional<Statements> statements; // destroyed before db closes

    // Writer-thread state.
    std::optional<Transaction> transaction; // the open batch
    std::uint64_t batch_size = 0;           // records in it
    Clock::time_point deadline;             // when it must be committed
    std::optional<Error> thread_failure;
    std::string links_json; // reused by apply(PageRecord)

    // Shared state, guarded by mutex. `queue` holds the items not taken yet; `in_flight` also
    // counts the items the writer took and has not applied yet, and is what queue_capacity
    // limits. A deque, not a preallocated ring: memory follows the records actually queued
    // (a ring of 1024 slots of ~430 bytes is 0.43 MiB touched from the start).
    mutable std::mutex mutex;
    std::condition_variable not_empty;
    std::condition_variable not_full;
    std::deque<Item> queue;
    std::size_t in_flight = 0;
    enum class Waiting { no, idle, lingering };
    Waiting waiting = Waiting::no;   // what the writer thread is waiting for
    std::size_t wake_at = 0;         // while lingering: wake it once this many are queued
    std::size_t controls_queued = 0; // control items in the queue
    std::size_t producers_waiting = 0;
    bool stopping = false;
    std::optional<Error> failure;
    WriterStats counters;

    std::thread thread;
    std::optional<Result<void>> close_result; // set by close(); owner's thread
};

Result<Writer> Writer::open(const std::string& path, const WriterOptions& options) {
    if (options.queue_capacity == 0 || options.batch_records == 0 || options.wake_records == 0) {
        throw std::invalid_argument(
            "storage: queue_capacity, batch_records and wake_records must be > 0");
    }
    OpenOptions open_options;
    open_options.mode = OpenMode::read_write_create;
    open_options.busy_timeout = options.busy_timeout;
    open_options.single_thread = true; // used by the writer thread alone
    open_options.wal = false;          // not before migrate() has seen the file is ours
    auto db = Database::open(path, open_options);
    if (!db) {
        return db.error();
    }
    if (auto r = migrate(*db); !r) {
        return r.error();
    }
    if (auto r = db->use_wal(); !r) {
        return r.error();
    }
    auto impl = std::make_unique<Impl>(std::move(*db), options);
    impl->thread = std::thread([state = impl.get()] { state->run(); });
    return Writer(std::move(impl));
}

Writer::Writer(std::unique_ptr<Impl> impl) noexcept
    : m_impl(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;

Writer& Writer::operator=(Writer&& other) noexcept {
    if (this != &other) {
        if (m_impl) {
            (void)close();
        }
        m_impl = std::move(other.m_impl);
    }
    return *this;
}

Writer::~Writer() {
    if (m_impl) {
        (void)close();
    }
}

Writer::Impl& Writer::impl() const {
    if (!m_impl) {
        throw std::logic_error("storage: use of a moved-from Writer");
    }
    return *m_impl;
}

Result<std::int64_t> Writer::begin_run(const RunInfo& info, std::optional<CrawlBeginRecord> crawl) {
    std::promise<Result<std::int64_t>> reply;
    auto answer = reply.get_future();
    if (auto r = impl().push(BeginRun{info, std::move(crawl), std::move(reply)}); !r) {
        return r.error();
    }
    return answer.get();
}

Result<void> Writer::finish_run(std::int64_t run_id, const RunTotals& totals, RunStatus status,
                                TimePoint finished_at) {
    std::promise<Result<void>> reply;
    auto answer = reply.get_future();
    if (auto r = impl().push(FinishRun{run_id, totals, status, finished_at, std::move(reply)});
        !r) {
        return r;
    }
    return answer.get();
}

Result<void> Writer::submit(Record record) {
    return impl().push(std::move(record));
}

Result<void> Writer::flush() {
    std::promise<Result<void>> reply;
    auto answer = reply.get_future();
    if (auto r = impl().push(Flush{std::move(reply)}); !r) {
        return r;
    }
    return answer.get();
}

Result<void> Writer::close() {
    Impl& state = impl();
    if (state.close_result) {
        return *state.close_result;
    }
    {
        std::lock_guard lock(state.mutex);
        state.stopping = true; // the writer drains the queue, commits and returns
        state.not_empty.notify_one();
    }
    state.thread.join();
    state.statements.reset();
    auto closed = state.db.close();
    state.close_result = state.thread_failure ? error_result<void>(*state.thread_failure) : closed;
    return *state.close_result;
}

WriterStats Writer::stats() const {
    Impl& state = impl();
    std::lock_guard lock(state.mutex);
    return state.counters;
}

} // namespace flagcrawl::storage
