// SPDX-License-Identifier: GPL-2.0
// iopfctl decode: a record through fault_core.h, offline.
#include <fmt/core.h>

#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/names.hpp"
#include "iopf/table.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kDecodeUsage = R"(usage: iopfctl decode W0 W1 W2 W3 [--flags LIST] [--json]
  Decodes an SMMUv3 event record as the driver does (fault_core.h). With
  --flags (comma-separated flat,nested,l1,l2,unrecov) also shows whether a
  handler registered with those flags gets the fault.
example: iopfctl decode 0x1000005810 0x8080000003 0xdead000 0x80001000 --flags nested,l2
)";

int cmd_decode(const Args& args, Io& io) {
    po::options_description desc("decode");
    desc.add_options()("word", po::value<std::vector<std::string>>())(
        "flags", po::value<std::string>())("json", "");
    po::positional_options_description pos;
    pos.add("word", -1);
    auto vm = parse_options(args, desc, &pos);
    std::vector<std::string> words;
    if (vm.count("word"))
        words = vm["word"].as<std::vector<std::string>>();
    if (words.size() != IOPF_EVT_DWORDS)
        throw UsageError(fmt::format("expected four words, got {}", words.size()));
    iopf::Record r{};
    for (std::size_t i = 0; i < r.size(); i++) {
        try {
            r[i] = iopf::parse_hex_word(words[i]);
        } catch (const iopf::ParseError& e) {
            throw UsageError(e.what());
        }
    }
    std::optional<uint32_t> flags;
    if (vm.count("flags")) {
        try {
            flags = iopf::parse_report_flags(vm["flags"].as<std::string>());
        } catch (const iopf::ParseError& e) {
            throw UsageError(fmt::format("--flags: {}", e.what()));
        }
        if (const char* why = iopf_flags_check(*flags))
            io.err << fmt::format("iopfctl decode: note: the module would reject flags {}: {}\n",
                                  iopf::format_report_flags(*flags), why);
    }

    iopf::Fault f = iopf::decode_record(r);
    if (json_wanted(vm, io)) {
        print_json(io, iopf::fault_to_json(f, {.report_flags = flags, .extra = true}));
        return 0;
    }
    iopf::Table t({"FIELD", "VALUE"});
    t.add({"sid", fmt::format("{:#x}", f.sid)});
    t.add({"event", fmt::format("{:#04x} {}", f.event_id, iopf_evt_name(f.event_id))});
    if (!f.fault) {
        t.add({"handled", "no: the driver does not report this event"});
    } else {
        const auto& c = *f.fault;
        auto j = iopf::fault_to_json(f);
        auto list = [&](const char* k) {
            std::string s;
            for (const auto& e : j.at(k).as_array())
                s += (s.empty() ? "" : ",") + e.as_string();
            return s.empty() ? std::string("-") : s;
        };
        t.add({"type", iopf::type_name(c.type)});
        t.add({"level", iopf::level_name(c.level)});
        t.add({"flags", fmt::format("{:#x} {}", c.flags, list("flags"))});
        t.add({"pasid", f.has_pasid() ? fmt::format("{:#x}", c.pasid) : "-"});
        if (c.type == IOPF_FAULT_PAGE_REQ)
            t.add({"grpid", std::to_string(c.grpid)});
        else
            t.add({"reason", iopf::reason_name(c.reason)});
        t.add({"perm", list("perm")});
        t.add({"addr", fmt::format("{:#x}", c.addr)});
    }
    if (flags) {
        auto v = iopf::delivery(*flags, f);
        t.add({"delivery", v ? fmt::format("{} under {}", iopf::verdict_name(*v),
                                           iopf::format_report_flags(*flags))
                             : "-"});
    }
    io.out << t.render();
    return 0;
}

} // namespace iopfctl
