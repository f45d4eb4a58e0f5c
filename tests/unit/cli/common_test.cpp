// The command line as the runs table records it: quoted where a shell would need it, and
// without the passwords a connection string or a URL may carry.
#include "cli/common.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using flagcrawl::cli::process_arguments;
using flagcrawl::cli::set_process_arguments;

namespace {

std::string recorded(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    set_process_arguments(static_cast<int>(argv.size()), argv.data());
    return process_arguments();
}

TEST(ProcessArguments, PasswordsAreNeverRecorded) {
    EXPECT_EQ(recorded({"flagcrawl", "crawl", "--frontier",
                        "postgresql://crawler:right-one@db.lan/flagcrawl", "--crawl-name", "s"}),
              "flagcrawl crawl --frontier postgresql://crawler:***@db.lan/flagcrawl "
              "--crawl-name s");
    EXPECT_EQ(recorded({"flagcrawl", "--frontier=postgres://u:p%40ss:w@h:5432/db?sslmode=require"}),
              "flagcrawl --frontier=postgres://u:***@h:5432/db?sslmode=require");
    EXPECT_EQ(
        recorded({"flagcrawl", "--frontier", "host=db user=crawler password=secret dbname=x"}),
        "flagcrawl --frontier 'host=db user=crawler password=*** dbname=x'");
    EXPECT_EQ(recorded({"flagcrawl", "--frontier", "host=db password='se cret' dbname=x"}),
              "flagcrawl --frontier 'host=db password=*** dbname=x'");
    EXPECT_EQ(recorded({"flagcrawl", "postgresql:///db?host=/run/pg&password=secret&port=5"}),
              "flagcrawl postgresql:///db?host=/run/pg&password=***&port=5");
    EXPECT_EQ(recorded({"flagcrawl", "http://user:pw@a.example/", "http://a.example/?password=1"}),
              "flagcrawl http://user:***@a.example/ http://a.example/?password=***");
}

TEST(ProcessArguments, WhatHoldsNoPasswordIsKept) {
    EXPECT_EQ(recorded({"flagcrawl", "crawl", "postgresql://crawler@db.lan/flagcrawl",
                        "http://user@a.example:8080/a@b", "http://a.example/mypassword=2", "it's"}),
              "flagcrawl crawl postgresql://crawler@db.lan/flagcrawl "
              "http://user@a.example:8080/a@b "
              "http://a.example/mypassword=2 'it'\\''s'");
}

} // namespace
