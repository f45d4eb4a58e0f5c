#include "crawler/crawl/robots_policy.hpp"

namespace flagcrawl::crawler {

RobotsFetchPolicy robots_policy_for_status(int http_status) {
    if (http_status >= 200 && http_status < 300) {
        return RobotsFetchPolicy::parse;
    }
    if (http_status == 429) {
        return RobotsFetchPolicy::disallow_all_retry_later;
    }
    if (http_status >= 300 && http_status < 500) {
        return RobotsFetchPolicy::allow_all;
    }
    return RobotsFetchPolicy::disallow_all_retry_later;
}

RobotsFetchPolicy robots_policy_for_error(fetch::ErrorKind error) {
    switch (error) {
    case fetch::ErrorKind::too_many_redirects:
        return RobotsFetchPolicy::allow_all;
    case fetch::ErrorKind::dns:
    case fetch::ErrorKind::connect:
        return RobotsFetchPolicy::give_up_host;
    default:
        return RobotsFetchPolicy::disallow_all_retry_later;
    }
}

std::string_view to_string(RobotsFetchPolicy policy) {
    switch (policy) {
    case RobotsFetchPolicy::parse:
        return "parse";
    case RobotsFetchPolicy::allow_all:
        return "allow_all";
    case RobotsFetchPolicy::disallow_all_retry_later:
        return "disallow_all_retry_later";
    case RobotsFetchPolicy::give_up_host:
        return "give_up_host";
    }
    return "?";
}

} // namespace flagcrawl::crawler
