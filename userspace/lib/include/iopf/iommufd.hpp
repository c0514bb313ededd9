// SPDX-License-Identifier: GPL-2.0
// Upstream's road (Documentation/upstream-path.md): a small client of the
// iommufd uAPI and of /dev/iopf_testbed's bridge ioctls. Built only with an
// iommufd uAPI that has the fault queue (Linux 6.11+; IOPF_KERNEL_UAPI, which
// defines IOPF_HAVE_IOMMUFD): Debian 12's libc headers are 6.1's.
//
//   Iommufd ictx;                                   // /dev/iommu
//   uint32_t ioas = ictx.ioas_alloc();
//   ictx.ioas_map(ioas, 0x100000, buf, len);        // fixed IOVA, rw
//   FaultQueue fq = ictx.fault_queue_alloc();
//   Bridge br;                                      // /dev/iopf_testbed
//   uint32_t dev = br.bind(0x10, ictx);             // a bridged SID
//   uint32_t hwpt = ictx.hwpt_alloc(dev, ioas, fq.id());
//   br.attach(dev, hwpt);
//   for (const auto& f : fq.read()) ... fq.respond(f.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
//
// Nested (a vSMMUv3; Linux 6.15+ uAPI, IOPF_HAVE_IOMMUFD_NESTED), each
// object owned and destroyed by what is returned:
//
//   ParentHwpt s2 = ictx.nest_parent_alloc(dev, ioas);     // stage 2
//   Viommu vi = ictx.viommu_alloc(dev, s2);
//   Vdevice vd = ictx.vdevice_alloc(vi, dev, 0x42);         // the vSID
//   NestedHwpt s1 = ictx.nested_hwpt_alloc(dev, vi, SmmuV3Vste::s1_translate(), fq.id());
//   VeventQueue veq = ictx.veventq_alloc(vi, 64);
//   br.attach(dev, s1.id());
//   for (const auto& e : veq.read()) ...   // non-stalled stage-1 records
//
// Every failure is an iopf::Error with the errno and the ioctl (or call) it
// came from: "IOMMU_HWPT_ALLOC dev_id 1 pt_id 2: Operation not supported".
#pragma once

#ifndef IOPF_HAVE_IOMMUFD
#error "iopf/iommufd.hpp needs an iommufd uAPI with the fault queue (IOPF_KERNEL_UAPI)"
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <linux/iommufd.h>

// Nested translation (a NEST_PARENT HWPT, vIOMMU, vDEVICE, nested HWPT,
// vEVENTQ): Linux 6.15+'s uAPI. An older uAPI with the fault queue still
// builds the rest; without this, iopfd refuses nested=on in its
// configuration.
#ifdef IOMMU_VEVENTQ_ALLOC
#define IOPF_HAVE_IOMMUFD_NESTED 1
#endif

namespace iopf {

// An owned file descriptor: closed once, by its last owner; moved, never
// copied.
class UniqueFd {
  public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o)
            reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives the fd up without closing it.
    int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the fd held, if any, and holds `fd`.
    void reset(int fd = -1) noexcept;

  private:
    int fd_ = -1;
};

// An IOMMUFD_FAULT object's fd (IOMMU_FAULT_QUEUE_ALLOC): page faults of the
// HWPTs allocated with its id are read from it, the answers written to it.
class FaultQueue {
  public:
    FaultQueue() = default;
    // Adopts `fd` (the queue's, or any fd carrying the same records: a
    // socket in the unit tests).
    FaultQueue(uint32_t id, UniqueFd fd) : id_(id), fd_(std::move(fd)) {}

    uint32_t id() const noexcept { return id_; }
    int fd() const noexcept { return fd_.get(); }

    // One read(2) of up to `max` records. iommufd hands out whole groups
    // only (a group that does not fit waits for the next read) and returns
    // 0 bytes when nothing is pending, as does EAGAIN on a non-blocking fd:
    // an empty span then; poll(2) the fd for POLLIN. The span points into
    // the queue's buffer and is valid until the next read(). A length that
    // is not whole records is Error(EPROTO).
    std::span<const iommu_hwpt_pgfault> read(std::size_t max = 64);

    // One answer: `cookie` of the group's last fault, `code`
    // IOMMUFD_PAGE_RESP_SUCCESS or _INVALID.
    void respond(uint32_t cookie, uint32_t code);
    // Several answers in one write(2). iommufd stops at the first record it
    // refuses (unknown cookie, bad code) and returns what it took; the rest
    // is written again, so the refused one fails alone: Error with its
    // errno, index and cookie (the ones before it are answered, and
    // `*taken`, when given, says how many: the refused one is rs[*taken]).
    void respond_batch(std::span<const iommu_hwpt_page_response> rs,
                       std::size_t* taken = nullptr);

  private:
    uint32_t id_ = 0;
    UniqueFd fd_;
    std::vector<iommu_hwpt_pgfault> buf_;
};

#ifdef IOPF_HAVE_IOMMUFD_NESTED
class Iommufd;
class ParentHwpt;
class Viommu;
class Vdevice;
class NestedHwpt;
class VeventQueue;

// A guest's Stream Table Entry for a nested HWPT (struct
// iommu_hwpt_arm_smmuv3: the first two words, CPU order here, little-endian
// on the wire). Word 0: V (bit 0), Config (bits 3:1): 0b000 abort, 0b100
// bypass (stage 2 only), 0b101 stage-1 translate (nested); the rest is the
// guest's (S1Fmt, S1ContextPtr, S1CDMax; word 1 S1DSS, S1CIR, S1COR, S1CSH,
// S1STALLD, EATS). The driver refuses other fields with EIO.
struct SmmuV3Vste {
    static constexpr uint64_t kValid = 1ull << 0;
    static constexpr unsigned kCfgShift = 1;
    static constexpr uint64_t kCfgMask = 0x7ull << kCfgShift;
    static constexpr uint64_t kCfgAbort = 0;
    static constexpr uint64_t kCfgBypass = 4;
    static constexpr uint64_t kCfgS1Translate = 5;

    std::array<uint64_t, 2> ste{};

    static SmmuV3Vste with_config(uint64_t cfg) {
        return {{kValid | ((cfg << kCfgShift) & kCfgMask), 0}};
    }
    static SmmuV3Vste s1_translate() { return with_config(kCfgS1Translate); }
    static SmmuV3Vste bypass() { return with_config(kCfgBypass); }
    static SmmuV3Vste abort() { return with_config(kCfgAbort); }
    uint64_t config() const { return (ste[0] & kCfgMask) >> kCfgShift; }
    // "s1_translate", "bypass", "abort", or the number
    const char* config_name() const;
};
#endif

// An iommufd context: an fd of /dev/iommu and the objects in it.
class Iommufd {
  public:
    static constexpr uint32_t kRead = IOMMU_IOAS_MAP_READABLE;
    static constexpr uint32_t kWrite = IOMMU_IOAS_MAP_WRITEABLE;

    // Opens `path` read-write (Error(errno, "open PATH") when it cannot).
    explicit Iommufd(const char* path = "/dev/iommu");
    // Adopts an fd of /dev/iommu.
    explicit Iommufd(UniqueFd fd) : fd_(std::move(fd)) {}

    int fd() const noexcept { return fd_.get(); }

    // IOMMU_IOAS_ALLOC: a new IO address space.
    uint32_t ioas_alloc();
    // IOMMU_IOAS_MAP: `length` bytes of this process's memory from `user_va`
    // at `iova` (IOMMU_IOAS_MAP_FIXED_IOVA; Error(EEXIST) if any of it is
    // mapped) or, without one, where the kernel chooses; `prot` is kRead
    // and/or kWrite. Returns the IOVA.
    uint64_t ioas_map(uint32_t ioas, std::optional<uint64_t> iova, const void* user_va,
                      uint64_t length, uint32_t prot = kRead | kWrite);
    // IOMMU_FAULT_QUEUE_ALLOC: a fault object, its id and its owned fd.
    FaultQueue fault_queue_alloc();
    // IOMMU_HWPT_ALLOC: a kernel-managed HWPT of `dev_id` over `pt_id` (an
    // IOAS or a parent HWPT); its faults go to `fault_id`
    // (IOMMU_HWPT_FAULT_ID_VALID) when given. `flags`: more
    // IOMMU_HWPT_ALLOC_* (NEST_PARENT, ...). Returns the HWPT's id.
    uint32_t hwpt_alloc(uint32_t dev_id, uint32_t pt_id,
                        std::optional<uint32_t> fault_id = std::nullopt, uint32_t flags = 0);
    // IOMMU_DESTROY: any destroyable object.
    void destroy(uint32_t id);

#ifdef IOPF_HAVE_IOMMUFD_NESTED
    // Nested translation, as a VMM sets it up for a vSMMUv3 (Linux 6.15+).
    // Each returns an owner that destroys the object (IOMMU_DESTROY) when
    // it goes; it refers to this context, which must outlive it.
    //
    // IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_NEST_PARENT over `ioas`: the
    // stage-2 domain (IOMMU_IOAS_MAP maps it). No fault queue: iommufd
    // refuses one on a nesting parent (EOPNOTSUPP).
    ParentHwpt nest_parent_alloc(uint32_t dev_id, uint32_t ioas);
    // IOMMU_VIOMMU_ALLOC {type, dev_id, hwpt_id = the parent}.
    Viommu viommu_alloc(uint32_t dev_id, const ParentHwpt& parent,
                        uint32_t type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
    // IOMMU_VDEVICE_ALLOC {viommu_id, dev_id, virt_id}: the guest's ID of
    // the device (a vSMMUv3's vSID).
    Vdevice vdevice_alloc(const Viommu& viommu, uint32_t dev_id, uint64_t virt_id);
    // IOMMU_HWPT_ALLOC {pt_id = the vIOMMU, IOMMU_HWPT_DATA_ARM_SMMUV3,
    // the vSTE}: a nested HWPT; its page requests go to `fault_id`
    // (IOMMU_HWPT_FAULT_ID_VALID) when given. A stage-1-translate one can
    // only be attached once the vDEVICE exists (ENOENT).
    NestedHwpt nested_hwpt_alloc(uint32_t dev_id, const Viommu& viommu, const SmmuV3Vste& vste,
                                 std::optional<uint32_t> fault_id = std::nullopt);
    // IOMMU_VEVENTQ_ALLOC {viommu_id, type, veventq_depth}: the queue of
    // the vIOMMU's events (for a vSMMUv3: non-stalled stage-1 records, the
    // StreamID replaced by the vSID), its id and owned fd. Depth 1 to
    // 2^19 (the kernel's VEVENTQ_MAX_DEPTH).
    VeventQueue veventq_alloc(const Viommu& viommu, uint32_t depth,
                              uint32_t type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
#endif

  private:
    UniqueFd fd_;
};

#ifdef IOPF_HAVE_IOMMUFD_NESTED
// An object in an iommufd, destroyed (IOMMU_DESTROY) by its owner: moved,
// never copied. Its context must outlive it.
class IommufdObject {
  public:
    IommufdObject() noexcept = default;
    IommufdObject(Iommufd& ictx, uint32_t id, const char* kind) noexcept
        : ictx_(&ictx), id_(id), kind_(kind) {}
    IommufdObject(IommufdObject&& o) noexcept
        : ictx_(std::exchange(o.ictx_, nullptr)), id_(std::exchange(o.id_, 0)), kind_(o.kind_) {}
    IommufdObject& operator=(IommufdObject&& o) noexcept {
        if (this != &o) {
            reset();
            ictx_ = std::exchange(o.ictx_, nullptr);
            id_ = std::exchange(o.id_, 0);
            kind_ = o.kind_;
        }
        return *this;
    }
    IommufdObject(const IommufdObject&) = delete;
    IommufdObject& operator=(const IommufdObject&) = delete;
    ~IommufdObject() { reset(); }

    uint32_t id() const noexcept { return id_; }
    const char* kind() const noexcept { return kind_; }
    explicit operator bool() const noexcept { return id_ != 0; }
    // IOMMU_DESTROY now; Error (EBUSY while something still uses it) names
    // the object. Held no more either way.
    void destroy();
    // The same, quietly (the object may be gone with its device already).
    void reset() noexcept;
    // Gives the id up without destroying the object.
    uint32_t release() noexcept {
        ictx_ = nullptr;
        return std::exchange(id_, 0);
    }

  private:
    Iommufd* ictx_ = nullptr;
    uint32_t id_ = 0;
    const char* kind_ = "object";
};

// The typed owners: a vDEVICE's id is no vIOMMU's.
class ParentHwpt : public IommufdObject {
  public:
    using IommufdObject::IommufdObject;
};
class Viommu : public IommufdObject {
  public:
    using IommufdObject::IommufdObject;
};
class Vdevice : public IommufdObject {
  public:
    using IommufdObject::IommufdObject;
};
class NestedHwpt : public IommufdObject {
  public:
    using IommufdObject::IommufdObject;
};

// One entry of a vEVENTQ: struct iommufd_vevent_header, and for an event
// (not the header-only LOST_EVENTS entry) its data: for a vSMMUv3 struct
// iommu_vevent_arm_smmuv3, the SMMUv3 record (words in CPU order here).
struct Vevent {
    uint32_t flags = 0;
    uint32_t sequence = 0;
    bool lost_events() const noexcept { return flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS; }
    std::array<uint64_t, 4> evt{}; // zero for a LOST_EVENTS entry
};

// What one read(2) of a vEVENTQ returned, split into entries: a header,
// then `data_len` bytes unless the header says LOST_EVENTS. iommufd
// returns whole entries only: a cut entry is Error(EPROTO) naming `what`.
// Appends to `out`.
void parse_vevents(std::span<const unsigned char> bytes, std::size_t data_len,
                   std::vector<Vevent>& out, const char* what = "vEVENTQ");

// A vEVENTQ object's fd (IOMMU_VEVENTQ_ALLOC) and the object: the fd is
// closed first, then the object destroyed.
class VeventQueue {
  public:
    VeventQueue() = default;
    // Adopts `fd` (the queue's, or any fd carrying the same entries: a
    // socket in the unit tests); `obj`, when given, is destroyed after.
    VeventQueue(uint32_t id, UniqueFd fd, IommufdObject obj = {})
        : obj_(std::move(obj)), id_(id), fd_(std::move(fd)) {}

    uint32_t id() const noexcept { return id_; }
    int fd() const noexcept { return fd_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

    // One read(2) of up to `max` vSMMUv3 entries (header + 32-byte record;
    // a LOST_EVENTS entry is a header alone). Empty when nothing is queued
    // (iommufd returns 0 bytes; EAGAIN too): poll(2) the fd for POLLIN. The
    // span is valid until the next read().
    std::span<const Vevent> read(std::size_t max = 64);

    // Closes the fd, then destroys the object (quietly).
    void reset() noexcept;

  private:
    IommufdObject obj_; // declared first: destroyed after the fd is closed
    uint32_t id_ = 0;
    UniqueFd fd_;
    std::vector<unsigned char> raw_;
    std::vector<Vevent> entries_;
};
#endif

// /dev/iopf_testbed: binds bridged devices (DEV_SET BRIDGE 1) to an
// iommufd, as a VFIO cdev binds its device (struct iopf_bridge_cmd). Closing
// it unbinds what it bound.
class Bridge {
  public:
    explicit Bridge(const char* path = "/dev/iopf_testbed");
    explicit Bridge(UniqueFd fd) : fd_(std::move(fd)) {}

    int fd() const noexcept { return fd_.get(); }

    // IOPF_BRIDGE_BIND: the device with StreamID `sid` into the iommufd
    // (an fd of /dev/iommu); returns its dev_id there.
    uint32_t bind(uint32_t sid, int iommufd);
    uint32_t bind(uint32_t sid, const Iommufd& ictx) { return bind(sid, ictx.fd()); }
    // IOPF_BRIDGE_ATTACH: to an IOAS or HWPT (replacing an attachment);
    // returns the HWPT's id.
    uint32_t attach(uint32_t dev_id, uint32_t pt_id);
    // IOPF_BRIDGE_DETACH, IOPF_BRIDGE_UNBIND
    void detach(uint32_t dev_id);
    void unbind(uint32_t dev_id);

  private:
    UniqueFd fd_;
};

} // namespace iopf
