// robots.txt parsing and matching (RFC 9309), table-driven.
#include "in_child.hpp"

#include "crawler/robots/robots.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace fc = flagcrawl::crawler;

namespace {

struct Probe {
    const char* path;
    bool allowed;
};

struct MatchCase {
    const char* name;
    std::string body;
    std::vector<Probe> probes;
};

const std::vector<MatchCase>& match_cases() {
    static const std::vector<MatchCase> cases = {
        {"empty_file_allows_everything", "", {{"/", true}, {"/x", true}}},
        {"disallow_all_for_star",
         "User-agent: *\nDisallow: /\n",
         {{"/", false}, {"/a/b?c", false}, {"", false}, {"/robots.txt", true}}},
        {"empty_disallow_allows_all", "User-agent: *\nDisallow:\n", {{"/", true}, {"/x", true}}},
        {"prefix_match",
         "User-agent: *\nDisallow: /private\n",
         {{"/private", false},
          {"/private/x", false},
          {"/privately", false},
          {"/Private", true},
          {"/pub", true},
          {"/a/private", true}}},
        {"longest_match_wins",
         "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n",
         {{"/a", false}, {"/a/b", true}, {"/a/bx", true}, {"/a/b/c", false}, {"/a/b/d", true}}},
        {"longest_match_regardless_of_order",
         "User-agent: *\nAllow: /folder/page\nDisallow: /folder\n",
         {{"/folder/page", true}, {"/folder/other", false}}},
        {"tie_goes_to_allow",
         "User-agent: *\nDisallow: /page\nAllow: /page\n",
         {{"/page", true}, {"/page2", true}}},
        {"tie_of_different_patterns_same_length_allow_wins",
         "User-agent: *\nDisallow: /*.php\nAllow: /a.php\n",
         {{"/a.php", true}, {"/b.php", false}}},
        {"wildcard_in_middle",
         "User-agent: *\nDisallow: /*/secret/\n",
         {{"/x/secret/", false},
          {"/x/y/secret/z", false},
          {"/secret/", true},
          {"/x/secret", true}}},
        {"wildcard_suffix_with_end_anchor",
         "User-agent: *\nDisallow: /*.pdf$\n",
         {{"/a.pdf", false},
          {"/dir/b.pdf", false},
          {"/a.pdf?x=1", true},
          {"/a.pdfx", true},
          {"/a.PDF", true}}},
        {"end_anchor_exact",
         "User-agent: *\nDisallow: /$\n",
         {{"/", false}, {"/index.html", true}}},
        {"dollar_in_middle_is_literal",
         "User-agent: *\nDisallow: /a$b\n",
         {{"/a$b", false}, {"/a$bc", false}, {"/a", true}}},
        {"star_alone",
         "User-agent: *\nDisallow: *\nAllow: /ok\n",
         {{"/", false}, {"/ok", true}, {"/ok/x", true}, {"/nope", false}}},
        {"several_stars",
         "User-agent: *\nDisallow: /a*b*c$\n",
         {{"/abc", false}, {"/a-b-c", false}, {"/axbxcx", true}, {"/ab", true}, {"/acb", true}}},
        {"greedy_leftmost_is_correct",
         "User-agent: *\nDisallow: /*ab*abc$\n",
         {{"/ababc", false}, {"/xabyabc", false}, {"/abab", true}}},
        {"query_is_part_of_the_path",
         "User-agent: *\nDisallow: /*?sort=\nDisallow: /search?\n",
         {{"/list?sort=asc", false},
          {"/list?page=2&sort=asc", true},
          {"/search?q=x", false},
          {"/search", true}}},
        {"percent_hex_case_is_ignored",
         "User-agent: *\nDisallow: /a%3cd\n",
         {{"/a%3Cd", false}, {"/a%3cd", false}, {"/a<d", false}, {"/a%3Dd", true}}},
        {"raw_pattern_matches_encoded_path",
         "User-agent: *\nDisallow: /a<d\n",
         {{"/a%3Cd", false}, {"/a<d", false}}},
        {"unreserved_escapes_are_decoded",
         "User-agent: *\nDisallow: /%7Euser/%62az\n",
         {{"/~user/baz", false}, {"/%7euser/b%61z", false}, {"/~user/bar", true}}},
        {"encoded_slash_is_not_slash",
         "User-agent: *\nDisallow: /a%2Fb\n",
         {{"/a/b", true}, {"/a%2fb", false}, {"/a%2Fb", false}}},
        {"slash_is_not_encoded_slash",
         "User-agent: *\nDisallow: /a/b\n",
         {{"/a%2Fb", true}, {"/a/b", false}}},
        {"utf8_pattern_matches_encoded_path",
         "User-agent: *\nDisallow: /caf\xC3\xA9\n",
         {{"/caf%C3%A9", false},
          {"/caf%c3%a9/menu", false},
          {"/caf\xC3\xA9", false},
          {"/cafe", true}}},
        {"reserved_raw_vs_encoded_differ",
         "User-agent: *\nDisallow: /q?a=b\n",
         {{"/q?a=b", false}, {"/q?a%3Db", true}}},
        {"stray_percent",
         "User-agent: *\nDisallow: /100%\n",
         {{"/100%", false}, {"/100%25", false}, {"/100", true}}},
        {"space_in_path_and_pattern",
         "User-agent: *\nDisallow: /a b\n",
         {{"/a%20b", false}, {"/a b", false}, {"/ab", true}}},
        {"pattern_not_starting_with_slash_is_dropped",
         "User-agent: *\nDisallow: private\nDisallow: http://example.com/x\n",
         {{"/private", true}, {"/x", true}}},
        {"robots_txt_always_allowed",
         "User-agent: *\nDisallow: /robots.txt\nDisallow: /\n",
         {{"/robots.txt", true}, {"/robots.txt?x", false}}},
        {"comments_and_blank_lines",
         "# hello\n\nUser-agent: * # everyone\n\n# comment between\nDisallow: /x # no x\n",
         {{"/x", false}, {"/x%20", false}, {"/y", true}}},
        {"hash_in_value_starts_comment",
         "User-agent: *\nDisallow: /a#b\n",
         {{"/a", false}, {"/ab", false}}},
        {"rules_before_any_user_agent_are_ignored",
         "Disallow: /\nUser-agent: *\nDisallow: /x\n",
         {{"/", true}, {"/x", false}}},
        {"bom_crlf",
         "\xEF\xBB\xBFUser-agent: *\r\nDisallow: /a\r\nAllow: /a/b\r\n",
         {{"/a", false}, {"/a/b", true}}},
        {"partial_bom_cr_only",
         "\xEF\xBBUser-agent: *\rDisallow: /a\r",
         {{"/a", false}, {"/b", true}}},
        {"case_insensitive_keys_and_typos",
         "USER-AGENT: *\nDISALLOW: /a\ndisalow: /b\nDissallow: /c\nALLOW: /a/ok\n",
         {{"/a", false}, {"/b", false}, {"/c", false}, {"/a/ok", true}}},
        {"missing_colon_two_words",
         "User-agent *\nDisallow /a\nDisallow /b c\n",
         {{"/a", false}, {"/b", true}, {"/b c", true}}},
        {"garbage_lines_ignored",
         "User-agent: *\n<html><body>\n:::\n\x01\x02\x03\nfoo bar baz\nDisallow: /g\n",
         {{"/g", false}, {"/h", true}}},
        {"value_whitespace_trimmed",
         "User-agent:   *   \nDisallow:\t /t \t\n",
         {{"/t", false}, {"/u", true}}},
    };
    return cases;
}

TEST(RobotsMatch, Table) {
    for (const MatchCase& c : match_cases()) {
        const fc::RobotsRules rules = fc::RobotsRules::parse(c.body, "flagcrawl");
        for (const Probe& p : c.probes) {
            EXPECT_EQ(rules.allowed(p.path), p.allowed) << c.name << ": path " << p.path;
        }
    }
}

struct GroupCase {
    const char* name;
    std::string body;
    bool matched_agent;
    std::vector<Probe> probes;
};

TEST(RobotsGroups, Table) {
    const std::vector<GroupCase> cases = {
        {"specific_group_beats_star",
         "User-agent: *\nDisallow: /\n\nUser-agent: flagcrawl\nDisallow: /private\n",
         true,
         {{"/", true}, {"/private", false}}},
        {"agent_token_case_insensitive_with_version",
         "User-agent: FlagCrawl/2.1 (+http://x)\nDisallow: /a\nUser-agent: *\nDisallow: /\n",
         true,
         {{"/a", false}, {"/b", true}}},
        {"other_agent_ignored_falls_back_to_star",
         "User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n",
         false,
         {{"/", true}, {"/tmp/x", false}}},
        {"prefix_of_token_does_not_match",
         "User-agent: flag\nDisallow: /\nUser-agent: flagcrawler\nDisallow: /\n",
         false,
         {{"/", true}}},
        {"consecutive_user_agents_share_group",
         "User-agent: a\nUser-agent: flagcrawl\nUser-agent: b\nDisallow: /shared\n",
         true,
         {{"/shared", false}, {"/other", true}}},
        {"blank_line_between_user_agents_keeps_group",
         "User-agent: a\n\nUser-agent: flagcrawl\n\nDisallow: /s\n",
         true,
         {{"/s", false}}},
        {"groups_for_same_agent_are_merged",
         "User-agent: flagcrawl\nDisallow: /a\n\nUser-agent: other\nDisallow: /o\n\n"
         "User-agent: flagcrawl\nDisallow: /b\nAllow: /b/c\n",
         true,
         {{"/a", false}, {"/b", false}, {"/b/c", true}, {"/o", true}}},
        {"star_groups_are_merged",
         "User-agent: *\nDisallow: /a\nUser-agent: x\nDisallow: /x\nUser-agent: *\nDisallow: /b\n",
         false,
         {{"/a", false}, {"/b", false}, {"/x", true}}},
        {"matching_group_with_only_empty_disallow",
         "User-agent: flagcrawl\nDisallow:\n\nUser-agent: *\nDisallow: /\n",
         true,
         {{"/", true}, {"/x", true}}},
        {"rule_line_ends_user_agent_run",
         "User-agent: flagcrawl\nDisallow: /a\nUser-agent: other\nDisallow: /b\n",
         true,
         {{"/a", false}, {"/b", true}}},
        {"sitemap_line_ends_user_agent_run",
         "User-agent: flagcrawl\nSitemap: http://h/s.xml\nUser-agent: other\nDisallow: /b\n",
         true,
         {{"/b", true}}},
        {"star_followed_by_text_is_global",
         "User-agent: * extra\nDisallow: /g\n",
         false,
         {{"/g", false}}},
        {"group_naming_star_and_us_is_ours",
         "User-agent: *\nUser-agent: flagcrawl\nDisallow: /both\nUser-agent: *\nDisallow: /\n",
         true,
         {{"/both", false}, {"/", true}}},
    };
    for (const GroupCase& c : cases) {
        const fc::RobotsRules rules = fc::RobotsRules::parse(c.body, "flagcrawl");
        EXPECT_EQ(rules.matched_agent_group(), c.matched_agent) << c.name;
        for (const Probe& p : c.probes) {
            EXPECT_EQ(rules.allowed(p.path), p.allowed) << c.name << ": path " << p.path;
        }
    }
}

TEST(RobotsGroups, MatchingGroupWithoutRulesAllowsAll) {
    // A group that names us but has no rules before the next group: per the grammar the next
    // user-agent line after a blank line still belongs to the same run, so our token shares
    // the "*" group here. With a rule line in between, ours is empty and allows all.
    const auto shared = fc::RobotsRules::parse("User-agent: flagcrawl\n\nUser-agent: *\n"
                                               "Disallow: /\n",
                                               "flagcrawl");
    EXPECT_TRUE(shared.matched_agent_group());
    EXPECT_FALSE(shared.allowed("/"));
    const auto empty = fc::RobotsRules::parse("User-agent: flagcrawl\nCrawl-delay: 1\n"
                                              "User-agent: *\nDisallow: /\n",
                                              "flagcrawl");
    EXPECT_TRUE(empty.matched_agent_group());
    EXPECT_TRUE(empty.allowed("/"));
    EXPECT_EQ(empty.rule_count(), 0U);
}

TEST(RobotsCrawlDelay, Table) {
    struct Case {
        std::string body;
        std::optional<double> delay;
    };
    const std::vector<Case> cases = {
        {"User-agent: *\nCrawl-delay: 5\n", 5.0},
        {"User-agent: *\nCrawl-delay: 0.25\n", 0.25},
        {"User-agent: *\ncrawl-delay:2.5 # comment\n", 2.5},
        {"User-agent: *\nCrawl-delay: -1\n", std::nullopt},
        {"User-agent: *\nCrawl-delay: soon\n", std::nullopt},
        {"User-agent: *\nCrawl-delay: 3s\n", std::nullopt},
        {"User-agent: *\nCrawl-delay: inf\n", std::nullopt},
        {"Crawl-delay: 9\nUser-agent: *\nDisallow: /\n", std::nullopt},
        {"User-agent: *\nCrawl-delay: 7\nCrawl-delay: 8\n", 7.0},
        {"User-agent: *\nCrawl-delay: 10\n\nUser-agent: flagcrawl\nCrawl-delay: 1\n", 1.0},
        {"User-agent: *\nCrawl-delay: 10\n\nUser-agent: flagcrawl\nDisallow: /x\n", std::nullopt},
        {"User-agent: other\nCrawl-delay: 10\n", std::nullopt},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(fc::RobotsRules::parse(c.body, "flagcrawl").crawl_delay(), c.delay) << c.body;
    }
}

TEST(RobotsSitemaps, CollectedFromEverywhere) {
    const auto rules = fc::RobotsRules::parse("Sitemap: http://h/a.xml\nUser-agent: other\n"
                                              "Disallow: /\nsite-map: http://h/b.xml\n"
                                              "SITEMAP:   http://h/c.xml?x=1#f  \nSitemap:\n",
                                              "flagcrawl");
    EXPECT_EQ(rules.sitemaps(),
              (std::vector<std::string>{"http://h/a.xml", "http://h/b.xml", "http://h/c.xml?x=1"}));
}

TEST(RobotsLimits, OnlyFirst500KiBParsedAndCutLineDropped) {
    std::string body = "User-agent: *\n";
    while (body.size() < fc::k_robots_max_bytes - 40) {
        body += "Allow: /filler\n";
    }
    // The next rule straddles the limit: only "Disallow: /sec" is inside it.
    body.resize(fc::k_robots_max_bytes - 15, '#');
    body += "\nDisallow: /secret\nDisallow: /after\n";
    const auto rules = fc::RobotsRules::parse(body, "flagcrawl");
    EXPECT_TRUE(rules.allowed("/sec"));
    EXPECT_TRUE(rules.allowed("/secret"));
    EXPECT_TRUE(rules.allowed("/after"));
    EXPECT_FALSE(fc::RobotsRules::parse("User-agent: *\nDisallow: /secret\n" + body, "flagcrawl")
                     .allowed("/secret"));
}

TEST(RobotsLimits, HugeLinesAndBinaryGarbage) {
    std::string body = std::string("User-agent: *\nDisallow: /").append(100'000, 'a') + "\n";
    for (int i = 0; i < 256; ++i) {
        body += static_cast<char>(i);
    }
    body += "\nDisallow: /z\n";
    const auto rules = fc::RobotsRules::parse(body, "flagcrawl");
    EXPECT_FALSE(rules.allowed(std::string("/").append(100'000, 'a') + "b"));
    EXPECT_TRUE(rules.allowed("/aaa"));
    EXPECT_FALSE(rules.allowed("/z"));
    // A long path that needs canonicalising (heap path in allowed()).
    EXPECT_FALSE(rules.allowed(std::string("/").append(100'000, 'a') + "%62"));
    EXPECT_TRUE(rules.allowed(std::string("/%79").append(5000, '%')));
    EXPECT_FALSE(rules.allowed(std::string("/%7a").append(5000, '%')));
}

// 500 wildcards against a 10,000-octet path: each segment is found leftmost once (linear work);
// a backtracking matcher would need about 2^500 steps. Run in a child under a CPU-time limit of
// 10 s (generous for the linear work, never enough for the exponential), so that a regression
// fails the test (SIGXCPU) instead of hanging the suite.
TEST(RobotsLimits, PathologicalWildcardsTakeBoundedWork) {
    const auto child = flagcrawl::testing_support::run_in_child([] {
        const rlimit cpu{10, 10};
        ::setrlimit(RLIMIT_CPU, &cpu);
        std::string pattern = "/";
        for (int i = 0; i < 500; ++i) {
            pattern += "*a";
        }
        const auto rules =
            fc::RobotsRules::parse("User-agent: *\nDisallow: " + pattern + "$\n", "flagcrawl");
        std::string out;
        for (int i = 0; i < 100; ++i) {
            out = rules.allowed(std::string("/").append(10'000, 'a') + "b") ? "allowed" : "denied";
            out += rules.allowed(std::string("/").append(10'000, 'a')) ? " allowed" : " denied";
        }
        return out;
    });
    ASSERT_TRUE(WIFEXITED(child.status)) << "the matching was killed: unbounded work";
    EXPECT_EQ(child.out, "allowed denied");
}

TEST(RobotsCanonical, Table) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/plain/path?q=1&r=2", "/plain/path?q=1&r=2"},
        {"/a%3cd", "/a%3Cd"},
        {"/a<d>", "/a%3Cd%3E"},
        {"/%41%2d%2e%5f%7e", "/A-._~"},
        {"/%2f%3A", "/%2F%3A"},
        {"/caf\xC3\xA9", "/caf%C3%A9"},
        {"/a b\t", "/a%20b%09"},
        {"/50%", "/50%25"},
        {"/%zz", "/%25zz"},
        {"/%4", "/%254"},
        {"/*$", "/*$"},
        {"/{|}^`\\\"", "/%7B%7C%7D%5E%60%5C%22"},
    };
    for (const auto& [in, out] : cases) {
        EXPECT_EQ(fc::canonicalize_robots_path(in), out) << in;
    }
}

TEST(RobotsPolicy, FixedRules) {
    const auto all = fc::RobotsRules::allow_all();
    EXPECT_TRUE(all.allowed("/"));
    EXPECT_TRUE(all.allowed("/anything?x"));
}

TEST(RobotsMatch, EmptyAgentTokenUsesStarGroups) {
    const auto rules =
        fc::RobotsRules::parse("User-agent: \nDisallow: /a\nUser-agent: *\nDisallow: /b\n", "");
    EXPECT_TRUE(rules.allowed("/a"));
    EXPECT_FALSE(rules.allowed("/b"));
}

} // namespace

namespace {

// Reference matcher straight from the RFC's wording (Google's position-set algorithm), for
// checking the indexed one on random rule sets.
bool reference_match(std::string_view path, std::string_view pattern) {
    std::vector<std::size_t> positions{0};
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '$' && i + 1 == pattern.size()) {
            return positions.back() == path.size();
        }
        std::vector<std::size_t> next;
        if (pattern[i] == '*') {
            for (std::size_t p = positions.front(); p <= path.size(); ++p) {
                next.push_back(p);
            }
        } else {
            for (std::size_t p : positions) {
                if (p < path.size() && path[p] == pattern[i]) {
                    next.push_back(p + 1);
                }
            }
        }
        if (next.empty()) {
            return false;
        }
        positions = next;
    }
    return true;
}

TEST(RobotsMatch, IndexedMatcherAgreesWithReference) {
    std::uint32_t seed = 12345;
    const auto next = [&seed](std::uint32_t n) {
        seed = seed * 1664525U + 1013904223U;
        return (seed >> 8) % n;
    };
    const std::string alphabet = "/ab*";
    for (int round = 0; round < 300; ++round) {
        std::vector<std::pair<std::string, bool>> rules;
        std::string body = "User-agent: *\n";
        const std::uint32_t count = 1 + next(12);
        for (std::uint32_t r = 0; r < count; ++r) {
            std::string pattern = next(4) == 0 ? "*" : "/";
            const std::uint32_t length = next(6);
            for (std::uint32_t i = 0; i < length; ++i) {
                pattern += alphabet[next(4)];
            }
            if (next(4) == 0) {
                pattern += '$';
            }
            const bool allow = next(2) == 0;
            rules.emplace_back(pattern, allow);
            body += std::string(allow ? "Allow: " : "Disallow: ") + pattern + "\n";
        }
        const auto parsed = fc::RobotsRules::parse(body, "flagcrawl");
        for (int q = 0; q < 50; ++q) {
            std::string path = "/";
            const std::uint32_t length = next(8);
            for (std::uint32_t i = 0; i < length; ++i) {
                path += "/ab"[next(3)];
            }
            int best = -1;
            bool allowed = true;
            for (const auto& [pattern, allow] : rules) {
                const int priority = static_cast<int>(pattern.size());
                if (reference_match(path, pattern) &&
                    (priority > best || (priority == best && allow))) {
                    best = priority;
                    allowed = allow;
                }
            }
            ASSERT_EQ(parsed.allowed(path), allowed) << body << "path " << path;
        }
    }
}

} // namespace
