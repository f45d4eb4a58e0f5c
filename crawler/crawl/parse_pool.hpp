// HTML parsing off the engine's thread: a few workers, each with its own LinkExtractor, parse
// the pages the crawl loop submits and hand the results back in batches (the loop is woken
// once per batch, not per page).
#pragma once

#include "crawler/crawl/page_parser.hpp"
#include "crawler/crawl/shared_waker.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace flagcrawl::crawler {

// Threads: submit(), take(), wait_for_result() and abandon() from one thread (the crawl's: the
// engine's loop, then the thread that ends the crawl); workers run on their own threads.
// `ready` is called from a worker when a result lands while none was waiting to be taken.
//
// Ending: the destructor joins the workers once they are idle. abandon() instead leaves the
// parses in progress to finish on their own (their results dropped) so that an interrupted
// crawl ends within its grace whatever a parser is doing: such a worker keeps the state it
// uses (the parser, its task) alive by itself, and touches nothing of the pool's owner.
class ParsePool {
public:
    // Starts `threads` (>= 1) workers. Throws std::system_error when one cannot start (those
    // started are stopped and joined first).
    ParsePool(int threads, std::shared_ptr<const PageParser> parser,
              std::shared_ptr<SharedWaker> ready);
    ~ParsePool();
    ParsePool(const ParsePool&) = delete;
    ParsePool& operator=(const ParsePool&) = delete;

    void submit(ParseTask&& task);
    // Appends the finished results (in the order they finished) to `out`.
    void take(std::vector<ParsedPage>& out);
    // Tasks submitted and not taken back yet (queued, being parsed, or finished).
    std::size_t pending() const;
    // Waits until a result can be taken or nothing is pending, at most until `deadline`.
    // Returns false when the deadline came first.
    bool wait_for_result(std::chrono::steady_clock::time_point deadline);
    // Drops the tasks not started and the results not taken, and lets the parses in progress
    // finish unobserved. Returns how many pages were dropped or left running. The pool takes
    // nothing more.
    std::size_t abandon();

private:
    struct State;
    static void work(const std::shared_ptr<State>& state);

    std::shared_ptr<State> m_state;
    std::vector<std::thread> m_workers;
};

} // namespace flagcrawl::crawler
