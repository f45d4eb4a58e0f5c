#include "fetch/fetch.hpp"
#include "fetch/strategies.hpp"

#include <stdexcept>
#include <string>

namespace flagcrawl::fetch {

std::optional<Strategy> parse_strategy(std::string_view name) {
    if (name == "sequential") {
        return Strategy::sequential;
    }
    if (name == "threaded") {
        return Strategy::threaded;
    }
    if (name == "async") {
        return Strategy::async;
    }
    return std::nullopt;
}

std::string_view to_string(Strategy strategy) {
    switch (strategy) {
    case Strategy::sequential:
        return "sequential";
    case Strategy::threaded:
        return "threaded";
    case Strategy::async:
        return "async";
    }
    return "?";
}

std::unique_ptr<Fetcher> make_fetcher(Strategy strategy, Policy policy, int concurrency) {
    if (concurrency < 1) {
        throw std::invalid_argument("concurrency must be at least 1, not " +
                                    std::to_string(concurrency));
    }
    switch (strategy) {
    case Strategy::sequential:
        return detail::make_sequential_fetcher(std::move(policy));
    case Strategy::threaded:
        return detail::make_threaded_fetcher(std::move(policy), concurrency);
    case Strategy::async:
        return detail::make_async_fetcher(std::move(policy), concurrency);
    }
    throw std::invalid_argument("unknown strategy");
}

} // namespace flagcrawl::fetch
