// SPDX-License-Identifier: GPL-2.0 OR MIT
// Runs iopfctl's command table in-process and captures what it prints:
// the unit tests' one way to call the CLI.
#pragma once

#include <sstream>
#include <string>
#include <utility>

#include "commands.hpp"
#include "output.hpp"

namespace iopf_test {

struct Run {
    int rc;
    std::string out, err;
};

inline Run ctl(iopfctl::Args args) {
    std::ostringstream out, err;
    iopfctl::Io io{out, err};
    int rc = iopfctl::run(std::move(args), io);
    return {rc, out.str(), err.str()};
}

inline std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

} // namespace iopf_test
