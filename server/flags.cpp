// The flags data set: country table, flag pictures, metadata, and the handler.
#include "server/flags.hpp"

#include "util/ascii.hpp"
#include "util/hash.hpp"
#include "util/json.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>

namespace flagcrawl::server {

namespace {

// Code, common English short name, ccTLD. Sorted by code.
constexpr Country k_countries[] = {
    {"AD", "Andorra", ".ad"},
    {"AE", "United Arab Emirates", ".ae"},
    {"AF", "Afghanistan", ".af"},
    {"AG", "Antigua and Barbuda", ".ag"},
    {"AL", "Albania", ".al"},
    {"AM", "Armenia", ".am"},
    {"AO", "Angola", ".ao"},
    {"AR", "Argentina", ".ar"},
    {"AT", "Austria", ".at"},
    {"AU", "Australia", ".au"},
    {"AZ", "Azerbaijan", ".az"},
    {"BA", "Bosnia and Herzegovina", ".ba"},
    {"BB", "Barbados", ".bb"},
    {"BD", "Bangladesh", ".bd"},
    {"BE", "Belgium", ".be"},
    {"BF", "Burkina Faso", ".bf"},
    {"BG", "Bulgaria", ".bg"},
    {"BH", "Bahrain", ".bh"},
    {"BI", "Burundi", ".bi"},
    {"BJ", "Benin", ".bj"},
    {"BN", "Brunei", ".bn"},
    {"BO", "Bolivia", ".bo"},
    {"BR", "Brazil", ".br"},
    {"BS", "Bahamas", ".bs"},
    {"BT", "Bhutan", ".bt"},
    {"BW", "Botswana", ".bw"},
    {"BY", "Belarus", ".by"},
    {"BZ", "Belize", ".bz"},
    {"CA", "Canada", ".ca"},
    {"CD", "Democratic Republic of the Congo", ".cd"},
    {"CF", "Central African Republic", ".cf"},
    {"CG", "Republic of the Congo", ".cg"},
    {"CH", "Switzerland", ".ch"},
    {"CI", "Côte d'Ivoire", ".ci"},
    {"CL", "Chile", ".cl"},
    {"CM", "Cameroon", ".cm"},
    {"CN", "China", ".cn"},
    {"CO", "Colombia", ".co"},
    {"CR", "Costa Rica", ".cr"},
    {"CU", "Cuba", ".cu"},
    {"CV", "Cabo Verde", ".cv"},
    {"CY", "Cyprus", ".cy"},
    {"CZ", "Czechia", ".cz"},
    {"DE", "Germany", ".de"},
    {"DJ", "Djibouti", ".dj"},
    {"DK", "Denmark", ".dk"},
    {"DM", "Dominica", ".dm"},
    {"DZ", "Algeria", ".dz"},
    {"EC", "Ecuador", ".ec"},
    {"EE", "Estonia", ".ee"},
    {"EG", "Egypt", ".eg"},
    {"ER", "Eritrea", ".er"},
    {"ES", "Spain", ".es"},
    {"ET", "Ethiopia", ".et"},
    {"FI", "Finland", ".fi"},
    {"FJ", "Fiji", ".fj"},
    {"FM", "Micronesia", ".fm"},
    {"FR", "France", ".fr"},
    {"GA", "Gabon", ".ga"},
    {"GB", "United Kingdom", ".uk"},
    {"GD", "Grenada", ".gd"},
    {"GE", "Georgia", ".ge"},
    {"GH", "Ghana", ".gh"},
    {"GM", "Gambia", ".gm"},
    {"GN", "Guinea", ".gn"},
    {"GQ", "Equatorial Guinea", ".gq"},
    {"GR", "Greece", ".gr"},
    {"GT", "Guatemala", ".gt"},
    {"GW", "Guinea-Bissau", ".gw"},
    {"GY", "Guyana", ".gy"},
    {"HN", "Honduras", ".hn"},
    {"HR", "Croatia", ".hr"},
    {"HT", "Haiti", ".ht"},
    {"HU", "Hungary", ".hu"},
    {"ID", "Indonesia", ".id"},
    {"IE", "Ireland", ".ie"},
    {"IL", "Israel", ".il"},
    {"IN", "India", ".in"},
    {"IQ", "Iraq", ".iq"},
    {"IR", "Iran", ".ir"},
    {"IS", "Iceland", ".is"},
    {"IT", "Italy", ".it"},
    {"JM", "Jamaica", ".jm"},
    {"JO", "Jordan", ".jo"},
    {"JP", "Japan", ".jp"},
    {"KE", "Kenya", ".ke"},
    {"KG", "Kyrgyzstan", ".kg"},
    {"KH", "Cambodia", ".kh"},
    {"KI", "Kiribati", ".ki"},
    {"KM", "Comoros", ".km"},
    {"KN", "Saint Kitts and Nevis", ".kn"},
    {"KP", "North Korea", ".kp"},
    {"KR", "South Korea", ".kr"},
    {"KW", "Kuwait", ".kw"},
    {"KZ", "Kazakhstan", ".kz"},
    {"LA", "Laos", ".la"},
    {"LB", "Lebanon", ".lb"},
    {"LC", "Saint Lucia", ".lc"},
    {"LI", "Liechtenstein", ".li"},
    {"LK", "Sri Lanka", ".lk"},
    {"LR", "Liberia", ".lr"},
    {"LS", "Lesotho", ".ls"},
    {"LT", "Lithuania", ".lt"},
    {"LU", "Luxembourg", ".lu"},
    {"LV", "Latvia", ".lv"},
    {"LY", "Libya", ".ly"},
    {"MA", "Morocco", ".ma"},
    {"MC", "Monaco", ".mc"},
    {"MD", "Moldova", ".md"},
    {"ME", "Montenegro", ".me"},
    {"MG", "Madagascar", ".mg"},
    {"MH", "Marshall Islands", ".mh"},
    {"MK", "North Macedonia", ".mk"},
    {"ML", "Mali", ".ml"},
    {"MM", "Myanmar", ".mm"},
    {"MN", "Mongolia", ".mn"},
    {"MR", "Mauritania", ".mr"},
    {"MT", "Malta", ".mt"},
    {"MU", "Mauritius", ".mu"},
    {"MV", "Maldives", ".mv"},
    {"MW", "Malawi", ".mw"},
    {"MX", "Mexico", ".mx"},
    {"MY", "Malaysia", ".my"},
    {"MZ", "Mozambique", ".mz"},
    {"NA", "Namibia", ".na"},
    {"NE", "Niger", ".ne"},
    {"NG", "Nigeria", ".ng"},
    {"NI", "Nicaragua", ".ni"},
    {"NL", "Netherlands", ".nl"},
    {"NO", "Norway", ".no"},
    {"NP", "Nepal", ".np"},
    {"NR", "Nauru", ".nr"},
    {"NZ", "New Zealand", ".nz"},
    {"OM", "Oman", ".om"},
    {"PA", "Panama", ".pa"},
    {"PE", "Peru", ".pe"},
    {"PG", "Papua New Guinea", ".pg"},
    {"PH", "Philippines", ".ph"},
    {"PK", "Pakistan", ".pk"},
    {"PL", "Poland", ".pl"},
    {"PT", "Portugal", ".pt"},
    {"PW", "Palau", ".pw"},
    {"PY", "Paraguay", ".py"},
    {"QA", "Qatar", ".qa"},
    {"RO", "Romania", ".ro"},
    {"RS", "Serbia", ".rs"},
    {"RU", "Russia", ".ru"},
    {"RW", "Rwanda", ".rw"},
    {"SA", "Saudi Arabia", ".sa"},
    {"SB", "Solomon Islands", ".sb"},
    {"SC", "Seychelles", ".sc"},
    {"SD", "Sudan", ".sd"},
    {"SE", "Sweden", ".se"},
    {"SG", "Singapore", ".sg"},
    {"SI", "Slovenia", ".si"},
    {"SK", "Slovakia", ".sk"},
    {"SL", "Sierra Leone", ".sl"},
    {"SM", "San Marino", ".sm"},
    {"SN", "Senegal", ".sn"},
    {"SO", "Somalia", ".so"},
    {"SR", "Suriname", ".sr"},
    {"SS", "South Sudan", ".ss"},
    {"ST", "São Tomé and Príncipe", ".st"},
    {"SV", "El Salvador", ".sv"},
    {"SY", "Syria", ".sy"},
    {"SZ", "Eswatini", ".sz"},
    {"TD", "Chad", ".td"},
    {"TG", "Togo", ".tg"},
    {"TH", "Thailand", ".th"},
    {"TJ", "Tajikistan", ".tj"},
    {"TL", "Timor-Leste", ".tl"},
    {"TM", "Turkmenistan", ".tm"},
    {"TN", "Tunisia", ".tn"},
    {"TO", "Tonga", ".to"},
    {"TR", "Turkey", ".tr"},
    {"TT", "Trinidad and Tobago", ".tt"},
    {"TV", "Tuvalu", ".tv"},
    {"TW", "Taiwan", ".tw"},
    {"TZ", "Tanzania", ".tz"},
    {"UA", "Ukraine", ".ua"},
    {"UG", "Uganda", ".ug"},
    {"US", "United States", ".us"},
    {"UY", "Uruguay", ".uy"},
    {"UZ", "Uzbekistan", ".uz"},
    {"VA", "Vatican City", ".va"},
    {"VC", "Saint Vincent and the Grenadines", ".vc"},
    {"VE", "Venezuela", ".ve"},
    {"VN", "Vietnam", ".vn"},
    {"VU", "Vanuatu", ".vu"},
    {"WS", "Samoa", ".ws"},
    {"YE", "Yemen", ".ye"},
    {"ZA", "South Africa", ".za"},
    {"ZM", "Zambia", ".zm"},
    {"ZW", "Zimbabwe", ".zw"},
};

// A small deterministic generator (SplitMix64), seeded from the code.
class Mixer {
public:
    explicit Mixer(std::string_view text)
        : m_state(util::fnv1a(text)) {}
    std::uint64_t next() { return util::splitmix64(m_state); }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

private:
    std::uint64_t m_state;
};

} // namespace

std::span<const Country> flag_countries() {
    return k_countries;
}

const Country* find_country(std::string_view code) {
    const std::string key = util::to_upper(code);
    const auto it =
        std::lower_bound(std::begin(k_countries), std::end(k_countries), key,
                         [](const Country& c, const std::string& k) { return c.code < k; });
    return it != std::end(k_countries) && it->code == key ? &*it : nullptr;
}

std::string flag_gif_path(std::string_view code) {
    const std::string cc = util::to_lower(code);
    return "/flags/" + cc + "/" + cc + ".gif";
}

std::string flag_metadata_path(std::string_view code) {
    return "/flags/" + util::to_lower(code) + "/metadata.json";
}

std::string flag_metadata_json(const Country& country) {
    std::string out = "{\"country\": ";
    util::append_json_string(out, country.name);
    out += ", \"iso_cc\": ";
    util::append_json_string(out, country.code);
    out += ", \"tld_cc\": ";
    util::append_json_string(out, country.tld);
    out += "}";
    return out;
}

IndexedImage render_flag(std::string_view code) {
    constexpr int k_width = 120;
    constexpr int k_height = 80;
    Mixer mix(util::to_upper(code));
    IndexedImage image;
    image.width = k_width;
    image.height = k_height;
    // Colours 0-2: the bands; 3: the emblem; 4-7: a darker weave of each band and the emblem,
    // which gives the picture a cloth texture (and the files their 1-3 KB).
    for (int i = 0; i < 4; ++i) {
        const std::uint64_t bits = mix.next();
        image.palette.push_back({static_cast<std::uint8_t>(bits),
                                 static_cast<std::uint8_t>(bits >> 8),
                                 static_cast<std::uint8_t>(bits >> 16)});
    }
    for (int i = 0; i < 4; ++i) {
        auto shade = image.palette[static_cast<std::size_t>(i)];
        for (auto& channel : shade) {
            channel = static_cast<std::uint8_t>(channel * 3 / 4);
        }
        image.palette.push_back(shade);
    }
    const bool vertical = mix.below(2) == 0;
    const int emblem = mix.below(3); // 0 none, 1 disc, 2 diamond
    const int radius = 10 + mix.below(14);
    const int weave_percent = 10 + mix.below(10);
    image.pixels.resize(static_cast<std::size_t>(k_width) * k_height);
    for (int y = 0; y < k_height; ++y) {
        for (int x = 0; x < k_width; ++x) {
            int colour = vertical ? x * 3 / k_width : y * 3 / k_height;
            const int dx = x - k_width / 2;
            const int dy = y - k_height / 2;
            if ((emblem == 1 && dx * dx + dy * dy <= radius * radius) ||
                (emblem == 2 && std::abs(dx) + std::abs(dy) <= radius)) {
                colour = 3;
            }
            if (mix.below(100) < weave_percent) {
                colour += 4;
            }
            image.pixels[static_cast<std::size_t>(y) * k_width + x] =
                static_cast<std::uint8_t>(colour);
        }
    }
    return image;
}

std::string flag_gif(std::string_view code) {
    return encode_gif(render_flag(code));
}

Handler flags_handler() {
    auto replies = std::make_shared<std::unordered_map<std::string, Reply>>();
    for (const Country& country : k_countries) {
        (*replies)[flag_gif_path(country.code)] =
            Reply::bytes(200, make_body(flag_gif(country.code)), "image/gif");
        (*replies)[flag_metadata_path(country.code)] =
            Reply::bytes(200, make_body(flag_metadata_json(country)), "application/json");
    }
    auto not_found = std::make_shared<const Reply>(Reply::text(404, "not found\n"));
    return [replies, not_found](const Request& request) {
        const auto it = replies->find(std::string(request.path));
        return it != replies->end() ? it->second : *not_found;
    };
}

} // namespace flagcrawl::server
