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
// Every failure is an iopf::Error with the errno and the ioctl (or call) it
// came from: "IOMMU_HWPT_ALLOC dev_id 1 pt_id 2: Operation not supported".
#pragma once

#ifndef IOPF_HAVE_IOMMUFD
#error "iopf/iommufd.hpp needs an iommufd uAPI with the fault queue (IOPF_KERNEL_UAPI)"
#endif

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <linux/iommufd.h>

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

  private:
    UniqueFd fd_;
};

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
