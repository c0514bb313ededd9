// SPDX-License-Identifier: GPL-2.0
// Declarative scenarios on the host (iopfctl scenario; the runner needs the
// module and runs in the guest, tests/guest/scenarios.sh): the parser's
// errors (file, line, key), the expansion of workloads, iopfd's generated
// configuration, the checker's verdicts and the summary; every shipped
// scenario file parses.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "cli_run.hpp"
#include "iopf/config.hpp"
#include "scenario_model.hpp"

using namespace iopfctl::scenario;
using iopf_test::ctl;

namespace {

const char* const kBase = R"(name: t
devices:
  - sid: 0x10
    flags: [nested, l1, l2]
    stage: nested
    l1: map,base=0x80000000
    l2: map,window=4
  - sid: 0x11
    flags: nested,l2
    stage: s2
    timeout_ms: 200
steps:
  - access: {sid: 0x10, pasid: 1, addr: 0x200000, len: 0x2000, perm: rw}
    expect: {completed: 1, faults: 5, l1: 2, l2: 3}
  - strided: {sid: 0x11, addr: 0x100000, stride: 0x2000, count: 4}
  - reclaim: {sid: 0x11, addr: 0x100000, len: 0x4000}
    expect: {unmapped: 2}
  - flags: {sid: 0x10, flags: [nested, l2]}
  - wait_ms: 10
expect:
  accesses: 5
  l2: 7
  resumes: {retry: 9, origin: {response: 9}}
  daemon: {vmm: 3}
  tables:
    - sid: 0x11
      stage: 2
      runs: [{addr: 0x100000, out: 0x100000, pages: 2}]
)";

// The message of the Error parse(text) throws.
std::string parse_error(const std::string& text) {
    try {
        parse(text, "f.yaml");
    } catch (const Error& e) {
        return e.what();
    }
    return "(parsed)";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

iopf::Access ended(uint32_t sid, uint32_t state, uint32_t l1, uint32_t l2, uint32_t retries,
                   uint64_t us) {
    iopf::Access a;
    a.sid = sid;
    a.state = state;
    a.faults_l1 = l1;
    a.faults_l2 = l2;
    a.faults = l1 + l2;
    a.retries = retries;
    a.start_ns = 1000000;
    a.end_ns = a.start_ns + us * 1000;
    return a;
}

} // namespace

TEST_CASE("scenario: a file parses into devices, steps and expectations", "[scenario]") {
    Scenario s = parse(kBase, "f.yaml");
    CHECK(s.name == "t");
    REQUIRE(s.devices.size() == 2);
    CHECK(s.devices[0].flags ==
          (IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED | IOPF_REPORT_NESTED_L2_CONCERNED));
    CHECK(s.devices[0].stage_mode == IOPF_STAGE_MODE_NESTED);
    CHECK(s.devices[1].l1 == "pending"); // not named: never answered
    CHECK(s.devices[1].timeout_ms == 200u);
    REQUIRE(s.steps.size() == 5);
    CHECK(s.access_count() == 5);
    const auto& strided = std::get<AccessStep>(s.steps[1].what).accesses;
    REQUIRE(strided.size() == 4);
    CHECK(strided[3].addr == 0x106000);
    CHECK(strided[3].len == 0x1000); // one page by default
    CHECK(strided[3].stall);         // stalled by default
    CHECK(strided[3].perm == (IOPF_PERM_READ | IOPF_PERM_WRITE));
    CHECK(s.steps[2].expect.unmapped == 2u);
    CHECK(std::get<FlagsStep>(s.steps[3].what).flags ==
          (IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L2_CONCERNED));
    CHECK(s.steps[1].line == 15);
    CHECK(s.expect.totals.l2 == 7u);
    CHECK(s.expect.resume_origin.at("response") == 9);
    REQUIRE(s.expect.tables.size() == 1);
    REQUIRE(s.expect.tables[0].runs);
    CHECK((*s.expect.tables[0].runs)[0].len == 0x2000);
}

TEST_CASE("scenario: iopfd's configuration is one it accepts", "[scenario]") {
    Scenario s = parse(kBase, "f.yaml");
    std::istringstream in(s.iopfd_config());
    iopf::Config c = iopf::parse_config(in, "gen");
    REQUIRE(c.devices.size() == 2);
    CHECK(c.devices[0].sid == 0x10);
    CHECK(c.devices[0].stage_mode == IOPF_STAGE_MODE_NESTED);
    REQUIRE(c.devices[0].l2.map);
    CHECK(c.devices[0].l2.map->window == 4);
    CHECK(c.devices[0].l1.map->base == 0x80000000u);
    CHECK(c.devices[1].l1.pending);
    CHECK(c.devices[1].l2.pending);
    CHECK(c.default_l1.pending); // a level no device names is never answered either
}

TEST_CASE("scenario: errors name the file, the line and the key", "[scenario]") {
    using Catch::Matchers::Contains;
    using Catch::Matchers::Equals;
    CHECK_THAT(parse_error(replace(kBase, "len: 0x2000, perm", "len: 0x2000, prem")),
               Equals("f.yaml:13: steps[0].access.prem: unknown key (expected one of: sid, "
                      "pasid, addr, len, perm, stall)"));
    CHECK_THAT(parse_error(replace(kBase, "count: 4", "count: four")),
               Equals("f.yaml:15: steps[1].strided.count: 'four' is not a number (decimal or "
                      "0x hex)"));
    CHECK_THAT(parse_error(replace(kBase, "flags: nested,l2", "flags: nested")),
               Equals("f.yaml:9: devices[1].flags: NESTED needs L1_CONCERNED and/or "
                      "L2_CONCERNED"));
    CHECK_THAT(parse_error(replace(kBase, "stage: s2", "stage: s3")),
               Contains("f.yaml:10: devices[1].stage: unknown stage mode 's3'"));
    CHECK_THAT(parse_error(replace(kBase, "strided: {sid: 0x11", "strided: {sid: 0x12")),
               Equals("f.yaml:15: steps[1].strided.sid: 0x12 is not a device of the scenario"));
    CHECK_THAT(parse_error(replace(kBase, "  - wait_ms: 10", "  - sleep: 10")),
               Contains("f.yaml:19: steps[4].sleep: unknown step"));
    CHECK_THAT(parse_error(replace(kBase, "  - wait_ms: 10", "  - {wait_ms: 10, flags: 1}")),
               Contains("f.yaml:19: steps[4].flags: one kind per step"));
    CHECK_THAT(parse_error(replace(kBase, "len: 0x4000}", "len: 0x4100}")),
               Contains("f.yaml:16: steps[2].reclaim: addr 0x100000 and len 0x4100 must be "
                        "whole 4 KiB pages"));
    CHECK_THAT(parse_error(replace(kBase, "    timeout_ms: 200\n", "")), Equals("(parsed)"));
    CHECK_THAT(parse_error(replace(kBase, "name: t\n", "")),
               Equals("f.yaml:1: scenario.name: missing"));
    CHECK_THAT(parse_error(replace(kBase, "name: t", "name: T t")),
               Contains("f.yaml:1: name: letters a-z"));
    CHECK_THAT(parse_error(replace(kBase, "l2: map,window=4", "l2: refuse")),
               Equals("f.yaml:7: devices[0].l2: refuse is the guest's (l1) answer"));
    CHECK_THAT(parse_error(replace(kBase, "l2: map,window=4", "l2: map,window=0")),
               Contains("f.yaml:7: devices[0].l2: "));
    CHECK_THAT(parse_error(replace(kBase, "  daemon: {vmm: 3}", "  daemon: {vm: 3}")),
               Contains("f.yaml:24: expect.daemon.vm: unknown key"));
    CHECK_THAT(parse_error(replace(kBase, "    expect: {unmapped: 2}", "    expect: {l2: 2}")),
               Contains("f.yaml:17: steps[2].expect.l2: unknown key (expected one of: unmapped)"));
    CHECK_THAT(parse_error(replace(kBase, "  - flags: {sid: 0x10, flags: [nested, l2]}",
                                   "  - flags: {sid: 0x10, flags: [nested, l2]}\n    expect: "
                                   "{l1: 0}")),
               Contains("f.yaml:19: steps[3].expect: only access"));
    // a repeated key: yaml-cpp would keep the first value, silently
    CHECK_THAT(parse_error(replace(kBase, "len: 0x2000, perm: rw", "len: 0x2000, len: 0x3000")),
               Equals("f.yaml:13: steps[0].access.len: duplicate key (first given on line 13)"));
    CHECK_THAT(parse_error(replace(kBase, "    timeout_ms: 200\n",
                                   "    timeout_ms: 200\n    timeout_ms: 300\n")),
               Contains("f.yaml:12: devices[1].timeout_ms: duplicate key (first given on line 11)"));
    CHECK_THAT(parse_error(replace(kBase, "    expect: {unmapped: 2}",
                                   "    expect: {unmapped: 2}\n    expect: {unmapped: 3}")),
               Contains("f.yaml:18: steps[2].expect: duplicate key (first given on line 17)"));
    CHECK_THAT(parse_error("steps: [\n"), Contains(": (yaml): "));
    CHECK_THAT(parse_error(""), Equals("f.yaml:1: scenario: the file is empty"));
    // stage 2 is per device; an S2 device has no stage 1 to select
    CHECK_THAT(
        parse_error(replace(kBase, "strided: {sid: 0x11,", "strided: {sid: 0x11, pasid: 1,")),
        Contains("steps[1].strided.pasid: a stage-2 only device"));
}

TEST_CASE("scenario: seeded random workloads are the same everywhere", "[scenario]") {
    uint64_t st = 11;
    // splitmix64's reference sequence from 11 (mod 32): tests/scenarios/random-s2.yaml
    const uint64_t want[] = {29, 1, 13, 16, 4, 14, 4, 10};
    for (uint64_t w : want)
        CHECK(splitmix64(st) % 32 == w);
    Scenario s = parse(replace(kBase, "  - wait_ms: 10",
                               "  - random: {sid: 0x11, addr: 0x100000, pages: 32, count: 8, "
                               "seed: 11}"),
                       "f.yaml");
    const auto& v = std::get<AccessStep>(s.steps[4].what).accesses;
    REQUIRE(v.size() == 8);
    for (size_t i = 0; i < 8; i++)
        CHECK(v[i].addr == 0x100000 + want[i] * 0x1000);
}

TEST_CASE("scenario: the checker's verdicts", "[scenario]") {
    Scenario s = parse(kBase, "f.yaml");
    Outcome o;
    o.accesses.push_back({0, ended(0x10, IOPF_ACCESS_COMPLETED, 2, 3, 5, 100), true});
    for (int i = 0; i < 4; i++)
        o.accesses.push_back({1, ended(0x11, IOPF_ACCESS_COMPLETED, 0, 1, 1, 10 + i), true});
    o.unmapped[2] = 2;
    o.resume_retry = 9;
    o.resume_origin["response"] = 9;
    o.vmm = 3;
    o.tables[{0x11, IOPF_STAGE_2, std::nullopt}] = {
        iopf::Mapping{0x11, IOPF_STAGE_2, std::nullopt, 0x100000, 0x100000, 0x2000, 3}};

    SECTION("everything met") {
        CHECK(check(s, o).empty());
    }
    SECTION("a count off") {
        o.accesses[0].access.faults_l2 = 2;
        o.accesses[0].access.faults = 4;
        auto f = check(s, o);
        REQUIRE(f.size() == 3);
        CHECK(f[0] == "steps[0] (access, line 13): expect.faults: expected 5, got 4");
        CHECK(f[1] == "steps[0] (access, line 13): expect.l2: expected 3, got 2");
        CHECK(f[2] == "expect.l2: expected 7, got 6");
    }
    SECTION("unmapped, resumes, daemon, tables") {
        o.unmapped[2] = 1;
        o.resume_origin["response"] = 8;
        o.resume_origin["timeout"] = 1;
        o.vmm = 4;
        o.tables.clear();
        auto f = check(s, o);
        REQUIRE(f.size() == 4);
        CHECK(f[0] == "steps[2] (reclaim, line 16): expect.unmapped: expected 2, got 1");
        CHECK(f[1] == "expect.resumes.origin.response: expected 9, got 8");
        CHECK(f[2] == "expect.daemon.vmm: expected 3, got 4");
        CHECK(f[3] == "expect.tables[0] (sid 0x11 stage 2): runs: expected 0x100000->0x100000 "
                      "x2 rw, got none");
    }
    SECTION("nothing may be left stalled or pending, and run errors fail") {
        o.stalled = 1;
        o.pending = 2;
        o.errors.push_back("iopfd: exit status 1");
        auto f = check(s, o);
        REQUIRE(f.size() == 3);
        CHECK(f[0] == "run: iopfd: exit status 1");
        CHECK(f[1] == "expect.stalled: expected 0, got 1");
        CHECK(f[2] == "expect.pending: expected 0, got 2");
    }
}

TEST_CASE("scenario: the summary", "[scenario]") {
    Scenario s = parse(kBase, "f.yaml");
    Outcome o;
    for (uint64_t us = 1; us <= 100; us++)
        o.accesses.push_back({1, ended(0x11, IOPF_ACCESS_COMPLETED, 0, us % 2, us % 2, us), true});
    o.accesses.push_back({0, ended(0x10, IOPF_ACCESS_ABORTED, 1, 0, 0, 1000), true});
    o.tables[{0x11, IOPF_STAGE_2, std::nullopt}] = {
        iopf::Mapping{0x11, IOPF_STAGE_2, std::nullopt, 0x100000, 0x100000, 0x5000, 3}};
    o.resume_retry = 50;
    iopf::Json j = summary(s, o, {"x"});
    CHECK_FALSE(j.at("ok").as_bool());
    CHECK(j.at("accesses").at("total").as_u64() == 101);
    CHECK(j.at("accesses").at("aborted").as_u64() == 1);
    CHECK(j.at("faults").at("l2").as_u64() == 50);
    CHECK(j.at("faults").at("l1").as_u64() == 1);
    CHECK(j.at("latency_us").at("p50").as_u64() == 51);
    CHECK(j.at("latency_us").at("p99").as_u64() == 100);
    CHECK(j.at("latency_us").at("max").as_u64() == 1000);
    CHECK(j.at("latency_us").at("mean").as_u64() == (5050 + 1000) / 101);
    CHECK(j.at("stage2_pages").as_u64() == 5);
    CHECK(j.at("resumes").at("retry").as_u64() == 50);

    std::vector<uint64_t> v;
    CHECK(percentile(v, 99) == 0);
    v = {5};
    CHECK(percentile(v, 50) == 5);
    v = {4, 1, 3, 2};
    CHECK(percentile(v, 50) == 2);
    CHECK(percentile(v, 99) == 4);
}

TEST_CASE("scenario: every shipped scenario parses", "[scenario]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(IOPF_SOURCE_DIR) / "tests" / "scenarios";
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".yaml")
            continue;
        INFO(e.path());
        Scenario s = load(e.path().string());
        CHECK(s.name == e.path().stem().string()); // the KTAP name is the file's
        CHECK_FALSE(s.expect.totals.empty());
        n++;
    }
    CHECK(n >= 10);
    Scenario w = load((dir / "wrong" / "nested-both-wrong.yaml").string());
    CHECK(w.expect.totals.l2 == 5u);
}

TEST_CASE("scenario: the command's usage and check", "[scenario][cli]") {
    CHECK(ctl({"scenario"}).rc == 2);
    CHECK(ctl({"scenario", "run"}).rc == 2);
    CHECK(ctl({"scenario", "bogus"}).rc == 2);
    CHECK(ctl({"scenario", "check"}).rc == 2);
    auto r = ctl({"scenario", "check", "/nonexistent.yaml"});
    CHECK(r.rc == 1);
    CHECK_THAT(r.err, Catch::Matchers::Contains("/nonexistent.yaml"));
    const std::string f =
        (std::filesystem::path(IOPF_SOURCE_DIR) / "tests" / "scenarios" / "s2-window8.yaml")
            .string();
    r = ctl({"scenario", "check", "--list", f});
    CHECK(r.rc == 0);
    CHECK_THAT(r.out, Catch::Matchers::Contains("scenario s2-window8: 1 device(s), 1 step(s), "
                                                "64 access(es)"));
    CHECK_THAT(r.out, Catch::Matchers::Contains("device 0x69 flags=nested,l2 stage=s2 "
                                                "l1=pending l2=map,window=8"));
    CHECK_THAT(r.out, Catch::Matchers::Contains("access sid 0x69 0x17e000+0x1000 rw stall"));
}
