// flagcrawl_docs MAN_FILE COMPLETION_FILE: writes the man page and the bash completion generated
// from flagcrawl's command line (run at build time; see cli/CMakeLists.txt).
#include "commands.hpp"
#include "docs.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: flagcrawl_docs MAN_FILE COMPLETION_FILE\n");
        return 2;
    }
    // Defaults that name the user's folders (config file, DB) as the reader's, not the builder's.
    ::unsetenv("XDG_CONFIG_HOME");
    ::unsetenv("XDG_STATE_HOME");
    ::setenv("HOME", "~", 1);
    CLI::App app;
    int exit_code = 0;
    flagcrawl::cli::build_app(app, exit_code);
    std::ofstream man(argv[1], std::ios::binary | std::ios::trunc);
    man << flagcrawl::cli::man_page(app);
    std::ofstream completion(argv[2], std::ios::binary | std::ios::trunc);
    completion << flagcrawl::cli::bash_completion(app);
    man.close();
    completion.close();
    if (!man || !completion) {
        std::fprintf(stderr, "flagcrawl_docs: cannot write %s or %s\n", argv[1], argv[2]);
        return 3;
    }
    return 0;
}
