// SPDX-License-Identifier: GPL-2.0
// Offline decoding of a record with fault_core.h (the module's own code).
#pragma once

#include <optional>
#include <string>

#include "iopf/types.hpp"

namespace iopf {

// The fault iopf_decode() yields; handled=false and no `fault` for events
// the driver does not report.
Fault decode_record(const Record& r);

// iopf_delivery() for a decoded fault; nullopt for unhandled events.
std::optional<iopf_verdict> delivery(uint32_t report_flags, const Fault& f);

// Every field of the record, read with fault_core.h's EVTQ_* masks as
// arm_smmu_decode_event() reads them: what iopf_model_fault leaves out (the IOVA of
// a stage-2 request, the IPA of an unrecoverable fault, STALL, STAG, CLASS,
// TTRnW) is still what a developer reads first.
struct EvtFields {
    uint32_t id = 0;
    uint32_t sid = 0;
    bool ssv = false;
    uint32_t ssid = 0; // the SSID field, meaningful with ssv
    uint32_t stag = 0;
    bool stall = false;
    bool pnu = false; // privileged
    bool ind = false; // instruction
    bool rnw = false; // read
    bool s2 = false;
    uint32_t cls = 0;       // CLASS: 0 CD fetch, 1 TT fetch, 2 input address
    bool ttrnw = false;     // TT_READ, meaningful for CLASS TT
    uint64_t iova = 0;      // word 2
    uint64_t ipa = 0;       // word 3 & EVTQ_3_IPA
    uint64_t fetch = 0;     // word 3 & EVTQ_3_FETCH_ADDR (F_*_FETCH events)
    bool has_addrs() const; // translation, address size, access, permission
    bool has_fetch() const; // F_STE_FETCH, F_CD_FETCH, F_VMS_FETCH
};

EvtFields evt_fields(const Record& r);

// The CLASS as arm-smmu-v3 names it ("Input address caused fault", ...).
const char* evt_class_name(uint32_t cls);

// The two lines newer arm-smmu-v3 drivers (arm_smmu_dump_event()) print
// after the raw words, from "sid:" on (the client is a device name the
// record does not hold) and the access line; empty when the driver prints
// no second line for this event.
std::string dump_event_tail(const EvtFields& e);
std::string dump_event_access(const EvtFields& e);

} // namespace iopf
