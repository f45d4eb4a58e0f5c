// What a robots.txt fetch outcome means to the crawl (RFC 9309 2.3.1), table-driven.
#include "crawler/crawl/robots_policy.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace fc = flagcrawl::crawler;

TEST(RobotsPolicy, Statuses) {
    using P = fc::RobotsFetchPolicy;
    const std::vector<std::pair<int, P>> cases = {
        {200, P::parse},
        {204, P::parse},
        {301, P::allow_all},
        {400, P::allow_all},
        {401, P::allow_all},
        {403, P::allow_all},
        {404, P::allow_all},
        {410, P::allow_all},
        {429, P::disallow_all_retry_later},
        {500, P::disallow_all_retry_later},
        {503, P::disallow_all_retry_later},
        {599, P::disallow_all_retry_later},
        {0, P::disallow_all_retry_later},
        {100, P::disallow_all_retry_later},
        {600, P::disallow_all_retry_later},
    };
    for (const auto& [status, policy] : cases) {
        EXPECT_EQ(fc::robots_policy_for_status(status), policy) << status;
    }
    EXPECT_EQ(fc::robots_policy_for_error(flagcrawl::fetch::ErrorKind::too_many_redirects),
              P::allow_all);
    EXPECT_EQ(fc::robots_policy_for_error(flagcrawl::fetch::ErrorKind::dns), P::give_up_host);
    EXPECT_EQ(fc::robots_policy_for_error(flagcrawl::fetch::ErrorKind::connect), P::give_up_host);
    EXPECT_EQ(fc::robots_policy_for_error(flagcrawl::fetch::ErrorKind::protocol),
              P::disallow_all_retry_later);
    EXPECT_EQ(fc::robots_policy_for_error(flagcrawl::fetch::ErrorKind::timeout),
              P::disallow_all_retry_later);
    EXPECT_EQ(fc::to_string(P::allow_all), "allow_all");
}
