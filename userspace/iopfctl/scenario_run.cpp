// SPDX-License-Identifier: GPL-2.0
// iopfctl scenario run: one scenario against the module and a real iopfd.
#include "scenario_run.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/json.hpp"
#include "iopf/names.hpp"

extern char** environ;

namespace iopfctl::scenario {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// iopfd as a child process: started with the scenario's configuration,
// stopped with SIGTERM (killed by the destructor if still running).
class Daemon {
  public:
    Daemon(const RunOptions& opt) : opt_(opt) {}
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }

    std::string path(const char* name) const { return opt_.workdir + "/" + name; }

    // Start it and wait until its ready file says the module is up.
    void start(const std::string& config) {
        {
            std::ofstream c(path("iopfd.conf"), std::ios::trunc);
            c << config;
            if (!c.flush())
                throw iopf::Error(errno ? errno : EIO, "writing " + path("iopfd.conf"));
        }
        std::remove(path("ready").c_str());
        std::remove(path("store.jsonl").c_str());
        const std::string conf = path("iopfd.conf"), store = path("store.jsonl"),
                          ready = path("ready"), log = path("iopfd.log");
        std::vector<std::string> argv = {opt_.iopfd, "--config",     conf,  "--store",
                                         store,      "--ready-file", ready, "-v"};
        std::vector<char*> av;
        for (auto& a : argv)
            av.push_back(a.data());
        av.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int rc = posix_spawnp(&pid_, opt_.iopfd.c_str(), &fa, nullptr, av.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            pid_ = -1;
            throw iopf::Error(rc, "starting " + opt_.iopfd);
        }
        const auto deadline = Clock::now() + milliseconds(10000);
        for (;;) {
            if (slurp(ready).find("up=1") != std::string::npos)
                return;
            int st;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                throw iopf::Error(
                    ECHILD, fmt::format("iopfd exited before it was ready ({})", describe(st)));
            }
            if (Clock::now() > deadline)
                throw iopf::Error(ETIMEDOUT, "iopfd was not ready within 10 s");
            std::this_thread::sleep_for(milliseconds(20));
        }
    }

    // SIGTERM, and its exit status: "" when it exited 0.
    std::string stop() {
        if (pid_ <= 0)
            return "iopfd was not running";
        kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + milliseconds(10000);
        int st = 0;
        while (waitpid(pid_, &st, WNOHANG) != pid_) {
            if (Clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &st, 0);
                pid_ = -1;
                return "iopfd did not stop within 10 s of SIGTERM (killed)";
            }
            std::this_thread::sleep_for(milliseconds(10));
        }
        pid_ = -1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : describe(st);
    }

    static std::string describe(int st) {
        if (WIFEXITED(st))
            return fmt::format("exit status {}", WEXITSTATUS(st));
        if (WIFSIGNALED(st))
            return fmt::format("killed by signal {}", WTERMSIG(st));
        return "stopped";
    }

  private:
    const RunOptions& opt_;
    pid_t pid_ = -1;
};

// What the multicast group says about the scenario's devices.
struct Listener : iopf::EventSink {
    const Scenario& s;
    Outcome& o;
    std::map<uint64_t, iopf::Access> ended;
    bool overflowed = false;

    Listener(const Scenario& sc, Outcome& out) : s(sc), o(out) {}
    void on_fault(const iopf::Fault&) override {}
    void on_resume(const iopf::Resume& r) override {
        if (!s.device(r.sid))
            return;
        o.resume_retry += r.resp == IOPF_RESUME_RETRY;
        o.resume_abort += r.resp == IOPF_RESUME_ABORT;
        o.resume_term += r.resp == IOPF_RESUME_TERM;
        o.resume_origin[iopf::origin_name(r.origin)]++;
    }
    void on_overflow() override { overflowed = true; }
    void on_gap(uint64_t, uint64_t) override {}
    void on_resume_gap(uint64_t, uint64_t) override {}
    void on_malformed(const std::string&) override {}
    void on_access_end(const iopf::Access& a) override {
        if (s.device(a.sid))
            ended.insert_or_assign(a.id, a);
    }
};

// Run one access and wait for its end (ACCESS_NTF, or ACCESS_GET when a
// notification may have been lost) up to the scenario's wait.
AccessResult one_access(const Scenario& s, iopf::Client& c, iopf::EventSocket& sock, Listener& l,
                        const AccessSpec& spec, size_t step) {
    AccessResult r{step, c.access(spec), false};
    const auto deadline = Clock::now() + milliseconds(s.access_wait_ms);
    for (;;) {
        sock.drain(l);
        if (auto it = l.ended.find(r.access.id); it != l.ended.end()) {
            r.access = it->second;
            r.ended = true;
            return r;
        }
        if (r.access.ended()) {
            // Ended in the reply: its ACCESS_NTF was sent before the reply
            // (drained above when it arrived); else take the reply.
            r.ended = true;
            return r;
        }
        if (l.overflowed) {
            l.overflowed = false;
            if (iopf::Access now = c.access_get(r.access.id); now.ended()) {
                r.access = now;
                r.ended = true;
                return r;
            }
        }
        auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            r.access = c.access_get(r.access.id);
            r.ended = r.access.ended();
            return r;
        }
        pollfd pfd{sock.fd(), POLLIN, 0};
        if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
            throw iopf::Error(errno, "poll");
    }
}

void delete_devices(const Scenario& s, iopf::Client& c) {
    for (const auto& d : s.devices) {
        try {
            c.dev_del(d.sid);
        } catch (const iopf::Error& e) {
            if (e.err() != ENOENT && e.err() != ENODEV)
                throw;
        }
    }
}

// Upstream's road needs the module's bridge (iommufd): probe it on the
// scenario's first device, which is deleted again. The module's reason
// when it has none (-EOPNOTSUPP and its extack), else nullopt.
std::optional<std::string> bridge_missing(const Scenario& s, iopf::Client& c) {
    const uint32_t sid = s.devices.at(0).sid;
    c.dev_new(sid);
    std::optional<std::string> why;
    try {
        c.dev_set(sid, std::nullopt, std::nullopt, std::nullopt, true);
        c.dev_set(sid, std::nullopt, std::nullopt, std::nullopt, false);
    } catch (const iopf::Error& e) {
        if (e.err() != EOPNOTSUPP) {
            c.dev_del(sid);
            throw;
        }
        why = e.what();
    }
    c.dev_del(sid);
    return why;
}

// Upstream's road's books, per device: the walks' stage-2 faults, those
// upstream dropped, the vEVENTQ's records.
void read_counters(const Scenario& s, iopf::Client& c, Outcome& o) {
    for (const auto& d : s.devices) {
        const iopf::DevInfo info = c.dev_get(d.sid);
        o.up_l2_faults += iopf::stat_value(info.stats, IOPF_STAT_A_ACCESS_FAULTS_L2).value_or(0);
        o.up_dropped += iopf::stat_value(info.stats, IOPF_STAT_A_UPSTREAM_UNHANDLED).value_or(0);
        o.up_vevents += iopf::stat_value(info.stats, IOPF_STAT_A_VEVENTS).value_or(0);
    }
}

// The fix-ups iopfd stored: "vmm" and "guest" lines; on upstream's road the
// page requests it read from the fault queue ("via":"iommufd").
void read_store(const Scenario& s, const std::string& path, Outcome& o) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        iopf::Json j = iopf::Json::parse(line);
        const iopf::Json* kind = j.find("kind");
        if (!kind || !kind->is_string())
            continue;
        const std::string& k = kind->as_string();
        if (k == "fault") {
            const iopf::Json* via = j.find("via");
            const iopf::Json* sid = j.find("sid");
            if (via && via->is_string() && via->as_string() == "iommufd" && sid &&
                s.device(static_cast<uint32_t>(sid->as_u64())))
                o.up_delivered++;
            continue;
        }
        if (k != "vmm" && k != "guest")
            continue;
        const std::string& code = j.at("code").as_string();
        const uint64_t pages = j.at("pages").as_u64();
        if (k == "vmm") {
            o.vmm++;
            o.vmm_pages += pages;
        } else {
            o.guest++;
            o.guest_pages += pages;
            o.refused += code != "success";
        }
    }
}

} // namespace

Road RunOptions::road_of(const Scenario& s) const {
    Road r;
    r.delivery = delivery.value_or(s.delivery);
    r.pin_stage2 = r.delivery == Delivery::iommufd && pin_stage2.value_or(s.pin_stage2);
    return r;
}

Outcome run(const Scenario& s, const RunOptions& opt, std::ostream& diag) {
    Outcome o;
    o.road = opt.road_of(s);
    const bool up = o.road.delivery == Delivery::iommufd;
    Daemon d(opt);
    try {
        iopf::Client c;
        // A clean slate: the scenario's devices start with empty tables and
        // counters; iopfd (re)creates them.
        delete_devices(s, c);
        if (up) {
            if (std::string why = s.iommufd_unfit(); !why.empty()) {
                o.skip = why;
                return o;
            }
            if ((o.skip = bridge_missing(s, c)))
                return o;
        }
        d.start(s.iopfd_config(o.road));
        for (const auto& dev : s.devices) {
            iopf::DevInfo info = c.dev_get(dev.sid);
            if (!info.registered || info.flags != dev.flags ||
                info.stage_mode.value_or(IOPF_STAGE_MODE_NONE) != dev.stage_mode)
                throw iopf::Error(EINVAL,
                                  fmt::format("iopfd did not set device {:#x} up as configured "
                                              "(flags {}, stage {})",
                                              dev.sid, iopf::format_report_flags(info.flags),
                                              iopf::stage_mode_name(info.stage_mode.value_or(0))));
            if (up && (!info.bridged.value_or(false) || !info.iommufd_pt_id))
                throw iopf::Error(EINVAL, fmt::format("iopfd did not put device {:#x} on "
                                                      "upstream's road (bridged, attached)",
                                                      dev.sid));
            if (dev.timeout_ms)
                c.dev_set(dev.sid, std::nullopt, dev.timeout_ms);
        }
        for (const auto& t : s.ttbs)
            c.ttb_set(t.sid, t.pasid, t.ttb);
        for (const auto& m : s.mappings)
            c.map(m);
        if (o.road.pin_stage2) {
            // the host pins stage 2 as upstream assumes; the module's MAP
            // writes the same table IOMMU_IOAS_MAP does
            for (const auto& m : s.stage2_pins()) {
                c.map(m);
                o.pinned_pages += m.len / IOPF_STAGE_PAGE_SIZE;
            }
            diag << fmt::format("# {}: stage 2 pinned: {} page(s)\n", s.name, o.pinned_pages);
        }

        iopf::EventSocket sock(1u << 22, false);
        if (!sock.subscribe())
            throw iopf::Error(ENOENT, "the faults multicast group (is the module loaded?)");
        Listener l(s, o);
        std::map<uint32_t, uint32_t> flags; // sid -> the handler's flags now
        for (const auto& dev : s.devices)
            flags[dev.sid] = dev.flags;
        for (size_t i = 0; i < s.steps.size(); i++) {
            const Step& st = s.steps[i];
            if (const auto* a = std::get_if<AccessStep>(&st.what)) {
                for (const auto& spec : a->accesses) {
                    AccessResult r = one_access(s, c, sock, l, spec, i);
                    // upstream's road: an access that does not end is
                    // measured (expect.stalled), not an error of the run
                    if (!r.ended && !up)
                        o.errors.push_back(fmt::format(
                            "steps[{}]: access {} ({:#x}+{:#x}) did not end within {} ms: {}", i,
                            r.access.id, spec.addr, spec.len, s.access_wait_ms,
                            iopf::access_state_name(r.access.state)));
                    // a stalled access's stage-2 faults went to the fault
                    // queue as page requests with the IOVA and no stage,
                    // unless no handler was concerned with stage 2 (then
                    // the driver aborted them: RESUME origin report_failed)
                    if (up && spec.stall && (flags[spec.sid] & IOPF_REPORT_NESTED_L2_CONCERNED))
                        o.up_s2_as_s1 += r.access.faults_l2;
                    o.accesses.push_back(r);
                }
            } else if (const auto* u = std::get_if<UnmapStep>(&st.what)) {
                o.unmapped[i] = c.unmap(u->sid, u->stage, u->pasid, u->addr, u->len);
            } else if (const auto* m = std::get_if<MapStep>(&st.what)) {
                c.map(m->m);
            } else if (const auto* f = std::get_if<FlagsStep>(&st.what)) {
                c.handler_update(f->sid, 0, f->flags);
                flags[f->sid] = f->flags;
            } else if (const auto* w = std::get_if<WaitStep>(&st.what)) {
                std::this_thread::sleep_for(milliseconds(w->ms));
            }
        }
        sock.drain(l);
        for (const auto& dev : s.devices) {
            for (const auto& a : c.accesses(dev.sid))
                o.stalled += !a.ended();
            o.pending += c.pending(dev.sid).size();
        }
        for (const auto& [sid, stage, pasid] : s.tables())
            o.tables[{sid, stage, pasid}] = c.mappings(sid, stage, pasid);
        if (up)
            read_counters(s, c, o);
        if (std::string why = d.stop(); !why.empty())
            o.errors.push_back("iopfd: " + why);
        read_store(s, d.path("store.jsonl"), o);
        if (!opt.keep)
            delete_devices(s, c);
    } catch (const std::exception& e) {
        o.errors.push_back(e.what());
    }
    if (!o.errors.empty()) {
        diag << "# iopfd's log (" << d.path("iopfd.log") << "), last lines:\n";
        std::istringstream log(slurp(d.path("iopfd.log")));
        std::vector<std::string> lines;
        for (std::string line; std::getline(log, line);)
            lines.push_back(line);
        for (size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); i++)
            diag << "#   " << lines[i] << '\n';
    }
    return o;
}

} // namespace iopfctl::scenario
