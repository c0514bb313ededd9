// SPDX-License-Identifier: GPL-2.0
// iopfd as the VMM on upstream's road (Documentation/upstream-path.md): for
// each device configured with delivery=iommufd, the objects a VMM holds in
// an iommufd (IOAS, fault queue, the device's binding, a HWPT with the fault
// id, the attachment), owned here; the page requests read from its fault
// queue, fixed up by the device's l2 policy (IOMMU_IOAS_MAP of host pages
// iopfd owns) and answered there. Built only with the iommufd uAPI
// (IOPF_HAVE_IOMMUFD).
#pragma once

#ifdef IOPF_HAVE_IOMMUFD

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iopf/config.hpp"
#include "iopf/iommufd.hpp"
#include "iopf/json.hpp"
#include "iopf/types.hpp"
#include "paging.hpp"

namespace iopfd {

// Anonymous memory, populated at once (MAP_POPULATE), unmapped by its
// owner: the host pages behind an IOMMU_IOAS_MAP.
class HostBuffer {
  public:
    explicit HostBuffer(std::size_t len); // throws iopf::Error
    HostBuffer(HostBuffer&& o) noexcept;
    HostBuffer& operator=(HostBuffer&&) = delete;
    HostBuffer(const HostBuffer&) = delete;
    HostBuffer& operator=(const HostBuffer&) = delete;
    ~HostBuffer();
    void* data() const { return p_; }
    std::size_t size() const { return len_; }

  private:
    void* p_ = nullptr;
    std::size_t len_ = 0;
};

// One device's objects in the iommufd. Released by Road in this order: the
// fault queue (iommufd answers what is still pending INVALID), the binding
// (detach, unbind), then the HWPT, the IOAS and the host pages.
struct RoadDevice {
    uint32_t sid = 0;
    uint32_t ioas = 0;
    uint32_t dev_id = 0; // 0: not bound
    uint32_t hwpt = 0;
    bool attached = false;
    iopf::FaultQueue fq;
    // What iopfd mapped in the IOAS (addr, len, perm): pages already mapped
    // are skipped, as IOAS_MAP with a fixed IOVA is all or nothing.
    std::vector<iopf::Mapping> mapped;
    std::vector<HostBuffer> buffers;
};

// What the policy did with one struct iommu_hwpt_pgfault.
struct PgFaultOutcome {
    std::string action;          // the policy's words (Action::to_string)
    std::optional<uint32_t> code; // IOMMUFD_PAGE_RESP_*; nullopt: not answered
    PageRun window;
    std::vector<iopf::Mapping> mapped; // runs mapped for it
    uint64_t already = 0;              // pages of the window mapped before
    std::string why;                   // why INVALID
    uint64_t us = 0;

    uint64_t pages() const;
};

// The store line of one page request handled on the road: kind "fault",
// "via":"iommufd", the pgfault's fields, the action, the code sent (null
// when none), what was mapped; `ok`/`error` say how the answer went.
iopf::Json pgfault_line(const RoadDevice& d, const iommu_hwpt_pgfault& f, const PgFaultOutcome& o,
                        const std::optional<std::string>& error);

class Road {
  public:
    Road() = default;
    ~Road(); // every device released, then /dev/iopf_testbed, then /dev/iommu
    Road(const Road&) = delete;
    Road& operator=(const Road&) = delete;

    // A bridged device's VMM objects: IOAS_ALLOC, FAULT_QUEUE_ALLOC, BIND,
    // HWPT_ALLOC with the fault id, ATTACH (the first call opens /dev/iommu
    // and /dev/iopf_testbed). On failure what was made is released.
    RoadDevice& add(uint32_t sid);
    // Releases `sid`'s objects (no-op if none); returns whether it had some.
    bool remove(uint32_t sid) noexcept;
    RoadDevice* find(uint32_t sid);
    std::vector<uint32_t> sids() const;
    bool empty() const { return devs_.empty(); }

    // The l2 policy applied to one page request: map (the window's free
    // pages, from host pages of ours, at their IOVAs), success, invalid, or
    // pending (no answer).
    PgFaultOutcome handle(RoadDevice& d, const iommu_hwpt_pgfault& f, const iopf::Action& a);

  private:
    void release(RoadDevice& d) noexcept;

    std::optional<iopf::Iommufd> ictx_;
    std::optional<iopf::Bridge> bridge_;
    std::map<uint32_t, std::unique_ptr<RoadDevice>> devs_;
};

// /sys/module/iommufd/parameters/allow_unsafe_interrupts: platform devices
// have no isolated MSI, and iommufd refuses their bind without it. Returns
// what was done ("set", "already set"), throws iopf::Error on failure.
std::string allow_unsafe_interrupts(
    const char* path = "/sys/module/iommufd/parameters/allow_unsafe_interrupts");

} // namespace iopfd

#endif // IOPF_HAVE_IOMMUFD
