// SPDX-License-Identifier: GPL-2.0
// iopfd's command line.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace iopfd {

struct Options {
    std::string config;                // config file path
    std::optional<std::string> store;  // overrides the config's store
    std::optional<std::size_t> rcvbuf; // overrides the config's rcvbuf
    std::optional<std::string> ready_file;
    unsigned poll_ms = 1000; // family re-check interval
    // Quiet time (no notification) before a sync point counts the tail.
    unsigned sync_idle_ms = 100;
    bool verbose = false;
};

// Parses argv (without the program name). Returns nullopt after printing
// help to `out`; throws std::invalid_argument with a one-line message on
// usage errors (usage text in `usage`).
std::optional<Options> parse_options(const std::vector<std::string>& args, std::ostream& out,
                                     std::string* usage = nullptr);

} // namespace iopfd
