#include "stats_report.hpp"

#include "progress.hpp"
#include "util/ascii.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

namespace flagcrawl::cli {

namespace {

using storage::Summary;

// Columns sized to their widest cell; `right` marks the right-aligned (numeric) columns.
class TextTable {
public:
    TextTable(std::vector<std::string> headers, std::vector<bool> right)
        : m_right(std::move(right)) {
        m_rows.push_back(std::move(headers));
    }
    void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }

    void render(std::string& out, std::string_view indent = "  ") const {
        std::vector<std::size_t> widths(m_rows.front().size(), 0);
        for (const auto& row : m_rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                widths[i] = std::max(widths[i], row[i].size());
            }
        }
        for (const auto& row : m_rows) {
            std::string line(indent);
            for (std::size_t i = 0; i < row.size(); ++i) {
                const std::size_t pad = widths[i] - row[i].size();
                const bool last = i + 1 == row.size();
                if (i > 0) {
                    line += "  ";
                }
                if (m_right[i]) {
                    line.append(pad, ' ');
                    line += row[i];
                } else {
                    line += row[i];
                    if (!last) {
                        line.append(pad, ' ');
                    }
                }
            }
            while (!line.empty() && line.back() == ' ') {
                line.pop_back();
            }
            out += line;
            out += '\n';
        }
    }

private:
    std::vector<bool> m_right;
    std::vector<std::vector<std::string>> m_rows;
};

std::string human_time(storage::TimePoint time, bool millis) {
    std::string text = storage::format_time(time); // 2026-11-22T04:11:47.123Z
    text[10] = ' ';
    if (!millis) {
        text = text.substr(0, 19);
    }
    return text;
}

std::optional<double> run_duration_s(const storage::RunRow& run) {
    if (!run.finished_at) {
        return std::nullopt;
    }
    return std::chrono::duration<double>(*run.finished_at - run.info.started_at).count();
}

std::string item_word(const StatsReport& report) {
    return report.summary.source == Summary::Source::pages ? "pages" : "downloads";
}

// "0.42 ms", "12.3 ms", "1.25 s".
std::string format_ms(double ms) {
    if (ms < 10) {
        return fmt::format("{:.2f} ms", ms);
    }
    if (ms < 1000) {
        return fmt::format("{:.1f} ms", ms);
    }
    return fmt::format("{:.2f} s", ms / 1000);
}

std::string seconds_or_dash(std::optional<double> seconds) {
    return seconds ? format_seconds(*seconds) : "-";
}

double per_second(std::uint64_t count, double seconds) {
    return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

// The seen-set's RAM per key, as the crawl's latest run recorded them; nullopt when not recorded.
std::optional<double> ram_per_seen_url(const Summary& s) {
    if (!s.seen_set_bytes || !s.seen_set_urls || *s.seen_set_urls == 0) {
        return std::nullopt;
    }
    return static_cast<double>(*s.seen_set_bytes) / static_cast<double>(*s.seen_set_urls);
}

std::string seeds_text(const std::string& seeds_json) {
    auto seeds = nlohmann::json::parse(seeds_json, nullptr, false);
    if (!seeds.is_array()) {
        return seeds_json;
    }
    std::string text;
    for (const auto& seed : seeds) {
        if (!text.empty()) {
            text += ' ';
        }
        text += seed.is_string() ? seed.get<std::string>() : seed.dump();
    }
    return text;
}

void runs_table(const StatsReport& report, std::string& out) {
    TextTable table({"ID", "COMMAND", "STARTED (UTC)", "DURATION", "STRATEGY", "CONC", "STATUS",
                     "OK", "NOT FOUND", "ERRORS", "REQUESTS"},
                    {true, false, false, true, false, true, false, true, true, true, true});
    for (const auto& run : report.runs) {
        table.add({std::to_string(run.id), run.info.command, human_time(run.info.started_at, false),
                   seconds_or_dash(run_duration_s(run)), run.info.strategy,
                   std::to_string(run.info.concurrency),
                   std::string(storage::to_string(run.status)), std::to_string(run.totals.ok),
                   std::to_string(run.totals.not_found), std::to_string(run.totals.errors),
                   std::to_string(run.totals.requests)});
    }
    out += "runs\n";
    table.render(out);
}

void header(const StatsReport& report, std::string& out) {
    const Summary& s = report.summary;
    if (report.crawl) {
        const auto& crawl = *report.crawl;
        // The crawl writes stop reasons such as "finished: frontier exhausted".
        const std::string status(storage::to_string(crawl.status));
        out += fmt::format("crawl {}: {}", crawl.id,
                           !crawl.stop_reason ? status
                           : crawl.stop_reason->starts_with(status)
                               ? *crawl.stop_reason
                               : status + " (" + *crawl.stop_reason + ")");
        if (report.one_run_of_crawl && !report.runs.empty()) {
            out += fmt::format(", run {} only", report.runs.front().id);
        }
        out += '\n';
        out += fmt::format("  seeds  {}\n", seeds_text(crawl.seeds));
    } else if (!report.runs.empty()) {
        const auto& run = report.runs.front();
        out += fmt::format("{} run {}: {}\n", run.info.command, run.id,
                           storage::to_string(run.status));
    }
    out += fmt::format("  db     {}\n\n", report.db);
    runs_table(report, out);
    out += '\n';

    std::vector<std::pair<std::string, std::string>> lines;
    if (s.source == Summary::Source::pages) {
        lines.emplace_back("pages", fmt::format("{} ({} pages, {} requisites), {} fetched", s.items,
                                                s.pages, s.requisites, s.fetched));
        lines.emplace_back("robots.txt",
                           fmt::format("{} fetches, {} failed", s.robots_fetches, s.robots_failed));
        if (s.external_checked > 0) {
            lines.emplace_back("external", fmt::format("{} links checked, {} broken",
                                                       s.external_checked, s.external_broken));
        }
    } else {
        lines.emplace_back("downloads", fmt::format("{}, {} fetched", s.items, s.fetched));
    }
    std::string outcomes;
    if (s.source == Summary::Source::pages) {
        outcomes = fmt::format("ok {}, redirects {}, not found {}, errors {}, disallowed by "
                               "robots.txt {}",
                               s.ok, s.redirects, s.not_found, s.errors, s.disallowed);
    } else {
        outcomes = format_download_outcomes(s.ok, s.unchanged, s.skipped, s.not_found, s.errors);
    }
    lines.emplace_back("outcomes", outcomes);
    if (s.source == Summary::Source::pages) {
        lines.emplace_back("skipped", fmt::format("{} URLs seen and not fetched", s.skipped));
    }
    lines.emplace_back("requests", fmt::format("{} (retries and robots.txt included)", s.requests));
    lines.emplace_back("bytes", format_bytes(static_cast<double>(s.bytes)));
    if (s.first_fetch && s.last_fetch) {
        std::string rates =
            s.source == Summary::Source::pages
                ? fmt::format("{:.1f} pages/s, {:.1f} requests/s",
                              per_second(s.fetched, s.active_s), per_second(s.requests, s.active_s))
                : fmt::format("{:.1f} requests/s", per_second(s.requests, s.active_s));
        lines.emplace_back("duration",
                           fmt::format("{} of fetching, {}", format_seconds(s.active_s), rates));
        lines.emplace_back("fetches", fmt::format("{} to {}", human_time(*s.first_fetch, true),
                                                  human_time(*s.last_fetch, true)));
    } else {
        lines.emplace_back("duration", "- (nothing fetched)");
    }
    if (s.seen_urls) { // a whole crawl
        lines.emplace_back("frontier", fmt::format("{} URLs seen, {} still queued", *s.seen_urls,
                                                   s.queued_urls.value_or(0)));
        const auto ram = ram_per_seen_url(s);
        lines.emplace_back("RAM/seen URL",
                           ram ? fmt::format("{:.1f} B (seen-set {} for {} URLs when the last "
                                             "run ended)",
                                             *ram, format_bytes(double(*s.seen_set_bytes)),
                                             *s.seen_set_urls)
                               : "- (not recorded)");
    }
    out += "summary\n";
    std::size_t width = 0;
    for (const auto& [label, value] : lines) {
        width = std::max(width, label.size());
    }
    for (const auto& [label, value] : lines) {
        out += fmt::format("  {:<{}}  {}\n", label, width, value);
    }
}

void statuses(const Summary& s, std::string& out) {
    out += "\nstatuses\n  ";
    for (std::size_t c = 1; c < s.status_classes.size(); ++c) {
        out += fmt::format("{}xx {}   ", c, s.status_classes[c]);
    }
    out += fmt::format("no response {}\n", s.status_classes[0]);
    if (!s.top_statuses.empty()) {
        TextTable table({"CODE", "COUNT"}, {true, true});
        for (const auto& status : s.top_statuses) {
            table.add({std::to_string(status.status), std::to_string(status.count)});
        }
        table.render(out);
    }
}

void errors(const Summary& s, std::string& out) {
    if (s.errors_by_kind.empty()) {
        return;
    }
    out += "\nerrors by kind\n";
    TextTable kinds({"KIND", "COUNT"}, {false, true});
    for (const auto& kind : s.errors_by_kind) {
        kinds.add({kind.kind, std::to_string(kind.count)});
    }
    kinds.render(out);
    out += fmt::format("\ntop reasons ({} of {})\n", s.top_reasons.size(), s.reason_count);
    TextTable reasons({"COUNT", "KIND", "REASON"}, {true, false, false});
    for (const auto& reason : s.top_reasons) {
        reasons.add({std::to_string(reason.count), reason.kind, reason.reason});
    }
    reasons.render(out);
}

void skips(const Summary& s, std::string& out) {
    if (s.skipped_by_rule.empty()) {
        return;
    }
    out += "\nskipped by kind\n";
    TextTable table({"KIND", "RULE", "COUNT"}, {false, false, true});
    for (const auto& rule : s.skipped_by_rule) {
        table.add({rule.kind, rule.reason, std::to_string(rule.count)});
    }
    table.render(out);
}

void latency(const Summary& s, std::string& out) {
    out += "\nlatency\n";
    TextTable table({"", "COUNT", "P50", "P90", "P99", "MAX"},
                    {false, true, true, true, true, true});
    const auto row = [&](const std::string& name, const std::optional<storage::Percentiles>& p) {
        if (!p || p->count == 0) {
            table.add({name, p ? "0" : "-", "-", "-", "-", "-"});
            return;
        }
        table.add({name, std::to_string(p->count), format_ms(p->p50), format_ms(p->p90),
                   format_ms(p->p99), format_ms(p->max)});
    };
    row("elapsed", s.elapsed_ms);
    row("ttfb", s.ttfb_ms);
    table.render(out);
}

void hosts(const StatsReport& report, std::string& out) {
    const Summary& s = report.summary;
    if (s.hosts.empty()) {
        return;
    }
    out +=
        fmt::format("\nhosts ({} of {}, by {})\n", s.hosts.size(), s.host_count, item_word(report));
    TextTable table({"HOST", util::to_upper(item_word(report)), "FAILED", "BYTES", "MEDIAN"},
                    {false, true, true, true, true});
    for (const auto& host : s.hosts) {
        table.add({host.host, std::to_string(host.items), std::to_string(host.failed),
                   format_bytes(static_cast<double>(host.bytes)),
                   host.median_ms ? format_ms(*host.median_ms) : "-"});
    }
    table.render(out);
}

void depths(const Summary& s, std::string& out, int last_bucket) {
    if (s.depths.empty()) {
        return;
    }
    out += "\ndepth\n";
    std::uint64_t most = 0;
    for (const auto& d : s.depths) {
        most = std::max(most, d.count);
    }
    TextTable table({"DEPTH", "PAGES", ""}, {true, true, false});
    for (const auto& d : s.depths) {
        const auto bar = static_cast<std::size_t>(
            most > 0 ? (static_cast<double>(d.count) * 40 + static_cast<double>(most) - 1) /
                           static_cast<double>(most)
                     : 0);
        table.add({d.depth >= last_bucket ? fmt::format(">={}", d.depth) : std::to_string(d.depth),
                   std::to_string(d.count), std::string(bar, '#')});
    }
    table.render(out);
}

nlohmann::ordered_json percentiles_json(const std::optional<storage::Percentiles>& p) {
    if (!p) {
        return nullptr;
    }
    nlohmann::ordered_json j = {{"count", p->count}};
    if (p->count == 0) {
        j["p50"] = j["p90"] = j["p99"] = j["max"] = nullptr;
    } else {
        j["p50"] = p->p50;
        j["p90"] = p->p90;
        j["p99"] = p->p99;
        j["max"] = p->max;
    }
    return j;
}

nlohmann::ordered_json optional_time(const std::optional<storage::TimePoint>& time) {
    return time ? nlohmann::ordered_json(storage::format_time(*time)) : nullptr;
}

} // namespace

std::string format_stats_text(const StatsReport& report) {
    std::string out;
    header(report, out);
    statuses(report.summary, out);
    errors(report.summary, out);
    skips(report.summary, out);
    latency(report.summary, out);
    hosts(report, out);
    depths(report.summary, out, storage::SummaryOptions{}.depth_buckets - 1);
    return out;
}

nlohmann::ordered_json run_json(const storage::RunRow& run) {
    const auto duration = run_duration_s(run);
    return {{"id", run.id},
            {"command", run.info.command},
            {"arguments", run.info.arguments},
            {"strategy", run.info.strategy},
            {"concurrency", run.info.concurrency},
            {"started_at", storage::format_time(run.info.started_at)},
            {"finished_at", optional_time(run.finished_at)},
            {"duration_s", duration ? nlohmann::ordered_json(*duration) : nullptr},
            {"status", storage::to_string(run.status)},
            {"ok", run.totals.ok},
            {"not_found", run.totals.not_found},
            {"errors", run.totals.errors},
            {"bytes", run.totals.bytes},
            {"requests", run.totals.requests}};
}

nlohmann::ordered_json stats_json(const StatsReport& report) {
    const Summary& s = report.summary;
    const bool pages = s.source == Summary::Source::pages;
    nlohmann::ordered_json j;
    j["db"] = report.db;
    j["source"] = pages ? "pages" : "downloads";
    if (report.crawl) {
        const auto& crawl = *report.crawl;
        auto seeds = nlohmann::ordered_json::parse(crawl.seeds, nullptr, false);
        auto options = nlohmann::ordered_json::parse(crawl.options, nullptr, false);
        j["crawl"] = {
            {"id", crawl.id},
            {"status", storage::to_string(crawl.status)},
            {"stop_reason",
             crawl.stop_reason ? nlohmann::ordered_json(*crawl.stop_reason) : nullptr},
            {"seeds", seeds.is_discarded() ? nlohmann::ordered_json(crawl.seeds) : seeds},
            {"options", options.is_discarded() ? nlohmann::ordered_json(crawl.options) : options}};
        j["scope"] = report.one_run_of_crawl ? "run" : "crawl";
    } else {
        j["crawl"] = nullptr;
        j["scope"] = "run";
    }
    j["runs"] = nlohmann::ordered_json::array();
    for (const auto& run : report.runs) {
        j["runs"].push_back(run_json(run));
    }
    j["items"] = s.items;
    j["fetched"] = s.fetched;
    if (pages) {
        j["pages"] = s.pages;
        j["requisites"] = s.requisites;
        j["robots_fetches"] = s.robots_fetches;
        j["robots_failed"] = s.robots_failed;
        j["external_checked"] = s.external_checked;
        j["external_broken"] = s.external_broken;
    }
    j["ok"] = s.ok;
    if (!pages) {
        j["unchanged"] = s.unchanged;
        j["skipped"] = s.skipped;
    }
    j["redirects"] = s.redirects;
    j["not_found"] = s.not_found;
    j["errors"] = s.errors;
    j["disallowed"] = s.disallowed;
    if (pages) {
        j["skipped"] = s.skipped;
        j["skipped_by_kind"] = nlohmann::ordered_json::object();
        for (const auto& kind : s.skipped_by_kind) {
            j["skipped_by_kind"][kind.kind] = kind.count;
        }
        j["skipped_by_rule"] = nlohmann::ordered_json::array();
        for (const auto& rule : s.skipped_by_rule) {
            j["skipped_by_rule"].push_back(
                {{"kind", rule.kind}, {"rule", rule.reason}, {"count", rule.count}});
        }
    }
    j["requests"] = s.requests;
    j["bytes"] = s.bytes;
    j["statuses"] = {{"1xx", s.status_classes[1]}, {"2xx", s.status_classes[2]},
                     {"3xx", s.status_classes[3]}, {"4xx", s.status_classes[4]},
                     {"5xx", s.status_classes[5]}, {"none", s.status_classes[0]}};
    j["top_statuses"] = nlohmann::ordered_json::array();
    for (const auto& status : s.top_statuses) {
        j["top_statuses"].push_back({{"status", status.status}, {"count", status.count}});
    }
    j["errors_by_kind"] = nlohmann::ordered_json::object();
    for (const auto& kind : s.errors_by_kind) {
        j["errors_by_kind"][kind.kind] = kind.count;
    }
    j["reason_count"] = s.reason_count;
    j["top_reasons"] = nlohmann::ordered_json::array();
    for (const auto& reason : s.top_reasons) {
        j["top_reasons"].push_back(
            {{"reason", reason.reason}, {"kind", reason.kind}, {"count", reason.count}});
    }
    j["latency_ms"] = {{"elapsed", percentiles_json(s.elapsed_ms)},
                       {"ttfb", percentiles_json(s.ttfb_ms)}};
    j["first_fetch"] = optional_time(s.first_fetch);
    j["last_fetch"] = optional_time(s.last_fetch);
    j["duration_s"] = s.active_s;
    j["fetched_per_s"] = per_second(s.fetched, s.active_s);
    j["requests_per_s"] = per_second(s.requests, s.active_s);
    j["host_count"] = s.host_count;
    j["hosts"] = nlohmann::ordered_json::array();
    for (const auto& host : s.hosts) {
        j["hosts"].push_back(
            {{"host", host.host},
             {"items", host.items},
             {"fetched", host.fetched},
             {"failed", host.failed},
             {"bytes", host.bytes},
             {"median_ms", host.median_ms ? nlohmann::ordered_json(*host.median_ms) : nullptr}});
    }
    if (pages) {
        j["depths"] = nlohmann::ordered_json::array();
        for (const auto& d : s.depths) {
            j["depths"].push_back({{"depth", d.depth}, {"count", d.count}});
        }
        const auto optional_count = [](const std::optional<std::uint64_t>& n) {
            return n ? nlohmann::ordered_json(*n) : nullptr;
        };
        j["seen_urls"] = optional_count(s.seen_urls);
        j["queued_urls"] = optional_count(s.queued_urls);
        j["seen_set_urls"] = optional_count(s.seen_set_urls);
        j["seen_set_bytes"] = optional_count(s.seen_set_bytes);
        const auto ram = ram_per_seen_url(s);
        j["ram_bytes_per_seen_url"] = ram ? nlohmann::ordered_json(*ram) : nullptr;
    }
    return j;
}

std::string format_run_list_header() {
    return fmt::format("{:>6}  {:<9} {:<10} {:>5}  {:<19}  {:>9}  {:<11} {:>8} {:>9} {:>8}\n", "ID",
                       "COMMAND", "STRATEGY", "CONC", "STARTED (UTC)", "DURATION", "STATUS", "OK",
                       "NOT FOUND", "ERRORS");
}

std::string format_run_list_line(const storage::RunRow& run) {
    return fmt::format("{:>6}  {:<9} {:<10} {:>5}  {:<19}  {:>9}  {:<11} {:>8} {:>9} {:>8}\n",
                       run.id, run.info.command, run.info.strategy, run.info.concurrency,
                       human_time(run.info.started_at, false), seconds_or_dash(run_duration_s(run)),
                       storage::to_string(run.status), run.totals.ok, run.totals.not_found,
                       run.totals.errors);
}

std::string format_download_outcomes(std::uint64_t ok, std::uint64_t unchanged,
                                     std::uint64_t skipped, std::uint64_t not_found,
                                     std::uint64_t errors) {
    std::string kept;
    if (unchanged > 0 || skipped > 0) {
        kept = fmt::format(" ({} unchanged, {} skipped)", unchanged, skipped);
    }
    return fmt::format("ok {}{}, not found {}, errors {}", ok, kept, not_found, errors);
}

} // namespace flagcrawl::cli
