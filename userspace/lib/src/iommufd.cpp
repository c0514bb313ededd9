// SPDX-License-Identifier: GPL-2.0
#include "iopf/iommufd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <endian.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/core.h>
#include <uapi/linux/iopf_testbed.h>

#include "iopf/error.hpp"

namespace iopf {

namespace {

// The ABI the records are read and written with: the kernel's, fixed.
static_assert(sizeof(iommu_hwpt_pgfault) == 40);
static_assert(sizeof(iommu_hwpt_page_response) == 8);

UniqueFd open_rw(const char* path) {
    int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw Error(errno, fmt::format("open {}", path));
    return UniqueFd(fd);
}

// ioctl(2), retried on EINTR; Error(errno, what()) on failure.
template <typename What> void do_ioctl(int fd, unsigned long req, void* arg, What&& what) {
    int r;
    do
        r = ::ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        const int err = errno;
        throw Error(err, what());
    }
}

} // namespace

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0 && fd_ != fd)
        ::close(fd_); // the fd is gone even when close() reports an error
    fd_ = fd;
}

std::span<const iommu_hwpt_pgfault> FaultQueue::read(std::size_t max) {
    if (max == 0)
        return {};
    if (buf_.size() < max)
        buf_.resize(max);
    constexpr std::size_t rec = sizeof(iommu_hwpt_pgfault);
    ssize_t n;
    do
        n = ::read(fd_.get(), buf_.data(), max * rec);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return {};
        const int err = errno;
        throw Error(err, fmt::format("IOMMU fault queue {}: read", id_));
    }
    if (static_cast<std::size_t>(n) % rec)
        throw Error(EPROTO,
                    fmt::format("IOMMU fault queue {}: read {} bytes, not whole {}-byte records",
                                id_, n, rec));
    return {buf_.data(), static_cast<std::size_t>(n) / rec};
}

void FaultQueue::respond(uint32_t cookie, uint32_t code) {
    const iommu_hwpt_page_response r{cookie, code};
    respond_batch({&r, 1});
}

void FaultQueue::respond_batch(std::span<const iommu_hwpt_page_response> rs,
                               std::size_t* taken) {
    constexpr std::size_t rec = sizeof(iommu_hwpt_page_response);
    std::size_t done = 0; // records taken
    while (done < rs.size()) {
        if (taken)
            *taken = done;
        const ssize_t n = ::write(fd_.get(), rs.data() + done, (rs.size() - done) * rec);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            throw Error(err, fmt::format("IOMMU fault queue {}: response {} of {} (cookie {}, "
                                         "code {})",
                                         id_, done + 1, rs.size(), rs[done].cookie, rs[done].code));
        }
        if (n == 0 || static_cast<std::size_t>(n) % rec)
            throw Error(EPROTO, fmt::format("IOMMU fault queue {}: wrote {} bytes, not whole "
                                            "{}-byte responses",
                                            id_, n, rec));
        done += static_cast<std::size_t>(n) / rec;
    }
    if (taken)
        *taken = done;
}

Iommufd::Iommufd(const char* path) : fd_(open_rw(path)) {}

uint32_t Iommufd::ioas_alloc() {
    iommu_ioas_alloc cmd{};
    cmd.size = sizeof(cmd);
    do_ioctl(fd(), IOMMU_IOAS_ALLOC, &cmd, [] { return std::string("IOMMU_IOAS_ALLOC"); });
    return cmd.out_ioas_id;
}

uint64_t Iommufd::ioas_map(uint32_t ioas, std::optional<uint64_t> iova, const void* user_va,
                           uint64_t length, uint32_t prot) {
    auto what = [&] {
        return fmt::format("IOMMU_IOAS_MAP ioas {} iova {} length {:#x}", ioas,
                           iova ? fmt::format("{:#x}", *iova) : std::string("any"), length);
    };
    if (prot & ~(kRead | kWrite))
        throw Error(EINVAL, fmt::format("{}: prot {:#x} is not readable/writable", what(), prot));
    iommu_ioas_map cmd{};
    cmd.size = sizeof(cmd);
    cmd.flags = prot | (iova ? IOMMU_IOAS_MAP_FIXED_IOVA : 0);
    cmd.ioas_id = ioas;
    cmd.user_va = reinterpret_cast<uintptr_t>(user_va);
    cmd.length = length;
    cmd.iova = iova.value_or(0);
    do_ioctl(fd(), IOMMU_IOAS_MAP, &cmd, what);
    return cmd.iova;
}

FaultQueue Iommufd::fault_queue_alloc() {
    iommu_fault_alloc cmd{};
    cmd.size = sizeof(cmd);
    do_ioctl(fd(), IOMMU_FAULT_QUEUE_ALLOC, &cmd,
             [] { return std::string("IOMMU_FAULT_QUEUE_ALLOC"); });
    return FaultQueue(cmd.out_fault_id, UniqueFd(static_cast<int>(cmd.out_fault_fd)));
}

uint32_t Iommufd::hwpt_alloc(uint32_t dev_id, uint32_t pt_id, std::optional<uint32_t> fault_id,
                             uint32_t flags) {
    iommu_hwpt_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.flags = flags | (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0);
    cmd.dev_id = dev_id;
    cmd.pt_id = pt_id;
    cmd.data_type = IOMMU_HWPT_DATA_NONE;
    cmd.fault_id = fault_id.value_or(0);
    do_ioctl(fd(), IOMMU_HWPT_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_HWPT_ALLOC dev_id {} pt_id {}{}", dev_id, pt_id,
                           fault_id ? fmt::format(" fault_id {}", *fault_id) : std::string());
    });
    return cmd.out_hwpt_id;
}

void Iommufd::destroy(uint32_t id) {
    iommu_destroy cmd{};
    cmd.size = sizeof(cmd);
    cmd.id = id;
    do_ioctl(fd(), IOMMU_DESTROY, &cmd, [&] { return fmt::format("IOMMU_DESTROY id {}", id); });
}

Bridge::Bridge(const char* path) : fd_(open_rw(path)) {}

uint32_t Bridge::bind(uint32_t sid, int iommufd) {
    iopf_bridge_cmd cmd{};
    cmd.sid = sid;
    cmd.iommufd = iommufd;
    do_ioctl(fd(), IOPF_BRIDGE_BIND, &cmd,
             [&] { return fmt::format("IOPF_BRIDGE_BIND sid {:#x}", sid); });
    return cmd.dev_id;
}

uint32_t Bridge::attach(uint32_t dev_id, uint32_t pt_id) {
    iopf_bridge_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.pt_id = pt_id;
    do_ioctl(fd(), IOPF_BRIDGE_ATTACH, &cmd,
             [&] { return fmt::format("IOPF_BRIDGE_ATTACH dev_id {} pt_id {}", dev_id, pt_id); });
    return cmd.pt_id;
}

void Bridge::detach(uint32_t dev_id) {
    iopf_bridge_cmd cmd{};
    cmd.dev_id = dev_id;
    do_ioctl(fd(), IOPF_BRIDGE_DETACH, &cmd,
             [&] { return fmt::format("IOPF_BRIDGE_DETACH dev_id {}", dev_id); });
}

void Bridge::unbind(uint32_t dev_id) {
    iopf_bridge_cmd cmd{};
    cmd.dev_id = dev_id;
    do_ioctl(fd(), IOPF_BRIDGE_UNBIND, &cmd,
             [&] { return fmt::format("IOPF_BRIDGE_UNBIND dev_id {}", dev_id); });
}

#ifdef IOPF_HAVE_IOMMUFD_NESTED

// The vEVENTQ's layout: the kernel's, fixed.
static_assert(sizeof(iommufd_vevent_header) == 8);
static_assert(sizeof(iommu_vevent_arm_smmuv3) == 32);
static_assert(sizeof(iommu_hwpt_arm_smmuv3) == 16);

const char* SmmuV3Vste::config_name() const {
    if (!(ste[0] & kValid))
        return "abort (V clear)";
    switch (config()) {
    case kCfgAbort:
        return "abort";
    case kCfgBypass:
        return "bypass";
    case kCfgS1Translate:
        return "s1_translate";
    default:
        return "reserved";
    }
}

ParentHwpt Iommufd::nest_parent_alloc(uint32_t dev_id, uint32_t ioas) {
    iommu_hwpt_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
    cmd.dev_id = dev_id;
    cmd.pt_id = ioas;
    cmd.data_type = IOMMU_HWPT_DATA_NONE;
    do_ioctl(fd(), IOMMU_HWPT_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_HWPT_ALLOC NEST_PARENT dev_id {} ioas {}", dev_id, ioas);
    });
    return ParentHwpt(*this, cmd.out_hwpt_id, "nesting parent HWPT");
}

Viommu Iommufd::viommu_alloc(uint32_t dev_id, const ParentHwpt& parent, uint32_t type) {
    iommu_viommu_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.type = type;
    cmd.dev_id = dev_id;
    cmd.hwpt_id = parent.id();
    do_ioctl(fd(), IOMMU_VIOMMU_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_VIOMMU_ALLOC type {} dev_id {} hwpt_id {}", type, dev_id,
                           parent.id());
    });
    return Viommu(*this, cmd.out_viommu_id, "vIOMMU");
}

Vdevice Iommufd::vdevice_alloc(const Viommu& viommu, uint32_t dev_id, uint64_t virt_id) {
    iommu_vdevice_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.viommu_id = viommu.id();
    cmd.dev_id = dev_id;
    cmd.virt_id = virt_id;
    do_ioctl(fd(), IOMMU_VDEVICE_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_VDEVICE_ALLOC viommu_id {} dev_id {} virt_id {:#x}", viommu.id(),
                           dev_id, virt_id);
    });
    return Vdevice(*this, cmd.out_vdevice_id, "vDEVICE");
}

NestedHwpt Iommufd::nested_hwpt_alloc(uint32_t dev_id, const Viommu& viommu, const SmmuV3Vste& vste,
                                      std::optional<uint32_t> fault_id) {
    iommu_hwpt_arm_smmuv3 data{};
    data.ste[0] = htole64(vste.ste[0]);
    data.ste[1] = htole64(vste.ste[1]);
    iommu_hwpt_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.flags = fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0;
    cmd.dev_id = dev_id;
    cmd.pt_id = viommu.id();
    cmd.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3;
    cmd.data_len = sizeof(data);
    cmd.data_uptr = reinterpret_cast<uintptr_t>(&data);
    cmd.fault_id = fault_id.value_or(0);
    do_ioctl(fd(), IOMMU_HWPT_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_HWPT_ALLOC nested dev_id {} viommu_id {} vSTE {:#x} {:#x} ({}){}",
                           dev_id, viommu.id(), vste.ste[0], vste.ste[1], vste.config_name(),
                           fault_id ? fmt::format(" fault_id {}", *fault_id) : std::string());
    });
    return NestedHwpt(*this, cmd.out_hwpt_id, "nested HWPT");
}

VeventQueue Iommufd::veventq_alloc(const Viommu& viommu, uint32_t depth, uint32_t type) {
    iommu_veventq_alloc cmd{};
    cmd.size = sizeof(cmd);
    cmd.viommu_id = viommu.id();
    cmd.type = type;
    cmd.veventq_depth = depth;
    do_ioctl(fd(), IOMMU_VEVENTQ_ALLOC, &cmd, [&] {
        return fmt::format("IOMMU_VEVENTQ_ALLOC viommu_id {} type {} depth {}", viommu.id(), type,
                           depth);
    });
    return VeventQueue(cmd.out_veventq_id, UniqueFd(static_cast<int>(cmd.out_veventq_fd)),
                       IommufdObject(*this, cmd.out_veventq_id, "vEVENTQ"));
}

void IommufdObject::destroy() {
    if (!id_ || !ictx_) {
        id_ = 0;
        ictx_ = nullptr;
        return;
    }
    const uint32_t id = std::exchange(id_, 0);
    Iommufd* ictx = std::exchange(ictx_, nullptr);
    try {
        ictx->destroy(id);
    } catch (const Error& e) {
        throw Error(e.err(), fmt::format("{} {}: {}", kind_, id, e.what()));
    }
}

void IommufdObject::reset() noexcept {
    try {
        destroy();
    } catch (const std::exception&) {
        // gone already (with its device, or its context)
    }
}

void parse_vevents(std::span<const unsigned char> bytes, std::size_t data_len,
                   std::vector<Vevent>& out, const char* what) {
    constexpr std::size_t hdr = sizeof(iommufd_vevent_header);
    std::size_t at = 0;
    while (at < bytes.size()) {
        if (bytes.size() - at < hdr)
            throw Error(EPROTO, fmt::format("{}: {} bytes left at offset {}, not a whole {}-byte "
                                            "header",
                                            what, bytes.size() - at, at, hdr));
        iommufd_vevent_header h;
        std::memcpy(&h, bytes.data() + at, hdr);
        at += hdr;
        Vevent e;
        e.flags = h.flags;
        e.sequence = h.sequence;
        if (!e.lost_events()) {
            if (bytes.size() - at < data_len)
                throw Error(EPROTO,
                            fmt::format("{}: entry sequence {} has {} bytes of data, expected {}",
                                        what, h.sequence, bytes.size() - at, data_len));
            const std::size_t n = std::min(data_len, sizeof(e.evt));
            std::memcpy(e.evt.data(), bytes.data() + at, n);
            for (auto& w : e.evt)
                w = le64toh(w);
            at += data_len;
        }
        out.push_back(e);
    }
}

std::span<const Vevent> VeventQueue::read(std::size_t max) {
    constexpr std::size_t entry = sizeof(iommufd_vevent_header) + sizeof(iommu_vevent_arm_smmuv3);
    entries_.clear();
    if (max == 0)
        return {};
    raw_.resize(max * entry);
    ssize_t n;
    do
        n = ::read(fd_.get(), raw_.data(), raw_.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return {};
        const int err = errno;
        throw Error(err, fmt::format("vEVENTQ {}: read", id_));
    }
    const std::string what = fmt::format("vEVENTQ {}", id_);
    parse_vevents({raw_.data(), static_cast<std::size_t>(n)}, sizeof(iommu_vevent_arm_smmuv3),
                  entries_, what.c_str());
    return entries_;
}

void VeventQueue::reset() noexcept {
    fd_.reset();
    obj_.reset();
    id_ = 0;
}

#endif // IOPF_HAVE_IOMMUFD_NESTED

} // namespace iopf
