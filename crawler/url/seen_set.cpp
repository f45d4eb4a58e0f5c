#include "crawler/url/seen_set.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

namespace flagcrawl::crawler {

namespace {

constexpr double k_max_load = 0.85;
// The halves of a split start this full: above the 68 % a growth leaves, so that the whole set
// stays under 11.8 bytes per key when the page rounding of the halves' sizes adds up.
constexpr double k_split_load = 0.70;

// The size that fills `capacity` slots to 85 %: a segment grows before it would pass it.
std::uint32_t limit_for(std::size_t capacity) {
    return static_cast<std::uint32_t>(static_cast<double>(capacity) * k_max_load);
}

// The slots of a page (512 of 4 KiB).
std::size_t page_slots() {
    static const std::size_t slots =
        static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) / sizeof(std::uint64_t);
    return slots;
}

// A segment that would grow past this splits instead: 128 KiB (16 pages where pages are larger).
std::size_t max_segment_slots() {
    return std::max<std::size_t>(128 * 1024 / sizeof(std::uint64_t), 16 * page_slots());
}

// `capacity` rounded up to whole pages.
std::size_t fit_up(std::size_t capacity) {
    const std::size_t page = page_slots();
    return (capacity + page - 1) / page * page;
}

// `capacity` rounded to the nearest whole page (from 8 pages on, this moves it by 1/16 at most),
// and at least `floor`.
std::size_t fit_near(std::size_t capacity, std::size_t floor) {
    const std::size_t page = page_slots();
    return std::max((capacity + page / 2) / page * page, fit_up(floor));
}

// `capacity` (whole pages) zeroed (empty) slots.
std::uint64_t* allocate(std::size_t capacity) {
    if (capacity > std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("SeenSet: a segment of more than 2^32 slots");
    }
    // Populated: the copy into it reads each slot before it writes some, and a page first read
    // maps the shared zero page, then faults a second time on the write.
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE;
#endif
    void* p =
        ::mmap(nullptr, capacity * sizeof(std::uint64_t), PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) {
        throw std::bad_alloc();
    }
    return static_cast<std::uint64_t*>(p); // anonymous pages read as zero
}

void release(std::uint64_t* slots, std::size_t capacity) noexcept {
    ::munmap(slots, capacity * sizeof(std::uint64_t));
}

// The capacity a full segment of `capacity` slots grows to: 1.25 times it.
std::size_t grown(std::size_t capacity) {
    return fit_near(capacity + capacity / 4 + 1, capacity + 1);
}

// The capacity that holds `keys` at the load of a split's halves.
std::size_t split_capacity(std::size_t keys) {
    return fit_near(static_cast<std::size_t>(std::ceil(static_cast<double>(keys) / k_split_load)),
                    keys + 16);
}

// The capacity a segment of depth `depth` needs to take its share of `count` keys, and 4
// standard deviations of the random spread of that share, without growing.
std::size_t reserved_capacity(std::size_t count, int depth) {
    const double share = std::ldexp(static_cast<double>(count), -depth);
    const double keys = share + 4 * std::sqrt(share) + 1;
    return fit_up(static_cast<std::size_t>(std::ceil(keys / k_max_load)) + 1);
}

// Puts `hash` (not there yet) in the first empty (0) slot from slot i on.
void place(std::uint64_t* slots, std::uint32_t capacity, std::size_t i, std::uint64_t hash) {
    while (slots[i] != 0) {
        if (++i == capacity) {
            i = 0;
        }
    }
    slots[i] = hash;
}

} // namespace

SeenSet::SeenSet() {
    m_segments.reserve(2);
    m_directory.resize(2);
    const std::size_t page = page_slots();
    for (std::uint64_t prefix = 0; prefix < 2; ++prefix) {
        auto s = std::make_unique<Segment>();
        s->slots = allocate(page);
        s->capacity = static_cast<std::uint32_t>(page);
        s->limit = limit_for(page);
        s->depth = 1;
        s->prefix = prefix;
        m_capacity += page;
        point(*s);
        m_segments.push_back(std::move(s));
    }
}

SeenSet::~SeenSet() {
    for (const auto& s : m_segments) {
        release(s->slots, s->capacity);
    }
}

bool SeenSet::insert(std::uint64_t hash) {
    if (hash == k_empty) {
        hash = k_zero_stand_in;
    }
    const Entry& e = m_directory[entry_of(hash)];
    if (e.segment->size >= e.segment->limit) [[unlikely]] {
        return add_making_room(hash);
    }
    return add(e, hash);
}

bool SeenSet::add_making_room(std::uint64_t hash) {
    return add(make_room(hash), hash);
}

std::uint64_t& SeenSet::probe(const Entry& e, std::uint64_t hash) noexcept {
    std::size_t i = slot_of(hash, e.capacity, e.depth);
    for (;;) {
        std::uint64_t& slot = e.slots[i];
        if (slot == hash || slot == k_empty) {
            return slot;
        }
        if (++i == e.capacity) {
            i = 0;
        }
    }
}

bool SeenSet::add(const Entry& e, std::uint64_t hash) {
    std::uint64_t& slot = probe(e, hash);
    if (slot == hash) {
        return false;
    }
    slot = hash;
    ++e.segment->size;
    ++m_size;
    return true;
}

bool SeenSet::contains(std::uint64_t hash) const noexcept {
    if (hash == k_empty) {
        hash = k_zero_stand_in;
    }
    return probe(m_directory[entry_of(hash)], hash) == hash;
}

void SeenSet::reserve(std::size_t count) {
    // Each segment once, at its first entry (a segment of depth d has 2^(m_depth - d) in a row).
    for (std::size_t entry = 0; entry < m_directory.size();) {
        Segment& s = *m_directory[entry].segment;
        const std::size_t wanted = reserved_capacity(count, s.depth);
        if (wanted > max_segment_slots() && can_split(s)) {
            split(s, high_keys(s));
            entry = static_cast<std::size_t>(s.prefix) << (m_depth - s.depth);
            continue;
        }
        if (wanted > s.capacity) {
            resize(s, wanted);
        }
        entry += std::size_t{1} << (m_depth - s.depth);
    }
}

std::size_t SeenSet::largest_segment_bytes() const noexcept {
    std::size_t largest = 0;
    for (const auto& s : m_segments) {
        largest = std::max<std::size_t>(largest, s->capacity);
    }
    return largest * sizeof(std::uint64_t);
}

const SeenSet::Entry& SeenSet::make_room(std::uint64_t hash) {
    for (;;) {
        const Entry& e = m_directory[entry_of(hash)];
        Segment& s = *e.segment;
        if (s.size < s.limit) {
            return e;
        }
        const std::size_t capacity = grown(s.capacity);
        const std::size_t high = capacity > max_segment_slots() && can_split(s) ? high_keys(s) : 0;
        if (high != 0 && high != s.size) {
            split(s, high);
        } else {
            resize(s, capacity);
        }
    }
}

bool SeenSet::can_split(const Segment& s) const noexcept {
    return s.depth < m_depth || (m_depth < 63 && m_directory.size() < 8 * m_segments.size());
}

std::size_t SeenSet::high_keys(const Segment& s) noexcept {
    const int shift = 63 - s.depth;
    std::uint64_t high = 0;
    for (std::uint32_t i = 0; i < s.capacity; ++i) {
        high += (s.slots[i] >> shift) & 1; // branch-free: vectorized
    }
    return static_cast<std::size_t>(high);
}

void SeenSet::split(Segment& s, std::size_t high) {
    // Everything that can fail comes first: the set is unchanged if it does.
    m_segments.reserve(m_segments.size() + 1);
    auto upper = std::make_unique<Segment>();
    if (s.depth == m_depth) {
        std::vector<Entry> directory(m_directory.size() * 2);
        for (std::size_t i = 0; i < directory.size(); ++i) {
            directory[i] = m_directory[i / 2];
        }
        m_directory = std::move(directory);
        ++m_depth;
    }
    const std::size_t lower_capacity = split_capacity(s.size - high);
    const std::size_t upper_capacity = split_capacity(high);
    Segment lower{nullptr,
                  static_cast<std::uint32_t>(lower_capacity),
                  static_cast<std::uint32_t>(s.size - high),
                  limit_for(lower_capacity),
                  s.depth + 1,
                  s.prefix * 2};
    *upper = Segment{nullptr,
                     static_cast<std::uint32_t>(upper_capacity),
                     static_cast<std::uint32_t>(high),
                     limit_for(upper_capacity),
                     s.depth + 1,
                     s.prefix * 2 + 1};
    lower.slots = allocate(lower_capacity);
    try {
        upper->slots = allocate(upper_capacity);
    } catch (...) {
        release(lower.slots, lower_capacity);
        throw;
    }

    const std::uint64_t bit = std::uint64_t{1} << (63 - s.depth);
    for (std::uint32_t i = 0; i < s.capacity; ++i) {
        const std::uint64_t key = s.slots[i];
        if (key != k_empty) {
            Segment& to = (key & bit) != 0 ? *upper : lower;
            place(to.slots, to.capacity, slot_of(key, to.capacity, to.depth), key);
        }
    }
    release(s.slots, s.capacity);
    m_capacity += lower_capacity + upper_capacity - s.capacity;
    s = lower;
    point(s);
    point(*upper);
    m_segments.push_back(std::move(upper));
}

void SeenSet::resize(Segment& s, std::size_t capacity) {
    std::uint64_t* const slots = allocate(capacity);
    for (std::uint32_t i = 0; i < s.capacity; ++i) {
        const std::uint64_t key = s.slots[i];
        if (key != k_empty) {
            place(slots, static_cast<std::uint32_t>(capacity),
                  slot_of(key, static_cast<std::uint32_t>(capacity), s.depth), key);
        }
    }
    release(s.slots, s.capacity);
    m_capacity += capacity - s.capacity;
    s.slots = slots;
    s.capacity = static_cast<std::uint32_t>(capacity);
    s.limit = limit_for(capacity);
    point(s);
}

void SeenSet::point(Segment& s) noexcept {
    const std::size_t first = static_cast<std::size_t>(s.prefix) << (m_depth - s.depth);
    const std::size_t count = std::size_t{1} << (m_depth - s.depth);
    std::fill_n(m_directory.begin() + static_cast<std::ptrdiff_t>(first), count,
                Entry{s.slots, s.capacity, s.depth, &s});
}

} // namespace flagcrawl::crawler
