// The flags data set: the country table, the GIF encoder (checked by an independent decoder
// written here), and the routes the flags handler serves.
#include "server/flags.hpp"
#include "server/gif.hpp"
#include "server/server.hpp"
#include "server_test_client.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <random>
#include <set>

using namespace flagcrawl::server;
using flagcrawl::server::testing::TestClient;

namespace {

// A strict GIF decoder for one-image files with a global colour table: returns the image or
// nullopt on any structural error.
std::optional<IndexedImage> decode_gif(const std::string& file) {
    std::size_t at = 0;
    auto byte = [&]() -> std::optional<int> {
        if (at >= file.size())
            return std::nullopt;
        return static_cast<std::uint8_t>(file[at++]);
    };
    auto u16 = [&]() -> std::optional<int> {
        auto lo = byte(), hi = byte();
        if (!lo || !hi)
            return std::nullopt;
        return *lo | (*hi << 8);
    };
    if (file.compare(0, 6, "GIF89a") != 0)
        return std::nullopt;
    at = 6;
    IndexedImage image;
    auto w = u16(), h = u16(), packed = byte();
    if (!w || !h || !packed || !byte() || !byte() || !(*packed & 0x80))
        return std::nullopt;
    const int table_size = 1 << ((*packed & 7) + 1);
    for (int i = 0; i < table_size; ++i) {
        auto r = byte(), g = byte(), b = byte();
        if (!b)
            return std::nullopt;
        image.palette.push_back({static_cast<std::uint8_t>(*r), static_cast<std::uint8_t>(*g),
                                 static_cast<std::uint8_t>(*b)});
    }
    if (byte() != ',')
        return std::nullopt;
    auto left = u16(), top = u16(), iw = u16(), ih = u16(), flags = byte();
    if (!flags || *left != 0 || *top != 0 || *iw != *w || *ih != *h || *flags != 0)
        return std::nullopt;
    image.width = *w;
    image.height = *h;
    auto min_code_size = byte();
    if (!min_code_size || *min_code_size < 2 || *min_code_size > 8)
        return std::nullopt;
    std::string data;
    for (;;) {
        auto size = byte();
        if (!size)
            return std::nullopt;
        if (*size == 0)
            break;
        if (at + static_cast<std::size_t>(*size) > file.size())
            return std::nullopt;
        data.append(file, at, static_cast<std::size_t>(*size));
        at += static_cast<std::size_t>(*size);
    }
    if (byte() != ';' || at != file.size())
        return std::nullopt;

    // LZW decoding, GIF flavour.
    const int clear = 1 << *min_code_size;
    const int eoi = clear + 1;
    std::vector<std::string> table;
    int width = *min_code_size + 1;
    auto reset = [&] {
        table.clear();
        for (int i = 0; i < clear + 2; ++i)
            table.emplace_back(1, static_cast<char>(i));
        width = *min_code_size + 1;
    };
    reset();
    std::size_t bit = 0;
    auto read_code = [&]() -> std::optional<int> {
        if (bit + static_cast<std::size_t>(width) > data.size() * 8)
            return std::nullopt;
        int code = 0;
        for (int i = 0; i < width; ++i, ++bit)
            code |= ((static_cast<std::uint8_t>(data[bit / 8]) >> (bit % 8)) & 1) << i;
        return code;
    };
    std::string out;
    std::optional<std::string> previous;
    for (;;) {
        auto code = read_code();
        if (!code)
            return std::nullopt; // ran out of data before the end-of-information code
        if (*code == clear) {
            reset();
            previous.reset();
            continue;
        }
        if (*code == eoi)
            break;
        std::string entry;
        if (*code < static_cast<int>(table.size()) && (*code < clear || *code > eoi)) {
            entry = table[static_cast<std::size_t>(*code)];
        } else if (*code == static_cast<int>(table.size()) && previous) {
            entry = *previous + previous->front();
        } else {
            return std::nullopt;
        }
        if (!previous && *code > eoi)
            return std::nullopt;
        out += entry;
        if (previous && table.size() < 4096) {
            table.push_back(*previous + entry.front());
            if (static_cast<int>(table.size()) == (1 << width) && width < 12)
                ++width;
        }
        previous = entry;
    }
    if (out.size() != static_cast<std::size_t>(image.width) * image.height)
        return std::nullopt;
    image.pixels.assign(out.begin(), out.end());
    return image;
}

} // namespace

TEST(ServerFlags, TheDataSetHas194SortedCountries) {
    const std::string expected =
        "AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ "
        "CA CD CF CG CH CI CL CM CN CO CR CU CV CY CZ DE DJ DK DM DZ EC EE EG ER ES ET FI FJ FM FR "
        "GA GB GD GE GH GM GN GQ GR GT GW GY HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH "
        "KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MH MK ML MM MN MR MT "
        "MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL PT PW PY QA RO RS RU RW "
        "SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT TV TW "
        "TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW";
    std::string codes;
    for (const Country& c : flag_countries()) {
        if (!codes.empty())
            codes += ' ';
        codes += c.code;
        EXPECT_FALSE(c.name.empty());
        std::string tld(".");
        tld += c.code;
        for (char& ch : tld)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        EXPECT_EQ(c.tld, c.code == "GB" ? ".uk" : tld) << c.code;
    }
    EXPECT_EQ(codes, expected);
    EXPECT_EQ(flag_countries().size(), 194u);
}

TEST(ServerFlags, LookupAndPaths) {
    ASSERT_NE(find_country("cn"), nullptr);
    EXPECT_EQ(find_country("CN")->name, "China");
    EXPECT_EQ(find_country("gb")->tld, ".uk");
    EXPECT_EQ(find_country("XX"), nullptr);
    EXPECT_EQ(find_country(""), nullptr);
    EXPECT_EQ(flag_gif_path("CN"), "/flags/cn/cn.gif");
    EXPECT_EQ(flag_metadata_path("cn"), "/flags/cn/metadata.json");
    EXPECT_EQ(flag_metadata_json(*find_country("CN")),
              R"({"country": "China", "iso_cc": "CN", "tld_cc": ".cn"})");
    EXPECT_EQ(flag_metadata_json(*find_country("GB")),
              R"({"country": "United Kingdom", "iso_cc": "GB", "tld_cc": ".uk"})");
}

TEST(ServerFlags, EveryFlagIsAValidDistinctSmallGif) {
    std::set<std::string> files;
    std::size_t min_size = SIZE_MAX, max_size = 0;
    for (const Country& c : flag_countries()) {
        const std::string gif = flag_gif(c.code);
        EXPECT_GE(gif.size(), 1000u) << c.code;
        EXPECT_LE(gif.size(), 3500u) << c.code;
        min_size = std::min(min_size, gif.size());
        max_size = std::max(max_size, gif.size());
        const auto decoded = decode_gif(gif);
        ASSERT_TRUE(decoded) << c.code;
        const IndexedImage expected = render_flag(c.code);
        EXPECT_EQ(decoded->pixels, expected.pixels) << c.code;
        EXPECT_EQ(decoded->palette[1], expected.palette[1]) << c.code;
        files.insert(gif);
    }
    EXPECT_EQ(files.size(), flag_countries().size());
    std::cout << "GIF sizes: " << min_size << " to " << max_size << " bytes\n";
}

TEST(ServerFlags, EncoderRoundTripsLargeManyColourImages) {
    // Noise with 256 colours fills the 12-bit code table several times (clear codes); a flat
    // image makes very long strings; tiny two-colour images use the minimum code size.
    std::mt19937 rng(7);
    for (const auto& [w, h, colours, noisy] :
         std::vector<std::tuple<int, int, int, bool>>{{300, 200, 256, true},
                                                      {640, 480, 2, false},
                                                      {1, 1, 2, true},
                                                      {7, 3, 2, true},
                                                      {97, 61, 16, true},
                                                      {200, 100, 5, true}}) {
        IndexedImage image;
        image.width = w;
        image.height = h;
        for (int i = 0; i < colours; ++i)
            image.palette.push_back(
                {static_cast<std::uint8_t>(i), 0, static_cast<std::uint8_t>(255 - i)});
        for (int i = 0; i < w * h; ++i)
            image.pixels.push_back(
                static_cast<std::uint8_t>(noisy ? rng() % colours : (i / 1000) % colours));
        const auto decoded = decode_gif(encode_gif(image));
        ASSERT_TRUE(decoded) << w << "x" << h << " " << colours;
        EXPECT_EQ(decoded->pixels, image.pixels) << w << "x" << h << " " << colours;
    }
    IndexedImage bad;
    bad.width = 2;
    bad.height = 1;
    bad.palette = {{0, 0, 0}, {1, 1, 1}};
    bad.pixels = {0, 2};
    EXPECT_THROW(encode_gif(bad), std::invalid_argument);
}

TEST(ServerFlags, HandlerServesGifsAndMetadataAndNothingElse) {
    Server server(flags_handler());
    ASSERT_FALSE(server.start());
    TestClient client(server.port());
    auto gif = client.get("/flags/cn/cn.gif");
    ASSERT_TRUE(gif);
    EXPECT_EQ(gif->status, 200);
    EXPECT_EQ(gif->header("Content-Type"), "image/gif");
    EXPECT_EQ(gif->body, flag_gif("CN"));
    auto meta = client.get("/flags/gb/metadata.json");
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->status, 200);
    EXPECT_EQ(meta->header("Content-Type"), "application/json");
    EXPECT_EQ(meta->body, R"({"country": "United Kingdom", "iso_cc": "GB", "tld_cc": ".uk"})");
    for (const char* missing :
         {"/flags/CN/CN.gif", "/flags/xx/xx.gif", "/flags/cn/br.gif", "/flags/cn/", "/",
          "/flags/cn/cn.gif/x", "/flags/zz/metadata.json"}) {
        auto r = client.get(missing);
        ASSERT_TRUE(r) << missing;
        EXPECT_EQ(r->status, 404) << missing;
    }
    // Query strings do not change what is served.
    auto with_query = client.get("/flags/br/br.gif?x=1");
    ASSERT_TRUE(with_query);
    EXPECT_EQ(with_query->status, 200);
    EXPECT_EQ(with_query->body, flag_gif("br"));
}
