// SPDX-License-Identifier: GPL-2.0
#include "iopf/decode.hpp"

#include <fmt/core.h>

namespace iopf {

Fault decode_record(const Record& r) {
    Fault f;
    f.sid = iopf_evt_sid(r.data());
    f.event_id = iopf_evt_id(r.data());
    f.record = r;
    iopf_model_fault c{};
    if (iopf_decode(r.data(), &c) == 0) {
        f.handled = true;
        f.fault = c;
    } else {
        f.handled = false;
    }
    return f;
}

std::optional<iopf_verdict> delivery(uint32_t report_flags, const Fault& f) {
    if (!f.fault)
        return std::nullopt;
    return iopf_delivery(report_flags, &*f.fault);
}

bool EvtFields::has_addrs() const {
    return iopf_evt_handled(id);
}

bool EvtFields::has_fetch() const {
    return id == EVT_ID_STE_FETCH_FAULT || id == EVT_ID_CD_FETCH_FAULT || id == EVT_ID_VMS_FETCH;
}

EvtFields evt_fields(const Record& r) {
    const uint64_t* w = r.data();
    EvtFields e;
    e.id = iopf_evt_id(w);
    e.sid = iopf_evt_sid(w);
    e.ssv = w[0] & EVTQ_0_SSV;
    e.ssid = static_cast<uint32_t>(FIELD_GET(EVTQ_0_SSID, w[0]));
    e.stag = static_cast<uint32_t>(FIELD_GET(EVTQ_1_STAG, w[1]));
    e.stall = w[1] & EVTQ_1_STALL;
    e.pnu = w[1] & EVTQ_1_PnU;
    e.ind = w[1] & EVTQ_1_InD;
    e.rnw = w[1] & EVTQ_1_RnW;
    e.s2 = w[1] & EVTQ_1_S2;
    e.cls = static_cast<uint32_t>(FIELD_GET(EVTQ_1_CLASS, w[1]));
    e.ttrnw = w[1] & EVTQ_1_TT_READ;
    e.iova = FIELD_GET(EVTQ_2_ADDR, w[2]);
    e.ipa = w[3] & EVTQ_3_IPA;
    e.fetch = w[3] & EVTQ_3_FETCH_ADDR;
    return e;
}

const char* evt_class_name(uint32_t cls) {
    switch (cls) {
    case 0:
        return "CD fetch";
    case 1:
        return "Stage 1 translation table fetch";
    case 2:
        return "Input address caused fault";
    default:
        return "Reserved";
    }
}

std::string dump_event_tail(const EvtFields& e) {
    // The driver prints IOMMU_NO_PASID (0) without SSV
    std::string s = fmt::format("sid: {:#x} ssid: {:#x}", e.sid, e.ssv ? e.ssid : 0);
    if (e.has_addrs())
        s += fmt::format(" iova: {:#x} ipa: {:#x}", e.iova, e.ipa);
    else if (e.has_fetch())
        s += fmt::format(" fetch_addr: {:#x}", e.fetch);
    return s;
}

std::string dump_event_access(const EvtFields& e) {
    if (!e.has_addrs())
        return {};
    // Only a permission fault on a table walk says which walk access it was
    const bool class_tt = e.id == EVT_ID_PERMISSION_FAULT && e.cls == 1;
    return fmt::format(
        "{} {} {} {} \"{}\"{}{} stag: {:#x}", e.pnu ? "priv" : "unpriv", e.ind ? "inst" : "data",
        e.rnw ? "read" : "write", e.s2 ? "s2" : "s1", evt_class_name(e.cls),
        class_tt ? (e.ttrnw ? " ttd_read" : " ttd_write") : "", e.stall ? " stall" : "", e.stag);
}

} // namespace iopf
