// SPDX-License-Identifier: GPL-2.0
#include "iopf/summary.hpp"

#include <string_view>

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/names.hpp"

namespace iopf {

void Summary::add_fault(const Fault& f, bool was_resynced, bool was_recovered) {
    faults++;
    if (was_resynced)
        resynced++;
    if (was_recovered)
        recovered++;
    auto& d = devices[f.sid];
    d.faults++;
    // Found by name without building a string (once per event kind).
    const std::string_view ev = iopf_evt_name(f.event_id);
    if (auto it = events.find(ev); it != events.end())
        it->second++;
    else
        events.emplace(ev, 1);
    if (!f.fault)
        return;
    (f.fault->type == IOPF_FAULT_PAGE_REQ ? d.page_req : d.unrecov)++;
    (f.fault->level == 2 ? d.l2 : d.l1)++;
}

void Summary::add_store_line(const Json& line) {
    const Json* kind = line.find("kind");
    if (!kind || !kind->is_string()) {
        malformed++;
        return;
    }
    const std::string& k = kind->as_string();
    try {
        if (k == "fault" && line.find("via")) {
            // Upstream's road: the same record's netlink line is the fault
            const Json* via = line.find("via");
            if (via->is_string() && via->as_string() == "iommufd")
                add_iommufd_line(line);
            else if (via->is_string() && via->as_string() == "vevent")
                vevents.received++; // a nested device's vEVENTQ record
            else
                malformed++;
        } else if (k == "fault") {
            auto flag = [&](const char* key) {
                const Json* v = line.find(key);
                return v && v->is_bool() && v->as_bool();
            };
            add_fault(fault_from_json(line), flag("resynced"), flag("recovered"));
        } else if (k == "resume") {
            resumes++;
        } else if (k == "response") {
            if (line.at("ok").as_bool())
                responses[line.at("code").as_string()]++;
            else
                response_errors++;
        } else if (k == "vmm" || k == "guest") {
            FixUps& x = k == "vmm" ? vmm : guest;
            x.handled++;
            x.mapped_pages += line.at("pages").as_u64();
            x.success += line.at("code").as_string() == "success";
            x.us += line.at("us").as_u64();
        } else if (k == "access") {
            accesses[line.at("state").as_string()]++;
        } else if (k == "loss") {
            const std::string& what = line.at("what").as_string();
            if (what == "overflow") {
                overflows++;
            } else if (what == "gap") {
                gap_events++;
                missing += line.at("missing").as_u64();
            } else if (what == "resume_gap") {
                resume_missing += line.at("missing").as_u64();
            } else if (what == "gap_recovered") {
                recovered += line.at("count").as_u64();
            } else if (what == "tail") {
                tail_missing += line.at("missing").as_u64();
                recovered += line.at("recovered").as_u64();
            } else if (what == "resume_tail") {
                resume_missing += line.at("missing").as_u64();
            } else if (what == "late") {
                late++;
            } else if (what == "resume_late") {
                resume_late++;
            } else if (what == "vevent_gap" || what == "vevent_tail") {
                vevents.lost += line.at("lost").as_u64();
                (what == "vevent_gap" ? vevents.gaps : vevents.tails)++;
            } else if (what == "vevent_inconsistent") {
                vevents.inconsistent++;
            } else {
                malformed++;
            }
        }
    } catch (const ParseError&) {
        malformed++;
    }
}

void Summary::add_iommufd_line(const Json& line) {
    iommufd.handled++;
    if (const Json* p = line.find("pages"); p && p->is_number())
        iommufd.mapped_pages += p->as_u64();
    if (const Json* u = line.find("us"); u && u->is_number())
        iommufd.us += u->as_u64();
    const Json& code = line.at("code");
    if (code.is_null())
        iommufd.unanswered++;
    else if (code.as_string() == "success")
        iommufd.success++;
    else
        iommufd.invalid++;
    if (const Json* ok = line.find("ok"); ok && ok->is_bool() && !ok->as_bool())
        iommufd.errors++;
}

Json Summary::to_json() const {
    Json j = Json::object();
    j.set("faults", faults);
    j.set("resynced", resynced);
    Json devs = Json::array();
    for (const auto& [sid, d] : devices) {
        Json o = Json::object();
        o.set("sid", sid);
        o.set("faults", d.faults);
        o.set("page_req", d.page_req);
        o.set("unrecov", d.unrecov);
        o.set("l1", d.l1);
        o.set("l2", d.l2);
        devs.push(o);
    }
    j.set("devices", devs);
    Json ev = Json::object();
    for (const auto& [n, c] : events)
        ev.set(n, c);
    j.set("events", ev);
    Json rs = Json::object();
    for (const auto& [n, c] : responses)
        rs.set(n, c);
    j.set("responses", rs);
    j.set("response_errors", response_errors);
    j.set("resumes", resumes);
    Json loss = Json::object();
    loss.set("overflows", overflows);
    loss.set("gap_events", gap_events);
    loss.set("missing", missing);
    loss.set("resume_missing", resume_missing);
    loss.set("malformed", malformed);
    loss.set("tail_missing", tail_missing);
    loss.set("recovered", recovered);
    loss.set("late", late);
    loss.set("resume_late", resume_late);
    loss.set("lost", lost());
    j.set("loss", loss);
    for (const auto& [name, x] : {std::pair<const char*, const FixUps&>{"vmm", vmm},
                                  std::pair<const char*, const FixUps&>{"guest", guest}}) {
        Json o = Json::object();
        o.set("handled", x.handled);
        o.set("mapped_pages", x.mapped_pages);
        o.set("success", x.success);
        o.set("us", x.us);
        j.set(name, o);
    }
    Json acc = Json::object();
    for (const auto& [n, c] : accesses)
        acc.set(n, c);
    j.set("accesses", acc);
    Json u = Json::object();
    u.set("handled", iommufd.handled);
    u.set("mapped_pages", iommufd.mapped_pages);
    u.set("success", iommufd.success);
    u.set("invalid", iommufd.invalid);
    u.set("unanswered", iommufd.unanswered);
    u.set("errors", iommufd.errors);
    u.set("us", iommufd.us);
    j.set("iommufd", u);
    // Keys of their own: shell readers take "lost" etc. by name anywhere
    Json v = Json::object();
    v.set("vevents_received", vevents.received);
    v.set("vevents_lost", vevents.lost);
    v.set("vevent_gaps", vevents.gaps);
    v.set("vevent_tails", vevents.tails);
    v.set("vevents_inconsistent", vevents.inconsistent);
    j.set("vevents", v);
    return j;
}

std::string Summary::to_text() const {
    std::string s = fmt::format("faults: {} ({} recovered by resync)\n", faults, resynced);
    for (const auto& [sid, d] : devices)
        s += fmt::format("  sid {:#x}: {} faults: {} page_req, {} unrecov; {} L1, {} L2\n", sid,
                         d.faults, d.page_req, d.unrecov, d.l1, d.l2);
    if (!events.empty()) {
        s += "events:";
        for (const auto& [n, c] : events)
            s += fmt::format(" {}={}", n, c);
        s += '\n';
    }
    s += "responses:";
    for (const auto& [n, c] : responses)
        s += fmt::format(" {}={}", n, c);
    s += fmt::format(" errors={}\n", response_errors);
    s += fmt::format("resumes seen: {}\n", resumes);
    s += fmt::format("loss: {} overflows (ENOBUFS), {} seq gaps covering {} faults, {} resumes "
                     "missing, {} malformed\n",
                     overflows, gap_events, missing, resume_missing, malformed);
    s += fmt::format("books: {} missing at the tail, {} recovered by resync, {} arrived late: "
                     "{} faults lost\n",
                     tail_missing, recovered, late, lost());
    // Only when the two-stage model was in play: the lines above stay as they were.
    for (const auto& [name, x] : {std::pair<const char*, const FixUps&>{"vmm (stage 2)", vmm},
                                  std::pair<const char*, const FixUps&>{"guest (stage 1)", guest}})
        if (x.handled)
            s += fmt::format("{}: {} page requests, {} answered success, {} pages mapped, {} us\n",
                             name, x.handled, x.success, x.mapped_pages, x.us);
    if (iommufd.handled)
        s += fmt::format("iommufd (upstream's road): {} page requests, {} answered success, {} "
                         "invalid, {} unanswered, {} refused; {} pages mapped, {} us\n",
                         iommufd.handled, iommufd.success, iommufd.invalid, iommufd.unanswered,
                         iommufd.errors, iommufd.mapped_pages, iommufd.us);
    if (vevents.received || vevents.lost || vevents.inconsistent)
        s += fmt::format("vevents (nested devices' vEVENTQs): {} received, {} lost ({} jumps "
                         "without LOST_EVENTS, {} LOST_EVENTS headers), {} inconsistent\n",
                         vevents.received, vevents.lost, vevents.gaps, vevents.tails,
                         vevents.inconsistent);
    if (!accesses.empty()) {
        s += "accesses ended:";
        for (const auto& [n, c] : accesses)
            s += fmt::format(" {}={}", n, c);
        s += '\n';
    }
    return s;
}

} // namespace iopf
