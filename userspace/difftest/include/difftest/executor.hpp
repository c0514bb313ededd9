// SPDX-License-Identifier: GPL-2.0
// Runs an op stream against the real module (netlink through the library's
// Client, records through debugfs, reload through delete_module and
// finit_module) while a listener in the faults group collects every
// notification, and compares op by op with the model: errnos, notifications
// in order, no loss; counters, devices and pending lists every N ops and at
// the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "difftest/model.hpp"
#include "difftest/op.hpp"

namespace iopf {
class Client;
class EventSocket;
} // namespace iopf

namespace difftest {

struct ExecConfig {
    std::string debugfs = "/sys/kernel/debug/iopf_testbed";
    std::string module_path = "/lib/modules/iopf_testbed.ko";
    std::string module_params; // for insmod, e.g. "quirks=4"
    unsigned check_every = 16; // counters/devices/pending every N ops (0: at the end only)
    std::size_t rcvbuf = 32u << 20;
    // How long to wait for what a RETRY's re-walk (on the module's
    // workqueue) notifies, after the request returned.
    unsigned deferred_ms = 5000;
    bool compare = true; // false: run and report, predict nothing
};

// What one op did, next to what the model said.
struct OpReport {
    std::size_t index = 0; // 0-based position in the stream
    const Op* op = nullptr;
    Outcome want;
    int got_err = 0;
    std::vector<Event> got;
    std::optional<iopf::Access> got_access; // ACCESS's reply
    std::optional<uint64_t> got_count;      // UNMAP's reply
    std::vector<std::string> diffs;         // this op's mismatches
    std::vector<std::string> state_diffs;   // of the state check after it, if one ran
    bool checked = false;
};

struct RunResult {
    std::size_t ops_run = 0;
    std::size_t first_bad = SIZE_MAX; // index of the op whose run showed the first mismatch
    std::vector<std::string> mismatches;
    uint64_t faults = 0, resumes = 0, accesses_ended = 0, reloads = 0, checks = 0;
    double seconds = 0;
    bool ok() const { return mismatches.empty(); }
};

class Executor {
  public:
    explicit Executor(ExecConfig cfg);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // Does the module look as if just loaded (no record seen, no device)?
    bool is_fresh();
    // Make it so: insmod when not loaded, reload when it has state.
    void make_fresh();
    void reload();
    // Compare with the model (the default), or only run and report.
    void set_compare(bool on) { cfg_.compare = on; }
    ExecConfig& config() { return cfg_; }

    // Runs `ops` from the current module state (fresh, for comparisons),
    // stopping at the first mismatch unless keep_going. on_op sees every op.
    RunResult run(const std::vector<Op>& ops,
                  const std::function<void(const OpReport&)>& on_op = {}, bool keep_going = false);

  private:
    int exec(const Op& op, OpReport& rep);
    std::vector<Event> drain(std::vector<std::string>& diffs);
    // Drains until `want` events came or deferred_ms passed.
    void drain_until(std::vector<Event>& got, std::size_t want, std::vector<std::string>& diffs);
    std::vector<std::string> check_state(const Model& m);
    void check_tables(std::vector<std::string>& d, const std::string& what, const DevState& want);
    void connect();

    ExecConfig cfg_;
    std::unique_ptr<iopf::Client> client_;
    std::unique_ptr<iopf::EventSocket> events_;
    void close_files();
    int inject_fd_ = -1;
    int raw_fd_ = -1;
    uint64_t last_ts_ = 0;
};

// Is the module loaded (its family registered)?
bool module_loaded();

// Delta debugging (complements only): the smallest stream it finds for
// which `fails` still holds, within `max_tests` tests and `max_seconds`.
std::vector<Op> minimize(std::vector<Op> ops,
                         const std::function<bool(const std::vector<Op>&)>& fails,
                         unsigned max_tests, double max_seconds, unsigned* tests_run = nullptr);

// Writes a stream with the model's prediction of each op as comments.
void write_annotated(std::ostream& out, const std::vector<Op>& ops,
                     const std::vector<std::string>& header);

} // namespace difftest
