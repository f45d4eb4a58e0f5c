// What the `flags` command fetches and from where, decided as the book Fluent Python's
// flags2_common does it: country codes from arguments (a letter stands for its 26 codes), -a,
// -e, the POP20 default and the limit; and the server modes (EMBEDDED, DELAY, ERROR, LOCAL,
// REMOTE) or a base URL.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// The book's default: the 20 most populous countries.
inline constexpr std::array<std::string_view, 20> k_pop20_codes = {
    "CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP",
    "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD", "FR"};

// A usage error in the flags arguments: one readable line naming the bad value.
struct FlagsArgError {
    std::string message;
};
// Only reached through result::value() on an error: a caller bug.
[[noreturn]] void throw_exception_from_error(const FlagsArgError& error,
                                             const boost::source_location& loc);

struct CodeSelection {
    std::vector<std::string> codes{};    // as typed: "cn", "B" (either case)
    bool all = false;                    // -a: every code of the data set
    bool every = false;                  // -e: every code AA..ZZ (676)
    std::optional<std::int64_t> limit{}; // -l: keep the first N (sorted); at least 1
};

// The codes to fetch, upper-case, sorted, without repeats, cut to the limit. -e beats -a beats
// positional codes; without any, POP20. Every positional code is checked even when -a or -e
// makes it moot (a typo is still reported). `data_set` holds the codes -a stands for.
boost::system::result<std::vector<std::string>, FlagsArgError>
select_flag_codes(const CodeSelection& selection, std::span<const std::string_view> data_set);

enum class FlagsServerMode {
    embedded, // the built-in flags server, in process, on a loopback ephemeral port
    delay,    // the same, each reply delayed (the book's slow server: 0.5-5 s)
    error,    // the same with delays, and a quarter of the flags answered 418
    local,    // k_local_flags_url
    remote,   // k_remote_flags_url
    url,      // a base URL given by the user
};
inline constexpr std::string_view k_local_flags_url = "http://localhost:8000/flags";
inline constexpr std::string_view k_remote_flags_url = "http://fluentpython.com/data/flags";

// "EMBEDDED", "DELAY", "ERROR", "LOCAL", "REMOTE", "CUSTOM" (the book's site labels).
std::string_view to_label(FlagsServerMode mode);
// True for the modes served by the embedded server.
inline bool is_embedded(FlagsServerMode mode) {
    return mode == FlagsServerMode::embedded || mode == FlagsServerMode::delay ||
           mode == FlagsServerMode::error;
}

struct FlagsServer {
    FlagsServerMode mode = FlagsServerMode::embedded;
    std::string base_url{}; // without a trailing '/'; empty for the embedded modes
};

// A mode name (any case) or an absolute http(s) base URL without query or fragment.
boost::system::result<FlagsServer, FlagsArgError> parse_flags_server(std::string_view text);

// The URLs of one code under a base URL (cc lower-case): {base}/{cc}/{cc}.gif and
// {base}/{cc}/metadata.json.
std::string flag_gif_url(std::string_view base_url, std::string_view code);
std::string flag_metadata_url(std::string_view base_url, std::string_view code);

} // namespace flagcrawl::crawler
