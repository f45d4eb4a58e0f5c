// The HTTP server core: keep-alive, pipelining, HEAD, 404/405/400, Connection: close, framing,
// timer delays, injected faults, stateful handlers and route counts, start/stop behaviour.
#include "eventually.hpp"

#include "server/router.hpp"
#include "server/server.hpp"
#include "server_test_client.hpp"

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace flagcrawl::server;
using flagcrawl::server::testing::ReadError;
using flagcrawl::server::testing::TestClient;
using flagcrawl::testing_support::eventually;
using namespace std::chrono_literals;

namespace {

// A running server for one test, stopped by the destructor.
struct Running {
    explicit Running(Handler handler, ServerOptions options = {})
        : server(std::move(handler), std::move(options)) {
        const auto ec = server.start();
        if (ec)
            throw std::runtime_error("cannot start the test server: " + ec.message());
    }
    Server server;
};

Router hello_routes() {
    Router routes;
    routes.add("/hello", Reply::text(200, "hello\n"));
    routes.add("/echo", [](const Request& r) {
        return Reply::text(200, std::string(r.method) + " " + std::string(r.target) +
                                    " conn=" + std::to_string(r.connection_id) +
                                    " index=" + std::to_string(r.index_on_connection) +
                                    " ua=" + std::string(r.header("user-agent")) +
                                    " query=" + std::string(r.query));
    });
    return routes;
}

} // namespace

TEST(ServerCore, KeepAliveServesSeveralRequestsOnOneConnection) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    std::string first_conn;
    for (int i = 0; i < 5; ++i) {
        auto response = client.get("/echo?i=" + std::to_string(i), "User-Agent: t/1\r\n");
        ASSERT_TRUE(response) << to_string(client.last_error());
        EXPECT_EQ(response->status, 200);
        EXPECT_TRUE(response->keep_alive);
        const std::string& body = response->body;
        EXPECT_NE(body.find("index=" + std::to_string(i)), std::string::npos) << body;
        EXPECT_NE(body.find("ua=t/1"), std::string::npos) << body;
        EXPECT_NE(body.find("query=i=" + std::to_string(i)), std::string::npos) << body;
        const auto conn = body.substr(body.find("conn="), body.find(" index") - body.find("conn="));
        if (i == 0)
            first_conn = conn;
        EXPECT_EQ(conn, first_conn);
        EXPECT_EQ(response->header("Content-Length"), std::to_string(body.size()));
        EXPECT_FALSE(response->header("Date").empty());
    }
    EXPECT_EQ(routes.count("/echo"), 5u);
    EXPECT_EQ(run.server.stats().connections, 1u);
}

TEST(ServerCore, PipelinedRequestsAreAnsweredInOrder) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    std::string batch;
    for (int i = 0; i < 10; ++i)
        batch += "GET /echo?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(client.send(batch));
    for (int i = 0; i < 10; ++i) {
        auto response = client.read_response();
        ASSERT_TRUE(response) << i << ": " << to_string(client.last_error());
        EXPECT_NE(response->body.find("query=n=" + std::to_string(i)), std::string::npos);
    }
}

TEST(ServerCore, HeadSendsHeadersWithoutBody) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    ASSERT_TRUE(client.send_request("HEAD", "/hello"));
    auto head = client.read_response(/*head=*/true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length"), "6");
    EXPECT_EQ(head->body, "");
    // Had the server sent a body after the HEAD reply, this response would be garbled.
    auto get = client.get("/hello");
    ASSERT_TRUE(get) << to_string(client.last_error());
    EXPECT_EQ(get->body, "hello\n");
}

TEST(ServerCore, UnknownPathIs404AndConnectionStaysOpen) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    auto missing = client.get("/nope");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(routes.count("/nope"), 1u);
    auto ok = client.get("/hello");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

TEST(ServerCore, OtherMethodsAre405WithoutCallingTheHandler) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    ASSERT_TRUE(client.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"));
    auto post = client.read_response();
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->header("Allow"), "GET, HEAD");
    // The request body was consumed: the connection is still in step.
    auto get = client.get("/hello");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 200);
    EXPECT_EQ(routes.count("/hello"), 1u);
}

TEST(ServerCore, GarbageIs400AndClosed) {
    Router routes = hello_routes();
    Running run(routes.handler());
    for (const char* garbage :
         {"HELLO\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
          "GET /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n"}) {
        TestClient client(run.server.port());
        ASSERT_TRUE(client.send(garbage));
        auto response = client.read_response();
        ASSERT_TRUE(response) << garbage;
        EXPECT_EQ(response->status, 400) << garbage;
        EXPECT_FALSE(response->keep_alive);
        client.read_until_close();
        EXPECT_EQ(client.last_error(), ReadError::closed) << garbage;
    }
    EXPECT_EQ(routes.total(), 0u);
}

TEST(ServerCore, OversizedHeaderIs431) {
    Router routes = hello_routes();
    ServerOptions options;
    options.max_header_bytes = 4096;
    Running run(routes.handler(), options);
    TestClient client(run.server.port());
    ASSERT_TRUE(
        client.send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
}

TEST(ServerCore, ConnectionCloseIsHonoured) {
    Router routes = hello_routes();
    Running run(routes.handler());
    TestClient client(run.server.port());
    auto response = client.get("/hello", "Connection: close\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_EQ(client.read_until_close(), "");
    EXPECT_EQ(client.last_error(), ReadError::closed);
}

TEST(ServerCore, Http10ClosesUnlessKeepAliveAsked) {
    Router routes = hello_routes();
    Running run(routes.handler());
    {
        TestClient client(run.server.port());
        ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
        auto response = client.read_response();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->body, "hello\n");
        client.read_until_close();
        EXPECT_EQ(client.last_error(), ReadError::closed);
    }
    TestClient client(run.server.port());
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        auto response = client.read_response();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->header("Connection"), "keep-alive");
    }
}

TEST(ServerCore, HeadersAndPrecompressedBodyPassThrough) {
    const std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x01\x00\x00\xff\xff"
                         "\x00\x00\x00\x00\x00\x00\x00\x00",
                         23);
    Router routes;
    routes.add("/moved", Reply::redirect(301, "/hello"));
    routes.add("/busy", Reply::text(503, "busy\n").with_header("Retry-After", "2"));
    Reply zipped = Reply::bytes(200, make_body(gz), "text/html");
    zipped.headers.push_back({"Content-Encoding", "gzip"});
    routes.add("/zipped", zipped);
    Running run(routes.handler());
    TestClient client(run.server.port());
    auto moved = client.get("/moved");
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->status, 301);
    EXPECT_EQ(moved->header("Location"), "/hello");
    auto busy = client.get("/busy");
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503);
    EXPECT_EQ(busy->header("Retry-After"), "2");
    auto z = client.get("/zipped");
    ASSERT_TRUE(z);
    EXPECT_EQ(z->header("Content-Encoding"), "gzip");
    EXPECT_EQ(z->body, gz);
}

TEST(ServerCore, StatefulHandlerFailsFirstThenSucceeds) {
    Router routes;
    auto calls = std::make_shared<std::atomic<int>>(0);
    routes.add("/flaky", [calls](const Request&) {
        return ++*calls == 1 ? Reply::text(500, "oops\n") : Reply::text(200, "fine\n");
    });
    Running run(routes.handler());
    TestClient client(run.server.port());
    auto first = client.get("/flaky");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 500);
    auto second = client.get("/flaky");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 200);
    auto third = client.get("/flaky?again");
    ASSERT_TRUE(third);
    EXPECT_EQ(third->status, 200);
    EXPECT_EQ(routes.count("/flaky"), 3u);
}

TEST(ServerCore, HandlerExceptionBecomes500) {
    Running run([](const Request&) -> Reply { throw std::runtime_error("boom"); });
    TestClient client(run.server.port());
    auto response = client.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500);
    EXPECT_NE(response->body.find("boom"), std::string::npos);
}

TEST(ServerCore, ChunkedAndCloseDelimitedBodies) {
    std::string big;
    for (int i = 0; i < 3500; ++i)
        big.push_back(static_cast<char>('a' + i % 26));
    Router routes;
    Reply chunked = Reply::bytes(200, make_body(big), "text/plain");
    chunked.framing = Framing::chunked;
    routes.add("/chunked", chunked);
    Reply until_close = Reply::bytes(200, make_body(big), "text/plain");
    until_close.framing = Framing::until_close;
    routes.add("/until-close", until_close);
    Running run(routes.handler());

    TestClient client(run.server.port());
    auto c = client.get("/chunked");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(c->header("Content-Length"), "");
    EXPECT_EQ(c->body, big);
    auto u = client.get("/until-close");
    ASSERT_TRUE(u) << to_string(client.last_error());
    EXPECT_EQ(u->header("Content-Length"), "");
    EXPECT_EQ(u->body, big);
}

TEST(ServerCore, CloseWithoutReply) {
    Router routes;
    Reply silent;
    silent.fault = Fault::close_without_reply;
    routes.add("/silent", silent);
    Running run(routes.handler());
    TestClient client(run.server.port());
    ASSERT_TRUE(client.send_request("GET", "/silent"));
    EXPECT_EQ(client.read_until_close(), "");
    EXPECT_EQ(client.last_error(), ReadError::closed);
    EXPECT_EQ(routes.count("/silent"), 1u);
}

TEST(ServerCore, ResetAndCloseMidBody) {
    const std::string body(10000, 'x');
    Router routes;
    Reply reset = Reply::bytes(200, make_body(body), "application/octet-stream");
    reset.fault = Fault::reset_mid_body;
    routes.add("/reset", reset);
    Reply cut = reset;
    cut.fault = Fault::close_mid_body;
    cut.fault_after = 1234;
    routes.add("/cut", cut);
    Running run(routes.handler());

    {
        TestClient client(run.server.port());
        ASSERT_TRUE(client.send_request("GET", "/cut"));
        const std::string raw = client.read_until_close();
        EXPECT_EQ(client.last_error(), ReadError::closed);
        ASSERT_NE(raw.find("\r\n\r\n"), std::string::npos);
        EXPECT_NE(raw.find("Content-Length: 10000\r\n"), std::string::npos);
        EXPECT_EQ(raw.size() - (raw.find("\r\n\r\n") + 4), 1234u);
    }
    {
        TestClient client(run.server.port());
        ASSERT_TRUE(client.send_request("GET", "/reset"));
        EXPECT_FALSE(client.read_response());
        // A reset, not a FIN: the client never sees the end of the body.
        EXPECT_EQ(client.last_error(), ReadError::reset) << to_string(client.last_error());
    }
}

TEST(ServerCore, NoStatusLineSendsTheBodyAlone) {
    Router routes;
    Reply old = Reply::text(200, "just bytes\n");
    old.fault = Fault::no_status_line;
    routes.add("/http09", old);
    Running run(routes.handler());
    TestClient client(run.server.port());
    ASSERT_TRUE(client.send_request("GET", "/http09"));
    EXPECT_EQ(client.read_until_close(), "just bytes\n");
    EXPECT_EQ(client.last_error(), ReadError::closed);
}

TEST(ServerCore, DripSendsTheBodyPieceByPieceThenCloses) {
    Router routes;
    Reply slow = Reply::text(200, "0123456789");
    slow.drip = {3, 40ms};
    routes.add("/drip", slow);
    Running run(routes.handler());
    TestClient client(run.server.port());
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(client.send_request("GET", "/drip"));
    const std::string raw = client.read_until_close();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(client.last_error(), ReadError::closed);
    ASSERT_NE(raw.find("\r\n\r\n"), std::string::npos) << raw;
    EXPECT_NE(raw.find("Content-Length: 10\r\n"), std::string::npos) << raw;
    EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos) << raw;
    EXPECT_EQ(raw.substr(raw.find("\r\n\r\n") + 4), "0123456789");
    EXPECT_GE(elapsed, 4 * 40ms); // four pieces, each after its wait
}

TEST(ServerCore, StopIsPromptWithPendingDelayedRequests) {
    Router routes;
    Reply slow = Reply::text(200, "late\n");
    slow.delay = 30s;
    routes.add("/slow", slow);
    auto server = std::make_unique<Server>(routes.handler());
    ASSERT_FALSE(server->start());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(std::make_unique<TestClient>(server->port()));
        ASSERT_TRUE(clients.back()->send_request("GET", "/slow"));
    }
    // All twenty wait at once: delays are timers, not a queue (one at a time, the second would
    // reach the handler only after 30 s).
    ASSERT_TRUE(eventually([&] { return routes.count("/slow") == 20; }))
        << routes.count("/slow") << " of 20 delayed requests reached the handler";
    const auto started = std::chrono::steady_clock::now();
    // stop() from another thread, then the destructor (which must not hang either).
    std::async(std::launch::async, [&] { server->stop(); }).get();
    server.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    for (auto& client : clients) {
        EXPECT_EQ(client->read_until_close(), "");
        EXPECT_NE(client->last_error(), ReadError::timeout);
    }
}

TEST(ServerCore, DestructorStopsIdleKeepAliveConnections) {
    Router routes = hello_routes();
    auto server = std::make_unique<Server>(routes.handler(), ServerOptions{.threads = 3});
    ASSERT_FALSE(server->start());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(std::make_unique<TestClient>(server->port()));
        ASSERT_TRUE(clients.back()->get("/hello"));
    }
    server.reset();
    for (auto& client : clients) {
        client->read_until_close();
        EXPECT_EQ(client->last_error(), ReadError::closed);
    }
}

TEST(ServerCore, SecondServerOnTheSamePortFails) {
    Router routes = hello_routes();
    Running first(routes.handler());
    Server second(routes.handler(), ServerOptions{.port = first.server.port()});
    const auto ec = second.start();
    EXPECT_EQ(ec, boost::asio::error::address_in_use) << ec.message();
}

TEST(ServerCore, UnresolvableHostFails) {
    Server server([](const Request&) { return Reply::text(200, ""); },
                  ServerOptions{.host = "no-such-host.invalid"});
    EXPECT_TRUE(server.start());
}

TEST(ServerCore, SeveralThreadsServeConcurrentClients) {
    Router routes = hello_routes();
    Running run(routes.handler(), ServerOptions{.threads = 4});
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            TestClient client(run.server.port());
            for (int i = 0; i < 50; ++i) {
                auto response = client.get("/hello");
                if (response && response->body == "hello\n")
                    ++ok;
            }
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(ok.load(), 400);
    EXPECT_EQ(routes.count("/hello"), 400u);
}

TEST(ServerCore, IdleConnectionsAreClosed) {
    Router routes = hello_routes();
    Running run(routes.handler(), ServerOptions{.idle_timeout = 1s});
    TestClient client(run.server.port());
    ASSERT_TRUE(client.get("/hello"));
    const auto started = std::chrono::steady_clock::now();
    client.read_until_close();
    EXPECT_EQ(client.last_error(), ReadError::closed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ServerCore, Http11NeedsExactlyOneHost) {
    Router routes = hello_routes();
    Running run(routes.handler());
    for (const char* request :
         {"GET /hello HTTP/1.1\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
        TestClient client(run.server.port());
        ASSERT_TRUE(client.send(request));
        auto response = client.read_response();
        ASSERT_TRUE(response) << request;
        EXPECT_EQ(response->status, 400) << request;
    }
    EXPECT_EQ(routes.total(), 0u);
}

TEST(ServerCore, InvalidStatusAndStopFromAHandlerBecome500) {
    Server* self = nullptr;
    Router routes;
    routes.add("/zero", Reply{.status = 0});
    routes.add("/informational", Reply{.status = 101});
    routes.add("/stop", [&self](const Request&) {
        self->stop(); // must throw, not deadlock
        return Reply::text(200, "stopped?\n");
    });
    Running run(routes.handler());
    self = &run.server;
    TestClient client(run.server.port());
    auto zero = client.get("/zero");
    ASSERT_TRUE(zero);
    EXPECT_EQ(zero->status, 500);
    auto informational = client.get("/informational");
    ASSERT_TRUE(informational);
    EXPECT_EQ(informational->status, 500);
    auto stop = client.get("/stop");
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->status, 500);
    EXPECT_NE(stop->body.find("server thread"), std::string::npos) << stop->body;
    auto again = client.get("/zero");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 500); // still serving
}
