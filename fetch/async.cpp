// The async strategy: one curl multi handle driven by a Boost.Asio io_context on the caller's
// thread, through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION (the wiring of curl's
// hiperfifo.c / multi-uv.c examples). At most N transfers are in flight; easy handles come from
// a pool and keep their connections in the multi handle's cache.
#include "fetch/strategies.hpp"
#include "fetch/transfer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

namespace flagcrawl::fetch::detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class AsyncFetcher final : public Fetcher {
public:
    AsyncFetcher(Policy policy, int concurrency);
    ~AsyncFetcher() override;
    AsyncFetcher(const AsyncFetcher&) = delete;
    AsyncFetcher& operator=(const AsyncFetcher&) = delete;

    void run(WorkSource& source, ResponseHandler& handler) override;
    void wake() override;
    void stop(StopMode mode) override;

private:
    // A pooled easy handle and where its request stands.
    struct Slot {
        Slot(const SharedPolicy& policy, asio::io_context& io)
            : transfer(policy)
            , backoff(io) {}
        enum class State { idle, in_multi, backoff };
        Transfer transfer;
        asio::steady_timer backoff; // the wait before a retry
        State state = State::idle;
        std::uint64_t generation = 0; // tells a stale backoff completion from the current one
    };

    // A socket curl asked us to watch (any socket: connections, resolver wakeups, ...).
    // Pooled; back in the pool once curl said CURL_POLL_REMOVE and no wait is outstanding.
    struct Watch {
        explicit Watch(asio::io_context& io)
            : descriptor(io) {}
        asio::posix::stream_descriptor descriptor;
        curl_socket_t fd = CURL_SOCKET_BAD;
        int wanted = 0;       // CURL_POLL_IN / CURL_POLL_OUT bits curl asked for last
        bool reading = false; // an async_wait(read) is outstanding
        bool writing = false; // an async_wait(write) is outstanding
        bool removed = false; // curl said CURL_POLL_REMOVE; the fd is curl's again
    };

    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* watch) noexcept;
    static int on_timer(CURLM* multi, long timeout_ms, void* self) noexcept;

    void watch_socket(curl_socket_t fd, int what, Watch* watch);
    void forget_socket(Watch& watch);
    void arm(Watch& watch, int direction);
    void on_socket_ready(Watch& watch, int direction, const error_code& ec);
    void on_curl_timeout();
    void check(CURLMcode code);
    void collect_done();

    void pump();
    void arm_wake(Clock::time_point when);
    void start(Request&& request);
    void begin_attempt(Slot& slot);
    void attempt_done(Slot& slot, CURLcode code);
    void deliver(Slot& slot, Response&& response);
    void apply_stop();
    void maybe_finish();
    bool stop_requested() const { return m_stop_mode.load(std::memory_order_acquire) != 0; }

    SharedPolicy m_policy;
    const int m_concurrency;
    asio::io_context m_io{1}; // one thread runs it; other threads only post()
    asio::steady_timer m_curl_timer{m_io};
    bool m_timer_armed = false;           // m_curl_timer has a wait outstanding ...
    Clock::time_point m_timer_expiry{};   // ... expiring then
    std::uint64_t m_timer_generation = 0; // tells a stale expiry from the current one
    asio::steady_timer m_wake_timer{m_io};
    std::optional<Clock::time_point> m_wake_at; // m_wake_timer's pending expiry
    CURLM* m_multi = nullptr;

    std::vector<std::unique_ptr<Slot>> m_slots;
    std::vector<Slot*> m_idle_slots;
    std::vector<std::unique_ptr<Watch>> m_watches;
    std::vector<Watch*> m_idle_watches;
    std::vector<Watch*> m_by_fd; // the live (not removed) watch of each socket number

    WorkSource* m_source = nullptr;
    ResponseHandler* m_handler = nullptr;
    bool m_ran = false;
    int m_in_flight = 0; // requests handed out and not yet delivered (backoff waits included)
    bool m_source_finished = false;
    std::atomic<int> m_stop_mode{0}; // 0 running, 1 drain, 2 abort; set from any thread
    int m_applied_stop = 0;          // what apply_stop() last acted on (loop thread)
    std::minstd_rand m_rng{std::random_device{}()};
};

AsyncFetcher::AsyncFetcher(Policy policy, int concurrency)
    : m_policy(std::move(policy))
    , m_concurrency(concurrency) {
    m_multi = curl_multi_init();
    if (!m_multi)
        throw std::bad_alloc();
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &AsyncFetcher::on_socket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &AsyncFetcher::on_timer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    // Keep one idle connection per slot, so that N transfers in a row reuse N connections.
    curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, static_cast<long>(concurrency));
    m_slots.reserve(static_cast<std::size_t>(concurrency));
    m_idle_slots.reserve(static_cast<std::size_t>(concurrency));
}

AsyncFetcher::~AsyncFetcher() {
    // libcurl's order: remove the easy handles, clean them up, then the multi handle.
    for (auto& slot : m_slots)
        if (slot->state == Slot::State::in_multi)
            curl_multi_remove_handle(m_multi, slot->transfer.easy());
    m_slots.clear();
    curl_multi_cleanup(m_multi);
    for (auto& watch : m_watches)
        if (watch->descriptor.is_open())
            watch->descriptor.release(); // never close a socket curl owns
}

void AsyncFetcher::run(WorkSource& source, ResponseHandler& handler) {
    if (m_ran)
        throw std::logic_error("Fetcher::run called twice");
    m_ran = true;
    m_source = &source;
    m_handler = &handler;
    // The loop may have nothing to wait for while the source is "waiting" without a wake_at:
    // the guard keeps run() from returning until maybe_finish() stops it.
    auto guard = asio::make_work_guard(m_io);
    asio::post(m_io, [this] {
        apply_stop();
        pump();
    });
    m_io.run();
}

void AsyncFetcher::wake() {
    asio::post(m_io, [this] { pump(); });
}

void AsyncFetcher::stop(StopMode mode) {
    const int wanted = mode == StopMode::abort ? 2 : 1;
    int current = m_stop_mode.load(std::memory_order_relaxed);
    while (current < wanted &&
           !m_stop_mode.compare_exchange_weak(current, wanted, std::memory_order_acq_rel)) {
    }
    asio::post(m_io, [this] { apply_stop(); });
}

// --- curl's callbacks -----------------------------------------------------------------------

// CURLMOPT_SOCKETFUNCTION: curl says which directions of `fd` it waits for, or that it is done
// with it (CURL_POLL_REMOVE). Called from inside curl_multi_socket_action/add/remove_handle:
// only (re)arms waits here, never calls back into curl.
int AsyncFetcher::on_socket(CURL*, curl_socket_t fd, int what, void* self, void* watch) noexcept {
    try {
        static_cast<AsyncFetcher*>(self)->watch_socket(fd, what, static_cast<Watch*>(watch));
        return 0;
    } catch (...) {
        return -1; // cannot watch it: curl fails the transfers using it
    }
}

// CURLMOPT_TIMERFUNCTION: -1 cancels the timer; any other value (0 included) arms it once.
// The expiry calls curl_multi_socket_action from the loop, never from inside this callback.
// A pending expiry that comes no later than asked is kept: re-arming costs a timerfd_settime
// each time (the loop's hottest syscall when every added handle asks for 0 ms), and an early
// CURL_SOCKET_TIMEOUT is harmless — curl then tells its deadline again.
int AsyncFetcher::on_timer(CURLM*, long timeout_ms, void* self) noexcept {
    auto& f = *static_cast<AsyncFetcher*>(self);
    try {
        if (timeout_ms < 0) {
            f.m_timer_armed = false;
            f.m_curl_timer.cancel();
            return 0;
        }
        const Clock::time_point deadline = Clock::now() + Millis(timeout_ms);
        if (f.m_timer_armed && f.m_timer_expiry <= deadline)
            return 0;
        f.m_timer_armed = true;
        f.m_timer_expiry = deadline;
        const std::uint64_t generation = ++f.m_timer_generation;
        f.m_curl_timer.expires_at(deadline);
        f.m_curl_timer.async_wait([&f, generation](const error_code& ec) {
            if (ec == asio::error::operation_aborted)
                return; // re-armed or cancelled meanwhile
            if (generation == f.m_timer_generation)
                f.m_timer_armed = false;
            f.on_curl_timeout();
        });
        return 0;
    } catch (...) {
        return -1;
    }
}

void AsyncFetcher::watch_socket(curl_socket_t fd, int what, Watch* watch) {
    if (what == CURL_POLL_REMOVE) {
        if (watch)
            forget_socket(*watch);
        return;
    }
    if (!watch) {
        // A socket number curl hands over anew must not still be registered under a socket it
        // closed without telling us: releasing that stale registration later would deregister
        // the new socket (same number) from epoll.
        if (static_cast<std::size_t>(fd) < m_by_fd.size() && m_by_fd[fd])
            forget_socket(*m_by_fd[fd]);
        if (m_idle_watches.empty()) {
            m_watches.push_back(std::make_unique<Watch>(m_io));
            m_idle_watches.push_back(m_watches.back().get());
        }
        watch = m_idle_watches.back();
        watch->descriptor.assign(fd); // registers fd with the reactor; throws on failure
        m_idle_watches.pop_back();
        watch->fd = fd;
        watch->removed = false;
        if (static_cast<std::size_t>(fd) >= m_by_fd.size())
            m_by_fd.resize(static_cast<std::size_t>(fd) + 1);
        m_by_fd[fd] = watch;
        curl_multi_assign(m_multi, fd, watch);
    }
    watch->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    // A direction with a wait outstanding is left alone: its completion re-arms if needed.
    if ((watch->wanted & CURL_POLL_IN) && !watch->reading)
        arm(*watch, CURL_POLL_IN);
    if ((watch->wanted & CURL_POLL_OUT) && !watch->writing)
        arm(*watch, CURL_POLL_OUT);
}

void AsyncFetcher::forget_socket(Watch& watch) {
    watch.removed = true;
    watch.wanted = 0;
    error_code ignored;
    watch.descriptor.cancel(ignored); // outstanding waits complete with operation_aborted
    watch.descriptor.release();       // deregisters it; curl closes the fd itself
    curl_multi_assign(m_multi, watch.fd, nullptr);
    m_by_fd[watch.fd] = nullptr;
    watch.fd = CURL_SOCKET_BAD;
    if (!watch.reading && !watch.writing)
        m_idle_watches.push_back(&watch);
}

void AsyncFetcher::arm(Watch& watch, int direction) {
    const bool read = direction == CURL_POLL_IN;
    (read ? watch.reading : watch.writing) = true;
    watch.descriptor.async_wait(
        read ? asio::posix::stream_descriptor::wait_read
             : asio::posix::stream_descriptor::wait_write,
        [this, &watch, direction](const error_code& ec) { on_socket_ready(watch, direction, ec); });
}

void AsyncFetcher::on_socket_ready(Watch& watch, int direction, const error_code& ec) {
    const bool read = direction == CURL_POLL_IN;
    bool acted = false;
    // The wait stays marked outstanding during socket_action: a CURL_POLL_REMOVE from inside
    // it then cannot recycle `watch` under us, and curl re-asking for this direction does not
    // arm a second wait.
    if (ec != asio::error::operation_aborted && !watch.removed && (watch.wanted & direction)) {
        int running = 0;
        const int event = ec ? CURL_CSELECT_ERR : read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
        check(curl_multi_socket_action(m_multi, watch.fd, event, &running));
        acted = true;
    }
    (read ? watch.reading : watch.writing) = false;
    if (watch.removed) {
        if (!watch.reading && !watch.writing)
            m_idle_watches.push_back(&watch);
    } else if (watch.wanted & direction) {
        arm(watch, direction); // still registered and still wanted: wait again
    }
    if (acted)
        collect_done();
}

void AsyncFetcher::on_curl_timeout() {
    int running = 0;
    check(curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running));
    collect_done();
}

// A multi handle that failed (a callback could not allocate, so curl marked it dead) finishes
// nothing any more: fail what it holds rather than wait for it forever.
void AsyncFetcher::check(CURLMcode code) {
    if (code == CURLM_OK || code == CURLM_BAD_SOCKET)
        return;
    for (auto& owned : m_slots) {
        Slot& slot = *owned;
        if (slot.state != Slot::State::in_multi)
            continue;
        curl_multi_remove_handle(m_multi, slot.transfer.easy());
        slot.state = Slot::State::idle;
        attempt_done(slot, CURLE_OUT_OF_MEMORY);
    }
    pump();
}

// Drains curl's finished transfers, then refills the free slots if any came free.
void AsyncFetcher::collect_done() {
    int left = 0;
    bool any = false;
    while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        // Copy out before remove_handle: it invalidates `msg`.
        CURL* easy = msg->easy_handle;
        const CURLcode code = msg->data.result;
        char* owner = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
        curl_multi_remove_handle(m_multi, easy);
        attempt_done(*reinterpret_cast<Slot*>(owner), code);
        any = true;
    }
    if (any)
        pump();
}

// --- scheduling -----------------------------------------------------------------------------

void AsyncFetcher::pump() {
    while (!stop_requested() && !m_source_finished && m_in_flight < m_concurrency) {
        WorkSource::Next next = m_source->next(Clock::now());
        if (next.state == WorkSource::State::ready) {
            start(std::move(next.request));
        } else if (next.state == WorkSource::State::waiting) {
            if (next.wake_at)
                arm_wake(*next.wake_at);
            break;
        } else {
            m_source_finished = true;
        }
    }
    maybe_finish();
}

void AsyncFetcher::arm_wake(Clock::time_point when) {
    if (m_wake_at == when)
        return; // already waiting for exactly that
    m_wake_at = when;
    m_wake_timer.expires_at(when);
    m_wake_timer.async_wait([this](const error_code& ec) {
        if (ec == asio::error::operation_aborted)
            return;
        m_wake_at.reset();
        pump();
    });
}

void AsyncFetcher::start(Request&& request) {
    if (m_idle_slots.empty()) {
        m_slots.push_back(std::make_unique<Slot>(m_policy, m_io));
        m_slots.back()->transfer.set_private(m_slots.back().get());
        m_idle_slots.push_back(m_slots.back().get());
    }
    Slot& slot = *m_idle_slots.back();
    m_idle_slots.pop_back();
    ++m_in_flight;
    slot.transfer.begin(std::move(request), Clock::now());
    begin_attempt(slot);
}

void AsyncFetcher::begin_attempt(Slot& slot) {
    slot.transfer.before_attempt();
    // Adding arms curl's timer (on_timer); the transfer starts when it fires on the loop.
    if (curl_multi_add_handle(m_multi, slot.transfer.easy()) != CURLM_OK) {
        slot.state = Slot::State::idle;
        attempt_done(slot, CURLE_OUT_OF_MEMORY);
        return;
    }
    slot.state = Slot::State::in_multi;
}

void AsyncFetcher::attempt_done(Slot& slot, CURLcode code) {
    const Verdict verdict = slot.transfer.after_attempt(code, !stop_requested(), m_rng);
    if (!verdict.retry) {
        deliver(slot, slot.transfer.finish(Clock::now()));
        return;
    }
    // Wait on the loop, not in it: the slot stays taken (the request is still in flight).
    slot.state = Slot::State::backoff;
    const std::uint64_t generation = ++slot.generation;
    slot.backoff.expires_after(verdict.delay);
    slot.backoff.async_wait([this, &slot, generation](const error_code& ec) {
        if (ec || slot.generation != generation || slot.state != Slot::State::backoff)
            return; // cancelled by a stop, which delivered the response
        begin_attempt(slot);
    });
}

void AsyncFetcher::deliver(Slot& slot, Response&& response) {
    slot.state = Slot::State::idle;
    m_idle_slots.push_back(&slot);
    --m_in_flight;
    m_handler->on_response(std::move(response));
}

// On the loop: drain hands out nothing new and cuts backoff waits (the last attempt's outcome
// stands); abort also removes the transfers in flight and reports them interrupted.
void AsyncFetcher::apply_stop() {
    const int mode = m_stop_mode.load(std::memory_order_acquire);
    if (mode == 0 || mode == m_applied_stop || !m_handler)
        return;
    m_applied_stop = mode;
    m_wake_timer.cancel();
    m_wake_at.reset();
    const bool abort = mode == 2;
    for (auto& owned : m_slots) {
        Slot& slot = *owned;
        if (slot.state == Slot::State::backoff) {
            ++slot.generation;
            slot.backoff.cancel();
            deliver(slot, abort ? slot.transfer.interrupted(Clock::now())
                                : slot.transfer.finish(Clock::now()));
        } else if (slot.state == Slot::State::in_multi && abort) {
            curl_multi_remove_handle(m_multi, slot.transfer.easy());
            deliver(slot, slot.transfer.interrupted(Clock::now()));
        }
    }
    maybe_finish();
}

void AsyncFetcher::maybe_finish() {
    if (m_in_flight > 0 || !(m_source_finished || stop_requested()))
        return;
    m_timer_armed = false;
    m_curl_timer.cancel();
    m_wake_timer.cancel();
    m_io.stop();
}

} // namespace

std::unique_ptr<Fetcher> make_async_fetcher(Policy policy, int concurrency) {
    return std::make_unique<AsyncFetcher>(std::move(policy), concurrency);
}

} // namespace flagcrawl::fetch::detail
