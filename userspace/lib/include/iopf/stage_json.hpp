// SPDX-License-Identifier: GPL-2.0
// The JSON shape of the two-stage access model's values (iopfctl --json,
// the daemon's store).
//
// Mapping keys, in this order: sid, stage (1|2), pasid (null when absent),
// addr, out_addr ("0x..."), len (bytes), pages, perm ("rwxp" letters).
// Access keys: id, sid, pasid (null), addr ("0x..."), len, perm (letters),
// stall, state (stalled|running|completed|aborted|terminated), faults, faults_l1,
// faults_l2, retries, done, fault_seq (null), stag (null), start_ns, end_ns,
// latency_us (null while stalled).
#pragma once

#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopf {

Json mapping_to_json(const Mapping& m);
// Inverse of mapping_to_json ("pages" is not read). Throws ParseError.
Mapping mapping_from_json(const Json& j);

Json access_to_json(const Access& a);
// Inverse of access_to_json ("latency_us" is not read). Throws ParseError.
Access access_from_json(const Json& j);

// How long an ended access took, in microseconds; nullopt while stalled.
std::optional<uint64_t> access_latency_us(const Access& a);

} // namespace iopf
