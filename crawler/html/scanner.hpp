// The scanner (internal to crawler/html): finds the link-bearing elements and the page facts
// of an HTML document in one linear pass, the way a browser's preload scanner does, without
// building a tree. See scanner.cpp for the tokenizer states and tree-builder states it tracks.
#pragma once

#include "crawler/html/charset.hpp"
#include "crawler/html/collector.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler::html_detail {

// Tags the scanner tells apart; everything else is `other`.
enum class Tag : std::uint8_t {
    other,
    // Link-bearing and fact-bearing HTML elements (Collector's Element).
    a,
    area,
    img,
    image,
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
    // Tokenizer states.
    title,
    textarea,
    style,
    xmp,
    noembed,
    noframes,
    plaintext,
    // Tree-builder states.
    template_,
    svg,
    math,
    select,
    option,
    optgroup,
    keygen,
    frameset,
    font,
    head_content,   // html, head, noscript, basefont, bgsound: allowed before a frameset
    breakout,       // the other start tags that end SVG/MathML content (div, p, span, ...)
    container,      // other HTML containers whose end tag closes SVG/MathML content
    annotation_xml, // the last: the scanner's per-tag tables are sized by it
};

// One attribute of the tag being read: its name as written and its raw value in the source.
struct RawAttribute {
    std::string_view name;
    std::string_view raw;
    bool plain = false; // raw reads the same decoded (is_plain_text())
};

// The attributes of the tag being read that the collector and the scanner look at: the first
// occurrence of each name (later duplicates are dropped, as the tokenizer drops them).
struct TagAttributes {
    RawAttribute attrs[k_attr_count];
    std::uint32_t present = 0; // bit i: attrs[i] holds Attr i

    // Keeps the attribute named `name` (as written) if it is one of Attr and the first of its
    // name.
    void add(std::string_view name, std::string_view raw, bool plain);
};

class Scanner {
public:
    // Reports every HTML element of interest and the first HTML <title> of `html` (UTF-8) to
    // `collector`, in document order. Linear in html.size(); memory: the decoded attribute
    // values and one entry per open SVG/MathML element. Values handed to the collector stay
    // valid until the next run().
    // `encoding` is the encoding of html's bytes, ASCII-compatible (is_ascii_compatible()):
    // values and the title are converted from it with `transcoder`.
    void run(std::string_view html, Collector& collector, bool want_links, Encoding encoding,
             Transcoder& transcoder);

    // Looks up an attribute of the current tag (Collector's Attrs interface).
    struct Attrs {
        const Scanner& scanner;
        std::optional<AttrValue> find(Attr attr) const;
    };

private:
    struct Frame {
        std::string name; // lower case
        bool svg = false; // else MathML
        // HTML integration point (svg foreignObject/desc/title, annotation-xml as HTML) or
        // MathML text integration point (mi, mo, mn, ms, mtext): start tags in it are HTML.
        bool integration = false;
        bool mathml_text = false;
        // HTML elements open in this integration point (start tags minus end tags).
        int html_open = 0;
    };

    // Handles a start tag whose '>' ends just before pos; returns where scanning goes on.
    std::size_t start_tag(Tag tag, std::size_t pos, bool self_closing);
    void end_tag(Tag tag);
    std::size_t skip_other_markup(std::size_t lt) const;
    // m_lower = the current tag's name lower-cased (for SVG/MathML content, which keeps names).
    void lower_name();
    bool name_is_head() const;
    void foreign_start(std::string_view name, bool self_closing);
    bool in_html_content(std::string_view lower_name) const;
    std::size_t skip_text_element(std::size_t pos, std::string_view name, bool script,
                                  bool is_title);
    std::optional<AttrValue> value(const RawAttribute& attr) const;
    void report_style_attribute();
    // decode_text() of raw bytes in the page's encoding.
    void decode(std::string_view raw, bool in_attribute, std::string& out) const;

    std::string_view m_html;
    Collector* m_collector = nullptr;
    Encoding m_encoding = Encoding::utf8;
    Transcoder* m_transcoder = nullptr;
    mutable std::string m_converted;
    bool m_want_links = true;
    bool m_css = false;
    TagAttributes m_attrs;
    mutable std::deque<std::string> m_decoded;
    std::vector<Frame> m_frames;
    std::string_view m_name;      // the current tag's name as written
    std::uint64_t m_name_key = 0; // its first 8 bytes lower-cased, packed (see classify())
    std::string m_lower;
    std::string m_title_text;
    int m_templates = 0;
    bool m_in_select = false;
    bool m_frameset_ok = true;
    bool m_frameset = false;
    bool m_stop = false;
};

// An estimate of the work of building the tree of `html`: the sum, over start tags, of the
// number of elements open at that tag (closing the ones an end tag or an implied end tag
// closes), skipping comments, raw text and script data. Linear in html.size(); stops counting
// once above `stop_above`.
std::uint64_t estimate_tree_work(std::string_view html, std::uint64_t stop_above);

} // namespace flagcrawl::crawler::html_detail
