// Test helper: a fresh folder under the system's temporary folder for one test, removed with
// everything in it when the TempDir goes out of scope.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace flagcrawl::testing_support {

class TempDir {
public:
    // Creates <temp>/flagcrawl-<prefix>-<random digits>; throws if it cannot (no usable test).
    explicit TempDir(const std::string& prefix) {
        std::random_device random;
        m_path =
            std::filesystem::temp_directory_path() /
            ("flagcrawl-" + prefix + "-" + std::to_string(random()) + std::to_string(random()));
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ignored; // leftovers must neither fail the test nor throw here
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    // The path of `name` inside the folder (nothing is created).
    std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

} // namespace flagcrawl::testing_support
