// SPDX-License-Identifier: GPL-2.0
// Issue 11 on the host: the two-stage access model's messages (built and
// parsed), JSON, names, the config grammar of map/refuse, the prefetch
// window and allocators, the VMM's and the guest model's decisions on a
// fake table, the summary of vmm/guest/access lines, and the new commands'
// usage errors. Nothing here needs the module.
#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "cli_run.hpp"
#include "guest.hpp"
#include "iopf/attrs.hpp"
#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "iopf/nl_handles.hpp"
#include "iopf/stage_json.hpp"
#include "iopf/summary.hpp"
#include "paging.hpp"

using namespace iopf;
using iopf::nl::MsgPtr;
using iopf_test::ctl;
using iopf_test::first_line;
using iopfd::FixUp;
using iopfd::kPage;
using iopfd::PageRun;

namespace {

constexpr int kFamily = 0x1c;

MsgPtr genl_msg(uint8_t cmd) {
    MsgPtr m(nlmsg_alloc());
    REQUIRE(m);
    REQUIRE(genlmsg_put(m.get(), 0, 0, kFamily, 0, 0, cmd, IOPF_GENL_VERSION));
    return m;
}

// An ACCESS nest as the module sends it; `skip` leaves attributes out,
// `tweak` adds after the standard ones.
void put_access(nl_msg* m, std::set<int> skip = {},
                const std::function<void(nl_msg*)>& tweak = {}) {
    nlattr* n = nla_nest_start(m, IOPF_A_ACCESS);
    auto u32 = [&](int t, uint32_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u32(m, t, v) == 0);
    };
    auto u64 = [&](int t, uint64_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u64(m, t, v) == 0);
    };
    u64(IOPF_ACCESS_A_ID, 7);
    u32(IOPF_ACCESS_A_SID, 0x10);
    u32(IOPF_ACCESS_A_PASID, 1);
    u64(IOPF_ACCESS_A_ADDR, 0x200000);
    u64(IOPF_ACCESS_A_LEN, 0x2000);
    u32(IOPF_ACCESS_A_PERM, IOPF_PERM_READ | IOPF_PERM_WRITE);
    u32(IOPF_ACCESS_A_STATE, IOPF_ACCESS_COMPLETED);
    u32(IOPF_ACCESS_A_FAULTS, 3);
    u32(IOPF_ACCESS_A_FAULTS_L1, 1);
    u32(IOPF_ACCESS_A_FAULTS_L2, 2);
    u32(IOPF_ACCESS_A_RETRIES, 3);
    u64(IOPF_ACCESS_A_DONE, 0x2000);
    u64(IOPF_ACCESS_A_FAULT_SEQ, 42);
    u64(IOPF_ACCESS_A_START_NS, 1000000);
    u64(IOPF_ACCESS_A_END_NS, 1250000);
    if (!skip.count(IOPF_ACCESS_A_STALL))
        REQUIRE(nla_put_flag(m, IOPF_ACCESS_A_STALL) == 0);
    if (tweak)
        tweak(m);
    nla_nest_end(m, n);
}

Access access_msg(std::set<int> skip = {}, const std::function<void(nl_msg*)>& tweak = {}) {
    auto m = genl_msg(IOPF_CMD_ACCESS_NTF);
    put_access(m.get(), std::move(skip), tweak);
    return nl::parse_access_msg(nlmsg_hdr(m.get()));
}

void put_mapping(nl_msg* m, std::set<int> skip = {},
                 const std::function<void(nl_msg*)>& tweak = {}) {
    nlattr* n = nla_nest_start(m, IOPF_A_MAPPING);
    auto u32 = [&](int t, uint32_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u32(m, t, v) == 0);
    };
    auto u64 = [&](int t, uint64_t v) {
        if (!skip.count(t))
            REQUIRE(nla_put_u64(m, t, v) == 0);
    };
    u32(IOPF_MAPPING_A_SID, 0x10);
    u32(IOPF_MAPPING_A_STAGE, IOPF_STAGE_1);
    u32(IOPF_MAPPING_A_PASID, 2);
    u64(IOPF_MAPPING_A_ADDR, 0x10000);
    u64(IOPF_MAPPING_A_OUT_ADDR, 0x80010000);
    u64(IOPF_MAPPING_A_LEN, 0x3000);
    u32(IOPF_MAPPING_A_PERM, IOPF_PERM_READ);
    if (tweak)
        tweak(m);
    nla_nest_end(m, n);
}

Mapping mapping_msg(std::set<int> skip = {}, const std::function<void(nl_msg*)>& tweak = {}) {
    auto m = genl_msg(IOPF_CMD_MAP_GET);
    put_mapping(m.get(), std::move(skip), tweak);
    return nl::parse_mapping_msg(nlmsg_hdr(m.get()));
}

template <typename F> void expect_parse_error(F&& f, const char* text) {
    try {
        f();
        FAIL("parsed");
    } catch (const ParseError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
}

// The top-level attributes of a built request.
struct Top {
    nlattr* tb[IOPF_A_MAX + 1] = {};
    explicit Top(nl_msg* m) {
        auto* gh = static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(m)));
        REQUIRE(nla_parse(tb, IOPF_A_MAX, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
                          nullptr) == 0);
    }
    uint32_t u32(int t) const {
        REQUIRE(tb[t]);
        CHECK(nla_len(tb[t]) == 4);
        return nla_get_u32(tb[t]);
    }
    uint64_t u64(int t) const {
        REQUIRE(tb[t]);
        CHECK(nla_len(tb[t]) == 8);
        return nla_get_u64(tb[t]);
    }
};

Fault page_req(uint32_t level, uint64_t addr, uint32_t perm = IOPF_PERM_READ,
               std::optional<uint32_t> pasid = std::nullopt, uint32_t event = 0x10) {
    Fault f;
    f.seq = 5;
    f.sid = 0x10;
    f.event_id = event;
    iopf_model_fault c{};
    c.sid = 0x10;
    c.event_id = event;
    c.type = IOPF_FAULT_PAGE_REQ;
    c.level = level;
    c.flags =
        IOPF_PRQ_LAST_PAGE | (level == 2 ? IOPF_PRQ_L2 : 0u) | (pasid ? IOPF_PRQ_PASID_VALID : 0u);
    c.pasid = pasid.value_or(0);
    c.grpid = 3;
    c.perm = perm;
    c.addr = addr;
    f.fault = c;
    return f;
}

// A stage table in memory, with MAP's all-or-nothing rule.
struct FakeTables : iopfd::Tables {
    std::vector<Mapping> maps;
    std::vector<Mapping> calls;
    int dumps = 0;
    std::vector<Mapping> mappings(uint32_t sid, uint32_t stage,
                                  std::optional<uint32_t> pasid) override {
        dumps++;
        std::vector<Mapping> v;
        for (const auto& m : maps)
            if (m.sid == sid && m.stage == stage && m.pasid == pasid)
                v.push_back(m);
        return v;
    }
    void map(const Mapping& m) override {
        calls.push_back(m);
        for (const auto& o : maps)
            if (o.sid == m.sid && o.stage == m.stage && o.pasid == m.pasid &&
                m.addr < o.addr + o.len && o.addr < m.addr + m.len)
                throw Error(EEXIST, "MAP");
        maps.push_back(m);
    }
};

Mapping s2(uint64_t ipa, uint64_t pages, uint32_t perm = IOPF_PERM_READ | IOPF_PERM_WRITE) {
    return Mapping{0x10, IOPF_STAGE_2, std::nullopt, ipa, ipa, pages * kPage, perm};
}

Config parse(const std::string& s) {
    std::istringstream in(s);
    return parse_config(in, "test.conf");
}

void expect_config_error(const std::string& text, const std::string& what) {
    try {
        parse(text);
        FAIL("accepted: " << text);
    } catch (const ParseError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
}

} // namespace

// ---- messages -------------------------------------------------------------

TEST_CASE("stages: an ACCESS nest, every field", "[stages][netlink]") {
    Access a = access_msg();
    CHECK(a.id == 7);
    CHECK(a.sid == 0x10);
    CHECK(a.pasid == 1u);
    CHECK(a.addr == 0x200000);
    CHECK(a.len == 0x2000);
    CHECK(a.perm == (IOPF_PERM_READ | IOPF_PERM_WRITE));
    CHECK(a.state == IOPF_ACCESS_COMPLETED);
    CHECK(a.ended());
    CHECK(a.faults == 3);
    CHECK(a.faults_l1 == 1);
    CHECK(a.faults_l2 == 2);
    CHECK(a.retries == 3);
    CHECK(a.done == 0x2000);
    CHECK(a.fault_seq == 42u);
    CHECK_FALSE(a.stag);
    CHECK(a.start_ns == 1000000);
    CHECK(a.end_ns == 1250000);
    CHECK(a.stall);
    CHECK(access_latency_us(a) == 250u);
    // optional: PASID, FAULT_SEQ, STAG, STALL
    Access b = access_msg({IOPF_ACCESS_A_PASID, IOPF_ACCESS_A_FAULT_SEQ, IOPF_ACCESS_A_STALL});
    CHECK_FALSE(b.pasid);
    CHECK_FALSE(b.fault_seq);
    CHECK_FALSE(b.stall);
    Access c = access_msg({IOPF_ACCESS_A_STATE}, [](nl_msg* m) {
        REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_STATE, IOPF_ACCESS_STALLED) == 0);
        REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_STAG, 9) == 0);
    });
    CHECK_FALSE(c.ended());
    CHECK(c.stag == 9u);
    CHECK_FALSE(access_latency_us(c));
    // RUNNING (a RETRY being walked again): not ended either
    Access d = access_msg({IOPF_ACCESS_A_STATE}, [](nl_msg* m) {
        REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_STATE, kAccessRunning) == 0);
    });
    CHECK(d.state == kAccessRunning);
    CHECK_FALSE(d.ended());
}

TEST_CASE("stages: malformed ACCESS nests", "[stages][netlink]") {
    for (int t : {IOPF_ACCESS_A_ID, IOPF_ACCESS_A_SID, IOPF_ACCESS_A_ADDR, IOPF_ACCESS_A_LEN,
                  IOPF_ACCESS_A_PERM, IOPF_ACCESS_A_STATE, IOPF_ACCESS_A_FAULTS,
                  IOPF_ACCESS_A_FAULTS_L1, IOPF_ACCESS_A_FAULTS_L2, IOPF_ACCESS_A_RETRIES,
                  IOPF_ACCESS_A_DONE, IOPF_ACCESS_A_START_NS, IOPF_ACCESS_A_END_NS}) {
        INFO("attribute " << t);
        expect_parse_error([&] { access_msg({t}); }, "ACCESS: missing attribute");
    }
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_STATE},
                       [](nl_msg* m) { REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_STATE, 6) == 0); });
        },
        "ACCESS: STATE 6 out of range");
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_ID},
                       [](nl_msg* m) { REQUIRE(nla_put_u64(m, IOPF_ACCESS_A_ID, 0) == 0); });
        },
        "ID is 0");
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_FAULTS},
                       [](nl_msg* m) { REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_FAULTS, 2) == 0); });
        },
        "FAULTS_L1 1 + FAULTS_L2 2 exceed FAULTS 2");
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_STALL},
                       [](nl_msg* m) { REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_STALL, 1) == 0); });
        },
        "flag STALL has 4 bytes, expected none");
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_SID},
                       [](nl_msg* m) { REQUIRE(nla_put_u64(m, IOPF_ACCESS_A_SID, 1) == 0); });
        },
        "attribute SID has 8 bytes, expected 4");
    expect_parse_error(
        [] {
            access_msg({IOPF_ACCESS_A_PASID}, [](nl_msg* m) {
                REQUIRE(nla_put_u32(m, IOPF_ACCESS_A_PASID, 1u << 20) == 0);
            });
        },
        "PASID 0x100000 exceeds 20 bits");
    // a message without the nest
    auto m = genl_msg(IOPF_CMD_ACCESS_NTF);
    expect_parse_error([&] { nl::parse_access_msg(nlmsg_hdr(m.get())); },
                       "ACCESS message: missing attribute ACCESS");
}

TEST_CASE("stages: a MAPPING nest", "[stages][netlink]") {
    Mapping m = mapping_msg();
    CHECK(m == Mapping{0x10, IOPF_STAGE_1, 2u, 0x10000, 0x80010000, 0x3000, IOPF_PERM_READ});
    Mapping n = mapping_msg({IOPF_MAPPING_A_PASID});
    CHECK_FALSE(n.pasid);
    for (int t : {IOPF_MAPPING_A_SID, IOPF_MAPPING_A_STAGE, IOPF_MAPPING_A_ADDR,
                  IOPF_MAPPING_A_OUT_ADDR, IOPF_MAPPING_A_LEN, IOPF_MAPPING_A_PERM}) {
        INFO("attribute " << t);
        expect_parse_error([&] { mapping_msg({t}); }, "MAPPING: missing attribute");
    }
    expect_parse_error(
        [] {
            mapping_msg({IOPF_MAPPING_A_STAGE}, [](nl_msg* m) {
                REQUIRE(nla_put_u32(m, IOPF_MAPPING_A_STAGE, IOPF_STAGE_2) == 0);
            });
        },
        "PASID in a stage-2 mapping");
    expect_parse_error(
        [] {
            mapping_msg({IOPF_MAPPING_A_LEN}, [](nl_msg* m) {
                REQUIRE(nla_put_u64(m, IOPF_MAPPING_A_LEN, 0x1800) == 0);
            });
        },
        "is not whole pages");
    expect_parse_error(
        [] {
            mapping_msg({IOPF_MAPPING_A_PERM},
                        [](nl_msg* m) { REQUIRE(nla_put_u32(m, IOPF_MAPPING_A_PERM, 0x10) == 0); });
        },
        "PERM 0x10 has unknown bits");
}

TEST_CASE("stages: UNMAP's COUNT and DEV_GET's STAGE_MODE", "[stages][netlink]") {
    auto m = genl_msg(IOPF_CMD_UNMAP);
    REQUIRE(nla_put_u64(m.get(), IOPF_A_COUNT, 17) == 0);
    CHECK(nl::parse_count_msg(nlmsg_hdr(m.get())) == 17);
    auto e = genl_msg(IOPF_CMD_UNMAP);
    expect_parse_error([&] { nl::parse_count_msg(nlmsg_hdr(e.get())); },
                       "UNMAP reply: missing attribute COUNT");

    auto d = genl_msg(IOPF_CMD_DEV_GET);
    REQUIRE(nla_put_u32(d.get(), IOPF_A_SID, 0x10) == 0);
    REQUIRE(nla_put_u8(d.get(), IOPF_A_REGISTERED, 1) == 0);
    REQUIRE(nla_put_u32(d.get(), IOPF_A_FLAGS, 0xe) == 0);
    REQUIRE(nla_put_u32(d.get(), IOPF_A_STAGE_MODE, IOPF_STAGE_MODE_NESTED) == 0);
    nlattr* st = nla_nest_start(d.get(), IOPF_A_STATS);
    REQUIRE(nla_put_u64(d.get(), IOPF_STAT_A_MAPPED_S2, 4) == 0);
    nla_nest_end(d.get(), st);
    DevInfo info = nl::parse_dev_msg(nlmsg_hdr(d.get()));
    CHECK(info.stage_mode == uint32_t(IOPF_STAGE_MODE_NESTED));
    CHECK(stat_name(info.stats.at(0).first) == "mapped_s2");
}

TEST_CASE("stages: requests as the client builds them", "[stages][netlink]") {
    auto m = genl_msg(IOPF_CMD_MAP);
    nl::put_map_request(
        m.get(), Mapping{0x10, IOPF_STAGE_1, 3u, 0x4000, 0x90000000, 0x2000, IOPF_PERM_WRITE});
    Top t(m.get());
    CHECK(t.u32(IOPF_A_SID) == 0x10);
    CHECK(t.u32(IOPF_A_STAGE) == IOPF_STAGE_1);
    CHECK(t.u32(IOPF_A_PASID) == 3);
    CHECK(t.u64(IOPF_A_ADDR) == 0x4000);
    CHECK(t.u64(IOPF_A_OUT_ADDR) == 0x90000000);
    CHECK(t.u64(IOPF_A_LEN) == 0x2000);
    CHECK(t.u32(IOPF_A_PERM) == IOPF_PERM_WRITE);

    auto u = genl_msg(IOPF_CMD_MAP_GET);
    nl::put_table(u.get(), 0x11, IOPF_STAGE_2, std::nullopt);
    Top tu(u.get());
    CHECK(tu.u32(IOPF_A_STAGE) == IOPF_STAGE_2);
    CHECK_FALSE(tu.tb[IOPF_A_PASID]);

    auto a = genl_msg(IOPF_CMD_ACCESS);
    nl::put_access_request(a.get(), AccessRequest{0x10, std::nullopt, 0x1234, 0x10, 1, true});
    Top ta(a.get());
    CHECK(ta.u32(IOPF_A_SID) == 0x10);
    CHECK_FALSE(ta.tb[IOPF_A_PASID]);
    CHECK(ta.u64(IOPF_A_ADDR) == 0x1234);
    CHECK(ta.u64(IOPF_A_LEN) == 0x10);
    CHECK(ta.u32(IOPF_A_PERM) == 1);
    REQUIRE(ta.tb[IOPF_A_STALL]);
    CHECK(nla_len(ta.tb[IOPF_A_STALL]) == 0);
    auto b = genl_msg(IOPF_CMD_ACCESS);
    nl::put_access_request(b.get(), AccessRequest{0x10, 4u, 0x1000, 0x1000, 3, false});
    Top tb(b.get());
    CHECK(tb.u32(IOPF_A_PASID) == 4);
    CHECK_FALSE(tb.tb[IOPF_A_STALL]);
}

// ---- names and JSON ---------------------------------------------------------

TEST_CASE("stages: names of permissions, modes and states", "[stages]") {
    CHECK(parse_perm_letters("rw") == (IOPF_PERM_READ | IOPF_PERM_WRITE));
    CHECK(parse_perm_letters("pxwr") == IOPF_PERM_ALL);
    CHECK(parse_perm_letters("-") == 0);
    CHECK_THROWS_WITH(parse_perm_letters("rq"),
                      "permission 'rq': unknown letter 'q' (expected r, w, x, p)");
    CHECK_THROWS_WITH(parse_perm_letters("rr"), "permission 'rr': 'r' given twice");
    CHECK(perm_letters(IOPF_PERM_ALL) == "rwxp");
    CHECK(perm_letters(IOPF_PERM_WRITE) == "w");
    CHECK(perm_letters(0) == "-");
    CHECK(parse_stage_mode("nested") == IOPF_STAGE_MODE_NESTED);
    CHECK(parse_stage_mode("s1") == IOPF_STAGE_MODE_S1);
    CHECK(stage_mode_name(IOPF_STAGE_MODE_S2) == "s2");
    CHECK_THROWS_WITH(parse_stage_mode("s3"),
                      "unknown stage mode 's3' (expected none, s1, s2, nested)");
    for (uint32_t s = IOPF_ACCESS_STALLED; s <= IOPF_ACCESS_TERMINATED; s++)
        CHECK(access_state_from_name(access_state_name(s)) == s);
    CHECK(access_state_name(IOPF_ACCESS_ABORTED) == "aborted");
    CHECK(access_state_name(kAccessRunning) == "running");
    CHECK(access_state_from_name("running") == kAccessRunning);
    CHECK(access_state_name(9) == "state9");
}

TEST_CASE("stages: JSON of mappings and accesses round-trips", "[stages][json]") {
    Mapping m{0x10, IOPF_STAGE_2, std::nullopt, 0x80000000, 0x100000000, 0x4000, IOPF_PERM_ALL};
    Json j = mapping_to_json(m);
    CHECK(j.dump() == R"({"sid":16,"stage":2,"pasid":null,"addr":"0x80000000",)"
                      R"("out_addr":"0x100000000","len":16384,"pages":4,"perm":"rwxp"})");
    CHECK(mapping_from_json(Json::parse(j.dump())) == m);

    Access a = access_msg();
    Json ja = access_to_json(a);
    CHECK(ja.dump() == R"({"id":7,"sid":16,"pasid":1,"addr":"0x200000","len":8192,"perm":"rw",)"
                       R"("stall":true,"state":"completed","faults":3,"faults_l1":1,)"
                       R"("faults_l2":2,"retries":3,"done":8192,"fault_seq":42,"stag":null,)"
                       R"("start_ns":1000000,"end_ns":1250000,"latency_us":250})");
    CHECK(access_from_json(Json::parse(ja.dump())) == a);
    CHECK_THROWS_AS(access_from_json(Json::parse(R"({"id":1})")), ParseError);
}

// ---- the config grammar -------------------------------------------------------

TEST_CASE("stages: map and refuse actions, stage=", "[stages][config]") {
    Config c = parse("device 0x10 flags=nested,l1,l2 stage=nested l1=map,base=0x80000000 "
                     "l2=map,window=8,perm=rwx\n"
                     "device 0x11 flags=nested,l1 stage=s1 l1=refuse\n"
                     "device 0x12 flags=flat l1=success\n"
                     "default l2=map,base=identity\n");
    REQUIRE(c.devices.size() == 3);
    const auto& d = c.devices[0];
    CHECK(d.stage_mode == uint32_t(IOPF_STAGE_MODE_NESTED));
    REQUIRE(d.l1.map);
    CHECK(d.l1.map->window == 1);
    CHECK(d.l1.map->base == uint64_t(0x80000000));
    CHECK(d.l1.map->perm == (IOPF_PERM_READ | IOPF_PERM_WRITE));
    CHECK(d.l1.to_string() == "map,base=0x80000000");
    REQUIRE(d.l2.map);
    CHECK(d.l2.map->window == 8);
    CHECK_FALSE(d.l2.map->base);
    CHECK(d.l2.map->perm == (IOPF_PERM_READ | IOPF_PERM_WRITE | IOPF_PERM_EXEC));
    CHECK(d.l2.to_string() == "map,window=8,perm=rwx");
    CHECK(c.devices[1].l1.refuse);
    CHECK(c.devices[1].l1.code == IOPF_RESP_INVALID);
    CHECK(c.devices[1].l1.to_string() == "refuse");
    CHECK(c.devices[1].stage_mode == uint32_t(IOPF_STAGE_MODE_S1));
    // the default applies to the devices that say nothing
    CHECK(c.devices[2].l2.to_string() == "map");
    CHECK_FALSE(c.devices[2].stage_mode);
    CHECK_FALSE(c.devices[2].l1.map);
    // to_string() parses back to the same action
    for (const char* s : {"map", "map,window=65536,base=0x1000,perm=r", "refuse", "success"})
        CHECK(parse_action(parse_action(s).to_string()) == parse_action(s));
}

TEST_CASE("stages: malformed map actions and stage=", "[stages][config]") {
    expect_config_error("device 1 flags=flat l1=map,window=0\n",
                        "test.conf:1: 'map,window=0': window must be at least 1 page");
    expect_config_error("device 1 flags=flat l1=map,window=65537\n",
                        "window: 65537 is out of range (max 65536)");
    expect_config_error("device 1 flags=flat l1=map,base=0x1001\n", "is not page aligned");
    expect_config_error("device 1 flags=flat l1=map,perm=-\n", "a mapping needs a permission");
    expect_config_error("device 1 flags=flat l1=map,perm=rq\n", "unknown letter 'q'");
    expect_config_error("device 1 flags=flat l1=map,window=2,window=3\n", "window= given twice");
    expect_config_error("device 1 flags=flat l1=map,delay_ms=5\n",
                        "unknown map option 'delay_ms=5' (expected window=, base=, perm=)");
    expect_config_error("device 1 flags=flat l1=refuse,delay_ms=5\n", "refuse takes no options");
    expect_config_error("device 1 flags=flat l2=refuse\n",
                        "l2=refuse: refuse is the guest's answer (l1= only)");
    expect_config_error("default l2=refuse\n", "refuse is the guest's answer");
    expect_config_error("device 1 flags=flat stage=s3\n", "unknown stage mode 's3'");
    expect_config_error("device 1 flags=flat stage=s1 stage=s2\n", "stage= given twice");
}

// ---- the window, the allocators, the models -------------------------------------

TEST_CASE("stages: the prefetch window", "[stages][vmm]") {
    CHECK(iopfd::fault_window(0x80001234, 1) == PageRun{0x80001000, 1});
    CHECK(iopfd::fault_window(0x80001000, 8) == PageRun{0x80001000, 8});
    CHECK(iopfd::fault_window(0x80001000, 0) == PageRun{0x80001000, 1});
    // clipped at the top of the address space
    CHECK(iopfd::fault_window(~0ULL, 4) == PageRun{~0ULL & ~(kPage - 1), 1});
    CHECK(iopfd::fault_window(~0ULL - 2 * kPage, 4).pages == 3);
}

TEST_CASE("stages: the free runs of a window", "[stages][vmm]") {
    const PageRun w{0x10000, 8}; // pages 0x10..0x17
    CHECK(iopfd::free_runs(w, {}) == std::vector<PageRun>{{0x10000, 8}});
    // a hole in the middle, one at each end
    CHECK(iopfd::free_runs(w, {s2(0x12000, 2), s2(0x16000, 1)}) ==
          std::vector<PageRun>{{0x10000, 2}, {0x14000, 2}, {0x17000, 1}});
    // mappings overlapping the edges, unsorted, adjacent
    CHECK(iopfd::free_runs(w, {s2(0x15000, 10), s2(0xe000, 3)}) ==
          std::vector<PageRun>{{0x11000, 4}});
    CHECK(iopfd::free_runs(w, {s2(0x11000, 1), s2(0x12000, 1)}) ==
          std::vector<PageRun>{{0x10000, 1}, {0x13000, 5}});
    // all mapped; mappings elsewhere do not matter
    CHECK(iopfd::free_runs(w, {s2(0x0, 0x100)}).empty());
    CHECK(iopfd::free_runs(w, {s2(0x0, 0x10), s2(0x18000, 1)}) ==
          std::vector<PageRun>{{0x10000, 8}});
}

TEST_CASE("stages: identity and bump allocators", "[stages][vmm]") {
    iopfd::Allocator id;
    CHECK(id.place({0x5000, 3}) == 0x5000);
    CHECK(id.place({0x9000, 1}) == 0x9000);
    iopfd::Allocator bump(0x100000000);
    CHECK(bump.place({0x5000, 3}) == 0x100000000);
    CHECK(bump.place({0x1000, 1}) == 0x100003000);
    CHECK(bump.place({0x1000, 2}) == 0x100004000);
    // one per device, made again when the policy's base changes
    std::map<uint32_t, iopfd::Allocator> m;
    CHECK(iopfd::allocator_for(m, 1, 0x1000).place({0, 1}) == 0x1000);
    CHECK(iopfd::allocator_for(m, 1, 0x1000).place({0, 1}) == 0x2000);
    CHECK(iopfd::allocator_for(m, 2, 0x1000).place({0, 1}) == 0x1000);
    CHECK(iopfd::allocator_for(m, 1, 0x8000).place({0, 1}) == 0x8000);
    CHECK(iopfd::allocator_for(m, 1, std::nullopt).place({0x3000, 1}) == 0x3000);
}

TEST_CASE("stages: the VMM maps the faulting IPA, exact or a window", "[stages][vmm]") {
    FakeTables t;
    iopfd::Vmm vmm;
    MapPolicy exact;
    FixUp r = vmm.handle(page_req(2, 0x80001000), exact, t);
    CHECK(r.code == IOPF_RESP_SUCCESS);
    CHECK(r.stage == IOPF_STAGE_2);
    CHECK_FALSE(r.pasid);
    REQUIRE(r.mapped.size() == 1);
    CHECK(r.mapped[0] == s2(0x80001000, 1));
    CHECK(r.pages() == 1);
    CHECK(r.already == 0);
    CHECK(t.dumps == 0); // a page nobody mapped: one MAP, no table read

    // a window of 4 from 0x80000000: page 0x80001000 is skipped (MAP is all or nothing)
    MapPolicy win;
    win.window = 4;
    win.base = 0x200000000;
    r = vmm.handle(page_req(2, 0x80000000), win, t);
    CHECK(r.code == IOPF_RESP_SUCCESS);
    CHECK(r.already == 1);
    REQUIRE(r.mapped.size() == 2);
    CHECK(r.mapped[0] ==
          Mapping{0x10, IOPF_STAGE_2, std::nullopt, 0x80000000, 0x200000000, kPage, 3});
    CHECK(r.mapped[1] ==
          Mapping{0x10, IOPF_STAGE_2, std::nullopt, 0x80002000, 0x200001000, 2 * kPage, 3});
    // the whole window first (refused: -EEXIST), then the table read and
    // the two free runs
    CHECK(t.calls.size() == 4);
    CHECK(t.dumps == 1);

    // mapped meanwhile (another access's fault): nothing to map, success
    r = vmm.handle(page_req(2, 0x80002000, IOPF_PERM_WRITE), exact, t);
    CHECK(r.code == IOPF_RESP_SUCCESS);
    CHECK(r.mapped.empty());
    CHECK(r.already == 1);

    // mapped without the permission the access needs: invalid, nothing mapped
    t.maps.push_back(s2(0x90000000, 1, IOPF_PERM_READ));
    r = vmm.handle(page_req(2, 0x90000000, IOPF_PERM_WRITE, std::nullopt, 0x13), win, t);
    CHECK(r.code == IOPF_RESP_INVALID);
    CHECK(r.mapped.empty());
    CHECK(r.why == "page mapped r, the access needs w");
    // F_PERMISSION on a page whose mapping looks sufficient (a table read of
    // a page mapped write-only, CLASS TT: the record says the access's W)
    t.maps.push_back(s2(0x91000000, 1, IOPF_PERM_WRITE));
    r = vmm.handle(page_req(2, 0x91000000, IOPF_PERM_WRITE, std::nullopt, 0x13), win, t);
    CHECK(r.code == IOPF_RESP_INVALID);
    CHECK(r.mapped.empty());

    // a MAP the module refuses: invalid, the reason kept
    struct Refusing : FakeTables {
        void map(const Mapping&) override { throw Error(ENOSPC, "MAP sid 0x10 stage 2"); }
    } bad;
    r = vmm.handle(page_req(2, 0x1000), exact, bad);
    CHECK(r.code == IOPF_RESP_INVALID);
    CHECK(r.why.find("MAP sid 0x10 stage 2") != std::string::npos);

    // its store line
    Json j = r.to_json("vmm", 5, 0x10);
    CHECK(j.at("kind").as_string() == "vmm");
    CHECK(j.at("seq").as_u64() == 5);
    CHECK(j.at("code").as_string() == "invalid");
    CHECK(j.at("pages").as_u64() == 0);
    CHECK(j.find("us"));
}

TEST_CASE("stages: a strided workload faults less with a window", "[stages][vmm]") {
    // 16 pages touched one after another: exact faults on each, a window
    // of 8 on every 8th.
    for (uint64_t window : {1, 4, 8, 16}) {
        FakeTables t;
        iopfd::Vmm vmm;
        MapPolicy p;
        p.window = window;
        unsigned faults = 0;
        for (uint64_t page = 0; page < 16; page++) {
            uint64_t ipa = 0x80000000 + page * kPage;
            auto mapped = t.mappings(0x10, IOPF_STAGE_2, std::nullopt);
            if (iopfd::covering(ipa, mapped))
                continue;
            faults++;
            CHECK(vmm.handle(page_req(2, ipa), p, t).code == IOPF_RESP_SUCCESS);
        }
        INFO("window " << window);
        CHECK(faults == 16 / window);
    }
}

TEST_CASE("stages: the guest model maps stage 1 or refuses", "[stages][guest]") {
    FakeTables t;
    iopfd::GuestModel g;
    Action map = parse_action("map,base=0x80000000,window=2");
    CHECK(iopfd::GuestModel::decide(map) == iopfd::GuestModel::Decision::map);
    auto r = g.handle(page_req(1, 0x10234, IOPF_PERM_READ, 1u), map, t);
    REQUIRE(r);
    CHECK(r->code == IOPF_RESP_SUCCESS);
    CHECK(r->stage == IOPF_STAGE_1);
    CHECK(r->pasid == 1u);
    CHECK(r->addr == 0x10234);
    REQUIRE(r->mapped.size() == 1);
    CHECK(r->mapped[0] == Mapping{0x10, IOPF_STAGE_1, 1u, 0x10000, 0x80000000, 2 * kPage, 3});
    // the next IPAs come from the same allocator; another PASID has its own table
    r = g.handle(page_req(1, 0x10000, IOPF_PERM_READ, 2u), map, t);
    REQUIRE(r);
    REQUIRE(r->mapped.size() == 1);
    CHECK(r->mapped[0].pasid == 2u);
    CHECK(r->mapped[0].out_addr == 0x80002000);
    // without a PASID: the table of no SubstreamID
    r = g.handle(page_req(1, 0x10000), map, t);
    REQUIRE(r);
    CHECK_FALSE(r->mapped[0].pasid);

    Action refuse = parse_action("refuse");
    CHECK(iopfd::GuestModel::decide(refuse) == iopfd::GuestModel::Decision::refuse);
    const int dumps = t.dumps;
    r = g.handle(page_req(1, 0x50000, IOPF_PERM_WRITE, 1u), refuse, t);
    REQUIRE(r);
    CHECK(r->code == IOPF_RESP_INVALID);
    CHECK(r->mapped.empty());
    CHECK(t.dumps == dumps); // a refusal reads no table
    CHECK(r->to_json("guest", 9, 0x10).at("why").as_string() == "the guest refuses");

    Action answer = parse_action("success,delay_ms=5");
    CHECK(iopfd::GuestModel::decide(answer) == iopfd::GuestModel::Decision::none);
    CHECK_FALSE(g.handle(page_req(1, 0x50000), answer, t));
}

TEST_CASE("stages: the summary counts fix-ups and accesses", "[stages][loss]") {
    Summary s;
    FakeTables t;
    iopfd::Vmm vmm;
    MapPolicy p;
    p.window = 3;
    s.add_store_line(vmm.handle(page_req(2, 0x1000), p, t).to_json("vmm", 1, 0x10));
    FixUp refused;
    refused.code = IOPF_RESP_INVALID;
    s.add_store_line(refused.to_json("guest", 2, 0x10));
    Json a = access_to_json(access_msg());
    a.set("kind", "access");
    s.add_store_line(a);
    CHECK(s.vmm.handled == 1);
    CHECK(s.vmm.mapped_pages == 3);
    CHECK(s.vmm.success == 1);
    CHECK(s.guest.handled == 1);
    CHECK(s.guest.success == 0);
    CHECK(s.accesses.at("completed") == 1);
    CHECK(s.malformed == 0);
    Json j = s.to_json();
    CHECK(j.at("vmm").at("mapped_pages").as_u64() == 3);
    CHECK(j.at("accesses").at("completed").as_u64() == 1);
    CHECK(s.to_text().find("vmm (stage 2): 1 page requests, 1 answered success, 3 pages mapped") !=
          std::string::npos);
    CHECK(s.to_text().find("accesses ended: completed=1\n") != std::string::npos);
    // without them, the text is as it was
    CHECK(Summary{}.to_text().find("vmm") == std::string::npos);
}

// ---- the commands ---------------------------------------------------------------

TEST_CASE("stages: usage errors of the new commands", "[stages][cli]") {
    struct Case {
        iopfctl::Args args;
        const char* first;
    };
    const Case cases[] = {
        {{"map", "--stage", "2", "--perm", "rw"}, "iopfctl map: missing SID"},
        // the first positional argument is the SID
        {{"map", "--stage", "2", "0x1000", "0x1000", "0x1000", "--perm", "rw"},
         "iopfctl map: missing LEN"},
        {{"map", "0x10", "0x1000", "0x1000", "0x1000", "--perm", "rw"},
         "iopfctl map: --stage is required (1 or 2)"},
        {{"map", "0x10", "--stage", "3", "0x1000", "0x1000", "0x1000", "--perm", "rw"},
         "iopfctl map: --stage: '3' is neither 1 nor 2"},
        {{"map", "0x10", "--stage", "2", "--pasid", "1", "0x1000", "0x1000", "0x1000", "--perm",
          "rw"},
         "iopfctl map: --pasid is for stage 1 (stage 2 is per device)"},
        {{"map", "0x10", "--stage", "1", "--pasid", "0x100000", "0x1000", "0x1000", "0x1000"},
         "iopfctl map: --pasid: 0x100000 is out of range (max 0xfffff)"},
        {{"map", "0x10", "--stage", "2", "0x1001", "0x1000", "0x1000", "--perm", "rw"},
         "iopfctl map: IPA: 0x1001 is not page aligned (4 KiB)"},
        {{"map", "0x10", "--stage", "1", "0x1000", "0x1800", "0x1000", "--perm", "rw"},
         "iopfctl map: IPA: 0x1800 is not page aligned (4 KiB)"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "--perm", "rw"},
         "iopfctl map: missing LEN"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x800", "--perm", "rw"},
         "iopfctl map: LEN: 0x800 is not a whole number of pages (4 KiB)"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0", "--perm", "rw"},
         "iopfctl map: LEN: 0 bytes"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x10001000", "--perm", "rw"},
         "iopfctl map: LEN: 0x10001000 is out of range (max 0x10000000)"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x1000"},
         "iopfctl map: --perm is required (letters of rwxp)"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x1000", "--perm", "rz"},
         "iopfctl map: --perm: permission 'rz': unknown letter 'z' (expected r, w, x, p)"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x1000", "--perm", "-"},
         "iopfctl map: --perm: at least one of r, w, x, p"},
        {{"map", "0x10", "--stage", "2", "0x1000", "0x1000", "0x1000", "0x1000", "--perm", "r"},
         "iopfctl map: unexpected argument '0x1000'"},
        {{"unmap", "0x10", "--stage", "1", "0x1000"}, "iopfctl unmap: missing LEN"},
        {{"unmap", "0x10", "0x1000", "0x1000"}, "iopfctl unmap: --stage is required (1 or 2)"},
        {{"unmap", "0x10", "--stage", "1", "x", "0x1000"},
         "iopfctl unmap: IOVA: 'x' is not a number"},
        {{"maps", "0x10"}, "iopfctl maps: --stage is required (1 or 2)"},
        {{"maps", "--stage", "1"}, "iopfctl maps: missing SID"},
        {{"maps", "0x10", "--stage", "2", "--pasid", "0"},
         "iopfctl maps: --pasid is for stage 1 (stage 2 is per device)"},
        {{"ttb", "0x10"}, "iopfctl ttb: missing IPA"},
        {{"ttb", "0x10", "0x40000800"}, "iopfctl ttb: IPA: 0x40000800 is not page aligned (4 KiB)"},
        {{"access", "0x10", "0x1000", "--perm", "r"}, "iopfctl access: missing LEN"},
        {{"access", "0x10", "0x1000", "0x10"},
         "iopfctl access: --perm is required (letters of rwxp)"},
        {{"access", "0x10", "0x1000", "0x10", "--perm", "r", "--wait", "0"},
         "iopfctl access: --wait: at least 1 ms"},
        {{"access", "0x10", "0x1000", "0x10", "--perm", "r", "--wait", "600001"},
         "iopfctl access: --wait: 600001 is out of range (max 600000)"},
        {{"access", "0x10", "0x1000", "0x10", "--perm", "r", "--stall=1"},
         "iopfctl access: --stall takes no value"},
        {{"accesses", "x"}, "iopfctl accesses: SID: 'x' is not a number"},
        {{"accesses", "1", "2"}, "iopfctl accesses: unexpected argument '2'"},
        {{"dev", "set", "0x10", "--stage-mode", "s3"},
         "iopfctl dev: --stage-mode: unknown stage mode 's3' (expected none, s1, s2, nested)"},
    };
    for (const auto& c : cases) {
        auto r = ctl(c.args);
        INFO(c.args[0] << ": " << r.err);
        CHECK(r.rc == 2);
        CHECK(first_line(r.err) == c.first);
        // the usage follows the error
        CHECK(r.err.find("\nusage: iopfctl " + c.args[0]) != std::string::npos);
        CHECK(r.out.empty());
    }
    // prefixes: map is exact, maps too; "ma" is ambiguous, "acc" as well
    auto r = ctl({"ma"});
    CHECK(first_line(r.err) == "iopfctl: ambiguous command 'ma' (could be map, maps)");
    r = ctl({"acc"});
    CHECK(first_line(r.err) == "iopfctl: ambiguous command 'acc' (could be access, accesses)");
    r = ctl({"un", "0x10"});
    CHECK(first_line(r.err) == "iopfctl unmap: --stage is required (1 or 2)");
}
