// Test helper: wait for a condition another thread or process brings about, by polling it with a
// deadline, instead of sleeping a fixed time and hoping it happened (flaky on a loaded machine).
#pragma once

#include <chrono>
#include <thread>

namespace flagcrawl::testing_support {

// Calls `done` every few milliseconds, on the calling thread, until it returns true (then true)
// or `limit` has passed (then false).
template <class Predicate>
bool eventually(Predicate&& done,
                std::chrono::steady_clock::duration limit = std::chrono::seconds(10)) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

} // namespace flagcrawl::testing_support
