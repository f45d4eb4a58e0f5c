#include "fetch/outcome.hpp"

#include "util/http_reason.hpp"

#include <fmt/core.h>

namespace flagcrawl::fetch {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::ok:
        return "ok";
    case Outcome::not_found:
        return "not found";
    case Outcome::error:
        return "error";
    }
    return "?";
}

Outcome classify(const fetch::Response& response, std::string& reason) {
    reason.clear();
    if (response.error) {
        reason = response.error->message;
        return Outcome::error;
    }
    int status = response.http_status;
    if (status >= 200 && status < 300)
        return Outcome::ok;
    std::string_view phrase = util::http_reason(status);
    reason =
        phrase.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, phrase);
    return status == 404 || status == 410 ? Outcome::not_found : Outcome::error;
}

} // namespace flagcrawl::fetch
