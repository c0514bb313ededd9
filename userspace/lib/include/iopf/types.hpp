// SPDX-License-Identifier: GPL-2.0
// The typed values the library hands out: faults, resumes, counters.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <iopf_testbed/fault_core.h>

namespace iopf {

using Record = std::array<uint64_t, IOPF_EVT_DWORDS>;

// One fault: from a notification, a PENDING_GET dump, the daemon's store, or
// an offline decode (then seq/dev_seq/timestamp are absent, and `fault` is
// absent when the event is one the driver does not report).
struct Fault {
    std::optional<uint64_t> seq;
    std::optional<uint64_t> dev_seq;
    std::optional<uint64_t> timestamp_ns;
    uint32_t sid = 0;
    uint32_t event_id = 0;
    bool handled = true;
    std::optional<iopf_fault> fault;
    std::optional<Record> record;

    bool has_pasid() const { return fault && iopf_fault_has_pasid(&*fault); }
    bool is_page_req() const { return fault && fault->type == IOPF_FAULT_PAGE_REQ; }
};

struct Resume {
    uint64_t seq = 0;
    uint32_t sid = 0;
    uint32_t stag = 0;
    uint32_t resp = 0;
    uint32_t code = 0;
    uint32_t origin = 0;
    std::array<uint64_t, 2> cmd{};
};

// Counters as the kernel sent them: (IOPF_STAT_A_*, value), in attribute order.
using Stats = std::vector<std::pair<int, uint64_t>>;

struct DevInfo {
    uint32_t sid = 0;
    bool registered = false;
    uint32_t flags = 0;
    // DEV_SET's settings; absent from a module older than DEV_SET.
    std::optional<uint32_t> pending_limit;
    std::optional<uint32_t> timeout_ms; // 0: no response timeout
    Stats stats;
};

} // namespace iopf
