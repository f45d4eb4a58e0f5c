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

// An open batch whose deadline is far enough that a take() returning before it was woken by
// something else than the deadline.
OpenBatch far_batch(std::uint64_t room = 1000) {
    return OpenBatch{Queue::Clock::now() + 30s, room};
}

} // namespace

TEST(WriterQueue, IdleConsumerTakesTheFirstItem) {
    Queue queue(16, 8);
    std::vector<int> taken;
    std::thread consumer([&] { EXPECT_FALSE(queue.take(taken, nullptr)); });
    ASSERT_TRUE(queue.push(false, 7));
    consumer.join();
    EXPECT_EQ(taken, std::vector<int>{7});
}

TEST(WriterQueue, LingeringConsumerWaitsForWakeRecordsThenTakesThemAll) {
    Queue queue(16, 4);
    const OpenBatch batch = far_batch();
    ASSERT_TRUE(queue.push(false, 1));
    ASSERT_TRUE(queue.push(false, 2));
    ASSERT_TRUE(queue.push(false, 3));
    std::vector<int> taken;
    std::atomic<bool> returned = false;
    std::thread consumer([&] {
        queue.take(taken, &batch);
        returned = true;
    });
    std::this_thread::sleep_for(50ms); // three records queued do not end the wait
    EXPECT_FALSE(returned);
    ASSERT_TRUE(queue.push(false, 4));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2, 3, 4}));
}

TEST(WriterQueue, RoomOfTheBatchEndsTheWaitBeforeWakeRecords) {
    Queue queue(16, 8);
    const OpenBatch batch = far_batch(2); // two more records complete the batch
    std::vector<int> taken;
    std::thread consumer([&] { queue.take(taken, &batch); });
    ASSERT_TRUE(queue.push(false, 1));
    ASSERT_TRUE(queue.push(false, 2));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2}));
}

TEST(WriterQueue, ControlItemEndsALingeringWaitAtOnce) {
    Queue queue(16, 8);
    const OpenBatch batch = far_batch();
    ASSERT_TRUE(queue.push(false, 1));
    std::vector<int> taken;
    std::thread consumer([&] { queue.take(taken, &batch); });
    ASSERT_TRUE(queue.push(true, 2));
    consumer.join();
    EXPECT_LT(Queue::Clock::now(), batch.deadline);
    EXPECT_EQ(taken, (std::vector<int>{1, 2}));

    // A control item already taken no longer counts: the next wait lasts until the deadline.
    const OpenBatch soon{Queue::Clock::now() + 20ms, 1000};
    ASSERT_TRUE(queue.push(false, 3));
    taken.clear();
    EXPECT_FALSE(queue.take(taken, &soon));
    EXPECT_GE(Queue::Clock::now(), soon.deadline);
    EXPECT_EQ(taken, std::vector<int>{3});
}

TEST(WriterQueue, DeadlineWithNothingQueuedReturnsEmpty) {
    Queue queue(16, 8);
    const OpenBatch soon{Queue::Clock::now() + 10ms, 1000};
    std::vector<int> taken;
    EXPECT_FALSE(queue.take(taken, &soon));
    EXPECT_TRUE(taken.empty());
}

TEST(WriterQueue, TakesAtMostAChunk) {
    Queue queue(Queue::chunk + 10, 1);
    for (int i = 0; i < static_cast<int>(Queue::chunk) + 10; ++i) {
        ASSERT_TRUE(queue.push(false, i));
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
    Queue queue(2, 1);
    ASSERT_TRUE(queue.push(false, 1));
    ASSERT_TRUE(queue.push(false, 2));
    std::vector<int> taken;
    queue.take(taken, nullptr); // taken but not handled: still counted against the capacity
    std::atomic<bool> pushed = false;
    std::thread producer([&] {
        EXPECT_TRUE(queue.push(false, 3));
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

TEST(WriterQueue, FailureReleasesBlockedProducersWithTheError) {
    Queue queue(1, 1);
    ASSERT_TRUE(queue.push(false, 1));
    std::thread producer([&] {
        auto r = queue.push(false, 2);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().message, "db: disk full");
    });
    std::this_thread::sleep_for(20ms);
    queue.fail(Error{{}, "db: disk full"});
    producer.join();
    EXPECT_FALSE(queue.push(true, 3));
}

TEST(WriterQueue, CloseDrainsThenReportsTheEndAndRefusesPushes) {
    Queue queue(16, 8);
    ASSERT_TRUE(queue.push(false, 1));
    queue.close();
    std::vector<int> taken;
    EXPECT_FALSE(queue.take(taken, nullptr));
    EXPECT_EQ(taken, std::vector<int>{1});
    taken.clear();
    EXPECT_TRUE(queue.take(taken, nullptr));
    EXPECT_TRUE(taken.empty());
    EXPECT_THROW((void)queue.push(false, 2), std::logic_error);
}
