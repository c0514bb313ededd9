// SPDX-License-Identifier: GPL-2.0
// Op streams for the differential checker: one operation per line, text,
// human readable and replayable (iopfctl script, iopf_difftest --replay).
//
//   dev_add SID                       DEV_NEW
//   dev_del SID                       DEV_DEL (flushes pending requests)
//   register SID FLAGS                HANDLER_REGISTER; FLAGS: nested,l1 | 0x6 | none
//   update SID mask=M set=S           HANDLER_UPDATE; M a number, S like FLAGS
//   unregister SID                    HANDLER_UNREGISTER
//   inject W0 W1 W2 W3 [W0 W1 W2 W3]...      records in one write to debugfs
//   inject_raw W0 W1 W2 W3 [W0 W1 W2 W3]...  the same through inject_raw
//   respond SID grpid=N pasid=N|- code=success|invalid|failure|N
//   reload                            rmmod + insmod: everything starts over
//   stage_mode SID none|s1|s2|nested|N            DEV_SET STAGE_MODE
//   map SID STAGE pasid=P|- ADDR OUT LEN perm=rw  MAP (STAGE 1 or 2, any number)
//   unmap SID STAGE pasid=P|- ADDR LEN            UNMAP: a host reclaim at stage 2
//   ttb SID pasid=P|- TTB                         TTB_SET
//   access SID pasid=P|- ADDR LEN perm=rw stall=0|1   ACCESS: a DMA access
//
// perm is letters of rwxp, '-' for none, or a number (unknown bits too).
// Numbers are decimal or 0x hex; '#' starts a comment; blank lines are
// skipped. Values out of range for the protocol (grpid > 0xffff, code 7)
// are legal in a stream: they exercise the module's policies.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iopf/types.hpp"

namespace difftest {

enum class OpKind {
    DevAdd,
    DevDel,
    Register,
    Update,
    Unregister,
    Inject,
    Respond,
    Reload,
    StageMode,
    Map,
    Unmap,
    Ttb,
    Access,
};
inline constexpr int kOpKinds = 13;

struct Op {
    OpKind kind = OpKind::Reload;
    uint32_t sid = 0;               // all but inject and reload
    uint32_t flags = 0;             // register
    uint32_t mask = 0, set = 0;     // update
    std::vector<iopf::Record> recs; // inject: one write, in order
    bool raw = false;               // inject: through inject_raw (binary)
    uint32_t grpid = 0;             // respond
    std::optional<uint32_t> pasid;
    uint32_t code = 0;
    // The access model's ops: stage_mode (mode), map/unmap (stage, pasid,
    // addr, out, len, perm), ttb (pasid, addr = the TTB), access (pasid,
    // addr, len, perm, stall).
    uint32_t mode = 0;
    uint32_t stage = 0;
    uint64_t addr = 0, out = 0, len = 0;
    uint32_t perm = 0;
    bool stall = false;

    bool operator==(const Op&) const = default;

    static Op dev_add(uint32_t sid);
    static Op dev_del(uint32_t sid);
    static Op reg(uint32_t sid, uint32_t flags);
    static Op update(uint32_t sid, uint32_t mask, uint32_t set);
    static Op unreg(uint32_t sid);
    static Op inject(const iopf::Record& r);
    static Op inject(std::vector<iopf::Record> recs, bool raw);
    static Op respond(uint32_t sid, uint32_t grpid, std::optional<uint32_t> pasid, uint32_t code);
    static Op reload();
    static Op stage_mode(uint32_t sid, uint32_t mode);
    static Op map(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr,
                  uint64_t out, uint64_t len, uint32_t perm);
    static Op unmap(uint32_t sid, uint32_t stage, std::optional<uint32_t> pasid, uint64_t addr,
                    uint64_t len);
    static Op ttb(uint32_t sid, std::optional<uint32_t> pasid, uint64_t ttb);
    static Op access(uint32_t sid, std::optional<uint32_t> pasid, uint64_t addr, uint64_t len,
                     uint32_t perm, bool stall);
};

const char* op_name(OpKind k);

// Reporting flags: known bits by name (flat,nested,l1,l2,unrecov), unknown
// ones as one hex word, 0 as "none". parse_flags takes names and numbers,
// comma separated, ORed.
std::string format_flags(uint32_t flags);
uint32_t parse_flags(std::string_view s);

// The canonical line of an op; parse_op(format_op(op)) == op.
std::string format_op(const Op& op);
// One line (comments allowed); throws iopf::ParseError.
Op parse_op(std::string_view line);
// A whole stream: errors name the file and line.
std::vector<Op> parse_stream(std::istream& in, const std::string& name);
// `header` lines are written as comments first.
void write_stream(std::ostream& out, const std::vector<Op>& ops,
                  const std::vector<std::string>& header = {});

} // namespace difftest
