#include "crawler/jobs/file_names.hpp"

#include "crawler/url/url.hpp"
#include "util/percent.hpp"

namespace flagcrawl::crawler {
namespace {

// Largest n <= limit such that s[0, n) does not end inside a UTF-8 sequence.
std::size_t utf8_cut(std::string_view s, std::size_t limit) {
    if (s.size() <= limit) {
        return s.size();
    }
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
        --n;
    }
    return n;
}

// Splits "name.ext" (or "folder/name.ext") at the last dot of the last segment that is not its
// first character.
std::pair<std::string_view, std::string_view> split_extension(std::string_view name) {
    const auto slash = name.rfind('/');
    const std::size_t base = slash == std::string_view::npos ? 0 : slash + 1;
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot <= base) {
        return {name, {}};
    }
    return {name.substr(0, dot), name.substr(dot)};
}

} // namespace

std::string file_name_for_path(std::string_view url_path) {
    auto cut = url_path.find_first_of("?#");
    if (cut != std::string_view::npos) {
        url_path = url_path.substr(0, cut);
    }
    auto slash = url_path.rfind('/');
    std::string_view segment =
        slash == std::string_view::npos ? url_path : url_path.substr(slash + 1);
    std::string name;
    util::percent_decode_into(segment, name);
    for (char& c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '/' || c == '\\') {
            c = '_';
        }
    }
    if (name.empty()) {
        return "index.html";
    }
    if (name.front() == '.') {
        name.front() = '_';
    }
    if (name.size() > k_max_file_name) {
        auto [stem, ext] = split_extension(name);
        if (ext.size() > 16) {
            ext = {};
        }
        std::string shortened(stem.substr(0, utf8_cut(stem, k_max_file_name - ext.size())));
        shortened += ext;
        name = std::move(shortened);
    }
    return name;
}

std::string NameAllocator::claim(const std::string& name) {
    if (m_used.insert(key_hash(name))) {
        return name;
    }
    auto [stem, ext] = split_extension(name);
    for (unsigned n = 1;; ++n) {
        std::string candidate = std::string(stem) + '.' + std::to_string(n) + std::string(ext);
        if (m_used.insert(key_hash(candidate))) {
            return candidate;
        }
    }
}

} // namespace flagcrawl::crawler
