// What each link-bearing element contributes to PageLinks (internal to crawler/html): one
// place for the element kinds, rel handling and page facts, shared by the scanner and the
// gumbo DOM walk so the two can differ only in how they find elements and attributes.
#pragma once

#include "crawler/html/css.hpp"
#include "crawler/html/links.hpp"
#include "crawler/html/microsyntax.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler::html_detail {

// The HTML elements the collector reads (everything else: other).
enum class Element : std::uint8_t {
    other,
    a,
    area,
    img,
    source,
    script,
    iframe,
    frame,
    embed,
    object,
    video,
    audio,
    track,
    input,
    link,
    meta,
    base,
};

// The attributes the collector and the scanner read.
enum class Attr : std::uint8_t {
    href,
    rel,
    src,
    srcset,
    data,
    poster,
    type,
    name,
    http_equiv,
    content,
    style,
    color,
    face,
    size,
    encoding, // the last
};
inline constexpr std::size_t k_attr_count = static_cast<std::size_t>(Attr::encoding) + 1;

inline constexpr std::string_view k_attr_names[k_attr_count] = {
    "href",       "rel",     "src",   "srcset", "data", "poster", "type",    "name",
    "http-equiv", "content", "style", "color",  "face", "size",   "encoding"};

// Its name (lower case).
constexpr std::string_view attr_name(Attr attr) {
    return k_attr_names[static_cast<std::size_t>(attr)];
}

// One attribute value: decoded (what the DOM holds) and where its raw text is in the source.
struct AttrValue {
    std::string_view value;
    SourceSpan raw;
    // value is byte for byte the raw source text (no reference, CR, NUL or bad UTF-8 in it),
    // so a part of value maps to the same part of raw.
    bool exact = false;
};

class Collector {
public:
    // Starts a page: clears `page` (the collector fills it until the next start()).
    void start(PageLinks& page, const ExtractorOptions& options, bool want_links);

    bool title_found() const { return m_title_found; }
    // The text of the first HTML <title>, decoded, in one or more pieces.
    void title_piece(std::string_view text);
    void title_end();

    // CSS in a <style> element (raw text at `offset` in the source) or a style attribute.
    void style_text(std::string_view css, std::uint32_t offset);
    void style_attribute(const AttrValue& value);
    bool wants_css() const { return m_want_links && m_options->css; }

    // An HTML element in document order. Attrs: `std::optional<AttrValue> find(Attr) const`,
    // the first occurrence of the attribute's name only.
    template <typename Attrs> void element(Element element, const Attrs& attrs);

private:
    void add(const AttrValue& value, std::string_view url, LinkKind kind, bool requisite,
             std::string_view rel = {}, bool nofollow = false);
    void add_whole(const std::optional<AttrValue>& value, LinkKind kind, bool requisite) {
        if (value) {
            add(*value, value->value, kind, requisite);
        }
    }
    void add_srcset(const std::optional<AttrValue>& value);
    void on_meta(const std::optional<AttrValue>& name, const std::optional<AttrValue>& http_equiv,
                 const std::optional<AttrValue>& content);
    void on_link(const std::optional<AttrValue>& href, const std::optional<AttrValue>& rel);

    PageLinks* m_page = nullptr;
    const ExtractorOptions* m_options = nullptr;
    bool m_want_links = true;
    bool m_title_found = false;
    bool m_title_space = false;
    bool m_title_full = false;
    std::string m_title;
    std::vector<std::string_view> m_srcset;
    std::vector<CssUrl> m_css_urls;
    std::deque<std::string> m_css_storage;
};

template <typename Attrs> void Collector::element(Element element, const Attrs& attrs) {
    switch (element) {
    case Element::base:
        if (!m_page->has_base) {
            if (const auto href = attrs.find(Attr::href)) {
                m_page->has_base = true;
                m_page->base_href = util::trim(href->value);
            }
        }
        return;
    case Element::meta:
        on_meta(attrs.find(Attr::name), attrs.find(Attr::http_equiv), attrs.find(Attr::content));
        return;
    case Element::link:
        on_link(attrs.find(Attr::href), attrs.find(Attr::rel));
        return;
    default:
        break;
    }
    if (!m_want_links) {
        return;
    }
    switch (element) {
    case Element::a:
    case Element::area:
        if (const auto href = attrs.find(Attr::href)) {
            const auto rel = attrs.find(Attr::rel);
            add(*href, href->value, LinkKind::anchor, false, rel ? rel->value : "",
                rel && parse_rel(rel->value).nofollow);
        }
        break;
    case Element::img:
        add_whole(attrs.find(Attr::src), LinkKind::image, true);
        add_srcset(attrs.find(Attr::srcset));
        break;
    case Element::source:
        add_whole(attrs.find(Attr::src), LinkKind::media, true);
        add_srcset(attrs.find(Attr::srcset));
        break;
    case Element::script:
        add_whole(attrs.find(Attr::src), LinkKind::script, true);
        break;
    case Element::iframe:
    case Element::frame:
        add_whole(attrs.find(Attr::src), LinkKind::frame, false);
        break;
    case Element::embed:
        add_whole(attrs.find(Attr::src), LinkKind::embed, true);
        break;
    case Element::object:
        add_whole(attrs.find(Attr::data), LinkKind::object, true);
        break;
    case Element::video:
        add_whole(attrs.find(Attr::src), LinkKind::media, true);
        add_whole(attrs.find(Attr::poster), LinkKind::image, true);
        break;
    case Element::audio:
    case Element::track:
        add_whole(attrs.find(Attr::src), LinkKind::media, true);
        break;
    case Element::input:
        if (const auto type = attrs.find(Attr::type);
            type && util::iequals(util::trim(type->value), "image")) {
            add_whole(attrs.find(Attr::src), LinkKind::image, true);
        }
        break;
    default:
        break;
    }
}

} // namespace flagcrawl::crawler::html_detail
