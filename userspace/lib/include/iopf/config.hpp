// SPDX-License-Identifier: GPL-2.0
// iopfd's configuration file. Line based; '#' starts a comment:
//
//   store /var/lib/iopfd/faults.jsonl
//   rcvbuf 16M
//   default l1=success l2=success
//   device 0x10 flags=nested,l1,l2 l1=invalid,delay_ms=5 l2=success
//   device 0x11 flags=flat,unrecov l1=pending
//   device 0x12 flags=nested,l1,l2 stage=nested l1=map,base=0x80000000 l2=map,window=8
//
// An action is success|invalid|failure (optionally written code:<name>),
// optionally followed by ,delay_ms=N; or pending (never answered); or map
// (fix the fault up in the tables, then answer success), optionally followed
// by ,window=N (pages from the faulting one on, 1-65536; default 1),
// ,base=ADDR|identity (where output pages come from: a bump allocator from
// ADDR, or the input address itself; default identity) and ,perm=LETTERS
// (rwxp; default rw); or, for l1 only, refuse (the guest answers invalid).
// l1 applies to stage-1 page requests (forwarded to the guest: map is the
// guest mapping stage 1), l2 to stage-2 ones (fixed up by the host: map is
// the VMM mapping stage 2). A device's stage=none|s1|s2|nested sets its
// stage mode (DEV_SET) when the daemon sets it up. Unrecoverable faults are
// only recorded. A setting given twice, or a device key or an action option
// given twice, is an error.
//
// A device's delivery=netlink|iommufd (default netlink) says which road its
// page requests are answered on: the module's netlink family (PAGE_RESPONSE)
// or upstream's (Documentation/upstream-path.md): the device is bridged and
// iopfd, as the VMM, reads its faults from an iommufd fault queue and answers
// there. Per device, as the policies are: a reload re-applies it. On that
// road there is no stage: every page request is l2's (map, success, invalid
// or pending; no delay, no failure, no l1=, stage= only s2).
//
// nested=on (with delivery=iommufd) makes iopfd a VMM with a vSMMUv3: a
// NEST_PARENT HWPT (stage 2), a vIOMMU, a vDEVICE with the guest's StreamID
// vsid=N (default: the device's own), a nested HWPT (the guest's vSTE:
// stage-1 translate) with the fault queue, and a vEVENTQ of
// veventq_depth=N entries (1-524288, default 64). Its page requests still
// have no stage: unattributed=forward (default, what upstream VMMs do)
// hands each to the guest model as a stage-1 fault (l1=), unattributed=walk
// walks as the module does: a stage-1 table page not in stage 2 yet is the
// fault, else an IOVA the guest's stage-1 table maps faulted in stage 2 at
// IPA = S1(IOVA) (both l2=), else it is the guest's. stage= may only
// be nested there; l1= follows the same rules as l2= (no delay, no
// failure).
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uapi/linux/iopf_testbed.h>

namespace iopf {

// How a "map" action fixes a fault up.
struct MapPolicy {
    uint64_t window = 1;          // pages, from the faulting page on
    std::optional<uint64_t> base; // bump allocator from here; nullopt: identity
    uint32_t perm = IOPF_PERM_READ | IOPF_PERM_WRITE;

    bool operator==(const MapPolicy&) const = default;
};

struct Action {
    bool pending = false;
    uint32_t code = 0; // IOPF_RESP_*
    std::chrono::milliseconds delay{0};
    std::optional<MapPolicy> map; // fix up, then answer success (code 0)
    bool refuse = false;          // l1: the guest refuses (code INVALID)

    bool operator==(const Action&) const = default;
    std::string to_string() const; // e.g. "invalid,delay_ms=5", "pending"
};
Action parse_action(std::string_view s); // throws ParseError

// Which road a device's page requests are answered on.
enum class Delivery : uint8_t {
    netlink, // the module's family: PAGE_RESPONSE
    iommufd, // upstream's: bridged, an iommufd fault queue (iopfd is the VMM)
};
const char* delivery_name(Delivery d);

// What iopfd makes of a nested device's page request, which has no stage.
enum class Unattributed : uint8_t {
    forward, // to the guest, as a stage-1 fault (upstream VMMs)
    walk,    // stage 2 at S1(IOVA) when the guest's stage 1 maps the IOVA
};
const char* unattributed_name(Unattributed u);

// nested=on: the vSMMUv3's settings.
struct NestedConfig {
    static constexpr uint32_t kDefaultDepth = 64;
    static constexpr uint32_t kMaxDepth = 1u << 19; // iommufd's VEVENTQ_MAX_DEPTH

    uint32_t vsid = 0; // the guest's StreamID of the device (vDEVICE virt_id)
    uint32_t veventq_depth = kDefaultDepth;
    Unattributed unattributed = Unattributed::forward;

    bool operator==(const NestedConfig&) const = default;
};

struct DeviceConfig {
    uint32_t sid = 0;
    Delivery delivery = Delivery::netlink;
    std::optional<NestedConfig> nested; // delivery=iommufd nested=on
    uint32_t flags = 0;
    std::optional<uint32_t> stage_mode; // IOPF_STAGE_MODE_*: set at setup
    Action l1;
    Action l2;

    bool operator==(const DeviceConfig&) const = default;
    const Action& action_for_level(uint32_t level) const { return level == 2 ? l2 : l1; }
};

struct Config {
    std::optional<std::string> store;
    std::optional<std::size_t> rcvbuf;
    Action default_l1;
    Action default_l2;
    std::vector<DeviceConfig> devices;

    const DeviceConfig* find(uint32_t sid) const;
};

// What the reader of the file can do: a daemon built without the iommufd
// uAPI refuses delivery=iommufd where it is written.
struct ConfigCaps {
    bool iommufd = true;
    bool nested = true; // the iommufd uAPI has the vIOMMU and vEVENTQ (6.15+)
};

// Throws ParseError "<name>:<line>: <what>".
Config parse_config(std::istream& in, const std::string& name, const ConfigCaps& caps = {});
Config load_config(const std::string& path, const ConfigCaps& caps = {});

// The largest socket buffer size the kernel takes (an int).
inline constexpr std::size_t kMaxSize = 0x7fffffff;
// "16M", "512K", "65536": 1 byte to kMaxSize. Throws ParseError.
std::size_t parse_size(std::string_view s);

} // namespace iopf
