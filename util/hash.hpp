// Small non-cryptographic hashes for deterministic draws and hash maps. Not the seen-set's
// URL hash (crawler/url: url_key_hash), which is chosen for speed on long keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace flagcrawl::util {

// 64-bit FNV-1a of `text`: stable across builds and platforms, for draws that must not change
// from one run to the next (injected errors, generated data).
constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
    }
    return h;
}

// SplitMix64's output function applied to z + the golden-ratio increment: a bijective mixer
// whose outputs for consecutive inputs look independent.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// One step of the SplitMix64 generator on a caller-held state.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    const std::uint64_t out = mix64(state);
    state += 0x9e3779b97f4a7c15ULL;
    return out;
}

// A uniform double in [0, 1) from the top 53 bits of `bits`.
constexpr double unit_interval(std::uint64_t bits) noexcept {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// Transparent hash for unordered containers keyed by std::string and looked up by
// std::string_view (with std::equal_to<>), without building a std::string per lookup.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

} // namespace flagcrawl::util
