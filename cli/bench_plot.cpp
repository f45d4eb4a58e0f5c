#include "bench_plot.hpp"
#include "markup.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace flagcrawl::cli {
namespace {

constexpr int k_bar_slot = 64;      // px per bar, at least
constexpr int k_max_bar_slot = 150; // px per bar, at most
constexpr int k_min_width = 760;    // px of the whole chart, at least
constexpr int k_group_gap = 28;     // px between concurrency groups
constexpr int k_left = 90;          // px left of the plot area (y labels)
constexpr int k_right = 30;
constexpr int k_panel_height = 250; // plot area of one panel
constexpr const char* k_font = "DejaVu Sans, Arial, Helvetica, sans-serif";

std::string colour(const std::string& strategy) {
    if (strategy == "sequential") {
        return "#4e79a7";
    }
    if (strategy == "threaded") {
        return "#f28e2b";
    }
    return "#59a14f";
}

// A round step giving about five ticks up to `max` (1, 2, 2.5 or 5 times a power of ten).
double tick_step(double max) {
    if (!(max > 0)) {
        return 1;
    }
    const double raw = max / 5;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (raw <= m * power) {
            return m * power;
        }
    }
    return 10 * power;
}

std::string number(double value) {
    if (value >= 100) {
        return fmt::format("{:.0f}", value);
    }
    if (value >= 10) {
        return fmt::format("{:.1f}", value);
    }
    if (value >= 1) {
        return fmt::format("{:.2f}", value);
    }
    return fmt::format("{:.3f}", value);
}

// As many decimals as the step needs (0.25 -> 2), so that tick labels are exact.
std::string tick_label(double value, double step) {
    int decimals = 0;
    while (decimals < 4 && std::abs(std::round(step * std::pow(10.0, decimals)) -
                                    step * std::pow(10.0, decimals)) > 1e-6) {
        ++decimals;
    }
    return fmt::format("{:.{}f}", value, decimals);
}

struct Layout {
    std::vector<int> bar_x; // left edge of each bar
    int width = 0;
    int bar_width = 0;
};

Layout layout(const std::vector<BenchRow>& rows) {
    // Bars share at least k_min_width; a long sweep makes the chart wider instead.
    int groups = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        groups += i > 0 && rows[i].concurrency != rows[i - 1].concurrency;
    }
    const int available = k_min_width - k_left - k_right - 32 - groups * k_group_gap;
    const int slot =
        std::clamp(rows.empty() ? k_bar_slot : available / static_cast<int>(rows.size()),
                   k_bar_slot, k_max_bar_slot);
    Layout l;
    l.bar_width = std::min(slot - 18, 90);
    int x = k_left + 16;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i > 0 && rows[i].concurrency != rows[i - 1].concurrency) {
            x += k_group_gap;
        }
        l.bar_x.push_back(x + (slot - l.bar_width) / 2);
        x += slot;
    }
    l.width = std::max(k_min_width, x + 16 + k_right);
    // Few bars: centre them in the plot area.
    const int spare = l.width - k_right - 16 - x;
    for (int& bar : l.bar_x) {
        bar += spare / 2;
    }
    return l;
}

// One panel: axes, ticks, grid, bars and their values; `value(row)` is the bar's height,
// `ideal(row)` (a negative number: none) a dashed mark across it, `caption(row)` (may be empty)
// a bold line above the value.
void panel(std::string& svg, const Layout& l, int top, const std::string& y_title,
           const std::vector<BenchRow>& rows, const std::function<double(const BenchRow&)>& value,
           const std::function<double(const BenchRow&)>& ideal,
           const std::function<std::string(const BenchRow&)>& caption) {
    double max = 0;
    for (const BenchRow& row : rows) {
        max = std::max({max, value(row), ideal(row)});
    }
    const double step = tick_step(max);
    const double top_value = std::max(step, std::ceil(max / step - 1e-9) * step);
    const int bottom = top + k_panel_height;
    const int right = l.width - k_right;
    auto y_of = [&](double v) { return bottom - v / top_value * k_panel_height; };

    for (double v = 0; v <= top_value + step / 2; v += step) {
        const double y = y_of(v);
        svg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#dddddd"/>)"
                           "\n",
                           k_left, y, right, y);
        svg += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end" font-size="12">{}</text>)"
                           "\n",
                           k_left - 6, y + 4, tick_label(v, step));
    }
    svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#333333"/>)"
                       "\n",
                       k_left, top, bottom);
    svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#333333"/>)"
                       "\n",
                       k_left, bottom, right);
    const int mid = top + k_panel_height / 2;
    svg += fmt::format(R"~(<text x="24" y="{0}" transform="rotate(-90 24 {0})" )~"
                       R"~(text-anchor="middle" font-size="14">{1}</text>)~"
                       "\n",
                       mid, escape_markup(y_title));

    for (std::size_t i = 0; i < rows.size(); ++i) {
        const BenchRow& row = rows[i];
        const double v = value(row);
        const double y = y_of(v);
        const int x = l.bar_x[i];
        svg += fmt::format(R"(<rect x="{}" y="{:.1f}" width="{}" height="{:.1f}" fill="{}">)"
                           R"(<title>{} c={}: {}</title></rect>)"
                           "\n",
                           x, y, l.bar_width, bottom - y, colour(row.strategy),
                           escape_markup(row.strategy), row.concurrency, number(v));
        svg +=
            fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="middle" font-size="12">{}</text>)"
                        "\n",
                        x + l.bar_width / 2, y - 5, number(v));
        const std::string note = caption(row);
        if (!note.empty()) {
            svg += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="middle" font-size="12" )"
                               R"(font-weight="bold">{}</text>)"
                               "\n",
                               x + l.bar_width / 2, y - 20, escape_markup(note));
        }
        const double mark = ideal(row);
        if (mark >= 0) {
            const double my = y_of(mark);
            svg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#000000" )"
                               R"(stroke-width="2" stroke-dasharray="5,3"/>)"
                               "\n",
                               x - 4, my, x + l.bar_width + 4, my);
        }
        svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>)"
                           "\n",
                           x + l.bar_width / 2, bottom + 16, escape_markup(row.strategy));
        svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="12">c={}</text>)"
                           "\n",
                           x + l.bar_width / 2, bottom + 31, row.concurrency);
    }
}

} // namespace

std::string render_bench_svg(const std::string& title, const BenchJob& job,
                             const std::vector<BenchRow>& rows) {
    const Layout l = layout(rows);
    const int legend_y = 70;
    const int panel1_top = 130;
    const int panel2_top = panel1_top + k_panel_height + 80;
    // A crawl: a third panel, where its CPU went.
    const int panel3_top = panel2_top + k_panel_height + 80;
    const bool cpu_panel = job.crawls() && job.cpu_measured;
    const int height = (cpu_panel ? panel3_top : panel2_top) + k_panel_height + 80;

    std::string svg =
        fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>)"
                    "\n"
                    R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" )"
                    R"(viewBox="0 0 {0} {1}" font-family="{2}" fill="#222222">)"
                    "\n"
                    R"(<rect width="{0}" height="{1}" fill="#ffffff"/>)"
                    "\n",
                    l.width, height, k_font);
    svg += fmt::format(R"(<text x="{}" y="28" font-size="18" font-weight="bold">{}</text>)"
                       "\n",
                       k_left, escape_markup(title));
    std::string subtitle =
        fmt::format("median of {} run{} per bar", job.repeat, job.repeat == 1 ? "" : "s");
    if (!job.delay.empty()) {
        subtitle += "; server delay " + job.delay + " per request";
    }
    svg += fmt::format(R"(<text x="{}" y="50" font-size="13" fill="#555555">{}</text>)"
                       "\n",
                       k_left, escape_markup(subtitle));

    // Legend: the strategies present, in order, then the ideal mark when there is one.
    int x = k_left;
    std::vector<std::string> seen;
    for (const BenchRow& row : rows) {
        if (std::find(seen.begin(), seen.end(), row.strategy) != seen.end()) {
            continue;
        }
        seen.push_back(row.strategy);
        svg += fmt::format(R"(<rect x="{}" y="{}" width="14" height="14" fill="{}"/>)"
                           R"(<text x="{}" y="{}" font-size="13">{}</text>)"
                           "\n",
                           x, legend_y - 11, colour(row.strategy), x + 20, legend_y,
                           escape_markup(row.strategy));
        x += 40 + static_cast<int>(row.strategy.size()) * 8;
    }
    const bool has_ideal = std::any_of(rows.begin(), rows.end(),
                                       [](const BenchRow& r) { return r.ideal_s.has_value(); });
    if (has_ideal) {
        svg += fmt::format(
            R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#000000" )"
            R"(stroke-width="2" stroke-dasharray="5,3"/>)"
            R"(<text x="{}" y="{}" font-size="13">ideal: ceil(requests / c) x delay</text>)"
            "\n",
            x, legend_y - 4, x + 22, legend_y - 4, x + 28, legend_y);
    }

    if (std::any_of(rows.begin(), rows.end(),
                    [](const BenchRow& r) { return r.speedup && r.strategy != "sequential"; })) {
        svg += fmt::format(R"(<text x="{}" y="{}" font-size="13" fill="#555555">bold: speedup )"
                           R"(over sequential</text>)"
                           "\n",
                           k_left, legend_y + 22);
    }
    panel(
        svg, l, panel1_top, "wall time (s)", rows,
        [](const BenchRow& r) { return r.median.wall_s; },
        [](const BenchRow& r) { return r.ideal_s.value_or(-1.0); },
        [](const BenchRow& r) {
            return r.speedup && r.strategy != "sequential"
                       ? fmt::format("{:.1f}\u00d7", *r.speedup) // "15.6×" sequential's time
                       : std::string();
        });
    const auto no_mark = [](const BenchRow&) { return -1.0; };
    const auto no_caption = [](const BenchRow&) { return std::string(); };
    if (job.crawls()) {
        panel(
            svg, l, panel2_top, "throughput (pages/s)", rows,
            [](const BenchRow& r) { return r.pages_per_s; }, no_mark, no_caption);
    } else {
        panel(
            svg, l, panel2_top, "throughput (requests/s)", rows,
            [](const BenchRow& r) { return r.requests_per_s; }, no_mark, no_caption);
    }
    if (cpu_panel) {
        panel(
            svg, l, panel3_top, "CPU per page (ms)", rows,
            [](const BenchRow& r) { return r.cpu_ms_per_page; }, no_mark,
            [](const BenchRow& r) { return fmt::format("parse {:.0f}%", r.parse_share * 100); });
    }
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="13" )"
                       R"(fill="#555555">strategy and concurrency c (requests in flight)</text>)"
                       "\n",
                       (k_left + l.width - k_right) / 2, height - 14);
    svg += "</svg>\n";
    return svg;
}

} // namespace flagcrawl::cli
