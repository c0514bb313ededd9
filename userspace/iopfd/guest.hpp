// SPDX-License-Identifier: GPL-2.0
// The guest: where iopfd, as the VMM, forwards stage-1 page requests (RFC
// 6/6, NESTED_L1_CONCERNED). Its own policy per device: map the IOVA in its
// stage-1 table (for the SubstreamID that faulted) to an IPA from its own
// allocator and answer success, or refuse (invalid).
#pragma once

#include <map>

#include "iopf/config.hpp"
#include "iopf/types.hpp"
#include "paging.hpp"

namespace iopfd {

class GuestModel {
  public:
    // What the guest decides without touching a table.
    enum class Decision { map, refuse, none };
    static Decision decide(const iopf::Action& a);

    // A stage-1 page request forwarded to the guest. `a` is the device's l1
    // action; Decision::none (not the guest's business) returns nullopt.
    std::optional<FixUp> handle(const iopf::Fault& f, const iopf::Action& a, Tables& t);

  private:
    std::map<uint32_t, Allocator> ipa_; // the guest's IPA allocator, by StreamID
};

} // namespace iopfd
