#include "progress.hpp"

#include "commands.hpp"

#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace flagcrawl::cli {
namespace {

// Serializes everything written to the terminal while a progress line may be drawn.
std::mutex g_output_mutex;
bool g_progress_shown = false; // guarded by g_output_mutex

} // namespace

void print_line(std::FILE* stream, const std::string& line) {
    std::lock_guard lock(g_output_mutex);
    if (stream == stderr && g_progress_shown) {
        std::fputs("\r\x1b[K", stderr);
    }
    std::fputs(line.c_str(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

int terminal_columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
        return std::max(0, std::atoi(columns));
    }
    return 0;
}

std::string fit_columns(std::string_view line, int columns) {
    if (columns <= 0) {
        return std::string(line);
    }
    const auto limit = static_cast<std::size_t>(std::max(columns - 1, 1));
    std::size_t used = 0;
    std::size_t end = 0;
    while (end < line.size()) {
        // A UTF-8 sequence is one column: its continuation bytes (10xxxxxx) go with it.
        std::size_t next = end + 1;
        while (next < line.size() && (static_cast<unsigned char>(line[next]) & 0xC0) == 0x80) {
            ++next;
        }
        if (used == limit) {
            break;
        }
        ++used;
        end = next;
    }
    return std::string(line.substr(0, end));
}

ProgressMode parse_progress_mode(const std::string& text) {
    if (text == "auto") {
        return ProgressMode::auto_detect;
    }
    if (text == "always") {
        return ProgressMode::always;
    }
    if (text == "never") {
        return ProgressMode::never;
    }
    throw UsageError("--progress: expected auto, always or never, got '" + text + "'");
}

bool progress_enabled(ProgressMode mode) {
    return mode == ProgressMode::always ||
           (mode == ProgressMode::auto_detect && ::isatty(STDERR_FILENO) == 1);
}

ProgressLine::ProgressLine(bool enabled, std::function<std::string(double)> render,
                           std::chrono::milliseconds period)
    : m_render(std::move(render))
    , m_period(period)
    , m_start(std::chrono::steady_clock::now()) {
    if (!enabled) {
        return;
    }
    m_thread = std::thread([this] {
        std::unique_lock lock(m_mutex);
        while (!m_cv.wait_for(lock, m_period, [this] { return m_stop; })) {
            draw();
        }
    });
}

ProgressLine::~ProgressLine() {
    if (!m_thread.joinable()) {
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
    draw();
    std::lock_guard lock(g_output_mutex);
    std::fputc('\n', stderr);
    std::fflush(stderr);
    g_progress_shown = false;
}

void ProgressLine::draw() {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    std::string line = fit_columns(m_render(elapsed), terminal_columns());
    std::lock_guard lock(g_output_mutex);
    // \r back to column 0, \x1b[K clears what a longer previous line left behind.
    fmt::print(stderr, "\r{}\x1b[K", line);
    std::fflush(stderr);
    g_progress_shown = true;
}

std::string format_bytes(double bytes) {
    static constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{:.0f} B", bytes)
                     : fmt::format("{:.1f} {}", bytes, k_units[unit]);
}

std::string format_duration(double seconds) {
    const long long s = std::llround(seconds);
    if (s < 60) {
        return fmt::format("{}s", s);
    }
    if (s < 3600) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string format_seconds(double seconds) {
    return seconds < 60 ? fmt::format("{:.2f} s", seconds) : format_duration(seconds);
}

std::string format_bar(std::uint64_t done, std::uint64_t total, int width) {
    std::string bar(static_cast<std::size_t>(width), ' ');
    if (total > 0) {
        auto filled = static_cast<std::size_t>(static_cast<double>(std::min(done, total)) /
                                               static_cast<double>(total) * width);
        for (std::size_t i = 0; i < filled; ++i) {
            bar[i] = '=';
        }
        if (filled < bar.size() && done < total) {
            bar[filled] = '>';
        }
    }
    return "[" + bar + "]";
}

} // namespace flagcrawl::cli
