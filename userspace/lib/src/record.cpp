// SPDX-License-Identifier: GPL-2.0
#include "iopf/record.hpp"

#include <istream>

#include <iopf_testbed/record_text.h>

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/names.hpp"

namespace iopf {

namespace {

void fits(uint64_t v, uint64_t mask, const char* what) {
    uint64_t max = mask >> __builtin_ctzll(mask);
    if (v > max)
        throw ParseError(fmt::format("{} {:#x} does not fit (max {:#x})", what, v, max));
}

} // namespace

Record build_record(const RecordFields& f) {
    fits(f.event_id, EVTQ_0_ID, "event ID");
    fits(f.stag, EVTQ_1_STAG, "stag");
    if (f.ssid)
        fits(*f.ssid, EVTQ_0_SSID, "ssid");
    if (f.ipa & ~EVTQ_3_IPA)
        throw ParseError(fmt::format(
            "ipa {:#x} must be 4 KiB aligned and below 2^52 (word 3 bits 51:12)", f.ipa));
    Record r{};
    r[0] = FIELD_PREP(EVTQ_0_ID, uint64_t{f.event_id}) | FIELD_PREP(EVTQ_0_SID, uint64_t{f.sid});
    if (f.ssid)
        r[0] |= EVTQ_0_SSV | FIELD_PREP(EVTQ_0_SSID, uint64_t{*f.ssid});
    r[1] = FIELD_PREP(EVTQ_1_STAG, uint64_t{f.stag});
    if (f.stall)
        r[1] |= EVTQ_1_STALL;
    if (f.priv)
        r[1] |= EVTQ_1_PnU;
    if (f.exec)
        r[1] |= EVTQ_1_InD;
    if (f.read)
        r[1] |= EVTQ_1_RnW;
    if (f.s2)
        r[1] |= EVTQ_1_S2;
    r[2] = f.addr;
    r[3] = f.ipa;
    return r;
}

std::string format_record(const Record& r) {
    return fmt::format("{:#018x} {:#018x} {:#018x} {:#018x}", r[0], r[1], r[2], r[3]);
}

Record parse_record_line(std::string_view line) {
    // The module's own parser (record_text.h): what iopfctl accepts is
    // exactly what debugfs "inject" accepts.
    Record r{};
    const char* why = "bad record line";
    int rc = iopf_parse_record_line(line.data(), line.size(), r.data(), &why);
    if (rc < 0)
        throw ParseError(why);
    if (rc == 0)
        throw ParseError("no words, expected four");
    return r;
}

std::vector<Record> parse_record_stream(std::istream& in, const std::string& name) {
    std::vector<Record> out;
    std::string line;
    for (std::size_t no = 1; std::getline(in, line); no++) {
        // Comments are iopfctl's only addition to the module's format.
        auto hash = line.find('#');
        if (hash != std::string::npos)
            line.erase(hash);
        Record r{};
        const char* why = "bad record line";
        int rc = iopf_parse_record_line(line.data(), line.size(), r.data(), &why);
        if (rc < 0)
            throw ParseError(fmt::format("{}:{}: {}", name, no, why));
        if (rc > 0)
            out.push_back(r);
    }
    return out;
}

} // namespace iopf
