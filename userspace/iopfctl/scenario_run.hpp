// SPDX-License-Identifier: GPL-2.0
// Running a scenario against the module and a real iopfd: the runner writes
// iopfd's configuration, starts it, waits for it to be ready, sets the
// tables up, runs the steps (one access at a time, each waited for through
// its ACCESS_NTF), gathers the outcome and stops iopfd.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "scenario_model.hpp"

namespace iopfctl::scenario {

struct RunOptions {
    std::string iopfd;   // the daemon's program
    std::string workdir; // iopfd's config, store, ready file and log go here
    bool keep = false;   // keep the devices after the run
    // The road, over the file's `delivery` and `pin_stage2` when given.
    std::optional<Delivery> delivery;
    std::optional<bool> pin_stage2;

    Road road_of(const Scenario& s) const;
};

// Runs `s` on opt.road_of(s) (Outcome::road); what went wrong in the run
// itself is in Outcome::errors; a road the kernel does not have, in
// Outcome::skip (nothing ran). Check the outcome against s.on_road(o.road).
// Progress and iopfd's log (on errors) go to `diag` as "# " lines.
Outcome run(const Scenario& s, const RunOptions& opt, std::ostream& diag);

} // namespace iopfctl::scenario
