// SPDX-License-Identifier: GPL-2.0
// The module's debugfs files.
#pragma once

#include <string>
#include <vector>

#include "iopf/types.hpp"

namespace iopf {

inline constexpr const char* kDefaultDebugfs = "/sys/kernel/debug/iopf_testbed";

// Write records to <dir>/inject in one write(2) (the module parses a write
// whole). Throws Error naming the file.
void inject_records(const std::string& dir, const std::vector<Record>& records);
// The text a record batch becomes in the inject file.
std::string inject_text(const std::vector<Record>& records);

// Whole content of a file; throws Error naming it.
std::string read_text_file(const std::string& path);

} // namespace iopf
