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
  device's.
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
    iopf::StoreReadResult read;
};

Collected collect(const std::string& path, std::optional<uint32_t> sid,
                  std::optional<uint32_t> level) {
    Collected c;
    c.read = iopf::read_store(path, [&](const iopf::Json& j) {
        const iopf::Json* kind = j.find("kind");
        if (!kind || !kind->is_string() || kind->as_string() != "fault")
            return;
        iopf::Fault f;
        try {
            f = iopf::fault_from_json(j);
        } catch (const iopf::ParseError&) {
            c.read.bad_lines++;
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
        return 0;
    }
    if (c.faults.empty()) {
        io.out << fmt::format("no faults in {}\n", path);
        return 0;
    }
    io.out << fault_table(c.faults, &c.actions);
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
