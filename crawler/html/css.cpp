#include "crawler/html/css.hpp"

#include "crawler/html/text.hpp"
#include "util/ascii.hpp"
#include "util/percent.hpp"
#include "util/utf8.hpp"

namespace flagcrawl::crawler {
namespace {

bool is_hex(char c) {
    return util::hex_value(c) >= 0;
}

// A name code point of CSS (letters, digits, '-', '_', non-ASCII), or an escape's backslash.
bool is_name_char(char c) {
    return util::is_ascii_alnum(c) || c == '-' || c == '_' || c == '\\' ||
           static_cast<unsigned char>(c) >= 0x80;
}

bool is_css_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Resolves the escapes of `raw` (a string's or url token's content) into `out`.
void unescape(std::string_view raw, std::string& out) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 >= raw.size()) {
            out.push_back(raw[i]);
            continue;
        }
        ++i;
        if (raw[i] == '\n' || raw[i] == '\r' || raw[i] == '\f') {
            continue; // an escaped newline in a string is nothing
        }
        if (!is_hex(raw[i])) {
            out.push_back(raw[i]);
            continue;
        }
        char32_t cp = 0;
        std::size_t digits = 0;
        while (i < raw.size() && digits < 6 && is_hex(raw[i])) {
            cp = cp * 16 + static_cast<char32_t>(util::hex_value(raw[i]));
            ++i;
            ++digits;
        }
        if (i < raw.size() && is_css_space(raw[i])) {
            ++i; // one whitespace after a hex escape belongs to it
        }
        --i;
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            cp = 0xFFFD;
        }
        util::append_utf8(out, cp);
    }
}

// A quoted string starting at css[i] (the quote); returns the index after it and its raw
// content (without quotes). An unescaped newline ends a bad string: `ok` false.
std::size_t read_string(std::string_view css, std::size_t i, std::string_view& content, bool& ok) {
    const char quote = css[i];
    const std::size_t start = i + 1;
    std::size_t p = start;
    ok = true;
    while (p < css.size()) {
        const char c = css[p];
        if (c == quote) {
            content = css.substr(start, p - start);
            return p + 1;
        }
        if (c == '\n' || c == '\r' || c == '\f') {
            ok = false;
            content = css.substr(start, p - start);
            return p;
        }
        p += c == '\\' ? 2 : 1;
    }
    content = css.substr(start, std::min(p, css.size()) - start); // EOF ends the string
    return css.size();
}

// The index after the escape whose backslash is at css[p]: up to six hex digits and one
// whitespace after them, or the one escaped character.
std::size_t skip_escape(std::string_view css, std::size_t p) {
    ++p;
    if (p >= css.size()) {
        return p;
    }
    if (!is_hex(css[p])) {
        return p + 1;
    }
    std::size_t digits = 0;
    while (p < css.size() && digits < 6 && is_hex(css[p])) {
        ++p;
        ++digits;
    }
    if (p < css.size() && is_css_space(css[p])) {
        ++p;
    }
    return p;
}

std::size_t skip_space_and_comments(std::string_view css, std::size_t i) {
    for (;;) {
        while (i < css.size() && is_css_space(css[i])) {
            ++i;
        }
        if (css.compare(i, 2, "/*") != 0) {
            return i;
        }
        const std::size_t end = css.find("*/", i + 2);
        i = end == std::string_view::npos ? css.size() : end + 2;
    }
}

class Scan {
public:
    Scan(std::string_view css, std::uint32_t offset, std::vector<CssUrl>& urls,
         std::deque<std::string>& storage)
        : m_css(css)
        , m_offset(offset)
        , m_urls(urls)
        , m_storage(storage) {}

    void run() {
        std::size_t i = 0;
        const std::size_t n = m_css.size();
        while (i < n) {
            const char c = m_css[i];
            if (c == '/' && i + 1 < n && m_css[i + 1] == '*') {
                const std::size_t end = m_css.find("*/", i + 2);
                i = end == std::string_view::npos ? n : end + 2;
            } else if (c == '"' || c == '\'') {
                std::string_view content;
                bool ok = true;
                i = read_string(m_css, i, content, ok);
            } else if (c == '\\') {
                i += 2;
            } else if (c == '@' && util::iequals(m_css.substr(i + 1, 6), "import") &&
                       (i + 7 >= n || !is_name_char(m_css[i + 7]))) {
                i = import_rule(i + 7);
            } else if ((c == 'u' || c == 'U') && (i == 0 || !is_name_char(m_css[i - 1])) &&
                       i + 4 <= n && util::iequals(m_css.substr(i, 4), "url(")) {
                i = url_function(i + 4, false);
            } else if (is_name_char(c)) {
                while (i < n && is_name_char(m_css[i])) {
                    i += m_css[i] == '\\' ? 2 : 1;
                }
            } else {
                ++i;
            }
        }
    }

private:
    std::size_t import_rule(std::size_t i) {
        i = skip_space_and_comments(m_css, i);
        if (i >= m_css.size()) {
            return i;
        }
        if (m_css[i] == '"' || m_css[i] == '\'') {
            std::string_view content;
            bool ok = true;
            const std::size_t end = read_string(m_css, i, content, ok);
            if (ok) {
                add(content, true);
            }
            return end;
        }
        if (i + 4 <= m_css.size() && util::iequals(m_css.substr(i, 4), "url(")) {
            return url_function(i + 4, true);
        }
        return i;
    }

    // After "url(": a quoted argument (a function) or an unquoted url token.
    std::size_t url_function(std::size_t i, bool import) {
        const std::size_t n = m_css.size();
        std::size_t p = i;
        while (p < n && is_css_space(m_css[p])) {
            ++p;
        }
        if (p < n && (m_css[p] == '"' || m_css[p] == '\'')) {
            std::string_view content;
            bool ok = true;
            const std::size_t end = read_string(m_css, p, content, ok);
            if (ok) {
                add(content, import);
            }
            return end;
        }
        const std::size_t start = p;
        while (p < n && m_css[p] != ')') {
            const char c = m_css[p];
            if (c == '"' || c == '\'' || c == '(' || static_cast<unsigned char>(c) < 0x20 ||
                c == 0x7F) {
                if (!is_css_space(c)) {
                    return skip_bad_url(p);
                }
            }
            if (is_css_space(c)) {
                std::size_t q = p;
                while (q < n && is_css_space(m_css[q])) {
                    ++q;
                }
                if (q < n && m_css[q] != ')') {
                    return skip_bad_url(q);
                }
                add(m_css.substr(start, p - start), import);
                return q < n ? q + 1 : n;
            }
            p = c == '\\' ? skip_escape(m_css, p) : p + 1;
        }
        add(m_css.substr(start, std::min(p, n) - start), import);
        return p < n ? p + 1 : n;
    }

    // The rest of a bad url token: up to the ')' that ends it (escapes skipped).
    std::size_t skip_bad_url(std::size_t p) {
        while (p < m_css.size() && m_css[p] != ')') {
            p = m_css[p] == '\\' ? skip_escape(m_css, p) : p + 1;
        }
        return p < m_css.size() ? p + 1 : m_css.size();
    }

    void add(std::string_view raw, bool import) {
        const auto begin = static_cast<std::uint32_t>(raw.data() - m_css.data()) + m_offset;
        const SourceSpan whole{begin, begin + static_cast<std::uint32_t>(raw.size())};
        if (raw.find('\\') == std::string_view::npos) {
            const std::string_view url = util::trim(raw);
            if (url.empty()) {
                return;
            }
            const auto at = begin + static_cast<std::uint32_t>(url.data() - raw.data());
            m_urls.push_back(
                {url, {at, at + static_cast<std::uint32_t>(url.size())}, true, import});
            return;
        }
        std::string& decoded = m_storage.emplace_back();
        unescape(raw, decoded);
        const std::string_view url = util::trim(decoded);
        if (!url.empty()) {
            m_urls.push_back({url, whole, false, import});
        }
    }

    std::string_view m_css;
    std::uint32_t m_offset;
    std::vector<CssUrl>& m_urls;
    std::deque<std::string>& m_storage;
};

} // namespace

void extract_css_urls(std::string_view css, std::uint32_t offset, std::vector<CssUrl>& urls,
                      std::deque<std::string>& storage) {
    Scan(css, offset, urls, storage).run();
}

} // namespace flagcrawl::crawler
