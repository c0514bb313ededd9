// SPDX-License-Identifier: GPL-2.0
// Names of the protocol's constants, both ways, and number parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <iopf_testbed/fault_core.h>

namespace iopf {

// Reporting flags as a comma-separated list of flat,nested,l1,l2,unrecov
// ("none" or "" is 0), or as a number (0xe, 14) with known bits only.
// Throws ParseError naming an unknown word or bit.
uint32_t parse_report_flags(std::string_view list);
// The same, but a number may have any bit (a mask: "keep flags & M").
uint32_t parse_report_mask(std::string_view list);
std::string format_report_flags(uint32_t flags);

// Fault flags (IOPF_PRQ_* or IOPF_UNRECOV_* by type) as lowercase names.
std::vector<std::string> fault_flag_names(uint32_t type, uint32_t flags);
uint32_t fault_flags_from_names(uint32_t type, const std::vector<std::string>& names);

std::vector<std::string> perm_names(uint32_t perm);
uint32_t perm_from_names(const std::vector<std::string>& names);

// Permissions as the stage commands write them: letters of "rwxp" (read,
// write, exec, priv) in any order, each at most once; "-" or "" is none.
// Throws ParseError naming a bad letter.
uint32_t parse_perm_letters(std::string_view s);
std::string perm_letters(uint32_t perm); // "rw", "rwxp", "-"

// IOPF_STAGE_MODE_*: none | s1 | s2 | nested
std::string stage_mode_name(uint32_t mode);
uint32_t parse_stage_mode(std::string_view s); // throws ParseError
// enum iopf_access_state: stalled | completed | aborted | terminated | running
std::string access_state_name(uint32_t state);
uint32_t access_state_from_name(std::string_view s); // throws ParseError

std::string type_name(uint32_t type);             // page_req | unrecov
uint32_t type_from_name(std::string_view name);   // throws ParseError
std::string level_name(uint32_t level);           // L1 | L2
uint32_t level_from_name(std::string_view name);  // throws ParseError
std::string reason_name(uint32_t reason);         // pte_fetch, permission, ...
uint32_t reason_from_name(std::string_view name); // throws ParseError

std::string resp_code_name(uint32_t code); // success | invalid | failure
uint32_t parse_resp_code(std::string_view name);
std::string resume_resp_name(uint32_t resp); // TERM | RETRY | ABORT
std::string origin_name(uint32_t origin);    // response | report_failed | flush
std::string verdict_name(iopf_verdict v);    // deliver | filter_l1 | ...
std::string stat_name(int attr);             // injected, reported, ...

// translation|addr-size|access|permission, an SMMUv3 name (F_TRANSLATION),
// or a number (0x10, 16) up to 0xff.
uint32_t parse_event(std::string_view s);

// Decimal or 0x-prefixed hex, at most `max`. `what` names the value in errors,
// which give the maximum in hex (identifiers, addresses, bit fields).
uint64_t parse_uint(std::string_view s, uint64_t max, std::string_view what);
// The same for counts and times: the maximum is given in decimal.
uint64_t parse_count(std::string_view s, uint64_t max, std::string_view what);
// A record word as the inject file takes it (record_text.h's
// iopf_parse_hex_word()): 1-16 hex digits, "0x" optional. Throws ParseError
// "'S': <the parser's reason>".
uint64_t parse_hex_word(std::string_view s);

std::string hex(uint64_t v); // 0x...

} // namespace iopf
