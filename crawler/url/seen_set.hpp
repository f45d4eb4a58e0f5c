// The crawl's seen-set: which URL keys (key_hash of normalize_key, crawler/url.hpp) were already
// accepted. A compact open-addressing table of 64-bit hashes: 9.4-11.8 bytes of RAM per key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace flagcrawl::crawler {

// Linear probing over a table of any size (not a power of two: the slot is the high half of
// hash * capacity), kept between 68 % and 85 % full: it grows by a factor 1.25 when an insert
// would pass 85 %. So RAM per key is 8 / load = 9.4 to 11.8 bytes at rest; during a growth the
// old and the new table coexist for the time of the copy (about 21 bytes per key, briefly).
// A power-of-two table at load 0.375-0.75 would cost 10.7-21.3 bytes per key.
//
// Exact for 64-bit hashes: no false negatives; a false positive needs two different URL keys
// with the same 64-bit hash (hash 0 is stored as another fixed value, so it shares that
// value's fate). Not thread-safe: one owner thread (the crawl loop).
class SeenSet {
public:
    SeenSet();
    ~SeenSet();
    SeenSet(const SeenSet&) = delete;
    SeenSet& operator=(const SeenSet&) = delete;

    // Adds `hash`; true if it was not there.
    bool insert(std::uint64_t hash);
    bool contains(std::uint64_t hash) const noexcept;
    // Asks the CPU to load the slot where a lookup of `hash` starts, and returns at once. A big
    // table is far larger than the caches and its slots are hit at random: prefetching a batch
    // of keys before looking them up overlaps their cache misses instead of waiting for each.
    void prefetch(std::uint64_t hash) const noexcept {
        __builtin_prefetch(&m_slots[slot_of(hash == k_empty ? k_zero_stand_in : hash)]);
    }
    // Sizes the table for `count` keys at once (resume): no growth until then.
    void reserve(std::size_t count);

    std::size_t size() const noexcept { return m_size; }
    std::size_t capacity() const noexcept { return m_capacity; }
    // Bytes the table holds (the slots; the object itself is a few words).
    std::size_t memory_bytes() const noexcept { return m_capacity * sizeof(std::uint64_t); }

private:
    static constexpr std::uint64_t k_empty = 0;
    static constexpr std::uint64_t k_zero_stand_in = 0x9e3779b97f4a7c15ULL;
    std::size_t slot_of(std::uint64_t hash) const noexcept {
        __extension__ using Wide = unsigned __int128; // GCC and Clang on 64-bit targets
        return static_cast<std::size_t>((static_cast<Wide>(hash) * m_capacity) >> 64);
    }
    void rehash(std::size_t capacity);

    std::unique_ptr<std::uint64_t[]> m_slots;
    std::size_t m_capacity = 0;
    std::size_t m_size = 0;
    std::size_t m_limit = 0; // grow when m_size would pass it
};

} // namespace flagcrawl::crawler
