#include "crawler/pgfrontier/coordinator.hpp"

#include "crawler/pgfrontier/schema.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>

namespace flagcrawl::pgfrontier {
namespace {

using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr Millis k_reconnect_first{200};
constexpr Millis k_reconnect_max{2000};

} // namespace

struct Coordinator::Impl {
    explicit Impl(CoordinatorOptions o)
        : options(std::move(o)) {}

    CoordinatorOptions options;
    asio::io_context io{1};
    asio::steady_timer timer{io}; // the main loop's wait: cancelled by poke()
    std::thread thread;
    std::atomic<bool> poked{false};

    // ---- the mailbox (any thread, under `mutex`) ----
    mutable std::mutex mutex;
    std::vector<Completion> in_completions;
    std::vector<UrlRow> in_discovered;
    std::map<std::int32_t, std::pair<std::int32_t, int>> in_wants; // host -> epoch, count
    std::vector<Release> in_releases;
    bool in_idle = false;
    bool closing = false;
    std::vector<Release> close_held;
    std::string close_verdict;
    SteadyTime close_deadline;
    std::promise<void> closed;
    Update out;
    std::size_t submitted_uncommitted = 0;
    std::function<void()> waker;

    // ---- the coordinator's thread ----
    std::unique_ptr<PgConnection> conn;
    CrawlInfo crawl;
    std::int32_t worker = 0;
    struct Lease {
        std::int32_t epoch = 0;
        std::int64_t pending = 0;     // on the server, as last seen
        std::int64_t outstanding = 0; // delivered, not completed or returned
        bool exhausted = false;       // the last delivery came back short
    };
    std::map<std::int32_t, Lease> held;
    Batch building;        // taken from the mailbox, not committed yet
    bool in_doubt = false; // `building` was sent and the connection broke: committed or not?
    std::int64_t batch_sequence = 0;
    std::optional<SteadyTime> batch_started;
    std::vector<Release> releases;
    std::map<std::int32_t, std::pair<std::int32_t, int>> wants;
    SteadyTime next_renew{};
    SteadyTime next_claim{};
    SteadyTime next_finish_check{};
    bool idle = false;
    std::optional<Verdict> verdict;
    std::optional<std::string> failure;
    std::optional<SteadyTime> outage_since;
    std::string last_error;
    // URLs this worker added to the crawl; the tables' statistics are refreshed each time it
    // passes next_analyze (then four times as many).
    std::uint64_t inserted = 0;
    std::uint64_t next_analyze = 1000;
    bool analyze_due = false;

    void poke() {
        poked = true;
        asio::post(io, [this] { timer.cancel(); });
    }

    void publish() {
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex);
            if (verdict && !out.verdict) {
                out.verdict = verdict;
            }
            if (failure && !out.failure) {
                out.failure = failure;
            }
            wake = waker;
        }
        if (wake) {
            wake();
        }
    }

    // Moves what the loop submitted into the coordinator's state; true when closing.
    bool absorb() {
        std::lock_guard lock(mutex);
        if (!in_completions.empty() && !batch_started) {
            batch_started = Clock::now();
        }
        for (Completion& c : in_completions) {
            if (auto h = held.find(c.host); h != held.end() && h->second.epoch == c.epoch) {
                --h->second.outstanding;
            }
            building.completions.push_back(std::move(c));
        }
        in_completions.clear();
        for (UrlRow& u : in_discovered) {
            building.discovered.push_back(std::move(u));
        }
        in_discovered.clear();
        for (auto& [host, want] : in_wants) {
            wants[host] = want;
        }
        in_wants.clear();
        for (Release& r : in_releases) {
            if (auto h = held.find(r.host); h != held.end() && h->second.epoch == r.epoch) {
                held.erase(h);
                wants.erase(r.host);
            }
            releases.push_back(std::move(r));
        }
        in_releases.clear();
        if (in_idle && !idle) {
            next_finish_check = Clock::now(); // became idle: is the crawl over?
        }
        idle = in_idle;
        return closing;
    }

    bool batch_due(SteadyTime now) const {
        if (building.completions.empty() && building.discovered.empty()) {
            return false;
        }
        return in_doubt || building.completions.size() >= options.batch_pages ||
               !releases.empty() || idle ||
               (batch_started && now >= *batch_started + options.batch_delay);
    }

    std::int64_t held_with_work() const {
        std::int64_t n = 0;
        for (const auto& [host, lease] : held) {
            n += lease.pending > 0 ? 1 : 0;
        }
        return n;
    }

    void set_failure(std::string message) {
        if (!failure) {
            failure = std::move(message);
        }
    }

    // A statement failed: a transient error is retried (after reconnecting when the
    // connection broke), anything else ends the coordinator.
    void failed(const PgError& error) {
        last_error = error.message;
        if (!error.transient()) {
            set_failure("PostgreSQL: " + error.message);
        }
    }

    void apply_state(const CrawlState& state) {
        if (state.status != CrawlStatus::running && !verdict) {
            verdict = Verdict{state.status, state.stop_reason};
        }
        const std::int64_t surplus = held_with_work() - state.fair_share;
        std::lock_guard lock(mutex);
        out.surplus = std::max<std::int64_t>(surplus, 0);
    }

    void update_exhausted(std::int32_t host, Lease& lease) {
        // Nothing more on the server for it beyond what was delivered: tell the loop once.
        const bool nothing_more = lease.pending - lease.outstanding <= 0;
        if (nothing_more && !lease.exhausted) {
            lease.exhausted = true;
            std::lock_guard lock(mutex);
            out.exhausted.push_back(host);
        } else if (!nothing_more) {
            lease.exhausted = false;
        }
    }

    asio::awaitable<void> commit() {
        std::function<std::optional<std::string>()> before;
        {
            std::lock_guard lock(mutex);
            before = options.before_commit;
        }
        if (before) {
            if (auto error = before()) {
                set_failure(*error);
                co_return;
            }
        }
        if (!in_doubt) {
            building.sequence = ++batch_sequence;
        }
        in_doubt = true;
        auto result = co_await commit_batch(*conn, crawl.id, worker, building);
        if (!result) {
            failed(result.error());
            if (result.error().kind != PgError::Kind::connection) {
                in_doubt = false; // rolled back: sent again as it is
            }
            co_return;
        }
        finish_batch(&*result);
    }

    // The batch committed (result: its answer; nullptr when learnt from last_batch after a
    // reconnection, without the answer).
    void finish_batch(const BatchResult* result) {
        const std::size_t count = building.completions.size();
        const std::size_t accepted = result ? result->accepted.size() : count;
        if (result) {
            for (const auto& [host, pending] : result->pending) {
                if (auto h = held.find(host); h != held.end()) {
                    h->second.pending = pending;
                }
            }
            if (result->status != CrawlStatus::running && !verdict) {
                verdict = Verdict{result->status, result->stop_reason};
            }
            inserted += result->inserted;
            if (inserted >= next_analyze) {
                analyze_due = true;
                next_analyze *= 4;
            }
        }
        for (auto& [host, lease] : held) {
            update_exhausted(host, lease);
        }
        building = Batch{};
        in_doubt = false;
        batch_started.reset();
        std::lock_guard lock(mutex);
        out.committed += accepted;
        out.refused += count - accepted;
        submitted_uncommitted -= std::min(submitted_uncommitted, count);
    }

    asio::awaitable<void> renew() {
        std::vector<Held> leases;
        for (const auto& [host, lease] : held) {
            leases.push_back({host, lease.epoch});
        }
        const SteadyTime sent = Clock::now();
        auto r = co_await renew_leases(*conn, crawl.id, worker, leases, options.lease);
        if (!r) {
            failed(r.error());
            co_return;
        }
        next_renew = sent + options.lease / 3;
        std::set<std::int32_t> kept;
        std::vector<std::pair<std::int32_t, SteadyTime>> renewed;
        for (const HostLease& l : r->held) {
            kept.insert(l.host);
            renewed.emplace_back(l.host, sent + l.remaining);
            if (auto h = held.find(l.host); h != held.end()) {
                h->second.pending = l.pending;
                update_exhausted(l.host, h->second);
            }
        }
        std::vector<std::int32_t> lost;
        for (auto it = held.begin(); it != held.end();) {
            if (!kept.contains(it->first)) {
                lost.push_back(it->first);
                wants.erase(it->first);
                it = held.erase(it);
            } else {
                ++it;
            }
        }
        {
            std::lock_guard lock(mutex);
            out.renewed.insert(out.renewed.end(), renewed.begin(), renewed.end());
            out.lost.insert(out.lost.end(), lost.begin(), lost.end());
        }
        apply_state(r->state);
    }

    asio::awaitable<void> claim() {
        const int room = options.max_hosts - static_cast<int>(held.size());
        if (room <= 0) {
            next_claim = Clock::now() + options.lease / 2;
            co_return;
        }
        const SteadyTime sent = Clock::now();
        auto r = co_await claim_hosts(*conn, crawl.id, worker, room, options.lease);
        if (!r) {
            failed(r.error());
            co_return;
        }
        std::vector<Grant> granted;
        for (const HostLease& l : r->leases) {
            held[l.host] = Lease{l.epoch, l.pending, 0, false};
            granted.push_back(
                Grant{l.host, l.origin, l.epoch, sent + l.remaining, sent + l.wait, l.taken_over});
        }
        {
            std::lock_guard lock(mutex);
            out.granted.insert(out.granted.end(), granted.begin(), granted.end());
        }
        apply_state(r->state);
        if (!r->leases.empty() && static_cast<int>(r->leases.size()) == room &&
            held_with_work() < r->state.fair_share) {
            next_claim = sent; // there may be more: again at once
            co_return;
        }
        // Nothing more to take now: again just after the soonest lease held by another worker
        // could lapse (if that worker died, its hosts are taken over at once; if not, it renewed
        // and this is one cheap look per two thirds of a lease), at a notification, or after
        // half a lease when nothing is foreseeable or the free hosts are beyond this worker's
        // fair share (a worker that died counts in it until a lease after its last renewal).
        Millis wait = options.lease / 2;
        if (r->state.next_claimable && *r->state.next_claimable > Millis(0)) {
            wait = *r->state.next_claimable + Millis(50);
        }
        next_claim = sent + wait;
    }

    asio::awaitable<void> deliver_wanted() {
        // Wants of exhausted hosts wait until the server has more for them.
        std::vector<DeliveryRequest> requests;
        for (auto it = wants.begin(); it != wants.end();) {
            auto h = held.find(it->first);
            if (h == held.end() || h->second.epoch != it->second.first || it->second.second <= 0) {
                it = wants.erase(it);
            } else if (!h->second.exhausted) {
                requests.push_back({it->first, it->second.first, it->second.second});
                ++it;
            } else {
                ++it;
            }
        }
        if (requests.empty()) {
            co_return;
        }
        auto r = co_await deliver(*conn, crawl.id, worker, requests);
        if (!r) {
            failed(r.error());
            co_return;
        }
        std::map<std::int32_t, int> got;
        for (const Delivered& d : *r) {
            ++got[d.host];
        }
        for (const DeliveryRequest& q : requests) {
            // What the server could not give yet stays wanted.
            if (auto w = wants.find(q.host); w != wants.end()) {
                w->second.second -= got[q.host];
                if (w->second.second <= 0) {
                    wants.erase(w);
                }
            }
            if (auto h = held.find(q.host); h != held.end()) {
                h->second.outstanding += got[q.host];
                if (got[q.host] < q.limit) {
                    // The server has nothing more beyond what it handed out.
                    h->second.pending = std::min(h->second.pending, h->second.outstanding);
                }
                update_exhausted(q.host, h->second);
            }
        }
        std::lock_guard lock(mutex);
        for (Delivered& d : *r) {
            out.delivered.push_back(std::move(d));
        }
    }

    asio::awaitable<void> release_now() {
        auto r = co_await release_hosts(*conn, crawl.id, worker, releases);
        if (!r) {
            failed(r.error());
            co_return;
        }
        releases.clear();
        next_claim = Clock::now(); // room for others' hosts, if any
    }

    // Whether a held host's wanted URLs can be asked for now.
    bool deliverable() const {
        for (const auto& [host, want] : wants) {
            auto h = held.find(host);
            if (h != held.end() && h->second.epoch == want.first && want.second > 0 &&
                !h->second.exhausted) {
                return true;
            }
        }
        return false;
    }

    asio::awaitable<void> check_finish() {
        // Notifications say when to look again; half a lease covers one lost while
        // reconnecting.
        next_finish_check = Clock::now() + options.lease / 2;
        auto r = co_await finish_if_done(*conn, crawl.id);
        if (!r) {
            failed(r.error());
            co_return;
        }
        if (r->status != CrawlStatus::running && !verdict) {
            verdict = Verdict{r->status, r->stop_reason};
        }
    }

    void read_notifications() {
        for (const Notification& n : conn->take_notifications()) {
            if (n.payload == "work") {
                next_claim = Clock::now();
            } else if (n.payload == "status") {
                next_finish_check = Clock::now();
            }
        }
    }

    asio::awaitable<void> reconnect() {
        const SteadyTime now = Clock::now();
        if (!outage_since) {
            outage_since = now;
        }
        Millis backoff = k_reconnect_first;
        while (!failure) {
            if (Clock::now() - *outage_since > options.outage_limit) {
                set_failure("lost the PostgreSQL server for more than " +
                            std::to_string(options.outage_limit.count() / 1000) +
                            " s: " + last_error);
                co_return;
            }
            auto c = co_await PgConnection::connect(options.conninfo, options.connect_timeout);
            if (c) {
                conn = std::move(*c);
                auto listening = co_await listen(*conn, crawl.id);
                if (listening && in_doubt) {
                    // The batch in flight when the connection broke: committed or not?
                    auto last = co_await last_batch(*conn, worker);
                    if (last && *last >= building.sequence) {
                        finish_batch(nullptr);
                    } else if (last) {
                        in_doubt = false; // not committed: sent again as it is
                    } else {
                        failed(last.error());
                        continue;
                    }
                }
                if (listening) {
                    outage_since.reset();
                    next_renew = next_claim = next_finish_check = Clock::now();
                    co_return;
                }
                failed(listening.error());
                continue;
            }
            failed(c.error());
            asio::steady_timer pause(io);
            pause.expires_after(backoff);
            boost::system::error_code ec;
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            backoff = std::min(backoff * 2, k_reconnect_max);
        }
    }

    SteadyTime next_wakeup() const {
        SteadyTime at = next_renew;
        if (held.empty()) {
            at = Clock::now() + options.lease;
        }
        at = std::min(at, next_claim);
        if (batch_started) {
            at = std::min(at, *batch_started + options.batch_delay);
        }
        if (idle) {
            at = std::min(at, next_finish_check);
        }
        return at;
    }

    asio::awaitable<void> wait() {
        if (poked.exchange(false)) {
            co_return;
        }
        timer.expires_at(next_wakeup());
        boost::system::error_code ec;
        auto which = co_await (conn->wait_readable() ||
                               timer.async_wait(asio::redirect_error(asio::use_awaitable, ec)));
        if (which.index() == 0) {
            if (auto& r = std::get<0>(which); !r) {
                failed(r.error());
            }
        }
        read_notifications();
    }

    asio::awaitable<void> goodbye() {
        std::vector<Release> held_releases;
        std::vector<Delivered> untaken;
        std::string verdict_text;
        SteadyTime deadline;
        {
            std::lock_guard lock(mutex);
            held_releases = close_held;
            verdict_text = close_verdict;
            deadline = close_deadline;
            untaken = std::move(out.delivered);
            out.delivered.clear();
        }
        for (Release& r : held_releases) {
            held.erase(r.host);
            releases.push_back(std::move(r));
        }
        for (const auto& [host, lease] : held) { // held, unknown to the loop
            releases.push_back(Release{host, lease.epoch, Millis(0), {}});
        }
        // URLs delivered after the loop's last take_updates() are in no release of the loop:
        // they go back uncounted too, with their lease (a URL left counted would be given up one
        // delivery early by a later worker).
        for (const Delivered& d : untaken) {
            auto same = std::find_if(releases.begin(), releases.end(), [&](const Release& r) {
                return r.host == d.host && r.epoch == d.epoch;
            });
            if (same == releases.end()) {
                releases.push_back(Release{d.host, d.epoch, Millis(0), {}});
                same = std::prev(releases.end());
            }
            same->returned.push_back(d.url.key);
        }
        held.clear();
        while (!failure && Clock::now() < deadline) {
            if (!conn || conn->broken()) {
                // A short outage at the end: retry until the deadline.
                const auto limit = options.outage_limit;
                options.outage_limit = std::chrono::duration_cast<Millis>(deadline - Clock::now());
                co_await reconnect();
                options.outage_limit = limit;
                continue;
            }
            if (!building.completions.empty() || !building.discovered.empty()) {
                co_await commit();
                continue;
            }
            if (!releases.empty()) {
                co_await release_now();
                continue;
            }
            co_await end_worker(*conn, worker, verdict_text);
            break;
        }
    }

    asio::awaitable<void> main_loop() {
        for (;;) {
            if (failure) {
                publish();
                break;
            }
            if (!conn || conn->broken()) {
                co_await reconnect();
                continue;
            }
            poked = false;
            if (absorb()) {
                co_await goodbye();
                break;
            }
            // Everything that is due, one round trip each; renewals first (they keep the
            // leases), and each action only while the connection holds.
            const auto usable = [this] { return !failure && conn && !conn->broken(); };
            bool acted = false;
            if (!held.empty() && Clock::now() >= next_renew && usable()) {
                co_await renew();
                acted = true;
            }
            if (batch_due(Clock::now()) && usable()) {
                co_await commit();
                acted = true;
            }
            if (!releases.empty() && !in_doubt && building.completions.empty() && usable()) {
                co_await release_now();
                acted = true;
            }
            if (analyze_due && usable()) {
                analyze_due = false;
                auto analyzed = co_await analyze_tables(*conn);
                if (!analyzed) {
                    failed(analyzed.error());
                }
                acted = true;
            }
            if (deliverable() && usable()) {
                co_await deliver_wanted();
                acted = true;
            }
            if (Clock::now() >= next_claim && !verdict && usable()) {
                co_await claim();
                acted = true;
            }
            if (idle && Clock::now() >= next_finish_check && held_with_work() == 0 &&
                building.completions.empty() && !verdict && usable()) {
                co_await check_finish();
                acted = true;
            }
            publish();
            if (!acted && usable()) {
                co_await wait();
            }
        }
        conn.reset();
    }

    asio::awaitable<Started> begin() {
        Started s;
        auto c = co_await PgConnection::connect(options.conninfo, options.connect_timeout);
        if (!c) {
            s.problem = Started::Problem::failed;
            s.message = connect_failure(options.conninfo, c.error());
            co_return s;
        }
        conn = std::move(*c);
        auto schema = co_await ensure_schema(*conn);
        if (!schema) {
            s.problem = Started::Problem::failed;
            s.message = schema.error().message;
            co_return s;
        }
        std::optional<CrawlInfo> info;
        if (options.define) {
            auto defined = co_await define_crawl(*conn, *options.define);
            if (!defined) {
                s.problem = Started::Problem::failed;
                s.message = defined.error().message;
                co_return s;
            }
            if (!*defined) {
                s.problem = Started::Problem::name_taken;
                s.message = "a crawl named '" + options.crawl_name + "' exists on " +
                            conninfo_target(options.conninfo);
                co_return s;
            }
            info = **defined;
        } else {
            auto found = co_await find_crawl(*conn, options.crawl_name);
            if (!found) {
                s.problem = Started::Problem::failed;
                s.message = found.error().message;
                co_return s;
            }
            if (!*found) {
                s.problem = Started::Problem::no_such_crawl;
                s.message = "no crawl named '" + options.crawl_name + "' on " +
                            conninfo_target(options.conninfo);
                co_return s;
            }
            info = **found;
        }
        crawl = *info;
        auto id = co_await register_worker(*conn, crawl.id, options.label);
        if (!id) {
            s.problem = Started::Problem::failed;
            s.message = id.error().message;
            co_return s;
        }
        worker = *id;
        auto listening = co_await listen(*conn, crawl.id);
        if (!listening) {
            s.problem = Started::Problem::failed;
            s.message = listening.error().message;
            co_return s;
        }
        if (crawl.status != CrawlStatus::running) {
            verdict = Verdict{crawl.status, crawl.stop_reason};
        }
        s.crawl = crawl;
        s.worker = worker;
        co_return s;
    }
};

Coordinator::Coordinator(CoordinatorOptions options)
    : m_impl(std::make_unique<Impl>(std::move(options))) {}

Coordinator::~Coordinator() {
    if (m_impl->thread.joinable()) {
        m_impl->io.stop();
        m_impl->thread.join();
    }
}

void Coordinator::set_waker(std::function<void()> wake) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->waker = std::move(wake);
}

void Coordinator::set_before_commit(std::function<std::optional<std::string>()> before_commit) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->options.before_commit = std::move(before_commit);
}

Coordinator::Started Coordinator::start() {
    Impl* impl = m_impl.get();
    std::promise<Started> started;
    auto result = started.get_future();
    asio::co_spawn(
        impl->io,
        [impl, &started]() -> asio::awaitable<void> {
            Started s = co_await impl->begin();
            const bool ok = s.problem == Started::Problem::none;
            started.set_value(std::move(s));
            if (!ok) {
                impl->conn.reset();
                co_return;
            }
            co_await impl->main_loop();
            impl->closed.set_value();
        },
        asio::detached);
    impl->thread = std::thread([impl] { impl->io.run(); });
    Started s = result.get();
    if (s.problem != Started::Problem::none) {
        impl->thread.join();
    }
    return s;
}

void Coordinator::submit(std::vector<Completion> completions, std::vector<UrlRow> discovered) {
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->submitted_uncommitted += completions.size();
        for (Completion& c : completions) {
            m_impl->in_completions.push_back(std::move(c));
        }
        for (UrlRow& u : discovered) {
            m_impl->in_discovered.push_back(std::move(u));
        }
    }
    m_impl->poke();
}

void Coordinator::want(std::int32_t host, std::int32_t epoch, int count) {
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->in_wants[host] = {epoch, count};
    }
    m_impl->poke();
}

void Coordinator::release(Release release) {
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->in_releases.push_back(std::move(release));
    }
    m_impl->poke();
}

void Coordinator::set_idle(bool idle) {
    {
        std::lock_guard lock(m_impl->mutex);
        if (m_impl->in_idle == idle) {
            return;
        }
        m_impl->in_idle = idle;
    }
    m_impl->poke();
}

Update Coordinator::take_updates() {
    std::lock_guard lock(m_impl->mutex);
    Update u = std::move(m_impl->out);
    m_impl->out = Update{};
    // The verdict and a failure stay for every later take as well.
    m_impl->out.verdict = u.verdict;
    m_impl->out.failure = u.failure;
    return u;
}

std::size_t Coordinator::uncommitted() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->submitted_uncommitted;
}

void Coordinator::close(std::vector<Release> held, const std::string& verdict,
                        SteadyTime deadline) {
    if (!m_impl->thread.joinable()) {
        return;
    }
    auto done = m_impl->closed.get_future();
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->closing = true;
        m_impl->close_held = std::move(held);
        m_impl->close_verdict = verdict;
        m_impl->close_deadline = deadline;
    }
    m_impl->poke();
    if (done.wait_until(deadline + std::chrono::seconds(1)) != std::future_status::ready) {
        m_impl->io.stop();
    }
    m_impl->thread.join();
}

} // namespace flagcrawl::pgfrontier
