#include "crawler/html/full_parse.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace flagcrawl::crawler::html_detail {
namespace {

Element element_of(GumboTag tag) {
    switch (tag) {
    case GUMBO_TAG_A:
        return Element::a;
    case GUMBO_TAG_AREA:
        return Element::area;
    case GUMBO_TAG_IMG:
        return Element::img;
    case GUMBO_TAG_SOURCE:
        return Element::source;
    case GUMBO_TAG_SCRIPT:
        return Element::script;
    case GUMBO_TAG_IFRAME:
        return Element::iframe;
    case GUMBO_TAG_FRAME:
        return Element::frame;
    case GUMBO_TAG_EMBED:
        return Element::embed;
    case GUMBO_TAG_OBJECT:
        return Element::object;
    case GUMBO_TAG_VIDEO:
        return Element::video;
    case GUMBO_TAG_AUDIO:
        return Element::audio;
    case GUMBO_TAG_TRACK:
        return Element::track;
    case GUMBO_TAG_INPUT:
        return Element::input;
    case GUMBO_TAG_LINK:
        return Element::link;
    case GUMBO_TAG_META:
        return Element::meta;
    case GUMBO_TAG_BASE:
        return Element::base;
    default:
        return Element::other;
    }
}

// Attribute lookup on a gumbo element; spans from gumbo's pointers into the parsed text.
struct GumboAttrs {
    const GumboElement& element;
    std::string_view html;

    std::optional<AttrValue> find(Attr which) const {
        const std::string_view name = attr_name(which);
        const GumboVector& attributes = element.attributes;
        for (unsigned i = 0; i < attributes.length; ++i) {
            const auto* attr = static_cast<const GumboAttribute*>(attributes.data[i]);
            if (name != attr->name) {
                continue;
            }
            std::string_view raw(attr->original_value.data, attr->original_value.length);
            if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
                raw = raw.substr(1, raw.size() >= 2 ? raw.size() - 2 : 0);
            }
            std::uint32_t begin = 0;
            if (raw.data() >= html.data() && raw.data() <= html.data() + html.size()) {
                begin = static_cast<std::uint32_t>(raw.data() - html.data());
            } else {
                raw = {}; // an attribute without a value: gumbo points nowhere
            }
            const std::string_view value(attr->value);
            return AttrValue{
                value, {begin, begin + static_cast<std::uint32_t>(raw.size())}, value == raw};
        }
        return std::nullopt;
    }
};

} // namespace

// The CSS of an element: its style attribute, and a <style> element's text.
void FullParser::style(const GumboElement& element, Collector& collector) {
    if (const auto value = GumboAttrs{element, m_html}.find(Attr::style)) {
        collector.style_attribute(*value);
    }
    if (element.tag != GUMBO_TAG_STYLE) {
        return;
    }
    for (unsigned i = 0; i < element.children.length; ++i) {
        const auto* child = static_cast<const GumboNode*>(element.children.data[i]);
        if (child->type != GUMBO_NODE_TEXT && child->type != GUMBO_NODE_WHITESPACE) {
            continue;
        }
        const GumboStringPiece& original = child->v.text.original_text;
        const std::string_view text(child->v.text.text);
        if (original.data >= m_html.data() && original.data < m_html.data() + m_html.size() &&
            std::string_view(original.data, original.length) == text) {
            collector.style_text(text, static_cast<std::uint32_t>(original.data - m_html.data()));
        } else {
            collector.style_text(text, 0);
        }
    }
}

FullParser::FullParser(const ExtractorOptions& options)
    : m_options(options) {
    m_gumbo_options = kGumboDefaultOptions;
    if (options.arena) {
        m_gumbo_options.allocator = arena_allocate;
        m_gumbo_options.deallocator = arena_deallocate;
        m_gumbo_options.userdata = &m_arena;
    }
}

FullParser::~FullParser() {
    release_output();
}

void FullParser::release_output() {
    // Arena mode: every block of the tree came from the arena, so the arena reset frees it
    // (gumbo allocates through GumboOptions only; its own malloc/free are the defaults).
    if (m_output != nullptr && !m_options.arena) {
        gumbo_destroy_output(&m_gumbo_options, m_output);
    }
    m_output = nullptr;
}

void FullParser::run(std::string_view html, Collector& collector, bool) {
    release_output();
    m_arena.reset();
    // gumbo takes at most 4 GiB; pages that size never reach here (fetch limits).
    const std::size_t length =
        std::min<std::size_t>(html.size(), std::numeric_limits<unsigned>::max());
    m_html = html.substr(0, length);
    m_output = gumbo_parse_with_options(&m_gumbo_options, html.empty() ? "" : html.data(), length);
    walk(collector);
}

// Iterative pre-order walk (document order) with an explicit stack: no recursion, so any
// nesting depth is fine. <template> contents (GUMBO_NODE_TEMPLATE) are inert and skipped; so
// are the elements of foreign content (SVG, MathML), which are not HTML's.
void FullParser::walk(Collector& collector) {
    m_stack.clear();
    m_stack.push_back(m_output->document);
    while (!m_stack.empty()) {
        const GumboNode* node = m_stack.back();
        m_stack.pop_back();
        const GumboVector* children = nullptr;
        if (node->type == GUMBO_NODE_DOCUMENT) {
            children = &node->v.document.children;
        } else if (node->type == GUMBO_NODE_ELEMENT) {
            const GumboElement& element = node->v.element;
            if (element.tag_namespace == GUMBO_NAMESPACE_HTML) {
                // The parser clones an unclosed <a> when it reopens formatting elements: one
                // link in the source, one Link out.
                constexpr unsigned k_copy = GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT |
                                            GUMBO_INSERTION_ADOPTION_AGENCY_CLONED;
                const bool copy = (node->parse_flags & k_copy) != 0;
                if (element.tag == GUMBO_TAG_TITLE) {
                    if (!collector.title_found()) {
                        for (unsigned i = 0; i < element.children.length; ++i) {
                            const auto* child =
                                static_cast<const GumboNode*>(element.children.data[i]);
                            if (child->type == GUMBO_NODE_TEXT ||
                                child->type == GUMBO_NODE_WHITESPACE ||
                                child->type == GUMBO_NODE_CDATA) {
                                collector.title_piece(child->v.text.text);
                            }
                        }
                        collector.title_end();
                    }
                } else if (const Element kind = element_of(element.tag);
                           kind != Element::other &&
                           !(copy && (kind == Element::a || kind == Element::area))) {
                    collector.element(kind, GumboAttrs{element, m_html});
                }
                if (collector.wants_css() && !copy) {
                    style(element, collector);
                }
            }
            children = &element.children;
        } else {
            continue;
        }
        for (unsigned i = children->length; i > 0; --i) {
            const auto* child = static_cast<const GumboNode*>(children->data[i - 1]);
            if (child->type == GUMBO_NODE_ELEMENT || child->type == GUMBO_NODE_DOCUMENT) {
                m_stack.push_back(child);
            }
        }
    }
}

} // namespace flagcrawl::crawler::html_detail
