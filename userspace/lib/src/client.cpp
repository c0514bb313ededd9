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
                     std::optional<uint32_t> timeout_ms) {
    sock_.request(
        family_, IOPF_CMD_DEV_SET, 0,
        [&](nl_msg* m) {
            sid_attr(sid)(m);
            if (pending_limit)
                nl::check_put(nla_put_u32(m, IOPF_A_PENDING_LIMIT, *pending_limit),
                              "PENDING_LIMIT");
            if (timeout_ms)
                nl::check_put(nla_put_u32(m, IOPF_A_TIMEOUT_MS, *timeout_ms), "TIMEOUT_MS");
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

SeqMarks Client::seq_marks() {
    Stats s = stats();
    auto f = stat_value(s, IOPF_STAT_A_FAULT_SEQ);
    auto r = stat_value(s, IOPF_STAT_A_RESUME_SEQ);
    if (!f || !r)
        throw Error(EPROTO, "STATS_GET: no FAULT_SEQ/RESUME_SEQ (a module older than this tool?)");
    return {*f, *r};
}

} // namespace iopf
