// serve_resource(): validators, conditional requests and byte ranges as a file server answers
// them, and the proxy front that answers absolute-form requests from an origin handler.
#include "server/proxy.hpp"
#include "server/resource.hpp"
#include "util/http_date.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace flagcrawl::server;
namespace util = flagcrawl::util;

namespace {

constexpr std::time_t k_modified = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT

struct Exchange {
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    Request request() const {
        Request r;
        r.method = "GET";
        r.target = "/file";
        r.path = "/file";
        r.headers = headers;
        return r;
    }
};

std::string header(const Reply& reply, std::string_view name) {
    for (const Header& h : reply.headers)
        if (h.name == name)
            return h.value;
    return {};
}

std::string body(const Reply& reply) {
    return reply.body ? *reply.body : std::string();
}

Resource resource() {
    Resource r;
    r.body = make_body("0123456789");
    r.etag = "\"v1\"";
    r.last_modified = k_modified;
    return r;
}

Reply answer(const Resource& r, std::vector<std::pair<std::string_view, std::string_view>> h) {
    Exchange e{std::move(h)};
    return serve_resource(r, e.request());
}

TEST(ServerResource, PlainGetCarriesValidators) {
    const Reply reply = answer(resource(), {});
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(body(reply), "0123456789");
    EXPECT_EQ(header(reply, "ETag"), "\"v1\"");
    EXPECT_EQ(header(reply, "Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(header(reply, "Accept-Ranges"), "bytes");
}

TEST(ServerResource, ConditionalRequests) {
    EXPECT_EQ(answer(resource(), {{"If-None-Match", "\"v1\""}}).status, 304);
    EXPECT_EQ(answer(resource(), {{"If-None-Match", "\"v0\", W/\"v1\""}}).status, 304)
        << "weak comparison";
    EXPECT_EQ(answer(resource(), {{"If-None-Match", "\"v2\""}}).status, 200);
    EXPECT_EQ(answer(resource(), {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status,
              304);
    EXPECT_EQ(answer(resource(), {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).status,
              200);
    // If-None-Match wins over If-Modified-Since.
    EXPECT_EQ(answer(resource(), {{"If-None-Match", "\"v2\""},
                                  {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}})
                  .status,
              200);
    const Reply not_modified = answer(resource(), {{"If-None-Match", "*"}});
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(header(not_modified, "ETag"), "\"v1\"");
    Resource ignoring = resource();
    ignoring.conditional = false;
    EXPECT_EQ(answer(ignoring, {{"If-None-Match", "\"v1\""}}).status, 200);
}

TEST(ServerResource, Ranges) {
    const Reply from = answer(resource(), {{"Range", "bytes=4-"}});
    EXPECT_EQ(from.status, 206);
    EXPECT_EQ(body(from), "456789");
    EXPECT_EQ(header(from, "Content-Range"), "bytes 4-9/10");
    const Reply middle = answer(resource(), {{"Range", "bytes=2-4"}});
    EXPECT_EQ(body(middle), "234");
    EXPECT_EQ(header(middle, "Content-Range"), "bytes 2-4/10");
    EXPECT_EQ(body(answer(resource(), {{"Range", "bytes=-3"}})), "789");
    EXPECT_EQ(body(answer(resource(), {{"Range", "bytes=8-100"}})), "89");
    const Reply past = answer(resource(), {{"Range", "bytes=10-"}});
    EXPECT_EQ(past.status, 416);
    EXPECT_EQ(header(past, "Content-Range"), "bytes */10");
    EXPECT_EQ(answer(resource(), {{"Range", "bytes=0-1,4-5"}}).status, 200) << "several: whole";
    EXPECT_EQ(answer(resource(), {{"Range", "items=1-2"}}).status, 200);
    Resource ignoring = resource();
    ignoring.ranges = false;
    const Reply whole = answer(ignoring, {{"Range", "bytes=4-"}});
    EXPECT_EQ(whole.status, 200);
    EXPECT_EQ(body(whole), "0123456789");
    EXPECT_EQ(header(whole, "Accept-Ranges"), "");
}

TEST(ServerResource, IfRangeGivesTheWholeBodyWhenTheFileChanged) {
    EXPECT_EQ(answer(resource(), {{"Range", "bytes=4-"}, {"If-Range", "\"v1\""}}).status, 206);
    EXPECT_EQ(answer(resource(), {{"Range", "bytes=4-"}, {"If-Range", "\"v0\""}}).status, 200);
    EXPECT_EQ(answer(resource(), {{"Range", "bytes=4-"}, {"If-Range", "W/\"v1\""}}).status, 200)
        << "If-Range compares strongly";
    EXPECT_EQ(
        answer(resource(), {{"Range", "bytes=4-"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}})
            .status,
        206);
    EXPECT_EQ(
        answer(resource(), {{"Range", "bytes=4-"}, {"If-Range", "Mon, 07 Nov 1994 08:49:37 GMT"}})
            .status,
        200);
}

TEST(ServerProxy, AbsoluteFormIsAnsweredByTheOrigin) {
    HitCounter seen;
    std::string got_path;
    std::string got_query;
    Handler proxy = proxy_handler(
        [&](const Request& r) {
            got_path = r.path;
            got_query = r.query;
            return Reply::text(200, "origin");
        },
        &seen);
    Request r;
    r.method = "GET";
    r.target = "http://files.test:8080/a/b.bin?x=1";
    r.path = r.target;
    EXPECT_EQ(proxy(r).status, 200);
    EXPECT_EQ(got_path, "/a/b.bin");
    EXPECT_EQ(got_query, "x=1");
    EXPECT_EQ(seen.count("http://files.test:8080/a/b.bin?x=1"), 1u);
    r.target = "/a/b.bin";
    r.path = r.target;
    EXPECT_EQ(proxy(r).status, 400) << "not a proxy request";
}

TEST(UtilHttpDate, FormatsAndParsesTheThreeForms) {
    EXPECT_EQ(util::format_http_date(k_modified), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(util::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), k_modified);
    EXPECT_EQ(util::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), k_modified);
    EXPECT_EQ(util::parse_http_date("Sun Nov  6 08:49:37 1994"), k_modified);
    EXPECT_EQ(util::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_FALSE(util::parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"));
    EXPECT_FALSE(util::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    EXPECT_FALSE(util::parse_http_date("yesterday"));
    EXPECT_FALSE(util::parse_http_date(""));
    EXPECT_FALSE(util::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
}

} // namespace
