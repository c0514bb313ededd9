// SPDX-License-Identifier: GPL-2.0
#include "iopf/config.hpp"

#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/names.hpp"

namespace iopf {

const char* delivery_name(Delivery d) {
    return d == Delivery::iommufd ? "iommufd" : "netlink";
}

const char* unattributed_name(Unattributed u) {
    return u == Unattributed::walk ? "walk" : "forward";
}

std::string Action::to_string() const {
    if (pending)
        return "pending";
    if (refuse)
        return "refuse";
    if (map) {
        std::string m = "map";
        if (map->window != 1)
            m += fmt::format(",window={}", map->window);
        if (map->base)
            m += fmt::format(",base={:#x}", *map->base);
        if (map->perm != MapPolicy{}.perm)
            m += ",perm=" + perm_letters(map->perm);
        return m;
    }
    std::string s = resp_code_name(code);
    if (delay.count())
        s += fmt::format(",delay_ms={}", delay.count());
    return s;
}

Action parse_action(std::string_view s) {
    Action a;
    std::string_view head = s.substr(0, s.find(','));
    std::string_view rest = head.size() < s.size() ? s.substr(head.size() + 1) : std::string_view{};
    if (head == "pending" || head == "refuse") {
        if (!rest.empty())
            throw ParseError(fmt::format("'{}': {} takes no options", s, head));
        a.pending = head == "pending";
        a.refuse = head == "refuse";
        a.code = a.refuse ? IOPF_RESP_INVALID : 0;
        return a;
    }
    if (head == "map") {
        MapPolicy m;
        bool window = false, base = false, perm = false;
        auto once = [&](bool& seen, std::string_view opt) {
            if (seen)
                throw ParseError(fmt::format("'{}': {} given twice", s, opt));
            seen = true;
        };
        while (!rest.empty()) {
            std::string_view opt = rest.substr(0, rest.find(','));
            rest = opt.size() < rest.size() ? rest.substr(opt.size() + 1) : std::string_view{};
            if (opt.starts_with("window=")) {
                once(window, "window=");
                m.window = parse_count(opt.substr(7), IOPF_STAGE_MAX_PAGES_PER_CMD, "window");
                if (m.window == 0)
                    throw ParseError(fmt::format("'{}': window must be at least 1 page", s));
            } else if (opt.starts_with("base=")) {
                once(base, "base=");
                std::string_view v = opt.substr(5);
                if (v != "identity") {
                    m.base = parse_uint(v, UINT64_MAX, "base");
                    if (*m.base & (IOPF_STAGE_PAGE_SIZE - 1))
                        throw ParseError(
                            fmt::format("'{}': base {:#x} is not page aligned", s, *m.base));
                }
            } else if (opt.starts_with("perm=")) {
                once(perm, "perm=");
                m.perm = parse_perm_letters(opt.substr(5));
                if (!m.perm)
                    throw ParseError(fmt::format("'{}': a mapping needs a permission", s));
            } else {
                throw ParseError(fmt::format(
                    "'{}': unknown map option '{}' (expected window=, base=, perm=)", s, opt));
            }
        }
        a.map = m;
        return a;
    }
    if (head.starts_with("code:"))
        head.remove_prefix(5);
    a.code = parse_resp_code(head);
    while (!rest.empty()) {
        std::string_view opt = rest.substr(0, rest.find(','));
        rest = opt.size() < rest.size() ? rest.substr(opt.size() + 1) : std::string_view{};
        if (!opt.starts_with("delay_ms="))
            throw ParseError(fmt::format("'{}': unknown action option '{}'", s, opt));
        a.delay = std::chrono::milliseconds(parse_count(opt.substr(9), 3'600'000, "delay_ms"));
    }
    return a;
}

std::size_t parse_size(std::string_view s) {
    const std::string text(s);
    uint64_t mult = 1;
    if (!s.empty()) {
        switch (s.back()) {
        case 'K':
        case 'k':
            mult = 1ULL << 10;
            break;
        case 'M':
        case 'm':
            mult = 1ULL << 20;
            break;
        case 'G':
        case 'g':
            mult = 1ULL << 30;
            break;
        }
        if (mult != 1)
            s.remove_suffix(1);
    }
    // A socket buffer size is an int (SO_RCVBUF): 2G would wrap to a tiny
    // buffer, 0 would ask for the minimum. Both are refused.
    uint64_t v = 0;
    try {
        v = parse_count(s, UINT64_MAX, "size");
    } catch (const ParseError&) {
        throw ParseError(fmt::format("size: '{}' is not a size (a number, optionally K, M or G)",
                                     text));
    }
    if (v == 0)
        throw ParseError("size: 0 is too small (at least 1 byte)");
    if (v > kMaxSize / mult)
        throw ParseError(fmt::format("size: {} is too large (at most {} bytes, 2G-1)", text,
                                     kMaxSize));
    return static_cast<std::size_t>(v * mult);
}

const DeviceConfig* Config::find(uint32_t sid) const {
    for (const auto& d : devices)
        if (d.sid == sid)
            return &d;
    return nullptr;
}

namespace {

std::pair<std::string_view, std::string_view> key_value(std::string_view tok) {
    auto eq = tok.find('=');
    if (eq == std::string_view::npos || eq == 0)
        throw ParseError(fmt::format("expected key=value, got '{}'", tok));
    return {tok.substr(0, eq), tok.substr(eq + 1)};
}

struct PartialDevice {
    DeviceConfig d;
    bool has_flags = false;
    bool has_delivery = false;
    std::optional<bool> nested;
    std::optional<uint32_t> vsid, depth;
    std::optional<Unattributed> unattributed;
    std::optional<Action> l1, l2;
};

// One action on the iommufd road: answered at once (SUCCESS or INVALID),
// in the batch's one write.
void check_iommufd_action(const char* key, const Action& a) {
    if (a.delay.count())
        throw ParseError(fmt::format("delivery=iommufd: {}={}: no delay_ms on the iommufd road "
                                     "(a batch is answered in one write)",
                                     key, a.to_string()));
    if (!a.pending && !a.map && !a.refuse && a.code != IOPF_RESP_SUCCESS &&
        a.code != IOPF_RESP_INVALID)
        throw ParseError(fmt::format("delivery=iommufd: {}={}: iommufd answers success or "
                                     "invalid only",
                                     key, a.to_string()));
}

// nested=on and its keys: where they may be, and what they say.
void check_nested_device(const PartialDevice& p, const std::optional<Action>& default_l1,
                         const std::optional<Action>& default_l2) {
    const bool on = p.nested.value_or(false);
    if (!on) {
        const char* stray = p.vsid           ? "vsid="
                            : p.depth        ? "veventq_depth="
                            : p.unattributed ? "unattributed="
                                             : nullptr;
        if (stray)
            throw ParseError(fmt::format("{} needs nested=on", stray));
        return;
    }
    if (p.d.delivery != Delivery::iommufd)
        throw ParseError("nested=on needs delivery=iommufd (nested translation is upstream's "
                         "iommufd road: a vIOMMU)");
    if (p.d.stage_mode && *p.d.stage_mode != IOPF_STAGE_MODE_NESTED)
        throw ParseError("delivery=iommufd nested=on: the nested attachment translates by both "
                         "stages (stage=nested or no stage=)");
    const std::optional<Action>& l1 = p.l1 ? p.l1 : default_l1;
    const std::optional<Action>& l2 = p.l2 ? p.l2 : default_l2;
    if (l1)
        check_iommufd_action("l1", *l1);
    if (l2)
        check_iommufd_action("l2", *l2);
}

// Upstream's road answers SUCCESS or INVALID, at once, in one write per
// batch, with no stage to tell apart: what a device on it may say.
void check_iommufd_device(const PartialDevice& p, const std::optional<Action>& default_l2) {
    if (p.nested.value_or(false))
        return; // check_nested_device()
    if (p.l1)
        throw ParseError("delivery=iommufd: l1= has no meaning there (upstream's page requests "
                         "have no stage: every one is l2='s)");
    if (p.d.stage_mode && *p.d.stage_mode != IOPF_STAGE_MODE_S2)
        throw ParseError("delivery=iommufd: the bridge translates by stage 2 only (stage=s2 or "
                         "no stage=)");
    const std::optional<Action>& l2 = p.l2 ? p.l2 : default_l2;
    if (!l2)
        return;
    if (l2->delay.count())
        throw ParseError(fmt::format("delivery=iommufd: l2={}: no delay_ms on the iommufd road "
                                     "(a batch is answered in one write)",
                                     l2->to_string()));
    if (!l2->pending && !l2->map && l2->code != IOPF_RESP_SUCCESS &&
        l2->code != IOPF_RESP_INVALID)
        throw ParseError(fmt::format("delivery=iommufd: l2={}: iommufd answers success or "
                                     "invalid only",
                                     l2->to_string()));
}

// A setting given twice is an error, not "the last one counts".
template <class T> void set_once(std::optional<T>& slot, T value, std::string_view what) {
    if (slot)
        throw ParseError(fmt::format("{} given twice", what));
    slot = std::move(value);
}

// The host answers a stage-2 fault: refusing is the guest's word.
Action l2_action(std::string_view v) {
    Action a = parse_action(v);
    if (a.refuse)
        throw ParseError(fmt::format(
            "l2={}: refuse is the guest's answer (l1= only); the host says invalid", v));
    return a;
}

} // namespace

Config parse_config(std::istream& in, const std::string& name, const ConfigCaps& caps) {
    Config c;
    std::optional<Action> default_l1, default_l2;
    std::vector<PartialDevice> devs;
    std::vector<std::size_t> dev_lines; // where each device is, for the checks at the end
    std::string line;
    for (std::size_t no = 1; std::getline(in, line); no++) {
        try {
            if (auto hash = line.find('#'); hash != std::string::npos)
                line.erase(hash);
            std::istringstream ss(line);
            std::vector<std::string> tok;
            for (std::string t; ss >> t;)
                tok.push_back(t);
            if (tok.empty())
                continue;
            const std::string& kw = tok[0];
            if (kw == "store") {
                if (tok.size() != 2)
                    throw ParseError("store takes one path");
                set_once(c.store, tok[1], "store");
            } else if (kw == "rcvbuf") {
                if (tok.size() != 2)
                    throw ParseError("rcvbuf takes one size");
                set_once(c.rcvbuf, parse_size(tok[1]), "rcvbuf");
            } else if (kw == "default") {
                if (tok.size() < 2)
                    throw ParseError("default needs l1=ACTION and/or l2=ACTION");
                for (std::size_t i = 1; i < tok.size(); i++) {
                    auto [k, v] = key_value(tok[i]);
                    if (k == "l1")
                        set_once(default_l1, parse_action(v), "default l1=");
                    else if (k == "l2")
                        set_once(default_l2, l2_action(v), "default l2=");
                    else
                        throw ParseError(fmt::format("default: unknown key '{}'", k));
                }
            } else if (kw == "device") {
                if (tok.size() < 2)
                    throw ParseError("device needs a StreamID");
                PartialDevice p;
                p.d.sid = static_cast<uint32_t>(parse_uint(tok[1], UINT32_MAX, "StreamID"));
                for (const auto& o : devs)
                    if (o.d.sid == p.d.sid)
                        throw ParseError(fmt::format("device {:#x} configured twice", p.d.sid));
                for (std::size_t i = 2; i < tok.size(); i++) {
                    auto [k, v] = key_value(tok[i]);
                    if (k == "flags") {
                        if (p.has_flags)
                            throw ParseError("flags= given twice");
                        p.d.flags = parse_report_flags(v);
                        if (const char* why = iopf_flags_check(p.d.flags))
                            throw ParseError(fmt::format("flags={}: {}", v, why));
                        p.has_flags = true;
                    } else if (k == "delivery") {
                        if (p.has_delivery)
                            throw ParseError("delivery= given twice");
                        if (v == "netlink") {
                            p.d.delivery = Delivery::netlink;
                        } else if (v == "iommufd") {
                            if (!caps.iommufd)
                                throw ParseError(
                                    "delivery=iommufd: iopfd was built without the iommufd uAPI "
                                    "(configure with -DIOPF_KERNEL_UAPI=DIR)");
                            p.d.delivery = Delivery::iommufd;
                        } else {
                            throw ParseError(fmt::format(
                                "delivery={}: expected netlink or iommufd", v));
                        }
                        p.has_delivery = true;
                    } else if (k == "nested") {
                        if (p.nested)
                            throw ParseError("nested= given twice");
                        if (v == "on") {
                            if (!caps.nested)
                                throw ParseError(
                                    caps.iommufd
                                        ? "nested=on: iopfd was built with an iommufd uAPI "
                                          "without the vIOMMU and vEVENTQ (Linux 6.15+; "
                                          "configure with -DIOPF_KERNEL_UAPI=DIR of a newer "
                                          "kernel)"
                                        : "nested=on: iopfd was built without the iommufd uAPI "
                                          "(configure with -DIOPF_KERNEL_UAPI=DIR)");
                            p.nested = true;
                        } else if (v == "off") {
                            p.nested = false;
                        } else {
                            throw ParseError(fmt::format("nested={}: expected on or off", v));
                        }
                    } else if (k == "vsid") {
                        set_once(p.vsid, static_cast<uint32_t>(parse_uint(v, UINT32_MAX, "vsid")),
                                 "vsid=");
                    } else if (k == "veventq_depth") {
                        uint64_t n = parse_uint(v, UINT32_MAX, "veventq_depth");
                        if (n < 1 || n > NestedConfig::kMaxDepth)
                            throw ParseError(
                                fmt::format("veventq_depth={}: expected 1 to {} (iommufd's limit)",
                                            v, NestedConfig::kMaxDepth));
                        set_once(p.depth, static_cast<uint32_t>(n), "veventq_depth=");
                    } else if (k == "unattributed") {
                        if (v == "forward")
                            set_once(p.unattributed, Unattributed::forward, "unattributed=");
                        else if (v == "walk")
                            set_once(p.unattributed, Unattributed::walk, "unattributed=");
                        else
                            throw ParseError(
                                fmt::format("unattributed={}: expected forward or walk", v));
                    } else if (k == "stage") {
                        if (p.d.stage_mode)
                            throw ParseError("stage= given twice");
                        p.d.stage_mode = parse_stage_mode(v);
                    } else if (k == "l1") {
                        set_once(p.l1, parse_action(v), "l1=");
                    } else if (k == "l2") {
                        set_once(p.l2, l2_action(v), "l2=");
                    } else {
                        throw ParseError(fmt::format("device: unknown key '{}'", k));
                    }
                }
                if (!p.has_flags)
                    throw ParseError(fmt::format("device {:#x} has no flags=", p.d.sid));
                devs.push_back(p);
                dev_lines.push_back(no);
            } else {
                throw ParseError(fmt::format("unknown keyword '{}'", kw));
            }
        } catch (const ParseError& e) {
            throw ParseError(fmt::format("{}:{}: {}", name, no, e.what()));
        }
    }
    // Defaults apply wherever they appear in the file: a device on the
    // iommufd road is checked with them, at its own line.
    for (std::size_t i = 0; i < devs.size(); i++) {
        try {
            check_nested_device(devs[i], default_l1, default_l2);
            if (devs[i].d.delivery != Delivery::iommufd)
                continue;
            check_iommufd_device(devs[i], default_l2);
        } catch (const ParseError& e) {
            throw ParseError(fmt::format("{}:{}: {}", name, dev_lines[i], e.what()));
        }
    }
    c.default_l1 = default_l1.value_or(Action{});
    c.default_l2 = default_l2.value_or(Action{});
    for (auto& p : devs) {
        p.d.l1 = p.l1.value_or(c.default_l1);
        p.d.l2 = p.l2.value_or(c.default_l2);
        if (p.nested.value_or(false)) {
            NestedConfig n;
            n.vsid = p.vsid.value_or(p.d.sid);
            n.veventq_depth = p.depth.value_or(NestedConfig::kDefaultDepth);
            n.unattributed = p.unattributed.value_or(Unattributed::forward);
            p.d.nested = n;
        }
        c.devices.push_back(p.d);
    }
    return c;
}

Config load_config(const std::string& path, const ConfigCaps& caps) {
    std::ifstream in = open_input(path, "opening config");
    return parse_config(in, path, caps);
}

} // namespace iopf
