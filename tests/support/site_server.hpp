// Test helper: the synthetic site (server/site.hpp) served on loopback, every reply delayed by a
// fixed time (0: none), so that a crawl of it can be cut in the middle.
#pragma once

#include "server/server.hpp"
#include "server/site.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace flagcrawl::testing_support {

class SiteServer {
public:
    SiteServer(std::uint64_t pages, std::chrono::milliseconds delay, std::uint64_t seed = 5)
        : m_site(std::make_shared<const server::Site>(server::SiteOptions{pages, seed})) {
        auto handler = server::site_handler(m_site);
        m_server = std::make_unique<server::Server>([handler, delay](const server::Request& r) {
            auto reply = handler(r);
            reply.delay = delay;
            return reply;
        });
        EXPECT_FALSE(m_server->start());
    }
    // "127.0.0.1:PORT", as the pages are rendered for it.
    std::string host() const { return "127.0.0.1:" + std::to_string(m_server->port()); }
    std::string seed() const { return "http://" + host() + "/index.html"; }
    const server::Site& site() const { return *m_site; }

private:
    std::shared_ptr<const server::Site> m_site;
    std::unique_ptr<server::Server> m_server;
};

} // namespace flagcrawl::testing_support
