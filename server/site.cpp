// The synthetic site: a seeded vocabulary and sentence pool made once, then every page's links
// and text drawn from a generator seeded by (site seed, page id), so any page can be rendered
// alone, in any order, by any thread.
#include "server/site.hpp"

#include "server/gif.hpp"
#include "util/ascii.hpp"
#include "util/hash.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace flagcrawl::server {

namespace {

constexpr std::uint64_t k_max_sections = 20;
constexpr std::uint64_t k_categories = 10;
constexpr std::uint64_t k_fanout = 8;
constexpr int k_images = 40;
constexpr std::uint64_t k_featured = 200; // pages below this id (and hubs) get query variants
constexpr std::array<std::string_view, 2> k_query_variants = {"?from=nav&v=2", "?v=2&from=nav"};
constexpr std::array<std::string_view, 5> k_fragments = {"#top", "#details", "#section-2",
                                                         "#comments", "#footer"};
constexpr std::string_view k_css = "body{font-family:sans-serif;max-width:60em;margin:auto}"
                                   "nav.main li{display:inline;margin-right:1em}\n";
constexpr std::string_view k_robots = "User-agent: *\nAllow: /\n";

double real(std::uint64_t& state) {
    return util::unit_interval(util::splitmix64(state));
}
std::uint64_t below(std::uint64_t& state, std::uint64_t n) {
    return util::splitmix64(state) % n;
}
int between(std::uint64_t& state, int low, int high) { // inclusive
    return low + static_cast<int>(below(state, static_cast<std::uint64_t>(high - low + 1)));
}
template <class T> const T& pick(std::uint64_t& state, const std::vector<T>& items) {
    return items[below(state, items.size())];
}

std::string two_digits(std::uint64_t n) {
    std::string out = std::to_string(n);
    return out.size() < 2 ? "0" + out : out;
}

std::string six_digits(std::uint64_t n) {
    std::string out = std::to_string(n);
    return out.size() < 6 ? std::string(6 - out.size(), '0') + out : out;
}

bool parse_digits(std::string_view text, std::uint64_t& value) {
    if (text.empty() || text.size() > 18) {
        return false;
    }
    value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t at = 1;
    while (at < path.size()) {
        std::size_t end = path.find('/', at);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        parts.push_back(path.substr(at, end - at));
        at = end + 1;
    }
    return parts;
}

// posixpath.relpath(dst, directory of src) for absolute paths; a trailing '/' on dst is kept.
std::string relative_path(std::string_view dst, std::string_view src) {
    std::vector<std::string_view> from = split_path(src);
    from.pop_back(); // the file name
    std::string_view dst_trimmed = dst;
    if (dst_trimmed.size() > 1 && dst_trimmed.ends_with('/')) {
        dst_trimmed.remove_suffix(1);
    }
    const std::vector<std::string_view> to =
        dst_trimmed == "/" ? std::vector<std::string_view>{} : split_path(dst_trimmed);
    std::size_t common = 0;
    while (common < from.size() && common < to.size() && from[common] == to[common]) {
        ++common;
    }
    std::string out;
    for (std::size_t i = common; i < from.size(); ++i) {
        out += out.empty() ? ".." : "/..";
    }
    for (std::size_t i = common; i < to.size(); ++i) {
        if (!out.empty()) {
            out.push_back('/');
        }
        out += to[i];
    }
    if (out.empty()) {
        return "./";
    }
    if (dst.ends_with('/')) {
        out.push_back('/');
    }
    return out;
}

// Only a plain host[:port] from the Host header goes into the pages.
std::string safe_host(std::string_view host) {
    if (host.empty() || host.size() > 255) {
        return "127.0.0.1";
    }
    for (const char c : host) {
        const bool ok =
            util::is_ascii_alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return "127.0.0.1";
        }
    }
    return std::string(host);
}

std::string port_of(std::string_view host) {
    const auto colon = host.rfind(':');
    if (colon == std::string_view::npos || host.ends_with(']')) {
        return "80";
    }
    return std::string(host.substr(colon + 1));
}

std::string sorted_query_key(const std::string& url) {
    // Our query variants have the same two parameters in two orders: sort them.
    const auto q = url.find('?');
    if (q == std::string::npos) {
        return url;
    }
    std::vector<std::string> params;
    std::string_view query = std::string_view(url).substr(q + 1);
    std::size_t at = 0;
    while (at <= query.size()) {
        std::size_t end = query.find('&', at);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        params.emplace_back(query.substr(at, end - at));
        at = end + 1;
    }
    std::sort(params.begin(), params.end());
    std::string out = url.substr(0, q + 1);
    for (std::size_t i = 0; i < params.size(); ++i) {
        out += (i ? "&" : "") + params[i];
    }
    return out;
}

} // namespace

struct Site::Link {
    enum class Kind { page, fragment, offsite, special };
    Kind kind = Kind::page;
    std::uint64_t target = 0; // the page, for Kind::page
    std::string href;         // as written
    std::string url;          // Kind::page: the absolute path and query it resolves to
};

Site::Site(SiteOptions options)
    : m_options(options) {
    if (m_options.pages < 1) {
        throw std::invalid_argument("a site needs at least one page");
    }
    m_sections = std::min(k_max_sections, m_options.pages - 1);
    std::uint64_t rng = m_options.seed * 0x9e3779b97f4a7c15ULL + 12345;
    static constexpr std::string_view k_consonants = "bcdfghjklmnprstvwz";
    static constexpr std::string_view k_vowels = "aeiou";
    std::set<std::string> words;
    while (words.size() < 1500) {
        std::string word;
        for (int syllables = between(rng, 1, 4); syllables > 0; --syllables) {
            word.push_back(k_consonants[below(rng, k_consonants.size())]);
            word.push_back(k_vowels[below(rng, k_vowels.size())]);
        }
        words.insert(word);
    }
    m_words.assign(words.begin(), words.end());
    // The sentences live back to back in one buffer: pages copy them by the hundred, and
    // contiguous text keeps those copies cache-friendly.
    static constexpr std::string_view k_endings = ".....?!";
    std::vector<std::size_t> ends;
    for (int i = 0; i < 6000; ++i) {
        const std::size_t first = m_sentence_text.size();
        for (int n = between(rng, 6, 18); n > 0; --n) {
            if (m_sentence_text.size() != first) {
                m_sentence_text.push_back(' ');
            }
            m_sentence_text += pick(rng, m_words);
        }
        m_sentence_text[first] = static_cast<char>(m_sentence_text[first] - 'a' + 'A');
        m_sentence_text.push_back(k_endings[below(rng, k_endings.size())]);
        ends.push_back(m_sentence_text.size());
    }
    std::size_t begin = 0;
    for (const std::size_t end : ends) {
        m_sentences.push_back(std::string_view(m_sentence_text).substr(begin, end - begin));
        begin = end;
    }
}

std::string Site::page_path(std::uint64_t id) const {
    if (id == 0) {
        return "/index.html";
    }
    if (id <= m_sections) {
        return "/sec" + two_digits(id - 1) + "/index.html";
    }
    const std::uint64_t section = id % m_sections;
    const std::uint64_t category = (id / m_sections) % k_categories;
    return "/sec" + two_digits(section) + "/cat" + two_digits(category) + "/p" + six_digits(id) +
           ".html";
}

std::optional<std::uint64_t> Site::page_id(std::string_view path) const {
    if (path == "/" || path == "/index.html") {
        return 0;
    }
    if (!path.starts_with("/sec")) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    if (path.size() >= 7 && (path.substr(6) == "/" || path.substr(6) == "/index.html")) {
        std::uint64_t section = 0;
        if (!parse_digits(path.substr(4, 2), section) || section + 1 > m_sections) {
            return std::nullopt;
        }
        id = section + 1;
    } else {
        const auto p = path.rfind("/p");
        if (p == std::string_view::npos || !path.ends_with(".html") ||
            !parse_digits(path.substr(p + 2, path.size() - p - 2 - 5), id)) {
            return std::nullopt;
        }
        if (id <= m_sections || id >= m_options.pages) {
            return std::nullopt;
        }
    }
    // The canonical spelling only: "/sec01/cat02/p000123.html", "/sec01/" or its index.html.
    const std::string canonical = page_path(id);
    if (path != canonical && !(id <= m_sections && path == canonical.substr(0, 7))) {
        return std::nullopt;
    }
    return id;
}

std::string Site::href_to(std::uint64_t& rng, const std::string& source, std::uint64_t dst,
                          Link& link) const {
    std::string form = page_path(dst);
    const double r = real(rng);
    if (dst <= m_sections && real(rng) < 0.5) {
        form.resize(form.size() - std::string_view("index.html").size()); // "/secAA/" or "/"
    }
    std::string href;
    if (r < 0.55) {
        href = relative_path(form, source);
        if (!href.starts_with("../") && !href.starts_with("./") && real(rng) < 0.5) {
            href = "./" + href;
        }
    } else if (r < 0.88) {
        href = form;
    } else {
        href = "http://{host}" + form; // the host is filled in when rendering
    }
    std::string query;
    if ((dst <= m_sections || dst < k_featured) && real(rng) < 0.12) {
        query = k_query_variants[below(rng, k_query_variants.size())];
    }
    href += query;
    if (real(rng) < 0.06) {
        href += k_fragments[below(rng, k_fragments.size())];
    }
    link.kind = Link::Kind::page;
    link.target = dst;
    link.url = form + query;
    return href;
}

std::vector<Site::Link> Site::links(std::uint64_t id, std::uint64_t& rng) const {
    // Order: navigation, then the body's links, then the "related" list (see render()).
    std::vector<Link> nav;
    const std::string source = page_path(id);
    auto add_page = [&](std::vector<Link>& list, std::uint64_t dst) {
        Link link;
        link.href = href_to(rng, source, dst, link);
        list.push_back(std::move(link));
    };
    const int total = between(rng, 20, 40);
    nav.push_back(Link{Link::Kind::page, 0, "/", "/"});
    if (id == 0) {
        nav.push_back(Link{Link::Kind::page, 0, "./index.html", "/index.html"});
    } else {
        add_page(nav, 0);
    }
    std::vector<std::uint64_t> sections;
    for (std::uint64_t s = 1; s <= m_sections; ++s) {
        sections.push_back(s);
    }
    for (std::size_t i = 0; i < std::min<std::size_t>(3, sections.size()); ++i) {
        std::swap(sections[i], sections[i + below(rng, sections.size() - i)]);
        add_page(nav, sections[i]);
    }
    if (id > 0) {
        add_page(nav, (id - 1) / k_fanout);
    }
    nav.push_back(Link{Link::Kind::fragment, 0, "#top", ""});

    std::vector<Link> inline_links;
    for (std::uint64_t child = k_fanout * id + 1;
         child <= k_fanout * id + k_fanout && child < m_options.pages; ++child) {
        add_page(inline_links, child);
    }
    std::vector<Link> extra;
    for (int n = between(rng, 1, 2); n > 0; --n) {
        Link link;
        link.kind = Link::Kind::offsite;
        switch (below(rng, 4)) {
        case 0:
            link.href = "http://127.0.0.2:{port}/partner/p" +
                        std::to_string(1000 + below(rng, 9000)) + ".html";
            break;
        case 1:
            link.href = "http://localhost:{port}/mirror/p" +
                        std::to_string(1000 + below(rng, 9000)) + ".html";
            break;
        case 2:
            link.href = "http://127.0.0.3/ads/click?id=" + std::to_string(below(rng, 100000));
            break;
        default:
            link.href = "https://127.0.0.4/login";
        }
        extra.push_back(std::move(link));
    }
    if (real(rng) < 0.5) {
        Link link;
        link.kind = Link::Kind::special;
        switch (below(rng, 3)) {
        case 0:
            link.href = "mailto:info" + std::to_string(below(rng, 100)) + "@example.invalid";
            break;
        case 1:
            link.href = "javascript:void(0)";
            break;
        default:
            link.href = "tel:+15550100" + two_digits(below(rng, 100));
        }
        extra.push_back(std::move(link));
    }
    const int fixed = static_cast<int>(nav.size() + inline_links.size() + extra.size());
    std::vector<Link> random_links;
    for (int n = std::max(0, total - fixed); n > 0 && m_options.pages > 1; --n) {
        add_page(random_links, below(rng, m_options.pages));
    }
    const std::size_t half = random_links.size() / 2;
    for (std::size_t i = 0; i < half; ++i) {
        inline_links.push_back(std::move(random_links[i]));
    }
    for (auto& link : extra) {
        inline_links.push_back(std::move(link));
    }
    for (std::size_t i = inline_links.size(); i > 1; --i) {
        std::swap(inline_links[i - 1], inline_links[below(rng, i)]);
    }

    std::vector<Link> out = std::move(nav);
    out.push_back(Link{Link::Kind::fragment, 0, "", ""}); // separator: inline links follow
    for (auto& link : inline_links) {
        out.push_back(std::move(link));
    }
    out.push_back(Link{Link::Kind::fragment, 0, "", ""}); // separator: related links follow
    for (std::size_t i = half; i < random_links.size(); ++i) {
        out.push_back(std::move(random_links[i]));
    }
    return out;
}

namespace {

// Appends `href` with every {host} and {port} filled in, and with & written as &amp; if
// `escape_amp` (an HTML attribute). The one filler of render() and page_hrefs(), so the hrefs a
// test expects are those a page has.
void append_filled(std::string& out, std::string_view href, std::string_view host,
                   std::string_view port, bool escape_amp) {
    for (std::size_t i = 0; i < href.size(); ++i) {
        const char c = href[i];
        if (c == '&' && escape_amp) {
            out += "&amp;";
        } else if (c == '{' && href.compare(i, 6, "{host}") == 0) {
            out += host;
            i += 5;
        } else if (c == '{' && href.compare(i, 6, "{port}") == 0) {
            out += port;
            i += 5;
        } else {
            out.push_back(c);
        }
    }
}

std::uint64_t page_seed(std::uint64_t seed, std::uint64_t id) {
    return seed * 1000003ULL + id * 7919ULL + 17;
}

} // namespace

std::vector<std::string> Site::page_hrefs(std::uint64_t id, std::string_view host) const {
    std::uint64_t rng = page_seed(m_options.seed, id);
    const std::string h = safe_host(host);
    const std::string port = port_of(h);
    std::vector<std::string> out;
    for (const Link& link : links(id, rng)) {
        if (link.href.empty()) {
            continue;
        }
        std::string href;
        append_filled(href, link.href, h, port, false);
        out.push_back(std::move(href));
    }
    return out;
}

std::string Site::render(std::uint64_t id, std::string_view host_header) const {
    std::uint64_t rng = page_seed(m_options.seed, id);
    const std::string host = safe_host(host_header);
    const std::string port = port_of(host);
    const std::vector<Link> all = links(id, rng);
    // Split at the two separators.
    std::vector<const Link*> parts[3];
    int part = 0;
    for (const Link& link : all) {
        if (link.href.empty()) {
            ++part;
        } else {
            parts[part].push_back(&link);
        }
    }
    // Everything is appended in place: a page is rendered per request, so no temporaries.
    auto append_words = [&](std::string& out) {
        const std::size_t first = out.size();
        for (int n = between(rng, 1, 4); n > 0; --n) {
            if (out.size() != first) {
                out.push_back(' ');
            }
            out += pick(rng, m_words);
        }
        out[first] = static_cast<char>(out[first] - 'a' + 'A');
    };
    auto append_anchor = [&](std::string& out, const Link& link) {
        out += "<a href=\"";
        append_filled(out, link.href, host, port, true);
        out += "\">";
        append_words(out);
        out += "</a>";
    };

    const auto target = static_cast<std::size_t>(between(rng, 6 * 1024, 20 * 1024));
    std::string title;
    append_words(title);
    std::string out;
    out.reserve(target + 4096);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
    out += title;
    out += " | Synthetic Site page ";
    out += std::to_string(id);
    out += "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n"
           "<a id=\"top\"></a>\n<header><nav class=\"main\"><ul>\n";
    for (const Link* link : parts[0]) {
        out += "  <li>";
        append_anchor(out, *link);
        out += "</li>\n";
    }
    out += "</ul></nav></header>\n<main>\n<h1>";
    out += title;
    out += "</h1>\n";
    for (int n = between(rng, 0, 2); n > 0; --n) {
        out += "<img src=\"/img/img";
        out += two_digits(below(rng, k_images));
        out += ".gif\" alt=\"";
        append_words(out);
        out += "\" width=\"32\" height=\"32\">\n";
    }
    std::string footer = "<section id=\"related\"><h2>Related</h2><ul>\n";
    for (const Link* link : parts[2]) {
        footer += "  <li>";
        append_anchor(footer, *link);
        footer += "</li>\n";
    }
    footer += "</ul></section>\n</main>\n<footer id=\"footer\"><p>Synthetic page ";
    footer += std::to_string(id);
    footer += ", generated for benchmarks.</p></footer>\n</body>\n</html>\n";

    std::vector<const Link*> pending = parts[1];
    std::vector<std::size_t> sentences;
    for (int section = 0; out.size() + footer.size() < target || !pending.empty(); ++section) {
        if (section % 4 == 0) {
            out += "<h2 id=\"section-";
            out += std::to_string(section / 4 + 1);
            out += "\">";
            append_words(out);
            out += "</h2>\n";
        }
        sentences.clear();
        for (int n = between(rng, 3, 8); n > 0; --n) {
            sentences.push_back(below(rng, m_sentences.size()));
        }
        const Link* link = nullptr;
        std::size_t linked = sentences.size(); // the sentence that carries the link
        if (!pending.empty()) {
            link = pending.back();
            pending.pop_back();
            linked = below(rng, sentences.size());
        }
        out += "<p>";
        for (std::size_t i = 0; i < sentences.size(); ++i) {
            const std::string_view sentence = m_sentences[sentences[i]];
            if (i) {
                out.push_back(' ');
            }
            if (i == linked) {
                out.append(sentence.substr(0, sentence.size() - 1));
                out.push_back(' ');
                append_anchor(out, *link);
                out.push_back(sentence.back());
            } else {
                out += sentence;
            }
        }
        out += "</p>\n";
    }
    out += footer;
    return out;
}

SiteStats Site::stats() const {
    SiteStats stats;
    stats.pages_total = m_options.pages;
    std::unordered_set<std::string> seen{"/index.html"};
    std::unordered_set<std::string> canonical{"/index.html"};
    std::vector<bool> reached(m_options.pages, false);
    std::deque<std::pair<std::string, std::uint64_t>> queue{{"/index.html", 0}};
    while (!queue.empty()) {
        const std::uint64_t id = queue.front().second;
        queue.pop_front();
        reached[id] = true;
        std::uint64_t rng = page_seed(m_options.seed, id);
        for (const Link& link : links(id, rng)) {
            if (link.href.empty()) {
                continue; // separator
            }
            ++stats.links_seen;
            if (link.kind == Link::Kind::offsite) {
                ++stats.offsite_links;
            } else if (link.kind == Link::Kind::special) {
                ++stats.special_links;
            } else if (link.kind == Link::Kind::page && seen.insert(link.url).second) {
                canonical.insert(sorted_query_key(link.url));
                queue.emplace_back(link.url, link.target);
            }
        }
    }
    stats.pages_reachable =
        static_cast<std::uint64_t>(std::count(reached.begin(), reached.end(), true));
    stats.urls_fragment_stripped = seen.size();
    stats.urls_query_canonicalised = canonical.size();
    return stats;
}

Handler site_handler(std::shared_ptr<const Site> site) {
    // Images: 32x32 noise in 16 colours, made once.
    auto images = std::make_shared<std::vector<Body>>();
    std::uint64_t rng = site->seed() + 99;
    for (int i = 0; i < k_images; ++i) {
        IndexedImage image;
        image.width = image.height = 32;
        for (int c = 0; c < 16; ++c) {
            const std::uint64_t bits = util::splitmix64(rng);
            image.palette.push_back({static_cast<std::uint8_t>(bits),
                                     static_cast<std::uint8_t>(bits >> 8),
                                     static_cast<std::uint8_t>(bits >> 16)});
        }
        for (int p = 0; p < 32 * 32; ++p) {
            image.pixels.push_back(static_cast<std::uint8_t>(below(rng, 16)));
        }
        images->push_back(make_body(encode_gif(image)));
    }
    auto css = make_body(std::string(k_css));
    auto robots = make_body(std::string(k_robots));
    return [site, images, css, robots](const Request& request) {
        const std::string_view path = request.path;
        if (const auto id = site->page_id(path)) {
            return Reply::bytes(200, make_body(site->render(*id, request.header("Host"))),
                                "text/html; charset=utf-8");
        }
        if (path == "/robots.txt") {
            return Reply::bytes(200, robots, "text/plain; charset=utf-8");
        }
        if (path == "/static/site.css") {
            return Reply::bytes(200, css, "text/css; charset=utf-8");
        }
        if (path.starts_with("/img/img") && path.ends_with(".gif") && path.size() == 14) {
            std::uint64_t n = 0;
            if (parse_digits(path.substr(8, 2), n) && n < images->size()) {
                return Reply::bytes(200, (*images)[n], "image/gif");
            }
        }
        if (path.size() == 6 && site->page_id(std::string(path) + "/")) {
            return Reply::redirect(301, std::string(path) + "/");
        }
        return Reply::text(404, "not found\n");
    };
}

} // namespace flagcrawl::server
