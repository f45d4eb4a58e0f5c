// libFuzzer target: robots.txt parsing and matching. Any bytes parse; allowed() answers for a
// few paths (and for the input's own lines as paths) without crashing or running long.
#include "crawler/robots/robots.hpp"

#include <cstdint>
#include <string_view>

namespace fc = flagcrawl::crawler;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto rules = fc::RobotsRules::parse(input, "flagcrawl");
    for (std::string_view path : {"/", "/a/b?c=d", "/%C3%A9", "/*$", ""}) {
        static_cast<void>(rules.allowed(path));
    }
    std::size_t start = 0;
    for (int i = 0; i < 16 && start < input.size(); ++i) {
        std::size_t end = input.find('\n', start);
        if (end == std::string_view::npos) {
            end = input.size();
        }
        static_cast<void>(rules.allowed(input.substr(start, end - start)));
        start = end + 1;
    }
    return 0;
}
