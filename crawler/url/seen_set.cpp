#include "crawler/url/seen_set.hpp"

#include <algorithm>
#include <cmath>

namespace flagcrawl::crawler {

namespace {

constexpr std::size_t k_initial_capacity = 1024;
constexpr double k_max_load = 0.85;
constexpr double k_growth = 1.25;

std::size_t limit_for(std::size_t capacity) {
    return static_cast<std::size_t>(static_cast<double>(capacity) * k_max_load);
}

} // namespace

SeenSet::SeenSet() {
    rehash(k_initial_capacity);
}

SeenSet::~SeenSet() = default;

bool SeenSet::insert(std::uint64_t hash) {
    if (hash == k_empty) {
        hash = k_zero_stand_in;
    }
    if (m_size + 1 > m_limit) {
        rehash(static_cast<std::size_t>(static_cast<double>(m_capacity) * k_growth) + 1);
    }
    std::size_t i = slot_of(hash);
    for (;;) {
        std::uint64_t& slot = m_slots[i];
        if (slot == hash) {
            return false;
        }
        if (slot == k_empty) {
            slot = hash;
            ++m_size;
            return true;
        }
        if (++i == m_capacity) {
            i = 0;
        }
    }
}

bool SeenSet::contains(std::uint64_t hash) const noexcept {
    if (hash == k_empty) {
        hash = k_zero_stand_in;
    }
    std::size_t i = slot_of(hash);
    for (;;) {
        const std::uint64_t slot = m_slots[i];
        if (slot == hash) {
            return true;
        }
        if (slot == k_empty) {
            return false;
        }
        if (++i == m_capacity) {
            i = 0;
        }
    }
}

void SeenSet::reserve(std::size_t count) {
    if (count > m_limit) {
        rehash(static_cast<std::size_t>(std::ceil(static_cast<double>(count) / k_max_load)) + 1);
    }
}

void SeenSet::rehash(std::size_t capacity) {
    auto old = std::move(m_slots);
    const std::size_t old_capacity = m_capacity;
    m_slots = std::make_unique<std::uint64_t[]>(capacity); // zeroed: all empty
    m_capacity = capacity;
    m_limit = limit_for(capacity);
    m_size = 0;
    for (std::size_t i = 0; i < old_capacity; ++i) {
        if (old[i] != k_empty) {
            std::size_t j = slot_of(old[i]);
            while (m_slots[j] != k_empty) {
                if (++j == m_capacity) {
                    j = 0;
                }
            }
            m_slots[j] = old[i];
            ++m_size;
        }
    }
}

} // namespace flagcrawl::crawler
