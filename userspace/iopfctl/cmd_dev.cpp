// SPDX-License-Identifier: GPL-2.0
// iopfctl dev add|del|set|list (aliases: delete, show, ls)
#include <fmt/core.h>

#include <optional>
#include <string>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "iopf/table.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kDevUsage = R"(usage: iopfctl dev add SID...
       iopfctl dev del|delete SID...
       iopfctl dev set SID [--pending-limit N] [--timeout-ms MS] [--stage-mode MODE]
                           [--bridge on|off]
       iopfctl dev list|show|ls [--json]
  SID: StreamID, decimal or 0x hex (--sid SID also works). del flushes
  pending page requests. set changes what is given, at least one of:
  --pending-limit N  page requests held pending at most (1-65536)
  --timeout-ms MS    answer a pending request with ABORT after MS
                     milliseconds (0-600000; 0: never)
  --stage-mode MODE  how accesses translate: s1, s2, nested (stage 1 then
                     stage 2) or none (accesses refused)
  --bridge on|off    upstream's road: on makes the device a platform device
                     of the module's mock IOMMU, to bind to an iommufd
                     through /dev/iopf_testbed (stage mode s2); off removes it
example: iopfctl dev add 0x10 0x11 && iopfctl -j dev show
         iopfctl dev set 0x10 --pending-limit 8 --timeout-ms 500
         iopfctl dev set 0x10 --stage-mode nested
         iopfctl dev set 0x10 --bridge on
)";

namespace {

uint64_t stat(const iopf::Stats& s, int attr) {
    for (const auto& [t, v] : s)
        if (t == attr)
            return v;
    return 0;
}

// "-": a module older than DEV_SET does not report the setting
std::string setting(const std::optional<uint32_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
}

iopf::Json dev_json(const iopf::DevInfo& d) {
    iopf::Json j = iopf::Json::object();
    j.set("sid", d.sid);
    j.set("registered", d.registered);
    j.set("flags", d.registered ? iopf::Json(iopf::format_report_flags(d.flags)) : iopf::Json());
    j.set("pending_limit", d.pending_limit ? iopf::Json(*d.pending_limit) : iopf::Json());
    j.set("timeout_ms", d.timeout_ms ? iopf::Json(*d.timeout_ms) : iopf::Json());
    j.set("stage_mode",
          d.stage_mode ? iopf::Json(iopf::stage_mode_name(*d.stage_mode)) : iopf::Json());
    // null from a module without the bridge; the ids only while bound/attached
    j.set("bridge", d.bridged ? iopf::Json(*d.bridged) : iopf::Json());
    if (d.iommufd_dev_id)
        j.set("iommufd_dev_id", *d.iommufd_dev_id);
    if (d.iommufd_pt_id)
        j.set("iommufd_pt_id", *d.iommufd_pt_id);
    iopf::Json st = iopf::Json::object();
    for (const auto& [t, v] : d.stats)
        st.set(iopf::stat_name(t), v);
    j.set("stats", st);
    return j;
}

// BRIDGE: on/off, "-" from a module without the bridge
std::string bridge_cell(const iopf::DevInfo& d) {
    return d.bridged ? std::string(*d.bridged ? "on" : "off") : std::string("-");
}

// IOMMUFD: "dev=N" while bound, ",pt=M" while attached, else "-"
std::string iommufd_cell(const iopf::DevInfo& d) {
    if (!d.iommufd_dev_id)
        return "-";
    std::string s = fmt::format("dev={}", *d.iommufd_dev_id);
    if (d.iommufd_pt_id)
        s += fmt::format(",pt={}", *d.iommufd_pt_id);
    return s;
}

// --bridge on|off (also 1|0)
bool parse_on_off(const std::string& v, const char* opt) {
    if (v == "on" || v == "1")
        return true;
    if (v == "off" || v == "0")
        return false;
    throw UsageError(fmt::format("{}: '{}' is neither on nor off", opt, v));
}

int list(const Args& args, Io& io) {
    po::options_description desc("dev list");
    desc.add_options()("json", "one JSON object per device");
    auto vm = parse_options(args, desc);
    iopf::Client c;
    auto devs = c.dev_list();
    if (json_wanted(vm, io)) {
        for (const auto& d : devs)
            print_json(io, dev_json(d));
        return 0;
    }
    iopf::Table t({"SID", "FLAGS", "LIMIT", "TIMEOUT_MS", "STAGE", "BRIDGE", "IOMMUFD", "INJECTED",
                   "REPORTED", "FILTERED", "NO_HANDLER", "PENDING", "RESPONSES", "AUTO_ABORTS",
                   "NOTIFY_LOST"});
    for (const auto& d : devs) {
        const auto& s = d.stats;
        uint64_t filtered = stat(s, IOPF_STAT_A_FILTERED_L1) + stat(s, IOPF_STAT_A_FILTERED_L2) +
                            stat(s, IOPF_STAT_A_FILTERED_UNRECOV);
        t.add({fmt::format("{:#x}", d.sid),
               d.registered ? iopf::format_report_flags(d.flags) : "unregistered",
               setting(d.pending_limit), setting(d.timeout_ms),
               d.stage_mode ? iopf::stage_mode_name(*d.stage_mode) : std::string("-"),
               bridge_cell(d), iommufd_cell(d), std::to_string(stat(s, IOPF_STAT_A_INJECTED)),
               std::to_string(stat(s, IOPF_STAT_A_REPORTED)), std::to_string(filtered),
               std::to_string(stat(s, IOPF_STAT_A_NO_HANDLER)),
               std::to_string(stat(s, IOPF_STAT_A_PENDING)),
               std::to_string(stat(s, IOPF_STAT_A_RESPONSES)),
               std::to_string(stat(s, IOPF_STAT_A_AUTO_ABORTS)),
               std::to_string(stat(s, IOPF_STAT_A_NOTIFY_LOST))});
    }
    io.out << (devs.empty() ? std::string("no devices\n") : t.render());
    return 0;
}

int set(const Args& args, Io& io) {
    po::options_description desc("dev set");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("pending-limit", po::value<std::string>())(
        "timeout-ms", po::value<std::string>())("stage-mode", po::value<std::string>());
    desc.add_options()("bridge", po::value<std::string>());
    auto vm = parse_options(args, desc, &pos);
    uint32_t sid = sid_req(vm);
    // the module's ranges (uapi): 1 to IOPF_PENDING_LIMIT_MAX, 0 to IOPF_TIMEOUT_MS_MAX
    std::optional<uint32_t> limit, timeout;
    if (auto v = count_opt(vm, "pending-limit", IOPF_PENDING_LIMIT_MAX)) {
        if (*v == 0)
            throw UsageError("--pending-limit must be at least 1");
        limit = static_cast<uint32_t>(*v);
    }
    if (auto v = count_opt(vm, "timeout-ms", IOPF_TIMEOUT_MS_MAX))
        timeout = static_cast<uint32_t>(*v);
    std::optional<uint32_t> mode;
    if (vm.count("stage-mode")) {
        try {
            mode = iopf::parse_stage_mode(vm["stage-mode"].as<std::string>());
        } catch (const iopf::ParseError& e) {
            throw UsageError(fmt::format("--stage-mode: {}", e.what()));
        }
    }
    std::optional<bool> bridge;
    if (vm.count("bridge"))
        bridge = parse_on_off(vm["bridge"].as<std::string>(), "--bridge");
    if (!limit && !timeout && !mode && !bridge)
        throw UsageError(
            "no setting given (--pending-limit, --timeout-ms, --stage-mode or --bridge)");
    iopf::Client c;
    c.dev_set(sid, limit, timeout, mode, bridge);
    // what the module now holds, as flags set does
    auto d = c.dev_get(sid);
    std::string more;
    if (mode) // as set, when the module does not report it
        more = ", stage_mode " + iopf::stage_mode_name(d.stage_mode.value_or(*mode));
    if (bridge) { // the stage mode too: bridging sets s2
        if (!mode && d.stage_mode)
            more += ", stage_mode " + iopf::stage_mode_name(*d.stage_mode);
        more += fmt::format(", bridge {}", d.bridged.value_or(*bridge) ? "on" : "off");
        if (d.iommufd_dev_id)
            more += fmt::format(", iommufd_dev_id {}", *d.iommufd_dev_id);
        if (d.iommufd_pt_id)
            more += fmt::format(", iommufd_pt_id {}", *d.iommufd_pt_id);
    }
    io.out << fmt::format("device {:#x}: pending_limit {}, timeout_ms {}{}\n", sid,
                          setting(d.pending_limit), setting(d.timeout_ms), more);
    return 0;
}

} // namespace

int cmd_dev(const Args& args, Io& io) {
    if (args.empty())
        throw UsageError("missing subcommand (add, del, set, list)");
    const std::string sub = subcommand(
        args[0], {{"add", {}}, {"del", {"delete"}}, {"set", {}}, {"list", {"show", "ls"}}});
    Args rest(args.begin() + 1, args.end());
    if (sub == "list")
        return list(rest, io);
    if (sub == "set")
        return set(rest, io);
    po::options_description desc("dev");
    desc.add_options()("sid", po::value<std::vector<std::string>>()->composing());
    po::positional_options_description pos;
    pos.add("sid", -1);
    auto vm = parse_options(rest, desc, &pos);
    if (!vm.count("sid"))
        throw UsageError("missing SID");
    std::vector<uint32_t> sids;
    for (const auto& a : vm["sid"].as<std::vector<std::string>>())
        sids.push_back(static_cast<uint32_t>(num_arg(a, "SID", UINT32_MAX)));
    iopf::Client c;
    for (uint32_t sid : sids) {
        if (sub == "add")
            c.dev_new(sid);
        else
            c.dev_del(sid);
        io.out << fmt::format("{} device {:#x}\n", sub == "add" ? "added" : "deleted", sid);
    }
    return 0;
}

} // namespace iopfctl
