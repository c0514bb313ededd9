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
  FILE holds a kernel log (dmesg with or without -T/-x/-r, journalctl -k,
  /dev/kmsg records). Each record arm-smmu-v3 or iopf_testbed logged
  ("event 0x10 received:" and four lines ending in 0x%016llx, from the same
  device) is injected again; the decoded lines of newer kernels are checked
  against the words. Other lines are skipped, and never end or feed a record.
  Errors (exit status 1, after the complete records were injected): a record
  that cannot be completed, named by its line; decoded lines that disagree
  with the words. Warnings: the log itself lost events (callbacks suppressed,
  EVTQ overflow).
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
        io.err << fmt::format("iopfctl replay: {}: warning: {}\n", path, w);
    for (const auto& e : res.errors)
        io.err << fmt::format("iopfctl replay: {}: {}\n", path, e);
    if (res.records.empty()) {
        if (!res.ok())
            return 1;
        throw iopf::ParseError(fmt::format("{}: no event records found", path));
    }
    if (vm.count("dry-run")) {
        io.out << iopf::inject_text(res.records);
        return res.ok() ? 0 : 1;
    }
    const std::string dir = vm["debugfs"].as<std::string>();
    std::size_t writes = iopf::inject_records(dir, res.records);
    io.out << fmt::format("replayed {} record{} from {} ({} other lines skipped)\n",
                          res.records.size(), res.records.size() == 1 ? "" : "s", path,
                          res.skipped_lines);
    if (vm.count("verbose"))
        io.out << fmt::format("{} write{} to {}/inject\n", writes, writes == 1 ? "" : "s", dir);
    if (!res.ok())
        io.err << fmt::format("iopfctl replay: {}: {} error{}: the replay is not the whole log\n",
                              path, res.errors.size(), res.errors.size() == 1 ? "" : "s");
    return res.ok() ? 0 : 1;
}

} // namespace iopfctl
