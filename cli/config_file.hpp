// The config file (~/.config/flagcrawl/config): defaults for the commands' options, such as the
// user agent, the crawl delay and the DB path. It is read before the command line, and an option
// given on the command line overrides it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace flagcrawl::cli {

// $XDG_CONFIG_HOME/flagcrawl/config when XDG_CONFIG_HOME is an absolute path, else
// $HOME/.config/flagcrawl/config; "" when there is neither.
std::string default_config_path();

// Adds --config FILE and --no-config to the top-level command (for --help and so that the
// parser accepts them; apply_config_file() reads them from argv first).
void add_config_options(CLI::App& app);

// Reads the config file named by --config FILE in argv, else the default one (none when it does
// not exist), unless --no-config is given, and makes each of its values the default of the
// option it names, validated as the command line's would be. The format, a subset of TOML:
//
//   # comments; blank lines
//   user-agent = "mybot/1.0 (+https://example.org/bot)"   # the options every fetching command
//   db = "~/crawls/flagcrawl.db"                          # has (download, flags, crawl)
//   [crawl]                                               # a command's own options
//   delay = 1
//   header = ["Accept-Language: en", "X-Team: web"]       # a list for a repeatable option
//
// Keys are long option names without the dashes ('_' may stand for '-'); values are "quoted"
// (\" \\ \t \n escapes), 'literal', bare words and numbers, true/false for flags, or [lists]. A
// value starting with "~/" starts in $HOME. A section's values override the top level's. Throws
// UsageError "FILE:LINE: reason" for a line it cannot read, an unknown key or section, or a value
// the option refuses; UsageError naming the file when it cannot be read.
void apply_config_file(CLI::App& app, int argc, char** argv);

// What gives a child process (bench runs) the same config as this one: {"--no-config"},
// {"--config", FILE} or {} (the default file, which the child finds itself). Valid after
// apply_config_file().
const std::vector<std::string>& config_arguments();

} // namespace flagcrawl::cli
