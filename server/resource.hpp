// A file answered the way a file server answers it, for the download conveniences' tests and
// for `serve`: validators (ETag, Last-Modified), conditional requests (If-None-Match,
// If-Modified-Since: 304) and a byte range (Range: 206 or 416, If-Range), each switchable off to
// play a server that ignores them.
#pragma once

#include "server/server.hpp"

#include <ctime>
#include <string>

namespace flagcrawl::server {

struct Resource {
    Body body{};
    std::string content_type = "application/octet-stream";
    std::string etag{};            // sent as is ("\"v1\"", "W/\"v1\""); empty: none
    std::time_t last_modified = 0; // seconds since 1970; 0: no Last-Modified
    bool ranges = true; // false: Range is ignored (200 with the whole body), as many servers do
    bool conditional = true; // false: If-None-Match and If-Modified-Since are ignored
};

// The reply to `request` for `resource` (RFC 9110 sections 13 and 14):
// - If-None-Match (a list of tags, or "*") matching the ETag (weak comparison), else an
//   If-Modified-Since date not older than Last-Modified: 304 with the validators, no body.
// - Range "bytes=A-B", "bytes=A-" or "bytes=-N" (one range; several are answered with the whole
//   body, as the standard allows): 206 with Content-Range, or 416 with "Content-Range: bytes
//   */SIZE" when it starts past the end. An If-Range that does not match (the strong ETag, or
//   exactly the Last-Modified date) gets the whole body instead.
// - Otherwise 200 with the whole body. Every reply but 416 carries the validators, 200 and 206
//   "Accept-Ranges: bytes" when ranges are on.
Reply serve_resource(const Resource& resource, const Request& request);

} // namespace flagcrawl::server
