// The frontier's SQLite side: queued URLs beyond the in-memory window are read back from the
// `frontier` table (written by the crawl's PageRecords), and a crawl is restored from it.
#pragma once

#include "crawler/crawl/frontier.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <cstdint>

namespace flagcrawl::crawler {

// Pages queued entries back in from the `frontier` table. Owns a read connection; flushes the
// writer first, so that every row submitted before is visible. Same thread as the frontier.
class SqliteFrontierStore final : public FrontierStore {
public:
    // Throws std::runtime_error with the store's message when the database cannot be read.
    SqliteFrontierStore(const std::string& db_path, storage::Writer& writer, std::int64_t crawl_id);

    storage::Result<void> page_in(std::int64_t after_seq, std::size_t limit,
                                  const std::function<void(FrontierEntry&&)>& on_entry) override;

    // Resume: loads the crawl's seen keys and queue position into `frontier`. Returns the
    // number of queued entries.
    std::uint64_t restore(LocalFrontier& frontier);

private:
    storage::Reader m_reader;
    storage::Writer& m_writer;
    std::int64_t m_crawl_id;
};

} // namespace flagcrawl::crawler
