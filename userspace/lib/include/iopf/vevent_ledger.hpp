// SPDX-License-Identifier: GPL-2.0
// The books of one iommufd vEVENTQ (Linux 6.15+; 7.2's
// drivers/iommu/iommufd/eventq.c, driver.c and iommufd_private.h
// iommufd_vevent_handler()), kept from the headers alone: feed it each
// struct iommufd_vevent_header in read order. Pure: no syscalls, no uAPI
// header (the constants are checked against it where it is built).
//
// What iommufd does, and so what the books assume:
//   - every event reported to the queue takes the queue's next sequence,
//     delivered or lost alike; a queue's sequence starts at 0 and steps by 1
//     masked with INT_MAX: after 2^31-1 comes 0 (31 bits, not 32);
//   - with `depth` events queued (or no memory for one), the event is lost:
//     the queue's one header-only entry {flags LOST_EVENTS, sequence of the
//     event just lost} is (re)queued at the tail. A later lost event moves it
//     (it keeps the latest lost sequence); a later delivered event that finds
//     it last in the list removes it (the delivered one then shows the loss
//     as a jump in the sequence);
//   - read(2) returns whole entries only, oldest first.
//
// So, with P the last sequence accounted for (seen, or counted lost) and
// E = P + 1 the one expected next (0 on a new queue), all modulo 2^31:
//   - an event with sequence E: in order;
//   - an event with sequence S != E: a gap, S - E events lost (E .. S-1);
//     the uAPI's documented rule ("delta - 1 number of vEVENTs has lost"),
//     and what the kernel produces when the tail header is superseded
//     (a reader slower than the producer). Counted lost AND reported as a
//     gap: never accepted silently;
//   - a LOST_EVENTS header with sequence S: the tail; E .. S lost, i.e.
//     S - P events (S - E + 1). A flood into a queue of depth 4: events
//     0..3, then a header with 99 (4..99 lost: 96), then event 100.
// A distance S - E (mod 2^31) above 2^30 is a sequence going backwards
// (a duplicate, or a reorder): the stream is inconsistent; it is counted
// as such, nothing is counted lost, and the books resynchronise on it
// (E = S + 1) so that one glitch is reported once. A sequence with bit 31
// set cannot come from iommufd (it masks with INT_MAX): inconsistent too,
// and ignored. The naming follows the netlink road's LossLedger (gap,
// tail, missing); nothing is recovered here (no vEVENT is pending
// anywhere to be dumped again), so lost == missing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace iopf {

class VeventLedger {
  public:
    // IOMMU_VEVENTQ_FLAG_LOST_EVENTS, and the sequence's mask (INT_MAX).
    static constexpr uint32_t kLostEvents = 1u << 0;
    static constexpr uint32_t kSeqMask = 0x7fffffffu;
    // Distances above this are a sequence going backwards.
    static constexpr uint32_t kMaxForward = 1u << 30;

    // `expected`: the first sequence the queue hands out (0 for a new
    // queue; the tests start near the wrap).
    explicit VeventLedger(uint32_t expected = 0) : expected_(expected & kSeqMask) {}

    enum class Kind : uint8_t {
        in_order,     // the expected event
        gap,          // an event after a jump: `lost` events before it lost
        tail,         // a LOST_EVENTS header: `lost` events lost up to it
        inconsistent, // backwards, a duplicate, or not a 31-bit sequence
    };
    struct Fed {
        Kind kind = Kind::in_order;
        uint64_t lost = 0;       // events this entry says were lost
        uint32_t first_lost = 0; // the first of them (mod 2^31), when lost
        uint32_t expected = 0;   // what was expected before this entry
        bool is_event = false;   // a data entry (not a header-only one)
        std::string why;         // for inconsistent
    };

    // One entry's header, in read order.
    Fed feed(uint32_t flags, uint32_t sequence) {
        Fed r;
        r.expected = expected_;
        const bool header_only = flags & kLostEvents;
        r.is_event = !header_only;
        if (r.is_event)
            received_++;
        else
            tails_++;
        if (sequence & ~kSeqMask) {
            r.kind = Kind::inconsistent;
            r.why = "sequence " + std::to_string(sequence) +
                    " is not 31 bits (iommufd masks with "
                    "INT_MAX)";
            inconsistent_++;
            return r;
        }
        const uint32_t d = (sequence - expected_) & kSeqMask;
        if (d > kMaxForward) {
            r.kind = Kind::inconsistent;
            r.why = "sequence " + std::to_string(sequence) + " is behind the expected " +
                    std::to_string(expected_) + (header_only ? " (a LOST_EVENTS header)" : "");
            inconsistent_++;
            expected_ = (sequence + 1) & kSeqMask; // resynchronised: reported once
            return r;
        }
        if (header_only) {
            r.kind = Kind::tail;
            r.lost = uint64_t(d) + 1;
            r.first_lost = expected_;
            tail_missing_ += r.lost;
        } else if (d) {
            r.kind = Kind::gap;
            r.lost = d;
            r.first_lost = expected_;
            gap_missing_ += r.lost;
            gaps_++;
        }
        last_ = sequence;
        expected_ = (sequence + 1) & kSeqMask;
        return r;
    }

    uint64_t received() const noexcept { return received_; } // data entries read
    uint64_t gap_missing() const noexcept { return gap_missing_; }
    uint64_t tail_missing() const noexcept { return tail_missing_; }
    uint64_t missing() const noexcept { return gap_missing_ + tail_missing_; }
    uint64_t lost() const noexcept { return missing(); } // nothing is recovered
    uint64_t gaps() const noexcept { return gaps_; }     // jumps without the flag
    uint64_t tails() const noexcept { return tails_; }   // LOST_EVENTS headers read
    uint64_t inconsistent() const noexcept { return inconsistent_; }
    // The last sequence accounted for, and the one expected next.
    std::optional<uint32_t> last() const noexcept { return last_; }
    uint32_t expected() const noexcept { return expected_; }
    // Sequences the queue handed out, as the books see them: the events
    // received plus the ones lost.
    uint64_t handed_out() const noexcept { return received_ + missing(); }

  private:
    uint32_t expected_;
    std::optional<uint32_t> last_;
    uint64_t received_ = 0;
    uint64_t gap_missing_ = 0;
    uint64_t tail_missing_ = 0;
    uint64_t gaps_ = 0;
    uint64_t tails_ = 0;
    uint64_t inconsistent_ = 0;
};

inline const char* vevent_kind_name(VeventLedger::Kind k) {
    switch (k) {
    case VeventLedger::Kind::in_order:
        return "in_order";
    case VeventLedger::Kind::gap:
        return "gap";
    case VeventLedger::Kind::tail:
        return "tail";
    case VeventLedger::Kind::inconsistent:
        return "inconsistent";
    }
    return "?";
}

} // namespace iopf
