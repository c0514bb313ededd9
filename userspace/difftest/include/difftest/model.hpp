// SPDX-License-Identifier: GPL-2.0
// The reference model: what iopf_testbed must do for each op of a stream.
// Decoding, flag validation, delivery and RESUME encoding are fault_core.h
// (the module's own code); devices, handlers, pending lists, counters,
// sequence numbers and the netlink policies are modelled here, from
// Documentation/interfaces.md and kmod/{core,smmu,netlink}.c; the two-stage
// access model (tables, walks, stalled accesses and their RESUMEs) from
// Documentation/stages.md and kmod/stages.c. The record a walk builds is
// fault_core.h's iopf_evt_build(), as in the module.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "difftest/op.hpp"
#include "iopf/types.hpp"

namespace difftest {

// A FAULT_NTF fault, a RESUME_NTF or an ACCESS_NTF, as the listener parses them.
using Event = std::variant<iopf::Fault, iopf::Resume, iopf::Access>;

struct Outcome {
    int err = 0; // positive errno of the netlink request, 0 on success
    std::vector<Event> events;
    std::optional<iopf::Access> access; // ACCESS: its reply
    std::optional<uint64_t> count;      // UNMAP: its reply (pages unmapped)
    // A RESUME RETRY made an access walk again: the module does that on a
    // workqueue, so the events from the re-walk on come after the request
    // returned, and a listener must wait for them.
    bool deferred = false;
};

// Counters indexed by IOPF_STAT_A_*.
using Counters = std::array<uint64_t, IOPF_STAT_A_MAX + 1>;
// The per-device counters DEV_GET carries, and the global ones of STATS_GET.
inline constexpr int kDevStatFirst = IOPF_STAT_A_INJECTED;
inline constexpr int kDevStatLast = IOPF_STAT_A_AUTO_ABORTS;
inline constexpr int kGlobalStatFirst = IOPF_STAT_A_RECORDS;
inline constexpr int kGlobalStatLast = IOPF_STAT_A_RESUME_SEQ;
// Added later, at the end of the numbering: per device RESUME_LOST ..
// TIMEOUTS, then the access model's ACCESSES .. ACCESS_NOTIFY_LOST, then
// upstream's road's VEVENTS .. UPSTREAM_UNHANDLED (0 here: the model bridges
// no device); globally RESUME_LOST.
inline constexpr int kDevStatExtraFirst = IOPF_STAT_A_RESUME_LOST;
inline constexpr int kDevStatExtraLast = IOPF_STAT_A_UPSTREAM_UNHANDLED;
inline constexpr int kGlobalStatExtraFirst = IOPF_STAT_A_RESUME_LOST;
inline constexpr int kGlobalStatExtraLast = IOPF_STAT_A_RESUME_LOST;
// The module's default pending_limit: requests beyond are aborted.
inline constexpr std::size_t kPendingLimit = 1024;
// The access model's module parameters, at their defaults (kmod/stages.c).
inline constexpr uint64_t kMaxMappedPages = 262144;
inline constexpr std::size_t kMaxPasidTables = 4096;
inline constexpr uint32_t kMaxAccesses = 1024;
inline constexpr std::size_t kAccessHistory = 1024;

// A page of a stage's table: its output page and permission.
struct Pte {
    uint64_t out = 0;
    uint32_t perm = 0;
    bool operator==(const Pte&) const = default;
};
using PageTable = std::map<uint64_t, Pte>; // input page -> Pte

struct S1Table {
    PageTable pages;
    uint64_t ttb = IOPF_STAGE_TTB_DEFAULT;
};

// MAP_GET's runs of a table: contiguous in input and output, one permission.
std::vector<iopf::Mapping> table_runs(const PageTable& t, uint32_t sid, uint32_t stage,
                                      std::optional<uint32_t> pasid);

struct DevState {
    uint32_t sid = 0;
    bool registered = false;
    uint32_t flags = 0; // 0 when unregistered, as DEV_GET reports it
    Counters stats{};
    std::vector<iopf::Fault> pending; // in list order, as PENDING_GET dumps them
    uint64_t dev_seq = 0;
    std::optional<iopf::Resume> last_resume;

    // The access model (stats carry its counters, MAPPED_S1/S2 included).
    uint32_t mode = IOPF_STAGE_MODE_NONE;
    std::map<uint32_t, S1Table> s1; // by SubstreamID (no PASID: 0)
    PageTable s2;
    std::map<uint64_t, iopf::Access> accesses; // not ended + the last kAccessHistory ended
    std::deque<uint64_t> ended;                // ids of the ended ones kept, oldest first
    std::set<uint32_t> stags;                  // held by stalled accesses
    uint32_t next_stag = 0;                    // xa_alloc_cyclic's cursor
    uint32_t live = 0;                         // accesses not ended
    std::map<uint64_t, uint64_t> access_of;    // SEQ of a pending request -> its access
};

class Model {
  public:
    Outcome apply(const Op& op);
    void reset(); // a fresh module instance

    const std::map<uint32_t, DevState>& devices() const { return devs_; }
    const DevState* device(uint32_t sid) const;
    // RECORDS, UNHANDLED_EVENT, UNKNOWN_SID, DEVICES, FAULT_SEQ, RESUME_SEQ;
    // the rest 0.
    Counters global() const;
    uint64_t fault_seq() const { return fault_seq_; }
    uint64_t resume_seq() const { return resume_seq_; }

  private:
    void inject(const iopf::Record& rec, uint64_t access_id, Outcome& out);
    Outcome respond(const Op& op);
    iopf::Resume resume(DevState& d, uint32_t grpid, uint32_t code, uint32_t origin);
    // A RESUME reaches the stalled access whose request it answers
    // (stages.c iopf_access_resume()): RETRY walks it again, ABORT ends it.
    void resume_access(DevState& d, uint64_t access_id, const iopf::Resume& r, Outcome& out);

    // The access model's ops.
    Outcome stage_mode(const Op& op);
    Outcome map(const Op& op);
    Outcome unmap(const Op& op);
    DevState* table_dev(const Op& op, Outcome& out);
    Outcome ttb(const Op& op);
    Outcome access(const Op& op);
    // Walks an access on and reports its fault, as stages.c iopf_access_run().
    void run_access(DevState& d, uint64_t id, Outcome& out);
    bool translate(const DevState& d, const iopf::Access& a, uint64_t iova,
                   iopf_evt_fields& f) const;
    void end_access(DevState& d, iopf::Access& a, uint32_t state);
    // The access a pending request (by SEQ) stalls, 0 if none; forgotten.
    static uint64_t take_access(DevState& d, uint64_t seq);

    std::map<uint32_t, DevState> devs_;
    uint64_t records_ = 0, unhandled_ = 0, unknown_sid_ = 0;
    uint64_t fault_seq_ = 0, resume_seq_ = 0;
    uint64_t access_ids_ = 0; // the last access id handed out (global, from 1)
};

// Differences between two accesses, every field but the times (an ended
// access has END_NS, one not ended has none); empty when equal.
std::vector<std::string> diff_accesses(const iopf::Access& want, const iopf::Access& got);

// Differences between two events, field by field ("SEQ 4 != 5"); empty when
// equal. TIMESTAMP_NS is not compared.
std::vector<std::string> diff_events(const Event& want, const Event& got);
// One line per event / counter set, for reports and iopfctl script.
std::string format_event(const Event& e);
std::string errno_name(int err); // "ok", "EINVAL", ...

} // namespace difftest
