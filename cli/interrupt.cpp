#include "interrupt.hpp"

#include "commands.hpp"

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
        m_thread = std::thread([this] { watch(); });
    } catch (const std::system_error& e) {
        // Nobody would hear the signals: give them back before failing.
        pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
        throw FatalError(std::string("cannot start a thread: ") + e.what());
    }
}

InterruptWatcher::~InterruptWatcher() {
    m_done = true;
    m_thread.join();
    pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
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
        m_on_signal(fetch::StopMode::abort);
    };
    while (!m_done) {
        int sig = sigtimedwait(&m_signals, nullptr, &tick);
        if (sig > 0) {
            if (!m_interrupted.exchange(true)) {
                first_signal = Clock::now();
                m_on_signal(fetch::StopMode::drain);
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

void InterruptWatcher::hard_exit() {
    // Async-signal-safe calls only: other threads may hold any lock (stdio's included).
    static const char k_message[] = "flagcrawl: interrupted, stopped without finishing\n";
    (void)!::write(STDERR_FILENO, k_message, sizeof k_message - 1);
    ::_exit(k_exit_interrupted);
}

} // namespace flagcrawl::cli
