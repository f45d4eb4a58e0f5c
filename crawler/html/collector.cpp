#include "crawler/html/collector.hpp"

namespace flagcrawl::crawler::html_detail {

void Collector::start(PageLinks& page, const ExtractorOptions& options, bool want_links) {
    m_page = &page;
    m_options = &options;
    m_want_links = want_links;
    page.links.clear();
    page.title = {};
    page.base_href = {};
    page.canonical = {};
    page.has_base = false;
    page.noindex = false;
    page.nofollow = false;
    page.too_complex = false;
    m_title_found = false;
    m_title_space = false;
    m_title_full = false;
    m_title.clear();
    m_css_storage.clear();
}

void Collector::style_text(std::string_view css, std::uint32_t offset) {
    m_css_urls.clear();
    extract_css_urls(css, offset, m_css_urls, m_css_storage);
    for (const CssUrl& u : m_css_urls) {
        m_page->links.push_back(Link{u.url,
                                     {},
                                     u.import ? LinkKind::stylesheet : LinkKind::css_url,
                                     true,
                                     false,
                                     u.source,
                                     u.source_exact});
    }
}

void Collector::style_attribute(const AttrValue& value) {
    m_css_urls.clear();
    extract_css_urls(value.value, value.raw.begin, m_css_urls, m_css_storage);
    for (const CssUrl& u : m_css_urls) {
        const bool exact = value.exact && u.source_exact;
        m_page->links.push_back(Link{u.url,
                                     {},
                                     u.import ? LinkKind::stylesheet : LinkKind::css_url,
                                     true,
                                     false,
                                     exact ? u.source : value.raw,
                                     exact});
    }
}

void Collector::title_piece(std::string_view text) {
    m_title_found = true;
    std::size_t i = 0;
    while (i < text.size() && !m_title_full) {
        if (util::is_ascii_space(text[i])) {
            m_title_space = !m_title.empty();
            ++i;
            continue;
        }
        std::size_t word_end = i + 1;
        while (word_end < text.size() && !util::is_ascii_space(text[word_end])) {
            ++word_end;
        }
        if (m_title_space) {
            m_title.push_back(' ');
            m_title_space = false;
        }
        // Up to max_title_bytes; title_end() cuts a UTF-8 sequence the limit splits.
        const std::size_t room = m_options->max_title_bytes > m_title.size()
                                     ? m_options->max_title_bytes - m_title.size()
                                     : 0;
        if (word_end - i > room) {
            m_title.append(text.substr(i, room));
            m_title_full = true;
            return;
        }
        m_title.append(text.substr(i, word_end - i));
        i = word_end;
    }
}

void Collector::title_end() {
    m_title_found = true;
    if (m_title_full) {
        // Cut before a UTF-8 sequence the limit split, then drop a trailing space.
        std::size_t end = m_title.size();
        std::size_t lead = end;
        while (lead > 0 && (static_cast<unsigned char>(m_title[lead - 1]) & 0xC0) == 0x80) {
            --lead;
        }
        if (lead > 0) {
            const auto c = static_cast<unsigned char>(m_title[lead - 1]);
            const std::size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (end - (lead - 1) < want) {
                end = lead - 1;
            }
        }
        m_title.resize(end);
        while (!m_title.empty() && m_title.back() == ' ') {
            m_title.pop_back();
        }
    }
    m_page->title = m_title;
}

void Collector::add(const AttrValue& value, std::string_view url, LinkKind kind, bool requisite,
                    std::string_view rel, bool nofollow) {
    url = util::trim(url);
    if (url.empty()) {
        return;
    }
    Link link{url, rel, kind, requisite, nofollow, value.raw, value.exact};
    if (value.exact) {
        const auto offset = static_cast<std::uint32_t>(url.data() - value.value.data());
        link.source = {value.raw.begin + offset,
                       value.raw.begin + offset + static_cast<std::uint32_t>(url.size())};
    }
    m_page->links.push_back(link);
}

void Collector::add_srcset(const std::optional<AttrValue>& value) {
    if (!value) {
        return;
    }
    m_srcset.clear();
    parse_srcset(value->value, m_srcset);
    for (std::string_view url : m_srcset) {
        add(*value, url, LinkKind::image, true);
    }
}

void Collector::on_meta(const std::optional<AttrValue>& name,
                        const std::optional<AttrValue>& http_equiv,
                        const std::optional<AttrValue>& content) {
    if (!content) {
        return;
    }
    if (name) {
        const std::string_view n = util::trim(name->value);
        if (util::iequals(n, "robots") || util::iequals(n, m_options->agent_token)) {
            apply_robots_directives(content->value, m_page->noindex, m_page->nofollow);
        }
    }
    if (m_want_links && http_equiv && util::iequals(util::trim(http_equiv->value), "refresh")) {
        add(*content, parse_refresh_url(content->value), LinkKind::refresh, false);
    }
}

void Collector::on_link(const std::optional<AttrValue>& href, const std::optional<AttrValue>& rel) {
    if (!href) {
        return;
    }
    const std::string_view rel_text = rel ? rel->value : "";
    const RelInfo info = parse_rel(rel_text);
    if (info.canonical && m_page->canonical.empty()) {
        m_page->canonical = util::trim(href->value);
    }
    if (!m_want_links || info.hint_only) {
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
    add(*href, href->value, kind, requisite, rel_text, info.nofollow);
}

} // namespace flagcrawl::crawler::html_detail
