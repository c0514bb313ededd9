// SPDX-License-Identifier: GPL-2.0
#include "guest.hpp"

namespace iopfd {

GuestModel::Decision GuestModel::decide(const iopf::Action& a) {
    if (a.refuse)
        return Decision::refuse;
    if (a.map)
        return Decision::map;
    return Decision::none;
}

std::optional<FixUp> GuestModel::handle(const iopf::Fault& f, const iopf::Action& a, Tables& t) {
    const std::optional<uint32_t> pasid =
        f.has_pasid() ? std::optional(f.fault->pasid) : std::nullopt;
    switch (decide(a)) {
    case Decision::map:
        return map_window(t, f, IOPF_STAGE_1, pasid, *a.map,
                          allocator_for(ipa_, f.sid, a.map->base));
    case Decision::refuse: {
        FixUp r;
        r.stage = IOPF_STAGE_1;
        r.pasid = pasid;
        r.addr = f.fault->addr;
        r.code = IOPF_RESP_INVALID;
        r.why = "the guest refuses";
        return r;
    }
    case Decision::none:
        break;
    }
    return std::nullopt;
}

} // namespace iopfd
