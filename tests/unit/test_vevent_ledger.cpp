// SPDX-License-Identifier: GPL-2.0
// The vEVENTQ's books (iopf/vevent_ledger.hpp), from headers alone: no
// loss, a flood into a small queue, the 31-bit wrap, gaps without the flag,
// and sequences no iommufd can hand out.
#include <climits>
#include <cstdint>

#include <catch2/catch.hpp>

#include "iopf/vevent_ledger.hpp"

#ifdef IOPF_HAVE_IOMMUFD
#include <linux/iommufd.h>
#endif

using iopf::VeventLedger;
using Kind = VeventLedger::Kind;

namespace {
constexpr uint32_t kLost = VeventLedger::kLostEvents;
}

#ifdef IOPF_HAVE_IOMMUFD
#ifdef IOMMU_VEVENTQ_ALLOC
static_assert(VeventLedger::kLostEvents == IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
#endif
#endif
static_assert(VeventLedger::kSeqMask == INT_MAX);

TEST_CASE("vevent ledger: in order, nothing lost", "[vevent][loss]") {
    VeventLedger l;
    for (uint32_t s = 0; s < 1000; s++) {
        auto r = l.feed(0, s);
        REQUIRE(r.kind == Kind::in_order);
        REQUIRE(r.lost == 0);
        REQUIRE(r.is_event);
    }
    CHECK(l.received() == 1000);
    CHECK(l.lost() == 0);
    CHECK(l.gaps() == 0);
    CHECK(l.tails() == 0);
    CHECK(l.inconsistent() == 0);
    CHECK(l.last() == 999u);
    CHECK(l.expected() == 1000u);
    CHECK(l.handed_out() == 1000);
}

TEST_CASE("vevent ledger: a flood of 100 events into a queue of depth 4", "[vevent][loss]") {
    // iommufd queues 0..3, loses 4..99 (its one LOST_EVENTS header moved to
    // the tail each time, keeping the latest lost sequence), then delivers
    // 100 once the reader made room.
    VeventLedger l;
    for (uint32_t s = 0; s < 4; s++)
        REQUIRE(l.feed(0, s).kind == Kind::in_order);
    auto t = l.feed(kLost, 99);
    CHECK(t.kind == Kind::tail);
    CHECK_FALSE(t.is_event);
    CHECK(t.lost == 96);
    CHECK(t.first_lost == 4);
    auto n = l.feed(0, 100);
    CHECK(n.kind == Kind::in_order);
    CHECK(l.received() == 5);
    CHECK(l.tail_missing() == 96);
    CHECK(l.gap_missing() == 0);
    CHECK(l.lost() == 96);
    CHECK(l.tails() == 1);
    CHECK(l.handed_out() == 101); // sequences 0..100
    CHECK(l.inconsistent() == 0);
}

TEST_CASE("vevent ledger: a LOST_EVENTS header as the first entry", "[vevent][loss]") {
    VeventLedger l; // a new queue starts at 0: 0..7 lost
    auto t = l.feed(kLost, 7);
    CHECK(t.kind == Kind::tail);
    CHECK(t.lost == 8);
    CHECK(l.feed(0, 8).kind == Kind::in_order);
    // Two headers in a row (the reader took the first, more were lost):
    // only the new ones count.
    auto t2 = l.feed(kLost, 10);
    CHECK(t2.lost == 2); // 9, 10
    CHECK(l.lost() == 10);
    CHECK(l.received() == 1);
}

TEST_CASE("vevent ledger: the sequence wraps at 2^31, not 2^32", "[vevent][loss]") {
    VeventLedger l(INT_MAX - 1);
    CHECK(l.feed(0, INT_MAX - 1).kind == Kind::in_order);
    CHECK(l.feed(0, INT_MAX).kind == Kind::in_order);
    CHECK(l.expected() == 0u);
    CHECK(l.feed(0, 0).kind == Kind::in_order);
    CHECK(l.feed(0, 1).kind == Kind::in_order);
    CHECK(l.lost() == 0);
    CHECK(l.inconsistent() == 0);

    // A tail across the wrap: INT_MAX-1 seen, header 1: INT_MAX, 0, 1 lost.
    VeventLedger t(INT_MAX - 1);
    t.feed(0, INT_MAX - 1);
    auto h = t.feed(kLost, 1);
    CHECK(h.kind == Kind::tail);
    CHECK(h.lost == 3);
    CHECK(h.first_lost == uint32_t(INT_MAX));
    CHECK(t.feed(0, 2).kind == Kind::in_order);

    // A gap across the wrap.
    VeventLedger g(INT_MAX);
    g.feed(0, INT_MAX);
    auto r = g.feed(0, 2);
    CHECK(r.kind == Kind::gap);
    CHECK(r.lost == 2); // 0, 1

    // 2^31 and above never come from iommufd (it masks with INT_MAX): what
    // a 32-bit wrap would hand out after INT_MAX is refused.
    VeventLedger w(INT_MAX);
    w.feed(0, INT_MAX);
    auto bad = w.feed(0, 0x80000000u);
    CHECK(bad.kind == Kind::inconsistent);
    CHECK(bad.why.find("not 31 bits") != std::string::npos);
    CHECK(w.expected() == 0u); // ignored: 0 is still expected
    CHECK(w.feed(0, 0).kind == Kind::in_order);
}

TEST_CASE("vevent ledger: a gap without LOST_EVENTS is reported, never accepted silently",
          "[vevent][loss]") {
    // iommufd's uAPI counts delta - 1 lost, and its handler produces such a
    // jump when a delivered event supersedes the tail header (a reader
    // slower than the producer): counted lost, and reported as a gap.
    VeventLedger l;
    l.feed(0, 0);
    l.feed(0, 1);
    l.feed(0, 2);
    l.feed(0, 3);
    auto r = l.feed(0, 6);
    CHECK(r.kind == Kind::gap);
    CHECK(r.is_event);
    CHECK(r.lost == 2);
    CHECK(r.first_lost == 4);
    CHECK(r.expected == 4);
    CHECK(l.gaps() == 1);
    CHECK(l.gap_missing() == 2);
    CHECK(l.tail_missing() == 0);
    CHECK(l.lost() == 2);
    CHECK(l.received() == 5);
    CHECK(l.handed_out() == 7);

    // Backwards (a duplicate, a reorder) is what cannot happen: inconsistent,
    // nothing counted lost, reported once, the books resynchronised on it.
    auto d = l.feed(0, 6);
    CHECK(d.kind == Kind::inconsistent);
    CHECK(d.lost == 0);
    CHECK(d.why.find("behind the expected 7") != std::string::npos);
    auto b = l.feed(0, 3);
    CHECK(b.kind == Kind::inconsistent);
    CHECK(l.feed(0, 4).kind == Kind::in_order); // after the resync
    CHECK(l.inconsistent() == 2);
    CHECK(l.lost() == 2);

    // A LOST_EVENTS header not ahead of what was seen: inconsistent too.
    VeventLedger h;
    h.feed(0, 0);
    h.feed(0, 1);
    auto bh = h.feed(kLost, 1);
    CHECK(bh.kind == Kind::inconsistent);
    CHECK(bh.why.find("LOST_EVENTS") != std::string::npos);
    CHECK(h.lost() == 0);
}

TEST_CASE("vevent ledger: kind names", "[vevent]") {
    CHECK(std::string(iopf::vevent_kind_name(Kind::in_order)) == "in_order");
    CHECK(std::string(iopf::vevent_kind_name(Kind::gap)) == "gap");
    CHECK(std::string(iopf::vevent_kind_name(Kind::tail)) == "tail");
    CHECK(std::string(iopf::vevent_kind_name(Kind::inconsistent)) == "inconsistent");
}
