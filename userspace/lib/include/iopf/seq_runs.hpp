// SPDX-License-Identifier: GPL-2.0
// A set of sequence numbers kept as runs of consecutive numbers: a stream
// without loss is one run, whatever its length, so the memory grows with
// the holes, not with the count. Inserting the successor of a run's last
// number (the common case) allocates nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace iopf {

class SeqRuns {
  public:
    bool contains(uint64_t seq) const {
        if (runs_.empty() || seq > runs_.rbegin()->second)
            return false; // the common case: a number newer than all
        auto it = runs_.upper_bound(seq);
        return it != runs_.begin() && std::prev(it)->second >= seq;
    }

    // False when `seq` was there already.
    bool insert(uint64_t seq) {
        // The common case first: the newest number, or one past all runs.
        if (!runs_.empty() && runs_.rbegin()->second < seq) {
            auto& newest = *runs_.rbegin();
            if (newest.second + 1 == seq)
                newest.second = seq;
            else
                runs_.emplace_hint(runs_.end(), seq, seq);
            count_++;
            return true;
        }
        auto next = runs_.upper_bound(seq); // the first run starting after seq
        if (next != runs_.begin()) {
            auto prev = std::prev(next);
            if (prev->second >= seq)
                return false;
            if (prev->second + 1 == seq) {
                prev->second = seq;
                if (next != runs_.end() && next->first == seq + 1) { // join the two runs
                    prev->second = next->second;
                    runs_.erase(next);
                }
                count_++;
                return true;
            }
        }
        if (next != runs_.end() && next->first == seq + 1) {
            auto node = runs_.extract(next); // re-keyed, not reallocated
            node.key() = seq;
            runs_.insert(std::move(node));
        } else {
            runs_.emplace_hint(next, seq, seq);
        }
        count_++;
        return true;
    }

    // How many numbers lie in (after, upto].
    uint64_t count_in(uint64_t after, uint64_t upto) const {
        uint64_t n = 0;
        for (const auto& [first, last] : runs_) {
            uint64_t lo = std::max(first, after + 1), hi = std::min(last, upto);
            if (lo <= hi)
                n += hi - lo + 1;
        }
        return n;
    }

    // Forget every number below `seq`.
    void forget_below(uint64_t seq) {
        while (!runs_.empty() && runs_.begin()->first < seq) {
            auto node = runs_.extract(runs_.begin());
            if (node.mapped() < seq) {
                count_ -= node.mapped() - node.key() + 1;
                continue;
            }
            count_ -= seq - node.key();
            node.key() = seq;
            runs_.insert(std::move(node));
            break;
        }
    }

    void clear() {
        runs_.clear();
        count_ = 0;
    }
    uint64_t size() const noexcept { return count_; }
    std::size_t runs() const noexcept { return runs_.size(); }
    uint64_t max() const { return runs_.empty() ? 0 : runs_.rbegin()->second; }

  private:
    std::map<uint64_t, uint64_t> runs_; // first -> last, disjoint, not adjacent
    uint64_t count_ = 0;
};

} // namespace iopf
