#include "commands.hpp"
#include "config_file.hpp"

#include <CLI/CLI.hpp>

namespace flagcrawl::cli {

void build_app(CLI::App& app, int& exit_code) {
    app.name("flagcrawl");
    app.description("flagcrawl: download batches of files and crawl web sites, concurrently, with "
                    "a choice of strategy (sequential, threaded, async) to compare.");
    app.set_version_flag("--version", "flagcrawl " FLAGCRAWL_VERSION);
    app.require_subcommand(1);
    app.fallthrough(); // common options may follow the subcommand's own
    add_config_options(app);
    app.footer("Examples:\n"
               "  flagcrawl download -i urls.txt -o out/\n"
               "  flagcrawl crawl https://example.org/ --max-pages 500 --db site.db\n"
               "  flagcrawl stats --db site.db\n"
               "Run flagcrawl COMMAND --help for a command's options; `man flagcrawl` has them "
               "all.");

    // Listed in --help in this order: the book's job, the comparison, the tools, the store.
    register_flags(app, exit_code);
    register_bench(app, exit_code);
    register_download(app, exit_code);
    register_crawl(app, exit_code);
    register_serve(app, exit_code);
    register_stats(app, exit_code);
    register_export(app, exit_code);
    register_links(app, exit_code);
    register_report(app, exit_code);
    register_url(app, exit_code);
}

} // namespace flagcrawl::cli
