// The top level of the command line: --version, a missing or mistyped command.
#include "process.hpp"

#include <gtest/gtest.h>

using flagcrawl::testing_support::count_lines;
using flagcrawl::testing_support::flagcrawl_binary;
using flagcrawl::testing_support::run_process;

TEST(CliMain, VersionPrintsOneLineAndExitsZero) {
    auto r = run_process({flagcrawl_binary(), "--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.out.starts_with("flagcrawl ")) << r.out;
}

TEST(CliMain, MistypedCommandIsNamedWithTheCommandsThereAre) {
    auto r = run_process({flagcrawl_binary(), "crawll", "http://127.0.0.1:1/"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "flagcrawl: unknown command 'crawll' (commands: flags, bench, download, "
                     "crawl, serve, stats, export, links, report, url)\n");
}

TEST(CliMain, NoCommandIsAOneLineUsageError) {
    auto r = run_process({flagcrawl_binary()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
}
