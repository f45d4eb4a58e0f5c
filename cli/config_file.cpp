#include "config_file.hpp"

#include "commands.hpp"
#include "common.hpp"

#include "util/ascii.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

namespace flagcrawl::cli {

namespace {

std::vector<std::string> g_config_arguments;
// Where the parser stores --config and --no-config; apply_config_file() has read them from argv.
std::string g_config_option;
bool g_no_config_option = false;

struct Entry {
    std::string section; // "" for the top level, "crawl", "bench.flags"
    std::string key;     // without dashes: "user-agent"
    std::vector<std::string> values;
    bool list = false;
    std::size_t line = 0;
};

// Reads one line's value: "quoted", 'literal', [list] or a bare word, then an optional comment.
// Returns the reason when it cannot.
std::string read_value(std::string_view text, Entry& entry) {
    auto read_quoted = [](std::string_view& rest, std::string& out) -> std::string {
        const char quote = rest.front();
        rest.remove_prefix(1);
        while (!rest.empty() && rest.front() != quote) {
            char c = rest.front();
            rest.remove_prefix(1);
            if (c == '\\' && quote == '"') {
                if (rest.empty()) {
                    break;
                }
                const char escaped = rest.front();
                rest.remove_prefix(1);
                switch (escaped) {
                case '"':
                case '\\':
                    c = escaped;
                    break;
                case 't':
                    c = '\t';
                    break;
                case 'n':
                    c = '\n';
                    break;
                default:
                    return fmt::format("unknown escape \\{} in a quoted value", escaped);
                }
            }
            out += c;
        }
        if (rest.empty()) {
            return "a quoted value without its closing quote";
        }
        rest.remove_prefix(1);
        return {};
    };
    auto only_comment_left = [](std::string_view rest) {
        rest = util::trim(rest);
        return rest.empty() || rest.front() == '#';
    };

    text = util::trim(text);
    if (text.empty()) {
        return "a key without a value (write key = value)";
    }
    if (text.front() == '"' || text.front() == '\'') {
        std::string value;
        if (std::string why = read_quoted(text, value); !why.empty()) {
            return why;
        }
        if (!only_comment_left(text)) {
            return "text after the quoted value";
        }
        entry.values.push_back(std::move(value));
        return {};
    }
    if (text.front() == '[') {
        entry.list = true;
        text.remove_prefix(1);
        for (;;) {
            text = util::trim(text);
            if (!text.empty() && text.front() == ']') {
                text.remove_prefix(1);
                break;
            }
            if (text.empty() || (text.front() != '"' && text.front() != '\'')) {
                return "a list holds quoted values: [\"a\", \"b\"]";
            }
            std::string value;
            if (std::string why = read_quoted(text, value); !why.empty()) {
                return why;
            }
            entry.values.push_back(std::move(value));
            text = util::trim(text);
            if (!text.empty() && text.front() == ',') {
                text.remove_prefix(1);
            } else if (text.empty() || text.front() != ']') {
                return "a list holds quoted values separated by commas: [\"a\", \"b\"]";
            }
        }
        if (!only_comment_left(text)) {
            return "text after the list";
        }
        return {};
    }
    const std::string_view word = util::trim(text.substr(0, text.find('#')));
    entry.values.emplace_back(word);
    return {};
}

bool is_key(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return util::is_ascii_alnum(c) || c == '-' || c == '_' || c == '.';
    });
}

std::vector<Entry> read_config(std::istream& in, const std::string& file) {
    std::vector<Entry> entries;
    std::string section;
    std::set<std::string> sections_seen;
    std::map<std::pair<std::string, std::string>, std::size_t> first_line;
    std::string text;
    for (std::size_t number = 1; std::getline(in, text); ++number) {
        auto fail = [&](const std::string& why) {
            return UsageError(fmt::format("{}:{}: {}", file, number, why));
        };
        std::string_view line = util::trim(text);
        if (number == 1 && line.starts_with("\xEF\xBB\xBF")) {
            line.remove_prefix(3);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        if (line.front() == '[') {
            const auto close = line.find(']');
            const std::string_view rest =
                close == std::string_view::npos ? std::string_view() : line.substr(close + 1);
            section = std::string(util::trim(line.substr(1, close - 1)));
            if (close == std::string_view::npos || !is_key(section) ||
                !(util::trim(rest).empty() || util::trim(rest).front() == '#')) {
                throw fail("expected a section such as [crawl]");
            }
            if (!sections_seen.insert(section).second) {
                throw fail(fmt::format("section [{}] appears twice", section));
            }
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string_view::npos) {
            throw fail("expected KEY = VALUE, or a [COMMAND] section");
        }
        Entry entry;
        entry.section = section;
        entry.key = std::string(util::trim(line.substr(0, equals)));
        entry.line = number;
        if (!is_key(entry.key) || entry.key.find('.') != std::string::npos) {
            throw fail(fmt::format("'{}' is not a key (an option's long name, e.g. user-agent)",
                                   entry.key));
        }
        std::replace(entry.key.begin(), entry.key.end(), '_', '-');
        if (std::string why = read_value(line.substr(equals + 1), entry); !why.empty()) {
            throw fail(entry.key + ": " + why);
        }
        const auto [it, added] = first_line.emplace(std::make_pair(section, entry.key), number);
        if (!added) {
            throw fail(fmt::format("{} is set twice (first on line {})", entry.key, it->second));
        }
        entries.push_back(std::move(entry));
    }
    if (in.bad()) {
        throw UsageError(fmt::format("cannot read the config file {}", file));
    }
    return entries;
}

// The long names of the options every fetching command shares (add_common_options).
std::set<std::string> common_option_names() {
    CLI::App scratch;
    CommonOptions options;
    add_common_options(scratch, options, 0);
    std::set<std::string> names;
    for (const CLI::Option* option : scratch.get_options()) {
        for (const std::string& name : option->get_lnames()) {
            names.insert(name);
        }
    }
    names.erase("help");
    return names;
}

// The subcommand a section names ("crawl", "bench.flags"); null when there is none.
CLI::App* find_command(CLI::App& app, std::string_view path) {
    CLI::App* at = &app;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string name(path.substr(0, dot));
        CLI::App* next = nullptr;
        for (CLI::App* sub : at->get_subcommands({})) {
            if (sub->get_name() == name) {
                next = sub;
            }
        }
        if (next == nullptr) {
            return nullptr;
        }
        at = next;
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    return at;
}

// The option a key names on `command` (its long names only: no positional, no --help).
CLI::Option* find_option(CLI::App& command, const std::string& key) {
    for (CLI::Option* option : command.get_options()) {
        const auto& names = option->get_lnames();
        if (key != "help" && std::find(names.begin(), names.end(), key) != names.end()) {
            return option;
        }
    }
    return nullptr;
}

void apply(CLI::Option& option, Entry entry, const std::string& file) {
    for (std::string& value : entry.values) {
        if (value.starts_with("~/")) {
            if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
                value = std::string(home) + value.substr(1);
            }
        }
    }
    const bool repeatable = option.get_items_expected_max() > 1;
    try {
        if (repeatable) {
            // Set as the values of a command line would be, then forgotten as given: the
            // option keeps them unless the command line gives its own.
            option.clear();
            option.add_result(entry.values);
            option.run_callback();
            option.clear();
        } else if (entry.list) {
            throw UsageError(
                fmt::format("{}:{}: {}: takes one value, not a list", file, entry.line, entry.key));
        } else {
            option.default_val(entry.values.front());
        }
    } catch (const CLI::Error& e) {
        throw UsageError(fmt::format("{}:{}: {} = {}: {}", file, entry.line, entry.key,
                                     entry.list ? "[...]" : entry.values.front(), e.what()));
    }
}

} // namespace

std::string default_config_path() {
    namespace fs = std::filesystem;
    if (const char* config = std::getenv("XDG_CONFIG_HOME"); config != nullptr && *config == '/') {
        return (fs::path(config) / "flagcrawl" / "config").string();
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return (fs::path(home) / ".config" / "flagcrawl" / "config").string();
    }
    return {};
}

void add_config_options(CLI::App& app) {
    const std::string where = default_config_path();
    app.add_option("--config", g_config_option,
                   "Read option defaults from FILE (default: " +
                       (where.empty() ? std::string("none") : where) +
                       "; an option given on the command line wins)")
        ->type_name("FILE");
    app.add_flag("--no-config", g_no_config_option, "Read no config file");
}

void apply_config_file(CLI::App& app, int argc, char** argv) {
    std::optional<std::string> chosen;
    bool none = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;
        }
        if (arg == "--no-config") {
            none = true;
        } else if (arg == "--config") {
            if (i + 1 >= argc) {
                throw UsageError("--config: needs a FILE");
            }
            chosen = argv[++i];
        } else if (arg.starts_with("--config=")) {
            chosen = std::string(arg.substr(9));
        }
    }
    if (none && chosen) {
        throw UsageError("--config and --no-config contradict each other");
    }
    if (none) {
        g_config_arguments = {"--no-config"};
        return;
    }
    std::string file = chosen.value_or(default_config_path());
    if (chosen) {
        std::error_code ec;
        g_config_arguments = {"--config", std::filesystem::absolute(file, ec).string()};
    }
    if (file.empty()) {
        return;
    }
    std::error_code ec;
    if (!chosen && !std::filesystem::exists(file, ec)) {
        return; // no config file: nothing to apply
    }
    if (std::filesystem::is_directory(file, ec)) {
        throw UsageError(fmt::format("cannot read the config file {}: it is a folder", file));
    }
    std::ifstream in(file);
    if (!in) {
        throw UsageError(fmt::format("cannot read the config file {}: {}", file,
                                     std::generic_category().message(errno)));
    }
    const std::vector<Entry> entries = read_config(in, file);

    const std::set<std::string> common = common_option_names();
    // The top level first, so that a command's section overrides it.
    for (const bool top_level : {true, false}) {
        for (const Entry& entry : entries) {
            if (entry.section.empty() != top_level) {
                continue;
            }
            auto fail = [&](const std::string& why) {
                return UsageError(fmt::format("{}:{}: {}", file, entry.line, why));
            };
            if (!top_level) {
                CLI::App* command = find_command(app, entry.section);
                if (command == nullptr || command == &app) {
                    throw fail(fmt::format("[{}] is not a command", entry.section));
                }
                CLI::Option* option = find_option(*command, entry.key);
                if (option == nullptr) {
                    throw fail(fmt::format("unknown key '{}': {} has no option --{}", entry.key,
                                           entry.section, entry.key));
                }
                apply(*option, entry, file);
                continue;
            }
            if (!common.contains(entry.key)) {
                std::string owners;
                for (CLI::App* command : app.get_subcommands({})) {
                    if (find_option(*command, entry.key) != nullptr) {
                        owners += (owners.empty() ? "" : ", ") + command->get_name();
                    }
                }
                throw fail(owners.empty()
                               ? fmt::format("unknown key '{}' (keys are long option names, "
                                             "e.g. user-agent, db)",
                                             entry.key)
                               : fmt::format("'{}' is an option of {} only: put it under [{}]",
                                             entry.key, owners,
                                             owners.substr(0, owners.find(','))));
            }
            // Every command that has it, except bench's (its runs read the config themselves).
            for (CLI::App* command : app.get_subcommands({})) {
                if (command->get_name() != "bench") {
                    if (CLI::Option* option = find_option(*command, entry.key)) {
                        apply(*option, entry, file);
                    }
                }
            }
        }
    }
}

const std::vector<std::string>& config_arguments() {
    return g_config_arguments;
}

} // namespace flagcrawl::cli
