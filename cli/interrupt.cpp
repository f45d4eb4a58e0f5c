#include "interrupt.hpp"

#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <pthread.h>
#include <string>
#include <system_error>
#include <unistd.h>

namespace flagcrawl::cli {

InterruptWatcher::InterruptWatcher(Callback on_signal, std::chrono::milliseconds grace)
    : m_on_signal(std::move(on_signal))
    , m_grace(grace) {
    sigemptyset(&m_signals);
    sigaddset(&m_signals, SIGINT);
    sigaddset(&m_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &m_signals, &m_old_mask);
    try {
        m_stopper = std::thread([this] { stop_requests(); });
        m_thread = std::thread([this] { watch(); });
    } catch (const std::system_error& e) {
        // Nobody would hear the signals: give them back before failing.
        end_threads();
        pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
        throw FatalError(std::string("cannot start a thread: ") + e.what());
    }
}

InterruptWatcher::~InterruptWatcher() {
    end_threads();
    pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
}

void InterruptWatcher::end_threads() {
    m_done = true;
    { std::lock_guard lock(m_stop_mutex); }
    m_stop_cv.notify_one();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    if (m_stopper.joinable()) {
        m_stopper.join();
    }
}

void InterruptWatcher::request_stop(fetch::StopMode mode) {
    const int wanted = mode == fetch::StopMode::abort ? 2 : 1;
    {
        std::lock_guard lock(m_stop_mutex);
        m_requested = std::max(m_requested, wanted);
    }
    m_stop_cv.notify_one();
}

// Runs the stop callbacks, so that one that waits (on a lock a busy thread holds) never keeps
// the watcher from counting time and ending the process.
void InterruptWatcher::stop_requests() {
    int done = 0;
    std::unique_lock lock(m_stop_mutex);
    for (;;) {
        m_stop_cv.wait(lock, [&] { return m_done || m_requested > done; });
        if (m_requested <= done) {
            return; // m_done
        }
        done = m_requested;
        lock.unlock();
        m_on_signal(done == 2 ? fetch::StopMode::abort : fetch::StopMode::drain);
        lock.lock();
    }
}

void InterruptWatcher::watch() {
    using Clock = std::chrono::steady_clock;
    // Polls with a short timeout so that the destructor can end the thread without sending it
    // a signal of its own. The destructor waits up to one tick: every command pays it at exit,
    // and `bench` measures whole processes, so it is kept short (a sleeping thread waking 100
    // times a second costs nothing measurable).
    const timespec tick{0, 10'000'000};
    bool aborted = false;
    Clock::time_point first_signal{};
    Clock::time_point abort_time{};
    auto abort = [&] {
        aborted = true;
        abort_time = Clock::now();
        request_stop(fetch::StopMode::abort);
    };
    while (!m_done) {
        int sig = sigtimedwait(&m_signals, nullptr, &tick);
        if (sig > 0) {
            if (!m_interrupted.exchange(true)) {
                first_signal = Clock::now();
                request_stop(fetch::StopMode::drain);
            } else if (!aborted) {
                abort();
            } else {
                hard_exit();
            }
        } else if (m_interrupted && !aborted && Clock::now() - first_signal >= m_grace) {
            abort();
        } else if (aborted && Clock::now() - abort_time >= k_hard_exit_after) {
            hard_exit();
        }
    }
}

void InterruptWatcher::set_last_words(std::function<void()> last_words) {
    std::lock_guard lock(m_last_words_mutex);
    m_last_words = std::move(last_words);
}

void InterruptWatcher::hard_exit() {
    {
        std::lock_guard lock(m_last_words_mutex);
        if (m_last_words) {
            m_last_words();
        }
    }
    // Nothing that could wait on another thread's lock from here on (stdio's included).
    static const char k_message[] = "flagcrawl: interrupted, stopped without finishing\n";
    (void)!::write(STDERR_FILENO, k_message, sizeof k_message - 1);
    ::_exit(k_exit_interrupted);
}

} // namespace flagcrawl::cli
