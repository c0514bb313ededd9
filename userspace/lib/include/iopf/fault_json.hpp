// SPDX-License-Identifier: GPL-2.0
// The JSON shape of faults and resumes (iopfctl --json, the daemon's store).
//
// Fault keys, always, in this order: seq (null when unknown), sid, event_id,
// event (SMMUv3 name), handled, type (page_req|unrecov), level (L1|L2),
// flags (list of fault-flag names), pasid (null when absent), grpid (null for
// unrecoverable faults), perm (list of read|write|exec|priv), addr ("0x..."),
// reason (unrecoverable faults; null otherwise). type/level/flags/perm/addr
// are null for events the driver does not report. With report flags given:
// delivered (bool, null for unhandled events) and verdict.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "iopf/decode.hpp"
#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopf {

struct FaultJsonOptions {
    std::optional<uint32_t> report_flags; // adds delivered/verdict
    bool extra = false;                   // adds dev_seq, timestamp_ns, record
};

Json fault_to_json(const Fault& f, const FaultJsonOptions& opt = {});
// Inverse of fault_to_json (extra keys honoured when present). Throws
// ParseError on a missing key or a value of the wrong shape.
Fault fault_from_json(const Json& j);

// Every field of the raw record (iopfctl decode's "evt" object): ssv, ssid,
// stall, stag, pnu, ind, rnw, s2, class, class_name, ttrnw (null unless the
// CLASS is a table walk), iova and ipa (null unless the event carries
// addresses), fetch_addr (null unless an F_*_FETCH event).
Json evt_to_json(const EvtFields& e);

// The daemon's store line for a fault, written straight into `out` (no
// newline): byte for byte what
//   {"kind":"fault", fault_to_json(f, {.extra = true})..., "action":...,
//    "resynced":..., ["recovered":true]}
// dumps, without building the Json. The names of the enumerated fields are
// rendered once per value and kept: once warm it allocates nothing per fault
// (beyond `out` growing).
class FaultLineWriter {
  public:
    void append(std::string& out, const Fault& f, std::string_view action, bool resynced,
                bool recovered);
    // The same in two steps, for a buffer with room already (StoreWriter::
    // append_with): prepare() renders what it needs and returns a bound on
    // the line's length; write() writes it at `at` and returns its end.
    std::size_t prepare(const Fault& f, std::string_view action);
    char* write(char* at, const Fault& f, bool resynced, bool recovered) const;

  private:
    // One field's rendered values; a stream repeats the same value, so the
    // last one is checked before the map (nodes do not move: `last` stays valid).
    struct Names {
        std::unordered_map<uint64_t, std::string> map;
        uint64_t last_key = 0;
        const std::string* last = nullptr;
    };
    const std::string& cached(Names& m, uint64_t key, const auto& render);
    Names event_, type_, level_, flags_, perm_, reason_;
    // What prepare() found for the fault write() writes.
    const std::string* event_now_ = nullptr;
    const std::string *type_now_ = nullptr, *level_now_ = nullptr, *flags_now_ = nullptr;
    const std::string *perm_now_ = nullptr, *reason_now_ = nullptr;
    std::string action_;      // the last action
    std::string action_json_; // ... as JSON
};

Json resume_to_json(const Resume& r);
Resume resume_from_json(const Json& j);

} // namespace iopf
