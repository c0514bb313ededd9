// SPDX-License-Identifier: GPL-2.0
// The module's debugfs files.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "iopf/types.hpp"

namespace iopf {

inline constexpr const char* kDefaultDebugfs = "/sys/kernel/debug/iopf_testbed";

// Records per write(2) to <dir>/inject. The module parses a write whole and
// takes at most 1 MiB (IOPF_INJECT_MAX_BYTES): 1024 lines are 76 KiB.
inline constexpr std::size_t kInjectBatch = 1024;

// Write records to <dir>/inject, kInjectBatch per write(2), each at offset 0;
// returns how many writes were made. No record at all is an error (the
// module refuses an empty write). Throws Error naming the file and, when
// some batches went in before the failure, how many records they held.
std::size_t inject_records(const std::string& dir, const std::vector<Record>& records);
// The text a record batch becomes in the inject file.
std::string inject_text(std::span<const Record> records);

// Whole content of a file; throws Error naming it.
std::string read_text_file(const std::string& path);

} // namespace iopf
