// Route table and hit counter.
#include "server/router.hpp"

#include <utility>

namespace flagcrawl::server {

std::uint64_t HitCounter::hit(std::string_view key) {
    std::lock_guard lock(m_mutex);
    ++m_total;
    auto it = m_counts.find(key);
    if (it == m_counts.end()) {
        it = m_counts.emplace(std::string(key), 0).first;
    }
    return it->second++;
}

std::uint64_t HitCounter::count(std::string_view key) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_counts.find(key);
    return it == m_counts.end() ? 0 : it->second;
}

std::uint64_t HitCounter::total() const {
    std::lock_guard lock(m_mutex);
    return m_total;
}

void HitCounter::clear() {
    std::lock_guard lock(m_mutex);
    m_counts.clear();
    m_total = 0;
}

struct Router::Table {
    using Route = std::shared_ptr<const Handler>;
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, Route> exact;
    std::map<std::string, Route, std::greater<>> prefixes; // longest first among shared prefixes
    Route fallback;
    HitCounter hits;

    Route find(std::string_view path) const {
        std::shared_lock lock(mutex);
        if (const auto it = exact.find(std::string(path)); it != exact.end()) {
            return it->second;
        }
        for (const auto& [prefix, route] : prefixes) {
            if (path.starts_with(prefix)) {
                return route;
            }
        }
        return fallback;
    }
};

Router::Router()
    : m_table(std::make_shared<Table>()) {
    m_table->fallback = std::make_shared<const Handler>(
        [](const Request&) { return Reply::text(404, "not found\n"); });
}

Router& Router::add(std::string path, Handler handler) {
    auto route = std::make_shared<const Handler>(std::move(handler));
    std::unique_lock lock(m_table->mutex);
    m_table->exact[std::move(path)] = std::move(route);
    return *this;
}

Router& Router::add(std::string path, Reply reply) {
    return add(std::move(path), [reply = std::move(reply)](const Request&) { return reply; });
}

Router& Router::add_prefix(std::string prefix, Handler handler) {
    auto route = std::make_shared<const Handler>(std::move(handler));
    std::unique_lock lock(m_table->mutex);
    m_table->prefixes[std::move(prefix)] = std::move(route);
    return *this;
}

Router& Router::fallback(Handler handler) {
    auto route = std::make_shared<const Handler>(std::move(handler));
    std::unique_lock lock(m_table->mutex);
    m_table->fallback = std::move(route);
    return *this;
}

std::uint64_t Router::count(std::string_view path) const {
    return m_table->hits.count(path);
}

std::uint64_t Router::total() const {
    return m_table->hits.total();
}

Handler Router::handler() const {
    return [table = m_table](const Request& request) {
        table->hits.hit(request.path);
        const auto route = table->find(request.path);
        return (*route)(request);
    };
}

} // namespace flagcrawl::server
