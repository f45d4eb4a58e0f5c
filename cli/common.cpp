#include "common.hpp"

#include "commands.hpp"

#include <fmt/core.h>

#include "fetch/cookies.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sys/resource.h>
#include <system_error>
#include <unistd.h>

namespace flagcrawl::cli {
namespace {

std::string g_process_arguments;
std::string g_invoked_program = "flagcrawl";

// The process's cookie jar and its file (--cookies), loaded once.
struct CookieFile {
    std::mutex mutex;
    std::string path;
    std::shared_ptr<fetch::CookieJar> jar;
};
CookieFile g_cookie_file;

std::shared_ptr<fetch::CookieJar> load_cookie_file(const std::string& path) {
    std::lock_guard lock(g_cookie_file.mutex);
    if (g_cookie_file.jar) {
        if (g_cookie_file.path != path) {
            throw UsageError("--cookies: one cookie file per run");
        }
        return g_cookie_file.jar;
    }
    auto jar = std::make_shared<fetch::CookieJar>();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw UsageError(fmt::format("--cookies: {} is a folder, not a cookie file", path));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in && std::filesystem::exists(path, ec)) {
        throw UsageError(fmt::format("--cookies: cannot read {}: {}", path,
                                     std::generic_category().message(errno)));
    }
    std::string line;
    for (std::uint64_t number = 1; std::getline(in, line); ++number) {
        if (std::string why = jar->load_line(line); !why.empty()) {
            throw UsageError(fmt::format("--cookies: {}:{}: {}", path, number, why));
        }
    }
    if (in.bad()) {
        throw UsageError(fmt::format("--cookies: cannot read {}", path));
    }
    g_cookie_file.path = path;
    g_cookie_file.jar = jar;
    return jar;
}

std::chrono::milliseconds seconds_option(double seconds, const char* option) {
    if (!(seconds >= 0) || seconds > 1e7) {
        throw UsageError(fmt::format("{}: expected seconds >= 0, got {}", option, seconds));
    }
    return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
}

// `arg` with the password it may hold replaced by "***": a URL's (scheme://user:secret@host),
// and the value of libpq's password keyword (password=secret, in a connection string or a
// URI's query), so that `--frontier` connection strings never reach the runs table with one.
std::string without_password(std::string_view arg) {
    std::string out(arg);
    if (const std::size_t scheme = out.find("://"); scheme != std::string::npos) {
        const std::size_t start = scheme + 3;
        const std::size_t end = std::min(out.find_first_of("/?#", start), out.size());
        const std::size_t at = out.rfind('@', end);
        const std::size_t colon = out.find(':', start);
        if (at != std::string::npos && at >= start && colon < at) {
            out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    constexpr std::string_view k_keyword = "password=";
    for (std::size_t p = out.find(k_keyword); p != std::string::npos;
         p = out.find(k_keyword, p + 1)) {
        if (p > 0 && out[p - 1] != ' ' && out[p - 1] != '?' && out[p - 1] != '&') {
            continue; // part of another word (e.g. a path)
        }
        const std::size_t value = p + k_keyword.size();
        std::size_t value_end = out.find_first_of(" &", value);
        if (value < out.size() && out[value] == '\'') {
            value_end = out.find('\'', value + 1);
            value_end = value_end == std::string::npos ? out.size() : value_end + 1;
        }
        out.replace(value, std::min(value_end, out.size()) - value, "***");
    }
    return out;
}

} // namespace

void add_common_options(CLI::App& command, CommonOptions& o, double default_timeout_s) {
    o.timeout_s = default_timeout_s;
    // Values are checked when given (the command line's or the config file's), so that a bad
    // one is named where it comes from.
    command.add_option("--strategy", o.strategy, "sequential, threaded or async")
        ->capture_default_str()
        ->check(CLI::IsMember({"sequential", "threaded", "async"}))
        ->group("Fetching");
    command.add_option("-c,--concurrency", o.concurrency, "Requests in flight at most")
        ->check(CLI::Range(1, 10000))
        ->group("Fetching");
    command.add_option("--timeout", o.timeout_s, "Seconds a request may take in all (0: none)")
        ->capture_default_str()
        ->group("Fetching");
    command.add_option("--connect-timeout", o.connect_timeout_s, "Seconds to connect")
        ->capture_default_str()
        ->group("Fetching");
    command
        .add_option("--retries", o.retries,
                    "Retries after connection errors, 408, 429 and 5xx (exponential backoff)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100))
        ->group("Fetching");
    command
        .add_option("--max-size", o.max_size,
                    "Largest body accepted, e.g. 512K, 10M (as sent and decoded); a larger "
                    "Content-Length is refused unread")
        ->check(CLI::Validator(
            [](std::string& text) {
                try {
                    parse_size(text, "--max-size");
                } catch (const UsageError& e) {
                    return std::string(e.what());
                }
                return std::string();
            },
            "SIZE"))
        ->group("Fetching");
    command
        .add_option("--stall-timeout", o.stall_timeout_s,
                    "End a transfer that stays under --min-speed for this many seconds: a server "
                    "that never answers, or drips (0: never)")
        ->capture_default_str()
        ->group("Fetching");
    command
        .add_option("--min-speed", o.min_speed, "Bytes per second below which a transfer stalls")
        ->capture_default_str()
        ->group("Fetching");
    command
        .add_option("--max-decoded", o.max_decoded,
                    "Largest decoded size of a compressed (gzip, br, zstd) body (0: no limit)")
        ->capture_default_str()
        ->group("Fetching");
    command
        .add_option("--max-ratio", o.max_ratio,
                    "Largest decoded-to-received ratio of a compressed body past its first MiB: "
                    "stops decompression bombs (0: no limit)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000000))
        ->group("Fetching");
    command.add_option("--user-agent", o.user_agent, "User-Agent header")->group("Fetching");
    command
        .add_option("-H,--header", o.headers, "Extra request header \"Name: value\" (repeatable)")
        ->group("Fetching");
    command
        .add_option("--proxy", o.proxy,
                    "Send every request through this HTTP proxy (http://host:port), whatever "
                    "http_proxy and no_proxy say; errors then name the proxy")
        ->group("Fetching");
    command
        .add_option("--cookies", o.cookies,
                    "Cookie file (Netscape format, as curl -b/-c and wget --load-cookies): sent "
                    "with the requests, updated by the servers' Set-Cookie, written back at the "
                    "end (created if missing)")
        ->group("Fetching");
    command
        .add_option("--db", o.db,
                    "SQLite file recording the run (default: " + default_db_path() + ")")
        ->group("Output");
    command.add_flag("--no-db", o.no_db, "Record nothing")->group("Output");
    command.add_flag("-q,--quiet", o.quiet, "Print only errors")->group("Output");
    command.add_flag("-v,--verbose", o.verbose, "One line per item")->group("Output");
    command
        .add_option("--progress", o.progress, "Progress line: auto (on a terminal), always, never")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->group("Output");
    command.add_flag("--json", o.json, "Print the summary as JSON on stdout")->group("Output");
}

fetch::Strategy parse_strategy_option(const CommonOptions& options) {
    auto strategy = fetch::parse_strategy(options.strategy);
    if (!strategy) {
        throw UsageError(fmt::format("--strategy: expected sequential, threaded or async, got '{}'",
                                     options.strategy));
    }
    return *strategy;
}

std::uint64_t parse_size(const std::string& text, const std::string& option) {
    std::size_t end = 0;
    unsigned long long value = 0;
    try {
        if (!text.empty() && text[0] != '-') {
            value = std::stoull(text, &end);
        }
    } catch (const std::exception&) {
        end = 0;
    }
    if (end == 0) {
        throw UsageError(
            fmt::format("{}: expected a size such as 512K or 10M, got '{}'", option, text));
    }
    std::string suffix = text.substr(end);
    unsigned shift = 0;
    if (suffix == "K" || suffix == "k" || suffix == "KiB") {
        shift = 10;
    } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
        shift = 20;
    } else if (suffix == "G" || suffix == "g" || suffix == "GiB") {
        shift = 30;
    } else if (!suffix.empty() && suffix != "B") {
        throw UsageError(
            fmt::format("{}: unknown size suffix in '{}' (use K, M or G)", option, text));
    }
    if (shift > 0 && value > (~0ULL >> shift)) {
        throw UsageError(fmt::format("{}: '{}' is too large", option, text));
    }
    return value << shift;
}

fetch::Policy make_policy(const CommonOptions& o) {
    fetch::Policy policy;
    policy.total_timeout = seconds_option(o.timeout_s, "--timeout");
    policy.connect_timeout = seconds_option(o.connect_timeout_s, "--connect-timeout");
    policy.retries = o.retries;
    if (!o.max_size.empty()) {
        policy.max_body_bytes = parse_size(o.max_size, "--max-size");
    }
    policy.low_speed_window = seconds_option(o.stall_timeout_s, "--stall-timeout");
    const std::uint64_t min_speed = parse_size(o.min_speed, "--min-speed");
    if (min_speed > static_cast<std::uint64_t>(std::numeric_limits<long>::max())) {
        throw UsageError(fmt::format("--min-speed: '{}' is too large", o.min_speed));
    }
    policy.low_speed_bytes_per_s = static_cast<long>(min_speed);
    policy.max_decoded_bytes = parse_size(o.max_decoded, "--max-decoded");
    policy.max_decoded_ratio = o.max_ratio;
    policy.user_agent = o.user_agent;
    for (const std::string& header : o.headers) {
        auto colon = header.find(':');
        if (colon == std::string::npos || colon == 0 ||
            header.find_first_of("\r\n") != std::string::npos) {
            throw UsageError(fmt::format("--header: expected \"Name: value\", got '{}'", header));
        }
    }
    policy.headers = o.headers;
    if (o.proxy.find_first_of(" \t\r\n") != std::string::npos) {
        throw UsageError(
            fmt::format("--proxy: expected a URL such as http://host:3128, got '{}'", o.proxy));
    }
    policy.proxy = o.proxy;
    if (!o.cookies.empty()) {
        policy.cookies = load_cookie_file(o.cookies);
    }
    return policy;
}

std::string save_cookie_file() {
    std::lock_guard lock(g_cookie_file.mutex);
    if (!g_cookie_file.jar) {
        return {};
    }
    namespace fs = std::filesystem;
    const fs::path path = g_cookie_file.path;
    const std::string text = fetch::netscape_file_text(g_cookie_file.jar->netscape_lines());
    // A temporary file in the same folder, renamed over the old one: a reader sees the old file
    // or the new one, never half of one.
    std::string temp = (path.parent_path() / ("." + path.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) {
        return fmt::format("cannot write the cookie file {}: {}", path.string(),
                           std::generic_category().message(errno));
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    const int saved_errno = errno;
    const bool ok = done == text.size() && ::fsync(fd) == 0;
    if (::close(fd) != 0 || !ok || ::rename(temp.c_str(), path.c_str()) != 0) {
        const int error = ok ? errno : saved_errno;
        ::unlink(temp.c_str());
        return fmt::format("cannot write the cookie file {}: {}", path.string(),
                           std::generic_category().message(error));
    }
    return {};
}

std::string default_db_path() {
    namespace fs = std::filesystem;
    if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
        return (fs::path(state) / "flagcrawl" / "flagcrawl.db").string();
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return (fs::path(home) / ".local" / "state" / "flagcrawl" / "flagcrawl.db").string();
    }
    return "flagcrawl.db";
}

std::string db_path(const CommonOptions& options) {
    if (options.no_db) {
        return {};
    }
    return options.db.empty() ? default_db_path() : options.db;
}

namespace {

std::unique_ptr<storage::Writer> open_store(const CommonOptions& options,
                                            const storage::WriterOptions& writer_options) {
    std::string path = db_path(options);
    if (path.empty()) {
        return nullptr;
    }
    if (options.db.empty()) {
        // The default location may not exist yet on a fresh account; a --db folder must.
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    }
    auto writer = storage::Writer::open(path, writer_options);
    if (!writer) {
        throw FatalError(writer.error().message);
    }
    return std::make_unique<storage::Writer>(std::move(*writer));
}

} // namespace

RecordedRun::RecordedRun(const CommonOptions& options, std::string command,
                         fetch::Strategy strategy, int concurrency,
                         const storage::WriterOptions& writer_options)
    : m_writer(open_store(options, writer_options)) {
    if (!m_writer) {
        return;
    }
    auto run = m_writer->begin_run({.command = std::move(command),
                                    .arguments = process_arguments(),
                                    .strategy = std::string(fetch::to_string(strategy)),
                                    .concurrency = concurrency});
    if (!run) {
        throw FatalError(run.error().message);
    }
    m_id = *run;
}

void RecordedRun::finish(const storage::RunTotals& totals, bool interrupted,
                         const std::optional<storage::Error>& store_error) {
    if (!m_writer) {
        return;
    }
    auto status = store_error   ? storage::RunStatus::failed
                  : interrupted ? storage::RunStatus::interrupted
                                : storage::RunStatus::finished;
    auto finished = m_writer->finish_run(m_id, totals, status);
    auto closed = m_writer->close();
    if (store_error) {
        throw FatalError(store_error->message);
    }
    if (!finished) {
        throw FatalError(finished.error().message);
    }
    if (!closed) {
        throw FatalError(closed.error().message);
    }
}

void create_output_folder(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw FatalError(fmt::format("cannot create output folder {}: {}", dir,
                                     ec ? ec.message() : "not a directory"));
    }
}

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

std::string shell_quote(std::string_view word) {
    if (!word.empty() &&
        word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_-+=.,/:@%") == std::string_view::npos) {
        return std::string(word);
    }
    std::string out = "'";
    for (char c : word) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + '\'';
}

void set_process_arguments(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        const std::string redacted = without_password(argv[i]);
        std::string_view arg = redacted;
        if (i > 0) {
            line += ' ';
        }
        if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`") == std::string_view::npos) {
            line += arg;
            continue;
        }
        line += '\'';
        for (char c : arg) {
            if (c == '\'') {
                line += "'\\''";
            } else {
                line += c;
            }
        }
        line += '\'';
    }
    g_process_arguments = std::move(line);
    g_invoked_program = argc > 0 ? shell_quote(argv[0]) : std::string("flagcrawl");
}

const std::string& process_arguments() {
    return g_process_arguments;
}

const std::string& invoked_program() {
    return g_invoked_program;
}

} // namespace flagcrawl::cli
