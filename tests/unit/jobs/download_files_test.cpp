// File naming and the atomic file sink of the download job.
#include "file_contents.hpp"
#include "temp_dir.hpp"

#include "crawler/jobs/file_names.hpp"
#include "crawler/jobs/file_sink.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;
using flagcrawl::crawler::file_name_for_path;
using flagcrawl::crawler::FileSink;
using flagcrawl::crawler::k_max_file_name;
using flagcrawl::crawler::NameAllocator;
using flagcrawl::testing_support::read_file;
using flagcrawl::testing_support::TempDir;

namespace {

struct NameCase {
    const char* path;
    const char* name;
};

const NameCase k_name_cases[] = {
    {"/flags/cn/cn.gif", "cn.gif"},
    {"/", "index.html"},
    {"", "index.html"},
    {"/docs/", "index.html"},
    {"/a/b%20c.gif", "b c.gif"},
    {"/a/%2e%2e", "_."}, // decodes to "..": leading dot replaced
    {"/a/..", "_."},
    {"/a/.hidden", "_hidden"},
    {"/a/x%2fy", "x_y"},     // an encoded slash never makes a path
    {"/a/x%5cy", "x_y"},     // nor an encoded backslash
    {"/a/x%00y%0a", "x_y_"}, // control bytes
    {"/a/b.gif?x=1#frag", "b.gif"},
    {"/a/%zz%4", "%zz%4"}, // malformed escapes kept literally
    {"/caf%C3%A9.txt", "caf\xC3\xA9.txt"},
};

class FileNameTest : public testing::TestWithParam<NameCase> {};

TEST_P(FileNameTest, DerivedFromLastSegment) {
    EXPECT_EQ(file_name_for_path(GetParam().path), GetParam().name) << GetParam().path;
}

INSTANTIATE_TEST_SUITE_P(Table, FileNameTest, testing::ValuesIn(k_name_cases));

TEST(FileName, LongNamesAreCutKeepingTheExtension) {
    std::string path = "/" + std::string(300, 'a') + ".gif";
    std::string name = file_name_for_path(path);
    EXPECT_EQ(name.size(), k_max_file_name);
    EXPECT_TRUE(name.ends_with(".gif"));
}

TEST(FileName, LongNamesAreCutOnUtf8Boundaries) {
    std::string path = "/";
    for (int i = 0; i < 150; ++i)
        path += "\xC3\xA9"; // é, 2 bytes
    std::string name = file_name_for_path(path);
    EXPECT_LE(name.size(), k_max_file_name);
    EXPECT_EQ(name.size() % 2, 0u);
}

TEST(NameAllocator, CollisionsGetACounterInOrder) {
    NameAllocator names;
    EXPECT_EQ(names.claim("a.gif"), "a.gif");
    EXPECT_EQ(names.claim("a.gif"), "a.1.gif");
    EXPECT_EQ(names.claim("a.1.gif"), "a.1.1.gif"); // taken by the previous line
    EXPECT_EQ(names.claim("a.gif"), "a.2.gif");
    EXPECT_EQ(names.claim("README"), "README");
    EXPECT_EQ(names.claim("README"), "README.1");
}

class FileSinkTest : public testing::Test {
protected:
    std::size_t entries() {
        return static_cast<std::size_t>(std::distance(fs::directory_iterator(m_dir.path()), {}));
    }

    TempDir m_dir{"sink"};
};

TEST_F(FileSinkTest, CommitRenamesAndHashes) {
    FileSink sink(m_dir.path(), "x.txt");
    ASSERT_TRUE(sink.write(std::string_view("hello ")));
    EXPECT_FALSE(fs::exists(m_dir.path() / "x.txt")) << "no final name before commit";
    EXPECT_TRUE(fs::exists(m_dir.path() / ".x.txt.part"));
    ASSERT_TRUE(sink.write(std::string_view("world")));
    ASSERT_EQ(sink.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.txt"), "hello world");
    EXPECT_EQ(sink.sha256(), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    EXPECT_EQ(entries(), 1u);
}

TEST_F(FileSinkTest, EmptyBodyStillMakesAFile) {
    FileSink sink(m_dir.path(), "empty");
    ASSERT_EQ(sink.commit(), "");
    EXPECT_TRUE(fs::exists(m_dir.path() / "empty"));
    EXPECT_EQ(sink.sha256(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(FileSinkTest, ResetStartsOver) {
    FileSink sink(m_dir.path(), "r.bin");
    ASSERT_TRUE(sink.write(std::string_view("partial garbage")));
    sink.reset();
    ASSERT_TRUE(sink.write(std::string_view("hello world")));
    ASSERT_EQ(sink.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "r.bin"), "hello world");
    EXPECT_EQ(sink.sha256(), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
}

TEST_F(FileSinkTest, DiscardAndDestructorLeaveNothing) {
    {
        FileSink sink(m_dir.path(), "gone");
        ASSERT_TRUE(sink.write(std::string_view("x")));
        sink.discard();
    }
    {
        FileSink sink(m_dir.path(), "dropped");
        ASSERT_TRUE(sink.write(std::string_view("x")));
    }
    EXPECT_EQ(entries(), 0u);
}

TEST_F(FileSinkTest, UnwritableFolderIsAnErrorValue) {
    FileSink sink(m_dir.path() / "missing", "x");
    EXPECT_FALSE(sink.write(std::string_view("x")));
    EXPECT_NE(sink.error().find("missing"), std::string::npos) << sink.error();
    EXPECT_NE(sink.commit(), "");
}

} // namespace
