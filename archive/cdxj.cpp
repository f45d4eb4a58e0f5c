#include "archive/cdxj.hpp"

#include "util/ascii.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace flagcrawl::archive {
namespace {

bool is_ipv4(std::string_view host) {
    int dots = 0;
    for (char c : host) {
        if (c == '.') {
            ++dots;
        } else if (c < '0' || c > '9') {
            return false;
        }
    }
    return dots == 3;
}

std::uint64_t to_number(const nlohmann::json& j) {
    if (j.is_number_unsigned()) {
        return j.get<std::uint64_t>();
    }
    const std::string text = j.get<std::string>();
    std::uint64_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
}

} // namespace

std::string surt_key(std::string_view url) {
    const auto scheme_end = url.find("://");
    const std::string scheme =
        scheme_end == std::string_view::npos ? "" : util::to_lower(url.substr(0, scheme_end));
    std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find('#'));
    const auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view path_query =
        path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.starts_with('[')) {
        if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
        }
    }
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
        port = {};
    }
    std::string h = util::to_lower(host);
    if (h.starts_with("www.")) {
        h.erase(0, 4);
    }
    std::string key;
    if (is_ipv4(h) || h.starts_with('[')) {
        key = h;
    } else {
        std::vector<std::string_view> labels;
        std::string_view rest_of_host(h);
        for (auto dot = rest_of_host.find('.'); dot != std::string_view::npos;
             dot = rest_of_host.find('.')) {
            labels.push_back(rest_of_host.substr(0, dot));
            rest_of_host.remove_prefix(dot + 1);
        }
        labels.push_back(rest_of_host);
        for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
            key += *it;
            key += it + 1 == labels.rend() ? "" : ",";
        }
    }
    if (!port.empty()) {
        key += ':';
        key += port;
    }
    key += ')';
    std::string pq = util::to_lower(path_query);
    if (pq.empty() || pq.front() == '?') {
        pq.insert(0, "/");
    }
    const auto q = pq.find('?');
    if (q == std::string::npos) {
        key += pq;
        return key;
    }
    key += pq.substr(0, q);
    std::vector<std::string> params;
    std::string_view query(pq);
    query.remove_prefix(q + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        params.emplace_back(query.substr(0, amp));
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    std::sort(params.begin(), params.end());
    key += '?';
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i > 0) {
            key += '&';
        }
        key += params[i];
    }
    return key;
}

std::string cdxj_line(const CdxEntry& e) {
    nlohmann::ordered_json j;
    j["url"] = e.url;
    if (!e.mime.empty()) {
        j["mime"] = e.mime;
    }
    j["status"] = std::to_string(e.status);
    j["digest"] = e.digest;
    j["length"] = std::to_string(e.length);
    j["offset"] = std::to_string(e.offset);
    j["filename"] = e.filename;
    return surt_key(e.url) + " " + e.timestamp + " " +
           j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<CdxEntry> parse_cdxj_line(std::string_view line) {
    const auto first = line.find(' ');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = line.find(' ', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    const auto j = nlohmann::json::parse(line.substr(second + 1), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("url") || !j.contains("offset") ||
        !j.contains("length") || !j.contains("filename")) {
        return std::nullopt;
    }
    try {
        CdxEntry e;
        e.timestamp = std::string(line.substr(first + 1, second - first - 1));
        e.url = j["url"].get<std::string>();
        e.mime = j.value("mime", "");
        e.status = static_cast<int>(to_number(j.value("status", nlohmann::json("0"))));
        e.digest = j.value("digest", "");
        e.offset = to_number(j["offset"]);
        e.length = to_number(j["length"]);
        e.filename = j["filename"].get<std::string>();
        return e;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

} // namespace flagcrawl::archive
