// SPDX-License-Identifier: GPL-2.0
#include "options.hpp"

#include <ostream>
#include <sstream>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "iopf/cli.hpp"
#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopfd {

namespace po = boost::program_options;

std::optional<Options> parse_options(const std::vector<std::string>& args, std::ostream& out,
                                     std::string* usage) {
    po::options_description desc("usage: iopfd --config FILE [options]\n"
                                 "       iopfd --config FILE --check-config\n"
                                 "       iopfd --version\n\noptions");
    desc.add_options()("help,h", "show this help")("version,V", "show the version")(
        "config,c", po::value<std::string>(), "configuration file (required)")(
        "check-config", "check the configuration file, print what it sets up, and exit")(
        "store,s", po::value<std::string>(),
        "JSON-lines fault store; overrides the config's `store` (default: "
        "/var/lib/iopfd/faults.jsonl)")(
        "rcvbuf", po::value<std::string>(),
        "event socket receive buffer, e.g. 16M (1 byte to 2G-1); overrides the config's")(
        "ready-file", po::value<std::string>(),
        "write 'pid=N up=M' here each time devices are set up")(
        "poll-ms", po::value<std::string>()->default_value("1000"),
        "interval of the module presence check")(
        "sync-idle-ms", po::value<std::string>()->default_value("100"),
        "quiet time after notifications before the loss at the tail is counted")(
        "verbose,v", "log every fault and response");
    std::ostringstream u;
    u << desc << "\nexample: iopfd --config /etc/iopfd.conf --ready-file /run/iopfd.ready\n";
    if (usage)
        *usage = u.str();

    po::variables_map vm;
    try {
        vm = iopf::cli::parse(args, desc);
    } catch (const iopf::cli::CommandLineError& e) {
        throw std::invalid_argument(e.what());
    }
    if (vm.count("help")) {
        out << u.str();
        return std::nullopt;
    }
    if (vm.count("version")) {
        out << "iopfd " << IOPF_VERSION << '\n';
        return std::nullopt;
    }
    if (!vm.count("config"))
        throw std::invalid_argument("--config is required");
    Options o;
    o.config = vm["config"].as<std::string>();
    o.check_config = vm.count("check-config") > 0;
    if (vm.count("store"))
        o.store = vm["store"].as<std::string>();
    if (vm.count("rcvbuf")) {
        try {
            o.rcvbuf = iopf::parse_size(vm["rcvbuf"].as<std::string>());
        } catch (const iopf::ParseError& e) {
            throw std::invalid_argument(std::string("--rcvbuf: ") + e.what());
        }
    }
    if (vm.count("ready-file"))
        o.ready_file = vm["ready-file"].as<std::string>();
    // Strings, not unsigned: boost would read "-1" as 4294967295
    auto millis = [&](const char* name) {
        try {
            return static_cast<unsigned>(iopf::parse_count(vm[name].as<std::string>(),
                                                           3600 * 1000, std::string("--") + name));
        } catch (const iopf::ParseError& e) {
            throw std::invalid_argument(e.what());
        }
    };
    o.poll_ms = millis("poll-ms");
    if (o.poll_ms == 0)
        throw std::invalid_argument("--poll-ms must be positive");
    o.sync_idle_ms = millis("sync-idle-ms");
    o.verbose = vm.count("verbose") > 0;
    return o;
}

} // namespace iopfd
