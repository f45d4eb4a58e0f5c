#include "links_report.hpp"

#include "fetch/outcome.hpp"

#include <fmt/core.h>

namespace flagcrawl::cli {

namespace {

void append_json_strings(std::string& out, const std::vector<std::string>& values) {
    out += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        append_json_string(out, values[i]);
    }
    out += ']';
}

std::string joined(const std::vector<std::string>& values, std::string_view separator) {
    std::string out;
    for (const std::string& value : values) {
        if (!out.empty()) {
            out += separator;
        }
        out += value;
    }
    return out;
}

} // namespace

std::set<std::string, std::less<>> broken_link_kinds() {
    std::set<std::string, std::less<>> kinds;
    for (int i = 0; i <= static_cast<int>(fetch::FailureKind::given_up); ++i) {
        const auto kind = static_cast<fetch::FailureKind>(i);
        if (fetch::is_target_failure(kind)) {
            kinds.emplace(fetch::code(kind));
        }
    }
    return kinds;
}

std::string describe_failure(const storage::BrokenLink& link) {
    std::string text;
    if (link.redirects_to) {
        text = fmt::format("redirects to {} ({} hop{}): ", *link.redirects_to, link.redirect_hops,
                           link.redirect_hops == 1 ? "" : "s");
    }
    return text + link.reason;
}

BrokenLinksWriter::BrokenLinksWriter(LinksFormat format, OutputStream& out)
    : m_format(format)
    , m_out(out) {
    if (m_format == LinksFormat::csv) {
        // `external` last: the columns before it keep the places they had before it existed.
        m_out.write("url,status,error_kind,reason,redirects_to,link_kinds,referrer_count,"
                    "referrer,external\r\n");
    }
}

void BrokenLinksWriter::link(const storage::BrokenLink& link) {
    std::string& out = m_out.buffer();
    const std::string status = link.http_status ? std::to_string(*link.http_status) : "";
    switch (m_format) {
    case LinksFormat::text: {
        out += link.url;
        out += link.external ? " (external)\n" : "\n";
        out += fmt::format("    {} [{}]\n", describe_failure(link), link.error_kind);
        if (link.referrer_count == 0) {
            out += link.seed ? "    a seed: no page links it\n"
                             : "    no page recorded a link to it\n";
            break;
        }
        out += fmt::format("    linked as {} from {} page{}:\n", joined(link.link_kinds, ", "),
                           link.referrer_count, link.referrer_count == 1 ? "" : "s");
        for (const std::string& referrer : link.referrers) {
            out += "      " + referrer + "\n";
        }
        if (link.referrers.size() < link.referrer_count) {
            out += fmt::format("      ... and {} more (--referrers 0 lists them all)\n",
                               link.referrer_count - link.referrers.size());
        }
        break;
    }
    case LinksFormat::csv: {
        // One row per referring page; a link without one gets a row with an empty referrer.
        auto row = [&](std::string_view referrer) {
            append_csv_field(out, link.url);
            out += ',';
            out += status;
            out += ',';
            append_csv_field(out, link.error_kind);
            out += ',';
            append_csv_field(out, link.reason);
            out += ',';
            append_csv_field(out, link.redirects_to.value_or(""));
            out += ',';
            append_csv_field(out, joined(link.link_kinds, " "));
            out += ',';
            append_number(out, static_cast<std::int64_t>(link.referrer_count));
            out += ',';
            append_csv_field(out, referrer);
            out += link.external ? ",true\r\n" : ",false\r\n";
        };
        if (link.referrers.empty()) {
            row("");
        }
        for (const std::string& referrer : link.referrers) {
            row(referrer);
        }
        break;
    }
    case LinksFormat::jsonl:
        out += "{\"url\":";
        append_json_string(out, link.url);
        out += ",\"status\":";
        out += status.empty() ? "null" : status;
        out += ",\"error_kind\":";
        append_json_string(out, link.error_kind);
        out += ",\"reason\":";
        append_json_string(out, link.reason);
        out += ",\"redirects_to\":";
        if (link.redirects_to) {
            append_json_string(out, *link.redirects_to);
        } else {
            out += "null";
        }
        out += ",\"redirect_hops\":";
        append_number(out, link.redirect_hops);
        out += ",\"page_kind\":";
        append_json_string(out, link.page_kind);
        out += ",\"link_kinds\":";
        append_json_strings(out, link.link_kinds);
        out += ",\"referrer_count\":";
        append_number(out, static_cast<std::int64_t>(link.referrer_count));
        out += ",\"link_count\":";
        append_number(out, static_cast<std::int64_t>(link.link_count));
        out += ",\"referrers\":";
        append_json_strings(out, link.referrers);
        out += ",\"seed\":";
        out += link.seed ? "true" : "false";
        out += ",\"external\":";
        out += link.external ? "true" : "false";
        out += "}\n";
        break;
    }
}

} // namespace flagcrawl::cli
