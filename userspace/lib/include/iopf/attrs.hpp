// SPDX-License-Identifier: GPL-2.0
// Parsing of the family's messages: every attribute is checked against a
// policy (type, exact length), required attributes must be present, values
// must be in range. Malformed input throws iopf::ParseError.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "iopf/types.hpp"

struct nlattr;
struct nlmsghdr;
struct nl_msg;

namespace iopf::nl {

Fault parse_fault_nest(const nlattr* nest);
Resume parse_resume_nest(const nlattr* nest);
Stats parse_stats_nest(const nlattr* nest);
Mapping parse_mapping_nest(const nlattr* nest);
Access parse_access_nest(const nlattr* nest);

// A FAULT_NTF (or PENDING_GET reply): every IOPF_A_FAULT nest it carries.
// A bad nest does not hide the good ones: its error is listed instead.
struct FaultBatch {
    std::vector<Fault> faults;
    std::vector<std::string> errors;
};
FaultBatch parse_fault_msg(const nlmsghdr* nlh);
// The same into `out`, cleared first: a listener that keeps one FaultBatch
// reuses its capacity, so parsing allocates nothing per fault.
void parse_fault_msg(const nlmsghdr* nlh, FaultBatch& out);

// A RESUME_NTF: exactly one IOPF_A_RESUME nest.
Resume parse_resume_msg(const nlmsghdr* nlh);

// A DEV_GET reply.
DevInfo parse_dev_msg(const nlmsghdr* nlh);

// A STATS_GET reply.
Stats parse_stats_msg(const nlmsghdr* nlh);

// A MAP_GET dump message: exactly one IOPF_A_MAPPING nest.
Mapping parse_mapping_msg(const nlmsghdr* nlh);

// An ACCESS reply, an ACCESS_GET message or an ACCESS_NTF: exactly one
// IOPF_A_ACCESS nest.
Access parse_access_msg(const nlmsghdr* nlh);

// An UNMAP reply: IOPF_A_COUNT, the pages unmapped.
uint64_t parse_count_msg(const nlmsghdr* nlh);

// Request attributes, as the Client sends them (throw Error(EMSGSIZE) when
// the message is full).
// SID, STAGE and (when given) PASID: the table MAP, UNMAP and MAP_GET act on.
void put_table(nl_msg* m, uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid);
// MAP: the table, ADDR, OUT_ADDR, LEN, PERM.
void put_map_request(nl_msg* m, const Mapping& mp);
// ACCESS: SID, [PASID], ADDR, LEN, PERM, [STALL].
void put_access_request(nl_msg* m, const AccessRequest& a);

// The generic netlink command of a message (throws on a short message).
uint8_t genl_cmd(const nlmsghdr* nlh);

} // namespace iopf::nl
