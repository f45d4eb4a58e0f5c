#include "report_html.hpp"

#include "links_report.hpp"
#include "markup.hpp"
#include "progress.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string_view>

namespace flagcrawl::cli {

namespace {

constexpr const char* k_ok_colour = "#59a14f";
constexpr const char* k_failed_colour = "#e15759";
constexpr const char* k_bar_colour = "#4e79a7";
constexpr int k_plot_height = 200; // px of a chart's plot area
constexpr int k_chart_left = 60;   // px left of the plot area (y labels)

constexpr std::string_view k_style = R"css(
body { font-family: DejaVu Sans, Arial, Helvetica, sans-serif; color: #222; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { padding: 0.2em 0.7em; text-align: left; border-bottom: 1px solid #eee;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 0.8em; background: #4e79a7; }
.bar.failed { background: #e15759; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6em; margin: 0.8em 0; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: 0.4em 0.8em; min-width: 7em; }
.card b { display: block; font-size: 1.3em; }
.card span { color: #555; font-size: 0.85em; }
.broken { margin: 0.6em 0; padding: 0.4em 0.6em; border-left: 3px solid #e15759;
          background: #fafafa; }
.broken .url { font-weight: bold; word-break: break-all; }
.broken .external { font-weight: normal; font-size: 0.8em; color: #555;
                    border: 1px solid #999; border-radius: 3px; padding: 0 0.3em; }
.broken ul { margin: 0.2em 0 0 0; padding-left: 1.4em; font-size: 0.9em; }
.broken li { word-break: break-all; }
.none { color: #555; font-style: italic; }
svg { display: block; margin: 0.5em 0; max-width: 100%; height: auto; }
)css";

std::string e(std::string_view text) {
    return escape_markup(text);
}

std::string count(std::uint64_t n) {
    return std::to_string(n);
}

std::string ms(double value) {
    return value < 10 ? fmt::format("{:.2f} ms", value) : fmt::format("{:.0f} ms", value);
}

// A round step giving about five ticks up to `max`.
double tick_step(double max) {
    if (!(max > 0)) {
        return 1;
    }
    const double raw = max / 5;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (raw <= m * power) {
            return std::max(1.0, m * power); // counts: whole ticks
        }
    }
    return std::max(1.0, 10 * power);
}

struct Series {
    std::string name;
    std::string colour;
};

// One bar of a chart: its label on the x axis (may be empty: not every bar is labelled) and
// its stacked values, one per series, bottom first.
struct Bar {
    std::string label;
    std::string tip; // the title shown on hover
    std::vector<double> values;
};

// A vertical bar chart as an SVG element: y axis with ticks, stacked bars, x labels, a legend
// when there is more than one series.
std::string bar_chart(const std::vector<Bar>& bars, const std::vector<Series>& series,
                      const std::string& x_title, const std::string& y_title) {
    const int n = static_cast<int>(bars.size());
    const int slot = std::clamp(900 / std::max(n, 1), 8, 60);
    const int width = k_chart_left + std::max(n * slot, 300) + 20;
    const int top = series.size() > 1 ? 30 : 12;
    const int bottom = top + k_plot_height;
    const int height = bottom + 50;
    double max = 0;
    for (const Bar& bar : bars) {
        double total = 0;
        for (double v : bar.values) {
            total += v;
        }
        max = std::max(max, total);
    }
    const double step = tick_step(max);
    const double top_value = std::max(step, std::ceil(max / step - 1e-9) * step);
    auto y_of = [&](double v) { return bottom - v / top_value * k_plot_height; };

    std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" )"
                                  R"(height="{1}" viewBox="0 0 {0} {1}" font-size="11" )"
                                  R"(role="img" aria-label="{2}">)"
                                  "\n",
                                  width, height, e(y_title + " by " + x_title));
    for (double v = 0; v <= top_value + step / 2; v += step) {
        svg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#e4e4e4"/>)"
                           R"(<text x="{}" y="{:.1f}" text-anchor="end">{}</text>)"
                           "\n",
                           k_chart_left, y_of(v), width - 20, y_of(v), k_chart_left - 5,
                           y_of(v) + 4, fmt::format("{:g}", v));
    }
    svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#333"/>)"
                       R"(<line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#333"/>)"
                       "\n",
                       k_chart_left, top, bottom, width - 20);
    for (int i = 0; i < n; ++i) {
        const Bar& bar = bars[static_cast<std::size_t>(i)];
        const int x = k_chart_left + i * slot + slot / 8;
        const int w = std::max(slot - slot / 4, 2);
        double base = 0;
        for (std::size_t s = 0; s < bar.values.size() && s < series.size(); ++s) {
            const double v = bar.values[s];
            if (v > 0) {
                svg += fmt::format(R"(<rect x="{}" y="{:.1f}" width="{}" height="{:.1f}" )"
                                   R"(fill="{}"><title>{}</title></rect>)"
                                   "\n",
                                   x, y_of(base + v), w, y_of(base) - y_of(base + v),
                                   series[s].colour, e(bar.tip));
            }
            base += v;
        }
        if (!bar.label.empty()) {
            svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)"
                               "\n",
                               x + w / 2, bottom + 14, e(bar.label));
        }
    }
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>)"
                       "\n",
                       k_chart_left + (width - 20 - k_chart_left) / 2, bottom + 36, e(x_title));
    svg += fmt::format(R"~(<text x="14" y="{0}" transform="rotate(-90 14 {0})" )~"
                       R"~(text-anchor="middle" font-size="12">{1}</text>)~"
                       "\n",
                       top + k_plot_height / 2, e(y_title));
    if (series.size() > 1) {
        int x = k_chart_left;
        for (const Series& s : series) {
            svg += fmt::format(R"(<rect x="{}" y="6" width="12" height="12" fill="{}"/>)"
                               R"(<text x="{}" y="16" font-size="12">{}</text>)"
                               "\n",
                               x, s.colour, x + 16, e(s.name));
            x += 24 + static_cast<int>(s.name.size()) * 7;
        }
    }
    svg += "</svg>\n";
    return svg;
}

// A table row's inline bar: `value` against `max`.
std::string inline_bar(std::uint64_t value, std::uint64_t max, bool failed = false) {
    const double percent = max > 0 ? 100.0 * double(value) / double(max) : 0;
    return fmt::format(R"(<span class="bar{}" style="width:{:.1f}%"></span>)",
                       failed ? " failed" : "", std::max(percent, value > 0 ? 0.5 : 0.0));
}

// A time on the timeline's axis, as precise as its buckets: "0.25 s", "12 s", "2m05s".
std::string time_label(double seconds, double bucket_s) {
    if (bucket_s < 1) {
        return fmt::format("{:.{}f} s", seconds, bucket_s < 0.01 ? 3 : 2);
    }
    return seconds < 60 ? fmt::format("{:.0f} s", seconds) : format_duration(seconds);
}

struct TableBar {
    std::string label;
    std::uint64_t count = 0;
    bool failed = false; // drawn in the failure colour
};

// A table of counts, each with an inline bar against the largest.
std::string bar_table(std::string_view heading, const std::vector<TableBar>& rows) {
    std::uint64_t max = 0;
    for (const TableBar& row : rows) {
        max = std::max(max, row.count);
    }
    std::string html =
        fmt::format(R"(<table><tr><th>{}</th><th class="n">rows</th><th></th></tr>)", heading);
    for (const TableBar& row : rows) {
        html += fmt::format(R"(<tr><td>{}</td><td class="n">{}</td><td style="width:50%">{})"
                            "</td></tr>",
                            e(row.label), row.count, inline_bar(row.count, max, row.failed));
    }
    return html + "</table>\n";
}

std::string card(const std::string& value, const std::string& label) {
    return fmt::format(R"(<div class="card"><b>{}</b><span>{}</span></div>)", e(value), e(label));
}

std::string seeds_text(const std::string& seeds) {
    const auto json = nlohmann::json::parse(seeds, nullptr, false);
    if (!json.is_array()) {
        return seeds;
    }
    std::string text;
    for (const auto& seed : json) {
        if (seed.is_string()) {
            text += (text.empty() ? "" : ", ") + seed.get<std::string>();
        }
    }
    return text;
}

void summary_section(std::string& html, const CrawlReport& c) {
    const storage::Summary& s = c.summary;
    html += R"(<section id="summary"><h2>Summary</h2>)";
    html += "<table>";
    auto row = [&](std::string_view name, const std::string& value) {
        html += fmt::format("<tr><th>{}</th><td>{}</td></tr>", name, e(value));
    };
    row("crawl", std::to_string(c.crawl.id));
    row("seeds", seeds_text(c.crawl.seeds));
    // The stop reason starts with the status ("stopped: --max-pages 200 reached").
    row("status", c.crawl.stop_reason && !c.crawl.stop_reason->empty()
                      ? *c.crawl.stop_reason
                      : std::string(storage::to_string(c.crawl.status)));
    std::string runs;
    for (const storage::RunRow& run : c.runs) {
        runs +=
            fmt::format("{}{} ({} c={}, {}, {})", runs.empty() ? "" : "; ", run.id,
                        run.info.strategy, run.info.concurrency,
                        storage::format_time(run.info.started_at), storage::to_string(run.status));
    }
    row("runs", runs);
    if (s.first_fetch && s.last_fetch) {
        row("fetching",
            fmt::format("{} to {} ({} active)", storage::format_time(*s.first_fetch),
                        storage::format_time(*s.last_fetch), format_seconds(s.active_s)));
    }
    html += "</table>\n<div class=\"cards\">";
    html += card(count(s.items), "URLs recorded");
    html += card(count(s.pages), "pages");
    html += card(count(s.requisites), "requisites");
    html += card(count(s.ok), "ok");
    html += card(count(s.redirects), "redirects");
    html += card(count(s.not_found), "not found");
    html += card(count(s.errors), "errors");
    html += card(count(c.broken_totals.links), "broken links");
    if (s.external_checked > 0) {
        html += card(count(s.external_checked), "external links checked");
        html += card(count(s.external_broken), "external broken");
    }
    html += card(format_bytes(double(s.bytes)), "received");
    html += card(count(s.requests), "requests");
    html += card(count(s.host_count), "hosts");
    if (s.active_s > 0) {
        html += card(fmt::format("{:.1f}", double(s.fetched) / s.active_s), "fetches per second");
    }
    html += "</div></section>\n";
}

void timeline_section(std::string& html, const CrawlReport& c) {
    html += R"(<section id="timeline"><h2>Fetches over time</h2>)";
    const storage::Timeline& t = c.timeline;
    if (c.summary.fetched == 0 || t.buckets.empty()) {
        html += R"(<p class="none">nothing was fetched</p></section>)";
        return;
    }
    html += fmt::format(R"(<p class="meta">fetches by when they ended, {} per bar; failures (not )"
                        R"(found included) in red</p>)",
                        time_label(t.bucket_s, t.bucket_s));
    std::vector<Bar> bars;
    const std::size_t every = std::max<std::size_t>(1, t.buckets.size() / 6);
    for (std::size_t i = 0; i < t.buckets.size(); ++i) {
        const auto& b = t.buckets[i];
        const double from_s = double(i) * t.bucket_s;
        bars.push_back({i % every == 0 ? time_label(from_s, t.bucket_s) : "",
                        fmt::format("from {}: {} fetched, {} failed", format_seconds(from_s),
                                    b.fetched, b.failed),
                        {double(b.fetched - b.failed), double(b.failed)}});
    }
    html += bar_chart(bars, {{"ok", k_ok_colour}, {"failed", k_failed_colour}},
                      "time since the first fetch", "fetches");
    html += "</section>\n";
}

void outcomes_section(std::string& html, const CrawlReport& c) {
    const storage::Summary& s = c.summary;
    html += R"(<section id="outcomes"><h2>Statuses and error kinds</h2>)";
    std::vector<TableBar> classes;
    static constexpr std::array<const char*, 6> k_classes = {"no response", "1xx", "2xx",
                                                             "3xx",         "4xx", "5xx"};
    for (std::size_t i = 0; i < k_classes.size(); ++i) {
        classes.push_back({k_classes[i], s.status_classes[i], i == 0 || i >= 4});
    }
    html += bar_table("status class", classes);
    if (!s.top_statuses.empty()) {
        std::vector<TableBar> statuses;
        for (const auto& st : s.top_statuses) {
            statuses.push_back({std::to_string(st.status), st.count, st.status >= 400});
        }
        html += bar_table("status", statuses);
    }
    html += R"(<h3>Failures by kind</h3>)";
    if (s.errors_by_kind.empty()) {
        html += R"(<p class="none">no failures</p>)";
    } else {
        std::vector<TableBar> kinds;
        for (const auto& k : s.errors_by_kind) {
            kinds.push_back({k.kind, k.count, true});
        }
        html += bar_table("kind", kinds);
    }
    if (!s.top_reasons.empty()) {
        html += R"(<table><tr><th>reason</th><th>kind</th><th class="n">rows</th></tr>)";
        for (const auto& r : s.top_reasons) {
            html += fmt::format(R"(<tr><td>{}</td><td>{}</td><td class="n">{}</td></tr>)",
                                e(r.reason), e(r.kind), r.count);
        }
        html += "</table>\n";
    }
    html += "</section>\n";
}

void latency_section(std::string& html, const CrawlReport& c) {
    const storage::Summary& s = c.summary;
    html += R"(<section id="latency"><h2>Latency</h2>)";
    html += R"(<table><tr><th></th><th class="n">fetches</th><th class="n">p50</th>)"
            R"(<th class="n">p90</th><th class="n">p99</th><th class="n">max</th></tr>)";
    auto row = [&](std::string_view name, const storage::Percentiles& p) {
        html +=
            fmt::format(R"(<tr><th>{}</th><td class="n">{}</td><td class="n">{}</td>)"
                        R"(<td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>)",
                        name, p.count, ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max));
    };
    row("whole fetch", s.elapsed_ms);
    if (s.ttfb_ms) {
        row("time to first byte", *s.ttfb_ms);
    }
    html += "</table>\n";
    std::vector<Bar> bars;
    double previous = 0;
    for (const auto& b : c.latency) {
        const std::string label =
            b.below_ms > 0 ? fmt::format("<{:g}", b.below_ms) : fmt::format("{:g}+", previous);
        bars.push_back({label,
                        fmt::format("{} ms: {} fetches",
                                    b.below_ms > 0 ? fmt::format("{:g}-{:g}", previous, b.below_ms)
                                                   : fmt::format("{:g} and more", previous),
                                    b.count),
                        {double(b.count)}});
        previous = b.below_ms;
    }
    html += bar_chart(bars, {{"fetches", k_bar_colour}}, "whole fetch time (ms)", "fetches");
    html += "</section>\n";
}

void hosts_section(std::string& html, const CrawlReport& c) {
    const storage::Summary& s = c.summary;
    html += R"(<section id="hosts"><h2>Hosts</h2>)";
    html += fmt::format(
        R"(<p class="meta">{} host{}{}</p>)", s.host_count, s.host_count == 1 ? "" : "s",
        s.hosts.size() < s.host_count ? fmt::format(", the {} with the most rows", s.hosts.size())
                                      : "");
    html += R"(<table><tr><th>host</th><th class="n">rows</th><th class="n">fetched</th>)"
            R"(<th class="n">failed</th><th class="n">received</th><th class="n">median</th>)"
            "</tr>";
    for (const auto& h : s.hosts) {
        html += fmt::format(R"(<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td>)"
                            R"(<td class="n">{}</td><td class="n">{}</td><td class="n">{}</td>)"
                            "</tr>",
                            e(h.host), h.items, h.fetched, h.failed, format_bytes(double(h.bytes)),
                            h.median_ms ? ms(*h.median_ms) : "-");
    }
    html += "</table></section>\n";
}

void depths_section(std::string& html, const CrawlReport& c) {
    html += R"(<section id="depths"><h2>Depth</h2>)";
    if (c.summary.depths.empty()) {
        html += R"(<p class="none">no pages</p></section>)";
        return;
    }
    std::vector<Bar> bars;
    for (const auto& d : c.summary.depths) {
        bars.push_back({std::to_string(d.depth),
                        fmt::format("depth {}: {} rows", d.depth, d.count),
                        {double(d.count)}});
    }
    html += bar_chart(bars, {{"rows", k_bar_colour}}, "link hops from a seed", "rows");
    html += "</section>\n";
}

void broken_section(std::string& html, const CrawlReport& c) {
    html += R"(<section id="broken"><h2>Broken links</h2>)";
    if (c.broken_totals.links == 0) {
        html += R"(<p class="none">no broken links</p></section>)";
        return;
    }
    html += fmt::format(R"(<p class="meta">{} broken link{}, {} referring page{}{}</p>)",
                        c.broken_totals.links, c.broken_totals.links == 1 ? "" : "s",
                        c.broken_totals.referrals, c.broken_totals.referrals == 1 ? "" : "s",
                        c.broken.size() < c.broken_totals.links
                            ? fmt::format(" (the first {} shown: `flagcrawl links --broken` "
                                          "lists them all)",
                                          c.broken.size())
                            : "");
    for (const storage::BrokenLink& link : c.broken) {
        html += R"(<div class="broken"><div class="url">)" + e(link.url) +
                (link.external ? R"( <span class="external">external</span>)" : "") + "</div>";
        html += "<div>" + e(describe_failure(link)) + " [" + e(link.error_kind) + "]</div>";
        if (link.referrer_count == 0) {
            html += fmt::format(R"(<div class="none">{}</div>)",
                                link.seed ? "a seed: no page links it"
                                          : "no page recorded a link to it");
        } else {
            std::string kinds;
            for (const auto& k : link.link_kinds) {
                kinds += (kinds.empty() ? "" : ", ") + k;
            }
            html += fmt::format("<div>linked as {} from {} page{}:</div><ul>", e(kinds),
                                link.referrer_count, link.referrer_count == 1 ? "" : "s");
            for (const auto& referrer : link.referrers) {
                html += "<li>" + e(referrer) + "</li>";
            }
            if (link.referrers.size() < link.referrer_count) {
                html += fmt::format("<li>... and {} more</li>",
                                    link.referrer_count - link.referrers.size());
            }
            html += "</ul>";
        }
        html += "</div>\n";
    }
    html += "</section>\n";
}

void bench_section(std::string& html, const HtmlReport& r) {
    html += R"(<section id="bench"><h2>Strategies compared (bench runs)</h2>)";
    if (r.bench_svg.empty()) {
        html += R"(<p class="none">no bench runs in this file (run <code>flagcrawl bench )"
                R"(download ... --db FILE</code> to compare the strategies)</p>)";
    } else {
        html += "<p class=\"meta\">" + e(r.bench_note) + "</p>" + r.bench_svg;
    }
    html += "</section>\n";
}

} // namespace

std::string render_report_html(const HtmlReport& r) {
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    // No request may leave the file: everything is inline, and the page says so to the browser.
    html += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">";
    html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
    html += "<title>" +
            e(r.crawl ? fmt::format("flagcrawl report: crawl {}", r.crawl->crawl.id)
                      : std::string("flagcrawl report")) +
            "</title><style>" + std::string(k_style) + "</style></head><body>\n";
    html +=
        "<h1>" +
        e(r.crawl ? fmt::format("Crawl {}: {}", r.crawl->crawl.id, seeds_text(r.crawl->crawl.seeds))
                  : std::string("flagcrawl runs")) +
        "</h1>";
    html += fmt::format(R"(<p class="meta">from {}, written {} by flagcrawl report</p>)", e(r.db),
                        e(r.generated_at));
    if (r.crawl) {
        summary_section(html, *r.crawl);
        timeline_section(html, *r.crawl);
        outcomes_section(html, *r.crawl);
        latency_section(html, *r.crawl);
        hosts_section(html, *r.crawl);
        depths_section(html, *r.crawl);
        broken_section(html, *r.crawl);
    } else {
        html += R"(<p class="none">no crawl recorded in this file</p>)";
    }
    bench_section(html, r);
    html += "</body></html>\n";
    return html;
}

} // namespace flagcrawl::cli
