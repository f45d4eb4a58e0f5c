// GIF89a encoding: header, logical screen, global colour table, one image whose pixels are
// LZW-compressed with variable-width codes (GIF flavour: LSB-first, up to 12 bits, clear code
// when the table is full), packed in sub-blocks of at most 255 bytes.
#include "server/gif.hpp"

#include <stdexcept>

namespace flagcrawl::server {

namespace {

constexpr int k_max_code = 4095; // 12-bit codes

void put_u16(std::string& out, int value) {
    out.push_back(static_cast<char>(value & 0xff));
    out.push_back(static_cast<char>((value >> 8) & 0xff));
}

// Packs codes LSB-first and cuts the stream into sub-blocks.
class CodeWriter {
public:
    explicit CodeWriter(std::string& out)
        : m_out(out) {}
    void write(int code, int width) {
        m_bits |= static_cast<std::uint32_t>(code) << m_count;
        m_count += width;
        while (m_count >= 8) {
            push(static_cast<std::uint8_t>(m_bits & 0xff));
            m_bits >>= 8;
            m_count -= 8;
        }
    }
    void finish() {
        if (m_count > 0) {
            push(static_cast<std::uint8_t>(m_bits & 0xff));
        }
        flush_block();
        m_out.push_back('\0'); // block terminator
    }

private:
    void push(std::uint8_t byte) {
        m_block.push_back(static_cast<char>(byte));
        if (m_block.size() == 255) {
            flush_block();
        }
    }
    void flush_block() {
        if (m_block.empty()) {
            return;
        }
        m_out.push_back(static_cast<char>(m_block.size()));
        m_out.append(m_block);
        m_block.clear();
    }
    std::string& m_out;
    std::string m_block;
    std::uint32_t m_bits = 0;
    int m_count = 0;
};

} // namespace

std::string encode_gif(const IndexedImage& image) {
    if (image.width <= 0 || image.height <= 0 || image.width > 0xffff || image.height > 0xffff) {
        throw std::invalid_argument("encode_gif: bad image size");
    }
    if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height) {
        throw std::invalid_argument("encode_gif: pixel count does not match the size");
    }
    if (image.palette.size() < 2 || image.palette.size() > 256) {
        throw std::invalid_argument("encode_gif: the palette needs 2 to 256 colours");
    }

    int table_bits = 1; // the colour table has 2^table_bits entries
    while ((1u << table_bits) < image.palette.size()) {
        ++table_bits;
    }
    const int min_code_size = table_bits < 2 ? 2 : table_bits;
    const int alphabet = 1 << min_code_size;
    for (const std::uint8_t index : image.pixels) {
        if (index >= image.palette.size()) {
            throw std::invalid_argument("encode_gif: pixel index outside the palette");
        }
    }

    std::string out = "GIF89a";
    put_u16(out, image.width);
    put_u16(out, image.height);
    out.push_back(static_cast<char>(0x80 | ((table_bits - 1) << 4) | (table_bits - 1)));
    out.push_back('\0'); // background colour index
    out.push_back('\0'); // no aspect ratio
    for (std::size_t i = 0; i < (1u << table_bits); ++i) {
        for (int c = 0; c < 3; ++c) {
            out.push_back(static_cast<char>(i < image.palette.size() ? image.palette[i][c] : 0));
        }
    }

    out.push_back(','); // image descriptor
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, image.width);
    put_u16(out, image.height);
    out.push_back('\0'); // no local colour table, not interlaced
    out.push_back(static_cast<char>(min_code_size));

    // LZW: the table maps (prefix code, next index) to a code; -1 = absent.
    const int clear = alphabet;
    const int end_of_information = alphabet + 1;
    std::vector<int> table(static_cast<std::size_t>(k_max_code + 1) * alphabet, -1);
    int next_code = alphabet + 2;
    int width = min_code_size + 1;
    CodeWriter writer(out);
    writer.write(clear, width);
    int prefix = image.pixels.front();
    for (std::size_t i = 1; i < image.pixels.size(); ++i) {
        const int index = image.pixels[i];
        int& slot = table[static_cast<std::size_t>(prefix) * alphabet + index];
        if (slot >= 0) {
            prefix = slot;
            continue;
        }
        writer.write(prefix, width);
        if (next_code <= k_max_code) {
            slot = next_code++;
            // The decoder widens its codes one entry later than the encoder adds them.
            if (next_code - 1 == (1 << width) && width < 12) {
                ++width;
            }
        } else {
            writer.write(clear, width);
            std::fill(table.begin(), table.end(), -1);
            next_code = alphabet + 2;
            width = min_code_size + 1;
        }
        prefix = index;
    }
    writer.write(prefix, width);
    // The decoder adds one more entry on reading that last code, and may widen before EOI.
    if (next_code == (1 << width) && width < 12) {
        ++width;
    }
    writer.write(end_of_information, width);
    writer.finish();
    out.push_back(';'); // trailer
    return out;
}

} // namespace flagcrawl::server
