// The URL list format: URL and URL<TAB>NAME lines, comments, a byte order mark, and the lines
// that are refused with their number instead of being fetched as mangled URLs.
#include "crawler/jobs/url_list.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

using namespace flagcrawl::crawler;

namespace {

std::vector<ListLine> read_all(const std::string& text) {
    std::istringstream in(text);
    UrlListReader reader(in, "urls.txt");
    std::vector<ListLine> lines;
    while (auto line = reader.next())
        lines.push_back(*line);
    return lines;
}

TEST(UrlList, UrlsNamesCommentsAndBlankLines) {
    const auto lines = read_all("\xEF\xBB\xBFhttp://a.test/1.gif\n"
                                "# a comment\n"
                                "\n"
                                "   http://a.test/2.gif  \r\n"
                                "http://a.test/3.gif\tthree.gif\n"
                                "http://a.test/4.gif \t flags/four 4.gif \n"
                                "\t\n");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].url, "http://a.test/1.gif") << "the byte order mark is not part of it";
    EXPECT_EQ(lines[0].line, 1u);
    EXPECT_EQ(lines[1].url, "http://a.test/2.gif");
    EXPECT_EQ(lines[1].line, 4u);
    EXPECT_EQ(lines[2].name, "three.gif");
    EXPECT_EQ(lines[3].url, "http://a.test/4.gif");
    EXPECT_EQ(lines[3].name, "flags/four 4.gif") << "a name may hold spaces and folders";
    for (const auto& line : lines)
        EXPECT_EQ(line.error, "") << line.url;
}

TEST(UrlList, UnusableLinesAreRefusedWithTheirNumber) {
    const auto lines = read_all("http://a.test/ok\n"
                                "http://a.test/x y.gif\n"
                                "http://a.test/a.gif name.gif\n"
                                "http://a.test/b.gif\ta\tb\n"
                                "http://a.test/c.gif\t../up.gif\n"
                                "http://a.test/d.gif\t/etc/passwd\n"
                                "http://a.test/e.gif\t.hidden\n");
    ASSERT_EQ(lines.size(), 7u);
    EXPECT_EQ(lines[0].error, "");
    EXPECT_EQ(lines[1].error.rfind("urls.txt:2: a space inside the URL", 0), 0u) << lines[1].error;
    EXPECT_NE(lines[1].error.find("%20"), std::string::npos);
    EXPECT_EQ(lines[2].error.rfind("urls.txt:3: a space inside the URL", 0), 0u) << lines[2].error;
    EXPECT_NE(lines[2].error.find("TAB"), std::string::npos);
    EXPECT_EQ(lines[3].error.rfind("urls.txt:4: more than one TAB", 0), 0u) << lines[3].error;
    EXPECT_EQ(lines[4].error.rfind("urls.txt:5: ", 0), 0u) << lines[4].error;
    EXPECT_EQ(lines[5].error.rfind("urls.txt:6: ", 0), 0u) << lines[5].error;
    EXPECT_NE(lines[5].error.find("absolute"), std::string::npos);
    EXPECT_EQ(lines[6].error.rfind("urls.txt:7: ", 0), 0u) << lines[6].error;
    EXPECT_NE(lines[6].error.find("hidden"), std::string::npos);
}

TEST(UrlList, NamesStayBelowTheOutputFolder) {
    EXPECT_EQ(check_list_name("a.gif"), "");
    EXPECT_EQ(check_list_name("sub/dir/a.gif"), "");
    EXPECT_NE(check_list_name(""), "");
    EXPECT_NE(check_list_name("a//b"), "");
    EXPECT_NE(check_list_name("a/./b"), "");
    EXPECT_NE(check_list_name("a/../b"), "");
    EXPECT_NE(check_list_name("a/"), "");
    EXPECT_NE(check_list_name("/a"), "");
    EXPECT_NE(check_list_name(".a.part"), "");
    EXPECT_NE(check_list_name("a\x01"), "");
    EXPECT_NE(check_list_name(std::string(201, 'x')), "");
}

} // namespace
