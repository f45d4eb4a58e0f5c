// The bump arena gumbo allocates a page's tree from (internal to crawler/html).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace flagcrawl::crawler::html_detail {

// Under AddressSanitizer the arena marks the memory it has not handed out as poisoned, so
// overflows past a block and uses of blocks from a previous page are reported as with malloc.
void poison(void* block, std::size_t size);
void unpoison(void* block, std::size_t size);

// Bump allocator behind GumboOptions::allocator. Gumbo never reallocates (it allocates,
// copies, deallocates), so deallocation only rolls back the most recent block; the rest is
// reclaimed all at once by reset(). Big blocks go to malloc and are freed early when gumbo
// frees one of the last few, else at reset().
class Arena {
public:
    static constexpr std::size_t k_chunk_bytes = 256 * 1024;
    static constexpr std::size_t k_large_bytes = 64 * 1024;
    static constexpr std::size_t k_kept_chunks = 16; // memory kept between pages: 4 MiB
    static constexpr std::size_t k_align = alignof(std::max_align_t);

    Arena() = default;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena() {
        release_large();
        for (Chunk& chunk : m_chunks) {
            unpoison(chunk.data, k_chunk_bytes);
            std::free(chunk.data);
        }
    }

    void* allocate(std::size_t requested) {
        const std::size_t size =
            requested == 0 ? k_align : (requested + k_align - 1) & ~(k_align - 1);
        m_used += size;
        if (size > k_large_bytes) {
            void* block = std::malloc(size);
            if (block == nullptr) {
                throw std::bad_alloc();
            }
            m_large.push_back(block);
            return block;
        }
        if (static_cast<std::size_t>(m_end - m_next) < size) {
            next_chunk();
        }
        m_last = m_next;
        m_next += size;
        unpoison(m_last, requested);
        return m_last;
    }

    void deallocate(void* block) {
        if (block == nullptr) {
            return;
        }
        if (block == m_last) {
            poison(m_last, static_cast<std::size_t>(m_next - m_last));
            m_next = m_last;
            m_last = nullptr;
            return;
        }
        // Vector growth frees the previous big block right after allocating the next one.
        const std::size_t n = m_large.size();
        for (std::size_t i = n; i > 0 && i + 4 > n; --i) {
            if (m_large[i - 1] == block) {
                std::free(block);
                m_large.erase(m_large.begin() + static_cast<std::ptrdiff_t>(i - 1));
                return;
            }
        }
    }

    void reset() {
        release_large();
        while (m_chunks.size() > k_kept_chunks) {
            unpoison(m_chunks.back().data, k_chunk_bytes);
            std::free(m_chunks.back().data);
            m_chunks.pop_back();
        }
        for (Chunk& chunk : m_chunks) {
            poison(chunk.data, k_chunk_bytes);
        }
        m_current = 0;
        m_next = m_end = nullptr;
        m_last = nullptr;
        m_used = 0;
        if (!m_chunks.empty()) {
            m_next = m_chunks[0].data;
            m_end = m_next + k_chunk_bytes;
        }
    }

    std::size_t used() const { return m_used; }

private:
    struct Chunk {
        char* data;
    };

    void next_chunk() {
        if (m_next != nullptr) {
            ++m_current;
        }
        if (m_current >= m_chunks.size()) {
            // calloc returns memory aligned for max_align_t (zeroed: chunks are made rarely).
            auto* data = static_cast<char*>(std::calloc(1, k_chunk_bytes));
            if (data == nullptr) {
                throw std::bad_alloc();
            }
            poison(data, k_chunk_bytes);
            m_chunks.push_back({data});
            m_current = m_chunks.size() - 1;
        }
        m_next = m_chunks[m_current].data;
        m_end = m_next + k_chunk_bytes;
        m_last = nullptr;
    }

    void release_large() {
        for (void* block : m_large) {
            std::free(block);
        }
        m_large.clear();
    }

    std::vector<Chunk> m_chunks;
    std::size_t m_current = 0;
    char* m_next = nullptr;
    char* m_end = nullptr;
    char* m_last = nullptr;
    std::vector<void*> m_large;
    std::size_t m_used = 0;
};

// GumboOptions::allocator/deallocator over an Arena passed as userdata.
void* arena_allocate(void* userdata, std::size_t size) noexcept;
void arena_deallocate(void* userdata, void* block) noexcept;

} // namespace flagcrawl::crawler::html_detail
