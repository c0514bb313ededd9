// SPDX-License-Identifier: GPL-2.0
// iopfctl watch: stream FAULT_NTF and RESUME_NTF until Ctrl-C, --count or --timeout.
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <ostream>

#include <fmt/core.h>
#include <poll.h>

#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/fault_json.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kWatchUsage =
    R"(usage: iopfctl watch [--count N] [--timeout SEC] [--json] [--rcvbuf SIZE]
  Prints every fault and resume notification until Ctrl-C, N faults or SEC
  seconds. Lost notifications (socket overflow, sequence gaps) are reported
  on stderr as they are detected and in the closing summary.
  SEC may have a fraction (0.5); SIZE takes K, M or G (1 byte to 2G-1).
example: iopfctl -j watch --count 10 --timeout 30
)";

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct Printer : iopf::EventSink {
    Io& io;
    bool json;
    uint64_t faults = 0, resumes = 0;
    bool family_changed = false;
    bool family_present = true;

    Printer(Io& io_, bool json_) : io(io_), json(json_) {}

    void on_fault(const iopf::Fault& f) override {
        faults++;
        if (json) {
            auto j = iopf::fault_to_json(f, {.report_flags = std::nullopt, .extra = true});
            j.set("kind", "fault");
            print_json(io, j);
        } else {
            io.out << fault_line(f) << '\n';
        }
        io.out.flush();
    }
    void on_resume(const iopf::Resume& r) override {
        resumes++;
        if (json) {
            auto j = iopf::resume_to_json(r);
            j.set("kind", "resume");
            print_json(io, j);
        } else {
            io.out << resume_line(r) << '\n';
        }
        io.out.flush();
    }
    void on_overflow() override {
        io.err << "iopfctl watch: receive buffer overflowed (ENOBUFS): notifications lost\n";
    }
    void on_gap(uint64_t seq, uint64_t missing) override {
        io.err << fmt::format("iopfctl watch: {} fault notification(s) lost before seq {}\n",
                              missing, seq);
    }
    void on_resume_gap(uint64_t seq, uint64_t missing) override {
        io.err << fmt::format("iopfctl watch: {} resume notification(s) lost before seq {}\n",
                              missing, seq);
    }
    void on_malformed(const std::string& why) override {
        io.err << fmt::format("iopfctl watch: malformed notification: {}\n", why);
    }
    void on_family(bool added, const std::string& name) override {
        if (name != IOPF_GENL_NAME)
            return;
        family_changed = true;
        family_present = added;
        io.err << fmt::format("iopfctl watch: module {}\n", added ? "loaded" : "unloaded");
    }
};

} // namespace

int cmd_watch(const Args& args, Io& io) {
    po::options_description desc("watch");
    desc.add_options()("count", po::value<std::string>())("timeout", po::value<std::string>())(
        "json", "")("rcvbuf", po::value<std::string>()->default_value("16M"));
    auto vm = parse_options(args, desc);
    auto count = count_opt(vm, "count", UINT64_MAX);
    std::optional<double> timeout;
    if (vm.count("timeout")) {
        // seconds, decimal with an optional fraction, at most a day
        const std::string t = vm["timeout"].as<std::string>();
        double v = 0;
        auto r = std::from_chars(t.data(), t.data() + t.size(), v, std::chars_format::fixed);
        if (t.empty() || t[0] == '-' || t[0] == '+' || r.ec == std::errc::invalid_argument ||
            r.ptr != t.data() + t.size())
            throw UsageError(fmt::format("--timeout: '{}' is not a number of seconds", t));
        if (r.ec == std::errc::result_out_of_range || v > 86400)
            throw UsageError(fmt::format("--timeout: {} is out of range (max 86400)", t));
        timeout = v;
    }
    std::size_t rcvbuf;
    try {
        rcvbuf = iopf::parse_size(vm["rcvbuf"].as<std::string>());
    } catch (const iopf::ParseError& e) {
        throw UsageError(fmt::format("--rcvbuf: {}", e.what()));
    }

    iopf::EventSocket sock(rcvbuf, true);
    if (!sock.subscribe())
        throw iopf::Error(ENOENT,
                          "generic netlink family '" IOPF_GENL_NAME "' (is the module loaded?)");

    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    struct sigaction old_int {
    }, old_term{};
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    Printer p(io, json_wanted(vm, io));
    using clock = std::chrono::steady_clock;
    const auto deadline = timeout ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                       std::chrono::duration<double>(*timeout))
                                  : clock::time_point::max();
    int rc = 0;
    try {
        while (!g_stop && !(count && p.faults >= *count)) {
            int wait_ms = -1;
            if (timeout) {
                auto left =
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
                if (left.count() <= 0)
                    break;
                wait_ms = static_cast<int>(left.count());
            }
            pollfd pfd{sock.fd(), POLLIN, 0};
            int n = poll(&pfd, 1, wait_ms);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw iopf::Error(errno, "poll");
            }
            if (n > 0) // POLLERR too: an overflow with an empty queue
                sock.drain(p);
            if (p.family_changed) {
                p.family_changed = false;
                if (p.family_present && sock.subscribe())
                    sock.restart_seq();
                else
                    sock.mark_gone();
            }
        }
    } catch (...) {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
        throw;
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);

    const auto& l = sock.loss();
    io.err << fmt::format("iopfctl watch: {} faults, {} resumes; lost: {} overflows, {} seq gaps "
                          "covering {} faults, {} resumes missing, {} malformed\n",
                          p.faults, p.resumes, l.overflows, l.gap_events, l.missing,
                          l.resume_missing, l.malformed);
    if (count && p.faults < *count)
        rc = 1; // stopped (timeout/signal) before seeing what was asked for
    return rc;
}

} // namespace iopfctl
