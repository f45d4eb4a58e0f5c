// The scanner follows the HTML tokenizer (https://html.spec.whatwg.org/#tokenization) over
// the whole document: data, tag open, tag name and the attribute states (names lower-cased,
// values quoted or not, the first of duplicate names kept, a tag cut by EOF dropped); comments
// with their odd endings ("<!-->", "<!--->", "--!>"); DOCTYPE and bogus comments ("<?", "</1",
// "<!x") ending at the first '>'; CDATA sections in SVG/MathML; the RCDATA (title, textarea),
// RAWTEXT (style, xmp, iframe, noembed, noframes) and script data states with their escaped
// and double-escaped states; <plaintext>, after which everything is text. Attribute values and
// the title are decoded as the tokenizer does (text.hpp).
//
// Of the tree builder it tracks only what changes which tags become HTML elements: SVG/MathML
// content (a stack of their open elements; integration points, whose start tags are HTML
// again; the breakout start tags that end foreign content), <template> contents (parsed, but
// inert: nothing in them is reported), <select> (which drops every start tag but option,
// optgroup, script, template, and closes on input, keygen, textarea), <frameset> (accepted
// only before body content; then only frames count), <image> (an <img>), and <frame> outside
// a frameset (dropped). The approximations, all in broken or exotic markup: an end tag in
// SVG/MathML content closes the open element of that name, or the whole foreign content for
// the end tag of an HTML container, without checking HTML elements opened inside integration
// points; <frameset> is taken as accepted until the first start tag that belongs to a body.
#include "crawler/html/scanner.hpp"

#include "crawler/html/text.hpp"

#include <cstring>
#include <iterator>

namespace flagcrawl::crawler::html_detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;

Element element_of(Tag tag) {
    switch (tag) {
    case Tag::a:
        return Element::a;
    case Tag::area:
        return Element::area;
    case Tag::img:
    case Tag::image:
        return Element::img;
    case Tag::source:
        return Element::source;
    case Tag::script:
        return Element::script;
    case Tag::iframe:
        return Element::iframe;
    case Tag::frame:
        return Element::frame;
    case Tag::embed:
        return Element::embed;
    case Tag::object:
        return Element::object;
    case Tag::video:
        return Element::video;
    case Tag::audio:
        return Element::audio;
    case Tag::track:
        return Element::track;
    case Tag::input:
        return Element::input;
    case Tag::link:
        return Element::link;
    case Tag::meta:
        return Element::meta;
    case Tag::base:
        return Element::base;
    default:
        return Element::other;
    }
}

struct TagName {
    std::string_view name;
    Tag tag;
};

// Lower-case names; looked up by length, then bytes.
constexpr TagName k_tags[] = {
    {"a", Tag::a},
    {"b", Tag::breakout},
    {"i", Tag::breakout},
    {"p", Tag::breakout},
    {"s", Tag::breakout},
    {"u", Tag::breakout},
    {"br", Tag::breakout},
    {"dd", Tag::breakout},
    {"dl", Tag::breakout},
    {"dt", Tag::breakout},
    {"em", Tag::breakout},
    {"h1", Tag::breakout},
    {"h2", Tag::breakout},
    {"h3", Tag::breakout},
    {"h4", Tag::breakout},
    {"h5", Tag::breakout},
    {"h6", Tag::breakout},
    {"hr", Tag::breakout},
    {"li", Tag::breakout},
    {"ol", Tag::breakout},
    {"td", Tag::container},
    {"th", Tag::container},
    {"tr", Tag::container},
    {"tt", Tag::breakout},
    {"ul", Tag::breakout},
    {"big", Tag::breakout},
    {"div", Tag::breakout},
    {"img", Tag::img},
    {"pre", Tag::breakout},
    {"sub", Tag::breakout},
    {"sup", Tag::breakout},
    {"svg", Tag::svg},
    {"var", Tag::breakout},
    {"xmp", Tag::xmp},
    {"area", Tag::area},
    {"base", Tag::base},
    {"body", Tag::breakout},
    {"code", Tag::breakout},
    {"font", Tag::font},
    {"form", Tag::container},
    {"head", Tag::breakout},
    {"html", Tag::head_content},
    {"link", Tag::link},
    {"main", Tag::container},
    {"math", Tag::math},
    {"menu", Tag::breakout},
    {"meta", Tag::meta},
    {"nobr", Tag::breakout},
    {"ruby", Tag::breakout},
    {"span", Tag::breakout},
    {"audio", Tag::audio},
    {"embed", Tag::embed},
    {"frame", Tag::frame},
    {"image", Tag::image},
    {"input", Tag::input},
    {"small", Tag::breakout},
    {"style", Tag::style},
    {"table", Tag::breakout},
    {"tbody", Tag::container},
    {"tfoot", Tag::container},
    {"thead", Tag::container},
    {"title", Tag::title},
    {"track", Tag::track},
    {"video", Tag::video},
    {"aside", Tag::container},
    {"label", Tag::container},
    {"iframe", Tag::iframe},
    {"keygen", Tag::keygen},
    {"object", Tag::object},
    {"option", Tag::option},
    {"script", Tag::script},
    {"select", Tag::select},
    {"source", Tag::source},
    {"strike", Tag::breakout},
    {"strong", Tag::breakout},
    {"center", Tag::breakout},
    {"header", Tag::container},
    {"footer", Tag::container},
    {"figure", Tag::container},
    {"button", Tag::container},
    {"bgsound", Tag::head_content},
    {"caption", Tag::container},
    {"article", Tag::container},
    {"address", Tag::container},
    {"details", Tag::container},
    {"section", Tag::container},
    {"listing", Tag::breakout},
    {"nav", Tag::container},
    {"noembed", Tag::noembed},
    {"basefont", Tag::head_content},
    {"frameset", Tag::frameset},
    {"noframes", Tag::noframes},
    {"noscript", Tag::head_content},
    {"optgroup", Tag::optgroup},
    {"template", Tag::template_},
    {"textarea", Tag::textarea},
    {"fieldset", Tag::container},
    {"plaintext", Tag::plaintext},
    {"blockquote", Tag::breakout},
    {"annotation-xml", Tag::annotation_xml},
};

// Names of up to 8 bytes packed into an integer (little-endian, zero-padded), so that
// classify() compares integers: it runs for every tag of every page.
constexpr std::uint64_t pack(std::string_view name) {
    std::uint64_t key = 0;
    for (std::size_t i = 0; i < name.size() && i < 8; ++i) {
        key |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[i])) << (8 * i);
    }
    return key;
}

struct PackedTag {
    std::uint64_t key;
    Tag tag;
};

// k_tags grouped by name length (1-8), packed; longer names are looked up in k_tags.
struct TagTable {
    PackedTag entries[std::size(k_tags)]{};
    std::size_t begin[10]{}; // entries of length n: [begin[n], begin[n + 1])
};

constexpr TagTable make_tag_table() {
    TagTable table;
    std::size_t at = 0;
    for (std::size_t length = 1; length <= 8; ++length) {
        table.begin[length] = at;
        for (const TagName& t : k_tags) {
            if (t.name.size() == length) {
                table.entries[at++] = {pack(t.name), t.tag};
            }
        }
    }
    table.begin[9] = at;
    return table;
}

constexpr TagTable k_tag_table = make_tag_table();

Tag classify(std::string_view lower) {
    const std::size_t n = lower.size();
    if (n == 0 || n > 14) {
        return Tag::other;
    }
    if (n > 8) {
        for (const TagName& t : k_tags) {
            if (t.name == lower) {
                return t.tag;
            }
        }
        return Tag::other;
    }
    const std::uint64_t key = pack(lower);
    for (std::size_t i = k_tag_table.begin[n]; i < k_tag_table.begin[n + 1]; ++i) {
        if (k_tag_table.entries[i].key == key) {
            return k_tag_table.entries[i].tag;
        }
    }
    return Tag::other;
}

bool is_void_tag(Tag tag) {
    switch (tag) {
    case Tag::area:
    case Tag::img:
    case Tag::image:
    case Tag::source:
    case Tag::embed:
    case Tag::track:
    case Tag::input:
    case Tag::link:
    case Tag::meta:
    case Tag::base:
    case Tag::keygen:
    case Tag::frame:
    // Elements whose content the scanner skips to their end tag: they close themselves.
    case Tag::title:
    case Tag::textarea:
    case Tag::style:
    case Tag::xmp:
    case Tag::noembed:
    case Tag::noframes:
    case Tag::iframe:
    case Tag::script:
    case Tag::svg:
    case Tag::math:
        return true;
    default:
        return false;
    }
}

// SVG and MathML element names that are not also HTML's (lower case).
bool is_foreign_name(std::string_view name) {
    static constexpr std::string_view k_names[] = {"svg",
                                                   "math",
                                                   "g",
                                                   "path",
                                                   "rect",
                                                   "circle",
                                                   "ellipse",
                                                   "line",
                                                   "polyline",
                                                   "polygon",
                                                   "text",
                                                   "tspan",
                                                   "textpath",
                                                   "defs",
                                                   "use",
                                                   "symbol",
                                                   "desc",
                                                   "foreignobject",
                                                   "mi",
                                                   "mo",
                                                   "mn",
                                                   "ms",
                                                   "mtext",
                                                   "mrow",
                                                   "mfrac",
                                                   "msup",
                                                   "msub",
                                                   "msqrt",
                                                   "mstyle",
                                                   "semantics",
                                                   "annotation-xml",
                                                   "annotation",
                                                   "lineargradient",
                                                   "radialgradient",
                                                   "stop",
                                                   "clippath",
                                                   "mask",
                                                   "pattern",
                                                   "marker",
                                                   "filter",
                                                   "switch"};
    for (std::string_view n : k_names) {
        if (n == name) {
            return true;
        }
    }
    return false;
}

bool is_breakout(Tag tag) {
    return tag == Tag::breakout || tag == Tag::img || tag == Tag::meta || tag == Tag::embed;
}

bool starts_with_at(std::string_view html, std::size_t pos, std::string_view s) {
    return html.size() - pos >= s.size() && util::iequals(html.substr(pos, s.size()), s);
}

bool tag_name_end(char c) {
    return util::is_ascii_space(c) || c == '/' || c == '>';
}

// Index of the "</name" that ends a raw-text/RCDATA element (followed by whitespace, '/' or
// '>'), at or after pos; npos when the element runs to the end of the input.
std::size_t find_end_tag(std::string_view html, std::size_t pos, std::string_view name) {
    for (;;) {
        const std::size_t lt = html.find("</", pos);
        if (lt == npos) {
            return lt;
        }
        const std::size_t p = lt + 2;
        if (html.size() - p > name.size() && util::iequals(html.substr(p, name.size()), name) &&
            tag_name_end(html[p + name.size()])) {
            return lt;
        }
        pos = p;
    }
}

// "<script" or "</script" (with the slash when `end`) followed by whitespace, '/' or '>'.
bool script_tag_at(std::string_view html, std::size_t pos, bool end) {
    const std::string_view tag = end ? "</script" : "<script";
    return starts_with_at(html, pos, tag) && html.size() - pos > tag.size() &&
           tag_name_end(html[pos + tag.size()]);
}

// Script data with its escaped and double-escaped states; returns the index of the "</script"
// that ends the element, or npos.
std::size_t find_script_end(std::string_view html, std::size_t pos) {
    enum { data, escaped, double_escaped } state = data;
    for (;;) {
        const std::size_t i = html.find_first_of(state == data ? "<" : "<-", pos);
        if (i == npos) {
            return i;
        }
        pos = i + 1;
        if (html[i] == '-') {
            if (html.compare(i, 3, "-->") == 0) {
                state = data;
                pos = i + 3;
            }
            continue;
        }
        if (state == data) {
            if (html.compare(i, 4, "<!--") == 0) {
                state = escaped;
                pos = i + 2; // "<!-->" closes at once: its "--" also starts the "-->"
            } else if (script_tag_at(html, i, true)) {
                return i;
            }
        } else if (state == escaped) {
            if (script_tag_at(html, i, true)) {
                return i;
            }
            if (script_tag_at(html, i, false)) {
                state = double_escaped;
            }
        } else if (script_tag_at(html, i, true)) {
            state = escaped;
        }
    }
}

// The end of a comment whose "<!--" ends just before p; npos at EOF.
std::size_t comment_end(std::string_view html, std::size_t p) {
    if (p < html.size() && html[p] == '>') {
        return p + 1; // "<!-->"
    }
    if (html.compare(p, 2, "->") == 0) {
        return p + 2; // "<!--->"
    }
    for (std::size_t d = html.find("--", p); d != npos; d = html.find("--", d + 1)) {
        if (html.compare(d + 2, 1, ">") == 0) {
            return d + 3;
        }
        if (html.compare(d + 2, 2, "!>") == 0) {
            return d + 4;
        }
    }
    return npos;
}

// Reads a tag's attributes following the tokenizer's attribute states, from just after the
// tag name. Returns the index after the closing '>' (npos at EOF: the tag is dropped) and
// whether the tag was self-closing; appends the attributes to *attrs when it is not null.
std::size_t read_attributes(std::string_view html, std::size_t pos, bool& self_closing,
                            std::vector<RawAttribute>* attrs) {
    enum {
        before_name,
        name,
        after_name,
        before_value,
        unquoted,
        after_quoted
    } state = before_name;
    const std::size_t n = html.size();
    self_closing = false;
    std::size_t name_start = 0;
    std::size_t value_start = 0;
    const auto add = [&](std::size_t name_end, std::size_t v_begin, std::size_t v_end) {
        if (attrs != nullptr) {
            attrs->push_back({html.substr(name_start, name_end - name_start),
                              html.substr(v_begin, v_end - v_begin)});
        }
    };
    std::size_t name_end = 0;
    bool pending = false; // an attribute whose name is read and whose value is not yet
    while (pos < n) {
        const char c = html[pos];
        switch (state) {
        case before_name:
        case after_name:
        case after_quoted:
            if (c == '>') {
                if (pending) {
                    add(name_end, name_end, name_end);
                }
                return pos + 1;
            }
            if (c == '/') {
                if (pending) {
                    add(name_end, name_end, name_end);
                    pending = false;
                }
                ++pos;
                if (pos < n && html[pos] == '>') {
                    self_closing = true;
                    return pos + 1;
                }
                state = before_name;
            } else if (util::is_ascii_space(c)) {
                ++pos;
                state = state == after_name ? after_name : before_name;
            } else if (c == '=' && state == after_name) {
                ++pos;
                state = before_value;
            } else {
                if (pending) {
                    add(name_end, name_end, name_end);
                    pending = false;
                }
                name_start = pos;
                ++pos; // first character of a name, '=' included
                state = name;
            }
            break;
        case name:
            if (util::is_ascii_space(c) || c == '/' || c == '>') {
                name_end = pos;
                pending = true;
                state = after_name;
                if (!util::is_ascii_space(c)) {
                    continue; // reconsume '/' or '>'
                }
            } else if (c == '=') {
                name_end = pos;
                pending = true;
                state = before_value;
            }
            ++pos;
            break;
        case before_value:
            if (util::is_ascii_space(c)) {
                ++pos;
            } else if (c == '"' || c == '\'') {
                const std::size_t close = html.find(c, pos + 1);
                if (close == npos) {
                    return close;
                }
                add(name_end, pos + 1, close);
                pending = false;
                pos = close + 1;
                state = after_quoted;
            } else if (c == '>') {
                add(name_end, pos, pos);
                return pos + 1;
            } else {
                value_start = pos;
                state = unquoted;
            }
            break;
        case unquoted:
            if (util::is_ascii_space(c) || c == '>') {
                add(name_end, value_start, pos);
                pending = false;
                if (c == '>') {
                    return pos + 1;
                }
                state = before_name;
            }
            ++pos;
            break;
        }
    }
    return npos;
}

} // namespace

std::optional<AttrValue> Scanner::Attrs::find(std::string_view name) const {
    for (const RawAttribute& attr : scanner.m_attrs) {
        if (util::iequals(attr.name, name)) {
            return scanner.value(attr);
        }
    }
    return std::nullopt;
}

std::optional<AttrValue> Scanner::value(const RawAttribute& attr) const {
    const auto begin = static_cast<std::uint32_t>(attr.raw.data() - m_html.data());
    const SourceSpan span{begin, begin + static_cast<std::uint32_t>(attr.raw.size())};
    if (is_plain_text(attr.raw)) {
        return AttrValue{attr.raw, span, true};
    }
    std::string& decoded = m_decoded.emplace_back();
    decode(attr.raw, true, decoded);
    if (decoded == attr.raw) {
        m_decoded.pop_back();
        return AttrValue{attr.raw, span, true};
    }
    return AttrValue{decoded, span, false};
}

void Scanner::decode(std::string_view raw, bool in_attribute, std::string& out) const {
    if (m_encoding == Encoding::utf8) {
        decode_text(raw, in_attribute, out);
        return;
    }
    m_converted.clear();
    m_transcoder->decode(m_encoding, raw, m_converted);
    decode_text(m_converted, in_attribute, out);
}

void Scanner::run(std::string_view html, Collector& collector, bool want_links, Encoding encoding,
                  Transcoder& transcoder) {
    m_encoding = encoding;
    m_transcoder = &transcoder;
    m_html = html;
    m_collector = &collector;
    m_want_links = want_links;
    m_css = collector.wants_css();
    m_decoded.clear();
    m_frames.clear();
    m_templates = 0;
    m_in_select = false;
    m_frameset_ok = true;
    m_frameset = false;
    m_stop = false;
    const std::size_t n = html.size();
    std::size_t pos = 0;
    while (!m_stop) {
        const void* found = pos < n ? std::memchr(html.data() + pos, '<', n - pos) : nullptr;
        if (found == nullptr) {
            return;
        }
        const std::size_t lt =
            static_cast<std::size_t>(static_cast<const char*>(found) - html.data());
        if (lt + 1 >= n) {
            return;
        }
        const char c = html[lt + 1];
        if (c == '!') {
            std::size_t end = npos;
            if (html.compare(lt + 2, 2, "--") == 0) {
                end = comment_end(html, lt + 4);
            } else if (!m_frames.empty() && html.compare(lt + 2, 7, "[CDATA[") == 0) {
                const std::size_t close = html.find("]]>", lt + 9);
                end = close == npos ? close : close + 3;
            } else {
                const std::size_t gt = html.find('>', lt + 2); // DOCTYPE, bogus comment
                end = gt == npos ? gt : gt + 1;
            }
            if (end == npos) {
                return;
            }
            pos = end;
            continue;
        }
        if (c == '?' || (c == '/' && lt + 2 < n && !util::is_ascii_alpha(html[lt + 2]))) {
            if (c == '/' && html[lt + 2] == '>') {
                pos = lt + 3; // "</>" is dropped
                continue;
            }
            const std::size_t gt = html.find('>', lt + 2); // bogus comment
            if (gt == npos) {
                return;
            }
            pos = gt + 1;
            continue;
        }
        const bool is_end = c == '/';
        const std::size_t name_start = is_end ? lt + 2 : lt + 1;
        if (name_start >= n || !util::is_ascii_alpha(html[name_start])) {
            pos = lt + 1; // a '<' that is text
            continue;
        }
        std::size_t name_end = name_start + 1;
        while (name_end < n && !tag_name_end(html[name_end])) {
            ++name_end;
        }
        m_lower.resize(name_end - name_start);
        for (std::size_t k = 0; k < m_lower.size(); ++k) {
            m_lower[k] = util::to_lower(html[name_start + k]);
        }
        bool self_closing = false;
        if (is_end) {
            const std::size_t tag_end = read_attributes(html, name_end, self_closing, nullptr);
            if (tag_end == npos) {
                return;
            }
            end_tag(m_lower);
            pos = tag_end;
            continue;
        }
        m_attrs.clear();
        const Tag tag = classify(m_lower);
        const bool collect =
            tag == Tag::font || tag == Tag::annotation_xml || m_css ||
            (element_of(tag) != Element::other &&
             (m_want_links || tag == Tag::meta || tag == Tag::link || tag == Tag::base));
        const std::size_t tag_end =
            read_attributes(html, name_end, self_closing, collect ? &m_attrs : nullptr);
        if (tag_end == npos) {
            return;
        }
        pos = start_tag(tag, tag_end, self_closing);
    }
}

// Whether a start tag named lower_name is processed by the HTML rules (not as foreign).
bool Scanner::in_html_content(std::string_view lower_name) const {
    if (m_frames.empty()) {
        return true;
    }
    const Frame& top = m_frames.back();
    if (top.mathml_text) {
        return lower_name != "mglyph" && lower_name != "malignmark";
    }
    if (top.integration) {
        return true;
    }
    // annotation-xml (not an HTML integration point) takes <svg> as SVG: foreign either way.
    return false;
}

void Scanner::foreign_start(std::string_view name, bool self_closing) {
    if (self_closing) {
        return;
    }
    const bool parent_svg = m_frames.empty() || m_frames.back().svg;
    Frame frame;
    frame.name.assign(name);
    frame.svg = name == "svg" ? true : name == "math" ? false : parent_svg;
    if (frame.svg) {
        frame.integration = name == "foreignobject" || name == "desc" || name == "title";
    } else if (name == "mi" || name == "mo" || name == "mn" || name == "ms" || name == "mtext") {
        frame.integration = true;
        frame.mathml_text = true;
    } else if (name == "annotation-xml") {
        const auto encoding = Attrs{*this}.find("encoding");
        frame.integration = encoding && (util::iequals(encoding->value, "text/html") ||
                                         util::iequals(encoding->value, "application/xhtml+xml"));
    }
    m_frames.push_back(std::move(frame));
}

std::size_t Scanner::start_tag(Tag tag, std::size_t pos, bool self_closing) {
    if (m_frameset) {
        // In and after a frameset only frames (and noframes' raw text) remain.
        if (tag == Tag::frame && m_templates == 0) {
            m_collector->element(Element::frame, Attrs{*this});
        } else if (tag == Tag::noframes) {
            return skip_text_element(pos, "noframes", false, false);
        }
        return pos;
    }
    if (!in_html_content(m_lower)) {
        bool breakout = is_breakout(tag);
        if (tag == Tag::font) {
            const Attrs attrs{*this};
            breakout = attrs.find("color") || attrs.find("face") || attrs.find("size");
        }
        if (!breakout) {
            foreign_start(m_lower, self_closing);
            return pos;
        }
        while (!m_frames.empty() && !m_frames.back().integration) {
            m_frames.pop_back();
        }
    }
    if (m_in_select) {
        switch (tag) {
        case Tag::select:
            m_in_select = false;
            return pos;
        case Tag::input:
        case Tag::keygen:
        case Tag::textarea:
            m_in_select = false;
            break;
        case Tag::script:
        case Tag::template_:
            break;
        default:
            return pos; // option, optgroup and every other start tag: no element
        }
    }
    switch (tag) {
    case Tag::head_content:
    case Tag::title:
    case Tag::meta:
    case Tag::link:
    case Tag::base:
    case Tag::script:
    case Tag::style:
    case Tag::template_:
    case Tag::noframes:
    case Tag::frameset:
        break;
    default:
        m_frameset_ok = m_frameset_ok && m_lower == "head";
        break;
    }
    if (!m_frames.empty() && !is_void_tag(tag) && tag != Tag::template_) {
        ++m_frames.back().html_open; // an HTML element opened inside an integration point
    }
    // A style attribute is read with the element's own links; elements with none report it here.
    const bool style_here = m_css && m_templates == 0;
    switch (tag) {
    case Tag::svg:
    case Tag::math:
    case Tag::template_:
    case Tag::frame:
    case Tag::iframe:
    case Tag::script:
        break;
    default:
        if (style_here && element_of(tag) == Element::other) {
            report_style_attribute();
        }
        break;
    }
    switch (tag) {
    case Tag::svg:
    case Tag::math:
        foreign_start(m_lower, self_closing);
        return pos;
    case Tag::template_:
        ++m_templates;
        return pos;
    case Tag::select:
        m_in_select = true;
        return pos;
    case Tag::frameset:
        if (m_frameset_ok && m_templates == 0) {
            m_frameset = true;
        }
        return pos;
    case Tag::frame:
        return pos; // outside a frameset: dropped
    case Tag::title:
        return skip_text_element(pos, "title", false,
                                 m_templates == 0 && !m_collector->title_found());
    case Tag::style:
        if (style_here) {
            const std::size_t end = find_end_tag(m_html, pos, "style");
            const std::size_t stop = end == npos ? m_html.size() : end;
            m_collector->style_text(m_html.substr(pos, stop - pos),
                                    static_cast<std::uint32_t>(pos));
        }
        return skip_text_element(pos, "style", false, false);
    case Tag::textarea:
    case Tag::xmp:
    case Tag::noembed:
    case Tag::noframes:
        return skip_text_element(pos, m_lower, false, false);
    case Tag::iframe:
        if (m_templates == 0) {
            m_collector->element(Element::iframe, Attrs{*this});
            if (style_here) {
                report_style_attribute();
            }
        }
        return skip_text_element(pos, "iframe", false, false);
    case Tag::script:
        if (m_templates == 0) {
            m_collector->element(Element::script, Attrs{*this});
            if (style_here) {
                report_style_attribute();
            }
        }
        return skip_text_element(pos, "script", true, false);
    case Tag::plaintext:
        m_stop = true;
        return pos;
    default:
        break;
    }
    const Element element = element_of(tag);
    if (element != Element::other && m_templates == 0) {
        m_collector->element(element, Attrs{*this});
        if (style_here) {
            report_style_attribute();
        }
    }
    return pos;
}

void Scanner::report_style_attribute() {
    if (const auto style = Attrs{*this}.find("style")) {
        m_collector->style_attribute(*style);
    }
}

// Skips the content of a raw-text, RCDATA or script element and returns the index of its end
// tag; the title's text goes to the collector when is_title.
std::size_t Scanner::skip_text_element(std::size_t pos, std::string_view name, bool script,
                                       bool is_title) {
    const std::size_t end = script ? find_script_end(m_html, pos) : find_end_tag(m_html, pos, name);
    if (is_title) {
        const std::string_view raw = m_html.substr(pos, end == npos ? npos : end - pos);
        if (is_plain_text(raw)) {
            m_collector->title_piece(raw);
        } else {
            m_title_text.clear();
            decode(raw, false, m_title_text);
            m_collector->title_piece(m_title_text);
        }
        m_collector->title_end();
    }
    if (end == npos) {
        m_stop = true;
        return m_html.size();
    }
    return end;
}

void Scanner::end_tag(std::string_view name) {
    if (m_frameset) {
        return;
    }
    if (m_frames.empty()) {
        // Outside SVG/MathML only </template> and </select> change the scanner's state.
        if (name == "template" && m_templates > 0) {
            --m_templates;
        } else if (name == "select") {
            m_in_select = false;
        }
        return;
    }
    if (!m_frames.empty() && m_frames.back().html_open > 0) {
        // HTML elements are open inside an integration point: the end tag goes to them (an
        // approximate count: implied end tags are not modelled); SVG/MathML ends are ignored.
        const Tag tag = classify(name);
        if (tag != Tag::other || !is_foreign_name(name)) {
            --m_frames.back().html_open;
        }
        if (tag == Tag::template_ && m_templates > 0) {
            --m_templates;
        } else if (tag == Tag::select) {
            m_in_select = false;
        }
        return;
    }
    for (std::size_t i = m_frames.size(); i > 0; --i) {
        if (m_frames[i - 1].name == name) {
            m_frames.resize(i - 1);
            return;
        }
    }
    const Tag tag = classify(name);
    if (!m_frames.empty() && !m_frames.back().integration &&
        (tag == Tag::breakout || tag == Tag::container)) {
        while (!m_frames.empty() && !m_frames.back().integration) {
            m_frames.pop_back();
        }
        return;
    }
    if (tag == Tag::template_ && m_templates > 0) {
        --m_templates;
    } else if (tag == Tag::select) {
        m_in_select = false;
    }
}

} // namespace flagcrawl::crawler::html_detail

namespace flagcrawl::crawler::html_detail {
namespace {

bool is_void(std::string_view name) {
    static constexpr std::string_view k_void[] = {
        "area",  "base",   "br",    "col", "embed", "hr",     "img",   "input",    "link",   "meta",
        "param", "source", "track", "wbr", "image", "keygen", "frame", "basefont", "bgsound"};
    for (std::string_view v : k_void) {
        if (v == name) {
            return true;
        }
    }
    return false;
}

// Start tags that close an open element of the same group first (implied end tags).
int sibling_group(std::string_view name) {
    if (name == "p" || name == "div" || name == "ul" || name == "ol" || name == "table" ||
        name == "h1" || name == "h2" || name == "h3" || name == "pre" || name == "section") {
        return 1; // closes an open <p>
    }
    if (name == "li") {
        return 2;
    }
    if (name == "dd" || name == "dt") {
        return 3;
    }
    if (name == "option" || name == "optgroup") {
        return 4;
    }
    if (name == "tr" || name == "td" || name == "th") {
        return 5;
    }
    if (name == "a") {
        return 6; // an open <a> is closed by the next one (the adoption agency)
    }
    return 0;
}

} // namespace

std::uint64_t estimate_tree_work(std::string_view html, std::uint64_t stop_above) {
    // Open elements as (name, group); end tags search only the top few, so a flood of
    // unmatched end tags stays linear.
    constexpr std::size_t k_end_tag_reach = 64;
    constexpr std::size_t k_implied_reach = 8;
    struct Open {
        std::string name;
        int group;
    };
    std::vector<Open> open;
    std::string lower;
    std::uint64_t work = 0;
    const std::size_t n = html.size();
    std::size_t pos = 0;
    while (work <= stop_above) {
        const std::size_t lt = html.find('<', pos);
        if (lt == npos || lt + 1 >= n) {
            break;
        }
        const char c = html[lt + 1];
        if (c == '!' || c == '?' ||
            (c == '/' && lt + 2 < n && !util::is_ascii_alpha(html[lt + 2]))) {
            const std::size_t end = html.compare(lt + 1, 3, "!--") == 0 ? comment_end(html, lt + 4)
                                                                        : html.find('>', lt + 1);
            if (end == npos) {
                break;
            }
            pos = end + (html.compare(lt + 1, 3, "!--") == 0 ? 0 : 1);
            continue;
        }
        const bool is_end = c == '/';
        const std::size_t name_start = is_end ? lt + 2 : lt + 1;
        if (name_start >= n || !util::is_ascii_alpha(html[name_start])) {
            pos = lt + 1;
            continue;
        }
        std::size_t name_end = name_start + 1;
        while (name_end < n && !tag_name_end(html[name_end])) {
            ++name_end;
        }
        lower.assign(html.substr(name_start, name_end - name_start));
        for (char& ch : lower) {
            ch = util::to_lower(ch);
        }
        bool self_closing = false;
        const std::size_t tag_end = read_attributes(html, name_end, self_closing, nullptr);
        if (tag_end == npos) {
            break;
        }
        pos = tag_end;
        if (is_end) {
            const std::size_t reach = std::min(open.size(), k_end_tag_reach);
            for (std::size_t k = 1; k <= reach; ++k) {
                if (open[open.size() - k].name == lower) {
                    open.resize(open.size() - k);
                    break;
                }
            }
            continue;
        }
        const int group = sibling_group(lower);
        // Implied end tags: block starts (and li, dd, dt) close an open <p>; li, dd/dt, option,
        // table cells and <a> close an open element of their own group. Looked for among the
        // few innermost elements only (inline elements may sit above it), to stay linear.
        if (group != 0) {
            const std::size_t reach = std::min(open.size(), k_implied_reach);
            for (std::size_t k = 1; k <= reach; ++k) {
                const Open& o = open[open.size() - k];
                const bool closes = group == 1                 ? o.name == "p"
                                    : group == 2 || group == 3 ? o.name == "p" || o.group == group
                                                               : o.group == group;
                if (closes) {
                    open.resize(open.size() - k);
                    break;
                }
            }
        }
        work += open.size() + 1;
        if (lower == "script") {
            pos = find_script_end(html, pos);
        } else if (lower == "style" || lower == "title" || lower == "textarea" || lower == "xmp" ||
                   lower == "iframe" || lower == "noembed" || lower == "noframes") {
            pos = find_end_tag(html, pos, lower);
        } else if (lower == "plaintext") {
            break;
        } else if (!is_void(lower) &&
                   !(self_closing && !open.empty() && open.back().name == "svg")) {
            open.push_back({lower, group});
        }
        if (pos == npos) {
            break;
        }
    }
    return work;
}

} // namespace flagcrawl::crawler::html_detail
