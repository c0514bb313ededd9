// SPDX-License-Identifier: GPL-2.0
#include "difftest/model.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "iopf/names.hpp"
#include "iopf/record.hpp"

namespace difftest {

namespace {

// The netlink policies (kmod/netlink.c), applied before the handlers run.
constexpr uint32_t kGrpidMax = 0xffff;
constexpr uint32_t kPasidMax = 0xfffff;

} // namespace

void Model::reset() {
    *this = Model{};
}

const DevState* Model::device(uint32_t sid) const {
    auto it = devs_.find(sid);
    return it == devs_.end() ? nullptr : &it->second;
}

Counters Model::global() const {
    Counters c{};
    c[IOPF_STAT_A_RECORDS] = records_;
    c[IOPF_STAT_A_UNHANDLED_EVENT] = unhandled_;
    c[IOPF_STAT_A_UNKNOWN_SID] = unknown_sid_;
    c[IOPF_STAT_A_DEVICES] = devs_.size();
    c[IOPF_STAT_A_FAULT_SEQ] = fault_seq_;
    c[IOPF_STAT_A_RESUME_SEQ] = resume_seq_;
    return c;
}

// smmu.c iopf_smmu_page_response(): the RESUME command, numbered and sent.
iopf::Resume Model::resume(DevState& d, uint32_t grpid, uint32_t code, uint32_t origin) {
    iopf::Resume r;
    r.sid = d.sid;
    r.stag = grpid;
    r.code = code;
    r.origin = origin;
    // Codes reach here validated (policy, or the module's own FAILURE).
    iopf_resume_encode(d.sid, grpid, code, r.cmd.data());
    r.resp = static_cast<uint32_t>(FIELD_GET(CMDQ_RESUME_0_RESP, r.cmd[0]));
    if (origin == IOPF_ORIGIN_REPORT_FAILED)
        d.stats[IOPF_STAT_A_AUTO_ABORTS]++;
    r.seq = ++resume_seq_;
    d.last_resume = r;
    return r;
}

// smmu.c iopf_smmu_handle_evt() + core.c iopf_report_device_fault() +
// netlink.c iopf_nl_fault_handler(), one record.
Outcome Model::inject(const iopf::Record& rec) {
    Outcome out; // the debugfs write itself always succeeds
    records_++;
    iopf_fault f{};
    if (iopf_decode(rec.data(), &f)) {
        unhandled_++;
        return out;
    }
    auto it = devs_.find(f.sid);
    if (it == devs_.end()) {
        unknown_sid_++;
        return out;
    }
    DevState& d = it->second;
    d.stats[IOPF_STAT_A_INJECTED]++;
    const bool page_req = f.type == IOPF_FAULT_PAGE_REQ;
    bool failed = false;
    if (!d.registered) {
        d.stats[IOPF_STAT_A_NO_HANDLER]++;
        failed = true;
    } else {
        switch (iopf_delivery(d.flags, &f)) {
        case IOPF_DELIVER:
            break;
        case IOPF_FILTER_L1:
            d.stats[IOPF_STAT_A_FILTERED_L1]++;
            failed = true;
            break;
        case IOPF_FILTER_L2:
            d.stats[IOPF_STAT_A_FILTERED_L2]++;
            failed = true;
            break;
        case IOPF_FILTER_UNRECOV:
        case IOPF_FILTER_FLAT:
            d.stats[IOPF_STAT_A_FILTERED_UNRECOV]++;
            failed = true;
            break;
        }
    }
    if (!failed && page_req && (f.flags & IOPF_PRQ_LAST_PAGE) &&
        d.pending.size() >= kPendingLimit) {
        // core.c: over the device's pending_limit the report fails
        d.stats[IOPF_STAT_A_PENDING_FULL]++;
        d.stats[IOPF_STAT_A_REPORT_FAILED]++;
        failed = true;
    }
    if (!failed) {
        iopf::Fault n;
        n.seq = ++fault_seq_;
        n.dev_seq = ++d.dev_seq;
        n.sid = f.sid;
        n.event_id = f.event_id;
        n.handled = true;
        n.fault = f;
        n.record = rec;
        // Pending before the handler: LAST_PAGE is always set for SMMUv3.
        if (page_req && (f.flags & IOPF_PRQ_LAST_PAGE)) {
            d.pending.push_back(n);
            d.stats[IOPF_STAT_A_PENDING]++;
        }
        d.stats[IOPF_STAT_A_REPORTED]++;
        out.events.emplace_back(std::move(n));
    } else if (page_req) {
        // Nobody took the stalled access: the driver aborts it.
        out.events.emplace_back(resume(d, f.grpid, IOPF_RESP_FAILURE, IOPF_ORIGIN_REPORT_FAILED));
    }
    return out;
}

// netlink.c iopf_nl_response_doit() + core.c iopf_page_response().
Outcome Model::respond(const Op& op) {
    Outcome out;
    if (op.grpid > kGrpidMax || (op.pasid && *op.pasid > kPasidMax) || op.code > IOPF_RESP_FAILURE) {
        out.err = ERANGE;
        return out;
    }
    auto it = devs_.find(op.sid);
    if (it == devs_.end() || !it->second.registered) {
        out.err = ENODEV;
        return out;
    }
    DevState& d = it->second;
    // The first pending request with the grpid; SMMUv3 never sets
    // NEEDS_PASID, so the response's PASID takes no part in the match.
    for (auto p = d.pending.begin(); p != d.pending.end(); ++p) {
        const iopf_fault& prm = *p->fault;
        if (prm.grpid != op.grpid)
            continue;
        if ((prm.flags & IOPF_PRQ_NEEDS_PASID) && (!op.pasid || *op.pasid != prm.pasid))
            continue;
        out.events.emplace_back(resume(d, op.grpid, op.code, IOPF_ORIGIN_RESPONSE));
        d.pending.erase(p);
        d.stats[IOPF_STAT_A_PENDING]--;
        d.stats[IOPF_STAT_A_RESPONSES]++;
        return out;
    }
    d.stats[IOPF_STAT_A_RESPONSE_ERRORS]++;
    out.err = EINVAL;
    return out;
}

Outcome Model::apply(const Op& op) {
    Outcome out;
    auto it = devs_.find(op.sid);
    const bool exists = it != devs_.end();
    switch (op.kind) {
    case OpKind::DevAdd:
        if (exists) {
            out.err = EEXIST;
        } else {
            DevState d;
            d.sid = op.sid;
            devs_.emplace(op.sid, std::move(d));
        }
        break;
    case OpKind::DevDel:
        if (!exists) {
            out.err = ENODEV;
            break;
        }
        // Pending requests answered FAILURE, in list order.
        for (const auto& p : it->second.pending)
            out.events.emplace_back(
                resume(it->second, p.fault->grpid, IOPF_RESP_FAILURE, IOPF_ORIGIN_FLUSH));
        devs_.erase(it);
        break;
    case OpKind::Register:
        if (op.flags & ~IOPF_REPORT_ALL) // policy: NLA_POLICY_MASK
            out.err = EINVAL;
        else if (iopf_flags_check(op.flags)) // before the device, as upstream
            out.err = EINVAL;
        else if (!exists)
            out.err = ENODEV;
        else if (it->second.registered)
            out.err = EBUSY;
        else
            it->second.registered = true, it->second.flags = op.flags;
        break;
    case OpKind::Update:
        if (op.set & ~IOPF_REPORT_ALL) { // policy
            out.err = EINVAL;
        } else if (!exists || !it->second.registered) {
            out.err = ENODEV;
        } else {
            uint32_t nf = (it->second.flags & op.mask) | op.set;
            if (iopf_flags_check(nf))
                out.err = EINVAL;
            else
                it->second.flags = nf;
        }
        break;
    case OpKind::Unregister:
        if (!exists || !it->second.registered)
            out.err = ENODEV;
        else if (!it->second.pending.empty())
            out.err = EBUSY;
        else
            it->second.registered = false, it->second.flags = 0;
        break;
    case OpKind::Inject:
        // One write: its records in order (the module batches the faults
        // of a write into fewer messages; the order is what listeners see).
        for (const auto& r : op.recs) {
            Outcome o = inject(r);
            for (auto& e : o.events)
                out.events.push_back(std::move(e));
        }
        break;
    case OpKind::Respond:
        return respond(op);
    case OpKind::Reload:
        // rmmod flushes every device with the family already gone: no
        // notification reaches anyone; insmod starts from nothing.
        reset();
        break;
    }
    return out;
}

namespace {

template <typename T> void cmp(std::vector<std::string>& d, const char* name, const T& want, const T& got) {
    if (!(want == got))
        d.push_back(fmt::format("{}: expected {}, got {}", name, want, got));
}

void cmp_hex(std::vector<std::string>& d, const char* name, uint64_t want, uint64_t got) {
    if (want != got)
        d.push_back(fmt::format("{}: expected {:#x}, got {:#x}", name, want, got));
}

std::string opt_str(const std::optional<uint64_t>& v) {
    return v ? fmt::format("{}", *v) : "-";
}

std::string rec_str(const std::optional<iopf::Record>& r) {
    return r ? iopf::format_record(*r) : "-";
}

} // namespace

std::vector<std::string> diff_events(const Event& want, const Event& got) {
    std::vector<std::string> d;
    if (want.index() != got.index()) {
        d.push_back(fmt::format("expected {}, got {}", format_event(want), format_event(got)));
        return d;
    }
    if (const auto* w = std::get_if<iopf::Fault>(&want)) {
        const auto& g = std::get<iopf::Fault>(got);
        cmp(d, "SEQ", opt_str(w->seq), opt_str(g.seq));
        cmp(d, "DEV_SEQ", opt_str(w->dev_seq), opt_str(g.dev_seq));
        cmp_hex(d, "SID", w->sid, g.sid);
        cmp_hex(d, "EVENT_ID", w->event_id, g.event_id);
        if (!w->fault || !g.fault) {
            cmp(d, "decoded", w->fault.has_value(), g.fault.has_value());
        } else {
            const auto &a = *w->fault, &b = *g.fault;
            cmp(d, "TYPE", a.type, b.type);
            cmp(d, "LEVEL", a.level, b.level);
            cmp_hex(d, "FLAGS", a.flags, b.flags);
            cmp_hex(d, "PASID", a.pasid, b.pasid);
            cmp(d, "GRPID", a.grpid, b.grpid);
            cmp_hex(d, "PERM", a.perm, b.perm);
            cmp(d, "REASON", a.reason, b.reason);
            cmp_hex(d, "ADDR", a.addr, b.addr);
            cmp_hex(d, "fault.sid", a.sid, b.sid);
            cmp_hex(d, "fault.event_id", a.event_id, b.event_id);
        }
        cmp(d, "RECORD", rec_str(w->record), rec_str(g.record));
    } else {
        const auto& a = std::get<iopf::Resume>(want);
        const auto& b = std::get<iopf::Resume>(got);
        cmp(d, "SEQ", a.seq, b.seq);
        cmp_hex(d, "SID", a.sid, b.sid);
        cmp(d, "STAG", a.stag, b.stag);
        cmp(d, "RESP", a.resp, b.resp);
        cmp(d, "CODE", a.code, b.code);
        cmp(d, "ORIGIN", a.origin, b.origin);
        cmp_hex(d, "CMD[0]", a.cmd[0], b.cmd[0]);
        cmp_hex(d, "CMD[1]", a.cmd[1], b.cmd[1]);
    }
    return d;
}

std::string format_event(const Event& e) {
    if (const auto* f = std::get_if<iopf::Fault>(&e)) {
        std::string s = fmt::format("FAULT seq={} dev_seq={} sid={:#x} event={:#x}", opt_str(f->seq),
                                    opt_str(f->dev_seq), f->sid, f->event_id);
        if (f->fault) {
            const auto& c = *f->fault;
            s += fmt::format(" {} {} flags={:#x}", iopf::type_name(c.type), iopf::level_name(c.level),
                             c.flags);
            if (iopf_fault_has_pasid(&c))
                s += fmt::format(" pasid={:#x}", c.pasid);
            if (c.type == IOPF_FAULT_PAGE_REQ)
                s += fmt::format(" grpid={}", c.grpid);
            else
                s += fmt::format(" reason={}", iopf::reason_name(c.reason));
            s += fmt::format(" perm={:#x} addr={:#x}", c.perm, c.addr);
        }
        return s;
    }
    const auto& r = std::get<iopf::Resume>(e);
    return fmt::format("RESUME seq={} sid={:#x} stag={} resp={} code={} origin={} cmd={:#018x},{:#018x}",
                       r.seq, r.sid, r.stag, iopf::resume_resp_name(r.resp),
                       r.code <= IOPF_RESP_FAILURE ? iopf::resp_code_name(r.code) : std::to_string(r.code),
                       r.origin >= IOPF_ORIGIN_RESPONSE && r.origin <= IOPF_ORIGIN_TIMEOUT
                           ? iopf::origin_name(r.origin)
                           : std::to_string(r.origin),
                       r.cmd[0], r.cmd[1]);
}

std::string errno_name(int err) {
    if (err == 0)
        return "ok";
    if (const char* n = strerrorname_np(err))
        return n;
    return fmt::format("errno {}", err);
}

} // namespace difftest
