// Where the `flags` and `bench flags` commands get their flags: the server mode and --delay
// resolved into a base URL or an embedded server (the built-in flags data set, optionally slow
// and failing, in this process on a loopback ephemeral port).
#pragma once

#include "crawler/jobs/flags_codes.hpp"
#include "server/chaos.hpp"
#include "server/server.hpp"

#include <memory>
#include <optional>
#include <string>

namespace flagcrawl::cli {

// The book's slow server: a uniform 0.5-5 s per request (flags2's DELAY and ERROR sites).
inline constexpr server::DelayRange k_book_delay{std::chrono::milliseconds(500),
                                                 std::chrono::seconds(5)};
// The share of would-be successes the ERROR server fails (the book's 25%).
inline constexpr double k_error_mode_rate = 0.25;

struct FlagsSite {
    crawler::FlagsServer server;             // mode; base_url empty until started when embedded
    std::optional<server::DelayRange> delay; // per request, embedded modes only
    double error_rate = 0.0;                 // embedded ERROR mode only
};

// `server_text`: -s (mode or URL); `delay_text`: --delay ("" when not given), which applies to
// the embedded modes only (plain EMBEDDED with --delay becomes DELAY); `delay_default`: the
// delay of the DELAY and ERROR modes without --delay. Throws UsageError naming the bad value.
FlagsSite resolve_flags_site(const std::string& server_text, const std::string& delay_text,
                             server::DelayRange delay_default);

// Starts the embedded flags server for `site` (an embedded mode) and sets site.server.base_url
// to its "/flags" URL. Throws FatalError if it cannot listen.
std::unique_ptr<server::Server> start_embedded_flags_server(FlagsSite& site);

// "0.25 s" or "0.5-5 s".
std::string describe_delay(server::DelayRange delay);

} // namespace flagcrawl::cli
