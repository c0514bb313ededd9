// SPDX-License-Identifier: GPL-2.0
// iopfctl map|unmap|maps|ttb|access|accesses: the two-stage access model.
// Stage 1 maps IOVA -> IPA per (device, PASID), stage 2 IPA -> PA per
// device; an access walks them as the device's stage mode says (dev set
// --stage-mode), and a miss is a fault through the ordinary report path.
#include <cerrno>
#include <chrono>
#include <map>

#include <fmt/core.h>
#include <poll.h>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/names.hpp"
#include "iopf/stage_json.hpp"
#include "iopf/table.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kMapUsage =
    R"(usage: iopfctl map SID --stage 1|2 [--pasid P] ADDR OUT LEN --perm rwxp
  Maps LEN bytes of one table of a device: stage 1 (IOVA ADDR -> IPA OUT,
  per PASID P; none: no SubstreamID) or stage 2 (IPA ADDR -> PA OUT, per
  device). ADDR, OUT and LEN: decimal or 0x hex, whole 4 KiB pages, at most
  65536 pages. All or nothing: refused (EEXIST) if any page is mapped.
  --perm: letters of rwxp (read, write, exec, priv).
example: iopfctl map 0x10 --stage 2 0x80000000 0x80000000 0x10000 --perm rw
)";

const char* const kUnmapUsage =
    R"(usage: iopfctl unmap SID --stage 1|2 [--pasid P] ADDR LEN
  Unmaps LEN bytes (whole pages) from ADDR on; pages not mapped are
  skipped. Prints how many pages were unmapped.
example: iopfctl unmap 0x10 --stage 2 0x80000000 0x10000
)";

const char* const kMapsUsage = R"(usage: iopfctl maps SID --stage 1|2 [--pasid P] [--json]
  Lists a table's mappings (MAP_GET), one run of contiguous pages a line.
example: iopfctl maps 0x10 --stage 1 --pasid 1
)";

const char* const kTtbUsage = R"(usage: iopfctl ttb SID [--pasid P] IPA
  Sets the stage-1 table base of (SID, PASID): in nested mode the walk of
  an IOVA reads a descriptor at IPA + (IOVA >> 21) * 4 KiB, which stage 2
  must map. IPA: page aligned (default 0x40000000).
example: iopfctl ttb 0x10 --pasid 1 0x40000000
)";

const char* const kAccessUsage =
    R"(usage: iopfctl access SID IOVA LEN --perm rwxp [--stall] [--pasid P] [--wait MS] [--json]
  Runs a DMA access of LEN bytes from IOVA through the device's stages.
  A miss or a permission failure is a fault; with --stall the access waits
  for the page response (success: retried; invalid, failure: aborted),
  without it the access is terminated. Prints the access as the command
  left it; --wait MS (1-600000) waits that long for it to end and prints
  its final state and latency (exit 1 if it did not end in time).
example: iopfctl access 0x10 0x10000 0x2000 --perm rw --stall --wait 1000
)";

const char* const kAccessesUsage = R"(usage: iopfctl accesses [SID] [--json]
  Lists the accesses the module keeps (ACCESS_GET), of one device or all.
example: iopfctl -j accesses 0x10
)";

namespace {

constexpr uint64_t kPage = IOPF_STAGE_PAGE_SIZE;
constexpr uint64_t kMaxLen = IOPF_STAGE_MAX_PAGES_PER_CMD * kPage;

uint32_t stage_req(const po::variables_map& vm) {
    if (!vm.count("stage"))
        throw UsageError("--stage is required (1 or 2)");
    const std::string& s = vm["stage"].as<std::string>();
    if (s == "1" || s == "s1")
        return IOPF_STAGE_1;
    if (s == "2" || s == "s2")
        return IOPF_STAGE_2;
    throw UsageError(fmt::format("--stage: '{}' is neither 1 nor 2", s));
}

std::optional<uint32_t> pasid_opt(const po::variables_map& vm) {
    auto p = num_opt(vm, "pasid", (1U << 20) - 1);
    return p ? std::optional(static_cast<uint32_t>(*p)) : std::nullopt;
}

// SID, --stage and --pasid (stage 1 only): which table.
struct TableArgs {
    uint32_t sid;
    uint32_t stage;
    std::optional<uint32_t> pasid;
};

TableArgs table_args(const po::variables_map& vm) {
    TableArgs t{sid_req(vm), stage_req(vm), pasid_opt(vm)};
    if (t.pasid && t.stage == IOPF_STAGE_2)
        throw UsageError("--pasid is for stage 1 (stage 2 is per device)");
    return t;
}

void add_table_opts(po::options_description& desc, po::positional_options_description& pos) {
    add_sid(desc, pos);
    desc.add_options()("stage", po::value<std::string>())("pasid", po::value<std::string>());
}

// A positional argument that must be given.
const std::string& arg_req(const po::variables_map& vm, const char* name, const char* what) {
    if (!vm.count(name))
        throw UsageError(fmt::format("missing {}", what));
    return vm[name].as<std::string>();
}

uint64_t page_arg(const po::variables_map& vm, const char* name, const char* what) {
    uint64_t v = num_arg(arg_req(vm, name, what), what, UINT64_MAX);
    if (v & (kPage - 1))
        throw UsageError(fmt::format("{}: {:#x} is not page aligned (4 KiB)", what, v));
    return v;
}

// LEN: at least a byte, at most the pages one command takes; whole pages
// unless `any`.
uint64_t len_arg(const po::variables_map& vm, bool whole_pages) {
    uint64_t v = num_arg(arg_req(vm, "len", "LEN"), "LEN", kMaxLen);
    if (v == 0)
        throw UsageError("LEN: 0 bytes");
    if (whole_pages && (v & (kPage - 1)))
        throw UsageError(fmt::format("LEN: {:#x} is not a whole number of pages (4 KiB)", v));
    return v;
}

uint32_t perm_req(const po::variables_map& vm) {
    if (!vm.count("perm"))
        throw UsageError("--perm is required (letters of rwxp)");
    uint32_t p;
    try {
        p = iopf::parse_perm_letters(vm["perm"].as<std::string>());
    } catch (const iopf::ParseError& e) {
        throw UsageError(fmt::format("--perm: {}", e.what()));
    }
    if (!p)
        throw UsageError("--perm: at least one of r, w, x, p");
    return p;
}

std::string pasid_str(const std::optional<uint32_t>& p) {
    return p ? fmt::format("{:#x}", *p) : std::string("-");
}

std::string access_text(const iopf::Access& a) {
    std::string s = fmt::format("access {} sid {:#x}{}: {}", a.id, a.sid,
                                a.pasid ? fmt::format(" pasid {:#x}", *a.pasid) : "",
                                iopf::access_state_name(a.state));
    if (auto us = iopf::access_latency_us(a))
        s += fmt::format(" in {} us", *us);
    s += fmt::format(", {} fault{} (L1 {}, L2 {}), {} retr{}, {:#x} of {:#x} bytes", a.faults,
                     a.faults == 1 ? "" : "s", a.faults_l1, a.faults_l2, a.retries,
                     a.retries == 1 ? "y" : "ies", a.done, a.len);
    if (a.state == IOPF_ACCESS_STALLED)
        s += fmt::format(" (stag {}, fault seq {})", a.stag ? std::to_string(*a.stag) : "-",
                         a.fault_seq ? std::to_string(*a.fault_seq) : "-");
    return s;
}

// Collects the ACCESS_NTFs that arrive; faults and resumes are not ours.
struct AccessEnds : iopf::EventSink {
    std::map<uint64_t, iopf::Access> ended;
    bool overflowed = false; // notifications lost: ours may be among them
    void on_fault(const iopf::Fault&) override {}
    void on_resume(const iopf::Resume&) override {}
    void on_overflow() override { overflowed = true; }
    void on_gap(uint64_t, uint64_t) override {}
    void on_resume_gap(uint64_t, uint64_t) override {}
    void on_malformed(const std::string&) override {}
    void on_access_end(const iopf::Access& a) override { ended.insert_or_assign(a.id, a); }
};

} // namespace

int cmd_map(const Args& args, Io& io) {
    po::options_description desc("map");
    po::positional_options_description pos;
    add_table_opts(desc, pos);
    desc.add_options()("addr", po::value<std::string>())("out", po::value<std::string>())(
        "len", po::value<std::string>())("perm", po::value<std::string>());
    pos.add("addr", 1).add("out", 1).add("len", 1);
    auto vm = parse_options(args, desc, &pos);
    TableArgs t = table_args(vm);
    iopf::Mapping m{t.sid,
                    t.stage,
                    t.pasid,
                    page_arg(vm, "addr", t.stage == IOPF_STAGE_1 ? "IOVA" : "IPA"),
                    page_arg(vm, "out", t.stage == IOPF_STAGE_1 ? "IPA" : "PA"),
                    len_arg(vm, true),
                    perm_req(vm)};
    iopf::Client().map(m);
    io.out << fmt::format("mapped sid {:#x} stage {}{}: {:#x} -> {:#x}, {} page(s), {}\n", m.sid,
                          m.stage, m.pasid ? fmt::format(" pasid {:#x}", *m.pasid) : "", m.addr,
                          m.out_addr, m.len / kPage, iopf::perm_letters(m.perm));
    return 0;
}

int cmd_unmap(const Args& args, Io& io) {
    po::options_description desc("unmap");
    po::positional_options_description pos;
    add_table_opts(desc, pos);
    desc.add_options()("addr", po::value<std::string>())("len", po::value<std::string>());
    pos.add("addr", 1).add("len", 1);
    auto vm = parse_options(args, desc, &pos);
    TableArgs t = table_args(vm);
    uint64_t addr = page_arg(vm, "addr", t.stage == IOPF_STAGE_1 ? "IOVA" : "IPA");
    uint64_t len = len_arg(vm, true);
    uint64_t n = iopf::Client().unmap(t.sid, t.stage, t.pasid, addr, len);
    io.out << fmt::format("unmapped {} page(s)\n", n);
    return 0;
}

int cmd_maps(const Args& args, Io& io) {
    po::options_description desc("maps");
    po::positional_options_description pos;
    add_table_opts(desc, pos);
    desc.add_options()("json", "");
    auto vm = parse_options(args, desc, &pos);
    TableArgs t = table_args(vm);
    auto v = iopf::Client().mappings(t.sid, t.stage, t.pasid);
    if (json_wanted(vm, io)) {
        for (const auto& m : v)
            print_json(io, iopf::mapping_to_json(m));
        return 0;
    }
    iopf::Table tab({"STAGE", "PASID", "ADDR", "OUT_ADDR", "PAGES", "PERM"});
    for (const auto& m : v)
        tab.add({std::to_string(m.stage), pasid_str(m.pasid), fmt::format("{:#x}", m.addr),
                 fmt::format("{:#x}", m.out_addr), std::to_string(m.len / kPage),
                 iopf::perm_letters(m.perm)});
    io.out << (v.empty() ? std::string("no mappings\n") : tab.render());
    return 0;
}

int cmd_ttb(const Args& args, Io& io) {
    po::options_description desc("ttb");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("pasid", po::value<std::string>())("ipa", po::value<std::string>());
    pos.add("ipa", 1);
    auto vm = parse_options(args, desc, &pos);
    uint32_t sid = sid_req(vm);
    auto pasid = pasid_opt(vm);
    uint64_t ttb = page_arg(vm, "ipa", "IPA");
    iopf::Client().ttb_set(sid, pasid, ttb);
    io.out << fmt::format("sid {:#x}{}: stage-1 table base {:#x}\n", sid,
                          pasid ? fmt::format(" pasid {:#x}", *pasid) : "", ttb);
    return 0;
}

int cmd_access(const Args& args, Io& io) {
    po::options_description desc("access");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("iova", po::value<std::string>())("len", po::value<std::string>())(
        "perm", po::value<std::string>())("stall", "")("pasid", po::value<std::string>())(
        "wait", po::value<std::string>())("json", "");
    pos.add("iova", 1).add("len", 1);
    auto vm = parse_options(args, desc, &pos);
    iopf::AccessRequest req;
    req.sid = sid_req(vm);
    req.addr = num_arg(arg_req(vm, "iova", "IOVA"), "IOVA", UINT64_MAX);
    req.len = len_arg(vm, false);
    req.perm = perm_req(vm);
    req.stall = vm.count("stall") > 0;
    req.pasid = pasid_opt(vm);
    auto wait = count_opt(vm, "wait", IOPF_TIMEOUT_MS_MAX);
    if (wait && *wait == 0)
        throw UsageError("--wait: at least 1 ms");

    // Listening before the access starts: its end cannot slip past.
    std::optional<iopf::EventSocket> sock;
    if (wait) {
        sock.emplace(1u << 20, false);
        if (!sock->subscribe())
            throw iopf::Error(ENOENT, "generic netlink family '" IOPF_GENL_NAME
                                      "' (is the module loaded?)");
    }
    iopf::Client c;
    iopf::Access a = c.access(req);
    bool timed_out = false;
    if (wait && !a.ended()) {
        using clock = std::chrono::steady_clock;
        const auto deadline = clock::now() + std::chrono::milliseconds(*wait);
        AccessEnds ends;
        for (;;) {
            sock->drain(ends);
            if (auto it = ends.ended.find(a.id); it != ends.ended.end()) {
                a = it->second;
                break;
            }
            if (ends.overflowed) { // its end may be lost: ask
                ends.overflowed = false;
                if (iopf::Access now = c.access_get(a.id); now.ended()) {
                    a = now;
                    break;
                }
            }
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) {
                // The notification may have been lost: ask.
                a = c.access_get(a.id);
                timed_out = !a.ended();
                break;
            }
            pollfd pfd{sock->fd(), POLLIN, 0};
            if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
                throw iopf::Error(errno, "poll");
        }
    }
    if (json_wanted(vm, io))
        print_json(io, iopf::access_to_json(a));
    else
        io.out << access_text(a) << '\n';
    if (timed_out) {
        io.err << fmt::format("iopfctl access: access {} did not end within {} ms\n", a.id, *wait);
        return 1;
    }
    return 0;
}

int cmd_accesses(const Args& args, Io& io) {
    po::options_description desc("accesses");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("json", "");
    auto vm = parse_options(args, desc, &pos);
    const auto sid = sid_opt(vm); // a usage error before any netlink
    auto v = iopf::Client().accesses(sid);
    if (json_wanted(vm, io)) {
        for (const auto& a : v)
            print_json(io, iopf::access_to_json(a));
        return 0;
    }
    iopf::Table t({"ID", "SID", "PASID", "ADDR", "LEN", "PERM", "STALL", "STATE", "FAULTS", "L1",
                   "L2", "RETRIES", "LATENCY_US"});
    for (const auto& a : v) {
        auto us = iopf::access_latency_us(a);
        t.add({std::to_string(a.id), fmt::format("{:#x}", a.sid), pasid_str(a.pasid),
               fmt::format("{:#x}", a.addr), fmt::format("{:#x}", a.len),
               iopf::perm_letters(a.perm), a.stall ? "yes" : "no", iopf::access_state_name(a.state),
               std::to_string(a.faults), std::to_string(a.faults_l1), std::to_string(a.faults_l2),
               std::to_string(a.retries), us ? std::to_string(*us) : "-"});
    }
    io.out << (v.empty() ? std::string("no accesses\n") : t.render());
    return 0;
}

} // namespace iopfctl
