// SPDX-License-Identifier: GPL-2.0
// iopfctl flags set|update|get|clear (aliases: show, unregister, del, delete)
#include <fmt/core.h>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kFlagsUsage = R"(usage: iopfctl flags set SID FLAGS      register a handler
       iopfctl flags update SID FLAGS   replace the flags (mask 0, set FLAGS)
       iopfctl flags update SID [--mask M] [--set S]
       iopfctl flags get|show SID [--json]
       iopfctl flags clear|unregister|del SID   unregister the handler
  SID: StreamID, decimal or 0x hex (--sid SID also works)
  FLAGS: any of --flat --nested --l1 --l2 --unrecov, or --flags LIST
  LIST, M, S: comma-separated names (flat,nested,l1,l2,unrecov) or a
         number (0xe); the kernel keeps flags & M, then ORs S
example: iopfctl flags set 0x10 --nested --l1 --l2
         iopfctl flags update 0x10 --mask flat,nested --set l2
)";

namespace {

struct FlagOpts {
    po::variables_map vm;
    uint32_t sid = 0;
};

FlagOpts parse(const Args& args, bool with_flags, bool with_mask, bool with_json) {
    po::options_description desc("flags");
    po::positional_options_description pos;
    add_sid(desc, pos);
    if (with_flags)
        desc.add_options()("flat", "FLAT")("nested", "NESTED")("l1", "NESTED_L1_CONCERNED")(
            "l2", "NESTED_L2_CONCERNED")("unrecov", "REPORT_UNRECOV")(
            "flags", po::value<std::string>(), "comma-separated list");
    if (with_mask)
        desc.add_options()("mask", po::value<std::string>(),
                           "keep flags & MASK")("set", po::value<std::string>(), "then OR SET");
    if (with_json)
        desc.add_options()("json", "JSON output");
    FlagOpts o;
    o.vm = parse_options(args, desc, &pos);
    o.sid = sid_req(o.vm);
    return o;
}

// The flags named by switches and/or --flags; nullopt when none given.
std::optional<uint32_t> named_flags(const po::variables_map& vm) {
    uint32_t f = 0;
    bool any = false;
    static const std::pair<const char*, uint32_t> sw[] = {{"flat", IOPF_REPORT_FLAT},
                                                          {"nested", IOPF_REPORT_NESTED},
                                                          {"l1", IOPF_REPORT_NESTED_L1_CONCERNED},
                                                          {"l2", IOPF_REPORT_NESTED_L2_CONCERNED},
                                                          {"unrecov", IOPF_REPORT_UNRECOV}};
    for (const auto& [name, bit] : sw) {
        if (vm.count(name)) {
            f |= bit;
            any = true;
        }
    }
    if (vm.count("flags")) {
        f |= flags_arg(vm["flags"].as<std::string>(), "--flags");
        any = true;
    }
    return any ? std::optional(f) : std::nullopt;
}

// A set the module would refuse (fault_core.h), refused before asking it.
void check_flags(uint32_t flags) {
    if (const char* why = iopf_flags_check(flags))
        throw UsageError(why);
}

} // namespace

int cmd_flags(const Args& args, Io& io) {
    if (args.empty())
        throw UsageError("missing subcommand (set, update, get, clear)");
    const std::string sub =
        subcommand(args[0], {{"set", {}},
                             {"update", {}},
                             {"get", {"show"}},
                             {"clear", {"unregister", "del", "delete"}}});
    Args rest(args.begin() + 1, args.end());
    if (sub == "set") {
        auto o = parse(rest, true, false, false);
        auto flags = named_flags(o.vm);
        if (!flags)
            throw UsageError("no flags given");
        check_flags(*flags);
        iopf::Client().handler_register(o.sid, *flags);
        io.out << fmt::format("device {:#x}: registered {} ({:#x})\n", o.sid,
                              iopf::format_report_flags(*flags), *flags);
        return 0;
    }
    if (sub == "update") {
        auto o = parse(rest, true, true, false);
        auto flags = named_flags(o.vm);
        std::optional<uint32_t> mask, set;
        if (o.vm.count("mask")) {
            try {
                mask = iopf::parse_report_mask(o.vm["mask"].as<std::string>());
            } catch (const iopf::ParseError& e) {
                throw UsageError(fmt::format("--mask: {}", e.what()));
            }
        }
        if (o.vm.count("set"))
            set = flags_arg(o.vm["set"].as<std::string>(), "--set");
        if (flags && (mask || set))
            throw UsageError("give either flag switches or --mask/--set, not both");
        if (!flags && !mask && !set)
            throw UsageError("no flags given");
        // Flags replace the set: checked whole. With --mask/--set only the
        // kernel knows the resulting set; SET's bits can be checked here.
        // (SET's unknown bits were refused by flags_arg.)
        if (flags)
            check_flags(*flags);
        uint32_t m = flags ? 0 : mask.value_or(0);
        uint32_t s = flags ? *flags : set.value_or(0);
        iopf::Client c;
        c.handler_update(o.sid, m, s);
        auto d = c.dev_get(o.sid);
        io.out << fmt::format("device {:#x}: flags now {} ({:#x})\n", o.sid,
                              iopf::format_report_flags(d.flags), d.flags);
        return 0;
    }
    if (sub == "get") {
        auto o = parse(rest, false, false, true);
        auto d = iopf::Client().dev_get(o.sid);
        if (json_wanted(o.vm, io)) {
            iopf::Json j = iopf::Json::object();
            j.set("sid", d.sid);
            j.set("registered", d.registered);
            j.set("flags",
                  d.registered ? iopf::Json(iopf::format_report_flags(d.flags)) : iopf::Json());
            j.set("flags_value", d.flags);
            print_json(io, j);
        } else if (d.registered) {
            io.out << fmt::format("{:#x} {}\n", d.flags, iopf::format_report_flags(d.flags));
        } else {
            io.out << "unregistered\n";
        }
        return 0;
    }
    if (sub == "clear") {
        auto o = parse(rest, false, false, false);
        iopf::Client().handler_unregister(o.sid);
        io.out << fmt::format("device {:#x}: handler unregistered\n", o.sid);
        return 0;
    }
    throw UsageError(fmt::format("unknown subcommand '{}'", sub)); // not reached
}

} // namespace iopfctl
