// Test helper: where the headless browser is (Debian's `chromium`, which .ci/setup installs).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

namespace flagcrawl::testing_support {

// The chromium executable on PATH ("" when there is none: the test is SKIPPED).
inline std::string find_chromium() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const auto candidate = std::filesystem::path(dir) / "chromium";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    return {};
}

} // namespace flagcrawl::testing_support
