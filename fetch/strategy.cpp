#include "fetch/fetch.hpp"

namespace flagcrawl::fetch {

std::optional<Strategy> parse_strategy(std::string_view name) {
    if (name == "sequential")
        return Strategy::sequential;
    if (name == "threaded")
        return Strategy::threaded;
    if (name == "async")
        return Strategy::async;
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

} // namespace flagcrawl::fetch
