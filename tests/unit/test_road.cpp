// SPDX-License-Identifier: GPL-2.0
// iopfd as the VMM on upstream's road: the delivery= keyword, and the store
// with "via":"iommufd" fault lines read by iopfctl faults/stats.
#include <sstream>

#include <catch2/catch.hpp>

#include "cli_run.hpp"
#include "daemon.hpp"
#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/json.hpp"
#include "iopf/store.hpp"
#include "iopf/summary.hpp"
#include "temp_dir.hpp"
#ifdef IOPF_HAVE_IOMMUFD
#include "road.hpp"
#endif

using namespace iopf;

namespace {

Config parse(const std::string& s, ConfigCaps caps = {}) {
    std::istringstream in(s);
    return parse_config(in, "road.conf", caps);
}

void expect_error(const std::string& text, const std::string& what, ConfigCaps caps = {}) {
    try {
        parse(text, caps);
        FAIL("accepted: " << text);
    } catch (const ParseError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()) == what);
    }
}

} // namespace

TEST_CASE("config: delivery=netlink|iommufd per device", "[config][road]") {
    Config c = parse("device 0x10 flags=flat l2=map,window=4 delivery=iommufd\n"
                     "device 0x11 flags=nested,l2 l2=success delivery=netlink\n"
                     "device 0x12 flags=flat\n"
                     "device 0x13 flags=flat delivery=iommufd stage=s2 l2=invalid\n"
                     "device 0x14 flags=flat delivery=iommufd l2=pending\n");
    REQUIRE(c.devices.size() == 5);
    CHECK(c.find(0x10)->delivery == Delivery::iommufd);
    CHECK(c.find(0x10)->l2.map->window == 4);
    CHECK(c.find(0x11)->delivery == Delivery::netlink);
    CHECK(c.find(0x12)->delivery == Delivery::netlink); // the default
    CHECK(c.find(0x13)->delivery == Delivery::iommufd);
    CHECK(c.find(0x13)->l2.code == IOPF_RESP_INVALID);
    CHECK(c.find(0x14)->l2.pending);
    CHECK(std::string(delivery_name(Delivery::iommufd)) == "iommufd");
    // a changed delivery is a changed device (SIGHUP sets it up again)
    CHECK_FALSE(*c.find(0x10) == *parse("device 0x10 flags=flat l2=map,window=4\n").find(0x10));
    // the defaults' l1 is not a device's l1=: netlink devices keep using it
    Config d = parse("default l1=invalid l2=map\ndevice 0x20 flags=flat delivery=iommufd\n");
    CHECK(d.devices[0].l2.map);
}

TEST_CASE("config: delivery= errors name the file and line", "[config][road]") {
    expect_error("device 0x10 flags=flat delivery=vfio\n",
                 "road.conf:1: delivery=vfio: expected netlink or iommufd");
    expect_error("\ndevice 0x10 flags=flat delivery=iommufd delivery=iommufd\n",
                 "road.conf:2: delivery= given twice");
    expect_error("device 0x10 flags=flat delivery=iommufd l1=map\n",
                 "road.conf:1: delivery=iommufd: l1= has no meaning there (upstream's page "
                 "requests have no stage: every one is l2='s)");
    expect_error("device 0x10 flags=flat delivery=iommufd stage=nested\n",
                 "road.conf:1: delivery=iommufd: the bridge translates by stage 2 only "
                 "(stage=s2 or no stage=)");
    expect_error("device 0x10 flags=flat delivery=iommufd l2=success,delay_ms=5\n",
                 "road.conf:1: delivery=iommufd: l2=success,delay_ms=5: no delay_ms on the "
                 "iommufd road (a batch is answered in one write)");
    expect_error("device 0x10 flags=flat delivery=iommufd l2=failure\n",
                 "road.conf:1: delivery=iommufd: l2=failure: iommufd answers success or "
                 "invalid only");
    // a default that does not fit is reported at the device that takes it
    expect_error("default l2=failure\n\ndevice 0x10 flags=flat delivery=iommufd\n",
                 "road.conf:3: delivery=iommufd: l2=failure: iommufd answers success or "
                 "invalid only");
    // a build without the uAPI refuses the keyword where it is written
    expect_error("store /tmp/s\ndevice 0x10 flags=flat delivery=iommufd\n",
                 "road.conf:2: delivery=iommufd: iopfd was built without the iommufd uAPI "
                 "(configure with -DIOPF_KERNEL_UAPI=DIR)",
                 ConfigCaps{.iommufd = false});
    CHECK(parse("device 0x10 flags=flat delivery=netlink\n", ConfigCaps{.iommufd = false})
              .devices.size() == 1);
#ifdef IOPF_HAVE_IOMMUFD
    CHECK(iopfd::config_caps().iommufd);
#else
    CHECK_FALSE(iopfd::config_caps().iommufd);
#endif
}

namespace {

// A store as iopfd writes it with one device on each road: the netlink
// fault line of a bridged device's record ("via iommufd"), then the same
// record's line from the fault queue.
const char* const kStore =
    R"({"kind":"daemon","event":"start","pid":1})"
    "\n"
    R"({"kind":"daemon","event":"iommufd_up","sid":16,"dev_id":1,"ioas":2,"hwpt":4,"fault_queue":3})"
    "\n"
    R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x200000","reason":null,"dev_seq":1,"action":"via iommufd","resynced":false})"
    "\n"
    R"({"kind":"fault","via":"iommufd","sid":16,"dev_id":1,"pasid":null,"grpid":3,"perm":["read"],"addr":"0x200000","flags":["last_page"],"cookie":7,"length":0,"action":"map,window=2","code":"success","window":"0x200000","window_pages":2,"mapped":[{"addr":"0x200000","pages":2,"perm":"rw"}],"pages":2,"already":0,"us":12,"ok":true})"
    "\n"
    R"({"kind":"fault","seq":2,"sid":17,"event_id":19,"event":"F_PERMISSION","handled":true,"type":"page_req","level":"L1","flags":["last_page"],"pasid":null,"grpid":4,"perm":["write"],"addr":"0x4000","reason":null,"action":"success","resynced":false})"
    "\n"
    R"({"kind":"fault","via":"iommufd","sid":16,"dev_id":1,"pasid":null,"grpid":5,"perm":["write"],"addr":"0x300000","flags":["last_page"],"cookie":8,"length":0,"action":"invalid","code":"invalid","us":1,"ok":false,"error":"IOMMU fault queue 3: response 1 of 1 (cookie 8, code 1): Invalid argument"})"
    "\n"
    R"({"kind":"fault","via":"iommufd","sid":16,"dev_id":1,"pasid":null,"grpid":6,"perm":["read"],"addr":"0x400000","flags":["last_page"],"cookie":9,"length":0,"action":"pending","code":null,"us":0})"
    "\n"
    R"({"kind":"response","seq":2,"sid":17,"grpid":4,"pasid":null,"code":"success","ok":true})"
    "\n";

} // namespace

TEST_CASE("store: via=iommufd lines beside the existing ones", "[road][cli]") {
    iopf_test::TempDir dir;
    const std::string store = dir.file("s.jsonl", kStore);

    // stats: the faults are the netlink lines (one record, two observers)
    Summary s;
    auto r = read_store(store, [&](const Json& j) { s.add_store_line(j); });
    CHECK(r.lines == 8);
    CHECK(r.bad_lines == 0);
    CHECK(s.faults == 2);
    CHECK(s.malformed == 0);
    CHECK(s.iommufd.handled == 3);
    CHECK(s.iommufd.success == 1);
    CHECK(s.iommufd.invalid == 1);
    CHECK(s.iommufd.unanswered == 1);
    CHECK(s.iommufd.errors == 1);
    CHECK(s.iommufd.mapped_pages == 2);
    CHECK(s.to_text().find("iommufd (upstream's road): 3 page requests, 1 answered success") !=
          std::string::npos);

    auto st = iopf_test::ctl({"stats", "--store", store, "--json"});
    REQUIRE(st.rc == 0);
    auto sj = Json::parse(st.out);
    CHECK(sj.at("faults").as_u64() == 2);
    CHECK(sj.at("iommufd").at("handled").as_u64() == 3);

    // faults: both tables, nothing unreadable
    auto f = iopf_test::ctl({"faults", "--store", store});
    REQUIRE(f.rc == 0);
    CHECK(f.err.empty());
    CHECK(f.out.find("SEQ") == 0);
    CHECK(f.out.find("via iommufd") != std::string::npos);
    CHECK(f.out.find("answered on upstream's road (iommufd fault queues):") != std::string::npos);
    CHECK(f.out.find("map,window=2") != std::string::npos);
    CHECK(f.out.find("invalid (refused)") != std::string::npos);

    // --json: the netlink faults, then the road's lines as stored
    f = iopf_test::ctl({"faults", "--store", store, "--json", "0x10"});
    REQUIRE(f.rc == 0);
    std::istringstream lines(f.out);
    std::vector<Json> js;
    for (std::string l; std::getline(lines, l);)
        js.push_back(Json::parse(l));
    REQUIRE(js.size() == 4);
    CHECK(js[0].at("action").as_string() == "via iommufd");
    CHECK(js[1].at("via").as_string() == "iommufd");
    CHECK(js[1].at("cookie").as_u64() == 7);
    CHECK(js[3].at("code").is_null());

    // --level: upstream's lines have none
    f = iopf_test::ctl({"faults", "--store", store, "--json", "--level", "L2"});
    CHECK(f.out.find("\"via\":\"iommufd\"") == std::string::npos);
    CHECK(Json::parse(f.out).at("seq").as_u64() == 1);

    // a via= that is not known is an unreadable line, not a fault
    const std::string odd =
        dir.file("odd.jsonl", R"({"kind":"fault","via":"carrier-pigeon","sid":1})"
                              "\n");
    f = iopf_test::ctl({"faults", "--store", odd});
    CHECK(f.rc == 0);
    CHECK(f.err.find("1 unreadable line") != std::string::npos);
}

#ifdef IOPF_HAVE_IOMMUFD
TEST_CASE("road: a page request's store line", "[road]") {
    iopfd::RoadDevice d;
    d.sid = 0x10;
    iommu_hwpt_pgfault f{};
    f.flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    f.dev_id = 1;
    f.pasid = 5;
    f.grpid = 7;
    f.perm = IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE;
    f.addr = 0x200010;
    f.cookie = 3;
    iopfd::PgFaultOutcome o;
    o.action = "map";
    o.code = IOMMUFD_PAGE_RESP_SUCCESS;
    o.window = {0x200000, 1};
    o.mapped.push_back({0x10, 2, std::nullopt, 0x200000, 0x7f0000000000, 0x1000,
                        IOPF_PERM_READ | IOPF_PERM_WRITE});
    Json j = iopfd::pgfault_line(d, f, o, std::nullopt);
    CHECK(j.dump().starts_with(
        R"({"kind":"fault","via":"iommufd","sid":16,"dev_id":1,"pasid":5,"grpid":7,"perm":["read","write"],"addr":"0x200010","flags":["pasid_valid","last_page"],"cookie":3,"length":0,"action":"map","code":"success","window":"0x200000","window_pages":1,"mapped":[{"addr":"0x200000","pages":1,"perm":"rw"}],"pages":1,"already":0,"us":0,"ok":true})"));
    // read back as iopfctl reads it
    Summary s;
    s.add_store_line(j);
    CHECK(s.iommufd.success == 1);
    CHECK(s.faults == 0);

    // unanswered: code null, no ok
    iopfd::PgFaultOutcome p;
    p.action = "pending";
    f.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    Json k = iopfd::pgfault_line(d, f, p, std::nullopt);
    CHECK(k.at("pasid").is_null());
    CHECK(k.at("code").is_null());
    CHECK_FALSE(k.find("ok"));
}

TEST_CASE("road: allow_unsafe_interrupts", "[road]") {
    iopf_test::TempDir dir;
    const std::string p = dir.file("param", "N\n");
    CHECK(iopfd::allow_unsafe_interrupts(p.c_str()) == "set");
    CHECK(dir.slurp("param") == "1\n");
    const std::string q = dir.file("param2", "Y\n");
    CHECK(iopfd::allow_unsafe_interrupts(q.c_str()) == "already set");
    CHECK_THROWS_AS(iopfd::allow_unsafe_interrupts("/nonexistent/dir/param"), Error);
}
#endif
