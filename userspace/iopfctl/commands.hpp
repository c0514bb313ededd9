// SPDX-License-Identifier: GPL-2.0
// iopfctl's command table: one entry per command group, one file each.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace iopfctl {

using Args = std::vector<std::string>;

struct Io {
    std::ostream& out;
    std::ostream& err;
    // Global options, given before the command (iproute2's -j and -p).
    bool json = false;   // -j/--json: JSON output wherever there is output
    bool pretty = false; // -p/--pretty: indented JSON (implies -j)
};

using Handler = int (*)(const Args& args, Io& io);

struct Command {
    const char* name;
    const char* summary;
    const char* usage; // full usage text, printed on usage errors and --help
    Handler handler;
};

// A command line that does not parse: exit status 2, usage printed.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

const std::vector<Command>& commands();

// Dispatch argv (without the program name). Returns the exit status:
// 0 success, 1 failure (also: stdout could not be written), 2 usage error.
int run(const Args& argv, Io& io);

// The program's version (the CMake project's).
const char* version();

// Handlers (cmd_*.cpp). `args` follow the group's name.
int cmd_dev(const Args& args, Io& io);
int cmd_flags(const Args& args, Io& io);
int cmd_inject(const Args& args, Io& io);
int cmd_replay(const Args& args, Io& io);
int cmd_respond(const Args& args, Io& io);
int cmd_watch(const Args& args, Io& io);
int cmd_faults(const Args& args, Io& io);
int cmd_stats(const Args& args, Io& io);
int cmd_decode(const Args& args, Io& io);
// cmd_stages.cpp: the two-stage access model
int cmd_map(const Args& args, Io& io);
int cmd_unmap(const Args& args, Io& io);
int cmd_maps(const Args& args, Io& io);
int cmd_ttb(const Args& args, Io& io);
int cmd_access(const Args& args, Io& io);
int cmd_accesses(const Args& args, Io& io);
// cmd_script.cpp: built with the difftest model it replays against
int cmd_script(const Args& args, Io& io);
// cmd_scenario.cpp: declarative scenarios (scenario_model, scenario_run)
int cmd_scenario(const Args& args, Io& io);

extern const char* const kDevUsage;
extern const char* const kFlagsUsage;
extern const char* const kInjectUsage;
extern const char* const kReplayUsage;
extern const char* const kRespondUsage;
extern const char* const kWatchUsage;
extern const char* const kFaultsUsage;
extern const char* const kStatsUsage;
extern const char* const kDecodeUsage;
extern const char* const kScriptUsage;
extern const char* const kMapUsage;
extern const char* const kUnmapUsage;
extern const char* const kMapsUsage;
extern const char* const kTtbUsage;
extern const char* const kAccessUsage;
extern const char* const kAccessesUsage;
extern const char* const kScenarioUsage;

} // namespace iopfctl
