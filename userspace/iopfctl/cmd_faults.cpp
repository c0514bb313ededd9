// SPDX-License-Identifier: GPL-2.0
// iopfctl faults / stats: what the daemon collected (its JSON-lines store),
// and the module's own counters.
#include <fmt/core.h>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/names.hpp"
#include "iopf/store.hpp"
#include "iopf/summary.hpp"
#include "iopf/table.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kFaultsUsage =
    R"(usage: iopfctl faults [SID] [--store PATH] [--level L1|L2] [--json]
  Lists the faults in iopfd's store (default /var/lib/iopfd/faults.jsonl),
  with what the daemon's policy did with each; SID (or --sid SID) keeps one
  device's. Page requests iopfd answered on upstream's road (read from an
  iommufd fault queue: "via":"iommufd") follow in a table of their own;
  they have no level, so --level leaves them out.
example: iopfctl faults 0x10 --level L2 --store /var/lib/iopfd/faults.jsonl
)";

const char* const kStatsUsage = R"(usage: iopfctl stats [--store PATH] [--module] [--json]
  Summarises iopfd's store; --module shows the module's counters instead
  (STATS_GET and every device's DEV_GET).
example: iopfctl -p stats --module
)";

namespace {

struct Collected {
    std::vector<iopf::Fault> faults;
    std::vector<std::string> actions;
    std::vector<iopf::Json> lines;
    std::vector<iopf::Json> iommufd; // "via":"iommufd" lines, as stored
    iopf::StoreReadResult read;
};

// A "via":"iommufd" line's fields, checked: the ones the table shows.
bool iommufd_line_ok(const iopf::Json& j) {
    for (const char* k : {"sid", "dev_id", "grpid", "cookie"})
        if (const iopf::Json* v = j.find(k); !v || !v->is_number())
            return false;
    const iopf::Json* a = j.find("addr");
    const iopf::Json* act = j.find("action");
    const iopf::Json* perm = j.find("perm");
    const iopf::Json* code = j.find("code");
    return a && a->is_string() && act && act->is_string() && perm && perm->is_array() && code &&
           (code->is_null() || code->is_string());
}

std::string join_strings(const iopf::Json& arr) {
    std::string s;
    for (const auto& v : arr.as_array())
        if (v.is_string())
            s += (s.empty() ? "" : ",") + v.as_string();
    return s.empty() ? "-" : s;
}

std::string iommufd_table(const std::vector<iopf::Json>& lines) {
    iopf::Table t({"SID", "DEV_ID", "PASID", "GRPID", "PERM", "ADDR", "COOKIE", "ACTION", "CODE"});
    for (const auto& j : lines) {
        const iopf::Json* pasid = j.find("pasid");
        const iopf::Json& code = j.at("code");
        std::string c = code.is_null() ? "-" : code.as_string();
        if (const iopf::Json* ok = j.find("ok"); ok && ok->is_bool() && !ok->as_bool())
            c += " (refused)";
        t.add({fmt::format("{:#x}", j.at("sid").as_u64()), std::to_string(j.at("dev_id").as_u64()),
               pasid && pasid->is_number() ? fmt::format("{:#x}", pasid->as_u64()) : "-",
               std::to_string(j.at("grpid").as_u64()), join_strings(j.at("perm")),
               j.at("addr").as_string(), std::to_string(j.at("cookie").as_u64()),
               j.at("action").as_string(), c});
    }
    return t.render();
}

Collected collect(const std::string& path, std::optional<uint32_t> sid,
                  std::optional<uint32_t> level) {
    Collected c;
    std::size_t bad = 0; // lines that parse but are no fault (read_store's result comes last)
    c.read = iopf::read_store(path, [&](const iopf::Json& j) {
        const iopf::Json* kind = j.find("kind");
        if (!kind || !kind->is_string() || kind->as_string() != "fault")
            return;
        if (const iopf::Json* via = j.find("via")) {
            // A nested device's vEVENTQ record: its netlink line is above
            // too; `stats` counts these (vevents).
            if (via->is_string() && via->as_string() == "vevent")
                return;
            // Upstream's road: the same record's netlink line is above.
            if (!via->is_string() || via->as_string() != "iommufd" || !iommufd_line_ok(j)) {
                bad++;
                return;
            }
            if ((sid && j.at("sid").as_u64() != *sid) || level)
                return;
            c.iommufd.push_back(j);
            return;
        }
        iopf::Fault f;
        try {
            f = iopf::fault_from_json(j);
        } catch (const iopf::ParseError&) {
            bad++;
            return;
        }
        if (sid && f.sid != *sid)
            return;
        if (level && (!f.fault || f.fault->level != *level))
            return;
        const iopf::Json* a = j.find("action");
        std::string action = a && a->is_string() ? a->as_string() : "";
        if (const iopf::Json* r = j.find("resynced"); r && r->is_bool() && r->as_bool())
            action += " (resync)";
        c.faults.push_back(f);
        c.actions.push_back(action);
        c.lines.push_back(j);
    });
    c.read.bad_lines += bad;
    return c;
}

void warn_bad(Io& io, const std::string& path, const iopf::StoreReadResult& r) {
    if (r.bad_lines)
        io.err << fmt::format("iopfctl: {}: {} unreadable line(s) skipped\n", path, r.bad_lines);
}

iopf::Json module_stats_json(const iopf::Stats& s) {
    iopf::Json j = iopf::Json::object();
    for (const auto& [t, v] : s)
        j.set(iopf::stat_name(t), v);
    return j;
}

int module_stats(bool json, Io& io) {
    iopf::Client c;
    auto global = c.stats();
    auto devs = c.dev_list();
    if (json) {
        iopf::Json j = iopf::Json::object();
        j.set("global", module_stats_json(global));
        iopf::Json d = iopf::Json::array();
        for (const auto& dev : devs) {
            iopf::Json o = module_stats_json(dev.stats);
            o.set("sid", dev.sid);
            d.push(o);
        }
        j.set("devices", d);
        print_json(io, j);
        return 0;
    }
    io.out << "module counters:\n";
    iopf::Table g({"COUNTER", "VALUE"});
    for (const auto& [t, v] : global)
        g.add({iopf::stat_name(t), std::to_string(v)});
    io.out << g.render();
    for (const auto& dev : devs) {
        io.out << fmt::format("\ndevice {:#x} ({}):\n", dev.sid,
                              dev.registered ? iopf::format_report_flags(dev.flags)
                                             : "unregistered");
        iopf::Table t({"COUNTER", "VALUE"});
        for (const auto& [k, v] : dev.stats)
            t.add({iopf::stat_name(k), std::to_string(v)});
        io.out << t.render();
    }
    return 0;
}

} // namespace

int cmd_faults(const Args& args, Io& io) {
    po::options_description desc("faults");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("store", po::value<std::string>()->default_value(iopf::kDefaultStore))(
        "level", po::value<std::string>())("json", "");
    auto vm = parse_options(args, desc, &pos);
    std::optional<uint32_t> sid = sid_opt(vm);
    std::optional<uint32_t> level;
    if (vm.count("level")) {
        try {
            level = iopf::level_from_name(vm["level"].as<std::string>());
        } catch (const iopf::ParseError& e) {
            throw UsageError(e.what());
        }
    }
    const std::string path = vm["store"].as<std::string>();
    auto c = collect(path, sid, level);
    warn_bad(io, path, c.read);
    if (json_wanted(vm, io)) {
        for (std::size_t i = 0; i < c.faults.size(); i++) {
            auto j =
                iopf::fault_to_json(c.faults[i], {.report_flags = std::nullopt, .extra = true});
            for (const char* k : {"action", "resynced"})
                if (const iopf::Json* v = c.lines[i].find(k))
                    j.set(k, *v);
            print_json(io, j);
        }
        for (const auto& j : c.iommufd)
            print_json(io, j);
        return 0;
    }
    if (c.faults.empty() && c.iommufd.empty()) {
        io.out << fmt::format("no faults in {}\n", path);
        return 0;
    }
    if (!c.faults.empty())
        io.out << fault_table(c.faults, &c.actions);
    if (!c.iommufd.empty()) {
        if (!c.faults.empty())
            io.out << '\n';
        io.out << "answered on upstream's road (iommufd fault queues):\n"
               << iommufd_table(c.iommufd);
    }
    return 0;
}

int cmd_stats(const Args& args, Io& io) {
    po::options_description desc("stats");
    desc.add_options()("store", po::value<std::string>()->default_value(iopf::kDefaultStore))(
        "module", "")("json", "");
    auto vm = parse_options(args, desc);
    bool json = json_wanted(vm, io);
    if (vm.count("module"))
        return module_stats(json, io);
    const std::string path = vm["store"].as<std::string>();
    iopf::Summary s;
    auto r = iopf::read_store(path, [&](const iopf::Json& j) { s.add_store_line(j); });
    warn_bad(io, path, r);
    if (json)
        print_json(io, s.to_json());
    else
        io.out << s.to_text();
    return 0;
}

} // namespace iopfctl
