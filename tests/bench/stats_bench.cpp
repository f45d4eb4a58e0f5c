// Builds a synthetic store through storage::Writer for measuring `flagcrawl stats` and
// `flagcrawl export` on large tables (not run by ctest):
//   stats_bench --db FILE [--pages N] [--hosts H] [--runs R] [--links L] [--downloads N]
// writes one crawl of N page rows over H hosts, split across R resumed runs, with L links per
// page, plus a download run of --downloads rows. Then time the commands, e.g.
//   /usr/bin/time -v build/flagcrawl stats --db FILE
//   /usr/bin/time -v build/flagcrawl export --db FILE --table links > /dev/null
// Statuses, errors, latencies and depths are drawn from a seeded generator: the same arguments
// give the same rows.
#include "storage/writer.hpp"

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

using namespace flagcrawl::storage;

namespace {

struct Arguments {
    std::string db;
    std::uint64_t pages = 1'000'000;
    std::uint64_t hosts = 50;
    std::uint64_t runs = 2;
    std::uint64_t links = 0;
    std::uint64_t downloads = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view name = argv[i];
        const char* value = argv[i + 1];
        if (name == "--db") {
            a.db = value;
        } else if (name == "--pages") {
            a.pages = std::strtoull(value, nullptr, 10);
        } else if (name == "--hosts") {
            a.hosts = std::max<std::uint64_t>(1, std::strtoull(value, nullptr, 10));
        } else if (name == "--runs") {
            a.runs = std::max<std::uint64_t>(1, std::strtoull(value, nullptr, 10));
        } else if (name == "--links") {
            a.links = std::strtoull(value, nullptr, 10);
        } else if (name == "--downloads") {
            a.downloads = std::strtoull(value, nullptr, 10);
        } else {
            std::fprintf(stderr, "stats_bench: unknown option %s\n", argv[i]);
            std::exit(2);
        }
    }
    if (a.db.empty()) {
        std::fprintf(stderr, "usage: stats_bench --db FILE [--pages N] [--hosts H] [--runs R] "
                             "[--links L] [--downloads N]\n");
        std::exit(2);
    }
    return a;
}

template <class T> T must(Result<T> result) {
    if (!result) {
        std::fprintf(stderr, "stats_bench: %s\n", result.error().message.c_str());
        std::exit(3);
    }
    if constexpr (!std::is_void_v<T>) {
        return std::move(*result);
    }
}

} // namespace

int main(int argc, char** argv) {
    const Arguments a = parse(argc, argv);
    const auto started = std::chrono::steady_clock::now();
    WriterOptions options;
    options.queue_capacity = 16384;
    options.batch_records = 4096;
    auto writer = must(Writer::open(a.db, options));
    std::mt19937_64 random(42);
    std::lognormal_distribution<double> latency(1.0, 0.8);
    std::uniform_int_distribution<int> percent(0, 99);
    const auto hosts = a.hosts;
    const auto host_of = [&](std::uint64_t i) {
        return "http://h" + std::to_string(i % hosts) + ".example:8080";
    };
    auto clock = std::chrono::system_clock::now() - std::chrono::hours(1);

    std::int64_t crawl_id = 0;
    std::uint64_t written = 0;
    for (std::uint64_t run = 0; run < a.runs && a.pages > 0; ++run) {
        const std::int64_t run_id =
            must(writer.begin_run({.command = "crawl",
                                   .arguments = "crawl http://h0.example:8080/",
                                   .strategy = "async",
                                   .concurrency = 64,
                                   .started_at = clock}));
        CrawlBeginRecord begin;
        begin.crawl_id = run == 0 ? run_id : crawl_id;
        begin.run_id = run_id;
        begin.is_new = run == 0;
        begin.seeds = R"(["http://h0.example:8080/"])";
        begin.options = R"({"scope":"any","depth":-1})";
        if (run == 0) {
            crawl_id = run_id;
            begin.frontier.push_back({1, 1, host_of(0) + "/", 0, 0, false});
        }
        must(writer.submit(std::move(begin)));
        const std::uint64_t end = a.pages * (run + 1) / a.runs;
        RunTotals totals;
        for (; written < end; ++written) {
            PageRecord page;
            page.crawl_id = crawl_id;
            page.run_id = run_id;
            page.seq = static_cast<std::int64_t>(written + 1);
            page.url = host_of(written) + "/p/" + std::to_string(written);
            page.depth = static_cast<int>(std::log2(static_cast<double>(written + 2)));
            page.elapsed_ms = latency(random);
            page.bytes = 2000 + written % 30000;
            clock += std::chrono::microseconds(200);
            page.fetched_at = clock;
            const int p = percent(random);
            if (p < 90) {
                page.http_status = 200;
                page.content_type = "text/html";
                page.title = "Page " + std::to_string(written);
                ++totals.ok;
            } else if (p < 94) {
                page.http_status = 301;
                page.location = host_of(written) + "/moved/" + std::to_string(written);
            } else if (p < 97) {
                page.http_status = 404;
                page.error = "HTTP 404 Not Found";
                ++totals.not_found;
            } else if (p < 98) {
                page.http_status = 503;
                page.error = "HTTP 503 Service Unavailable (still throttled after 3 deferrals)";
                ++totals.errors;
            } else if (p < 99) {
                page.error = "timed out after 30000 ms (" + page.url + ")";
                page.bytes = 0;
                ++totals.errors;
            } else {
                page.error =
                    "connection refused (h" + std::to_string(written % hosts) + ".example:8080)";
                page.bytes = 0;
                ++totals.errors;
            }
            if (page.http_status) {
                page.final_url = page.url;
                page.ttfb_ms = page.elapsed_ms * 0.8;
            }
            for (std::uint64_t l = 0; l < a.links; ++l) {
                page.links.push_back(host_of(written + l) + "/p/" + std::to_string(written * 7 + l),
                                     "anchor", false);
            }
            page.discovered.push_back({static_cast<std::int64_t>(written + 2), written + 2,
                                       host_of(written + 1) + "/p/" + std::to_string(written + 1),
                                       page.depth + 1, 0, false});
            totals.bytes += page.bytes;
            ++totals.requests;
            must(writer.submit(std::move(page)));
        }
        must(writer.finish_run(run_id, totals,
                               run + 1 == a.runs ? RunStatus::finished : RunStatus::interrupted,
                               clock));
        clock += std::chrono::minutes(5); // the pause before the crawl is resumed
    }
    if (crawl_id != 0) {
        // A frontier row per page plus the seed; the seen-set's 8-byte slots at most half full.
        const std::uint64_t seen = written + 1;
        must(writer.submit(CrawlEndRecord{crawl_id, CrawlStatus::finished, "frontier exhausted",
                                          seen, 8 * std::bit_ceil(2 * seen)}));
    }

    if (a.downloads > 0) {
        const std::int64_t run_id = must(writer.begin_run({.command = "download",
                                                           .arguments = "download -i list",
                                                           .strategy = "threaded",
                                                           .concurrency = 16,
                                                           .started_at = clock}));
        RunTotals totals;
        for (std::uint64_t i = 0; i < a.downloads; ++i) {
            DownloadRecord d;
            d.run_id = run_id;
            d.url = host_of(i) + "/f/" + std::to_string(i);
            d.final_url = d.url;
            d.http_status = percent(random) < 95 ? 200 : 404;
            d.bytes = d.http_status == 200 ? 1000 + i % 5000 : 0;
            d.elapsed_ms = latency(random);
            d.ttfb_ms = d.elapsed_ms * 0.8;
            if (d.http_status == 404) {
                d.error = "HTTP 404 Not Found";
                ++totals.not_found;
            } else {
                ++totals.ok;
            }
            clock += std::chrono::microseconds(100);
            d.fetched_at = clock;
            ++totals.requests;
            must(writer.submit(std::move(d)));
        }
        must(writer.finish_run(run_id, totals, RunStatus::finished, clock));
    }
    must(writer.close());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("wrote %llu pages (%llu links each), %llu downloads to %s in %.1f s\n",
                static_cast<unsigned long long>(a.pages), static_cast<unsigned long long>(a.links),
                static_cast<unsigned long long>(a.downloads), a.db.c_str(), seconds);
    return 0;
}
