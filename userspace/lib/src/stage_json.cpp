// SPDX-License-Identifier: GPL-2.0
#include "iopf/stage_json.hpp"

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopf {

namespace {

uint32_t u32(const Json& j, std::string_view key) {
    uint64_t v = j.at(key).as_u64();
    if (v > UINT32_MAX)
        throw ParseError(fmt::format("'{}' exceeds 32 bits", key));
    return static_cast<uint32_t>(v);
}

std::optional<uint32_t> opt_u32(const Json& j, std::string_view key) {
    const Json* v = j.find(key);
    if (!v || v->is_null())
        return std::nullopt;
    return u32(j, key);
}

std::optional<uint64_t> opt_u64(const Json& j, std::string_view key) {
    const Json* v = j.find(key);
    if (!v || v->is_null())
        return std::nullopt;
    return v->as_u64();
}

// "0x..." as hex() writes it
uint64_t addr_of(const Json& j, std::string_view key) {
    return parse_uint(j.at(key).as_string(), UINT64_MAX, key);
}

template <typename T> Json opt(const std::optional<T>& o) {
    return o ? Json(*o) : Json();
}

} // namespace

Json mapping_to_json(const Mapping& m) {
    Json j = Json::object();
    j.set("sid", m.sid);
    j.set("stage", m.stage);
    j.set("pasid", opt(m.pasid));
    j.set("addr", hex(m.addr));
    j.set("out_addr", hex(m.out_addr));
    j.set("len", m.len);
    j.set("pages", m.len >> IOPF_STAGE_PAGE_SHIFT);
    j.set("perm", perm_letters(m.perm));
    return j;
}

Mapping mapping_from_json(const Json& j) {
    Mapping m;
    m.sid = u32(j, "sid");
    m.stage = u32(j, "stage");
    m.pasid = opt_u32(j, "pasid");
    m.addr = addr_of(j, "addr");
    m.out_addr = addr_of(j, "out_addr");
    m.len = j.at("len").as_u64();
    m.perm = parse_perm_letters(j.at("perm").as_string());
    return m;
}

std::optional<uint64_t> access_latency_us(const Access& a) {
    if (!a.ended() || a.end_ns < a.start_ns)
        return std::nullopt;
    return (a.end_ns - a.start_ns) / 1000;
}

Json access_to_json(const Access& a) {
    Json j = Json::object();
    j.set("id", a.id);
    j.set("sid", a.sid);
    j.set("pasid", opt(a.pasid));
    j.set("addr", hex(a.addr));
    j.set("len", a.len);
    j.set("perm", perm_letters(a.perm));
    j.set("stall", a.stall);
    j.set("state", access_state_name(a.state));
    j.set("faults", a.faults);
    j.set("faults_l1", a.faults_l1);
    j.set("faults_l2", a.faults_l2);
    j.set("retries", a.retries);
    j.set("done", a.done);
    j.set("fault_seq", opt(a.fault_seq));
    j.set("stag", opt(a.stag));
    j.set("start_ns", a.start_ns);
    j.set("end_ns", a.end_ns);
    j.set("latency_us", opt(access_latency_us(a)));
    return j;
}

Access access_from_json(const Json& j) {
    Access a;
    a.id = j.at("id").as_u64();
    a.sid = u32(j, "sid");
    a.pasid = opt_u32(j, "pasid");
    a.addr = addr_of(j, "addr");
    a.len = j.at("len").as_u64();
    a.perm = parse_perm_letters(j.at("perm").as_string());
    a.stall = j.at("stall").as_bool();
    a.state = access_state_from_name(j.at("state").as_string());
    a.faults = u32(j, "faults");
    a.faults_l1 = u32(j, "faults_l1");
    a.faults_l2 = u32(j, "faults_l2");
    a.retries = u32(j, "retries");
    a.done = j.at("done").as_u64();
    a.fault_seq = opt_u64(j, "fault_seq");
    a.stag = opt_u32(j, "stag");
    a.start_ns = j.at("start_ns").as_u64();
    a.end_ns = j.at("end_ns").as_u64();
    return a;
}

} // namespace iopf
