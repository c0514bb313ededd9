// SPDX-License-Identifier: GPL-2.0
#include "difftest/op.hpp"

#include <istream>
#include <ostream>

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "iopf/record.hpp"

namespace difftest {

namespace {

struct FlagName {
    uint32_t bit;
    const char* name;
};
constexpr FlagName kFlagNames[] = {
    {IOPF_REPORT_FLAT, "flat"},
    {IOPF_REPORT_NESTED, "nested"},
    {IOPF_REPORT_NESTED_L1_CONCERNED, "l1"},
    {IOPF_REPORT_NESTED_L2_CONCERNED, "l2"},
    {IOPF_REPORT_UNRECOV, "unrecov"},
};

std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> v;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r')
            j++;
        if (j > i)
            v.push_back(s.substr(i, j - i));
        i = j;
    }
    return v;
}

uint32_t num32(std::string_view s, const char* what) {
    return static_cast<uint32_t>(iopf::parse_uint(s, UINT32_MAX, what));
}

// "key=value": the value, or a ParseError naming the expected key.
std::string_view keyed(std::string_view word, std::string_view key) {
    if (word.size() <= key.size() || word.substr(0, key.size()) != key || word[key.size()] != '=')
        throw iopf::ParseError(fmt::format("expected {}=VALUE, got '{}'", key, word));
    return word.substr(key.size() + 1);
}

void want_args(const std::vector<std::string_view>& w, std::size_t n, const char* usage) {
    if (w.size() != n + 1)
        throw iopf::ParseError(
            fmt::format("'{}' takes {} argument{}: {}", w[0], n, n == 1 ? "" : "s", usage));
}

uint64_t num64(std::string_view s, const char* what) {
    return iopf::parse_uint(s, UINT64_MAX, what);
}

std::optional<uint32_t> pasid_arg(std::string_view word) {
    auto p = keyed(word, "pasid");
    if (p == "-")
        return std::nullopt;
    return num32(p, "pasid");
}

std::string pasid_text(const std::optional<uint32_t>& pasid) {
    return pasid ? fmt::format("0x{:x}", *pasid) : "-";
}

// Letters when every bit has one, else a number (a stream may hold unknown bits).
std::string perm_text(uint32_t perm) {
    if (perm & ~IOPF_PERM_ALL)
        return fmt::format("0x{:x}", perm);
    return iopf::perm_letters(perm);
}

uint32_t perm_arg(std::string_view word) {
    auto p = keyed(word, "perm");
    if (p[0] >= '0' && p[0] <= '9')
        return num32(p, "perm");
    return p == "-" ? 0 : iopf::parse_perm_letters(p);
}

std::string mode_text(uint32_t mode) {
    if (mode <= IOPF_STAGE_MODE_NESTED)
        return iopf::stage_mode_name(mode);
    return std::to_string(mode);
}

std::string code_text(uint32_t code) {
    if (code <= IOPF_RESP_FAILURE)
        return iopf::resp_code_name(code);
    return std::to_string(code);
}

} // namespace

Op Op::dev_add(uint32_t sid) {
    Op o;
    o.kind = OpKind::DevAdd;
    o.sid = sid;
    return o;
}
Op Op::dev_del(uint32_t sid) {
    Op o;
    o.kind = OpKind::DevDel;
    o.sid = sid;
    return o;
}
Op Op::reg(uint32_t sid, uint32_t flags) {
    Op o;
    o.kind = OpKind::Register;
    o.sid = sid;
    o.flags = flags;
    return o;
}
Op Op::update(uint32_t sid, uint32_t mask, uint32_t set) {
    Op o;
    o.kind = OpKind::Update;
    o.sid = sid;
    o.mask = mask;
    o.set = set;
    return o;
}
Op Op::unreg(uint32_t sid) {
    Op o;
    o.kind = OpKind::Unregister;
    o.sid = sid;
    return o;
}
Op Op::inject(const iopf::Record& r) {
    return inject(std::vector<iopf::Record>{r}, false);
}
Op Op::inject(std::vector<iopf::Record> recs, bool raw) {
    Op o;
    o.kind = OpKind::Inject;
    o.recs = std::move(recs);
    o.raw = raw;
    return o;
}
Op Op::respond(uint32_t sid, uint32_t grpid, std::optional<uint32_t> pasid, uint32_t code) {
    Op o;
    o.kind = OpKind::Respond;
    o.sid = sid;
    o.grpid = grpid;
    o.pasid = pasid;
    o.code = code;
    return o;
}
Op Op::reload() {
    return Op{};
}
Op Op::stage_mode(uint32_t sid, uint32_t mode) {
    Op o;
    o.kind = OpKind::StageMode;
    o.sid = sid;
    o.mode = mode;
    return o;
}
Op Op::map(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr, uint64_t out,
           uint64_t len, uint32_t perm) {
    Op o;
    o.kind = OpKind::Map;
    o.sid = sid;
    o.stage = stage;
    o.pasid = pasid;
    o.addr = addr;
    o.out = out;
    o.len = len;
    o.perm = perm;
    return o;
}
Op Op::unmap(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr,
             uint64_t len) {
    Op o;
    o.kind = OpKind::Unmap;
    o.sid = sid;
    o.stage = stage;
    o.pasid = pasid;
    o.addr = addr;
    o.len = len;
    return o;
}
Op Op::ttb(uint32_t sid, std::optional<uint32_t> pasid, uint64_t ttb) {
    Op o;
    o.kind = OpKind::Ttb;
    o.sid = sid;
    o.pasid = pasid;
    o.addr = ttb;
    return o;
}
Op Op::access(uint32_t sid, std::optional<uint32_t> pasid, uint64_t addr, uint64_t len,
              uint32_t perm, bool stall) {
    Op o;
    o.kind = OpKind::Access;
    o.sid = sid;
    o.pasid = pasid;
    o.addr = addr;
    o.len = len;
    o.perm = perm;
    o.stall = stall;
    return o;
}

const char* op_name(OpKind k) {
    switch (k) {
    case OpKind::DevAdd:
        return "dev_add";
    case OpKind::DevDel:
        return "dev_del";
    case OpKind::Register:
        return "register";
    case OpKind::Update:
        return "update";
    case OpKind::Unregister:
        return "unregister";
    case OpKind::Inject:
        return "inject";
    case OpKind::Respond:
        return "respond";
    case OpKind::Reload:
        return "reload";
    case OpKind::StageMode:
        return "stage_mode";
    case OpKind::Map:
        return "map";
    case OpKind::Unmap:
        return "unmap";
    case OpKind::Ttb:
        return "ttb";
    case OpKind::Access:
        return "access";
    }
    return "?";
}

std::string format_flags(uint32_t flags) {
    if (!flags)
        return "none";
    std::string s;
    uint32_t known = 0;
    for (const auto& f : kFlagNames) {
        if (flags & f.bit) {
            // appends, not "," + name: GCC 12 -O2 warns (falsely, -Wrestrict) in the inlined
            // operator+
            s += s.empty() ? "" : ",";
            s += f.name;
            known |= f.bit;
        }
    }
    if (uint32_t rest = flags & ~known) {
        s += s.empty() ? "" : ",";
        s += fmt::format("0x{:x}", rest);
    }
    return s;
}

uint32_t parse_flags(std::string_view s) {
    if (s.empty())
        throw iopf::ParseError("empty flag list");
    if (s == "none")
        return 0;
    uint32_t flags = 0;
    while (!s.empty()) {
        auto comma = s.find(',');
        std::string_view w = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        if (w.empty())
            throw iopf::ParseError("empty word in flag list");
        if (w[0] >= '0' && w[0] <= '9') {
            flags |= num32(w, "flags");
            continue;
        }
        bool found = false;
        for (const auto& f : kFlagNames) {
            if (w == f.name) {
                flags |= f.bit;
                found = true;
            }
        }
        if (!found)
            throw iopf::ParseError(fmt::format(
                "unknown flag '{}' (flat, nested, l1, l2, unrecov, none or a number)", w));
    }
    return flags;
}

std::string format_op(const Op& op) {
    const char* n = op_name(op.kind);
    switch (op.kind) {
    case OpKind::DevAdd:
    case OpKind::DevDel:
    case OpKind::Unregister:
        return fmt::format("{} 0x{:x}", n, op.sid);
    case OpKind::Register:
        return fmt::format("{} 0x{:x} {}", n, op.sid, format_flags(op.flags));
    case OpKind::Update:
        return fmt::format("{} 0x{:x} mask=0x{:x} set={}", n, op.sid, op.mask,
                           format_flags(op.set));
    case OpKind::Inject: {
        std::string s = op.raw ? "inject_raw" : n;
        for (const auto& r : op.recs)
            s += fmt::format(" {}", iopf::format_record(r));
        return s;
    }
    case OpKind::Respond:
        return fmt::format("{} 0x{:x} grpid={} pasid={} code={}", n, op.sid, op.grpid,
                           op.pasid ? fmt::format("0x{:x}", *op.pasid) : "-", code_text(op.code));
    case OpKind::Reload:
        return n;
    case OpKind::StageMode:
        return fmt::format("{} 0x{:x} {}", n, op.sid, mode_text(op.mode));
    case OpKind::Map:
        return fmt::format("{} 0x{:x} {} pasid={} 0x{:x} 0x{:x} 0x{:x} perm={}", n, op.sid,
                           op.stage, pasid_text(op.pasid), op.addr, op.out, op.len,
                           perm_text(op.perm));
    case OpKind::Unmap:
        return fmt::format("{} 0x{:x} {} pasid={} 0x{:x} 0x{:x}", n, op.sid, op.stage,
                           pasid_text(op.pasid), op.addr, op.len);
    case OpKind::Ttb:
        return fmt::format("{} 0x{:x} pasid={} 0x{:x}", n, op.sid, pasid_text(op.pasid), op.addr);
    case OpKind::Access:
        return fmt::format("{} 0x{:x} pasid={} 0x{:x} 0x{:x} perm={} stall={}", n, op.sid,
                           pasid_text(op.pasid), op.addr, op.len, perm_text(op.perm),
                           op.stall ? 1 : 0);
    }
    return "?";
}

Op parse_op(std::string_view line) {
    if (auto hash = line.find('#'); hash != std::string_view::npos)
        line = line.substr(0, hash);
    auto w = split_ws(line);
    if (w.empty())
        throw iopf::ParseError("empty op");
    const auto& k = w[0];
    if (k == "dev_add" || k == "dev_del" || k == "unregister") {
        want_args(w, 1, "SID");
        uint32_t sid = num32(w[1], "SID");
        return k == "dev_add"   ? Op::dev_add(sid)
               : k == "dev_del" ? Op::dev_del(sid)
                                : Op::unreg(sid);
    }
    if (k == "register") {
        want_args(w, 2, "SID FLAGS");
        return Op::reg(num32(w[1], "SID"), parse_flags(w[2]));
    }
    if (k == "update") {
        want_args(w, 3, "SID mask=M set=S");
        return Op::update(num32(w[1], "SID"), num32(keyed(w[2], "mask"), "mask"),
                          parse_flags(keyed(w[3], "set")));
    }
    if (k == "inject" || k == "inject_raw") {
        if (w.size() < 5 || (w.size() - 1) % 4)
            throw iopf::ParseError(
                fmt::format("'{}' takes records of four words: W0 W1 W2 W3 ...", k));
        std::vector<iopf::Record> recs((w.size() - 1) / 4);
        for (std::size_t i = 0; i + 1 < w.size(); i++)
            recs[i / 4][i % 4] = iopf::parse_hex_word(w[i + 1]);
        return Op::inject(std::move(recs), k == "inject_raw");
    }
    if (k == "respond") {
        want_args(w, 4, "SID grpid=N pasid=N|- code=C");
        uint32_t sid = num32(w[1], "SID");
        uint32_t grpid = num32(keyed(w[2], "grpid"), "grpid");
        auto p = keyed(w[3], "pasid");
        std::optional<uint32_t> pasid;
        if (p != "-")
            pasid = num32(p, "pasid");
        auto c = keyed(w[4], "code");
        uint32_t code = (c[0] >= '0' && c[0] <= '9') ? num32(c, "code") : iopf::parse_resp_code(c);
        return Op::respond(sid, grpid, pasid, code);
    }
    if (k == "reload") {
        want_args(w, 0, "");
        return Op::reload();
    }
    if (k == "stage_mode") {
        want_args(w, 2, "SID none|s1|s2|nested|N");
        uint32_t sid = num32(w[1], "SID");
        uint32_t mode =
            (w[2][0] >= '0' && w[2][0] <= '9') ? num32(w[2], "mode") : iopf::parse_stage_mode(w[2]);
        return Op::stage_mode(sid, mode);
    }
    if (k == "map") {
        want_args(w, 7, "SID STAGE pasid=P|- ADDR OUT LEN perm=rwxp");
        return Op::map(num32(w[1], "SID"), num32(w[2], "STAGE"), pasid_arg(w[3]),
                       num64(w[4], "ADDR"), num64(w[5], "OUT"), num64(w[6], "LEN"), perm_arg(w[7]));
    }
    if (k == "unmap") {
        want_args(w, 5, "SID STAGE pasid=P|- ADDR LEN");
        return Op::unmap(num32(w[1], "SID"), num32(w[2], "STAGE"), pasid_arg(w[3]),
                         num64(w[4], "ADDR"), num64(w[5], "LEN"));
    }
    if (k == "ttb") {
        want_args(w, 3, "SID pasid=P|- TTB");
        return Op::ttb(num32(w[1], "SID"), pasid_arg(w[2]), num64(w[3], "TTB"));
    }
    if (k == "access") {
        want_args(w, 6, "SID pasid=P|- ADDR LEN perm=rwxp stall=0|1");
        auto st = keyed(w[6], "stall");
        if (st != "0" && st != "1")
            throw iopf::ParseError(fmt::format("stall is 0 or 1, got '{}'", st));
        return Op::access(num32(w[1], "SID"), pasid_arg(w[2]), num64(w[3], "ADDR"),
                          num64(w[4], "LEN"), perm_arg(w[5]), st == "1");
    }
    throw iopf::ParseError(fmt::format("unknown op '{}' (dev_add, dev_del, register, update, "
                                       "unregister, inject, inject_raw, respond, "
                                       "reload, stage_mode, map, unmap, ttb, access)",
                                       k));
}

std::vector<Op> parse_stream(std::istream& in, const std::string& name) {
    std::vector<Op> ops;
    std::string line;
    unsigned lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        std::string_view v = line;
        if (auto hash = v.find('#'); hash != std::string_view::npos)
            v = v.substr(0, hash);
        if (split_ws(v).empty())
            continue;
        try {
            ops.push_back(parse_op(v));
        } catch (const iopf::ParseError& e) {
            throw iopf::ParseError(fmt::format("{}:{}: {}", name, lineno, e.what()));
        }
    }
    return ops;
}

void write_stream(std::ostream& out, const std::vector<Op>& ops,
                  const std::vector<std::string>& header) {
    for (const auto& h : header)
        out << "# " << h << '\n';
    for (const auto& op : ops)
        out << format_op(op) << '\n';
}

} // namespace difftest
