// The writer's bounded queue and its wakeup protocol, apart from what the items mean: producers
// (any thread) push items, one consumer thread (the writer) takes them in chunks. Internal to
// storage (storage/writer.cpp).
#pragma once

#include "storage/sqlite.hpp"
#include "storage/writer.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace flagcrawl::storage {

// The consumer's open batch, while it has one: it then wants no wakeup per item, only once
// enough items are queued to fill a chunk or complete the batch, a control item arrives, or
// the batch's deadline passes.
struct OpenBatch {
    std::chrono::steady_clock::time_point deadline;
    std::uint64_t room = 1; // records that complete the batch (at least 1)
};

// Thread rules: push() from any thread, concurrently; take() and handled() from the one
// consumer thread; fail(), committed(), close() and stats() from any thread.
// `Item`: what the queue carries (movable). A control item (push(true, ...)) is one the
// consumer must answer at once: it ends a lingering wait.
template <class Item> class WriterQueue {
public:
    using Clock = std::chrono::steady_clock;

    // The consumer takes at most this many items per lock, then handles them unlocked.
    static constexpr std::size_t chunk = 256;

    // `capacity`: items queued or being handled, at most (push() blocks beyond it).
    // `capacity_bytes`: their bytes (as push() is told them), at most; an item larger than that
    // alone waits for an empty queue, then goes in alone.
    // `wake_records`: while a batch is open, the consumer waits for this many queued items.
    // All > 0.
    WriterQueue(std::size_t capacity, std::size_t capacity_bytes, std::size_t wake_records)
        : m_capacity(capacity)
        , m_capacity_bytes(capacity_bytes)
        , m_wake_limit(std::min({chunk, wake_records, capacity})) {}

    // ---- producers ----

    // Queues an Item built from `args`, which holds `bytes` of memory; blocks while it would
    // pass `capacity` items or `capacity_bytes` queued or being handled. Returns the error given
    // to fail(), if any (the item is then dropped). Throws std::logic_error once close() was
    // called: a push that races close() is a bug.
    template <class... Args> Result<void> push(bool control, std::size_t bytes, Args&&... args) {
        std::unique_lock lock(m_mutex);
        throw_if_closed();
        while (full(bytes) && !m_failure) {
            ++m_producers_waiting;
            // A lingering consumer would wait for records that cannot come.
            if (m_waiting == Waiting::lingering) {
                m_not_empty.notify_one();
            }
            m_not_full.wait(lock);
            --m_producers_waiting;
            throw_if_closed();
        }
        if (m_failure) {
            return *m_failure;
        }
        m_queue.emplace_back(bytes, std::forward<Args>(args)...);
        ++m_pushed;
        ++m_in_flight;
        m_in_flight_bytes += bytes;
        if (control) {
            m_last_control = m_pushed;
        } else {
            ++m_counters.submitted;
        }
        m_counters.peak_queued = std::max(m_counters.peak_queued, m_in_flight);
        m_counters.peak_queued_bytes = std::max(m_counters.peak_queued_bytes, m_in_flight_bytes);
        // A wakeup per record costs more than the record's insert.
        const bool wake = m_waiting == Waiting::idle || (m_waiting == Waiting::lingering &&
                                                         (control || m_queue.size() >= m_wake_at));
        if (wake) {
            m_not_empty.notify_one();
        }
        return {};
    }

    // ---- the consumer ----

    // Waits for work, then moves up to `chunk` items into `out` (empty on entry). `batch`: the
    // consumer's open batch, or null. `out` stays empty when the open batch's deadline passed
    // with nothing queued, or when closed with nothing left: then it returns true.
    bool take(std::vector<Item>& out, const OpenBatch* batch) {
        std::unique_lock lock(m_mutex);
        const std::size_t wake_at =
            batch ? static_cast<std::size_t>(std::min<std::uint64_t>(
                        m_wake_limit, std::max<std::uint64_t>(batch->room, 1)))
                  : 1;
        while (!m_stopping && !ready(batch, wake_at)) {
            if (batch) {
                m_waiting = Waiting::lingering;
                m_wake_at = wake_at;
                m_not_empty.wait_until(lock, batch->deadline);
            } else {
                m_waiting = Waiting::idle;
                m_not_empty.wait(lock);
            }
            m_waiting = Waiting::no;
        }
        const std::size_t count = std::min(m_queue.size(), chunk);
        for (std::size_t i = 0; i < count; ++i) {
            out.push_back(std::move(m_queue.front().item));
            m_taken_bytes.push_back(m_queue.front().bytes);
            m_queue.pop_front();
        }
        m_taken += count;
        return count == 0 && m_stopping;
    }

    // The consumer is done with the `count` items it took first: their room goes back to the
    // producers.
    void handled(std::size_t count) {
        std::lock_guard lock(m_mutex);
        m_in_flight -= count;
        for (std::size_t i = 0; i < count; ++i) {
            m_in_flight_bytes -= m_taken_bytes.front();
            m_taken_bytes.pop_front();
        }
        if (m_producers_waiting > 0) {
            m_not_full.notify_all();
        }
    }

    // ---- any thread ----

    // From now on push() returns `error`; producers blocked on a full queue return it at once.
    void fail(const Error& error) {
        std::lock_guard lock(m_mutex);
        m_failure = error;
        if (m_producers_waiting > 0) {
            m_not_full.notify_all();
        }
    }

    // Counts `records` committed in one transaction.
    void committed(std::uint64_t records) {
        std::lock_guard lock(m_mutex);
        m_counters.committed += records;
        ++m_counters.transactions;
    }

    // The consumer drains the queue and then take() returns true; push() throws from now on.
    void close() {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_not_empty.notify_one();
    }

    WriterStats stats() const {
        std::lock_guard lock(m_mutex);
        return m_counters;
    }

    // What fail() was given, if it was called.
    std::optional<Error> failure() const {
        std::lock_guard lock(m_mutex);
        return m_failure;
    }

private:
    enum class Waiting { no, idle, lingering };

    // An item with the bytes push() was told it holds.
    struct Entry {
        template <class... Args>
        explicit Entry(std::size_t item_bytes, Args&&... args)
            : bytes(item_bytes)
            , item(std::forward<Args>(args)...) {}
        std::size_t bytes;
        Item item;
    };

    // Whether an item of `bytes` must wait for room; under the lock.
    bool full(std::size_t bytes) const {
        return m_in_flight >= m_capacity ||
               (m_in_flight > 0 && m_in_flight_bytes + bytes > m_capacity_bytes);
    }

    void throw_if_closed() const {
        if (m_stopping) {
            throw std::logic_error("storage: Writer used during or after close()");
        }
    }

    // Whether the consumer has something to do; under the lock.
    bool ready(const OpenBatch* batch, std::size_t wake_at) const {
        if (!batch) {
            return !m_queue.empty();
        }
        return m_queue.size() >= wake_at || m_last_control > m_taken ||
               (m_producers_waiting > 0 && !m_queue.empty()) || Clock::now() >= batch->deadline;
    }

    const std::size_t m_capacity;
    const std::size_t m_capacity_bytes;
    const std::size_t m_wake_limit; // wake_records, at most a chunk or the capacity

    // Guarded by m_mutex. `m_queue` holds the items not taken yet; `m_in_flight` also counts
    // the taken items not handled yet, and is what `capacity` limits; `m_in_flight_bytes` is
    // their bytes, which `capacity_bytes` limits, and `m_taken_bytes` those of each item taken
    // and not handled yet, in order. A deque, not a preallocated ring: memory follows the items
    // actually queued (a ring of 1024 slots of ~430 bytes is 0.43 MiB touched from the start).
    mutable std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
    std::deque<Entry> m_queue;
    std::deque<std::size_t> m_taken_bytes;
    std::size_t m_in_flight = 0;
    std::size_t m_in_flight_bytes = 0;
    // Items ever pushed and taken, and the number (1-based) of the latest control item pushed:
    // a control item is queued while m_last_control > m_taken (the queue is first in, first out).
    std::uint64_t m_pushed = 0;
    std::uint64_t m_taken = 0;
    std::uint64_t m_last_control = 0;
    Waiting m_waiting = Waiting::no; // what the consumer is waiting for
    std::size_t m_wake_at = 0;       // while lingering: wake it once this many are queued
    std::size_t m_producers_waiting = 0;
    bool m_stopping = false;
    std::optional<Error> m_failure;
    WriterStats m_counters;
};

} // namespace flagcrawl::storage
