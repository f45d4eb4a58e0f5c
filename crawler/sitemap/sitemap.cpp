#include "crawler/sitemap/sitemap.hpp"

#include "util/ascii.hpp"

#include <expat.h>
#include <zlib.h>

#include <array>
#include <memory>
#include <optional>

namespace flagcrawl::crawler {

namespace {

constexpr std::size_t k_mib = 1024 * 1024;

std::string limit_text(std::size_t bytes) {
    return bytes % k_mib == 0 ? std::to_string(bytes / k_mib) + " MiB"
                              : std::to_string(bytes) + " bytes";
}

std::string too_many(const SitemapLimits& limits, bool index) {
    return "more than " + std::to_string(limits.max_urls) + (index ? " sitemaps" : " URLs") +
           ": the rest ignored (the sitemap protocol's limit)";
}

std::string too_large(const SitemapLimits& limits) {
    return "larger than " + limit_text(limits.max_bytes) +
           " uncompressed: read up to that size (the sitemap protocol's limit)";
}

// Inflates a gzip body into `out`, at most `max_bytes` of it (and one byte more, so that the
// caller sees the file was larger). Returns false, with a warning, when the data is corrupt.
bool gunzip(std::string_view body, std::size_t max_bytes, std::string& out,
            std::vector<std::string>& warnings) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        warnings.emplace_back("gzip: cannot start the decompressor");
        return false;
    }
    const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, &inflateEnd);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    zs.avail_in = static_cast<uInt>(body.size());
    std::array<char, 64 * 1024> chunk{};
    for (;;) {
        zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
        zs.avail_out = static_cast<uInt>(chunk.size());
        const int rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t produced = chunk.size() - zs.avail_out;
        const std::size_t room = max_bytes + 1 - out.size();
        out.append(chunk.data(), std::min(produced, room));
        if (out.size() > max_bytes) {
            return true;
        }
        if (rc == Z_STREAM_END) {
            return true;
        }
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_in == 0 && produced == 0)) {
            warnings.emplace_back(std::string("gzip: corrupt data (") +
                                  (zs.msg != nullptr ? zs.msg : "inflate failed") +
                                  "): read up to the fault");
            return false;
        }
        if (zs.avail_in == 0 && produced == 0) {
            warnings.emplace_back("gzip: the data ends before the end of the stream");
            return false;
        }
    }
}

// The local name of an element: expat gives "namespace-URI\x01local" for a namespaced one.
std::string_view local_name(const XML_Char* name) {
    std::string_view text(name);
    if (const auto sep = text.rfind('\x01'); sep != std::string_view::npos) {
        return text.substr(sep + 1);
    }
    return text;
}

// The XML reader: <urlset><url><loc>, <sitemapindex><sitemap><loc>, the locs at exactly that
// depth (a <loc> of an <image:image> extension is another element's).
class XmlReader {
public:
    XmlReader(Sitemap& out, const SitemapLimits& limits)
        : m_out(out)
        , m_limits(limits)
        , m_parser(XML_ParserCreateNS(nullptr, '\x01'), &XML_ParserFree) {
        XML_SetUserData(m_parser.get(), this);
        XML_SetElementHandler(m_parser.get(), &XmlReader::on_start, &XmlReader::on_end);
        XML_SetCharacterDataHandler(m_parser.get(), &XmlReader::on_text);
        XML_SetEntityDeclHandler(m_parser.get(), &XmlReader::on_entity);
    }

    // `text` is the whole document, or its first limits.max_bytes when `cut`.
    void read(std::string_view text, bool cut) {
        if (!m_parser) {
            m_out.warnings.emplace_back("XML: cannot start the parser");
            return;
        }
        const XML_Status status =
            XML_Parse(m_parser.get(), text.data(), static_cast<int>(text.size()), cut ? 0 : 1);
        if (m_stop_reason) {
            m_out.warnings.push_back(std::move(*m_stop_reason));
        } else if (status == XML_STATUS_ERROR) {
            m_out.warnings.push_back(
                "malformed XML at line " +
                std::to_string(XML_GetCurrentLineNumber(m_parser.get())) + ", column " +
                std::to_string(XML_GetCurrentColumnNumber(m_parser.get()) + 1) + ": " +
                XML_ErrorString(XML_GetErrorCode(m_parser.get())) + " (read up to it)");
        }
    }

private:
    static void on_start(void* self, const XML_Char* name, const XML_Char** /*attributes*/) {
        static_cast<XmlReader*>(self)->start(local_name(name));
    }
    static void on_end(void* self, const XML_Char* /*name*/) {
        static_cast<XmlReader*>(self)->end();
    }
    static void on_text(void* self, const XML_Char* text, int size) {
        auto* reader = static_cast<XmlReader*>(self);
        if (reader->m_in_loc) {
            reader->m_loc.append(text, static_cast<std::size_t>(size));
        }
    }
    static void on_entity(void* self, const XML_Char* /*name*/, int /*parameter*/,
                          const XML_Char* /*value*/, int /*length*/, const XML_Char* /*base*/,
                          const XML_Char* /*system_id*/, const XML_Char* /*public_id*/,
                          const XML_Char* /*notation*/) {
        static_cast<XmlReader*>(self)->stop("XML: an entity declaration, refused (a sitemap "
                                            "needs none): read up to it");
    }

    void start(std::string_view name) {
        ++m_depth;
        if (m_depth == 1) {
            if (name == "urlset") {
                m_out.kind = SitemapKind::urlset;
            } else if (name == "sitemapindex") {
                m_out.kind = SitemapKind::index;
            } else {
                stop("not a sitemap (its root element is <" + std::string(name) +
                     ">, not <urlset> or <sitemapindex>)");
            }
        } else if (m_depth == 2) {
            m_in_entry = m_out.kind == SitemapKind::urlset ? name == "url" : name == "sitemap";
        } else if (m_depth == 3 && m_in_entry && name == "loc") {
            m_in_loc = true;
            m_loc.clear();
        }
    }

    void end() {
        if (m_in_loc && m_depth == 3) {
            m_in_loc = false;
            const std::string_view loc = util::trim(m_loc);
            if (!loc.empty()) {
                if (m_out.locs.size() >= m_limits.max_urls) {
                    stop(too_many(m_limits, m_out.kind == SitemapKind::index));
                } else {
                    m_out.locs.emplace_back(loc);
                }
            }
        }
        if (m_depth == 2) {
            m_in_entry = false;
        }
        --m_depth;
    }

    void stop(std::string reason) {
        if (!m_stop_reason) {
            m_stop_reason = std::move(reason);
            XML_StopParser(m_parser.get(), XML_FALSE);
        }
    }

    Sitemap& m_out;
    const SitemapLimits& m_limits;
    std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> m_parser;
    int m_depth = 0;
    bool m_in_entry = false;
    bool m_in_loc = false;
    std::string m_loc;
    std::optional<std::string> m_stop_reason;
};

// A text sitemap: one URL a line (UTF-8), blank lines ignored.
void read_text(std::string_view text, bool cut, const SitemapLimits& limits, Sitemap& out) {
    out.kind = SitemapKind::text;
    std::size_t at = 0;
    while (at < text.size()) {
        auto eol = text.find_first_of("\r\n", at);
        if (eol == std::string_view::npos) {
            if (cut) {
                break; // the last line may be cut short
            }
            eol = text.size();
        }
        const std::string_view line = util::trim(text.substr(at, eol - at));
        at = eol + 1;
        if (line.empty()) {
            continue;
        }
        if (out.locs.size() >= limits.max_urls) {
            out.warnings.push_back(too_many(limits, false));
            return;
        }
        out.locs.emplace_back(line);
    }
}

} // namespace

bool is_gzip(std::string_view body) {
    return body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
           static_cast<unsigned char>(body[1]) == 0x8b;
}

Sitemap parse_sitemap(std::string_view body, const SitemapLimits& limits) {
    Sitemap out;
    std::string inflated;
    std::string_view text = body;
    if (is_gzip(body)) {
        gunzip(body, limits.max_bytes, inflated, out.warnings);
        text = inflated;
    }
    const bool cut = text.size() > limits.max_bytes;
    if (cut) {
        text = text.substr(0, limits.max_bytes);
    }
    std::string_view start = text;
    if (start.starts_with("\xEF\xBB\xBF")) {
        start.remove_prefix(3);
    }
    const auto first = start.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        if (out.warnings.empty()) {
            out.warnings.emplace_back("empty");
        }
        return out;
    }
    if (start[first] == '<') {
        XmlReader(out, limits).read(text, cut);
    } else {
        read_text(start, cut, limits, out);
    }
    if (cut) {
        out.warnings.push_back(too_large(limits));
    }
    return out;
}

} // namespace flagcrawl::crawler
