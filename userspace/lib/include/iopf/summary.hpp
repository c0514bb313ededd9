// SPDX-License-Identifier: GPL-2.0
// What the daemon collected, counted: kept in memory by iopfd and rebuilt
// from the store by `iopfctl stats`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopf {

struct DeviceSummary {
    uint64_t faults = 0;
    uint64_t page_req = 0;
    uint64_t unrecov = 0;
    uint64_t l1 = 0;
    uint64_t l2 = 0;
};

struct Summary {
    uint64_t faults = 0;
    uint64_t resynced = 0; // faults recovered from a PENDING_GET dump
    std::map<uint32_t, DeviceSummary> devices;
    std::map<std::string, uint64_t, std::less<>> events; // by SMMUv3 name
    std::map<std::string, uint64_t> responses;           // by code name, sent OK
    uint64_t response_errors = 0;
    uint64_t resumes = 0;
    uint64_t overflows = 0;
    uint64_t gap_events = 0;
    uint64_t missing = 0;        // faults skipped by SEQ gaps
    uint64_t resume_missing = 0; // RESUMEs skipped (gaps and tails)
    uint64_t malformed = 0;
    uint64_t tail_missing = 0; // faults missing at a sync point (STATS_GET FAULT_SEQ)
    uint64_t recovered = 0;    // missing faults taken from a PENDING_GET dump
    uint64_t late = 0;         // counted missing at a sync point, arrived after all
    uint64_t resume_late = 0;
    // The two-stage model: page requests the VMM (stage 2) and the guest
    // model (stage 1) handled, the pages they mapped, the time it took, and
    // the accesses that ended, by state.
    struct FixUps {
        uint64_t handled = 0;
        uint64_t mapped_pages = 0;
        uint64_t success = 0; // answered success (the others: invalid)
        uint64_t us = 0;      // total
    };
    FixUps vmm, guest;
    // Upstream's road: page requests iopfd read from iommufd fault queues
    // (fault lines with "via":"iommufd"; the same records' netlink fault
    // lines are the ones counted in `faults`), mapped and answered there.
    struct Iommufd {
        uint64_t handled = 0;
        uint64_t mapped_pages = 0;
        uint64_t success = 0;
        uint64_t invalid = 0;
        uint64_t unanswered = 0; // pending: the module's timeout aborts them
        uint64_t errors = 0;     // the answer was refused by iommufd
        uint64_t us = 0;
    } iommufd;
    // Nested devices' vEVENTQs: records read ("via":"vevent" fault lines),
    // and events lost (the books' gaps and LOST_EVENTS tails), apart.
    struct Vevents {
        uint64_t received = 0;
        uint64_t lost = 0;
        uint64_t gaps = 0;  // jumps in the sequence without LOST_EVENTS
        uint64_t tails = 0; // LOST_EVENTS headers
        uint64_t inconsistent = 0;
    } vevents;
    std::map<std::string, uint64_t> accesses; // by state name

    // Missed and not recovered: the faults that are gone. With `faults`
    // counting every fault stored (notified or resynced, each once), the
    // faults handed out while the daemon listened = faults + lost.
    // (Saturates at 0: only a store mixing unrelated runs can go below.)
    uint64_t lost() const {
        uint64_t missed = missing + tail_missing, back = recovered + late;
        return missed > back ? missed - back : 0;
    }

    // `recovered`: the fault filled a hole in the notifications.
    void add_fault(const Fault& f, bool resynced, bool recovered = false);
    // One "via":"iommufd" fault line.
    void add_iommufd_line(const Json& line);
    // Feed one store line of any kind.
    void add_store_line(const Json& line);
    Json to_json() const;
    std::string to_text() const; // readable, several lines
};

} // namespace iopf
