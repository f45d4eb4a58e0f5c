// The broken links of a crawl (`flagcrawl links --broken`, the HTML report): every URL the crawl
// failed to get, or that redirected to such a failure, once, with the pages that link to it.
// Read from the pages and links tables by SQL that streams; memory holds the failing URLs and
// the redirects, and the referrers of one broken link at a time.
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::storage {

struct BrokenLink {
    std::string url; // the target as pages link it (absolute, no fragment)
    // How it failed: the failing fetch's status (nullopt: no response), kind (a code of
    // storage/README.md) and recorded reason. For a link that redirected to the failure, those
    // of the chain's last URL, `redirects_to`, reached in `redirect_hops` redirects.
    std::optional<int> http_status;
    std::string error_kind;
    std::string reason;
    std::optional<std::string> redirects_to;
    int redirect_hops = 0;
    std::string page_kind; // pages.kind of the target's row: "page", "requisite", ...
    // Out of the crawl's scope: an external check of crawl --check-external (pages.external of
    // the target's row; for a link that redirected to the failure, of the link's own URL).
    bool external = false;
    // How the pages link it (links.kind: "anchor", "image", "stylesheet", ...), sorted.
    std::vector<std::string> link_kinds;
    std::uint64_t referrer_count = 0; // distinct pages (by URL) that link it
    std::uint64_t link_count = 0;     // links to it (a page may link it more than once)
    // The referring pages' URLs, sorted; the first BrokenLinksOptions::max_referrers of them.
    std::vector<std::string> referrers;
    // Without a referring page: it was a seed (depth 0), or no page recorded a link to it.
    bool seed = false;
};

struct BrokenLinksOptions {
    // The failure kinds (codes) that make a URL broken: the target's own failures
    // (fetch::is_target_failure). A failure of another kind (robots.txt, a limit) is not listed.
    std::set<std::string, std::less<>> kinds;
    std::size_t max_referrers = 0; // referrers kept per link (0: all); referrer_count counts all
};

struct BrokenLinksTotals {
    std::uint64_t links = 0;     // broken links listed
    std::uint64_t referrals = 0; // (broken link, referring page) pairs
};

// Streams the broken links of crawl `crawl_id` to `on_link`, by URL (byte order); `on_link`
// returns false to stop. A URL reached only through a redirect is not listed on its own: the
// links that redirected to it are. Needs a file with crawl tables (schema step 2).
Result<BrokenLinksTotals>
for_each_broken_link(Reader& reader, std::int64_t crawl_id, const BrokenLinksOptions& options,
                     const std::function<bool(const BrokenLink&)>& on_link);

} // namespace flagcrawl::storage
