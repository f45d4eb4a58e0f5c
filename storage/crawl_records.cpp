#include "storage/crawl_records.hpp"

namespace flagcrawl::storage {

LinkList::LinkList(std::initializer_list<LinkRow> rows) {
    for (const LinkRow& row : rows) {
        push_back(row.to_url, row.kind, row.nofollow);
    }
}

void LinkList::reserve(std::size_t links, std::size_t text_bytes) {
    m_entries.reserve(m_entries.size() + links);
    m_text.reserve(m_text.size() + text_bytes);
}

void LinkList::push_back(std::string_view to_url, std::string_view kind, bool nofollow) {
    const std::size_t begin = m_text.size();
    m_text.append(to_url);
    m_text.append(kind);
    m_entries.push_back({begin, to_url.size(), kind.size(), nofollow});
}

std::string_view to_string(PageKind kind) {
    switch (kind) {
    case PageKind::page:
        return "page";
    case PageKind::requisite:
        return "requisite";
    case PageKind::robots:
        return "robots";
    case PageKind::sitemap:
        return "sitemap";
    }
    return "page";
}

std::string_view to_string(CrawlStatus status) {
    switch (status) {
    case CrawlStatus::running:
        return "running";
    case CrawlStatus::stopped:
        return "stopped";
    case CrawlStatus::interrupted:
        return "interrupted";
    case CrawlStatus::finished:
        return "finished";
    case CrawlStatus::failed:
        return "failed";
    }
    return "failed";
}

std::optional<CrawlStatus> parse_crawl_status(std::string_view text) {
    for (auto status : {CrawlStatus::running, CrawlStatus::stopped, CrawlStatus::interrupted,
                        CrawlStatus::finished, CrawlStatus::failed}) {
        if (to_string(status) == text) {
            return status;
        }
    }
    return std::nullopt;
}

} // namespace flagcrawl::storage
