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

} // namespace iopf
