#include "crawler/jobs/file_sink.hpp"

#include "util/fd.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace flagcrawl::crawler {
namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again on every EVP_DigestInit_ex.
const EVP_MD* sha256_md() {
    static const EVP_MD* md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (fetched == nullptr)
            throw std::runtime_error("OpenSSL has no SHA256");
        return fetched;
    }();
    return md;
}

std::string errno_text(const char* what, const std::filesystem::path& path) {
    return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

} // namespace

FileSink::FileSink(const std::filesystem::path& dir, const std::string& final_name)
    : m_temp(dir / ("." + final_name + ".part"))
    , m_final(dir / final_name)
    , m_hash(EVP_MD_CTX_new()) {
    if (m_hash == nullptr || EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr) != 1)
        throw std::bad_alloc();
}

FileSink::~FileSink() {
    if (!m_committed)
        discard();
    EVP_MD_CTX_free(m_hash);
}

bool FileSink::open_temp() {
    m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (m_fd < 0) {
        m_error = errno_text("cannot create", m_temp);
        return false;
    }
    m_created = true;
    return true;
}

void FileSink::close_temp() {
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool FileSink::write(std::span<const char> data) {
    if (m_fd < 0 && !open_temp())
        return false;
    if (!util::write_all(m_fd, data)) {
        m_error = errno_text("cannot write", m_temp);
        return false;
    }
    EVP_DigestUpdate(m_hash, data.data(), data.size());
    return true;
}

void FileSink::reset() {
    if (m_fd >= 0 && ::ftruncate(m_fd, 0) == 0)
        ::lseek(m_fd, 0, SEEK_SET);
    else
        close_temp(); // reopened (truncated) by the next write
    EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr);
    m_error.clear();
}

std::string FileSink::commit() {
    if (m_fd < 0 && !open_temp())
        return m_error;
    if (::close(m_fd) != 0) {
        m_fd = -1;
        return errno_text("cannot write", m_temp);
    }
    m_fd = -1;
    if (::rename(m_temp.c_str(), m_final.c_str()) != 0)
        return errno_text("cannot rename to", m_final);
    m_committed = true;

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_hash, digest, &len);
    static constexpr char k_hex[] = "0123456789abcdef";
    m_sha256.resize(2 * len);
    for (unsigned i = 0; i < len; ++i) {
        m_sha256[2 * i] = k_hex[digest[i] >> 4];
        m_sha256[2 * i + 1] = k_hex[digest[i] & 0xF];
    }
    return {};
}

void FileSink::discard() {
    close_temp();
    if (m_created && !m_committed)
        ::unlink(m_temp.c_str());
    m_created = false;
}

} // namespace flagcrawl::crawler
