// SPDX-License-Identifier: GPL-2.0
// iopfctl decode: records through fault_core.h, offline.
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/core.h>

#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/file.hpp"
#include "iopf/names.hpp"
#include "iopf/record.hpp"
#include "iopf/replay.hpp"
#include "iopf/table.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kDecodeUsage =
    R"(usage: iopfctl decode W0 W1 W2 W3 | --file FILE | - [--flags LIST] [--json]
  Decodes SMMUv3 event records as the driver does (fault_core.h): every field
  of the record (SSV/SSID, STALL, STAG, PnU/InD/RnW, S2, CLASS, TTRnW, IOVA,
  IPA, the raw words) and the fault the driver reports from it. The records
  come from the four words, or from FILE or stdin (-): record lines as
  `inject --dry-run` prints them, or a kernel-log excerpt (what `replay`
  reads). With --flags (comma-separated flat,nested,l1,l2,unrecov) also shows
  whether a handler registered with those flags gets the fault.
  --json       one JSON object per record
example: dmesg | grep -A4 'event 0x' | iopfctl decode - --json
)";

namespace {

std::string yes_no(bool b) {
    return b ? "yes" : "no";
}

std::string table_of(const iopf::Fault& f, std::optional<uint32_t> flags) {
    const iopf::EvtFields e = iopf::evt_fields(*f.record);
    iopf::Table t({"FIELD", "VALUE"});
    t.add({"record", iopf::format_record(*f.record)});
    t.add({"sid", fmt::format("{:#x}", e.sid)});
    t.add({"event", fmt::format("{:#04x} {}", e.id, iopf_evt_name(e.id))});
    t.add({"ssid", e.ssv ? fmt::format("{:#x}", e.ssid) : "- (SSV clear)"});
    t.add({"stall", yes_no(e.stall)});
    t.add({"stag", fmt::format("{:#x}", e.stag)});
    t.add({"s2", yes_no(e.s2)});
    t.add({"class", fmt::format("{} {}", e.cls, iopf::evt_class_name(e.cls))});
    t.add({"ttrnw", e.cls == 1 ? (e.ttrnw ? "read" : "write") : "- (not a table walk)"});
    t.add({"rnw", e.rnw ? "read" : "write"});
    t.add({"ind", e.ind ? "instruction" : "data"});
    t.add({"pnu", e.pnu ? "privileged" : "unprivileged"});
    if (e.has_addrs()) {
        t.add({"iova", fmt::format("{:#x}", e.iova)});
        t.add({"ipa", fmt::format("{:#x}", e.ipa)});
    } else if (e.has_fetch()) {
        t.add({"fetch_addr", fmt::format("{:#x}", e.fetch)});
    }
    if (!f.fault) {
        t.add({"handled", "no: the driver does not report this event"});
    } else {
        const auto& c = *f.fault;
        auto join = [](const std::vector<std::string>& v) {
            std::string s;
            for (const auto& x : v)
                s += (s.empty() ? "" : ",") + x;
            return s.empty() ? std::string("-") : s;
        };
        t.add({"type", iopf::type_name(c.type)});
        t.add({"level", iopf::level_name(c.level)});
        t.add({"flags",
               fmt::format("{:#x} {}", c.flags, join(iopf::fault_flag_names(c.type, c.flags)))});
        t.add({"pasid", f.has_pasid() ? fmt::format("{:#x}", c.pasid) : "-"});
        if (c.type == IOPF_FAULT_PAGE_REQ)
            t.add({"grpid", std::to_string(c.grpid)});
        else
            t.add({"reason", iopf::reason_name(c.reason)});
        t.add({"perm", join(iopf::perm_names(c.perm))});
        t.add(
            {"addr",
             fmt::format("{:#x} (reported: the {})", c.addr,
                         c.flags & IOPF_PRQ_L2 && c.type == IOPF_FAULT_PAGE_REQ ? "IPA" : "IOVA")});
    }
    if (flags) {
        auto v = iopf::delivery(*flags, f);
        t.add({"delivery", v ? fmt::format("{} under {}", iopf::verdict_name(*v),
                                           iopf::format_report_flags(*flags))
                             : "-"});
    }
    return t.render();
}

// Records from a log excerpt, or else from record lines. Problems go to err;
// false when there were any.
bool read_records(std::istream& in, const std::string& name, std::vector<iopf::Record>& out,
                  std::ostream& err) {
    std::stringstream text;
    text << in.rdbuf();
    std::istringstream log(text.str());
    iopf::ReplayResult res = iopf::parse_replay(log);
    if (!res.records.empty() || !res.ok()) {
        for (const auto& w : res.warnings)
            err << fmt::format("iopfctl decode: {}: warning: {}\n", name, w);
        for (const auto& e : res.errors)
            err << fmt::format("iopfctl decode: {}: {}\n", name, e);
        out = std::move(res.records);
        return res.ok();
    }
    std::istringstream lines(text.str());
    out = iopf::parse_record_stream(lines, name); // throws ParseError NAME:LINE
    if (out.empty())
        throw iopf::ParseError(fmt::format("{}: no records", name));
    return true;
}

} // namespace

int cmd_decode(const Args& args, Io& io) {
    po::options_description desc("decode");
    desc.add_options()("word", po::value<std::vector<std::string>>())(
        "file", po::value<std::string>())("flags", po::value<std::string>())("json", "");
    po::positional_options_description pos;
    pos.add("word", -1);
    auto vm = parse_options(args, desc, &pos);
    std::vector<std::string> words;
    if (vm.count("word"))
        words = vm["word"].as<std::vector<std::string>>();
    std::optional<std::string> input;
    if (vm.count("file"))
        input = vm["file"].as<std::string>();
    if (words.size() == 1 && words[0] == "-" && !input) {
        input = "-";
        words.clear();
    }
    if (input && !words.empty())
        throw UsageError("give the four words or --file/-, not both");

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

    std::vector<iopf::Record> records;
    bool ok = true;
    if (input) {
        if (*input == "-") {
            ok = read_records(std::cin, "<stdin>", records, io.err);
        } else {
            std::ifstream in = iopf::open_input(*input, "opening");
            ok = read_records(in, *input, records, io.err);
        }
    } else {
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
        records.push_back(r);
    }

    for (std::size_t i = 0; i < records.size(); i++) {
        iopf::Fault f = iopf::decode_record(records[i]);
        if (json_wanted(vm, io)) {
            iopf::Json j = iopf::fault_to_json(f, {.report_flags = flags, .extra = true});
            j.set("evt", iopf::evt_to_json(iopf::evt_fields(records[i])));
            print_json(io, j);
            continue;
        }
        if (records.size() > 1)
            io.out << fmt::format("{}record {} of {}:\n", i ? "\n" : "", i + 1, records.size());
        io.out << table_of(f, flags);
    }
    return ok ? 0 : 1;
}

} // namespace iopfctl
