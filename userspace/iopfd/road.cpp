// SPDX-License-Identifier: GPL-2.0
#include "road.hpp"

#include <cerrno>
#include <chrono>
#include <fstream>

#include <fmt/core.h>
#include <sys/mman.h>

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
    if (o.window.pages) {
        j.set("window", iopf::hex(o.window.addr));
        j.set("window_pages", o.window.pages);
        iopf::Json runs = iopf::Json::array();
        for (const auto& m : o.mapped) {
            iopf::Json r = iopf::Json::object();
            r.set("addr", iopf::hex(m.addr));
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

Road::~Road() {
    for (auto& [sid, d] : devs_)
        release(*d);
    devs_.clear();
    bridge_.reset(); // closing it unbinds whatever is still bound
    ictx_.reset();
}

RoadDevice& Road::add(uint32_t sid) {
    if (auto* d = find(sid))
        return *d;
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
        d->hwpt = ictx_->hwpt_alloc(d->dev_id, d->ioas, d->fq.id());
        bridge_->attach(d->dev_id, d->hwpt);
        d->attached = true;
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
    if (d.dev_id && bridge_) {
        try {
            if (d.attached)
                bridge_->detach(d.dev_id);
        } catch (const std::exception&) {
        }
        try {
            bridge_->unbind(d.dev_id);
        } catch (const std::exception&) {
        }
    }
    d.attached = false;
    d.dev_id = 0;
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

PgFaultOutcome Road::handle(RoadDevice& d, const iommu_hwpt_pgfault& f, const iopf::Action& a) {
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
    o.window = fault_window(f.addr, p.window);
    o.code = IOMMUFD_PAGE_RESP_SUCCESS;
    const uint32_t need = f.perm & (IOPF_PERM_READ | IOPF_PERM_WRITE);
    const uint32_t prot = (p.perm & IOPF_PERM_READ ? iopf::Iommufd::kRead : 0) |
                          (p.perm & IOPF_PERM_WRITE ? iopf::Iommufd::kWrite : 0);
    if (const iopf::Mapping* m = covering(f.addr, d.mapped); m && (m->perm & need) != need) {
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
