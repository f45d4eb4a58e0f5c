#include "server/resource.hpp"

#include "util/ascii.hpp"
#include "util/http_date.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace flagcrawl::server {

namespace {

bool is_weak(std::string_view tag) {
    return tag.starts_with("W/");
}

std::string_view opaque(std::string_view tag) {
    return is_weak(tag) ? tag.substr(2) : tag;
}

// If-None-Match: "*" or a comma-separated list of entity tags, compared weakly.
bool none_match_hits(std::string_view header, std::string_view etag) {
    header = util::trim(header);
    if (header == "*") {
        return !etag.empty();
    }
    while (!header.empty()) {
        const auto comma = header.find(',');
        const std::string_view tag = util::trim(header.substr(0, comma));
        if (!etag.empty() && opaque(tag) == opaque(etag)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        header.remove_prefix(comma + 1);
    }
    return false;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
    if (text.empty()) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0; // inclusive
};

enum class RangeAnswer { whole, partial, unsatisfiable };

// One "bytes=" range against a body of `size` bytes. A header this cannot read, or one with
// several ranges, is answered with the whole body.
RangeAnswer read_range(std::string_view header, std::uint64_t size, ByteRange& range) {
    header = util::trim(header);
    if (!header.starts_with("bytes=")) {
        return RangeAnswer::whole;
    }
    header.remove_prefix(6);
    if (header.find(',') != std::string_view::npos) {
        return RangeAnswer::whole;
    }
    const auto dash = header.find('-');
    if (dash == std::string_view::npos) {
        return RangeAnswer::whole;
    }
    const std::string_view from = util::trim(header.substr(0, dash));
    const std::string_view to = util::trim(header.substr(dash + 1));
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (from.empty()) { // the last N bytes
        if (!parse_number(to, b)) {
            return RangeAnswer::whole;
        }
        if (b == 0 || size == 0) {
            return RangeAnswer::unsatisfiable;
        }
        range = {size > b ? size - b : 0, size - 1};
        return RangeAnswer::partial;
    }
    if (!parse_number(from, a) || (!to.empty() && (!parse_number(to, b) || b < a))) {
        return RangeAnswer::whole;
    }
    if (a >= size) {
        return RangeAnswer::unsatisfiable;
    }
    range = {a, to.empty() ? size - 1 : std::min(b, size - 1)};
    return RangeAnswer::partial;
}

// If-Range: an entity tag (matched strongly) or an HTTP-date (matched exactly).
bool if_range_holds(std::string_view header, const Resource& resource) {
    header = util::trim(header);
    if (header.starts_with("\"") || header.starts_with("W/")) {
        return !is_weak(header) && !resource.etag.empty() && !is_weak(resource.etag) &&
               header == resource.etag;
    }
    const auto date = util::parse_http_date(header);
    return date && resource.last_modified != 0 && *date == resource.last_modified;
}

} // namespace

Reply serve_resource(const Resource& resource, const Request& request) {
    const std::uint64_t size = resource.body ? resource.body->size() : 0;
    auto with_validators = [&resource](Reply reply) {
        if (!resource.etag.empty()) {
            reply.headers.push_back({"ETag", resource.etag});
        }
        if (resource.last_modified != 0) {
            reply.headers.push_back(
                {"Last-Modified", util::format_http_date(resource.last_modified)});
        }
        return reply;
    };

    if (resource.conditional) {
        const std::string_view none_match = request.header("If-None-Match");
        bool not_modified = false;
        if (!none_match.empty()) {
            not_modified = none_match_hits(none_match, resource.etag);
        } else if (const auto since = util::parse_http_date(request.header("If-Modified-Since"));
                   since && resource.last_modified != 0) {
            not_modified = resource.last_modified <= *since;
        }
        if (not_modified) {
            return with_validators(Reply{.status = 304});
        }
    }

    ByteRange range;
    RangeAnswer answer = RangeAnswer::whole;
    const std::string_view range_header = request.header("Range");
    if (resource.ranges && !range_header.empty()) {
        const std::string_view if_range = request.header("If-Range");
        if (if_range.empty() || if_range_holds(if_range, resource)) {
            answer = read_range(range_header, size, range);
        }
    }
    switch (answer) {
    case RangeAnswer::unsatisfiable:
        return Reply::text(416, "range not satisfiable\n")
            .with_header("Content-Range", "bytes */" + std::to_string(size));
    case RangeAnswer::partial: {
        Reply reply = Reply::bytes(
            206, make_body(resource.body->substr(range.first, range.last - range.first + 1)),
            resource.content_type);
        reply.headers.push_back({"Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                      std::to_string(range.last) + "/" +
                                                      std::to_string(size)});
        reply.headers.push_back({"Accept-Ranges", "bytes"});
        return with_validators(std::move(reply));
    }
    case RangeAnswer::whole:
        break;
    }
    Reply reply = Reply::bytes(200, resource.body, resource.content_type);
    if (resource.ranges) {
        reply.headers.push_back({"Accept-Ranges", "bytes"});
    }
    return with_validators(std::move(reply));
}

} // namespace flagcrawl::server
