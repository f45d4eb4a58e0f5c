#include "crawler/mirror/convert.hpp"

#include "crawler/html/links.hpp"
#include "util/ascii.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

namespace flagcrawl::crawler {
namespace {

bool is_html_type(std::string_view type) {
    type = util::trim(type);
    return util::iequals_prefix(type, "text/html") ||
           util::iequals_prefix(type, "application/xhtml+xml");
}

bool is_css_type(std::string_view type) {
    return util::iequals_prefix(util::trim(type), "text/css");
}

// Inside an HTML attribute value (quoted or not) the reference must not end it or start a
// character reference.
std::string for_html(std::string_view reference) {
    std::string out;
    for (char c : reference) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '"') {
            out += "&quot;";
        } else if (c == '\'') {
            out += "&#39;";
        } else {
            out += c;
        }
    }
    return out;
}

bool read_whole(const std::filesystem::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    out = std::move(s).str();
    return !in.bad();
}

struct Edit {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::string text;
};

} // namespace

void MirrorIndex::add_file(SavedFile file) {
    auto url = parse(file.url);
    if (!url) {
        return;
    }
    m_paths[std::string(url->href_without_fragment())] = mirror_path(*url);
    m_files.push_back(std::move(file));
}

void MirrorIndex::add_redirect(const std::string& from, const std::string& to) {
    m_redirects[from] = to;
}

const std::string* MirrorIndex::path_of(const std::string& url) const {
    const std::string* at = &url;
    for (int hops = 0; hops <= 10; ++hops) {
        if (auto found = m_paths.find(*at); found != m_paths.end()) {
            return &found->second;
        }
        auto next = m_redirects.find(*at);
        if (next == m_redirects.end()) {
            return nullptr;
        }
        at = &next->second;
    }
    return nullptr;
}

std::string relative_reference(std::string_view from, std::string_view to) {
    // The common folders of the two paths.
    std::size_t common = 0;
    for (std::size_t i = 0; i < from.size() && i < to.size() && from[i] == to[i]; ++i) {
        if (from[i] == '/') {
            common = i + 1;
        }
    }
    std::string out;
    for (std::size_t i = common; i < from.size(); ++i) {
        if (from[i] == '/') {
            out += "../";
        }
    }
    static constexpr char k_hex[] = "0123456789ABCDEF";
    for (std::size_t i = common; i < to.size(); ++i) {
        const auto c = static_cast<unsigned char>(to[i]);
        if (util::is_ascii_alnum(static_cast<char>(c)) || c == '/' ||
            std::string_view("-._~!$*+,;=:@").find(static_cast<char>(c)) !=
                std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    // A first segment with a ':' would read as a scheme ("127.0.0.1:8000/..."): "./" first.
    const auto colon = out.find(':');
    if (colon != std::string::npos && colon < out.find('/')) {
        out.insert(0, "./");
    }
    return out;
}

ConvertTotals convert_links(MirrorWriter& writer, const MirrorIndex& index) {
    ConvertTotals totals;
    auto fail = [&totals](std::string reason) {
        if (totals.failed++ == 0) {
            totals.first_error = std::move(reason);
        }
    };
    ExtractorOptions options;
    options.css = true;
    LinkExtractor extractor(options);
    // URLs that share one file (http://h/ and http://h/index.html, http://h/d/ and
    // http://h/d/index.html: same folder, so their links resolve alike) are converted once: a
    // second pass would read the links the first wrote, relative to the file, as the site's.
    std::unordered_set<std::string> converted;
    for (const SavedFile& file : index.files()) {
        const bool html = is_html_type(file.content_type);
        if (!html && !is_css_type(file.content_type)) {
            continue;
        }
        auto page_url = parse(file.url);
        if (!page_url) {
            continue;
        }
        const std::string path = mirror_path(*page_url);
        if (!converted.insert(path).second) {
            continue;
        }
        std::string text;
        if (!read_whole(writer.root() / path, text)) {
            fail("cannot read " + (writer.root() / path).string());
            continue;
        }
        const PageLinks& page =
            html ? extractor.extract(text, file.content_type) : extractor.extract_css(text);
        if (!page.decoded_text.empty()) {
            ++totals.skipped; // the spans index a converted text, not the file
            continue;
        }
        std::optional<Url> base_from_tag;
        if (page.has_base && !page.base_href.empty()) {
            if (auto b = parse(page.base_href, &*page_url); b && !b->has_opaque_path()) {
                base_from_tag = std::move(*b);
            }
        }
        const Url& base = base_from_tag ? *base_from_tag : *page_url;
        // Links sharing one inexact span (a srcset written with references) cannot be
        // rewritten one by one: left as they are.
        std::map<std::pair<std::uint32_t, std::uint32_t>, int> per_span;
        for (const Link& link : page.links) {
            ++per_span[{link.source.begin, link.source.end}];
        }
        std::vector<Edit> edits;
        for (const Link& link : page.links) {
            if (link.source.end <= link.source.begin || link.source.end > text.size() ||
                (!link.source_exact && per_span[{link.source.begin, link.source.end}] > 1)) {
                continue;
            }
            auto target = parse(link.url, &base);
            if (!target || !target->is_http()) {
                continue;
            }
            std::string reference;
            if (const std::string* local =
                    index.path_of(std::string(target->href_without_fragment()))) {
                reference = relative_reference(path, *local);
                if (target->has_fragment()) {
                    reference += "#";
                    reference += target->fragment();
                }
                ++totals.local;
            } else {
                reference = std::string(target->href());
                ++totals.absolute;
            }
            edits.push_back({link.source.begin, link.source.end,
                             html ? for_html(reference) : std::move(reference)});
        }
        std::sort(edits.begin(), edits.end(),
                  [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
        std::string out;
        out.reserve(text.size() + text.size() / 8);
        std::uint32_t at = 0;
        for (const Edit& e : edits) {
            if (e.begin < at) {
                continue; // overlapping: the first one wins
            }
            out.append(text, at, e.begin - at);
            out += e.text;
            at = e.end;
        }
        out.append(text, at, std::string::npos);
        if (auto error = writer.save(path, out); !error.empty()) {
            fail(std::move(error));
            continue;
        }
        ++totals.files;
    }
    return totals;
}

} // namespace flagcrawl::crawler
