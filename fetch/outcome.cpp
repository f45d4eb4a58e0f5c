#include "fetch/outcome.hpp"

#include "util/http_reason.hpp"

#include <fmt/core.h>

#include <array>
#include <utility>

namespace flagcrawl::fetch {

namespace {

// Indexed by FailureKind.
constexpr std::array k_codes = {
    std::string_view("dns"),
    std::string_view("connect"),
    std::string_view("timeout"),
    std::string_view("too_large"),
    std::string_view("too_large_decoded"),
    std::string_view("too_many_redirects"),
    std::string_view("redirect_loop"),
    std::string_view("disallowed_scheme"),
    std::string_view("reset"),
    std::string_view("partial_body"),
    std::string_view("protocol"),
    std::string_view("not_http"),
    std::string_view("empty_reply"),
    std::string_view("tls"),
    std::string_view("write_failed"),
    std::string_view("invalid_url"),
    std::string_view("interrupted"),
    std::string_view("other"),
    std::string_view("http_status"),
    std::string_view("throttled"),
    std::string_view("robots"),
    std::string_view("robots_unreachable"),
    std::string_view("nofollow"),
    std::string_view("out_of_scope"),
    std::string_view("limit_reached"),
    std::string_view("too_complex"),
    std::string_view("given_up"),
};
static_assert(k_codes.size() == static_cast<std::size_t>(FailureKind::given_up) + 1);

} // namespace

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

std::string_view code(FailureKind kind) {
    return k_codes[static_cast<std::size_t>(kind)];
}

std::optional<FailureKind> parse_failure_kind(std::string_view text) {
    for (std::size_t i = 0; i < k_codes.size(); ++i) {
        if (k_codes[i] == text) {
            return static_cast<FailureKind>(i);
        }
    }
    return std::nullopt;
}

FailureKind failure_kind(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::dns:
        return FailureKind::dns;
    case ErrorKind::connect:
        return FailureKind::connect;
    case ErrorKind::timeout:
        return FailureKind::timeout;
    case ErrorKind::too_large:
        return FailureKind::too_large;
    case ErrorKind::too_large_decoded:
        return FailureKind::too_large_decoded;
    case ErrorKind::too_many_redirects:
        return FailureKind::too_many_redirects;
    case ErrorKind::redirect_loop:
        return FailureKind::redirect_loop;
    case ErrorKind::disallowed_scheme:
        return FailureKind::disallowed_scheme;
    case ErrorKind::reset:
        return FailureKind::reset;
    case ErrorKind::partial_body:
        return FailureKind::partial_body;
    case ErrorKind::protocol:
        return FailureKind::protocol;
    case ErrorKind::not_http:
        return FailureKind::not_http;
    case ErrorKind::empty_reply:
        return FailureKind::empty_reply;
    case ErrorKind::tls:
        return FailureKind::tls;
    case ErrorKind::write_failed:
        return FailureKind::write_failed;
    case ErrorKind::invalid_url:
        return FailureKind::invalid_url;
    case ErrorKind::interrupted:
        return FailureKind::interrupted;
    case ErrorKind::other:
        return FailureKind::other;
    }
    return FailureKind::other;
}

bool is_target_failure(FailureKind kind) {
    switch (kind) {
    case FailureKind::dns:
    case FailureKind::connect:
    case FailureKind::timeout:
    case FailureKind::too_many_redirects:
    case FailureKind::redirect_loop:
    case FailureKind::disallowed_scheme:
    case FailureKind::reset:
    case FailureKind::partial_body:
    case FailureKind::protocol:
    case FailureKind::not_http:
    case FailureKind::empty_reply:
    case FailureKind::tls:
    case FailureKind::invalid_url:
    case FailureKind::other:
    case FailureKind::http_status:
    case FailureKind::throttled:
    case FailureKind::robots_unreachable:
    case FailureKind::given_up:
        return true;
    case FailureKind::too_large:
    case FailureKind::too_large_decoded:
    case FailureKind::write_failed:
    case FailureKind::interrupted:
    case FailureKind::robots:
    case FailureKind::nofollow:
    case FailureKind::out_of_scope:
    case FailureKind::limit_reached:
    case FailureKind::too_complex:
        return false;
    }
    return true;
}

std::string_view to_string(ErrorKind kind) {
    return code(failure_kind(kind));
}

std::string count_name(FailureKind kind, int http_status) {
    if (kind == FailureKind::http_status) {
        return fmt::format("http_{}", http_status);
    }
    return std::string(code(kind));
}

Verdict classify(const Response& response) {
    Verdict verdict;
    if (response.error) {
        verdict.outcome = Outcome::error;
        verdict.kind = failure_kind(response.error->kind);
        verdict.reason = response.error->message;
        return verdict;
    }
    const int status = response.http_status;
    if (status >= 200 && status < 300) {
        return verdict;
    }
    const std::string_view phrase = util::http_reason(status);
    verdict.reason =
        phrase.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, phrase);
    verdict.kind = FailureKind::http_status;
    verdict.outcome = status == 404 || status == 410 ? Outcome::not_found : Outcome::error;
    return verdict;
}

} // namespace flagcrawl::fetch
