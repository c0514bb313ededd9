// SPDX-License-Identifier: GPL-2.0
// iopfctl script: replay an op stream (Documentation/difftest.md) against the
// module, printing each op's outcome and notifications; with a fresh module
// each is checked against the reference model, as iopf_difftest does.
#include <fstream>
#include <iostream>

#include <fmt/core.h>

#include "difftest/executor.hpp"
#include "difftest/model.hpp"
#include "difftest/op.hpp"
#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "output.hpp"

namespace iopfctl {

// Declared in registry.cpp, next to the command's table entry.
extern const char* const kScriptUsage;
int cmd_script(const Args& args, Io& io);

const char* const kScriptUsage = R"(usage: iopfctl script FILE|- [--fresh] [--no-check] [--stop] [--check-every N]
                      [--module PATH] [--module-params STR] [--debugfs DIR]
  FILE holds one op per line (iopf_difftest's reproducers, or by hand):
    dev_add SID | dev_del SID | unregister SID | register SID FLAGS
    update SID mask=M set=FLAGS | inject W0 W1 W2 W3 | reload
    respond SID grpid=N pasid=N|- code=success|invalid|failure|N
  Each op prints its result and the notifications it caused. When the module
  is fresh (nothing injected, no device), every op is checked against the
  reference model: errno, notifications, and (every N ops, default 1)
  counters, devices and pending requests; mismatches are marked.
  --fresh        reload the module first if it has state (insmod if absent)
  --no-check     only run and print
  --stop         stop at the first mismatch
  --module PATH  the module reload ops load (default /lib/modules/iopf_testbed.ko)
example: iopfctl script repro.txt --fresh --stop
)";

int cmd_script(const Args& args, Io& io) {
    po::options_description desc("script");
    desc.add_options()("file", po::value<std::string>())("fresh", "")("no-check", "")("stop", "")(
        "check-every", po::value<std::string>())(
        "module", po::value<std::string>()->default_value("/lib/modules/iopf_testbed.ko"))(
        "module-params", po::value<std::string>()->default_value(""))(
        "debugfs", po::value<std::string>()->default_value(iopf::kDefaultDebugfs));
    po::positional_options_description pos;
    pos.add("file", 1);
    auto vm = parse_options(args, desc, &pos);
    if (!vm.count("file"))
        throw UsageError("missing FILE");
    const std::string path = vm["file"].as<std::string>();

    std::vector<difftest::Op> ops;
    if (path == "-") {
        ops = difftest::parse_stream(std::cin, "<stdin>");
    } else {
        std::ifstream in = iopf::open_input(path, "opening");
        ops = difftest::parse_stream(in, path);
    }

    difftest::ExecConfig ec;
    ec.debugfs = vm["debugfs"].as<std::string>();
    ec.module_path = vm["module"].as<std::string>();
    ec.module_params = vm["module-params"].as<std::string>();
    ec.check_every = static_cast<unsigned>(count_opt(vm, "check-every", UINT32_MAX).value_or(1));
    difftest::Executor ex(ec);
    if (vm.count("fresh"))
        ex.make_fresh();
    else if (!difftest::module_loaded())
        throw iopf::Error(ENOENT, "iopf_testbed is not loaded (--fresh loads it)");
    bool check = !vm.count("no-check");
    if (check && !ex.is_fresh()) {
        io.err << "iopfctl script: the module has state (records or devices): outcomes are not "
                  "checked (--fresh reloads it first)\n";
        check = false;
    }
    ex.set_compare(check);

    auto print = [&](const difftest::OpReport& r) {
        io.out << fmt::format("{:5} {} -> {}\n", r.index + 1, difftest::format_op(*r.op),
                              difftest::errno_name(r.got_err));
        for (const auto& e : r.got)
            io.out << "        " << difftest::format_event(e) << '\n';
        for (const auto& d : r.diffs)
            io.out << "        MISMATCH " << d << '\n';
        for (const auto& d : r.state_diffs)
            io.out << "        MISMATCH (state) " << d << '\n';
    };
    auto res = ex.run(ops, print, !vm.count("stop"));
    io.out << fmt::format("{} of {} ops run, {} faults, {} resumes, {}\n", res.ops_run, ops.size(),
                          res.faults, res.resumes,
                          check ? fmt::format("{} mismatches", res.mismatches.size())
                                : std::string("not checked"));
    return res.ok() ? 0 : 1;
}

} // namespace iopfctl
