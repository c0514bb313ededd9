// SPDX-License-Identifier: GPL-2.0
// The daemon's fast path: EventDispatcher on datagrams as recvmmsg returns
// them (several messages, several faults each, gaps, malformed nests), the
// reused FaultBatch, FaultLineWriter against the Json path it replaces,
// StoreWriter's buffer, and SeqRuns.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "iopf/attrs.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/json.hpp"
#include "iopf/nl_handles.hpp"
#include "iopf/seq_runs.hpp"
#include "iopf/store.hpp"
#include "temp_dir.hpp"

using namespace iopf;

namespace {

constexpr int kFamily = 0x1d;

// An unrecoverable fault nest (or a page request when grpid is given).
void put_fault(nl_msg* m, uint64_t seq, bool page_req = false, bool bad = false) {
    nlattr* n = nla_nest_start(m, IOPF_A_FAULT);
    REQUIRE(nla_put_u64(m, IOPF_FAULT_A_SEQ, seq) == 0);
    REQUIRE(nla_put_u64(m, IOPF_FAULT_A_DEV_SEQ, seq) == 0);
    REQUIRE(nla_put_u64(m, IOPF_FAULT_A_TIMESTAMP_NS, 1000 + seq) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_SID, 0x50) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_EVENT_ID, page_req ? 0x10 : 0x10) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_TYPE,
                        page_req ? IOPF_FAULT_PAGE_REQ : IOPF_FAULT_DMA_UNRECOV) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_LEVEL, bad ? 3 : 1) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_FLAGS, 0) == 0);
    REQUIRE(nla_put_u32(m, IOPF_FAULT_A_PERM, IOPF_PERM_READ | IOPF_PERM_WRITE) == 0);
    REQUIRE(nla_put_u64(m, IOPF_FAULT_A_ADDR, 0x100000000ull + seq * 0x1000) == 0);
    if (page_req)
        REQUIRE(nla_put_u32(m, IOPF_FAULT_A_GRPID, static_cast<uint32_t>(seq)) == 0);
    else
        REQUIRE(nla_put_u32(m, IOPF_FAULT_A_REASON, 0) == 0);
    nla_nest_end(m, n);
}

// A FAULT_NTF with the faults first..last (one bad nest at `bad`, if any).
nl::MsgPtr fault_ntf(uint64_t first, uint64_t last, uint64_t bad = 0) {
    nl::MsgPtr m(nlmsg_alloc_size(64 << 10));
    REQUIRE(m);
    REQUIRE(genlmsg_put(m.get(), 0, 0, kFamily, 0, 0, IOPF_CMD_FAULT_NTF, IOPF_GENL_VERSION));
    for (uint64_t s = first; s <= last; s++)
        put_fault(m.get(), s, s % 2 == 0, s == bad);
    return m;
}

// Messages laid end to end, as one datagram.
std::vector<unsigned char> datagram(const std::vector<nl::MsgPtr>& msgs) {
    std::vector<unsigned char> d;
    for (const auto& m : msgs) {
        const nlmsghdr* h = nlmsg_hdr(m.get());
        auto* p = reinterpret_cast<const unsigned char*>(h);
        d.insert(d.end(), p, p + NLMSG_ALIGN(h->nlmsg_len));
    }
    return d;
}

struct Sink : EventSink {
    std::vector<uint64_t> seqs;
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    std::vector<std::string> malformed;
    void on_fault(const Fault& f) override { seqs.push_back(*f.seq); }
    void on_resume(const Resume&) override {}
    void on_overflow() override {}
    void on_gap(uint64_t seq, uint64_t missing) override { gaps.emplace_back(seq, missing); }
    void on_resume_gap(uint64_t, uint64_t) override {}
    void on_malformed(const std::string& why) override { malformed.push_back(why); }
};

} // namespace

TEST_CASE("dispatch: every message of a datagram, every fault of a message, in order") {
    EventDispatcher d(false);
    d.set_family(kFamily);
    d.start_seq(0, 0);
    Sink s;
    std::vector<nl::MsgPtr> msgs;
    msgs.push_back(fault_ntf(1, 16));
    msgs.push_back(fault_ntf(17, 32));
    msgs.push_back(fault_ntf(33, 33));
    auto dg = datagram(msgs);
    CHECK(d.dispatch(dg.data(), dg.size(), s) == 3);
    REQUIRE(s.seqs.size() == 33);
    for (uint64_t i = 0; i < 33; i++)
        CHECK(s.seqs[i] == i + 1);
    CHECK(s.gaps.empty());
    CHECK(s.malformed.empty());
    CHECK(*d.ledger().last() == 33);

    // The next datagram skips 34..40: one gap of 7, counted once.
    std::vector<nl::MsgPtr> next;
    next.push_back(fault_ntf(41, 44));
    dg = datagram(next);
    CHECK(d.dispatch(dg.data(), dg.size(), s) == 1);
    REQUIRE(s.gaps.size() == 1);
    CHECK(s.gaps[0] == std::pair<uint64_t, uint64_t>(41, 7));
    CHECK(d.loss().missing == 7);
    d.sync(44, 0, s);
    CHECK(d.ledger().lost() == 7);
}

TEST_CASE("dispatch: another family's messages and a bad nest do not hide the good faults") {
    EventDispatcher d(false);
    d.set_family(kFamily);
    d.start_seq(0, 0);
    Sink s;
    std::vector<nl::MsgPtr> msgs;
    nl::MsgPtr other(nlmsg_alloc());
    REQUIRE(
        genlmsg_put(other.get(), 0, 0, kFamily + 1, 0, 0, IOPF_CMD_FAULT_NTF, IOPF_GENL_VERSION));
    msgs.push_back(std::move(other));
    msgs.push_back(fault_ntf(1, 4, 3)); // seq 3 has LEVEL 3
    auto dg = datagram(msgs);
    CHECK(d.dispatch(dg.data(), dg.size(), s) == 2);
    CHECK(s.seqs == std::vector<uint64_t>{1, 2, 4});
    CHECK(s.malformed.size() == 1);
    CHECK(d.loss().malformed == 1);
    // The bad nest's SEQ is a gap: its fault is not stored, and the books say so.
    REQUIRE(s.gaps.size() == 1);
    CHECK(s.gaps[0] == std::pair<uint64_t, uint64_t>(4, 1));
}

TEST_CASE("dispatch: trailing bytes and truncation are malformed, not silent") {
    EventDispatcher d(false);
    d.set_family(kFamily);
    d.start_seq(0, 0);
    Sink s;
    std::vector<nl::MsgPtr> msgs;
    msgs.push_back(fault_ntf(1, 2));
    auto dg = datagram(msgs);
    dg.resize(dg.size() + 8, 0); // shorter than a netlink header
    CHECK(d.dispatch(dg.data(), dg.size(), s) == 1);
    CHECK(s.seqs.size() == 2);
    CHECK(s.malformed.size() == 1);
    d.truncated(40000, s);
    CHECK(s.malformed.size() == 2);
    CHECK(d.loss().malformed == 2);
}

TEST_CASE("parse_fault_msg into a kept batch: cleared, capacity reused") {
    nl::FaultBatch b;
    auto m = fault_ntf(1, 64);
    nl::parse_fault_msg(nlmsg_hdr(m.get()), b);
    REQUIRE(b.faults.size() == 64);
    const Fault* data = b.faults.data();
    auto m2 = fault_ntf(65, 80);
    nl::parse_fault_msg(nlmsg_hdr(m2.get()), b);
    REQUIRE(b.faults.size() == 16);
    CHECK(*b.faults.front().seq == 65);
    CHECK(b.faults.data() == data); // no reallocation
    CHECK(b.errors.empty());
}

TEST_CASE("FaultLineWriter writes the bytes of the Json path") {
    auto json_line = [](const Fault& f, const std::string& action, bool resynced, bool recovered) {
        Json j = fault_to_json(f, {.report_flags = std::nullopt, .extra = true});
        Json line = Json::object();
        line.set("kind", "fault");
        for (const auto& [k, v] : j.as_object())
            line.set(k, v);
        line.set("action", action);
        line.set("resynced", resynced);
        if (recovered)
            line.set("recovered", true);
        return line.dump();
    };
    FaultLineWriter w;
    std::vector<Fault> faults;
    {
        nl::FaultBatch b;
        auto m = fault_ntf(1, 6);
        nl::parse_fault_msg(nlmsg_hdr(m.get()), b);
        faults = b.faults;
    }
    Fault pasid = faults[1];
    pasid.fault->flags = IOPF_PRQ_PASID_VALID | IOPF_PRQ_LAST_PAGE | IOPF_PRQ_L2;
    pasid.fault->pasid = 0x1234;
    pasid.fault->level = 2;
    pasid.record = Record{0x10, 0xffffffffffffffffull, 0, 0x80001000};
    faults.push_back(pasid);
    Fault unknown; // an event the driver does not report
    unknown.event_id = 0x7e;
    unknown.handled = false;
    faults.push_back(unknown);
    Fault unrecov = faults[0];
    unrecov.fault->flags = 0x7;
    unrecov.fault->reason = 5;
    unrecov.fault->perm = IOPF_PERM_ALL;
    faults.push_back(unrecov);
    // Hex of every digit count, odd and even (two digits per step inside).
    for (uint64_t addr : {0ull, 0x1ull, 0xfull, 0x10ull, 0xabcull, 0x1000ull, 0x12345ull,
                          0xffffffffull, 0x100000000ull, 0x8000000000000000ull, ~0ull}) {
        Fault h = faults[0];
        h.fault->addr = addr;
        h.record = Record{addr, addr >> 4, 0, 1};
        faults.push_back(h);
    }
    std::string out;
    for (const std::string action :
         {"record", "respond success,delay=5ms", "odd \"quoted\" \\ action\t"}) {
        for (const auto& f : faults) {
            for (int flags = 0; flags < 3; flags++) {
                out.clear();
                w.append(out, f, action, flags > 0, flags > 1);
                CHECK(out == json_line(f, action, flags > 0, flags > 1));
            }
        }
    }
}

TEST_CASE("StoreWriter: lines in order, written in blocks, kept when the write fails") {
    iopf_test::TempDir t;
    const std::string path = (t.path / "store.jsonl").string();
    std::string want;
    {
        StoreWriter w(path);
        w.append_raw(R"({"a":1})");
        // A line written in place, well within its bound
        w.append_with(64, [](char* at) {
            std::memcpy(at, R"({"b":2})", 7);
            return at + 7;
        });
        w.append(Json::parse(R"({"c":3})"));
        want = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
        CHECK(t.slurp("store.jsonl").empty()); // buffered
        w.flush();
        CHECK(t.slurp("store.jsonl") == want);
        // A burst past the block size goes out in blocks, before any flush
        const std::string line(399, 'x');
        for (std::size_t i = 0; i < 2 * StoreWriter::kBlock / 400; i++) {
            w.append_raw(line);
            want += line + '\n';
        }
        CHECK(t.slurp("store.jsonl").size() >= StoreWriter::kBlock);
    } // the destructor flushes the rest
    CHECK(t.slurp("store.jsonl") == want);

    // A write that fails: the error says so, and every later flush retries
    // (nothing was dropped from the buffer).
    StoreWriter full("/dev/full");
    full.append_raw(R"({"lost":false})");
    for (int i = 0; i < 2; i++) {
        try {
            full.flush();
            FAIL("a write to /dev/full succeeded");
        } catch (const Error& e) {
            CHECK(e.err() == ENOSPC);
        }
    }
}

TEST_CASE("SeqRuns: runs join, holes count, old numbers are forgotten") {
    SeqRuns r;
    for (uint64_t s = 1; s <= 100000; s++)
        REQUIRE(r.insert(s));
    CHECK(r.runs() == 1);
    CHECK(r.size() == 100000);
    CHECK_FALSE(r.insert(5));
    CHECK(r.contains(100000));
    CHECK_FALSE(r.contains(100001));
    CHECK_FALSE(r.contains(0));
    // A hole, filled from the right then the left, then joined.
    CHECK(r.insert(100005));
    CHECK(r.insert(100003));
    CHECK(r.insert(100004)); // 100003 becomes the run 100003..100005
    CHECK(r.runs() == 2);
    CHECK(r.insert(100002));
    CHECK(r.runs() == 2);
    CHECK(r.insert(100001));
    CHECK(r.runs() == 1);
    CHECK(r.size() == 100005);
    CHECK(r.insert(200000));
    CHECK(r.count_in(0, 1000000) == 100006);
    CHECK(r.count_in(99999, 100002) == 3);
    CHECK(r.count_in(100005, 199999) == 0);
    r.forget_below(50001);
    CHECK(r.size() == 50006);
    CHECK_FALSE(r.contains(50000));
    CHECK(r.contains(50001));
    CHECK(r.max() == 200000);
}
