// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness for the kernel-log replay parser (userspace/lib
// replay.cpp, `iopfctl replay`): arbitrary text as a log. It must not crash,
// leak or throw, and what it returns must add up:
//   - a record takes its header line and four word lines: 5 * records +
//     skipped lines <= lines;
//   - every record's word 0 carries the event ID of a header in the input;
//   - every record's header line is a line of the input, in order;
//   - every error and warning names a line of the input;
//   - a log the parser accepted, printed back as arm-smmu-v3 does, replays
//     to the same records, with no warning and nothing skipped.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <fmt/core.h>

#include "iopf/replay.hpp"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::istringstream in(text);
    iopf::ReplayResult r = iopf::parse_replay(in);

    std::size_t lines = 0;
    for (std::size_t pos = 0; pos < text.size(); lines++) {
        std::size_t nl = text.find('\n', pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    CHECK(5 * r.records.size() + r.skipped_lines <= lines);
    std::string lower = text;
    for (char& c : lower)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    for (const auto& rec : r.records) {
        uint32_t id = iopf_evt_id(rec.data());
        CHECK(lower.find(fmt::format("event 0x{:02x} received:", id)) != std::string::npos ||
              lower.find(fmt::format("event 0x{:x} received:", id)) != std::string::npos);
    }
    CHECK(r.record_lines.size() == r.records.size());
    for (std::size_t l : r.record_lines)
        CHECK(l >= 1 && l <= lines);
    for (const auto* list : {&r.warnings, &r.errors}) {
        for (const auto& w : *list) {
            unsigned long no = 0;
            CHECK(std::sscanf(w.c_str(), "line %lu:", &no) == 1);
            CHECK(no >= 1 && no <= lines);
        }
    }

    // Printed as arm_smmu_evtq_thread() prints, then replayed again
    std::string log;
    for (const auto& rec : r.records) {
        log += fmt::format("arm-smmu-v3 arm-smmu-v3.0.auto: event {:#04x} received:\n",
                           iopf_evt_id(rec.data()));
        for (uint64_t w : rec)
            log += fmt::format("arm-smmu-v3 arm-smmu-v3.0.auto: \t0x{:016x}\n", w);
    }
    std::istringstream again_in(log);
    iopf::ReplayResult again = iopf::parse_replay(again_in);
    CHECK(again.records == r.records);
    CHECK(again.warnings.empty());
    CHECK(again.errors.empty());
    CHECK(again.skipped_lines == 0);
    return 0;
}
