// An endless URL space made of the crawler traps real sites have, for tests of a crawl's
// defaults and trap defences (`serve --trap`). Every page is generated from its URL alone, so
// the space has no end and the server keeps no state.
#pragma once

#include "server/server.hpp"

#include <string>

namespace flagcrawl::server {

// Serves the trap pages under `prefix` (e.g. "/trap/"), one kind per first segment:
//
//   PREFIX               links to one page of each kind below
//   PREFIX tree/...      links to the children "a/" and "b/": a tree without a bottom
//   PREFIX loop/...      links to "loop/" and "more/": the same segment again and again, as a
//                        relative link on a page whose directory form is served (a classic
//                        misconfiguration)
//   PREFIX calendar?day=N   links to ?day=N+1 and ?day=N-1: an endless calendar
//   PREFIX long?q=X      links to ?q=XX: a query that doubles at every hop
//   PREFIX wide/N        links to wide/(8N+1) .. wide/(8N+8): one directory without end
//
// Anything else under the prefix is a page of the kind of its first segment; text/html.
Handler trap_handler(std::string prefix);

} // namespace flagcrawl::server
