// SPDX-License-Identifier: GPL-2.0
#include "iopf/decode.hpp"

namespace iopf {

Fault decode_record(const Record& r) {
    Fault f;
    f.sid = iopf_evt_sid(r.data());
    f.event_id = iopf_evt_id(r.data());
    f.record = r;
    iopf_fault c{};
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

} // namespace iopf
