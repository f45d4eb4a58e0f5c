#include "crawler/html/arena.hpp"

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace flagcrawl::crawler::html_detail {

void poison(void* block, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __asan_poison_memory_region(block, size);
#else
    (void)block;
    (void)size;
#endif
}

void unpoison(void* block, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __asan_unpoison_memory_region(block, size);
#else
    (void)block;
    (void)size;
#endif
}

// Gumbo is C: nothing may unwind through it. An allocation failure inside gumbo aborts
// (gumbo has no way to report it), which is what malloc failing inside gumbo does anyway.
void* arena_allocate(void* userdata, std::size_t size) noexcept {
    try {
        return static_cast<Arena*>(userdata)->allocate(size);
    } catch (...) {
        std::abort();
    }
}

void arena_deallocate(void* userdata, void* block) noexcept {
    static_cast<Arena*>(userdata)->deallocate(block);
}

} // namespace flagcrawl::crawler::html_detail
