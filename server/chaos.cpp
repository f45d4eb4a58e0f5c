// Deterministic delay and error draws: FNV-1a of the target mixed with the seed and the
// occurrence count through SplitMix64 rounds, giving two independent uniform numbers.
#include "server/chaos.hpp"

#include "util/hash.hpp"

#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace flagcrawl::server {

namespace {

std::optional<std::chrono::nanoseconds> parse_seconds(std::string_view text) {
    double seconds = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, seconds, std::chars_format::fixed);
    if (ec != std::errc() || ptr != end || !std::isfinite(seconds) || seconds < 0 ||
        seconds > 3600) {
        return std::nullopt;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

ChaosDraw draw_for(const ChaosOptions& options, std::uint64_t target_hash,
                   std::uint64_t occurrence) {
    const std::uint64_t base =
        util::mix64(util::mix64(target_hash ^ util::mix64(options.seed)) ^ occurrence);
    ChaosDraw draw;
    draw.error = util::unit_interval(util::mix64(base ^ 0x4572726f72ULL)) < options.error_rate;
    const auto span = options.delay.max - options.delay.min;
    draw.delay = options.delay.min + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                         util::unit_interval(util::mix64(base ^ 0x44656c6179ULL)) *
                                         static_cast<double>(span.count())));
    return draw;
}

// Requests seen per target, keyed by the target's 64-bit hash so that a long run over a
// million URLs keeps 16 bytes per URL, not the URL itself.
class Occurrences {
public:
    std::uint64_t next(std::uint64_t target_hash) {
        std::lock_guard lock(m_mutex);
        return m_counts[target_hash]++;
    }

private:
    std::mutex m_mutex;
    std::unordered_map<std::uint64_t, std::uint64_t> m_counts;
};

} // namespace

std::optional<DelayRange> parse_delay(std::string_view text) {
    if (text.empty() || text.front() == '-' || text.front() == '+') {
        return std::nullopt;
    }
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        const auto fixed = parse_seconds(text);
        if (!fixed) {
            return std::nullopt;
        }
        return DelayRange{*fixed, *fixed};
    }
    const auto low = parse_seconds(text.substr(0, dash));
    const auto high = parse_seconds(text.substr(dash + 1));
    if (!low || !high || *low > *high) {
        return std::nullopt;
    }
    return DelayRange{*low, *high};
}

ChaosDraw chaos_draw(const ChaosOptions& options, std::string_view target,
                     std::uint64_t occurrence) {
    return draw_for(options, util::fnv1a(target), occurrence);
}

Handler with_chaos(Handler inner, ChaosOptions options) {
    auto occurrences = std::make_shared<Occurrences>();
    auto error = std::make_shared<const Reply>(Reply::text(
        options.error_status, options.error_status == 418 ? "I'm a teapot\n" : "injected error\n"));
    return [inner = std::move(inner), options, occurrences, error](const Request& request) {
        const std::uint64_t target_hash = util::fnv1a(request.target);
        const ChaosDraw draw = draw_for(options, target_hash, occurrences->next(target_hash));
        Reply reply = inner(request);
        if (draw.error && reply.status >= 200 && reply.status < 300) {
            reply = *error;
        }
        reply.delay += draw.delay;
        return reply;
    };
}

} // namespace flagcrawl::server
