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

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace flagcrawl::crawler::html_detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;

constexpr Element element_of(Tag tag) {
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

// What the scanner's loop needs to know of a tag before it reads the attributes (bits).
enum : std::uint8_t {
    k_link_bearing = 1, // an element the collector reads for links
    k_attributes = 2,   // its attributes are read even without links (facts, states)
    // Changes nothing the scanner tracks (but the frameset state) when no SVG/MathML, select,
    // frameset or CSS is in play: the loop's fast path.
    k_inert = 4,
    // An element the collector reads that needs no more than that then (the loop's other
    // fast path).
    k_plain_element = 8,
};

constexpr std::array<std::uint8_t, static_cast<std::size_t>(Tag::annotation_xml) + 1>
make_tag_info() {
    std::array<std::uint8_t, static_cast<std::size_t>(Tag::annotation_xml) + 1> info{};
    for (std::size_t i = 0; i < info.size(); ++i) {
        const auto tag = static_cast<Tag>(i);
        const bool link_bearing = element_of(tag) != Element::other;
        const bool attributes = tag == Tag::font || tag == Tag::annotation_xml ||
                                tag == Tag::meta || tag == Tag::link || tag == Tag::base;
        const bool inert = tag == Tag::other || tag == Tag::breakout || tag == Tag::container;
        // Not script and iframe (raw text follows), frame (dropped outside a frameset).
        const bool plain_element =
            link_bearing && tag != Tag::script && tag != Tag::iframe && tag != Tag::frame;
        info[i] = static_cast<std::uint8_t>(
            (link_bearing ? k_link_bearing : 0) | (attributes ? k_attributes : 0) |
            (inert ? k_inert : 0) | (plain_element ? k_plain_element : 0));
    }
    return info;
}

constexpr auto k_tag_info = make_tag_info();

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

// Names of up to 8 bytes packed into an integer (little-endian, zero-padded): the scanner packs
// a tag name, lower-cased, while it reads it, and classify() finds it with one multiplicative
// hash and one comparison (it runs for every tag of every page).
constexpr std::uint64_t pack(std::string_view name) {
    std::uint64_t key = 0;
    for (std::size_t i = 0; i < name.size() && i < 8; ++i) {
        key |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[i])) << (8 * i);
    }
    return key;
}

// pack() of the first 8 bytes of text[pos, end) lower-cased (ASCII letters only, exactly). The
// text is text[0, limit): when 8 bytes from pos are inside it they are read as one word and
// lower-cased together.
std::uint64_t pack_lower(const char* text, std::size_t pos, std::size_t end, std::size_t limit) {
    const std::size_t size = std::min<std::size_t>(end - pos, 8);
    std::uint64_t word = 0;
    if constexpr (std::endian::native == std::endian::little) {
        if (pos + 8 <= limit) {
            std::memcpy(&word, text + pos, 8);
            if (size < 8) {
                word &= (std::uint64_t{1} << (8 * size)) - 1;
            }
        } else {
            std::memcpy(&word, text + pos, size);
        }
    } else {
        word = pack(std::string_view(text + pos, size));
    }
    // Per byte: 0x80 where the byte is in 'A'..'Z' (ASCII bytes only), then 0x20 added there.
    constexpr std::uint64_t k_high = 0x8080808080808080ULL;
    constexpr std::uint64_t k_low7 = 0x7F7F7F7F7F7F7F7FULL;
    constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
    const std::uint64_t seven = word & k_low7;
    const std::uint64_t at_least_a = seven + k_ones * (0x80 - 'A');
    const std::uint64_t above_z = seven + k_ones * (0x80 - 'Z' - 1);
    const std::uint64_t upper = at_least_a & ~above_z & ~word & k_high;
    return word | (upper >> 2);
}

// Any odd multiplier that gives each name of up to 8 bytes in k_tags a slot of its own (the
// static_assert below checks it; a random one does within a few thousand tries).
constexpr std::uint64_t k_tag_hash = 0x3b6ccde8b512a19bULL;
constexpr unsigned k_tag_hash_bits = 9;

constexpr std::size_t tag_slot(std::uint64_t key) {
    return static_cast<std::size_t>((key * k_tag_hash) >> (64 - k_tag_hash_bits));
}

struct TagSlot {
    std::uint64_t key = 0;
    std::size_t size = 0; // 0: an empty slot
    Tag tag = Tag::other;
};

struct TagSlots {
    TagSlot slots[std::size_t{1} << k_tag_hash_bits]{};
    bool collision = false;
};

constexpr TagSlots make_tag_slots() {
    TagSlots table;
    for (const TagName& t : k_tags) {
        if (t.name.size() <= 8) {
            TagSlot& slot = table.slots[tag_slot(pack(t.name))];
            table.collision = table.collision || slot.size != 0;
            slot = {pack(t.name), t.name.size(), t.tag};
        }
    }
    return table;
}

constexpr TagSlots k_tag_slots = make_tag_slots();
static_assert(!k_tag_slots.collision, "k_tag_hash must give each short tag name its own slot");

// The tag named `name` (as written); `key` is pack() of its first 8 bytes lower-cased.
Tag classify(std::uint64_t key, std::string_view name) {
    if (name.size() <= 8) {
        const TagSlot& slot = k_tag_slots.slots[tag_slot(key)];
        return slot.size == name.size() && slot.key == key ? slot.tag : Tag::other;
    }
    for (const TagName& t : k_tags) {
        if (t.name.size() > 8 && util::iequals(t.name, name)) {
            return t.tag;
        }
    }
    return Tag::other;
}

// Character classes of the tokenizer's tag states (one table lookup per byte).
enum : std::uint8_t {
    k_space = 1,         // ASCII whitespace (the tokenizer sees CR as LF)
    k_tag_name_end = 2,  // whitespace, '/', '>'
    k_attr_name_end = 4, // whitespace, '/', '>', '='
    k_unquoted_end = 8,  // whitespace, '>'
    k_alpha = 16,        // ASCII letters
};

constexpr std::array<std::uint8_t, 256> make_char_classes() {
    std::array<std::uint8_t, 256> classes{};
    for (const char c : util::k_ascii_whitespace) {
        classes[static_cast<unsigned char>(c)] =
            k_space | k_tag_name_end | k_attr_name_end | k_unquoted_end;
    }
    classes['/'] = k_tag_name_end | k_attr_name_end;
    classes['>'] = k_tag_name_end | k_attr_name_end | k_unquoted_end;
    classes['='] = k_attr_name_end;
    for (int c = 'a'; c <= 'z'; ++c) {
        classes[static_cast<std::size_t>(c)] = k_alpha;
        classes[static_cast<std::size_t>(c - 'a' + 'A')] = k_alpha;
    }
    return classes;
}

constexpr std::array<std::uint8_t, 256> k_char_classes = make_char_classes();

bool has_class(char c, std::uint8_t classes) {
    return (k_char_classes[static_cast<unsigned char>(c)] & classes) != 0;
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

// The name of a raw-text or RCDATA element the scanner skips to its end tag.
std::string_view text_element_name(Tag tag) {
    switch (tag) {
    case Tag::textarea:
        return "textarea";
    case Tag::xmp:
        return "xmp";
    case Tag::noembed:
        return "noembed";
    default:
        return "noframes";
    }
}

bool is_breakout(Tag tag) {
    return tag == Tag::breakout || tag == Tag::img || tag == Tag::meta || tag == Tag::embed;
}

bool starts_with_at(std::string_view html, std::size_t pos, std::string_view s) {
    return html.size() - pos >= s.size() && util::iequals(html.substr(pos, s.size()), s);
}

bool tag_name_end(char c) {
    return has_class(c, k_tag_name_end);
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

bool changed_by_decoding(char c) {
    return c == '&' || c == '\r' || c == '\0' || static_cast<unsigned char>(c) >= 0x80;
}

// Index of the first `quote` at or after pos (npos when there is none); clears `plain` when a
// byte before it is one that decode_text() changes (is_plain_text()). One pass over a value
// instead of a search for its end and a second look at its bytes.
std::size_t find_quote(std::string_view html, std::size_t pos, char quote, bool& plain) {
    const std::size_t n = html.size();
#if defined(__SSE2__)
    const __m128i quotes = _mm_set1_epi8(quote);
    const __m128i amps = _mm_set1_epi8('&');
    const __m128i crs = _mm_set1_epi8('\r');
    const __m128i zeros = _mm_setzero_si128();
    for (; pos + 16 <= n; pos += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(html.data() + pos));
        const auto at_quote = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quotes)));
        // The high bit of each byte: set in v itself for bytes >= 0x80.
        const __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amps), _mm_cmpeq_epi8(v, crs)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, zeros), v));
        const auto at_special = static_cast<unsigned>(_mm_movemask_epi8(special));
        if (at_quote != 0) {
            const auto at = static_cast<unsigned>(std::countr_zero(at_quote));
            if ((at_special & ((1U << at) - 1)) != 0) {
                plain = false;
            }
            return pos + at;
        }
        if (at_special != 0) {
            plain = false;
        }
    }
#endif
    for (; pos < n; ++pos) {
        const char c = html[pos];
        if (c == quote) {
            return pos;
        }
        if (changed_by_decoding(c)) {
            plain = false;
        }
    }
    return npos;
}

// Index of the first '<' at or after pos, npos when there is none. Tags often follow each
// other or a short run of white space: the first 16 bytes are looked at inline, before memchr.
std::size_t find_lt(std::string_view html, std::size_t pos) {
    const std::size_t n = html.size();
#if defined(__SSE2__)
    if (pos + 16 <= n) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(html.data() + pos));
        const auto at =
            static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('<'))));
        if (at != 0) {
            return pos + static_cast<unsigned>(std::countr_zero(at));
        }
        pos += 16;
    }
#endif
    if (pos >= n) {
        return npos;
    }
    const void* found = std::memchr(html.data() + pos, '<', n - pos);
    return found == nullptr
               ? npos
               : static_cast<std::size_t>(static_cast<const char*>(found) - html.data());
}

std::size_t skip_spaces(std::string_view html, std::size_t pos) {
    while (pos < html.size() && has_class(html[pos], k_space)) {
        ++pos;
    }
    return pos;
}

// Reads a tag's attributes following the tokenizer's attribute states, from just after the
// tag name. Returns the index after the closing '>' (npos at EOF: the tag is dropped) and
// whether the tag was self-closing; with Collect, appends the attributes to *attrs.
template <bool Collect>
std::size_t read_attributes(std::string_view html, std::size_t pos, bool& self_closing,
                            TagAttributes* attrs) {
    const std::size_t n = html.size();
    self_closing = false;
    for (;;) {
        // Before attribute name; also after a quoted value, and after a '/' not before '>'.
        pos = skip_spaces(html, pos);
        if (pos >= n) {
            return npos;
        }
        if (html[pos] == '>') {
            return pos + 1;
        }
        if (html[pos] == '/') {
            ++pos;
            if (pos < n && html[pos] == '>') {
                self_closing = true;
                return pos + 1;
            }
            continue;
        }
        // Attribute name: its first character may be any other ('=' and quotes included).
        const std::size_t name_start = pos++;
        while (pos < n && !has_class(html[pos], k_attr_name_end)) {
            ++pos;
        }
        const std::size_t name_end = pos;
        const std::string_view name(html.data() + name_start, name_end - name_start);
        pos = skip_spaces(html, pos); // after attribute name
        if (pos >= n) {
            return npos;
        }
        if (html[pos] != '=') {
            // '/', '>' or the next name: an attribute without a value.
            if constexpr (Collect) {
                attrs->add(name, html.substr(name_end, 0), true);
            }
            continue;
        }
        pos = skip_spaces(html, pos + 1); // before attribute value
        if (pos >= n) {
            return npos;
        }
        const char c = html[pos];
        if (c == '"' || c == '\'') {
            bool plain = true;
            const std::size_t close =
                Collect ? find_quote(html, pos + 1, c, plain) : html.find(c, pos + 1);
            if (close == npos) {
                return npos;
            }
            if constexpr (Collect) {
                attrs->add(name, html.substr(pos + 1, close - pos - 1), plain);
            }
            pos = close + 1; // after the quoted value: as before a name
            continue;
        }
        if (c == '>') {
            if constexpr (Collect) {
                attrs->add(name, html.substr(pos, 0), true);
            }
            return pos + 1;
        }
        const std::size_t value_start = pos; // unquoted
        while (pos < n && !has_class(html[pos], k_unquoted_end)) {
            ++pos;
        }
        if (pos >= n) {
            return npos;
        }
        if constexpr (Collect) {
            const std::string_view value = html.substr(value_start, pos - value_start);
            attrs->add(name, value, is_plain_text(value));
        }
    }
}

// read_attributes() that keeps nothing: where the tag ends.
std::size_t skip_attributes(std::string_view html, std::size_t pos) {
    bool self_closing = false;
    return read_attributes<false>(html, pos, self_closing, nullptr);
}

} // namespace

namespace {

// For a name of 3 to 10 bytes and its first byte & 0x1F (a letter in either case): the Attr of
// that length and first letter, plus one (no two share both); 0 when there is none.
struct AttrCandidates {
    std::uint8_t by_size[11][32]{};
    bool collision = false;
};

constexpr AttrCandidates make_attr_candidates() {
    AttrCandidates table;
    for (std::size_t i = 0; i < k_attr_count; ++i) {
        const std::string_view name = attr_name(static_cast<Attr>(i));
        std::uint8_t& entry = table.by_size[name.size()][name[0] & 0x1F];
        table.collision = table.collision || entry != 0 || name.size() < 3 || name.size() > 10;
        entry = static_cast<std::uint8_t>(i + 1);
    }
    return table;
}

constexpr AttrCandidates k_attr_candidates = make_attr_candidates();
static_assert(!k_attr_candidates.collision,
              "Attr names are 3 to 10 bytes long and differ in length or first letter");

} // namespace

void TagAttributes::add(std::string_view name, std::string_view raw, bool plain) {
    if (name.size() < 3 || name.size() > 10) {
        return;
    }
    const unsigned candidate = k_attr_candidates.by_size[name.size()][name[0] & 0x1F];
    if (candidate == 0) {
        return;
    }
    // Attr names are lower-case letters and '-': a byte of `name` matches one of them when it
    // does with 0x20 set (only CR, never in a name, would also pass for '-').
    const std::string_view want = attr_name(static_cast<Attr>(candidate - 1));
    if (name.size() != want.size()) {
        return;
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
        if ((name[i] | 0x20) != want[i]) {
            return;
        }
    }
    const std::uint32_t bit = std::uint32_t{1} << (candidate - 1);
    if ((present & bit) == 0) {
        present |= bit;
        attrs[candidate - 1] = {name, raw, plain};
    }
}

std::optional<AttrValue> Scanner::Attrs::find(Attr attr) const {
    const auto i = static_cast<unsigned>(attr);
    if ((scanner.m_attrs.present & (std::uint32_t{1} << i)) == 0) {
        return std::nullopt;
    }
    return scanner.value(scanner.m_attrs.attrs[i]);
}

std::optional<AttrValue> Scanner::value(const RawAttribute& attr) const {
    const auto begin = static_cast<std::uint32_t>(attr.raw.data() - m_html.data());
    const SourceSpan span{begin, begin + static_cast<std::uint32_t>(attr.raw.size())};
    if (attr.plain) {
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
    // No SVG/MathML, select, frameset or CSS: the state of most pages, where most tags take the
    // fast paths below. Only start_tag() and end_tag() change it.
    const auto simple_state = [this] {
        return m_frames.empty() && !m_in_select && !m_frameset && !m_css;
    };
    bool simple = simple_state();
    for (;;) {
        const std::size_t lt = find_lt(html, pos);
        if (lt == npos || lt + 1 >= n) {
            return;
        }
        const char c = html[lt + 1];
        bool is_end = false;
        std::size_t name_start = lt + 1;
        if (!has_class(c, k_alpha)) {
            if (c == '/' && lt + 2 < n && has_class(html[lt + 2], k_alpha)) {
                is_end = true;
                name_start = lt + 2;
            } else {
                pos = skip_other_markup(lt);
                if (pos == npos) {
                    return;
                }
                continue;
            }
        }
        std::size_t name_end = name_start + 1;
        while (name_end < n && !tag_name_end(html[name_end])) {
            ++name_end;
        }
        const std::string_view name(html.data() + name_start, name_end - name_start);
        const bool fast = name_end < n && html[name_end] == '>'; // a tag without attributes
        if (is_end) {
            const std::size_t tag_end = fast ? name_end + 1 : skip_attributes(html, name_end);
            if (tag_end == npos) {
                return;
            }
            // Outside SVG/MathML only </template> and </select> change the scanner's state.
            if (!m_frames.empty() || name.size() == 8 || name.size() == 6) {
                m_name = name;
                m_name_key = pack_lower(html.data(), name_start, name_end, n);
                end_tag(classify(m_name_key, name));
                simple = simple_state();
            }
            pos = tag_end;
            continue;
        }
        const std::uint64_t key = pack_lower(html.data(), name_start, name_end, n);
        const Tag tag = classify(key, name);
        const std::uint8_t info = k_tag_info[static_cast<std::size_t>(tag)];
        bool self_closing = false;
        if ((info & k_inert) != 0 && simple) {
            // The common case: an element that changes nothing the scanner tracks but whether
            // a frameset may still come.
            pos = fast ? name_end + 1 : skip_attributes(html, name_end);
            if (pos == npos) {
                return;
            }
            m_frameset_ok = m_frameset_ok && name.size() == 4 && key == pack("head");
            continue;
        }
        m_attrs.present = 0;
        const bool collect =
            (info & k_attributes) != 0 || m_css || ((info & k_link_bearing) != 0 && m_want_links);
        const std::size_t tag_end =
            collect ? read_attributes<true>(html, name_end, self_closing, &m_attrs)
                    : read_attributes<false>(html, name_end, self_closing, nullptr);
        if (tag_end == npos) {
            return;
        }
        if ((info & k_plain_element) != 0 && simple && m_templates == 0) {
            // What start_tag() does for these elements in the same state.
            if (tag != Tag::meta && tag != Tag::link && tag != Tag::base) {
                m_frameset_ok = false;
            }
            m_collector->element(element_of(tag), Attrs{*this});
            pos = tag_end;
            continue;
        }
        m_name = name;
        m_name_key = key;
        pos = start_tag(tag, tag_end, self_closing);
        if (m_stop) {
            return;
        }
        simple = simple_state();
    }
}

// Markup at html[lt] == '<' that is not a tag: a comment, CDATA section (in SVG/MathML),
// DOCTYPE or bogus comment, or a '<' that is text. Returns where scanning goes on; npos when it
// runs to the end of the input.
std::size_t Scanner::skip_other_markup(std::size_t lt) const {
    const std::string_view html = m_html;
    const char c = html[lt + 1];
    if (c == '!') {
        if (html.compare(lt + 2, 2, "--") == 0) {
            return comment_end(html, lt + 4);
        }
        if (!m_frames.empty() && html.compare(lt + 2, 7, "[CDATA[") == 0) {
            const std::size_t close = html.find("]]>", lt + 9);
            return close == npos ? close : close + 3;
        }
        const std::size_t gt = html.find('>', lt + 2); // DOCTYPE, bogus comment
        return gt == npos ? gt : gt + 1;
    }
    if (c == '?' || (c == '/' && lt + 2 < html.size())) {
        if (c == '/' && html[lt + 2] == '>') {
            return lt + 3; // "</>" is dropped
        }
        const std::size_t gt = html.find('>', lt + 2); // bogus comment
        return gt == npos ? gt : gt + 1;
    }
    return lt + 1; // a '<' that is text
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
        const auto encoding = Attrs{*this}.find(Attr::encoding);
        frame.integration = encoding && (util::iequals(encoding->value, "text/html") ||
                                         util::iequals(encoding->value, "application/xhtml+xml"));
    }
    m_frames.push_back(std::move(frame));
}

bool Scanner::name_is_head() const {
    return m_name.size() == 4 && m_name_key == pack("head");
}

void Scanner::lower_name() {
    m_lower.assign(m_name);
    for (char& c : m_lower) {
        c = util::to_lower(c);
    }
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
    if (!m_frames.empty() || tag == Tag::svg || tag == Tag::math) {
        lower_name();
    }
    if (!in_html_content(m_lower)) {
        bool breakout = is_breakout(tag);
        if (tag == Tag::font) {
            const Attrs attrs{*this};
            breakout = attrs.find(Attr::color) || attrs.find(Attr::face) || attrs.find(Attr::size);
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
        m_frameset_ok = m_frameset_ok && name_is_head();
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
        return skip_text_element(pos, text_element_name(tag), false, false);
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
    if (const auto style = Attrs{*this}.find(Attr::style)) {
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

void Scanner::end_tag(Tag tag) {
    if (m_frameset) {
        return;
    }
    if (m_frames.empty()) {
        // Outside SVG/MathML only </template> and </select> change the scanner's state.
        if (tag == Tag::template_ && m_templates > 0) {
            --m_templates;
        } else if (tag == Tag::select) {
            m_in_select = false;
        }
        return;
    }
    lower_name();
    const std::string_view name = m_lower;
    if (m_frames.back().html_open > 0) {
        // HTML elements are open inside an integration point: the end tag goes to them (an
        // approximate count: implied end tags are not modelled); SVG/MathML ends are ignored.
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
        const std::size_t tag_end = read_attributes<false>(html, name_end, self_closing, nullptr);
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
