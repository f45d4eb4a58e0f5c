// A measuring tool for the storage writer, not a test: how many `downloads` rows per second the
// writer thread sustains, its CPU cost per row, and the process's peak memory with a full queue.
//   storage_bench [--rows N] [--rate ROWS_PER_S] [--batch K] [--delay MS] [--queue Q] [--dir D]
// --rate 0 (default) submits flat out from one producer thread, which keeps the queue full; a
// positive rate paces the producer (in 1 ms ticks) like a downloader finishing files.
// The writer's CPU time is the process's CPU time minus the producer's (the main thread).
#include "storage/writer.hpp"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

using namespace flagcrawl::storage;

namespace {

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Peak resident set size of the process so far, in KiB (VmHWM).
long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return -1;
}

long arg(int argc, char** argv, const char* name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) {
            return std::strtol(argv[i + 1], nullptr, 10);
        }
    }
    return fallback;
}

std::string text_arg(int argc, char** argv, const char* name, std::string fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return fallback;
}

} // namespace

int main(int argc, char** argv) {
    const long rows = arg(argc, argv, "--rows", 200'000);
    const long rate = arg(argc, argv, "--rate", 0);
    WriterOptions options;
    options.batch_records = static_cast<std::size_t>(arg(argc, argv, "--batch", 1024));
    options.batch_delay = std::chrono::milliseconds(arg(argc, argv, "--delay", 50));
    options.queue_capacity = static_cast<std::size_t>(arg(argc, argv, "--queue", 4096));
    // By default no byte bound that binds: --queue counts records, whatever they hold.
    options.queue_bytes = static_cast<std::size_t>(arg(argc, argv, "--queue-bytes", 1L << 40));
    const std::filesystem::path dir =
        text_arg(argc, argv, "--dir", std::filesystem::temp_directory_path().string());
    const std::string path = (dir / ("storage-bench-" + std::to_string(getpid()) + ".db")).string();

    const long rss_before = peak_rss_kib();
    auto writer = Writer::open(path, options);
    if (!writer) {
        std::fprintf(stderr, "%s\n", writer.error().message.c_str());
        return 3;
    }
    RunInfo info;
    info.command = "bench";
    info.arguments = "storage_bench";
    info.strategy = "async";
    auto run = writer->begin_run(info).value();

    // A typical row: a flag download from a loopback server.
    DownloadRecord sample;
    sample.run_id = run;
    sample.http_status = 200;
    sample.bytes = 2345;
    sample.sha256 = std::string(64, 'e');
    sample.elapsed_ms = 1.25;
    sample.dns_ms = 0.0;
    sample.connect_ms = 0.061;
    sample.ttfb_ms = 0.532;

    const double process_cpu_0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const double producer_cpu_0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    const auto start = std::chrono::steady_clock::now();
    auto tick = start;
    const long per_tick = rate > 0 ? std::max(1L, rate / 1000) : 0;
    for (long i = 0; i < rows; ++i) {
        if (per_tick > 0 && i % per_tick == 0 && i > 0) {
            tick += std::chrono::milliseconds(1);
            std::this_thread::sleep_until(tick);
        }
        DownloadRecord d = sample;
        d.url = "http://127.0.0.1:8001/flags/" + std::to_string(i) + "/flag.gif";
        d.final_url = d.url;
        d.path = "downloads/" + std::to_string(i) + ".gif";
        d.fetched_at = std::chrono::system_clock::now();
        if (!writer->submit(std::move(d))) {
            std::fprintf(stderr, "submit failed\n");
            return 1;
        }
    }
    const double producer_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - producer_cpu_0;
    if (auto r = writer->flush(); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double writer_cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_0 -
                              (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - producer_cpu_0);
    const WriterStats stats = writer->stats();
    const long rss_peak = peak_rss_kib();
    if (auto r = writer->close(); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
    }
    const auto file_bytes = std::filesystem::file_size(path);
    std::filesystem::remove(path);

    std::printf("rows %ld  rate %s  batch %zu  delay %lld ms  queue %zu\n", rows,
                rate > 0 ? std::to_string(rate).c_str() : "max", options.batch_records,
                static_cast<long long>(options.batch_delay.count()), options.queue_capacity);
    std::printf("wall %.3f s  ->  %.0f rows/s\n", wall, static_cast<double>(rows) / wall);
    std::printf("writer CPU %.3f s  ->  %.2f us/row  (%.0f rows/s per core)\n", writer_cpu,
                writer_cpu * 1e6 / static_cast<double>(rows),
                static_cast<double>(rows) / writer_cpu);
    std::printf("producer CPU %.3f s  ->  %.2f us/row (building the record + submit)\n",
                producer_cpu, producer_cpu * 1e6 / static_cast<double>(rows));
    std::printf("transactions %llu (%.0f rows each)  peak queued %zu  file %.1f MB\n",
                static_cast<unsigned long long>(stats.transactions),
                static_cast<double>(stats.committed) /
                    static_cast<double>(std::max<std::uint64_t>(1, stats.transactions)),
                stats.peak_queued, static_cast<double>(file_bytes) / 1e6);
    std::printf("peak RSS %ld KiB (before open %ld KiB); a queued record is %zu bytes + its "
                "strings\n",
                rss_peak, rss_before, sizeof(Record));
    return 0;
}
