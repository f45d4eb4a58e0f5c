#include "storage/crawl_records.hpp"

namespace flagcrawl::storage {

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
