// The stall line of `crawl` and `download`: when nothing completes for a while although work is
// pending, one line on stderr names what everything waits on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flagcrawl::cli {

// What the watchdog asks of the job; each function is called on the watchdog's thread, so it
// must be thread-safe.
struct StallProbe {
    std::function<std::int64_t()> last_completion_ns; // steady clock; 0: nothing completed yet
    std::function<bool()> busy;                       // requests in flight or queued
    // Optional: asked one tick before report(), so that a job whose state lives on its loop
    // thread can describe it there (a crawl's frontier).
    std::function<void()> request_report{};
    std::function<std::string()> report{}; // what it waits on; "" says "waiting"
};

// Prints "flagcrawl: nothing completed for 12.3 s: REPORT" when nothing completed for
// `stall_after` while the job is busy; again after each later completion that is followed by
// another stall. A zero `stall_after` disables it (no thread). Checks a few times per period, at
// most once a second.
class StallWatchdog {
public:
    StallWatchdog(StallProbe probe, std::chrono::nanoseconds stall_after);
    ~StallWatchdog();
    StallWatchdog(const StallWatchdog&) = delete;
    StallWatchdog& operator=(const StallWatchdog&) = delete;

private:
    void watch();

    StallProbe m_probe;
    const std::chrono::nanoseconds m_stall_after;
    const std::chrono::nanoseconds m_tick;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace flagcrawl::cli
