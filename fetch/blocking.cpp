#include "fetch/blocking.hpp"

#include <algorithm>
#include <new>

namespace flagcrawl::fetch::detail {

void StopControl::request(StopMode mode) {
    const int wanted = mode == StopMode::abort ? k_abort : k_drain;
    std::lock_guard lock(m_mutex);
    int current = m_mode.load(std::memory_order_relaxed);
    while (current < wanted &&
           !m_mode.compare_exchange_weak(current, wanted, std::memory_order_acq_rel)) {
    }
    m_cv.notify_all();
    if (wanted == k_abort) {
        for (CURLM* multi : m_multis) {
            curl_multi_wakeup(multi);
        }
    }
}

bool StopControl::sleep_for(Millis delay) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, delay, [this] { return stopping(); });
}

void StopControl::enlist(CURLM* multi) {
    std::lock_guard lock(m_mutex);
    m_multis.push_back(multi);
}

void StopControl::dismiss(CURLM* multi) {
    std::lock_guard lock(m_mutex);
    std::erase(m_multis, multi);
}

BlockingWorker::BlockingWorker(const SharedPolicy& policy, StopControl& stop)
    : m_stop(stop)
    , m_transfer(policy)
    , m_rng(std::random_device{}()) {
    m_multi = curl_multi_init();
    if (!m_multi) {
        throw std::bad_alloc();
    }
    m_stop.enlist(m_multi);
}

BlockingWorker::~BlockingWorker() {
    m_stop.dismiss(m_multi);
    curl_multi_cleanup(m_multi);
}

std::optional<CURLcode> BlockingWorker::attempt() {
    if (m_stop.aborting()) {
        return std::nullopt;
    }
    CURL* easy = m_transfer.easy();
    if (curl_multi_add_handle(m_multi, easy) != CURLM_OK) {
        return CURLE_OUT_OF_MEMORY;
    }
    std::optional<CURLcode> result;
    for (;;) {
        int running = 0;
        const CURLMcode mc = curl_multi_perform(m_multi, &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
            if (msg->msg == CURLMSG_DONE) {
                result = msg->data.result;
            }
        }
        if (result) {
            break;
        }
        if (mc != CURLM_OK) {
            result = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (m_stop.aborting()) {
            break; // an abort wakes the poll below through curl_multi_wakeup
        }
        // Waits for the transfer's sockets, curl's own timeout, or a wakeup; 1 s at most.
        curl_multi_poll(m_multi, nullptr, 0, 1000, nullptr);
    }
    curl_multi_remove_handle(m_multi, easy);
    return result;
}

Response BlockingWorker::fetch(Request&& request) {
    m_transfer.begin(std::move(request), Clock::now());
    for (;;) {
        m_transfer.before_attempt();
        const std::optional<CURLcode> code = attempt();
        if (!code) {
            return m_transfer.interrupted(Clock::now());
        }
        const Verdict verdict = m_transfer.after_attempt(*code, !m_stop.stopping(), m_rng);
        if (!verdict.retry) {
            return m_transfer.finish(Clock::now());
        }
        if (!m_stop.sleep_for(verdict.delay)) {
            // drain: keep the last attempt's outcome; abort: the request was cut short.
            return m_stop.aborting() ? m_transfer.interrupted(Clock::now())
                                     : m_transfer.finish(Clock::now());
        }
    }
}

} // namespace flagcrawl::fetch::detail
