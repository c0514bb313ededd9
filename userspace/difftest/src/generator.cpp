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
        return Op::respond(any_sid(), below(8), pasid, chance(50) ? 3 + below(5) : static_cast<uint32_t>(u64()));
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

Op Generator::next(const Model& m) {
    if (cfg_.reload_one_in && below(cfg_.reload_one_in) == 0)
        return Op::reload();
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
        uint32_t mask = chance(85) ? kMasks[below(std::size(kMasks))] : static_cast<uint32_t>(u64());
        uint32_t set;
        switch (below(5)) {
        case 0: set = 0; break;
        case 1: set = 1U << below(5); break;
        case 2: set = flag_set(true); break;
        case 3: set = flag_set(false); break;
        default: set = (1U << below(5)) | (1U << below(5)); break;
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
