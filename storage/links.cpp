#include "storage/links.hpp"

#include "storage/schema.hpp"

#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace flagcrawl::storage {

namespace {

// A redirect chain longer than this is not followed further (the crawl's --max-redirect is at
// most 100; a loop of redirect rows would otherwise never end).
constexpr int k_max_hops = 128;

// What the crawl recorded of a URL that is listed: its own failure, or the redirect that led to
// one (then `failure` is the chain's last URL).
struct Target {
    const std::string* failure = nullptr; // key of the failures map
    int hops = 0;
    std::string page_kind;
    std::int64_t depth = 0;
    bool chain_start = false; // Failure::chain_start
    bool external = false;
};

struct Failure {
    std::optional<int> status;
    std::string kind;
    std::string reason;
    std::string page_kind;
    std::int64_t depth = 0;
    bool external = false; // pages.external
    // The start of a redirect chain that failed as a whole (a loop, too many hops, a target of
    // another scheme): the crawl records the chain's failure on its first URL, which keeps its
    // 3xx status and Location. Reached by a link, never only by a redirect.
    bool chain_start = false;
};

std::string without_fragment(std::string_view url) {
    return std::string(url.substr(0, url.find('#')));
}

// Ends the read transaction (and with it the snapshot) however the listing ends.
class ReadTransaction {
public:
    explicit ReadTransaction(Database& db)
        : m_db(db) {}
    ~ReadTransaction() {
        if (m_open) {
            (void)m_db.exec("ROLLBACK");
        }
    }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
    Result<void> begin() {
        auto r = m_db.exec("BEGIN");
        m_open = static_cast<bool>(r);
        return r;
    }

private:
    Database& m_db;
    bool m_open = false;
};

// The broken link being gathered from the referrer rows.
class Gathered {
public:
    Gathered(const BrokenLinksOptions& options, BrokenLinksTotals& totals)
        : m_options(options)
        , m_totals(totals) {}

    void start(const std::string& url, const Target& target,
               const std::map<std::string, Failure, std::less<>>& failures) {
        const Failure& f = failures.find(*target.failure)->second;
        m_link = BrokenLink{};
        m_link.url = url;
        m_link.http_status = f.status;
        m_link.error_kind = f.kind;
        m_link.reason = f.reason;
        if (target.hops > 0) {
            m_link.redirects_to = *target.failure;
            m_link.redirect_hops = target.hops;
        }
        m_link.page_kind = target.page_kind;
        m_link.external = target.external;
        m_depth = target.depth;
        m_chain_start = target.chain_start;
        m_kinds.clear();
        m_last_referrer.clear();
    }
    void add(std::string_view referrer, std::string_view kind) {
        ++m_link.link_count;
        m_kinds.emplace(kind);
        if (m_link.referrer_count > 0 && referrer == m_last_referrer) {
            return;
        }
        ++m_link.referrer_count;
        m_last_referrer = referrer;
        if (m_options.max_referrers == 0 || m_link.referrers.size() < m_options.max_referrers) {
            m_link.referrers.emplace_back(referrer);
        }
    }
    // Hands the link over, unless it is only a hop of redirects listed under their starts.
    bool finish(bool redirected_to, const std::function<bool(const BrokenLink&)>& on_link) {
        if (m_link.referrer_count == 0 && redirected_to && !m_chain_start) {
            return true;
        }
        m_link.seed = m_link.referrer_count == 0 && m_depth == 0;
        m_link.link_kinds.assign(m_kinds.begin(), m_kinds.end());
        ++m_totals.links;
        m_totals.referrals += m_link.referrer_count;
        return on_link(m_link);
    }

private:
    const BrokenLinksOptions& m_options;
    BrokenLinksTotals& m_totals;
    BrokenLink m_link;
    std::int64_t m_depth = 0;
    bool m_chain_start = false;
    std::set<std::string, std::less<>> m_kinds;
    std::string m_last_referrer;
};

} // namespace

Result<BrokenLinksTotals>
for_each_broken_link(Reader& reader, std::int64_t crawl_id, const BrokenLinksOptions& options,
                     const std::function<bool(const BrokenLink&)>& on_link) {
    BrokenLinksTotals totals;
    if (reader.schema_version() < k_crawl_tables_version) {
        return totals; // no crawl was recorded in a file this old
    }
    Database& db = reader.database();
    // pages.external since schema step 12.
    const std::string external_column =
        reader.schema_version() >= k_external_version ? "external" : "0";
    // One snapshot for every query, even while a crawl writes to the file.
    ReadTransaction transaction(db);
    if (auto r = transaction.begin(); !r) {
        return r.error();
    }

    // The failures that make a URL broken.
    // The hops a failed chain went through before it failed are redirect rows that lead back
    // to it or on; they are listed under the chain's start, not on their own.
    std::unordered_set<std::string> chain_hops;
    std::map<std::string, Failure, std::less<>> failures;
    Statement failed =
        db.prepare("SELECT url, http_status, " + error_kind_sql(reader.schema_version()) +
                   ", error, kind, depth, location, " + external_column +
                   " FROM pages WHERE crawl_id = ?1 AND "
                   "kind != 'robots' AND error IS NOT NULL ORDER BY id");
    failed.bind(1, crawl_id);
    auto r = for_each_row(failed, [&](const Statement& row) {
        if (options.kinds.contains(row.column_text(2))) {
            Failure& f = failures[std::string(row.column_text(0))];
            f.status.reset();
            if (auto status = row.column_optional_int64(1)) {
                f.status = static_cast<int>(*status);
            }
            f.kind = row.column_text(2);
            f.reason = row.column_text(3);
            f.page_kind = row.column_text(4);
            f.depth = row.column_int64(5);
            f.external = row.column_int64(7) != 0;
            f.chain_start = f.status && *f.status >= 300 && *f.status < 400 && !row.is_null(6);
            if (f.chain_start) {
                chain_hops.insert(without_fragment(row.column_text(6)));
            }
        }
        return true;
    });
    if (!r) {
        return r.error();
    }

    // The redirects, and the links that redirect to a failure.
    struct Redirect {
        std::string location;
        std::string page_kind;
        std::int64_t depth = 0;
        bool external = false;
    };
    std::unordered_map<std::string, Redirect> redirects;
    Statement redirected =
        db.prepare("SELECT url, location, kind, depth, " + external_column +
                   " FROM pages WHERE crawl_id = ?1 AND kind != 'robots' AND error IS NULL AND "
                   "http_status >= 300 AND http_status < 400 AND location IS NOT NULL");
    redirected.bind(1, crawl_id);
    r = for_each_row(redirected, [&](const Statement& row) {
        redirects[std::string(row.column_text(0))] = {
            without_fragment(row.column_text(1)), std::string(row.column_text(2)),
            row.column_int64(3), row.column_int64(4) != 0};
        return true;
    });
    if (!r) {
        return r.error();
    }
    std::map<std::string, Target> targets; // by URL, in byte order as SQLite sorts text
    for (const auto& [url, f] : failures) {
        targets.emplace(url, Target{&url, 0, f.page_kind, f.depth, f.chain_start, f.external});
    }
    std::unordered_set<std::string_view> redirected_to(chain_hops.begin(), chain_hops.end());
    for (const auto& [start, redirect] : redirects) {
        redirected_to.insert(redirect.location);
        std::string_view at = redirect.location;
        int hops = 1;
        for (auto next = redirects.find(std::string(at));
             next != redirects.end() && hops < k_max_hops; next = redirects.find(std::string(at))) {
            at = next->second.location;
            ++hops;
        }
        if (auto f = failures.find(at); f != failures.end()) {
            targets.insert_or_assign(start, Target{&f->first, hops, redirect.page_kind,
                                                   redirect.depth, false, redirect.external});
        }
    }

    // The pages that link each target: one scan of the crawl's links, matched against a
    // temporary table of the targets (the links table has no index on to_url).
    if (auto made = db.exec("CREATE TEMP TABLE IF NOT EXISTS fc_broken_targets "
                            "(url TEXT PRIMARY KEY) WITHOUT ROWID; "
                            "DELETE FROM temp.fc_broken_targets");
        !made) {
        return made.error();
    }
    Statement insert = db.prepare("INSERT INTO temp.fc_broken_targets (url) VALUES (?1)");
    for (const auto& [url, target] : targets) {
        insert.bind_view(1, url);
        if (auto done = insert.run(); !done) {
            return done.error();
        }
    }
    Statement referrers = db.prepare(
        "SELECT l.to_url, p.url, l.kind FROM pages p CROSS JOIN links l ON l.page_id = p.id "
        "WHERE p.crawl_id = ?1 AND l.to_url IN (SELECT url FROM temp.fc_broken_targets) "
        "ORDER BY l.to_url, p.url");
    referrers.bind(1, crawl_id);

    Gathered gathered(options, totals);
    auto next_target = targets.begin();
    bool gathering = false; // `gathered` holds the link of std::prev(next_target)
    bool go_on = true;
    // Hands over the gathered link and every target before `url` (none linked: no referrer).
    auto flush_before = [&](std::string_view url, bool all) {
        if (gathering) {
            gathering = false;
            go_on = gathered.finish(redirected_to.contains(std::prev(next_target)->first), on_link);
        }
        while (go_on && next_target != targets.end() && (all || next_target->first < url)) {
            gathered.start(next_target->first, next_target->second, failures);
            go_on = gathered.finish(redirected_to.contains(next_target->first), on_link);
            ++next_target;
        }
    };
    r = for_each_row(referrers, [&](const Statement& row) {
        const std::string_view to = row.column_text(0);
        if (!gathering || std::prev(next_target)->first != to) {
            flush_before(to, false);
            if (!go_on || next_target == targets.end() || next_target->first != to) {
                return go_on; // cannot happen: every row's to_url is a target
            }
            gathered.start(next_target->first, next_target->second, failures);
            ++next_target;
            gathering = true;
        }
        gathered.add(row.column_text(1), row.column_text(2));
        return true;
    });
    if (!r) {
        return r.error();
    }
    flush_before({}, true);
    return totals; // the transaction's end drops the temporary table's rows
}

} // namespace flagcrawl::storage
