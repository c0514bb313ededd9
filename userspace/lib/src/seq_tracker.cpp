// SPDX-License-Identifier: GPL-2.0
#include "iopf/seq_tracker.hpp"

namespace iopf {

uint64_t SeqTracker::feed(uint64_t seq) {
    if (!last_) {
        last_ = seq;
        return 0;
    }
    if (seq <= *last_)
        return 0;
    uint64_t missing = seq - *last_ - 1;
    last_ = seq;
    return missing;
}

// ---- LossLedger ----------------------------------------------------------

void LossLedger::start(uint64_t base) {
    *this = LossLedger{};
    base_ = base;
    last_ = base;
}

void LossLedger::start_unknown() {
    *this = LossLedger{};
}

uint64_t LossLedger::miss_range(uint64_t from, uint64_t to) {
    uint64_t recovered = 0;
    uint64_t next = from + 1; // first seq of the range not yet placed
    auto it = ahead_.lower_bound(next);
    while (it != ahead_.end() && *it <= to) {
        if (*it > next)
            holes_.emplace(next, *it - 1);
        next = *it + 1;
        recovered++;
        remember_recovered(*it);
        it = ahead_.erase(it);
    }
    if (next <= to)
        holes_.emplace(next, to);
    recovered_ += recovered;
    return recovered;
}

// A recovered fault's notification can still arrive (it was in a batch
// being filled at the sync point). Only the newest are kept: a notification
// arrives within a batch or two of its sync point, not thousands later.
void LossLedger::remember_recovered(uint64_t seq) {
    recovered_seqs_.insert(seq);
    if (recovered_seqs_.size() > kRecoveredWindow)
        recovered_seqs_.erase(recovered_seqs_.begin());
}

bool LossLedger::take_hole(uint64_t seq) {
    auto it = holes_.upper_bound(seq);
    if (it == holes_.begin())
        return false;
    --it;
    auto [first, last] = *it;
    if (seq > last)
        return false;
    holes_.erase(it);
    if (first < seq)
        holes_.emplace(first, seq - 1);
    if (seq < last)
        holes_.emplace(seq + 1, last);
    return true;
}

LossLedger::Fed LossLedger::notified(uint64_t seq) {
    Fed r;
    if (!last_) {
        // The first notification is the baseline: dumps taken before it
        // and below it are outside the books.
        base_ = seq - 1;
        last_ = seq;
        r.resynced = ahead_.count(seq) > 0;
        ahead_.erase(ahead_.begin(), ahead_.upper_bound(seq));
        return r;
    }
    if (seq <= *last_) {
        // Counted missing at a sync point, in flight after all.
        if (take_hole(seq)) {
            late_++;
            r.late = true;
        } else if (recovered_seqs_.erase(seq)) {
            late_recovered_++;
            r.late_recovered = true;
        }
        return r;
    }
    if (uint64_t gap = seq - *last_ - 1) {
        r.recovered = miss_range(*last_, seq - 1);
        gap_missing_ += gap;
        r.gap = gap;
    }
    last_ = seq;
    r.resynced = ahead_.erase(seq) > 0;
    return r;
}

bool LossLedger::resynced(uint64_t seq) {
    if (take_hole(seq)) {
        recovered_++;
        remember_recovered(seq);
        return true;
    }
    if (!last_ || seq > *last_)
        ahead_.insert(seq);
    return false;
}

LossLedger::Tail LossLedger::sync(uint64_t last) {
    Tail t;
    if (!last_) {
        // Nothing seen yet and no baseline: this is the baseline.
        base_ = last;
        last_ = last;
        ahead_.erase(ahead_.begin(), ahead_.upper_bound(last));
        return t;
    }
    if (last <= *last_)
        return t;
    t.first = *last_ + 1;
    t.missing = last - *last_;
    t.recovered = miss_range(*last_, last);
    tail_missing_ += t.missing;
    last_ = last;
    return t;
}

uint64_t LossLedger::holes() const {
    uint64_t n = 0;
    for (const auto& [first, last] : holes_)
        n += last - first + 1;
    return n;
}

bool LossLedger::is_hole(uint64_t seq) const {
    auto it = holes_.upper_bound(seq);
    if (it == holes_.begin())
        return false;
    --it;
    return seq <= it->second;
}

} // namespace iopf
