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
#include "iopf/vevent_ledger.hpp"
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

#ifdef IOPF_HAVE_IOMMUFD_NESTED
// A nested device's vSMMUv3 objects (nested=on), each owned: the parent
// (stage 2 over the device's IOAS), the vIOMMU, the vDEVICE (the vSID), the
// nested HWPT (the guest's vSTE, stage-1 translate, with the fault queue)
// and the vEVENTQ with its books.
struct RoadNested {
    iopf::NestedConfig cfg;
    iopf::ParentHwpt parent;
    iopf::Viommu viommu;
    iopf::Vdevice vdev;
    iopf::NestedHwpt hwpt;
    iopf::VeventQueue veq;
    iopf::VeventLedger ledger;
};
#else
struct RoadNested {};
#endif

// One device's objects in the iommufd. Released by Road in this order: the
// fault queue (iommufd answers what is still pending INVALID), the vEVENTQ,
// the binding (detach; for a nested device the nested HWPT and the vDEVICE
// before the unbind, as upstream asks, then the vIOMMU and the parent),
// then the HWPT, the IOAS and the host pages.
struct RoadDevice {
    uint32_t sid = 0;
    uint32_t ioas = 0;
    uint32_t dev_id = 0; // 0: not bound
    uint32_t hwpt = 0;   // the plain road's HWPT (0 for a nested device)
    bool attached = false;
    iopf::FaultQueue fq;
    std::unique_ptr<RoadNested> nested; // nested=on
    // The HWPT attached: the nested one, or the plain one.
    uint32_t attached_hwpt() const;
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
    // A nested device (no stage on the request): what iopfd took it for.
    std::string inferred;          // "stage1" (the guest's) or "stage2" (ours); empty: not nested
    std::string walk;              // unattributed=walk: what the guest's stage 1 said
    std::optional<uint64_t> ipa;   // stage2: S1(IOVA), where stage 2 was mapped
    uint32_t stage = IOPF_STAGE_2; // the table `mapped` is in

    uint64_t pages() const;
};

// The store line of one page request handled on the road: kind "fault",
// "via":"iommufd", the pgfault's fields, the action, the code sent (null
// when none), what was mapped; `ok`/`error` say how the answer went.
iopf::Json pgfault_line(const RoadDevice& d, const iommu_hwpt_pgfault& f, const PgFaultOutcome& o,
                        const std::optional<std::string>& error);

#ifdef IOPF_HAVE_IOMMUFD_NESTED
// The store line of one vEVENTQ entry: kind "fault", "via":"vevent", the
// physical and virtual StreamIDs, the queue, the sequence and what the books
// made of it, the raw record and its fields (decoded as
// arm_smmu_decode_event() reads them). A LOST_EVENTS entry has no record:
// its line is a loss line (vevent_loss_line).
iopf::Json vevent_line(const RoadDevice& d, const iopf::Vevent& e,
                       const iopf::VeventLedger::Fed& fed);
// The loss line of an entry the books found a loss or an inconsistency in
// ({"kind":"loss","what":"vevent_gap|vevent_tail|vevent_inconsistent"}),
// nullopt when it is in order.
std::optional<iopf::Json> vevent_loss_line(const RoadDevice& d, const iopf::Vevent& e,
                                           const iopf::VeventLedger::Fed& fed);
// A nested device's books: received, lost (gap, tail), gaps, tails,
// inconsistent, handed out.
iopf::Json vevent_books(const RoadDevice& d);

// What unattributed=walk makes of a nested device's page request, walking
// as the module's nested walk does (Documentation/stages.md): the stage-1
// table page of the IOVA (IPA = ttb + (IOVA >> 21) * 4 KiB) must be in
// stage 2 first (`s2`: what iopfd mapped in the IOAS), then stage 1 (`s1`:
// the guest's table) must map the IOVA with the access's read/write
// permission, then stage 2 its output. `ipa` is set when the fault is taken
// for stage 2: the table page (`table`) or S1(IOVA); otherwise it is the
// guest's (stage 1).
struct WalkResult {
    std::optional<uint64_t> ipa;
    bool table = false;
    std::string what; // "table page unmapped in stage 2", "mapped", "unmapped", "mapped r, ..."
};
WalkResult walk_nested(uint64_t iova, uint32_t perm, const std::vector<iopf::Mapping>& s2,
                       const std::vector<iopf::Mapping>& s1, uint64_t ttb = IOPF_STAGE_TTB_DEFAULT);

// The model's fault for a page request handed to the guest model: a stage-1
// translation fault at the IOVA (the request says no more).
iopf::Fault forwarded_fault(uint32_t sid, const iommu_hwpt_pgfault& f);
#endif

class Road {
  public:
    Road() = default;
    ~Road(); // every device released, then /dev/iopf_testbed, then /dev/iommu
    Road(const Road&) = delete;
    Road& operator=(const Road&) = delete;

    // A bridged device's VMM objects: IOAS_ALLOC, FAULT_QUEUE_ALLOC, BIND,
    // HWPT_ALLOC with the fault id, ATTACH (the first call opens /dev/iommu
    // and /dev/iopf_testbed). With `nested`: IOAS_ALLOC, FAULT_QUEUE_ALLOC,
    // BIND, HWPT_ALLOC NEST_PARENT, VIOMMU_ALLOC, VDEVICE_ALLOC (the vSID),
    // HWPT_ALLOC of the nested HWPT (vSTE stage-1 translate) with the fault
    // id, VEVENTQ_ALLOC, ATTACH of the nested HWPT. On failure what was made
    // is released.
    RoadDevice& add(uint32_t sid, const std::optional<iopf::NestedConfig>& nested = std::nullopt);
    // Releases `sid`'s objects (no-op if none); returns whether it had some.
    bool remove(uint32_t sid) noexcept;
    RoadDevice* find(uint32_t sid);
    std::vector<uint32_t> sids() const;
    bool empty() const { return devs_.empty(); }

    // The l2 policy applied to one page request: map (the window's free
    // pages, from host pages of ours, at their IOVAs), success, invalid, or
    // pending (no answer).
    PgFaultOutcome handle(RoadDevice& d, const iommu_hwpt_pgfault& f, const iopf::Action& a) {
        return handle_at(d, f, f.addr, a);
    }
    // The same at `addr` of the IOAS (a nested device's IPA: its stage 2).
    PgFaultOutcome handle_at(RoadDevice& d, const iommu_hwpt_pgfault& f, uint64_t addr,
                             const iopf::Action& a);

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
