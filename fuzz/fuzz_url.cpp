// libFuzzer target: the WHATWG URL parser. Parses the input alone and against a few bases (the
// first line may be the base); every URL it returns must reparse to itself (the standard's
// serialization is idempotent) and give the same seen-set key.
#include "crawler/url/url.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace fc = flagcrawl::crawler;

namespace {

void check_round_trip(const fc::Url& url) {
    auto again = fc::parse(url.href());
    if (!again || again->href() != url.href()) {
        std::abort();
    }
    if (fc::url_key_hash(url, true) != fc::url_key_hash(*again, true) ||
        fc::normalize_key(url, false) != fc::normalize_key(*again, false)) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (auto url = fc::parse(input)) {
        check_round_trip(*url);
    }
    static const fc::Url bases[] = {
        *fc::parse("http://user:pw@example.org:8080/a/b/c?q#f"),
        *fc::parse("https://xn--fa-hia.de/"), *fc::parse("file:///C:/dir/file"),
        *fc::parse("mailto:x@example.org"), *fc::parse("sc://host/path")};
    for (const fc::Url& base : bases) {
        if (auto url = fc::parse(input, &base)) {
            check_round_trip(*url);
        }
    }
    const std::size_t newline = input.find('\n');
    if (newline != std::string_view::npos) {
        if (auto base = fc::parse(input.substr(0, newline))) {
            if (auto url = fc::parse(input.substr(newline + 1), &*base)) {
                check_round_trip(*url);
            }
        }
    }
    return 0;
}
