// What the crawl does after fetching a host's /robots.txt (RFC 9309 2.3.1): the mapping from a
// fetch outcome to a policy. The rules themselves are crawler/robots (pure, no fetch types).
#pragma once

#include "fetch/fetch.hpp"

#include <string_view>

namespace flagcrawl::crawler {

// What to do after fetching /robots.txt (RFC 9309 2.3.1). Redirects are followed by the fetcher
// (RFC: at least 5 hops).
enum class RobotsFetchPolicy {
    parse,                    // 2xx: parse the body with RobotsRules::parse
    allow_all,                // "unavailable": 4xx (not 429), or too many redirects
    disallow_all_retry_later, // "unreachable": 5xx, 429, no response; retry robots.txt later
    give_up_host // the host does not resolve or refuses connections (after the fetcher's own
                 // retries): its pages would fail the same way, so fail them now
};

// Final HTTP status of the robots.txt fetch (after redirects): 2xx parse; 3xx (a redirect the
// fetcher gave up on) and 4xx allow all; 429 and 5xx disallow all for now (429 as Google does:
// the server asks us to slow down); anything else (0, 1xx, >= 600) is unreachable too.
RobotsFetchPolicy robots_policy_for_status(int http_status);
// The fetch produced no HTTP response. too_many_redirects is "unavailable" (RFC 2.3.1.2: more
// than five hops MAY be taken as unavailable); dns and connect errors give the host up; every
// other error is "unreachable".
RobotsFetchPolicy robots_policy_for_error(fetch::ErrorKind error);

std::string_view to_string(RobotsFetchPolicy policy);

} // namespace flagcrawl::crawler
