// The flags command's choices, from tables: which codes (letters, -a, -e, precedence, repeats,
// order, limit, bad codes), which server (modes, URLs), and the --metadata file names.
#include "crawler/jobs/flags_codes.hpp"
#include "crawler/jobs/flags_job.hpp"

#include <gtest/gtest.h>

using namespace flagcrawl::crawler;

namespace {

const std::vector<std::string_view> k_data_set = {"AD", "BR", "CN", "ZW"};

std::vector<std::string> select(CodeSelection selection) {
    auto codes = select_flag_codes(selection, k_data_set);
    EXPECT_TRUE(codes) << codes.error().message;
    return codes ? *codes : std::vector<std::string>{};
}

std::string select_error(CodeSelection selection) {
    auto codes = select_flag_codes(selection, k_data_set);
    EXPECT_FALSE(codes);
    return codes ? std::string() : codes.error().message;
}

} // namespace

TEST(FlagsCodes, DefaultIsPop20Sorted) {
    auto codes = select({});
    ASSERT_EQ(codes.size(), 20u);
    EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
    EXPECT_EQ(codes.front(), "BD");
    EXPECT_EQ(codes.back(), "VN");
    for (std::string_view cc : k_pop20_codes)
        EXPECT_NE(std::find(codes.begin(), codes.end(), cc), codes.end()) << cc;
}

TEST(FlagsCodes, PositionalCodesAreCaseInsensitiveSortedAndDeduplicated) {
    EXPECT_EQ(select({.codes = {"us", "CN", "Br", "cn", "US"}}),
              (std::vector<std::string>{"BR", "CN", "US"}));
}

TEST(FlagsCodes, OneLetterStandsForItsTwentySixCodes) {
    auto codes = select({.codes = {"b"}});
    ASSERT_EQ(codes.size(), 26u);
    EXPECT_EQ(codes.front(), "BA");
    EXPECT_EQ(codes.back(), "BZ");
    // Mixed with codes: repeats are dropped, order is alphabetical.
    codes = select({.codes = {"ZW", "B", "BR", "a"}});
    ASSERT_EQ(codes.size(), 53u);
    EXPECT_EQ(codes[0], "AA");
    EXPECT_EQ(codes[26], "BA");
    EXPECT_EQ(codes[52], "ZW");
}

TEST(FlagsCodes, EveryBeatsAllBeatsPositional) {
    auto every = select({.codes = {"CN"}, .all = true, .every = true});
    ASSERT_EQ(every.size(), 676u);
    EXPECT_EQ(every.front(), "AA");
    EXPECT_EQ(every[1], "AB");
    EXPECT_EQ(every.back(), "ZZ");
    EXPECT_EQ(select({.codes = {"US"}, .all = true}),
              (std::vector<std::string>{"AD", "BR", "CN", "ZW"}));
}

TEST(FlagsCodes, LimitCutsTheSortedList) {
    EXPECT_EQ(select({.every = true, .limit = 3}), (std::vector<std::string>{"AA", "AB", "AC"}));
    EXPECT_EQ(select({.limit = 2}), (std::vector<std::string>{"BD", "BR"}));
    EXPECT_EQ(select({.codes = {"cn"}, .limit = 1000}), (std::vector<std::string>{"CN"}));
    EXPECT_NE(select_error({.limit = 0}).find("--limit"), std::string::npos);
    EXPECT_NE(select_error({.limit = -3}).find("-3"), std::string::npos);
}

TEST(FlagsCodes, BadCodesAreNamed) {
    for (const char* bad : {"USA", "1", "c3", "", "é", "A-", "ZZZ"}) {
        const std::string message = select_error({.codes = {"CN", bad}});
        EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
        EXPECT_NE(message.find("AA to ZZ"), std::string::npos) << message;
    }
    // Still checked when -e makes the codes moot: a typo is reported.
    EXPECT_NE(select_error({.codes = {"USA"}, .every = true}).find("USA"), std::string::npos);
}

TEST(FlagsServer, ModesAreCaseInsensitive) {
    struct Case {
        const char* text;
        FlagsServerMode mode;
        const char* base;
    };
    for (const Case& c : {
             Case{"embedded", FlagsServerMode::embedded, ""},
             Case{"EMBEDDED", FlagsServerMode::embedded, ""},
             Case{"Delay", FlagsServerMode::delay, ""},
             Case{"ERROR", FlagsServerMode::error, ""},
             Case{"local", FlagsServerMode::local, "http://localhost:8000/flags"},
             Case{"REMOTE", FlagsServerMode::remote, "http://fluentpython.com/data/flags"},
             Case{"http://127.0.0.1:8001/flags/", FlagsServerMode::url,
                  "http://127.0.0.1:8001/flags"},
             Case{"https://Example.COM", FlagsServerMode::url, "https://example.com"},
             Case{"http://h:81/a/b//", FlagsServerMode::url, "http://h:81/a/b"},
         }) {
        auto server = parse_flags_server(c.text);
        ASSERT_TRUE(server) << c.text << ": " << server.error().message;
        EXPECT_EQ(server->mode, c.mode) << c.text;
        EXPECT_EQ(server->base_url, c.base) << c.text;
    }
    EXPECT_EQ(to_label(FlagsServerMode::delay), "DELAY");
    EXPECT_TRUE(is_embedded(FlagsServerMode::error));
    EXPECT_FALSE(is_embedded(FlagsServerMode::local));
}

TEST(FlagsServer, UnknownModesAndBadUrlsAreUsageErrors) {
    for (const char* bad : {"", "lokal", "ftp://h/flags", "http://", "http://h/x?y=1",
                            "http://h/x#f", "localhost:8000", "mailto:a@b"}) {
        auto server = parse_flags_server(bad);
        ASSERT_FALSE(server) << bad;
        EXPECT_NE(server.error().message.find("--server"), std::string::npos);
        EXPECT_NE(server.error().message.find(bad), std::string::npos);
    }
}

TEST(FlagsServer, RequestUrls) {
    EXPECT_EQ(flag_gif_url("http://h/flags", "CN"), "http://h/flags/cn/cn.gif");
    EXPECT_EQ(flag_metadata_url("http://h/flags", "cN"), "http://h/flags/cn/metadata.json");
}

TEST(FlagsFileNames, CountryNameAndCodeInSafeCharacters) {
    struct Case {
        const char* country;
        const char* code;
        const char* name;
    };
    for (const Case& c : {
             Case{"China", "CN", "China-CN.gif"},
             Case{"United States", "US", "United_States-US.gif"},
             Case{"Côte d'Ivoire", "CI", "Cote_dIvoire-CI.gif"},
             Case{"São Tomé and Príncipe", "ST", "Sao_Tome_and_Principe-ST.gif"},
             Case{"Guinea-Bissau", "GW", "Guinea-Bissau-GW.gif"},
             Case{"Bosnia and Herzegovina", "BA", "Bosnia_and_Herzegovina-BA.gif"},
             Case{"  ../../etc/passwd  ", "XX", "etc_passwd-XX.gif"},
             Case{"a/b\\c:d*e?f\"g<h>i|j", "XX", "a_b_c_d_e_f_g_h_i_j-XX.gif"},
             Case{"日本", "JP", "JP.gif"},
             Case{"Ελλάδα Greece", "GR", "Greece-GR.gif"},
             Case{"", "ZZ", "ZZ.gif"},
             Case{"Foo\x01\nBar\xff", "XX", "Foo_Bar-XX.gif"},
             Case{"Ærø × Øst", "XX", "AEro_Ost-XX.gif"},
         }) {
        EXPECT_EQ(flag_file_name(c.country, c.code), c.name) << c.country;
    }
    const std::string long_name(300, 'x');
    EXPECT_EQ(flag_file_name(long_name, "XX"), std::string(100, 'x') + "-XX.gif");
}
