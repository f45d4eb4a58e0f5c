#include "crawler/jobs/url_list.hpp"

#include "crawler/jobs/file_names.hpp"
#include "util/ascii.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace flagcrawl::crawler {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";

bool is_space(char c) {
    return util::is_ascii_space(c) || c == '\v';
}

} // namespace

std::string check_list_name(std::string_view name) {
    if (name.empty()) {
        return "an empty file name";
    }
    if (name.front() == '/') {
        return fmt::format("'{}' is an absolute path (names are relative to the output folder)",
                           name);
    }
    std::string_view rest = name;
    while (true) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            return fmt::format("'{}' has an empty, '.' or '..' segment", name);
        }
        if (segment.front() == '.') {
            return fmt::format("'{}' names a hidden file (a segment starts with '.')", name);
        }
        if (segment.size() > k_max_file_name) {
            return fmt::format("'{}' has a segment longer than {} bytes", name, k_max_file_name);
        }
        for (char c : segment) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7F) {
                return fmt::format("the name has a control character (byte {:#04x})", u);
            }
        }
        if (slash == std::string_view::npos) {
            return {};
        }
        rest.remove_prefix(slash + 1);
    }
}

UrlListReader::UrlListReader(std::istream& in, std::string source)
    : m_in(in)
    , m_source(std::move(source)) {}

std::optional<ListLine> UrlListReader::next() {
    while (std::getline(m_in, m_text)) {
        ++m_line;
        std::string_view text = m_text;
        if (m_line == 1 && text.starts_with(k_bom)) {
            text.remove_prefix(k_bom.size());
        }
        while (!text.empty() && is_space(text.front())) {
            text.remove_prefix(1);
        }
        while (!text.empty() && is_space(text.back())) {
            text.remove_suffix(1);
        }
        if (text.empty() || text.front() == '#') {
            continue;
        }

        ListLine out;
        out.line = m_line;
        const auto tab = text.find('\t');
        std::string_view url = text.substr(0, tab);
        while (!url.empty() && is_space(url.back())) {
            url.remove_suffix(1);
        }
        out.url = url;
        auto fail = [&](const std::string& why) {
            out.error = fmt::format("{}:{}: {}", m_source, m_line, why);
            return out;
        };
        if (tab != std::string_view::npos) {
            std::string_view name = text.substr(tab + 1);
            while (!name.empty() && is_space(name.front())) {
                name.remove_prefix(1);
            }
            if (name.find('\t') != std::string_view::npos) {
                return fail("more than one TAB (expected URL<TAB>NAME)");
            }
            out.name = name;
        }
        if (std::find_if(url.begin(), url.end(), is_space) != url.end()) {
            return fail(fmt::format("a space inside the URL '{}' (write a space in a URL as %20; "
                                    "a file name goes after a TAB)",
                                    url));
        }
        if (tab != std::string_view::npos) {
            if (std::string why = check_list_name(out.name); !why.empty()) {
                return fail(why);
            }
        }
        return out;
    }
    return std::nullopt;
}

} // namespace flagcrawl::crawler
