// SPDX-License-Identifier: GPL-2.0
// The reference model: what iopf_testbed must do for each op of a stream.
// Decoding, flag validation, delivery and RESUME encoding are fault_core.h
// (the module's own code); devices, handlers, pending lists, counters,
// sequence numbers and the netlink policies are modelled here, from
// Documentation/interfaces.md and kmod/{core,smmu,netlink}.c.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "difftest/op.hpp"
#include "iopf/types.hpp"

namespace difftest {

// A FAULT_NTF fault or a RESUME_NTF, as the listener parses them.
using Event = std::variant<iopf::Fault, iopf::Resume>;

struct Outcome {
    int err = 0; // positive errno of the netlink request, 0 on success
    std::vector<Event> events;
};

// Counters indexed by IOPF_STAT_A_*.
using Counters = std::array<uint64_t, IOPF_STAT_A_MAX + 1>;
// The per-device counters DEV_GET carries, and the global ones of STATS_GET.
inline constexpr int kDevStatFirst = IOPF_STAT_A_INJECTED;
inline constexpr int kDevStatLast = IOPF_STAT_A_AUTO_ABORTS;
inline constexpr int kGlobalStatFirst = IOPF_STAT_A_RECORDS;
inline constexpr int kGlobalStatLast = IOPF_STAT_A_RESUME_SEQ;
// Added later, at the end of the numbering: per device RESUME_LOST ..
// TIMEOUTS, then the access model's ACCESSES .. ACCESS_NOTIFY_LOST (all 0:
// the op streams make no access and map nothing); globally RESUME_LOST.
inline constexpr int kDevStatExtraFirst = IOPF_STAT_A_RESUME_LOST;
inline constexpr int kDevStatExtraLast = IOPF_STAT_A_ACCESS_NOTIFY_LOST;
inline constexpr int kGlobalStatExtraFirst = IOPF_STAT_A_RESUME_LOST;
inline constexpr int kGlobalStatExtraLast = IOPF_STAT_A_RESUME_LOST;
// The module's default pending_limit: requests beyond are aborted.
inline constexpr std::size_t kPendingLimit = 1024;

struct DevState {
    uint32_t sid = 0;
    bool registered = false;
    uint32_t flags = 0; // 0 when unregistered, as DEV_GET reports it
    Counters stats{};
    std::vector<iopf::Fault> pending; // in list order, as PENDING_GET dumps them
    uint64_t dev_seq = 0;
    std::optional<iopf::Resume> last_resume;
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
    Outcome inject(const iopf::Record& rec);
    Outcome respond(const Op& op);
    iopf::Resume resume(DevState& d, uint32_t grpid, uint32_t code, uint32_t origin);

    std::map<uint32_t, DevState> devs_;
    uint64_t records_ = 0, unhandled_ = 0, unknown_sid_ = 0;
    uint64_t fault_seq_ = 0, resume_seq_ = 0;
};

// Differences between two events, field by field ("SEQ 4 != 5"); empty when
// equal. TIMESTAMP_NS is not compared.
std::vector<std::string> diff_events(const Event& want, const Event& got);
// One line per event / counter set, for reports and iopfctl script.
std::string format_event(const Event& e);
std::string errno_name(int err); // "ok", "EINVAL", ...

} // namespace difftest
