// SPDX-License-Identifier: GPL-2.0
// Offline decoding of a record with fault_core.h (the module's own code).
#pragma once

#include <optional>

#include "iopf/types.hpp"

namespace iopf {

// The fault iopf_decode() yields; handled=false and no `fault` for events
// the driver does not report.
Fault decode_record(const Record& r);

// iopf_delivery() for a decoded fault; nullopt for unhandled events.
std::optional<iopf_verdict> delivery(uint32_t report_flags, const Fault& f);

} // namespace iopf
