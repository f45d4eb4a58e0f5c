// The async strategy: one curl multi handle driven by a Boost.Asio io_context on the caller's
// thread, through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION (the wiring of curl's
// hiperfifo.c / multi-uv.c examples). At most N transfers are in flight; easy handles come from
// a pool and keep their connections in the multi handle's cache, and a cached connection's
// socket stays registered with the reactor until curl closes it (see watch_socket()).
#include "fetch/strategies.hpp"
#include "fetch/transfer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
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

    // A socket curl asked us to watch (any socket: connections, resolver wakeups, ...), its
    // descriptor registered with the reactor while not free. Pooled: a free watch is back in
    // m_idle_watches once no wait is outstanding.
    struct Watch {
        explicit Watch(asio::io_context& io)
            : descriptor(io) {}
        enum class State {
            free,   // not registered; the fd (if any) is curl's alone
            active, // curl watches the socket; curl_multi_assign gave it this watch as socketp
            parked, // a connection socket curl keeps open but said CURL_POLL_REMOVE for: still
                    // registered, no wait wanted, until curl hands it over again or closes it
        };
        asio::posix::stream_descriptor descriptor;
        curl_socket_t fd = CURL_SOCKET_BAD;
        State state = State::free;
        int wanted = 0;       // CURL_POLL_IN / CURL_POLL_OUT bits curl asked for last
        bool reading = false; // an async_wait(read) is outstanding
        bool writing = false; // an async_wait(write) is outstanding
    };

    // What we know of one socket number.
    struct FdEntry {
        Watch* watch = nullptr; // its registered (active or parked) watch, if any
        bool opened = false;    // opened by on_open_socket and not closed by on_close_socket yet
    };

    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* watch) noexcept;
    static int on_timer(CURLM* multi, long timeout_ms, void* self) noexcept;
    static curl_socket_t on_open_socket(void* self, curlsocktype purpose,
                                        curl_sockaddr* address) noexcept;
    static int on_close_socket(void* self, curl_socket_t fd) noexcept;

    FdEntry& fd_entry(curl_socket_t fd);
    void watch_socket(curl_socket_t fd, int what, Watch* watch);
    Watch& take_watch(curl_socket_t fd);
    void park(Watch& watch);
    void release_watch(Watch& watch);
    void arm(Watch& watch, int direction);
    void on_socket_ready(Watch& watch, int direction, const error_code& ec);
    void on_curl_timeout();
    void note_callback_error(const char* what) noexcept;
    void check(CURLMcode code);
    std::string failure_reason(CURLMcode code);
    void fail_attempt(Slot& slot, const std::string& reason);
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
    bool m_timeout_posted = false;        // an expiry due now is posted to the loop
    asio::steady_timer m_wake_timer{m_io};
    std::optional<Clock::time_point> m_wake_at; // m_wake_timer's pending expiry
    CURLM* m_multi = nullptr;

    std::vector<std::unique_ptr<Slot>> m_slots;
    std::vector<Slot*> m_idle_slots;
    std::vector<std::unique_ptr<Watch>> m_watches;
    std::vector<Watch*> m_idle_watches; // capacity >= m_watches.size(): pushing never throws
    std::vector<FdEntry> m_fds;         // indexed by socket number
    // What the first callback that failed since the last check() threw (curl only gets -1).
    std::optional<std::string> m_callback_error;

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
    if (!m_multi) {
        throw std::bad_alloc();
    }
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
    // libcurl's order: remove the easy handles, clean them up, then the multi handle. The watches
    // outlive all three: each may close connections through on_close_socket (curl_multi_cleanup
    // closes every cached one), which releases their registrations.
    for (auto& slot : m_slots) {
        if (slot->state == Slot::State::in_multi) {
            curl_multi_remove_handle(m_multi, slot->transfer.easy());
        }
    }
    m_slots.clear();
    curl_multi_cleanup(m_multi);
    for (auto& watch : m_watches) {
        if (watch->descriptor.is_open()) {
            watch->descriptor.release(); // never close a socket curl owns
        }
    }
}

void AsyncFetcher::run(WorkSource& source, ResponseHandler& handler) {
    if (m_ran) {
        throw std::logic_error("Fetcher::run called twice");
    }
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
    asio::post(m_io, [this] {
        m_handler->on_wake();
        pump();
    });
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
    } catch (const std::exception& e) {
        // Cannot watch it (e.g. the reactor's epoll registration failed): curl marks the multi
        // handle dead, and check() reports this reason on the transfers it fails.
        static_cast<AsyncFetcher*>(self)->note_callback_error(e.what());
        return -1;
    } catch (...) {
        return -1;
    }
}

// CURLMOPT_TIMERFUNCTION: -1 cancels the timer; 0 posts the expiry to the loop; any other value
// arms the timer once. The expiry calls curl_multi_socket_action from the loop, never from
// inside this callback. A pending expiry that comes no later than asked is kept: re-arming
// costs a timerfd_settime each time, and an early CURL_SOCKET_TIMEOUT is harmless — curl then
// tells its deadline again (so is a posted expiry that runs after a cancel).
int AsyncFetcher::on_timer(CURLM*, long timeout_ms, void* self) noexcept {
    auto& f = *static_cast<AsyncFetcher*>(self);
    try {
        if (timeout_ms < 0) {
            f.m_timer_armed = false;
            f.m_curl_timer.cancel();
            return 0;
        }
        if (timeout_ms == 0) {
            // Due now (curl asks so for every handle added and at many state changes): a
            // handler posted to the loop needs no timer, so no timerfd_settime, a syscall that
            // reprograms the CPU's timer and costs several microseconds in a virtual machine
            // (about 4% of a crawl's CPU, at one call every two pages).
            if (!f.m_timeout_posted) {
                f.m_timeout_posted = true;
                asio::post(f.m_io, [&f] {
                    f.m_timeout_posted = false;
                    f.on_curl_timeout();
                });
            }
            return 0;
        }
        const Clock::time_point deadline = Clock::now() + Millis(timeout_ms);
        if (f.m_timer_armed && f.m_timer_expiry <= deadline) {
            return 0;
        }
        f.m_timer_armed = true;
        f.m_timer_expiry = deadline;
        const std::uint64_t generation = ++f.m_timer_generation;
        f.m_curl_timer.expires_at(deadline);
        f.m_curl_timer.async_wait([&f, generation](const error_code& ec) {
            if (ec == asio::error::operation_aborted) {
                return; // re-armed or cancelled meanwhile
            }
            if (generation == f.m_timer_generation) {
                f.m_timer_armed = false;
            }
            f.on_curl_timeout();
        });
        return 0;
    } catch (const std::exception& e) {
        f.note_callback_error(e.what());
        return -1;
    } catch (...) {
        return -1;
    }
}

void AsyncFetcher::note_callback_error(const char* what) noexcept {
    try {
        if (!m_callback_error) {
            m_callback_error = what;
        }
    } catch (...) { // no memory for the text: check() falls back to curl's
    }
}

// CURLOPT_OPENSOCKETFUNCTION, set on this fetcher's easy handles only: creates a connection
// socket as curl itself would (curl then makes it non-blocking and sets its options) and notes
// that its close will come through on_close_socket. curl copies both callbacks into the
// connection, which may outlive the easy handle in the multi handle's cache: the data pointer
// is the fetcher, which outlives the multi handle. Called from inside curl: bookkeeping only.
curl_socket_t AsyncFetcher::on_open_socket(void* self, curlsocktype,
                                           curl_sockaddr* address) noexcept {
    auto& f = *static_cast<AsyncFetcher*>(self);
    const int fd = ::socket(address->family, address->socktype, address->protocol);
    if (fd < 0) {
        return CURL_SOCKET_BAD; // curl reports errno
    }
    try {
        FdEntry& entry = f.fd_entry(fd);
        // A registration still under this number belongs to a socket curl closed without
        // telling us; drop it before the number is watched again (the new socket is not in
        // epoll yet, so the deregistration cannot touch it).
        if (entry.watch) {
            f.release_watch(*entry.watch);
        }
        entry.opened = true;
    } catch (...) {
        ::close(fd);
        errno = ENOMEM;
        return CURL_SOCKET_BAD;
    }
    return fd;
}

// CURLOPT_CLOSESOCKETFUNCTION: curl closes a socket on_open_socket opened, replacing close(2).
// Called from inside curl_multi_socket_action, curl_multi_remove_handle, curl_easy_cleanup and
// curl_multi_cleanup (the cached connections), after the CURL_POLL_REMOVE if curl was watching
// the socket: touches only our bookkeeping. The registration goes first: once the fd is closed,
// its number may be given to a new socket at any time.
int AsyncFetcher::on_close_socket(void* self, curl_socket_t fd) noexcept {
    auto& f = *static_cast<AsyncFetcher*>(self);
    if (fd >= 0 && static_cast<std::size_t>(fd) < f.m_fds.size()) {
        FdEntry& entry = f.m_fds[static_cast<std::size_t>(fd)];
        entry.opened = false;
        if (entry.watch) {
            f.release_watch(*entry.watch);
        }
    }
    return ::close(fd) == 0 ? 0 : 1;
}

AsyncFetcher::FdEntry& AsyncFetcher::fd_entry(curl_socket_t fd) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= m_fds.size()) {
        m_fds.resize(index + 1);
    }
    return m_fds[index];
}

// curl hands a kept-alive connection's socket over anew (with a null socketp) for every
// transfer on it and says CURL_POLL_REMOVE when each transfer ends. STYLE §1.2 releases the
// descriptor on REMOVE, because curl owns the fd and may close it: a registration that outlived
// the fd would go stale, and once the kernel gave the number to a new socket, asio's
// epoll_ctl(MOD) for a wait on it would fail unseen (epoll_reactor::start_op ignores it) and the
// wait would never fire. Followed literally, that costs an epoll ADD, the FIONBIO ioctl of the
// first wait and an epoll DEL per request. We depart from it for the sockets we opened
// (on_open_socket), because for those curl tells us when it closes them (on_close_socket, which
// releases the registration before the close): REMOVE only parks their watch. A parked socket is
// still open, so its number cannot belong to any other socket: curl handing that number over
// again means the same connection, and the parked watch is reused without a new registration.
// Any other socket (not from on_open_socket, e.g. a resolver's wakeup socket: curl closes it
// without telling us) keeps §1.2's rule.
void AsyncFetcher::watch_socket(curl_socket_t fd, int what, Watch* watch) {
    if (what == CURL_POLL_REMOVE) {
        if (watch) {
            // A socketp is only ever an active watch, registered under `fd` (so m_fds holds it);
            // opened: its close will come to on_close_socket.
            if (m_fds[static_cast<std::size_t>(fd)].opened) {
                park(*watch);
            } else {
                release_watch(*watch);
            }
        }
        return;
    }
    if (!watch) {
        watch = &take_watch(fd);
    }
    watch->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    // A direction with a wait outstanding is left alone: its completion re-arms if needed.
    if ((watch->wanted & CURL_POLL_IN) && !watch->reading) {
        arm(*watch, CURL_POLL_IN);
    }
    if ((watch->wanted & CURL_POLL_OUT) && !watch->writing) {
        arm(*watch, CURL_POLL_OUT);
    }
}

// The watch for a socket curl hands over without a socketp: its parked one, or a new
// registration.
AsyncFetcher::Watch& AsyncFetcher::take_watch(curl_socket_t fd) {
    FdEntry& entry = fd_entry(fd);
    Watch* watch = entry.watch;
    if (watch && watch->state == Watch::State::parked && entry.opened) {
        watch->state = Watch::State::active;
    } else {
        // A socket number curl hands over anew must not still be registered under a socket it
        // closed without telling us: releasing that stale registration later would deregister
        // the new socket (same number) from epoll.
        if (watch) {
            release_watch(*watch);
        }
        if (m_idle_watches.empty()) {
            m_watches.push_back(std::make_unique<Watch>(m_io));
            m_idle_watches.reserve(m_watches.size());
            m_idle_watches.push_back(m_watches.back().get());
        }
        watch = m_idle_watches.back();
        watch->descriptor.assign(fd); // registers fd with the reactor; throws on failure
        m_idle_watches.pop_back();
        watch->fd = fd;
        watch->state = Watch::State::active;
        entry.watch = watch;
    }
    curl_multi_assign(m_multi, fd, watch);
    return *watch;
}

// REMOVE for a connection socket: no wait is wanted any more, the registration stays. The
// assignment is cleared as §1.2 says, so that curl hands the socket over again without a socketp
// (take_watch re-activates the watch) whatever it keeps of its own entry for the socket.
void AsyncFetcher::park(Watch& watch) {
    curl_multi_assign(m_multi, watch.fd, nullptr);
    watch.state = Watch::State::parked;
    watch.wanted = 0;
    error_code ignored;
    watch.descriptor.cancel(ignored); // outstanding waits complete with operation_aborted
}

// Deregisters the socket (curl closes the fd itself, never us). Does not throw.
void AsyncFetcher::release_watch(Watch& watch) {
    if (watch.state == Watch::State::active) {
        curl_multi_assign(m_multi, watch.fd, nullptr); // curl may still hold it as socketp
    }
    watch.state = Watch::State::free;
    watch.wanted = 0;
    error_code ignored;
    watch.descriptor.cancel(ignored); // outstanding waits complete with operation_aborted
    watch.descriptor.release();       // epoll DEL
    m_fds[static_cast<std::size_t>(watch.fd)].watch = nullptr;
    watch.fd = CURL_SOCKET_BAD;
    if (!watch.reading && !watch.writing) {
        m_idle_watches.push_back(&watch);
    }
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
    // The wait stays marked outstanding during socket_action: a CURL_POLL_REMOVE or a close from
    // inside it then cannot recycle `watch` under us, and curl re-asking for this direction does
    // not arm a second wait.
    if (ec != asio::error::operation_aborted && watch.state == Watch::State::active &&
        (watch.wanted & direction)) {
        int running = 0;
        const int event = ec ? CURL_CSELECT_ERR : read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
        check(curl_multi_socket_action(m_multi, watch.fd, event, &running));
        acted = true;
    }
    (read ? watch.reading : watch.writing) = false;
    switch (watch.state) {
    case Watch::State::free: // released meanwhile: back to the pool after its last wait
        if (!watch.reading && !watch.writing) {
            m_idle_watches.push_back(&watch);
        }
        break;
    case Watch::State::parked:
        // curl said REMOVE during this wait's socket_action, or the park cancelled it: never
        // back to the pool (the socket is still registered and in m_fds) nor re-armed until
        // curl hands the socket over again (take_watch), which arms what curl then asks for.
        break;
    case Watch::State::active: // still or again watched (re-activated after a park): wait again
        if (watch.wanted & direction) {
            arm(watch, direction);
        }
        break;
    }
    if (acted) {
        collect_done();
    }
}

void AsyncFetcher::on_curl_timeout() {
    int running = 0;
    check(curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running));
    collect_done();
}

// A multi handle that failed (one of our callbacks threw, so curl marked it dead) finishes
// nothing any more: fail what it holds rather than wait for it forever, with the callback's
// reason (curl's own text for the code if it left none). Once all are removed, curl accepts
// new transfers again.
void AsyncFetcher::check(CURLMcode code) {
    if (code == CURLM_OK || code == CURLM_BAD_SOCKET) {
        return;
    }
    const std::string reason = failure_reason(code);
    for (auto& owned : m_slots) {
        Slot& slot = *owned;
        if (slot.state != Slot::State::in_multi) {
            continue;
        }
        curl_multi_remove_handle(m_multi, slot.transfer.easy());
        fail_attempt(slot, reason);
    }
    pump();
}

// Why curl returned `code`: what a callback of ours threw, else curl's text. Clears the former.
std::string AsyncFetcher::failure_reason(CURLMcode code) {
    std::string reason =
        m_callback_error ? std::move(*m_callback_error) : curl_multi_strerror(code);
    m_callback_error.reset();
    return reason;
}

// Ends the request in `slot` (out of the multi handle) with ErrorKind::other and `reason`, no
// retry: the failure is this process's, not the server's.
void AsyncFetcher::fail_attempt(Slot& slot, const std::string& reason) {
    slot.state = Slot::State::idle;
    // Reads what the attempt got (status, timings); the error is replaced below.
    slot.transfer.after_attempt(CURLE_ABORTED_BY_CALLBACK, false, m_rng);
    Response response = slot.transfer.finish(Clock::now());
    response.error = Error{ErrorKind::other, reason + " (" + response.url + ")"};
    deliver(slot, std::move(response));
}

// Drains curl's finished transfers, then refills the free slots if any came free.
void AsyncFetcher::collect_done() {
    int left = 0;
    bool any = false;
    while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        // Copy out before remove_handle: it invalidates `msg`.
        CURL* easy = msg->easy_handle;
        const CURLcode code = msg->data.result;
        char* owner = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
        curl_multi_remove_handle(m_multi, easy);
        attempt_done(*reinterpret_cast<Slot*>(owner), code);
        any = true;
    }
    if (any) {
        pump();
    }
}

// --- scheduling -----------------------------------------------------------------------------

void AsyncFetcher::pump() {
    while (!stop_requested() && !m_source_finished && m_in_flight < m_concurrency) {
        WorkSource::Next next = m_source->next(Clock::now());
        if (next.state == WorkSource::State::ready) {
            start(std::move(next.request));
        } else if (next.state == WorkSource::State::waiting) {
            if (next.wake_at) {
                arm_wake(*next.wake_at);
            }
            break;
        } else {
            m_source_finished = true;
        }
    }
    maybe_finish();
}

void AsyncFetcher::arm_wake(Clock::time_point when) {
    if (m_wake_at == when) {
        return; // already waiting for exactly that
    }
    m_wake_at = when;
    m_wake_timer.expires_at(when);
    m_wake_timer.async_wait([this](const error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        m_wake_at.reset();
        pump();
    });
}

void AsyncFetcher::start(Request&& request) {
    if (m_idle_slots.empty()) {
        m_slots.push_back(std::make_unique<Slot>(m_policy, m_io));
        Transfer& transfer = m_slots.back()->transfer;
        transfer.set_private(m_slots.back().get());
        // Connection sockets through our callbacks: see watch_socket().
        CURL* easy = transfer.easy();
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &AsyncFetcher::on_open_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &AsyncFetcher::on_close_socket);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
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
    if (const CURLMcode code = curl_multi_add_handle(m_multi, slot.transfer.easy());
        code != CURLM_OK) {
        fail_attempt(slot, failure_reason(code));
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
        if (ec || slot.generation != generation || slot.state != Slot::State::backoff) {
            return; // cancelled by a stop, which delivered the response
        }
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
    if (mode == 0 || mode == m_applied_stop || !m_handler) {
        return;
    }
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
    if (m_in_flight > 0 || !(m_source_finished || stop_requested())) {
        return;
    }
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
