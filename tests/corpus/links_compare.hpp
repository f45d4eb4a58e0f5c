// Compares what the scanner and the full parse found on one page (the differential tool and
// the differential fuzz target share it).
#pragma once

#include "crawler/html/links.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace flagcrawl::corpus {

// How two extractions of one page compare, from best to worst.
enum class Verdict {
    identical,      // same links in the same order, same facts
    reordered,      // same links (with multiplicity) in another order: tree order is not
                    // source order where the tree builder moves nodes (foster parenting)
    repeated,       // same set of links, some repeated a different number of times
    facts_differ,   // same links; title, base, canonical or robots differ
    targets_differ, // a link (URL, kind) found by one and not the other
};

inline const char* to_string(Verdict v) {
    switch (v) {
    case Verdict::identical:
        return "identical";
    case Verdict::reordered:
        return "reordered";
    case Verdict::repeated:
        return "repeated";
    case Verdict::facts_differ:
        return "facts_differ";
    case Verdict::targets_differ:
        return "targets_differ";
    }
    return "?";
}

using LinkKey = std::tuple<std::string, int, std::string, bool>; // url, kind, rel, nofollow

// gumbo 0.10 replaces control characters (but tab, LF, FF, CR) and noncharacters of its input
// with U+FFFD, where the HTML Standard (and browsers, and the scanner) keep them: text is
// compared after the same replacement.
inline std::string as_gumbo_reads(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        const std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
        }
        const bool replaced = (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) ||
                              (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
                              (cp & 0xFFFE) == 0xFFFE;
        if (replaced) {
            out.append("\xEF\xBF\xBD");
        } else {
            out.append(text.substr(i, len));
        }
        i += len;
    }
    return out;
}

inline std::vector<LinkKey> keys_of(const crawler::PageLinks& page) {
    std::vector<LinkKey> keys;
    keys.reserve(page.links.size());
    for (const crawler::Link& l : page.links) {
        keys.emplace_back(as_gumbo_reads(l.url), static_cast<int>(l.kind), as_gumbo_reads(l.rel),
                          l.nofollow);
    }
    return keys;
}

// Titles as gumbo reads them. Both parsers cut a title at max_title_bytes, but gumbo's text
// is cut after its replacements (a control character grows from 1 byte to 3), so a title at the
// cap is compared up to the shorter one, on a UTF-8 boundary.
inline bool same_title(std::string_view a, std::string_view b) {
    const std::string x = as_gumbo_reads(a);
    const std::string y = as_gumbo_reads(b);
    constexpr std::size_t k_longest_code_point = 4;
    const std::size_t cap = crawler::ExtractorOptions{}.max_title_bytes;
    if (x == y ||
        (x.size() + k_longest_code_point < cap && y.size() + k_longest_code_point < cap)) {
        return x == y;
    }
    std::size_t n = std::min(x.size(), y.size());
    while (n > 0 && n < x.size() && (static_cast<unsigned char>(x[n]) & 0xC0u) == 0x80u) {
        --n;
    }
    return x.compare(0, n, y, 0, n) == 0;
}

inline bool same_facts(const crawler::PageLinks& a, const crawler::PageLinks& b) {
    return same_title(a.title, b.title) &&
           as_gumbo_reads(a.base_href) == as_gumbo_reads(b.base_href) && a.has_base == b.has_base &&
           as_gumbo_reads(a.canonical) == as_gumbo_reads(b.canonical) && a.noindex == b.noindex &&
           a.nofollow == b.nofollow;
}

inline Verdict compare(const crawler::PageLinks& fast, const crawler::PageLinks& full) {
    std::vector<LinkKey> a = keys_of(fast);
    std::vector<LinkKey> b = keys_of(full);
    Verdict links = Verdict::identical;
    if (a != b) {
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        if (a == b) {
            links = Verdict::reordered;
        } else {
            a.erase(std::unique(a.begin(), a.end()), a.end());
            b.erase(std::unique(b.begin(), b.end()), b.end());
            if (a != b) {
                return Verdict::targets_differ;
            }
            links = Verdict::repeated;
        }
    }
    if (!same_facts(fast, full)) {
        return Verdict::facts_differ;
    }
    return links;
}

// One line per link only one side has (after removing the common multiset), for reports.
inline std::vector<std::string> describe_difference(const crawler::PageLinks& fast,
                                                    const crawler::PageLinks& full) {
    std::vector<LinkKey> a = keys_of(fast);
    std::vector<LinkKey> b = keys_of(full);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    std::vector<LinkKey> only_a;
    std::vector<LinkKey> only_b;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
    std::vector<std::string> lines;
    for (const auto& k : only_a) {
        lines.push_back(
            "  fast only: " + std::get<0>(k) + " (" +
            std::string(crawler::to_string(static_cast<crawler::LinkKind>(std::get<1>(k)))) + ")");
    }
    for (const auto& k : only_b) {
        lines.push_back(
            "  full only: " + std::get<0>(k) + " (" +
            std::string(crawler::to_string(static_cast<crawler::LinkKind>(std::get<1>(k)))) + ")");
    }
    if (fast.title != full.title) {
        lines.push_back("  title: fast [" + std::string(fast.title) + "] full [" +
                        std::string(full.title) + "]");
    }
    if (fast.base_href != full.base_href || fast.has_base != full.has_base) {
        lines.push_back("  base: fast [" + std::string(fast.base_href) + "] full [" +
                        std::string(full.base_href) + "]");
    }
    if (fast.canonical != full.canonical) {
        lines.push_back("  canonical: fast [" + std::string(fast.canonical) + "] full [" +
                        std::string(full.canonical) + "]");
    }
    if (fast.noindex != full.noindex || fast.nofollow != full.nofollow) {
        lines.push_back("  robots differ");
    }
    return lines;
}

} // namespace flagcrawl::corpus
