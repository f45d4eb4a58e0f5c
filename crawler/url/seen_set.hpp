// The crawl's seen-set: which URL keys (key_hash of normalize_key, crawler/url.hpp) were already
// accepted. A compact open-addressing table of 64-bit hashes in segments of at most 128 KiB:
// 9.4-11.8 bytes of RAM per key, and a growth holds at most ~290 KiB more, at any size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace flagcrawl::crawler {

// Segments, each a linear-probing table of whole pages (the slot is the high half of
// hash' * capacity, so any capacity works), kept between 68 % and 85 % full: a segment grows by
// a factor 1.25 (to the nearest page) when an insert would pass 85 % of it. So RAM per key is
// 8 / load = 9.4 to 11.8 bytes at rest, from about 10,000 keys on; a smaller set holds a few
// pages (a new one 2 pages, 8 KiB; 16 KiB at 1,000 keys). A growth copies one segment into a
// new one and the two coexist for the time of the copy, so a set's peak is its size plus a
// segment and its successor, not 2.25 times its size (a single table's last growth at 1 million
// keys held 8.3 + 10.4 MB).
//
// Which segment: the directory's entry for the hash's top `m_depth` bits (2^m_depth entries,
// extendible hashing). A segment that would grow past 128 KiB splits instead, into two by the
// next bit of the hash, each sized for its keys at 70 %; the directory doubles first when the
// splitting segment had a single entry. A segment of depth d holds the keys of one d-bit
// prefix, and its slot takes the hash's bits below it (hash' = hash << d): the keys fill the
// segments and their slots uniformly. Each entry holds a copy of its segment's slots, capacity
// and depth: a lookup reads one entry before the slots. Keys that share long prefixes (not a
// uniform hash) make segments grow past 128 KiB instead of splitting where a split would leave
// all the keys on one side, or double a directory that has 8 entries a segment already.
//
// Segments are mapped pages of their own (mmap), so a freed one returns to the system at once:
// on the heap, each growth freed a chunk too small for the next, larger segments, and 16-20 %
// of the table stayed resident as free chunks.
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
    // set is far larger than the caches and its slots are hit at random: prefetching a batch
    // of keys before looking them up overlaps their cache misses instead of waiting for each.
    void prefetch(std::uint64_t hash) const noexcept {
        hash = hash == k_empty ? k_zero_stand_in : hash;
        const Entry& e = m_directory[entry_of(hash)];
        __builtin_prefetch(&e.slots[slot_of(hash, e.capacity, e.depth)]);
    }
    // Sizes the segments for `count` keys at once (resume): each for its share of them and a
    // margin for the hash's random spread (4 standard deviations), so that adding `count` random
    // keys grows no segment, or a rare one.
    void reserve(std::size_t count);

    std::size_t size() const noexcept { return m_size; }
    // Slots over all segments.
    std::size_t capacity() const noexcept { return m_capacity; }
    // Bytes the table holds: the slots. Not counted: the directory and the segments' headers,
    // under 100 bytes a segment (of ~10,000 keys).
    std::size_t memory_bytes() const noexcept { return m_capacity * sizeof(std::uint64_t); }
    // Bytes of the largest segment: a growth or a split holds that and 1.25 times it at most
    // (the old segment and its successors) for the time of its copy, memory_bytes() counting
    // the old one.
    std::size_t largest_segment_bytes() const noexcept;

private:
    static constexpr std::uint64_t k_empty = 0;
    static constexpr std::uint64_t k_zero_stand_in = 0x9e3779b97f4a7c15ULL;

    // Owns `slots` (seen_set.cpp: allocate(), release()).
    struct Segment {
        std::uint64_t* slots = nullptr;
        std::uint32_t capacity = 0;
        std::uint32_t size = 0;
        std::uint32_t limit = 0; // 85 % of capacity: grows before size would pass it
        int depth = 0;           // the hashes of its keys start with the `depth` bits of `prefix`
        std::uint64_t prefix = 0;
    };
    // A directory entry: a copy of its segment's slots, capacity and depth, so that a lookup
    // reads one entry before the slots.
    struct Entry {
        std::uint64_t* slots = nullptr;
        std::uint32_t capacity = 0;
        int depth = 0;
        Segment* segment = nullptr;
    };

    std::size_t entry_of(std::uint64_t hash) const noexcept {
        return static_cast<std::size_t>(hash >> (64 - m_depth)); // m_depth is 1 to 63
    }
    static std::size_t slot_of(std::uint64_t hash, std::uint32_t capacity, int depth) noexcept {
        __extension__ using Wide = unsigned __int128; // GCC and Clang on 64-bit targets
        return static_cast<std::size_t>((static_cast<Wide>(hash << depth) * capacity) >> 64);
    }
    // The slot of `e`'s segment that holds `hash` (not the empty value), or else the empty slot
    // where it would go: a segment is never full, so the probe ends.
    static std::uint64_t& probe(const Entry& e, std::uint64_t hash) noexcept;
    // Adds `hash` (not the empty value) to the segment of `e`, which has room for it.
    bool add(const Entry& e, std::uint64_t hash);
    // add() after make_room(): out of line, so that insert() saves no registers for it.
    [[gnu::noinline]] bool add_making_room(std::uint64_t hash);
    // Grows or splits the segment of `hash` until it has room for one more key; its entry.
    const Entry& make_room(std::uint64_t hash);
    // Whether `s` may split: not when that would double a directory that already has 8 entries
    // a segment (keys that share long prefixes, not a uniform hash: their segments grow instead,
    // as when a split would leave all of a segment's keys on one side).
    bool can_split(const Segment& s) const noexcept;
    // The keys of `s` whose bit below its prefix is 1.
    static std::size_t high_keys(const Segment& s) noexcept;
    // Splits `s` in two by the bit below its prefix (`high`: its high_keys()).
    void split(Segment& s, std::size_t high);
    void resize(Segment& s, std::size_t capacity);
    // Copies `s` into its directory entries.
    void point(Segment& s) noexcept;

    std::vector<std::unique_ptr<Segment>> m_segments;
    std::vector<Entry> m_directory; // 2^m_depth entries
    int m_depth = 1;
    std::size_t m_capacity = 0;
    std::size_t m_size = 0;
};

} // namespace flagcrawl::crawler
