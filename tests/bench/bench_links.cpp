// Measuring tool for link extraction and robots.txt matching; not run by ctest.
// Usage: bench_links SITE_DIR [MAX_PAGES]   (SITE_DIR: HTML files, e.g. from a generated site)
//        bench_links SITE_DIR MAX_PAGES fast|full   (one pass of one parser and nothing else:
//        for instruction counts under valgrind --tool=callgrind, divided by the bytes printed)
// Prints MB/s and µs per page for the scanner (the default parser) and each configuration of
// gumbo's full parse, and ns per RobotsRules::allowed(). SITE_DIR may hold real pages (e.g. a
// folder of the corpus from tests/corpus/fetch_corpus.sh) or the bench site's.
// Single-threaded; times are this thread's CPU time (less disturbed by other load on a shared
// machine than wall time), best of N passes, the configurations interleaved pass by pass.
#include "crawler/html/links.hpp"
#include "crawler/robots/robots.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;

namespace {

std::vector<std::string> load_pages(const std::filesystem::path& dir, std::size_t max_pages) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".html") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    if (files.size() > max_pages) {
        files.resize(max_pages);
    }
    std::vector<std::string> pages;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        pages.push_back(text.str());
    }
    return pages;
}

struct Result {
    double seconds = 0;
    std::size_t links = 0;
    std::size_t arena_bytes = 0;
};

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename Fn> Result timed(Fn&& pass) {
    const double start = thread_cpu_seconds();
    Result r = pass();
    r.seconds = thread_cpu_seconds() - start;
    return r;
}

template <typename Fn> Result best_of(int passes, Fn&& pass) {
    Result best;
    best.seconds = 1e30;
    for (int i = 0; i < passes; ++i) {
        const Result r = timed(pass);
        if (r.seconds < best.seconds) {
            best = r;
        }
    }
    return best;
}

// The generated pages are valid HTML (gumbo records no parse error on them); real pages are not.
// This variant adds the usual breakage: no doctype, stray end tags, misnested formatting.
std::string make_messy(const std::string& page) {
    std::string out;
    out.reserve(page.size() * 5 / 4);
    std::size_t pos = page.find("<html");
    pos = pos == std::string::npos ? 0 : pos;
    while (pos < page.size()) {
        const std::size_t p = page.find("<p>", pos);
        if (p == std::string::npos) {
            out.append(page, pos);
            break;
        }
        out.append(page, pos, p - pos);
        out += "<p><b>";
        const std::size_t close = page.find("</p>", p);
        if (close == std::string::npos) {
            out.append(page, p + 3);
            break;
        }
        out.append(page, p + 3, close - (p + 3));
        out += "</div></span></p></b>";
        pos = close + 4;
    }
    return out;
}

void bench_links(const char* label, const std::vector<std::string>& pages) {
    std::size_t bytes = 0;
    for (const auto& p : pages) {
        bytes += p.size();
    }
    std::printf("link extraction, %s: %zu pages, %.1f MB, mean %.1f KB/page\n", label, pages.size(),
                static_cast<double>(bytes) / 1e6,
                static_cast<double>(bytes) / 1e3 / static_cast<double>(pages.size()));
    struct Mode {
        const char* name;
        fc::HtmlParser parser;
        bool arena;
        bool facts;
    };
    const Mode modes[] = {
        {"full: gumbo defaults (malloc)", fc::HtmlParser::full, false, false},
        {"full: arena", fc::HtmlParser::full, true, false},
        {"fast: scanner (default)", fc::HtmlParser::fast, true, false},
        {"extract_facts, full", fc::HtmlParser::full, true, true},
        {"extract_facts, fast (default)", fc::HtmlParser::fast, true, true},
    };
    constexpr std::size_t k_modes = std::size(modes);
    std::vector<std::unique_ptr<fc::LinkExtractor>> extractors;
    for (const Mode& mode : modes) {
        fc::ExtractorOptions options;
        options.parser = mode.parser;
        options.arena = mode.arena;
        options.max_full_parse_work = UINT64_MAX;
        extractors.push_back(std::make_unique<fc::LinkExtractor>(options));
    }
    std::vector<Result> best(k_modes);
    for (Result& r : best) {
        r.seconds = 1e30;
    }
    for (int round = 0; round < 3; ++round) {
        for (std::size_t m = 0; m < k_modes; ++m) {
            fc::LinkExtractor& extractor = *extractors[m];
            const Result r = timed([&] {
                Result out;
                for (const auto& page : pages) {
                    const fc::PageLinks& links =
                        modes[m].facts ? extractor.extract_facts(page) : extractor.extract(page);
                    out.links += links.links.size();
                    out.arena_bytes += extractor.last_arena_bytes();
                }
                return out;
            });
            if (r.seconds < best[m].seconds) {
                best[m] = r;
            }
        }
    }
    for (std::size_t m = 0; m < k_modes; ++m) {
        const Mode& mode = modes[m];
        const Result& r = best[m];
        std::printf("  %-44s %7.1f MB/s %8.1f us/page  %5.1f links/page", mode.name,
                    static_cast<double>(bytes) / 1e6 / r.seconds,
                    r.seconds * 1e6 / static_cast<double>(pages.size()),
                    static_cast<double>(r.links) / static_cast<double>(pages.size()));
        if (mode.arena && mode.parser == fc::HtmlParser::full) {
            std::printf("  arena %.0f KB/page", static_cast<double>(r.arena_bytes) / 1e3 /
                                                    static_cast<double>(pages.size()));
        }
        std::printf("\n");
    }
    // The scanner must give the full parse's links and facts (tests/corpus/links_diff says how
    // they differ).
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    full_options.max_full_parse_work = UINT64_MAX;
    fc::LinkExtractor full(full_options);
    fc::LinkExtractor fast;
    std::size_t mismatches = 0;
    for (const auto& page : pages) {
        const fc::PageLinks& a = full.extract(page);
        const fc::PageLinks& b = fast.extract(page);
        bool same = a.links.size() == b.links.size();
        for (std::size_t i = 0; same && i < a.links.size(); ++i) {
            same = a.links[i].url == b.links[i].url && a.links[i].kind == b.links[i].kind;
        }
        mismatches += !same || a.title != b.title || a.base_href != b.base_href ||
                      a.canonical != b.canonical || a.noindex != b.noindex ||
                      a.nofollow != b.nofollow || a.has_base != b.has_base;
    }
    std::printf("  scanner vs full parse: %zu of %zu pages differ\n", mismatches, pages.size());
}

// A robots.txt shaped like a big real site's: a few named groups and a long "*" group with
// prefixes, wildcards, end anchors and percent-encoded entries.
std::string realistic_robots() {
    std::string body = "# robots.txt for a large site\nUser-agent: googlebot\nDisallow: /x\n\n"
                       "User-agent: badbot\nUser-agent: otherbot\nDisallow: /\n\n"
                       "User-agent: *\nCrawl-delay: 1\n";
    const char* sections[] = {"w",     "api",     "trap", "wiki/Special:", "search", "cgi-bin",
                              "admin", "private", "tmp",  "cart",          "login",  "user"};
    for (const char* s : sections) {
        for (int i = 0; i < 8; ++i) {
            body += "Disallow: /" + std::string(s) + "/" + std::to_string(i) + "\n";
        }
        body += "Disallow: /" + std::string(s) + "/\n";
    }
    body += "Allow: /w/load.php\nAllow: /api/rest_v1/?doc\nDisallow: /*?action=\n"
            "Disallow: /*&action=\nDisallow: /*.pdf$\nDisallow: /*/print/\nDisallow: /*?sort=*&\n"
            "Disallow: /wiki/Sp%C3%A9cial:\nDisallow: /wiki/%E7%89%B9%E5%88%A5:\n"
            "Allow: /sec01/cat00/\nDisallow: /sec02/*?v=2\nSitemap: https://example.com/s.xml\n";
    for (int i = 0; i < 40; ++i) {
        body += "Disallow: /wiki/Talk:Page_" + std::to_string(i * 37) + "\n";
    }
    return body;
}

void bench_robots(const std::vector<std::string>& pages) {
    const std::string body = realistic_robots();
    const double parse_start = thread_cpu_seconds();
    const auto rules = fc::RobotsRules::parse(body, "flagcrawl");
    const double parse_us = (thread_cpu_seconds() - parse_start) * 1e6;
    // Root-relative hrefs from the pages, plus paths that hit the rules and need encoding.
    std::vector<std::string> paths;
    fc::LinkExtractor extractor;
    for (const auto& page : pages) {
        for (const auto& link : extractor.extract(page).links) {
            if (link.url.starts_with("/") && !link.url.starts_with("//")) {
                paths.emplace_back(link.url.substr(0, link.url.find('#')));
            }
        }
        if (paths.size() > 20000) {
            break;
        }
    }
    for (int i = 0; i < 2000; ++i) {
        paths.push_back("/wiki/Talk:Page_" + std::to_string(i));
        paths.push_back("/w/index.php?title=X&action=edit");
        paths.push_back("/wiki/Sp%c3%a9cial:Random");
        paths.push_back("/docs/file" + std::to_string(i) + ".pdf");
    }
    std::size_t allowed = 0;
    const int rounds = 20;
    const Result r = best_of(3, [&] {
        Result out;
        for (int round = 0; round < rounds; ++round) {
            for (const auto& path : paths) {
                out.links += rules.allowed(path) ? 1 : 0;
            }
        }
        return out;
    });
    allowed = r.links / rounds;
    std::printf("robots.txt: %zu bytes, %zu rules for *, parsed in %.0f us\n", body.size(),
                rules.rule_count(), parse_us);
    std::printf("  allowed(): %.1f ns/query over %zu paths (%zu allowed)\n",
                r.seconds * 1e9 / static_cast<double>(paths.size() * rounds), paths.size(),
                allowed);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_links SITE_DIR [MAX_PAGES]\n");
        return 2;
    }
    const std::size_t max_pages = argc > 2 ? std::stoul(argv[2]) : 3000;
    const auto pages = load_pages(argv[1], max_pages);
    if (pages.empty()) {
        std::fprintf(stderr, "no .html files under %s\n", argv[1]);
        return 1;
    }
    if (argc > 3) {
        fc::ExtractorOptions options;
        const auto parser = fc::html_parser_from_string(argv[3]);
        if (!parser) {
            std::fprintf(stderr, "usage: bench_links SITE_DIR MAX_PAGES fast|full\n");
            return 2;
        }
        options.parser = *parser;
        options.max_full_parse_work = UINT64_MAX;
        fc::LinkExtractor extractor(options);
        std::size_t bytes = 0;
        std::size_t links = 0;
        for (const auto& page : pages) {
            bytes += page.size();
            links += extractor.extract(page).links.size();
        }
        std::printf("%s: %zu pages, %zu bytes, %zu links\n", argv[3], pages.size(), bytes, links);
        return 0;
    }
    bench_links("generated site", pages);
    std::vector<std::string> messy;
    for (const auto& page : pages) {
        messy.push_back(make_messy(page));
    }
    bench_links("same pages made messy", messy);
    bench_robots(pages);
    return 0;
}
