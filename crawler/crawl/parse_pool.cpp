#include "crawler/crawl/parse_pool.hpp"

#include "crawler/html/links.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace flagcrawl::crawler {

// Shared by the pool and its workers: a worker left running by abandon() keeps it alive.
struct ParsePool::State {
    std::shared_ptr<const PageParser> parser;
    std::shared_ptr<SharedWaker> ready;

    std::mutex mutex;
    std::condition_variable work_cv;   // tasks for the workers, or stop
    std::condition_variable result_cv; // a result is ready or nothing is pending
    std::deque<ParseTask> tasks;
    std::vector<ParsedPage> results;
    std::size_t pending = 0; // submitted, not taken
    std::size_t idle = 0;    // workers waiting on work_cv
    bool waiting = false;    // the owner waits on result_cv
    bool stop = false;
    bool abandoned = false;
};

ParsePool::ParsePool(int threads, std::shared_ptr<const PageParser> parser,
                     std::shared_ptr<SharedWaker> ready)
    : m_state(std::make_shared<State>()) {
    m_state->parser = std::move(parser);
    m_state->ready = std::move(ready);
    m_workers.reserve(static_cast<std::size_t>(threads));
    try {
        for (int i = 0; i < threads; ++i) {
            m_workers.emplace_back([state = m_state] { work(state); });
        }
    } catch (...) {
        {
            std::lock_guard lock(m_state->mutex);
            m_state->stop = true;
        }
        m_state->work_cv.notify_all();
        for (auto& worker : m_workers) {
            worker.join();
        }
        throw;
    }
}

ParsePool::~ParsePool() {
    bool abandoned = false;
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stop = true;
        abandoned = m_state->abandoned;
    }
    m_state->work_cv.notify_all();
    for (auto& worker : m_workers) {
        if (abandoned) {
            worker.detach(); // idle ones end at once; busy ones when their parse does
        } else {
            worker.join();
        }
    }
}

void ParsePool::submit(ParseTask&& task) {
    bool wake_worker = false;
    {
        std::lock_guard lock(m_state->mutex);
        if (m_state->abandoned) {
            return;
        }
        m_state->tasks.push_back(std::move(task));
        ++m_state->pending;
        wake_worker = m_state->idle > 0;
    }
    if (wake_worker) {
        m_state->work_cv.notify_one();
    }
}

void ParsePool::take(std::vector<ParsedPage>& out) {
    std::lock_guard lock(m_state->mutex);
    m_state->pending -= m_state->results.size();
    for (ParsedPage& page : m_state->results) {
        out.push_back(std::move(page));
    }
    m_state->results.clear();
}

std::size_t ParsePool::pending() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->pending;
}

bool ParsePool::wait_for_result(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_state->mutex);
    m_state->waiting = true;
    const bool ready = m_state->result_cv.wait_until(
        lock, deadline, [this] { return !m_state->results.empty() || m_state->pending == 0; });
    m_state->waiting = false;
    return ready;
}

std::size_t ParsePool::abandon() {
    std::size_t dropped = 0;
    {
        std::lock_guard lock(m_state->mutex);
        dropped = m_state->pending;
        m_state->abandoned = true;
        m_state->stop = true;
        m_state->tasks.clear();
        m_state->results.clear();
        m_state->pending = 0;
    }
    m_state->work_cv.notify_all();
    return dropped;
}

// The loop is woken only when a result lands in an empty batch: until it takes them, later
// results join the same batch. A worker is notified only when one sleeps (submit()).
void ParsePool::work(const std::shared_ptr<State>& state) {
    LinkExtractor extractor(state->parser->extractor_options());
    for (;;) {
        ParseTask task;
        {
            std::unique_lock lock(state->mutex);
            ++state->idle;
            state->work_cv.wait(lock, [&] { return state->stop || !state->tasks.empty(); });
            --state->idle;
            if (state->stop) {
                return;
            }
            task = std::move(state->tasks.front());
            state->tasks.pop_front();
        }
        ParsedPage page = state->parser->parse_html(task, extractor);
        bool wake_loop = false;
        bool owner_waiting = false;
        {
            std::lock_guard lock(state->mutex);
            if (state->abandoned) {
                return;
            }
            wake_loop = state->results.empty();
            state->results.push_back(std::move(page));
            owner_waiting = state->waiting;
        }
        if (owner_waiting) {
            state->result_cv.notify_all();
        }
        if (wake_loop) {
            (*state->ready)();
        }
    }
}

} // namespace flagcrawl::crawler
