// Measures the URL hot path (not a test; not run by ctest): resolving typical hrefs against
// an http(s) page URL, and the seen-set key + hash. Prints ns per operation.
// Usage: url_bench [iterations]
#include "crawler/url/url.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

using flagcrawl::crawler::Url;

constexpr std::string_view k_hrefs[] = {
    "../other/page.html",
    "/about/team",
    "img/logo.png",
    "page2.html#top",
    "article/2024/01/a-long-title-of-an-article-with-words",
    "?page=2&sort=asc",
    "https://cdn.example.org/lib/v1.2/script.min.js",
    "//static.example.com/css/site.css",
    "#comments",
    "/search?q=hello+world&lang=en",
    "./contact.html",
    "HTTP://WWW.Example.COM:80/Index.html",
};

template <class F> double time_ns(long iterations, std::size_t per_iteration, F&& f) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i)
        f();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::nano>(elapsed).count() /
           (static_cast<double>(iterations) * static_cast<double>(per_iteration));
}

} // namespace

int main(int argc, char** argv) {
    const long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
    const auto base =
        flagcrawl::crawler::parse("https://www.example.com/section/page/index.html?x=1");
    if (!base)
        return 1;
    const std::size_t count = std::size(k_hrefs);
    std::size_t sink = 0;
    const double resolve_ns = time_ns(iterations, count, [&] {
        for (const std::string_view href : k_hrefs) {
            auto url = flagcrawl::crawler::parse(href, &*base);
            sink += url ? url->href().size() : 0;
        }
    });
    std::vector<Url> urls;
    for (const std::string_view href : k_hrefs)
        urls.push_back(*flagcrawl::crawler::parse(href, &*base));
    const double key_ns = time_ns(iterations, count, [&] {
        for (const Url& url : urls)
            sink += flagcrawl::crawler::key_hash(flagcrawl::crawler::normalize_key(url, false));
    });
    const double canonical_ns = time_ns(iterations, count, [&] {
        for (const Url& url : urls)
            sink += flagcrawl::crawler::key_hash(flagcrawl::crawler::normalize_key(url, true));
    });
    const double idn_ns = time_ns(iterations / 20 + 1, 1, [&] {
        auto url = flagcrawl::crawler::parse("https://bücher.example/", nullptr);
        sink += url ? url->href().size() : 0;
    });
    std::printf("resolve (typical hrefs, https base): %.1f ns\n", resolve_ns);
    std::printf("normalize_key + key_hash:             %.1f ns\n", key_ns);
    std::printf("normalize_key(canonical) + key_hash:  %.1f ns\n", canonical_ns);
    std::printf("parse with an IDN host:               %.1f ns\n", idn_ns);
    return sink == 0 ? 1 : 0;
}
