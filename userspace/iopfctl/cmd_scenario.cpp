// SPDX-License-Identifier: GPL-2.0
// iopfctl scenario run|check: declarative scenarios (Documentation/scenarios.md).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>

#include <fmt/core.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/json.hpp"
#include "iopf/names.hpp"
#include "output.hpp"
#include "scenario_model.hpp"
#include "scenario_run.hpp"

namespace iopfctl {

const char* const kScenarioUsage =
    R"(usage: iopfctl scenario run FILE... [--json OUT] [--iopfd PATH] [--workdir DIR] [--keep]
                             [--delivery netlink|iommufd] [--pin-stage2]
       iopfctl scenario check FILE... [--list]
       iopfctl scenario table SUMMARY.json...
  run: runs each scenario (YAML, see iopfctl-scenario(8)) against the loaded
  module and an iopfd it starts with the scenario's policies, one at a
  time, and prints KTAP: one case per scenario, scenario.<name>, with a
  diagnostic line per expectation not met. Exit 1 if any scenario fails.
  --json OUT: the summaries (faults per access, L1/L2, latency p50/p99,
  stage-2 pages, RESUME outcomes, accesses by end) as a JSON array.
  --iopfd PATH: the daemon (default: iopfd beside iopfctl, else $PATH).
  --workdir DIR: iopfd's config, store and log, one directory per
  scenario (default: a new directory under $TMPDIR, removed when every
  scenario passed). --keep: keep the devices after each scenario.
  --delivery: the road, over the file's `delivery` (netlink: the RFC's,
  the default; iommufd: upstream's, iopfd nested=on, the file's on_iommufd
  expectations apply; a kernel without iommufd SKIPs with the module's
  reason). --pin-stage2: on iommufd, pin stage 2 before the steps (the
  file's on_iommufd_pinned expectations apply too). A case off netlink is
  named scenario.<name>.iommufd or scenario.<name>.iommufd-pinned.
  table: the roads side by side, a markdown row per scenario, from --json
  summaries.
  check: parses and validates the files without running them; --list
  also prints iopfd's configuration and every access the steps make.
example: iopfctl scenario run tests/scenarios/*.yaml --json /tmp/summary.json
)";

namespace {

namespace fs = std::filesystem;

std::vector<std::string> files_arg(const po::variables_map& vm) {
    if (!vm.count("file"))
        throw UsageError("no scenario FILE given");
    return vm["file"].as<std::vector<std::string>>();
}

// iopfd beside this program (an install, the guest image, the build tree's
// userspace/iopfd), else from $PATH.
std::string default_iopfd() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const fs::path& p :
             {self.parent_path() / "iopfd", self.parent_path().parent_path() / "iopfd" / "iopfd"})
            if (access(p.c_str(), X_OK) == 0)
                return p.string();
    }
    return "iopfd";
}

std::string base_name(const std::string& file) {
    return fs::path(file).stem().string();
}

int scenario_check(const Args& args, Io& io) {
    po::options_description desc("scenario check");
    po::positional_options_description pos;
    desc.add_options()("file", po::value<std::vector<std::string>>())("list", "");
    pos.add("file", -1);
    auto vm = parse_options(args, desc, &pos);
    const bool list = vm.count("list") > 0;
    int rc = 0;
    for (const auto& f : files_arg(vm)) {
        try {
            scenario::Scenario s = scenario::load(f);
            io.out << fmt::format("{}: scenario {}: {} device(s), {} step(s), {} access(es)\n", f,
                                  s.name, s.devices.size(), s.steps.size(), s.access_count());
            if (!list)
                continue;
            io.out << s.iopfd_config();
            if (s.iommufd_unfit().empty()) {
                scenario::Road r{scenario::Delivery::iommufd, s.pin_stage2};
                io.out << "# on upstream's road (--delivery iommufd):\n" << s.iopfd_config(r);
                for (const auto& m : s.stage2_pins())
                    io.out << fmt::format("# pin_stage2: sid {:#x} stage 2 {:#x}+{:#x} rw\n", m.sid,
                                          m.addr, m.len);
            }
            for (size_t i = 0; i < s.steps.size(); i++) {
                const auto& st = s.steps[i];
                io.out << fmt::format("step {} ({}, line {})\n", i, st.kind, st.line);
                if (const auto* a = std::get_if<scenario::AccessStep>(&st.what))
                    for (const auto& x : a->accesses)
                        io.out << fmt::format(
                            "  access sid {:#x}{} {:#x}+{:#x} {}{}\n", x.sid,
                            x.pasid ? fmt::format(" pasid {}", *x.pasid) : std::string(), x.addr,
                            x.len, iopf::perm_letters(x.perm), x.stall ? " stall" : "");
            }
        } catch (const scenario::Error& e) {
            io.err << e.what() << '\n';
            rc = 1;
        } catch (const iopf::Error& e) {
            io.err << e.what() << '\n';
            rc = 1;
        }
    }
    return rc;
}

int scenario_table(const Args& args, Io& io) {
    po::options_description desc("scenario table");
    po::positional_options_description pos;
    desc.add_options()("file", po::value<std::vector<std::string>>());
    pos.add("file", -1);
    auto vm = parse_options(args, desc, &pos);
    std::vector<iopf::Json> all;
    for (const auto& f : files_arg(vm)) {
        std::ifstream in = iopf::open_input(f, "summary");
        std::ostringstream ss;
        ss << in.rdbuf();
        iopf::Json j = iopf::Json::parse(ss.str());
        for (const auto& x : j.as_array())
            all.push_back(x);
    }
    io.out << scenario::roads_table(all);
    return 0;
}

// The KTAP case of a scenario on a road.
std::string case_name(const std::string& name, const scenario::Road& r) {
    if (r.delivery == scenario::Delivery::netlink)
        return "scenario." + name;
    return fmt::format("scenario.{}.{}", name, r.pin_stage2 ? "iommufd-pinned" : "iommufd");
}

int scenario_run(const Args& args, Io& io) {
    po::options_description desc("scenario run");
    po::positional_options_description pos;
    desc.add_options()("file", po::value<std::vector<std::string>>())("json",
                                                                      po::value<std::string>())(
        "iopfd", po::value<std::string>())("workdir", po::value<std::string>())("keep", "")(
        "delivery", po::value<std::string>())("pin-stage2", "");
    pos.add("file", -1);
    auto vm = parse_options(args, desc, &pos);
    const auto files = files_arg(vm);
    scenario::RunOptions opt;
    opt.iopfd = vm.count("iopfd") ? vm["iopfd"].as<std::string>() : default_iopfd();
    opt.keep = vm.count("keep") > 0;
    if (vm.count("delivery")) {
        try {
            opt.delivery = scenario::parse_delivery(vm["delivery"].as<std::string>());
        } catch (const scenario::Error& e) {
            throw UsageError(std::string("--delivery ") + e.what());
        }
    }
    if (vm.count("pin-stage2"))
        opt.pin_stage2 = true;
    std::string root;
    bool own_root = false;
    if (vm.count("workdir")) {
        root = vm["workdir"].as<std::string>();
        std::error_code ec;
        fs::create_directories(root, ec);
        if (ec)
            throw iopf::Error(ec.value(), "--workdir " + root);
    } else {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/iopfctl-scenario.XXXXXX";
        if (!mkdtemp(templ.data()))
            throw iopf::Error(errno, "mkdtemp " + templ);
        root = templ;
        own_root = true;
    }

    io.out << "KTAP version 1\n" << fmt::format("1..{}\n", files.size());
    io.out.flush();
    iopf::Json summaries = iopf::Json::array();
    unsigned pass = 0, fail = 0, skip = 0;
    for (size_t i = 0; i < files.size(); i++) {
        const std::string& f = files[i];
        std::string name = base_name(f);
        std::vector<std::string> failures;
        std::optional<std::string> skipped;
        scenario::Road road;
        road.delivery = opt.delivery.value_or(scenario::Delivery::netlink);
        road.pin_stage2 = road.delivery == scenario::Delivery::iommufd && opt.pin_stage2;
        try {
            scenario::Scenario s = scenario::load(f);
            name = s.name;
            road = opt.road_of(s);
            opt.workdir = root + "/" + s.name;
            std::error_code ec;
            fs::create_directories(opt.workdir, ec);
            if (ec)
                throw iopf::Error(ec.value(), "creating " + opt.workdir);
            io.out << fmt::format("# scenario {} ({}): {} access(es), road {}\n", s.name, f,
                                  s.access_count(), road.name());
            scenario::Outcome o = scenario::run(s, opt, io.out);
            if (o.skip) { // the road is not there: nothing ran
                skipped = o.skip;
                summaries.push(scenario::summary(s, o, {}));
            } else {
                const scenario::Scenario expected = s.on_road(o.road);
                failures = scenario::check(expected, o);
                iopf::Json j = scenario::summary(expected, o, failures);
                const iopf::Json& fa = j.at("faults");
                const iopf::Json& lat = j.at("latency_us");
                io.out << fmt::format(
                    "# {}: faults {} (L1 {}, L2 {}), {:.2f} per access; latency "
                    "p50 {} us, p99 {} us, mean {} us; stage-2 pages {}\n",
                    s.name, fa.at("total").as_u64(), fa.at("l1").as_u64(), fa.at("l2").as_u64(),
                    s.access_count()
                        ? static_cast<double>(fa.at("total").as_u64()) / s.access_count()
                        : 0.0,
                    lat.at("p50").as_u64(), lat.at("p99").as_u64(), lat.at("mean").as_u64(),
                    j.at("stage2_pages").as_u64());
                if (const iopf::Json* u = j.find("upstream"))
                    io.out << fmt::format(
                        "# {}: upstream's road{}: completed {}/{}; page requests delivered {}; "
                        "stage-2 faults {} (delivered as if stage 1: {}, dropped: {}); vEVENTQ "
                        "records {}; not completed {}\n",
                        s.name, o.road.pin_stage2 ? ", stage 2 pinned" : "",
                        j.at("accesses").at("completed").as_u64(),
                        j.at("accesses").at("total").as_u64(), u->at("delivered").as_u64(),
                        u->at("l2_faults").as_u64(), u->at("s2_as_s1").as_u64(),
                        u->at("dropped").as_u64(), u->at("vevents").as_u64(),
                        u->at("not_completed").as_u64());
                summaries.push(j);
            }
        } catch (const std::exception& e) { // a file that does not parse, a bad --workdir
            failures.push_back(e.what());
        }
        for (const auto& x : failures)
            io.out << "# " << x << '\n';
        if (skipped) {
            skip++;
            io.out << fmt::format("ok {} {} # SKIP {}\n", i + 1, case_name(name, road), *skipped);
        } else if (failures.empty()) {
            pass++;
            io.out << fmt::format("ok {} {}\n", i + 1, case_name(name, road));
        } else {
            fail++;
            io.out << fmt::format("not ok {} {}\n", i + 1, case_name(name, road));
        }
        io.out.flush();
    }
    io.out << fmt::format("# Totals: pass:{} fail:{} skip:{}\n", pass, fail, skip);
    if (vm.count("json")) {
        const std::string out = vm["json"].as<std::string>();
        std::ofstream js(out, std::ios::trunc);
        js << summaries.dump() << '\n';
        if (!js.flush())
            throw iopf::Error(errno ? errno : EIO, "writing " + out);
    }
    if (own_root && fail == 0) {
        std::error_code ec;
        fs::remove_all(root, ec);
    } else if (fail) {
        io.out << fmt::format("# iopfd's configs, stores and logs: {}\n", root);
    }
    return fail ? 1 : 0;
}

} // namespace

int cmd_scenario(const Args& args, Io& io) {
    if (args.empty())
        throw UsageError("missing subcommand (run, check)");
    const std::string sub =
        subcommand(args[0], {{"run", {}}, {"check", {"validate"}}, {"table", {}}});
    const Args rest(args.begin() + 1, args.end());
    if (sub == "table")
        return scenario_table(rest, io);
    return sub == "run" ? scenario_run(rest, io) : scenario_check(rest, io);
}

} // namespace iopfctl
