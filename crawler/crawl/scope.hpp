// Which discovered URLs a crawl follows: the scope rule around its seeds (host, registrable
// domain, path prefix, anything) and the --include/--exclude regular expressions (RE2).
#pragma once

#include "crawler/url/url.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace flagcrawl::crawler {

enum class ScopeKind {
    host,   // the same host name as a seed (any port, http or https)
    domain, // the same registrable domain as a seed (public suffix list; see registrable_domain)
    prefix, // the same host as a seed and a path under the seed's directory
    any,    // every http(s) URL
};
// "host" | "domain" | "prefix" | "any"; nullopt otherwise.
std::optional<ScopeKind> parse_scope(std::string_view text);
std::string_view to_string(ScopeKind kind);

// The registrable domain ("eTLD+1") of a host by libpsl's public suffix list (the system's
// list if installed, else the one built into libpsl): "www.bbc.co.uk" -> "bbc.co.uk",
// "a.b.example.com" -> "example.com". An IP address, a single-label name ("localhost") or a
// public suffix itself has none: the host itself is returned.
std::string registrable_domain(std::string_view host);

// The directory of a URL's path: everything up to its last '/' ("/a/b.html" -> "/a/").
std::string_view path_directory(std::string_view path);

class UrlFilter {
public:
    enum class Verdict { accepted, out_of_scope, excluded };

    // Throws std::invalid_argument("--include 'x(': missing ): x(") for a pattern RE2 rejects.
    UrlFilter(ScopeKind scope, const std::vector<Url>& seeds,
              const std::vector<std::string>& include, const std::vector<std::string>& exclude);
    ~UrlFilter();
    UrlFilter(UrlFilter&&) noexcept;
    UrlFilter& operator=(UrlFilter&&) noexcept;

    // Scope first (only http and https are ever accepted), then the regexes, searched anywhere
    // in the URL's href (fragment excluded): any --exclude match rejects; with --include
    // patterns, one of them must match. Thread-safe (const; RE2 matching is thread-safe).
    Verdict check(const Url& url) const;
    bool in_scope(const Url& url) const;

private:
    struct SeedScope {
        std::string host;
        std::string domain;    // registrable domain (domain scope)
        std::string directory; // path directory (prefix scope)
    };
    ScopeKind m_scope;
    std::vector<SeedScope> m_seeds;
    std::vector<std::unique_ptr<re2::RE2>> m_include;
    std::vector<std::unique_ptr<re2::RE2>> m_exclude;
};

} // namespace flagcrawl::crawler
