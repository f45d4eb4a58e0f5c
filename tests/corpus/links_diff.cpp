// The link differential over a real corpus: for every .html/.htm file under the given folders,
// extracts links and page facts with the scanner and with gumbo's full parse and compares them
// (links_compare.hpp). Prints one line per page that is not identical (with -v, what differs)
// and a summary by verdict. Exit status 1 when any page's link targets or facts differ.
// Usage: links_diff [-v] DIR...   (e.g. links_diff /work/corpus after fetch_corpus.sh)
//        links_diff --show FILE      (both link sequences of one page, side by side)
#include "links_compare.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace fc = flagcrawl::crawler;
namespace corpus = flagcrawl::corpus;

int main(int argc, char** argv) {
    bool verbose = false;
    std::vector<std::filesystem::path> roots;
    if (argc == 3 && std::strcmp(argv[1], "--show") == 0) {
        std::ifstream in(argv[2], std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        const std::string page = text.str();
        fc::ExtractorOptions full_options;
        full_options.parser = fc::HtmlParser::full;
        fc::LinkExtractor fast;
        fc::LinkExtractor full(full_options);
        const fc::PageLinks& a = fast.extract(page);
        const fc::PageLinks& b = full.extract(page);
        for (std::size_t i = 0; i < std::max(a.links.size(), b.links.size()); ++i) {
            const std::string x = i < a.links.size() ? std::string(a.links[i].url) : "";
            const std::string y = i < b.links.size() ? std::string(b.links[i].url) : "";
            std::printf("%s %5zu  %-50s %s\n", x == y ? " " : "*", i, x.c_str(), y.c_str());
        }
        return 0;
    }
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else {
            roots.emplace_back(argv[i]);
        }
    }
    if (roots.empty()) {
        std::fprintf(stderr, "usage: links_diff [-v] DIR...\n");
        return 2;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& root : roots) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
            const auto ext = entry.path().extension();
            if (entry.is_regular_file() && (ext == ".html" || ext == ".htm")) {
                files.push_back(entry.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    fc::ExtractorOptions full_options;
    full_options.parser = fc::HtmlParser::full;
    full_options.max_full_parse_work = UINT64_MAX;
    fc::LinkExtractor fast;
    fc::LinkExtractor full(full_options);
    std::map<corpus::Verdict, std::size_t> counts;
    std::size_t links = 0;
    std::size_t bytes = 0;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        const std::string page = text.str();
        bytes += page.size();
        const fc::PageLinks& a = fast.extract(page);
        const fc::PageLinks& b = full.extract(page);
        links += b.links.size();
        const corpus::Verdict verdict = corpus::compare(a, b);
        ++counts[verdict];
        if (verdict != corpus::Verdict::identical) {
            std::printf("%s: %s\n", corpus::to_string(verdict), file.c_str());
            if (verbose) {
                for (const std::string& line : corpus::describe_difference(a, b)) {
                    std::printf("%s\n", line.c_str());
                }
            }
        }
    }
    std::printf("pages %zu (%.1f MB), links %zu (full parse)\n", files.size(),
                static_cast<double>(bytes) / 1e6, links);
    for (const auto& [verdict, count] : counts) {
        std::printf("  %-15s %zu\n", corpus::to_string(verdict), count);
    }
    const bool bad =
        counts[corpus::Verdict::targets_differ] + counts[corpus::Verdict::facts_differ] > 0;
    return bad ? 1 : 0;
}
