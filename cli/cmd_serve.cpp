// `flagcrawl serve`: runs the local HTTP server (static files, the flags data set or the
// synthetic site, optionally delayed and failing) until SIGINT or SIGTERM.
#include "commands.hpp"

#include "server/access_log.hpp"
#include "server/chaos.hpp"
#include "server/flags.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "server/static_files.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <pthread.h>

namespace flagcrawl::cli {
namespace {

struct ServeOptions {
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string root;
    bool flags = false;
    std::uint64_t site_pages = 0;
    std::uint64_t seed = 0;
    std::string delay;
    double error_rate = 0.0;
    int threads = 1;
    std::string access_log;
};

void run_serve(const ServeOptions& options, CLI::App& command) {
    const int sources =
        (command.count("--root") > 0) + options.flags + (command.count("--site") > 0);
    if (sources != 1) {
        throw UsageError("serve: give exactly one of --root DIR, --flags, --site N");
    }
    server::ChaosOptions chaos;
    chaos.seed = options.seed;
    chaos.error_rate = options.error_rate;
    if (!options.delay.empty()) {
        const auto delay = server::parse_delay(options.delay);
        if (!delay) {
            throw UsageError("serve: --delay wants seconds (0.5) or a range (0.1-0.3), not '" +
                             options.delay + "'");
        }
        chaos.delay = *delay;
    }

    server::Handler handler;
    std::string what;
    if (options.flags) {
        handler = server::flags_handler();
        what = fmt::format("the flags data set ({} countries)", server::flag_countries().size());
    } else if (command.count("--root") > 0) {
        std::error_code ec;
        if (!std::filesystem::is_directory(options.root, ec)) {
            throw UsageError("serve: --root: not a directory: " + options.root);
        }
        handler = server::static_files_handler(options.root);
        what = "files from " + std::filesystem::absolute(options.root).lexically_normal().string();
    } else {
        if (options.site_pages < 1) {
            throw UsageError("serve: --site needs at least 1 page");
        }
        auto site = std::make_shared<const server::Site>(
            server::SiteOptions{.pages = options.site_pages, .seed = options.seed});
        handler = server::site_handler(site);
        what =
            fmt::format("a synthetic site ({} pages, seed {})", options.site_pages, options.seed);
    }
    if (chaos.delay.max > std::chrono::nanoseconds::zero() || chaos.error_rate > 0) {
        handler = server::with_chaos(std::move(handler), chaos);
    }
    if (!options.access_log.empty()) {
        try {
            handler = server::with_access_log(std::move(handler), options.access_log);
        } catch (const std::runtime_error& e) {
            throw FatalError("serve: --access-log: " + std::string(e.what()));
        }
    }

    // Block the stop signals before any server thread exists (threads inherit the mask), then
    // wait for one on this thread.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

    server::Server server(std::move(handler),
                          server::ServerOptions{.host = options.host,
                                                .port = static_cast<std::uint16_t>(options.port),
                                                .threads = options.threads});
    if (const auto ec = server.start()) {
        pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
        throw FatalError(fmt::format("serve: cannot listen on {}:{}: {}", options.host,
                                     options.port, ec.message()));
    }
    std::string url = server.base_url() + "/";
    fmt::print("Serving {} on {}\n", what, url);
    std::fflush(stdout);

    int signal = 0;
    while (sigwait(&stop_signals, &signal) != 0) {
    }
    server.stop();
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

} // namespace

void register_serve(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<ServeOptions>();
    CLI::App* serve = app.add_subcommand(
        "serve", "Serve a folder, the flags data set or a synthetic site over HTTP, until Ctrl-C");
    serve->footer("Examples:\n"
                  "  flagcrawl serve --root public/ --port 8000\n"
                  "  flagcrawl serve --flags --delay 0.1-0.3 --error-rate 0.1\n"
                  "  flagcrawl serve --site 10000 --access-log access.log  # a site to crawl");
    serve->add_option("--host", options->host, "Address to listen on")->capture_default_str();
    serve->add_option("--port", options->port, "Port (0: any free port, printed at start)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    serve->add_option("--root", options->root, "Serve the files under this folder");
    serve->add_flag("--flags", options->flags,
                    "Serve the flags data set: /flags/{cc}/{cc}.gif and /flags/{cc}/metadata.json");
    serve->add_option("--site", options->site_pages,
                      "Serve a synthetic site of this many pages, from /index.html");
    serve->add_option("--seed", options->seed, "Seed of the site and of delays and errors")
        ->capture_default_str();
    serve->add_option("--delay", options->delay,
                      "Delay every reply: seconds (0.5) or a uniform range (0.1-0.3)");
    serve
        ->add_option("--error-rate", options->error_rate,
                     "Fraction of would-be successes (2xx) answered 418 I'm a teapot instead")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    serve->add_option("--access-log", options->access_log,
                      "Append a line per request to this file: arrival time (Unix seconds), "
                      "method, target, status");
    serve->add_option("--threads", options->threads, "Server threads")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    serve->callback([options, serve, &exit_code] {
        run_serve(*options, *serve);
        exit_code = k_exit_ok;
    });
}

} // namespace flagcrawl::cli
