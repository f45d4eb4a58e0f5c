#include "crawler/crawl/crawl_settings.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>

namespace flagcrawl::crawler {

namespace {

using Json = nlohmann::json;

double seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
}

template <class D> D from_seconds(double s) {
    return std::chrono::duration_cast<D>(std::chrono::duration<double>(s));
}

std::string show_number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

// 16777216 -> "16M", as --max-size takes it; 0 -> "0" (no limit).
std::string show_size(std::uint64_t bytes) {
    for (auto [shift, suffix] : {std::pair{30, "G"}, std::pair{20, "M"}, std::pair{10, "K"}}) {
        const std::uint64_t unit = std::uint64_t{1} << shift;
        if (bytes >= unit && bytes % unit == 0) {
            return std::to_string(bytes / unit) + suffix;
        }
    }
    return std::to_string(bytes);
}

std::string show_list(const std::vector<std::string>& values) {
    if (values.empty()) {
        return "(none)";
    }
    std::string text;
    for (const auto& value : values) {
        text += (text.empty() ? "'" : ", '") + value + "'";
    }
    return text;
}

// One stored setting: its option, its JSON key, how to read, write and show it.
struct Field {
    std::string_view option;
    std::string_view key;
    bool defining;
    std::function<Json(const CrawlSettings&)> get;
    std::function<void(CrawlSettings&, const Json&)> set;
    std::function<std::string(const CrawlSettings&)> show;
};

const std::vector<Field>& fields() {
    using S = CrawlSettings;
    static const std::vector<Field> table = {
        // The definition.
        {"--depth",
         "depth",
         true,
         [](const S& s) { return Json(s.max_depth); },
         [](S& s, const Json& j) { s.max_depth = j.get<int>(); },
         {}},
        {"--scope",
         "scope",
         true,
         [](const S& s) { return Json(to_string(s.scope)); },
         [](S& s, const Json& j) {
             s.scope = parse_scope(j.get<std::string>()).value_or(ScopeKind::host);
         },
         {}},
        {"--include",
         "include",
         true,
         [](const S& s) { return Json(s.include); },
         [](S& s, const Json& j) { s.include = j.get<std::vector<std::string>>(); },
         {}},
        {"--exclude",
         "exclude",
         true,
         [](const S& s) { return Json(s.exclude); },
         [](S& s, const Json& j) { s.exclude = j.get<std::vector<std::string>>(); },
         {}},
        {"--no-robots",
         "robots",
         true,
         [](const S& s) { return Json(s.robots); },
         [](S& s, const Json& j) { s.robots = j.get<bool>(); },
         {}},
        {"--canonical-query",
         "canonical_query",
         true,
         [](const S& s) { return Json(s.canonical_query); },
         [](S& s, const Json& j) { s.canonical_query = j.get<bool>(); },
         {}},
        {"--save-bodies",
         "save_bodies",
         true,
         [](const S& s) { return Json(s.save_bodies); },
         [](S& s, const Json& j) { s.save_bodies = j.get<bool>(); },
         {}},
        {"--page-requisites",
         "page_requisites",
         true,
         [](const S& s) { return Json(s.page_requisites); },
         [](S& s, const Json& j) { s.page_requisites = j.get<bool>(); },
         {}},
        {"--no-sitemaps",
         "sitemaps",
         true,
         [](const S& s) { return Json(s.sitemaps); },
         [](S& s, const Json& j) { s.sitemaps = j.get<bool>(); },
         {}},
        {"--check-external",
         "check_external",
         true,
         [](const S& s) { return Json(s.check_external); },
         [](S& s, const Json& j) { s.check_external = j.get<bool>(); },
         {}},
        {"--max-redirect",
         "max_redirects",
         true,
         [](const S& s) { return Json(s.max_redirects); },
         [](S& s, const Json& j) { s.max_redirects = j.get<int>(); },
         {}},
        {"--max-url-length",
         "max_url_length",
         true,
         [](const S& s) { return Json(s.max_url_length); },
         [](S& s, const Json& j) { s.max_url_length = j.get<std::uint64_t>(); },
         {}},
        {"--max-segment-repeats",
         "max_segment_repeats",
         true,
         [](const S& s) { return Json(s.max_segment_repeats); },
         [](S& s, const Json& j) { s.max_segment_repeats = j.get<int>(); },
         {}},
        {"--max-per-dir",
         "max_per_directory",
         true,
         [](const S& s) { return Json(s.max_per_directory); },
         [](S& s, const Json& j) { s.max_per_directory = j.get<std::uint32_t>(); },
         {}},
        {"--warc",
         "warc",
         true,
         [](const S& s) { return Json(s.warc); },
         [](S& s, const Json& j) { s.warc = j.get<std::string>(); },
         {}},
        {"--warc-max-size",
         "warc_max_size",
         true,
         [](const S& s) { return Json(s.warc_max_size); },
         [](S& s, const Json& j) { s.warc_max_size = j.get<std::string>(); },
         {}},
        {"--out",
         "mirror",
         true,
         [](const S& s) { return Json(s.mirror); },
         [](S& s, const Json& j) { s.mirror = j.get<std::string>(); },
         {}},
        // How servers are treated.
        {"--strategy", "strategy", false,
         [](const S& s) { return Json(fetch::to_string(s.strategy)); },
         [](S& s, const Json& j) {
             s.strategy = fetch::parse_strategy(j.get<std::string>()).value_or(s.strategy);
         },
         [](const S& s) { return std::string(fetch::to_string(s.strategy)); }},
        {"--concurrency", "concurrency", false, [](const S& s) { return Json(s.concurrency); },
         [](S& s, const Json& j) { s.concurrency = j.get<int>(); },
         [](const S& s) { return std::to_string(s.concurrency); }},
        {"--per-host", "per_host", false, [](const S& s) { return Json(s.per_host); },
         [](S& s, const Json& j) { s.per_host = j.get<int>(); },
         [](const S& s) { return std::to_string(s.per_host); }},
        {"--delay", "delay_s", false, [](const S& s) { return Json(seconds(s.delay)); },
         [](S& s, const Json& j) {
             s.delay = from_seconds<std::chrono::nanoseconds>(j.get<double>());
         },
         [](const S& s) { return show_number(seconds(s.delay)); }},
        {"--user-agent", "user_agent", false, [](const S& s) { return Json(s.policy.user_agent); },
         [](S& s, const Json& j) { s.policy.user_agent = j.get<std::string>(); },
         [](const S& s) {
             return s.policy.user_agent.empty() ? std::string("(default)")
                                                : "'" + s.policy.user_agent + "'";
         }},
        {"--header", "headers", false, [](const S& s) { return Json(s.policy.headers); },
         [](S& s, const Json& j) { s.policy.headers = j.get<std::vector<std::string>>(); },
         [](const S& s) { return show_list(s.policy.headers); }},
        {"--timeout", "timeout_s", false,
         [](const S& s) { return Json(seconds(s.policy.total_timeout)); },
         [](S& s, const Json& j) {
             s.policy.total_timeout = from_seconds<fetch::Millis>(j.get<double>());
         },
         [](const S& s) { return show_number(seconds(s.policy.total_timeout)); }},
        {"--connect-timeout", "connect_timeout_s", false,
         [](const S& s) { return Json(seconds(s.policy.connect_timeout)); },
         [](S& s, const Json& j) {
             s.policy.connect_timeout = from_seconds<fetch::Millis>(j.get<double>());
         },
         [](const S& s) { return show_number(seconds(s.policy.connect_timeout)); }},
        {"--retries", "retries", false, [](const S& s) { return Json(s.policy.retries); },
         [](S& s, const Json& j) { s.policy.retries = j.get<int>(); },
         [](const S& s) { return std::to_string(s.policy.retries); }},
        {"--max-size", "max_size", false, [](const S& s) { return Json(s.policy.max_body_bytes); },
         [](S& s, const Json& j) { s.policy.max_body_bytes = j.get<std::uint64_t>(); },
         [](const S& s) { return show_size(s.policy.max_body_bytes); }},
        {"--stall-timeout", "stall_timeout_s", false,
         [](const S& s) { return Json(seconds(s.policy.low_speed_window)); },
         [](S& s, const Json& j) {
             s.policy.low_speed_window = from_seconds<fetch::Millis>(j.get<double>());
         },
         [](const S& s) { return show_number(seconds(s.policy.low_speed_window)); }},
        {"--min-speed", "min_speed", false,
         [](const S& s) { return Json(s.policy.low_speed_bytes_per_s); },
         [](S& s, const Json& j) { s.policy.low_speed_bytes_per_s = j.get<long>(); },
         [](const S& s) {
             return show_size(static_cast<std::uint64_t>(s.policy.low_speed_bytes_per_s));
         }},
        {"--max-decoded", "max_decoded", false,
         [](const S& s) { return Json(s.policy.max_decoded_bytes); },
         [](S& s, const Json& j) { s.policy.max_decoded_bytes = j.get<std::uint64_t>(); },
         [](const S& s) { return show_size(s.policy.max_decoded_bytes); }},
        {"--max-ratio", "max_ratio", false,
         [](const S& s) { return Json(s.policy.max_decoded_ratio); },
         [](S& s, const Json& j) { s.policy.max_decoded_ratio = j.get<int>(); },
         [](const S& s) { return std::to_string(s.policy.max_decoded_ratio); }},
        // Limits.
        {"--max-pages", "max_pages", false, [](const S& s) { return Json(s.max_pages); },
         [](S& s, const Json& j) { s.max_pages = j.get<std::uint64_t>(); },
         [](const S& s) { return std::to_string(s.max_pages); }},
        {"--max-bytes", "max_bytes", false, [](const S& s) { return Json(s.max_bytes); },
         [](S& s, const Json& j) { s.max_bytes = j.get<std::uint64_t>(); },
         [](const S& s) { return show_size(s.max_bytes); }},
        {"--max-time", "max_time_s", false, [](const S& s) { return Json(seconds(s.max_time)); },
         [](S& s, const Json& j) {
             s.max_time = from_seconds<std::chrono::milliseconds>(j.get<double>());
         },
         [](const S& s) { return show_number(seconds(s.max_time)); }},
    };
    return table;
}

std::vector<std::string_view> options_where(bool defining) {
    std::vector<std::string_view> names;
    for (const Field& field : fields()) {
        if (field.defining == defining) {
            names.push_back(field.option);
        }
    }
    return names;
}

} // namespace

std::string agent_token(const CrawlSettings& settings) {
    const std::string& agent = settings.policy.user_agent;
    if (agent.empty()) {
        return "flagcrawl";
    }
    return agent.substr(0, agent.find_first_of("/ "));
}

std::string seeds_json(const CrawlSettings& settings) {
    return Json(settings.seeds).dump();
}

std::string options_json(const CrawlSettings& settings) {
    Json options = Json::object();
    for (const Field& field : fields()) {
        options[std::string(field.key)] = field.get(settings);
    }
    return options.dump();
}

const std::vector<std::string_view>& defining_options() {
    static const std::vector<std::string_view> names = options_where(true);
    return names;
}

const std::vector<std::string_view>& kept_options() {
    static const std::vector<std::string_view> names = options_where(false);
    return names;
}

boost::system::result<ResumedSettings, std::string>
resume_settings(std::string_view stored_seeds, std::string_view stored_options,
                const CrawlSettings& given,
                const std::set<std::string, std::less<>>& given_options) {
    for (const Field& field : fields()) {
        if (field.defining && given_options.contains(field.option)) {
            return "crawl --resume: " + std::string(field.option) +
                   " cannot be changed (the crawl keeps the options it was started with)";
        }
    }
    ResumedSettings out;
    out.settings = given;
    try {
        out.settings.seeds = Json::parse(stored_seeds).get<std::vector<std::string>>();
        const Json stored = Json::parse(stored_options);
        for (const Field& field : fields()) {
            const auto found = stored.find(field.key);
            if (found == stored.end()) {
                continue; // stored by an older build: the value given (or its default)
            }
            if (field.defining || !given_options.contains(field.option)) {
                field.set(out.settings, *found);
                continue;
            }
            CrawlSettings was = given;
            field.set(was, *found);
            if (std::string before = field.show(was), now = field.show(given); before != now) {
                out.changes.push_back({std::string(field.option), std::move(before), now});
            }
        }
    } catch (const Json::exception& e) {
        return "crawl --resume: the crawl's stored options are unreadable: " +
               std::string(e.what());
    }
    return out;
}

} // namespace flagcrawl::crawler
