// SPDX-License-Identifier: GPL-2.0
// Running a scenario against the module and a real iopfd: the runner writes
// iopfd's configuration, starts it, waits for it to be ready, sets the
// tables up, runs the steps (one access at a time, each waited for through
// its ACCESS_NTF), gathers the outcome and stops iopfd.
#pragma once

#include <ostream>
#include <string>

#include "scenario_model.hpp"

namespace iopfctl::scenario {

struct RunOptions {
    std::string iopfd;   // the daemon's program
    std::string workdir; // iopfd's config, store, ready file and log go here
    bool keep = false;   // keep the devices after the run
};

// Runs `s`; what went wrong in the run itself is in Outcome::errors.
// Progress and iopfd's log (on errors) go to `diag` as "# " lines.
Outcome run(const Scenario& s, const RunOptions& opt, std::ostream& diag);

} // namespace iopfctl::scenario
