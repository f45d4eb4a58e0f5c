// The writer's queue on its own: what wakes a consumer that holds an open batch, capacity and
// backpressure, failure and close. Items are plain ints; no database.
#include "storage/writer_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace flagcrawl::storage;
using namespace std::chrono_literals;

namespace {

using Queue = WriterQueue<int>;

// A byte bound that the tests of other bounds never reach (their items weigh 1 byte each).
constexpr std::size_t k_any_bytes = 1 << 20;

// An open batch whose deadline is far enough that a take() returning before it was woken by
// something else than the deadline.
OpenBatch far_batch(std::uint64_t room = 1000) {
    return OpenBatch{Queue::Clock::now() + 30s, room};
}

} // namespace

TEST(WriterQueue, IdleConsumerTakesTheFirstItem) {
    Queue queue(16, k_any_bytes, 8);
    std::vector<int> taken;
    std::thread consumer([&] { EXPECT_FALSE(queue.take(taken, nullptr)); });
    ASSERT_TRUE(queue.push(false, 1, 7));
    consumer.join();
    EXPECT_EQ(taken, std::vector<int>{7});
}

TEST(WriterQueue, LingeringConsumerWaitsForWakeRecordsThenTakesThemAll) {
    Queue queue(16, k_any_bytes, 4);
    const OpenBatch batch = far_batch();
    ASSERT_TRUE(queue.push(false, 1, 1));
    ASSERT_TRUE(queue.push(false, 1, 2));
    ASSERT_TRUE(queue.push(false, 1, 3));
    std::vector<int> taken;
    std::atomic<bool> returned = false;
    std::thread consumer([&] {
        queue.take(taken, &batch);
        returned = true;
    });
    std::this_thread::sleep_for(50ms); // three records queued do not end the wait
    EXPECT_FALSE(returned);
    ASSERT_TRUE(queue.push(false, 1, 4));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2, 3, 4}));
}

TEST(WriterQueue, RoomOfTheBatchEndsTheWaitBeforeWakeRecords) {
    Queue queue(16, k_any_bytes, 8);
    const OpenBatch batch = far_batch(2); // two more records complete the batch
    std::vector<int> taken;
    std::thread consumer([&] { queue.take(taken, &batch); });
    ASSERT_TRUE(queue.push(false, 1, 1));
    ASSERT_TRUE(queue.push(false, 1, 2));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2}));
}

TEST(WriterQueue, ControlItemEndsALingeringWaitAtOnce) {
    Queue queue(16, k_any_bytes, 8);
    const OpenBatch batch = far_batch();
    ASSERT_TRUE(queue.push(false, 1, 1));
    std::vector<int> taken;
    std::thread consumer([&] { queue.take(taken, &batch); });
    ASSERT_TRUE(queue.push(true, 1, 2));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2}));

    // A control item already taken no longer counts: the next wait lasts until the deadline.
    const OpenBatch soon{Queue::Clock::now() + 20ms, 1000};
    ASSERT_TRUE(queue.push(false, 1, 3));
    taken.clear();
    EXPECT_FALSE(queue.take(taken, &soon));
    EXPECT_GE(Queue::Clock::now(), soon.deadline);
    EXPECT_EQ(taken, std::vector<int>{3});
}

TEST(WriterQueue, DeadlineWithNothingQueuedReturnsEmpty) {
    Queue queue(16, k_any_bytes, 8);
    const OpenBatch soon{Queue::Clock::now() + 10ms, 1000};
    std::vector<int> taken;
    EXPECT_FALSE(queue.take(taken, &soon));
    EXPECT_TRUE(taken.empty());
}

TEST(WriterQueue, TakesAtMostAChunk) {
    Queue queue(Queue::chunk + 10, k_any_bytes, 1);
    for (int i = 0; i < static_cast<int>(Queue::chunk) + 10; ++i) {
        ASSERT_TRUE(queue.push(false, 1, i));
    }
    std::vector<int> taken;
    queue.take(taken, nullptr);
    EXPECT_EQ(taken.size(), Queue::chunk);
    EXPECT_EQ(taken.front(), 0);
    taken.clear();
    queue.take(taken, nullptr);
    EXPECT_EQ(taken.size(), 10u);
    EXPECT_EQ(taken.front(), static_cast<int>(Queue::chunk));
}

TEST(WriterQueue, FullQueueBlocksUntilTakenItemsAreHandled) {
    Queue queue(2, k_any_bytes, 1);
    ASSERT_TRUE(queue.push(false, 1, 1));
    ASSERT_TRUE(queue.push(false, 1, 2));
    std::vector<int> taken;
    queue.take(taken, nullptr); // taken but not handled: still counted against the capacity
    std::atomic<bool> pushed = false;
    std::thread producer([&] {
        EXPECT_TRUE(queue.push(false, 1, 3));
        pushed = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(pushed);
    queue.handled(1);
    producer.join();
    EXPECT_TRUE(pushed);
    EXPECT_EQ(queue.stats().peak_queued, 2u);
    EXPECT_EQ(queue.stats().submitted, 3u);
}

TEST(WriterQueue, BytesBoundTheQueueBeforeItsItemCount) {
    Queue queue(16, 100, 1); // room for 16 items, but for 100 bytes only
    ASSERT_TRUE(queue.push(false, 40, 1));
    ASSERT_TRUE(queue.push(false, 40, 2));
    std::vector<int> taken;
    queue.take(taken, nullptr); // taken but not handled: its bytes still count
    std::atomic<bool> pushed = false;
    std::thread producer([&] {
        EXPECT_TRUE(queue.push(false, 40, 3)); // 120 bytes would pass the bound
        pushed = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(pushed);
    queue.handled(1); // the first item's 40 bytes are free: 80 in all fit
    producer.join();
    EXPECT_TRUE(pushed);
    EXPECT_EQ(queue.stats().peak_queued_bytes, 80u);
    EXPECT_EQ(queue.stats().peak_queued, 2u);
}

TEST(WriterQueue, ItemLargerThanTheByteBoundGoesInAloneOnceTheQueueIsEmpty) {
    Queue queue(16, 100, 1);
    ASSERT_TRUE(queue.push(false, 10, 1));
    std::atomic<bool> pushed = false;
    std::thread producer([&] {
        EXPECT_TRUE(queue.push(false, 500, 2));
        pushed = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(pushed);
    std::vector<int> taken;
    queue.take(taken, nullptr);
    queue.handled(taken.size());
    producer.join();
    EXPECT_EQ(queue.stats().peak_queued_bytes, 500u);
}

TEST(WriterQueue, ProducerBlockedByTheByteBoundEndsALingeringWait) {
    // The consumer lingers for 8 queued items, but the bytes of 2 fill the queue: it must take
    // them when a third waits for room, not sleep until its batch's deadline.
    Queue queue(16, 100, 8);
    const OpenBatch batch = far_batch();
    std::vector<int> taken;
    std::thread consumer([&] { queue.take(taken, &batch); });
    ASSERT_TRUE(queue.push(false, 50, 1));
    ASSERT_TRUE(queue.push(false, 50, 2));
    std::thread producer([&] { EXPECT_TRUE(queue.push(false, 50, 3)); });
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2}));
    queue.handled(taken.size());
    producer.join();
}

TEST(WriterQueue, FailureReleasesBlockedProducersWithTheError) {
    Queue queue(1, k_any_bytes, 1);
    ASSERT_TRUE(queue.push(false, 1, 1));
    std::thread producer([&] {
        auto r = queue.push(false, 1, 2);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().message, "db: disk full");
    });
    std::this_thread::sleep_for(20ms);
    queue.fail(Error{{}, "db: disk full"});
    producer.join();
    EXPECT_FALSE(queue.push(true, 1, 3));
}

TEST(WriterQueue, CloseDrainsThenReportsTheEndAndRefusesPushes) {
    Queue queue(16, k_any_bytes, 8);
    ASSERT_TRUE(queue.push(false, 1, 1));
    queue.close();
    std::vector<int> taken;
    EXPECT_FALSE(queue.take(taken, nullptr));
    EXPECT_EQ(taken, std::vector<int>{1});
    taken.clear();
    EXPECT_TRUE(queue.take(taken, nullptr));
    EXPECT_TRUE(taken.empty());
    EXPECT_THROW((void)queue.push(false, 1, 2), std::logic_error);
}
