// Ctrl-C for long-running commands: the first SIGINT/SIGTERM asks the job to stop gracefully
// (start nothing new, let transfers in flight finish); a second signal, or the grace period
// running out, asks it to abort what is still in flight. A process that still has not ended
// k_hard_exit_after the abort (stuck on a locked database, a full disk), or a third signal,
// exits at once with 130: a signal is never ignored.
#pragma once

#include "fetch/fetch.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <signal.h>
#include <thread>

namespace flagcrawl::cli {

class InterruptWatcher {
public:
    using Callback = std::function<void(fetch::StopMode)>;

    // How long an aborted process may take to end before the watcher ends it.
    static constexpr std::chrono::seconds k_hard_exit_after{1};

    // Blocks SIGINT and SIGTERM in the calling thread, so construct it on the main thread
    // BEFORE starting any other thread (threads inherit the mask; a thread that does not block
    // the signals would be killed by them). `on_signal` runs on a thread of the watcher's (not
    // the one that counts the grace: a callback that waits cannot delay the hard exit).
    // Throws FatalError (the mask restored) when the watcher's thread cannot start.
    InterruptWatcher(Callback on_signal, std::chrono::milliseconds grace);
    // Stops watching and restores the signal mask. Signals that arrived are not lost:
    // interrupted() stays true.
    ~InterruptWatcher();
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;

    bool interrupted() const { return m_interrupted.load(); }

    // What to record before the watcher ends a stuck process (e.g. the run as interrupted);
    // runs on the watcher's thread while other threads may hold any lock, so it must take
    // none of theirs and wait only briefly. Empty: nothing.
    void set_last_words(std::function<void()> last_words);

private:
    void watch();
    void request_stop(fetch::StopMode mode);
    void stop_requests();
    void end_threads();
    [[noreturn]] void hard_exit();

    Callback m_on_signal;
    std::chrono::milliseconds m_grace;
    sigset_t m_signals{};
    sigset_t m_old_mask{};
    std::atomic<bool> m_interrupted{false};
    std::atomic<bool> m_done{false};
    std::mutex m_last_words_mutex;
    std::function<void()> m_last_words; // guarded by m_last_words_mutex
    std::mutex m_stop_mutex;
    std::condition_variable m_stop_cv;
    int m_requested = 0;   // 1 drain, 2 abort; guarded by m_stop_mutex
    std::thread m_stopper; // runs m_on_signal
    std::thread m_thread;  // waits for the signals
};

} // namespace flagcrawl::cli
