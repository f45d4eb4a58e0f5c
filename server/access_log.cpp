#include "server/access_log.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace flagcrawl::server {
namespace {

struct Log {
    std::mutex mutex;
    std::FILE* file = nullptr;
    ~Log() {
        if (file != nullptr) {
            std::fclose(file);
        }
    }
};

} // namespace

Handler with_access_log(Handler inner, const std::string& path) {
    auto log = std::make_shared<Log>();
    log->file = std::fopen(path.c_str(), "a");
    if (log->file == nullptr) {
        throw std::runtime_error("cannot open " + path + " for appending");
    }
    return [inner = std::move(inner), log](const Request& request) {
        const auto arrived = std::chrono::system_clock::now().time_since_epoch();
        Reply reply = inner(request);
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(arrived).count();
        std::string_view agent = request.header("User-Agent");
        if (agent.empty()) {
            agent = "-";
        }
        std::lock_guard lock(log->mutex);
        std::fprintf(log->file, "%lld.%06lld %.*s %.*s %d %.*s\n",
                     static_cast<long long>(us / 1000000), static_cast<long long>(us % 1000000),
                     static_cast<int>(request.method.size()), request.method.data(),
                     static_cast<int>(request.target.size()), request.target.data(), reply.status,
                     static_cast<int>(agent.size()), agent.data());
        std::fflush(log->file);
        return reply;
    };
}

} // namespace flagcrawl::server
