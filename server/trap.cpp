#include "server/trap.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>
#include <vector>

namespace flagcrawl::server {

namespace {

std::string page(std::string_view title, const std::vector<std::string>& hrefs) {
    std::string html = "<!doctype html><html><head><title>";
    html += title;
    html += "</title></head><body>\n";
    for (const std::string& href : hrefs) {
        html += "<a href=\"" + href + "\">" + href + "</a>\n";
    }
    html += "</body></html>\n";
    return html;
}

// The value of `name` in a query "a=1&b=2"; empty if absent.
std::string_view query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
            return pair.substr(name.size() + 1);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return {};
}

std::int64_t number(std::string_view text) {
    std::int64_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
}

} // namespace

Handler trap_handler(std::string prefix) {
    return [prefix = std::move(prefix)](const Request& request) {
        std::string_view rest = request.path;
        if (!rest.starts_with(prefix)) {
            return Reply::text(404, "not found\n");
        }
        rest.remove_prefix(prefix.size());
        const std::string_view kind = rest.substr(0, rest.find('/'));
        std::vector<std::string> hrefs;
        if (kind.empty()) {
            hrefs = {prefix + "tree/", prefix + "loop/", prefix + "calendar?day=0",
                     prefix + "long?q=x", prefix + "wide/0"};
        } else if (kind == "tree") {
            hrefs = {"a/", "b/"};
        } else if (kind == "loop") {
            hrefs = {"loop/", "more/"};
        } else if (kind == "calendar") {
            const std::int64_t day = number(query_value(request.query, "day"));
            hrefs = {"?day=" + std::to_string(day + 1), "?day=" + std::to_string(day - 1)};
        } else if (kind == "long") {
            const std::string_view q = query_value(request.query, "q");
            std::string doubled(q.empty() ? std::string_view("x") : q);
            doubled += doubled;
            hrefs = {"?q=" + doubled};
        } else if (kind == "wide") {
            const std::string_view name = rest.substr(kind.size());
            const std::int64_t n = name.empty() ? 0 : number(name.substr(1));
            for (int i = 1; i <= 8; ++i) {
                hrefs.push_back(prefix + "wide/" + std::to_string(8 * n + i));
            }
        } else {
            return Reply::text(404, "not found\n");
        }
        return Reply::bytes(200, make_body(page(request.target, hrefs)),
                            "text/html; charset=utf-8");
    };
}

} // namespace flagcrawl::server
