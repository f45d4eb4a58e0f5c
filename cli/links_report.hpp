// What `flagcrawl links --broken` prints for each broken link (storage/links.hpp): text for a
// person, CSV (one row per link and referring page) or JSON lines (one object per link).
#pragma once

#include "export_output.hpp"

#include "storage/links.hpp"

#include <set>
#include <string>

namespace flagcrawl::cli {

enum class LinksFormat { text, csv, jsonl };

// The failure kinds (codes) that make a link broken: fetch::is_target_failure().
std::set<std::string, std::less<>> broken_link_kinds();

// "HTTP 404 Not Found", "connection refused (h:80)", with the redirect it took:
// "redirects to URL (2 hops): HTTP 404 Not Found".
std::string describe_failure(const storage::BrokenLink& link);

// Writes each link handed to link() to `out` (CSV: the header first).
class BrokenLinksWriter {
public:
    BrokenLinksWriter(LinksFormat format, OutputStream& out);
    void link(const storage::BrokenLink& link);

private:
    LinksFormat m_format;
    OutputStream& m_out;
};

} // namespace flagcrawl::cli
