// HTTP-dates (RFC 9110 section 5.6.7), as Last-Modified, If-Modified-Since and Date carry them:
// written as IMF-fixdate, read in the three forms a recipient must accept. Locale-independent.
#pragma once

#include <array>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::util {

namespace detail {

inline constexpr std::array<std::string_view, 7> k_week_days = {"Sun", "Mon", "Tue", "Wed",
                                                                "Thu", "Fri", "Sat"};
inline constexpr std::array<std::string_view, 12> k_months = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// 0-11 for "Jan".."Dec", -1 otherwise.
inline int month_index(std::string_view name) {
    for (std::size_t i = 0; i < k_months.size(); ++i) {
        if (name == k_months[i]) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

} // namespace detail

// "Sun, 06 Nov 1994 08:49:37 GMT" for `when` (seconds since 1970, UTC).
inline std::string format_http_date(std::time_t when) {
    std::tm tm{};
    ::gmtime_r(&when, &tm);
    char text[40];
    std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  detail::k_week_days[static_cast<std::size_t>(tm.tm_wday % 7)].data(), tm.tm_mday,
                  detail::k_months[static_cast<std::size_t>(tm.tm_mon % 12)].data(),
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return text;
}

// Seconds since 1970 of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), an RFC 850 date
// ("Sunday, 06-Nov-94 08:49:37 GMT": two-digit years are 19xx from 70, else 20xx) or an asctime
// date ("Sun Nov  6 08:49:37 1994"); nullopt for anything else. The weekday is not checked.
inline std::optional<std::time_t> parse_http_date(std::string_view text) {
    const std::string s(text);
    std::tm tm{};
    char month[4] = {};
    char zone[4] = {};
    int consumed = 0;
    int year = 0;
    const auto comma = s.find(',');
    if (comma != std::string::npos) {
        const char* rest = s.c_str() + comma + 1;
        if (std::sscanf(rest, " %2d %3s %4d %2d:%2d:%2d %3s%n", &tm.tm_mday, month, &year,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &consumed) == 7 &&
            rest[consumed] == '\0') {
            // IMF-fixdate
        } else if (std::sscanf(rest, " %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3s%n", &tm.tm_mday, month,
                               &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &consumed) == 7 &&
                   rest[consumed] == '\0') {
            year += year < 70 ? 2000 : 1900;
        } else {
            return std::nullopt;
        }
        if (std::string_view(zone) != "GMT") {
            return std::nullopt;
        }
    } else {
        char day[4] = {};
        if (std::sscanf(s.c_str(), "%3s %3s %2d %2d:%2d:%2d %4d%n", day, month, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &year, &consumed) != 7 ||
            s[static_cast<std::size_t>(consumed)] != '\0') {
            return std::nullopt;
        }
    }
    tm.tm_mon = detail::month_index(month);
    tm.tm_year = year - 1900;
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60) {
        return std::nullopt;
    }
    return ::timegm(&tm);
}

} // namespace flagcrawl::util
