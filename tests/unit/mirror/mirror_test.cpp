// Mirror file names (wget -x layout, sanitized: no collisions, nothing outside the folder) and
// the writer (atomic, never through a symbolic link).
#include "file_contents.hpp"
#include "temp_dir.hpp"

#include "crawler/mirror/mirror.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

namespace {

using flagcrawl::crawler::mirror_path;
using flagcrawl::crawler::MirrorWriter;
using flagcrawl::testing_support::TempDir;

std::string path_of(std::string_view url) {
    auto parsed = flagcrawl::crawler::parse(url);
    EXPECT_TRUE(parsed) << url;
    return parsed ? mirror_path(*parsed) : std::string();
}

TEST(MirrorPath, WgetLayout) {
    EXPECT_EQ(path_of("http://Example.com/"), "example.com/index.html");
    EXPECT_EQ(path_of("http://example.com"), "example.com/index.html");
    EXPECT_EQ(path_of("http://h.org/a/b/"), "h.org/a/b/index.html");
    EXPECT_EQ(path_of("http://h.org:8080/a/b.html"), "h.org:8080/a/b.html");
    EXPECT_EQ(path_of("http://h.org:80/a"), "h.org/a");
    EXPECT_EQ(path_of("https://h.org:443/a"), "h.org/a");
    EXPECT_EQ(path_of("https://h.org:80/a"), "h.org:80/a");
    EXPECT_EQ(path_of("http://h.org/page.html?x=1&y=2#top"), "h.org/page.html?x=1&y=2");
    EXPECT_EQ(path_of("http://h.org/?q"), "h.org/index.html?q");
    EXPECT_EQ(path_of("http://127.0.0.1:8000/s/p.html"), "127.0.0.1:8000/s/p.html");
    EXPECT_EQ(path_of("http://[::1]:8000/"), "[::1]:8000/index.html");
}

TEST(MirrorPath, NamesAreDecodedButNeverEscapeOrHide) {
    EXPECT_EQ(path_of("http://h/a%20b/caf%C3%A9.html"), "h/a b/café.html");
    EXPECT_EQ(path_of("http://h/a%2Fb"), "h/a%2Fb"); // no extra folder
    EXPECT_EQ(path_of("http://h/a%2F..%2F..%2Fetc"), "h/a%2F..%2F..%2Fetc");
    EXPECT_EQ(path_of("http://h/%2e%2e/%2E/x"), "h/x");        // dot segments resolved
    EXPECT_EQ(path_of("http://h/.htaccess"), "h/%2Ehtaccess"); // not hidden
    EXPECT_EQ(path_of("http://h/..."), "h/%2E..");
    EXPECT_EQ(path_of("http://h/a%3Fb"), "h/a%3Fb"); // '?' only before a query
    EXPECT_EQ(path_of("http://h/?p=/etc/passwd"), "h/index.html?p=%2Fetc%2Fpasswd");
    EXPECT_EQ(path_of("http://h/100%"), "h/100%%");
    EXPECT_EQ(path_of("http://h/100%25"), "h/100%25");
    EXPECT_EQ(path_of("http://h/a%00b%0A"), "h/a%00b%0A");
    EXPECT_EQ(path_of("http://h/a\\b"), "h/a/b"); // a backslash is a slash in http URLs
    EXPECT_EQ(path_of("http://h/a//b"), "h/a/%empty/b");
}

TEST(MirrorPath, LongNamesAreCutWithAHash) {
    const std::string a(300, 'a');
    const std::string p1 = path_of("http://h/" + a + "1");
    const std::string p2 = path_of("http://h/" + a + "2");
    EXPECT_NE(p1, p2);
    EXPECT_LE(p1.size() - 2, flagcrawl::crawler::k_max_mirror_segment);
    EXPECT_NE(p1.find("%h"), std::string::npos);
    const std::string e(150, 'e');
    const std::string cut = path_of("http://h/" + e + "%C3%A9%C3%A9" + a);
    EXPECT_EQ(cut.find('\xC3', cut.size() - 20), std::string::npos); // not inside a sequence
}

TEST(MirrorPath, DifferentUrlsGetDifferentPaths) {
    const char* urls[] = {
        "http://h/a",       "http://h/a/",    "http://h/a?",  "http://h/a?x", "http://h/a%3Fx",
        "http://h/a%253Fx", "http://h/a%25",  "http://h/a%",  "http://h/.a",  "http://h:81/a",
        "http://h/A",       "http://h/a%2Fb", "http://h/a/b", "http://h//a",  "http://h/%empty/a",
        "http://h/a b",     "http://h/a+b"};
    // Equivalent spellings of one name (RFC 3986 6.2.2.2) are one file, as in wget.
    EXPECT_EQ(path_of("http://h/%2Ea"), path_of("http://h/.a"));
    EXPECT_EQ(path_of("http://h/%41"), path_of("http://h/A"));
    std::set<std::string> paths;
    for (const char* url : urls)
        EXPECT_TRUE(paths.insert(path_of(url)).second) << url << " -> " << path_of(url);
}

TEST(MirrorWriter, SavesAtomicallyAndReplaces) {
    TempDir dir("mirror");
    MirrorWriter writer(dir.path() / "m");
    EXPECT_EQ(writer.save("h:8080/a/b.html?x=1", "one"), "");
    EXPECT_EQ(writer.save("h:8080/a/b.html?x=1", "two"), "");
    const auto file = dir.path() / "m" / "h:8080" / "a" / "b.html?x=1";
    EXPECT_EQ(flagcrawl::testing_support::read_file(file), "two");
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path()))
        EXPECT_FALSE(entry.path().filename().string().ends_with(".part")) << entry.path();
    EXPECT_EQ(writer.saved(), 2u);
}

// "/d/" and "/d/index.html" are one file, and may be saved by two threads at once.
TEST(MirrorWriter, OneFileSavedFromSeveralThreadsAtOnce) {
    TempDir dir("mirror");
    MirrorWriter writer(dir.path() / "m");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&writer, t] {
            for (int i = 0; i < 200; ++i)
                EXPECT_EQ(writer.save("h/d/index.html", std::string(1000, char('a' + t))), "");
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(writer.saved(), 800u);
    const std::string last = flagcrawl::testing_support::read_file(dir.path() / "m/h/d/index.html");
    EXPECT_EQ(last.size(), 1000u);
    EXPECT_EQ(last.find_first_not_of(last[0]), std::string::npos) << "one whole save, not a mix";
}

TEST(MirrorWriter, NeverFollowsASymbolicLink) {
    TempDir dir("mirror");
    const auto outside = dir.path() / "outside";
    std::filesystem::create_directories(outside);
    std::filesystem::create_directories(dir.path() / "m");
    std::filesystem::create_directory_symlink(outside, dir.path() / "m" / "h");
    MirrorWriter writer(dir.path() / "m");
    const std::string error = writer.save("h/x.html", "data");
    EXPECT_NE(error, "");
    EXPECT_TRUE(std::filesystem::is_empty(outside));
    EXPECT_EQ(writer.failed(), 1u);
    EXPECT_NE(writer.save("../escape", "data"), "");
    EXPECT_NE(writer.save("h2/../../escape", "data"), "");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "escape"));
}

TEST(MirrorWriter, AFileWhereAFolderIsNeededIsAnError) {
    TempDir dir("mirror");
    MirrorWriter writer(dir.path() / "m");
    ASSERT_EQ(writer.save("h/a", "file"), "");
    EXPECT_NE(writer.save("h/a/b", "x").find("not a folder"), std::string::npos);
    ASSERT_EQ(writer.save("h/d/e", "x"), "");
    EXPECT_NE(writer.save("h/d", "x").find("folder of that name"), std::string::npos);
}

} // namespace
