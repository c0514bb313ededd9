// SPDX-License-Identifier: GPL-2.0
// Declarative scenarios: the YAML parser (yaml-cpp), the checker and the
// summary. Documentation/scenarios.md describes every key.
#include "scenario_model.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/names.hpp"
#include "iopf/stage_json.hpp"

namespace iopfctl::scenario {

namespace {

constexpr uint64_t kPage = IOPF_STAGE_PAGE_SIZE;
constexpr uint64_t kAddrLimit = 1ULL << 52;
constexpr uint64_t kMaxCmdLen = IOPF_STAGE_MAX_PAGES_PER_CMD * kPage;
constexpr uint64_t kMaxWorkload = 100000; // accesses one step may expand to

// Where the parser is: the file, for messages.
struct Ctx {
    const std::string& file;

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key,
                           const std::string& what) const {
        const YAML::Mark m = at.Mark();
        throw Error(fmt::format("{}:{}: {}: {}", file, m.is_null() ? 0 : m.line + 1, key, what));
    }
};

std::string join(std::initializer_list<const char*> keys) {
    std::string s;
    for (const char* k : keys) {
        if (!s.empty())
            s += ", ";
        s += k;
    }
    return s;
}

// yaml-cpp keeps both entries of a repeated key and n["key"] finds the
// first: a second value the user meant would be ignored without a word.
void no_duplicates(const Ctx& c, const YAML::Node& n, const std::string& path) {
    std::map<std::string, int> seen; // key -> line
    for (const auto& kv : n) {
        const std::string k = kv.first.Scalar();
        auto [it, fresh] = seen.emplace(k, kv.first.Mark().line + 1);
        if (!fresh)
            c.fail(kv.first, path + "." + k,
                   fmt::format("duplicate key (first given on line {})", it->second));
    }
}

// `n` (named `path`) must be a map with only `allowed` keys.
void only_keys(const Ctx& c, const YAML::Node& n, const std::string& path,
               std::initializer_list<const char*> allowed) {
    if (!n.IsMap())
        c.fail(n, path, "expected a map of keys (" + join(allowed) + ")");
    no_duplicates(c, n, path);
    for (const auto& kv : n) {
        const std::string k = kv.first.Scalar();
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }))
            c.fail(kv.first, path + "." + k,
                   "unknown key (expected one of: " + join(allowed) + ")");
    }
}

std::string scalar(const Ctx& c, const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar())
        c.fail(n, path, "expected a single value");
    return n.Scalar();
}

// Decimal or 0x hex, at most `max`.
uint64_t number(const Ctx& c, const YAML::Node& n, const std::string& path,
                uint64_t max = UINT64_MAX) {
    const std::string s = scalar(c, n, path);
    std::string_view v = s;
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        v.remove_prefix(2);
        base = 16;
    }
    uint64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size())
        c.fail(n, path, fmt::format("'{}' is not a number (decimal or 0x hex)", s));
    if (out > max)
        c.fail(n, path, fmt::format("{} is more than {}", s, max));
    return out;
}

const YAML::Node need(const Ctx& c, const YAML::Node& parent, const char* key,
                      const std::string& path) {
    const YAML::Node n = parent[key];
    if (!n)
        c.fail(parent, path + "." + key, "missing");
    return n;
}

uint64_t num_key(const Ctx& c, const YAML::Node& parent, const char* key, const std::string& path,
                 uint64_t max = UINT64_MAX) {
    return number(c, need(c, parent, key, path), path + "." + key, max);
}

std::optional<uint64_t> opt_num(const Ctx& c, const YAML::Node& parent, const char* key,
                                const std::string& path, uint64_t max = UINT64_MAX) {
    const YAML::Node n = parent[key];
    if (!n)
        return std::nullopt;
    return number(c, n, path + "." + key, max);
}

bool opt_bool(const Ctx& c, const YAML::Node& parent, const char* key, const std::string& path,
              bool dflt) {
    const YAML::Node n = parent[key];
    if (!n)
        return dflt;
    const std::string s = scalar(c, n, path + "." + key);
    if (s == "true" || s == "yes")
        return true;
    if (s == "false" || s == "no")
        return false;
    c.fail(n, path + "." + key, fmt::format("'{}' is not true or false", s));
}

uint32_t sid_key(const Ctx& c, const YAML::Node& parent, const std::string& path) {
    return static_cast<uint32_t>(num_key(c, parent, "sid", path, UINT32_MAX));
}

std::optional<uint32_t> pasid_key(const Ctx& c, const YAML::Node& parent, const std::string& path) {
    auto p = opt_num(c, parent, "pasid", path, (1U << 20) - 1);
    return p ? std::optional(static_cast<uint32_t>(*p)) : std::nullopt;
}

uint32_t perm_key(const Ctx& c, const YAML::Node& parent, const std::string& path,
                  std::optional<uint32_t> dflt) {
    const YAML::Node n = parent["perm"];
    if (!n) {
        if (!dflt)
            c.fail(parent, path + ".perm", "missing");
        return *dflt;
    }
    try {
        uint32_t p = iopf::parse_perm_letters(scalar(c, n, path + ".perm"));
        if (!p)
            c.fail(n, path + ".perm", "at least one of r, w, x, p");
        return p;
    } catch (const iopf::ParseError& e) {
        c.fail(n, path + ".perm", e.what());
    }
}

uint32_t stage_key(const Ctx& c, const YAML::Node& parent, const std::string& path) {
    const YAML::Node n = need(c, parent, "stage", path);
    const uint64_t s = number(c, n, path + ".stage");
    if (s != IOPF_STAGE_1 && s != IOPF_STAGE_2)
        c.fail(n, path + ".stage", "1 or 2");
    return static_cast<uint32_t>(s);
}

// flags: [nested, l1, l2] or "nested,l1,l2"; a valid set (iopf_flags_check).
uint32_t flags_key(const Ctx& c, const YAML::Node& parent, const std::string& path) {
    const YAML::Node n = need(c, parent, "flags", path);
    std::string list;
    if (n.IsSequence()) {
        for (const auto& e : n) {
            if (!list.empty())
                list += ',';
            list += scalar(c, e, path + ".flags");
        }
    } else {
        list = scalar(c, n, path + ".flags");
    }
    uint32_t f;
    try {
        f = iopf::parse_report_flags(list);
    } catch (const iopf::ParseError& e) {
        c.fail(n, path + ".flags", e.what());
    }
    if (const char* why = iopf_flags_check(f))
        c.fail(n, path + ".flags", why);
    return f;
}

// l1/l2: iopfd's action grammar; none (the default) is pending.
std::string action_key(const Ctx& c, const YAML::Node& parent, const char* key,
                       const std::string& path) {
    const YAML::Node n = parent[key];
    if (!n)
        return "pending";
    std::string s = scalar(c, n, path + "." + key);
    if (s == "none")
        return "pending";
    try {
        iopf::Action a = iopf::parse_action(s);
        if (a.refuse && std::string(key) == "l2")
            c.fail(n, path + "." + key, "refuse is the guest's (l1) answer");
    } catch (const iopf::ParseError& e) {
        c.fail(n, path + "." + key, e.what());
    }
    return s;
}

// A range in a table: addr, len, page aligned, below 2^52.
void check_range(const Ctx& c, const YAML::Node& n, const std::string& path, uint64_t addr,
                 uint64_t len, bool whole_pages) {
    if (whole_pages && (addr % kPage || len % kPage))
        c.fail(n, path,
               fmt::format("addr {:#x} and len {:#x} must be whole 4 KiB pages", addr, len));
    if (len == 0)
        c.fail(n, path + ".len", "0 bytes");
    if (len > kMaxCmdLen)
        c.fail(n, path + ".len",
               fmt::format("more than {:#x} bytes (one command's pages)", kMaxCmdLen));
    if (addr >= kAddrLimit || len > kAddrLimit - addr)
        c.fail(n, path, "the range goes beyond 2^52");
}

// `any` in an on_iommufd block: the count is not checked on that road (a
// livelock's counts depend on how long the runner waits).
constexpr uint64_t kAny = UINT64_MAX;

struct Parser {
    Ctx c;
    Scenario s;
    bool any_ok = false; // parsing an on_iommufd block

    std::optional<uint64_t> cnt(const YAML::Node& parent, const char* key,
                                const std::string& path) {
        const YAML::Node n = parent[key];
        if (any_ok && n && n.IsScalar() && n.Scalar() == "any")
            return kAny;
        return opt_num(c, parent, key, path, any_ok ? kAny - 1 : UINT64_MAX);
    }

    const Device& device_of(const YAML::Node& n, const std::string& path, uint32_t sid) {
        if (const Device* d = s.device(sid))
            return *d;
        c.fail(n, path + ".sid", fmt::format("{:#x} is not a device of the scenario", sid));
    }

    iopf::Mapping mapping(const YAML::Node& n, const std::string& path) {
        only_keys(c, n, path, {"sid", "stage", "pasid", "addr", "out", "len", "perm"});
        iopf::Mapping m;
        m.sid = sid_key(c, n, path);
        device_of(n, path, m.sid);
        m.stage = stage_key(c, n, path);
        m.pasid = pasid_key(c, n, path);
        if (m.pasid && m.stage == IOPF_STAGE_2)
            c.fail(n["pasid"], path + ".pasid", "stage 2 is per device: no pasid");
        m.addr = num_key(c, n, "addr", path);
        m.out_addr = num_key(c, n, "out", path);
        m.len = num_key(c, n, "len", path);
        m.perm = perm_key(c, n, path, IOPF_PERM_READ | IOPF_PERM_WRITE);
        check_range(c, n, path, m.addr, m.len, true);
        check_range(c, n, path, m.out_addr, m.len, true);
        return m;
    }

    // The fields every access kind shares.
    AccessSpec access_base(const YAML::Node& n, const std::string& path) {
        AccessSpec a;
        a.sid = sid_key(c, n, path);
        const Device& d = device_of(n, path, a.sid);
        a.pasid = pasid_key(c, n, path);
        if (d.stage_mode == IOPF_STAGE_MODE_NONE)
            c.fail(n, path + ".sid", "the device has no stage mode (stage: s1, s2 or nested)");
        if (a.pasid && d.stage_mode == IOPF_STAGE_MODE_S2)
            c.fail(n["pasid"], path + ".pasid", "a stage-2 only device has no stage 1 to select");
        a.perm = perm_key(c, n, path, IOPF_PERM_READ | IOPF_PERM_WRITE);
        if (!(a.perm & (IOPF_PERM_READ | IOPF_PERM_WRITE)))
            c.fail(n["perm"], path + ".perm", "an access reads and/or writes (r, w)");
        a.stall = opt_bool(c, n, "stall", path, true);
        return a;
    }

    void add_access(std::vector<AccessSpec>& v, AccessSpec a, uint64_t addr, uint64_t len,
                    const YAML::Node& n, const std::string& path) {
        a.addr = addr;
        a.len = len;
        check_range(c, n, path, addr, len, false);
        if ((addr % kPage + len + kPage - 1) / kPage > IOPF_STAGE_MAX_PAGES_PER_CMD)
            c.fail(n, path + ".len", "touches more pages than one access may");
        v.push_back(a);
    }

    Step step(const YAML::Node& n, const std::string& path) {
        if (!n.IsMap() || n.size() == 0)
            c.fail(n, path,
                   "expected a map with one step kind (access, strided, random, "
                   "reclaim, unmap, map, flags, wait_ms)");
        Step st;
        st.line = n.Mark().line + 1;
        const char* kinds[] = {"access", "strided", "random", "reclaim",
                               "unmap",  "map",     "flags",  "wait_ms"};
        no_duplicates(c, n, path);
        for (const auto& kv : n) {
            const std::string k = kv.first.Scalar();
            if (k == "expect" || k == "name" || k == "on_iommufd" || k == "on_iommufd_pinned")
                continue;
            if (std::find(std::begin(kinds), std::end(kinds), k) == std::end(kinds))
                c.fail(kv.first, path + "." + k,
                       "unknown step (expected access, strided, random, reclaim, unmap, map, "
                       "flags or wait_ms; with an optional expect)");
            if (!st.kind.empty())
                c.fail(kv.first, path + "." + k,
                       fmt::format("one kind per step ({} given already)", st.kind));
            st.kind = k;
        }
        if (st.kind.empty())
            c.fail(n, path,
                   "no step kind (access, strided, random, reclaim, unmap, map, flags, "
                   "wait_ms)");
        const std::string p = path + "." + st.kind;
        const YAML::Node b = n[st.kind];
        if (st.kind == "access") {
            only_keys(c, b, p, {"sid", "pasid", "addr", "len", "perm", "stall"});
            AccessStep as;
            add_access(as.accesses, access_base(b, p), num_key(c, b, "addr", p),
                       num_key(c, b, "len", p), b, p);
            st.what = as;
        } else if (st.kind == "strided") {
            only_keys(c, b, p, {"sid", "pasid", "addr", "stride", "count", "len", "perm", "stall"});
            AccessSpec base = access_base(b, p);
            const uint64_t addr = num_key(c, b, "addr", p), stride = num_key(c, b, "stride", p);
            const uint64_t count = num_key(c, b, "count", p, kMaxWorkload);
            const uint64_t len = opt_num(c, b, "len", p).value_or(kPage);
            if (count == 0)
                c.fail(b["count"], p + ".count", "at least 1");
            if (stride > kAddrLimit || (count - 1) > kAddrLimit / std::max<uint64_t>(stride, 1))
                c.fail(b["stride"], p + ".stride", "the range goes beyond 2^52");
            AccessStep as;
            for (uint64_t i = 0; i < count; i++)
                add_access(as.accesses, base, addr + i * stride, len, b, p);
            st.what = as;
        } else if (st.kind == "random") {
            only_keys(c, b, p,
                      {"sid", "pasid", "addr", "pages", "count", "seed", "len", "perm", "stall"});
            AccessSpec base = access_base(b, p);
            const uint64_t addr = num_key(c, b, "addr", p);
            const uint64_t pages = num_key(c, b, "pages", p, kAddrLimit / kPage);
            const uint64_t count = num_key(c, b, "count", p, kMaxWorkload);
            uint64_t state = num_key(c, b, "seed", p);
            const uint64_t len = opt_num(c, b, "len", p).value_or(kPage);
            if (addr % kPage)
                c.fail(b["addr"], p + ".addr", "the region starts on a page");
            if (pages == 0 || count == 0)
                c.fail(b, p, "pages and count: at least 1");
            AccessStep as;
            for (uint64_t i = 0; i < count; i++)
                add_access(as.accesses, base, addr + (splitmix64(state) % pages) * kPage, len, b,
                           p);
            st.what = as;
        } else if (st.kind == "reclaim" || st.kind == "unmap") {
            UnmapStep u;
            if (st.kind == "reclaim") {
                only_keys(c, b, p, {"sid", "addr", "len"});
            } else {
                only_keys(c, b, p, {"sid", "stage", "pasid", "addr", "len"});
                u.stage = stage_key(c, b, p);
                u.pasid = pasid_key(c, b, p);
                if (u.pasid && u.stage == IOPF_STAGE_2)
                    c.fail(b["pasid"], p + ".pasid", "stage 2 is per device: no pasid");
            }
            u.sid = sid_key(c, b, p);
            device_of(b, p, u.sid);
            u.addr = num_key(c, b, "addr", p);
            u.len = num_key(c, b, "len", p);
            check_range(c, b, p, u.addr, u.len, true);
            st.what = u;
        } else if (st.kind == "map") {
            st.what = MapStep{mapping(b, p)};
        } else if (st.kind == "flags") {
            only_keys(c, b, p, {"sid", "flags"});
            FlagsStep f;
            f.sid = sid_key(c, b, p);
            device_of(b, p, f.sid);
            f.flags = flags_key(c, b, p);
            st.what = f;
        } else { // wait_ms
            st.what = WaitStep{static_cast<uint32_t>(number(c, b, p, 600000))};
        }
        if (const YAML::Node e = n["expect"]) {
            const bool accesses = std::holds_alternative<AccessStep>(st.what);
            const bool unmaps = std::holds_alternative<UnmapStep>(st.what);
            if (!accesses && !unmaps)
                c.fail(e, path + ".expect",
                       "only access, strided, random, reclaim and unmap "
                       "steps have expectations");
            st.expect = counts(e, path + ".expect", unmaps);
        }
        for (const char* k : {"on_iommufd", "on_iommufd_pinned"}) {
            const YAML::Node e = n[k];
            if (!e)
                continue;
            if (!std::holds_alternative<AccessStep>(st.what) &&
                !std::holds_alternative<UnmapStep>(st.what))
                c.fail(e, path + "." + k,
                       "only access, strided, random, reclaim and unmap steps have "
                       "expectations");
            Counts& k2 = std::string(k) == "on_iommufd" ? st.on_iommufd : st.on_iommufd_pinned;
            any_ok = true;
            k2 = counts(e, path + "." + k, std::holds_alternative<UnmapStep>(st.what));
            any_ok = false;
        }
        return st;
    }

    Counts counts(const YAML::Node& n, const std::string& path, bool unmap,
                  bool in_expect = false) {
        Counts k;
        if (unmap) {
            only_keys(c, n, path, {"unmapped"});
            k.unmapped = cnt(n, "unmapped", path);
            return k;
        }
        if (!in_expect)
            only_keys(c, n, path,
                      {"accesses", "completed", "aborted", "terminated", "faults", "l1", "l2",
                       "retries"});
        k.accesses = cnt(n, "accesses", path);
        k.completed = cnt(n, "completed", path);
        k.aborted = cnt(n, "aborted", path);
        k.terminated = cnt(n, "terminated", path);
        k.faults = cnt(n, "faults", path);
        k.l1 = cnt(n, "l1", path);
        k.l2 = cnt(n, "l2", path);
        k.retries = cnt(n, "retries", path);
        return k;
    }

    // `expect`, or (overlay) an on_iommufd block over it, which may also
    // name what upstream's road measures.
    void expect(Expect& e, const YAML::Node& n, const std::string& path, bool overlay) {
        any_ok = overlay;
        if (overlay)
            only_keys(c, n, path,
                      {"accesses", "completed", "aborted", "terminated", "faults", "l1", "l2",
                       "retries", "resumes", "daemon", "tables", "stalled", "pending", "upstream"});
        else
            only_keys(c, n, path,
                      {"accesses", "completed", "aborted", "terminated", "faults", "l1", "l2",
                       "retries", "resumes", "daemon", "tables", "stalled", "pending"});
        e.totals = counts(n, path, false, true);
        e.stalled = cnt(n, "stalled", path);
        e.pending = cnt(n, "pending", path);
        if (const YAML::Node u = n["upstream"]) {
            const std::string p = path + ".upstream";
            only_keys(
                c, u, p,
                {"delivered", "l2_faults", "s2_as_s1", "dropped", "vevents", "not_completed"});
            e.upstream.delivered = cnt(u, "delivered", p);
            e.upstream.l2_faults = cnt(u, "l2_faults", p);
            e.upstream.s2_as_s1 = cnt(u, "s2_as_s1", p);
            e.upstream.dropped = cnt(u, "dropped", p);
            e.upstream.vevents = cnt(u, "vevents", p);
            e.upstream.not_completed = cnt(u, "not_completed", p);
        }
        if (const YAML::Node r = n["resumes"]) {
            const std::string p = path + ".resumes";
            only_keys(c, r, p, {"retry", "abort", "term", "origin"});
            e.resume_retry = cnt(r, "retry", p);
            e.resume_abort = cnt(r, "abort", p);
            e.resume_term = cnt(r, "term", p);
            if (const YAML::Node o = r["origin"]) {
                only_keys(c, o, p + ".origin", {"response", "report_failed", "flush", "timeout"});
                for (const auto& kv : o)
                    e.resume_origin[kv.first.Scalar()] =
                        *cnt(o, kv.first.Scalar().c_str(), p + ".origin");
            }
        }
        if (const YAML::Node d = n["daemon"]) {
            const std::string p = path + ".daemon";
            only_keys(c, d, p, {"vmm", "vmm_pages", "guest", "guest_pages", "refused"});
            e.vmm = cnt(d, "vmm", p);
            e.vmm_pages = cnt(d, "vmm_pages", p);
            e.guest = cnt(d, "guest", p);
            e.guest_pages = cnt(d, "guest_pages", p);
            e.refused = cnt(d, "refused", p);
        }
        if (const YAML::Node t = n["tables"]) {
            if (!t.IsSequence())
                c.fail(t, path + ".tables", "expected a list");
            for (std::size_t i = 0; i < t.size(); i++) {
                const std::string p = fmt::format("{}.tables[{}]", path, i);
                const YAML::Node x = t[i];
                only_keys(c, x, p, {"sid", "stage", "pasid", "pages", "runs"});
                TableExpect te;
                te.sid = sid_key(c, x, p);
                device_of(x, p, te.sid);
                te.stage = stage_key(c, x, p);
                te.pasid = pasid_key(c, x, p);
                if (te.pasid && te.stage == IOPF_STAGE_2)
                    c.fail(x["pasid"], p + ".pasid", "stage 2 is per device: no pasid");
                te.pages = opt_num(c, x, "pages", p);
                if (const YAML::Node runs = x["runs"]) {
                    if (!runs.IsSequence())
                        c.fail(runs, p + ".runs", "expected a list");
                    te.runs.emplace();
                    for (std::size_t j = 0; j < runs.size(); j++) {
                        const std::string rp = fmt::format("{}.runs[{}]", p, j);
                        const YAML::Node r = runs[j];
                        only_keys(c, r, rp, {"addr", "out", "pages", "perm"});
                        iopf::Mapping m{te.sid,
                                        te.stage,
                                        te.pasid,
                                        num_key(c, r, "addr", rp),
                                        num_key(c, r, "out", rp),
                                        num_key(c, r, "pages", rp, kAddrLimit / kPage) * kPage,
                                        perm_key(c, r, rp, IOPF_PERM_READ | IOPF_PERM_WRITE)};
                        te.runs->push_back(m);
                    }
                }
                e.tables.push_back(te);
            }
        }
        any_ok = false;
    }

    void parse(const YAML::Node& root) {
        only_keys(c, root, "scenario",
                  {"name", "description", "access_wait_ms", "delivery", "pin_stage2", "devices",
                   "mappings", "ttbs", "steps", "expect", "on_iommufd", "on_iommufd_pinned"});
        s.name = scalar(c, need(c, root, "name", "scenario"), "name");
        if (s.name.empty() ||
            s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
            c.fail(root["name"], "name",
                   "letters a-z, digits, '-' and '_' only (a KTAP case name)");
        if (const YAML::Node d = root["description"])
            s.description = scalar(c, d, "description");
        s.access_wait_ms = static_cast<uint32_t>(
            opt_num(c, root, "access_wait_ms", "scenario", 600000).value_or(5000));
        if (const YAML::Node d = root["delivery"]) {
            try {
                s.delivery = parse_delivery(scalar(c, d, "delivery"));
            } catch (const Error& e) {
                c.fail(d, "delivery", e.what());
            }
        }
        s.pin_stage2 = opt_bool(c, root, "pin_stage2", "scenario", false);
        const YAML::Node devs = need(c, root, "devices", "scenario");
        if (!devs.IsSequence() || devs.size() == 0)
            c.fail(devs, "devices", "expected a list of at least one device");
        for (std::size_t i = 0; i < devs.size(); i++) {
            const std::string p = fmt::format("devices[{}]", i);
            const YAML::Node n = devs[i];
            only_keys(c, n, p, {"sid", "flags", "stage", "l1", "l2", "timeout_ms"});
            Device d;
            d.sid = sid_key(c, n, p);
            if (s.device(d.sid))
                c.fail(n["sid"], p + ".sid", fmt::format("{:#x} is declared twice", d.sid));
            d.flags = flags_key(c, n, p);
            if (const YAML::Node m = n["stage"]) {
                try {
                    d.stage_mode = iopf::parse_stage_mode(scalar(c, m, p + ".stage"));
                } catch (const iopf::ParseError& e) {
                    c.fail(m, p + ".stage", e.what());
                }
            }
            d.l1 = action_key(c, n, "l1", p);
            d.l2 = action_key(c, n, "l2", p);
            if (auto t = opt_num(c, n, "timeout_ms", p, IOPF_TIMEOUT_MS_MAX))
                d.timeout_ms = static_cast<uint32_t>(*t);
            s.devices.push_back(d);
        }
        if (const YAML::Node ms = root["mappings"]) {
            if (!ms.IsSequence())
                c.fail(ms, "mappings", "expected a list");
            for (std::size_t i = 0; i < ms.size(); i++)
                s.mappings.push_back(mapping(ms[i], fmt::format("mappings[{}]", i)));
        }
        if (const YAML::Node ts = root["ttbs"]) {
            if (!ts.IsSequence())
                c.fail(ts, "ttbs", "expected a list");
            for (std::size_t i = 0; i < ts.size(); i++) {
                const std::string p = fmt::format("ttbs[{}]", i);
                only_keys(c, ts[i], p, {"sid", "pasid", "ttb"});
                Ttb t{sid_key(c, ts[i], p), pasid_key(c, ts[i], p), num_key(c, ts[i], "ttb", p)};
                device_of(ts[i], p, t.sid);
                if (t.ttb % kPage)
                    c.fail(ts[i]["ttb"], p + ".ttb", "not page aligned");
                s.ttbs.push_back(t);
            }
        }
        const YAML::Node steps = need(c, root, "steps", "scenario");
        if (!steps.IsSequence() || steps.size() == 0)
            c.fail(steps, "steps", "expected a list of at least one step");
        for (std::size_t i = 0; i < steps.size(); i++)
            s.steps.push_back(step(steps[i], fmt::format("steps[{}]", i)));
        if (const YAML::Node e = root["expect"])
            expect(s.expect, e, "expect", false);
        if (const YAML::Node e = root["on_iommufd"])
            expect(s.on_iommufd, e, "on_iommufd", true);
        if (const YAML::Node e = root["on_iommufd_pinned"])
            expect(s.on_iommufd_pinned, e, "on_iommufd_pinned", true);
        if (s.delivery == Delivery::iommufd) {
            if (std::string why = s.iommufd_unfit(); !why.empty())
                c.fail(root["delivery"], "delivery", why);
        }
    }
};

} // namespace

bool Counts::empty() const {
    return !accesses && !completed && !aborted && !terminated && !faults && !l1 && !l2 &&
           !retries && !unmapped;
}

bool UpstreamCounts::empty() const {
    return !delivered && !l2_faults && !s2_as_s1 && !dropped && !vevents && !not_completed;
}

const char* delivery_name(Delivery d) {
    return d == Delivery::iommufd ? "iommufd" : "netlink";
}

Delivery parse_delivery(const std::string& s) {
    if (s == "netlink")
        return Delivery::netlink;
    if (s == "iommufd")
        return Delivery::iommufd;
    throw Error(fmt::format("'{}': netlink (the RFC's road) or iommufd (upstream's)", s));
}

std::string Road::name() const {
    if (delivery == Delivery::netlink)
        return "netlink";
    return pin_stage2 ? "iommufd+pinned" : "iommufd";
}

namespace {

// `any` (kAny) drops the expectation
void over(std::optional<uint64_t>& base, const std::optional<uint64_t>& o) {
    if (o)
        base = *o == kAny ? std::nullopt : o;
}

void overlay(Counts& b, const Counts& o) {
    over(b.accesses, o.accesses);
    over(b.completed, o.completed);
    over(b.aborted, o.aborted);
    over(b.terminated, o.terminated);
    over(b.faults, o.faults);
    over(b.l1, o.l1);
    over(b.l2, o.l2);
    over(b.retries, o.retries);
    over(b.unmapped, o.unmapped);
}

void overlay(Expect& b, const Expect& o) {
    overlay(b.totals, o.totals);
    over(b.resume_retry, o.resume_retry);
    over(b.resume_abort, o.resume_abort);
    over(b.resume_term, o.resume_term);
    for (const auto& [k, v] : o.resume_origin) {
        if (v == kAny)
            b.resume_origin.erase(k);
        else
            b.resume_origin[k] = v;
    }
    over(b.vmm, o.vmm);
    over(b.vmm_pages, o.vmm_pages);
    over(b.guest, o.guest);
    over(b.guest_pages, o.guest_pages);
    over(b.refused, o.refused);
    // a table named again is expected anew; the others stay
    for (const auto& t : o.tables) {
        auto it = std::find_if(b.tables.begin(), b.tables.end(), [&](const TableExpect& x) {
            return x.sid == t.sid && x.stage == t.stage && x.pasid == t.pasid;
        });
        if (it != b.tables.end())
            *it = t;
        else
            b.tables.push_back(t);
    }
    // absent means 0 for these two: `any` stays kAny, which check() skips
    if (o.stalled)
        b.stalled = o.stalled;
    if (o.pending)
        b.pending = o.pending;
    over(b.upstream.delivered, o.upstream.delivered);
    over(b.upstream.l2_faults, o.upstream.l2_faults);
    over(b.upstream.s2_as_s1, o.upstream.s2_as_s1);
    over(b.upstream.dropped, o.upstream.dropped);
    over(b.upstream.vevents, o.upstream.vevents);
    over(b.upstream.not_completed, o.upstream.not_completed);
}

} // namespace

Scenario Scenario::on_road(const Road& road) const {
    Scenario r = *this;
    if (road.delivery != Delivery::iommufd)
        return r;
    overlay(r.expect, on_iommufd);
    for (auto& st : r.steps)
        overlay(st.expect, st.on_iommufd);
    if (road.pin_stage2) {
        overlay(r.expect, on_iommufd_pinned);
        for (auto& st : r.steps)
            overlay(st.expect, st.on_iommufd_pinned);
    }
    return r;
}

std::string Scenario::iommufd_unfit() const {
    for (const auto& d : devices)
        if (d.stage_mode != IOPF_STAGE_MODE_NESTED)
            return fmt::format("device {:#x} is stage {}: upstream's road (iopfd nested=on) "
                               "takes stage nested devices only",
                               d.sid, iopf::stage_mode_name(d.stage_mode));
    return "";
}

std::vector<iopf::Mapping> Scenario::stage2_pins() const {
    std::vector<iopf::Mapping> out;
    for (const auto& d : devices) {
        if (d.stage_mode != IOPF_STAGE_MODE_NESTED)
            continue;
        std::set<uint64_t> pin; // IPA pages
        std::set<uint64_t> own; // stage-2 pages the file maps itself
        std::set<std::pair<std::optional<uint32_t>, uint64_t>> s1_mapped, s1_touched;
        auto each_page = [](uint64_t addr, uint64_t len, auto&& f) {
            for (uint64_t p = addr / kPage * kPage; p < addr + len; p += kPage)
                f(p);
        };
        auto file_map = [&](const iopf::Mapping& m) {
            if (m.sid != d.sid)
                return;
            if (m.stage == IOPF_STAGE_2) {
                each_page(m.addr, m.len, [&](uint64_t p) { own.insert(p); });
            } else {
                each_page(m.out_addr, m.len, [&](uint64_t p) { pin.insert(p); });
                each_page(m.addr, m.len, [&](uint64_t p) { s1_mapped.emplace(m.pasid, p); });
            }
        };
        for (const auto& m : mappings)
            file_map(m);
        for (const auto& st : steps)
            if (const auto* m = std::get_if<MapStep>(&st.what))
                file_map(m->m);
        auto ttb_of = [&](std::optional<uint32_t> pasid) {
            for (const auto& t : ttbs)
                if (t.sid == d.sid && t.pasid == pasid)
                    return t.ttb;
            return static_cast<uint64_t>(IOPF_STAGE_TTB_DEFAULT);
        };
        for (const auto& st : steps)
            if (const auto* a = std::get_if<AccessStep>(&st.what))
                for (const auto& x : a->accesses) {
                    if (x.sid != d.sid)
                        continue;
                    each_page(x.addr, x.len, [&](uint64_t p) {
                        pin.insert(ttb_of(x.pasid) + (p >> 21) * kPage);
                        if (!s1_mapped.count({x.pasid, p}))
                            s1_touched.emplace(x.pasid, p);
                    });
                }
        try {
            const iopf::Action l1 = iopf::parse_action(d.l1);
            if (l1.map && l1.map->base)
                for (uint64_t i = 0; i < s1_touched.size() * l1.map->window; i++)
                    pin.insert(*l1.map->base + i * kPage);
        } catch (const iopf::ParseError&) { // checked when parsed
        }
        for (uint64_t p : own)
            pin.erase(p);
        for (uint64_t p : pin) {
            if (!out.empty() && out.back().sid == d.sid && out.back().addr + out.back().len == p &&
                out.back().len < kMaxCmdLen) {
                out.back().len += kPage;
                continue;
            }
            out.push_back(
                {d.sid, IOPF_STAGE_2, std::nullopt, p, p, kPage, IOPF_PERM_READ | IOPF_PERM_WRITE});
        }
    }
    return out;
}

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

const Device* Scenario::device(uint32_t sid) const {
    for (const auto& d : devices)
        if (d.sid == sid)
            return &d;
    return nullptr;
}

size_t Scenario::access_count() const {
    size_t n = 0;
    for (const auto& st : steps)
        if (const auto* a = std::get_if<AccessStep>(&st.what))
            n += a->accesses.size();
    return n;
}

std::string Scenario::iopfd_config(const Road& road) const {
    std::string s =
        fmt::format("# iopfctl scenario run: {} ({}), road {}\n", name, file, road.name());
    // A level a device does not name is never answered (no SUCCESS loop).
    s += "default l1=pending l2=pending\n";
    // Upstream's road: iopfd is the VMM of a vSMMUv3; a page request has no
    // stage and goes to the guest model (l1), as upstream VMMs do.
    const char* up = road.delivery == Delivery::iommufd
                         ? " delivery=iommufd nested=on unattributed=forward"
                         : "";
    for (const auto& d : devices)
        s += fmt::format("device {:#x} flags={} stage={} l1={} l2={}{}\n", d.sid,
                         iopf::format_report_flags(d.flags), iopf::stage_mode_name(d.stage_mode),
                         d.l1, d.l2, up);
    return s;
}

std::vector<std::tuple<uint32_t, uint32_t, std::optional<uint32_t>>> Scenario::tables() const {
    std::set<std::tuple<uint32_t, uint32_t, std::optional<uint32_t>>> t;
    for (const auto& d : devices)
        if (d.stage_mode == IOPF_STAGE_MODE_S2 || d.stage_mode == IOPF_STAGE_MODE_NESTED)
            t.emplace(d.sid, IOPF_STAGE_2, std::nullopt);
    auto s1 = [&](uint32_t sid, std::optional<uint32_t> pasid) {
        const Device* d = device(sid);
        if (d && (d->stage_mode == IOPF_STAGE_MODE_S1 || d->stage_mode == IOPF_STAGE_MODE_NESTED))
            t.emplace(sid, IOPF_STAGE_1, pasid);
    };
    for (const auto& m : mappings)
        m.stage == IOPF_STAGE_1 ? s1(m.sid, m.pasid) : void();
    for (const auto& x : ttbs)
        s1(x.sid, x.pasid);
    for (const auto& st : steps)
        if (const auto* a = std::get_if<AccessStep>(&st.what))
            for (const auto& x : a->accesses)
                s1(x.sid, x.pasid);
    for (const auto& te : expect.tables)
        t.emplace(te.sid, te.stage, te.pasid);
    return {t.begin(), t.end()};
}

Scenario parse(const std::string& text, const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(
            fmt::format("{}:{}: (yaml): {}", file, e.mark.is_null() ? 0 : e.mark.line + 1, e.msg));
    }
    Parser p{Ctx{file}, {}};
    p.s.file = file;
    if (!root || root.IsNull())
        throw Error(fmt::format("{}:1: scenario: the file is empty", file));
    try {
        p.parse(root);
    } catch (const YAML::Exception& e) { // a conversion yaml-cpp refused
        throw Error(
            fmt::format("{}:{}: (yaml): {}", file, e.mark.is_null() ? 0 : e.mark.line + 1, e.msg));
    }
    return std::move(p.s);
}

Scenario load(const std::string& path) {
    std::ifstream in = iopf::open_input(path, "scenario");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

// ---- the verdict ---------------------------------------------------------------

namespace {

struct Totals {
    uint64_t accesses = 0, completed = 0, aborted = 0, terminated = 0, not_ended = 0;
    uint64_t faults = 0, l1 = 0, l2 = 0, retries = 0;
    std::vector<uint64_t> latency_us;

    void add(const AccessResult& r) {
        const iopf::Access& a = r.access;
        accesses++;
        completed += a.state == IOPF_ACCESS_COMPLETED;
        aborted += a.state == IOPF_ACCESS_ABORTED;
        terminated += a.state == IOPF_ACCESS_TERMINATED;
        not_ended += !a.ended();
        faults += a.faults;
        l1 += a.faults_l1;
        l2 += a.faults_l2;
        retries += a.retries;
        if (auto us = iopf::access_latency_us(a); us && a.ended())
            latency_us.push_back(*us);
    }
};

void want(std::vector<std::string>& out, const std::string& where, const char* key,
          const std::optional<uint64_t>& exp, uint64_t got) {
    if (exp && *exp != got)
        out.push_back(fmt::format("{}{}: expected {}, got {}", where, key, *exp, got));
}

void want_counts(std::vector<std::string>& out, const std::string& where, const Counts& k,
                 const Totals& t) {
    want(out, where, "accesses", k.accesses, t.accesses);
    want(out, where, "completed", k.completed, t.completed);
    want(out, where, "aborted", k.aborted, t.aborted);
    want(out, where, "terminated", k.terminated, t.terminated);
    want(out, where, "faults", k.faults, t.faults);
    want(out, where, "l1", k.l1, t.l1);
    want(out, where, "l2", k.l2, t.l2);
    want(out, where, "retries", k.retries, t.retries);
}

uint64_t pages_of(const std::vector<iopf::Mapping>& runs) {
    uint64_t n = 0;
    for (const auto& m : runs)
        n += m.len / kPage;
    return n;
}

std::string table_name(uint32_t sid, uint32_t stage, const std::optional<uint32_t>& pasid) {
    return fmt::format("sid {:#x} stage {}{}", sid, stage,
                       pasid ? fmt::format(" pasid {}", *pasid) : std::string());
}

std::string runs_text(const std::vector<iopf::Mapping>& runs) {
    std::string s;
    for (const auto& m : runs)
        s += fmt::format("{}{:#x}->{:#x} x{} {}", s.empty() ? "" : ", ", m.addr, m.out_addr,
                         m.len / kPage, iopf::perm_letters(m.perm));
    return s.empty() ? "none" : s;
}

} // namespace

uint64_t percentile(std::vector<uint64_t>& v, unsigned p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    size_t rank = (static_cast<size_t>(p) * v.size() + 99) / 100; // nearest rank, 1-based
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::vector<std::string> check(const Scenario& s, const Outcome& o) {
    std::vector<std::string> out;
    for (const auto& e : o.errors)
        out.push_back("run: " + e);
    Totals all;
    std::map<size_t, Totals> per_step;
    for (const auto& r : o.accesses) {
        all.add(r);
        per_step[r.step].add(r);
    }
    for (size_t i = 0; i < s.steps.size(); i++) {
        const Step& st = s.steps[i];
        if (st.expect.empty())
            continue;
        const std::string where =
            fmt::format("steps[{}] ({}, line {}): expect.", i, st.kind, st.line);
        if (std::holds_alternative<UnmapStep>(st.what)) {
            auto it = o.unmapped.find(i);
            want(out, where, "unmapped", st.expect.unmapped,
                 it == o.unmapped.end() ? 0 : it->second);
        } else {
            want_counts(out, where, st.expect, per_step[i]);
        }
    }
    const Expect& e = s.expect;
    want_counts(out, "expect.", e.totals, all);
    if (e.stalled != kAny)
        want(out, "expect.", "stalled", e.stalled.value_or(0), o.stalled);
    if (e.pending != kAny)
        want(out, "expect.", "pending", e.pending.value_or(0), o.pending);
    if (o.road.delivery == Delivery::iommufd) {
        const UpstreamCounts& u = e.upstream;
        want(out, "expect.upstream.", "delivered", u.delivered, o.up_delivered);
        want(out, "expect.upstream.", "l2_faults", u.l2_faults, o.up_l2_faults);
        want(out, "expect.upstream.", "s2_as_s1", u.s2_as_s1, o.up_s2_as_s1);
        want(out, "expect.upstream.", "dropped", u.dropped, o.up_dropped);
        want(out, "expect.upstream.", "vevents", u.vevents, o.up_vevents);
        want(out, "expect.upstream.", "not_completed", u.not_completed,
             all.accesses - all.completed);
    }
    want(out, "expect.resumes.", "retry", e.resume_retry, o.resume_retry);
    want(out, "expect.resumes.", "abort", e.resume_abort, o.resume_abort);
    want(out, "expect.resumes.", "term", e.resume_term, o.resume_term);
    for (const auto& [k, v] : e.resume_origin) {
        auto it = o.resume_origin.find(k);
        want(out, "expect.resumes.origin.", k.c_str(), v,
             it == o.resume_origin.end() ? 0 : it->second);
    }
    want(out, "expect.daemon.", "vmm", e.vmm, o.vmm);
    want(out, "expect.daemon.", "vmm_pages", e.vmm_pages, o.vmm_pages);
    want(out, "expect.daemon.", "guest", e.guest, o.guest);
    want(out, "expect.daemon.", "guest_pages", e.guest_pages, o.guest_pages);
    want(out, "expect.daemon.", "refused", e.refused, o.refused);
    for (size_t i = 0; i < e.tables.size(); i++) {
        const TableExpect& te = e.tables[i];
        auto it = o.tables.find({te.sid, te.stage, te.pasid});
        static const std::vector<iopf::Mapping> none;
        const auto& runs = it == o.tables.end() ? none : it->second;
        const std::string where =
            fmt::format("expect.tables[{}] ({}): ", i, table_name(te.sid, te.stage, te.pasid));
        want(out, where, "pages", te.pages, pages_of(runs));
        if (te.runs && *te.runs != runs)
            out.push_back(fmt::format("{}runs: expected {}, got {}", where, runs_text(*te.runs),
                                      runs_text(runs)));
    }
    return out;
}

iopf::Json summary(const Scenario& s, const Outcome& o, const std::vector<std::string>& failures) {
    Totals t;
    for (const auto& r : o.accesses)
        t.add(r);
    iopf::Json j = iopf::Json::object();
    j.set("name", s.name);
    j.set("file", s.file);
    j.set("ok", failures.empty());
    iopf::Json f = iopf::Json::array();
    for (const auto& x : failures)
        f.push(x);
    j.set("failures", f);
    iopf::Json a = iopf::Json::object();
    a.set("total", t.accesses);
    a.set("completed", t.completed);
    a.set("aborted", t.aborted);
    a.set("terminated", t.terminated);
    a.set("not_ended", t.not_ended);
    j.set("accesses", a);
    iopf::Json fa = iopf::Json::object();
    fa.set("total", t.faults);
    fa.set("l1", t.l1);
    fa.set("l2", t.l2);
    fa.set("per_access", t.accesses ? static_cast<double>(t.faults) / t.accesses : 0.0);
    j.set("faults", fa);
    j.set("retries", t.retries);
    iopf::Json lat = iopf::Json::object();
    lat.set("n", static_cast<uint64_t>(t.latency_us.size()));
    lat.set("p50", percentile(t.latency_us, 50));
    lat.set("p99", percentile(t.latency_us, 99));
    lat.set("max", t.latency_us.empty() ? 0 : t.latency_us.back());
    uint64_t sum = 0;
    for (uint64_t us : t.latency_us)
        sum += us;
    lat.set("mean", t.latency_us.empty() ? 0 : sum / t.latency_us.size());
    j.set("latency_us", lat);
    uint64_t s2 = 0;
    iopf::Json tabs = iopf::Json::array();
    for (const auto& [key, runs] : o.tables) {
        const auto& [sid, stage, pasid] = key;
        if (stage == IOPF_STAGE_2)
            s2 += pages_of(runs);
        iopf::Json x = iopf::Json::object();
        x.set("sid", sid);
        x.set("stage", stage);
        x.set("pasid", pasid ? iopf::Json(*pasid) : iopf::Json());
        x.set("pages", pages_of(runs));
        tabs.push(x);
    }
    j.set("stage2_pages", s2);
    j.set("tables", tabs);
    iopf::Json r = iopf::Json::object();
    r.set("retry", o.resume_retry);
    r.set("abort", o.resume_abort);
    r.set("term", o.resume_term);
    iopf::Json origin = iopf::Json::object();
    for (const auto& [k, v] : o.resume_origin)
        origin.set(k, v);
    r.set("origin", origin);
    j.set("resumes", r);
    iopf::Json d = iopf::Json::object();
    d.set("vmm", o.vmm);
    d.set("vmm_pages", o.vmm_pages);
    d.set("guest", o.guest);
    d.set("guest_pages", o.guest_pages);
    d.set("refused", o.refused);
    j.set("daemon", d);
    j.set("stalled", o.stalled);
    j.set("pending", o.pending);
    j.set("road", o.road.name());
    j.set("delivery", delivery_name(o.road.delivery));
    j.set("pin_stage2", o.road.pin_stage2);
    j.set("skip", o.skip ? iopf::Json(*o.skip) : iopf::Json());
    if (o.road.delivery == Delivery::iommufd) {
        iopf::Json u = iopf::Json::object();
        u.set("completed", t.completed);
        u.set("delivered", o.up_delivered);
        u.set("l2_faults", o.up_l2_faults);
        u.set("s2_as_s1", o.up_s2_as_s1);
        u.set("dropped", o.up_dropped);
        u.set("vevents", o.up_vevents);
        u.set("not_completed", t.accesses - t.completed);
        u.set("pinned_pages", o.pinned_pages);
        j.set("upstream", u);
    }
    return j;
}

std::string roads_table(const std::vector<iopf::Json>& summaries) {
    std::vector<std::string> names;
    std::map<std::string, std::map<std::string, const iopf::Json*>> by; // name -> road -> summary
    for (const auto& j : summaries) {
        const std::string& name = j.at("name").as_string();
        const iopf::Json* road = j.find("road");
        const std::string r = road && road->is_string() ? road->as_string() : "netlink";
        if (!by.count(name))
            names.push_back(name);
        by[name][r] = &j;
    }
    auto u64 = [](const iopf::Json& j, std::string_view a, std::string_view b) {
        return j.at(a).at(b).as_u64();
    };
    // "-" not run; SKIP; completed/total, and a failed check marked
    auto done = [&](const iopf::Json* j) -> std::string {
        if (!j)
            return "-";
        if (const iopf::Json* sk = j->find("skip"); sk && sk->is_string())
            return "SKIP";
        return fmt::format("{}/{}{}", u64(*j, "accesses", "completed"),
                           u64(*j, "accesses", "total"), j->at("ok").as_bool() ? "" : " (FAIL)");
    };
    auto up = [&](const iopf::Json* j, std::string_view k) -> std::string {
        const iopf::Json* sk = j ? j->find("skip") : nullptr;
        if (!j || !j->find("upstream") || (sk && sk->is_string()))
            return "-";
        return std::to_string(j->at("upstream").at(k).as_u64());
    };
    std::string out =
        "| scenario | netlink: completed | netlink: faults | iommufd: completed | "
        "iommufd: faults delivered | S2 as S1 | dropped (UPSTREAM_UNHANDLED) | not completed | "
        "pinned S2: completed | pinned S2: not completed |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& n : names) {
        const auto& m = by[n];
        auto get = [&](const char* r) -> const iopf::Json* {
            auto it = m.find(r);
            return it == m.end() ? nullptr : it->second;
        };
        const iopf::Json *nl = get("netlink"), *io = get("iommufd"), *pin = get("iommufd+pinned");
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, done(nl),
                           done(nl) != "-" && done(nl) != "SKIP"
                               ? std::to_string(u64(*nl, "faults", "total"))
                               : "-",
                           done(io), up(io, "delivered"), up(io, "s2_as_s1"), up(io, "dropped"),
                           up(io, "not_completed"), done(pin), up(pin, "not_completed"));
    }
    return out;
}

} // namespace iopfctl::scenario
