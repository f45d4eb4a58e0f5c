// A forward HTTP proxy for tests, without the network: requests in absolute form
// ("GET http://files.test/a.bin HTTP/1.1", as clients send them to a proxy) are answered by an
// origin handler in this process, whatever host they name, so a client that reaches such a host
// at all went through the proxy.
#pragma once

#include "server/router.hpp"
#include "server/server.hpp"

#include <string>
#include <vector>

namespace flagcrawl::server {

// Wraps `origin`: a request whose target is absolute ("http://HOST[:PORT]/PATH?QUERY") is passed
// on with the target, path and query of its origin form ("/PATH?QUERY"), and counted under its
// absolute target in `seen` (may be null). A request in origin form is not proxied: it is
// answered 400, as a proxy answers a client that did not mean it. CONNECT is not supported (the
// server answers other methods than GET and HEAD itself). Thread-safe if `origin` is.
Handler proxy_handler(Handler origin, HitCounter* seen = nullptr);

} // namespace flagcrawl::server
