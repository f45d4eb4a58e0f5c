#include "crawler/links.hpp"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace flagcrawl::crawler {
namespace {

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && is_ascii_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ascii_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

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
    if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) {
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
    while (i < s.size() && is_digit(s[i])) {
        non_zero |= s[i] != '0';
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t fraction = 0;
        while (i < s.size() && is_digit(s[i])) {
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
        while (i < s.size() && is_digit(s[i])) {
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
            std::free(chunk.data);
        }
    }

    void* allocate(std::size_t size) {
        size = size == 0 ? k_align : (size + k_align - 1) & ~(k_align - 1);
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
        return m_last;
    }

    void deallocate(void* block) {
        if (block == nullptr) {
            return;
        }
        if (block == m_last) {
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
            std::free(m_chunks.back().data);
            m_chunks.pop_back();
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
            // std::malloc returns memory aligned for max_align_t.
            auto* data = static_cast<char*>(std::malloc(k_chunk_bytes));
            if (data == nullptr) {
                throw std::bad_alloc();
            }
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
    while (pos < n && is_digit(content[pos])) {
        ++pos;
    }
    if (pos == time_start && (pos >= n || content[pos] != '.')) {
        return {};
    }
    while (pos < n && (is_digit(content[pos]) || content[pos] == '.')) {
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
    if (lower(content[pos]) == 'u') {
        ++pos;
        if (pos < n && lower(content[pos]) == 'r') {
            ++pos;
            if (pos < n && lower(content[pos]) == 'l') {
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
    return trim_spaces(url);
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
        const std::string_view url = trim_spaces(raw);
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
            const std::string_view n = trim_spaces(name);
            if (iequals(n, "robots") || iequals(n, options.agent_token)) {
                for_each_token(content, true, [&](std::string_view token) {
                    if (iequals(token, "noindex")) {
                        page.noindex = true;
                    } else if (iequals(token, "nofollow")) {
                        page.nofollow = true;
                    } else if (iequals(token, "none")) {
                        page.noindex = page.nofollow = true;
                    }
                });
            }
        }
        if (want_links && http_equiv != nullptr && iequals(trim_spaces(http_equiv), "refresh")) {
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
            page.canonical = trim_spaces(href);
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
                    page.base_href = trim_spaces(href);
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
                type != nullptr && iequals(trim_spaces(type), "image")) {
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

} // namespace flagcrawl::crawler
