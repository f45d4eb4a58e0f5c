#include "crawler/crawl/frontier_store.hpp"

#include <stdexcept>

namespace flagcrawl::crawler {

namespace {

storage::Reader open_reader(const std::string& path) {
    auto reader = storage::Reader::open(path);
    if (!reader) {
        throw std::runtime_error(reader.error().message);
    }
    return std::move(*reader);
}

template <class T> void check(const storage::Result<T>& result) {
    if (!result) {
        throw std::runtime_error(result.error().message);
    }
}

} // namespace

SqliteFrontierStore::SqliteFrontierStore(const std::string& db_path, std::int64_t crawl_id)
    : m_reader(open_reader(db_path))
    , m_crawl_id(crawl_id)
    , m_thread([this] { serve(); }) {}

SqliteFrontierStore::~SqliteFrontierStore() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_one();
    m_thread.join();
}

void SqliteFrontierStore::request(QueuePosition after, std::size_t limit,
                                  std::optional<std::int64_t> committed_after,
                                  std::function<void()> ready) {
    {
        std::lock_guard lock(m_mutex);
        m_request = Request{after, limit, committed_after, std::move(ready)};
    }
    m_cv.notify_one();
}

std::optional<PagedIn> SqliteFrontierStore::take() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_answer, std::nullopt);
}

void SqliteFrontierStore::serve() {
    // How often a request waiting for newer entries looks again: the writer commits a batch
    // every 50 ms by default, so a few cheap reads per commit.
    constexpr auto k_poll = std::chrono::milliseconds(10);
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_cv.wait(lock, [this] { return m_stop || m_request; });
        if (m_stop) {
            return;
        }
        Request request = std::move(*m_request);
        m_request.reset();
        lock.unlock();
        PagedIn answer;
        for (;;) {
            auto held = committed_through();
            if (!held) {
                answer.error = held.error();
                break;
            }
            if (!request.committed_after || *held > *request.committed_after) {
                // Read before the entries, in a snapshot of its own: the entries' read sees at
                // least everything up to it.
                answer = read(request.after, request.limit);
                answer.committed_through = *held;
                break;
            }
            lock.lock();
            const bool stop = m_cv.wait_for(lock, k_poll, [this] { return m_stop; });
            lock.unlock();
            if (stop) {
                return;
            }
        }
        lock.lock();
        m_answer = std::move(answer);
        lock.unlock();
        request.ready();
        lock.lock();
    }
}

storage::Result<std::int64_t> SqliteFrontierStore::committed_through() {
    storage::Statement highest = m_reader.database().prepare(
        "SELECT coalesce(max(seq), 0) FROM frontier WHERE crawl_id = ?");
    highest.bind(1, m_crawl_id);
    std::int64_t seq = 0;
    auto read = storage::for_each_row(highest, [&](const storage::Statement& row) {
        seq = row.column_int64(0);
        return true;
    });
    if (!read) {
        return read.error();
    }
    return seq;
}

PagedIn SqliteFrontierStore::read(QueuePosition after, std::size_t limit) {
    PagedIn out;
    out.entries.reserve(limit);
    auto read = m_reader.for_each_queued(m_crawl_id, after.depth, after.seq, limit,
                                         [&](const storage::FrontierRow& row) {
                                             FrontierEntry entry;
                                             entry.seq = row.seq;
                                             entry.key = row.key_hash;
                                             entry.url = row.url;
                                             entry.depth = row.depth;
                                             entry.redirects = row.redirects;
                                             entry.requisite = row.requisite;
                                             entry.sitemap = static_cast<SitemapRole>(row.sitemap);
                                             entry.external = row.external;
                                             entry.chain_seq = row.chain_seq;
                                             entry.chain = row.chain;
                                             entry.from_seq = row.from_seq;
                                             entry.from_url = row.from_url;
                                             entry.chain_url = row.chain_url;
                                             entry.chain_from_url = row.chain_from_url;
                                             out.entries.push_back(std::move(entry));
                                             return true;
                                         });
    if (!read) {
        out.error = read.error();
    }
    return out;
}

std::uint64_t SqliteFrontierStore::restore(LocalFrontier& frontier) {
    auto progress = m_reader.crawl_progress(m_crawl_id);
    check(progress);
    auto total = m_reader.database().query_int("SELECT count(*) FROM frontier WHERE crawl_id = " +
                                               std::to_string(m_crawl_id));
    check(total);
    frontier.reserve_seen(static_cast<std::size_t>(*total));
    check(m_reader.for_each_seen_key(m_crawl_id,
                                     [&](std::uint64_t key) { frontier.restore_seen(key); }));
    check(m_reader.for_each_skip_key(m_crawl_id, [&](std::uint64_t key, bool tentative) {
        frontier.restore_skipped(key, tentative);
    }));
    if (frontier.counts_directories()) {
        storage::Statement urls =
            m_reader.database().prepare("SELECT url FROM frontier WHERE crawl_id = ?");
        urls.bind(1, m_crawl_id);
        check(storage::for_each_row(urls, [&](const storage::Statement& row) {
            frontier.restore_directory(row.column_text(0));
            return true;
        }));
    }
    frontier.restore_queue(progress->max_seq, progress->queued);
    return progress->queued;
}

} // namespace flagcrawl::crawler
