// The full parser (internal to crawler/html): gumbo builds the page's HTML5 tree, then an
// iterative walk reports its HTML elements to the Collector. Slow (a whole tree per page) but
// exact: the oracle the scanner is checked against.
#pragma once

#include "crawler/html/arena.hpp"
#include "crawler/html/collector.hpp"

#include <gumbo.h>

#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler::html_detail {

class FullParser {
public:
    explicit FullParser(const ExtractorOptions& options);
    ~FullParser();
    FullParser(const FullParser&) = delete;
    FullParser& operator=(const FullParser&) = delete;

    // Parses `html` and walks the tree; the tree (and the values handed to the collector)
    // live until the next run().
    void run(std::string_view html, Collector& collector, bool want_links);
    std::size_t arena_bytes() const { return m_arena.used(); }

private:
    void release_output();
    void walk(Collector& collector);
    void style(const GumboElement& element, Collector& collector);

    const ExtractorOptions& m_options;
    Arena m_arena;
    GumboOptions m_gumbo_options{};
    GumboOutput* m_output = nullptr;
    std::string_view m_html;
    std::vector<const GumboNode*> m_stack;
};

} // namespace flagcrawl::crawler::html_detail
