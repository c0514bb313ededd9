// SPDX-License-Identifier: GPL-2.0
#include "daemon.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <span>

#include <fmt/core.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/names.hpp"
#include "iopf/stage_json.hpp"
#include "log.hpp"
#include "notify.hpp"
#ifdef IOPF_HAVE_IOMMUFD
#include "road.hpp"
#endif

namespace iopfd {

#ifndef IOPF_HAVE_IOMMUFD
// Built without the iommufd uAPI: the configuration refuses delivery=iommufd,
// so there is never a road.
class Road {};
#endif

namespace {

// Severities (log.hpp): log() is info, warn() loss and degraded service,
// err() a failed operation.
template <typename... A> void log(fmt::format_string<A...> f, A&&... a) {
    log_line(Severity::info, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void debug(fmt::format_string<A...> f, A&&... a) {
    log_line(Severity::debug, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void warn(fmt::format_string<A...> f, A&&... a) {
    log_line(Severity::warning, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void err(fmt::format_string<A...> f, A&&... a) {
    log_line(Severity::err, fmt::format(f, std::forward<A>(a)...));
}

constexpr std::size_t kDefaultRcvbuf = 16u << 20;
constexpr std::size_t kRecordedWindow = 1u << 20;
constexpr std::size_t kRecordedRuns = 1u << 16;
// Page responses sent before their acks are read: the acks of a batch must
// fit the control socket's receive buffer.
constexpr std::size_t kResponseBatch = 64;

} // namespace

Daemon::Daemon(Options opts, iopf::Config cfg) : opts_(std::move(opts)), cfg_(std::move(cfg)) {
    // The command line wins over the file; saying so when both are given.
    const std::string store = opts_.store.value_or(cfg_.store.value_or(iopf::kDefaultStore));
    if (opts_.store && cfg_.store && *cfg_.store != *opts_.store)
        warn("--store {} overrides the configuration's store {}", *opts_.store, *cfg_.store);
    store_lock_ = std::make_unique<StoreLock>(store);
    store_ = std::make_unique<iopf::StoreWriter>(store);
    std::size_t rcvbuf = opts_.rcvbuf.value_or(cfg_.rcvbuf.value_or(kDefaultRcvbuf));
    if (opts_.rcvbuf && cfg_.rcvbuf && *cfg_.rcvbuf != *opts_.rcvbuf)
        warn("--rcvbuf {} overrides the configuration's rcvbuf {}", *opts_.rcvbuf, *cfg_.rcvbuf);
    events_ = std::make_unique<iopf::EventSocket>(rcvbuf, true);
    log("store {}, receive buffer {} bytes", store, events_->rcvbuf());
    if (events_->rcvbuf() < rcvbuf)
        warn("receive buffer: asked for {} bytes, the kernel granted {} (SO_RCVBUFFORCE "
             "refused: capped by net.core.rmem_max; needs CAP_NET_ADMIN)",
             rcvbuf, events_->rcvbuf());
}

Daemon::~Daemon() = default;

// ---- notifications -------------------------------------------------------

void Daemon::on_fault(const iopf::Fault& f) {
    if (recorded_.contains(*f.seq)) // already taken from a PENDING_GET dump
        return;
    record_fault(f, false);
}

void Daemon::record_fault(const iopf::Fault& f, bool resynced) {
    recorded_.insert(*f.seq);
    // A dump filling a hole in the notifications is a recovery; one ahead
    // of the stream is remembered so a later gap or tail does not count it.
    bool recovered = resynced && events_->note_resynced(*f.seq);
    // Runs of consecutive SEQs: many only after much loss. Forget the old
    // ones then (they cannot come back from a dump this late).
    if (recorded_.runs() > kRecordedRuns) {
        uint64_t max = recorded_.max();
        recorded_.forget_below(max > kRecordedWindow / 2 ? max - kRecordedWindow / 2 : 0);
    }

    std::string_view action = "record";
    std::string named; // an action's own words, when it has some
    const iopf::DeviceConfig* dev = cfg_.find(f.sid);
    std::optional<iopf::Action> fix; // after the fault's line: the VMM or the guest
    if (f.is_page_req()) {
        if (!dev) {
            action = "pending (unconfigured device)";
        } else if (dev->delivery == iopf::Delivery::iommufd) {
            // One record, two observers: upstream's road answers it (its
            // fault queue's line says how); never PAGE_RESPONSE here.
            action = "via iommufd";
        } else {
            const iopf::Action& a = dev->action_for_level(f.fault->level);
            named = a.to_string();
            action = named;
            if (a.map || a.refuse) {
                fix = a;
            } else if (!a.pending) {
                Response r{f.sid, f.fault->grpid,
                           f.has_pasid() ? std::optional(f.fault->pasid) : std::nullopt, a.code,
                           *f.seq};
                timers_.emplace(Clock::now() + a.delay, r);
            }
        }
    }
    // Written straight as text (FaultLineWriter: the same bytes as the Json
    // path, without building one per fault) into the store's buffer.
    store_->append_with(line_writer_.prepare(f, action), [&](char* at) {
        return line_writer_.write(at, f, resynced, recovered);
    });
    summary_.add_fault(f, resynced, recovered);
    if (opts_.verbose)
        debug("fault seq={} sid={:#x} {} {} addr={:#x} -> {}{}", *f.seq, f.sid,
              iopf_evt_name(f.event_id), iopf::level_name(f.fault->level), f.fault->addr, action,
              resynced ? " (resync)" : "");
    if (fix)
        fix_up(f, *fix);
}

// RFC 3/6: the host maps the faulting IPA range in stage 2 and answers at
// once; RFC 6/6: a stage-1 fault goes to the guest, which maps its IOVA (or
// refuses). The answer goes out with the other responses (send_due).
void Daemon::fix_up(const iopf::Fault& f, const iopf::Action& a) {
    if (!client_)
        return;
    const bool l2 = f.fault->level == 2;
    ClientTables tables(*client_);
    std::optional<FixUp> r;
    if (l2) {
        if (a.map)
            r = vmm_.handle(f, *a.map, tables);
    } else {
        r = guest_.handle(f, a, tables);
    }
    Response resp{f.sid, f.fault->grpid,
                  f.has_pasid() ? std::optional(f.fault->pasid) : std::nullopt, a.code, *f.seq};
    if (!r) { // no model for it (the grammar keeps refuse off l2): the action's code
        timers_.emplace(Clock::now(), resp);
        return;
    }
    const char* kind = l2 ? "vmm" : "guest";
    iopf::Json line = r->to_json(kind, *f.seq, f.sid);
    store_->append(line);
    summary_.add_store_line(line);
    if (!r->why.empty() && r->code != IOPF_RESP_SUCCESS && !a.refuse)
        warn("{} fix-up of fault seq {} (sid {:#x}, {:#x}): {}", kind, *f.seq, f.sid, r->addr,
             r->why);
    if (opts_.verbose)
        debug("{} seq={} sid={:#x} addr={:#x}: {} page(s) mapped, {} already, {} in {} us", kind,
              *f.seq, f.sid, r->addr, r->pages(), r->already, iopf::resp_code_name(r->code), r->us);
    resp.code = r->code;
    timers_.emplace(Clock::now(), resp);
}

void Daemon::on_access_end(const iopf::Access& a) {
    iopf::Json line = iopf::Json::object();
    line.set("kind", "access");
    const iopf::Json j = iopf::access_to_json(a); // not a temporary: we iterate it
    for (const auto& [k, v] : j.as_object())
        line.set(k, v);
    store_->append(line);
    summary_.add_store_line(line);
    if (opts_.verbose)
        debug("access id={} sid={:#x} {} faults={} (L1 {}, L2 {}) retries={}", a.id, a.sid,
              iopf::access_state_name(a.state), a.faults, a.faults_l1, a.faults_l2, a.retries);
}

void Daemon::on_resume(const iopf::Resume& r) {
    iopf::Json line = iopf::Json::object();
    line.set("kind", "resume");
    const iopf::Json j = iopf::resume_to_json(r); // not a temporary: we iterate it
    for (const auto& [k, v] : j.as_object())
        line.set(k, v);
    store_->append(line);
    summary_.resumes++;
    // A RESUME is notified once or lost (no dump recovers it): within the
    // books, each notification is one stored.
    const iopf::LossLedger& rl = events_->resume_ledger();
    if (rl.base() && r.seq > *rl.base())
        resumes_stored_++;
    if (opts_.verbose)
        debug("resume sid={:#x} stag={} {} origin={}", r.sid, r.stag,
              iopf::resume_resp_name(r.resp), iopf::origin_name(r.origin));
}

void Daemon::loss_line(const char* what, iopf::Json fields) {
    iopf::Json line = iopf::Json::object();
    line.set("kind", "loss");
    line.set("what", what);
    for (const auto& [k, v] : fields.as_object())
        line.set(k, v);
    store_->append(line);
}

void Daemon::on_overflow() {
    summary_.overflows++;
    need_resync_ = true;
    sync_due_ = true;
    last_activity_ = Clock::now();
    warn("event socket overflowed (ENOBUFS): notifications lost; will resync pending requests");
    loss_line("overflow", iopf::Json::object());
}

void Daemon::on_gap_recovered(uint64_t seq, uint64_t count) {
    summary_.recovered += count;
    iopf::Json j = iopf::Json::object();
    j.set("seq", seq);
    j.set("count", count);
    loss_line("gap_recovered", j);
}

void Daemon::on_tail(uint64_t first, uint64_t missing, uint64_t recovered) {
    summary_.tail_missing += missing;
    summary_.recovered += recovered;
    need_resync_ = true;
    warn("{} fault notification(s) lost at the tail (seq {}..{}), {} already resynced; will "
         "resync pending requests",
         missing, first, first + missing - 1, recovered);
    iopf::Json j = iopf::Json::object();
    j.set("first", first);
    j.set("missing", missing);
    j.set("recovered", recovered);
    loss_line("tail", j);
}

void Daemon::on_resume_tail(uint64_t first, uint64_t missing) {
    summary_.resume_missing += missing;
    warn("{} resume notification(s) lost at the tail (resume seq {}..{})", missing, first,
         first + missing - 1);
    iopf::Json j = iopf::Json::object();
    j.set("first", first);
    j.set("missing", missing);
    loss_line("resume_tail", j);
}

void Daemon::on_late(uint64_t seq) {
    summary_.late++;
    warn("fault seq {} arrived after a sync point counted it lost: count taken back", seq);
    iopf::Json j = iopf::Json::object();
    j.set("seq", seq);
    loss_line("late", j);
}

void Daemon::on_resume_late(uint64_t seq) {
    summary_.resume_late++;
    iopf::Json j = iopf::Json::object();
    j.set("seq", seq);
    loss_line("resume_late", j);
}

void Daemon::on_gap(uint64_t seq, uint64_t missing) {
    summary_.gap_events++;
    summary_.missing += missing;
    need_resync_ = true;
    warn("{} fault notification(s) lost before seq {}; will resync pending requests", missing, seq);
    iopf::Json j = iopf::Json::object();
    j.set("seq", seq);
    j.set("missing", missing);
    loss_line("gap", j);
}

void Daemon::on_resume_gap(uint64_t seq, uint64_t missing) {
    summary_.resume_missing += missing;
    warn("{} resume notification(s) lost before resume seq {}", missing, seq);
    iopf::Json j = iopf::Json::object();
    j.set("seq", seq);
    j.set("missing", missing);
    loss_line("resume_gap", j);
}

void Daemon::on_malformed(const std::string& why) {
    summary_.malformed++;
    warn("malformed notification: {}", why);
    iopf::Json j = iopf::Json::object();
    j.set("error", why);
    loss_line("malformed", j);
}

void Daemon::on_family(bool added, const std::string& name) {
    if (name != IOPF_GENL_NAME)
        return;
    log("nlctrl: family {} {}", name, added ? "registered" : "unregistered");
    family_event_ = true;
}

// ---- module presence -------------------------------------------------------

void Daemon::bring_up() {
    if (!events_->subscribe())
        return;
    try {
        client_ = std::make_unique<iopf::Client>();
    } catch (const iopf::Error& e) {
        events_->mark_gone();
        return;
    }
    up_ = true;
    ups_++;
    recorded_.clear();
    resumes_stored_ = 0;
    // The books start at what the module had handed out when we joined:
    // faults reported before are not our loss (their pending page requests
    // are taken by the resync below). Subscribed first, so nothing after
    // the baseline escapes. Without the marks: at start the module may have
    // reported before us (the first SEQ is the baseline); after a reload
    // SEQ starts over at 1.
    try {
        no_marks_ = false;
        auto marks = client_->seq_marks();
        events_->start_seq(marks.fault_seq, marks.resume_seq);
    } catch (const std::exception& e) {
        auto* ie = dynamic_cast<const iopf::Error*>(&e);
        no_marks_ = ie && ie->err() == EPROTO;
        log("no baseline from STATS_GET ({}); counting from the first notification", e.what());
        if (first_up_)
            events_->reset_seq();
        else
            events_->restart_seq();
    }
    first_up_ = false;
    sync_due_ = false;
    for (const auto& d : cfg_.devices)
        setup_device(d);
    iopf::Json extra = iopf::Json::object();
    extra.set("family", client_->family());
    extra.set("devices", static_cast<uint64_t>(cfg_.devices.size()));
    daemon_line("module_up", extra);
    log("module present (family {}): {} device(s) set up", client_->family(), cfg_.devices.size());
    resync();
    write_ready();
    notify(fmt::format("STATUS=module present, {} device(s) set up", cfg_.devices.size()));
}

void Daemon::go_down(const char* why) {
    if (!up_)
        return;
    up_ = false;
    release_road(why, false); // the module's devices are gone: nothing to unbridge
    client_.reset();
    events_->mark_gone();
    if (!timers_.empty())
        warn("dropping {} scheduled response(s): the module went away", timers_.size());
    timers_.clear();
    recorded_.clear();
    need_resync_ = false;
    iopf::Json extra = iopf::Json::object();
    extra.set("why", why);
    daemon_line("module_down", extra);
    warn("module gone ({}); waiting for it to come back", why);
    notify(fmt::format("STATUS=module gone ({}); waiting for it", why));
}

void Daemon::check_family() {
    next_check_ = Clock::now() + std::chrono::milliseconds(opts_.poll_ms);
    if (up_) {
        // The family may have been re-registered between two checks.
        iopf::nl::GenlSocket probe;
        auto id = probe.try_resolve_family(IOPF_GENL_NAME);
        if (!id) {
            go_down("family unregistered");
        } else if (*id != events_->family()) {
            go_down("family re-registered");
        }
    }
    if (!up_)
        bring_up();
    else if (Clock::now() - last_activity_ >= std::chrono::milliseconds(opts_.sync_idle_ms))
        sync_tail(false); // also catches loss no notification revealed
}

void Daemon::setup_device(const iopf::DeviceConfig& d) {
    try {
        try {
            client_->dev_new(d.sid);
        } catch (const iopf::Error& e) {
            if (e.err() != EEXIST)
                throw;
        }
        auto info = client_->dev_get(d.sid);
        if (!info.registered)
            client_->handler_register(d.sid, d.flags);
        else if (info.flags != d.flags)
            client_->handler_update(d.sid, 0, d.flags);
        if (d.stage_mode)
            client_->dev_set(d.sid, std::nullopt, std::nullopt, d.stage_mode);
        if (d.delivery == iopf::Delivery::iommufd) {
            log("device {:#x}: flags {}, L2 {} (upstream's road: every page request)", d.sid,
                iopf::format_report_flags(d.flags), d.l2.to_string());
            setup_road(d);
        } else {
            leave_road(d.sid, true);
            log("device {:#x}: flags {}{}, L1 {}, L2 {}", d.sid,
                iopf::format_report_flags(d.flags),
                d.stage_mode ? ", stage " + iopf::stage_mode_name(*d.stage_mode) : std::string(),
                d.l1.to_string(), d.l2.to_string());
        }
    } catch (const std::exception& e) {
        err("device {:#x}: setup failed: {}", d.sid, e.what());
    }
}

// ---- upstream's road ---------------------------------------------------------

#ifdef IOPF_HAVE_IOMMUFD
void Daemon::setup_road(const iopf::DeviceConfig& d) {
    if (road_) {
        if (const RoadDevice* r = road_->find(d.sid)) {
            // Set up already (a reload that changed the flags); a change of
            // nesting makes it anew.
            const bool was_nested = static_cast<bool>(r->nested);
            const bool same_nest = was_nested == d.nested.has_value()
#ifdef IOPF_HAVE_IOMMUFD_NESTED
                                   && (!was_nested || r->nested->cfg == *d.nested)
#endif
                ;
            if (same_nest)
                return;
            leave_road(d.sid, false);
        }
    }
    auto info = client_->dev_get(d.sid);
    if (!info.bridged.value_or(false)) {
        client_->dev_set(d.sid, std::nullopt, std::nullopt, std::nullopt, true);
        log("device {:#x}: bridged (DEV_SET BRIDGE 1)", d.sid);
    }
    if (!road_) {
        // Platform devices have no isolated MSI: iommufd refuses their
        // bind without the opt-in (as a VMM's administrator would set it).
        try {
            std::string done = allow_unsafe_interrupts();
            log("iommufd: allow_unsafe_interrupts {} (platform devices have no isolated MSI)",
                done);
        } catch (const std::exception& e) {
            warn("iommufd: allow_unsafe_interrupts: {}: the bind will likely fail", e.what());
        }
        road_ = std::make_unique<Road>();
    }
    RoadDevice& r = road_->add(d.sid, d.nested);
    iopf::Json j = iopf::Json::object();
    j.set("sid", d.sid);
    j.set("dev_id", r.dev_id);
    j.set("ioas", r.ioas);
    j.set("hwpt", r.attached_hwpt());
    j.set("fault_queue", r.fq.id());
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (r.nested) {
        const RoadNested& n = *r.nested;
        log("device {:#x}: upstream's road, nested: dev_id {}, ioas {}, parent {}, viommu {}, "
            "vdevice {} (vSID {:#x}), nested hwpt {} (vSTE s1_translate), fault queue {} (fd "
            "{}), veventq {} (fd {}, depth {}), unattributed={}",
            d.sid, r.dev_id, r.ioas, n.parent.id(), n.viommu.id(), n.vdev.id(), n.cfg.vsid,
            n.hwpt.id(), r.fq.id(), r.fq.fd(), n.veq.id(), n.veq.fd(), n.cfg.veventq_depth,
            iopf::unattributed_name(n.cfg.unattributed));
        j.set("nested", true);
        j.set("parent", n.parent.id());
        j.set("viommu", n.viommu.id());
        j.set("vdevice", n.vdev.id());
        j.set("vsid", n.cfg.vsid);
        j.set("veventq", n.veq.id());
        j.set("veventq_depth", n.cfg.veventq_depth);
        j.set("unattributed", iopf::unattributed_name(n.cfg.unattributed));
    } else
#endif
        log("device {:#x}: upstream's road: dev_id {}, ioas {}, hwpt {}, fault queue {} (fd {})",
            d.sid, r.dev_id, r.ioas, r.hwpt, r.fq.id(), r.fq.fd());
    daemon_line("iommufd_up", j);
}

void Daemon::leave_road(uint32_t sid, bool unbridge) {
    if (!road_)
        return;
    iopf::Json j = iopf::Json::object();
    j.set("sid", sid);
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (RoadDevice* d = road_->find(sid); d && d->nested) {
        drain_vevents(sid); // what is queued still, before the queue goes
        iopf::Json books = vevent_books(*d);
        log("device {:#x}: vEVENTQ books: {} received, {} lost ({} in gaps, {} at a tail), {} "
            "inconsistent",
            sid, books.at("received").as_u64(), books.at("lost").as_u64(),
            books.at("gap_missing").as_u64(), books.at("tail_missing").as_u64(),
            books.at("inconsistent").as_u64());
        j.set("vevents", books);
    }
#endif
    if (!road_->remove(sid))
        return;
    daemon_line("iommufd_down", j);
    log("device {:#x}: left upstream's road (fault queue, binding, HWPT, IOAS released)", sid);
    if (unbridge && client_) {
        try {
            client_->dev_set(sid, std::nullopt, std::nullopt, std::nullopt, false);
        } catch (const std::exception& e) {
            handle_error(e, "unbridging a device");
        }
    }
}

void Daemon::release_road(const char* why, bool unbridge) {
    if (!road_)
        return;
    for (uint32_t sid : road_->sids())
        leave_road(sid, unbridge);
    road_.reset();
    log("iommufd: closed ({})", why);
}

void Daemon::drain_road(uint32_t sid) {
    RoadDevice* d = road_ ? road_->find(sid) : nullptr;
    if (!d)
        return;
    const iopf::DeviceConfig* dev = cfg_.find(sid);
    std::span<const iommu_hwpt_pgfault> batch;
    try {
        batch = d->fq.read(64);
    } catch (const std::exception& e) {
        err("device {:#x}: {}", sid, e.what());
        return;
    }
    if (batch.empty())
        return;
    last_activity_ = Clock::now();
    // A group's faults share its cookie and are handed out whole: one
    // answer per cookie, INVALID if any of its faults could not be fixed.
    std::vector<PgFaultOutcome> outs;
    std::vector<iommu_hwpt_page_response> answers;
    outs.reserve(batch.size());
    iopf::Action unconfigured; // a device no longer configured: left to the timeout
    unconfigured.pending = true;
    for (const auto& f : batch) {
        const iopf::Action& a = dev ? dev->l2 : unconfigured;
#ifdef IOPF_HAVE_IOMMUFD_NESTED
        if (d->nested && dev)
            outs.push_back(nested_request(*d, f, *dev));
        else
#endif
            outs.push_back(road_->handle(*d, f, a));
        const PgFaultOutcome& o = outs.back();
        if (!o.code)
            continue;
        auto it = std::find_if(answers.begin(), answers.end(),
                               [&](const auto& r) { return r.cookie == f.cookie; });
        if (it == answers.end())
            answers.push_back({f.cookie, *o.code});
        else if (*o.code != IOMMUFD_PAGE_RESP_SUCCESS)
            it->code = *o.code;
    }
    // All of the batch's answers in one write; a refused one fails alone.
    std::map<uint32_t, std::string> refused; // by cookie
    std::span<const iommu_hwpt_page_response> rest(answers);
    while (!rest.empty()) {
        std::size_t taken = 0;
        try {
            d->fq.respond_batch(rest, &taken);
            break;
        } catch (const std::exception& e) {
            err("device {:#x}: {}", sid, e.what());
            if (taken >= rest.size())
                break;
            refused[rest[taken].cookie] = e.what();
            rest = rest.subspan(taken + 1);
        }
    }
    for (std::size_t i = 0; i < batch.size(); i++) {
        const auto& f = batch[i];
        const PgFaultOutcome& o = outs[i];
        std::optional<std::string> error;
        if (auto it = refused.find(f.cookie); it != refused.end())
            error = it->second;
        iopf::Json line = pgfault_line(*d, f, o, error);
        store_->append(line);
        summary_.add_store_line(line);
        if (o.code && *o.code != IOMMUFD_PAGE_RESP_SUCCESS && !o.why.empty())
            warn("device {:#x}: iommufd page request {:#x} (cookie {}): invalid: {}", sid, f.addr,
                 f.cookie, o.why);
        if (opts_.verbose)
            debug("iommufd sid={:#x} dev_id={} grpid={} addr={:#x} cookie={}{}: {} -> {}, {} "
                  "page(s) mapped, {} already, {} us",
                  sid, f.dev_id, f.grpid, f.addr, f.cookie,
                  o.inferred.empty() ? std::string() : " inferred " + o.inferred, o.action,
                  o.code ? (*o.code == IOMMUFD_PAGE_RESP_SUCCESS ? "success" : "invalid")
                         : "unanswered",
                  o.pages(), o.already, o.us);
    }
}

#ifdef IOPF_HAVE_IOMMUFD_NESTED
// A nested device's page request has no stage. unattributed=walk walks as
// the module does: a stage-1 table page (the guest model's TTB, the
// module's default) iopfd has not mapped in stage 2 is the fault; else the
// guest's stage-1 table (over netlink): an IOVA it maps faulted in stage 2,
// at IPA = S1(IOVA). Both are the VMM's (l2=). Anything else, and every
// request under unattributed=forward, goes to the guest as a stage-1 fault
// (l1=), as an upstream VMM forwards it.
PgFaultOutcome Daemon::nested_request(RoadDevice& d, const iommu_hwpt_pgfault& f,
                                      const iopf::DeviceConfig& dev) {
    const auto t0 = Clock::now();
    const std::optional<uint32_t> pasid =
        f.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? std::optional(f.pasid) : std::nullopt;
    std::string walk;
    if (d.nested->cfg.unattributed == iopf::Unattributed::walk) {
        if (!client_) {
            walk = "module absent: stage 1 unread";
        } else {
            try {
                WalkResult w = walk_nested(f.addr, f.perm, d.mapped,
                                           client_->mappings(d.sid, IOPF_STAGE_1, pasid));
                walk = w.what;
                if (w.ipa) {
                    PgFaultOutcome o = road_->handle_at(d, f, *w.ipa, dev.l2);
                    o.inferred = "stage2";
                    o.walk = walk;
                    o.ipa = w.ipa;
                    o.stage = IOPF_STAGE_2;
                    return o;
                }
            } catch (const std::exception& e) {
                walk = std::string("reading stage 1: ") + e.what();
            }
        }
    }
    // Stage 1: the guest's.
    PgFaultOutcome o;
    o.inferred = "stage1";
    o.walk = walk;
    o.stage = IOPF_STAGE_1;
    o.action = dev.l1.to_string();
    const iopf::Action& a = dev.l1;
    if (a.pending)
        return o; // the module's timeout aborts it
    std::optional<FixUp> r;
    if (GuestModel::decide(a) != GuestModel::Decision::none) {
        if (!client_) {
            o.code = IOMMUFD_PAGE_RESP_INVALID;
            o.why = "module absent: the guest's stage 1 cannot be mapped";
        } else {
            ClientTables tables(*client_);
            r = guest_.handle(forwarded_fault(d.sid, f), a, tables);
        }
    }
    if (r) {
        o.code =
            r->code == IOPF_RESP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS : IOMMUFD_PAGE_RESP_INVALID;
        o.window = r->window;
        o.mapped = r->mapped;
        o.already = r->already;
        o.why = r->why;
    } else if (!o.code) {
        o.code =
            a.code == IOPF_RESP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS : IOMMUFD_PAGE_RESP_INVALID;
    }
    o.us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
    return o;
}

void Daemon::drain_vevents(uint32_t sid) {
    RoadDevice* d = road_ ? road_->find(sid) : nullptr;
    if (!d || !d->nested || !d->nested->veq)
        return;
    std::span<const iopf::Vevent> batch;
    try {
        batch = d->nested->veq.read(64);
    } catch (const std::exception& e) {
        err("device {:#x}: {}", sid, e.what());
        return;
    }
    if (batch.empty())
        return;
    last_activity_ = Clock::now();
    for (const auto& e : batch) {
        const iopf::VeventLedger::Fed fed = d->nested->ledger.feed(e.flags, e.sequence);
        summary_.vevents.lost += fed.lost;
        if (auto loss = vevent_loss_line(*d, e, fed)) {
            store_->append(*loss);
            if (fed.kind == iopf::VeventLedger::Kind::inconsistent) {
                summary_.vevents.inconsistent++;
                warn("device {:#x}: vEVENTQ {}: {}", sid, d->nested->veq.id(), fed.why);
            } else {
                (fed.kind == iopf::VeventLedger::Kind::gap ? summary_.vevents.gaps
                                                           : summary_.vevents.tails)++;
                warn("device {:#x}: vEVENTQ {}: {} event(s) lost (sequence {}..{}{})", sid,
                     d->nested->veq.id(), fed.lost, fed.first_lost,
                     (fed.first_lost + fed.lost - 1) & iopf::VeventLedger::kSeqMask,
                     fed.kind == iopf::VeventLedger::Kind::gap ? ", a jump without LOST_EVENTS"
                                                               : ", LOST_EVENTS");
            }
        }
        if (e.lost_events())
            continue; // a header alone: no record
        iopf::Json line = vevent_line(*d, e, fed);
        store_->append(line);
        summary_.vevents.received++;
        if (opts_.verbose)
            debug("vevent sid={:#x} vsid={:#x} seq={} {} {:#x}", sid, d->nested->cfg.vsid,
                  e.sequence, iopf_evt_name(iopf_evt_id(e.evt.data())), e.evt[2]);
    }
}
#endif
#else
void Daemon::setup_road(const iopf::DeviceConfig& d) {
    // The configuration refuses delivery=iommufd in this build.
    throw iopf::Error(EOPNOTSUPP,
                      fmt::format("device {:#x}: iopfd was built without the iommufd uAPI", d.sid));
}
void Daemon::leave_road(uint32_t, bool) {}
void Daemon::release_road(const char*, bool) {}
void Daemon::drain_road(uint32_t) {}
void Daemon::drain_vevents(uint32_t) {}
#endif

// After a loss, the pending page requests are what can still be answered.
void Daemon::resync() {
    need_resync_ = false;
    if (!up_)
        return;
    try {
        auto pending = client_->pending();
        std::size_t added = 0;
        for (const auto& f : pending) {
            if (recorded_.contains(*f.seq))
                continue;
            record_fault(f, true);
            added++;
        }
        if (added)
            log("resync: {} pending page request(s) recovered", added);
    } catch (const std::exception& e) {
        handle_error(e, "resync");
    }
}

std::size_t Daemon::drain_events() {
    std::size_t n = events_->drain(*this);
    if (n) {
        sync_due_ = true;
        last_activity_ = Clock::now();
    }
    return n;
}

// The tail. A listener whose socket overflowed at the end of a burst sees
// no later SEQ, so no gap tells it what it missed; STATS_GET's FAULT_SEQ
// does. It is only trusted at a quiet moment: socket drained, STATS_GET,
// drained again with nothing read. The module numbers a fault and queues
// its notification under one lock, and STATS_GET reads FAULT_SEQ under
// that lock: every fault numbered up to FAULT_SEQ has then either been
// queued to us (read by the second drain at the latest) or dropped by our
// full socket, except the faults of a batch still being filled by an
// injecting write (sent when the write ends or the batch is full). An
// injection starting right at the sync point can so have up to fault_batch
// faults counted missing that arrive a moment later: LossLedger takes them
// back ("late"), and the books balance again.
void Daemon::sync_tail(bool final) {
    if (!up_ || no_marks_)
        return;
    try {
        for (int round = 0;; round++) {
            drain_events();
            auto marks = client_->seq_marks();
            if (drain_events() == 0 || (final && round >= 10)) {
                events_->sync(marks.fault_seq, marks.resume_seq, *this);
                break;
            }
            if (!final)
                return; // not quiet: the next idle moment
        }
        sync_due_ = false;
        if (need_resync_)
            resync();
    } catch (const iopf::Error& e) {
        if (e.err() == EPROTO) {
            // A module without the marks: gaps are all we can count.
            no_marks_ = true;
            warn("sync points off: {}", e.what());
        } else {
            handle_error(e, "sync point");
        }
    } catch (const std::exception& e) {
        handle_error(e, "sync point");
    }
}

iopf::Json Daemon::books_json() const {
    const iopf::LossLedger& l = events_->ledger();
    iopf::Json j = iopf::Json::object();
    if (!up_ || !l.base() || !l.last())
        return j;
    // Stored faults within the books: (base, last].
    uint64_t stored = recorded_.count_in(*l.base(), *l.last());
    uint64_t handed_out = *l.last() - *l.base();
    j.set("base", *l.base());
    j.set("last", *l.last());
    j.set("handed_out", handed_out);
    j.set("stored", stored);
    j.set("missing", l.missing());
    j.set("recovered", l.recovered());
    j.set("late", l.late());
    // Delivered after all, but only once already recovered: the module
    // counts these as delivered (not in NOTIFY_LOST).
    j.set("late_recovered", l.late_recovered());
    j.set("lost", l.lost());
    j.set("balanced", handed_out == stored + l.lost() && l.lost() == l.holes());
    return j;
}

// The same books for RESUMEs: handed_out = stored + lost
iopf::Json Daemon::resume_books_json() const {
    const iopf::LossLedger& l = events_->resume_ledger();
    iopf::Json j = iopf::Json::object();
    if (!up_ || !l.base() || !l.last())
        return j;
    uint64_t handed_out = *l.last() - *l.base();
    j.set("base", *l.base());
    j.set("last", *l.last());
    j.set("handed_out", handed_out);
    j.set("stored", resumes_stored_);
    j.set("missing", l.missing());
    j.set("late", l.late());
    j.set("lost", l.lost());
    j.set("balanced", handed_out == resumes_stored_ + l.lost() && l.lost() == l.holes());
    return j;
}

// ---- responses -------------------------------------------------------------

void Daemon::send_due() {
    // Everything due goes out together: one wait for the kernel's acks per
    // batch, not one per answer.
    auto now = Clock::now();
    std::vector<Response> due;
    while (up_ && !timers_.empty() && timers_.begin()->first <= now) {
        due.push_back(timers_.begin()->second);
        timers_.erase(timers_.begin());
        if (due.size() == kResponseBatch) {
            respond(due);
            due.clear();
        }
    }
    if (!due.empty())
        respond(due);
}

void Daemon::respond(const std::vector<Response>& rs) {
    std::vector<iopf::Client::PageResponse> req;
    req.reserve(rs.size());
    for (const auto& r : rs)
        req.push_back({r.sid, r.grpid, r.pasid, r.code});
    std::vector<std::optional<iopf::Error>> res;
    std::string failed; // the socket failed: no answer is known to have gone
    try {
        res = client_->page_responses(req);
    } catch (const std::exception& e) {
        failed = e.what();
        handle_error(e, "page response");
    }
    for (std::size_t i = 0; i < rs.size(); i++) {
        const Response& r = rs[i];
        iopf::Json line = iopf::Json::object();
        line.set("kind", "response");
        line.set("seq", r.seq);
        line.set("sid", r.sid);
        line.set("grpid", r.grpid);
        line.set("pasid", r.pasid ? iopf::Json(*r.pasid) : iopf::Json());
        line.set("code", iopf::resp_code_name(r.code));
        const iopf::Error* e = failed.empty() && res[i] ? &*res[i] : nullptr;
        if (failed.empty() && !e) {
            line.set("ok", true);
            summary_.responses[iopf::resp_code_name(r.code)]++;
            if (opts_.verbose)
                debug("answered seq={} sid={:#x} grpid={}: {}", r.seq, r.sid, r.grpid,
                      iopf::resp_code_name(r.code));
        } else {
            line.set("ok", false);
            line.set("error", e ? std::string(e->what()) : failed);
            summary_.response_errors++;
            if (e)
                handle_error(*e, "page response");
        }
        store_->append(line);
    }
}

void Daemon::handle_error(const std::exception& e, const char* what) {
    err("{}: {}", what, e.what());
    // The family may be gone: find out now rather than at the next tick.
    if (auto* ie = dynamic_cast<const iopf::Error*>(&e); ie && ie->err() == ENOENT)
        next_check_ = Clock::now();
}

// ---- configuration ---------------------------------------------------------

void Daemon::reload() {
    iopf::Config next;
    try {
        next = iopf::load_config(opts_.config, config_caps());
    } catch (const std::exception& e) {
        warn("SIGHUP: keeping the current configuration: {}", e.what());
        return;
    }
    apply_reload(next);
}

void Daemon::apply_reload(const iopf::Config& next) {
    iopf::Config old = std::move(cfg_);
    cfg_ = next;
    if (opts_.store && cfg_.store && *cfg_.store != *opts_.store)
        warn("SIGHUP: the configuration's store {} is ignored: --store {} given", *cfg_.store,
             *opts_.store);
    if (!opts_.store && cfg_.store && *cfg_.store != store_->path()) {
        try {
            auto l = std::make_unique<StoreLock>(*cfg_.store);
            auto s = std::make_unique<iopf::StoreWriter>(*cfg_.store);
            store_->sync();
            store_ = std::move(s);
            store_lock_ = std::move(l);
            log("store now {}", store_->path());
        } catch (const std::exception& e) {
            warn("SIGHUP: keeping store {}: {}", store_->path(), e.what());
        }
    }
    if (cfg_.rcvbuf != old.rcvbuf)
        log("SIGHUP: rcvbuf changes take effect at restart");
    if (up_) {
        for (const auto& d : cfg_.devices) {
            const iopf::DeviceConfig* o = old.find(d.sid);
            if (!o || o->flags != d.flags || o->stage_mode != d.stage_mode ||
                o->delivery != d.delivery)
                setup_device(d);
            else if (!(*o == d))
                log("device {:#x}: L1 {}, L2 {}", d.sid, d.l1.to_string(), d.l2.to_string());
        }
        for (const auto& o : old.devices) {
            if (cfg_.find(o.sid))
                continue;
            leave_road(o.sid, false); // deleted next: its bridge goes with it
            try {
                client_->dev_del(o.sid);
                log("device {:#x}: deleted (no longer configured)", o.sid);
            } catch (const std::exception& e) {
                handle_error(e, "deleting a device");
            }
        }
    }
    daemon_line("reload");
    log("configuration reloaded: {} device(s)", cfg_.devices.size());
}

// ---- plumbing ----------------------------------------------------------------

void Daemon::daemon_line(const char* event, iopf::Json extra) {
    iopf::Json line = iopf::Json::object();
    line.set("kind", "daemon");
    line.set("event", event);
    for (const auto& [k, v] : extra.as_object())
        line.set(k, v);
    store_->append(line);
}

void Daemon::write_ready() {
    if (!opts_.ready_file)
        return;
    const std::string tmp = *opts_.ready_file + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << fmt::format("pid={} up={}\n", getpid(), ups_);
    }
    if (std::rename(tmp.c_str(), opts_.ready_file->c_str()) != 0)
        err("writing {}: {}", *opts_.ready_file, std::strerror(errno));
}

int Daemon::poll_timeout_ms() const {
    auto now = Clock::now();
    auto until = next_check_;
    if (!timers_.empty() && up_)
        until = std::min(until, timers_.begin()->first);
    if (sync_due_ && up_)
        until = std::min(until, last_activity_ + std::chrono::milliseconds(opts_.sync_idle_ms));
    if (until <= now)
        return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
}

int Daemon::run() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&set, s);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        throw iopf::Error(errno, "signalfd");

    iopf::Json start = iopf::Json::object();
    start.set("pid", static_cast<int64_t>(getpid()));
    start.set("config", opts_.config);
    daemon_line("start", start);
    check_family();
    if (!up_) {
        log("module not loaded yet; waiting for family " IOPF_GENL_NAME);
        notify("STATUS=waiting for the module (family " IOPF_GENL_NAME ")");
    }
    store_->flush();
    // Ready: store locked and open, listening, devices set up if the module
    // is there (else they will be when it comes).
    notify("READY=1");

    bool stop = false;
    std::vector<pollfd> pfd;
    // pfd[2 + i] is road_fds[i]: a device's fault queue, or its vEVENTQ
    struct RoadFd {
        uint32_t sid;
        bool vevents;
    };
    std::vector<RoadFd> road_fds;
    while (!stop) {
        pfd.assign({{events_->fd(), POLLIN, 0}, {sfd, POLLIN, 0}});
        road_fds.clear();
#ifdef IOPF_HAVE_IOMMUFD
        if (road_)
            for (uint32_t sid : road_->sids()) {
                const RoadDevice* rd = road_->find(sid);
                road_fds.push_back({sid, false});
                pfd.push_back({rd->fq.fd(), POLLIN, 0});
#ifdef IOPF_HAVE_IOMMUFD_NESTED
                if (rd->nested && rd->nested->veq) {
                    road_fds.push_back({sid, true});
                    pfd.push_back({rd->nested->veq.fd(), POLLIN, 0});
                }
#endif
            }
#endif
        int n = poll(pfd.data(), pfd.size(), poll_timeout_ms());
        if (n < 0 && errno != EINTR) {
            ::close(sfd);
            throw iopf::Error(errno, "poll");
        }
        // POLLERR alone: the socket overflowed with its queue already empty.
        if (n > 0 && (pfd[0].revents & (POLLIN | POLLERR))) {
            try {
                drain_events();
            } catch (const std::exception& e) {
                err("receiving notifications: {}", e.what());
            }
        }
        // Upstream's road: each fault queue with page requests and each
        // vEVENTQ with events, a batch each.
        for (std::size_t i = 0; n > 0 && i < road_fds.size(); i++)
            if (pfd[2 + i].revents & (POLLIN | POLLERR)) {
                if (road_fds[i].vevents)
                    drain_vevents(road_fds[i].sid);
                else
                    drain_road(road_fds[i].sid);
            }
        if (family_event_) {
            family_event_ = false;
            next_check_ = Clock::now();
        }
        if (Clock::now() >= next_check_)
            check_family();
        if (need_resync_)
            resync();
        if (sync_due_ && up_ &&
            Clock::now() - last_activity_ >= std::chrono::milliseconds(opts_.sync_idle_ms))
            sync_tail(false);
        send_due();
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    notify("RELOADING=1");
                    reload();
                    notify("READY=1");
                } else if (si.ssi_signo == SIGUSR1) {
                    std::cerr << summary_.to_text();
                } else {
                    log("signal {}: flushing and exiting",
                        strsignal(static_cast<int>(si.ssi_signo)));
                    stop = true;
                    notify("STOPPING=1");
                }
            }
        }
        try {
            store_->flush();
        } catch (const std::exception& e) {
            err("{}", e.what());
        }
    }
    ::close(sfd);
    // What was lost at the very end is only known from the module's marks.
    sync_tail(true);
    if (!timers_.empty())
        warn("{} scheduled response(s) not sent: left pending in the module", timers_.size());
    // The VMM goes: its fault queues closed first (iommufd answers what is
    // pending INVALID), then the bindings and the rest; the devices
    // unbridged, so that the module is not pinned by them.
    release_road("stop", true);
    iopf::Json stop_line = iopf::Json::object();
    iopf::Json books = books_json();
    if (!books.as_object().empty()) {
        log("books: {} faults handed out since we joined = {} stored + {} lost ({} missed, {} "
            "recovered, {} late){}",
            books.at("handed_out").as_u64(), books.at("stored").as_u64(), books.at("lost").as_u64(),
            books.at("missing").as_u64(), books.at("recovered").as_u64(), books.at("late").as_u64(),
            books.at("balanced").as_bool() ? "" : ": DO NOT BALANCE");
        stop_line.set("books", books);
    }
    iopf::Json rbooks = resume_books_json();
    if (!rbooks.as_object().empty()) {
        log("resume books: {} RESUMEs handed out since we joined = {} stored + {} lost ({} "
            "missed, {} late){}",
            rbooks.at("handed_out").as_u64(), rbooks.at("stored").as_u64(),
            rbooks.at("lost").as_u64(), rbooks.at("missing").as_u64(), rbooks.at("late").as_u64(),
            rbooks.at("balanced").as_bool() ? "" : ": DO NOT BALANCE");
        stop_line.set("resume_books", rbooks);
    }
    daemon_line("stop", stop_line);
    store_->sync();
    std::cerr << summary_.to_text();
    return 0;
}

} // namespace iopfd
