// SPDX-License-Identifier: GPL-2.0
// Demand paging in the stage tables, as RFC 3/6's VFIO fault handler does
// for stage 2 (and the guest model for stage 1): map the faulting page, or a
// prefetch window from it on, skipping pages already mapped (MAP is all or
// nothing), with output pages from a simple allocator; then answer.
//
// The window logic and the allocator are pure; the tables are behind an
// interface so that the models run on a fake in the unit tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "iopf/client.hpp"
#include "iopf/config.hpp"
#include "iopf/json.hpp"
#include "iopf/types.hpp"

namespace iopfd {

inline constexpr uint64_t kPage = IOPF_STAGE_PAGE_SIZE;

// `pages` pages from `addr` (page aligned) on.
struct PageRun {
    uint64_t addr = 0;
    uint64_t pages = 0;

    uint64_t end() const { return addr + pages * kPage; } // exclusive
    bool operator==(const PageRun&) const = default;
};

// The pages a policy fixes up for a fault at `addr`: `window` pages from the
// faulting page on, clipped at the top of the address space.
PageRun fault_window(uint64_t addr, uint64_t window);

// The parts of `want` that none of `mapped` covers, in address order.
std::vector<PageRun> free_runs(const PageRun& want, const std::vector<iopf::Mapping>& mapped);

// The mapping that covers the page holding `addr`, if any.
const iopf::Mapping* covering(uint64_t addr, const std::vector<iopf::Mapping>& mapped);

// Output pages for the runs a model maps: the input address itself
// (identity), or a bump allocator from a base.
class Allocator {
  public:
    explicit Allocator(std::optional<uint64_t> base = std::nullopt) : base_(base), next_(base) {}
    // Where `r` goes; advances the bump allocator by its size.
    uint64_t place(const PageRun& r);
    const std::optional<uint64_t>& base() const { return base_; }

  private:
    std::optional<uint64_t> base_;
    std::optional<uint64_t> next_;
};

// The tables the models read and change: the module (ClientTables), or a
// fake in the tests.
class Tables {
  public:
    virtual ~Tables() = default;
    virtual std::vector<iopf::Mapping> mappings(uint32_t sid, uint32_t stage,
                                                std::optional<uint32_t> pasid) = 0;
    virtual void map(const iopf::Mapping& m) = 0;
};

class ClientTables : public Tables {
  public:
    explicit ClientTables(iopf::Client& c) : c_(c) {}
    std::vector<iopf::Mapping> mappings(uint32_t sid, uint32_t stage,
                                        std::optional<uint32_t> pasid) override {
        return c_.mappings(sid, stage, pasid);
    }
    void map(const iopf::Mapping& m) override { c_.map(m); }

  private:
    iopf::Client& c_;
};

// What a model did about one page request: the answer, the MAPs it issued,
// and how long it took.
struct FixUp {
    uint32_t stage = 0;
    std::optional<uint32_t> pasid;
    uint64_t addr = 0; // the faulting address (IOVA for stage 1, IPA for stage 2)
    PageRun window;
    std::vector<iopf::Mapping> mapped;
    uint64_t already = 0; // pages of the window that were mapped before
    uint32_t code = IOPF_RESP_SUCCESS;
    std::string why; // a refusal's or an error's reason
    uint64_t us = 0;

    uint64_t pages() const;
    // A store line: kind ("vmm" or "guest"), the fault's seq, what was
    // mapped, the answer and the microseconds it took.
    iopf::Json to_json(const char* kind, uint64_t seq, uint32_t sid) const;
};

// Map the free part of a fault's window in one table and decide the answer
// (a translation fault tries the whole window in one MAP first, and reads
// the table only when part of it is mapped):
// success, unless the faulting page is mapped already and the fault is a
// permission fault or the mapping lacks the access's permission (mapping
// more cannot help: invalid), or a MAP failed (invalid).
FixUp map_window(Tables& t, const iopf::Fault& f, uint32_t stage, std::optional<uint32_t> pasid,
                 const iopf::MapPolicy& p, Allocator& alloc);

// The VMM's half (RFC 3/6): stage-2 page requests fixed up on demand, host
// pages from an allocator per device.
class Vmm {
  public:
    FixUp handle(const iopf::Fault& f, const iopf::MapPolicy& p, Tables& t);

  private:
    std::map<uint32_t, Allocator> host_; // by StreamID
};

// The allocator of `sid` in `m`, (re)made when the policy's base changed.
Allocator& allocator_for(std::map<uint32_t, Allocator>& m, uint32_t sid,
                         const std::optional<uint64_t>& base);

} // namespace iopfd
