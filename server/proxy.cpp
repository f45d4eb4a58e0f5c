#include "server/proxy.hpp"

#include "util/ascii.hpp"

namespace flagcrawl::server {

Handler proxy_handler(Handler origin, HitCounter* seen) {
    return [origin = std::move(origin), seen](const Request& request) {
        const std::string_view target = request.target;
        const auto scheme_end = target.find("://");
        if (scheme_end == std::string_view::npos ||
            !util::iequals(target.substr(0, scheme_end), "http")) {
            return Reply::text(400, "a proxy wants absolute-form targets (http://host/path)\n");
        }
        if (seen != nullptr) {
            seen->hit(target);
        }
        const auto path_start = target.find('/', scheme_end + 3);
        Request forwarded = request;
        forwarded.target = path_start == std::string_view::npos ? std::string_view("/")
                                                                : target.substr(path_start);
        const auto question = forwarded.target.find('?');
        forwarded.path = forwarded.target.substr(0, question);
        forwarded.query = question == std::string_view::npos
                              ? std::string_view()
                              : forwarded.target.substr(question + 1);
        return origin(forwarded);
    };
}

} // namespace flagcrawl::server
