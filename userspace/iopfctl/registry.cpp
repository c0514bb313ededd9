// SPDX-License-Identifier: GPL-2.0
// The command table and the dispatcher: nothing else.
#include <ostream>

#include <fmt/core.h>

#include "commands.hpp"
#include "iopf/error.hpp"

namespace iopfctl {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"dev", "create, delete and list devices", kDevUsage, cmd_dev},
        {"flags", "register, update and show reporting flags", kFlagsUsage, cmd_flags},
        {"inject", "inject event records through debugfs", kInjectUsage, cmd_inject},
        {"replay", "inject the records of a kernel-log dump", kReplayUsage, cmd_replay},
        {"respond", "answer a pending page request", kRespondUsage, cmd_respond},
        {"watch", "stream faults and resumes live", kWatchUsage, cmd_watch},
        {"faults", "list the faults the daemon collected", kFaultsUsage, cmd_faults},
        {"stats", "summarise the daemon's store (and the module's counters)", kStatsUsage,
         cmd_stats},
        {"decode", "decode an event record offline", kDecodeUsage, cmd_decode},
        {"script", "replay an op stream, checked against the model", kScriptUsage, cmd_script},
    };
    return table;
}

namespace {

void print_overview(std::ostream& os) {
    os << "usage: iopfctl <command> [options]\n\ncommands:\n";
    for (const auto& c : commands())
        os << fmt::format("  {:<8} {}\n", c.name, c.summary);
    os << "\n'iopfctl <command> --help' shows a command's options.\n";
}

} // namespace

int run(const Args& argv, Io& io) {
    if (argv.empty()) {
        print_overview(io.err);
        return 2;
    }
    if (argv[0] == "-h" || argv[0] == "--help" || argv[0] == "help") {
        print_overview(io.out);
        return 0;
    }
    const Command* cmd = nullptr;
    for (const auto& c : commands())
        if (argv[0] == c.name)
            cmd = &c;
    if (!cmd) {
        io.err << fmt::format("iopfctl: unknown command '{}'\n", argv[0]);
        print_overview(io.err);
        return 2;
    }
    Args rest(argv.begin() + 1, argv.end());
    for (const auto& a : rest) {
        if (a == "-h" || a == "--help") {
            io.out << cmd->usage;
            return 0;
        }
    }
    try {
        return cmd->handler(rest, io);
    } catch (const UsageError& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what()) << cmd->usage;
        return 2;
    } catch (const iopf::Error& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what());
        return 1;
    } catch (const iopf::ParseError& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what());
        return 1;
    } catch (const std::exception& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what());
        return 1;
    }
}

} // namespace iopfctl
