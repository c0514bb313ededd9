// SPDX-License-Identifier: GPL-2.0
// What the daemon collected, counted: kept in memory by iopfd and rebuilt
// from the store by `iopfctl stats`.
#pragma once

#include <cstdint>
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
    std::map<std::string, uint64_t> events;    // by SMMUv3 name
    std::map<std::string, uint64_t> responses; // by code name, sent OK
    uint64_t response_errors = 0;
    uint64_t resumes = 0;
    uint64_t overflows = 0;
    uint64_t gap_events = 0;
    uint64_t missing = 0;
    uint64_t resume_missing = 0;
    uint64_t malformed = 0;

    void add_fault(const Fault& f, bool resynced);
    // Feed one store line of any kind.
    void add_store_line(const Json& line);
    Json to_json() const;
    std::string to_text() const; // readable, several lines
};

} // namespace iopf
