// libFuzzer target: the differential. The scanner and gumbo's full parse read the same bytes;
// a link target (URL, kind) one finds and the other does not, or different page facts, is a
// crash, except where the tree builder's own rules decide and the scanner models them only
// approximately (documented in crawler/html/scanner.cpp): inputs with SVG/MathML, <select>,
// <frameset>, <template> or <table> markup are compared on tokenizer-level facts only (the
// links found in both must agree in their decoded URL text when both find them). gumbo 0.10's
// deviations from the HTML Standard are not differences either: it replaces control characters
// and noncharacters with U+FFFD (links_compare.hpp compares text that way), it drops a NUL that
// starts an attribute name (the standard makes it U+FFFD, so gumbo reads "\0href" as href):
// inputs where a NUL may start a name are skipped, and so are inputs with numeric references
// longer than a code point (gumbo's arithmetic overflows: &#xFFFFFFFF; becomes "&").
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
        nul_may_start_a_name(input) || long_numeric_reference(input)) {
        return 0;
    }
    for (const std::string& line : corpus::describe_difference(a, b)) {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::abort();
}
