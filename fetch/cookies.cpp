#include "fetch/cookies.hpp"

#include "fetch/transfer.hpp"

#include <curl/curl.h>

#include <charconv>
#include <stdexcept>

namespace flagcrawl::fetch {

namespace {

static_assert(CURL_LOCK_DATA_LAST <= 8, "CookieJar::m_locks needs one mutex per lock_data");

CURLSH* as_share(void* p) {
    return static_cast<CURLSH*>(p);
}

CURL* as_easy(void* p) {
    return static_cast<CURL*>(p);
}

bool is_flag(std::string_view field) {
    return field == "TRUE" || field == "FALSE";
}

} // namespace

CookieJar::CookieJar() {
    detail::ensure_curl_global();
    CURLSH* share = curl_share_init();
    if (share == nullptr) {
        throw std::bad_alloc();
    }
    m_share = share;
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &CookieJar::lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &CookieJar::unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    CURL* reader = curl_easy_init();
    if (reader == nullptr) {
        curl_share_cleanup(share);
        throw std::bad_alloc();
    }
    m_reader = reader;
    curl_easy_setopt(reader, CURLOPT_SHARE, share);
    curl_easy_setopt(reader, CURLOPT_COOKIEFILE, "");
}

CookieJar::~CookieJar() {
    // Every easy handle attached to the share must be gone before the share: the fetchers that
    // hold this jar are (they own a shared_ptr to it), and so is the reader, here.
    curl_easy_cleanup(as_easy(m_reader));
    curl_share_cleanup(as_share(m_share));
}

void CookieJar::lock(void*, int data, int, void* self) noexcept {
    static_cast<CookieJar*>(self)->m_locks[static_cast<std::size_t>(data)].lock();
}

void CookieJar::unlock(void*, int data, void* self) noexcept {
    static_cast<CookieJar*>(self)->m_locks[static_cast<std::size_t>(data)].unlock();
}

std::string CookieJar::load_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    std::string_view fields = line;
    if (fields.starts_with("#HttpOnly_")) {
        fields.remove_prefix(10);
    } else if (fields.empty() || fields.front() == '#') {
        return {};
    }
    if (fields.find_first_not_of(" \t") == std::string_view::npos) {
        return {};
    }
    std::string_view parts[7];
    std::size_t count = 0;
    for (std::string_view rest = fields;; ++count) {
        const auto tab = rest.find('\t');
        if (count < 7) {
            parts[count] = rest.substr(0, tab);
        }
        if (tab == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(tab + 1);
    }
    if (count + 1 != 7) {
        return "expected 7 TAB-separated fields (domain, subdomains, path, secure, expiry, name, "
               "value), got " +
               std::to_string(count + 1);
    }
    if (parts[0].empty() || !is_flag(parts[1]) || !is_flag(parts[3])) {
        return "expected a domain, then TRUE or FALSE in the second and fourth fields";
    }
    std::int64_t expiry = 0;
    const auto [end, ec] =
        std::from_chars(parts[4].data(), parts[4].data() + parts[4].size(), expiry);
    if (ec != std::errc() || end != parts[4].data() + parts[4].size()) {
        return "the expiry (fifth field) is not a number of seconds";
    }
    const std::string text(line);
    std::lock_guard lock(m_reader_mutex);
    if (curl_easy_setopt(as_easy(m_reader), CURLOPT_COOKIELIST, text.c_str()) != CURLE_OK) {
        return "libcurl refused the cookie";
    }
    return {};
}

std::vector<std::string> CookieJar::netscape_lines() const {
    std::vector<std::string> lines;
    curl_slist* list = nullptr;
    {
        std::lock_guard lock(m_reader_mutex);
        curl_easy_getinfo(as_easy(m_reader), CURLINFO_COOKIELIST, &list);
    }
    for (curl_slist* item = list; item != nullptr; item = item->next) {
        lines.emplace_back(item->data);
    }
    curl_slist_free_all(list);
    return lines;
}

std::string netscape_file_text(const std::vector<std::string>& lines) {
    std::string text = "# Netscape HTTP Cookie File\n"
                       "# Written by flagcrawl; the format of curl -c and wget "
                       "--save-cookies.\n\n";
    for (const std::string& line : lines) {
        text += line;
        text += '\n';
    }
    return text;
}

} // namespace flagcrawl::fetch
