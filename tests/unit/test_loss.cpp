// SPDX-License-Identifier: GPL-2.0
// Loss accounting: SEQ gap detection, the books of LossLedger (gaps, the
// tail at a sync point, recoveries by resync, late arrivals) and the summary
// built from the store.
#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "iopf/seq_tracker.hpp"
#include "iopf/summary.hpp"

using namespace iopf;

TEST_CASE("seq: in-order faults have no gaps", "[loss]") {
    SeqTracker t;
    CHECK(t.feed(5) == 0); // a late listener: the first seq is the baseline
    CHECK(t.feed(6) == 0);
    CHECK(t.feed(7) == 0);
    CHECK(*t.last() == 7);
}

TEST_CASE("seq: gaps are counted, duplicates are not", "[loss]") {
    SeqTracker t;
    t.restart(); // fresh module: SEQ starts at 1
    CHECK(t.feed(3) == 2);
    CHECK(t.feed(4) == 0);
    CHECK(t.feed(10) == 5);
    CHECK(t.feed(9) == 0); // late/duplicate: not a gap, no rewind
    CHECK(*t.last() == 10);
    CHECK(t.feed(11) == 0);
    t.reset();
    CHECK_FALSE(t.last());
    CHECK(t.feed(100) == 0);
}

TEST_CASE("summary: counts faults, responses and loss from store lines", "[loss]") {
    Summary s;
    auto line = [](const char* text) { return Json::parse(text); };
    s.add_store_line(line(
        R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x1000","reason":null})"));
    s.add_store_line(line(
        R"({"kind":"fault","seq":2,"sid":16,"event_id":19,"event":"F_PERMISSION","handled":true,"type":"unrecov","level":"L1","flags":["addr_valid"],"pasid":null,"grpid":null,"perm":["write"],"addr":"0x2000","reason":"permission","resynced":true})"));
    s.add_store_line(line(R"({"kind":"response","ok":true,"code":"success"})"));
    s.add_store_line(line(R"({"kind":"response","ok":false,"code":"invalid"})"));
    s.add_store_line(line(R"({"kind":"resume","seq":1})"));
    s.add_store_line(line(R"({"kind":"loss","what":"overflow"})"));
    s.add_store_line(line(R"({"kind":"loss","what":"gap","seq":9,"missing":4})"));
    s.add_store_line(line(R"({"kind":"fault","sid":"bad"})"));
    s.add_store_line(line(R"({"no":"kind"})"));
    s.add_store_line(line(R"({"kind":"daemon","event":"start"})"));
    CHECK(s.faults == 2);
    CHECK(s.resynced == 1);
    CHECK(s.devices[16].page_req == 1);
    CHECK(s.devices[16].unrecov == 1);
    CHECK(s.devices[16].l1 == 1);
    CHECK(s.devices[16].l2 == 1);
    CHECK(s.events["F_PERMISSION"] == 1);
    CHECK(s.responses["success"] == 1);
    CHECK(s.response_errors == 1);
    CHECK(s.resumes == 1);
    CHECK(s.overflows == 1);
    CHECK(s.gap_events == 1);
    CHECK(s.missing == 4);
    CHECK(s.malformed == 2);
    Json j = s.to_json();
    CHECK(j.at("loss").at("missing").as_u64() == 4);
    CHECK(s.to_text().find("1 overflows (ENOBUFS), 1 seq gaps covering 4 faults") !=
          std::string::npos);
    s.add_store_line(line(R"({"kind":"loss","what":"resume_gap","seq":3,"missing":2})"));
    CHECK(s.resume_missing == 2);
    CHECK(s.malformed == 2);
}

// ---- LossLedger: the exact books ------------------------------------------

namespace {

// Every SEQ after the baseline is in exactly one bucket; lost == holes.
void check_books(const LossLedger& l, uint64_t handed_out, uint64_t stored) {
    INFO("missing " << l.missing() << " recovered " << l.recovered() << " late " << l.late());
    CHECK(l.lost() == l.holes());
    CHECK(handed_out == stored + l.lost());
}

} // namespace

TEST_CASE("ledger: a gap, then a dump recovers what is still pending", "[loss]") {
    LossLedger l;
    l.start(0);
    CHECK(l.notified(1).gap == 0);
    auto fed = l.notified(5); // 2, 3, 4 dropped
    CHECK(fed.gap == 3);
    CHECK(fed.recovered == 0);
    CHECK(l.gap_missing() == 3);
    CHECK(l.is_hole(3));
    // The dump has 3 (a page request still pending) and 1 (seen already).
    CHECK(l.resynced(3));
    CHECK_FALSE(l.resynced(1));
    CHECK_FALSE(l.is_hole(3));
    CHECK(l.recovered() == 1);
    CHECK(l.lost() == 2); // 2 and 4: unrecoverable, or answered before the dump
    check_books(l, 5, /*1, 5 notified + 3 resynced*/ 3);
}

TEST_CASE("ledger: a dump ahead of the stream is recovered by the gap that covers it", "[loss]") {
    LossLedger l;
    l.start(10);
    l.notified(11);
    // Resync while the burst goes on: 13 and 15 pending, not reached yet.
    CHECK_FALSE(l.resynced(13));
    CHECK_FALSE(l.resynced(15));
    CHECK(l.ahead() == 2);
    auto fed = l.notified(17); // 12..16 dropped
    CHECK(fed.gap == 5);
    CHECK(fed.recovered == 2);
    CHECK(l.ahead() == 0);
    CHECK(l.lost() == 3);
    CHECK(l.is_hole(12));
    CHECK_FALSE(l.is_hole(13));
    CHECK(l.is_hole(14));
    CHECK_FALSE(l.is_hole(15));
    CHECK(l.is_hole(16));
    check_books(l, 7, /*11, 17 + 13, 15*/ 4);
}

TEST_CASE("ledger: a dump ahead whose notification arrives is not counted twice", "[loss]") {
    LossLedger l;
    l.start(0);
    CHECK_FALSE(l.resynced(2));
    CHECK(l.notified(1).resynced == false);
    auto fed = l.notified(2);
    CHECK(fed.resynced); // the caller skips recording it again
    CHECK(fed.gap == 0);
    CHECK(l.ahead() == 0);
    check_books(l, 2, 2);
}

TEST_CASE("ledger: overflow at the end of a burst is only seen at the sync point", "[loss]") {
    LossLedger l;
    l.start(0);
    for (uint64_t s = 1; s <= 100; s++)
        l.notified(s);
    // 101..160 dropped: no later notification, no gap.
    CHECK(l.missing() == 0);
    auto t = l.sync(160);
    CHECK(t.first == 101);
    CHECK(t.missing == 60);
    CHECK(t.recovered == 0);
    CHECK(l.tail_missing() == 60);
    CHECK(*l.last() == 160);
    // Half of them were page requests, still pending.
    for (uint64_t s = 101; s <= 160; s += 2)
        CHECK(l.resynced(s));
    CHECK(l.recovered() == 30);
    CHECK(l.lost() == 30);
    check_books(l, 160, 100 + 30);
    // A second sync with nothing new changes nothing.
    CHECK(l.sync(160).missing == 0);
    CHECK(l.sync(150).missing == 0);
    // The stream goes on after the tail without a false gap.
    CHECK(l.notified(161).gap == 0);
    check_books(l, 161, 131);
}

TEST_CASE("ledger: the tail skips what a dump already delivered", "[loss]") {
    LossLedger l;
    l.start(0);
    l.notified(1);
    CHECK_FALSE(l.resynced(3)); // dumped during the burst, dropped afterwards
    auto t = l.sync(4);
    CHECK(t.missing == 3);
    CHECK(t.recovered == 1);
    CHECK(l.lost() == 2);
    check_books(l, 4, 2);
}

TEST_CASE("ledger: a tail counted too early is taken back when it arrives", "[loss]") {
    LossLedger l;
    l.start(0);
    l.notified(1);
    l.notified(2);
    // STATS_GET said 5 while 3..5 sat in a batch not yet sent.
    CHECK(l.sync(5).missing == 3);
    CHECK(l.lost() == 3);
    auto fed = l.notified(3);
    CHECK(fed.late);
    CHECK(fed.gap == 0);
    CHECK(l.notified(4).late);
    CHECK(l.late() == 2);
    CHECK(l.lost() == 1);
    // Twice is a duplicate, not late again.
    CHECK_FALSE(l.notified(4).late);
    CHECK(l.late() == 2);
    check_books(l, 5, 4);
    CHECK(l.notified(5).late);
    check_books(l, 5, 5);
    CHECK(l.lost() == 0);
}

TEST_CASE("ledger: a recovered fault's notification arriving late is counted apart", "[loss]") {
    LossLedger l;
    l.start(0);
    l.notified(1);
    CHECK(l.sync(3).missing == 2); // 2..3 sat in a batch not yet sent
    CHECK(l.resynced(2));          // a page request: recovered from the dump
    auto fed = l.notified(2);      // and then its notification arrived
    CHECK_FALSE(fed.late);
    CHECK(fed.late_recovered);
    CHECK(l.late_recovered() == 1);
    CHECK(l.recovered() == 1);
    CHECK(l.lost() == 1);
    // Twice is a duplicate, not counted again.
    CHECK_FALSE(l.notified(2).late_recovered);
    CHECK(l.notified(3).late);
    CHECK(l.lost() == 0);
    check_books(l, 3, 3);
}

TEST_CASE("ledger: before the baseline is not loss", "[loss]") {
    LossLedger l;
    l.start(40);               // STATS_GET at subscribe: 40 faults reported before us
    auto fed = l.notified(38); // numbered before, sent after we joined
    CHECK(fed.gap == 0);
    CHECK_FALSE(fed.late);
    CHECK_FALSE(l.resynced(12)); // an old pending request: resynced, not recovered
    CHECK(l.ahead() == 0);
    CHECK(l.notified(41).gap == 0);
    CHECK(l.missing() == 0);
    CHECK(*l.base() == 40);
}

TEST_CASE("ledger: unknown baseline", "[loss]") {
    LossLedger l;
    l.start_unknown();
    CHECK_FALSE(l.last());
    CHECK_FALSE(l.resynced(7));    // before any notification: kept aside
    CHECK(l.notified(9).gap == 0); // the baseline; 7 is before it
    CHECK(l.ahead() == 0);
    CHECK(*l.base() == 8);
    CHECK(l.notified(12).gap == 2);

    LossLedger m;
    m.start_unknown();
    CHECK(m.sync(30).missing == 0); // no notification yet: the baseline
    CHECK(*m.base() == 30);
    CHECK(m.notified(33).gap == 2);
}

TEST_CASE("ledger: holes split and merge-free bookkeeping stays exact", "[loss]") {
    LossLedger l;
    l.start(0);
    l.notified(100); // 1..99 missing
    CHECK(l.holes() == 99);
    for (uint64_t s : {1, 99, 50, 51, 49, 2}) // edges and middles
        CHECK(l.resynced(s));
    CHECK_FALSE(l.resynced(50)); // no longer a hole
    CHECK(l.holes() == 93);
    CHECK(l.lost() == 93);
    CHECK_FALSE(l.is_hole(1));
    CHECK(l.is_hole(3));
    CHECK(l.is_hole(48));
    CHECK_FALSE(l.is_hole(51));
    CHECK(l.is_hole(52));
    CHECK(l.is_hole(98));
    CHECK_FALSE(l.is_hole(100));
}

// A simulated overloaded listener: the module numbers faults (a third page
// requests, the rest unrecoverable), the socket drops runs of them, the
// listener resyncs at random moments, answers the page requests it knows of,
// and syncs the tail when the burst is over; sometimes a sync comes while
// a batch is still unsent. Whatever the pattern, the books balance and what
// is lost is exactly the unrecoverable faults that were dropped.
TEST_CASE("ledger: simulated overload balances exactly", "[loss]") {
    uint64_t total_late = 0, total_recovered = 0, total_tail = 0, total_ahead_recovered = 0;
    for (unsigned seed = 1; seed <= 200; seed++) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        auto chance = [&](unsigned pct) { return rng() % 100 < pct; };
        LossLedger l;
        const uint64_t base = rng() % 5;
        l.start(base);
        uint64_t seq = base;
        std::set<uint64_t> page_reqs;
        std::set<uint64_t> pending; // page requests the module still holds
        std::set<uint64_t> stored;
        std::vector<uint64_t> in_flight; // numbered, not yet delivered
        uint64_t dropped_unrecov = 0;
        bool dropping = false;
        const unsigned n = 500 + rng() % 1500;

        auto deliver = [&](uint64_t s) {
            auto fed = l.notified(s);
            total_ahead_recovered += fed.recovered;
            if (!fed.resynced)
                stored.insert(s);
        };
        auto resync = [&]() {
            for (uint64_t s : pending) {
                if (stored.count(s))
                    continue;
                l.resynced(s);
                stored.insert(s);
            }
            // The listener answers what it knows of.
            for (auto it = pending.begin(); it != pending.end();)
                it = stored.count(*it) && chance(70) ? pending.erase(it) : std::next(it);
        };
        auto flush = [&]() {
            for (uint64_t s : in_flight) {
                if (dropping) {
                    if (!page_reqs.count(s))
                        dropped_unrecov++;
                } else {
                    deliver(s);
                }
            }
            in_flight.clear();
        };

        for (unsigned i = 0; i < n; i++) {
            ++seq;
            if (rng() % 3 == 0) {
                page_reqs.insert(seq);
                pending.insert(seq);
            }
            in_flight.push_back(seq);
            if (chance(10)) {
                if (chance(20))
                    dropping = !dropping; // overflow starts / reader empties the queue
                flush();
            }
            if (chance(2))
                resync();
            if (chance(1)) {
                // A sync point in the middle of a batch: counts the batch
                // missing, takes it back when it arrives.
                l.sync(seq);
            }
        }
        // The end of the burst, maybe inside a drop run (the tail).
        flush();
        l.sync(seq);
        resync();
        // Dropped page requests not recovered: answered before? They cannot
        // be (only known ones are answered), so every one is stored.
        uint64_t handed_out = seq - base;
        CHECK(l.lost() == l.holes());
        CHECK(handed_out == stored.size() + l.lost());
        CHECK(l.lost() == dropped_unrecov);
        total_late += l.late();
        total_recovered += l.recovered();
        total_tail += l.tail_missing();
    }
    // The simulation went through every path.
    CHECK(total_late > 0);
    CHECK(total_recovered > 0);
    CHECK(total_tail > 0);
    CHECK(total_ahead_recovered > 0);
}

TEST_CASE("summary: the books from store lines", "[loss]") {
    Summary s;
    auto line = [](const char* text) { return Json::parse(text); };
    const char* fault =
        R"({"kind":"fault","seq":%d,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x1000","reason":null%s})";
    auto fault_line = [&](int seq, const char* extra) {
        char buf[512];
        std::snprintf(buf, sizeof(buf), fault, seq, extra);
        return Json::parse(buf);
    };
    s.add_store_line(fault_line(1, ""));
    s.add_store_line(line(R"({"kind":"loss","what":"overflow"})"));
    s.add_store_line(fault_line(3, R"(,"resynced":true)")); // ahead of the stream
    s.add_store_line(line(R"({"kind":"loss","what":"gap","seq":6,"missing":4})"));
    s.add_store_line(line(R"({"kind":"loss","what":"gap_recovered","seq":6,"count":1})"));
    s.add_store_line(fault_line(6, ""));
    s.add_store_line(fault_line(4, R"(,"resynced":true,"recovered":true)"));
    s.add_store_line(line(R"({"kind":"loss","what":"tail","first":7,"missing":4,"recovered":0})"));
    s.add_store_line(line(R"({"kind":"loss","what":"late","seq":7})"));
    s.add_store_line(fault_line(7, ""));
    s.add_store_line(fault_line(9, R"(,"resynced":true,"recovered":true)"));
    s.add_store_line(line(R"({"kind":"loss","what":"resume_tail","first":3,"missing":2})"));
    s.add_store_line(line(R"({"kind":"loss","what":"resume_late","seq":3})"));
    CHECK(s.faults == 6);
    CHECK(s.resynced == 3);
    CHECK(s.missing == 4);
    CHECK(s.tail_missing == 4);
    CHECK(s.recovered == 3);
    CHECK(s.late == 1);
    CHECK(s.resume_missing == 2);
    CHECK(s.resume_late == 1);
    CHECK(s.malformed == 0);
    // 10 handed out = 6 stored + 4 lost (2, 5, 8, 10)
    CHECK(s.lost() == 4);
    CHECK(10 == s.faults + s.lost());
    Json j = s.to_json();
    CHECK(j.at("loss").at("lost").as_u64() == 4);
    CHECK(j.at("loss").at("tail_missing").as_u64() == 4);
    CHECK(j.dump().find(R"("loss":{"overflows":1,"gap_events":1,)") != std::string::npos);
    CHECK(s.to_text().find("4 missing at the tail, 3 recovered by resync, 1 arrived late: 4 "
                           "faults lost") != std::string::npos);
    // A tail line without its fields is malformed, not a crash.
    s.add_store_line(line(R"({"kind":"loss","what":"tail"})"));
    CHECK(s.malformed == 1);
}
