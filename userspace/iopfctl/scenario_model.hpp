// SPDX-License-Identifier: GPL-2.0
// Declarative scenarios (iopfctl scenario; Documentation/scenarios.md): the
// file's model, its parser (YAML through yaml-cpp), the outcome a run
// gathers, and the verdict on it. Nothing here touches the module or
// iopfd: scenario_run.cpp runs a Scenario and fills an Outcome, so the parser
// and the checker are unit-tested on the host.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopfctl::scenario {

// A file that does not make a scenario: "FILE:LINE: KEY: what".
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Device {
    uint32_t sid = 0;
    uint32_t flags = 0;         // IOPF_REPORT_*
    uint32_t stage_mode = 0;    // IOPF_STAGE_MODE_*
    std::string l1 = "pending"; // iopfd's action (iopfd.conf(5)); none: pending
    std::string l2 = "pending";
    std::optional<uint32_t> timeout_ms; // the module's response timeout (DEV_SET)
};

struct Ttb {
    uint32_t sid = 0;
    std::optional<uint32_t> pasid;
    uint64_t ttb = 0;
};

// One access the runner makes (a step's workload, expanded).
using AccessSpec = iopf::AccessRequest;

// Accesses: one, a strided range, or a seeded random workload (all expanded
// at parse time: `scenario check --list` shows them).
struct AccessStep {
    std::vector<AccessSpec> accesses;
};
// UNMAP of a table range (a host reclaim is stage 2).
struct UnmapStep {
    uint32_t sid = 0;
    uint32_t stage = 2;
    std::optional<uint32_t> pasid;
    uint64_t addr = 0;
    uint64_t len = 0;
};
struct MapStep {
    iopf::Mapping m;
};
// The RFC's update call: the handler's flags become `flags` (mask 0).
struct FlagsStep {
    uint32_t sid = 0;
    uint32_t flags = 0;
};
struct WaitStep {
    uint32_t ms = 0;
};

// Counts an expectation may name; absent: not checked.
struct Counts {
    std::optional<uint64_t> accesses, completed, aborted, terminated;
    std::optional<uint64_t> faults, l1, l2, retries;
    std::optional<uint64_t> unmapped; // unmap/reclaim steps: pages unmapped

    bool empty() const;
};

struct Step {
    std::string kind; // access|strided|random|reclaim|unmap|map|flags|wait
    int line = 0;
    std::variant<AccessStep, UnmapStep, MapStep, FlagsStep, WaitStep> what;
    Counts expect; // over this step's accesses (or its unmap)
    // What differs on upstream's road (key by key over `expect`), and with
    // stage 2 pinned there (over both).
    Counts on_iommufd, on_iommufd_pinned;
};

// A table's final state: pages, and optionally its exact runs.
struct TableExpect {
    uint32_t sid = 0;
    uint32_t stage = 0;
    std::optional<uint32_t> pasid;
    std::optional<uint64_t> pages;
    std::optional<std::vector<iopf::Mapping>> runs;
};

// Upstream's road, measured (Documentation/scenarios.md): what only a run
// with delivery iommufd has.
struct UpstreamCounts {
    std::optional<uint64_t> delivered;     // page requests read from the fault queue
    std::optional<uint64_t> l2_faults;     // ACCESS_FAULTS_L2: stage-2 faults the walks built
    std::optional<uint64_t> s2_as_s1;      // of those, stalled: delivered with no stage, the IOVA
    std::optional<uint64_t> dropped;       // UPSTREAM_UNHANDLED: non-stalled stage 2, nowhere
    std::optional<uint64_t> vevents;       // VEVENTS: non-stalled stage 1 on the vEVENTQ
    std::optional<uint64_t> not_completed; // accesses that did not end COMPLETED

    bool empty() const;
};

struct Expect {
    Counts totals;
    // RESUME notifications of the scenario's devices, by RESP and origin
    std::optional<uint64_t> resume_retry, resume_abort, resume_term;
    std::map<std::string, uint64_t> resume_origin; // response|report_failed|flush|timeout
    // iopfd's store: fix-ups by the VMM (stage 2) and the guest (stage 1)
    std::optional<uint64_t> vmm, vmm_pages, guest, guest_pages, refused;
    std::vector<TableExpect> tables;
    std::optional<uint64_t> stalled; // accesses not ended when the steps are done (absent: 0)
    std::optional<uint64_t> pending; // page requests still pending (absent: 0)
    UpstreamCounts upstream;         // on_iommufd blocks only
};

enum class Delivery { netlink, iommufd };
const char* delivery_name(Delivery d);
Delivery parse_delivery(const std::string& s); // throws Error

// The road a run takes: the file's `delivery`/`pin_stage2`, or the run's
// options over them.
struct Road {
    Delivery delivery = Delivery::netlink;
    bool pin_stage2 = false; // upstream's road only

    std::string name() const; // netlink, iommufd, iommufd+pinned
};

struct Scenario {
    std::string file;
    std::string name;
    std::string description;
    uint32_t access_wait_ms = 5000;        // how long one access may take to end
    Delivery delivery = Delivery::netlink; // the road when the run does not say
    bool pin_stage2 = false;               // pin stage 2 up front on upstream's road
    Expect on_iommufd, on_iommufd_pinned;  // overlays of `expect`
    std::vector<Device> devices;
    std::vector<iopf::Mapping> mappings;
    std::vector<Ttb> ttbs;
    std::vector<Step> steps;
    Expect expect;

    const Device* device(uint32_t sid) const;
    size_t access_count() const;
    // iopfd's configuration for the scenario's devices on `road`.
    std::string iopfd_config(const Road& road = {}) const;
    // The scenario as `road` expects it: `expect` and the steps' expect with
    // the road's overlays applied key by key.
    Scenario on_road(const Road& road) const;
    // Why the scenario cannot take upstream's road (a device that is not
    // stage nested), or "".
    std::string iommufd_unfit() const;
    // What pin_stage2 maps (identity, rw) before the steps: per nested
    // device, the stage-1 table pages of every IOVA accessed, the IPAs of
    // the file's stage-1 mappings, and the guest model's first IPAs from its
    // base (one per stage-1 page accessed); less every stage-2 page the file
    // maps itself (mappings, map steps).
    std::vector<iopf::Mapping> stage2_pins() const;
    // Every stage table the scenario names (mappings, TTBs, accesses,
    // expectations), stage 2 of every S2/NESTED device: what the summary lists.
    std::vector<std::tuple<uint32_t, uint32_t, std::optional<uint32_t>>> tables() const;
};

// Parse a scenario; `file` names it in errors. Throws Error.
Scenario parse(const std::string& text, const std::string& file);
Scenario load(const std::string& path);

// The seeded workload generator (splitmix64: the same numbers everywhere).
uint64_t splitmix64(uint64_t& state);

// ---- a run's outcome, and the verdict on it ----------------------------------

struct AccessResult {
    size_t step = 0; // index into Scenario::steps
    iopf::Access access;
    bool ended = false; // its end was seen within the wait
};

struct Outcome {
    std::vector<AccessResult> accesses;
    std::map<size_t, uint64_t> unmapped; // step index -> pages
    uint64_t resume_retry = 0, resume_abort = 0, resume_term = 0;
    std::map<std::string, uint64_t> resume_origin;
    uint64_t vmm = 0, vmm_pages = 0, guest = 0, guest_pages = 0, refused = 0;
    // (sid, stage, pasid) -> runs
    std::map<std::tuple<uint32_t, uint32_t, std::optional<uint32_t>>, std::vector<iopf::Mapping>>
        tables;
    uint64_t stalled = 0;
    uint64_t pending = 0;
    Road road;
    // upstream's road: what was measured (all set on iommufd)
    uint64_t up_delivered = 0, up_l2_faults = 0, up_s2_as_s1 = 0, up_dropped = 0, up_vevents = 0;
    uint64_t pinned_pages = 0;
    std::optional<std::string> skip; // the run could not take its road: why (the module's reason)
    std::vector<std::string> errors; // the run itself went wrong (iopfd, netlink...)
};

// Every expectation the outcome does not meet, one line each, e.g.
// "expect.faults.l2: expected 5, got 3"; empty: the scenario passes.
std::vector<std::string> check(const Scenario& s, const Outcome& o);

// The summary (--json): faults per access, the L1/L2 split, access to end
// latency p50/p99, stage-2 pages mapped, RESUME outcomes, accesses by end.
iopf::Json summary(const Scenario& s, const Outcome& o, const std::vector<std::string>& failures);

// The two roads side by side (`iopfctl scenario table`): one markdown row
// per scenario name from run summaries (--json arrays, any roads, in the
// order the names first appear): netlink, iommufd and iommufd+pinned.
std::string roads_table(const std::vector<iopf::Json>& summaries);

// The nearest-rank percentile (0 < p <= 100) of `v` (sorted in place); 0 when empty.
uint64_t percentile(std::vector<uint64_t>& v, unsigned p);

} // namespace iopfctl::scenario
