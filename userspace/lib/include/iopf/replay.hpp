// SPDX-License-Identifier: GPL-2.0
// Kernel-log replay: `event 0xNN received:` followed by four lines each
// ending in 0x%016llx, as arm-smmu-v3 and iopf_testbed log failed records;
// dmesg/dev_* prefixes allowed, unrelated lines skipped.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "iopf/types.hpp"

namespace iopf {

struct ReplayResult {
    std::vector<Record> records;
    std::vector<std::string> warnings; // "line N: ..." for broken blocks
    std::size_t skipped_lines = 0;     // lines outside any block
};

ReplayResult parse_replay(std::istream& in);

} // namespace iopf
