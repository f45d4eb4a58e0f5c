// The frontier's SQLite side: queued URLs beyond the in-memory window are read back from the
// `frontier` table (written by the crawl's PageRecords) on a thread of their own, and a crawl is
// restored from it.
#pragma once

#include "crawler/crawl/frontier.hpp"
#include "storage/reader.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace flagcrawl::crawler {

// Pages queued entries back in from the `frontier` table, on the store's own thread, from what
// the crawl's writer has committed (a read connection of its own: the writer is never asked to
// commit, so the crawl loop never waits for a commit, and a page-in never races the writer's
// close). A request that waits for newer entries polls the table every few milliseconds.
//
// Threads: request(), take() and restore() from the frontier's thread (restore() before any
// request); the `ready` callback runs on the store's thread.
class SqliteFrontierStore final : public FrontierStore {
public:
    // Throws std::runtime_error with the store's message when the database cannot be read, and
    // std::system_error when the store's thread cannot start. A new crawl's id may be given
    // later (set_crawl), once its first run is recorded.
    explicit SqliteFrontierStore(const std::string& db_path, std::int64_t crawl_id = 0);
    // Ends a wait for newer entries, waits for a read in progress to end, then joins.
    ~SqliteFrontierStore() override;
    SqliteFrontierStore(const SqliteFrontierStore&) = delete;
    SqliteFrontierStore& operator=(const SqliteFrontierStore&) = delete;

    // Before the first request().
    void set_crawl(std::int64_t crawl_id) { m_crawl_id = crawl_id; }

    void request(QueuePosition after, std::size_t limit,
                 std::optional<std::int64_t> committed_after, std::function<void()> ready) override;
    std::optional<PagedIn> take() override;

    // Resume: loads the crawl's seen keys, skipped keys and queue position into `frontier`.
    // Returns the number of queued entries. Throws std::runtime_error with the store's message.
    std::uint64_t restore(LocalFrontier& frontier);

private:
    void serve();
    // The highest seq of the crawl's entries the store holds.
    storage::Result<std::int64_t> committed_through();
    PagedIn read(QueuePosition after, std::size_t limit);

    storage::Reader m_reader; // the store's thread, or restore() before any request
    std::int64_t m_crawl_id;  // read by the store's thread after a request: set before

    std::mutex m_mutex;
    std::condition_variable m_cv;
    struct Request {
        QueuePosition after;
        std::size_t limit = 0;
        std::optional<std::int64_t> committed_after;
        std::function<void()> ready;
    };
    std::optional<Request> m_request; // asked, not started
    std::optional<PagedIn> m_answer;  // read, not taken
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace flagcrawl::crawler
