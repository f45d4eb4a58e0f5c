// File naming and the atomic file sink of the download job.
#include "file_contents.hpp"
#include "temp_dir.hpp"

#include "crawler/jobs/file_names.hpp"
#include "crawler/jobs/file_sink.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using flagcrawl::crawler::file_name_for_path;
using flagcrawl::crawler::FileSink;
using flagcrawl::crawler::k_max_file_name;
using flagcrawl::crawler::NameAllocator;
using flagcrawl::crawler::OpenFolder;
using flagcrawl::crawler::ResumeFrom;
using flagcrawl::crawler::SinkOptions;
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

TEST(NameAllocator, TheCounterGoesInTheLastSegment) {
    NameAllocator names;
    EXPECT_EQ(names.claim("v1.2/a"), "v1.2/a");
    EXPECT_EQ(names.claim("v1.2/a"), "v1.2/a.1");
    EXPECT_EQ(names.claim("d/b.gif"), "d/b.gif");
    EXPECT_EQ(names.claim("d/b.gif"), "d/b.1.gif");
}

class FileSinkTest : public testing::Test {
protected:
    std::size_t entries() {
        return static_cast<std::size_t>(std::distance(fs::directory_iterator(m_dir.path()), {}));
    }

    TempDir m_dir{"sink"};
};

TEST_F(FileSinkTest, CommitLinksAnUnnamedFileAndHashes) {
    if (const int probe = ::open(m_dir.path().c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        probe >= 0) {
        ::close(probe);
    } else {
        GTEST_SKIP() << "no unnamed files (O_TMPFILE) on the file system of " << m_dir.path();
    }
    FileSink sink(m_dir.path(), "x.txt");
    ASSERT_TRUE(sink.write(std::string_view("hello ")));
    EXPECT_EQ(entries(), 0u) << "no name at all before commit (O_TMPFILE)";
    ASSERT_TRUE(sink.write(std::string_view("world")));
    ASSERT_EQ(sink.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.txt"), "hello world");
    EXPECT_EQ(sink.sha256(), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    EXPECT_EQ(entries(), 1u);
}

TEST_F(FileSinkTest, WithoutUnnamedFilesTheBodyGoesToAPartFileRenamedOnCommit) {
    auto folder = std::make_shared<const OpenFolder>(
        ::open(m_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), m_dir.path());
    folder->no_anonymous_files(); // as a file system without O_TMPFILE leaves it
    FileSink sink(folder, "x.txt");
    ASSERT_TRUE(sink.write(std::string_view("hello ")));
    EXPECT_FALSE(fs::exists(m_dir.path() / "x.txt")) << "no final name before commit";
    EXPECT_TRUE(fs::exists(m_dir.path() / ".x.txt.part"));
    ASSERT_TRUE(sink.write(std::string_view("world")));
    ASSERT_EQ(sink.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.txt"), "hello world");
    EXPECT_EQ(sink.sha256(), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    EXPECT_EQ(entries(), 1u);
}

TEST_F(FileSinkTest, AFileAlreadyThereIsReplacedOnlyOnCommit) {
    std::ofstream(m_dir.path() / "x.txt", std::ios::binary) << "old version";
    FileSink sink(m_dir.path(), "x.txt");
    ASSERT_TRUE(sink.write(std::string_view("hello world")));
    EXPECT_EQ(read_file(m_dir.path() / "x.txt"), "old version");
    ASSERT_EQ(sink.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.txt"), "hello world");
    EXPECT_EQ(entries(), 1u) << "no temporary name left behind";
}

TEST_F(FileSinkTest, SinksShareTheirFolderDescriptor) {
    auto folder = std::make_shared<const OpenFolder>(
        ::open(m_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), m_dir.path());
    {
        FileSink a(folder, "a");
        FileSink b(folder, "b");
        EXPECT_EQ(folder.use_count(), 3);
        ASSERT_EQ(a.commit(), "");
        ASSERT_EQ(b.commit(), "");
        EXPECT_EQ(a.final_path(), (m_dir.path() / "a").string());
    }
    EXPECT_EQ(folder.use_count(), 1);
    EXPECT_EQ(::fcntl(folder->fd(), F_GETFD), FD_CLOEXEC) << "still open for the next sink";
    EXPECT_EQ(entries(), 2u);
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

// --continue and --timestamping: the sink as the engine drives it (begin, writes, commit).
class ResumingSinkTest : public FileSinkTest {
protected:
    void put(const std::string& name, const std::string& bytes) {
        std::ofstream(m_dir.path() / name, std::ios::binary) << bytes;
    }
    FileSink sink(const std::string& name, SinkOptions options) {
        return FileSink(
            std::make_shared<const OpenFolder>(
                ::open(m_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), m_dir.path()),
            name, std::move(options));
    }
    static flagcrawl::fetch::Response head(int status, std::string content_range = {}) {
        flagcrawl::fetch::Response r;
        r.http_status = status;
        r.content_range = std::move(content_range);
        return r;
    }
    static constexpr const char* k_hello_world_sha =
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
};

TEST_F(ResumingSinkTest, AppendsARangeToTheKeptPartAndHashesTheWholeFile) {
    put(".x.bin.part", "hello ");
    FileSink s =
        sink("x.bin", {.resume = ResumeFrom{ResumeFrom::File::part, 6}, .keep_partial = true});
    ASSERT_TRUE(s.begin(head(206, "bytes 6-10/11")));
    ASSERT_TRUE(s.write(std::string_view("world")));
    ASSERT_EQ(s.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello world");
    EXPECT_EQ(s.sha256(), k_hello_world_sha);
    EXPECT_EQ(entries(), 1u) << "the part file became the file";
}

TEST_F(ResumingSinkTest, AppendsInPlaceToAFileLeftByAnotherTool) {
    put("x.bin", "hello ");
    FileSink s =
        sink("x.bin", {.resume = ResumeFrom{ResumeFrom::File::final, 6}, .keep_partial = true});
    ASSERT_TRUE(s.begin(head(206, "bytes 6-10/11")));
    ASSERT_TRUE(s.write(std::string_view("wor")));
    s.reset(); // a retry: the attempt's bytes go, the kept ones stay
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello ");
    ASSERT_TRUE(s.begin(head(206, "bytes 6-10/11")));
    ASSERT_TRUE(s.write(std::string_view("world")));
    ASSERT_EQ(s.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello world");
    EXPECT_EQ(s.sha256(), k_hello_world_sha);
    EXPECT_EQ(entries(), 1u);
}

TEST_F(ResumingSinkTest, AWholeBodyReplacesThePartialFile) {
    put("x.bin", "hello ");
    FileSink s =
        sink("x.bin", {.resume = ResumeFrom{ResumeFrom::File::final, 6}, .keep_partial = true});
    ASSERT_TRUE(s.begin(head(200)));
    ASSERT_TRUE(s.write(std::string_view("hello world")));
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello ") << "replaced only when complete";
    ASSERT_EQ(s.commit(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello world");
    EXPECT_EQ(s.sha256(), k_hello_world_sha);
}

TEST_F(ResumingSinkTest, ARangeFromElsewhereIsRefused) {
    put(".x.bin.part", "hello ");
    FileSink s =
        sink("x.bin", {.resume = ResumeFrom{ResumeFrom::File::part, 6}, .keep_partial = true});
    EXPECT_FALSE(s.begin(head(206, "bytes 0-10/11")));
    EXPECT_TRUE(s.range_refused());
    s.discard();
    EXPECT_EQ(read_file(m_dir.path() / ".x.bin.part"), "hello ") << "the kept part stays";
}

TEST_F(ResumingSinkTest, AWholeKeptPartIsCommittedWithItsHash) {
    put(".x.bin.part", "hello world");
    FileSink s =
        sink("x.bin", {.resume = ResumeFrom{ResumeFrom::File::part, 11}, .keep_partial = true});
    ASSERT_EQ(s.commit_kept(), "");
    EXPECT_EQ(read_file(m_dir.path() / "x.bin"), "hello world");
    EXPECT_EQ(s.sha256(), k_hello_world_sha);
    EXPECT_EQ(entries(), 1u);
}

TEST_F(ResumingSinkTest, AFailedTransferKeepsItsPartWhenAsked) {
    {
        FileSink s = sink("kept.bin", {.keep_partial = true});
        ASSERT_TRUE(s.begin(head(200)));
        ASSERT_TRUE(s.write(std::string_view("abc")));
        s.discard();
    }
    EXPECT_EQ(read_file(m_dir.path() / ".kept.bin.part"), "abc");
    {
        FileSink s = sink("gone.bin", {});
        ASSERT_TRUE(s.begin(head(200)));
        ASSERT_TRUE(s.write(std::string_view("abc")));
    }
    EXPECT_FALSE(fs::exists(m_dir.path() / ".gone.bin.part"));
}

TEST_F(ResumingSinkTest, ErrorBodiesAreNotWritten) {
    FileSink s = sink("x.bin", {.keep_partial = true});
    ASSERT_TRUE(s.begin(head(404)));
    ASSERT_TRUE(s.write(std::string_view("<h1>Not Found</h1>")));
    s.discard();
    EXPECT_EQ(entries(), 0u);
}

TEST_F(ResumingSinkTest, ServerTimeSetsTheModificationTime) {
    FileSink s = sink("t.bin", {.server_time = true});
    auto h = head(200);
    h.last_modified = "Sun, 06 Nov 1994 08:49:37 GMT";
    ASSERT_TRUE(s.begin(h));
    ASSERT_TRUE(s.write(std::string_view("x")));
    ASSERT_EQ(s.commit(), "");
    struct stat st {};
    ASSERT_EQ(::stat((m_dir.path() / "t.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 784111777);
}

} // namespace
