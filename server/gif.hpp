// A minimal GIF89a writer (one image, global colour table, LZW-compressed) for the built-in
// flags data set, which needs small valid images without an image library.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace flagcrawl::server {

// An image of palette indices, row-major, top row first.
struct IndexedImage {
    int width = 0;
    int height = 0;
    std::vector<std::array<std::uint8_t, 3>> palette; // 2..256 RGB entries
    std::vector<std::uint8_t> pixels;                 // width * height indices into palette
};

// The GIF89a file for `image`. Throws std::invalid_argument if the image is inconsistent
// (sizes, an empty or too large palette, an index outside the palette).
std::string encode_gif(const IndexedImage& image);

} // namespace flagcrawl::server
