// `flagcrawl url resolve|normalize`: the crawler's URL resolution and seen-set keys as a
// filter on TSV lines, so they can be checked against other resolvers and test suites.
#include "commands.hpp"

#include "crawler/url/url_tsv.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace flagcrawl::cli {
namespace {

void write_line(std::string& line) {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
}

void run_resolve() {
    std::ios::sync_with_stdio(false);
    std::string line;
    long line_number = 0;
    while (std::getline(std::cin, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        if (line_number == 1 && (line == "input\tbase" || line == "input\tbase\tresolved")) {
            std::string header = "input\tbase\tresolved";
            write_line(header);
            continue;
        }
        auto out = crawler::resolve_tsv_line(line);
        if (!out) {
            std::fflush(stdout);
            throw UsageError(fmt::format(
                "url resolve: line {} has no TAB (expected input<TAB>base)", line_number));
        }
        write_line(*out);
    }
    std::fflush(stdout);
}

void run_normalize(bool canonical_query) {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::string out = crawler::normalize_tsv_line(line, canonical_query);
        write_line(out);
    }
    std::fflush(stdout);
}

} // namespace

void register_url(CLI::App& app, int& exit_code) {
    CLI::App* url = app.add_subcommand(
        "url", "Resolve URLs or print seen-set keys the way the crawler does (TSV on stdin)");
    url->require_subcommand(1);
    url->footer("Examples:\n"
                "  printf '../b?x=1\\thttp://example.org/a/c\\n' | flagcrawl url resolve\n"
                "  printf 'HTTP://Example.ORG:80/a/./b\\n' | flagcrawl url normalize\n"
                "  flagcrawl url normalize --canonical-query < urls.txt");

    CLI::App* resolve = url->add_subcommand(
        "resolve", "Read 'input<TAB>base' lines, write 'input<TAB>base<TAB>absolute-URL' "
                   "(or ERROR); control characters and '\\' are written as \\xHH");
    resolve->callback([&exit_code] {
        run_resolve();
        exit_code = k_exit_ok;
    });

    auto canonical_query = std::make_shared<bool>(false);
    CLI::App* normalize = url->add_subcommand(
        "normalize", "Read one URL a line, write the key the crawler's seen-set stores (or "
                     "ERROR); same \\xHH escaping as resolve");
    normalize->add_flag("--canonical-query", *canonical_query,
                        "Sort query parameters and drop session ids (sid, PHPSESSID, ...)");
    normalize->callback([&exit_code, canonical_query] {
        run_normalize(*canonical_query);
        exit_code = k_exit_ok;
    });
}

} // namespace flagcrawl::cli
