// bench_fetch: fetches a URL list with one strategy and writes each body to OUT/<basename>
// (open/write/close, roughly what `flagcrawl download` does), then prints one summary line.
// A measuring tool for the fetch engine, not a test: ctest does not run it.
//
//   bench_fetch -s sequential|threaded|async [-c N] -i URLS.txt [-o OUT] [-r RETRIES] [-k]
//   (no -o: bodies are kept in memory and dropped; -k: do not verify TLS certificates)
#include "fetch/fetch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

using namespace flagcrawl::fetch;

namespace {

class FileSink final : public BodySink {
public:
    explicit FileSink(std::string path)
        : m_path(std::move(path)) {}
    ~FileSink() override { close(); }
    bool write(std::span<const char> data) override {
        if (m_fd < 0 && !open())
            return false;
        const char* p = data.data();
        std::size_t left = data.size();
        while (left > 0) {
            const ssize_t n = ::write(m_fd, p, left);
            if (n < 0)
                return false;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        return true;
    }
    void reset() override {
        if (m_fd >= 0 && (::ftruncate(m_fd, 0) != 0 || ::lseek(m_fd, 0, SEEK_SET) != 0))
            close();
    }
    // Creates the file even for an empty body; false when it cannot be written.
    bool finish() {
        const bool ok = m_fd >= 0 || open();
        close();
        return ok;
    }

private:
    bool open() {
        m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        return m_fd >= 0;
    }
    void close() {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    std::string m_path;
    int m_fd = -1;
};

class ListSource final : public WorkSource {
public:
    ListSource(const std::vector<std::string>& urls, const std::string& out)
        : m_urls(urls)
        , m_out(out) {}
    Next next(Clock::time_point) override {
        if (m_next == m_urls.size())
            return {};
        Next n;
        n.state = State::ready;
        n.request.id = m_next;
        n.request.url = m_urls[m_next];
        if (!m_out.empty()) {
            const std::string& url = m_urls[m_next];
            n.request.sink =
                std::make_unique<FileSink>(m_out + "/" + url.substr(url.rfind('/') + 1));
        }
        ++m_next;
        return n;
    }

private:
    const std::vector<std::string>& m_urls;
    std::string m_out;
    std::size_t m_next = 0;
};

class Tally final : public ResponseHandler {
public:
    void on_response(Response&& r) override {
        bool ok = !r.error && r.http_status == 200;
        if (r.sink)
            ok = static_cast<FileSink&>(*r.sink).finish() && ok;
        if (ok) {
            ++m_ok;
        } else {
            ++m_failed;
            if (m_failed <= 5)
                std::cerr << r.url << ": "
                          << (r.error ? r.error->message : std::to_string(r.http_status)) << "\n";
        }
        m_bytes += r.bytes;
        m_attempts += static_cast<std::uint64_t>(r.attempts);
        m_total_ms.push_back(r.timings.total_ms);
    }
    // The median and the 99th percentile of the final attempts' durations.
    std::pair<double, double> latency_ms() {
        if (m_total_ms.empty())
            return {0, 0};
        std::sort(m_total_ms.begin(), m_total_ms.end());
        return {m_total_ms[m_total_ms.size() / 2], m_total_ms[m_total_ms.size() * 99 / 100]};
    }
    std::uint64_t m_ok = 0, m_failed = 0, m_bytes = 0, m_attempts = 0;
    std::vector<double> m_total_ms;
};

[[noreturn]] void usage() {
    std::cerr << "usage: bench_fetch -s sequential|threaded|async [-c N] -i URLS [-o OUT] "
                 "[-r RETRIES] [-k]\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::optional<Strategy> strategy;
    int concurrency = 64;
    std::string input, out;
    Policy policy;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-k") {
            policy.verify_tls = false;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char* value = argv[++i];
        if (arg == "-s")
            strategy = parse_strategy(value);
        else if (arg == "-c")
            concurrency = std::atoi(value);
        else if (arg == "-i")
            input = value;
        else if (arg == "-o")
            out = value;
        else if (arg == "-r")
            policy.retries = std::atoi(value);
        else
            usage();
    }
    if (!strategy || input.empty() || concurrency < 1)
        usage();
    std::vector<std::string> urls;
    std::ifstream in(input);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            urls.push_back(line);

    ListSource source(urls, out);
    Tally tally;
    auto fetcher = make_fetcher(*strategy, policy, concurrency);
    const auto start = Clock::now();
    fetcher->run(source, tally);
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    const auto [p50, p99] = tally.latency_ms();
    std::printf("%s c=%d: %llu ok, %llu failed, %llu bytes, %llu attempts, %.3f s, %.0f files/s, "
                "request p50 %.1f ms p99 %.1f ms\n",
                std::string(to_string(*strategy)).c_str(), concurrency,
                static_cast<unsigned long long>(tally.m_ok),
                static_cast<unsigned long long>(tally.m_failed),
                static_cast<unsigned long long>(tally.m_bytes),
                static_cast<unsigned long long>(tally.m_attempts), wall,
                static_cast<double>(tally.m_ok) / wall, p50, p99);
    return tally.m_failed == 0 ? 0 : 1;
}
