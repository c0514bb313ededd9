// SPDX-License-Identifier: GPL-2.0
#include "road.hpp"

#include <cerrno>
#include <chrono>
#include <fstream>

#include <fmt/core.h>
#include <sys/mman.h>

#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopfd {

HostBuffer::HostBuffer(std::size_t len) : len_(len) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        throw iopf::Error(errno, fmt::format("mmap {:#x} bytes of host pages", len));
    p_ = p;
}

HostBuffer::HostBuffer(HostBuffer&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), len_(std::exchange(o.len_, 0)) {}

HostBuffer::~HostBuffer() {
    if (p_)
        ::munmap(p_, len_);
}

uint64_t PgFaultOutcome::pages() const {
    uint64_t n = 0;
    for (const auto& m : mapped)
        n += m.len / kPage;
    return n;
}

namespace {

std::vector<std::string> pgfault_flag_names(uint32_t flags) {
    std::vector<std::string> v;
    if (flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
        v.emplace_back("pasid_valid");
    if (flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)
        v.emplace_back("last_page");
    if (uint32_t rest = flags & ~uint32_t(IOMMU_PGFAULT_FLAGS_PASID_VALID |
                                          IOMMU_PGFAULT_FLAGS_LAST_PAGE))
        v.push_back(fmt::format("{:#x}", rest));
    return v;
}

// iommu_hwpt_pgfault's perm bits are the module's (read, write, exec, priv).
static_assert(IOMMU_PGFAULT_PERM_READ == IOPF_PERM_READ &&
              IOMMU_PGFAULT_PERM_WRITE == IOPF_PERM_WRITE &&
              IOMMU_PGFAULT_PERM_EXEC == IOPF_PERM_EXEC &&
              IOMMU_PGFAULT_PERM_PRIV == IOPF_PERM_PRIV);

uint64_t us_since(std::chrono::steady_clock::time_point t0) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count());
}

} // namespace

iopf::Json pgfault_line(const RoadDevice& d, const iommu_hwpt_pgfault& f, const PgFaultOutcome& o,
                        const std::optional<std::string>& error) {
    iopf::Json j = iopf::Json::object();
    j.set("kind", "fault");
    j.set("via", "iommufd");
    j.set("sid", d.sid);
    j.set("dev_id", f.dev_id);
    j.set("pasid", f.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? iopf::Json(f.pasid) : iopf::Json());
    j.set("grpid", f.grpid);
    iopf::Json perm = iopf::Json::array();
    for (const auto& p : iopf::perm_names(f.perm))
        perm.push(p);
    j.set("perm", perm);
    j.set("addr", iopf::hex(f.addr));
    iopf::Json flags = iopf::Json::array();
    for (const auto& n : pgfault_flag_names(f.flags))
        flags.push(n);
    j.set("flags", flags);
    j.set("cookie", f.cookie);
    j.set("length", f.length);
    j.set("action", o.action);
    j.set("code", o.code ? iopf::Json(*o.code == IOMMUFD_PAGE_RESP_SUCCESS ? "success" : "invalid")
                         : iopf::Json());
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (d.nested) {
        // No stage on the request: the vSID, the policy and what it inferred.
        j.set("vsid", d.nested->cfg.vsid);
        j.set("unattributed", iopf::unattributed_name(d.nested->cfg.unattributed));
        j.set("inferred", o.inferred.empty() ? iopf::Json() : iopf::Json(o.inferred));
        if (!o.walk.empty())
            j.set("walk", o.walk);
        if (o.ipa)
            j.set("ipa", iopf::hex(*o.ipa));
    }
#endif
    if (o.window.pages) {
        if (!o.inferred.empty())
            j.set("stage", o.stage);
        j.set("window", iopf::hex(o.window.addr));
        j.set("window_pages", o.window.pages);
        iopf::Json runs = iopf::Json::array();
        for (const auto& m : o.mapped) {
            iopf::Json r = iopf::Json::object();
            r.set("addr", iopf::hex(m.addr));
            if (m.stage == IOPF_STAGE_1)
                r.set("out_addr", iopf::hex(m.out_addr)); // the guest's IPA
            r.set("pages", m.len / kPage);
            r.set("perm", iopf::perm_letters(m.perm));
            runs.push(r);
        }
        j.set("mapped", runs);
        j.set("pages", o.pages());
        j.set("already", o.already);
    }
    if (!o.why.empty())
        j.set("why", o.why);
    j.set("us", o.us);
    if (o.code) {
        j.set("ok", !error);
        if (error)
            j.set("error", *error);
    }
    return j;
}

#ifdef IOPF_HAVE_IOMMUFD_NESTED
iopf::Json vevent_line(const RoadDevice& d, const iopf::Vevent& e,
                       const iopf::VeventLedger::Fed& fed) {
    iopf::Json j = iopf::Json::object();
    j.set("kind", "fault");
    j.set("via", "vevent");
    j.set("sid", d.sid);
    j.set("vsid", d.nested ? iopf::Json(d.nested->cfg.vsid) : iopf::Json());
    j.set("veventq", d.nested ? iopf::Json(d.nested->veq.id()) : iopf::Json());
    j.set("sequence", e.sequence);
    j.set("books", iopf::vevent_kind_name(fed.kind));
    if (fed.lost)
        j.set("lost_before", fed.lost);
    iopf::Record rec{};
    for (std::size_t i = 0; i < rec.size(); i++)
        rec[i] = e.evt[i];
    iopf::Json words = iopf::Json::array();
    for (uint64_t w : rec)
        words.push(iopf::hex(w));
    j.set("record", words);
    // The record's fields, read with fault_core.h's masks: its StreamID is
    // the guest's (iommufd replaced ours), whose vSID it must be.
    const iopf::EvtFields f = iopf::evt_fields(rec);
    j.set("record_sid", f.sid);
    j.set("vsid_ok", d.nested ? iopf::Json(f.sid == d.nested->cfg.vsid) : iopf::Json());
    j.set("event_id", f.id);
    j.set("event", iopf_evt_name(f.id));
    j.set("ssid", f.ssv ? iopf::Json(f.ssid) : iopf::Json());
    j.set("stall", f.stall);
    j.set("stag", f.stall ? iopf::Json(f.stag) : iopf::Json());
    j.set("stage", f.s2 ? 2 : 1);
    j.set("class", iopf::evt_class_name(f.cls));
    iopf::Json perm = iopf::Json::array();
    perm.push(f.rnw ? "read" : "write");
    if (f.ind)
        perm.push("exec");
    if (f.pnu)
        perm.push("priv");
    j.set("perm", perm);
    j.set("addr", f.has_addrs() ? iopf::Json(iopf::hex(f.iova)) : iopf::Json());
    j.set("ipa", f.has_addrs() && f.s2 ? iopf::Json(iopf::hex(f.ipa)) : iopf::Json());
    if (fed.kind == iopf::VeventLedger::Kind::inconsistent)
        j.set("why", fed.why);
    return j;
}

std::optional<iopf::Json> vevent_loss_line(const RoadDevice& d, const iopf::Vevent& e,
                                           const iopf::VeventLedger::Fed& fed) {
    using K = iopf::VeventLedger::Kind;
    if (fed.kind == K::in_order)
        return std::nullopt;
    iopf::Json j = iopf::Json::object();
    j.set("kind", "loss");
    j.set("what", fed.kind == K::gap    ? "vevent_gap"
                  : fed.kind == K::tail ? "vevent_tail"
                                        : "vevent_inconsistent");
    j.set("sid", d.sid);
    j.set("vsid", d.nested ? iopf::Json(d.nested->cfg.vsid) : iopf::Json());
    j.set("sequence", e.sequence);
    j.set("expected", fed.expected);
    if (fed.kind == K::inconsistent) {
        j.set("why", fed.why);
    } else {
        j.set("first", fed.first_lost);
        j.set("lost", fed.lost);
    }
    return j;
}

iopf::Json vevent_books(const RoadDevice& d) {
    iopf::Json j = iopf::Json::object();
    if (!d.nested)
        return j;
    const iopf::VeventLedger& l = d.nested->ledger;
    j.set("received", l.received());
    j.set("lost", l.lost());
    j.set("gap_missing", l.gap_missing());
    j.set("tail_missing", l.tail_missing());
    j.set("gaps", l.gaps());
    j.set("tails", l.tails());
    j.set("inconsistent", l.inconsistent());
    j.set("handed_out", l.handed_out());
    j.set("next_sequence", l.expected());
    return j;
}

WalkResult walk_nested(uint64_t iova, uint32_t perm, const std::vector<iopf::Mapping>& s2,
                       const std::vector<iopf::Mapping>& s1, uint64_t ttb) {
    WalkResult r;
    const uint64_t table = ttb + (iova >> 21) * kPage;
    if (!covering(table, s2)) {
        // The walk reads the table page through stage 2 before anything.
        r.ipa = table;
        r.table = true;
        r.what = "stage-1 table page " + iopf::hex(table) + " unmapped in stage 2";
        return r;
    }
    const iopf::Mapping* m = covering(iova, s1);
    if (!m) {
        r.what = "unmapped";
        return r;
    }
    const uint32_t need = perm & (IOPF_PERM_READ | IOPF_PERM_WRITE);
    if ((m->perm & need) != need) {
        // Stage 1 itself refuses the access: the guest's fault.
        r.what = "mapped " + iopf::perm_letters(m->perm) + ", the access needs " +
                 iopf::perm_letters(need);
        return r;
    }
    r.ipa = m->out_addr + (iova - m->addr);
    r.what = "mapped";
    return r;
}

iopf::Fault forwarded_fault(uint32_t sid, const iommu_hwpt_pgfault& f) {
    iopf::Fault out;
    out.sid = sid;
    out.event_id = EVT_ID_TRANSLATION_FAULT;
    iopf_model_fault m{};
    m.type = IOPF_FAULT_PAGE_REQ;
    m.event_id = EVT_ID_TRANSLATION_FAULT;
    m.level = 1;
    m.sid = sid;
    m.flags = IOPF_PRQ_LAST_PAGE;
    if (f.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
        m.flags |= IOPF_PRQ_PASID_VALID;
        m.pasid = f.pasid;
    }
    m.grpid = f.grpid;
    m.perm = f.perm;
    m.addr = f.addr;
    out.fault = m;
    return out;
}
#endif

uint32_t RoadDevice::attached_hwpt() const {
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (nested)
        return nested->hwpt.id();
#endif
    return hwpt;
}

Road::~Road() {
    for (auto& [sid, d] : devs_)
        release(*d);
    devs_.clear();
    bridge_.reset(); // closing it unbinds whatever is still bound
    ictx_.reset();
}

RoadDevice& Road::add(uint32_t sid, const std::optional<iopf::NestedConfig>& nested) {
    if (auto* d = find(sid))
        return *d;
#ifndef IOPF_HAVE_IOMMUFD_NESTED
    if (nested)
        throw iopf::Error(EOPNOTSUPP,
                          fmt::format("device {:#x}: nested=on: iopfd was built without the "
                                      "iommufd vIOMMU/vEVENTQ uAPI (Linux 6.15+)",
                                      sid));
#endif
    if (!ictx_)
        ictx_.emplace("/dev/iommu");
    if (!bridge_)
        bridge_.emplace("/dev/iopf_testbed");
    auto d = std::make_unique<RoadDevice>();
    d->sid = sid;
    try {
        d->ioas = ictx_->ioas_alloc();
        d->fq = ictx_->fault_queue_alloc();
        d->dev_id = bridge_->bind(sid, *ictx_);
#ifdef IOPF_HAVE_IOMMUFD_NESTED
        if (nested) {
            // As a VMM with a vSMMUv3 does it (upstream 7.2): stage 2, the
            // vIOMMU over it, the guest's StreamID, the guest's STE with
            // the fault queue, the vIOMMU's event queue; the vDEVICE before
            // the attach (a stage-1-translate vSTE needs it: ENOENT).
            d->nested = std::make_unique<RoadNested>();
            RoadNested& n = *d->nested;
            n.cfg = *nested;
            n.parent = ictx_->nest_parent_alloc(d->dev_id, d->ioas);
            n.viommu = ictx_->viommu_alloc(d->dev_id, n.parent);
            n.vdev = ictx_->vdevice_alloc(n.viommu, d->dev_id, n.cfg.vsid);
            n.hwpt = ictx_->nested_hwpt_alloc(d->dev_id, n.viommu, iopf::SmmuV3Vste::s1_translate(),
                                              d->fq.id());
            n.veq = ictx_->veventq_alloc(n.viommu, n.cfg.veventq_depth);
            bridge_->attach(d->dev_id, n.hwpt.id());
            d->attached = true;
        } else
#endif
        {
            d->hwpt = ictx_->hwpt_alloc(d->dev_id, d->ioas, d->fq.id());
            bridge_->attach(d->dev_id, d->hwpt);
            d->attached = true;
        }
    } catch (...) {
        release(*d);
        throw;
    }
    auto& ref = *d;
    devs_.emplace(sid, std::move(d));
    return ref;
}

// Fault queue, binding, then the rest; errors are the module's or iommufd's
// word that the object is gone already (a removed device, a closed file).
void Road::release(RoadDevice& d) noexcept {
    d.fq = iopf::FaultQueue(); // closes the fd: iommufd answers pending groups INVALID
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (d.nested)
        d.nested->veq.reset(); // its fd, then the object
#endif
    if (d.dev_id && bridge_) {
        try {
            if (d.attached)
                bridge_->detach(d.dev_id);
        } catch (const std::exception&) {
        }
#ifdef IOPF_HAVE_IOMMUFD_NESTED
        // The vDEVICE goes before the device is unbound (else iommufd
        // destroys it itself and its id leaks until the context closes).
        if (d.nested) {
            d.nested->hwpt.reset();
            d.nested->vdev.reset();
        }
#endif
        try {
            bridge_->unbind(d.dev_id);
        } catch (const std::exception&) {
        }
    }
    d.attached = false;
    d.dev_id = 0;
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    if (d.nested) { // what is left, users first: the vIOMMU holds the parent
        d.nested->hwpt.reset();
        d.nested->vdev.reset();
        d.nested->viommu.reset();
        d.nested->parent.reset();
    }
#endif
    for (uint32_t* id : {&d.hwpt, &d.ioas}) {
        if (*id && ictx_) {
            try {
                ictx_->destroy(*id);
            } catch (const std::exception&) {
            }
        }
        *id = 0;
    }
    d.mapped.clear();
    d.buffers.clear(); // unpinned with the IOAS: our pages go last
}

bool Road::remove(uint32_t sid) noexcept {
    auto it = devs_.find(sid);
    if (it == devs_.end())
        return false;
    release(*it->second);
    devs_.erase(it);
    return true;
}

RoadDevice* Road::find(uint32_t sid) {
    auto it = devs_.find(sid);
    return it == devs_.end() ? nullptr : it->second.get();
}

std::vector<uint32_t> Road::sids() const {
    std::vector<uint32_t> v;
    for (const auto& [sid, d] : devs_)
        v.push_back(sid);
    return v;
}

PgFaultOutcome Road::handle_at(RoadDevice& d, const iommu_hwpt_pgfault& f, uint64_t addr,
                               const iopf::Action& a) {
    const auto t0 = std::chrono::steady_clock::now();
    PgFaultOutcome o;
    o.action = a.to_string();
    if (a.pending)
        return o; // the module's timeout aborts it
    if (!a.map) {
        o.code = a.code == IOPF_RESP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS : IOMMUFD_PAGE_RESP_INVALID;
        o.us = us_since(t0);
        return o;
    }
    const iopf::MapPolicy& p = *a.map;
    o.window = fault_window(addr, p.window);
    o.code = IOMMUFD_PAGE_RESP_SUCCESS;
    const uint32_t need = f.perm & (IOPF_PERM_READ | IOPF_PERM_WRITE);
    const uint32_t prot = (p.perm & IOPF_PERM_READ ? iopf::Iommufd::kRead : 0) |
                          (p.perm & IOPF_PERM_WRITE ? iopf::Iommufd::kWrite : 0);
    if (const iopf::Mapping* m = covering(addr, d.mapped); m && (m->perm & need) != need) {
        // Mapped already without what the access needs: mapping more
        // cannot help (and IOAS_MAP cannot change a mapping).
        o.code = IOMMUFD_PAGE_RESP_INVALID;
        o.why = "page mapped " + iopf::perm_letters(m->perm) + ", the access needs " +
                iopf::perm_letters(need);
    } else if (!prot) {
        o.code = IOMMUFD_PAGE_RESP_INVALID;
        o.why = "perm=" + iopf::perm_letters(p.perm) +
                ": IOAS_MAP maps readable and/or writable pages only";
    } else {
        auto runs = free_runs(o.window, d.mapped);
        uint64_t free_pages = 0;
        for (const auto& r : runs)
            free_pages += r.pages;
        o.already = o.window.pages - free_pages;
        try {
            for (const auto& r : runs) {
                HostBuffer buf(r.pages * kPage);
                ictx_->ioas_map(d.ioas, r.addr, buf.data(), buf.size(), prot);
                iopf::Mapping m{d.sid,
                                IOPF_STAGE_2,
                                std::nullopt,
                                r.addr,
                                reinterpret_cast<uintptr_t>(buf.data()),
                                buf.size(),
                                p.perm & (IOPF_PERM_READ | IOPF_PERM_WRITE)};
                d.buffers.push_back(std::move(buf));
                d.mapped.push_back(m);
                o.mapped.push_back(m);
            }
        } catch (const std::exception& e) {
            o.code = IOMMUFD_PAGE_RESP_INVALID;
            o.why = e.what();
        }
    }
    o.us = us_since(t0);
    return o;
}

std::string allow_unsafe_interrupts(const char* path) {
    {
        std::ifstream in(path);
        std::string v;
        if (in >> v && (v == "Y" || v == "1"))
            return "already set";
    }
    std::ofstream out(path);
    if (out)
        out << "1\n";
    out.flush();
    if (!out)
        throw iopf::Error(errno ? errno : EIO, fmt::format("writing 1 to {}", path));
    return "set";
}

} // namespace iopfd
