// SPDX-License-Identifier: GPL-2.0
// Building SMMUv3 event records from fields, and their text form (the
// debugfs inject format: four hex words per line).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iopf/types.hpp"

namespace iopf {

struct RecordFields {
    uint32_t sid = 0;
    std::optional<uint32_t> ssid; // sets SSV
    uint32_t event_id = EVT_ID_TRANSLATION_FAULT;
    bool stall = false;
    uint32_t stag = 0;
    bool s2 = false;
    uint64_t ipa = 0; // stage-2 faults: bits 51:12 land in word 3
    uint64_t addr = 0;
    bool read = true;  // RnW
    bool exec = false; // InD
    bool priv = false; // PnU
};

// Throws ParseError when a field does not fit its bits.
Record build_record(const RecordFields& f);

// "0x... 0x... 0x... 0x..." (16 hex digits each)
std::string format_record(const Record& r);
// One line of the debugfs inject format, parsed by the module's own
// iopf_parse_record_line() (record_text.h): four words of 1-16 hex digits,
// "0x" optional, separated by spaces, tabs or CRs. Throws ParseError with the
// parser's reason otherwise (a blank line too).
Record parse_record_line(std::string_view line);
// One record per line, as above; blank lines and '#' comments (iopfctl's only
// addition to the module's format) skipped. Errors are "NAME:LINE: reason".
std::vector<Record> parse_record_stream(std::istream& in, const std::string& name);

} // namespace iopf
