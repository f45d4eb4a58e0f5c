// A wake-up call that other threads make until its owner clears it: the calls and clear() are
// serialized, so that once clear() returned no call runs or starts (a thread that outlives the
// crawl loop never wakes an engine that is gone).
#pragma once

#include <functional>
#include <mutex>

namespace flagcrawl::crawler {

// Thread-safe. Shared (std::shared_ptr) between the owner and the threads that call it; a call
// must not clear() it, nor take a lock that a thread holds while it calls clear().
class SharedWaker {
public:
    void set(std::function<void()> wake) {
        std::lock_guard lock(m_mutex);
        m_wake = std::move(wake);
    }
    void clear() { set(nullptr); }
    void operator()() {
        std::lock_guard lock(m_mutex);
        if (m_wake) {
            m_wake();
        }
    }

private:
    std::mutex m_mutex;
    std::function<void()> m_wake;
};

} // namespace flagcrawl::crawler
