// SPDX-License-Identifier: GPL-2.0
// iopfd's configuration file. Line based; '#' starts a comment:
//
//   store /var/lib/iopfd/faults.jsonl
//   rcvbuf 16M
//   default l1=success l2=success
//   device 0x10 flags=nested,l1,l2 l1=invalid,delay_ms=5 l2=success
//   device 0x11 flags=flat,unrecov l1=pending
//
// An action is success|invalid|failure (optionally written code:<name>),
// optionally followed by ,delay_ms=N; or pending (never answered). l1 applies
// to stage-1 page requests (forwarded to the guest), l2 to stage-2 ones
// (fixed up by the host). Unrecoverable faults are only recorded. A setting
// given twice, or a device key given twice on its line, is an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iopf {

struct Action {
    bool pending = false;
    uint32_t code = 0; // IOPF_RESP_*
    std::chrono::milliseconds delay{0};

    bool operator==(const Action&) const = default;
    std::string to_string() const; // e.g. "invalid,delay_ms=5", "pending"
};
Action parse_action(std::string_view s); // throws ParseError

struct DeviceConfig {
    uint32_t sid = 0;
    uint32_t flags = 0;
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

// Throws ParseError "<name>:<line>: <what>".
Config parse_config(std::istream& in, const std::string& name);
Config load_config(const std::string& path);

// The largest socket buffer size the kernel takes (an int).
inline constexpr std::size_t kMaxSize = 0x7fffffff;
// "16M", "512K", "65536": 1 byte to kMaxSize. Throws ParseError.
std::size_t parse_size(std::string_view s);

} // namespace iopf
