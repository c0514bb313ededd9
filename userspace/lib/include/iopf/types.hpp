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
    std::optional<iopf_model_fault> fault;
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
    // IOPF_STAGE_MODE_*, when the module reports it.
    std::optional<uint32_t> stage_mode;
    // Upstream's road (DEV_SET BRIDGE): whether the device is bridged (a
    // platform device of the module's mock IOMMU), absent from a module
    // without the bridge; while bound to an iommufd, its device id there,
    // and while attached, the id of its HWPT.
    std::optional<bool> bridged;
    std::optional<uint32_t> iommufd_dev_id;
    std::optional<uint32_t> iommufd_pt_id;
    Stats stats;
};

// One run of a stage's table (MAP_GET): `len` bytes, contiguous in and out,
// with the same permissions. Also what MAP takes.
struct Mapping {
    uint32_t sid = 0;
    uint32_t stage = 0;            // IOPF_STAGE_1 or IOPF_STAGE_2
    std::optional<uint32_t> pasid; // stage 1 only
    uint64_t addr = 0;             // IOVA (stage 1) or IPA (stage 2)
    uint64_t out_addr = 0;         // IPA (stage 1) or PA (stage 2)
    uint64_t len = 0;              // bytes, a multiple of the page size
    uint32_t perm = 0;             // IOPF_PERM_*

    bool operator==(const Mapping&) const = default;
};

// What ACCESS asks for.
struct AccessRequest {
    uint32_t sid = 0;
    std::optional<uint32_t> pasid;
    uint64_t addr = 0; // IOVA
    uint64_t len = 0;  // bytes
    uint32_t perm = 0; // IOPF_PERM_*
    bool stall = false;
};

// RUNNING (a RESUME RETRY queued it to be walked again): not ended.
inline constexpr uint32_t kAccessRunning = IOPF_ACCESS_RUNNING;

// One access as the module reports it (ACCESS reply, ACCESS_GET, ACCESS_NTF).
struct Access {
    uint64_t id = 0;
    uint32_t sid = 0;
    std::optional<uint32_t> pasid;
    uint64_t addr = 0;
    uint64_t len = 0;
    uint32_t perm = 0;
    uint32_t state = 0; // enum iopf_access_state
    uint32_t faults = 0;
    uint32_t faults_l1 = 0;
    uint32_t faults_l2 = 0;
    uint32_t retries = 0;
    uint64_t done = 0;                 // bytes translated so far
    std::optional<uint64_t> fault_seq; // SEQ of its last reported fault
    std::optional<uint32_t> stag;      // while stalled
    uint64_t start_ns = 0;
    uint64_t end_ns = 0; // 0 while stalled
    bool stall = false;

    bool ended() const {
        return state == IOPF_ACCESS_COMPLETED || state == IOPF_ACCESS_ABORTED ||
               state == IOPF_ACCESS_TERMINATED;
    }
    bool operator==(const Access&) const = default;
};

} // namespace iopf
