// Per-request delays and injected errors around any handler (`serve --delay/--error-rate/--seed`).
// Draws are a pure function of (seed, request target, how many times that target was requested
// before), so concurrent clients see the same answers per URL in any order, and a retry of the
// same URL gets a fresh draw.
#pragma once

#include "server/server.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace flagcrawl::server {

// A delay drawn uniformly from [min, max]; min == max is a fixed delay.
struct DelayRange {
    std::chrono::nanoseconds min{0};
    std::chrono::nanoseconds max{0};
    bool operator==(const DelayRange&) const = default;
};

// "0.5" (seconds) or "0.1-0.3" (a range, low end first); non-negative, at most one hour.
// nullopt for anything else.
std::optional<DelayRange> parse_delay(std::string_view text);

struct ChaosOptions {
    DelayRange delay{};
    // In [0, 1]: the fraction of would-be successes answered with error_status instead. Only
    // requests the wrapped handler answers with a 2xx can fail: a 404 stays a 404, so a client
    // asking for every code AA..ZZ of the flags set gets its 482 "not found" plus about
    // error_rate of the 194 real flags as errors (the server fails a fraction of what it
    // would have served).
    double error_rate = 0.0;
    std::uint64_t seed = 0;
    int error_status = 418; // I'm a teapot, as in the book's flags2 error server
};

struct ChaosDraw {
    std::chrono::nanoseconds delay{0};
    bool error = false;
};

// The draw for the `occurrence`-th request (0 for the first) of `target`.
ChaosDraw chaos_draw(const ChaosOptions& options, std::string_view target,
                     std::uint64_t occurrence);

// Wraps `inner`: each request gets its draw's delay (errors and non-2xx replies included), and
// a 2xx reply of `inner` is replaced by the error reply when the draw says so. `inner` is
// called for every request. Every request consumes one draw of its target, whatever `inner`
// answers. Thread-safe if `inner` is.
Handler with_chaos(Handler inner, ChaosOptions options);

} // namespace flagcrawl::server
