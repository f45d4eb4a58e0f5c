// Test helper: runs the PostgreSQL frontier's coroutines to completion on one io_context, so a
// test reads like a sequence of calls. The connection lives on the same io_context, since its
// socket is bound to it.
#pragma once

#include "crawler/pgfrontier/pg_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace flagcrawl::testing_support {

class PgSync {
public:
    // Runs `work` until it returns (rethrowing what it throws).
    template <class T> T run(boost::asio::awaitable<T> work) {
        std::optional<T> out;
        std::exception_ptr failure;
        boost::asio::co_spawn(m_io, std::move(work), [&](std::exception_ptr e, T value) {
            failure = e;
            if (!e) {
                out.emplace(std::move(value));
            }
        });
        m_io.restart();
        m_io.run();
        if (failure) {
            std::rethrow_exception(failure);
        }
        return std::move(*out);
    }

    // A connection to `uri`, or a test failure.
    std::unique_ptr<pgfrontier::PgConnection> connect(const std::string& uri) {
        auto c = run(pgfrontier::PgConnection::connect(uri, std::chrono::seconds(20)));
        if (!c) {
            ADD_FAILURE() << "connect: " << c.error().message;
            return nullptr;
        }
        return std::move(*c);
    }

    boost::asio::io_context& io() { return m_io; }

private:
    boost::asio::io_context m_io{1};
};

} // namespace flagcrawl::testing_support
