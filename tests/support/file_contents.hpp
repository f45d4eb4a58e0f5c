// Test helpers: the bytes of a file, and of every file in a folder, to compare with what was
// served or written; how many finished files a folder holds while a child is still writing it.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

namespace flagcrawl::testing_support {

// The whole file, byte for byte ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// File name -> bytes, for each entry directly in `dir` (which must exist).
inline std::map<std::string, std::string> read_folder(const std::filesystem::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        files[entry.path().filename().string()] = read_file(entry.path());
    return files;
}

// How many files in `dir` are finished: a download is written to an unnamed file or to
// "." + name + ".part", and gets its final name when complete, so entries starting with '.' are
// still being written. 0 while
// `dir` does not exist (the child may not have created it yet).
inline std::size_t count_finished_files(const std::filesystem::path& dir) {
    std::error_code error;
    std::size_t finished = 0;
    for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
         it.increment(error))
        if (!it->path().filename().string().starts_with("."))
            ++finished;
    return finished;
}

} // namespace flagcrawl::testing_support
