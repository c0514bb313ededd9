// SPDX-License-Identifier: GPL-2.0
#include "output.hpp"

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "iopf/table.hpp"

namespace iopfctl {

po::variables_map parse_options(const Args& args, const po::options_description& desc,
                                const po::positional_options_description* pos) {
    try {
        return iopf::cli::parse(args, desc, pos);
    } catch (const iopf::cli::CommandLineError& e) {
        throw UsageError(e.what());
    }
}

uint64_t num_arg(const std::string& s, const char* what, uint64_t max) {
    try {
        return iopf::parse_uint(s, max, what);
    } catch (const iopf::ParseError& e) {
        throw UsageError(e.what());
    }
}

std::optional<uint64_t> num_opt(const po::variables_map& vm, const char* name, uint64_t max) {
    if (!vm.count(name))
        return std::nullopt;
    return num_arg(vm[name].as<std::string>(), (std::string("--") + name).c_str(), max);
}

uint64_t num_req(const po::variables_map& vm, const char* name, uint64_t max) {
    auto v = num_opt(vm, name, max);
    if (!v)
        throw UsageError(fmt::format("--{} is required", name));
    return *v;
}

std::optional<uint64_t> count_opt(const po::variables_map& vm, const char* name, uint64_t max) {
    if (!vm.count(name))
        return std::nullopt;
    try {
        return iopf::parse_count(vm[name].as<std::string>(), max, std::string("--") + name);
    } catch (const iopf::ParseError& e) {
        throw UsageError(e.what());
    }
}

void add_sid(po::options_description& desc, po::positional_options_description& pos) {
    desc.add_options()("sid", po::value<std::string>(), "StreamID");
    pos.add("sid", 1);
}

std::optional<uint32_t> sid_opt(const po::variables_map& vm) {
    if (!vm.count("sid"))
        return std::nullopt;
    return static_cast<uint32_t>(num_arg(vm["sid"].as<std::string>(), "SID", UINT32_MAX));
}

uint32_t sid_req(const po::variables_map& vm) {
    auto sid = sid_opt(vm);
    if (!sid)
        throw UsageError("missing SID");
    return *sid;
}

uint32_t flags_arg(const std::string& s, const char* opt) {
    try {
        return iopf::parse_report_flags(s);
    } catch (const iopf::ParseError& e) {
        throw UsageError(fmt::format("{}: {}", opt, e.what()));
    }
}

const char* subcommand(const std::string& word, const std::vector<iopf::cli::Word>& table) {
    try {
        return iopf::cli::match(word, table, "subcommand");
    } catch (const iopf::cli::CommandLineError& e) {
        throw UsageError(e.what());
    }
}

bool json_wanted(const po::variables_map& vm, const Io& io) {
    return io.json || vm.count("json");
}

void print_json(Io& io, const iopf::Json& j) {
    if (io.pretty)
        io.out << pretty_json(j.dump()) << '\n';
    else
        io.out << j.dump() << '\n';
}

std::string pretty_json(std::string_view in) {
    std::string out;
    int depth = 0;
    bool in_str = false, esc = false;
    auto newline = [&] { out += '\n' + std::string(static_cast<std::size_t>(depth) * 2, ' '); };
    for (std::size_t i = 0; i < in.size(); i++) {
        char c = in[i];
        if (in_str) {
            out += c;
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            out += c;
            break;
        case '{':
        case '[':
            out += c;
            // empty containers stay on one line
            if (i + 1 < in.size() && (in[i + 1] == '}' || in[i + 1] == ']')) {
                out += in[++i];
                break;
            }
            depth++;
            newline();
            break;
        case '}':
        case ']':
            depth--;
            newline();
            out += c;
            break;
        case ',':
            out += c;
            newline();
            break;
        case ':':
            out += ": ";
            break;
        default:
            out += c;
        }
    }
    return out;
}

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& e : v)
        s += (s.empty() ? "" : sep) + e;
    return s;
}

std::string seq_str(const iopf::Fault& f) {
    return f.seq ? std::to_string(*f.seq) : "-";
}

} // namespace

std::string fault_line(const iopf::Fault& f) {
    std::string s =
        fmt::format("seq={} sid={:#x} {}", seq_str(f), f.sid, iopf_evt_name(f.event_id));
    if (!f.fault)
        return s + " (not reported by the driver)";
    const auto& c = *f.fault;
    s += fmt::format(" {} {}", iopf::type_name(c.type), iopf::level_name(c.level));
    if (c.type == IOPF_FAULT_PAGE_REQ)
        s += fmt::format(" grpid={}", c.grpid);
    else
        s += fmt::format(" reason={}", iopf::reason_name(c.reason));
    s += fmt::format(" pasid={}", f.has_pasid() ? fmt::format("{:#x}", c.pasid) : "-");
    s += fmt::format(" perm={} addr={:#x}", join(iopf::perm_names(c.perm), ","), c.addr);
    return s;
}

std::string resume_line(const iopf::Resume& r) {
    return fmt::format("resume seq={} sid={:#x} stag={} {} code={} origin={} cmd={:#018x} {:#018x}",
                       r.seq, r.sid, r.stag, iopf::resume_resp_name(r.resp),
                       iopf::resp_code_name(r.code), iopf::origin_name(r.origin), r.cmd[0],
                       r.cmd[1]);
}

std::string fault_table(const std::vector<iopf::Fault>& faults,
                        const std::vector<std::string>* actions) {
    std::vector<std::string> hdr = {"SEQ",   "SID",   "EVENT", "TYPE", "LEVEL",
                                    "PASID", "GRPID", "PERM",  "ADDR"};
    if (actions)
        hdr.push_back("ACTION");
    iopf::Table t(hdr);
    for (std::size_t i = 0; i < faults.size(); i++) {
        const auto& f = faults[i];
        std::vector<std::string> row = {seq_str(f), fmt::format("{:#x}", f.sid),
                                        iopf_evt_name(f.event_id)};
        if (f.fault) {
            const auto& c = *f.fault;
            row.push_back(iopf::type_name(c.type));
            row.push_back(iopf::level_name(c.level));
            row.push_back(f.has_pasid() ? fmt::format("{:#x}", c.pasid) : "-");
            row.push_back(c.type == IOPF_FAULT_PAGE_REQ ? std::to_string(c.grpid) : "-");
            row.push_back(join(iopf::perm_names(c.perm), ","));
            row.push_back(fmt::format("{:#x}", c.addr));
        } else {
            row.insert(row.end(), {"-", "-", "-", "-", "-", "-"});
        }
        if (actions)
            row.push_back(i < actions->size() ? (*actions)[i] : "");
        t.add(row);
    }
    return t.render();
}

void print_json_line(std::ostream& os, const iopf::Json& j) {
    os << j.dump() << '\n';
}

} // namespace iopfctl
