// A cookie jar shared by every transfer of a fetcher, whatever the strategy (libcurl's share
// interface, locked for the threaded strategy's workers), loaded from and saved to the Netscape
// cookie file format that curl, wget and browsers' exporters read and write.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::fetch {

// Thread-safe: transfers on any thread read and update it through libcurl; load_line() and
// netscape_lines() may be called while they run. Pass it in Policy::cookies; it must outlive the
// fetchers that use it (they hold a shared_ptr).
class CookieJar {
public:
    CookieJar();
    ~CookieJar();
    CookieJar(const CookieJar&) = delete;
    CookieJar& operator=(const CookieJar&) = delete;

    // Adds one line of a Netscape cookie file: seven TAB-separated fields (domain, include
    // subdomains TRUE/FALSE, path, secure TRUE/FALSE, expiry in seconds since 1970, name, value),
    // "#HttpOnly_" before the domain for an HttpOnly cookie. Blank lines and other '#' lines are
    // ignored. Returns "" when the line was taken or ignored, else why it is not a cookie line.
    std::string load_line(std::string_view line);

    // Every cookie in the jar (session cookies included), one Netscape line each, in libcurl's
    // order.
    std::vector<std::string> netscape_lines() const;

    // libcurl's CURLSH handle (void* so that the header does not need curl.h): transfers attach
    // to it with CURLOPT_SHARE.
    void* share() const { return m_share; }

private:
    static void lock(void* handle, int data, int access, void* self) noexcept;
    static void unlock(void* handle, int data, void* self) noexcept;

    void* m_share = nullptr;  // CURLSH*
    void* m_reader = nullptr; // CURL* attached to the share: loads and lists
    // One per curl_lock_data value.
    std::array<std::mutex, 8> m_locks;
    mutable std::mutex m_reader_mutex; // m_reader is used by one thread at a time
};

// The text of a Netscape cookie file holding `lines` (with the format's header comment).
std::string netscape_file_text(const std::vector<std::string>& lines);

} // namespace flagcrawl::fetch
