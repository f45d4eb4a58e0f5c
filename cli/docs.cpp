#include "docs.hpp"

#include "config_file.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <sstream>
#include <string_view>
#include <vector>

namespace flagcrawl::cli {

namespace {

// Text as roff reads it literally: backslashes doubled as \e, dashes as \- (so that options
// can be searched and copied), a line starting with a control character protected by \&.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (const char c : text) {
        if (line_start && (c == '.' || c == '\'')) {
            out += "\\&";
        }
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
        line_start = c == '\n';
    }
    return out;
}

// The visible subcommands of `app`, in the order --help lists them.
std::vector<const CLI::App*> commands_of(const CLI::App& app) {
    std::vector<const CLI::App*> out;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (!sub->get_group().empty()) {
            out.push_back(sub);
        }
    }
    return out;
}

// The options of `app` that a user types: named, not hidden (--help included).
std::vector<const CLI::Option*> named_options(const CLI::App& app) {
    std::vector<const CLI::Option*> out;
    for (const CLI::Option* option : app.get_options()) {
        if (option->nonpositional() && !option->get_group().empty()) {
            out.push_back(option);
        }
    }
    return out;
}

std::vector<std::string> names_of(const CLI::Option& option) {
    std::vector<std::string> names;
    for (const std::string& name : option.get_snames()) {
        names.push_back("-" + name);
    }
    for (const std::string& name : option.get_lnames()) {
        names.push_back("--" + name);
    }
    return names;
}

bool takes_value(const CLI::Option& option) {
    return option.get_items_expected_max() > 0 && option.get_expected_max() > 0 &&
           !option.get_type_name().empty();
}

void man_options(const CLI::App& app, std::string& out) {
    for (const CLI::Option* option : named_options(app)) {
        std::string names;
        for (const std::string& name : names_of(*option)) {
            names += (names.empty() ? "" : ", ") + fmt::format("\\fB{}\\fR", roff(name));
        }
        if (takes_value(*option)) {
            names += fmt::format(" \\fI{}\\fR", roff(option->get_type_name()));
        }
        out += ".TP\n" + names + "\n" + roff(option->get_description()) + "\n";
    }
}

// A footer: paragraphs, and after an "Examples:" line the lines as they are (no filling).
void man_footer(std::string_view footer, std::string& out) {
    std::istringstream lines{std::string(footer)};
    std::string line;
    bool examples = false;
    while (std::getline(lines, line)) {
        if (line.empty()) {
            continue;
        }
        if (!examples && line.starts_with("Examples:")) {
            out += ".PP\nExamples:\n.RS\n.nf\n";
            examples = true;
            continue;
        }
        if (examples) {
            const std::size_t start = line.find_first_not_of(' ');
            out += roff(start == std::string::npos ? "" : line.substr(start)) + "\n";
        } else {
            out += ".PP\n" + roff(line) + "\n";
        }
    }
    if (examples) {
        out += ".fi\n.RE\n";
    }
}

void man_command(const CLI::App& command, const std::string& path, std::string& out) {
    std::string positionals;
    for (const CLI::Option* option : command.get_options()) {
        if (option->get_positional()) {
            positionals += " [" + option->get_name(true) + "...]";
        }
    }
    const std::vector<const CLI::App*> subs = commands_of(command);
    out += fmt::format(".SS \"{}{}{}\"\n", roff(path), subs.empty() ? " [OPTIONS]" : " COMMAND",
                       roff(positionals));
    out += roff(command.get_description()) + "\n";
    if (!subs.empty()) {
        out += ".PP\nCommands:\n";
        for (const CLI::App* sub : subs) {
            out += fmt::format(".TP\n\\fB{}\\fR\n{}\n", roff(sub->get_name()),
                               roff(sub->get_description()));
        }
    }
    man_options(command, out);
    man_footer(command.get_footer(), out);
    for (const CLI::App* sub : subs) {
        man_command(*sub, path + " " + sub->get_name(), out);
    }
}

// Every command path ("", "download", "bench", "bench flags") with its command.
void collect(const CLI::App& app, const std::string& path,
             std::vector<std::pair<std::string, const CLI::App*>>& out) {
    out.emplace_back(path, &app);
    for (const CLI::App* sub : commands_of(app)) {
        collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
    }
}

std::string words(const std::vector<std::string>& list) {
    std::string out;
    for (const std::string& word : list) {
        out += (out.empty() ? "" : " ") + word;
    }
    return out;
}

} // namespace

std::string man_page(const CLI::App& app) {
    std::string out;
    out += ".TH FLAGCRAWL 1 \"\" \"flagcrawl " FLAGCRAWL_VERSION "\" \"User Commands\"\n";
    out += ".SH NAME\nflagcrawl \\- concurrent downloader and web crawler\n";
    out += ".SH SYNOPSIS\n.B flagcrawl\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] \\fICOMMAND\\fR "
           "[\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n";
    out += ".SH DESCRIPTION\n" + roff(app.get_description()) + "\n";
    out += ".PP\nEach command's options are listed below; \\fBflagcrawl \\fICOMMAND\\fB "
           "\\-\\-help\\fR prints the same text.\n";
    out += ".SH OPTIONS\n";
    man_options(app, out);
    out += ".SH COMMANDS\n";
    for (const CLI::App* command : commands_of(app)) {
        man_command(*command, "flagcrawl " + command->get_name(), out);
    }
    out += ".SH FILES\n.TP\n\\fI$XDG_CONFIG_HOME/flagcrawl/config\\fR, "
           "\\fI~/.config/flagcrawl/config\\fR\n" +
           roff("Defaults for the commands' options, one KEY = VALUE a line (keys are long option "
                "names; a [COMMAND] section holds a command's own options); an option given on "
                "the command line overrides its key. --config FILE reads another file, "
                "--no-config none. A line that cannot be used is a usage error naming the file "
                "and the line.") +
           "\n.PP\n.nf\n" +
           roff("user-agent = \"mybot/1.0 (+https://example.org/bot)\"\n"
                "db = \"~/crawls/flagcrawl.db\"\n"
                "[crawl]\n"
                "delay = 1\n") +
           ".fi\n";
    out += ".SH EXIT STATUS\n.TP\n0\nEverything succeeded.\n.TP\n1\nFinished; some items "
           "failed (not found, errors).\n.TP\n2\nUsage error: a bad option, argument, input list "
           "or config file.\n.TP\n3\nFatal: cannot open the DB, create a folder, bind a port, "
           "write an output.\n.TP\n130\nInterrupted (Ctrl\\-C); what was done is recorded.\n";
    return out;
}

std::string bash_completion(const CLI::App& app) {
    std::vector<std::pair<std::string, const CLI::App*>> paths;
    collect(app, "", paths);

    std::string known;               // case patterns of every command path
    std::string tables;              // per path: its subcommands and options
    std::vector<std::string> valued; // options that take a value, in any command
    for (const auto& [path, command] : paths) {
        std::vector<std::string> subs, options;
        for (const CLI::App* sub : commands_of(*command)) {
            subs.push_back(sub->get_name());
        }
        bool positional = false;
        for (const CLI::Option* option : command->get_options()) {
            positional = positional || option->get_positional();
        }
        for (const CLI::Option* option : named_options(*command)) {
            for (const std::string& name : names_of(*option)) {
                options.push_back(name);
                if (takes_value(*option) &&
                    std::find(valued.begin(), valued.end(), name) == valued.end()) {
                    valued.push_back(name);
                }
            }
        }
        if (!path.empty()) {
            known += (known.empty() ? "" : "|") + fmt::format("\"{}\"", path);
        }
        tables += fmt::format("        \"{}\") subs=\"{}\"; opts=\"{}\"; files={} ;;\n", path,
                              words(subs), words(options), positional ? 1 : 0);
    }
    std::string valued_pattern;
    for (const std::string& name : valued) {
        valued_pattern += (valued_pattern.empty() ? "" : "|") + name;
    }

    return fmt::format(
        R"(# bash completion for flagcrawl (generated from its command line; see flagcrawl(1))
_flagcrawl() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local path="" next word i subs opts files
    # The command path so far: the words that name commands, options and their values skipped.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        next=${{path:+$path }}$word
        case $next in
        {}) path=$next ;;
        esac
    done
    case $path in
{}    esac
    case $prev in
    {})
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif [[ $files == 1 ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _flagcrawl flagcrawl
)",
        known, tables, valued_pattern);
}

} // namespace flagcrawl::cli
