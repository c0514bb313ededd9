// SPDX-License-Identifier: GPL-2.0
// Detects gaps in the global fault SEQ (from 1, no gaps, per module load).
#pragma once

#include <cstdint>
#include <optional>

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

} // namespace iopf
