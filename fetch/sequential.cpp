// The sequential strategy: one easy handle, one request at a time, on the caller's thread.
#include "fetch/blocking.hpp"
#include "fetch/strategies.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace flagcrawl::fetch::detail {

namespace {

class SequentialFetcher final : public Fetcher {
public:
    explicit SequentialFetcher(Policy policy)
        : m_policy(std::move(policy)) {}

    void run(WorkSource& source, ResponseHandler& handler) override {
        if (m_ran) {
            throw std::logic_error("Fetcher::run called twice");
        }
        m_ran = true;
        BlockingWorker worker(m_policy, m_stop);
        while (!m_stop.stopping()) {
            bool woken = false;
            {
                std::lock_guard lock(m_mutex);
                woken = std::exchange(m_woken, false); // a wake() from here on is seen below
            }
            if (woken) {
                handler.on_wake();
            }
            WorkSource::Next next = source.next(Clock::now());
            switch (next.state) {
            case WorkSource::State::ready:
                handler.on_response(worker.fetch(std::move(next.request)));
                break;
            case WorkSource::State::waiting:
                wait(next.wake_at);
                break;
            case WorkSource::State::finished:
                return;
            }
        }
    }

    void wake() override {
        {
            std::lock_guard lock(m_mutex);
            m_woken = true;
        }
        m_cv.notify_one();
    }

    void stop(StopMode mode) override {
        m_stop.request(mode);
        {
            std::lock_guard lock(m_mutex); // orders the request with wait()'s predicate check
        }
        m_cv.notify_one();
    }

private:
    // Until `until` (if set), a wake() or a stop.
    void wait(std::optional<Clock::time_point> until) {
        std::unique_lock lock(m_mutex);
        auto woken = [this] { return m_woken || m_stop.stopping(); };
        if (until) {
            m_cv.wait_until(lock, *until, woken);
        } else {
            m_cv.wait(lock, woken);
        }
    }

    SharedPolicy m_policy;
    StopControl m_stop;
    bool m_ran = false;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_woken = false; // guarded by m_mutex
};

} // namespace

std::unique_ptr<Fetcher> make_sequential_fetcher(Policy policy) {
    return std::make_unique<SequentialFetcher>(std::move(policy));
}

} // namespace flagcrawl::fetch::detail
