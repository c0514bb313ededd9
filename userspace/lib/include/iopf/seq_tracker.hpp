// SPDX-License-Identifier: GPL-2.0
// Detects gaps in the global fault SEQ (from 1, no gaps, per module load),
// and keeps the exact books of what a listener missed (LossLedger).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace iopf {

class SeqTracker {
  public:
    // Returns how many sequence numbers were skipped before `seq` (0 when
    // in order). A seq at or below the last one (a duplicate, or a resync
    // replay) counts as nothing and does not move the tracker back.
    uint64_t feed(uint64_t seq);
    // Unknown history (a listener joining late): the next seq is the baseline.
    void reset() { last_.reset(); }
    // A fresh family instance (module (re)loaded): SEQ starts at 1 again.
    void restart() { last_ = 0; }
    std::optional<uint64_t> last() const { return last_; }

  private:
    std::optional<uint64_t> last_;
};

// The books of one SEQ stream (faults, or RESUMEs) of one module instance,
// as one listener sees it. Every sequence number after the baseline ends up
// in exactly one of:
//   - notified:  its notification arrived;
//   - recovered: its notification never arrived, but the fault was taken
//                from a PENDING_GET dump (a page request still pending);
//   - lost:      counted missing and not recovered (an unrecoverable fault,
//                or a page request answered or flushed before the dump).
// "Missing" is found two ways: a jump in the SEQs that do arrive (a gap),
// and, at a sync point, the module's last handed-out SEQ (STATS_GET
// FAULT_SEQ) beyond the last one seen (the tail: a listener that overflowed
// at the end of a burst sees no later SEQ, hence no gap). A tail counted
// while a notification was still in flight is corrected when it arrives
// ("late"): the books stay exact, whatever the timing.
//
// So, for the faults handed out after the baseline:
//   handed_out = notified + resynced + lost
// where resynced counts every fault taken from a dump and not notified
// (recovered ones, and ones the dump delivered before their notification,
// which is then ignored).
class LossLedger {
  public:
    // Where the books start: sequence numbers up to `base` were handed out
    // before this listener joined (not its loss). 0: a fresh module.
    void start(uint64_t base);
    // Baseline unknown: the first notification (or sync) sets it.
    void start_unknown();

    struct Fed {
        uint64_t gap = 0;       // sequence numbers skipped before this one
        uint64_t recovered = 0; // of those, already taken from a dump
        bool late = false;      // was counted missing (a tail), arrived after all
        // Counted missing, then recovered from a dump, then its notification
        // arrived: the module did deliver it (its NOTIFY_LOST does not count
        // it), but the books already hold it as recovered.
        bool late_recovered = false;
        bool resynced = false;  // already taken from a dump: do not record it again
    };
    // A notification carried `seq`.
    Fed notified(uint64_t seq);

    // A fault with `seq` was taken from a PENDING_GET dump. True when it
    // fills a hole (a recovery); otherwise, if the stream has not reached it
    // yet, it is remembered so its notification or the hole covering it is
    // not counted twice.
    bool resynced(uint64_t seq);

    struct Tail {
        uint64_t first = 0;     // first sequence number counted missing
        uint64_t missing = 0;   // how many (0: nothing missing at the tail)
        uint64_t recovered = 0; // of those, already taken from a dump
    };
    // A sync point: the module handed out `last` last. Everything after the
    // last SEQ accounted for, up to it, is missing. Only call it with the
    // socket drained and nothing in flight (a tail counted too early is
    // corrected by notified() as "late", but is over-reported meanwhile).
    Tail sync(uint64_t last);

    // The highest SEQ accounted for (seen or counted missing).
    std::optional<uint64_t> last() const { return last_; }
    std::optional<uint64_t> base() const { return base_; }

    uint64_t gap_missing() const { return gap_missing_; }
    uint64_t tail_missing() const { return tail_missing_; }
    uint64_t missing() const { return gap_missing_ + tail_missing_; }
    uint64_t recovered() const { return recovered_; }
    uint64_t late() const { return late_; }
    uint64_t late_recovered() const { return late_recovered_; }
    // Missing, neither recovered nor arrived late: what is really gone.
    uint64_t lost() const { return missing() - recovered_ - late_; }
    // The same, counted from the holes themselves (a consistency check).
    uint64_t holes() const;
    bool is_hole(uint64_t seq) const;
    // Taken from a dump before the stream reached them.
    std::size_t ahead() const { return ahead_.size(); }

  private:
    // Marks (from, to] missing; returns how many of those were already
    // taken from a dump (they count as missing and recovered).
    uint64_t miss_range(uint64_t from, uint64_t to);
    bool take_hole(uint64_t seq);
    void remember_recovered(uint64_t seq);
    static constexpr std::size_t kRecoveredWindow = 65536;
    std::set<uint64_t> recovered_seqs_;

    std::optional<uint64_t> base_;
    std::optional<uint64_t> last_;
    std::map<uint64_t, uint64_t> holes_; // first -> last, disjoint, inclusive
    std::set<uint64_t> ahead_;
    uint64_t gap_missing_ = 0;
    uint64_t tail_missing_ = 0;
    uint64_t recovered_ = 0;
    uint64_t late_ = 0;
    uint64_t late_recovered_ = 0;
};

} // namespace iopf
