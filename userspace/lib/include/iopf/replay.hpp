// SPDX-License-Identifier: GPL-2.0
// Kernel-log replay: the records arm-smmu-v3 (v5.13 to 7.x) and iopf_testbed
// log when they cannot report an event: `event 0xNN received:` and four lines
// ending in 0x%016llx, from one device, and on newer kernels two decoded
// lines after them (`event: ... iova: ... ipa: ...`, `priv|unpriv ... stag:`).
//
// Never invents a record: word lines are taken only from the device that
// printed the header (one block per device, so two SMMUs may interleave), and
// unrelated lines neither interrupt nor feed a block. A record that cannot be
// completed is an error naming its line; decoded lines that disagree with the
// words are errors; lines saying the log lost messages (`callbacks
// suppressed`, `EVTQ overflow detected -- events lost`) are warnings.
//
// Input formats: dmesg (with or without timestamps, -T, -x, -r, --time-format
// iso), journalctl (short, short-iso, short-monotonic, cat), syslog's
// kern.log, /dev/kmsg records ("6,1234,5678,-;..." with \xHH escapes), CRLF,
// tabs or spaces.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "iopf/types.hpp"

namespace iopf {

struct ReplayResult {
    std::vector<Record> records;
    std::vector<std::size_t> record_lines; // the header line of each record
    // "line N: ..." for records that cannot be completed and decoded lines
    // that disagree with their record: the replay is not faithful.
    std::vector<std::string> errors;
    // "line N: ..." for lines saying the log itself lost events.
    std::vector<std::string> warnings;
    std::size_t skipped_lines = 0; // lines that are not part of any record

    bool ok() const { return errors.empty(); }
};

ReplayResult parse_replay(std::istream& in);

} // namespace iopf
