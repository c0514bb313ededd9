// SPDX-License-Identifier: GPL-2.0
// iopf_difftest: randomized differential checking of iopf_testbed against
// the reference model. Generates a stream from a seed, predicts every op with
// the model and (in the guest) runs it against the module, comparing op by
// op. The first mismatch is written as a replayable stream, trimmed to the
// failing prefix and minimised by delta debugging.
//
//   iopf_difftest [--seed S] [--ops N] [--out FILE] [--model-only] ...
//   iopf_difftest --replay FILE [--model-only]
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "difftest/executor.hpp"
#include "difftest/generator.hpp"
#include "difftest/model.hpp"
#include "difftest/op.hpp"
#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/names.hpp"

namespace po = boost::program_options;
using namespace difftest;

namespace {

const char* const kUsage = R"(usage: iopf_difftest [options]
  --seed S             generator seed (default: from the clock; printed first)
  --ops N              ops to generate (default 20000)
  --replay FILE        run the ops of FILE instead of generating
  --model-only         predict only (no module needed): a summary of the stream
  --dump FILE          write the generated stream, annotated with predictions
  --out FILE           where a mismatch's reproducer goes (default difftest-repro.txt)
  --check-every N      compare counters, devices and pending lists every N ops (default 16)
  --reload-one-in N    one op in N is a module reload (default 2500, 0 never)
  --access-per-mille N ops of the two-stage access model (stage modes, maps,
                       reclaims, TTBs, DMA accesses and their fix-ups) per
                       1000 others (default 250, 0 none)
  --no-minimize        write the failing prefix without delta debugging
  --min-seconds S      time budget of the minimisation (default 120)
  --module PATH        the module for reloads (default /lib/modules/iopf_testbed.ko)
  --module-params STR  its parameters, e.g. quirks=4
  --debugfs DIR        default /sys/kernel/debug/iopf_testbed
  --reload-first       reload the module before the run even when it is fresh
                       (to load it with --module-params)
  --keep-going         report every mismatch, not only the first
  -v, --verbose        print every op and its notifications
Exit status: 0 no mismatch, 1 mismatch (or error), 2 usage.
)";

struct Summary {
    std::map<std::string, uint64_t> ops, errs;
    uint64_t faults = 0, resumes = 0, accesses = 0;
    std::map<uint32_t, uint64_t> origins;
    std::map<std::string, uint64_t> access_ends; // ACCESS_NTF by state
};

Summary summarise(const std::vector<Op>& ops) {
    Summary s;
    Model m;
    for (const auto& op : ops) {
        Outcome o = m.apply(op);
        s.ops[op_name(op.kind)]++;
        s.errs[fmt::format("{} {}", op_name(op.kind), errno_name(o.err))]++;
        for (const auto& e : o.events) {
            if (const auto* r = std::get_if<iopf::Resume>(&e)) {
                s.resumes++;
                s.origins[r->origin]++;
            } else if (const auto* a = std::get_if<iopf::Access>(&e)) {
                s.accesses++;
                s.access_ends[iopf::access_state_name(a->state)]++;
            } else {
                s.faults++;
            }
        }
    }
    return s;
}

void print_summary(const Summary& s) {
    std::cout << "# ops by kind:";
    for (const auto& [k, v] : s.ops)
        std::cout << fmt::format(" {}={}", k, v);
    std::cout << "\n# outcomes:";
    for (const auto& [k, v] : s.errs)
        std::cout << fmt::format(" [{}]={}", k, v);
    std::cout << fmt::format("\n# predicted: {} faults, {} resumes (", s.faults, s.resumes);
    for (const auto& [o, v] : s.origins)
        std::cout << fmt::format(" {}={}", iopf::origin_name(o), v);
    std::cout << fmt::format(" ), {} accesses ended (", s.accesses);
    for (const auto& [k, v] : s.access_ends)
        std::cout << fmt::format(" {}={}", k, v);
    std::cout << " )\n";
}

void write_file(const std::string& path, const std::vector<Op>& ops,
                const std::vector<std::string>& header) {
    std::ofstream out(path);
    if (!out)
        throw iopf::Error(errno ? errno : EIO, "writing " + path);
    write_annotated(out, ops, header);
}

} // namespace

int main(int argc, char** argv) {
    po::options_description desc;
    desc.add_options()("help,h", "")("seed", po::value<uint64_t>())(
        "ops", po::value<std::size_t>()->default_value(20000))("replay", po::value<std::string>())(
        "model-only", "")("dump", po::value<std::string>())(
        "out", po::value<std::string>()->default_value("difftest-repro.txt"))(
        "check-every", po::value<unsigned>()->default_value(16))(
        "reload-one-in", po::value<unsigned>()->default_value(2500))(
        "access-per-mille", po::value<unsigned>()->default_value(250))("no-minimize", "")(
        "min-seconds", po::value<double>()->default_value(120))(
        "module", po::value<std::string>()->default_value("/lib/modules/iopf_testbed.ko"))(
        "module-params", po::value<std::string>()->default_value(""))(
        "debugfs", po::value<std::string>()->default_value("/sys/kernel/debug/iopf_testbed"))(
        "keep-going", "")("verbose,v", "")("reload-first", "");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "iopf_difftest: " << e.what() << '\n' << kUsage;
        return 2;
    }
    if (vm.count("help")) {
        std::cout << kUsage;
        return 0;
    }

    try {
        std::vector<Op> ops;
        std::vector<std::string> header;
        uint64_t seed = 0;
        if (vm.count("replay")) {
            const auto path = vm["replay"].as<std::string>();
            std::ifstream in = iopf::open_input(path, "opening");
            ops = parse_stream(in, path);
            std::cout << fmt::format("# iopf_difftest: replay {} ({} ops)\n", path, ops.size());
            header.push_back("replayed from " + path);
        } else {
            seed = vm.count("seed")
                       ? vm["seed"].as<uint64_t>()
                       : std::random_device{}() ^
                             static_cast<uint64_t>(
                                 std::chrono::system_clock::now().time_since_epoch().count());
            const auto n = vm["ops"].as<std::size_t>();
            // The seed first: whatever happens next, the run can be repeated.
            std::cout << fmt::format("# iopf_difftest: seed {} ops {}\n", seed, n) << std::flush;
            GenConfig gc;
            gc.reload_one_in = vm["reload-one-in"].as<unsigned>();
            gc.access_per_mille = vm["access-per-mille"].as<unsigned>();
            ops = generate(seed, n, gc);
            header.push_back(fmt::format("iopf_difftest --seed {} --ops {} --reload-one-in {} "
                                         "--access-per-mille {}",
                                         seed, n, gc.reload_one_in, gc.access_per_mille));
        }
        if (vm.count("dump"))
            write_file(vm["dump"].as<std::string>(), ops, header);
        if (vm.count("model-only")) {
            print_summary(summarise(ops));
            std::cout << fmt::format("# model only: {} ops predicted\n", ops.size());
            return 0;
        }

        ExecConfig ec;
        ec.debugfs = vm["debugfs"].as<std::string>();
        ec.module_path = vm["module"].as<std::string>();
        ec.module_params = vm["module-params"].as<std::string>();
        ec.check_every = vm["check-every"].as<unsigned>();
        Executor ex(ec);
        if (vm.count("reload-first"))
            ex.reload();
        else
            ex.make_fresh();
        const bool verbose = vm.count("verbose");
        auto t_last = std::chrono::steady_clock::now();
        auto print_op = [&](const OpReport& r) {
            if ((r.index + 1) % 10000 == 0) {
                auto now = std::chrono::steady_clock::now();
                double dt = std::chrono::duration<double>(now - t_last).count();
                t_last = now;
                std::cout << fmt::format("# progress: {} ops, last 10000 at {:.0f} ops/s\n",
                                         r.index + 1, dt > 0 ? 10000 / dt : 0.0)
                          << std::flush;
            }
            if (!verbose && r.diffs.empty() && r.state_diffs.empty())
                return;
            std::cout << fmt::format("# {} {}: {}\n", r.index + 1, format_op(*r.op),
                                     errno_name(r.got_err));
            if (verbose)
                for (const auto& e : r.got)
                    std::cout << "#     " << format_event(e) << '\n';
        };
        RunResult res = ex.run(ops, print_op, vm.count("keep-going"));
        for (const auto& m : res.mismatches)
            std::cout << "# MISMATCH " << m << '\n';
        std::cout << fmt::format("# ran {} of {} ops in {:.1f} s ({:.0f} ops/s): {} faults, {} "
                                 "resumes, {} accesses ended, "
                                 "{} reloads, {} state checks, {} mismatches\n",
                                 res.ops_run, ops.size(), res.seconds,
                                 res.seconds > 0 ? res.ops_run / res.seconds : 0.0, res.faults,
                                 res.resumes, res.accesses_ended, res.reloads, res.checks,
                                 res.mismatches.size());
        if (res.ok())
            return 0;

        // The failing prefix first, so a reproducer exists whatever happens next.
        const auto out = vm["out"].as<std::string>();
        std::vector<Op> prefix(ops.begin(),
                               ops.begin() + static_cast<std::ptrdiff_t>(res.first_bad + 1));
        header.push_back("first mismatch: " + res.mismatches.front());
        header.push_back("replay: iopfctl script FILE --fresh, or iopf_difftest --replay FILE");
        write_file(out, prefix, header);
        std::cout << fmt::format("# reproducer: {} ({} ops, the failing prefix)\n", out,
                                 prefix.size());
        if (!vm.count("no-minimize") && prefix.size() > 1) {
            // Every trial on a fresh module, checked after every op: a
            // minimised stream must fail on its own, wherever it now fails.
            ex.config().check_every = 1;
            ex.set_compare(true);
            unsigned tests = 0;
            auto fails = [&](const std::vector<Op>& cand) {
                ex.make_fresh();
                return !ex.run(cand).ok();
            };
            auto small = minimize(prefix, fails, 100000, vm["min-seconds"].as<double>(), &tests);
            // Once more, to say what the small stream shows.
            ex.make_fresh();
            RunResult r3 = ex.run(small);
            if (!r3.ok()) {
                auto h = header;
                h.back() = fmt::format("minimised from {} ops in {} tests: {}", prefix.size(),
                                       tests, r3.mismatches.front());
                h.push_back("replay: iopfctl script FILE --fresh, or iopf_difftest --replay FILE");
                write_file(out, small, h);
                std::cout << fmt::format("# reproducer: {} ({} ops, minimised in {} tests)\n", out,
                                         small.size(), tests);
                for (const auto& m : r3.mismatches)
                    std::cout << "# minimised MISMATCH " << m << '\n';
            }
        }
        return 1;
    } catch (const std::exception& e) {
        std::cout << "# iopf_difftest: error: " << e.what() << '\n';
        return 1;
    }
}
