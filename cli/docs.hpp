// Documents generated from the command line itself, so that they never drift from --help: the
// man page (roff, man(7) macros) and the bash completion script. Built by the flagcrawl_docs tool
// at build time and installed with the binary (see cli/CMakeLists.txt).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace flagcrawl::cli {

// flagcrawl(1): every command and subcommand with its description, options and footer (whose
// "Examples:" lines are set as an unfilled block), the config file and the exit codes.
std::string man_page(const CLI::App& app);

// A bash script defining the completion of `flagcrawl`: command names, each command's options,
// and file names after an option that takes a value (and for positional arguments).
std::string bash_completion(const CLI::App& app);

} // namespace flagcrawl::cli
