#include "crawler/html/charset.hpp"

#include "crawler/html/links.hpp"
#include "crawler/html/text.hpp"
#include "util/ascii.hpp"
#include "util/utf8.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>

namespace flagcrawl::crawler {
namespace {

constexpr std::size_t k_encodings = static_cast<std::size_t>(Encoding::x_user_defined) + 1;

struct EncodingInfo {
    std::string_view name;    // the standard's
    const char* iconv;        // glibc's name for decoding (nullptr: handled here)
    const char* iconv_encode; // for encoding queries, when not the same
    bool single_byte;
};

constexpr EncodingInfo k_info[k_encodings] = {
    {"UTF-8", nullptr, nullptr, false},
    {"IBM866", "IBM866", nullptr, true},
    {"ISO-8859-2", "ISO-8859-2", nullptr, true},
    {"ISO-8859-3", "ISO-8859-3", nullptr, true},
    {"ISO-8859-4", "ISO-8859-4", nullptr, true},
    {"ISO-8859-5", "ISO-8859-5", nullptr, true},
    {"ISO-8859-6", "ISO-8859-6", nullptr, true},
    {"ISO-8859-7", "ISO-8859-7", nullptr, true},
    {"ISO-8859-8", "ISO-8859-8", nullptr, true},
    {"ISO-8859-8-I", "ISO-8859-8", nullptr, true},
    {"ISO-8859-10", "ISO-8859-10", nullptr, true},
    {"ISO-8859-13", "ISO-8859-13", nullptr, true},
    {"ISO-8859-14", "ISO-8859-14", nullptr, true},
    {"ISO-8859-15", "ISO-8859-15", nullptr, true},
    {"ISO-8859-16", "ISO-8859-16", nullptr, true},
    {"KOI8-R", "KOI8-R", nullptr, true},
    {"KOI8-U", "KOI8-U", nullptr, true},
    {"macintosh", "MACINTOSH", nullptr, true},
    {"windows-874", "CP874", nullptr, true},
    {"windows-1250", "CP1250", nullptr, true},
    {"windows-1251", "CP1251", nullptr, true},
    {"windows-1252", "CP1252", nullptr, true},
    {"windows-1253", "CP1253", nullptr, true},
    {"windows-1254", "CP1254", nullptr, true},
    {"windows-1255", "CP1255", nullptr, true},
    {"windows-1256", "CP1256", nullptr, true},
    {"windows-1257", "CP1257", nullptr, true},
    {"windows-1258", "CP1258", nullptr, true},
    {"x-mac-cyrillic", "MAC-CYRILLIC", nullptr, true},
    {"GBK", "GB18030", "GBK", false}, // the standard decodes GBK as gb18030
    {"gb18030", "GB18030", nullptr, false},
    {"Big5", "BIG5-HKSCS", nullptr, false},
    {"EUC-JP", "EUC-JP", nullptr, false},
    {"ISO-2022-JP", "ISO-2022-JP", nullptr, false},
    {"Shift_JIS", "CP932", nullptr, false}, // windows-31j: JIS X 0208 with the Windows rows
    {"EUC-KR", "CP949", nullptr, false},    // windows-949 (UHC)
    {"replacement", nullptr, nullptr, false},
    {"UTF-16BE", "UTF-16BE", nullptr, false},
    {"UTF-16LE", "UTF-16LE", nullptr, false},
    {"x-user-defined", nullptr, nullptr, true},
};

const EncodingInfo& info(Encoding e) {
    return k_info[static_cast<std::size_t>(e)];
}

struct Label {
    std::string_view label;
    Encoding encoding;
};

// The standard's labels (https://encoding.spec.whatwg.org/#names-and-labels), lower case.
constexpr Label k_labels[] = {
    {"unicode-1-1-utf-8", Encoding::utf8},
    {"unicode11utf8", Encoding::utf8},
    {"unicode20utf8", Encoding::utf8},
    {"utf-8", Encoding::utf8},
    {"utf8", Encoding::utf8},
    {"x-unicode20utf8", Encoding::utf8},
    {"866", Encoding::ibm866},
    {"cp866", Encoding::ibm866},
    {"csibm866", Encoding::ibm866},
    {"ibm866", Encoding::ibm866},
    {"csisolatin2", Encoding::iso_8859_2},
    {"iso-8859-2", Encoding::iso_8859_2},
    {"iso-ir-101", Encoding::iso_8859_2},
    {"iso8859-2", Encoding::iso_8859_2},
    {"iso88592", Encoding::iso_8859_2},
    {"iso_8859-2", Encoding::iso_8859_2},
    {"iso_8859-2:1987", Encoding::iso_8859_2},
    {"l2", Encoding::iso_8859_2},
    {"latin2", Encoding::iso_8859_2},
    {"csisolatin3", Encoding::iso_8859_3},
    {"iso-8859-3", Encoding::iso_8859_3},
    {"iso-ir-109", Encoding::iso_8859_3},
    {"iso8859-3", Encoding::iso_8859_3},
    {"iso88593", Encoding::iso_8859_3},
    {"iso_8859-3", Encoding::iso_8859_3},
    {"iso_8859-3:1988", Encoding::iso_8859_3},
    {"l3", Encoding::iso_8859_3},
    {"latin3", Encoding::iso_8859_3},
    {"csisolatin4", Encoding::iso_8859_4},
    {"iso-8859-4", Encoding::iso_8859_4},
    {"iso-ir-110", Encoding::iso_8859_4},
    {"iso8859-4", Encoding::iso_8859_4},
    {"iso88594", Encoding::iso_8859_4},
    {"iso_8859-4", Encoding::iso_8859_4},
    {"iso_8859-4:1988", Encoding::iso_8859_4},
    {"l4", Encoding::iso_8859_4},
    {"latin4", Encoding::iso_8859_4},
    {"csisolatincyrillic", Encoding::iso_8859_5},
    {"cyrillic", Encoding::iso_8859_5},
    {"iso-8859-5", Encoding::iso_8859_5},
    {"iso-ir-144", Encoding::iso_8859_5},
    {"iso8859-5", Encoding::iso_8859_5},
    {"iso88595", Encoding::iso_8859_5},
    {"iso_8859-5", Encoding::iso_8859_5},
    {"iso_8859-5:1988", Encoding::iso_8859_5},
    {"arabic", Encoding::iso_8859_6},
    {"asmo-708", Encoding::iso_8859_6},
    {"csiso88596e", Encoding::iso_8859_6},
    {"csiso88596i", Encoding::iso_8859_6},
    {"csisolatinarabic", Encoding::iso_8859_6},
    {"ecma-114", Encoding::iso_8859_6},
    {"iso-8859-6", Encoding::iso_8859_6},
    {"iso-8859-6-e", Encoding::iso_8859_6},
    {"iso-8859-6-i", Encoding::iso_8859_6},
    {"iso-ir-127", Encoding::iso_8859_6},
    {"iso8859-6", Encoding::iso_8859_6},
    {"iso88596", Encoding::iso_8859_6},
    {"iso_8859-6", Encoding::iso_8859_6},
    {"iso_8859-6:1987", Encoding::iso_8859_6},
    {"csisolatingreek", Encoding::iso_8859_7},
    {"ecma-118", Encoding::iso_8859_7},
    {"elot_928", Encoding::iso_8859_7},
    {"greek", Encoding::iso_8859_7},
    {"greek8", Encoding::iso_8859_7},
    {"iso-8859-7", Encoding::iso_8859_7},
    {"iso-ir-126", Encoding::iso_8859_7},
    {"iso8859-7", Encoding::iso_8859_7},
    {"iso88597", Encoding::iso_8859_7},
    {"iso_8859-7", Encoding::iso_8859_7},
    {"iso_8859-7:1987", Encoding::iso_8859_7},
    {"sun_eu_greek", Encoding::iso_8859_7},
    {"csiso88598e", Encoding::iso_8859_8},
    {"csisolatinhebrew", Encoding::iso_8859_8},
    {"hebrew", Encoding::iso_8859_8},
    {"iso-8859-8", Encoding::iso_8859_8},
    {"iso-8859-8-e", Encoding::iso_8859_8},
    {"iso-ir-138", Encoding::iso_8859_8},
    {"iso8859-8", Encoding::iso_8859_8},
    {"iso88598", Encoding::iso_8859_8},
    {"iso_8859-8", Encoding::iso_8859_8},
    {"iso_8859-8:1988", Encoding::iso_8859_8},
    {"visual", Encoding::iso_8859_8},
    {"csiso88598i", Encoding::iso_8859_8_i},
    {"iso-8859-8-i", Encoding::iso_8859_8_i},
    {"logical", Encoding::iso_8859_8_i},
    {"csisolatin6", Encoding::iso_8859_10},
    {"iso-8859-10", Encoding::iso_8859_10},
    {"iso-ir-157", Encoding::iso_8859_10},
    {"iso8859-10", Encoding::iso_8859_10},
    {"iso885910", Encoding::iso_8859_10},
    {"l6", Encoding::iso_8859_10},
    {"latin6", Encoding::iso_8859_10},
    {"iso-8859-13", Encoding::iso_8859_13},
    {"iso8859-13", Encoding::iso_8859_13},
    {"iso885913", Encoding::iso_8859_13},
    {"iso-8859-14", Encoding::iso_8859_14},
    {"iso8859-14", Encoding::iso_8859_14},
    {"iso885914", Encoding::iso_8859_14},
    {"csisolatin9", Encoding::iso_8859_15},
    {"iso-8859-15", Encoding::iso_8859_15},
    {"iso8859-15", Encoding::iso_8859_15},
    {"iso885915", Encoding::iso_8859_15},
    {"iso_8859-15", Encoding::iso_8859_15},
    {"l9", Encoding::iso_8859_15},
    {"iso-8859-16", Encoding::iso_8859_16},
    {"cskoi8r", Encoding::koi8_r},
    {"koi", Encoding::koi8_r},
    {"koi8", Encoding::koi8_r},
    {"koi8-r", Encoding::koi8_r},
    {"koi8_r", Encoding::koi8_r},
    {"koi8-ru", Encoding::koi8_u},
    {"koi8-u", Encoding::koi8_u},
    {"csmacintosh", Encoding::macintosh},
    {"mac", Encoding::macintosh},
    {"macintosh", Encoding::macintosh},
    {"x-mac-roman", Encoding::macintosh},
    {"dos-874", Encoding::windows_874},
    {"iso-8859-11", Encoding::windows_874},
    {"iso8859-11", Encoding::windows_874},
    {"iso885911", Encoding::windows_874},
    {"tis-620", Encoding::windows_874},
    {"windows-874", Encoding::windows_874},
    {"cp1250", Encoding::windows_1250},
    {"windows-1250", Encoding::windows_1250},
    {"x-cp1250", Encoding::windows_1250},
    {"cp1251", Encoding::windows_1251},
    {"windows-1251", Encoding::windows_1251},
    {"x-cp1251", Encoding::windows_1251},
    {"ansi_x3.4-1968", Encoding::windows_1252},
    {"ascii", Encoding::windows_1252},
    {"cp1252", Encoding::windows_1252},
    {"cp819", Encoding::windows_1252},
    {"csisolatin1", Encoding::windows_1252},
    {"ibm819", Encoding::windows_1252},
    {"iso-8859-1", Encoding::windows_1252},
    {"iso-ir-100", Encoding::windows_1252},
    {"iso8859-1", Encoding::windows_1252},
    {"iso88591", Encoding::windows_1252},
    {"iso_8859-1", Encoding::windows_1252},
    {"iso_8859-1:1987", Encoding::windows_1252},
    {"l1", Encoding::windows_1252},
    {"latin1", Encoding::windows_1252},
    {"us-ascii", Encoding::windows_1252},
    {"windows-1252", Encoding::windows_1252},
    {"x-cp1252", Encoding::windows_1252},
    {"cp1253", Encoding::windows_1253},
    {"windows-1253", Encoding::windows_1253},
    {"x-cp1253", Encoding::windows_1253},
    {"cp1254", Encoding::windows_1254},
    {"csisolatin5", Encoding::windows_1254},
    {"iso-8859-9", Encoding::windows_1254},
    {"iso-ir-148", Encoding::windows_1254},
    {"iso8859-9", Encoding::windows_1254},
    {"iso88599", Encoding::windows_1254},
    {"iso_8859-9", Encoding::windows_1254},
    {"iso_8859-9:1989", Encoding::windows_1254},
    {"l5", Encoding::windows_1254},
    {"latin5", Encoding::windows_1254},
    {"windows-1254", Encoding::windows_1254},
    {"x-cp1254", Encoding::windows_1254},
    {"cp1255", Encoding::windows_1255},
    {"windows-1255", Encoding::windows_1255},
    {"x-cp1255", Encoding::windows_1255},
    {"cp1256", Encoding::windows_1256},
    {"windows-1256", Encoding::windows_1256},
    {"x-cp1256", Encoding::windows_1256},
    {"cp1257", Encoding::windows_1257},
    {"windows-1257", Encoding::windows_1257},
    {"x-cp1257", Encoding::windows_1257},
    {"cp1258", Encoding::windows_1258},
    {"windows-1258", Encoding::windows_1258},
    {"x-cp1258", Encoding::windows_1258},
    {"x-mac-cyrillic", Encoding::x_mac_cyrillic},
    {"x-mac-ukrainian", Encoding::x_mac_cyrillic},
    {"chinese", Encoding::gbk},
    {"csgb2312", Encoding::gbk},
    {"csiso58gb231280", Encoding::gbk},
    {"gb2312", Encoding::gbk},
    {"gb_2312", Encoding::gbk},
    {"gb_2312-80", Encoding::gbk},
    {"gbk", Encoding::gbk},
    {"iso-ir-58", Encoding::gbk},
    {"x-gbk", Encoding::gbk},
    {"gb18030", Encoding::gb18030},
    {"big5", Encoding::big5},
    {"big5-hkscs", Encoding::big5},
    {"cn-big5", Encoding::big5},
    {"csbig5", Encoding::big5},
    {"x-x-big5", Encoding::big5},
    {"cseucpkdfmtjapanese", Encoding::euc_jp},
    {"euc-jp", Encoding::euc_jp},
    {"x-euc-jp", Encoding::euc_jp},
    {"csiso2022jp", Encoding::iso_2022_jp},
    {"iso-2022-jp", Encoding::iso_2022_jp},
    {"csshiftjis", Encoding::shift_jis},
    {"ms932", Encoding::shift_jis},
    {"ms_kanji", Encoding::shift_jis},
    {"shift-jis", Encoding::shift_jis},
    {"shift_jis", Encoding::shift_jis},
    {"sjis", Encoding::shift_jis},
    {"windows-31j", Encoding::shift_jis},
    {"x-sjis", Encoding::shift_jis},
    {"cseuckr", Encoding::euc_kr},
    {"csksc56011987", Encoding::euc_kr},
    {"euc-kr", Encoding::euc_kr},
    {"iso-ir-149", Encoding::euc_kr},
    {"korean", Encoding::euc_kr},
    {"ks_c_5601-1987", Encoding::euc_kr},
    {"ks_c_5601-1989", Encoding::euc_kr},
    {"ksc5601", Encoding::euc_kr},
    {"ksc_5601", Encoding::euc_kr},
    {"windows-949", Encoding::euc_kr},
    {"csiso2022kr", Encoding::replacement},
    {"hz-gb-2312", Encoding::replacement},
    {"iso-2022-cn", Encoding::replacement},
    {"iso-2022-cn-ext", Encoding::replacement},
    {"iso-2022-kr", Encoding::replacement},
    {"replacement", Encoding::replacement},
    {"unicodefffe", Encoding::utf16be},
    {"utf-16be", Encoding::utf16be},
    {"csunicode", Encoding::utf16le},
    {"iso-10646-ucs-2", Encoding::utf16le},
    {"ucs-2", Encoding::utf16le},
    {"unicode", Encoding::utf16le},
    {"unicodefeff", Encoding::utf16le},
    {"utf-16", Encoding::utf16le},
    {"utf-16le", Encoding::utf16le},
    {"x-user-defined", Encoding::x_user_defined},
};

// The meta prescan's "get an attribute" (lower-cased name and value), over body[pos, end).
// Returns false when there is no further attribute (a '>' or the end).
bool prescan_attribute(std::string_view body, std::size_t& pos, std::string& name,
                       std::string& value) {
    const std::size_t end = body.size();
    name.clear();
    value.clear();
    while (pos < end && (util::is_ascii_space(body[pos]) || body[pos] == '/')) {
        ++pos;
    }
    if (pos >= end || body[pos] == '>') {
        return false;
    }
    for (;;) {
        if (pos >= end) {
            return false;
        }
        const char c = body[pos];
        if (c == '=' && !name.empty()) {
            ++pos;
            break;
        }
        if (util::is_ascii_space(c)) {
            while (pos < end && util::is_ascii_space(body[pos])) {
                ++pos;
            }
            if (pos >= end || body[pos] != '=') {
                return true;
            }
            ++pos;
            break;
        }
        if (c == '/' || c == '>') {
            return true;
        }
        name.push_back(util::to_lower(c));
        ++pos;
    }
    while (pos < end && util::is_ascii_space(body[pos])) {
        ++pos;
    }
    if (pos >= end) {
        return false;
    }
    const char first = body[pos];
    if (first == '"' || first == '\'') {
        ++pos;
        while (pos < end && body[pos] != first) {
            value.push_back(util::to_lower(body[pos]));
            ++pos;
        }
        if (pos >= end) {
            return false;
        }
        ++pos;
        return true;
    }
    if (first == '>') {
        return true;
    }
    while (pos < end && !util::is_ascii_space(body[pos]) && body[pos] != '>') {
        value.push_back(util::to_lower(body[pos]));
        ++pos;
    }
    return pos < end;
}

// HTML's "extract a character encoding from a meta element" (content="text/html; charset=x").
std::optional<Encoding> charset_from_meta_content(std::string_view s) {
    std::size_t pos = 0;
    for (;;) {
        std::size_t at = std::string_view::npos;
        for (std::size_t i = pos; i + 7 <= s.size(); ++i) {
            if (util::iequals(s.substr(i, 7), "charset")) {
                at = i;
                break;
            }
        }
        if (at == std::string_view::npos) {
            return std::nullopt;
        }
        pos = at + 7;
        while (pos < s.size() && util::is_ascii_space(s[pos])) {
            ++pos;
        }
        if (pos >= s.size() || s[pos] != '=') {
            continue;
        }
        ++pos;
        while (pos < s.size() && util::is_ascii_space(s[pos])) {
            ++pos;
        }
        if (pos >= s.size()) {
            return std::nullopt;
        }
        if (s[pos] == '"' || s[pos] == '\'') {
            const std::size_t close = s.find(s[pos], pos + 1);
            if (close == std::string_view::npos) {
                return std::nullopt;
            }
            return encoding_from_label(s.substr(pos + 1, close - pos - 1));
        }
        std::size_t end = pos;
        while (end < s.size() && !util::is_ascii_space(s[end]) && s[end] != ';') {
            ++end;
        }
        return encoding_from_label(s.substr(pos, end - pos));
    }
}

bool starts_with_ci(std::string_view s, std::size_t pos, std::string_view prefix) {
    return s.size() - pos >= prefix.size() && util::iequals(s.substr(pos, prefix.size()), prefix);
}

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";

// 256-entry decoding tables of the single-byte encodings, built on first use from iconv.
struct SingleByteTable {
    std::array<char32_t, 128> high{}; // bytes 0x80-0xFF
};

const SingleByteTable& single_byte_table(Encoding e) {
    static std::array<SingleByteTable, k_encodings> tables;
    static std::array<std::once_flag, k_encodings> once;
    const auto index = static_cast<std::size_t>(e);
    std::call_once(once[index], [&] {
        SingleByteTable& t = tables[index];
        if (e == Encoding::x_user_defined) {
            for (std::size_t b = 0; b < 128; ++b) {
                t.high[b] = 0xF780 + static_cast<char32_t>(b);
            }
            return;
        }
        iconv_t cd = iconv_open("UTF-32LE", info(e).iconv);
        for (std::size_t b = 0; b < 128; ++b) {
            char in = static_cast<char>(0x80 + b);
            char out[8] = {};
            char* in_ptr = &in;
            char* out_ptr = out;
            std::size_t in_left = 1;
            std::size_t out_left = sizeof out;
            char32_t cp = 0xFFFD;
            if (cd != reinterpret_cast<iconv_t>(-1)) {
                iconv(cd, nullptr, nullptr, nullptr, nullptr);
                if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) !=
                        static_cast<std::size_t>(-1) &&
                    out_ptr - out == 4) {
                    cp = static_cast<char32_t>(static_cast<unsigned char>(out[0]) |
                                               (static_cast<unsigned char>(out[1]) << 8) |
                                               (static_cast<unsigned char>(out[2]) << 16));
                }
            }
            // The standard's windows-1252 maps the five bytes iconv leaves unassigned to the
            // C1 controls of the same value (as ISO-8859-1 does).
            if (cp == 0xFFFD && e == Encoding::windows_1252) {
                cp = static_cast<char32_t>(0x80 + b);
            }
            t.high[b] = cp;
        }
        if (cd != reinterpret_cast<iconv_t>(-1)) {
            iconv_close(cd);
        }
    });
    return tables[index];
}

std::size_t utf8_length(unsigned char lead) {
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

char32_t utf8_code_point(std::string_view s, std::size_t i, std::size_t len) {
    const auto b = static_cast<unsigned char>(s[i]);
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    }
    return cp;
}

} // namespace

std::string_view to_string(Encoding encoding) {
    return info(encoding).name;
}

std::string_view to_string(EncodingSource source) {
    switch (source) {
    case EncodingSource::bom:
        return "bom";
    case EncodingSource::header:
        return "header";
    case EncodingSource::meta:
        return "meta";
    case EncodingSource::fallback:
        return "default";
    }
    return "default";
}

std::optional<Encoding> encoding_from_label(std::string_view label) {
    label = util::trim(label);
    for (const Label& l : k_labels) {
        if (util::iequals(l.label, label)) {
            return l.encoding;
        }
    }
    return std::nullopt;
}

std::optional<Encoding> encoding_from_content_type(std::string_view content_type) {
    std::size_t pos = content_type.find(';');
    while (pos != std::string_view::npos) {
        ++pos;
        while (pos < content_type.size() && util::is_ascii_space(content_type[pos])) {
            ++pos;
        }
        if (starts_with_ci(content_type, pos, "charset=")) {
            std::string_view value = content_type.substr(pos + 8);
            if (!value.empty() && value.front() == '"') {
                value = value.substr(1, value.find('"', 1) - 1);
            } else {
                value = value.substr(0, value.find(';'));
            }
            return encoding_from_label(value);
        }
        pos = content_type.find(';', pos);
    }
    return std::nullopt;
}

std::optional<Encoding> prescan_meta(std::string_view body) {
    body = body.substr(0, 1024);
    const std::size_t end = body.size();
    std::string name;
    std::string value;
    std::size_t pos = 0;
    while (pos < end) {
        if (body.compare(pos, 4, "<!--") == 0) {
            const std::size_t close = body.find("-->", pos + 2);
            if (close == std::string_view::npos) {
                return std::nullopt;
            }
            pos = close + 3;
            continue;
        }
        if (starts_with_ci(body, pos, "<meta") && pos + 5 < end &&
            (util::is_ascii_space(body[pos + 5]) || body[pos + 5] == '/')) {
            pos += 5;
            bool seen_http_equiv = false;
            bool seen_content = false;
            bool seen_charset = false;
            bool got_pragma = false;
            std::optional<bool> need_pragma;
            std::optional<Encoding> charset;
            while (prescan_attribute(body, pos, name, value)) {
                if (name == "http-equiv") {
                    if (!seen_http_equiv) {
                        seen_http_equiv = true;
                        got_pragma = value == "content-type";
                    }
                } else if (name == "content") {
                    if (!seen_content) {
                        seen_content = true;
                        if (!charset) {
                            if (auto found = charset_from_meta_content(value)) {
                                charset = found;
                                need_pragma = true;
                            }
                        }
                    }
                } else if (name == "charset") {
                    if (!seen_charset) {
                        seen_charset = true;
                        charset = encoding_from_label(value);
                        need_pragma = false;
                    }
                }
            }
            if (need_pragma && charset && (!*need_pragma || got_pragma)) {
                if (*charset == Encoding::utf16be || *charset == Encoding::utf16le) {
                    return Encoding::utf8;
                }
                if (*charset == Encoding::x_user_defined) {
                    return Encoding::windows_1252;
                }
                return charset;
            }
            ++pos;
            continue;
        }
        if (body[pos] == '<' && pos + 1 < end &&
            (util::is_ascii_alpha(body[pos + 1]) ||
             (body[pos + 1] == '/' && pos + 2 < end && util::is_ascii_alpha(body[pos + 2])))) {
            while (pos < end && !util::is_ascii_space(body[pos]) && body[pos] != '>') {
                ++pos;
            }
            while (prescan_attribute(body, pos, name, value)) {
            }
            ++pos;
            continue;
        }
        if (body.compare(pos, 2, "<!") == 0 || body.compare(pos, 2, "</") == 0 ||
            body.compare(pos, 2, "<?") == 0) {
            const std::size_t gt = body.find('>', pos + 2);
            if (gt == std::string_view::npos) {
                return std::nullopt;
            }
            pos = gt + 1;
            continue;
        }
        ++pos;
    }
    return std::nullopt;
}

SniffedEncoding sniff_encoding(std::string_view body, std::string_view content_type) {
    if (body.starts_with("\xEF\xBB\xBF")) {
        return {Encoding::utf8, EncodingSource::bom, 3};
    }
    if (body.starts_with("\xFE\xFF")) {
        return {Encoding::utf16be, EncodingSource::bom, 2};
    }
    if (body.starts_with("\xFF\xFE")) {
        return {Encoding::utf16le, EncodingSource::bom, 2};
    }
    if (auto e = encoding_from_content_type(content_type)) {
        return {*e, EncodingSource::header, 0};
    }
    if (auto e = prescan_meta(body)) {
        return {*e, EncodingSource::meta, 0};
    }
    return {Encoding::windows_1252, EncodingSource::fallback, 0};
}

bool is_ascii_compatible(Encoding encoding) {
    return encoding != Encoding::utf16be && encoding != Encoding::utf16le &&
           encoding != Encoding::iso_2022_jp && encoding != Encoding::replacement;
}

struct Transcoder::Impl {
    std::array<iconv_t, k_encodings> decoders;
    std::array<iconv_t, k_encodings> encoders;

    Impl() {
        decoders.fill(reinterpret_cast<iconv_t>(-1));
        encoders.fill(reinterpret_cast<iconv_t>(-1));
    }
    ~Impl() {
        for (auto* list : {&decoders, &encoders}) {
            for (iconv_t cd : *list) {
                if (cd != reinterpret_cast<iconv_t>(-1)) {
                    iconv_close(cd);
                }
            }
        }
    }

    iconv_t decoder(Encoding e) {
        iconv_t& cd = decoders[static_cast<std::size_t>(e)];
        if (cd == reinterpret_cast<iconv_t>(-1)) {
            cd = iconv_open("UTF-8", info(e).iconv);
        }
        return cd;
    }

    iconv_t encoder(Encoding e) {
        iconv_t& cd = encoders[static_cast<std::size_t>(e)];
        if (cd == reinterpret_cast<iconv_t>(-1)) {
            const char* name =
                info(e).iconv_encode != nullptr ? info(e).iconv_encode : info(e).iconv;
            cd = iconv_open(name, "UTF-8");
        }
        return cd;
    }
};

Transcoder::Transcoder()
    : m_impl(std::make_unique<Impl>()) {}

Transcoder::~Transcoder() = default;

void Transcoder::decode(Encoding encoding, std::string_view bytes, std::string& out) {
    if (encoding == Encoding::utf8) {
        html_detail::append_utf8_repaired(bytes, out);
        return;
    }
    if (encoding == Encoding::replacement) {
        if (!bytes.empty()) {
            out.append(k_replacement);
        }
        return;
    }
    if (info(encoding).single_byte) {
        const SingleByteTable& table = single_byte_table(encoding);
        for (const char c : bytes) {
            const auto b = static_cast<unsigned char>(c);
            if (b < 0x80) {
                out.push_back(c);
            } else {
                util::append_utf8(out, table.high[b - 0x80]);
            }
        }
        return;
    }
    iconv_t cd = m_impl->decoder(encoding);
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        html_detail::append_utf8_repaired(bytes, out); // no converter: read as UTF-8
        return;
    }
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    char buffer[4096];
    while (in_left > 0) {
        char* out_ptr = buffer;
        std::size_t out_left = sizeof buffer;
        const std::size_t rc = iconv(cd, &in, &in_left, &out_ptr, &out_left);
        out.append(buffer, static_cast<std::size_t>(out_ptr - buffer));
        if (rc != static_cast<std::size_t>(-1)) {
            break;
        }
        if (errno == E2BIG) {
            continue;
        }
        out.append(k_replacement);
        if (errno == EINVAL) {
            break; // a sequence cut by the end
        }
        ++in; // EILSEQ: skip the byte that starts no valid sequence
        --in_left;
        iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
}

void Transcoder::encode_query(Encoding encoding, std::string_view text, std::string& out) {
    const bool ascii = std::all_of(text.begin(), text.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii || encoding == Encoding::utf8 || encoding == Encoding::utf16be ||
        encoding == Encoding::utf16le || encoding == Encoding::replacement ||
        encoding == Encoding::x_user_defined) {
        out.append(text);
        return;
    }
    iconv_t cd = m_impl->encoder(encoding);
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        out.append(text);
        return;
    }
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    char* in = const_cast<char*>(text.data());
    std::size_t in_left = text.size();
    char buffer[1024];
    for (;;) {
        char* out_ptr = buffer;
        std::size_t out_left = sizeof buffer;
        const std::size_t rc = in_left > 0 ? iconv(cd, &in, &in_left, &out_ptr, &out_left)
                                           : iconv(cd, nullptr, nullptr, &out_ptr, &out_left);
        out.append(buffer, static_cast<std::size_t>(out_ptr - buffer));
        if (rc != static_cast<std::size_t>(-1)) {
            if (in_left == 0 && out_ptr == buffer) {
                break; // flushed (a stateful encoding's return to ASCII)
            }
            continue;
        }
        if (errno == E2BIG) {
            continue;
        }
        // A character the encoding cannot represent (or bad UTF-8): its numeric reference.
        const std::size_t offset = static_cast<std::size_t>(in - text.data());
        const std::size_t len = std::min(utf8_length(static_cast<unsigned char>(*in)), in_left);
        const char32_t cp = utf8_code_point(text, offset, len);
        out.append("%26%23");
        out.append(std::to_string(static_cast<std::uint32_t>(cp)));
        out.append("%3B");
        in += len;
        in_left -= len;
    }
}

} // namespace flagcrawl::crawler
