// SPDX-License-Identifier: GPL-2.0
#include "difftest/model.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include <fmt/core.h>

#include "iopf/names.hpp"
#include "iopf/record.hpp"

namespace difftest {

namespace {

// The netlink policies (kmod/netlink.c), applied before the handlers run.
constexpr uint32_t kGrpidMax = 0xffff;
constexpr uint32_t kPasidMax = 0xfffff;

// The access model's address space (kmod/stages.c).
constexpr uint64_t kAddrLimit = 1ULL << IOPF_STAGE_ADDR_BITS;
constexpr uint64_t kPageOffset = IOPF_STAGE_PAGE_SIZE - 1;
constexpr uint32_t kStagMax = 0xffff;

bool ended(uint32_t state) {
    return state == IOPF_ACCESS_COMPLETED || state == IOPF_ACCESS_ABORTED ||
           state == IOPF_ACCESS_TERMINATED;
}

// stages.c iopf_range_check(): an input or output range of MAP/UNMAP.
int range_check(uint64_t addr, uint64_t len) {
    if ((addr | len) & kPageOffset)
        return EINVAL;
    if (!len)
        return EINVAL;
    if ((len >> IOPF_STAGE_PAGE_SHIFT) > IOPF_STAGE_MAX_PAGES_PER_CMD)
        return E2BIG;
    if (addr >= kAddrLimit || len > kAddrLimit - addr)
        return ERANGE;
    return 0;
}

// The policies of MAP/UNMAP (attributes in the order the client puts them:
// SID, STAGE, PASID, ..., PERM), then stages.c iopf_stages_map_check().
int table_policy(const Op& op) {
    if (op.stage < IOPF_STAGE_1 || op.stage > IOPF_STAGE_2)
        return ERANGE;
    if (op.pasid && *op.pasid > kPasidMax)
        return ERANGE;
    return 0;
}

// An empty stage-1 table with the default TTB is as good as none: freed.
void s1_put(DevState& d, uint32_t pasid) {
    auto it = d.s1.find(pasid);
    if (it != d.s1.end() && it->second.pages.empty() && it->second.ttb == IOPF_STAGE_TTB_DEFAULT)
        d.s1.erase(it);
}

// The table of `pasid`, made if need be; nullptr when there are too many.
S1Table* s1_get(DevState& d, uint32_t pasid) {
    auto it = d.s1.find(pasid);
    if (it != d.s1.end())
        return &it->second;
    if (d.s1.size() >= kMaxPasidTables)
        return nullptr;
    return &d.s1[pasid];
}

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
// netlink.c iopf_nl_fault_handler(), one record: injected, or built by the
// walk of access `access_id`.
void Model::inject(const iopf::Record& rec, uint64_t access_id, Outcome& out) {
    records_++;
    iopf_model_fault f{};
    if (iopf_decode(rec.data(), &f)) {
        unhandled_++;
        return;
    }
    auto it = devs_.find(f.sid);
    if (it == devs_.end()) {
        unknown_sid_++;
        return;
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
            if (access_id)
                d.access_of[*n.seq] = access_id;
        }
        d.stats[IOPF_STAT_A_REPORTED]++;
        if (access_id) // iopf_access_reported(): the access learns its SEQ
            if (auto a = d.accesses.find(access_id); a != d.accesses.end())
                a->second.fault_seq = n.seq;
        out.events.emplace_back(std::move(n));
    } else if (page_req) {
        // Nobody took the stalled access: the driver aborts it.
        iopf::Resume r = resume(d, f.grpid, IOPF_RESP_FAILURE, IOPF_ORIGIN_REPORT_FAILED);
        out.events.emplace_back(r);
        if (access_id)
            resume_access(d, access_id, r, out);
    }
}

// netlink.c iopf_nl_response_doit() + core.c iopf_page_response().
Outcome Model::respond(const Op& op) {
    Outcome out;
    if (op.grpid > kGrpidMax || (op.pasid && *op.pasid > kPasidMax) ||
        op.code > IOPF_RESP_FAILURE) {
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
        const iopf_model_fault& prm = *p->fault;
        if (prm.grpid != op.grpid)
            continue;
        if ((prm.flags & IOPF_PRQ_NEEDS_PASID) && (!op.pasid || *op.pasid != prm.pasid))
            continue;
        iopf::Resume r = resume(d, op.grpid, op.code, IOPF_ORIGIN_RESPONSE);
        out.events.emplace_back(r);
        const uint64_t access_id = take_access(d, *p->seq);
        d.pending.erase(p);
        d.stats[IOPF_STAT_A_PENDING]--;
        d.stats[IOPF_STAT_A_RESPONSES]++;
        if (access_id)
            resume_access(d, access_id, r, out);
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
        { // Pending requests answered FAILURE, in list order; each ends its access.
            DevState& d = it->second;
            for (const auto& p : d.pending) {
                iopf::Resume r = resume(d, p.fault->grpid, IOPF_RESP_FAILURE, IOPF_ORIGIN_FLUSH);
                out.events.emplace_back(r);
                if (uint64_t id = take_access(d, *p.seq))
                    resume_access(d, id, r, out);
            }
            // stages.c teardown: accesses the flush did not end, by id
            for (auto& [id, a] : d.accesses)
                if (!ended(a.state)) {
                    end_access(d, a, IOPF_ACCESS_ABORTED);
                    out.events.emplace_back(a);
                }
        }
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
        for (const auto& r : op.recs)
            inject(r, 0, out);
        break;
    case OpKind::Respond:
        return respond(op);
    case OpKind::Reload:
        // rmmod flushes every device with the family already gone: no
        // notification reaches anyone; insmod starts from nothing.
        reset();
        break;
    case OpKind::StageMode:
        return stage_mode(op);
    case OpKind::Map:
        return map(op);
    case OpKind::Unmap:
        return unmap(op);
    case OpKind::Ttb:
        return ttb(op);
    case OpKind::Access:
        return access(op);
    }
    return out;
}

// ---- the two-stage access model (kmod/stages.c) ----

// netlink.c iopf_nl_dev_set_doit() with STAGE_MODE + stages.c iopf_stages_set_mode().
Outcome Model::stage_mode(const Op& op) {
    Outcome out;
    auto it = devs_.find(op.sid);
    if (op.mode > IOPF_STAGE_MODE_NESTED) // NLA_POLICY_MAX
        out.err = ERANGE;
    else if (it == devs_.end())
        out.err = ENODEV;
    else if (op.mode != it->second.mode && it->second.live)
        out.err = EBUSY;
    else
        it->second.mode = op.mode;
    return out;
}

// MAP's and UNMAP's checks after their policies, in stages.c's order: the
// device, a PASID only with stage 1, the input range. nullptr: out.err.
DevState* Model::table_dev(const Op& op, Outcome& out) {
    auto it = devs_.find(op.sid);
    if (it == devs_.end())
        out.err = ENODEV;
    else if (op.stage == IOPF_STAGE_2 && op.pasid)
        out.err = EINVAL;
    else
        out.err = range_check(op.addr, op.len);
    return out.err ? nullptr : &it->second;
}

Outcome Model::map(const Op& op) {
    Outcome out;
    if ((out.err = table_policy(op)))
        return out;
    if (op.perm & ~IOPF_PERM_ALL) { // NLA_POLICY_MASK
        out.err = EINVAL;
        return out;
    }
    DevState* dev = table_dev(op, out);
    if (!dev || (out.err = range_check(op.out, op.len)))
        return out;
    DevState& d = *dev;
    const uint64_t first = op.addr >> IOPF_STAGE_PAGE_SHIFT, n = op.len >> IOPF_STAGE_PAGE_SHIFT;
    const uint64_t outp = op.out >> IOPF_STAGE_PAGE_SHIFT;
    if (d.stats[IOPF_STAT_A_MAPPED_S1] + d.stats[IOPF_STAT_A_MAPPED_S2] + n > kMaxMappedPages) {
        out.err = ENOSPC;
        return out;
    }
    const uint32_t pasid = op.pasid.value_or(0);
    PageTable* t = &d.s2;
    if (op.stage == IOPF_STAGE_1) {
        S1Table* s1 = s1_get(d, pasid);
        if (!s1) {
            out.err = ENOSPC;
            return out;
        }
        t = &s1->pages;
    }
    // All or nothing
    auto hit = t->lower_bound(first);
    if (hit != t->end() && hit->first < first + n) {
        out.err = EEXIST;
    } else {
        for (uint64_t i = 0; i < n; i++)
            (*t)[first + i] = Pte{outp + i, op.perm};
        d.stats[op.stage == IOPF_STAGE_1 ? IOPF_STAT_A_MAPPED_S1 : IOPF_STAT_A_MAPPED_S2] += n;
    }
    if (op.stage == IOPF_STAGE_1)
        s1_put(d, pasid);
    return out;
}

Outcome Model::unmap(const Op& op) {
    Outcome out;
    if ((out.err = table_policy(op)))
        return out;
    DevState* dev = table_dev(op, out);
    if (!dev)
        return out;
    DevState& d = *dev;
    const uint64_t first = op.addr >> IOPF_STAGE_PAGE_SHIFT, n = op.len >> IOPF_STAGE_PAGE_SHIFT;
    const uint32_t pasid = op.pasid.value_or(0);
    PageTable* t = &d.s2;
    if (op.stage == IOPF_STAGE_1) {
        auto s1 = d.s1.find(pasid);
        if (s1 == d.s1.end()) {
            out.count = 0;
            return out;
        }
        t = &s1->second.pages;
    }
    // Pages not mapped are skipped
    auto b = t->lower_bound(first), e = t->lower_bound(first + n);
    const uint64_t count = static_cast<uint64_t>(std::distance(b, e));
    t->erase(b, e);
    d.stats[op.stage == IOPF_STAGE_1 ? IOPF_STAT_A_MAPPED_S1 : IOPF_STAT_A_MAPPED_S2] -= count;
    if (op.stage == IOPF_STAGE_1)
        s1_put(d, pasid);
    out.count = count;
    return out;
}

Outcome Model::ttb(const Op& op) {
    Outcome out;
    auto it = devs_.find(op.sid);
    const uint32_t pasid = op.pasid.value_or(0);
    if (pasid > kPasidMax) { // the policy
        out.err = ERANGE;
        return out;
    }
    if (it == devs_.end()) {
        out.err = ENODEV;
        return out;
    }
    if (op.addr & kPageOffset) {
        out.err = EINVAL;
        return out;
    }
    if (op.addr > IOPF_STAGE_TTB_MAX) {
        out.err = ERANGE;
        return out;
    }
    DevState& d = it->second;
    S1Table* t = s1_get(d, pasid);
    if (!t) {
        out.err = ENOSPC;
        return out;
    }
    t->ttb = op.addr;
    s1_put(d, pasid);
    return out;
}

// netlink.c iopf_nl_access_doit() + stages.c iopf_access_start().
Outcome Model::access(const Op& op) {
    Outcome out;
    auto it = devs_.find(op.sid);
    if (op.pasid && *op.pasid > kPasidMax)
        out.err = ERANGE; // policies, in attribute order: PASID, then PERM
    else if (op.perm & ~IOPF_PERM_ALL)
        out.err = EINVAL;
    else if (it == devs_.end())
        out.err = ENODEV;
    else if (!op.len)
        out.err = EINVAL;
    else if (op.addr >= kAddrLimit || op.len > kAddrLimit - op.addr)
        out.err = ERANGE;
    else if (((op.addr + op.len - 1) >> IOPF_STAGE_PAGE_SHIFT) -
                 (op.addr >> IOPF_STAGE_PAGE_SHIFT) + 1 >
             IOPF_STAGE_MAX_PAGES_PER_CMD)
        out.err = E2BIG;
    else if (!(op.perm & (IOPF_PERM_READ | IOPF_PERM_WRITE)))
        out.err = EINVAL;
    else if ((op.perm & IOPF_PERM_EXEC) && (op.perm & IOPF_PERM_WRITE))
        out.err = EINVAL; // an instruction fetch is a read (InD needs RnW)
    else if (it->second.mode == IOPF_STAGE_MODE_NONE)
        out.err = EINVAL;
    else if (it->second.mode == IOPF_STAGE_MODE_S2 && op.pasid)
        out.err = EINVAL;
    else if (it->second.live >= kMaxAccesses)
        out.err = ENOSPC;
    if (out.err)
        return out;

    DevState& d = it->second;
    iopf::Access a;
    a.id = ++access_ids_;
    a.sid = d.sid;
    a.pasid = op.pasid;
    a.addr = op.addr;
    a.len = op.len;
    a.perm = op.perm;
    a.stall = op.stall;
    a.state = IOPF_ACCESS_RUNNING;
    d.accesses.emplace(a.id, a);
    d.live++;
    d.stats[IOPF_STAT_A_ACCESSES]++;
    run_access(d, a.id, out);
    // The reply: the access once walked and its fault reported
    out.access = d.accesses.at(a.id);
    return out;
}

// stages.c iopf_translate()
bool Model::translate(const DevState& d, const iopf::Access& a, uint64_t iova,
                      iopf_evt_fields& f) const {
    f = {};
    f.sid = a.sid;
    f.ssv = a.pasid.has_value();
    f.ssid = a.pasid.value_or(0);
    f.perm = a.perm;
    f.addr = iova;
    f.cls = IOPF_EVT_CLASS_IN;
    uint64_t ipa = iova;
    auto lookup = [](const PageTable& t, uint64_t addr) -> const Pte* {
        auto e = t.find(addr >> IOPF_STAGE_PAGE_SHIFT);
        return e == t.end() ? nullptr : &e->second;
    };
    if (d.mode == IOPF_STAGE_MODE_S1 || d.mode == IOPF_STAGE_MODE_NESTED) {
        auto t = d.s1.find(a.pasid.value_or(0));
        const S1Table* s1 = t == d.s1.end() ? nullptr : &t->second;
        if (d.mode == IOPF_STAGE_MODE_NESTED) {
            // The stage-1 descriptor is read through stage 2 first
            const uint64_t tipa = (s1 ? s1->ttb : IOPF_STAGE_TTB_DEFAULT) +
                                  ((iova >> IOPF_STAGE_TABLE_SPAN_SHIFT) << IOPF_STAGE_PAGE_SHIFT);
            const Pte* e = lookup(d.s2, tipa);
            if (!e || !(e->perm & IOPF_PERM_READ)) {
                f.event_id = e ? EVT_ID_PERMISSION_FAULT : EVT_ID_TRANSLATION_FAULT;
                f.s2 = true;
                f.cls = IOPF_EVT_CLASS_TT;
                f.tt_read = true;
                f.ipa = tipa;
                return false;
            }
        }
        const Pte* e = s1 ? lookup(s1->pages, iova) : nullptr;
        if (!e || !iopf_perm_granted(a.perm, e->perm)) {
            f.event_id = e ? EVT_ID_PERMISSION_FAULT : EVT_ID_TRANSLATION_FAULT;
            return false;
        }
        if (d.mode == IOPF_STAGE_MODE_S1)
            return true;
        ipa = e->out << IOPF_STAGE_PAGE_SHIFT | (iova & kPageOffset);
    }
    const Pte* e = lookup(d.s2, ipa);
    if (!e || !iopf_perm_granted(a.perm, e->perm)) {
        f.event_id = e ? EVT_ID_PERMISSION_FAULT : EVT_ID_TRANSLATION_FAULT;
        f.s2 = true;
        f.ipa = ipa;
        return false;
    }
    return true;
}

// stages.c iopf_access_end()
void Model::end_access(DevState& d, iopf::Access& a, uint32_t state) {
    a.state = state;
    a.stag.reset();
    a.end_ns = 1; // ended: the module stamps it; only "not 0" is compared
    d.stats[state == IOPF_ACCESS_COMPLETED ? IOPF_STAT_A_ACCESS_COMPLETED
            : state == IOPF_ACCESS_ABORTED ? IOPF_STAT_A_ACCESS_ABORTED
                                           : IOPF_STAT_A_ACCESS_TERMINATED]++;
    d.live--;
    d.ended.push_back(a.id);
    // The newest is kept: what is dropped is older, `a` stays valid
    while (d.ended.size() > kAccessHistory) {
        d.accesses.erase(d.ended.front());
        d.ended.pop_front();
    }
}

// stages.c iopf_access_walk() + iopf_access_run()
void Model::run_access(DevState& d, uint64_t id, Outcome& out) {
    iopf::Access& a = d.accesses.at(id);
    iopf_evt_fields f{};
    bool faulted = false;
    while (a.done < a.len) {
        const uint64_t iova = a.addr + a.done;
        const uint64_t step =
            std::min<uint64_t>(a.len - a.done, IOPF_STAGE_PAGE_SIZE - (iova & kPageOffset));
        if (!translate(d, a, iova, f)) {
            faulted = true;
            break;
        }
        a.done += step;
    }
    if (!faulted) {
        end_access(d, a, IOPF_ACCESS_COMPLETED);
        out.events.emplace_back(a);
        return;
    }
    a.faults++;
    if (f.s2) {
        a.faults_l2++;
        d.stats[IOPF_STAT_A_ACCESS_FAULTS_L2]++;
    } else {
        a.faults_l1++;
        d.stats[IOPF_STAT_A_ACCESS_FAULTS_L1]++;
    }
    if (a.stall) {
        // xa_alloc_cyclic(0..0xffff) from the cursor, wrapping once
        uint32_t stag = d.next_stag;
        while (stag <= kStagMax && d.stags.count(stag))
            stag++;
        if (stag > kStagMax)
            for (stag = 0; d.stags.count(stag); stag++)
                ;
        d.stags.insert(stag);
        d.next_stag = stag + 1;
        f.stall = true;
        f.stag = stag;
        a.stag = stag;
        a.state = IOPF_ACCESS_STALLED;
    } else {
        end_access(d, a, IOPF_ACCESS_TERMINATED);
    }
    const uint32_t state = a.state;
    iopf::Record rec{};
    iopf_evt_build(&f, rec.data());
    inject(rec, id, out); // the event queue's path; may abort the access
    if (ended(state)) {   // terminated: told with the SEQ its report got
        if (auto it = d.accesses.find(id); it != d.accesses.end())
            out.events.emplace_back(it->second);
    }
}

void Model::resume_access(DevState& d, uint64_t access_id, const iopf::Resume& r, Outcome& out) {
    auto it = d.accesses.find(access_id);
    if (it == d.accesses.end())
        return;
    iopf::Access& a = it->second;
    if (a.state != IOPF_ACCESS_STALLED || a.stag != r.stag)
        return;
    d.stags.erase(*a.stag);
    if (r.resp == IOPF_RESUME_RETRY) {
        a.retries++;
        a.state = IOPF_ACCESS_RUNNING;
        a.stag.reset();
        out.deferred = true; // on the module's workqueue, after the request
        run_access(d, access_id, out);
    } else {
        end_access(d, a, IOPF_ACCESS_ABORTED);
        out.events.emplace_back(a);
    }
}

uint64_t Model::take_access(DevState& d, uint64_t seq) {
    auto it = d.access_of.find(seq);
    if (it == d.access_of.end())
        return 0;
    uint64_t id = it->second;
    d.access_of.erase(it);
    return id;
}

std::vector<iopf::Mapping> table_runs(const PageTable& t, uint32_t sid, uint32_t stage,
                                      std::optional<uint32_t> pasid) {
    std::vector<iopf::Mapping> runs;
    for (auto it = t.begin(); it != t.end();) {
        iopf::Mapping m;
        m.sid = sid;
        m.stage = stage;
        m.pasid = stage == IOPF_STAGE_1 ? std::optional<uint32_t>(pasid.value_or(0)) : std::nullopt;
        const uint64_t first = it->first;
        const Pte p = it->second;
        uint64_t n = 1;
        for (++it; it != t.end() && it->first == first + n && it->second.out == p.out + n &&
                   it->second.perm == p.perm;
             ++it)
            n++;
        m.addr = first << IOPF_STAGE_PAGE_SHIFT;
        m.out_addr = p.out << IOPF_STAGE_PAGE_SHIFT;
        m.len = n << IOPF_STAGE_PAGE_SHIFT;
        m.perm = p.perm;
        runs.push_back(m);
    }
    return runs;
}

namespace {

template <typename T>
void cmp(std::vector<std::string>& d, const char* name, const T& want, const T& got) {
    if (!(want == got))
        d.push_back(fmt::format("{}: expected {}, got {}", name, want, got));
}

void cmp_hex(std::vector<std::string>& d, const char* name, uint64_t want, uint64_t got) {
    if (want != got)
        d.push_back(fmt::format("{}: expected {:#x}, got {:#x}", name, want, got));
}

template <typename T> std::string opt_str(const std::optional<T>& v) {
    return v ? fmt::format("{}", *v) : "-";
}

std::string rec_str(const std::optional<iopf::Record>& r) {
    return r ? iopf::format_record(*r) : "-";
}

} // namespace

std::vector<std::string> diff_accesses(const iopf::Access& w, const iopf::Access& g) {
    std::vector<std::string> d;
    cmp(d, "ID", w.id, g.id);
    cmp_hex(d, "SID", w.sid, g.sid);
    cmp(d, "PASID", opt_str(w.pasid), opt_str(g.pasid));
    cmp_hex(d, "ADDR", w.addr, g.addr);
    cmp_hex(d, "LEN", w.len, g.len);
    cmp_hex(d, "PERM", w.perm, g.perm);
    cmp(d, "STATE", iopf::access_state_name(w.state), iopf::access_state_name(g.state));
    cmp(d, "FAULTS", w.faults, g.faults);
    cmp(d, "FAULTS_L1", w.faults_l1, g.faults_l1);
    cmp(d, "FAULTS_L2", w.faults_l2, g.faults_l2);
    cmp(d, "RETRIES", w.retries, g.retries);
    cmp_hex(d, "DONE", w.done, g.done);
    cmp(d, "FAULT_SEQ", opt_str(w.fault_seq), opt_str(g.fault_seq));
    cmp(d, "STAG", opt_str(w.stag), opt_str(g.stag));
    cmp(d, "STALL", w.stall, g.stall);
    cmp(d, "END_NS set", w.end_ns != 0, g.end_ns != 0);
    return d;
}

std::vector<std::string> diff_events(const Event& want, const Event& got) {
    std::vector<std::string> d;
    if (want.index() != got.index()) {
        d.push_back(fmt::format("expected {}, got {}", format_event(want), format_event(got)));
        return d;
    }
    if (const auto* w = std::get_if<iopf::Access>(&want))
        return diff_accesses(*w, std::get<iopf::Access>(got));
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
    if (const auto* a = std::get_if<iopf::Access>(&e))
        return fmt::format(
            "ACCESS id={} sid={:#x} pasid={} addr={:#x} len={:#x} perm={} {} faults={} "
            "(l1 {}, l2 {}) retries={} done={:#x} fault_seq={} stag={}{}",
            a->id, a->sid, opt_str(a->pasid), a->addr, a->len, iopf::perm_letters(a->perm),
            iopf::access_state_name(a->state), a->faults, a->faults_l1, a->faults_l2, a->retries,
            a->done, opt_str(a->fault_seq), opt_str(a->stag), a->stall ? " stall" : "");
    if (const auto* f = std::get_if<iopf::Fault>(&e)) {
        std::string s = fmt::format("FAULT seq={} dev_seq={} sid={:#x} event={:#x}",
                                    opt_str(f->seq), opt_str(f->dev_seq), f->sid, f->event_id);
        if (f->fault) {
            const auto& c = *f->fault;
            s += fmt::format(" {} {} flags={:#x}", iopf::type_name(c.type),
                             iopf::level_name(c.level), c.flags);
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
    return fmt::format(
        "RESUME seq={} sid={:#x} stag={} resp={} code={} origin={} cmd={:#018x},{:#018x}", r.seq,
        r.sid, r.stag, iopf::resume_resp_name(r.resp),
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
