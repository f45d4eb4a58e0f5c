// The `serve --root DIR` handler: static files under one folder, cached in memory, never
// anything outside it (dot-dot segments, percent-encoded ones, encoded slashes, symlinks out).
#pragma once

#include "server/server.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::server {

// The Content-Type for a file name, from its extension (case-insensitive): text/html;
// charset=utf-8, text/css, text/javascript, application/json, image/png, ...;
// application/octet-stream when unknown.
std::string_view content_type_for(std::string_view file_name);

// The root-relative file path a request path names, percent-decoded and with "." and ".."
// segments resolved: "/a/./b/../c%20d.html" -> "a/c d.html", "/" -> "". nullopt when the
// path does not start with '/', climbs above the root, has a bad or encoded '/' or NUL
// (%2F, %00) or a malformed %-escape.
std::optional<std::string> resolve_request_path(std::string_view path);

struct StaticFilesOptions {
    std::size_t max_file_bytes = 256 * 1024 * 1024;    // larger files are answered 403
    std::size_t cache_file_bytes = 1024 * 1024;        // files up to this size stay in memory ...
    std::size_t cache_total_bytes = 512 * 1024 * 1024; // ... up to this total (then it restarts)
};

// Serves the files under `root`: a directory is answered with its index.html (a 301 to the
// same path with a '/' appended if the request lacked it); a missing file, a directory without
// index.html, a path resolve_request_path() rejects or one that leads outside the root through
// a symlink, with 404 (the same answer, so nothing about the outside leaks). The query string is
// ignored. Cached files are revalidated with one stat() per request, so edits show
// at once. Thread-safe. Throws std::invalid_argument if `root` is not a directory.
Handler static_files_handler(const std::filesystem::path& root, StaticFilesOptions options = {});

} // namespace flagcrawl::server
