// Route tables for tests and embedding: paths mapped to handlers or fixed replies, with every
// request counted per path, plus a thread-safe hit counter the other handlers reuse.
#pragma once

#include "server/server.hpp"
#include "util/hash.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace flagcrawl::server {

// Counts per key (a path, a request target). Thread-safe.
class HitCounter {
public:
    // Counts one more hit on `key`; returns how many hits `key` had before this one.
    std::uint64_t hit(std::string_view key);
    std::uint64_t count(std::string_view key) const;
    std::uint64_t total() const;
    void clear();

private:
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, std::uint64_t, util::StringHash, std::equal_to<>> m_counts;
    std::uint64_t m_total = 0;
};

// A route table. Matching uses the request's path (before '?', not percent-decoded): an exact
// route first, else the longest matching prefix route, else the fallback (404 by default).
// Routes may be added while the server runs (e.g. once the port is known). Copies share the same
// table and counters, so a test keeps its Router and hands router.handler() to the Server.
class Router {
public:
    Router();

    Router& add(std::string path, Handler handler);
    Router& add(std::string path, Reply reply); // the same reply every time (body shared)
    Router& add_prefix(std::string prefix, Handler handler);
    Router& fallback(Handler handler);

    // Requests received for `path` so far (whatever answered them, 404s and faults included).
    std::uint64_t count(std::string_view path) const;
    std::uint64_t total() const;

    // The handler that serves this table; it keeps the table alive.
    Handler handler() const;

private:
    struct Table;
    std::shared_ptr<Table> m_table;
};

} // namespace flagcrawl::server
