// SPDX-License-Identifier: GPL-2.0
// A seeded generator of op streams. It watches a model of the stream so far
// so that page responses can aim at requests that are really pending, and
// device deletions and unregistrations can hit devices with pending ones.
// The same seed gives the same stream on every machine (mt19937_64, whose
// output the standard fixes, and no std distributions).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "difftest/model.hpp"
#include "difftest/op.hpp"

namespace difftest {

struct GenConfig {
    // StreamIDs devices are created with: small, so adds and deletes collide.
    std::vector<uint32_t> sids{0x0, 0x10, 0x11, 0x12, 0x7f, 0xffffffff};
    // StreamIDs no device is ever created with (records and requests to them).
    std::vector<uint32_t> unknown_sids{0x13, 0x100, 0xdead};
    // One op in this many is a module reload (0: never).
    unsigned reload_one_in = 2500;
    // Ops of the two-stage access model (stage modes, maps, reclaims, TTBs,
    // accesses, the VMM's and the guest's fix-ups) per 1000 others.
    unsigned access_per_mille = 250;
};

class Generator {
  public:
    explicit Generator(uint64_t seed, GenConfig cfg = {});
    // The next op for a stream whose state so far is `model`.
    Op next(const Model& model);

  private:
    uint64_t u64() { return rng_(); }
    uint32_t below(uint32_t n); // [0, n)
    bool chance(unsigned pct) { return below(100) < pct; }
    template <typename T> const T& pick(const std::vector<T>& v) {
        return v[below(static_cast<uint32_t>(v.size()))];
    }

    uint32_t any_sid(); // pool mostly, unknown sometimes
    uint32_t flag_set(bool valid);
    iopf::Record record(const Model& m);
    Op respond(const Model& m);
    // The access model's ops.
    Op access_op(const Model& m);
    Op fix_up(const Model& m);
    uint64_t iova();
    uint32_t perm();
    uint32_t access_perm();
    std::optional<uint32_t> maybe_pasid(unsigned pct);
    std::optional<uint32_t> existing_sid(const Model& m);

    std::mt19937_64 rng_;
    GenConfig cfg_;
};

// n ops from `seed`; when `outcomes` is given, the model's prediction of each.
std::vector<Op> generate(uint64_t seed, std::size_t n, const GenConfig& cfg = {},
                         std::vector<Outcome>* outcomes = nullptr);

} // namespace difftest
