// SPDX-License-Identifier: GPL-2.0
#include "iopf/fault_json.hpp"

#include <fmt/format.h>

#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopf {

namespace {

Json str_list(const std::vector<std::string>& v) {
    Json a = Json::array();
    for (const auto& s : v)
        a.push(Json(s));
    return a;
}

std::vector<std::string> list_of(const Json& j) {
    std::vector<std::string> v;
    for (const auto& e : j.as_array())
        v.push_back(e.as_string());
    return v;
}

template <typename T> Json opt(const std::optional<T>& o) {
    return o ? Json(*o) : Json();
}

std::optional<uint64_t> opt_u64(const Json& j, std::string_view key) {
    const Json* v = j.find(key);
    if (!v || v->is_null())
        return std::nullopt;
    return v->as_u64();
}

uint32_t u32(const Json& j, std::string_view key) {
    uint64_t v = j.at(key).as_u64();
    if (v > UINT32_MAX)
        throw ParseError(fmt::format("'{}' exceeds 32 bits", key));
    return static_cast<uint32_t>(v);
}

} // namespace

Json fault_to_json(const Fault& f, const FaultJsonOptions& opt_) {
    Json j = Json::object();
    const auto& c = f.fault;
    j.set("seq", opt(f.seq));
    j.set("sid", f.sid);
    j.set("event_id", f.event_id);
    j.set("event", iopf_evt_name(f.event_id));
    j.set("handled", f.handled);
    j.set("type", c ? Json(type_name(c->type)) : Json());
    j.set("level", c ? Json(level_name(c->level)) : Json());
    j.set("flags", c ? str_list(fault_flag_names(c->type, c->flags)) : Json());
    j.set("pasid", f.has_pasid() ? Json(c->pasid) : Json());
    j.set("grpid", f.is_page_req() ? Json(c->grpid) : Json());
    j.set("perm", c ? str_list(perm_names(c->perm)) : Json());
    j.set("addr", c ? Json(hex(c->addr)) : Json());
    j.set("reason", c && c->type == IOPF_FAULT_DMA_UNRECOV ? Json(reason_name(c->reason)) : Json());
    if (opt_.report_flags) {
        auto v = delivery(*opt_.report_flags, f);
        j.set("delivered", v ? Json(*v == IOPF_DELIVER) : Json());
        j.set("verdict", v ? Json(verdict_name(*v)) : Json());
    }
    if (opt_.extra) {
        if (f.dev_seq)
            j.set("dev_seq", *f.dev_seq);
        if (f.timestamp_ns)
            j.set("timestamp_ns", *f.timestamp_ns);
        if (f.record) {
            Json a = Json::array();
            for (uint64_t w : *f.record)
                a.push(Json(fmt::format("{:#018x}", w)));
            j.set("record", a);
        }
    }
    return j;
}

const std::string& FaultLineWriter::cached(std::unordered_map<uint64_t, std::string>& m,
                                           uint64_t key, const auto& render) {
    auto it = m.find(key);
    if (it == m.end())
        it = m.emplace(key, render().dump()).first;
    return it->second;
}

namespace {

// Hex digits of v, "0x" first, as fmt's {:#x} (min_digits: zero-padded as {:#0Nx}).
void append_hex(std::string& out, uint64_t v, int min_digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    char b[20];
    int i = sizeof(b);
    do {
        b[--i] = kDigits[v & 0xf];
        v >>= 4;
    } while (v || static_cast<int>(sizeof(b)) - i < min_digits);
    out += "0x";
    out.append(b + i, sizeof(b) - static_cast<std::size_t>(i));
}

} // namespace

void FaultLineWriter::append(std::string& out, const Fault& f, std::string_view action,
                             bool resynced, bool recovered) {
    using namespace std::string_view_literals;
    // Numbers through fmt::format_int and keys of known length: no format
    // string is parsed and nothing is measured per fault.
    auto num = [&](uint64_t v) {
        fmt::format_int i(v);
        out.append(i.data(), i.size());
    };
    auto key = [&](std::string_view k) {
        out += ",\"";
        out += k;
        out += "\":";
    };
    const auto& c = f.fault;
    out += "{\"kind\":\"fault\",\"seq\":";
    if (f.seq)
        num(*f.seq);
    else
        out += "null";
    key("sid"sv);
    num(f.sid);
    key("event_id"sv);
    num(f.event_id);
    key("event"sv);
    out += cached(event_, f.event_id, [&] { return Json(iopf_evt_name(f.event_id)); });
    key("handled"sv);
    out += f.handled ? "true" : "false";
    key("type"sv);
    if (c) {
        out += cached(type_, c->type, [&] { return Json(type_name(c->type)); });
        key("level"sv);
        out += cached(level_, c->level, [&] { return Json(level_name(c->level)); });
        key("flags"sv);
        out += cached(flags_, uint64_t(c->type) << 32 | c->flags,
                      [&] { return str_list(fault_flag_names(c->type, c->flags)); });
    } else {
        out += "null,\"level\":null,\"flags\":null";
    }
    key("pasid"sv);
    if (f.has_pasid())
        num(c->pasid);
    else
        out += "null";
    key("grpid"sv);
    if (f.is_page_req())
        num(c->grpid);
    else
        out += "null";
    key("perm"sv);
    if (c)
        out += cached(perm_, c->perm, [&] { return str_list(perm_names(c->perm)); });
    else
        out += "null";
    key("addr"sv);
    if (c) {
        out += '"';
        append_hex(out, c->addr, 1);
        out += '"';
    } else {
        out += "null";
    }
    key("reason"sv);
    if (c && c->type == IOPF_FAULT_DMA_UNRECOV)
        out += cached(reason_, c->reason, [&] { return Json(reason_name(c->reason)); });
    else
        out += "null";
    if (f.dev_seq) {
        key("dev_seq"sv);
        num(*f.dev_seq);
    }
    if (f.timestamp_ns) {
        key("timestamp_ns"sv);
        num(*f.timestamp_ns);
    }
    if (f.record) {
        key("record"sv);
        char sep = '[';
        for (uint64_t w : *f.record) {
            out += sep;
            out += '"';
            append_hex(out, w, 16);
            out += '"';
            sep = ',';
        }
        out += ']';
    }
    key("action"sv);
    if (action != action_) {
        action_ = action;
        action_json_ = Json(action_).dump();
    }
    out += action_json_;
    key("resynced"sv);
    out += resynced ? "true" : "false";
    if (recovered)
        out += ",\"recovered\":true";
    out += '}';
}

Fault fault_from_json(const Json& j) {
    Fault f;
    f.seq = opt_u64(j, "seq");
    f.dev_seq = opt_u64(j, "dev_seq");
    f.timestamp_ns = opt_u64(j, "timestamp_ns");
    f.sid = u32(j, "sid");
    f.event_id = u32(j, "event_id");
    f.handled = j.at("handled").as_bool();
    const Json& type = j.at("type");
    if (!type.is_null()) {
        iopf_fault c{};
        c.sid = f.sid;
        c.event_id = f.event_id;
        c.type = type_from_name(type.as_string());
        c.level = level_from_name(j.at("level").as_string());
        c.flags = fault_flags_from_names(c.type, list_of(j.at("flags")));
        c.perm = perm_from_names(list_of(j.at("perm")));
        c.addr = parse_hex_word(j.at("addr").as_string());
        if (iopf_fault_has_pasid(&c))
            c.pasid = u32(j, "pasid");
        if (c.type == IOPF_FAULT_PAGE_REQ)
            c.grpid = u32(j, "grpid");
        else
            c.reason = reason_from_name(j.at("reason").as_string());
        f.fault = c;
    }
    if (const Json* r = j.find("record"); r && !r->is_null()) {
        const auto& a = r->as_array();
        if (a.size() != IOPF_EVT_DWORDS)
            throw ParseError("'record' must hold four words");
        Record rec{};
        for (std::size_t i = 0; i < rec.size(); i++)
            rec[i] = parse_hex_word(a[i].as_string());
        f.record = rec;
    }
    return f;
}

Json evt_to_json(const EvtFields& e) {
    Json j = Json::object();
    j.set("ssv", e.ssv);
    j.set("ssid", e.ssid);
    j.set("stall", e.stall);
    j.set("stag", e.stag);
    j.set("pnu", e.pnu);
    j.set("ind", e.ind);
    j.set("rnw", e.rnw);
    j.set("s2", e.s2);
    j.set("class", e.cls);
    j.set("class_name", evt_class_name(e.cls));
    j.set("ttrnw", e.cls == 1 ? Json(e.ttrnw) : Json());
    j.set("iova", e.has_addrs() ? Json(hex(e.iova)) : Json());
    j.set("ipa", e.has_addrs() ? Json(hex(e.ipa)) : Json());
    j.set("fetch_addr", e.has_fetch() ? Json(hex(e.fetch)) : Json());
    return j;
}

Json resume_to_json(const Resume& r) {
    Json j = Json::object();
    j.set("seq", r.seq);
    j.set("sid", r.sid);
    j.set("stag", r.stag);
    j.set("resp", resume_resp_name(r.resp));
    j.set("code", resp_code_name(r.code));
    j.set("origin", origin_name(r.origin));
    Json cmd = Json::array();
    for (uint64_t w : r.cmd)
        cmd.push(Json(fmt::format("{:#018x}", w)));
    j.set("cmd", cmd);
    return j;
}

Resume resume_from_json(const Json& j) {
    Resume r;
    r.seq = j.at("seq").as_u64();
    r.sid = u32(j, "sid");
    r.stag = u32(j, "stag");
    const std::string& resp = j.at("resp").as_string();
    r.resp = resp == "RETRY"   ? IOPF_RESUME_RETRY
             : resp == "ABORT" ? IOPF_RESUME_ABORT
             : resp == "TERM"  ? IOPF_RESUME_TERM
                               : throw ParseError("unknown resp '" + resp + "'");
    r.code = parse_resp_code(j.at("code").as_string());
    const std::string& origin = j.at("origin").as_string();
    if (origin == "response")
        r.origin = IOPF_ORIGIN_RESPONSE;
    else if (origin == "report_failed")
        r.origin = IOPF_ORIGIN_REPORT_FAILED;
    else if (origin == "flush")
        r.origin = IOPF_ORIGIN_FLUSH;
    else if (origin == "timeout")
        r.origin = IOPF_ORIGIN_TIMEOUT;
    else
        throw ParseError("unknown origin '" + origin + "'");
    const auto& cmd = j.at("cmd").as_array();
    if (cmd.size() != 2)
        throw ParseError("'cmd' must hold two words");
    r.cmd = {parse_hex_word(cmd[0].as_string()), parse_hex_word(cmd[1].as_string())};
    return r;
}

} // namespace iopf
