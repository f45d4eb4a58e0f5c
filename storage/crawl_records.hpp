// The records of `flagcrawl crawl` and the tables they fill (schema steps 2 to 6): crawls,
// crawl_runs, pages, links, frontier, skips. This comment is the reference for readers of those
// tables (stats, export, crawl --resume).
#pragma once

#include "storage/records.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::storage {

// Tables (times are ISO-8601 UTC text with milliseconds, durations REAL milliseconds):
//
// crawls       one row per crawl (a crawl may span several invocations: --resume).
//   id           = the id of the `runs` row of the invocation that started it.
//   seeds        JSON array of the seed URLs.
//   options      JSON object of the options that define the crawl (scope, depth, include,
//                exclude, canonical_query, page_requisites, robots, save_bodies, ...); a
//                resumed run reads them back instead of taking them from its command line.
//   status       'running' (in progress, or the process died and no flagcrawl opened the file
//                since: resumable), 'interrupted' (Ctrl-C, or its runs were found killed,
//                stop_reason "killed": resumable), 'stopped' (a limit ended it: resumable),
//                'finished' (frontier exhausted), 'failed' (the store failed).
//   stop_reason  why the last invocation ended, e.g. "frontier exhausted",
//                "--max-pages 100 reached", "interrupted"; NULL while running.
//   seen_urls, seen_bytes  (step 3) the keys in the crawl's in-memory seen-sets (the URLs it
//                accepted and, since step 6, those it skipped) and the RAM they took (bytes)
//                when the latest invocation that recorded them ended: a resumed run overwrites
//                them. NULL until one has ended (and in crawls of older builds).
//                The URL count is kept with the bytes because the frontier keeps growing while
//                a later run works: bytes per seen URL is seen_bytes / seen_urls.
// crawl_runs   (crawl_id, run_id): every invocation that worked on a crawl. Each invocation has
//              its own `runs` row (its strategy, concurrency, start, end and totals); the whole
//              crawl is `pages WHERE crawl_id = ?` and the sum over its runs.
// pages        one row per response (or failed request) of the crawl.
//   crawl_id, run_id  the crawl, and the invocation that fetched it.
//   seq          the frontier row it came from (NULL for robots.txt).
//   kind         'page' (HTML pages and anything reached through page links), 'requisite'
//                (assets fetched with --page-requisites), 'robots' (a /robots.txt fetch: not a
//                page; counted by no limit), 'sitemap' (step 10: a sitemap file the crawl read,
//                frontier.sitemap says why; not a page, counted by no limit; its links are the
//                URLs it lists, of kind 'sitemap').
//   url          as requested; final_url: the response's URL (== url: redirects are not
//                followed by the engine, each hop is its own row), NULL without response.
//   http_status  NULL without a response; content_type as sent; bytes: body bytes received.
//   title        <title> of HTML pages; depth: link hops from a seed (redirect hops do not
//                count); location: the absolute Location of a 3xx; noindex: 1 when a meta
//                robots or X-Robots-Tag said noindex (and robots were honoured).
//   fetched_at, elapsed_ms (retries included), attempts (0: not fetched, e.g. disallowed by
//   robots.txt, see error), error (NULL when the request produced a response that is not a
//   failure; else a readable reason), body (BLOB, --save-bodies only; not for noindex pages).
//   dns_ms, connect_ms, ttfb_ms  (step 3: the last columns, after body) the final attempt's
//                time to resolve, to connect and to the first response byte, from its start
//                (dns and connect are 0 on a reused connection); NULL without a response, and
//                in rows of older builds.
//   error_kind   (step 4: after ttfb_ms) with an error, its kind: a stable code listed in
//                storage/README.md ('timeout', 'http_status', 'robots', ...); NULL without an
//                error. Step 4 filled it in older files from the error text.
//   external     (step 12: after error_kind) 1: an external check (crawl --check-external): an
//                out-of-scope link target requested once with HEAD (or GET, its body not read),
//                never parsed; not a page of the crawl (stats count it apart, limits do not count
//                it), but a broken link all the same. 0 otherwise.
// links        the links found on a page (pages parsed for links only: not requisites).
//   page_id      pages.id; n: position in the document (0-based).
//   to_url       absolute URL without fragment; kind: anchor, frame, refresh, canonical,
//                alternate, other_link, stylesheet, icon, preload, image, script, media, embed,
//                object; nofollow: rel=nofollow on the link or a page-level nofollow.
// frontier     every URL the crawl accepted (in scope, allowed, new), in discovery order. From
//              step 13 on a view, with these columns, of the table frontier_urls (the same
//              columns but state) and of frontier_queue (below), which gives state.
//   crawl_id, seq  seq counts from 1 in discovery (BFS) order within the crawl.
//   key_hash     key_hash(normalize_key(url)) of crawler/url.hpp, stored as the signed 64-bit
//                integer with the same bits: the seen-set is rebuilt from this column.
//   url, depth, redirects (redirect hops that led here), requisite (0/1),
//   state        0 queued, 1 done (a pages row with this seq exists, committed with it, or a
//                skips row: a queued URL robots.txt refused once its rules were known). From
//                step 13 on, 0 while the row has a frontier_queue row.
//   chain_seq, chain_keys  (step 6) a redirect target: the seq of the URL that started its
//                redirect chain, and the key hashes of the chain's URLs before it (8 bytes each,
//                little-endian, the start first); NULL for a URL not reached by a redirect.
//                (Step 5 indexes the queued rows by (crawl_id, depth, seq): the crawl's order.)
//   sitemap      (step 10) 0: not a sitemap; a sitemap to read: 1 named by a seed host's
//                robots.txt, 2 the seed host's /sitemap.xml tried unasked (a 4xx is no
//                failure), 3 listed by a sitemap index (not read as another index).
//   from_seq     (step 11) the seq of the frontier row whose page first led here (by a link, or
//                by a redirect: the hop before it); NULL for a seed (and in rows of older files).
//   external     (step 12) 1: an out-of-scope URL queued to be checked once (crawl
//                --check-external), not a page of the crawl; 0 otherwise.
// frontier_queue (step 13) one row per queued frontier row, (crawl_id, depth, seq) as the
//              frontier row has them: its key is the order the crawl pages the queued rows back
//              in. Inserted with the frontier row, deleted when the row is done (deleting it
//              costs a third of what rewriting the frontier row's state did).
// skips        (step 6) every URL a crawl saw and did not fetch, once: a link or redirect target
//              out of scope or filtered out, of another scheme (mailto:, javascript:, ...),
//              invalid, refused by robots.txt, not followed (nofollow) or cut by a limit (the
//              depth, the trap defences).
//   crawl_id, key_hash  the URL's seen-set key (of the text as written for one that does not
//                parse); run_id: the invocation that decided it; page_id: the page whose link
//                or redirect it was (NULL: a seed or a queued URL).
//   kind         its fetch::FailureKind code: out_of_scope, disallowed_scheme, invalid_url,
//                robots, nofollow, limit_reached; rule: what decided it ("scope host",
//                "--exclude", "mailto", "robots.txt", "rel=nofollow", "--depth 3",
//                "--max-url-length 2083", ...).
//   url          the absolute URL, or the link as written (at most 2048 bytes: longer ones are
//                cut and end in "...").
//   tentative    1: the URL may yet be fetched through another link (nofollow on this one, or
//                past the depth on this path): the row is deleted if it is.

enum class PageKind { page, requisite, robots, sitemap };
std::string_view to_string(PageKind kind); // "page" | "requisite" | "robots" | "sitemap"

enum class CrawlStatus { running, stopped, interrupted, finished, failed };
std::string_view to_string(CrawlStatus status);
std::optional<CrawlStatus> parse_crawl_status(std::string_view text);

// One frontier row.
struct FrontierRow {
    std::int64_t seq = 0;
    std::uint64_t key_hash = 0;
    std::string url;
    int depth = 0;
    int redirects = 0;
    bool requisite = false;
    int sitemap = 0;                    // frontier.sitemap
    std::int64_t chain_seq = 0;         // 0: not a redirect target
    std::vector<std::uint64_t> chain{}; // the chain's keys before this URL
    std::int64_t from_seq = 0;          // 0: a seed (or not recorded)
    std::string from_url{};             // read only: the URL of the row from_seq names
    bool external = false;              // an external check
    // Read only: the URL of the row chain_seq names, and of the row that one's from_seq names.
    std::string chain_url{};
    std::string chain_from_url{};
};

// One skips row.
struct SkipRow {
    std::uint64_t key_hash = 0;
    std::string kind; // fetch::FailureKind code
    std::string rule;
    std::string url;
    bool tentative = false;
};
// The longest URL text a skips row keeps.
inline constexpr std::size_t k_max_skip_url = 2048;

// A redirect chain that ended badly (a loop, a disallowed scheme, too many hops): the failure of
// the URL that started it, set on its pages row.
struct ChainFailure {
    std::int64_t seq = 0; // the chain start's frontier seq
    std::string error;
    std::string error_kind;
};

// One row of the view `links` (page_id and n are given by the writer, which stores a page's
// links as one page_links row).
struct LinkRow {
    std::string to_url;
    std::string kind; // crawler::to_string(LinkKind)
    bool nofollow = false;
};

// A page's links in document order, with their text end to end in one string: a page's ~30
// URLs cost one growing allocation instead of one each (they are made on a parse thread and
// freed on the writer's, where every such allocation also costs glibc an arena round trip).
class LinkList {
public:
    struct View {
        std::string_view to_url;
        std::string_view kind;
        bool nofollow = false;
    };

    LinkList() = default;
    LinkList(std::initializer_list<LinkRow> rows);

    // Room for `links` more links of `text_bytes` more bytes of URL and kind in all.
    void reserve(std::size_t links, std::size_t text_bytes);
    // Appends a link; `to_url` and `kind` are copied (they may point anywhere but into this list).
    void push_back(std::string_view to_url, std::string_view kind, bool nofollow);

    std::size_t size() const noexcept { return m_entries.size(); }
    bool empty() const noexcept { return m_entries.empty(); }
    // Every link's URL and kind, back to back, in order: nothing else.
    std::string_view text() const noexcept { return m_text; }
    // Bytes of heap the list holds (its text and entries, reserved room included).
    std::size_t heap_bytes() const noexcept {
        return m_text.capacity() + 1 + m_entries.capacity() * sizeof(Entry);
    }
    // Valid until the next push_back() or reserve().
    View operator[](std::size_t i) const noexcept {
        const Entry& e = m_entries[i];
        const std::string_view text(m_text);
        return {text.substr(e.begin, e.url_size), text.substr(e.begin + e.url_size, e.kind_size),
                e.nofollow};
    }

private:
    struct Entry {
        std::size_t begin = 0; // the URL's first byte in m_text; its kind follows it
        std::size_t url_size = 0;
        std::size_t kind_size = 0;
        bool nofollow = false;
    };
    std::string m_text;
    std::vector<Entry> m_entries;
};

// Starts a crawl (new = true: a crawls row, its seed frontier rows) or resumes one (new =
// false: status back to 'running', the options it runs under stored); both add the crawl_runs
// row. One transaction.
struct CrawlBeginRecord {
    std::int64_t crawl_id = 0; // a new crawl's id is its first run's id
    std::int64_t run_id = 0;
    bool is_new = true;
    std::string seeds;   // JSON (new crawls only)
    std::string options; // JSON (a resume: the options it runs under; empty: unchanged)
    std::vector<FrontierRow> frontier;
};

// One fetched (or failed) URL with everything it changed, applied in ONE transaction: its
// pages row, its links, the frontier rows it discovered, the URLs it skipped (and the skips it
// undid), the failure of the redirect chain it ended, and `seq` set to done. A crash therefore
// never keeps a page without its discoveries or a discovery without its page. A URL that is
// itself skipped (has_page false: robots.txt refused it once queued) has no pages row, only its
// skip.
struct PageRecord {
    bool has_page = true;
    std::int64_t crawl_id = 0;
    std::int64_t run_id = 0;
    // The frontier row this fetch completes (set to done). `depth` is that row's depth: its
    // frontier_queue row is sought by it (a record with another depth costs a second lookup).
    std::optional<std::int64_t> seq;
    PageKind kind = PageKind::page;
    bool external = false; // an external check (pages.external)
    std::string url;
    std::optional<std::string> final_url;
    std::optional<int> http_status;
    std::optional<std::string> content_type;
    std::uint64_t bytes = 0;
    std::optional<std::string> title;
    int depth = 0;
    std::optional<std::string> location;
    bool noindex = false;
    TimePoint fetched_at = std::chrono::system_clock::now();
    double elapsed_ms = 0;
    int attempts = 1;
    std::optional<std::string> error;
    std::optional<std::string> error_kind; // with an error: its kind's code (records.hpp)
    std::optional<std::string> body;       // --save-bodies
    std::optional<double> dns_ms; // the final attempt's timings; nullopt without a response
    std::optional<double> connect_ms;
    std::optional<double> ttfb_ms;
    LinkList links;
    std::vector<FrontierRow> discovered;
    std::vector<SkipRow> skips;
    std::vector<std::uint64_t> unskipped; // keys whose tentative skips row goes
    std::optional<ChainFailure> chain_failure;
};

// Sets a crawl's status and stop reason, and records its seen-set as the invocation leaves it
// (nullopt: not measured; the row keeps what an earlier invocation recorded).
struct CrawlEndRecord {
    std::int64_t crawl_id = 0;
    CrawlStatus status = CrawlStatus::finished;
    std::string stop_reason;
    std::optional<std::uint64_t> seen_urls = {};  // keys in the seen-set
    std::optional<std::uint64_t> seen_bytes = {}; // its RAM
};

// A crawls row, as read back.
struct CrawlRow {
    std::int64_t id = 0;
    std::string seeds;
    std::string options;
    CrawlStatus status = CrawlStatus::running;
    std::optional<std::string> stop_reason;
};

// What a resumed crawl needs to know about the pages already fetched (robots.txt excluded).
struct CrawlProgress {
    std::uint64_t pages = 0; // pages rows of kind page or requisite that were fetched
    std::uint64_t bytes = 0;
    std::int64_t max_seq = 0; // highest frontier seq (0: none)
    std::uint64_t queued = 0; // frontier rows still queued
};

} // namespace flagcrawl::storage
