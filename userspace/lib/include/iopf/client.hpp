// SPDX-License-Identifier: GPL-2.0
// The family's commands, one call each.
#pragma once

#include <optional>
#include <vector>

#include "iopf/error.hpp"
#include "iopf/genl.hpp"
#include "iopf/types.hpp"

namespace iopf {

// One counter of a STATS nest, if the kernel sent it.
std::optional<uint64_t> stat_value(const Stats& s, int attr);

// The last sequence numbers the module handed out (STATS_GET FAULT_SEQ and
// RESUME_SEQ): what a listener has not seen up to them, it missed.
struct SeqMarks {
    uint64_t fault_seq = 0;
    uint64_t resume_seq = 0;
};

class Client {
  public:
    // Connects and resolves the family; Error(ENOENT) when the module is
    // not loaded.
    Client();

    int family() const noexcept { return family_; }
    // Re-resolve the family (after a module reload); false when absent.
    bool refresh();

    void dev_new(uint32_t sid);
    void dev_del(uint32_t sid);
    DevInfo dev_get(uint32_t sid);
    // DEV_SET: changes only what is given. `bridge` (upstream's road)
    // bridges or unbridges the device; the module applies it last.
    void dev_set(uint32_t sid, std::optional<uint32_t> pending_limit,
                 std::optional<uint32_t> timeout_ms,
                 std::optional<uint32_t> stage_mode = std::nullopt,
                 std::optional<bool> bridge = std::nullopt);
    std::vector<DevInfo> dev_list();
    void handler_register(uint32_t sid, uint32_t flags);
    void handler_update(uint32_t sid, uint32_t mask, uint32_t set);
    void handler_unregister(uint32_t sid);
    void page_response(uint32_t sid, uint32_t grpid, std::optional<uint32_t> pasid, uint32_t code);
    struct PageResponse {
        uint32_t sid;
        uint32_t grpid;
        std::optional<uint32_t> pasid;
        uint32_t code;
    };
    // Several answers for one wait (GenlSocket::request_batch): per answer,
    // 0 or the Error it met (errno and the kernel's extack text).
    std::vector<std::optional<Error>> page_responses(const std::vector<PageResponse>& rs);
    // Pending page requests, of one device or all.
    std::vector<Fault> pending(std::optional<uint32_t> sid = std::nullopt);
    Stats stats();
    // The two-stage access model. MAP is all or nothing: Error(EEXIST) when
    // any page of the range is mapped. UNMAP skips pages not mapped and
    // returns how many it unmapped. `m.sid`, `m.stage` and `m.pasid` (stage
    // 1) name the table.
    void map(const Mapping& m);
    uint64_t unmap(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr,
                   uint64_t len);
    // MAP_GET dump: the table's runs of contiguous pages.
    std::vector<Mapping> mappings(uint32_t sid, uint32_t stage,
                                  std::optional<uint32_t> pasid = std::nullopt);
    void ttb_set(uint32_t sid, std::optional<uint32_t> pasid, uint64_t ttb);
    // ACCESS: the access as it stands when the command returns (ended, or
    // stalled on a fault).
    Access access(const AccessRequest& a);
    Access access_get(uint64_t id);
    std::vector<Access> accesses(std::optional<uint32_t> sid = std::nullopt);

    // STATS_GET's FAULT_SEQ and RESUME_SEQ; Error(EPROTO) from a module
    // that does not report them.
    SeqMarks seq_marks();

  private:
    nl::GenlSocket sock_;
    int family_ = -1;
};

} // namespace iopf
