#include "interrupt.hpp"

#include <ctime>
#include <pthread.h>

namespace flagcrawl::cli {

InterruptWatcher::InterruptWatcher(Callback on_signal, std::chrono::milliseconds grace)
    : m_on_signal(std::move(on_signal))
    , m_grace(grace) {
    sigemptyset(&m_signals);
    sigaddset(&m_signals, SIGINT);
    sigaddset(&m_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &m_signals, &m_old_mask);
    m_thread = std::thread([this] { watch(); });
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
    while (!m_done) {
        int sig = sigtimedwait(&m_signals, nullptr, &tick);
        if (sig > 0) {
            if (!m_interrupted.exchange(true)) {
                first_signal = Clock::now();
                m_on_signal(fetch::StopMode::drain);
            } else if (!aborted) {
                aborted = true;
                m_on_signal(fetch::StopMode::abort);
            }
        } else if (m_interrupted && !aborted && Clock::now() - first_signal >= m_grace) {
            aborted = true;
            m_on_signal(fetch::StopMode::abort);
        }
    }
}

} // namespace flagcrawl::cli
