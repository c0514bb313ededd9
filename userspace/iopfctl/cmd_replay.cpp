// SPDX-License-Identifier: GPL-2.0
// iopfctl replay: re-inject the records of a kernel-log dump.
#include <fstream>
#include <iostream>

#include <fmt/core.h>

#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/replay.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kReplayUsage = R"(usage: iopfctl replay FILE|- [--dry-run] [-v] [--debugfs DIR]
  FILE holds kernel-log lines: "event 0x10 received:" followed by four lines
  each ending in 0x%016llx (arm-smmu-v3's and iopf_testbed's format), with or
  without dmesg prefixes; other lines are skipped.
  --dry-run    print the records instead of injecting them
  --verbose    (-v) also say how many writes it took (1024 records at most each)
example: dmesg | iopfctl replay - --dry-run
)";

int cmd_replay(const Args& args, Io& io) {
    po::options_description desc("replay");
    desc.add_options()("file", po::value<std::string>())("dry-run", "")("verbose,v", "")(
        "debugfs", po::value<std::string>()->default_value(iopf::kDefaultDebugfs));
    po::positional_options_description pos;
    pos.add("file", 1);
    auto vm = parse_options(args, desc, &pos);
    if (!vm.count("file"))
        throw UsageError("missing FILE");
    const std::string path = vm["file"].as<std::string>();

    iopf::ReplayResult res;
    if (path == "-") {
        res = iopf::parse_replay(std::cin);
    } else {
        std::ifstream in = iopf::open_input(path, "opening");
        res = iopf::parse_replay(in);
    }
    for (const auto& w : res.warnings)
        io.err << fmt::format("iopfctl replay: {}: {}\n", path, w);
    if (res.records.empty())
        throw iopf::ParseError(fmt::format("{}: no event records found", path));
    if (vm.count("dry-run")) {
        io.out << iopf::inject_text(res.records);
        return 0;
    }
    const std::string dir = vm["debugfs"].as<std::string>();
    std::size_t writes = iopf::inject_records(dir, res.records);
    io.out << fmt::format("replayed {} record{} from {} ({} other lines skipped)\n",
                          res.records.size(), res.records.size() == 1 ? "" : "s", path,
                          res.skipped_lines);
    if (vm.count("verbose"))
        io.out << fmt::format("{} write{} to {}/inject\n", writes, writes == 1 ? "" : "s", dir);
    return 0;
}

} // namespace iopfctl
