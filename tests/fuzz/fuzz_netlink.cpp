// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness for the user-space netlink parsers (userspace/lib
// attrs.cpp): arbitrary bytes as the attribute stream of a generic netlink
// message, or of one nest, or as a whole netlink message.
//
// Input byte 0 picks the target (mod 12), the rest is the payload:
//   0 FAULT_NTF message      parse_fault_msg()     (attributes after genlmsghdr)
//   1 RESUME_NTF message     parse_resume_msg()
//   2 DEV_GET reply          parse_dev_msg()
//   3 STATS_GET reply        parse_stats_msg()
//   4 one FAULT nest         parse_fault_nest()    (the payload is the nest's data)
//   5 one RESUME nest        parse_resume_nest()
//   6 one STATS nest         parse_stats_nest()
//   7 a whole message        all of the above and below, when nlmsg_ok()
//                            holds (libnl delivers nothing else); and the
//                            payload as a received datagram through
//                            EventDispatcher (iopfd's recvmmsg path: any
//                            bytes the socket could hand over)
//   8 MAP_GET dump message   parse_mapping_msg(), and UNMAP's parse_count_msg()
//   9 ACCESS reply / NTF     parse_access_msg()
//  10 one MAPPING nest       parse_mapping_nest()
//  11 one ACCESS nest        parse_access_nest()
// A parser may accept or throw iopf::ParseError; anything else (a crash,
// ASan/UBSan report, leak, another exception) is a finding. What is
// accepted must satisfy the documented checks and survive a round trip
// through libnl's own encoder.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <endian.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "iopf/attrs.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/nl_handles.hpp"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

using namespace iopf;

namespace {

constexpr uint16_t kFamily = 0x1c;

// An exactly sized, suitably aligned heap buffer: ASan flags any read past it.
struct Buf {
    uint8_t* p;
    std::size_t n;
    explicit Buf(std::size_t size)
        : p(static_cast<uint8_t*>(std::malloc(size ? size : 1))), n(size) {}
    ~Buf() { std::free(p); }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
};

void check_fault(const Fault& f) {
    CHECK(f.seq && f.dev_seq && f.timestamp_ns && f.fault);
    CHECK(*f.seq != 0);
    CHECK(f.handled);
    const iopf_model_fault& c = *f.fault;
    CHECK(c.sid == f.sid && c.event_id == f.event_id);
    CHECK(c.level == 1 || c.level == 2);
    CHECK((c.perm & ~IOPF_PERM_ALL) == 0);
    CHECK(c.type == IOPF_FAULT_PAGE_REQ || c.type == IOPF_FAULT_DMA_UNRECOV);
    if (c.type == IOPF_FAULT_PAGE_REQ)
        CHECK(c.reason == 0);
    else
        CHECK(c.grpid == 0);
    if (c.flags & IOPF_PRQ_PASID_VALID)
        CHECK(c.pasid < (1U << 20));
    else
        CHECK(c.pasid == 0);
}

// The attributes the module would send for f, through libnl's encoder
void put_fault(nl_msg* m, const Fault& f) {
    const iopf_model_fault& c = *f.fault;
    nlattr* n = nla_nest_start(m, IOPF_A_FAULT);
    CHECK(n);
    CHECK(nla_put_u64(m, IOPF_FAULT_A_SEQ, *f.seq) == 0);
    CHECK(nla_put_u64(m, IOPF_FAULT_A_DEV_SEQ, *f.dev_seq) == 0);
    CHECK(nla_put_u64(m, IOPF_FAULT_A_TIMESTAMP_NS, *f.timestamp_ns) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_SID, f.sid) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_EVENT_ID, f.event_id) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_TYPE, c.type) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_LEVEL, c.level) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_FLAGS, c.flags) == 0);
    CHECK(nla_put_u32(m, IOPF_FAULT_A_PERM, c.perm) == 0);
    CHECK(nla_put_u64(m, IOPF_FAULT_A_ADDR, c.addr) == 0);
    if (c.flags & IOPF_PRQ_PASID_VALID)
        CHECK(nla_put_u32(m, IOPF_FAULT_A_PASID, c.pasid) == 0);
    if (c.type == IOPF_FAULT_PAGE_REQ)
        CHECK(nla_put_u32(m, IOPF_FAULT_A_GRPID, c.grpid) == 0);
    else
        CHECK(nla_put_u32(m, IOPF_FAULT_A_REASON, c.reason) == 0);
    if (f.record) {
        uint64_t rec[IOPF_EVT_DWORDS];
        for (int i = 0; i < IOPF_EVT_DWORDS; i++)
            rec[i] = htole64((*f.record)[i]);
        CHECK(nla_put(m, IOPF_FAULT_A_RECORD, sizeof(rec), rec) == 0);
    }
    nla_nest_end(m, n);
}

bool same(const Fault& a, const Fault& b) {
    return a.seq == b.seq && a.dev_seq == b.dev_seq && a.timestamp_ns == b.timestamp_ns &&
           a.sid == b.sid && a.event_id == b.event_id && a.handled == b.handled &&
           a.record == b.record && a.fault.has_value() == b.fault.has_value() &&
           (!a.fault || std::memcmp(&*a.fault, &*b.fault, sizeof(iopf_model_fault)) == 0);
}

bool same(const Resume& a, const Resume& b) {
    return a.seq == b.seq && a.sid == b.sid && a.stag == b.stag && a.resp == b.resp &&
           a.code == b.code && a.origin == b.origin && a.cmd == b.cmd;
}

// The access model's nests: what is accepted re-encodes to the same value
void put_mapping(nl_msg* m, const Mapping& mp) {
    nlattr* n = nla_nest_start(m, IOPF_A_MAPPING);
    CHECK(n);
    CHECK(nla_put_u32(m, IOPF_MAPPING_A_SID, mp.sid) == 0);
    CHECK(nla_put_u32(m, IOPF_MAPPING_A_STAGE, mp.stage) == 0);
    if (mp.pasid)
        CHECK(nla_put_u32(m, IOPF_MAPPING_A_PASID, *mp.pasid) == 0);
    CHECK(nla_put_u64(m, IOPF_MAPPING_A_ADDR, mp.addr) == 0);
    CHECK(nla_put_u64(m, IOPF_MAPPING_A_OUT_ADDR, mp.out_addr) == 0);
    CHECK(nla_put_u64(m, IOPF_MAPPING_A_LEN, mp.len) == 0);
    CHECK(nla_put_u32(m, IOPF_MAPPING_A_PERM, mp.perm) == 0);
    nla_nest_end(m, n);
}

void put_access(nl_msg* m, const Access& a) {
    nlattr* n = nla_nest_start(m, IOPF_A_ACCESS);
    CHECK(n);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_ID, a.id) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_SID, a.sid) == 0);
    if (a.pasid)
        CHECK(nla_put_u32(m, IOPF_ACCESS_A_PASID, *a.pasid) == 0);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_ADDR, a.addr) == 0);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_LEN, a.len) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_PERM, a.perm) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_STATE, a.state) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_FAULTS, a.faults) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_FAULTS_L1, a.faults_l1) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_FAULTS_L2, a.faults_l2) == 0);
    CHECK(nla_put_u32(m, IOPF_ACCESS_A_RETRIES, a.retries) == 0);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_DONE, a.done) == 0);
    if (a.fault_seq)
        CHECK(nla_put_u64(m, IOPF_ACCESS_A_FAULT_SEQ, *a.fault_seq) == 0);
    if (a.stag)
        CHECK(nla_put_u32(m, IOPF_ACCESS_A_STAG, *a.stag) == 0);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_START_NS, a.start_ns) == 0);
    CHECK(nla_put_u64(m, IOPF_ACCESS_A_END_NS, a.end_ns) == 0);
    if (a.stall)
        CHECK(nla_put_flag(m, IOPF_ACCESS_A_STALL) == 0);
    nla_nest_end(m, n);
}

nl::MsgPtr genl_msg(uint8_t cmd);

void check_mapping(const Mapping& mp) {
    CHECK(mp.stage == IOPF_STAGE_1 || mp.stage == IOPF_STAGE_2);
    CHECK(!mp.pasid || (mp.stage == IOPF_STAGE_1 && *mp.pasid < (1U << 20)));
    CHECK(mp.len && !((mp.addr | mp.out_addr | mp.len) & (IOPF_STAGE_PAGE_SIZE - 1)));
    CHECK((mp.perm & ~IOPF_PERM_ALL) == 0);
    auto m = genl_msg(IOPF_CMD_MAP_GET);
    put_mapping(m.get(), mp);
    CHECK(nl::parse_mapping_msg(nlmsg_hdr(m.get())) == mp);
}

void check_access(const Access& a) {
    CHECK(a.id != 0);
    CHECK(a.state >= IOPF_ACCESS_STALLED && a.state <= kAccessRunning);
    CHECK(uint64_t{a.faults_l1} + a.faults_l2 <= a.faults);
    CHECK((a.perm & ~IOPF_PERM_ALL) == 0);
    CHECK(!a.pasid || *a.pasid < (1U << 20));
    CHECK(!a.stag || *a.stag <= 0xffff);
    auto m = genl_msg(IOPF_CMD_ACCESS_NTF);
    put_access(m.get(), a);
    CHECK(nl::parse_access_msg(nlmsg_hdr(m.get())) == a);
}

nl::MsgPtr genl_msg(uint8_t cmd) {
    nl::MsgPtr m(nlmsg_alloc());
    CHECK(m);
    CHECK(genlmsg_put(m.get(), 0, 0, kFamily, 0, 0, cmd, IOPF_GENL_VERSION));
    return m;
}

void roundtrip(const nl::FaultBatch& b) {
    if (b.faults.empty())
        return;
    auto m = genl_msg(IOPF_CMD_FAULT_NTF);
    for (const auto& f : b.faults)
        put_fault(m.get(), f);
    auto again = nl::parse_fault_msg(nlmsg_hdr(m.get()));
    CHECK(again.errors.empty());
    CHECK(again.faults.size() == b.faults.size());
    for (std::size_t i = 0; i < b.faults.size(); i++)
        CHECK(same(again.faults[i], b.faults[i]));
}

void check_resume(const Resume& r) {
    CHECK(r.resp <= IOPF_RESUME_ABORT);
    CHECK(r.origin >= IOPF_ORIGIN_RESPONSE && r.origin <= IOPF_ORIGIN_TIMEOUT);
    auto m = genl_msg(IOPF_CMD_RESUME_NTF);
    nlattr* n = nla_nest_start(m.get(), IOPF_A_RESUME);
    CHECK(n);
    CHECK(nla_put_u64(m.get(), IOPF_RESUME_A_SEQ, r.seq) == 0);
    CHECK(nla_put_u32(m.get(), IOPF_RESUME_A_SID, r.sid) == 0);
    CHECK(nla_put_u32(m.get(), IOPF_RESUME_A_STAG, r.stag) == 0);
    CHECK(nla_put_u32(m.get(), IOPF_RESUME_A_RESP, r.resp) == 0);
    CHECK(nla_put_u32(m.get(), IOPF_RESUME_A_CODE, r.code) == 0);
    CHECK(nla_put_u32(m.get(), IOPF_RESUME_A_ORIGIN, r.origin) == 0);
    uint64_t cmd[2] = {htole64(r.cmd[0]), htole64(r.cmd[1])};
    CHECK(nla_put(m.get(), IOPF_RESUME_A_CMD, sizeof(cmd), cmd) == 0);
    nla_nest_end(m.get(), n);
    CHECK(same(nl::parse_resume_msg(nlmsg_hdr(m.get())), r));
}

void check_stats(const Stats& s) {
    for (std::size_t i = 0; i < s.size(); i++) {
        CHECK(s[i].first != IOPF_STAT_A_UNSPEC && s[i].first != IOPF_STAT_A_PAD);
        for (std::size_t j = 0; j < i; j++)
            CHECK(s[i].first != s[j].first);
    }
}

// Each parser: accept (and check) or throw ParseError.
template <typename F> void guarded(F&& f) {
    try {
        f();
    } catch (const ParseError&) {
    }
}

void run_msg_parsers(const nlmsghdr* nlh, unsigned which) {
    if (which == 0 || which == 7) {
        guarded([&] {
            auto b = nl::parse_fault_msg(nlh);
            CHECK(!b.faults.empty() || !b.errors.empty());
            for (const auto& f : b.faults)
                check_fault(f);
            roundtrip(b);
        });
    }
    if (which == 1 || which == 7)
        guarded([&] { check_resume(nl::parse_resume_msg(nlh)); });
    if (which == 2 || which == 7)
        guarded([&] {
            DevInfo d = nl::parse_dev_msg(nlh);
            check_stats(d.stats);
        });
    if (which == 3 || which == 7)
        guarded([&] { check_stats(nl::parse_stats_msg(nlh)); });
    if (which == 8 || which == 7) {
        guarded([&] { check_mapping(nl::parse_mapping_msg(nlh)); });
        guarded([&] { (void)nl::parse_count_msg(nlh); });
    }
    if (which == 9 || which == 7)
        guarded([&] { check_access(nl::parse_access_msg(nlh)); });
    if (which == 7)
        guarded([&] { (void)nl::genl_cmd(nlh); });
}

// A generic netlink message whose attributes are the payload
void as_message(unsigned which, const uint8_t* p, std::size_t n) {
    std::size_t len = NLMSG_HDRLEN + GENL_HDRLEN + n;
    Buf b(len);
    auto* nlh = reinterpret_cast<nlmsghdr*>(b.p);
    nlh->nlmsg_len = static_cast<uint32_t>(len);
    nlh->nlmsg_type = kFamily;
    nlh->nlmsg_flags = 0;
    nlh->nlmsg_seq = 0;
    nlh->nlmsg_pid = 0;
    auto* gh = reinterpret_cast<genlmsghdr*>(b.p + NLMSG_HDRLEN);
    gh->cmd = which == 0 ? IOPF_CMD_FAULT_NTF : which == 1 ? IOPF_CMD_RESUME_NTF
              : which == 2 ? IOPF_CMD_DEV_GET : which == 3 ? IOPF_CMD_STATS_GET
              : which == 8 ? IOPF_CMD_MAP_GET : IOPF_CMD_ACCESS_NTF;
    gh->version = IOPF_GENL_VERSION;
    gh->reserved = 0;
    if (n)
        std::memcpy(b.p + NLMSG_HDRLEN + GENL_HDRLEN, p, n);
    run_msg_parsers(nlh, which);
}

// One nest whose data is the payload
void as_nest(unsigned which, const uint8_t* p, std::size_t n) {
    if (n > 0xffff - NLA_HDRLEN)
        n = 0xffff - NLA_HDRLEN;
    Buf b(NLA_HDRLEN + n);
    auto* nla = reinterpret_cast<nlattr*>(b.p);
    nla->nla_len = static_cast<uint16_t>(NLA_HDRLEN + n);
    nla->nla_type = NLA_F_NESTED | (which == 4    ? IOPF_A_FAULT
                                    : which == 5  ? IOPF_A_RESUME
                                    : which == 10 ? IOPF_A_MAPPING
                                    : which == 11 ? IOPF_A_ACCESS
                                                  : IOPF_A_STATS);
    if (n)
        std::memcpy(b.p + NLA_HDRLEN, p, n);
    if (which == 4)
        guarded([&] {
            Fault f = nl::parse_fault_nest(nla);
            check_fault(f);
            roundtrip(nl::FaultBatch{{f}, {}});
        });
    else if (which == 5)
        guarded([&] { check_resume(nl::parse_resume_nest(nla)); });
    else if (which == 10)
        guarded([&] { check_mapping(nl::parse_mapping_nest(nla)); });
    else if (which == 11)
        guarded([&] { check_access(nl::parse_access_nest(nla)); });
    else
        guarded([&] { check_stats(nl::parse_stats_nest(nla)); });
}

// Every fault the dispatcher hands over passed parse_fault_nest's checks.
struct CheckingSink : EventSink {
    void on_fault(const Fault& f) override { check_fault(f); }
    void on_resume(const Resume& r) override { check_resume(r); }
    void on_access_end(const Access& a) override { check_access(a); }
    void on_overflow() override {}
    void on_gap(uint64_t, uint64_t missing) override { CHECK(missing > 0); }
    void on_resume_gap(uint64_t, uint64_t missing) override { CHECK(missing > 0); }
    void on_malformed(const std::string& why) override { CHECK(!why.empty()); }
};

// The payload as a whole message, if libnl would hand it over
void as_raw(const uint8_t* p, std::size_t n) {
    {
        // A datagram as recvmmsg returns it: nothing may escape but the
        // sink's calls (ParseError is counted as malformed inside).
        Buf d(n ? n : 1);
        if (n)
            std::memcpy(d.p, p, n);
        EventDispatcher disp(true);
        disp.set_family(kFamily);
        disp.start_seq(0, 0);
        CheckingSink sink;
        disp.dispatch(d.p, n, sink);
        CHECK(disp.ledger().gap_missing() == disp.loss().missing);
    }
    if (n < NLMSG_HDRLEN)
        return;
    Buf b(n);
    std::memcpy(b.p, p, n);
    auto* nlh = reinterpret_cast<nlmsghdr*>(b.p);
    if (!nlmsg_ok(nlh, static_cast<int>(n)))
        return;
    run_msg_parsers(nlh, 7);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size < 1 || size > (1u << 20))
        return 0;
    unsigned which = data[0] % 12;
    const uint8_t* p = data + 1;
    std::size_t n = size - 1;
    if (which <= 3 || which == 8 || which == 9)
        as_message(which, p, n);
    else if (which == 7)
        as_raw(p, n);
    else
        as_nest(which, p, n);
    return 0;
}
