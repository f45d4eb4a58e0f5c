// LinkExtractor: picks the parser and hands it the Collector.
#include "crawler/html/links.hpp"

#include "crawler/html/collector.hpp"
#include "crawler/html/full_parse.hpp"
#include "crawler/html/scanner.hpp"

#include <limits>

namespace flagcrawl::crawler {

std::string_view to_string(LinkKind kind) {
    switch (kind) {
    case LinkKind::anchor:
        return "anchor";
    case LinkKind::frame:
        return "frame";
    case LinkKind::refresh:
        return "refresh";
    case LinkKind::canonical:
        return "canonical";
    case LinkKind::alternate:
        return "alternate";
    case LinkKind::other_link:
        return "other_link";
    case LinkKind::stylesheet:
        return "stylesheet";
    case LinkKind::icon:
        return "icon";
    case LinkKind::preload:
        return "preload";
    case LinkKind::image:
        return "image";
    case LinkKind::script:
        return "script";
    case LinkKind::media:
        return "media";
    case LinkKind::embed:
        return "embed";
    case LinkKind::object:
        return "object";
    case LinkKind::css_url:
        return "css_url";
    }
    return "?";
}

std::string_view to_string(HtmlParser parser) {
    return parser == HtmlParser::full ? "full" : "fast";
}

std::optional<HtmlParser> html_parser_from_string(std::string_view name) {
    if (name == "fast") {
        return HtmlParser::fast;
    }
    if (name == "full") {
        return HtmlParser::full;
    }
    return std::nullopt;
}

struct LinkExtractor::Impl {
    explicit Impl(ExtractorOptions opts)
        : options(std::move(opts)) {}

    const PageLinks& run(std::string_view html, bool want_links,
                         const std::string_view* content_type) {
        // Offsets are 32-bit: the fetch limits keep pages far below 4 GiB anyway.
        html = html.substr(0, std::numeric_limits<std::uint32_t>::max());
        collector.start(page, options, want_links);
        SniffedEncoding sniffed{Encoding::utf8, EncodingSource::bom, 0};
        if (content_type != nullptr) {
            sniffed = sniff_encoding(html, *content_type);
        }
        page.encoding = sniffed.encoding;
        page.encoding_source = sniffed.source;
        page.decoded_text = {};
        const bool in_place =
            sniffed.encoding == Encoding::utf8 ||
            (options.parser == HtmlParser::fast && is_ascii_compatible(sniffed.encoding));
        if (!in_place) {
            decoded.clear();
            transcoder.decode(sniffed.encoding, html.substr(sniffed.bom_bytes), decoded);
            html = decoded;
            page.decoded_text = decoded;
        }
        if (options.parser == HtmlParser::fast) {
            scanner.run(html, collector, want_links, in_place ? sniffed.encoding : Encoding::utf8,
                        transcoder);
            return page;
        }
        if (html_detail::estimate_tree_work(html, options.max_full_parse_work) >
            options.max_full_parse_work) {
            page.too_complex = true;
            return page;
        }
        if (!full) {
            full = std::make_unique<html_detail::FullParser>(options);
        }
        full->run(html, collector, want_links);
        return page;
    }

    ExtractorOptions options;
    PageLinks page;
    Transcoder transcoder;
    std::string decoded;
    html_detail::Collector collector;
    html_detail::Scanner scanner;
    std::unique_ptr<html_detail::FullParser> full;
};

LinkExtractor::LinkExtractor(ExtractorOptions options)
    : m_impl(std::make_unique<Impl>(std::move(options))) {}

LinkExtractor::~LinkExtractor() = default;

const PageLinks& LinkExtractor::extract(std::string_view html) {
    return m_impl->run(html, true, nullptr);
}

const PageLinks& LinkExtractor::extract(std::string_view html, std::string_view content_type) {
    return m_impl->run(html, true, &content_type);
}

const PageLinks& LinkExtractor::extract_facts(std::string_view html) {
    return m_impl->run(html, false, nullptr);
}

const PageLinks& LinkExtractor::extract_facts(std::string_view html,
                                              std::string_view content_type) {
    return m_impl->run(html, false, &content_type);
}

const PageLinks& LinkExtractor::extract_css(std::string_view css) {
    css = css.substr(0, std::numeric_limits<std::uint32_t>::max());
    ExtractorOptions& options = m_impl->options;
    const bool css_before = options.css;
    options.css = true;
    m_impl->collector.start(m_impl->page, options, true);
    options.css = css_before;
    m_impl->page.encoding = Encoding::utf8;
    m_impl->page.encoding_source = EncodingSource::bom;
    m_impl->page.decoded_text = {};
    m_impl->collector.style_text(css, 0);
    return m_impl->page;
}

std::size_t LinkExtractor::last_arena_bytes() const {
    return m_impl->full ? m_impl->full->arena_bytes() : 0;
}

} // namespace flagcrawl::crawler
