// What libcurl's global initialisation, as the engine runs it, leaves untouched: OpenSSL's
// libcrypto, whose initialisation (config, engines, every algorithm) keeps about 2 MiB of pages
// resident in every run (ARCHITECTURE.md, "Memory"). A test executable of its own, so that
// nothing else in the process has initialised OpenSSL first.
#include "fetch/transfer.hpp"

// ENGINE_get_first, deprecated in OpenSSL 3, is the one place where an initialisation that
// loaded OpenSSL's built-in engines shows.
#define OPENSSL_API_COMPAT 10101
#include <openssl/engine.h>

#include <gtest/gtest.h>

#include <dlfcn.h>

namespace {

TEST(CurlGlobalInit, LeavesOpenSslsEnginesUnloaded) {
    flagcrawl::fetch::detail::ensure_curl_global();
    ENGINE* first = ENGINE_get_first();
    EXPECT_EQ(first, nullptr)
        << "libcurl's global init loaded OpenSSL's engines: either libcurl is the OpenSSL flavour "
           "(.ci/setup installs libcurl4-gnutls-dev) or libssh2's crypto init ran ("
        << (dlsym(RTLD_DEFAULT, "libssh2_init") ? "libssh2 is loaded" : "no libssh2") << ")";
    if (first != nullptr) {
        ENGINE_free(first);
    }
}

} // namespace
