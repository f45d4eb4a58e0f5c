#include "crawler/robots/robots.hpp"

#include "util/ascii.hpp"
#include "util/percent.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace flagcrawl::crawler {
namespace {

// Per-octet classes for canonicalisation.
enum : std::uint8_t { k_keep = 0, k_percent = 1, k_encode = 2 };

constexpr std::array<std::uint8_t, 256> make_octet_classes() {
    std::array<std::uint8_t, 256> classes{};
    for (int c = 0; c < 256; ++c) {
        if (c <= 0x20 || c >= 0x7F) {
            classes[c] = k_encode;
        }
    }
    for (char c : std::string_view("\"<>\\^`{|}")) {
        classes[static_cast<unsigned char>(c)] = k_encode;
    }
    classes['%'] = k_percent;
    return classes;
}
constexpr auto k_octet_classes = make_octet_classes();

constexpr char k_hex_upper[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
    return util::is_ascii_alnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

bool needs_canonicalizing(std::string_view text) {
    for (char c : text) {
        if (k_octet_classes[static_cast<unsigned char>(c)] != k_keep) {
            return true;
        }
    }
    return false;
}

// Writes the canonical form of `text` to `out`, which has room for 3 * text.size() octets;
// returns the length written.
std::size_t canonicalize_into(std::string_view text, char* out) {
    char* o = out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (k_octet_classes[c]) {
        case k_keep:
            *o++ = static_cast<char>(c);
            break;
        case k_percent: {
            const int hi = i + 2 < text.size() ? util::hex_value(text[i + 1]) : -1;
            const int lo = hi >= 0 ? util::hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *o++ = '%';
                *o++ = '2';
                *o++ = '5';
                break;
            }
            const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
            if (is_unreserved(decoded)) {
                *o++ = static_cast<char>(decoded);
            } else {
                *o++ = '%';
                *o++ = k_hex_upper[hi];
                *o++ = k_hex_upper[lo];
            }
            i += 2;
            break;
        }
        default:
            *o++ = '%';
            *o++ = k_hex_upper[c >> 4];
            *o++ = k_hex_upper[c & 0xF];
            break;
        }
    }
    return static_cast<std::size_t>(o - out);
}

// robots.txt's whitespace within a line (Google's parser's; lines end at CR and LF).
constexpr std::string_view k_space = " \t\v\f";

bool is_space(char c) {
    return k_space.find(c) != std::string_view::npos;
}

enum class Key { user_agent, allow, disallow, sitemap, crawl_delay, unknown };

// Key names as Google's parser accepts them: prefixes, case-insensitive, common typos.
Key classify_key(std::string_view key) {
    for (std::string_view k : {"user-agent", "useragent", "user agent"}) {
        if (util::iequals_prefix(key, k)) {
            return Key::user_agent;
        }
    }
    if (util::iequals_prefix(key, "allow")) {
        return Key::allow;
    }
    for (std::string_view k :
         {"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"}) {
        if (util::iequals_prefix(key, k)) {
            return Key::disallow;
        }
    }
    if (util::iequals_prefix(key, "sitemap") || util::iequals_prefix(key, "site-map")) {
        return Key::sitemap;
    }
    if (util::iequals_prefix(key, "crawl-delay") || util::iequals_prefix(key, "crawldelay")) {
        return Key::crawl_delay;
    }
    return Key::unknown;
}

// Splits a comment-free, trimmed line into key and value; false for lines without one.
bool split_line(std::string_view line, std::string_view& key, std::string_view& value) {
    std::size_t sep = line.find(':');
    std::size_t value_start = sep + 1;
    if (sep == std::string_view::npos) {
        // Google accepts "key value" without a colon when the line has exactly two words.
        sep = line.find_first_of(" \t");
        if (sep == std::string_view::npos) {
            return false;
        }
        value_start = line.find_first_not_of(" \t", sep);
        if (line.find_first_of(" \t", value_start) != std::string_view::npos) {
            return false;
        }
    }
    key = util::trim(line.substr(0, sep), k_space);
    value = util::trim(line.substr(value_start), k_space);
    return !key.empty();
}

// Leading product token of a user-agent value: [A-Za-z_-]*.
std::string_view product_token(std::string_view value) {
    std::size_t n = 0;
    while (n < value.size()) {
        const char c = value[n];
        if (!util::is_ascii_alpha(c) && c != '-' && c != '_') {
            break;
        }
        ++n;
    }
    return value.substr(0, n);
}

std::optional<double> parse_delay(std::string_view value) {
    double seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(seconds) ||
        seconds < 0) {
        return std::nullopt;
    }
    return seconds;
}

struct PendingRule {
    std::string pattern; // canonical, '$' kept
    bool allow;
};

struct GroupRules {
    std::vector<PendingRule> rules;
    std::optional<double> crawl_delay;
};

// The part of a body that is parsed: at most k_robots_max_bytes, without the line the limit cut
// (half a rule could mean something else), and without a UTF-8 BOM or the part of one that is
// there (as Google does).
std::string_view parsed_part(std::string_view body) {
    if (body.size() > k_robots_max_bytes) {
        body = body.substr(0, k_robots_max_bytes);
        const std::size_t last_eol = body.find_last_of("\r\n");
        body = last_eol == std::string_view::npos ? std::string_view{} : body.substr(0, last_eol);
    }
    static constexpr std::string_view k_bom = "\xEF\xBB\xBF";
    for (std::size_t i = 0; i < k_bom.size() && !body.empty() && body.front() == k_bom[i]; ++i) {
        body.remove_prefix(1);
    }
    return body;
}

// The "key: value" lines of a body in order; comments, blank lines and lines without a key are
// skipped. LF, CR and CRLF end lines.
class LineReader {
public:
    explicit LineReader(std::string_view body)
        : m_body(body) {}

    bool next(Key& kind, std::string_view& value) {
        while (m_pos < m_body.size()) {
            std::size_t eol = m_body.find_first_of("\r\n", m_pos);
            if (eol == std::string_view::npos) {
                eol = m_body.size();
            }
            std::string_view line = m_body.substr(m_pos, eol - m_pos);
            m_pos = eol + 1;
            if (eol < m_body.size() && m_body[eol] == '\r' && m_pos < m_body.size() &&
                m_body[m_pos] == '\n') {
                ++m_pos;
            }
            if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
                line = line.substr(0, hash);
            }
            line = util::trim(line, k_space);
            std::string_view key;
            if (!line.empty() && split_line(line, key, value)) {
                kind = classify_key(key);
                return true;
            }
        }
        return false;
    }

private:
    std::string_view m_body;
    std::size_t m_pos = 0;
};

// Sorts the lines into groups (see robots.hpp): the rules and delay of the groups naming our
// token and of the "*" groups, and every sitemap.
class GroupSorter {
public:
    explicit GroupSorter(std::string_view agent_token)
        : m_token(agent_token) {}

    void add(Key kind, std::string_view value) {
        if (kind == Key::user_agent) {
            if (!m_in_agent_lines) {
                m_group_specific = m_group_global = false;
                m_in_agent_lines = true;
            }
            if (!value.empty() && value[0] == '*' && (value.size() == 1 || is_space(value[1]))) {
                m_group_global = true;
            } else if (!m_token.empty() && util::iequals(product_token(value), m_token)) {
                m_group_specific = true;
                m_matched = true;
            }
            return;
        }
        m_in_agent_lines = false;
        if (kind == Key::sitemap) {
            if (!value.empty()) {
                m_sitemaps.emplace_back(value);
            }
            return;
        }
        if (kind == Key::unknown || (!m_group_specific && !m_group_global)) {
            return;
        }
        GroupRules& group = m_group_specific ? m_specific : m_global;
        if (kind == Key::crawl_delay) {
            if (!group.crawl_delay) {
                group.crawl_delay = parse_delay(value);
            }
            return;
        }
        if (value.empty() || (value[0] != '/' && value[0] != '*')) {
            return;
        }
        group.rules.push_back({canonicalize_robots_path(value), kind == Key::allow});
    }

    // True when some group named our token (its groups are chosen, the "*" ones ignored).
    bool matched() const { return m_matched; }
    GroupRules& chosen() { return m_matched ? m_specific : m_global; }
    std::vector<std::string>& sitemaps() { return m_sitemaps; }

private:
    std::string_view m_token;
    GroupRules m_specific;
    GroupRules m_global;
    std::vector<std::string> m_sitemaps;
    bool m_in_agent_lines = false; // the previous key line was a user-agent line
    bool m_group_specific = false; // the current group names our token
    bool m_group_global = false;   // the current group names "*"
    bool m_matched = false;
};

} // namespace

std::string canonicalize_robots_path(std::string_view text) {
    std::string out(text.size() * 3, '\0');
    out.resize(canonicalize_into(text, out.data()));
    return out;
}

RobotsRules RobotsRules::parse(std::string_view body, std::string_view agent_token) {
    LineReader lines(parsed_part(body));
    GroupSorter groups(agent_token);
    Key kind = Key::unknown;
    std::string_view value;
    while (lines.next(kind, value)) {
        groups.add(kind, value);
    }
    RobotsRules result;
    result.m_matched_agent = groups.matched();
    result.m_sitemaps = std::move(groups.sitemaps());
    result.m_crawl_delay = groups.chosen().crawl_delay;
    std::size_t total = 0;
    for (const PendingRule& rule : groups.chosen().rules) {
        total += rule.pattern.size();
    }
    result.m_patterns.reserve(total);
    result.m_rules.reserve(groups.chosen().rules.size());
    for (const PendingRule& rule : groups.chosen().rules) {
        result.add_rule(rule.pattern, rule.allow);
    }
    result.build_index();
    return result;
}

void RobotsRules::add_rule(std::string_view pattern, bool allow) {
    Rule rule;
    rule.priority = static_cast<std::uint32_t>(pattern.size());
    rule.allow = allow;
    if (pattern.back() == '$') {
        rule.anchored = true;
        pattern.remove_suffix(1);
    }
    rule.wildcard = pattern.find('*') != std::string_view::npos;
    rule.offset = static_cast<std::uint32_t>(m_patterns.size());
    rule.length = static_cast<std::uint32_t>(pattern.size());
    m_patterns.append(pattern);
    m_rules.push_back(rule);
}

void RobotsRules::build_index() {
    std::stable_sort(m_rules.begin(), m_rules.end(), [](const Rule& a, const Rule& b) {
        if (a.priority != b.priority) {
            return a.priority > b.priority;
        }
        return a.allow && !b.allow;
    });
    m_bucket_start.assign(k_buckets + 1, 0);
    m_bucket_rules.clear();
    m_unindexed.clear();
    std::vector<std::size_t> keys(m_rules.size(), k_buckets);
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        const Rule& rule = m_rules[i];
        const std::string_view text(m_patterns.data() + rule.offset, rule.length);
        // Indexable: "/xy..." with x and y literal (a path shorter than 3 octets or with other
        // octets there cannot match it).
        if (text.size() >= 3 && text[0] == '/' && text[1] != '*' && text[2] != '*') {
            keys[i] = bucket_of(text[1], text[2]);
            ++m_bucket_start[keys[i] + 1];
        } else {
            m_unindexed.push_back(static_cast<std::uint32_t>(i));
        }
    }
    for (std::size_t b = 0; b < k_buckets; ++b) {
        m_bucket_start[b + 1] += m_bucket_start[b];
    }
    m_bucket_rules.resize(m_bucket_start[k_buckets]);
    std::vector<std::uint32_t> fill(m_bucket_start.begin(), m_bucket_start.end() - 1);
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        if (keys[i] != k_buckets) {
            m_bucket_rules[fill[keys[i]]++] = static_cast<std::uint32_t>(i);
        }
    }
}

bool RobotsRules::matches(const Rule& rule, std::string_view path) const {
    std::string_view pattern(m_patterns.data() + rule.offset, rule.length);
    if (!rule.wildcard) {
        return rule.anchored ? path == pattern : path.starts_with(pattern);
    }
    // Segments between '*'s: the first is anchored at the start, the middle ones are found
    // leftmost (greedy leftmost is enough when the only wildcard is '*'), the last one is
    // anchored at the end when the pattern ended with '$'.
    std::size_t star = pattern.find('*');
    if (!path.starts_with(pattern.substr(0, star))) {
        return false;
    }
    std::size_t pos = star;
    pattern.remove_prefix(star + 1);
    for (;;) {
        star = pattern.find('*');
        if (star == std::string_view::npos) {
            if (rule.anchored) {
                return path.size() - pos >= pattern.size() && path.ends_with(pattern);
            }
            return pattern.empty() || path.find(pattern, pos) != std::string_view::npos;
        }
        if (star > 0) {
            const std::size_t found = path.find(pattern.substr(0, star), pos);
            if (found == std::string_view::npos) {
                return false;
            }
            pos = found + star;
        }
        pattern.remove_prefix(star + 1);
    }
}

bool RobotsRules::allowed_canonical(std::string_view path) const {
    // Both candidate lists keep m_rules' order (longest first, Allow first on ties), so the
    // first match in each is that list's best; the better of the two decides.
    const Rule* best = nullptr;
    if (path.size() >= 3) {
        const std::size_t b = bucket_of(path[1], path[2]);
        for (std::uint32_t i = m_bucket_start[b]; i < m_bucket_start[b + 1]; ++i) {
            const Rule& rule = m_rules[m_bucket_rules[i]];
            if (matches(rule, path)) {
                best = &rule;
                break;
            }
        }
    }
    for (const std::uint32_t index : m_unindexed) {
        const Rule& rule = m_rules[index];
        if (best != nullptr &&
            (rule.priority < best->priority || (rule.priority == best->priority && !rule.allow))) {
            break; // nothing further down can beat the indexed match
        }
        if (matches(rule, path)) {
            best = &rule;
            break;
        }
    }
    return best == nullptr || best->allow;
}

bool RobotsRules::allowed(std::string_view path_and_query) const {
    if (path_and_query.empty()) {
        path_and_query = "/";
    }
    if (path_and_query == "/robots.txt") {
        return true;
    }
    if (m_rules.empty()) {
        return true;
    }
    if (!needs_canonicalizing(path_and_query)) {
        return allowed_canonical(path_and_query);
    }
    constexpr std::size_t k_stack_input = 2048;
    if (path_and_query.size() <= k_stack_input) {
        char buffer[k_stack_input * 3];
        const std::size_t n = canonicalize_into(path_and_query, buffer);
        return allowed_canonical(std::string_view(buffer, n));
    }
    return allowed_canonical(canonicalize_robots_path(path_and_query));
}

} // namespace flagcrawl::crawler
