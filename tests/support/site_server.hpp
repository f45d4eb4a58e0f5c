// Test helper: the synthetic site (server/site.hpp) served on loopback, every reply delayed by a
// fixed time (0: none), so that a crawl of it can be cut in the middle. hold_after(N) makes
// every reply after the Nth wait (a long timer) until release(), so that a crawl to be killed
// mid-way cannot finish first however slow the machine is.
#pragma once

#include "server/server.hpp"
#include "server/site.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace flagcrawl::testing_support {

class SiteServer {
public:
    SiteServer(std::uint64_t pages, std::chrono::milliseconds delay, std::uint64_t seed = 5)
        : m_site(std::make_shared<const server::Site>(server::SiteOptions{pages, seed}))
        , m_hold(std::make_shared<Hold>()) {
        auto handler = server::site_handler(m_site);
        m_server = std::make_unique<server::Server>(
            [handler, delay, hold = m_hold](const server::Request& r) {
                auto reply = handler(r);
                reply.delay = delay;
                if (hold->replies.fetch_add(1) >= hold->after.load()) {
                    // Longer than any test runs; the server's stop() ends the wait.
                    reply.delay = std::chrono::minutes(10);
                }
                return reply;
            });
        EXPECT_FALSE(m_server->start());
    }
    // "127.0.0.1:PORT", as the pages are rendered for it.
    std::string host() const { return "127.0.0.1:" + std::to_string(m_server->port()); }
    std::string seed() const { return "http://" + host() + "/index.html"; }
    const server::Site& site() const { return *m_site; }
    // Replies after the next `replies` ones wait until release(). Replies already held stay
    // held (their client is usually gone: the test killed it).
    void hold_after(std::uint64_t replies) {
        m_hold->replies = 0;
        m_hold->after = replies;
    }
    void release() { m_hold->after = std::numeric_limits<std::uint64_t>::max(); }

private:
    struct Hold {
        std::atomic<std::uint64_t> replies{0};
        std::atomic<std::uint64_t> after{std::numeric_limits<std::uint64_t>::max()};
    };
    std::shared_ptr<const server::Site> m_site;
    std::shared_ptr<Hold> m_hold;
    std::unique_ptr<server::Server> m_server;
};

} // namespace flagcrawl::testing_support
