// SPDX-License-Identifier: GPL-2.0
// iopfd's command line.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace iopfd {

// Exit statuses (iopfd(8)). A configuration error is not worth a restart:
// the unit's RestartPreventExitStatus= names it.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1; // at run time, or the store is in use
inline constexpr int kExitUsage = 2;   // the command line
inline constexpr int kExitConfig = 78; // the configuration file (EX_CONFIG)

struct Options {
    std::string config;                // config file path
    std::optional<std::string> store;  // overrides the config's store
    std::optional<std::size_t> rcvbuf; // overrides the config's rcvbuf
    std::optional<std::string> ready_file;
    unsigned poll_ms = 1000; // family re-check interval
    // Quiet time (no notification) before a sync point counts the tail.
    unsigned sync_idle_ms = 100;
    bool verbose = false;
    bool check_config = false; // --check-config: parse, report, exit
};

// Parses argv (without the program name). Returns nullopt after printing
// help or the version to `out`; throws std::invalid_argument with a
// one-line message on usage errors (usage text in `usage`).
std::optional<Options> parse_options(const std::vector<std::string>& args, std::ostream& out,
                                     std::string* usage = nullptr);

} // namespace iopfd
