// The standard reason phrase of an HTTP status, shared by the server and the jobs' reports.
#pragma once

#include <boost/beast/http/status.hpp>

#include <string_view>

namespace flagcrawl::util {

// The reason phrase of `status` ("Not Found"), or "" for codes without one.
inline std::string_view http_reason(int status) {
    namespace http = boost::beast::http;
    if (status == 418) { // the flags error mode's status; not in Beast's table
        return "I'm a teapot";
    }
    if (status < 0 || http::int_to_status(static_cast<unsigned>(status)) == http::status::unknown) {
        return "";
    }
    return http::obsolete_reason(static_cast<http::status>(status));
}

} // namespace flagcrawl::util
