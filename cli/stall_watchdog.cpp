#include "stall_watchdog.hpp"

#include "progress.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace flagcrawl::cli {

StallWatchdog::StallWatchdog(StallProbe probe, std::chrono::nanoseconds stall_after)
    : m_probe(std::move(probe))
    , m_stall_after(stall_after)
    , m_tick(std::clamp<std::chrono::nanoseconds>(stall_after / 4, std::chrono::milliseconds(50),
                                                  std::chrono::seconds(1))) {
    if (stall_after.count() > 0) {
        m_thread = std::thread([this] { watch(); });
    }
}

StallWatchdog::~StallWatchdog() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_one();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void StallWatchdog::watch() {
    std::int64_t reported_for = -1;
    bool asked = false;
    std::unique_lock lock(m_mutex);
    const auto started = std::chrono::steady_clock::now().time_since_epoch().count();
    while (!m_cv.wait_for(lock, m_tick, [this] { return m_stop; })) {
        std::int64_t last = m_probe.last_completion_ns();
        if (last == 0) {
            last = started;
        }
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        if (!m_probe.busy() || last == reported_for ||
            std::chrono::nanoseconds(now - last) < m_stall_after) {
            asked = false;
            continue;
        }
        if (m_probe.request_report && !asked) {
            m_probe.request_report();
            asked = true;
            continue;
        }
        const std::string what = m_probe.report();
        const double stalled_s =
            std::chrono::duration<double>(std::chrono::nanoseconds(now - last)).count();
        print_line(stderr, fmt::format("flagcrawl: nothing completed for {}: {}",
                                       format_seconds(stalled_s), what.empty() ? "waiting" : what));
        reported_for = last;
        asked = false;
    }
}

} // namespace flagcrawl::cli
