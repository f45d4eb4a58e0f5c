// Internal to fetch/: the pieces the sequential and threaded strategies share — a worker that
// fetches one request at a time with its own easy handle (retries included), and the stop
// state that cuts its transfers and backoff waits short from another thread.
#pragma once

#include "fetch/fetch.hpp"
#include "fetch/transfer.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

namespace flagcrawl::fetch::detail {

// The stop request of one fetcher. Thread-safe: request() comes from any thread (a signal
// watcher); the workers poll stopping()/aborting() and sleep in sleep_for().
class StopControl {
public:
    void request(StopMode mode);
    bool stopping() const { return m_mode.load(std::memory_order_acquire) != k_running; }
    bool aborting() const { return m_mode.load(std::memory_order_acquire) == k_abort; }
    // Sleeps `delay`; false when a stop cut the sleep short.
    bool sleep_for(Millis delay);

    // A worker's multi handle, woken (curl_multi_wakeup) by an abort.
    void enlist(CURLM* multi);
    void dismiss(CURLM* multi);

private:
    static constexpr int k_running = 0;
    static constexpr int k_drain = 1;
    static constexpr int k_abort = 2;
    std::atomic<int> m_mode{k_running};
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<CURLM*> m_multis; // guarded by m_mutex
};

// Fetches requests one at a time on the calling thread with one reused easy handle. The handle
// runs in a private multi handle (what curl_easy_perform does inside) so that an abort can wake
// it at once with curl_multi_wakeup; connections stay cached in it between requests.
class BlockingWorker {
public:
    BlockingWorker(const SharedPolicy& policy, StopControl& stop);
    ~BlockingWorker();
    BlockingWorker(const BlockingWorker&) = delete;
    BlockingWorker& operator=(const BlockingWorker&) = delete;

    // All attempts of one request, backoff waits included; always returns its response.
    Response fetch(Request&& request);

private:
    // One attempt; nullopt when stop(abort) cut it short.
    std::optional<CURLcode> attempt();

    StopControl& m_stop;
    Transfer m_transfer;
    CURLM* m_multi = nullptr;
    std::minstd_rand m_rng;
};

} // namespace flagcrawl::fetch::detail
