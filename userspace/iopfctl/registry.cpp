// SPDX-License-Identifier: GPL-2.0
// The command table and the dispatcher: global options, command names
// (exact, alias or unambiguous prefix), errors, and stdout's fate.
#include <cerrno>
#include <cstring>
#include <ostream>

#include <fmt/core.h>

#include "commands.hpp"
#include "iopf/cli.hpp"
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
        {"map", "map pages in a device's stage-1 or stage-2 table", kMapUsage, cmd_map},
        {"unmap", "unmap pages of a stage table", kUnmapUsage, cmd_unmap},
        {"maps", "list a stage table's mappings", kMapsUsage, cmd_maps},
        {"ttb", "set a stage-1 table base (read by nested walks)", kTtbUsage, cmd_ttb},
        {"access", "run a DMA access through the device's stages", kAccessUsage, cmd_access},
        {"accesses", "list the accesses and their state", kAccessesUsage, cmd_accesses},
        {"scenario", "run declarative scenarios (YAML) against the module and iopfd",
         kScenarioUsage, cmd_scenario},
    };
    return table;
}

const char* version() {
    return IOPF_VERSION;
}

namespace {

void print_overview(std::ostream& os) {
    os << "usage: iopfctl [-j|--json] [-p|--pretty] <command> [options]\n"
          "       iopfctl -V|--version\n\ncommands:\n";
    for (const auto& c : commands())
        os << fmt::format("  {:<8} {}\n", c.name, c.summary);
    os << "\nA command (and a subcommand) may be shortened to an unambiguous prefix.\n"
          "-j prints JSON, -p indented JSON. 'iopfctl <command> --help' shows its options.\n"
          "\nexample: iopfctl -j dev show\n";
}

// Dispatch after the global options; stdout is checked by run().
int dispatch(const Args& argv, std::size_t first, Io& io) {
    if (first == argv.size()) {
        print_overview(io.err);
        return 2;
    }
    const std::string& word = argv[first];
    if (word == "help") {
        print_overview(io.out);
        return 0;
    }
    const Command* cmd = nullptr;
    try {
        std::vector<iopf::cli::Word> names;
        for (const auto& c : commands())
            names.push_back({c.name, {}});
        const char* name = iopf::cli::match(word, names, "command");
        for (const auto& c : commands())
            if (name == c.name)
                cmd = &c;
    } catch (const iopf::cli::CommandLineError& e) {
        io.err << fmt::format("iopfctl: {}\n", e.what());
        print_overview(io.err);
        return 2;
    }
    Args rest(argv.begin() + static_cast<std::ptrdiff_t>(first) + 1, argv.end());
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
    } catch (const iopf::cli::CommandLineError& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what()) << cmd->usage;
        return 2;
    } catch (const std::exception& e) {
        io.err << fmt::format("iopfctl {}: {}\n", cmd->name, e.what());
        return 1;
    }
}

} // namespace

int run(const Args& argv, Io& io) {
    std::size_t i = 0;
    for (; i < argv.size() && argv[i].size() > 1 && argv[i][0] == '-'; i++) {
        const std::string& a = argv[i];
        if (a == "-j" || a == "--json") {
            io.json = true;
        } else if (a == "-p" || a == "--pretty") {
            io.json = io.pretty = true;
        } else if (a == "-jp" || a == "-pj") {
            io.json = io.pretty = true;
        } else if (a == "-V" || a == "--version") {
            io.out << "iopfctl " << version() << '\n';
            return iopf::cli::flush_ok(io.out) ? 0 : 1;
        } else if (a == "-h" || a == "--help") {
            print_overview(io.out);
            return iopf::cli::flush_ok(io.out) ? 0 : 1;
        } else {
            io.err << fmt::format("iopfctl: unknown option '{}'\n", a);
            print_overview(io.err);
            return 2;
        }
    }
    int rc = dispatch(argv, i, io);
    // A full disk or a closed pipe is a failure, not a silent success.
    if (!iopf::cli::flush_ok(io.out)) {
        int err = errno;
        io.err << fmt::format("iopfctl: writing output: {}\n",
                              err ? std::strerror(err) : "write error");
        return rc ? rc : 1;
    }
    return rc;
}

} // namespace iopfctl
