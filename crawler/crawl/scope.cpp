#include "crawler/crawl/scope.hpp"

#include <libpsl.h>
#include <re2/re2.h>

#include <stdexcept>

namespace flagcrawl::crawler {

namespace {

// libpsl's context: psl_latest() reads the system's list once (or falls back to the built-in
// one); it is immutable afterwards and safe to share between threads.
const psl_ctx_t* public_suffixes() {
    static const psl_ctx_t* const context = [] {
        const psl_ctx_t* latest = psl_latest(nullptr);
        return latest != nullptr ? latest : psl_builtin();
    }();
    return context;
}

bool is_ip_literal(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        return true;
    }
    // The URL parser serializes IPv4 hosts as dotted decimal: digits and dots only.
    return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

std::vector<std::unique_ptr<re2::RE2>> compile(const std::vector<std::string>& patterns,
                                               std::string_view option) {
    std::vector<std::unique_ptr<re2::RE2>> compiled;
    re2::RE2::Options options;
    options.set_log_errors(false);
    for (const std::string& pattern : patterns) {
        auto re = std::make_unique<re2::RE2>(pattern, options);
        if (!re->ok()) {
            throw std::invalid_argument(std::string(option) + " '" + pattern + "': " + re->error());
        }
        compiled.push_back(std::move(re));
    }
    return compiled;
}

} // namespace

std::optional<ScopeKind> parse_scope(std::string_view text) {
    for (auto kind : {ScopeKind::host, ScopeKind::domain, ScopeKind::prefix, ScopeKind::any}) {
        if (to_string(kind) == text) {
            return kind;
        }
    }
    return std::nullopt;
}

std::string_view to_string(ScopeKind kind) {
    switch (kind) {
    case ScopeKind::host:
        return "host";
    case ScopeKind::domain:
        return "domain";
    case ScopeKind::prefix:
        return "prefix";
    case ScopeKind::any:
        return "any";
    }
    return "host";
}

std::string registrable_domain(std::string_view host) {
    if (is_ip_literal(host) || host.find('.') == std::string_view::npos) {
        return std::string(host);
    }
    const std::string name(host);
    const char* domain = psl_registrable_domain(public_suffixes(), name.c_str());
    return domain != nullptr ? std::string(domain) : name;
}

std::string_view path_directory(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view("/") : path.substr(0, slash + 1);
}

UrlFilter::UrlFilter(ScopeKind scope, const std::vector<Url>& seeds,
                     const std::vector<std::string>& include,
                     const std::vector<std::string>& exclude)
    : m_scope(scope)
    , m_include(compile(include, "--include"))
    , m_exclude(compile(exclude, "--exclude")) {
    for (const Url& seed : seeds) {
        SeedScope s;
        s.host = seed.host();
        if (scope == ScopeKind::domain) {
            s.domain = registrable_domain(seed.host());
        }
        s.directory = path_directory(seed.path());
        m_seeds.push_back(std::move(s));
    }
}

UrlFilter::~UrlFilter() = default;
UrlFilter::UrlFilter(UrlFilter&&) noexcept = default;
UrlFilter& UrlFilter::operator=(UrlFilter&&) noexcept = default;

bool UrlFilter::in_scope(const Url& url) const {
    if (!url.is_http()) {
        return false;
    }
    const std::string_view host = url.host();
    switch (m_scope) {
    case ScopeKind::any:
        return true;
    case ScopeKind::host:
        for (const SeedScope& seed : m_seeds) {
            if (seed.host == host) {
                return true;
            }
        }
        return false;
    case ScopeKind::prefix:
        for (const SeedScope& seed : m_seeds) {
            if (seed.host == host && url.path().starts_with(seed.directory)) {
                return true;
            }
        }
        return false;
    case ScopeKind::domain: {
        // Cheap first: the same host, or a subdomain of a seed's registrable domain.
        for (const SeedScope& seed : m_seeds) {
            if (seed.host == host) {
                return true;
            }
            if (host.size() > seed.domain.size() && host.ends_with(seed.domain) &&
                host[host.size() - seed.domain.size() - 1] == '.') {
                return true;
            }
            if (host == seed.domain) {
                return true;
            }
        }
        return false;
    }
    }
    return false;
}

UrlFilter::Verdict UrlFilter::check(const Url& url) const {
    if (!in_scope(url)) {
        return Verdict::out_of_scope;
    }
    if (m_include.empty() && m_exclude.empty()) {
        return Verdict::accepted;
    }
    const std::string_view href = url.href_without_fragment();
    const re2::StringPiece text(href.data(), href.size());
    for (const auto& re : m_exclude) {
        if (re2::RE2::PartialMatch(text, *re)) {
            return Verdict::excluded;
        }
    }
    if (m_include.empty()) {
        return Verdict::accepted;
    }
    for (const auto& re : m_include) {
        if (re2::RE2::PartialMatch(text, *re)) {
            return Verdict::accepted;
        }
    }
    return Verdict::excluded;
}

} // namespace flagcrawl::crawler
