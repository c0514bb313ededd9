// SPDX-License-Identifier: GPL-2.0
#include "iopf/fault_json.hpp"

#include <array>
#include <cstring>

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

const std::string& FaultLineWriter::cached(Names& m, uint64_t key, const auto& render) {
    if (m.last && m.last_key == key)
        return *m.last;
    auto it = m.map.find(key);
    if (it == m.map.end())
        it = m.map.emplace(key, render().dump()).first;
    m.last_key = key;
    m.last = &it->second;
    return it->second;
}

namespace {

// Writes into memory reserved beforehand (FaultLineWriter computes a bound):
// no capacity check, no format string, per piece.
struct Cursor {
    char* p;
    void put(std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void put(char c) { *p++ = c; }
    void num(uint64_t v) {
        fmt::format_int i(v);
        put(std::string_view(i.data(), i.size()));
    }
    // "0x" and the hex digits of v, as fmt's {:#x} ({:#018x} with min_digits 16).
    // Two digits per step from a table: half the steps (under TCG every
    // guest instruction counts; a line has five of these).
    void hex(uint64_t v, int min_digits) {
        static constexpr auto kPairs = [] {
            std::array<char, 512> t{};
            for (int i = 0; i < 256; i++) {
                t[2 * i] = "0123456789abcdef"[i >> 4];
                t[2 * i + 1] = "0123456789abcdef"[i & 0xf];
            }
            return t;
        }();
        char b[16];
        int i = sizeof(b);
        do {
            i -= 2;
            std::memcpy(b + i, &kPairs[2 * (v & 0xff)], 2);
            v >>= 8;
        } while (v || static_cast<int>(sizeof(b)) - i < min_digits);
        if (b[i] == '0' && static_cast<int>(sizeof(b)) - i > min_digits)
            i++; // an odd digit count: the pair's leading zero is not one
        *p++ = '0';
        *p++ = 'x';
        std::memcpy(p, b + i, sizeof(b) - static_cast<std::size_t>(i));
        p += sizeof(b) - static_cast<std::size_t>(i);
    }
};

} // namespace

void FaultLineWriter::append(std::string& out, const Fault& f, std::string_view action,
                             bool resynced, bool recovered) {
    const std::size_t old = out.size();
    out.resize(old + prepare(f, action));
    char* end = write(out.data() + old, f, resynced, recovered);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

std::size_t FaultLineWriter::prepare(const Fault& f, std::string_view action) {
    const auto& c = f.fault;
    // The enumerated fields, rendered once per value.
    const std::string& event =
        cached(event_, f.event_id, [&] { return Json(iopf_evt_name(f.event_id)); });
    const std::string* type = nullptr;
    const std::string* level = nullptr;
    const std::string* flags = nullptr;
    const std::string* perm = nullptr;
    const std::string* reason = nullptr;
    if (c) {
        type = &cached(type_, c->type, [&] { return Json(type_name(c->type)); });
        level = &cached(level_, c->level, [&] { return Json(level_name(c->level)); });
        flags = &cached(flags_, uint64_t(c->type) << 32 | c->flags,
                        [&] { return str_list(fault_flag_names(c->type, c->flags)); });
        perm = &cached(perm_, c->perm, [&] { return str_list(perm_names(c->perm)); });
        if (c->type == IOPF_FAULT_DMA_UNRECOV)
            reason = &cached(reason_, c->reason, [&] { return Json(reason_name(c->reason)); });
    }
    if (action != action_) {
        action_ = action;
        action_json_ = Json(action_).dump();
    }
    // Keys and punctuation take under 300 bytes, numbers at most 20 digits
    // each (seven of them, and four record words of 18): 512 covers them.
    auto len = [](const std::string* s) { return s ? s->size() : 0; };
    event_now_ = &event;
    type_now_ = type;
    level_now_ = level;
    flags_now_ = flags;
    perm_now_ = perm;
    reason_now_ = reason;
    return 512 + event.size() + len(type) + len(level) + len(flags) + len(perm) + len(reason) +
           action_json_.size();
}

char* FaultLineWriter::write(char* at, const Fault& f, bool resynced, bool recovered) const {
    using namespace std::string_view_literals;
    const auto& c = f.fault;
    const std::string& event = *event_now_;
    const std::string *type = type_now_, *level = level_now_, *flags = flags_now_;
    const std::string *perm = perm_now_, *reason = reason_now_;
    Cursor o{at};
    auto str_or_null = [&](const std::string* s) { o.put(s ? std::string_view(*s) : "null"sv); };

    o.put("{\"kind\":\"fault\",\"seq\":"sv);
    if (f.seq)
        o.num(*f.seq);
    else
        o.put("null"sv);
    o.put(",\"sid\":"sv);
    o.num(f.sid);
    o.put(",\"event_id\":"sv);
    o.num(f.event_id);
    o.put(",\"event\":"sv);
    o.put(event);
    o.put(f.handled ? ",\"handled\":true,\"type\":"sv : ",\"handled\":false,\"type\":"sv);
    str_or_null(type);
    o.put(",\"level\":"sv);
    str_or_null(level);
    o.put(",\"flags\":"sv);
    str_or_null(flags);
    o.put(",\"pasid\":"sv);
    if (f.has_pasid())
        o.num(c->pasid);
    else
        o.put("null"sv);
    o.put(",\"grpid\":"sv);
    if (f.is_page_req())
        o.num(c->grpid);
    else
        o.put("null"sv);
    o.put(",\"perm\":"sv);
    str_or_null(perm);
    o.put(",\"addr\":"sv);
    if (c) {
        o.put('"');
        o.hex(c->addr, 1);
        o.put('"');
    } else {
        o.put("null"sv);
    }
    o.put(",\"reason\":"sv);
    str_or_null(reason);
    if (f.dev_seq) {
        o.put(",\"dev_seq\":"sv);
        o.num(*f.dev_seq);
    }
    if (f.timestamp_ns) {
        o.put(",\"timestamp_ns\":"sv);
        o.num(*f.timestamp_ns);
    }
    if (f.record) {
        o.put(",\"record\":"sv);
        char sep = '[';
        for (uint64_t w : *f.record) {
            o.put(sep);
            o.put('"');
            o.hex(w, 16);
            o.put('"');
            sep = ',';
        }
        o.put(']');
    }
    o.put(",\"action\":"sv);
    o.put(action_json_);
    o.put(resynced ? ",\"resynced\":true"sv : ",\"resynced\":false"sv);
    if (recovered)
        o.put(",\"recovered\":true"sv);
    o.put('}');
    return o.p;
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
        iopf_model_fault c{};
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
