// Test helpers: the bytes of a file, and of every file in a folder, to compare with what was
// served or written.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

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

} // namespace flagcrawl::testing_support
