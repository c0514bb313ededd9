// SPDX-License-Identifier: GPL-2.0
// The differential checker's host side: the op-stream format, the seeded
// generator, the reference model on hand-written streams, the minimiser.
// No module is needed (nor touched): the executor is exercised in the guest
// (tests/guest/diff.sh).
#include <algorithm>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "commands.hpp"
#include "difftest/executor.hpp"
#include "difftest/generator.hpp"
#include "difftest/model.hpp"
#include "difftest/op.hpp"
#include "iopf/error.hpp"

using namespace difftest;

namespace {

constexpr uint32_t kNestedL1 = IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED;
constexpr uint32_t kNestedL2 = IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L2_CONCERNED;

// An event record: event ID, SID, and the usual fields.
iopf::Record rec(uint32_t id, uint32_t sid, bool stall, uint32_t stag = 0, bool s2 = false,
                 std::optional<uint32_t> ssid = std::nullopt, uint64_t addr = 0x1000,
                 uint64_t w3 = 0) {
    iopf::Record r{};
    r[0] = FIELD_PREP(EVTQ_0_ID, (uint64_t)id) | FIELD_PREP(EVTQ_0_SID, (uint64_t)sid);
    if (ssid)
        r[0] |= EVTQ_0_SSV | FIELD_PREP(EVTQ_0_SSID, (uint64_t)*ssid);
    r[1] = FIELD_PREP(EVTQ_1_STAG, (uint64_t)stag) | EVTQ_1_RnW;
    if (stall)
        r[1] |= EVTQ_1_STALL;
    if (s2)
        r[1] |= EVTQ_1_S2;
    r[2] = addr;
    r[3] = w3;
    return r;
}

std::vector<Op> parse(const std::string& text) {
    std::istringstream in(text);
    return parse_stream(in, "test");
}

// Runs a stream through a fresh model; the outcome of each op.
struct Run {
    Model m;
    std::vector<Outcome> out;
    explicit Run(const std::vector<Op>& ops) {
        for (const auto& op : ops)
            out.push_back(m.apply(op));
    }
};

const iopf::Fault& fault(const Outcome& o, std::size_t i = 0) {
    REQUIRE(o.events.size() > i);
    REQUIRE(std::holds_alternative<iopf::Fault>(o.events[i]));
    return std::get<iopf::Fault>(o.events[i]);
}

const iopf::Resume& resume(const Outcome& o, std::size_t i = 0) {
    REQUIRE(o.events.size() > i);
    REQUIRE(std::holds_alternative<iopf::Resume>(o.events[i]));
    return std::get<iopf::Resume>(o.events[i]);
}

uint64_t stat(const Model& m, uint32_t sid, int attr) {
    const DevState* d = m.device(sid);
    REQUIRE(d);
    return d->stats[attr];
}

} // namespace

// --- the op-stream format --------------------------------------------------

TEST_CASE("difftest: every op prints and parses back", "[difftest]") {
    const std::vector<Op> ops = {
        Op::dev_add(0x10),
        Op::dev_del(0xffffffff),
        Op::reg(0, kNestedL1),
        Op::reg(0x10, 0),
        Op::reg(0x10, IOPF_REPORT_FLAT | 0x80000020U),
        Op::update(0x11, ~IOPF_REPORT_NESTED_L1_CONCERNED, IOPF_REPORT_NESTED_L2_CONCERNED),
        Op::update(0x11, 0, 0x40),
        Op::unreg(0x12),
        Op::inject({0x1000005810ULL, 0x80000007ULL, 0xdead000ULL, ~0ULL}),
        Op::respond(0x10, 5, std::nullopt, IOPF_RESP_SUCCESS),
        Op::respond(0x10, 0x12345, 0xfffff, IOPF_RESP_FAILURE),
        Op::respond(0x10, 0, 0, 0xffffffffU),
        Op::reload(),
        Op::inject({{1, 2, 3, 4}, {5, 6, 7, 8}}, true),
        Op::inject({{1, 2, 3, 4}, {5, 6, 7, 8}}, false),
    };
    for (const auto& op : ops) {
        INFO(format_op(op));
        CHECK(parse_op(format_op(op)) == op);
    }
    CHECK(format_op(ops[0]) == "dev_add 0x10");
    CHECK(format_op(ops[2]) == "register 0x0 nested,l1");
    CHECK(format_op(ops[3]) == "register 0x10 none");
    CHECK(format_op(ops[4]) == "register 0x10 flat,0x80000020");
    CHECK(format_op(ops[5]) == "update 0x11 mask=0xfffffffb set=l2");
    CHECK(format_op(ops[8]) ==
          "inject 0x0000001000005810 0x0000000080000007 0x000000000dead000 0xffffffffffffffff");
    CHECK(format_op(ops[9]) == "respond 0x10 grpid=5 pasid=- code=success");
    CHECK(format_op(ops[10]) == "respond 0x10 grpid=74565 pasid=0xfffff code=failure");
    CHECK(format_op(ops[11]) == "respond 0x10 grpid=0 pasid=0x0 code=4294967295");
    CHECK(format_op(ops[12]) == "reload");
    CHECK(format_op(ops[13]) ==
          "inject_raw 0x0000000000000001 0x0000000000000002 0x0000000000000003 "
          "0x0000000000000004 0x0000000000000005 0x0000000000000006 "
          "0x0000000000000007 0x0000000000000008");
    CHECK(ops[13] != ops[14]);
}

TEST_CASE("difftest: generated streams survive a write and a parse", "[difftest]") {
    auto ops = generate(7, 3000);
    std::ostringstream out;
    write_stream(out, ops, {"a header", "two lines"});
    CHECK(out.str().rfind("# a header\n# two lines\n", 0) == 0);
    CHECK(parse(out.str()) == ops);
    // Annotated (the reproducers' form): predictions are comments.
    std::ostringstream ann;
    write_annotated(ann, ops, {"annotated"});
    CHECK(ann.str().find("#   FAULT seq=1 ") != std::string::npos);
    CHECK(parse(ann.str()) == ops);
}

TEST_CASE("difftest: the parser takes alternative forms and comments", "[difftest]") {
    auto ops = parse("# a comment\n"
                     "\n"
                     "  dev_add 16   # trailing comment\n"
                     "register 0x10 l1,nested\n"
                     "register 0x10 0x6\n"
                     "update 0x10 mask=4294967295 set=0x8,unrecov\n"
                     "inject 10 0 0X1000 ffffffffffffffff\n"
                     "respond 16 grpid=0x5 pasid=7 code=2\r\n"
                     "reload\n");
    REQUIRE(ops.size() == 7);
    CHECK(ops[0] == Op::dev_add(0x10));
    CHECK(ops[1] == Op::reg(0x10, kNestedL1));
    CHECK(ops[2] == Op::reg(0x10, kNestedL1));
    CHECK(ops[3] ==
          Op::update(0x10, 0xffffffff, IOPF_REPORT_NESTED_L2_CONCERNED | IOPF_REPORT_UNRECOV));
    CHECK(ops[4] == Op::inject({0x10, 0, 0x1000, ~0ULL}));
    CHECK(ops[5] == Op::respond(0x10, 5, 7, IOPF_RESP_FAILURE));
    CHECK(ops[6] == Op::reload());
}

TEST_CASE("difftest: bad lines are errors that name the line", "[difftest]") {
    const char* bad[] = {
        "frob 0x10",
        "dev_add",
        "dev_add 0x10 0x11",
        "dev_add 0x100000000",
        "register 0x10 nested,l3",
        "register 0x10 nested,,l1",
        "register 0x10",
        "update 0x10 set=l1 mask=0",
        "update 0x10 mask=0",
        "inject 0x1 0x2 0x3",
        "inject 0x1 0x2 0x3 0x4 0x5",
        "inject_raw",
        "inject 0x1 0x2 0x3 0xg",
        "inject 0x1 0x2 0x3 0x10000000000000000",
        "respond 0x10 grpid=1 code=success",
        "respond 0x10 grpid=1 pasid=- code=maybe",
        "respond 0x10 pasid=- grpid=1 code=success",
        "reload now",
    };
    for (const char* line : bad) {
        INFO(line);
        CHECK_THROWS_AS(parse_op(line), iopf::ParseError);
    }
    try {
        parse("dev_add 0x10\n\n# c\nfrob\n");
        FAIL("no error");
    } catch (const iopf::ParseError& e) {
        CHECK(std::string(e.what()).rfind("test:4: unknown op 'frob'", 0) == 0);
    }
}

// --- the generator ---------------------------------------------------------

TEST_CASE("difftest: a seed gives one stream, another seed another", "[difftest]") {
    auto a = generate(42, 5000), b = generate(42, 5000), c = generate(43, 5000);
    CHECK(a == b);
    CHECK(a != c);
    // A prefix is the same stream, shorter.
    auto p = generate(42, 100);
    CHECK(std::equal(p.begin(), p.end(), a.begin()));
    // Pinned: the first op of seed 1 never changes across builds and hosts.
    CHECK(format_op(generate(1, 1)[0]) == "unmap 0x0 2 pasid=- 0x80000000 0x1000");
    // Without the access model's ops, the stream of the first checker.
    GenConfig old;
    old.access_per_mille = 0;
    CHECK(format_op(generate(1, 1, old)[0]) ==
          "inject_raw 0xffffffff7935c010 0x59d47572ecfc0001 0x0000000000003000 0x78833635915bd1b4");
}

TEST_CASE("difftest: the generator covers what the checker is for", "[difftest]") {
    std::vector<Outcome> out;
    auto ops = generate(1, 20000, {}, &out);
    std::set<OpKind> kinds;
    std::set<uint32_t> ids;
    std::set<std::pair<OpKind, int>> errs;
    std::set<uint32_t> origins;
    bool reserved = false, stall = false, s2 = false, ssv = false, unknown_sid = false;
    bool flush_multi = false, del_pending = false, unreg_pending = false, raw = false,
         burst = false;
    std::set<uint32_t> ends;
    bool retried_done = false, both_levels = false, table_fetch = false, reclaimed = false,
         deferred = false;
    Model m;
    for (std::size_t i = 0; i < ops.size(); i++) {
        const Op& op = ops[i];
        kinds.insert(op.kind);
        errs.insert({op.kind, out[i].err});
        if (op.kind == OpKind::Inject) {
            raw |= op.raw;
            burst |= op.recs.size() > 16;
            for (const auto& rc : op.recs) {
                ids.insert(iopf_evt_id(rc.data()));
                reserved |= (rc[0] & GENMASK_ULL(10, 8)) != 0;
                stall |= (rc[1] & EVTQ_1_STALL) != 0;
                s2 |= (rc[1] & EVTQ_1_S2) != 0;
                ssv |= (rc[0] & EVTQ_0_SSV) != 0;
                unknown_sid |= !m.device(iopf_evt_sid(rc.data()));
            }
        }
        if (op.kind == OpKind::DevDel && m.device(op.sid) && !m.device(op.sid)->pending.empty()) {
            del_pending = true;
            flush_multi |= m.device(op.sid)->pending.size() > 1;
        }
        if (op.kind == OpKind::Unregister && out[i].err == EBUSY)
            unreg_pending = true;
        for (const auto& e : out[i].events) {
            if (const auto* r = std::get_if<iopf::Resume>(&e))
                origins.insert(r->origin);
            if (const auto* a = std::get_if<iopf::Access>(&e)) {
                ends.insert(a->state);
                retried_done |= a->retries > 0 && a->state == IOPF_ACCESS_COMPLETED;
                both_levels |= a->faults_l1 > 0 && a->faults_l2 > 0;
            }
            if (const auto* f = std::get_if<iopf::Fault>(&e))
                if (f->record && FIELD_GET(EVTQ_1_CLASS, f->record->at(1)) == IOPF_EVT_CLASS_TT)
                    table_fetch = true;
        }
        reclaimed |= op.kind == OpKind::Unmap && out[i].count.value_or(0) > 0;
        deferred |= out[i].deferred;
        CHECK(m.apply(op).err == out[i].err);
    }
    // The access model: every end, retries that complete, both stages
    // faulting in one access, stage-1 table fetches through stage 2,
    // reclaims that unmap something, re-walks after a RETRY.
    CHECK(ends ==
          std::set<uint32_t>{IOPF_ACCESS_COMPLETED, IOPF_ACCESS_ABORTED, IOPF_ACCESS_TERMINATED});
    CHECK((retried_done && both_levels && table_fetch && reclaimed && deferred));
    CHECK(kinds.size() == kOpKinds);
    CHECK(ids.size() > 200); // raw event IDs all over 0x00-0xff
    for (uint32_t id = EVT_ID_TRANSLATION_FAULT; id <= EVT_ID_PERMISSION_FAULT; id++)
        CHECK(ids.count(id));
    CHECK((reserved && stall && s2 && ssv && unknown_sid));
    CHECK((del_pending && flush_multi && unreg_pending && raw && burst));
    CHECK(origins ==
          std::set<uint32_t>{IOPF_ORIGIN_RESPONSE, IOPF_ORIGIN_REPORT_FAILED, IOPF_ORIGIN_FLUSH});
    // Right and wrong, for every netlink op.
    for (auto [k, e] : std::vector<std::pair<OpKind, int>>{{OpKind::DevAdd, 0},
                                                           {OpKind::DevAdd, EEXIST},
                                                           {OpKind::DevDel, 0},
                                                           {OpKind::DevDel, ENODEV},
                                                           {OpKind::Register, 0},
                                                           {OpKind::Register, EINVAL},
                                                           {OpKind::Register, EBUSY},
                                                           {OpKind::Register, ENODEV},
                                                           {OpKind::Update, 0},
                                                           {OpKind::Update, EINVAL},
                                                           {OpKind::Update, ENODEV},
                                                           {OpKind::Unregister, 0},
                                                           {OpKind::Unregister, EBUSY},
                                                           {OpKind::Unregister, ENODEV},
                                                           {OpKind::Respond, 0},
                                                           {OpKind::Respond, EINVAL},
                                                           {OpKind::Respond, ENODEV},
                                                           {OpKind::Respond, ERANGE},
                                                           {OpKind::StageMode, 0},
                                                           {OpKind::StageMode, EBUSY},
                                                           {OpKind::StageMode, ERANGE},
                                                           {OpKind::StageMode, ENODEV},
                                                           {OpKind::Map, 0},
                                                           {OpKind::Map, EEXIST},
                                                           {OpKind::Map, EINVAL},
                                                           {OpKind::Map, E2BIG},
                                                           {OpKind::Map, ERANGE},
                                                           {OpKind::Map, ENODEV},
                                                           {OpKind::Unmap, 0},
                                                           {OpKind::Unmap, EINVAL},
                                                           {OpKind::Ttb, 0},
                                                           {OpKind::Ttb, EINVAL},
                                                           {OpKind::Ttb, ERANGE},
                                                           {OpKind::Access, 0},
                                                           {OpKind::Access, EINVAL},
                                                           {OpKind::Access, ERANGE},
                                                           {OpKind::Access, E2BIG},
                                                           {OpKind::Access, ENODEV}}) {
        INFO(op_name(k) << " " << errno_name(e));
        CHECK(errs.count({k, e}));
    }
}

TEST_CASE("difftest: model invariants hold along a long random stream", "[difftest]") {
    Generator g(2024);
    Model m;
    uint64_t faults = 0, resumes = 0, records = 0;
    for (int i = 0; i < 20000; i++) {
        Op op = g.next(m);
        if (op.kind == OpKind::Reload)
            faults = resumes = records = 0;
        // Records: injected ones and those access walks built
        auto built = [&m] {
            std::map<uint32_t, uint64_t> b;
            for (const auto& [sid, d] : m.devices())
                b[sid] =
                    d.stats[IOPF_STAT_A_ACCESS_FAULTS_L1] + d.stats[IOPF_STAT_A_ACCESS_FAULTS_L2];
            return b;
        };
        auto before = built();
        Outcome o = m.apply(op);
        records += op.recs.size();
        if (op.kind != OpKind::DevDel && op.kind != OpKind::Reload)
            for (const auto& [sid, n] : built())
                records += n - before[sid];
        for (const auto& e : o.events) {
            if (const auto* f = std::get_if<iopf::Fault>(&e))
                REQUIRE(*f->seq == ++faults); // global SEQ: delivered faults only, no gaps
            else if (const auto* r = std::get_if<iopf::Resume>(&e))
                REQUIRE(r->seq == ++resumes); // every RESUME
            else
                REQUIRE(std::get<iopf::Access>(e).ended()); // ACCESS_NTF: an end
        }
        REQUIRE(m.global()[IOPF_STAT_A_RECORDS] == records);
        for (const auto& [sid, d] : m.devices()) {
            const auto& s = d.stats;
            REQUIRE(s[IOPF_STAT_A_INJECTED] ==
                    s[IOPF_STAT_A_REPORTED] + s[IOPF_STAT_A_FILTERED_L1] +
                        s[IOPF_STAT_A_FILTERED_L2] + s[IOPF_STAT_A_FILTERED_UNRECOV] +
                        s[IOPF_STAT_A_NO_HANDLER] + s[IOPF_STAT_A_REPORT_FAILED]);
            REQUIRE(s[IOPF_STAT_A_PENDING] == d.pending.size());
            REQUIRE((d.registered || d.pending.empty()));
            REQUIRE((d.registered == (d.flags != 0)));
            // The access model's books
            uint64_t live = 0, stalled = 0, s1 = 0;
            for (const auto& [id, a] : d.accesses) {
                live += !a.ended();
                if (a.state == IOPF_ACCESS_STALLED) {
                    stalled++;
                    REQUIRE((a.stag && d.stags.count(*a.stag)));
                }
                REQUIRE(a.state != IOPF_ACCESS_RUNNING); // re-walks are done within the op
            }
            REQUIRE(live == d.live);
            REQUIRE(stalled == d.stags.size());
            REQUIRE(stalled == d.access_of.size()); // each waits on one pending request
            REQUIRE(s[IOPF_STAT_A_ACCESSES] == live + s[IOPF_STAT_A_ACCESS_COMPLETED] +
                                                   s[IOPF_STAT_A_ACCESS_ABORTED] +
                                                   s[IOPF_STAT_A_ACCESS_TERMINATED]);
            for (const auto& [pasid, t] : d.s1) {
                REQUIRE((!t.pages.empty() || t.ttb != IOPF_STAGE_TTB_DEFAULT));
                s1 += t.pages.size();
            }
            REQUIRE(s[IOPF_STAT_A_MAPPED_S1] == s1);
            REQUIRE(s[IOPF_STAT_A_MAPPED_S2] == d.s2.size());
        }
    }
}

// --- the model on hand-written streams -------------------------------------

TEST_CASE("difftest model: records nobody handles", "[difftest][model]") {
    Run r({Op::inject(rec(0x04, 0x10, true)),    // C_BAD_STE: not reported
           Op::inject(rec(0x10, 0x10, true, 3)), // no such device
           Op::dev_add(0x10),
           Op::inject(rec(0x10, 0x10, true, 3)), // no handler: page request aborted
           Op::inject(rec(0x12, 0x10, false)),   // no handler, unrecoverable: nothing
           Op::inject(rec(0xff, 0x99, false))});
    for (std::size_t i : {0, 1, 4, 5})
        CHECK(r.out[i].events.empty());
    const auto& a = resume(r.out[3]);
    CHECK(a.seq == 1);
    CHECK(a.sid == 0x10);
    CHECK(a.stag == 3);
    CHECK(a.resp == IOPF_RESUME_ABORT);
    CHECK(a.code == IOPF_RESP_FAILURE);
    CHECK(a.origin == IOPF_ORIGIN_REPORT_FAILED);
    CHECK(a.cmd[0] == (0x44 | (2ULL << 12) | (0x10ULL << 32)));
    CHECK(a.cmd[1] == 3);
    auto g = r.m.global();
    CHECK(g[IOPF_STAT_A_RECORDS] == 5);
    CHECK(g[IOPF_STAT_A_UNHANDLED_EVENT] == 2);
    CHECK(g[IOPF_STAT_A_UNKNOWN_SID] == 1);
    CHECK(g[IOPF_STAT_A_DEVICES] == 1);
    CHECK(g[IOPF_STAT_A_FAULT_SEQ] == 0);
    CHECK(g[IOPF_STAT_A_RESUME_SEQ] == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_INJECTED) == 2);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_NO_HANDLER) == 2);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_AUTO_ABORTS) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_PENDING) == 0);
}

TEST_CASE("difftest model: delivery, filtering and every fault field", "[difftest][model]") {
    Run r(
        {Op::dev_add(0x10), Op::reg(0x10, kNestedL1),
         Op::inject(rec(0x10, 0x10, true, 7, false, 0x42, 0xabc000)), // L1 page request: delivered
         Op::inject(rec(0x11, 0x10, true, 8, true, std::nullopt, 0x5000,
                        0xfff0000080001fffULL)), // L2: filtered, aborted
         Op::inject(rec(0x13, 0x10, false)),     // unrecoverable, no opt-in
         Op::update(0x10, ~0U, IOPF_REPORT_NESTED_L2_CONCERNED | IOPF_REPORT_UNRECOV),
         Op::inject(rec(0x11, 0x10, true, 8, true, std::nullopt, 0x5000,
                        0xfff0000080001fffULL)), // L2: delivered
         Op::inject(rec(0x13, 0x10, false, 0, false, 9)),
         Op::update(0x10, ~IOPF_REPORT_NESTED_L1_CONCERNED, 0),
         Op::inject(rec(0x10, 0x10, false))}); // L1 unrecoverable: filtered L1
    const auto& f = fault(r.out[2]);
    CHECK(*f.seq == 1);
    CHECK(*f.dev_seq == 1);
    CHECK(f.sid == 0x10);
    CHECK(f.event_id == 0x10);
    CHECK(f.fault->type == IOPF_FAULT_PAGE_REQ);
    CHECK(f.fault->level == 1);
    CHECK(f.fault->flags == (IOPF_PRQ_LAST_PAGE | IOPF_PRQ_PASID_VALID));
    CHECK(f.fault->pasid == 0x42);
    CHECK(f.fault->grpid == 7);
    CHECK(f.fault->perm == IOPF_PERM_READ);
    CHECK(f.fault->addr == 0xabc000);
    CHECK(*f.record == rec(0x10, 0x10, true, 7, false, 0x42, 0xabc000));
    const auto& ab = resume(r.out[3]);
    CHECK((ab.origin == IOPF_ORIGIN_REPORT_FAILED && ab.stag == 8 && ab.seq == 1));
    CHECK(r.out[4].events.empty());
    const auto& f2 = fault(r.out[6]);
    CHECK(*f2.seq == 2);
    CHECK(f2.fault->level == 2);
    CHECK(f2.fault->flags == (IOPF_PRQ_LAST_PAGE | IOPF_PRQ_L2));
    CHECK(f2.fault->addr == 0x80001000); // the IPA in place, bits 51:12
    const auto& f3 = fault(r.out[7]);
    CHECK(*f3.seq == 3);
    CHECK(f3.fault->type == IOPF_FAULT_DMA_UNRECOV);
    CHECK(f3.fault->reason == IOPF_REASON_PERMISSION);
    CHECK(f3.fault->flags == (IOPF_UNRECOV_ADDR_VALID | IOPF_UNRECOV_PASID_VALID));
    CHECK(r.out[8].err == 0);
    CHECK(r.out[9].events.empty());
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_INJECTED) == 6);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_REPORTED) == 3);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_FILTERED_L1) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_FILTERED_L2) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_FILTERED_UNRECOV) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_AUTO_ABORTS) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_PENDING) == 2);
    CHECK(r.m.device(0x10)->flags == (kNestedL2 | IOPF_REPORT_UNRECOV));
}

TEST_CASE("difftest model: responses match the first pending grpid, PASID aside",
          "[difftest][model]") {
    Run r({Op::dev_add(0x10), Op::reg(0x10, IOPF_REPORT_FLAT),
           Op::inject(rec(0x10, 0x10, true, 5, false, 1)), // seq 1, pasid 1
           Op::inject(rec(0x10, 0x10, true, 6)),           // seq 2
           Op::inject(rec(0x10, 0x10, true, 5, false, 2)), // seq 3, pasid 2
           Op::respond(0x10, 5, 2, IOPF_RESP_SUCCESS),     // answers seq 1 anyway
           Op::respond(0x10, 9, std::nullopt, IOPF_RESP_SUCCESS),
           Op::respond(0x11, 5, std::nullopt, IOPF_RESP_SUCCESS),
           Op::respond(0x10, 6, std::nullopt, IOPF_RESP_INVALID)});
    const auto& a = resume(r.out[5]);
    CHECK((a.seq == 1 && a.stag == 5 && a.code == IOPF_RESP_SUCCESS &&
           a.resp == IOPF_RESUME_RETRY && a.origin == IOPF_ORIGIN_RESPONSE));
    CHECK(a.cmd[0] == (0x44 | (1ULL << 12) | (0x10ULL << 32)));
    CHECK(r.out[6].err == EINVAL);
    CHECK(r.out[7].err == ENODEV);
    CHECK(resume(r.out[8]).resp == IOPF_RESUME_ABORT);
    const DevState* d = r.m.device(0x10);
    REQUIRE(d->pending.size() == 1);
    CHECK(*d->pending[0].seq == 3);
    CHECK(d->pending[0].fault->pasid == 2);
    CHECK(d->stats[IOPF_STAT_A_RESPONSES] == 2);
    CHECK(d->stats[IOPF_STAT_A_RESPONSE_ERRORS] == 1);
}

TEST_CASE("difftest model: policy errors come first and count nothing", "[difftest][model]") {
    Run r(
        {Op::respond(0x10, 0x10000, std::nullopt, 0), // unknown device, but the policy speaks first
         Op::respond(0x10, 0, 0x100000, 0), Op::respond(0x10, 0, std::nullopt, 3),
         Op::reg(0x10, 0x20), Op::update(0x10, ~0U, 0x20),
         Op::reg(0x10, kNestedL1), // now the device is missing
         Op::dev_add(0x10),
         Op::respond(0x10, 0, std::nullopt, 0), // no handler: ENODEV, not counted
         Op::reg(0x10, IOPF_REPORT_NESTED),     // invalid set
         Op::update(0x10, ~0U, 0),              // no handler
         Op::unreg(0x10), Op::reg(0x10, kNestedL1),
         Op::reg(0x10, IOPF_REPORT_FLAT | IOPF_REPORT_NESTED), // invalid beats busy
         Op::reg(0x10, kNestedL2),                             // busy
         Op::update(0x10, 0, IOPF_REPORT_NESTED),              // would leave NESTED alone
         Op::respond(0x10, 0, std::nullopt, 0),                // nothing pending
         Op::dev_add(0x10)});
    const int want[] = {ERANGE, ERANGE, ERANGE, EINVAL, EINVAL, ENODEV, 0,      ENODEV, EINVAL,
                        ENODEV, ENODEV, 0,      EINVAL, EBUSY,  EINVAL, EINVAL, EEXIST};
    for (std::size_t i = 0; i < std::size(want); i++) {
        INFO("op " << i + 1);
        CHECK(r.out[i].err == want[i]);
    }
    CHECK(r.m.device(0x10)->flags == kNestedL1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_RESPONSE_ERRORS) == 1);
}

TEST_CASE("difftest model: unregister, delete and flush", "[difftest][model]") {
    Run r({Op::dev_add(0x10), Op::dev_add(0x11), Op::reg(0x10, IOPF_REPORT_FLAT),
           Op::reg(0x11, IOPF_REPORT_FLAT), Op::inject(rec(0x10, 0x10, true, 4)),
           Op::inject(rec(0x10, 0x11, true, 1)), Op::inject(rec(0x10, 0x10, true, 2)),
           Op::inject(rec(0x10, 0x10, true, 4)),
           Op::unreg(0x10),   // EBUSY: pending
           Op::dev_del(0x10), // flushes 4, 2, 4 in list order
           Op::dev_del(0x10), Op::dev_add(0x10),
           Op::reg(0x10, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV),
           Op::inject(rec(0x10, 0x10, false)), // dev_seq starts over, seq goes on
           Op::respond(0x11, 1, std::nullopt, IOPF_RESP_SUCCESS), Op::unreg(0x11)});
    CHECK(r.out[8].err == EBUSY);
    const auto& fl = r.out[9].events;
    REQUIRE(fl.size() == 3);
    uint32_t stags[] = {4, 2, 4};
    for (std::size_t i = 0; i < 3; i++) {
        const auto& x = std::get<iopf::Resume>(fl[i]);
        CHECK(x.seq == i + 1);
        CHECK(x.stag == stags[i]);
        CHECK(x.origin == IOPF_ORIGIN_FLUSH);
        CHECK(x.code == IOPF_RESP_FAILURE);
    }
    CHECK(r.out[10].err == ENODEV);
    const auto& f = fault(r.out[13]);
    CHECK(*f.seq == 5);
    CHECK(*f.dev_seq == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_INJECTED) == 1); // a new device, new counters
    CHECK(resume(r.out[14]).seq == 4);
    CHECK(r.out[15].err == 0);
    CHECK(r.m.global()[IOPF_STAT_A_RECORDS] == 5);
    CHECK(r.m.global()[IOPF_STAT_A_DEVICES] == 2);
}

TEST_CASE("difftest model: a burst in one write, in order", "[difftest][model]") {
    std::vector<iopf::Record> burst;
    for (uint32_t i = 0; i < 40; i++)
        burst.push_back(rec(0x10, i % 3 == 2 ? 0x11 : 0x10, true, i));
    Run r({Op::dev_add(0x10), Op::dev_add(0x11), Op::reg(0x10, IOPF_REPORT_FLAT),
           Op::inject(burst, true)});
    // 0x10's requests are reported, 0x11's (no handler) aborted, interleaved.
    const auto& ev = r.out[3].events;
    REQUIRE(ev.size() == 40);
    uint64_t seq = 0, rseq = 0;
    for (uint32_t i = 0; i < 40; i++) {
        if (i % 3 == 2) {
            CHECK(std::get<iopf::Resume>(ev[i]).stag == i);
            CHECK(std::get<iopf::Resume>(ev[i]).seq == ++rseq);
        } else {
            CHECK(std::get<iopf::Fault>(ev[i]).fault->grpid == i);
            CHECK(*std::get<iopf::Fault>(ev[i]).seq == ++seq);
        }
    }
    CHECK(r.m.global()[IOPF_STAT_A_RECORDS] == 40);
}

TEST_CASE("difftest model: a reload starts everything over", "[difftest][model]") {
    Run r({Op::dev_add(0x10), Op::reg(0x10, IOPF_REPORT_FLAT), Op::inject(rec(0x10, 0x10, true, 1)),
           Op::inject(rec(0x10, 0x10, true, 2)), Op::reload(), Op::dev_add(0x10),
           Op::reg(0x10, IOPF_REPORT_FLAT), Op::inject(rec(0x10, 0x10, true, 3)),
           Op::dev_del(0x10)});
    CHECK(r.out[4].events.empty()); // the family is gone before the flush
    CHECK(*fault(r.out[7]).seq == 1);
    CHECK(resume(r.out[8]).seq == 1);
    CHECK(r.m.global()[IOPF_STAT_A_RECORDS] == 1);
    CHECK(r.m.global()[IOPF_STAT_A_DEVICES] == 0);
}

const iopf::Access& access_ntf(const Outcome& o, std::size_t i) {
    REQUIRE(o.events.size() > i);
    REQUIRE(std::holds_alternative<iopf::Access>(o.events[i]));
    return std::get<iopf::Access>(o.events[i]);
}

TEST_CASE("difftest model: a nested access walks both stages, as stages.md says",
          "[difftest][model]") {
    // IOVA 0x201000 (second 2 MiB block): descriptor at TTB + 4 KiB.
    constexpr uint64_t kIova = 0x201000, kTable = IOPF_STAGE_TTB_DEFAULT + 0x1000,
                       kIpa = 0x80005000;
    const uint32_t all = kNestedL1 | IOPF_REPORT_NESTED_L2_CONCERNED;
    Run r({Op::dev_add(0x10), Op::reg(0x10, all), Op::stage_mode(0x10, IOPF_STAGE_MODE_NESTED),
           Op::access(0x10, 1u, kIova, 0x10, IOPF_PERM_READ | IOPF_PERM_WRITE, true), // 3
           Op::respond(0x10, 0, std::nullopt, IOPF_RESP_SUCCESS), // 4: nothing mapped
           Op::map(0x10, IOPF_STAGE_2, std::nullopt, kTable, 0x100000000, 0x1000, IOPF_PERM_READ),
           Op::respond(0x10, 1, std::nullopt, IOPF_RESP_SUCCESS),                // 6: stage 1 now
           Op::map(0x10, IOPF_STAGE_1, 1u, kIova, kIpa, 0x1000, IOPF_PERM_READ), // read only
           Op::respond(0x10, 2, std::nullopt, IOPF_RESP_SUCCESS),                // 8: permission
           Op::unmap(0x10, IOPF_STAGE_1, 1u, kIova, 0x1000),
           Op::map(0x10, IOPF_STAGE_1, 1u, kIova, kIpa, 0x1000, IOPF_PERM_ALL),
           Op::respond(0x10, 3, std::nullopt, IOPF_RESP_SUCCESS), // 11: stage 2 of the IPA
           Op::map(0x10, IOPF_STAGE_2, std::nullopt, kIpa, 0x100001000, 0x1000, IOPF_PERM_ALL),
           Op::respond(0x10, 4, std::nullopt, IOPF_RESP_SUCCESS),      // 13: completes
           Op::unmap(0x10, IOPF_STAGE_2, std::nullopt, kIpa, 0x2000),  // 14: host reclaim
           Op::access(0x10, 1u, kIova, 0x10, IOPF_PERM_READ, false)}); // 15: faults, no stall
    for (std::size_t i = 0; i < r.out.size(); i++) {
        INFO("op " << i);
        CHECK(r.out[i].err == 0);
    }
    // The descriptor's fetch through stage 2: L2, CLASS TT (a translation
    // fault: no TTRnW, which SMMUv3 writes on F_PERMISSION only)
    const auto& f1 = fault(r.out[3]);
    CHECK(f1.fault->flags & IOPF_PRQ_L2);
    CHECK(f1.fault->addr == kTable);
    CHECK_FALSE((f1.record->at(1) & EVTQ_1_TT_READ));
    CHECK(FIELD_GET(EVTQ_1_CLASS, f1.record->at(1)) == IOPF_EVT_CLASS_TT);
    CHECK(f1.fault->grpid == 0);
    CHECK(r.out[3].access->state == IOPF_ACCESS_STALLED);
    CHECK(r.out[3].access->stag == 0u);
    CHECK(r.out[3].access->fault_seq == f1.seq);
    CHECK_FALSE(r.out[3].deferred);
    // RETRY with nothing mapped: the same fault again, a new STAG, on the workqueue
    CHECK(r.out[4].deferred);
    CHECK(resume(r.out[4]).resp == IOPF_RESUME_RETRY);
    CHECK(fault(r.out[4], 1).fault->addr == kTable);
    CHECK(fault(r.out[4], 1).fault->grpid == 1);
    // Stage 1 of the IOVA: L1, with the PASID
    const auto& f3 = fault(r.out[6], 1);
    CHECK_FALSE(f3.fault->flags & IOPF_PRQ_L2);
    CHECK(f3.fault->addr == kIova);
    CHECK(f3.fault->pasid == 1);
    CHECK(f3.event_id == EVT_ID_TRANSLATION_FAULT);
    // Mapped read-only, written: a permission fault at stage 1
    CHECK(fault(r.out[8], 1).event_id == EVT_ID_PERMISSION_FAULT);
    CHECK(*r.out[9].count == 1);
    // Stage 2 of the IPA stage 1 gave: L2 at the IPA, CLASS IN
    const auto& f5 = fault(r.out[11], 1);
    CHECK(f5.fault->flags & IOPF_PRQ_L2);
    CHECK(f5.fault->addr == kIpa);
    CHECK(FIELD_GET(EVTQ_1_CLASS, f5.record->at(1)) == IOPF_EVT_CLASS_IN);
    // Completed: RESUME, then the ACCESS_NTF
    const auto& done = access_ntf(r.out[13], 1);
    CHECK(done.state == IOPF_ACCESS_COMPLETED);
    CHECK(done.faults == 5);
    CHECK(done.faults_l1 == 2);
    CHECK(done.faults_l2 == 3);
    CHECK(done.retries == 5);
    CHECK(done.done == 0x10);
    CHECK_FALSE(done.stag);
    // Reclaim: 1 page of the 2 was mapped; the next access faults at L2 and,
    // without Stall, terminates: the fault (delivered: no UNRECOV? filtered)
    CHECK(*r.out[14].count == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_MAPPED_S2) == 1);
    CHECK(r.out[15].access->state == IOPF_ACCESS_TERMINATED);
    CHECK(r.out[15].access->faults_l2 == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_FILTERED_UNRECOV) == 1); // no UNRECOV flag: not delivered
    CHECK(access_ntf(r.out[15], 0).state == IOPF_ACCESS_TERMINATED);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_ACCESS_COMPLETED) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_ACCESS_TERMINATED) == 1);
    CHECK(stat(r.m, 0x10, IOPF_STAT_A_ACCESS_FAULTS_L2) == 4);
}

TEST_CASE("difftest model: accesses end by abort, filter and flush", "[difftest][model]") {
    Run r({Op::dev_add(0x10), Op::stage_mode(0x10, IOPF_STAGE_MODE_S2),
           Op::access(0x10, std::nullopt, 0x3000, 0x1000, IOPF_PERM_READ, true), // 2: no handler
           Op::reg(0x10, kNestedL2),
           Op::access(0x10, std::nullopt, 0x3000, 0x1000, IOPF_PERM_READ, true), // 4: stalls
           Op::stage_mode(0x10, IOPF_STAGE_MODE_S1),                             // 5: EBUSY
           Op::respond(0x10, 1, std::nullopt, IOPF_RESP_INVALID),                // 6: aborts it
           Op::access(0x10, std::nullopt, 0x3000, 0x1000, IOPF_PERM_READ, true), // 7: stalls
           Op::access(0x10, 2u, 0x3000, 0x1000, IOPF_PERM_READ, true), // 8: S2 takes no PASID
           Op::dev_del(0x10)});                                        // 9: flush
    // No handler: the driver aborts it before the reply
    CHECK(resume(r.out[2]).origin == IOPF_ORIGIN_REPORT_FAILED);
    CHECK(access_ntf(r.out[2], 1).state == IOPF_ACCESS_ABORTED);
    CHECK(r.out[2].access->state == IOPF_ACCESS_ABORTED);
    CHECK(r.out[4].access->stag == 1u); // the cyclic cursor moved past 0
    CHECK(r.out[5].err == EBUSY);
    CHECK(access_ntf(r.out[6], 1).state == IOPF_ACCESS_ABORTED);
    CHECK(r.out[8].err == EINVAL);
    CHECK(resume(r.out[9]).origin == IOPF_ORIGIN_FLUSH);
    CHECK(access_ntf(r.out[9], 1).state == IOPF_ACCESS_ABORTED);
    CHECK(access_ntf(r.out[9], 1).id == 3);
}

TEST_CASE("difftest: access-model ops format and parse back", "[difftest]") {
    for (const Op& op :
         {Op::stage_mode(0x10, IOPF_STAGE_MODE_NESTED), Op::stage_mode(0x10, 9),
          Op::map(0x10, 1, 3u, 0x1000, 0x80000000, 0x2000, IOPF_PERM_READ | IOPF_PERM_PRIV),
          Op::map(0x10, 0, std::nullopt, 0x1800, 0x0, 0, 0x30),
          Op::unmap(0x7f, 2, std::nullopt, 0x80000000, 0x8000), Op::ttb(0x10, 2u, 0x40200000),
          Op::ttb(0x10, std::nullopt, 8),
          Op::access(0x10, std::nullopt, 0x1234, 1, IOPF_PERM_WRITE, true),
          Op::access(0x11, 0x100005u, 0x0, 0x3000, 0, false)}) {
        INFO(format_op(op));
        CHECK(parse_op(format_op(op)) == op);
    }
    CHECK(format_op(Op::access(0x10, 1u, 0x1000, 0x10, IOPF_PERM_READ | IOPF_PERM_WRITE, true)) ==
          "access 0x10 pasid=0x1 0x1000 0x10 perm=rw stall=1");
    CHECK_THROWS_AS(parse_op("access 0x10 pasid=- 0x1000 0x10 perm=rq stall=1"), iopf::ParseError);
    CHECK_THROWS_AS(parse_op("access 0x10 pasid=- 0x1000 0x10 perm=r stall=2"), iopf::ParseError);
    CHECK_THROWS_AS(parse_op("map 0x10 1 0x1000 0x2000 0x1000 perm=r"), iopf::ParseError);
}

TEST_CASE("difftest: event comparison names the fields that differ", "[difftest]") {
    Run r(
        {Op::dev_add(0x10), Op::reg(0x10, IOPF_REPORT_FLAT), Op::inject(rec(0x10, 0x10, true, 1))});
    Event want = fault(r.out[2]);
    auto got = std::get<iopf::Fault>(want);
    got.timestamp_ns = 12345; // not compared
    CHECK(diff_events(want, got).empty());
    got.fault->addr >>= 12;
    got.dev_seq = 9;
    auto d = diff_events(want, got);
    REQUIRE(d.size() == 2);
    CHECK(d[0] == "DEV_SEQ: expected 1, got 9");
    CHECK(d[1] == "ADDR: expected 0x1000, got 0x1");
    iopf::Resume res;
    CHECK(diff_events(want, res).size() == 1);
    CHECK(format_event(want).rfind("FAULT seq=1 dev_seq=1 sid=0x10 event=0x10 page_req L1", 0) ==
          0);
}

// --- the minimiser ---------------------------------------------------------

TEST_CASE("difftest: delta debugging keeps what the failure needs", "[difftest]") {
    auto ops = generate(3, 500);
    const Op a = Op::dev_add(0x4242), b = Op::dev_del(0x4242);
    ops.insert(ops.begin() + 100, a);
    ops.insert(ops.begin() + 400, b);
    // "Fails" when a comes before b.
    auto fails = [&](const std::vector<Op>& v) {
        auto ia = std::find(v.begin(), v.end(), a);
        return ia != v.end() && std::find(ia, v.end(), b) != v.end();
    };
    unsigned tests = 0;
    auto small = minimize(ops, fails, 10000, 60, &tests);
    CHECK(small == std::vector<Op>{a, b});
    CHECK(tests > 0);
    // A budget stops it early, with a stream that still fails.
    auto partial = minimize(ops, fails, 5, 60);
    CHECK(fails(partial));
    CHECK(partial.size() < ops.size());
}

// --- iopfctl script, without a module --------------------------------------

TEST_CASE("difftest: iopfctl script is registered and checks its file first", "[difftest][cli]") {
    std::ostringstream out, err;
    iopfctl::Io io{out, err};
    CHECK(iopfctl::run({"script", "--help"}, io) == 0);
    CHECK(out.str().find("respond SID grpid=N") != std::string::npos);
    CHECK(iopfctl::run({"script"}, io) == 2);
    CHECK(iopfctl::run({"script", "/nonexistent/stream.txt"}, io) == 1);
    char name[] = "/tmp/iopf_script_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    const std::string text = "dev_add 0x10\nfrobnicate 1\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    std::ostringstream e2;
    iopfctl::Io io2{out, e2};
    CHECK(iopfctl::run({"script", name}, io2) == 1); // a parse error, before any module access
    CHECK(e2.str().find(std::string(name) + ":2: unknown op 'frobnicate'") != std::string::npos);
    unlink(name);
}
