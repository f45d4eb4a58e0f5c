// Internals of the WHATWG URL parser, exposed for its tests: the state machine without the
// fast path, and host parsing (domains with percent-decoding and IDNA "domain to ASCII", IPv4
// number forms, IPv6, opaque hosts).
#pragma once

#include "crawler/url/url.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler::url_detail {

// parse(input, base, encoding) always through the state machine: the oracle that the fast
// path of resolving against a base (which splices common relative references into the base's
// serialization) must equal, component by component.
UrlResult parse_full(std::string_view input, const Url* base, QueryEncoding encoding = {});

// The host parser: `input` is the host as written in the URL (still percent-encoded, IPv6
// with its brackets); `special` selects domain/IPv4 parsing (http, file, ...) over the opaque
// host of other schemes. Appends the serialized host to `out` on success; on failure `out`
// may hold a partial host (callers discard it). Thread-safe.
std::optional<UrlError> parse_host(std::string_view input, bool special, std::string& out);

// UTS #46 ToASCII as the URL Standard's "domain to ASCII" asks (CheckHyphens=false,
// CheckBidi=true, CheckJoiners=true, UseSTD3ASCIIRules=false, Transitional_Processing=false,
// VerifyDnsLength=false) for a UTF-8 domain that holds at least one non-ASCII code point.
// Replaces `out` with the ASCII result; false when the domain is invalid.
bool domain_to_ascii_idna(std::string_view domain, std::string& out);

// Punycode (RFC 3492) of one label's code points, appended to `out` (without "xn--").
// False on overflow (labels far longer than DNS allows).
bool punycode_encode(std::u32string_view label, std::string& out);
// Decodes the part of an A-label after "xn--"; false when it is not valid Punycode.
bool punycode_decode(std::string_view encoded, std::u32string& out);

} // namespace flagcrawl::crawler::url_detail
