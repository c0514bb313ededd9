// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the command files: option parsing, fault output.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "commands.hpp"
#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopfctl {

namespace po = boost::program_options;

// Parse args; po errors become UsageError.
po::variables_map parse_options(const Args& args, const po::options_description& desc,
                                const po::positional_options_description* pos = nullptr);

// A numeric option (decimal or 0x hex) if given; bad values are UsageError.
std::optional<uint64_t> num_opt(const po::variables_map& vm, const char* name, uint64_t max);
uint64_t num_req(const po::variables_map& vm, const char* name, uint64_t max);
uint64_t num_arg(const std::string& s, const char* what, uint64_t max);

// One fault per line, human readable (watch).
std::string fault_line(const iopf::Fault& f);
std::string resume_line(const iopf::Resume& r);

// A fault table. `actions` (same length, optional) adds an ACTION column.
std::string fault_table(const std::vector<iopf::Fault>& faults,
                        const std::vector<std::string>* actions = nullptr);

void print_json_line(std::ostream& os, const iopf::Json& j);

} // namespace iopfctl
