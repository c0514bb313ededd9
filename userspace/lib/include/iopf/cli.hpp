// SPDX-License-Identifier: GPL-2.0
// Command-line conventions shared by iopfctl and iopfd: boost's parser with
// the tools' own wording, and iproute2-style word matching (exact name,
// alias, or an unambiguous prefix).
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

namespace iopf::cli {

namespace po = boost::program_options;

// A command line that does not parse; what() is the tools' wording.
class CommandLineError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Parses `args` (unambiguous option prefixes accepted). Positional arguments
// beyond `pos` are refused by name ("unexpected argument 'x'"). Throws
// CommandLineError.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* pos = nullptr);

// boost's exception in the tools' own words.
std::string describe(const po::error& e);

struct Word {
    const char* name;               // canonical
    std::vector<const char*> alias; // other spellings
};

// The canonical name `word` stands for: an exact name or alias first, else
// the only name or alias it is a prefix of. Throws CommandLineError
// "unknown WHAT 'x' (expected a, b, c)" or "ambiguous WHAT 'x' (a, b)".
const char* match(std::string_view word, const std::vector<Word>& table, std::string_view what);

// Flushes `out`; false (errno set) if anything written to it failed.
bool flush_ok(std::ostream& out);

} // namespace iopf::cli
