#include "crawler/html/links.hpp"

#include "util/ascii.hpp"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace flagcrawl::crawler {
namespace {

using util::iequals;
using util::is_ascii_alpha;
using util::is_ascii_digit;
using util::is_ascii_space;

// Calls fn(token) for each token of `s` separated by ASCII whitespace (and commas if asked).
template <typename Fn> void for_each_token(std::string_view s, bool commas, Fn&& fn) {
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (is_ascii_space(s[i]) || (commas && s[i] == ','))) {
            ++i;
        }
        const std::size_t start = i;
        while (i < s.size() && !is_ascii_space(s[i]) && !(commas && s[i] == ',')) {
            ++i;
        }
        if (i > start) {
            fn(s.substr(start, i - start));
        }
    }
}

// "valid non-negative integer" greater than zero (srcset w and h descriptors).
bool is_positive_integer(std::string_view s) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), is_ascii_digit)) {
        return false;
    }
    return std::any_of(s.begin(), s.end(), [](char c) { return c != '0'; });
}

// "valid floating-point number" that is not negative (srcset x descriptor).
bool is_non_negative_float(std::string_view s) {
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && s[i] == '-') {
        negative = true;
        ++i;
    }
    std::size_t digits = 0;
    bool non_zero = false;
    while (i < s.size() && is_ascii_digit(s[i])) {
        non_zero |= s[i] != '0';
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t fraction = 0;
        while (i < s.size() && is_ascii_digit(s[i])) {
            non_zero |= s[i] != '0';
            ++i;
            ++fraction;
        }
        if (fraction == 0) {
            return false;
        }
        digits += fraction;
    }
    if (digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
            ++i;
        }
        const std::size_t exponent_start = i;
        while (i < s.size() && is_ascii_digit(s[i])) {
            ++i;
        }
        if (i == exponent_start) {
            return false;
        }
    }
    return i == s.size() && !(negative && non_zero);
}

// The HTML "parse a srcset attribute" descriptor rules: true when the candidate is kept.
bool srcset_descriptors_valid(const std::array<std::string_view, 4>& descriptors,
                              std::size_t count) {
    if (count > 3) {
        return false; // at most one each of w, x, h: more is a duplicate or unknown
    }
    bool width = false;
    bool density = false;
    bool height = false;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view d = descriptors[i];
        const std::string_view value = d.substr(0, d.size() - 1);
        switch (d.back()) {
        case 'w':
            if (width || density || !is_positive_integer(value)) {
                return false;
            }
            width = true;
            break;
        case 'x':
            if (width || density || height || !is_non_negative_float(value)) {
                return false;
            }
            density = true;
            break;
        case 'h':
            if (height || density || !is_positive_integer(value)) {
                return false;
            }
            height = true;
            break;
        default:
            return false;
        }
    }
    return !height || width;
}

// Under AddressSanitizer the arena marks the memory it has not handed out as poisoned, so
// overflows past a block and uses of blocks from a previous page are reported as with malloc.
void poison(void* block, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __asan_poison_memory_region(block, size);
#else
    (void)block;
    (void)size;
#endif
}

void unpoison(void* block, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __asan_unpoison_memory_region(block, size);
#else
    (void)block;
    (void)size;
#endif
}

// Bump allocator behind GumboOptions::allocator. Gumbo never reallocates (it allocates,
// copies, deallocates), so deallocation only rolls back the most recent block; the rest is
// reclaimed all at once by reset(). Big blocks go to malloc and are freed early when gumbo
// frees one of the last few, else at reset().
class Arena {
public:
    static constexpr std::size_t k_chunk_bytes = 256 * 1024;
    static constexpr std::size_t k_large_bytes = 64 * 1024;
    static constexpr std::size_t k_kept_chunks = 16; // memory kept between pages: 4 MiB
    static constexpr std::size_t k_align = alignof(std::max_align_t);

    Arena() = default;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena() {
        release_large();
        for (Chunk& chunk : m_chunks) {
            unpoison(chunk.data, k_chunk_bytes);
            std::free(chunk.data);
        }
    }

    void* allocate(std::size_t requested) {
        const std::size_t size =
            requested == 0 ? k_align : (requested + k_align - 1) & ~(k_align - 1);
        m_used += size;
        if (size > k_large_bytes) {
            void* block = std::malloc(size);
            if (block == nullptr) {
                throw std::bad_alloc();
            }
            m_large.push_back(block);
            return block;
        }
        if (static_cast<std::size_t>(m_end - m_next) < size) {
            next_chunk();
        }
        m_last = m_next;
        m_next += size;
        unpoison(m_last, requested);
        return m_last;
    }

    void deallocate(void* block) {
        if (block == nullptr) {
            return;
        }
        if (block == m_last) {
            poison(m_last, static_cast<std::size_t>(m_next - m_last));
            m_next = m_last;
            m_last = nullptr;
            return;
        }
        // Vector growth frees the previous big block right after allocating the next one.
        const std::size_t n = m_large.size();
        for (std::size_t i = n; i > 0 && i + 4 > n; --i) {
            if (m_large[i - 1] == block) {
                std::free(block);
                m_large.erase(m_large.begin() + static_cast<std::ptrdiff_t>(i - 1));
                return;
            }
        }
    }

    void reset() {
        release_large();
        while (m_chunks.size() > k_kept_chunks) {
            unpoison(m_chunks.back().data, k_chunk_bytes);
            std::free(m_chunks.back().data);
            m_chunks.pop_back();
        }
        for (Chunk& chunk : m_chunks) {
            poison(chunk.data, k_chunk_bytes);
        }
        m_current = 0;
        m_next = m_end = nullptr;
        m_last = nullptr;
        m_used = 0;
        if (!m_chunks.empty()) {
            m_next = m_chunks[0].data;
            m_end = m_next + k_chunk_bytes;
        }
    }

    std::size_t used() const { return m_used; }

private:
    struct Chunk {
        char* data;
    };

    void next_chunk() {
        if (m_next != nullptr) {
            ++m_current;
        }
        if (m_current >= m_chunks.size()) {
            // calloc returns memory aligned for max_align_t (zeroed: chunks are made rarely).
            auto* data = static_cast<char*>(std::calloc(1, k_chunk_bytes));
            if (data == nullptr) {
                throw std::bad_alloc();
            }
            poison(data, k_chunk_bytes);
            m_chunks.push_back({data});
            m_current = m_chunks.size() - 1;
        }
        m_next = m_chunks[m_current].data;
        m_end = m_next + k_chunk_bytes;
        m_last = nullptr;
    }

    void release_large() {
        for (void* block : m_large) {
            std::free(block);
        }
        m_large.clear();
    }

    std::vector<Chunk> m_chunks;
    std::size_t m_current = 0;
    char* m_next = nullptr;
    char* m_end = nullptr;
    char* m_last = nullptr;
    std::vector<void*> m_large;
    std::size_t m_used = 0;
};

// Gumbo is C: nothing may unwind through it. An allocation failure inside gumbo aborts
// (gumbo has no way to report it), which is what malloc failing inside gumbo does anyway.
void* arena_allocate(void* userdata, std::size_t size) noexcept {
    try {
        return static_cast<Arena*>(userdata)->allocate(size);
    } catch (...) {
        std::abort();
    }
}

void arena_deallocate(void* userdata, void* block) noexcept {
    static_cast<Arena*>(userdata)->deallocate(block);
}

struct RelInfo {
    bool stylesheet = false;
    bool icon = false;
    bool preload = false;
    bool manifest = false;
    bool canonical = false;
    bool alternate = false;
    bool hint_only = true; // only preconnect / dns-prefetch tokens (origins, not resources)
    bool nofollow = false;
};

RelInfo parse_rel(std::string_view rel) {
    RelInfo info;
    bool any = false;
    for_each_token(rel, false, [&](std::string_view token) {
        any = true;
        const bool hint = iequals(token, "preconnect") || iequals(token, "dns-prefetch");
        info.hint_only &= hint;
        if (iequals(token, "stylesheet")) {
            info.stylesheet = true;
        } else if (iequals(token, "icon") || iequals(token, "apple-touch-icon") ||
                   iequals(token, "apple-touch-icon-precomposed") || iequals(token, "mask-icon")) {
            info.icon = true;
        } else if (iequals(token, "preload") || iequals(token, "prefetch") ||
                   iequals(token, "modulepreload")) {
            info.preload = true;
        } else if (iequals(token, "manifest")) {
            info.manifest = true;
        } else if (iequals(token, "canonical")) {
            info.canonical = true;
        } else if (iequals(token, "alternate")) {
            info.alternate = true;
        } else if (iequals(token, "nofollow")) {
            info.nofollow = true;
        }
    });
    info.hint_only &= any;
    return info;
}

const char* attribute(const GumboElement& element, const char* name) {
    const GumboVector& attributes = element.attributes;
    for (unsigned i = 0; i < attributes.length; ++i) {
        const auto* attr = static_cast<const GumboAttribute*>(attributes.data[i]);
        if (std::strcmp(attr->name, name) == 0) {
            return attr->value;
        }
    }
    return nullptr;
}

// ---- The facts-only path: a targeted scan instead of a full parse. ----
//
// It follows the HTML tokenizer far enough to find, in source order, the first <title> (its
// RCDATA content) and every <meta>, <link> and <base> start tag that the tree builder would
// make an HTML element: it skips comments, bogus comments, CDATA in foreign content, the
// contents of raw-text and RCDATA elements (script with its escaped states, style, xmp,
// iframe, noembed, noframes, textarea), <template> contents, and SVG/MathML content (where
// <title> is SVG's and <link>/<base> are foreign, but <meta> breaks out as in the spec); it
// stops at <plaintext>. The pieces are copied into a small document that gumbo then parses,
// so character references, attributes and whitespace come out exactly as in a full parse.
// Known differences from the full parse (rare, all in broken or exotic markup): HTML
// integration points inside SVG/MathML (<foreignObject>, <desc>, <mi>...) are treated as
// foreign; tags the tree builder drops (<title>/<meta> inside <select>, after <frameset>)
// are kept.

bool name_is(std::string_view name, std::string_view lower_name) {
    return iequals(name, lower_name);
}

// Index of the "</name" that ends a raw-text/RCDATA element (followed by whitespace, '/' or
// '>'), at or after pos; npos when the element runs to the end of the input.
std::size_t find_end_tag(std::string_view html, std::size_t pos, std::string_view name) {
    for (;;) {
        const std::size_t lt = html.find("</", pos);
        if (lt == std::string_view::npos) {
            return lt;
        }
        const std::size_t p = lt + 2;
        if (html.size() - p > name.size() && iequals(html.substr(p, name.size()), name)) {
            const char d = html[p + name.size()];
            if (is_ascii_space(d) || d == '/' || d == '>') {
                return lt;
            }
        }
        pos = p;
    }
}

bool starts_with_at(std::string_view html, std::size_t pos, std::string_view s) {
    return html.size() - pos >= s.size() && iequals(html.substr(pos, s.size()), s);
}

// "<script" or "</script" (with the slash when `end`) followed by whitespace, '/' or '>'.
bool script_tag_at(std::string_view html, std::size_t pos, bool end) {
    const std::string_view tag = end ? "</script" : "<script";
    if (!starts_with_at(html, pos, tag) || html.size() - pos <= tag.size()) {
        return false;
    }
    const char d = html[pos + tag.size()];
    return is_ascii_space(d) || d == '/' || d == '>';
}

// Script data with its escaped and double-escaped states; returns the index of the "</script"
// that ends the element, or npos.
std::size_t find_script_end(std::string_view html, std::size_t pos) {
    enum { data, escaped, double_escaped } state = data;
    for (;;) {
        const std::size_t i = html.find_first_of("<-", pos);
        if (i == std::string_view::npos) {
            return i;
        }
        pos = i + 1;
        if (html[i] == '-') {
            if (state != data && html.compare(i, 3, "-->") == 0) {
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

// Skips a tag's attributes following the tokenizer's attribute states, from just after the
// tag name; returns the index after the closing '>' (npos at EOF: the tag is dropped) and
// whether the tag was self-closing.
std::size_t skip_attributes(std::string_view html, std::size_t pos, bool& self_closing) {
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
    while (pos < n) {
        const char c = html[pos];
        switch (state) {
        case before_name:
        case after_name:
        case after_quoted:
            if (c == '>') {
                return pos + 1;
            }
            if (c == '/') {
                ++pos;
                if (pos < n && html[pos] == '>') {
                    self_closing = true;
                    return pos + 1;
                }
                state = before_name;
            } else if (is_ascii_space(c)) {
                ++pos;
                state = state == after_name ? after_name : before_name;
            } else if (c == '=' && state == after_name) {
                ++pos;
                state = before_value;
            } else {
                ++pos; // first character of a name, '=' included
                state = name;
            }
            break;
        case name:
            if (is_ascii_space(c)) {
                state = after_name;
            } else if (c == '/' || c == '>') {
                state = before_name;
                continue;
            } else if (c == '=') {
                state = before_value;
            }
            ++pos;
            break;
        case before_value:
            if (is_ascii_space(c)) {
                ++pos;
            } else if (c == '"' || c == '\'') {
                const std::size_t close = html.find(c, pos + 1);
                if (close == std::string_view::npos) {
                    return close;
                }
                pos = close + 1;
                state = after_quoted;
            } else if (c == '>') {
                return pos + 1;
            } else {
                state = unquoted;
            }
            break;
        case unquoted:
            if (is_ascii_space(c)) {
                state = before_name;
            } else if (c == '>') {
                return pos + 1;
            }
            ++pos;
            break;
        }
    }
    return std::string_view::npos;
}

// Start tags that end SVG/MathML content when met inside it ("breakout" tags).
bool breaks_out_of_foreign(std::string_view name) {
    static constexpr std::string_view k_tags[] = {
        "b",      "big",  "blockquote", "body",  "br",   "center", "code",    "dd",   "div",
        "dl",     "dt",   "em",         "embed", "h1",   "h2",     "h3",      "h4",   "h5",
        "h6",     "head", "hr",         "i",     "img",  "li",     "listing", "menu", "meta",
        "nobr",   "ol",   "p",          "pre",   "ruby", "s",      "small",   "span", "strong",
        "strike", "sub",  "sup",        "table", "tt",   "u",      "ul",      "var"};
    for (std::string_view tag : k_tags) {
        if (iequals(name, tag)) {
            return true;
        }
    }
    return false;
}

// Builds the small document of fact-bearing tags (see above) into `mini`.
void collect_fact_tags(std::string_view html, std::string& mini) {
    const std::size_t n = html.size();
    std::size_t pos = 0;
    int foreign = 0;   // open <svg>/<math> elements
    int templates = 0; // open <template> elements
    bool title_done = false;
    for (;;) {
        const std::size_t lt = html.find('<', pos);
        if (lt == std::string_view::npos || lt + 1 >= n) {
            return;
        }
        pos = lt + 1;
        const char c = html[pos];
        if (c == '!' || c == '?' || (c == '/' && pos + 1 < n && !is_ascii_alpha(html[pos + 1]))) {
            std::size_t end = std::string_view::npos;
            if (starts_with_at(html, pos, "!--")) {
                std::size_t p = pos + 3;
                if (p < n && html[p] == '>') {
                    end = p + 1;
                } else if (html.compare(p, 2, "->") == 0) {
                    end = p + 2;
                } else {
                    for (std::size_t d = html.find("--", p); d != std::string_view::npos;
                         d = html.find("--", d + 1)) {
                        if (html.compare(d + 2, 1, ">") == 0) {
                            end = d + 3;
                            break;
                        }
                        if (html.compare(d + 2, 2, "!>") == 0) {
                            end = d + 4;
                            break;
                        }
                    }
                }
            } else if (foreign > 0 && html.compare(pos, 8, "![CDATA[") == 0) {
                const std::size_t close = html.find("]]>", pos + 8);
                end = close == std::string_view::npos ? close : close + 3;
            } else if (c == '/' && html[pos + 1] == '>') {
                end = pos + 2; // "</>" is dropped
            } else {
                const std::size_t gt = html.find('>', pos); // bogus comment, DOCTYPE
                end = gt == std::string_view::npos ? gt : gt + 1;
            }
            if (end == std::string_view::npos) {
                return;
            }
            pos = end;
            continue;
        }
        const bool end_tag = c == '/';
        const std::size_t name_start = end_tag ? pos + 1 : pos;
        if (name_start >= n || !is_ascii_alpha(html[name_start])) {
            continue; // a '<' that is text
        }
        std::size_t name_end = name_start;
        while (name_end < n && !is_ascii_space(html[name_end]) && html[name_end] != '/' &&
               html[name_end] != '>') {
            ++name_end;
        }
        const std::string_view name = html.substr(name_start, name_end - name_start);
        bool self_closing = false;
        const std::size_t tag_end = skip_attributes(html, name_end, self_closing);
        if (tag_end == std::string_view::npos) {
            return;
        }
        pos = tag_end;
        const bool svg_or_math = name_is(name, "svg") || name_is(name, "math");
        if (end_tag) {
            if (svg_or_math && foreign > 0) {
                --foreign;
            } else if (name_is(name, "template") && templates > 0 && foreign == 0) {
                --templates;
            }
            continue;
        }
        if (foreign > 0) {
            if (!breaks_out_of_foreign(name)) {
                if (svg_or_math && !self_closing) {
                    ++foreign;
                }
                continue;
            }
            foreign = 0;
        }
        if (svg_or_math) {
            foreign = self_closing ? 0 : 1;
            continue;
        }
        if (name_is(name, "template")) {
            ++templates;
            continue;
        }
        if (name_is(name, "meta") || name_is(name, "link") || name_is(name, "base")) {
            if (templates == 0) {
                mini.append(html.substr(lt, tag_end - lt));
            }
            continue;
        }
        std::string_view raw_end_name;
        if (name_is(name, "title") || name_is(name, "textarea") || name_is(name, "style") ||
            name_is(name, "xmp") || name_is(name, "iframe") || name_is(name, "noembed") ||
            name_is(name, "noframes")) {
            raw_end_name = name;
        } else if (name_is(name, "script")) {
            const std::size_t end = find_script_end(html, pos);
            if (end == std::string_view::npos) {
                return;
            }
            pos = end;
            continue;
        } else if (name_is(name, "plaintext")) {
            return;
        } else {
            continue;
        }
        const std::size_t end = find_end_tag(html, pos, raw_end_name);
        if (name_is(name, "title") && !title_done && templates == 0) {
            title_done = true;
            mini.append("<title>");
            mini.append(html.substr(pos, end == std::string_view::npos ? n - pos : end - pos));
            mini.append("</title>");
        }
        if (end == std::string_view::npos) {
            return;
        }
        pos = end;
    }
}

} // namespace

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
    }
    return "?";
}

void parse_srcset(std::string_view srcset, std::vector<std::string_view>& urls) {
    const std::size_t n = srcset.size();
    std::size_t pos = 0;
    for (;;) {
        while (pos < n && (is_ascii_space(srcset[pos]) || srcset[pos] == ',')) {
            ++pos;
        }
        if (pos >= n) {
            return;
        }
        const std::size_t url_start = pos;
        while (pos < n && !is_ascii_space(srcset[pos])) {
            ++pos;
        }
        std::string_view url = srcset.substr(url_start, pos - url_start);
        std::array<std::string_view, 4> descriptors;
        std::size_t count = 0;
        const auto add = [&](std::size_t start, std::size_t end) {
            if (end > start) {
                if (count < descriptors.size()) {
                    descriptors[count] = srcset.substr(start, end - start);
                }
                ++count;
            }
        };
        if (url.back() == ',') {
            while (!url.empty() && url.back() == ',') {
                url.remove_suffix(1);
            }
        } else {
            // Descriptor tokenizer: a descriptor is a contiguous run, so keep its start.
            enum { in_descriptor, in_parens, after_descriptor } state = in_descriptor;
            while (pos < n && is_ascii_space(srcset[pos])) {
                ++pos;
            }
            std::size_t start = pos;
            for (bool done = false; !done;) {
                if (pos >= n) {
                    if (state != after_descriptor) {
                        add(start, pos);
                    }
                    break;
                }
                const char c = srcset[pos];
                switch (state) {
                case in_descriptor:
                    if (is_ascii_space(c)) {
                        add(start, pos);
                        state = after_descriptor;
                    } else if (c == ',') {
                        add(start, pos);
                        done = true;
                    } else if (c == '(') {
                        state = in_parens;
                    }
                    ++pos;
                    break;
                case in_parens:
                    if (c == ')') {
                        state = in_descriptor;
                    }
                    ++pos;
                    break;
                case after_descriptor:
                    if (is_ascii_space(c)) {
                        ++pos;
                    } else {
                        state = in_descriptor; // reconsume c in the descriptor state
                        start = pos;
                    }
                    break;
                }
            }
        }
        if (!url.empty() && srcset_descriptors_valid(descriptors, count)) {
            urls.push_back(url);
        }
    }
}

std::string_view parse_refresh_url(std::string_view content) {
    const std::size_t n = content.size();
    std::size_t pos = 0;
    const auto skip_spaces = [&] {
        while (pos < n && is_ascii_space(content[pos])) {
            ++pos;
        }
    };
    skip_spaces();
    const std::size_t time_start = pos;
    while (pos < n && is_ascii_digit(content[pos])) {
        ++pos;
    }
    if (pos == time_start && (pos >= n || content[pos] != '.')) {
        return {};
    }
    while (pos < n && (is_ascii_digit(content[pos]) || content[pos] == '.')) {
        ++pos;
    }
    if (pos < n) {
        const char c = content[pos];
        if (c != ';' && c != ',' && !is_ascii_space(c)) {
            return {};
        }
        skip_spaces();
        if (pos < n && (content[pos] == ';' || content[pos] == ',')) {
            ++pos;
        }
        skip_spaces();
    }
    if (pos >= n) {
        return {};
    }
    std::string_view url = content.substr(pos);
    bool skip_quotes = false;
    if (util::to_lower(content[pos]) == 'u') {
        ++pos;
        if (pos < n && util::to_lower(content[pos]) == 'r') {
            ++pos;
            if (pos < n && util::to_lower(content[pos]) == 'l') {
                ++pos;
                skip_spaces();
                if (pos < n && content[pos] == '=') {
                    ++pos;
                    skip_spaces();
                    skip_quotes = true;
                }
            }
        }
    } else {
        skip_quotes = true;
    }
    if (skip_quotes) {
        char quote = 0;
        if (pos < n && (content[pos] == '\'' || content[pos] == '"')) {
            quote = content[pos];
            ++pos;
        }
        url = content.substr(pos);
        if (quote != 0) {
            url = url.substr(0, url.find(quote));
        }
    }
    return util::trim(url);
}

struct LinkExtractor::Impl {
    explicit Impl(ExtractorOptions opts)
        : options(std::move(opts)) {
        gumbo_options = kGumboDefaultOptions;
        if (!options.record_parse_errors) {
            gumbo_options.max_errors = 0;
        }
        if (options.arena) {
            gumbo_options.allocator = arena_allocate;
            gumbo_options.deallocator = arena_deallocate;
            gumbo_options.userdata = &arena;
        }
    }
    ~Impl() { release_output(); }

    void release_output() {
        // Arena mode: every block of the tree came from the arena, so the arena reset frees it
        // (gumbo allocates through GumboOptions only; its own malloc/free are the defaults).
        if (output != nullptr && !options.arena) {
            gumbo_destroy_output(&gumbo_options, output);
        }
        output = nullptr;
    }

    const PageLinks& run(std::string_view html, bool want_links) {
        if (!want_links && options.facts_scan) {
            // Parse only the fact-bearing tags; `mini` outlives the parse like the page does.
            mini.clear();
            collect_fact_tags(html, mini);
            html = mini;
        }
        release_output();
        arena.reset();
        page.links.clear();
        page.title = {};
        page.base_href = {};
        page.canonical = {};
        page.has_base = false;
        page.noindex = false;
        page.nofollow = false;
        title_found = false;
        // gumbo takes at most 4 GiB; pages that size never reach here (fetch limits).
        const std::size_t length =
            std::min<std::size_t>(html.size(), std::numeric_limits<unsigned>::max());
        output = gumbo_parse_with_options(&gumbo_options, html.empty() ? "" : html.data(), length);
        walk(want_links);
        return page;
    }

    void add(std::string_view raw, LinkKind kind, bool requisite, std::string_view rel = {},
             bool nofollow = false) {
        const std::string_view url = util::trim(raw);
        if (!url.empty()) {
            page.links.push_back(Link{url, rel, kind, requisite, nofollow});
        }
    }

    void add_attr(const GumboElement& element, const char* name, LinkKind kind, bool requisite) {
        if (const char* value = attribute(element, name)) {
            add(value, kind, requisite);
        }
    }

    void add_srcset(const GumboElement& element) {
        if (const char* value = attribute(element, "srcset")) {
            srcset_urls.clear();
            parse_srcset(value, srcset_urls);
            for (std::string_view url : srcset_urls) {
                add(url, LinkKind::image, true);
            }
        }
    }

    void set_title(const GumboElement& element) {
        title_found = true;
        title_buffer.clear();
        bool pending_space = false;
        bool truncated = false;
        for (unsigned i = 0; i < element.children.length && !truncated; ++i) {
            const auto* child = static_cast<const GumboNode*>(element.children.data[i]);
            if (child->type != GUMBO_NODE_TEXT && child->type != GUMBO_NODE_WHITESPACE &&
                child->type != GUMBO_NODE_CDATA) {
                continue;
            }
            for (const char* p = child->v.text.text; *p != '\0'; ++p) {
                if (is_ascii_space(*p)) {
                    pending_space = !title_buffer.empty();
                    continue;
                }
                if (pending_space) {
                    title_buffer.push_back(' ');
                    pending_space = false;
                }
                if (title_buffer.size() >= options.max_title_bytes) {
                    truncated = true;
                    break;
                }
                title_buffer.push_back(*p);
            }
        }
        if (truncated) {
            // Cut before a UTF-8 sequence the limit split, then drop a trailing space.
            std::size_t end = title_buffer.size();
            std::size_t lead = end;
            while (lead > 0 &&
                   (static_cast<unsigned char>(title_buffer[lead - 1]) & 0xC0) == 0x80) {
                --lead;
            }
            if (lead > 0) {
                const auto c = static_cast<unsigned char>(title_buffer[lead - 1]);
                const std::size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                if (end - (lead - 1) < want) {
                    end = lead - 1;
                }
            }
            title_buffer.resize(end);
            while (!title_buffer.empty() && title_buffer.back() == ' ') {
                title_buffer.pop_back();
            }
        }
        page.title = title_buffer;
    }

    void on_meta(const GumboElement& element, bool want_links) {
        const char* name = attribute(element, "name");
        const char* http_equiv = attribute(element, "http-equiv");
        const char* content = attribute(element, "content");
        if (content == nullptr) {
            return;
        }
        if (name != nullptr) {
            const std::string_view n = util::trim(name);
            if (iequals(n, "robots") || iequals(n, options.agent_token)) {
                apply_robots_directives(content, page.noindex, page.nofollow);
            }
        }
        if (want_links && http_equiv != nullptr && iequals(util::trim(http_equiv), "refresh")) {
            add(parse_refresh_url(content), LinkKind::refresh, false);
        }
    }

    void on_link(const GumboElement& element, bool want_links) {
        const char* href = attribute(element, "href");
        if (href == nullptr) {
            return;
        }
        const char* rel_value = attribute(element, "rel");
        const std::string_view rel = rel_value != nullptr ? rel_value : "";
        const RelInfo info = parse_rel(rel);
        if (info.canonical && page.canonical.empty()) {
            page.canonical = util::trim(href);
        }
        if (!want_links || info.hint_only) {
            return;
        }
        LinkKind kind = LinkKind::other_link;
        bool requisite = true;
        if (info.stylesheet) {
            kind = LinkKind::stylesheet;
        } else if (info.icon) {
            kind = LinkKind::icon;
        } else if (info.preload) {
            kind = LinkKind::preload;
        } else if (info.manifest) {
            kind = LinkKind::other_link;
        } else {
            requisite = false;
            kind = info.canonical   ? LinkKind::canonical
                   : info.alternate ? LinkKind::alternate
                                    : LinkKind::other_link;
        }
        add(href, kind, requisite, rel, info.nofollow);
    }

    void on_element(const GumboElement& element, bool is_parser_copy, bool want_links) {
        switch (element.tag) {
        case GUMBO_TAG_TITLE:
            if (!title_found) {
                set_title(element);
            }
            return;
        case GUMBO_TAG_BASE:
            if (!page.has_base) {
                if (const char* href = attribute(element, "href")) {
                    page.has_base = true;
                    page.base_href = util::trim(href);
                }
            }
            return;
        case GUMBO_TAG_META:
            on_meta(element, want_links);
            return;
        case GUMBO_TAG_LINK:
            on_link(element, want_links);
            return;
        default:
            break;
        }
        if (!want_links) {
            return;
        }
        switch (element.tag) {
        case GUMBO_TAG_A:
        case GUMBO_TAG_AREA:
            // The parser clones an unclosed <a> when it reopens formatting elements: one
            // link in the source, one Link out.
            if (is_parser_copy) {
                break;
            }
            if (const char* href = attribute(element, "href")) {
                const char* rel = attribute(element, "rel");
                add(href, LinkKind::anchor, false, rel != nullptr ? rel : "",
                    rel != nullptr && parse_rel(rel).nofollow);
            }
            break;
        case GUMBO_TAG_IMG:
            add_attr(element, "src", LinkKind::image, true);
            add_srcset(element);
            break;
        case GUMBO_TAG_SOURCE:
            add_attr(element, "src", LinkKind::media, true);
            add_srcset(element);
            break;
        case GUMBO_TAG_SCRIPT:
            add_attr(element, "src", LinkKind::script, true);
            break;
        case GUMBO_TAG_IFRAME:
        case GUMBO_TAG_FRAME:
            add_attr(element, "src", LinkKind::frame, false);
            break;
        case GUMBO_TAG_EMBED:
            add_attr(element, "src", LinkKind::embed, true);
            break;
        case GUMBO_TAG_OBJECT:
            add_attr(element, "data", LinkKind::object, true);
            break;
        case GUMBO_TAG_VIDEO:
            add_attr(element, "src", LinkKind::media, true);
            add_attr(element, "poster", LinkKind::image, true);
            break;
        case GUMBO_TAG_AUDIO:
        case GUMBO_TAG_TRACK:
            add_attr(element, "src", LinkKind::media, true);
            break;
        case GUMBO_TAG_INPUT:
            if (const char* type = attribute(element, "type");
                type != nullptr && iequals(util::trim(type), "image")) {
                add_attr(element, "src", LinkKind::image, true);
            }
            break;
        default:
            break;
        }
    }

    // Iterative pre-order walk (document order) with an explicit stack: no recursion, so any
    // nesting depth is fine. <template> contents are inert and skipped; so is foreign content
    // (SVG, MathML) whose elements are not HTML's.
    void walk(bool want_links) {
        stack.clear();
        stack.push_back(output->document);
        while (!stack.empty()) {
            const GumboNode* node = stack.back();
            stack.pop_back();
            const GumboVector* children = nullptr;
            if (node->type == GUMBO_NODE_DOCUMENT) {
                children = &node->v.document.children;
            } else if (node->type == GUMBO_NODE_ELEMENT) {
                if (node->v.element.tag_namespace == GUMBO_NAMESPACE_HTML) {
                    constexpr unsigned k_copy = GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT |
                                                GUMBO_INSERTION_ADOPTION_AGENCY_CLONED;
                    on_element(node->v.element, (node->parse_flags & k_copy) != 0, want_links);
                }
                children = &node->v.element.children;
            } else {
                continue;
            }
            for (unsigned i = children->length; i > 0; --i) {
                const auto* child = static_cast<const GumboNode*>(children->data[i - 1]);
                if (child->type == GUMBO_NODE_ELEMENT || child->type == GUMBO_NODE_DOCUMENT) {
                    stack.push_back(child);
                }
            }
        }
    }

    ExtractorOptions options;
    Arena arena;
    GumboOptions gumbo_options{};
    GumboOutput* output = nullptr;
    PageLinks page;
    bool title_found = false;
    std::string title_buffer;
    std::vector<const GumboNode*> stack;
    std::vector<std::string_view> srcset_urls;
    std::string mini;
};

LinkExtractor::LinkExtractor(ExtractorOptions options)
    : m_impl(std::make_unique<Impl>(std::move(options))) {}

LinkExtractor::~LinkExtractor() = default;

const PageLinks& LinkExtractor::extract(std::string_view html) {
    return m_impl->run(html, true);
}

const PageLinks& LinkExtractor::extract_facts(std::string_view html) {
    return m_impl->run(html, false);
}

std::size_t LinkExtractor::last_arena_bytes() const {
    return m_impl->arena.used();
}

void apply_robots_directives(std::string_view tokens, bool& noindex, bool& nofollow) noexcept {
    for_each_token(tokens, true, [&](std::string_view token) {
        if (iequals(token, "noindex")) {
            noindex = true;
        } else if (iequals(token, "nofollow")) {
            nofollow = true;
        } else if (iequals(token, "none")) {
            noindex = nofollow = true;
        }
    });
}

} // namespace flagcrawl::crawler
