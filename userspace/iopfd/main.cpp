// SPDX-License-Identifier: GPL-2.0
// iopfd: the test bed's daemon, in the role of a nested-translation VMM.
#include <csignal>
#include <iostream>

#include "daemon.hpp"
#include "iopf/config.hpp"

int main(int argc, char** argv) {
    std::string usage;
    std::optional<iopfd::Options> opts;
    try {
        opts = iopfd::parse_options(std::vector<std::string>(argv + 1, argv + argc), std::cout,
                                    &usage);
    } catch (const std::invalid_argument& e) {
        std::cerr << "iopfd: " << e.what() << '\n' << usage;
        return 2;
    }
    if (!opts)
        return 0;

    // Signals are read from a signalfd in the main loop.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        iopfd::Daemon d(*opts, iopf::load_config(opts->config));
        return d.run();
    } catch (const std::exception& e) {
        std::cerr << "iopfd: " << e.what() << '\n';
        return 1;
    }
}
