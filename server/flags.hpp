// The built-in flags data set of the book Fluent Python (194 CIA World Factbook codes): the
// country list shared with the `flags` command, the generated GIF images and metadata, and the
// handler serving /flags/{cc}/{cc}.gif and /flags/{cc}/metadata.json (cc lower-case).
#pragma once

#include "server/gif.hpp"
#include "server/server.hpp"

#include <span>
#include <string>
#include <string_view>

namespace flagcrawl::server {

struct Country {
    std::string_view code; // ISO 3166-1 alpha-2, upper-case: "CN"
    std::string_view name; // common English short name: "China"
    std::string_view tld;  // country-code top-level domain: ".cn" (".uk" for GB)
};

// The 194 countries of the data set, sorted by code.
std::span<const Country> flag_countries();
// The country with this code (either case), or nullptr.
const Country* find_country(std::string_view code);

// Request paths: "/flags/cn/cn.gif" and "/flags/cn/metadata.json" for code "CN" or "cn".
std::string flag_gif_path(std::string_view code);
std::string flag_metadata_path(std::string_view code);

// {"country": "China", "iso_cc": "CN", "tld_cc": ".cn"}
std::string flag_metadata_json(const Country& country);
// The flag-like picture of a code (three bands and an emblem, colours derived from the code)
// and its GIF89a file (about 1 to 3 KB). Deterministic.
IndexedImage render_flag(std::string_view code);
std::string flag_gif(std::string_view code);

// Serves the data set: both files of every country, 404 for anything else. Everything is
// generated once, when this is called; the handler only looks replies up (thread-safe).
Handler flags_handler();

} // namespace flagcrawl::server
