// `flagcrawl links --broken`: the broken links of a recorded crawl, each once, with the pages that
// link to it, as text, CSV or JSON lines (storage/links.hpp finds them).
#include "commands.hpp"
#include "common.hpp"
#include "export_output.hpp"
#include "links_report.hpp"
#include "stats_db.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <optional>

namespace flagcrawl::cli {
namespace {

constexpr std::size_t k_text_referrers = 10; // referrers a text listing shows per link

struct LinksOptions {
    std::string db;
    std::optional<std::int64_t> run;
    std::optional<std::int64_t> crawl;
    bool broken = false;
    std::string format = "text";
    std::optional<std::size_t> referrers;
};

int run_links(const LinksOptions& o) {
    if (!o.broken) {
        throw UsageError("links: say which links: --broken (the failing targets and the pages "
                         "that link to them)");
    }
    ignore_sigpipe();
    const std::string path = reading_db_path(o.db);
    storage::Reader reader = open_reader(path, o.db.empty());
    const std::int64_t crawl = pick_crawl(reader, o.crawl, o.run, "links", path);

    const LinksFormat format = o.format == "csv"     ? LinksFormat::csv
                               : o.format == "jsonl" ? LinksFormat::jsonl
                                                     : LinksFormat::text;
    storage::BrokenLinksOptions options;
    options.kinds = broken_link_kinds();
    // Text shows the first few referrers of each link and their count; the machine formats
    // every one, unless told otherwise.
    options.max_referrers =
        o.referrers.value_or(format == LinksFormat::text ? k_text_referrers : 0);
    OutputStream out;
    BrokenLinksWriter writer(format, out);
    auto totals =
        storage::for_each_broken_link(reader, crawl, options, [&](const storage::BrokenLink& link) {
            writer.link(link);
            return out.maybe_flush();
        });
    if (!totals) {
        throw_read_error(totals.error());
    }
    if (format == LinksFormat::text && !out.closed()) {
        out.write(totals->links == 0
                      ? fmt::format("no broken links in crawl {}\n", crawl)
                      : fmt::format("{} broken link{} in crawl {} ({} referring page{})\n",
                                    totals->links, totals->links == 1 ? "" : "s", crawl,
                                    totals->referrals, totals->referrals == 1 ? "" : "s"));
    }
    out.flush();
    return totals->links > 0 ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_links(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<LinksOptions>();
    CLI::App* cmd = app.add_subcommand(
        "links", "List the broken links of a recorded crawl, with the pages that link to them");
    cmd->footer(
        "--broken lists every URL the crawl failed to get (a 4xx or 5xx status, no answer, a "
        "bad redirect, a host given up), once, with its status or error kind and reason, how "
        "pages link it "
        "(anchor, image, stylesheet, frame, script, ...) and every page that links it. A link "
        "that redirected to such a failure is listed with the URL it reached. URLs not fetched "
        "by choice (robots.txt, nofollow, out of scope, a limit) are not broken (export --table "
        "skips lists them). Links out of the crawl's scope are checked only by a crawl with "
        "--check-external; those are marked external: \"(external)\" after the URL in text, "
        "the last column `external` in CSV, the field \"external\" in JSON lines (true or "
        "false). Text shows the "
        "first 10 referring pages of each link and their count; CSV (one row per link and "
        "referring page) and JSON lines (one object per link) have them all.\n"
        "Exit codes: 0 no broken link; 1 broken links listed; 2 bad option, no such database, "
        "no such crawl or run; 3 the database cannot be read.\n"
        "Examples:\n"
        "  flagcrawl links --broken --db site.db\n"
        "  flagcrawl links --broken --db site.db --format csv > broken.csv\n"
        "  flagcrawl links --broken --format jsonl | jq -r 'select(.status == 404) | .url'\n"
        "  flagcrawl links --broken --format jsonl | jq -r 'select(.external) | .url'  # after "
        "crawl --check-external");
    cmd->add_flag("--broken", options->broken,
                  "The failing targets and the pages that link to them");
    add_crawl_choice(*cmd, options->db, options->crawl, options->run);
    cmd->add_option("--format", options->format, "text, csv or jsonl")
        ->check(CLI::IsMember({"text", "csv", "jsonl"}))
        ->capture_default_str();
    cmd->add_option("--referrers", options->referrers,
                    "Referring pages listed per link, at most (0: all; default: 10 in text, all "
                    "in csv and jsonl)");
    cmd->callback([options, &exit_code] { exit_code = run_links(*options); });
}

} // namespace flagcrawl::cli
