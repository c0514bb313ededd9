// SPDX-License-Identifier: GPL-2.0
// Scenarios on both roads (issue 18): `delivery`, `pin_stage2`, the
// on_iommufd and on_iommufd_pinned overlays (file and step), the upstream
// measures and their checks, iopfd's configuration on upstream's road, the
// stage-2 pins, the skip in the summary and the roads table.
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "iopf/config.hpp"
#include "iopf/json.hpp"
#include "scenario_model.hpp"

using namespace iopfctl::scenario;

namespace {

const char* const kNested = R"(name: r
devices:
  - sid: 0x20
    flags: [nested, l1, l2]
    stage: nested
    l1: map,base=0x80000000
    l2: map
mappings:
  - {sid: 0x20, stage: 2, addr: 0x40000000, out: 0x40000000, len: 0x1000}
steps:
  - access: {sid: 0x20, pasid: 1, addr: 0x200000, len: 0x2000, perm: rw}
    expect: {completed: 1, faults: 4, l1: 2, l2: 2}
    on_iommufd: {completed: 0, aborted: 1}
    on_iommufd_pinned: {completed: 1, aborted: 0, l2: 0}
  - map: {sid: 0x20, stage: 2, addr: 0x90000000, out: 0x90000000, len: 0x1000}
  - access: {sid: 0x20, pasid: 1, addr: 0x400000, len: 0x1000, perm: r, stall: false}
expect:
  faults: 5
  daemon: {vmm: 2}
  tables:
    - {sid: 0x20, stage: 2, pages: 4}
    - {sid: 0x20, stage: 1, pasid: 1, pages: 2}
on_iommufd:
  faults: 7
  stalled: 1
  tables:
    - {sid: 0x20, stage: 2, pages: 1}
  upstream: {delivered: 7, s2_as_s1: 3, dropped: 1, vevents: 0, not_completed: 2}
on_iommufd_pinned:
  upstream: {s2_as_s1: 0, not_completed: 1}
)";

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

} // namespace

TEST_CASE("scenario roads: delivery and pin_stage2 parse, netlink by default", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    CHECK(s.delivery == Delivery::netlink);
    CHECK_FALSE(s.pin_stage2);
    CHECK(s.iommufd_unfit().empty());

    Scenario t = parse("delivery: iommufd\npin_stage2: true\n" + std::string(kNested), "f.yaml");
    CHECK(t.delivery == Delivery::iommufd);
    CHECK(t.pin_stage2);
    CHECK(parse("delivery: netlink\n" + std::string(kNested), "f.yaml").delivery ==
          Delivery::netlink);

    CHECK(parse_error("delivery: vfio\n" + std::string(kNested)) ==
          "f.yaml:1: delivery: 'vfio': netlink (the RFC's road) or iommufd (upstream's)");
    CHECK(parse_error("pin_stage2: maybe\n" + std::string(kNested)) ==
          "f.yaml:1: scenario.pin_stage2: 'maybe' is not true or false");
    // a file that says iommufd must be able to take that road
    const std::string s2 = replace(kNested, "stage: nested", "stage: s2");
    const std::string s2b = replace(replace(s2, "pasid: 1, addr: 0x200000", "addr: 0x200000"),
                                    "pasid: 1, addr: 0x400000", "addr: 0x400000");
    CHECK(parse_error("delivery: iommufd\n" + s2b) ==
          "f.yaml:1: delivery: device 0x20 is stage s2: upstream's road (iopfd nested=on) "
          "takes stage nested devices only");
    CHECK(delivery_name(parse_delivery("iommufd")) == std::string("iommufd"));
}

TEST_CASE("scenario roads: the overlays parse, and apply key by key", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    CHECK(s.on_iommufd.totals.faults == 7u);
    CHECK(s.on_iommufd.upstream.delivered == 7u);
    CHECK(s.on_iommufd.upstream.dropped == 1u);
    CHECK(s.on_iommufd_pinned.upstream.not_completed == 1u);
    CHECK(s.steps[0].on_iommufd.aborted == 1u);
    CHECK(s.steps[0].on_iommufd_pinned.l2 == 0u);

    const Scenario nl = s.on_road({Delivery::netlink, false});
    CHECK(nl.expect.totals.faults == 5u);
    CHECK(nl.steps[0].expect.completed == 1u);
    CHECK_FALSE(nl.expect.stalled);

    // pin_stage2 means nothing on netlink
    CHECK(s.on_road({Delivery::netlink, true}).steps[0].expect.l2 == 2u);

    const Scenario io = s.on_road({Delivery::iommufd, false});
    CHECK(io.expect.totals.faults == 7u);
    CHECK(io.expect.vmm == 2u); // not overridden: the netlink expectation stands
    CHECK(io.expect.stalled == 1u);
    REQUIRE(io.expect.tables.size() == 2);
    CHECK(io.expect.tables[0].pages == 1u); // the table named again is replaced
    CHECK(io.expect.tables[1].pages == 2u);
    CHECK(io.steps[0].expect.completed == 0u);
    CHECK(io.steps[0].expect.aborted == 1u);
    CHECK(io.steps[0].expect.faults == 4u);
    CHECK(io.expect.upstream.s2_as_s1 == 3u);

    const Scenario pin = s.on_road({Delivery::iommufd, true});
    CHECK(pin.expect.totals.faults == 7u); // on_iommufd, then on_iommufd_pinned
    CHECK(pin.expect.upstream.s2_as_s1 == 0u);
    CHECK(pin.expect.upstream.delivered == 7u);
    CHECK(pin.expect.upstream.not_completed == 1u);
    CHECK(pin.steps[0].expect.completed == 1u);
    CHECK(pin.steps[0].expect.aborted == 0u);
    CHECK(pin.steps[0].expect.l2 == 0u);
}

TEST_CASE("scenario roads: any in an overlay leaves a count unchecked on that road", "[scenario]") {
    Scenario s =
        parse(replace(replace(kNested, "on_iommufd: {completed: 0, aborted: 1}",
                              "on_iommufd: {completed: 0, faults: any}"),
                      "  faults: 7\n", "  faults: any\n  resumes: {origin: {response: any}}\n"),
              "f.yaml");
    const Scenario io = s.on_road({Delivery::iommufd, false});
    CHECK_FALSE(io.steps[0].expect.faults);
    CHECK(io.steps[0].expect.l1 == 2u);
    CHECK_FALSE(io.expect.totals.faults);
    CHECK(io.expect.resume_origin.count("response") == 0);
    CHECK(s.on_road({}).steps[0].expect.faults == 4u);
    // stalled and pending are 0 when absent: `any` leaves them unchecked
    Scenario t =
        parse(replace(kNested, "  stalled: 1\n", "  stalled: any\n  pending: any\n"), "f.yaml");
    Outcome o;
    o.road = {Delivery::iommufd, false};
    o.stalled = 2;
    o.pending = 5;
    for (const auto& x : check(t.on_road(o.road), o)) {
        CHECK(x.find("stalled") == std::string::npos);
        CHECK(x.find("pending") == std::string::npos);
    }
    bool netlink_checks_stalled = false;
    for (const auto& x : check(t.on_road({}), o))
        netlink_checks_stalled |= x == "expect.stalled: expected 0, got 2";
    CHECK(netlink_checks_stalled);
    // only in the overlays
    CHECK(parse_error(replace(kNested, "  faults: 5\n", "  faults: any\n")) ==
          "f.yaml:18: expect.faults: 'any' is not a number (decimal or 0x hex)");
}

TEST_CASE("scenario roads: overlay errors name the file, the line and the key", "[scenario]") {
    CHECK(parse_error(replace(kNested, "upstream: {delivered: 7", "upstream: {sent: 7")) ==
          "f.yaml:28: on_iommufd.upstream.sent: unknown key (expected one of: delivered, "
          "l2_faults, s2_as_s1, dropped, vevents, not_completed)");
    // the upstream measures belong to the iommufd overlays only
    CHECK(parse_error(replace(kNested, "  daemon: {vmm: 2}", "  upstream: {dropped: 0}")) ==
          "f.yaml:19: expect.upstream: unknown key (expected one of: accesses, completed, "
          "aborted, terminated, faults, l1, l2, retries, resumes, daemon, tables, stalled, "
          "pending)");
    CHECK(parse_error(replace(kNested, "on_iommufd: {completed: 0, aborted: 1}",
                              "on_iommufd: {completed: 0, delivered: 1}")) ==
          "f.yaml:13: steps[0].on_iommufd.delivered: unknown key (expected one of: accesses, "
          "completed, aborted, terminated, faults, l1, l2, retries)");
    CHECK(parse_error(replace(kNested,
                              "  - map: {sid: 0x20, stage: 2, addr: 0x90000000, out: 0x90000000, "
                              "len: 0x1000}",
                              "  - map: {sid: 0x20, stage: 2, addr: 0x90000000, out: 0x90000000, "
                              "len: 0x1000}\n    on_iommufd: {faults: 1}")) ==
          "f.yaml:16: steps[1].on_iommufd: only access, strided, random, reclaim and unmap steps "
          "have expectations");
    CHECK(parse_error(replace(kNested,
                              "on_iommufd_pinned:\n  upstream: {s2_as_s1: 0, not_completed: 1}\n",
                              "on_iommufd_pinned: 3\n")) ==
          "f.yaml:29: on_iommufd_pinned: expected a map of keys (accesses, completed, aborted, "
          "terminated, faults, l1, l2, retries, resumes, daemon, tables, stalled, pending, "
          "upstream)");
}

TEST_CASE("scenario roads: iopfd's configuration on upstream's road", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    CHECK(s.iopfd_config().find("delivery=") == std::string::npos);
    const std::string conf = s.iopfd_config({Delivery::iommufd, false});
    CHECK(conf.find("device 0x20 flags=nested,l1,l2 stage=nested l1=map,base=0x80000000 l2=map "
                    "delivery=iommufd nested=on unattributed=forward\n") != std::string::npos);
    std::istringstream in(conf);
    iopf::Config c = iopf::parse_config(in, "gen"); // iopfd accepts it
    REQUIRE(c.devices.size() == 1);
    CHECK(c.devices[0].delivery == iopf::Delivery::iommufd);
    REQUIRE(c.devices[0].nested);
    CHECK(c.devices[0].nested->unattributed == iopf::Unattributed::forward);
}

TEST_CASE("scenario roads: what pin_stage2 maps", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    const auto pins = s.stage2_pins();
    // table pages: IOVA 0x200000 -> 0x40001000, 0x400000 -> 0x40002000; the
    // guest's IPAs from its base: 3 stage-1 pages touched; less what the file
    // maps itself (0x40000000, 0x90000000)
    REQUIRE(pins.size() == 2);
    CHECK(pins[0] == iopf::Mapping{0x20, IOPF_STAGE_2, std::nullopt, 0x40001000, 0x40001000, 0x2000,
                                   IOPF_PERM_READ | IOPF_PERM_WRITE});
    CHECK(pins[1] == iopf::Mapping{0x20, IOPF_STAGE_2, std::nullopt, 0x80000000, 0x80000000, 0x3000,
                                   IOPF_PERM_READ | IOPF_PERM_WRITE});
    // a stage-1 mapping of the file: its IPAs are pinned, its IOVAs cost the
    // guest no page
    Scenario t = parse(
        replace(kNested, "mappings:\n",
                "mappings:\n  - {sid: 0x20, stage: 1, pasid: 1, addr: 0x400000, out: 0x70000000, "
                "len: 0x1000}\n"),
        "f.yaml");
    const auto p2 = t.stage2_pins();
    REQUIRE(p2.size() == 3);
    CHECK(p2[0].addr == 0x40001000);
    CHECK(p2[1].addr == 0x70000000);
    CHECK(p2[2].addr == 0x80000000);
    CHECK(p2[2].len == 0x2000);
}

TEST_CASE("scenario roads: the checker and the summary on upstream's road", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    Outcome o;
    o.road = {Delivery::iommufd, false};
    iopf::Access a;
    a.sid = 0x20;
    a.state = IOPF_ACCESS_ABORTED;
    a.faults = 4;
    a.faults_l1 = a.faults_l2 = 2;
    o.accesses.push_back({0, a, true});
    a.state = IOPF_ACCESS_TERMINATED;
    a.faults = 3;
    o.accesses.push_back({2, a, true});
    o.vmm = 2;
    o.stalled = 1;
    o.tables[{0x20, IOPF_STAGE_2, std::nullopt}] = {
        iopf::Mapping{0x20, IOPF_STAGE_2, std::nullopt, 0x40000000, 0x40000000, 0x1000, 3}};
    o.tables[{0x20, IOPF_STAGE_1, 1}] = {
        iopf::Mapping{0x20, IOPF_STAGE_1, 1, 0x200000, 0x80000000, 0x2000, 3}};
    o.up_delivered = 7;
    o.up_s2_as_s1 = 3;
    o.up_dropped = 1;
    const Scenario io = s.on_road(o.road);
    CHECK(check(io, o).empty());

    o.up_dropped = 0;
    o.up_delivered = 6;
    auto f = check(io, o);
    REQUIRE(f.size() == 2);
    CHECK(f[0] == "expect.upstream.delivered: expected 7, got 6");
    CHECK(f[1] == "expect.upstream.dropped: expected 1, got 0");

    // the same outcome judged as netlink: the upstream measures are not
    const auto nl = check(s.on_road({}), Outcome{});
    for (const auto& x : nl)
        CHECK(x.find("upstream") == std::string::npos);

    iopf::Json j = summary(io, o, f);
    CHECK(j.at("road").as_string() == "iommufd");
    CHECK(j.at("delivery").as_string() == "iommufd");
    CHECK(j.at("pin_stage2").as_bool() == false);
    CHECK(j.at("skip").is_null());
    CHECK(j.at("upstream").at("delivered").as_u64() == 6);
    CHECK(j.at("upstream").at("s2_as_s1").as_u64() == 3);
    CHECK(j.at("upstream").at("not_completed").as_u64() == 2);
    CHECK(j.at("upstream").at("completed").as_u64() == 0);
    CHECK_FALSE(summary(s, Outcome{}, {}).find("upstream"));
    CHECK(Road{Delivery::iommufd, true}.name() == "iommufd+pinned");
}

TEST_CASE("scenario roads: a skip and the roads table", "[scenario]") {
    Scenario s = parse(kNested, "f.yaml");
    Outcome nl;
    iopf::Access a;
    a.sid = 0x20;
    a.state = IOPF_ACCESS_COMPLETED;
    a.faults = 4;
    nl.accesses.push_back({0, a, true});
    Outcome io;
    io.road = {Delivery::iommufd, false};
    io.accesses.push_back({0, a, true});
    a.state = IOPF_ACCESS_ABORTED;
    io.accesses.push_back({2, a, true});
    io.up_delivered = 8;
    io.up_s2_as_s1 = 2;
    io.up_dropped = 1;
    Outcome pin;
    pin.road = {Delivery::iommufd, true};
    pin.skip = "bridge: the kernel has no iommufd";
    const std::vector<iopf::Json> all = {summary(s, nl, {}), summary(s, io, {"x"}),
                                         summary(s, pin, {})};
    CHECK(all[2].at("skip").as_string() == "bridge: the kernel has no iommufd");
    const std::string t = roads_table(all);
    INFO(t);
    CHECK(t.find("| scenario | netlink: completed |") == 0);
    CHECK(t.find("| r | 1/1 | 4 | 1/2 (FAIL) | 8 | 2 | 1 | 1 | SKIP | - |\n") != std::string::npos);
}
