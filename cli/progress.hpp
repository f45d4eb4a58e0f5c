// A live one-line status on stderr, redrawn by its own thread while a job runs, for terminals
// only (unless forced): jobs supply the text, this class owns timing and terminal handling.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flagcrawl::cli {

enum class ProgressMode { auto_detect, always, never };

// "auto" | "always" | "never"; throws UsageError otherwise.
ProgressMode parse_progress_mode(const std::string& text);

// True when a progress line should be drawn: always, or auto and stderr is a terminal.
bool progress_enabled(ProgressMode mode);

// The width of the terminal on stderr in columns (TIOCGWINSZ, asked again at every call so that
// a resized window is followed), else $COLUMNS, else 0 (unknown: not a terminal).
int terminal_columns();

// `line` cut to fit `columns` columns without wrapping: at most columns - 1 characters (a
// terminal wraps the line that fills its last column), UTF-8 sequences counted as one column and
// never cut in the middle. 0 columns: unchanged.
std::string fit_columns(std::string_view line, int columns);

class ProgressLine {
public:
    // `render(elapsed_seconds)` returns the line (no newline); called on the progress thread
    // every `period`, so it must only read thread-safe state (atomics). Disabled: no thread. The
    // line is cut to the terminal's width (fit_columns), so that it never wraps: a wrapped line
    // cannot be redrawn in place and floods the terminal.
    ProgressLine(bool enabled, std::function<std::string(double)> render,
                 std::chrono::milliseconds period = std::chrono::milliseconds(200));
    // Draws the final state and ends the line, so that summaries start on a fresh line.
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

private:
    void draw();

    std::function<std::string(double)> m_render;
    std::chrono::milliseconds m_period;
    std::chrono::steady_clock::time_point m_start;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_thread;
};

// Prints `line` and a newline on `stream`, serialized with the progress line: on stderr while
// a progress line is shown, the line replaces it (it is redrawn at the next tick).
void print_line(std::FILE* stream, const std::string& line);

// Helpers for progress and summary text.
std::string format_bytes(double bytes);      // "1.5 MiB"
std::string format_duration(double seconds); // "59s", "2m05s", "1h02m"
std::string format_seconds(double seconds);  // "12.34 s" under a minute, else format_duration
// "[=====>     ]" of `width` cells for done/total (total 0: an empty bar).
std::string format_bar(std::uint64_t done, std::uint64_t total, int width);

} // namespace flagcrawl::cli
