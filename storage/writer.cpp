#include "storage/writer.hpp"

#include "storage/record_statements.hpp"
#include "storage/run_owner.hpp"
#include "storage/run_tally.hpp"
#include "storage/schema.hpp"
#include "storage/writer_queue.hpp"

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace flagcrawl::storage {

namespace {

using Clock = std::chrono::steady_clock;

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

// What a queued item holds in memory, roughly: the item itself and the heap of its strings and
// vectors (their reserved room included; a string short enough to sit in the object holds
// none), so that the queue's byte bound follows what the queue keeps alive.
std::size_t heap_bytes(const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}
std::size_t heap_bytes(const std::optional<std::string>& s) {
    return s ? heap_bytes(*s) : 0;
}
template <class T> std::size_t heap_bytes(const std::vector<T>& v) {
    return v.capacity() * sizeof(T);
}
std::size_t heap_bytes(const FrontierRow& row) {
    return heap_bytes(row.url) + heap_bytes(row.chain) + heap_bytes(row.from_url) +
           heap_bytes(row.chain_url) + heap_bytes(row.chain_from_url);
}
std::size_t heap_bytes(const std::vector<FrontierRow>& rows) {
    std::size_t bytes = rows.capacity() * sizeof(FrontierRow);
    for (const FrontierRow& row : rows) {
        bytes += heap_bytes(row);
    }
    return bytes;
}
std::size_t heap_bytes(const DownloadRecord& d) {
    return heap_bytes(d.url) + heap_bytes(d.final_url) + heap_bytes(d.path) + heap_bytes(d.sha256) +
           heap_bytes(d.error) + heap_bytes(d.error_kind);
}
std::size_t heap_bytes(const CrawlBeginRecord& c) {
    return heap_bytes(c.seeds) + heap_bytes(c.options) + heap_bytes(c.frontier);
}
std::size_t heap_bytes(const PageRecord& p) {
    std::size_t bytes = heap_bytes(p.url) + heap_bytes(p.final_url) + heap_bytes(p.content_type) +
                        heap_bytes(p.title) + heap_bytes(p.location) + heap_bytes(p.error) +
                        heap_bytes(p.error_kind) + heap_bytes(p.body) + p.links.heap_bytes() +
                        heap_bytes(p.discovered) + heap_bytes(p.skips) + heap_bytes(p.unskipped);
    for (const SkipRow& skip : p.skips) {
        bytes += heap_bytes(skip.kind) + heap_bytes(skip.rule) + heap_bytes(skip.url);
    }
    if (p.chain_failure) {
        bytes += heap_bytes(p.chain_failure->error) + heap_bytes(p.chain_failure->error_kind);
    }
    return bytes;
}
std::size_t heap_bytes(const CrawlEndRecord& e) {
    return heap_bytes(e.stop_reason);
}
std::size_t heap_bytes(const Record& record) {
    return std::visit([](const auto& r) { return heap_bytes(r); }, record);
}
std::size_t heap_bytes(const BeginRun& b) {
    return heap_bytes(b.info.arguments) + (b.crawl ? heap_bytes(*b.crawl) : 0);
}
std::size_t heap_bytes(const FinishRun&) {
    return 0;
}
std::size_t heap_bytes(const Flush&) {
    return 0;
}

template <class T> Result<T> error_result(const Error& error) {
    return Result<T>(boost::system::in_place_error, error);
}

} // namespace

// The writer thread's side: batches (one transaction each) of the items it takes from the
// queue, the first failure, and the answers to control items. The SQL is RecordStatements'.
struct Writer::Impl {
    Impl(Database database, const WriterOptions& writer_options)
        : options(writer_options)
        , db(std::move(database))
        , statements(std::in_place, db)
        , queue(options.queue_capacity, options.queue_bytes, options.wake_records) {}

    // Producer side (any thread): a record, or a control item answered through its promise.
    template <class T> Result<void> push(T&& value) {
        constexpr bool control = !std::is_same_v<std::decay_t<T>, Record>;
        const std::size_t bytes = sizeof(Item) + heap_bytes(value);
        return queue.push(control, bytes, std::in_place_type<std::decay_t<T>>,
                          std::forward<T>(value));
    }

    // ---- writer thread ----

    void run() {
        std::vector<Item> chunk;
        chunk.reserve(Queue::chunk);
        for (;;) {
            const std::optional<OpenBatch> batch = open_batch();
            const bool drained = queue.take(chunk, batch ? &*batch : nullptr);
            if (chunk.empty()) {
                // Queue dry past the batch deadline, or closing with nothing left.
                commit_or_fail();
                if (drained) {
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
            queue.handled(done);
        }
    }

    std::optional<OpenBatch> open_batch() const {
        if (!transaction) {
            return std::nullopt;
        }
        return OpenBatch{deadline, options.batch_records - batch_size};
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
        if (auto r = statements->flush(); !r) {
            return r;
        }
        {
            // Held while the gate runs: set_commit_gate() waits for a call in progress.
            std::lock_guard lock(gate_mutex);
            if (gate) {
                gate();
            }
        }
        auto committed = transaction->commit();
        transaction.reset(); // rolls back if the commit failed
        const std::uint64_t records = std::exchange(batch_size, 0);
        if (!committed) {
            return committed;
        }
        {
            std::lock_guard lock(tally_mutex);
            for (const auto& [run_id, tally] : statements->take_tallies()) {
                tallies[run_id].merge(tally);
            }
        }
        queue.committed(records);
        return {};
    }

    void fail(const Error& error) {
        transaction.reset(); // rollback: the open batch is lost
        statements->discard();
        statements->drop_tallies();
        batch_size = 0;
        if (thread_failure) {
            return;
        }
        thread_failure = error;
        queue.fail(error); // blocked producers return the error
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
            return std::visit([this](auto& value) { return statements->apply(value); }, record);
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
            return statements->begin_run(item.info, item.crawl ? &*item.crawl : nullptr);
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
            auto found =
                statements->finish_run(item.run_id, item.totals, item.status, item.finished_at);
            if (!found) {
                return found.error();
            }
            unknown_run = !*found;
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

    using Queue = WriterQueue<Item>;

    const WriterOptions options;
    Database db;                                // the only write connection; writer thread only
    std::optional<RecordStatements> statements; // destroyed before db closes

    // Writer-thread state.
    std::optional<Transaction> transaction; // the open batch
    std::uint64_t batch_size = 0;           // records in it
    Clock::time_point deadline;             // when it must be committed
    std::optional<Error> thread_failure;

    std::mutex gate_mutex;
    std::function<void()> gate; // guarded by gate_mutex

    mutable std::mutex tally_mutex;
    std::map<std::int64_t, RunTally> tallies; // committed, by run id; guarded by tally_mutex

    Queue queue;
    std::thread thread;
    std::optional<Result<void>> close_result; // set by close(); owner's thread
};

Result<Writer> Writer::open(const std::string& path, const WriterOptions& options) {
    if (options.queue_capacity == 0 || options.queue_bytes == 0 || options.batch_records == 0 ||
        options.wake_records == 0) {
        throw std::invalid_argument(
            "storage: queue_capacity, queue_bytes, batch_records and wake_records must be > 0");
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
    // Runs whose process died without recording its end are marked before this one begins.
    if (auto r = settle_dead_runs(*db); !r) {
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

Summary Writer::run_totals(std::int64_t run_id) const {
    Impl& state = impl();
    std::lock_guard lock(state.tally_mutex);
    const auto found = state.tallies.find(run_id);
    return found == state.tallies.end() ? RunTally().summary() : found->second.summary();
}

void Writer::set_commit_gate(std::function<void()> gate) {
    Impl& state = impl();
    std::lock_guard lock(state.gate_mutex);
    state.gate = std::move(gate);
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
    state.queue.close(); // the writer drains the queue, commits and returns
    state.thread.join();
    state.statements.reset();
    // The database file alone holds every commit once the writer closes, so that a copy of
    // it (cp, scp, an attachment) made after the run needs no -wal file beside it. SQLite
    // does this itself only on the last close of the file, and in a crawl the last to close
    // are read-only connections, which cannot. Best effort: a reader still reading keeps
    // the frames it needs in the WAL, where they stay safe.
    if (!state.thread_failure) {
        (void)state.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    auto closed = state.db.close();
    state.close_result = state.thread_failure ? error_result<void>(*state.thread_failure) : closed;
    return *state.close_result;
}

WriterStats Writer::stats() const {
    return impl().queue.stats();
}

std::optional<Error> Writer::failure() const {
    return impl().queue.failure();
}

} // namespace flagcrawl::storage
