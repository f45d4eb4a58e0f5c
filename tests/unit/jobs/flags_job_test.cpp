// The flags job under each strategy against the real flags server on loopback: files and their
// bytes, not found and errors, --metadata names and the two-step hand-out.
#include "file_contents.hpp"
#include "temp_dir.hpp"

#include "crawler/jobs/flags_codes.hpp"
#include "crawler/jobs/flags_job.hpp"
#include "fetch/fetch.hpp"
#include "server/chaos.hpp"
#include "server/flags.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

using namespace flagcrawl;
using namespace std::chrono_literals;
using testing_support::read_folder;
using testing_support::TempDir;

namespace {

struct Outcome {
    std::map<std::string, std::string> reported; // code -> "ok" | "not found" | "error: ..."
    std::uint64_t ok = 0, not_found = 0, errors = 0, requests = 0, metadata_attempts = 0;
};

class FlagsJob : public testing::TestWithParam<fetch::Strategy> {
protected:
    Outcome run(server::Handler handler, std::vector<std::string> codes, bool metadata,
                int concurrency = 8) {
        server::Server server(std::move(handler));
        EXPECT_FALSE(server.start());
        Outcome outcome;
        std::mutex mutex;
        crawler::Recorder recorder(nullptr, 0, [&](const crawler::ItemReport& item) {
            std::lock_guard lock(mutex);
            std::string text(fetch::to_string(item.outcome));
            if (item.outcome == fetch::Outcome::error)
                text += ": " + std::string(item.reason);
            EXPECT_TRUE(outcome.reported.emplace(std::string(item.label), text).second)
                << "reported twice: " << item.label;
        });
        crawler::FlagsJob job(std::move(codes),
                              {.base_url = server.base_url() + "/flags",
                               .out_dir = m_dir.path(),
                               .metadata = metadata},
                              recorder);
        fetch::Policy policy;
        policy.retries = 0;
        auto fetcher = fetch::make_fetcher(GetParam(), policy, concurrency);
        fetcher->run(job, job);
        const auto totals = recorder.totals();
        outcome.ok = totals.ok;
        outcome.not_found = totals.not_found;
        outcome.errors = totals.errors;
        outcome.requests = totals.requests;
        outcome.metadata_attempts = job.metadata_attempts();
        return outcome;
    }

    TempDir m_dir{"flagsjob"};
};

} // namespace

TEST_P(FlagsJob, WritesEachFlagAsCodeDotGifByteForByte) {
    auto outcome = run(server::flags_handler(), {"BR", "CN", "XX", "ZW"}, false);
    EXPECT_EQ(outcome.ok, 3u);
    EXPECT_EQ(outcome.not_found, 1u);
    EXPECT_EQ(outcome.errors, 0u);
    EXPECT_EQ(outcome.requests, 4u);
    EXPECT_EQ(outcome.reported,
              (std::map<std::string, std::string>{
                  {"BR", "ok"}, {"CN", "ok"}, {"XX", "not found"}, {"ZW", "ok"}}));
    EXPECT_EQ(read_folder(m_dir.path()),
              (std::map<std::string, std::string>{{"BR.gif", server::flag_gif("BR")},
                                                  {"CN.gif", server::flag_gif("CN")},
                                                  {"ZW.gif", server::flag_gif("ZW")}}));
}

TEST_P(FlagsJob, InjectedErrorsAreErrorsAndLeaveNoFile) {
    auto handler = server::with_chaos(server::flags_handler(), {.error_rate = 1.0});
    auto outcome = run(handler, {"CN", "QQ"}, false);
    EXPECT_EQ(outcome.ok, 0u);
    EXPECT_EQ(outcome.not_found, 1u); // no flag to fail: still a 404
    EXPECT_EQ(outcome.errors, 1u);
    EXPECT_EQ(outcome.reported["CN"], "error: HTTP 418 I'm a teapot");
    EXPECT_TRUE(read_folder(m_dir.path()).empty());
}

TEST_P(FlagsJob, MetadataNamesTheFilesAfterTheCountry) {
    auto outcome = run(server::flags_handler(), {"CI", "CN", "QQ", "US"}, true, 2);
    EXPECT_EQ(outcome.ok, 3u);
    EXPECT_EQ(outcome.not_found, 1u);
    // 3 metadata + 3 GIFs + QQ's failed metadata (counted by the recorder).
    EXPECT_EQ(outcome.requests + outcome.metadata_attempts, 7u);
    EXPECT_EQ(outcome.metadata_attempts, 3u);
    EXPECT_EQ(read_folder(m_dir.path()), (std::map<std::string, std::string>{
                                             {"China-CN.gif", server::flag_gif("CN")},
                                             {"Cote_dIvoire-CI.gif", server::flag_gif("CI")},
                                             {"United_States-US.gif", server::flag_gif("US")}}));
}

TEST_P(FlagsJob, MetadataRequestsPrecedeTheirGifAndShareTheConcurrencyLimit) {
    // Record the order of requests and the peak in flight as the server sees them.
    struct Log {
        std::mutex mutex;
        std::vector<std::string> paths;
    };
    auto log = std::make_shared<Log>();
    auto flags = server::flags_handler();
    server::Handler handler = [log, flags](const server::Request& request) {
        {
            std::lock_guard lock(log->mutex);
            log->paths.emplace_back(request.path);
        }
        auto reply = flags(request);
        reply.delay = 20ms;
        return reply;
    };
    std::vector<std::string> codes;
    for (const auto& country : server::flag_countries().subspan(0, 12))
        codes.emplace_back(country.code);
    const auto started = std::chrono::steady_clock::now();
    auto outcome = run(handler, codes, true, 4);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(outcome.ok, 12u);
    ASSERT_EQ(log->paths.size(), 24u);
    for (const std::string& code : codes) {
        std::string cc = code;
        for (char& c : cc)
            c = static_cast<char>(c - 'A' + 'a');
        const auto meta =
            std::find(log->paths.begin(), log->paths.end(), server::flag_metadata_path(cc));
        const auto gif = std::find(log->paths.begin(), log->paths.end(), server::flag_gif_path(cc));
        ASSERT_NE(meta, log->paths.end());
        ASSERT_NE(gif, log->paths.end());
        EXPECT_LT(meta, gif) << code;
    }
    if (GetParam() != fetch::Strategy::sequential) {
        // 24 requests of 20 ms, 4 at a time: at least 6 rounds (120 ms) whatever the order.
        EXPECT_GE(elapsed, 120ms);
    }
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, FlagsJob,
                         testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                         fetch::Strategy::async),
                         [](const testing::TestParamInfo<fetch::Strategy>& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });
