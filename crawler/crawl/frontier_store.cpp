#include "crawler/crawl/frontier_store.hpp"

#include <stdexcept>

namespace flagcrawl::crawler {

namespace {

storage::Reader open_reader(const std::string& path) {
    auto reader = storage::Reader::open(path);
    if (!reader) {
        throw std::runtime_error(reader.error().message);
    }
    return std::move(*reader);
}

template <class T> void check(const storage::Result<T>& result) {
    if (!result) {
        throw std::runtime_error(result.error().message);
    }
}

} // namespace

SqliteFrontierStore::SqliteFrontierStore(const std::string& db_path, storage::Writer& writer,
                                         std::int64_t crawl_id)
    : m_reader(open_reader(db_path))
    , m_writer(writer)
    , m_crawl_id(crawl_id) {}

storage::Result<void>
SqliteFrontierStore::page_in(std::int64_t after_seq, std::size_t limit,
                             const std::function<void(FrontierEntry&&)>& on_entry) {
    if (auto flushed = m_writer.flush(); !flushed) {
        return flushed.error();
    }
    return m_reader.for_each_frontier(m_crawl_id, after_seq, limit, true,
                                      [&](const storage::FrontierRow& row) {
                                          FrontierEntry entry;
                                          entry.seq = row.seq;
                                          entry.key = row.key_hash;
                                          entry.url = row.url;
                                          entry.depth = row.depth;
                                          entry.redirects = row.redirects;
                                          entry.requisite = row.requisite;
                                          on_entry(std::move(entry));
                                          return true;
                                      });
}

std::uint64_t SqliteFrontierStore::restore(LocalFrontier& frontier) {
    auto progress = m_reader.crawl_progress(m_crawl_id);
    check(progress);
    auto total = m_reader.database().query_int("SELECT count(*) FROM frontier WHERE crawl_id = " +
                                               std::to_string(m_crawl_id));
    check(total);
    frontier.reserve_seen(static_cast<std::size_t>(*total));
    check(m_reader.for_each_seen_key(m_crawl_id,
                                     [&](std::uint64_t key) { frontier.restore_seen(key); }));
    frontier.restore_queue(progress->max_seq, progress->queued);
    return progress->queued;
}

} // namespace flagcrawl::crawler
