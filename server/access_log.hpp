// A request log around any handler (`serve --access-log FILE`): one line per request, written
// when the request reached the handler, so that a test can check what a client did over time
// (e.g. the gaps between its requests to one host).
#pragma once

#include "server/server.hpp"

#include <string>

namespace flagcrawl::server {

// Wraps `inner`: each request appends "SECONDS METHOD TARGET STATUS USER-AGENT\n" to `path`
// (SECONDS: the arrival time on the system clock, seconds since the epoch with microseconds, e.g.
// "1717171717.123456"; USER-AGENT as sent, "-" when absent, the rest of the line), a whole line
// at a time, flushed at once. Throws std::runtime_error when
// the file cannot be opened for appending. Thread-safe if `inner` is.
Handler with_access_log(Handler inner, const std::string& path);

} // namespace flagcrawl::server
