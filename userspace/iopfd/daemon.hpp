// SPDX-License-Identifier: GPL-2.0
// iopfd, the VMM stand-in: sets devices up, collects every fault into the
// store, answers page requests by policy, survives module reloads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "guest.hpp"
#include "iopf/client.hpp"
#include "iopf/config.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/seq_runs.hpp"
#include "iopf/store.hpp"
#include "iopf/summary.hpp"
#include "options.hpp"
#include "paging.hpp"
#include "store_lock.hpp"
#ifdef IOPF_HAVE_IOMMUFD
#include "iopf/iommufd.hpp" // IOPF_HAVE_IOMMUFD_NESTED
#endif

namespace iopfd {

using Clock = std::chrono::steady_clock;

// What this build can be configured to do: without the iommufd uAPI,
// delivery=iommufd is refused where the file says it, and nested=on without
// its vIOMMU/vEVENTQ part (6.15+).
inline iopf::ConfigCaps config_caps() {
#if defined(IOPF_HAVE_IOMMUFD_NESTED)
    return {.iommufd = true, .nested = true};
#elif defined(IOPF_HAVE_IOMMUFD)
    return {.iommufd = true, .nested = false};
#else
    return {.iommufd = false, .nested = false};
#endif
}

class Road; // road.hpp: upstream's road (IOPF_HAVE_IOMMUFD)
struct RoadDevice;
struct PgFaultOutcome;

class Daemon : public iopf::EventSink {
  public:
    Daemon(Options opts, iopf::Config cfg);
    ~Daemon() override;
    // Runs until SIGTERM/SIGINT (which must be blocked by the caller, as
    // must SIGHUP and SIGUSR1: they are read from a signalfd). Returns the
    // exit status.
    int run();

    // EventSink
    void on_fault(const iopf::Fault& f) override;
    void on_resume(const iopf::Resume& r) override;
    void on_overflow() override;
    void on_gap(uint64_t seq, uint64_t missing) override;
    void on_resume_gap(uint64_t seq, uint64_t missing) override;
    void on_malformed(const std::string& why) override;
    void on_family(bool added, const std::string& name) override;
    void on_gap_recovered(uint64_t seq, uint64_t count) override;
    void on_tail(uint64_t first, uint64_t missing, uint64_t recovered) override;
    void on_resume_tail(uint64_t first, uint64_t missing) override;
    void on_late(uint64_t seq) override;
    void on_resume_late(uint64_t seq) override;
    void on_access_end(const iopf::Access& a) override;

  private:
    struct Response {
        uint32_t sid;
        uint32_t grpid;
        std::optional<uint32_t> pasid;
        uint32_t code;
        uint64_t seq;
    };

    void record_fault(const iopf::Fault& f, bool resynced);
    // A page request the VMM (l2=map) or the guest model (l1=map|refuse)
    // handles: the fix-up, its store line, then the answer.
    void fix_up(const iopf::Fault& f, const iopf::Action& a);
    void bring_up();
    void go_down(const char* why);
    void check_family();
    void setup_device(const iopf::DeviceConfig& d);
    // Upstream's road: a delivery=iommufd device bridged and its VMM objects
    // made (throws); one that left the road released and unbridged.
    void setup_road(const iopf::DeviceConfig& d);
    void leave_road(uint32_t sid, bool unbridge);
    // Every device's road objects released (go-down, exit).
    void release_road(const char* why, bool unbridge);
    // One batch of a device's fault queue: policy, fix-ups, one write of
    // the answers, store lines.
    void drain_road(uint32_t sid);
    // One batch of a nested device's vEVENTQ: the books, store lines.
    void drain_vevents(uint32_t sid);
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    // A nested device's page request, by its unattributed= policy: the
    // guest's (stage 1, l1=) or ours (stage 2 at S1(IOVA), l2=).
    PgFaultOutcome nested_request(RoadDevice& d, const iommu_hwpt_pgfault& f,
                                  const iopf::DeviceConfig& dev);
#endif
    void resync();
    // A sync point: count the tail against STATS_GET's FAULT_SEQ/RESUME_SEQ
    // when the socket is drained and quiet (final: at exit, insist a little).
    void sync_tail(bool final);
    std::size_t drain_events();
    void loss_line(const char* what, iopf::Json fields);
    iopf::Json books_json() const;
    iopf::Json resume_books_json() const;
    void send_due();
    void respond(const std::vector<Response>& rs);
    void reload();
    void apply_reload(const iopf::Config& next);
    void daemon_line(const char* event, iopf::Json extra = iopf::Json::object());
    void write_ready();
    int poll_timeout_ms() const;
    void handle_error(const std::exception& e, const char* what);

    Options opts_;
    iopf::Config cfg_;
    std::unique_ptr<StoreLock> store_lock_; // before store_: locked first, released last
    std::unique_ptr<iopf::StoreWriter> store_;
    std::unique_ptr<iopf::EventSocket> events_;
    std::unique_ptr<iopf::Client> client_; // null while the module is absent
    iopf::Summary summary_;
    Vmm vmm_;
    GuestModel guest_;
    std::multimap<Clock::time_point, Response> timers_;
    std::unique_ptr<Road> road_; // null until a delivery=iommufd device is set up
    iopf::SeqRuns recorded_; // seqs stored in this module instance
    iopf::FaultLineWriter line_writer_;
    uint64_t resumes_stored_ = 0; // RESUMEs stored within the resume books
    bool need_resync_ = false;
    // Something arrived (or overflowed) since the last sync point.
    bool sync_due_ = false;
    Clock::time_point last_activity_{};
    bool no_marks_ = false; // the module has no FAULT_SEQ/RESUME_SEQ: no sync points
    bool family_event_ = false;
    bool up_ = false;
    bool first_up_ = true;
    unsigned ups_ = 0;
    Clock::time_point next_check_;
};

} // namespace iopfd
