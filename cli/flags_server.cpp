#include "flags_server.hpp"

#include "commands.hpp"
#include "common.hpp"

#include "server/flags.hpp"

#include <fmt/core.h>

#include <random>

namespace flagcrawl::cli {
namespace {

std::string seconds(std::chrono::nanoseconds ns) {
    return fmt::format("{:g}", std::chrono::duration<double>(ns).count());
}

} // namespace

FlagsSite resolve_flags_site(const std::string& server_text, const std::string& delay_text,
                             server::DelayRange delay_default) {
    auto parsed = crawler::parse_flags_server(server_text);
    if (!parsed) {
        throw UsageError(parsed.error().message);
    }
    FlagsSite site;
    site.server = *parsed;
    std::optional<server::DelayRange> delay;
    if (!delay_text.empty()) {
        delay = server::parse_delay(delay_text);
        if (!delay) {
            throw UsageError(fmt::format(
                "--delay: expected seconds (0.25) or a range (0.5-5), at most 3600, got '{}'",
                delay_text));
        }
        if (!crawler::is_embedded(site.server.mode)) {
            throw UsageError(fmt::format("--delay: only the embedded server can be slowed down "
                                         "(-s EMBEDDED, DELAY or ERROR), not {}",
                                         server_text));
        }
    }
    switch (site.server.mode) {
    case crawler::FlagsServerMode::embedded:
        if (delay) {
            site.server.mode = crawler::FlagsServerMode::delay;
            site.delay = delay;
        }
        break;
    case crawler::FlagsServerMode::delay:
        site.delay = delay.value_or(delay_default);
        break;
    case crawler::FlagsServerMode::error:
        site.delay = delay.value_or(delay_default);
        site.error_rate = k_error_mode_rate;
        break;
    default:
        break;
    }
    return site;
}

std::unique_ptr<server::Server> start_embedded_flags_server(FlagsSite& site) {
    server::Handler handler = server::flags_handler();
    if (site.delay || site.error_rate > 0) {
        server::ChaosOptions chaos;
        chaos.delay = site.delay.value_or(server::DelayRange{});
        chaos.error_rate = site.error_rate;
        // A fresh seed per server: like the book's error server, each run fails other flags.
        chaos.seed = std::random_device{}();
        handler = server::with_chaos(std::move(handler), chaos);
    }
    auto embedded = std::make_unique<server::Server>(std::move(handler));
    if (const auto ec = embedded->start()) {
        throw FatalError(fmt::format("cannot start the embedded flags server: {}", ec.message()));
    }
    site.server.base_url = embedded->base_url() + "/flags";
    return embedded;
}

std::string describe_delay(server::DelayRange delay) {
    if (delay.min == delay.max) {
        return seconds(delay.min) + " s";
    }
    return seconds(delay.min) + "-" + seconds(delay.max) + " s";
}

} // namespace flagcrawl::cli
