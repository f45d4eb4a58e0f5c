// The request log: one line per request with its arrival time, method, target and status, in
// arrival order; a file that cannot be opened is an error at once.
#include "file_contents.hpp"
#include "server/access_log.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "server_test_client.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

using namespace flagcrawl::server;
using flagcrawl::server::testing::TestClient;
using flagcrawl::testing_support::TempDir;

namespace {

TEST(AccessLog, OneLinePerRequestWithItsArrivalTime) {
    TempDir dir("access-log");
    const std::string path = dir.file("access.log");
    Router routes;
    routes.add("/a", Reply::text(200, "a\n"));
    Server server(with_access_log(routes.handler(), path));
    ASSERT_FALSE(server.start());
    const double before =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    TestClient client(server.port());
    ASSERT_TRUE(client.get("/a?x=1", "User-Agent: bot/1 (worker 2)\r\n"));
    ASSERT_TRUE(client.get("/missing"));
    server.stop();
    std::istringstream lines(flagcrawl::testing_support::read_file(path));
    double first = 0, second = 0;
    std::string method, target, agent;
    int status = 0;
    ASSERT_TRUE(lines >> first >> method >> target >> status);
    std::getline(lines, agent);
    EXPECT_EQ(method, "GET");
    EXPECT_EQ(target, "/a?x=1");
    EXPECT_EQ(status, 200);
    EXPECT_EQ(agent, " bot/1 (worker 2)");
    ASSERT_TRUE(lines >> second >> method >> target >> status);
    std::getline(lines, agent);
    EXPECT_EQ(target, "/missing");
    EXPECT_EQ(status, 404);
    EXPECT_EQ(agent, " -");
    EXPECT_GE(first, before - 1);
    EXPECT_GE(second, first);
    EXPECT_FALSE(lines >> first);
}

TEST(AccessLog, AnUnwritableFileIsAnError) {
    TempDir dir("access-log");
    Router routes;
    EXPECT_THROW(with_access_log(routes.handler(), dir.file("no/such/folder/log")),
                 std::runtime_error);
}

} // namespace
