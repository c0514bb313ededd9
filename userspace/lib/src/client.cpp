// SPDX-License-Identifier: GPL-2.0
#include "iopf/client.hpp"

#include <fmt/core.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "iopf/attrs.hpp"
#include "iopf/error.hpp"

namespace iopf {

namespace {

nl::AttrWriter sid_attr(uint32_t sid) {
    return [sid](nl_msg* m) { nl::check_put(nla_put_u32(m, IOPF_A_SID, sid), "SID"); };
}

void put_u64(nl_msg* m, int attr, uint64_t v, const char* what) {
    nl::check_put(nla_put_u64(m, attr, v), what);
}

std::string table_ctx(const char* cmd, uint32_t sid, uint32_t stage,
                      std::optional<uint32_t> pasid) {
    return fmt::format("{} sid 0x{:x} stage {}{}", cmd, sid, stage,
                       pasid ? fmt::format(" pasid 0x{:x}", *pasid) : "");
}

std::string ctx(const char* cmd, uint32_t sid) {
    return fmt::format("{} sid 0x{:x}", cmd, sid);
}

} // namespace

std::optional<uint64_t> stat_value(const Stats& s, int attr) {
    for (const auto& [a, v] : s)
        if (a == attr)
            return v;
    return std::nullopt;
}

Client::Client() {
    family_ = sock_.resolve_family(IOPF_GENL_NAME);
}

bool Client::refresh() {
    auto id = sock_.try_resolve_family(IOPF_GENL_NAME);
    family_ = id.value_or(-1);
    return id.has_value();
}

void Client::dev_new(uint32_t sid) {
    sock_.request(family_, IOPF_CMD_DEV_NEW, 0, sid_attr(sid), {}, ctx("DEV_NEW", sid));
}

void Client::dev_del(uint32_t sid) {
    sock_.request(family_, IOPF_CMD_DEV_DEL, 0, sid_attr(sid), {}, ctx("DEV_DEL", sid));
}

DevInfo Client::dev_get(uint32_t sid) {
    std::optional<DevInfo> d;
    sock_.request(
        family_, IOPF_CMD_DEV_GET, 0, sid_attr(sid),
        [&](nlmsghdr* nlh) { d = nl::parse_dev_msg(nlh); }, ctx("DEV_GET", sid));
    if (!d)
        throw Error(EIO, ctx("DEV_GET", sid) + ": no reply");
    return *d;
}

void Client::dev_set(uint32_t sid, std::optional<uint32_t> pending_limit,
                     std::optional<uint32_t> timeout_ms, std::optional<uint32_t> stage_mode,
                     std::optional<bool> bridge) {
    sock_.request(
        family_, IOPF_CMD_DEV_SET, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            if (pending_limit)
                nl::check_put(nla_put_u32(m, IOPF_A_PENDING_LIMIT, *pending_limit),
                              "PENDING_LIMIT");
            if (timeout_ms)
                nl::check_put(nla_put_u32(m, IOPF_A_TIMEOUT_MS, *timeout_ms), "TIMEOUT_MS");
            if (stage_mode)
                nl::check_put(nla_put_u32(m, IOPF_A_STAGE_MODE, *stage_mode), "STAGE_MODE");
            if (bridge)
                nl::check_put(nla_put_u8(m, IOPF_A_BRIDGE, *bridge ? 1 : 0), "BRIDGE");
        },
        {}, ctx("DEV_SET", sid));
}

std::vector<DevInfo> Client::dev_list() {
    std::vector<DevInfo> v;
    sock_.request(
        family_, IOPF_CMD_DEV_GET, NLM_F_DUMP, {},
        [&](nlmsghdr* nlh) { v.push_back(nl::parse_dev_msg(nlh)); }, "DEV_GET dump");
    return v;
}

void Client::handler_register(uint32_t sid, uint32_t flags) {
    sock_.request(
        family_, IOPF_CMD_HANDLER_REGISTER, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            nl::check_put(nla_put_u32(m, IOPF_A_FLAGS, flags), "FLAGS");
        },
        {}, ctx("HANDLER_REGISTER", sid));
}

void Client::handler_update(uint32_t sid, uint32_t mask, uint32_t set) {
    sock_.request(
        family_, IOPF_CMD_HANDLER_UPDATE, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            nl::check_put(nla_put_u32(m, IOPF_A_MASK, mask), "MASK");
            nl::check_put(nla_put_u32(m, IOPF_A_SET, set), "SET");
        },
        {}, ctx("HANDLER_UPDATE", sid));
}

void Client::handler_unregister(uint32_t sid) {
    sock_.request(family_, IOPF_CMD_HANDLER_UNREGISTER, 0, sid_attr(sid), {},
                  ctx("HANDLER_UNREGISTER", sid));
}

void Client::page_response(uint32_t sid, uint32_t grpid, std::optional<uint32_t> pasid,
                           uint32_t code) {
    sock_.request(
        family_, IOPF_CMD_PAGE_RESPONSE, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            nl::check_put(nla_put_u32(m, IOPF_A_GRPID, grpid), "GRPID");
            if (pasid)
                nl::check_put(nla_put_u32(m, IOPF_A_PASID, *pasid), "PASID");
            nl::check_put(nla_put_u32(m, IOPF_A_CODE, code), "CODE");
        },
        {}, fmt::format("PAGE_RESPONSE sid 0x{:x} grpid {}", sid, grpid));
}

std::vector<std::optional<Error>> Client::page_responses(const std::vector<PageResponse>& rs) {
    std::vector<nl::AttrWriter> attrs;
    attrs.reserve(rs.size());
    for (const auto& r : rs)
        attrs.emplace_back([&r](nl_msg* m) {
            sid_attr(r.sid)(m);
            nl::check_put(nla_put_u32(m, IOPF_A_GRPID, r.grpid), "GRPID");
            if (r.pasid)
                nl::check_put(nla_put_u32(m, IOPF_A_PASID, *r.pasid), "PASID");
            nl::check_put(nla_put_u32(m, IOPF_A_CODE, r.code), "CODE");
        });
    auto acks = sock_.request_batch(family_, IOPF_CMD_PAGE_RESPONSE, attrs,
                                    fmt::format("{} PAGE_RESPONSEs", rs.size()));
    std::vector<std::optional<Error>> out(rs.size());
    for (std::size_t i = 0; i < rs.size(); i++)
        if (acks[i].err)
            out[i].emplace(acks[i].err,
                           fmt::format("PAGE_RESPONSE sid 0x{:x} grpid {}", rs[i].sid, rs[i].grpid),
                           acks[i].extack);
    return out;
}

std::vector<Fault> Client::pending(std::optional<uint32_t> sid) {
    std::vector<Fault> v;
    std::vector<std::string> errors;
    sock_.request(
        family_, IOPF_CMD_PENDING_GET, NLM_F_DUMP,
        [&](nl_msg* m) {
            if (sid)
                sid_attr (*sid)(m);
        },
        [&](nlmsghdr* nlh) {
            auto b = nl::parse_fault_msg(nlh);
            v.insert(v.end(), b.faults.begin(), b.faults.end());
            errors.insert(errors.end(), b.errors.begin(), b.errors.end());
        },
        "PENDING_GET dump");
    if (!errors.empty())
        throw ParseError("PENDING_GET dump: " + errors.front());
    return v;
}

Stats Client::stats() {
    std::optional<Stats> s;
    sock_.request(
        family_, IOPF_CMD_STATS_GET, 0, {}, [&](nlmsghdr* nlh) { s = nl::parse_stats_msg(nlh); },
        "STATS_GET");
    if (!s)
        throw Error(EIO, "STATS_GET: no reply");
    return *s;
}

void Client::map(const Mapping& mp) {
    sock_.request(
        family_, IOPF_CMD_MAP, 0, [&](nl_msg* m) { nl::put_map_request(m, mp); }, {},
        table_ctx("MAP", mp.sid, mp.stage, mp.pasid) +
            fmt::format(" 0x{:x}+0x{:x}", mp.addr, mp.len));
}

uint64_t Client::unmap(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr,
                       uint64_t len) {
    const std::string what =
        table_ctx("UNMAP", sid, stage, pasid) + fmt::format(" 0x{:x}+0x{:x}", addr, len);
    std::optional<uint64_t> count;
    sock_.request(
        family_, IOPF_CMD_UNMAP, 0,
        [&](nl_msg* m) {
            nl::put_table(m, sid, stage, pasid);
            put_u64(m, IOPF_A_ADDR, addr, "ADDR");
            put_u64(m, IOPF_A_LEN, len, "LEN");
        },
        [&](nlmsghdr* nlh) { count = nl::parse_count_msg(nlh); }, what);
    if (!count)
        throw Error(EIO, what + ": no reply");
    return *count;
}

std::vector<Mapping> Client::mappings(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid) {
    std::vector<Mapping> v;
    sock_.request(
        family_, IOPF_CMD_MAP_GET, NLM_F_DUMP,
        [&](nl_msg* m) { nl::put_table(m, sid, stage, pasid); },
        [&](nlmsghdr* nlh) { v.push_back(nl::parse_mapping_msg(nlh)); },
        table_ctx("MAP_GET dump", sid, stage, pasid));
    return v;
}

void Client::ttb_set(uint32_t sid, std::optional<uint32_t> pasid, uint64_t ttb) {
    sock_.request(
        family_, IOPF_CMD_TTB_SET, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            if (pasid)
                nl::check_put(nla_put_u32(m, IOPF_A_PASID, *pasid), "PASID");
            put_u64(m, IOPF_A_TTB, ttb, "TTB");
        },
        {}, ctx("TTB_SET", sid));
}

Access Client::access(const AccessRequest& a) {
    const std::string what = ctx("ACCESS", a.sid) + fmt::format(" 0x{:x}+0x{:x}", a.addr, a.len);
    std::optional<Access> got;
    sock_.request(
        family_, IOPF_CMD_ACCESS, 0, [&](nl_msg* m) { nl::put_access_request(m, a); },
        [&](nlmsghdr* nlh) { got = nl::parse_access_msg(nlh); }, what);
    if (!got)
        throw Error(EIO, what + ": no reply");
    return *got;
}

Access Client::access_get(uint64_t id) {
    const std::string what = fmt::format("ACCESS_GET id {}", id);
    std::optional<Access> got;
    sock_.request(
        family_, IOPF_CMD_ACCESS_GET, 0,
        [&](nl_msg* m) { put_u64(m, IOPF_A_ACCESS_ID, id, "ACCESS_ID"); },
        [&](nlmsghdr* nlh) { got = nl::parse_access_msg(nlh); }, what);
    if (!got)
        throw Error(EIO, what + ": no reply");
    return *got;
}

std::vector<Access> Client::accesses(std::optional<uint32_t> sid) {
    std::vector<Access> v;
    sock_.request(
        family_, IOPF_CMD_ACCESS_GET, NLM_F_DUMP,
        [&](nl_msg* m) {
            if (sid)
                sid_attr (*sid)(m);
        },
        [&](nlmsghdr* nlh) { v.push_back(nl::parse_access_msg(nlh)); }, "ACCESS_GET dump");
    return v;
}

SeqMarks Client::seq_marks() {
    Stats s = stats();
    auto f = stat_value(s, IOPF_STAT_A_FAULT_SEQ);
    auto r = stat_value(s, IOPF_STAT_A_RESUME_SEQ);
    if (!f || !r)
        throw Error(EPROTO, "STATS_GET: no FAULT_SEQ/RESUME_SEQ (a module older than this tool?)");
    return {*f, *r};
}

} // namespace iopf
