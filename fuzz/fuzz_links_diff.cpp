// libFuzzer target: the differential. The scanner and gumbo's full parse read the same bytes;
// a link target (URL, kind) one finds and the other does not, or different page facts, is a
// crash, except where the tree builder's own rules decide and the scanner models them only
// approximately (documented in crawler/html/scanner.cpp): inputs with SVG/MathML, <select>,
// <frameset>, <template> or <table> markup are compared on tokenizer-level facts only (the
// links found in both must agree in their decoded URL text when both find them). Two gumbo 0.10
// deviations from the HTML Standard are not differences either: it replaces control characters
// and noncharacters with U+FFFD (links_compare.hpp compares text that way), and after a
// duplicate attribute without a value it drops the value of the next attribute (`<a x x
// href=/y>` has no href for gumbo, "/y" for browsers and the scanner; gumbo also drops a NUL
// that starts an attribute name, so `\0a a` repeats a name there): inputs with a repeated
// attribute name in a tag are skipped, and so are inputs where a NUL may start a name
// (gumbo reads "\0href" as href) and inputs with numeric references longer than a code point
// (gumbo's arithmetic overflows: &#xFFFFFFFF; becomes "&").
#include "links_compare.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fc = flagcrawl::crawler;
namespace corpus = flagcrawl::corpus;

namespace {

bool contains_ci(std::string_view text, std::string_view lower) {
    for (std::size_t i = 0; i + lower.size() <= text.size(); ++i) {
        std::size_t k = 0;
        while (k < lower.size() &&
               (text[i + k] == lower[k] || (text[i + k] >= 'A' && text[i + k] <= 'Z' &&
                                            text[i + k] - 'A' + 'a' == lower[k]))) {
            ++k;
        }
        if (k == lower.size()) {
            return true;
        }
    }
    return false;
}

// Markup whose effect on which tags become HTML elements the scanner approximates.
bool tree_builder_dependent(std::string_view input) {
    for (std::string_view tag :
         {"<svg",      "<math",     "<select", "<frameset", "<template", "<table",
          "<caption",  "<colgroup", "<tbody",  "<thead",    "<tfoot",    "<tr",
          "<td",       "<th",       "<frame",  "<image",    "<keygen",   "<option",
          "<optgroup", "<body",     "<html",   "<head",     "<isindex"}) {
        if (contains_ci(input, tag)) {
            return true;
        }
    }
    return false;
}

// A start tag that repeats an attribute name (roughly tokenized: names end at whitespace, '/',
// '=' or '>'; values are skipped when quoted). False positives only skip an input.
bool repeats_an_attribute(std::string_view input) {
    for (std::size_t lt = input.find('<'); lt != std::string_view::npos;
         lt = input.find('<', lt + 1)) {
        std::vector<std::string> names;
        std::size_t p = lt + 1;
        while (p < input.size() && input[p] != '>' && input[p] != ' ' && input[p] != '\t' &&
               input[p] != '\n' && input[p] != '\f' && input[p] != '\r' && input[p] != '/') {
            ++p;
        }
        while (p < input.size() && input[p] != '>') {
            const char c = input[p];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '/') {
                ++p;
                continue;
            }
            if (c == '=') {
                ++p;
                while (p < input.size() &&
                       (input[p] == ' ' || input[p] == '\t' || input[p] == '\n'))
                    ++p;
                if (p < input.size() && (input[p] == '"' || input[p] == '\'')) {
                    const std::size_t close = input.find(input[p], p + 1);
                    p = close == std::string_view::npos ? input.size() : close + 1;
                } else {
                    while (p < input.size() && input[p] != '>' && input[p] != ' ' &&
                           input[p] != '\t' && input[p] != '\n')
                        ++p;
                }
                continue;
            }
            const std::size_t start = p;
            while (p < input.size() && input[p] != '>' && input[p] != ' ' && input[p] != '\t' &&
                   input[p] != '\n' && input[p] != '\f' && input[p] != '\r' && input[p] != '/' &&
                   (input[p] != '=' || p == start)) {
                ++p;
            }
            // gumbo drops a NUL that starts a name (the standard makes it U+FFFD): "\0a" is
            // "a" there. Names are compared without NULs.
            std::string name;
            for (const char ch : input.substr(start, p - start)) {
                if (ch != '\0') {
                    name.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
                }
            }
            for (const std::string& seen : names) {
                if (seen == name) {
                    return true;
                }
            }
            names.push_back(std::move(name));
        }
    }
    return false;
}

// A NUL right after whitespace, '/' or a quote (the end of a quoted value): where it may start
// an attribute name, which gumbo drops (the standard makes it U+FFFD, so "\0href" is not href).
bool nul_may_start_a_name(std::string_view input) {
    for (std::size_t i = 1; i < input.size(); ++i) {
        const char before = input[i - 1];
        if (input[i] == '\0' &&
            (before == ' ' || before == '\t' || before == '\n' || before == '\f' ||
             before == '\r' || before == '/' || before == '"' || before == '\'')) {
            return true;
        }
    }
    return false;
}

// A numeric character reference with more digits than a code point needs (7 decimal, 6 hex):
// gumbo's 32-bit arithmetic overflows on it (&#xFFFFFFFF; gives "&" and loses the rest of the
// value); the standard caps it to U+FFFD.
bool long_numeric_reference(std::string_view input) {
    for (std::size_t amp = input.find("&#"); amp != std::string_view::npos;
         amp = input.find("&#", amp + 1)) {
        std::size_t p = amp + 2;
        const bool hex = p < input.size() && (input[p] == 'x' || input[p] == 'X');
        p += hex ? 1 : 0;
        std::size_t digits = 0;
        while (p < input.size() && ((input[p] >= '0' && input[p] <= '9') ||
                                    (hex && ((input[p] >= 'a' && input[p] <= 'f') ||
                                             (input[p] >= 'A' && input[p] <= 'F'))))) {
            ++p;
            ++digits;
        }
        if (digits > (hex ? 6u : 7u)) {
            return true;
        }
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fc::LinkExtractor fast;
    static fc::LinkExtractor full = [] {
        fc::ExtractorOptions options;
        options.parser = fc::HtmlParser::full;
        options.max_full_parse_work = 50'000'000;
        return fc::LinkExtractor(options);
    }();
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const fc::PageLinks& a = fast.extract(input);
    const fc::PageLinks& b = full.extract(input);
    if (b.too_complex) {
        return 0;
    }
    const corpus::Verdict verdict = corpus::compare(a, b);
    if (verdict == corpus::Verdict::identical || verdict == corpus::Verdict::reordered ||
        verdict == corpus::Verdict::repeated || tree_builder_dependent(input) ||
        repeats_an_attribute(input) || nul_may_start_a_name(input) ||
        long_numeric_reference(input)) {
        return 0;
    }
    for (const std::string& line : corpus::describe_difference(a, b)) {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::abort();
}
