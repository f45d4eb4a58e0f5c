#include "fetch/fetch.hpp"

#include <gtest/gtest.h>

using flagcrawl::fetch::parse_strategy;
using flagcrawl::fetch::Strategy;

TEST(Strategy, NamesRoundTrip) {
    for (auto s : {Strategy::sequential, Strategy::threaded, Strategy::async})
        EXPECT_EQ(parse_strategy(to_string(s)), s);
}

TEST(Strategy, UnknownNameIsRejected) {
    EXPECT_EQ(parse_strategy("parallel"), std::nullopt);
    EXPECT_EQ(parse_strategy(""), std::nullopt);
    EXPECT_EQ(parse_strategy("Async"), std::nullopt);
}
