// --convert-links on a small mirror: relative references between files (query names, ports,
// folders), links to files not saved made absolute, redirects followed, fragments kept, CSS.
#include "file_contents.hpp"
#include "temp_dir.hpp"

#include "crawler/mirror/convert.hpp"

#include <gtest/gtest.h>

namespace {

using namespace flagcrawl::crawler;
using flagcrawl::testing_support::read_file;
using flagcrawl::testing_support::TempDir;

TEST(ConvertLinks, RelativeReferences) {
    EXPECT_EQ(relative_reference("h/a/b.html", "h/a/c.html"), "c.html");
    EXPECT_EQ(relative_reference("h/a/b.html", "h/d/e.html"), "../d/e.html");
    EXPECT_EQ(relative_reference("h/index.html", "h/a/b/c.css"), "a/b/c.css");
    EXPECT_EQ(relative_reference("h/a/b.html", "h/p.html?x=1&y=2"), "../p.html%3Fx=1%26y=2");
    EXPECT_EQ(relative_reference("h/a b.html", "h/c d.html"), "c%20d.html");
    EXPECT_EQ(relative_reference("h:81/a.html", "g:82/b.html"), "../g:82/b.html");
    EXPECT_EQ(relative_reference("h/x/a.html", "h/x:1.html"), "../x:1.html");
    EXPECT_EQ(relative_reference("h/a.html", "h/x:1.html"), "./x:1.html"); // not a scheme
    EXPECT_EQ(relative_reference("h/a.html", "h/100%25"), "100%2525");
}

TEST(ConvertLinks, RewritesHtmlAndCss) {
    TempDir dir("convert");
    MirrorWriter writer(dir.path() / "m");
    const std::string page =
        "<!doctype html><html><head><link rel=stylesheet href=\"/s/site.css\">"
        "<style>body{background:url('/img/b.gif')}</style></head><body>"
        "<a href=\"/q?x=1&amp;y=2#top\">q</a> <a href='other.html'>missing</a> "
        "<a href=\"/old\">moved</a> <img src=/img/b.gif> <a href=\"mailto:x@y\">m</a>"
        "<a href=\"http://elsewhere.example/\">out</a></body></html>";
    const std::string css = "@import \"/s/more.css\";\nh1 { background: url(../img/b.gif) }\n";
    ASSERT_EQ(writer.save("h:8/a/index.html", page), "");
    ASSERT_EQ(writer.save("h:8/s/site.css", css), "");
    ASSERT_EQ(writer.save("h:8/img/b.gif", "GIF89a"), "");
    ASSERT_EQ(writer.save("h:8/q?x=1&y=2", "<p>q</p>"), "");
    ASSERT_EQ(writer.save("h:8/new.html", "<p>new</p>"), "");
    MirrorIndex index;
    index.add_file({"http://h:8/a/", "text/html; charset=utf-8"});
    index.add_file({"http://h:8/s/site.css", "text/css"});
    index.add_file({"http://h:8/img/b.gif", "image/gif"});
    index.add_file({"http://h:8/q?x=1&y=2", "text/html"});
    index.add_file({"http://h:8/new.html", "text/html"});
    index.add_redirect("http://h:8/old", "http://h:8/new.html");
    const ConvertTotals t = convert_links(writer, index);
    EXPECT_EQ(t.failed, 0u) << t.first_error;
    EXPECT_EQ(t.files, 4u); // the three HTML pages and the stylesheet
    const std::string out = read_file(dir.path() / "m/h:8/a/index.html");
    EXPECT_NE(out.find("href=\"../s/site.css\""), std::string::npos) << out;
    EXPECT_NE(out.find("url('../img/b.gif')"), std::string::npos) << out;
    EXPECT_NE(out.find("href=\"../q%3Fx=1%26y=2#top\""), std::string::npos) << out;
    EXPECT_NE(out.find("href='http://h:8/a/other.html'"), std::string::npos) << out;
    EXPECT_NE(out.find("href=\"../new.html\""), std::string::npos) << out;
    EXPECT_NE(out.find("src=../img/b.gif>"), std::string::npos) << out;
    EXPECT_NE(out.find("href=\"mailto:x@y\""), std::string::npos) << out;
    EXPECT_NE(out.find("href=\"http://elsewhere.example/\""), std::string::npos) << out;
    const std::string css_out = read_file(dir.path() / "m/h:8/s/site.css");
    EXPECT_NE(css_out.find("@import \"http://h:8/s/more.css\""), std::string::npos) << css_out;
    EXPECT_NE(css_out.find("url(../img/b.gif)"), std::string::npos) << css_out;
    EXPECT_EQ(read_file(dir.path() / "m/h:8/img/b.gif"), "GIF89a");
}

// http://h/ and http://h/index.html are one file: it is converted once, so its links point at the
// mirror's files, not at the site (a second pass read the first one's relative references as
// links of the site, not in the mirror, and made them absolute URLs).
TEST(ConvertLinks, AFileOfTwoUrlsIsConvertedOnce) {
    TempDir dir("convert");
    MirrorWriter writer(dir.path() / "m");
    ASSERT_EQ(writer.save("h/index.html", "<a href=\"/d/?x=1\">x</a> <a href=\"/d/p.html\">p</a>"),
              "");
    ASSERT_EQ(writer.save("h/d/index.html?x=1", "<a href=\"/\">home</a>"), "");
    ASSERT_EQ(writer.save("h/d/p.html", "<a href=\"/index.html\">home</a>"), "");
    MirrorIndex index;
    index.add_file({"http://h/", "text/html"});
    index.add_file({"http://h/d/?x=1", "text/html"});
    index.add_file({"http://h/d/p.html", "text/html"});
    index.add_file({"http://h/index.html", "text/html"});
    const ConvertTotals t = convert_links(writer, index);
    EXPECT_EQ(t.failed, 0u) << t.first_error;
    EXPECT_EQ(t.files, 3u);
    EXPECT_EQ(t.absolute, 0u);
    EXPECT_EQ(read_file(dir.path() / "m/h/index.html"),
              "<a href=\"d/index.html%3Fx=1\">x</a> <a href=\"d/p.html\">p</a>");
    EXPECT_EQ(read_file(dir.path() / "m/h/d/p.html"), "<a href=\"../index.html\">home</a>");
}

} // namespace
