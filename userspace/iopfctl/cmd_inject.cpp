// SPDX-License-Identifier: GPL-2.0
// iopfctl inject: records from fields, raw words or a file, into debugfs.
#include <fstream>
#include <iostream>

#include <fmt/core.h>

#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/names.hpp"
#include "iopf/record.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kInjectUsage = R"(usage: iopfctl inject SID [fields] [--count N]
       iopfctl inject --raw W0 W1 W2 W3
       iopfctl inject --file FILE|-      (four hex words per line)
  SID: StreamID, decimal or 0x hex (--sid SID also works)
  fields: --ssid N  --event translation|addr-size|access|permission|ID
          --stall --stag N  --s2 --ipa IPA  --addr ADDR
          --read|--write  --exec  --priv
  --count N    inject N records, STAG, ADDR and IPA stepping by 1, 4K, 4K
  --dry-run    print the records instead of writing them
  --verbose    (-v) also say how many writes it took (1024 records at most each)
  --debugfs D  module directory (default /sys/kernel/debug/iopf_testbed)
example: iopfctl inject 0x10 --stall --stag 7 --s2 --ipa 0x80001000 --addr 0x1000
)";

namespace {

std::vector<iopf::Record> from_fields(const po::variables_map& vm) {
    iopf::RecordFields f;
    f.sid = sid_req(vm);
    if (auto v = num_opt(vm, "ssid", UINT32_MAX))
        f.ssid = static_cast<uint32_t>(*v);
    if (vm.count("event")) {
        try {
            f.event_id = iopf::parse_event(vm["event"].as<std::string>());
        } catch (const iopf::ParseError& e) {
            throw UsageError(fmt::format("--event: {}", e.what()));
        }
    }
    f.stall = vm.count("stall");
    f.stag = static_cast<uint32_t>(num_opt(vm, "stag", UINT32_MAX).value_or(0));
    f.s2 = vm.count("s2");
    f.ipa = num_opt(vm, "ipa", UINT64_MAX).value_or(0);
    f.addr = num_opt(vm, "addr", UINT64_MAX).value_or(0);
    if (vm.count("read") && vm.count("write"))
        throw UsageError("--read and --write are exclusive");
    f.read = !vm.count("write");
    f.exec = vm.count("exec");
    f.priv = vm.count("priv");
    uint64_t count = count_opt(vm, "count", 1'000'000).value_or(1);
    if (count == 0)
        throw UsageError("--count must be at least 1");

    std::vector<iopf::Record> out;
    for (uint64_t i = 0; i < count; i++) {
        iopf::RecordFields g = f;
        g.stag = static_cast<uint32_t>(f.stag + i);
        g.addr = f.addr + i * 0x1000;
        if (f.ipa)
            g.ipa = f.ipa + i * 0x1000;
        try {
            out.push_back(iopf::build_record(g));
        } catch (const iopf::ParseError& e) {
            throw UsageError(e.what());
        }
    }
    return out;
}

std::vector<iopf::Record> from_raw(const std::vector<std::string>& words) {
    if (words.size() != IOPF_EVT_DWORDS)
        throw UsageError(fmt::format("--raw takes four words, got {}", words.size()));
    iopf::Record r{};
    for (std::size_t i = 0; i < r.size(); i++) {
        try {
            r[i] = iopf::parse_hex_word(words[i]);
        } catch (const iopf::ParseError& e) {
            throw UsageError(fmt::format("--raw: {}", e.what()));
        }
    }
    return {r};
}

std::vector<iopf::Record> from_file(const std::string& path) {
    std::vector<iopf::Record> recs;
    if (path == "-") {
        recs = iopf::parse_record_stream(std::cin, "<stdin>");
    } else {
        std::ifstream in = iopf::open_input(path, "opening");
        recs = iopf::parse_record_stream(in, path);
    }
    if (recs.empty())
        throw iopf::ParseError(fmt::format("{}: no records", path == "-" ? "<stdin>" : path));
    return recs;
}

} // namespace

int cmd_inject(const Args& args, Io& io) {
    po::options_description desc("inject");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("ssid", po::value<std::string>())(
        "event", po::value<std::string>())("stall", "")("stag", po::value<std::string>())("s2", "")(
        "ipa", po::value<std::string>())("addr", po::value<std::string>())("read", "")("write", "")(
        "exec", "")("priv", "")("count", po::value<std::string>())(
        "raw", po::value<std::vector<std::string>>()->multitoken())(
        "file", po::value<std::string>())("dry-run", "")("verbose,v", "")(
        "debugfs", po::value<std::string>()->default_value(iopf::kDefaultDebugfs));
    auto vm = parse_options(args, desc, &pos);

    bool raw = vm.count("raw"), file = vm.count("file");
    bool fields = false;
    for (const char* o : {"sid", "ssid", "event", "stall", "stag", "s2", "ipa", "addr", "read",
                          "write", "exec", "priv", "count"})
        fields |= vm.count(o) > 0;
    if (int(raw) + int(file) + int(fields) != 1)
        throw UsageError("give exactly one of: fields (SID ...), --raw, --file");

    std::vector<iopf::Record> recs = raw    ? from_raw(vm["raw"].as<std::vector<std::string>>())
                                     : file ? from_file(vm["file"].as<std::string>())
                                            : from_fields(vm);
    if (vm.count("dry-run")) {
        io.out << iopf::inject_text(recs);
        return 0;
    }
    const std::string dir = vm["debugfs"].as<std::string>();
    std::size_t writes = iopf::inject_records(dir, recs);
    if (recs.size() == 1)
        io.out << fmt::format("injected {}\n", iopf::format_record(recs[0]));
    else
        io.out << fmt::format("injected {} records\n", recs.size());
    if (vm.count("verbose"))
        io.out << fmt::format("{} write{} to {}/inject\n", writes, writes == 1 ? "" : "s", dir);
    return 0;
}

} // namespace iopfctl
