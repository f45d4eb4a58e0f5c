// Internal to fetch/: the three Fetcher implementations behind make_fetcher().
#pragma once

#include "fetch/fetch.hpp"

#include <memory>

namespace flagcrawl::fetch::detail {

std::unique_ptr<Fetcher> make_sequential_fetcher(Policy policy);
std::unique_ptr<Fetcher> make_threaded_fetcher(Policy policy, int concurrency);
std::unique_ptr<Fetcher> make_async_fetcher(Policy policy, int concurrency);

} // namespace flagcrawl::fetch::detail
