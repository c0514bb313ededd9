// SPDX-License-Identifier: GPL-2.0
// Opening the files the tools read (records, logs, stores, configs).
#pragma once

#include <fstream>
#include <string>

namespace iopf {

// PATH opened for reading. Throws Error "CONTEXT PATH: <strerror>" when it
// cannot be opened, and EISDIR for a directory (which std::ifstream opens
// and then reads as an empty file).
std::ifstream open_input(const std::string& path, const std::string& context);

} // namespace iopf
