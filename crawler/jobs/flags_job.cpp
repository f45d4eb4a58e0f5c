#include "crawler/jobs/flags_job.hpp"

#include "crawler/jobs/file_sink.hpp"
#include "crawler/jobs/flags_codes.hpp"
#include "util/ascii.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace flagcrawl::crawler {
namespace {

constexpr std::size_t k_max_name_part = 100;

bool is_safe(char c) {
    return util::is_ascii_alnum(c) || c == '_' || c == '-';
}

// ASCII for the Latin-1 Supplement letters U+00C0..U+00FF (empty: not a letter, U+00D7 and
// U+00F7).
constexpr std::array<const char*, 64> k_latin1_fold = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
    "D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

// Appends one '_' unless the name is empty or already ends with one: separators collapse.
void append_separator(std::string& out) {
    if (!out.empty() && out.back() != '_') {
        out.push_back('_');
    }
}

} // namespace

std::string flag_file_name(std::string_view country, std::string_view code) {
    std::string name;
    for (std::size_t i = 0; i < country.size();) {
        const auto byte = static_cast<unsigned char>(country[i]);
        if (byte < 0x80) {
            const char c = country[i++];
            if (c == '\'') {
                continue; // "d'Ivoire" -> "dIvoire", as a person would type it
            }
            if (c == '_' || !is_safe(c)) {
                append_separator(name);
            } else {
                name.push_back(c);
            }
            continue;
        }
        // A multi-byte UTF-8 sequence: its length from the lead byte (invalid bytes: one).
        std::size_t length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
        length = std::min(length, country.size() - i);
        if (length == 2 && (byte == 0xc3)) {
            const auto second = static_cast<unsigned char>(country[i + 1]);
            const unsigned code_point = ((byte & 0x1fu) << 6) | (second & 0x3fu);
            const char* folded = code_point >= 0xc0 && (second & 0xc0u) == 0x80
                                     ? k_latin1_fold[code_point - 0xc0]
                                     : "";
            if (*folded != '\0') {
                name += folded;
            } else {
                append_separator(name);
            }
        } else {
            append_separator(name);
        }
        i += length;
    }
    if (name.size() > k_max_name_part) {
        name.resize(k_max_name_part);
    }
    while (!name.empty() && (name.front() == '_' || name.front() == '-')) {
        name.erase(name.begin());
    }
    while (!name.empty() && name.back() == '_') {
        name.pop_back();
    }
    std::string cc(code);
    return name.empty() ? cc + ".gif" : name + "-" + cc + ".gif";
}

FlagsJob::FlagsJob(std::vector<std::string> codes, FlagsJobOptions options, Recorder& recorder)
    : m_options(std::move(options))
    , m_recorder(recorder) {
    m_items.reserve(codes.size());
    for (std::string& code : codes) {
        m_items.push_back({std::move(code), {}});
    }
}

fetch::WorkSource::Next FlagsJob::gif_request(std::size_t index) {
    Item& item = m_items[index];
    if (!m_options.metadata) {
        item.file_name = item.code + ".gif";
    }
    Next next;
    next.state = State::ready;
    next.request.id = index * 2 + k_gif;
    next.request.url = flag_gif_url(m_options.base_url, item.code);
    next.request.sink = std::make_unique<FileSink>(m_options.out_dir, item.file_name);
    return next;
}

fetch::WorkSource::Next FlagsJob::next(fetch::Clock::time_point) {
    // Once results can no longer be recorded, start nothing new (as the download job does).
    if (m_recorder.store_error()) {
        return {};
    }
    // Finish the codes already started before starting new ones.
    if (!m_gifs_ready.empty()) {
        const std::size_t index = m_gifs_ready.front();
        m_gifs_ready.pop_front();
        return gif_request(index);
    }
    if (m_next < m_items.size()) {
        const std::size_t index = m_next++;
        if (!m_options.metadata) {
            return gif_request(index);
        }
        ++m_metadata_in_flight;
        Next next;
        next.state = State::ready;
        next.request.id = index * 2 + k_metadata;
        next.request.url = flag_metadata_url(m_options.base_url, m_items[index].code);
        return next;
    }
    Next next;
    next.state = m_metadata_in_flight > 0 ? State::waiting : State::finished;
    return next;
}

void FlagsJob::on_response(fetch::Response&& response) {
    const std::size_t index = static_cast<std::size_t>(response.id / 2);
    if (response.id % 2 == k_metadata) {
        on_metadata(index, std::move(response));
    } else {
        on_gif(index, std::move(response));
    }
}

void FlagsJob::on_metadata(std::size_t index, fetch::Response&& response) {
    --m_metadata_in_flight;
    Item& item = m_items.at(index);
    fetch::Verdict verdict = fetch::classify(response);
    if (verdict.outcome == fetch::Outcome::ok) {
        const auto json = nlohmann::json::parse(response.body, nullptr, false);
        if (json.is_object() && json.contains("country") && json["country"].is_string()) {
            m_metadata_attempts += static_cast<std::uint64_t>(response.attempts);
            item.file_name = flag_file_name(json["country"].get<std::string>(), item.code);
            m_gifs_ready.push_back(index);
            return;
        }
        verdict = {fetch::Outcome::error, fetch::FailureKind::other,
                   "metadata.json without a \"country\" string"};
    }
    m_recorder.record(response, item.code, verdict, {}, {});
}

void FlagsJob::on_gif(std::size_t index, fetch::Response&& response) {
    m_recorder.record_file(response, static_cast<FileSink&>(*response.sink),
                           m_items.at(index).code);
}

} // namespace flagcrawl::crawler
