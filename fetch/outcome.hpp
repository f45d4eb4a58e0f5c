// How a finished response is judged by every job: ok, not found or error, with a readable reason.
#pragma once

#include "fetch/fetch.hpp"

#include <string>
#include <string_view>

namespace flagcrawl::fetch {

enum class Outcome { ok, not_found, error };
std::string_view to_string(Outcome outcome);

// ok: a 2xx response, complete. not_found: 404 or 410. error: anything else (no response,
// other statuses, a body cut short); `reason` then gets a readable one-line cause.
Outcome classify(const fetch::Response& response, std::string& reason);

} // namespace flagcrawl::fetch
