// SPDX-License-Identifier: GPL-2.0
// iopfd: the test bed's daemon, in the role of a nested-translation VMM.
#include <csignal>
#include <iostream>

#include <fmt/core.h>

#include "daemon.hpp"
#include "iopf/cli.hpp"
#include "iopf/config.hpp"
#include "iopf/names.hpp"
#include "log.hpp"

namespace {

// --check-config: what the file sets up, and where the command line wins.
void print_config(const iopfd::Options& o, const iopf::Config& c) {
    auto from = [](bool cli, bool file) {
        return cli ? "--store/--rcvbuf" : file ? "config" : "default";
    };
    std::cout << fmt::format("{}: OK, {} device(s)\n", o.config, c.devices.size());
    std::cout << fmt::format("store {} ({})\n",
                             o.store.value_or(c.store.value_or(iopf::kDefaultStore)),
                             from(o.store.has_value(), c.store.has_value()));
    if (o.store && c.store && *o.store != *c.store)
        std::cout << fmt::format("  (the configuration's store {} is overridden)\n", *c.store);
    std::cout << fmt::format("rcvbuf {} ({})\n", o.rcvbuf.value_or(c.rcvbuf.value_or(16u << 20)),
                             from(o.rcvbuf.has_value(), c.rcvbuf.has_value()));
    for (const auto& d : c.devices) {
        if (d.nested) {
            // Upstream's road, nested: the guest's l1 for what is forwarded,
            // l2 for what the walk finds to be stage 2.
            std::cout << fmt::format("device {:#x} flags={} delivery=iommufd nested=on vsid={:#x} "
                                     "veventq_depth={} unattributed={} l1={} l2={}\n",
                                     d.sid, iopf::format_report_flags(d.flags), d.nested->vsid,
                                     d.nested->veventq_depth,
                                     iopf::unattributed_name(d.nested->unattributed),
                                     d.l1.to_string(), d.l2.to_string());
            continue;
        }
        if (d.delivery == iopf::Delivery::iommufd) {
            // Upstream's road: no stage, every page request is l2's.
            std::cout << fmt::format("device {:#x} flags={} delivery=iommufd l2={}\n", d.sid,
                                     iopf::format_report_flags(d.flags), d.l2.to_string());
            continue;
        }
        std::cout << fmt::format(
            "device {:#x} flags={}{} l1={} l2={}\n", d.sid, iopf::format_report_flags(d.flags),
            d.stage_mode ? " stage=" + iopf::stage_mode_name(*d.stage_mode) : std::string(),
            d.l1.to_string(), d.l2.to_string());
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string usage;
    std::optional<iopfd::Options> opts;
    try {
        opts = iopfd::parse_options(std::vector<std::string>(argv + 1, argv + argc), std::cout,
                                    &usage);
    } catch (const std::invalid_argument& e) {
        std::cerr << "iopfd: " << e.what() << '\n' << usage;
        return iopfd::kExitUsage;
    }
    if (!opts)
        return iopf::cli::flush_ok(std::cout) ? iopfd::kExitOk : iopfd::kExitFailure;

    // A configuration error is its own exit status: restarting cannot help.
    iopf::Config cfg;
    try {
        cfg = iopf::load_config(opts->config, iopfd::config_caps());
    } catch (const std::exception& e) {
        iopfd::log_line(iopfd::Severity::err, e.what());
        return iopfd::kExitConfig;
    }
    if (opts->check_config) {
        print_config(*opts, cfg);
        return iopf::cli::flush_ok(std::cout) ? iopfd::kExitOk : iopfd::kExitFailure;
    }

    // Signals are read from a signalfd in the main loop.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        iopfd::Daemon d(*opts, std::move(cfg));
        return d.run();
    } catch (const std::exception& e) {
        iopfd::log_line(iopfd::Severity::err, e.what());
        return iopfd::kExitFailure;
    }
}
