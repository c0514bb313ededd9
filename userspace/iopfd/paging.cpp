// SPDX-License-Identifier: GPL-2.0
#include "paging.hpp"

#include <algorithm>
#include <cerrno>

#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopfd {

PageRun fault_window(uint64_t addr, uint64_t window) {
    const uint64_t first = addr & ~(kPage - 1);
    const uint64_t room = (UINT64_MAX - first) / kPage + 1; // pages up to the top
    return {first, std::min(std::max<uint64_t>(window, 1), room)};
}

std::vector<PageRun> free_runs(const PageRun& want, const std::vector<iopf::Mapping>& mapped) {
    // The mapped intervals that overlap `want`, clipped to it and sorted.
    std::vector<std::pair<uint64_t, uint64_t>> busy; // [first page, last page]
    const uint64_t first = want.addr / kPage, last = first + want.pages - 1;
    for (const auto& m : mapped) {
        if (m.len < kPage)
            continue;
        uint64_t mf = m.addr / kPage, ml = mf + m.len / kPage - 1;
        if (ml < first || mf > last)
            continue;
        busy.emplace_back(std::max(mf, first), std::min(ml, last));
    }
    std::sort(busy.begin(), busy.end());
    std::vector<PageRun> out;
    uint64_t at = first;
    bool done = false;
    for (const auto& [bf, bl] : busy) {
        if (bf > at)
            out.push_back({at * kPage, bf - at});
        if (bl >= at) {
            if (bl == last) {
                done = true;
                break;
            }
            at = bl + 1;
        }
    }
    if (!done && at <= last)
        out.push_back({at * kPage, last - at + 1});
    return out;
}

const iopf::Mapping* covering(uint64_t addr, const std::vector<iopf::Mapping>& mapped) {
    for (const auto& m : mapped)
        if (addr >= m.addr && addr - m.addr < m.len)
            return &m;
    return nullptr;
}

uint64_t Allocator::place(const PageRun& r) {
    if (!next_)
        return r.addr;
    uint64_t at = *next_;
    *next_ += r.pages * kPage;
    return at;
}

Allocator& allocator_for(std::map<uint32_t, Allocator>& m, uint32_t sid,
                         const std::optional<uint64_t>& base) {
    auto it = m.find(sid);
    if (it == m.end() || it->second.base() != base)
        it = m.insert_or_assign(sid, Allocator(base)).first;
    return it->second;
}

uint64_t FixUp::pages() const {
    uint64_t n = 0;
    for (const auto& m : mapped)
        n += m.len / kPage;
    return n;
}

iopf::Json FixUp::to_json(const char* kind, uint64_t seq, uint32_t sid) const {
    iopf::Json j = iopf::Json::object();
    j.set("kind", kind);
    j.set("seq", seq);
    j.set("sid", sid);
    j.set("stage", stage);
    j.set("pasid", pasid ? iopf::Json(*pasid) : iopf::Json());
    j.set("addr", iopf::hex(addr));
    j.set("window", iopf::hex(window.addr));
    j.set("window_pages", window.pages);
    iopf::Json runs = iopf::Json::array();
    for (const auto& m : mapped) {
        iopf::Json r = iopf::Json::object();
        r.set("addr", iopf::hex(m.addr));
        r.set("out_addr", iopf::hex(m.out_addr));
        r.set("pages", m.len / kPage);
        r.set("perm", iopf::perm_letters(m.perm));
        runs.push(r);
    }
    j.set("mapped", runs);
    j.set("pages", pages());
    j.set("already", already);
    j.set("code", iopf::resp_code_name(code));
    if (!why.empty())
        j.set("why", why);
    j.set("us", us);
    return j;
}

FixUp map_window(Tables& t, const iopf::Fault& f, uint32_t stage, std::optional<uint32_t> pasid,
                 const iopf::MapPolicy& p, Allocator& alloc) {
    const auto t0 = std::chrono::steady_clock::now();
    FixUp r;
    r.stage = stage;
    r.pasid = pasid;
    r.addr = f.fault->addr;
    r.window = fault_window(r.addr, p.window);
    try {
        // The usual case first: a page nobody mapped. MAP the whole window
        // at once; it is all or nothing, so -EEXIST means part of it is
        // mapped and only then is the table read (a MAP_GET dump costs a
        // message per run: on a scattered table, one per page).
        if (f.event_id == EVT_ID_TRANSLATION_FAULT) {
            Allocator trial = alloc;
            iopf::Mapping m{
                f.sid, stage, pasid, r.window.addr, trial.place(r.window), r.window.pages * kPage,
                p.perm};
            try {
                t.map(m);
                alloc = trial;
                r.mapped.push_back(m);
                r.us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::steady_clock::now() - t0)
                                                 .count());
                return r;
            } catch (const iopf::Error& e) {
                if (e.err() != EEXIST)
                    throw;
            }
        }
        auto mapped = t.mappings(f.sid, stage, pasid);
        const uint32_t need = f.fault->perm & (IOPF_PERM_READ | IOPF_PERM_WRITE | IOPF_PERM_EXEC);
        const iopf::Mapping* m = covering(r.addr, mapped);
        if (m && (f.event_id == EVT_ID_PERMISSION_FAULT || (m->perm & need) != need)) {
            // A permission fault (the page is mapped; a table read needs R
            // whatever the access asked): more mappings cannot fix it, and
            // answering success would only walk into it again.
            r.code = IOPF_RESP_INVALID;
            r.why = "page mapped " + iopf::perm_letters(m->perm) + ", the access needs " +
                    iopf::perm_letters(need);
        } else {
            // Not mapped, or mapped meanwhile (a translation fault another
            // fix-up answered): map what is free, then success.
            auto runs = free_runs(r.window, mapped);
            uint64_t free_pages = 0;
            for (const auto& run : runs)
                free_pages += run.pages;
            r.already = r.window.pages - free_pages;
            for (const auto& run : runs) {
                iopf::Mapping m{f.sid, stage, pasid, run.addr, alloc.place(run), run.pages * kPage,
                                p.perm};
                t.map(m);
                r.mapped.push_back(m);
            }
        }
    } catch (const std::exception& e) {
        r.code = IOPF_RESP_INVALID;
        r.why = e.what();
    }
    r.us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    return r;
}

FixUp Vmm::handle(const iopf::Fault& f, const iopf::MapPolicy& p, Tables& t) {
    // Stage 2 is per device: no PASID.
    return map_window(t, f, IOPF_STAGE_2, std::nullopt, p, allocator_for(host_, f.sid, p.base));
}

} // namespace iopfd
