// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the command files: option parsing, fault output.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "commands.hpp"
#include "iopf/cli.hpp"
#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopfctl {

namespace po = boost::program_options;

// Parse args (unambiguous option prefixes accepted); errors, in our own
// words, become UsageError.
po::variables_map parse_options(const Args& args, const po::options_description& desc,
                                const po::positional_options_description* pos = nullptr);

// A numeric option (decimal or 0x hex) if given; bad values are UsageError.
// Range errors give the maximum in hex (num_*) or decimal (count_*: counts
// and times).
std::optional<uint64_t> num_opt(const po::variables_map& vm, const char* name, uint64_t max);
uint64_t num_req(const po::variables_map& vm, const char* name, uint64_t max);
uint64_t num_arg(const std::string& s, const char* what, uint64_t max);
std::optional<uint64_t> count_opt(const po::variables_map& vm, const char* name, uint64_t max);

// The one SID syntax: a positional SID (declare it with add_sid()); --sid SID
// is accepted too, for scripts written before.
void add_sid(po::options_description& desc, po::positional_options_description& pos);
uint32_t sid_req(const po::variables_map& vm);
std::optional<uint32_t> sid_opt(const po::variables_map& vm);

// Reporting flags by name (nested,l1) or number (0xe); UsageError naming `opt`.
uint32_t flags_arg(const std::string& s, const char* opt);

// The subcommand `word` stands for (exact, alias, or unambiguous prefix).
const char* subcommand(const std::string& word, const std::vector<iopf::cli::Word>& table);

// JSON output: the command's own --json, or the global -j/-p.
bool json_wanted(const po::variables_map& vm, const Io& io);
// One JSON value: a line, or indented with -p.
void print_json(Io& io, const iopf::Json& j);
// Compact JSON text indented by two spaces per level.
std::string pretty_json(std::string_view compact);

// One fault per line, human readable (watch).
std::string fault_line(const iopf::Fault& f);
std::string resume_line(const iopf::Resume& r);

// A fault table. `actions` (same length, optional) adds an ACTION column.
std::string fault_table(const std::vector<iopf::Fault>& faults,
                        const std::vector<std::string>* actions = nullptr);

void print_json_line(std::ostream& os, const iopf::Json& j);

} // namespace iopfctl
