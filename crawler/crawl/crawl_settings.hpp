// What a crawl is defined by and how it treats other people's servers, stored with the crawl
// (crawls.seeds, crawls.options) so that --resume runs under the same values, and the rule for
// what a resume may change.
#pragma once

#include "crawler/crawl/scope.hpp"
#include "fetch/fetch.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

struct CrawlSettings {
    // The definition: which URLs belong to the crawl. A resume may not change these.
    std::vector<std::string> seeds; // absolute http(s) URLs without fragment
    int max_depth = -1;             // link hops from a seed; -1: unlimited
    ScopeKind scope = ScopeKind::host;
    std::vector<std::string> include; // RE2 patterns on the absolute URL
    std::vector<std::string> exclude;
    bool robots = true; // robots.txt, meta robots, X-Robots-Tag, rel=nofollow
    bool canonical_query = false;
    bool save_bodies = false;
    bool page_requisites = false;
    // Read the seed hosts' sitemaps (robots.txt Sitemap: lines and /sitemap.xml): the URLs they
    // list join the crawl at depth 1. Off here; `crawl` turns it on by default (--no-sitemaps).
    bool sitemaps = false;
    // Out-of-scope link targets are checked once each (HEAD, GET where HEAD is refused), never
    // parsed nor followed: PageRules::check_external.
    bool check_external = false;
    int max_redirects = 10; // redirect hops followed from one URL
    // Trap defences (0: off; `crawl` turns them on by default): see PageRules and
    // FrontierOptions::max_per_directory.
    std::uint64_t max_url_length = 0;
    int max_segment_repeats = 0;
    std::uint32_t max_per_directory = 0;
    // Outputs kept for the whole crawl: the WARC's name (absolute; empty: none) and its
    // --warc-max-size as given ("1G"; empty: one file); the mirror folder (-o, absolute).
    std::string warc;
    std::string warc_max_size;
    std::string mirror;

    // How the crawl treats servers. A resume runs under the stored values unless one is given
    // again on its command line; the change is then reported and stored.
    fetch::Strategy strategy = fetch::Strategy::async;
    int concurrency = 16; // requests in flight (sequential: 1 whatever this says)
    int per_host = 8;     // requests in flight per host
    std::chrono::nanoseconds delay{0};
    // User agent, headers, total and connect timeouts, retries, max body size; the rest of the
    // policy is the engine's default (429/503 are never retried by the engine in a crawl: the
    // frontier defers them).
    fetch::Policy policy;

    // Limits over the whole crawl (resumes included), except max_time: each invocation's own.
    // Stored and kept by a resume like the politeness; 0 means none.
    std::uint64_t max_pages = 0;
    std::uint64_t max_bytes = 0;
    std::chrono::milliseconds max_time{0};
};

// The robots.txt product token of the user agent: its first word up to '/' ("flagcrawl" for the
// default agent).
std::string agent_token(const CrawlSettings& settings);

// The crawls row's JSON texts.
std::string seeds_json(const CrawlSettings& settings);
std::string options_json(const CrawlSettings& settings);

// One value a resume changed, named by its command-line option: "--delay 0.5 (was 1)".
struct SettingChange {
    std::string option;
    std::string was;
    std::string now;
};

struct ResumedSettings {
    CrawlSettings settings;
    std::vector<SettingChange> changes; // in the order of the options table
};

// The options that define a crawl, as the command line names them (--depth, --scope, ...): a
// resume refuses them.
const std::vector<std::string_view>& defining_options();
// The options a resume keeps from the crawl unless given again (--delay, --per-host, ...).
const std::vector<std::string_view>& kept_options();

// The settings a resume runs under: the stored ones (seeds and options JSON of the crawls row),
// with each option named in `given_options` (by its long name, e.g. "--delay") taken from
// `given` instead. A crawl stored by an older build lacks some values: those come from `given`.
// Errors (one line): a defining option given, unreadable stored JSON.
boost::system::result<ResumedSettings, std::string>
resume_settings(std::string_view stored_seeds, std::string_view stored_options,
                const CrawlSettings& given,
                const std::set<std::string, std::less<>>& given_options);

} // namespace flagcrawl::crawler
