#include "crawler/jobs/flags_codes.hpp"

#include "crawler/url/url.hpp"
#include "util/ascii.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace flagcrawl::crawler {
namespace {

bool is_upper_letter(char c) {
    return c >= 'A' && c <= 'Z';
}

} // namespace

void throw_exception_from_error(const FlagsArgError& error, const boost::source_location&) {
    throw std::invalid_argument(error.message);
}

boost::system::result<std::vector<std::string>, FlagsArgError>
select_flag_codes(const CodeSelection& selection, std::span<const std::string_view> data_set) {
    if (selection.limit && *selection.limit < 1) {
        return FlagsArgError{fmt::format("--limit: expected at least 1, got {}", *selection.limit)};
    }

    std::set<std::string> codes; // sorted, without repeats
    for (const std::string& arg : selection.codes) {
        const std::string cc = util::to_upper(arg);
        if (cc.size() == 1 && is_upper_letter(cc[0])) {
            for (char second = 'A'; second <= 'Z'; ++second) {
                codes.insert(cc + second);
            }
        } else if (cc.size() == 2 && is_upper_letter(cc[0]) && is_upper_letter(cc[1])) {
            codes.insert(cc);
        } else {
            return FlagsArgError{fmt::format(
                "flags: '{}' is not a country code: each CC argument must be A to Z or AA to ZZ",
                arg)};
        }
    }
    if (selection.every) {
        codes.clear();
        for (char first = 'A'; first <= 'Z'; ++first) {
            for (char second = 'A'; second <= 'Z'; ++second) {
                codes.insert(std::string{first, second});
            }
        }
    } else if (selection.all) {
        codes.clear();
        for (std::string_view cc : data_set) {
            codes.insert(util::to_upper(cc));
        }
    } else if (selection.codes.empty()) {
        codes.insert(k_pop20_codes.begin(), k_pop20_codes.end());
    }

    std::vector<std::string> out(codes.begin(), codes.end());
    if (selection.limit && static_cast<std::uint64_t>(*selection.limit) < out.size()) {
        out.resize(static_cast<std::size_t>(*selection.limit));
    }
    return out;
}

std::string_view to_label(FlagsServerMode mode) {
    switch (mode) {
    case FlagsServerMode::embedded:
        return "EMBEDDED";
    case FlagsServerMode::delay:
        return "DELAY";
    case FlagsServerMode::error:
        return "ERROR";
    case FlagsServerMode::local:
        return "LOCAL";
    case FlagsServerMode::remote:
        return "REMOTE";
    case FlagsServerMode::url:
        return "CUSTOM";
    }
    return "?";
}

boost::system::result<FlagsServer, FlagsArgError> parse_flags_server(std::string_view text) {
    const std::string name = util::to_lower(text);
    if (name == "embedded") {
        return FlagsServer{FlagsServerMode::embedded, {}};
    }
    if (name == "delay") {
        return FlagsServer{FlagsServerMode::delay, {}};
    }
    if (name == "error") {
        return FlagsServer{FlagsServerMode::error, {}};
    }
    if (name == "local") {
        return FlagsServer{FlagsServerMode::local, std::string(k_local_flags_url)};
    }
    if (name == "remote") {
        return FlagsServer{FlagsServerMode::remote, std::string(k_remote_flags_url)};
    }

    const std::string usage = fmt::format(
        "--server: expected EMBEDDED, DELAY, ERROR, LOCAL, REMOTE or an http(s) base URL, "
        "got '{}'",
        text);
    if (text.find("://") == std::string_view::npos) {
        return FlagsArgError{usage};
    }
    auto url = parse(text);
    if (!url || !url->is_http()) {
        return FlagsArgError{usage};
    }
    if (url->has_query() || url->has_fragment()) {
        return FlagsArgError{
            fmt::format("--server: a base URL has no query nor fragment, got '{}'", text)};
    }
    std::string base(url->href());
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    return FlagsServer{FlagsServerMode::url, std::move(base)};
}

std::string flag_gif_url(std::string_view base_url, std::string_view code) {
    const std::string cc = util::to_lower(code);
    return fmt::format("{}/{}/{}.gif", base_url, cc, cc);
}

std::string flag_metadata_url(std::string_view base_url, std::string_view code) {
    return fmt::format("{}/{}/metadata.json", base_url, util::to_lower(code));
}

} // namespace flagcrawl::crawler
