#include "storage/records.hpp"

namespace flagcrawl::storage {

namespace {

void put_digits(char* out, unsigned value, int width) noexcept {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

bool read_digits(std::string_view text, std::size_t at, int width, unsigned& value) noexcept {
    value = 0;
    for (int i = 0; i < width; ++i) {
        const char c = text[at + static_cast<std::size_t>(i)];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return true;
}

} // namespace

std::string_view to_string(RunStatus status) {
    switch (status) {
    case RunStatus::running:
        return "running";
    case RunStatus::finished:
        return "finished";
    case RunStatus::interrupted:
        return "interrupted";
    case RunStatus::failed:
        return "failed";
    case RunStatus::killed:
        return "killed";
    }
    return "failed";
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
    for (RunStatus status : {RunStatus::running, RunStatus::finished, RunStatus::interrupted,
                             RunStatus::failed, RunStatus::killed}) {
        if (text == to_string(status)) {
            return status;
        }
    }
    return std::nullopt;
}

std::string_view format_time(TimePoint time, std::array<char, 24>& buffer) noexcept {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(time);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss clock{ms - day};
    char* out = buffer.data();
    put_digits(out, static_cast<unsigned>(static_cast<int>(date.year())), 4);
    out[4] = '-';
    put_digits(out + 5, static_cast<unsigned>(date.month()), 2);
    out[7] = '-';
    put_digits(out + 8, static_cast<unsigned>(date.day()), 2);
    out[10] = 'T';
    put_digits(out + 11, static_cast<unsigned>(clock.hours().count()), 2);
    out[13] = ':';
    put_digits(out + 14, static_cast<unsigned>(clock.minutes().count()), 2);
    out[16] = ':';
    put_digits(out + 17, static_cast<unsigned>(clock.seconds().count()), 2);
    out[19] = '.';
    put_digits(out + 20, static_cast<unsigned>(clock.subseconds().count()), 3);
    out[23] = 'Z';
    return {buffer.data(), buffer.size()};
}

std::string format_time(TimePoint time) {
    std::array<char, 24> buffer;
    return std::string(format_time(time, buffer));
}

std::optional<TimePoint> parse_time(std::string_view text) noexcept {
    using namespace std::chrono;
    if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
        return std::nullopt;
    }
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
    if (!read_digits(text, 0, 4, y) || !read_digits(text, 5, 2, mo) ||
        !read_digits(text, 8, 2, d) || !read_digits(text, 11, 2, h) ||
        !read_digits(text, 14, 2, mi) || !read_digits(text, 17, 2, s) ||
        !read_digits(text, 20, 3, ms)) {
        return std::nullopt;
    }
    const year_month_day date{year{static_cast<int>(y)}, month{mo}, day{d}};
    if (!date.ok() || h > 23 || mi > 59 || s > 59) {
        return std::nullopt;
    }
    return TimePoint{sys_days{date} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms}};
}

} // namespace flagcrawl::storage
