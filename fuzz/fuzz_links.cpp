// libFuzzer target: the scanner on any bytes, as served (the input's length picks a
// Content-Type, so the charset paths run too) and as UTF-8, with and without CSS. Checks the
// contracts of links.hpp: URLs non-empty and trimmed, source spans inside the text, exact spans
// equal to the URL.
#include "crawler/html/links.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace fc = flagcrawl::crawler;

namespace {

void check(const fc::PageLinks& page, std::string_view input) {
    const std::string_view text = page.decoded_text.empty() ? input : page.decoded_text;
    for (const fc::Link& link : page.links) {
        if (link.url.empty() || link.source.begin > link.source.end ||
            link.source.end > text.size()) {
            std::abort();
        }
        const char first = link.url.front();
        const char last = link.url.back();
        if (first == ' ' || first == '\t' || first == '\n' || last == ' ' || last == '\n') {
            std::abort();
        }
        if (link.source_exact &&
            text.substr(link.source.begin, link.source.end - link.source.begin) != link.url) {
            std::abort();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const char* const content_types[] = {"text/html",
                                                "text/html; charset=utf-8",
                                                "text/html; charset=Shift_JIS",
                                                "text/html; charset=windows-1252",
                                                "text/html; charset=utf-16",
                                                "text/html; charset=euc-jp",
                                                "text/html; charset=iso-2022-jp",
                                                "text/html; charset=gb18030"};
    static fc::LinkExtractor plain;
    static fc::LinkExtractor css = [] {
        fc::ExtractorOptions options;
        options.css = true;
        return fc::LinkExtractor(options);
    }();
    const std::string_view content_type = content_types[size % 8];
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check(plain.extract(input), input);
    check(plain.extract(input, content_type), input);
    check(css.extract(input, content_type), input);
    check(css.extract_facts(input), input);
    check(css.extract_css(input), input);
    return 0;
}
