// Subcommand registry: each cli/cmd_*.cpp adds one subcommand to the CLI11 app and, when that
// subcommand is chosen, runs it and stores its exit code. main.cpp owns parsing and errors.
#pragma once

#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace flagcrawl::cli {

// Documented exit codes (README "Exit codes").
inline constexpr int k_exit_ok = 0;     // everything succeeded
inline constexpr int k_exit_failed = 1; // finished, some items failed
inline constexpr int k_exit_usage = 2;  // bad option, bad argument, unreadable input list
inline constexpr int k_exit_fatal = 3;  // cannot open the DB, create DIR, bind a port...
inline constexpr int k_exit_interrupted = 130;

// Thrown for unusable command-line input; main prints "flagcrawl: <what>" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Thrown for unusable environment (DB, output folder, port); main prints it and exits 3.
struct FatalError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Makes `app` flagcrawl's command line: its description, --version, --config, and every
// subcommand (registered below), whose exit code goes to `exit_code`. Used by main() and by the
// tool that generates the man page and the bash completion from it.
void build_app(CLI::App& app, int& exit_code);

// Each adds its subcommand to `app`; when the subcommand runs, its exit code goes to `exit_code`.
void register_download(CLI::App& app, int& exit_code);
void register_url(CLI::App& app, int& exit_code);
void register_serve(CLI::App& app, int& exit_code);
void register_stats(CLI::App& app, int& exit_code);
void register_export(CLI::App& app, int& exit_code);
void register_links(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);
void register_crawl(CLI::App& app, int& exit_code);
void register_flags(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);

} // namespace flagcrawl::cli
