// SPDX-License-Identifier: GPL-2.0
#include "difftest/generator.hpp"

namespace difftest {

namespace {

constexpr uint32_t kValidSets[] = {
    IOPF_REPORT_FLAT,
    IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L2_CONCERNED,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_NESTED_L2_CONCERNED,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_UNRECOV,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L2_CONCERNED | IOPF_REPORT_UNRECOV,
    IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_NESTED_L2_CONCERNED |
        IOPF_REPORT_UNRECOV,
};

constexpr uint32_t kInvalidSets[] = {
    0,
    IOPF_REPORT_UNRECOV,
    IOPF_REPORT_NESTED,
    IOPF_REPORT_NESTED | IOPF_REPORT_UNRECOV,
    IOPF_REPORT_FLAT | IOPF_REPORT_NESTED,
    IOPF_REPORT_FLAT | IOPF_REPORT_NESTED_L1_CONCERNED,
    IOPF_REPORT_FLAT | IOPF_REPORT_NESTED_L2_CONCERNED,
    IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_NESTED_L2_CONCERNED,
    IOPF_REPORT_ALL,
    0x20,                           // unknown bit: the policy rejects it
    IOPF_REPORT_FLAT | 0x80000000U, // likewise
};

// Masks for updates: keep all, clear one flag, clear all, odd ones.
constexpr uint32_t kMasks[] = {
    0xffffffffU,
    ~IOPF_REPORT_FLAT,
    ~IOPF_REPORT_NESTED,
    ~IOPF_REPORT_NESTED_L1_CONCERNED,
    ~IOPF_REPORT_NESTED_L2_CONCERNED,
    ~IOPF_REPORT_UNRECOV,
    ~(IOPF_REPORT_FLAT | IOPF_REPORT_NESTED),
    ~(IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_NESTED_L2_CONCERNED),
    0,
    IOPF_REPORT_NESTED,
};

// The access model's address space: small, so that accesses, maps and
// reclaims meet. IOVAs in two 2 MiB blocks (two stage-1 table pages at the
// TTB), the guest's IPAs (stage 1's output) and the host's PAs.
constexpr uint64_t kPage = IOPF_STAGE_PAGE_SIZE;
constexpr uint64_t kIovaBlocks[] = {0, 0x200000};
constexpr uint64_t kGuestIpa = 0x80000000;
constexpr uint64_t kHostPa = 0x100000000;
constexpr uint64_t kTtbs[] = {IOPF_STAGE_TTB_DEFAULT, IOPF_STAGE_TTB_DEFAULT + 0x200000};

} // namespace

Generator::Generator(uint64_t seed, GenConfig cfg) : rng_(seed), cfg_(std::move(cfg)) {}

uint32_t Generator::below(uint32_t n) {
    // Modulo bias is irrelevant here; portability is what matters.
    return n ? static_cast<uint32_t>(u64() % n) : 0;
}

uint32_t Generator::any_sid() {
    if (chance(8))
        return pick(cfg_.unknown_sids);
    return pick(cfg_.sids);
}

uint32_t Generator::flag_set(bool valid) {
    if (valid)
        return kValidSets[below(std::size(kValidSets))];
    if (chance(10))
        return static_cast<uint32_t>(u64());
    return kInvalidSets[below(std::size(kInvalidSets))];
}

iopf::Record Generator::record(const Model& m) {
    // Random words: reserved bits included. Then the fields that matter,
    // biased so that most records reach a device and are handled.
    iopf::Record r{u64(), u64(), u64(), u64()};
    uint32_t id;
    if (chance(75))
        id = EVT_ID_TRANSLATION_FAULT + below(4);
    else
        id = below(256);
    uint32_t sid;
    if (!m.devices().empty() && chance(80)) {
        auto it = m.devices().begin();
        std::advance(it, below(static_cast<uint32_t>(m.devices().size())));
        sid = it->first;
    } else if (chance(70)) {
        sid = any_sid();
    } else {
        sid = static_cast<uint32_t>(u64());
    }
    r[0] = (r[0] & ~(EVTQ_0_ID | EVTQ_0_SID)) | FIELD_PREP(EVTQ_0_ID, (uint64_t)id) |
           FIELD_PREP(EVTQ_0_SID, (uint64_t)sid);
    if (chance(50))
        r[0] &= ~EVTQ_0_SSV;
    // Stall half the time; STAGs from a small set so grpids collide.
    r[1] &= ~(EVTQ_1_STALL | EVTQ_1_S2 | EVTQ_1_STAG);
    if (chance(55))
        r[1] |= EVTQ_1_STALL;
    if (chance(35))
        r[1] |= EVTQ_1_S2;
    uint64_t stag = chance(85) ? below(8) : below(0x10000);
    r[1] |= FIELD_PREP(EVTQ_1_STAG, stag);
    if (chance(20))
        r[2] = below(4) << 12; // small, readable addresses now and then
    return r;
}

Op Generator::respond(const Model& m) {
    // Devices with something pending, for the right answers.
    std::vector<const DevState*> busy;
    for (const auto& [sid, d] : m.devices())
        if (!d.pending.empty())
            busy.push_back(&d);
    uint32_t code = below(3);
    std::optional<uint32_t> pasid;
    if (chance(40))
        pasid = chance(90) ? below(1U << 20) : 0;

    if (!busy.empty() && chance(70)) {
        const DevState& d = *pick(busy);
        const iopf::Fault& f = pick(d.pending);
        // Sometimes the request's own PASID, which must not matter.
        if (f.has_pasid() && chance(50))
            pasid = f.fault->pasid;
        return Op::respond(d.sid, f.fault->grpid, pasid, code);
    }
    switch (below(7)) {
    case 0: // wrong grpid on a busy device (it may still match another)
        if (!busy.empty())
            return Op::respond(pick(busy)->sid, below(16), pasid, code);
        [[fallthrough]];
    case 1: // any device, any grpid
        return Op::respond(any_sid(), below(8), pasid, code);
    case 2: // a bad code
        return Op::respond(any_sid(), below(8), pasid,
                           chance(50) ? 3 + below(5) : static_cast<uint32_t>(u64()));
    case 3: // grpid beyond the STAG's 16 bits
        return Op::respond(any_sid(), 0x10000 + below(0x10000), pasid, code);
    case 4: // PASID beyond 20 bits
        return Op::respond(any_sid(), below(8), (1U << 20) + below(1U << 20), code);
    case 5: // a pending grpid on the wrong device
        if (!busy.empty()) {
            const DevState& d = *pick(busy);
            return Op::respond(any_sid(), pick(d.pending).fault->grpid, pasid, code);
        }
        [[fallthrough]];
    default:
        return Op::respond(any_sid(), below(0x10000), pasid, code);
    }
}

uint64_t Generator::iova() {
    return kIovaBlocks[below(2)] + below(16) * kPage + (chance(15) ? below(kPage) : 0);
}

// An access's: EXEC with WRITE (refused: an instruction fetch is a read)
// only now and then, so most accesses that ask EXEC run.
uint32_t Generator::access_perm() {
    uint32_t p = perm();
    if ((p & IOPF_PERM_EXEC) && (p & IOPF_PERM_WRITE) && !chance(10))
        p &= ~IOPF_PERM_EXEC;
    return p;
}

uint32_t Generator::perm() {
    constexpr uint32_t kPerms[] = {
        IOPF_PERM_READ,
        IOPF_PERM_WRITE,
        IOPF_PERM_READ | IOPF_PERM_WRITE,
        IOPF_PERM_READ | IOPF_PERM_EXEC,
        IOPF_PERM_READ | IOPF_PERM_PRIV,
        IOPF_PERM_ALL,
    };
    if (chance(4))
        return chance(50) ? 0 : IOPF_PERM_EXEC; // neither READ nor WRITE: refused
    if (chance(2))
        return 0x10U << below(4); // an unknown bit: the policy refuses it
    return kPerms[below(std::size(kPerms))];
}

std::optional<uint32_t> Generator::maybe_pasid(unsigned pct) {
    if (!chance(pct))
        return std::nullopt;
    return chance(97) ? below(3) : (1U << 20) + below(16); // beyond 20 bits: -ERANGE
}

// A device of the model, one that translates three times in four.
std::optional<uint32_t> Generator::existing_sid(const Model& m) {
    if (m.devices().empty() || chance(5))
        return std::nullopt;
    std::vector<uint32_t> moded;
    for (const auto& [sid, d] : m.devices())
        if (d.mode != IOPF_STAGE_MODE_NONE)
            moded.push_back(sid);
    if (!moded.empty() && chance(75))
        return pick(moded);
    auto it = m.devices().begin();
    std::advance(it, below(static_cast<uint32_t>(m.devices().size())));
    return it->first;
}

// The VMM (a stage-2 fault) and the guest (stage 1) fix up what a stalled
// access faulted on, then answer it: map the page, unmap it first when it
// is mapped without the permission asked, answer SUCCESS (RETRY) once it
// translates, INVALID now and then.
Op Generator::fix_up(const Model& m) {
    std::vector<std::pair<const DevState*, const iopf::Fault*>> stalled;
    for (const auto& [sid, d] : m.devices())
        for (const auto& f : d.pending)
            if (d.access_of.count(*f.seq))
                stalled.emplace_back(&d, &f);
    if (stalled.empty())
        return access_op(m);
    const auto& [d, f] = stalled[below(static_cast<uint32_t>(stalled.size()))];
    const iopf_model_fault& c = *f->fault;
    const bool l2 = c.flags & IOPF_PRQ_L2;
    const uint64_t page = c.addr / kPage;
    std::optional<uint32_t> pasid;
    if (!l2 && iopf_fault_has_pasid(&c))
        pasid = c.pasid;
    const PageTable* t = &d->s2;
    if (!l2) {
        auto s1 = d->s1.find(pasid.value_or(0));
        t = s1 == d->s1.end() ? nullptr : &s1->second.pages;
    }
    const Pte* e = nullptr;
    if (t)
        if (auto it = t->find(page); it != t->end())
            e = &it->second;
    const uint32_t stage = l2 ? IOPF_STAGE_2 : IOPF_STAGE_1;
    if (e && e->perm != IOPF_PERM_ALL && chance(80))
        return Op::unmap(d->sid, stage, pasid, page * kPage, kPage);
    if (!e && chance(90)) {
        const uint64_t out = l2 ? kHostPa + (page % 4096) * kPage : kGuestIpa + below(32) * kPage;
        return Op::map(d->sid, stage, pasid, page * kPage, out, kPage,
                       chance(85) ? IOPF_PERM_ALL : IOPF_PERM_READ);
    }
    return Op::respond(d->sid, c.grpid, std::nullopt,
                       chance(85) ? IOPF_RESP_SUCCESS : IOPF_RESP_INVALID);
}

Op Generator::access_op(const Model& m) {
    auto sid = existing_sid(m);
    const uint32_t dev = sid ? *sid : any_sid();
    const DevState* d = sid ? m.device(*sid) : nullptr;
    const bool s2_only = d && d->mode == IOPF_STAGE_MODE_S2;
    uint32_t r = below(250);
    if (r < 70) { // an access
        uint64_t len = chance(70) ? kPage * (1 + below(3)) : 1 + below(3 * kPage);
        if (chance(2))
            len = chance(50) ? 0 : (uint64_t{IOPF_STAGE_MAX_PAGES_PER_CMD} + 1) * kPage;
        uint64_t addr = chance(2) ? (1ULL << IOPF_STAGE_ADDR_BITS) - kPage : iova();
        return Op::access(dev, maybe_pasid(s2_only ? 3 : 40), addr, len, access_perm(), chance(80));
    }
    if (r < 90) { // the stage mode
        uint32_t mode = chance(5) ? IOPF_STAGE_MODE_NESTED + 1 + below(8) : below(4);
        if (d && d->mode == IOPF_STAGE_MODE_NONE && chance(70))
            mode = 1 + below(3);
        return Op::stage_mode(dev, mode);
    }
    if (r < 150) { // a map: stage 1 into the guest's IPAs, stage 2 of those or of table pages
        uint32_t stage = chance(50) ? IOPF_STAGE_1 : IOPF_STAGE_2;
        uint64_t n = 1 + below(4), addr, out;
        std::optional<uint32_t> pasid;
        if (stage == IOPF_STAGE_1) {
            pasid = maybe_pasid(40);
            addr = kIovaBlocks[below(2)] + below(16) * kPage;
            out = kGuestIpa + below(32) * kPage;
        } else {
            addr = chance(25) ? kTtbs[below(2)] + below(2) * kPage : kGuestIpa + below(32) * kPage;
            out = kHostPa + below(64) * kPage;
        }
        uint64_t len = n * kPage;
        switch (chance(12) ? below(6) : 6) { // bad input now and then
        case 0:
            addr += 0x800;
            break;
        case 1:
            len = 0;
            break;
        case 2:
            len = (uint64_t{IOPF_STAGE_MAX_PAGES_PER_CMD} + 1) * kPage;
            break;
        case 3:
            out = (1ULL << IOPF_STAGE_ADDR_BITS) - kPage;
            break;
        case 4:
            stage = chance(50) ? 0 : 3;
            break;
        case 5:
            pasid = 1;
            stage = IOPF_STAGE_2;
            break;
        default:
            break;
        }
        return Op::map(dev, stage, pasid, addr, out, len, chance(75) ? IOPF_PERM_ALL : perm());
    }
    if (r < 200) { // a host reclaim (stage 2) or a guest unmap (stage 1)
        if (chance(75)) {
            uint64_t addr = chance(25) ? kTtbs[0] : kGuestIpa + below(32) * kPage;
            return Op::unmap(dev, IOPF_STAGE_2,
                             chance(3) ? std::optional<uint32_t>(0) : std::nullopt, addr,
                             kPage * (1 + below(8)));
        }
        uint64_t len = chance(5) ? 0x1234 : kPage * (1 + below(8));
        return Op::unmap(dev, IOPF_STAGE_1, maybe_pasid(40),
                         kIovaBlocks[below(2)] + below(16) * kPage, len);
    }
    if (r < 215) { // where a SubstreamID's descriptors are
        uint64_t ttb = kTtbs[below(2)];
        if (chance(10))
            ttb = chance(50) ? ttb + 8 : IOPF_STAGE_TTB_MAX + kPage;
        return Op::ttb(dev, maybe_pasid(50), ttb);
    }
    return fix_up(m);
}

Op Generator::next(const Model& m) {
    if (cfg_.reload_one_in && below(cfg_.reload_one_in) == 0)
        return Op::reload();
    if (cfg_.access_per_mille && below(1000 + cfg_.access_per_mille) >= 1000)
        return chance(50) ? fix_up(m) : access_op(m);
    // A device of the model for which `pred` holds, if any (uniformly).
    auto existing = [&](auto pred) -> std::optional<uint32_t> {
        std::vector<uint32_t> v;
        for (const auto& [sid, d] : m.devices())
            if (pred(d))
                v.push_back(sid);
        if (v.empty())
            return std::nullopt;
        return pick(v);
    };
    uint32_t r = below(1000);
    if (r < 550) {
        // One record per write mostly; bursts beyond the module's batch of
        // 16 faults per message now and then; a third through inject_raw.
        std::size_t n = chance(80) ? 1 : 2 + below(39);
        std::vector<iopf::Record> recs;
        for (std::size_t i = 0; i < n; i++)
            recs.push_back(record(m));
        return Op::inject(std::move(recs), chance(33));
    }
    if (r < 720)
        return respond(m);
    if (r < 770) { // dev_add: mostly a missing pool device, else a collision
        if (chance(3))
            return Op::dev_add(static_cast<uint32_t>(u64()));
        std::vector<uint32_t> absent;
        for (auto sid : cfg_.sids)
            if (!m.device(sid))
                absent.push_back(sid);
        return Op::dev_add(!absent.empty() && chance(70) ? pick(absent) : pick(cfg_.sids));
    }
    if (r < 795) { // dev_del: often a device with pending requests
        if (chance(60))
            if (auto sid = existing([](const DevState& d) { return !d.pending.empty(); }))
                return Op::dev_del(*sid);
        return Op::dev_del(any_sid());
    }
    if (r < 885) { // register: mostly a device without a handler
        uint32_t flags = flag_set(chance(75));
        if (chance(75))
            if (auto sid = existing([](const DevState& d) { return !d.registered; }))
                return Op::reg(*sid, flags);
        return Op::reg(any_sid(), flags);
    }
    if (r < 955) { // update: mostly a device with a handler
        uint32_t mask =
            chance(85) ? kMasks[below(std::size(kMasks))] : static_cast<uint32_t>(u64());
        uint32_t set;
        switch (below(5)) {
        case 0:
            set = 0;
            break;
        case 1:
            set = 1U << below(5);
            break;
        case 2:
            set = flag_set(true);
            break;
        case 3:
            set = flag_set(false);
            break;
        default:
            set = (1U << below(5)) | (1U << below(5));
            break;
        }
        if (chance(75))
            if (auto sid = existing([](const DevState& d) { return d.registered; }))
                return Op::update(*sid, mask, set);
        return Op::update(any_sid(), mask, set);
    }
    // unregister: with and without pending requests
    if (chance(70))
        if (auto sid = existing([](const DevState& d) { return d.registered; }))
            return Op::unreg(*sid);
    return Op::unreg(any_sid());
}

std::vector<Op> generate(uint64_t seed, std::size_t n, const GenConfig& cfg,
                         std::vector<Outcome>* outcomes) {
    Generator g(seed, cfg);
    Model m;
    std::vector<Op> ops;
    ops.reserve(n);
    for (std::size_t i = 0; i < n; i++) {
        ops.push_back(g.next(m));
        Outcome o = m.apply(ops.back());
        if (outcomes)
            outcomes->push_back(std::move(o));
    }
    return ops;
}

} // namespace difftest
