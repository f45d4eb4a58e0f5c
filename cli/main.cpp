// flagcrawl's entry point: builds the command line from the registered subcommands, runs the
// chosen one, and turns exceptions (bad usage, unusable environment, bugs) into exit codes.
#include "commands.hpp"
#include "common.hpp"
#include "config_file.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <system_error>

namespace {

using namespace flagcrawl::cli;

// Parses the command line and runs the chosen command; every exception becomes its exit code.
int run(CLI::App& app, int argc, char** argv, const int& exit_code) {
    try {
        apply_config_file(app, argc, argv);
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::RequiredError& e) {
        // CLI11 reports a mistyped command ("flagcrawl crawll") as a missing subcommand.
        if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
            std::string names;
            for (const CLI::App* command : app.get_subcommands({})) {
                names += (names.empty() ? "" : ", ") + command->get_name();
            }
            fmt::print(stderr, "flagcrawl: unknown command '{}' (commands: {})\n", argv[1], names);
        } else {
            fmt::print(stderr, "flagcrawl: {} (see flagcrawl --help)\n", e.what());
        }
        return k_exit_usage;
    } catch (const CLI::ParseError& e) {
        // One line: the option and the reason, and where to look.
        fmt::print(stderr, "flagcrawl: {} (see flagcrawl --help)\n", e.what());
        return k_exit_usage;
    } catch (const UsageError& e) {
        fmt::print(stderr, "flagcrawl: {}\n", e.what());
        return k_exit_usage;
    } catch (const FatalError& e) {
        fmt::print(stderr, "flagcrawl: {}\n", e.what());
        return k_exit_fatal;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "flagcrawl: out of memory\n");
        return k_exit_fatal;
    } catch (const std::system_error& e) {
        // A thread that cannot start (a process or memory limit): the environment, not a bug.
        fmt::print(stderr, "flagcrawl: cannot start a thread or take a lock: {}\n", e.what());
        return k_exit_fatal;
    } catch (const std::exception& e) {
        fmt::print(stderr, "flagcrawl: internal error: {}\n", e.what());
        return k_exit_fatal;
    }
    return exit_code;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app;
    int exit_code = k_exit_ok;
    build_app(app, exit_code);

    set_process_arguments(argc, argv);
    raise_descriptor_limit();
    const int code = run(app, argc, argv, exit_code);
    // --cookies: written back whatever the outcome (a failed or interrupted run still received
    // its cookies).
    if (const std::string failed = save_cookie_file(); !failed.empty()) {
        fmt::print(stderr, "flagcrawl: {}\n", failed);
        return code == k_exit_ok || code == k_exit_failed ? k_exit_fatal : code;
    }
    return code;
}
