// The threaded strategy: N workers (the caller's thread and N-1 more), each with its own easy
// handle. They take turns at the source and the handler under one lock; transfers, sink writes
// and backoff waits run outside it.
#include "fetch/blocking.hpp"
#include "fetch/strategies.hpp"

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace flagcrawl::fetch::detail {

namespace {

class ThreadedFetcher;

// The fetcher whose engine lock this thread holds while it calls the source or the handler:
// wake() and stop() called from there must not take the lock again.
thread_local const ThreadedFetcher* t_calling_out = nullptr;

class ThreadedFetcher final : public Fetcher {
public:
    ThreadedFetcher(Policy policy, int concurrency)
        : m_policy(std::move(policy))
        , m_concurrency(concurrency) {}

    void run(WorkSource& source, ResponseHandler& handler) override {
        if (m_ran) {
            throw std::logic_error("Fetcher::run called twice");
        }
        m_ran = true;
        m_source = &source;
        m_handler = &handler;

        std::vector<std::unique_ptr<BlockingWorker>> workers;
        workers.reserve(static_cast<std::size_t>(m_concurrency));
        for (int i = 0; i < m_concurrency; ++i) {
            workers.push_back(std::make_unique<BlockingWorker>(m_policy, m_stop));
        }

        std::vector<std::thread> threads;
        threads.reserve(workers.size() - 1);
        try {
            for (std::size_t i = 1; i < workers.size(); ++i) {
                threads.emplace_back([this, w = workers[i].get()] { work(*w); });
            }
        } catch (...) {
            fail(std::current_exception()); // could not start a thread: stop the others
        }
        work(*workers[0]);
        for (auto& t : threads) {
            t.join();
        }
        if (m_error) {
            std::rethrow_exception(m_error);
        }
    }

    void wake() override {
        if (t_calling_out != this) {
            std::lock_guard lock(m_mutex); // orders the wake with a worker's next() and wait
            m_woken = true;
        } else {
            m_woken = true; // the caller holds the engine's lock
        }
        m_work_cv.notify_one(); // a worker that finds work wakes the next one (see work())
    }

    void stop(StopMode mode) override {
        m_stop.request(mode);
        if (t_calling_out != this) {
            std::lock_guard lock(m_mutex);
        }
        m_work_cv.notify_all();
    }

private:
    // One worker's loop: ask the source, fetch outside the lock, hand the response over.
    void work(BlockingWorker& worker) {
        std::unique_lock lock(m_mutex);
        try {
            while (!m_stop.stopping() && !m_finished) {
                t_calling_out = this;
                if (std::exchange(m_woken, false)) {
                    m_handler->on_wake();
                }
                WorkSource::Next next = m_source->next(Clock::now());
                t_calling_out = nullptr;
                if (next.state == WorkSource::State::finished) {
                    m_finished = true;
                    m_work_cv.notify_all();
                    break;
                }
                if (next.state == WorkSource::State::waiting) {
                    ++m_idle;
                    if (next.wake_at) {
                        m_work_cv.wait_until(lock, *next.wake_at);
                    } else {
                        m_work_cv.wait(lock);
                    }
                    --m_idle;
                    continue;
                }
                // More may be ready: let one idle worker ask too (it passes the turn on).
                if (m_idle > 0) {
                    m_work_cv.notify_one();
                }
                lock.unlock();
                Response response = worker.fetch(std::move(next.request));
                lock.lock();
                if (m_error) {
                    break; // run() ends with another worker's exception: no response after it
                }
                t_calling_out = this;
                m_handler->on_response(std::move(response));
                t_calling_out = nullptr;
                // The completion may have made work ready for idle workers; this one asks
                // first and passes the turn on if it gets some.
            }
        } catch (...) {
            t_calling_out = nullptr;
            if (!lock.owns_lock()) {
                lock.lock();
            }
            fail_locked(std::current_exception());
        }
    }

    void fail(std::exception_ptr error) {
        std::lock_guard lock(m_mutex);
        fail_locked(std::move(error));
    }

    void fail_locked(std::exception_ptr error) {
        if (!m_error) {
            m_error = std::move(error);
        }
        m_stop.request(StopMode::abort);
        m_work_cv.notify_all();
    }

    SharedPolicy m_policy;
    const int m_concurrency;
    StopControl m_stop;
    bool m_ran = false;
    WorkSource* m_source = nullptr;
    ResponseHandler* m_handler = nullptr;

    std::mutex m_mutex; // the engine's lock: serializes next() and on_response()
    std::condition_variable m_work_cv;
    bool m_finished = false; // the source said finished; guarded by m_mutex
    bool m_woken = false;    // wake() since the last on_wake(); guarded by m_mutex
    int m_idle = 0;          // workers waiting for work; guarded by m_mutex
    std::exception_ptr m_error;
};

} // namespace

std::unique_ptr<Fetcher> make_threaded_fetcher(Policy policy, int concurrency) {
    return std::make_unique<ThreadedFetcher>(std::move(policy), concurrency);
}

} // namespace flagcrawl::fetch::detail
