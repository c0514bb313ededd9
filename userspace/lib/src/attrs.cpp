// SPDX-License-Identifier: GPL-2.0
#include "iopf/attrs.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <endian.h>
#include <string>

#include <fmt/core.h>
#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "iopf/error.hpp"
#include "iopf/genl.hpp"

namespace iopf::nl {

namespace {

constexpr int kNest = -1;
constexpr int kPad = -2;  // alignment padding (nla_put_u64_64bit): ignored
constexpr int kFlag = -3; // NLA_FLAG: no payload

struct AttrSpec {
    const char* name = "UNSPEC";
    int len = 0; // exact payload length; kNest, kFlag; 0: not expected here
};

template <std::size_t N> using Spec = std::array<AttrSpec, N>;

constexpr Spec<IOPF_A_MAX + 1> make_top_spec() {
    Spec<IOPF_A_MAX + 1> s{};
    s[IOPF_A_PAD] = {"PAD", kPad};
    s[IOPF_A_SID] = {"SID", 4};
    s[IOPF_A_FLAGS] = {"FLAGS", 4};
    s[IOPF_A_MASK] = {"MASK", 4};
    s[IOPF_A_SET] = {"SET", 4};
    s[IOPF_A_GRPID] = {"GRPID", 4};
    s[IOPF_A_PASID] = {"PASID", 4};
    s[IOPF_A_CODE] = {"CODE", 4};
    s[IOPF_A_REGISTERED] = {"REGISTERED", 1};
    s[IOPF_A_STATS] = {"STATS", kNest};
    s[IOPF_A_FAULT] = {"FAULT", kNest};
    s[IOPF_A_RESUME] = {"RESUME", kNest};
    s[IOPF_A_PENDING_LIMIT] = {"PENDING_LIMIT", 4};
    s[IOPF_A_TIMEOUT_MS] = {"TIMEOUT_MS", 4};
    s[IOPF_A_STAGE_MODE] = {"STAGE_MODE", 4};
    s[IOPF_A_STAGE] = {"STAGE", 4};
    s[IOPF_A_ADDR] = {"ADDR", 8};
    s[IOPF_A_OUT_ADDR] = {"OUT_ADDR", 8};
    s[IOPF_A_LEN] = {"LEN", 8};
    s[IOPF_A_PERM] = {"PERM", 4};
    s[IOPF_A_STALL] = {"STALL", kFlag};
    s[IOPF_A_COUNT] = {"COUNT", 8};
    s[IOPF_A_MAPPING] = {"MAPPING", kNest};
    s[IOPF_A_ACCESS] = {"ACCESS", kNest};
    s[IOPF_A_ACCESS_ID] = {"ACCESS_ID", 8};
    s[IOPF_A_TTB] = {"TTB", 8};
    s[IOPF_A_BRIDGE] = {"BRIDGE", 1};
    s[IOPF_A_IOMMUFD_DEV_ID] = {"IOMMUFD_DEV_ID", 4};
    s[IOPF_A_IOMMUFD_PT_ID] = {"IOMMUFD_PT_ID", 4};
    return s;
}

constexpr Spec<IOPF_FAULT_A_MAX + 1> make_fault_spec() {
    Spec<IOPF_FAULT_A_MAX + 1> s{};
    s[IOPF_FAULT_A_PAD] = {"PAD", kPad};
    s[IOPF_FAULT_A_SEQ] = {"SEQ", 8};
    s[IOPF_FAULT_A_DEV_SEQ] = {"DEV_SEQ", 8};
    s[IOPF_FAULT_A_TIMESTAMP_NS] = {"TIMESTAMP_NS", 8};
    s[IOPF_FAULT_A_SID] = {"SID", 4};
    s[IOPF_FAULT_A_EVENT_ID] = {"EVENT_ID", 4};
    s[IOPF_FAULT_A_TYPE] = {"TYPE", 4};
    s[IOPF_FAULT_A_LEVEL] = {"LEVEL", 4};
    s[IOPF_FAULT_A_FLAGS] = {"FLAGS", 4};
    s[IOPF_FAULT_A_PASID] = {"PASID", 4};
    s[IOPF_FAULT_A_GRPID] = {"GRPID", 4};
    s[IOPF_FAULT_A_PERM] = {"PERM", 4};
    s[IOPF_FAULT_A_REASON] = {"REASON", 4};
    s[IOPF_FAULT_A_ADDR] = {"ADDR", 8};
    s[IOPF_FAULT_A_RECORD] = {"RECORD", IOPF_EVT_BYTES};
    s[IOPF_FAULT_A_IPA] = {"IPA", 8};
    return s;
}

constexpr Spec<IOPF_RESUME_A_MAX + 1> make_resume_spec() {
    Spec<IOPF_RESUME_A_MAX + 1> s{};
    s[IOPF_RESUME_A_PAD] = {"PAD", kPad};
    s[IOPF_RESUME_A_SEQ] = {"SEQ", 8};
    s[IOPF_RESUME_A_SID] = {"SID", 4};
    s[IOPF_RESUME_A_STAG] = {"STAG", 4};
    s[IOPF_RESUME_A_RESP] = {"RESP", 4};
    s[IOPF_RESUME_A_CODE] = {"CODE", 4};
    s[IOPF_RESUME_A_ORIGIN] = {"ORIGIN", 4};
    s[IOPF_RESUME_A_CMD] = {"CMD", 16};
    return s;
}

constexpr Spec<IOPF_MAPPING_A_MAX + 1> make_mapping_spec() {
    Spec<IOPF_MAPPING_A_MAX + 1> s{};
    s[IOPF_MAPPING_A_PAD] = {"PAD", kPad};
    s[IOPF_MAPPING_A_SID] = {"SID", 4};
    s[IOPF_MAPPING_A_STAGE] = {"STAGE", 4};
    s[IOPF_MAPPING_A_PASID] = {"PASID", 4};
    s[IOPF_MAPPING_A_ADDR] = {"ADDR", 8};
    s[IOPF_MAPPING_A_OUT_ADDR] = {"OUT_ADDR", 8};
    s[IOPF_MAPPING_A_LEN] = {"LEN", 8};
    s[IOPF_MAPPING_A_PERM] = {"PERM", 4};
    return s;
}

constexpr Spec<IOPF_ACCESS_A_MAX + 1> make_access_spec() {
    Spec<IOPF_ACCESS_A_MAX + 1> s{};
    s[IOPF_ACCESS_A_PAD] = {"PAD", kPad};
    s[IOPF_ACCESS_A_ID] = {"ID", 8};
    s[IOPF_ACCESS_A_SID] = {"SID", 4};
    s[IOPF_ACCESS_A_PASID] = {"PASID", 4};
    s[IOPF_ACCESS_A_ADDR] = {"ADDR", 8};
    s[IOPF_ACCESS_A_LEN] = {"LEN", 8};
    s[IOPF_ACCESS_A_PERM] = {"PERM", 4};
    s[IOPF_ACCESS_A_STATE] = {"STATE", 4};
    s[IOPF_ACCESS_A_FAULTS] = {"FAULTS", 4};
    s[IOPF_ACCESS_A_FAULTS_L1] = {"FAULTS_L1", 4};
    s[IOPF_ACCESS_A_FAULTS_L2] = {"FAULTS_L2", 4};
    s[IOPF_ACCESS_A_RETRIES] = {"RETRIES", 4};
    s[IOPF_ACCESS_A_DONE] = {"DONE", 8};
    s[IOPF_ACCESS_A_FAULT_SEQ] = {"FAULT_SEQ", 8};
    s[IOPF_ACCESS_A_STAG] = {"STAG", 4};
    s[IOPF_ACCESS_A_START_NS] = {"START_NS", 8};
    s[IOPF_ACCESS_A_END_NS] = {"END_NS", 8};
    s[IOPF_ACCESS_A_STALL] = {"STALL", kFlag};
    return s;
}

constexpr auto kTopSpec = make_top_spec();
constexpr auto kFaultSpec = make_fault_spec();
constexpr auto kResumeSpec = make_resume_spec();
constexpr auto kMappingSpec = make_mapping_spec();
constexpr auto kAccessSpec = make_access_spec();

// The attributes are walked here, once, without libnl: a notification
// carries 16 FAULT nests of ~15 attributes each, and libnl's nla_parse()
// (a second walk, a policy built per call, a library call per accessor)
// was most of iopfd's cost per fault under TCG (Documentation/performance.md).
// The checks are libnl's and more: every attribute in the spec's range has
// exactly its length, none is repeated, nothing trails the last one.
// Attributes above the range are ignored: a newer module may add some.

inline uint16_t attr_len(const nlattr* a) {
    return a->nla_len;
}
inline int attr_type(const nlattr* a) {
    return a->nla_type & NLA_TYPE_MASK;
}
inline int attr_payload(const nlattr* a) {
    return a->nla_len - NLA_HDRLEN;
}

template <std::size_t N>
void parse_checked(nlattr* (&tb)[N], const Spec<N>& spec, nlattr* head, int len, const char* what) {
    std::fill(std::begin(tb), std::end(tb), nullptr);
    auto* pos = reinterpret_cast<unsigned char*>(head);
    int rem = len;
    while (rem >= static_cast<int>(NLA_HDRLEN)) {
        auto* nla = reinterpret_cast<nlattr*>(pos);
        const int alen = attr_len(nla);
        if (alen < static_cast<int>(NLA_HDRLEN) || alen > rem)
            break; // not a whole attribute: reported as trailing bytes
        const int type = attr_type(nla);
        const int step = std::min(NLA_ALIGN(alen), rem);
        pos += step;
        rem -= step;
        if (type >= static_cast<int>(N))
            continue;
        const AttrSpec& s = spec[type];
        if (s.len == kPad)
            continue;
        if (s.len == 0)
            throw ParseError(fmt::format("{}: unexpected attribute {} ({})", what, s.name, type));
        if (tb[type])
            throw ParseError(fmt::format("{}: duplicate attribute {}", what, s.name));
        const int plen = attr_payload(nla);
        if (s.len == kFlag && plen != 0)
            throw ParseError(
                fmt::format("{}: flag {} has {} bytes, expected none", what, s.name, plen));
        if (s.len > 0 && plen != s.len)
            throw ParseError(fmt::format("{}: attribute {} has {} bytes, expected {}", what, s.name,
                                         plen, s.len));
        tb[type] = nla;
    }
    if (rem > 0)
        throw ParseError(fmt::format("{}: {} trailing bytes after the attributes", what, rem));
}

template <std::size_t N>
void parse_nest(nlattr* (&tb)[N], const Spec<N>& spec, const nlattr* nest, const char* what) {
    auto* n = const_cast<nlattr*>(nest);
    parse_checked(tb, spec, reinterpret_cast<nlattr*>(reinterpret_cast<char*>(n) + NLA_HDRLEN),
                  attr_payload(n), what);
}

// Not a template: GCC 12 folds identical instances for different N into one
// and then warns (-Warray-bounds) that the merged one overruns the smaller tb.
const nlattr* need_attr(nlattr* const* tb, const AttrSpec* spec, int type, const char* what) {
    if (!tb[type])
        throw ParseError(fmt::format("{}: missing attribute {}", what, spec[type].name));
    return tb[type];
}

template <std::size_t N>
const nlattr* need(nlattr* const (&tb)[N], const Spec<N>& spec, int type, const char* what) {
    return need_attr(tb, spec.data(), type, what);
}

// Lengths were checked by parse_checked(); payloads may be unaligned for a
// u64 (4-byte attribute alignment), hence memcpy.
inline uint32_t u32_of(const nlattr* a) {
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(a) + NLA_HDRLEN, sizeof(v));
    return v;
}
inline uint64_t u64_of(const nlattr* a) {
    uint64_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(a) + NLA_HDRLEN, sizeof(v));
    return v;
}

genlmsghdr* genl_hdr(const nlmsghdr* nlh) {
    auto* h = const_cast<nlmsghdr*>(nlh);
    if (!genlmsg_valid_hdr(h, 0))
        throw ParseError("message too short for a generic netlink header");
    return static_cast<genlmsghdr*>(nlmsg_data(h));
}

void top_attrs(nlattr* (&tb)[IOPF_A_MAX + 1], const nlmsghdr* nlh, const char* what) {
    genlmsghdr* gh = genl_hdr(nlh);
    parse_checked(tb, kTopSpec, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), what);
}

} // namespace

uint8_t genl_cmd(const nlmsghdr* nlh) {
    return genl_hdr(nlh)->cmd;
}

Fault parse_fault_nest(const nlattr* nest) {
    constexpr const char* what = "FAULT";
    nlattr* tb[IOPF_FAULT_A_MAX + 1] = {};
    parse_nest(tb, kFaultSpec, nest, what);
    auto get32 = [&](int t) { return u32_of(need(tb, kFaultSpec, t, what)); };
    auto get64 = [&](int t) { return u64_of(need(tb, kFaultSpec, t, what)); };

    Fault f;
    f.seq = get64(IOPF_FAULT_A_SEQ);
    f.dev_seq = get64(IOPF_FAULT_A_DEV_SEQ);
    f.timestamp_ns = get64(IOPF_FAULT_A_TIMESTAMP_NS);
    f.sid = get32(IOPF_FAULT_A_SID);
    f.event_id = get32(IOPF_FAULT_A_EVENT_ID);
    f.handled = true;

    iopf_model_fault c{};
    c.sid = f.sid;
    c.event_id = f.event_id;
    c.type = get32(IOPF_FAULT_A_TYPE);
    c.level = get32(IOPF_FAULT_A_LEVEL);
    c.flags = get32(IOPF_FAULT_A_FLAGS);
    c.perm = get32(IOPF_FAULT_A_PERM);
    c.addr = get64(IOPF_FAULT_A_ADDR);
    if (*f.seq == 0)
        throw ParseError("FAULT: SEQ is 0 (sequence numbers start at 1)");
    if (c.level != 1 && c.level != 2)
        throw ParseError(fmt::format("FAULT: LEVEL {} is neither 1 nor 2", c.level));
    if (c.perm & ~IOPF_PERM_ALL)
        throw ParseError(fmt::format("FAULT: PERM 0x{:x} has unknown bits", c.perm));

    if (c.type == IOPF_FAULT_PAGE_REQ) {
        c.grpid = get32(IOPF_FAULT_A_GRPID);
        if (tb[IOPF_FAULT_A_REASON])
            throw ParseError("FAULT: REASON in a page request");
    } else if (c.type == IOPF_FAULT_DMA_UNRECOV) {
        c.reason = get32(IOPF_FAULT_A_REASON);
        if (tb[IOPF_FAULT_A_GRPID])
            throw ParseError("FAULT: GRPID in an unrecoverable fault");
    } else {
        throw ParseError(fmt::format("FAULT: unknown TYPE {}", c.type));
    }
    // PASID_VALID is bit 0 in both flag sets: PASID present exactly then.
    bool pasid_valid = c.flags & IOPF_PRQ_PASID_VALID;
    if (pasid_valid) {
        c.pasid = get32(IOPF_FAULT_A_PASID);
        if (c.pasid >= (1U << 20))
            throw ParseError(fmt::format("FAULT: PASID 0x{:x} exceeds 20 bits", c.pasid));
    } else if (tb[IOPF_FAULT_A_PASID]) {
        throw ParseError("FAULT: PASID present without PASID_VALID");
    }
    f.fault = c;

    if (const nlattr* r = tb[IOPF_FAULT_A_RECORD]) {
        Record rec;
        std::memcpy(rec.data(), reinterpret_cast<const char*>(r) + NLA_HDRLEN, IOPF_EVT_BYTES);
        for (auto& w : rec)
            w = le64toh(w); // the record is little-endian, as in the event queue
        f.record = rec;
    }
    return f;
}

Resume parse_resume_nest(const nlattr* nest) {
    constexpr const char* what = "RESUME";
    nlattr* tb[IOPF_RESUME_A_MAX + 1] = {};
    parse_nest(tb, kResumeSpec, nest, what);
    auto get32 = [&](int t) { return u32_of(need(tb, kResumeSpec, t, what)); };

    Resume r;
    r.seq = u64_of(need(tb, kResumeSpec, IOPF_RESUME_A_SEQ, what));
    r.sid = get32(IOPF_RESUME_A_SID);
    r.stag = get32(IOPF_RESUME_A_STAG);
    r.resp = get32(IOPF_RESUME_A_RESP);
    r.code = get32(IOPF_RESUME_A_CODE);
    r.origin = get32(IOPF_RESUME_A_ORIGIN);
    const nlattr* cmd = need(tb, kResumeSpec, IOPF_RESUME_A_CMD, what);
    std::memcpy(r.cmd.data(), nla_data(const_cast<nlattr*>(cmd)), sizeof(r.cmd));
    for (auto& w : r.cmd)
        w = le64toh(w);
    if (r.resp > IOPF_RESUME_ABORT)
        throw ParseError(fmt::format("RESUME: RESP {} out of range", r.resp));
    if (r.origin < IOPF_ORIGIN_RESPONSE || r.origin > IOPF_ORIGIN_TIMEOUT)
        throw ParseError(fmt::format("RESUME: ORIGIN {} out of range", r.origin));
    return r;
}

Stats parse_stats_nest(const nlattr* nest) {
    Stats s;
    nlattr* a;
    int rem;
    auto* n = const_cast<nlattr*>(nest);
    nla_for_each_nested(a, n, rem) {
        int type = nla_type(a);
        if (type == IOPF_STAT_A_PAD)
            continue;
        if (type == IOPF_STAT_A_UNSPEC)
            throw ParseError("STATS: attribute type 0");
        if (nla_len(a) != 8)
            throw ParseError(
                fmt::format("STATS: counter {} has {} bytes, expected 8", type, nla_len(a)));
        for (const auto& [t, v] : s)
            if (t == type)
                throw ParseError(fmt::format("STATS: duplicate counter {}", type));
        s.emplace_back(type, nla_get_u64(a));
    }
    if (rem > 0)
        throw ParseError("STATS: trailing bytes");
    return s;
}

void parse_fault_msg(const nlmsghdr* nlh, FaultBatch& b) {
    b.faults.clear();
    b.errors.clear();
    genlmsghdr* gh = genl_hdr(nlh);
    nlattr* a;
    int rem;
    int nests = 0;
    nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
        if (attr_type(a) != IOPF_A_FAULT)
            continue; // other top-level attributes carry nothing we need
        nests++;
        try {
            b.faults.push_back(parse_fault_nest(a));
        } catch (const ParseError& e) {
            b.errors.emplace_back(e.what());
        }
    }
    if (rem > 0)
        b.errors.emplace_back("FAULT message: trailing bytes after the attributes");
    if (nests == 0)
        b.errors.emplace_back("FAULT message without a FAULT nest");
}

FaultBatch parse_fault_msg(const nlmsghdr* nlh) {
    FaultBatch b;
    parse_fault_msg(nlh, b);
    return b;
}

Resume parse_resume_msg(const nlmsghdr* nlh) {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, "RESUME message");
    return parse_resume_nest(need(tb, kTopSpec, IOPF_A_RESUME, "RESUME message"));
}

DevInfo parse_dev_msg(const nlmsghdr* nlh) {
    constexpr const char* what = "DEV_GET reply";
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, what);
    DevInfo d;
    d.sid = u32_of(need(tb, kTopSpec, IOPF_A_SID, what));
    d.registered = nla_get_u8(const_cast<nlattr*>(need(tb, kTopSpec, IOPF_A_REGISTERED, what)));
    d.flags = u32_of(need(tb, kTopSpec, IOPF_A_FLAGS, what));
    if (tb[IOPF_A_PENDING_LIMIT])
        d.pending_limit = u32_of(tb[IOPF_A_PENDING_LIMIT]);
    if (tb[IOPF_A_TIMEOUT_MS])
        d.timeout_ms = u32_of(tb[IOPF_A_TIMEOUT_MS]);
    if (tb[IOPF_A_STAGE_MODE])
        d.stage_mode = u32_of(tb[IOPF_A_STAGE_MODE]);
    // Upstream's road: BRIDGE always (from a module that has it), the
    // iommufd device id while bound, the HWPT's id while attached too.
    if (tb[IOPF_A_BRIDGE]) {
        const uint8_t b = nla_get_u8(tb[IOPF_A_BRIDGE]);
        if (b > 1)
            throw ParseError(fmt::format("{}: BRIDGE {} is neither 0 nor 1", what, b));
        d.bridged = b != 0;
    }
    if (tb[IOPF_A_IOMMUFD_DEV_ID])
        d.iommufd_dev_id = u32_of(tb[IOPF_A_IOMMUFD_DEV_ID]);
    if (tb[IOPF_A_IOMMUFD_PT_ID]) {
        if (!d.iommufd_dev_id)
            throw ParseError(fmt::format("{}: IOMMUFD_PT_ID without IOMMUFD_DEV_ID", what));
        d.iommufd_pt_id = u32_of(tb[IOPF_A_IOMMUFD_PT_ID]);
    }
    d.stats = parse_stats_nest(need(tb, kTopSpec, IOPF_A_STATS, what));
    return d;
}

Stats parse_stats_msg(const nlmsghdr* nlh) {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, "STATS_GET reply");
    return parse_stats_nest(need(tb, kTopSpec, IOPF_A_STATS, "STATS_GET reply"));
}

namespace {

void check_pasid(uint32_t pasid, const char* what) {
    if (pasid >= (1U << 20))
        throw ParseError(fmt::format("{}: PASID 0x{:x} exceeds 20 bits", what, pasid));
}

void check_perm(uint32_t perm, const char* what) {
    if (perm & ~IOPF_PERM_ALL)
        throw ParseError(fmt::format("{}: PERM 0x{:x} has unknown bits", what, perm));
}

} // namespace

Mapping parse_mapping_nest(const nlattr* nest) {
    constexpr const char* what = "MAPPING";
    nlattr* tb[IOPF_MAPPING_A_MAX + 1] = {};
    parse_nest(tb, kMappingSpec, nest, what);
    auto get32 = [&](int t) { return u32_of(need(tb, kMappingSpec, t, what)); };
    auto get64 = [&](int t) { return u64_of(need(tb, kMappingSpec, t, what)); };
    Mapping m;
    m.sid = get32(IOPF_MAPPING_A_SID);
    m.stage = get32(IOPF_MAPPING_A_STAGE);
    m.addr = get64(IOPF_MAPPING_A_ADDR);
    m.out_addr = get64(IOPF_MAPPING_A_OUT_ADDR);
    m.len = get64(IOPF_MAPPING_A_LEN);
    m.perm = get32(IOPF_MAPPING_A_PERM);
    if (m.stage != IOPF_STAGE_1 && m.stage != IOPF_STAGE_2)
        throw ParseError(fmt::format("MAPPING: STAGE {} is neither 1 nor 2", m.stage));
    if (tb[IOPF_MAPPING_A_PASID]) {
        if (m.stage != IOPF_STAGE_1)
            throw ParseError("MAPPING: PASID in a stage-2 mapping");
        m.pasid = u32_of(tb[IOPF_MAPPING_A_PASID]);
        check_pasid(*m.pasid, what);
    }
    constexpr uint64_t mask = IOPF_STAGE_PAGE_SIZE - 1;
    if (m.len == 0 || ((m.addr | m.out_addr | m.len) & mask))
        throw ParseError(fmt::format("MAPPING: 0x{:x} -> 0x{:x} len 0x{:x} is not whole pages",
                                     m.addr, m.out_addr, m.len));
    check_perm(m.perm, what);
    return m;
}

Access parse_access_nest(const nlattr* nest) {
    constexpr const char* what = "ACCESS";
    nlattr* tb[IOPF_ACCESS_A_MAX + 1] = {};
    parse_nest(tb, kAccessSpec, nest, what);
    auto get32 = [&](int t) { return u32_of(need(tb, kAccessSpec, t, what)); };
    auto get64 = [&](int t) { return u64_of(need(tb, kAccessSpec, t, what)); };
    Access a;
    a.id = get64(IOPF_ACCESS_A_ID);
    a.sid = get32(IOPF_ACCESS_A_SID);
    a.addr = get64(IOPF_ACCESS_A_ADDR);
    a.len = get64(IOPF_ACCESS_A_LEN);
    a.perm = get32(IOPF_ACCESS_A_PERM);
    a.state = get32(IOPF_ACCESS_A_STATE);
    a.faults = get32(IOPF_ACCESS_A_FAULTS);
    a.faults_l1 = get32(IOPF_ACCESS_A_FAULTS_L1);
    a.faults_l2 = get32(IOPF_ACCESS_A_FAULTS_L2);
    a.retries = get32(IOPF_ACCESS_A_RETRIES);
    a.done = get64(IOPF_ACCESS_A_DONE);
    a.start_ns = get64(IOPF_ACCESS_A_START_NS);
    a.end_ns = get64(IOPF_ACCESS_A_END_NS);
    a.stall = tb[IOPF_ACCESS_A_STALL] != nullptr;
    if (a.id == 0)
        throw ParseError("ACCESS: ID is 0 (access IDs start at 1)");
    if (a.state < IOPF_ACCESS_STALLED || a.state > kAccessRunning)
        throw ParseError(fmt::format("ACCESS: STATE {} out of range", a.state));
    check_perm(a.perm, what);
    if (a.faults_l1 + static_cast<uint64_t>(a.faults_l2) > a.faults)
        throw ParseError(fmt::format("ACCESS: FAULTS_L1 {} + FAULTS_L2 {} exceed FAULTS {}",
                                     a.faults_l1, a.faults_l2, a.faults));
    if (tb[IOPF_ACCESS_A_PASID]) {
        a.pasid = u32_of(tb[IOPF_ACCESS_A_PASID]);
        check_pasid(*a.pasid, what);
    }
    if (tb[IOPF_ACCESS_A_FAULT_SEQ])
        a.fault_seq = u64_of(tb[IOPF_ACCESS_A_FAULT_SEQ]);
    if (tb[IOPF_ACCESS_A_STAG]) {
        a.stag = u32_of(tb[IOPF_ACCESS_A_STAG]);
        if (*a.stag > 0xffff)
            throw ParseError(fmt::format("ACCESS: STAG {} exceeds 16 bits", *a.stag));
    }
    return a;
}

void put_table(nl_msg* m, uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid) {
    check_put(nla_put_u32(m, IOPF_A_SID, sid), "SID");
    check_put(nla_put_u32(m, IOPF_A_STAGE, stage), "STAGE");
    if (pasid)
        check_put(nla_put_u32(m, IOPF_A_PASID, *pasid), "PASID");
}

void put_map_request(nl_msg* m, const Mapping& mp) {
    put_table(m, mp.sid, mp.stage, mp.pasid);
    check_put(nla_put_u64(m, IOPF_A_ADDR, mp.addr), "ADDR");
    check_put(nla_put_u64(m, IOPF_A_OUT_ADDR, mp.out_addr), "OUT_ADDR");
    check_put(nla_put_u64(m, IOPF_A_LEN, mp.len), "LEN");
    check_put(nla_put_u32(m, IOPF_A_PERM, mp.perm), "PERM");
}

void put_access_request(nl_msg* m, const AccessRequest& a) {
    check_put(nla_put_u32(m, IOPF_A_SID, a.sid), "SID");
    if (a.pasid)
        check_put(nla_put_u32(m, IOPF_A_PASID, *a.pasid), "PASID");
    check_put(nla_put_u64(m, IOPF_A_ADDR, a.addr), "ADDR");
    check_put(nla_put_u64(m, IOPF_A_LEN, a.len), "LEN");
    check_put(nla_put_u32(m, IOPF_A_PERM, a.perm), "PERM");
    if (a.stall)
        check_put(nla_put_flag(m, IOPF_A_STALL), "STALL");
}

Mapping parse_mapping_msg(const nlmsghdr* nlh) {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, "MAPPING message");
    return parse_mapping_nest(need(tb, kTopSpec, IOPF_A_MAPPING, "MAPPING message"));
}

Access parse_access_msg(const nlmsghdr* nlh) {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, "ACCESS message");
    return parse_access_nest(need(tb, kTopSpec, IOPF_A_ACCESS, "ACCESS message"));
}

uint64_t parse_count_msg(const nlmsghdr* nlh) {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    top_attrs(tb, nlh, "UNMAP reply");
    return u64_of(need(tb, kTopSpec, IOPF_A_COUNT, "UNMAP reply"));
}

} // namespace iopf::nl
