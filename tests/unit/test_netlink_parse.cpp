// SPDX-License-Identifier: GPL-2.0
// The netlink parsers on hand-built messages (nlmsg_alloc + nla_put),
// including malformed and missing attributes, and the extack parser.
#include <cstring>
#include <functional>
#include <optional>
#include <set>

#include <catch2/catch.hpp>
#include <endian.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "iopf/attrs.hpp"
#include "iopf/error.hpp"
#include "iopf/genl.hpp"
#include "iopf/nl_handles.hpp"

using namespace iopf;
using iopf::nl::MsgPtr;

namespace {

constexpr int kFamily = 0x1c;

MsgPtr genl_msg(uint8_t cmd) {
    MsgPtr m(nlmsg_alloc());
    REQUIRE(m);
    REQUIRE(genlmsg_put(m.get(), 0, 0, kFamily, 0, 0, cmd, IOPF_GENL_VERSION));
    return m;
}

// A page request as the module sends it; `skip` leaves attributes out,
// `tweak` adds or replaces after the standard ones.
void put_fault(nl_msg* m, uint64_t seq, std::set<int> skip = {},
               const std::function<void(nl_msg*)>& tweak = {}) {
    nlattr* n = nla_nest_start(m, IOPF_A_FAULT);
    auto u32 = [&](int t, uint32_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u32(m, t, v) == 0);
    };
    auto u64 = [&](int t, uint64_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u64(m, t, v) == 0);
    };
    u64(IOPF_FAULT_A_SEQ, seq);
    u64(IOPF_FAULT_A_DEV_SEQ, seq + 100);
    u64(IOPF_FAULT_A_TIMESTAMP_NS, 123456789);
    u32(IOPF_FAULT_A_SID, 0x10);
    u32(IOPF_FAULT_A_EVENT_ID, 0x10);
    u32(IOPF_FAULT_A_TYPE, IOPF_FAULT_PAGE_REQ);
    u32(IOPF_FAULT_A_LEVEL, 2);
    u32(IOPF_FAULT_A_FLAGS, IOPF_PRQ_LAST_PAGE | IOPF_PRQ_PASID_VALID | IOPF_PRQ_L2);
    u32(IOPF_FAULT_A_PERM, IOPF_PERM_READ);
    u64(IOPF_FAULT_A_ADDR, 0x80001000);
    u32(IOPF_FAULT_A_PASID, 5);
    u32(IOPF_FAULT_A_GRPID, 9);
    if (!skip.count(IOPF_FAULT_A_RECORD)) {
        uint64_t rec[4] = {htole64(0x1000005810ULL), htole64(0x8080000009ULL), htole64(0x1234000),
                           htole64(0x80001000)};
        REQUIRE(nla_put(m, IOPF_FAULT_A_RECORD, sizeof(rec), rec) == 0);
    }
    if (tweak)
        tweak(m);
    nla_nest_end(m, n);
}

nl::FaultBatch fault_msg(std::set<int> skip = {}, const std::function<void(nl_msg*)>& tweak = {}) {
    auto m = genl_msg(IOPF_CMD_FAULT_NTF);
    put_fault(m.get(), 1, std::move(skip), tweak);
    return nl::parse_fault_msg(nlmsg_hdr(m.get()));
}

void expect_error(const nl::FaultBatch& b, const char* text) {
    CHECK(b.faults.empty());
    REQUIRE(b.errors.size() == 1);
    INFO(b.errors[0]);
    CHECK(b.errors[0].find(text) != std::string::npos);
}

} // namespace

TEST_CASE("netlink: a complete page-request FAULT nest", "[netlink]") {
    auto b = fault_msg();
    REQUIRE(b.errors.empty());
    REQUIRE(b.faults.size() == 1);
    const Fault& f = b.faults[0];
    CHECK(*f.seq == 1);
    CHECK(*f.dev_seq == 101);
    CHECK(*f.timestamp_ns == 123456789);
    CHECK(f.sid == 0x10);
    CHECK(f.event_id == 0x10);
    REQUIRE(f.fault);
    CHECK(f.fault->type == IOPF_FAULT_PAGE_REQ);
    CHECK(f.fault->level == 2);
    CHECK(f.fault->pasid == 5);
    CHECK(f.fault->grpid == 9);
    CHECK(f.fault->perm == IOPF_PERM_READ);
    CHECK(f.fault->addr == 0x80001000);
    REQUIRE(f.record);
    CHECK((*f.record)[0] == 0x1000005810ULL);
    CHECK((*f.record)[3] == 0x80001000ULL);
}

TEST_CASE("netlink: every FAULT nest of a message is returned", "[netlink]") {
    auto m = genl_msg(IOPF_CMD_FAULT_NTF);
    for (uint64_t s = 1; s <= 3; s++)
        put_fault(m.get(), s);
    auto b = nl::parse_fault_msg(nlmsg_hdr(m.get()));
    REQUIRE(b.faults.size() == 3);
    CHECK(*b.faults[2].seq == 3);
}

TEST_CASE("netlink: a bad nest does not hide the good ones", "[netlink]") {
    auto m = genl_msg(IOPF_CMD_FAULT_NTF);
    put_fault(m.get(), 1);
    put_fault(m.get(), 2, {IOPF_FAULT_A_SEQ});
    put_fault(m.get(), 3);
    auto b = nl::parse_fault_msg(nlmsg_hdr(m.get()));
    REQUIRE(b.faults.size() == 2);
    CHECK(*b.faults[1].seq == 3);
    REQUIRE(b.errors.size() == 1);
    CHECK(b.errors[0] == "FAULT: missing attribute SEQ");
}

TEST_CASE("netlink: each required FAULT attribute is checked", "[netlink]") {
    for (int t :
         {IOPF_FAULT_A_SEQ, IOPF_FAULT_A_DEV_SEQ, IOPF_FAULT_A_TIMESTAMP_NS, IOPF_FAULT_A_SID,
          IOPF_FAULT_A_EVENT_ID, IOPF_FAULT_A_TYPE, IOPF_FAULT_A_LEVEL, IOPF_FAULT_A_FLAGS,
          IOPF_FAULT_A_PERM, IOPF_FAULT_A_ADDR, IOPF_FAULT_A_GRPID, IOPF_FAULT_A_PASID}) {
        INFO("attribute " << t);
        expect_error(fault_msg({t}), "missing attribute");
    }
    // RECORD is optional
    auto b = fault_msg({IOPF_FAULT_A_RECORD});
    REQUIRE(b.faults.size() == 1);
    CHECK_FALSE(b.faults[0].record);
}

TEST_CASE("netlink: attributes of the wrong size are named", "[netlink]") {
    expect_error(
        fault_msg({IOPF_FAULT_A_SID}, [](nl_msg* m) { nla_put_u64(m, IOPF_FAULT_A_SID, 0x10); }),
        "attribute SID has 8 bytes, expected 4");
    expect_error(
        fault_msg({IOPF_FAULT_A_SEQ}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_SEQ, 1); }),
        "attribute SEQ has 4 bytes, expected 8");
    expect_error(fault_msg({IOPF_FAULT_A_RECORD},
                           [](nl_msg* m) {
                               char buf[31] = {};
                               nla_put(m, IOPF_FAULT_A_RECORD, sizeof(buf), buf);
                           }),
                 "attribute RECORD has 31 bytes, expected 32");
    expect_error(fault_msg({}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_SID, 1); }),
                 "duplicate attribute SID");
}

TEST_CASE("netlink: inconsistent FAULT nests are rejected", "[netlink]") {
    // PASID without PASID_VALID
    expect_error(
        fault_msg({IOPF_FAULT_A_FLAGS},
                  [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_FLAGS, IOPF_PRQ_LAST_PAGE); }),
        "PASID present without PASID_VALID");
    expect_error(
        fault_msg({IOPF_FAULT_A_TYPE}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_TYPE, 7); }),
        "unknown TYPE 7");
    expect_error(
        fault_msg({IOPF_FAULT_A_LEVEL}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_LEVEL, 3); }),
        "LEVEL 3");
    expect_error(fault_msg({}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_REASON, 5); }),
                 "REASON in a page request");
    expect_error(fault_msg({IOPF_FAULT_A_PASID},
                           [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_PASID, 1U << 20); }),
                 "exceeds 20 bits");
    expect_error(
        fault_msg({IOPF_FAULT_A_SEQ}, [](nl_msg* m) { nla_put_u64(m, IOPF_FAULT_A_SEQ, 0); }),
        "SEQ is 0");
}

TEST_CASE("netlink: unrecoverable faults need REASON, not GRPID", "[netlink]") {
    auto unrecov = [](std::set<int> skip, const std::function<void(nl_msg*)>& extra) {
        skip.insert(
            {IOPF_FAULT_A_TYPE, IOPF_FAULT_A_GRPID, IOPF_FAULT_A_FLAGS, IOPF_FAULT_A_PASID});
        return fault_msg(skip, [&](nl_msg* m) {
            nla_put_u32(m, IOPF_FAULT_A_TYPE, IOPF_FAULT_DMA_UNRECOV);
            nla_put_u32(m, IOPF_FAULT_A_FLAGS, IOPF_UNRECOV_ADDR_VALID);
            if (extra)
                extra(m);
        });
    };
    auto ok = unrecov({}, [](nl_msg* m) { nla_put_u32(m, IOPF_FAULT_A_REASON, 5); });
    REQUIRE(ok.faults.size() == 1);
    CHECK(ok.faults[0].fault->reason == 5);
    CHECK_FALSE(ok.faults[0].has_pasid());
    expect_error(unrecov({}, {}), "missing attribute REASON");
    expect_error(unrecov({},
                         [](nl_msg* m) {
                             nla_put_u32(m, IOPF_FAULT_A_REASON, 5);
                             nla_put_u32(m, IOPF_FAULT_A_GRPID, 1);
                         }),
                 "GRPID in an unrecoverable fault");
}

TEST_CASE("netlink: padding and unknown newer attributes are ignored", "[netlink]") {
    auto b = fault_msg({}, [](nl_msg* m) {
        nla_put(m, IOPF_FAULT_A_PAD, 0, nullptr);
        nla_put_u32(m, IOPF_FAULT_A_MAX + 5, 42);
    });
    REQUIRE(b.errors.empty());
    CHECK(b.faults.size() == 1);
}

TEST_CASE("netlink: a FAULT message without FAULT nests is an error", "[netlink]") {
    auto m = genl_msg(IOPF_CMD_FAULT_NTF);
    nla_put_u32(m.get(), IOPF_A_SID, 1);
    auto b = nl::parse_fault_msg(nlmsg_hdr(m.get()));
    CHECK(b.faults.empty());
    REQUIRE(b.errors.size() == 1);
}

TEST_CASE("netlink: a message too short for the genl header", "[netlink]") {
    MsgPtr m(nlmsg_alloc());
    REQUIRE(nlmsg_put(m.get(), 0, 0, kFamily, 0, 0));
    CHECK_THROWS_AS(nl::parse_fault_msg(nlmsg_hdr(m.get())), ParseError);
    CHECK_THROWS_AS(nl::genl_cmd(nlmsg_hdr(m.get())), ParseError);
}

namespace {
MsgPtr resume_msg(std::set<int> skip, uint32_t origin = IOPF_ORIGIN_RESPONSE) {
    auto m = genl_msg(IOPF_CMD_RESUME_NTF);
    nlattr* n = nla_nest_start(m.get(), IOPF_A_RESUME);
    auto u32 = [&](int t, uint32_t v) {
        if (!skip.count(t))
            nla_put_u32(m.get(), t, v);
    };
    if (!skip.count(IOPF_RESUME_A_SEQ))
        nla_put_u64(m.get(), IOPF_RESUME_A_SEQ, 4);
    u32(IOPF_RESUME_A_SID, 0x10);
    u32(IOPF_RESUME_A_STAG, 9);
    u32(IOPF_RESUME_A_RESP, IOPF_RESUME_RETRY);
    u32(IOPF_RESUME_A_CODE, IOPF_RESP_SUCCESS);
    u32(IOPF_RESUME_A_ORIGIN, origin);
    if (!skip.count(IOPF_RESUME_A_CMD)) {
        uint64_t cmd[2] = {htole64(0x0000001000001044ULL), htole64(9)};
        nla_put(m.get(), IOPF_RESUME_A_CMD, sizeof(cmd), cmd);
    }
    nla_nest_end(m.get(), n);
    return m;
}
} // namespace

TEST_CASE("netlink: RESUME nests", "[netlink]") {
    auto m = resume_msg({});
    Resume r = nl::parse_resume_msg(nlmsg_hdr(m.get()));
    CHECK(r.seq == 4);
    CHECK(r.sid == 0x10);
    CHECK(r.stag == 9);
    CHECK(r.resp == IOPF_RESUME_RETRY);
    CHECK(r.code == IOPF_RESP_SUCCESS);
    CHECK(r.origin == IOPF_ORIGIN_RESPONSE);
    CHECK(r.cmd[0] == 0x0000001000001044ULL);
    CHECK(r.cmd[1] == 9);
    // The encoding agrees with fault_core.h's
    uint64_t cmd[2];
    REQUIRE(iopf_resume_encode(0x10, 9, IOPF_RESP_SUCCESS, cmd) == 0);
    CHECK(r.cmd[0] == cmd[0]);

    for (int t : {IOPF_RESUME_A_SEQ, IOPF_RESUME_A_SID, IOPF_RESUME_A_STAG, IOPF_RESUME_A_RESP,
                  IOPF_RESUME_A_CODE, IOPF_RESUME_A_ORIGIN, IOPF_RESUME_A_CMD}) {
        INFO("attribute " << t);
        auto bad = resume_msg({t});
        CHECK_THROWS_WITH(nl::parse_resume_msg(nlmsg_hdr(bad.get())),
                          Catch::Contains("missing attribute"));
    }
    auto bad = resume_msg({}, 9);
    CHECK_THROWS_WITH(nl::parse_resume_msg(nlmsg_hdr(bad.get())), Catch::Contains("ORIGIN 9"));
    auto empty = genl_msg(IOPF_CMD_RESUME_NTF);
    CHECK_THROWS_WITH(nl::parse_resume_msg(nlmsg_hdr(empty.get())),
                      Catch::Contains("missing attribute RESUME"));
}

TEST_CASE("netlink: DEV_GET replies and their STATS nest", "[netlink]") {
    auto m = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(m.get(), IOPF_A_SID, 0x11);
    nla_put_u8(m.get(), IOPF_A_REGISTERED, 1);
    nla_put_u32(m.get(), IOPF_A_FLAGS, 0xe);
    nla_put_u32(m.get(), IOPF_A_PENDING_LIMIT, 8);
    nla_put_u32(m.get(), IOPF_A_TIMEOUT_MS, 0);
    nlattr* n = nla_nest_start(m.get(), IOPF_A_STATS);
    nla_put_u64(m.get(), IOPF_STAT_A_INJECTED, 7);
    nla_put(m.get(), IOPF_STAT_A_PAD, 0, nullptr);
    nla_put_u64(m.get(), IOPF_STAT_A_REPORTED, 5);
    nla_nest_end(m.get(), n);
    DevInfo d = nl::parse_dev_msg(nlmsg_hdr(m.get()));
    CHECK(d.sid == 0x11);
    CHECK(d.registered);
    CHECK(d.flags == 0xe);
    CHECK(d.pending_limit == std::optional<uint32_t>(8));
    CHECK(d.timeout_ms == std::optional<uint32_t>(0)); // 0 (off) is a value, not absent
    REQUIRE(d.stats.size() == 2);
    CHECK(d.stats[0] == std::pair<int, uint64_t>{IOPF_STAT_A_INJECTED, 7});
    CHECK(d.stats[1] == std::pair<int, uint64_t>{IOPF_STAT_A_REPORTED, 5});

    auto bad = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(bad.get(), IOPF_A_SID, 0x11);
    nla_put_u32(bad.get(), IOPF_A_REGISTERED, 1); // u8 expected
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(bad.get())),
                      Catch::Contains("REGISTERED has 4 bytes, expected 1"));

    // a module older than DEV_SET sends neither setting
    auto old = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(old.get(), IOPF_A_SID, 0x11);
    nla_put_u8(old.get(), IOPF_A_REGISTERED, 0);
    nla_put_u32(old.get(), IOPF_A_FLAGS, 0);
    n = nla_nest_start(old.get(), IOPF_A_STATS); // libnl drops an empty nest
    nla_put_u64(old.get(), IOPF_STAT_A_INJECTED, 0);
    nla_nest_end(old.get(), n);
    DevInfo o = nl::parse_dev_msg(nlmsg_hdr(old.get()));
    CHECK(!o.pending_limit);
    CHECK(!o.timeout_ms);
    CHECK(!o.bridged); // a module without the bridge
    CHECK(!o.iommufd_dev_id);
    CHECK(!o.iommufd_pt_id);

    auto bad_limit = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(bad_limit.get(), IOPF_A_SID, 0x11);
    nla_put_u8(bad_limit.get(), IOPF_A_REGISTERED, 0);
    nla_put_u32(bad_limit.get(), IOPF_A_FLAGS, 0);
    nla_put_u64(bad_limit.get(), IOPF_A_PENDING_LIMIT, 8); // u32 expected
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(bad_limit.get())),
                      Catch::Contains("PENDING_LIMIT has 8 bytes, expected 4"));

    // upstream's road: BRIDGE always, the iommufd ids while bound/attached
    auto bridged = [](std::optional<uint8_t> bridge, std::optional<uint32_t> dev_id,
                      std::optional<uint32_t> pt_id) {
        auto b = genl_msg(IOPF_CMD_DEV_GET);
        nla_put_u32(b.get(), IOPF_A_SID, 0x12);
        nla_put_u8(b.get(), IOPF_A_REGISTERED, 0);
        nla_put_u32(b.get(), IOPF_A_FLAGS, 0);
        nla_put_u32(b.get(), IOPF_A_STAGE_MODE, IOPF_STAGE_MODE_S2);
        if (bridge)
            nla_put_u8(b.get(), IOPF_A_BRIDGE, *bridge);
        if (dev_id)
            nla_put_u32(b.get(), IOPF_A_IOMMUFD_DEV_ID, *dev_id);
        if (pt_id)
            nla_put_u32(b.get(), IOPF_A_IOMMUFD_PT_ID, *pt_id);
        nlattr* st = nla_nest_start(b.get(), IOPF_A_STATS);
        nla_put_u64(b.get(), IOPF_STAT_A_INJECTED, 0);
        nla_nest_end(b.get(), st);
        return b;
    };
    auto unbridged = bridged(0, {}, {});
    DevInfo u = nl::parse_dev_msg(nlmsg_hdr(unbridged.get()));
    CHECK(u.bridged == std::optional<bool>(false));
    CHECK(!u.iommufd_dev_id);
    CHECK(!u.iommufd_pt_id);
    auto only_bridged = bridged(1, {}, {});
    DevInfo ob = nl::parse_dev_msg(nlmsg_hdr(only_bridged.get()));
    CHECK(ob.bridged == std::optional<bool>(true));
    CHECK(!ob.iommufd_dev_id);
    auto bound = bridged(1, 3, {});
    DevInfo bd = nl::parse_dev_msg(nlmsg_hdr(bound.get()));
    CHECK(bd.iommufd_dev_id == std::optional<uint32_t>(3));
    CHECK(!bd.iommufd_pt_id);
    auto attached = bridged(1, 3, 7);
    DevInfo at = nl::parse_dev_msg(nlmsg_hdr(attached.get()));
    CHECK(at.bridged == std::optional<bool>(true));
    CHECK(at.iommufd_dev_id == std::optional<uint32_t>(3));
    CHECK(at.iommufd_pt_id == std::optional<uint32_t>(7));
    CHECK(at.stage_mode == std::optional<uint32_t>(IOPF_STAGE_MODE_S2));

    auto bad_bridge = bridged(2, {}, {});
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(bad_bridge.get())),
                      Catch::Contains("BRIDGE 2 is neither 0 nor 1"));
    auto pt_unbound = bridged(1, {}, 7);
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(pt_unbound.get())),
                      Catch::Contains("IOMMUFD_PT_ID without IOMMUFD_DEV_ID"));
    auto wide_bridge = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(wide_bridge.get(), IOPF_A_SID, 0x12);
    nla_put_u32(wide_bridge.get(), IOPF_A_BRIDGE, 1); // u8 expected
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(wide_bridge.get())),
                      Catch::Contains("BRIDGE has 4 bytes, expected 1"));
    auto wide_id = genl_msg(IOPF_CMD_DEV_GET);
    nla_put_u32(wide_id.get(), IOPF_A_SID, 0x12);
    nla_put_u64(wide_id.get(), IOPF_A_IOMMUFD_DEV_ID, 1); // u32 expected
    CHECK_THROWS_WITH(nl::parse_dev_msg(nlmsg_hdr(wide_id.get())),
                      Catch::Contains("IOMMUFD_DEV_ID has 8 bytes, expected 4"));

    auto short_stat = genl_msg(IOPF_CMD_STATS_GET);
    n = nla_nest_start(short_stat.get(), IOPF_A_STATS);
    nla_put_u32(short_stat.get(), IOPF_STAT_A_RECORDS, 1);
    nla_nest_end(short_stat.get(), n);
    CHECK_THROWS_WITH(nl::parse_stats_msg(nlmsg_hdr(short_stat.get())),
                      Catch::Contains("expected 8"));
}

namespace {
// An NLMSG_ERROR as netlink_ack() builds it, echoing `payload` unless capped.
MsgPtr error_msg(int err, const char* extack, bool capped) {
    MsgPtr m(nlmsg_alloc_simple(NLMSG_ERROR, extack ? NLM_F_ACK_TLVS : 0));
    REQUIRE(m);
    nlmsghdr* h = nlmsg_hdr(m.get());
    if (capped)
        h->nlmsg_flags |= NLM_F_CAPPED;
    const char orig_payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nlmsgerr e{};
    e.error = err;
    e.msg.nlmsg_len = NLMSG_HDRLEN + sizeof(orig_payload);
    e.msg.nlmsg_type = kFamily;
    REQUIRE(nlmsg_append(m.get(), &e, sizeof(e), NLMSG_ALIGNTO) == 0);
    if (!capped)
        REQUIRE(nlmsg_append(m.get(), const_cast<char*>(orig_payload), sizeof(orig_payload),
                             NLMSG_ALIGNTO) == 0);
    if (extack) {
        REQUIRE(nla_put_string(m.get(), NLMSGERR_ATTR_MSG, extack) == 0);
        REQUIRE(nla_put_u32(m.get(), NLMSGERR_ATTR_OFFS, 20) == 0);
    }
    return m;
}
} // namespace

TEST_CASE("netlink: extack text is found after the echoed request", "[netlink][extack]") {
    auto m = error_msg(-EINVAL, "NESTED needs L1_CONCERNED and/or L2_CONCERNED", false);
    auto a = nl::parse_ack(nlmsg_hdr(m.get()));
    CHECK(a.err == EINVAL);
    CHECK(a.extack == "NESTED needs L1_CONCERNED and/or L2_CONCERNED");

    auto c = error_msg(-EBUSY, "handler already registered", true);
    a = nl::parse_ack(nlmsg_hdr(c.get()));
    CHECK(a.err == EBUSY);
    CHECK(a.extack == "handler already registered");

    auto plain = error_msg(-ENODEV, nullptr, false);
    a = nl::parse_ack(nlmsg_hdr(plain.get()));
    CHECK(a.err == ENODEV);
    CHECK(a.extack.empty());

    auto ack = error_msg(0, nullptr, true);
    a = nl::parse_ack(nlmsg_hdr(ack.get()));
    CHECK(a.err == 0);

    Error e(a.err ? a.err : EINVAL, "HANDLER_REGISTER sid 0x10", "bad flags");
    CHECK(std::string(e.what()) == "HANDLER_REGISTER sid 0x10: Invalid argument: bad flags");
}

TEST_CASE("netlink: a dump ending in an error", "[netlink][extack]") {
    MsgPtr m(nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS));
    int err = -EMSGSIZE;
    REQUIRE(nlmsg_append(m.get(), &err, sizeof(err), NLMSG_ALIGNTO) == 0);
    REQUIRE(nla_put_string(m.get(), NLMSGERR_ATTR_MSG, "too big") == 0);
    auto a = nl::parse_ack(nlmsg_hdr(m.get()));
    CHECK(a.err == EMSGSIZE);
    CHECK(a.extack == "too big");

    MsgPtr ok(nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI));
    int zero = 0;
    REQUIRE(nlmsg_append(ok.get(), &zero, sizeof(zero), NLMSG_ALIGNTO) == 0);
    CHECK(nl::parse_ack(nlmsg_hdr(ok.get())).err == 0);
}
