// The synthetic web site of `serve --site N --seed S`: N interlinked HTML pages generated on the
// fly (nothing stored per page), modelled on the benchmark generator gen_site.py, with every
// page reachable from /index.html by construction, plus images, a stylesheet and robots.txt.
#pragma once

#include "server/server.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::server {

struct SiteOptions {
    std::uint64_t pages = 1000; // >= 1
    std::uint64_t seed = 1;
};

// What a host-scoped crawler starting at /index.html finds (only <a href> links followed,
// fragments stripped): all pages, and more distinct URLs than pages because directory forms
// ("/sec03/") and query variants ("?from=nav&v=2", "?v=2&from=nav") name the same pages.
struct SiteStats {
    std::uint64_t pages_total = 0;
    std::uint64_t pages_reachable = 0;          // == pages_total, by construction
    std::uint64_t urls_fragment_stripped = 0;   // distinct URLs, the query kept as written
    std::uint64_t urls_query_canonicalised = 0; // the same with query parameters sorted
    std::uint64_t links_seen = 0;               // <a href> on all reachable pages
    std::uint64_t offsite_links = 0;            // to other hosts (loopback addresses, localhost)
    std::uint64_t special_links = 0;            // mailto:, tel:, javascript:
};

// The site's structure and content; a pure function of the options and, for absolute links,
// the host ("127.0.0.1:8000") the page is rendered for. Immutable, so thread-safe.
//
// Layout: /index.html (page 0); /secAA/index.html (pages 1..S, S = min(20, N-1));
// /secAA/catBB/pNNNNNN.html (the rest); /img/imgNN.gif (40 images); /static/site.css;
// /robots.txt (allows everything). Page i links to its children 8i+1..8i+8, hence the
// reachability; each page has 20-40 links of the kinds gen_site.py makes.
class Site {
public:
    explicit Site(SiteOptions options);
    Site(const Site&) = delete; // holds views into its own text
    Site& operator=(const Site&) = delete;

    std::uint64_t pages() const { return m_options.pages; }
    std::uint64_t seed() const { return m_options.seed; }
    std::string page_path(std::uint64_t id) const;
    // The page a request path names ("/" and "/secAA/" name index pages); nullopt otherwise.
    std::optional<std::uint64_t> page_id(std::string_view path) const;
    // The hrefs of page `id`'s <a> elements, as written in the HTML (before &amp; escaping).
    std::vector<std::string> page_hrefs(std::uint64_t id, std::string_view host) const;
    // The page's HTML (6-20 KB).
    std::string render(std::uint64_t id, std::string_view host) const;
    // Walks the whole link graph (time and memory grow with N: use it on small sites).
    SiteStats stats() const;

    struct Link; // private: one generated link

private:
    std::vector<Link> links(std::uint64_t id, std::uint64_t& rng_state) const;
    std::string href_to(std::uint64_t& rng_state, const std::string& source, std::uint64_t dst,
                        Link& link) const;

    SiteOptions m_options;
    std::uint64_t m_sections;
    std::vector<std::string> m_words;
    std::string m_sentence_text;
    std::vector<std::string_view> m_sentences; // views into m_sentence_text
};

// Serves a Site: pages (rendered per request for the request's Host), images, stylesheet,
// robots.txt; "/secAA" is redirected (301) to "/secAA/"; everything else is 404.
Handler site_handler(std::shared_ptr<const Site> site);

} // namespace flagcrawl::server
