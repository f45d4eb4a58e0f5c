// TSV field escaping and the per-line work of `flagcrawl url resolve|normalize`.
#include "crawler/url/url_tsv.hpp"

#include "crawler/url/url.hpp"
#include "util/percent.hpp"

namespace flagcrawl::crawler {

std::string unescape_tsv_field(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] == 'x' &&
            util::hex_value(field[i + 2]) >= 0 && util::hex_value(field[i + 3]) >= 0) {
            out.push_back(static_cast<char>(util::hex_value(field[i + 2]) * 16 +
                                            util::hex_value(field[i + 3])));
            i += 3;
        } else {
            out.push_back(field[i]);
        }
    }
    return out;
}

void append_escaped_tsv_field(std::string& out, std::string_view field) {
    static constexpr char k_hex[] = "0123456789abcdef";
    for (const char ch : field) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || c == '\\') {
            const char escaped[4] = {'\\', 'x', k_hex[c >> 4], k_hex[c & 15]};
            out.append(escaped, 4);
        } else {
            out.push_back(ch);
        }
    }
}

std::optional<std::string> resolve_tsv_line(std::string_view line) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view input_field = line.substr(0, tab);
    std::string_view base_field = line.substr(tab + 1);
    base_field = base_field.substr(0, base_field.find('\t'));
    const std::string input = unescape_tsv_field(input_field);
    const std::string base = unescape_tsv_field(base_field);

    std::string out;
    out.reserve(line.size() * 2 + 16);
    append_escaped_tsv_field(out, input);
    out.push_back('\t');
    append_escaped_tsv_field(out, base);
    out.push_back('\t');
    const UrlResult result = base.empty() ? parse(input) : parse(input, std::string_view(base));
    if (result) {
        append_escaped_tsv_field(out, result->href());
    } else {
        out.append("ERROR");
    }
    return out;
}

std::string normalize_tsv_line(std::string_view line, bool canonical_query) {
    const UrlResult result = parse(unescape_tsv_field(line));
    if (!result) {
        return "ERROR";
    }
    std::string out;
    append_escaped_tsv_field(out, normalize_key(*result, canonical_query));
    return out;
}

} // namespace flagcrawl::crawler
