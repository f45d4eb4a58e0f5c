// robots.txt (RFC 9309): parse a file for one user agent, answer "may we fetch this path?"
// cheaply.
// Pure code: no I/O, no threads; a parsed RobotsRules is immutable and safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// RFC 9309 2.5: crawlers must parse at least 500 KiB; we parse exactly that much and ignore
// the rest (a line cut by the limit is dropped). Fetch robots.txt with a body limit at least
// this large.
inline constexpr std::size_t k_robots_max_bytes = 500 * 1024;

// The rules of one robots.txt that apply to one product token, compiled for fast matching.
//
// Group selection (RFC 9309 2.2.1, with Google's parser's choices where the RFC is silent):
// - a group is one or more consecutive user-agent lines followed by rules; any other
//   recognised or unknown "key: value" line ends the run of user-agent lines (blank lines and
//   comments do not);
// - a user-agent value matches our token when its leading run of [A-Za-z_-] equals the token,
//   case-insensitively ("FlagCrawl/2.1" matches "flagcrawl"); "*" (alone or followed by
//   whitespace) is the global group;
// - every group that matches our token is merged; if none does, every "*" group is merged; a
//   matching group with no rules allows everything (the "*" groups are then ignored).
// Lines: UTF-8 BOM skipped; LF, CR and CRLF end lines; '#' starts a comment; "key: value", or
// "key value" (exactly two words, no colon) as Google accepts; keys are case-insensitive and
// the typos Google accepts are accepted (useragent, dissallow, disalow, site-map...). Rules
// before any user-agent line are ignored.
//
// Matching (RFC 9309 2.2.2/2.2.3): patterns are anchored at the start of the path; '*'
// matches any run of octets; '$' at the very end anchors at the end of the path (elsewhere it
// is literal). The rule with the longest pattern (in octets, after canonicalisation, '*' and
// '$' included) wins; on a tie Allow wins; no match means allowed. An empty Allow/Disallow
// value is no rule (so "Disallow:" alone allows everything). Patterns that start with neither
// '/' nor '*' can never match a path and are dropped. Google's "Allow: /x/index.html also
// allows /x/" quirk is not implemented.
//
// Percent-encoding: patterns and queried paths are both brought to one canonical form before
// comparison: "%xx" escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded,
// other escapes keep their encoding with upper-case hex ("%2f" -> "%2F", which stays
// distinct from "/"), octets that may not appear raw in a URI (>= 0x80, controls, space,
// " < > \ ^ ` { | }) are encoded, and a '%' not followed by two hex digits becomes "%25".
// So "/a%3cd" and "/a<d" match each other, "/%7Euser" matches "/~user", "%2F" never
// matches "/", and UTF-8 patterns match percent-encoded paths.
class RobotsRules {
public:
    // Rules that allow everything (no robots.txt, 4xx, --no-robots).
    RobotsRules() = default;
    static RobotsRules allow_all() { return RobotsRules{}; }
    // Parses at most k_robots_max_bytes of body for the product token `agent_token` (e.g.
    // "flagcrawl"; the part of our User-Agent before any '/'). Never fails: garbage lines are
    // ignored, so garbage in gives allow-all out.
    static RobotsRules parse(std::string_view body, std::string_view agent_token);

    // `path_and_query`: the URL's path plus "?query" if any, no fragment (e.g. "/a/b?x=1"); an
    // empty string means "/". "/robots.txt" is always allowed (RFC 9309 2.2.2). Thread-safe
    // (const, no shared mutable state); allocates only for paths over 2 KiB that need
    // canonicalising.
    bool allowed(std::string_view path_and_query) const;

    // Crawl-delay (non-standard; seconds, fractional allowed) of the selected groups: the first
    // valid value, or nullopt. Values that are negative, not finite or not numbers are
    // ignored. The caller caps it.
    std::optional<double> crawl_delay() const { return m_crawl_delay; }
    // Every Sitemap: URL in the file, whatever group it sits in, in file order, as written.
    const std::vector<std::string>& sitemaps() const { return m_sitemaps; }
    // True when some group named our token (so the "*" groups were ignored).
    bool matched_agent_group() const { return m_matched_agent; }
    // Number of compiled rules in the selected groups (diagnostics, tests).
    std::size_t rule_count() const { return m_rules.size(); }

private:
    struct Rule {
        std::uint32_t offset = 0; // pattern text in m_patterns (canonical, '$' stripped)
        std::uint32_t length = 0;
        std::uint32_t priority = 0; // canonical pattern length in octets, '$' included
        bool allow = false;
        bool anchored = false; // pattern ended with '$'
        bool wildcard = false; // pattern contains '*'
    };
    // Rules are indexed by the two octets after the leading '/' of their literal prefix, so a
    // query only tries the rules that could match it plus the short or wildcard-led ones.
    static constexpr std::size_t k_buckets = 512;
    static std::size_t bucket_of(char c1, char c2) {
        return (static_cast<unsigned char>(c1) * 31U + static_cast<unsigned char>(c2)) % k_buckets;
    }
    bool matches(const Rule& rule, std::string_view path) const;
    bool allowed_canonical(std::string_view path) const;
    // Appends a rule; `pattern` is canonical, '$' kept. build_index() then orders and indexes.
    void add_rule(std::string_view pattern, bool allow);
    void build_index();

    std::vector<Rule> m_rules; // sorted by priority descending, Allow before Disallow on ties
    std::vector<std::uint32_t> m_bucket_start; // k_buckets + 1 offsets into m_bucket_rules
    std::vector<std::uint32_t> m_bucket_rules; // rule indexes, each bucket in m_rules order
    std::vector<std::uint32_t> m_unindexed;    // rules checked for every path
    std::string m_patterns;
    std::optional<double> m_crawl_delay;
    std::vector<std::string> m_sitemaps;
    bool m_matched_agent = false;
};

// The canonical form (see above) of a path or pattern; '*' and '$' are reserved characters, so
// they pass through unchanged and keep their meaning in patterns. Exposed for tests.
std::string canonicalize_robots_path(std::string_view text);

} // namespace flagcrawl::crawler
