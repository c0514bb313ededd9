// SPDX-License-Identifier: GPL-2.0
// Nested translation on upstream's road (nested=on): the configuration's
// keys and their errors (every build), and with the 6.15+ iommufd uAPI the
// vSMMUv3 objects' client (ioctls named in errors, the vSTE, the vEVENTQ's
// entries over a socketpair in the uAPI's layout), the walk of the guest's
// stage 1, and the store lines iopfd writes for both queues.
#include <cerrno>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <endian.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.hpp"
#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/json.hpp"
#include "iopf/summary.hpp"
#ifdef IOPF_HAVE_IOMMUFD
#include "iopf/iommufd.hpp"
#include "road.hpp"
#endif

using namespace iopf;

namespace {

Config parse_nested(const std::string& s, ConfigCaps caps = {}) {
    std::istringstream in(s);
    return parse_config(in, "nested.conf", caps);
}

void nested_error(const std::string& text, const std::string& what, ConfigCaps caps = {}) {
    try {
        parse_nested(text, caps);
        FAIL("accepted: " << text);
    } catch (const ParseError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()) == what);
    }
}

} // namespace

TEST_CASE("config: nested=on and its keys", "[config][nested]") {
    Config c =
        parse_nested("device 0x10 flags=flat delivery=iommufd nested=on vsid=0x42 veventq_depth=4 "
                     "unattributed=walk l1=map,base=0x80000000 l2=map,window=2\n"
                     "device 0x11 flags=flat delivery=iommufd nested=on\n"
                     "device 0x12 flags=flat delivery=iommufd nested=off l2=success\n"
                     "device 0x13 flags=flat delivery=iommufd nested=on stage=nested l1=refuse\n");
    const DeviceConfig* d = c.find(0x10);
    REQUIRE(d->nested);
    CHECK(d->nested->vsid == 0x42);
    CHECK(d->nested->veventq_depth == 4);
    CHECK(d->nested->unattributed == Unattributed::walk);
    CHECK(d->l1.map);
    CHECK(d->l2.map->window == 2);
    const DeviceConfig* e = c.find(0x11);
    REQUIRE(e->nested);
    CHECK(e->nested->vsid == 0x11); // the device's own SID by default
    CHECK(e->nested->veventq_depth == NestedConfig::kDefaultDepth);
    CHECK(e->nested->unattributed == Unattributed::forward);
    CHECK_FALSE(c.find(0x12)->nested);
    CHECK(c.find(0x13)->l1.refuse);
    CHECK(std::string(unattributed_name(Unattributed::forward)) == "forward");
    CHECK(std::string(unattributed_name(Unattributed::walk)) == "walk");
    // the largest depth iommufd takes
    CHECK(parse_nested("device 1 flags=flat delivery=iommufd nested=on veventq_depth=524288\n")
              .find(1)
              ->nested->veventq_depth == 524288);
}

TEST_CASE("config: nested= errors name the file and line", "[config][nested]") {
    nested_error("device 0x10 flags=flat nested=on\n",
                 "nested.conf:1: nested=on needs delivery=iommufd (nested translation is "
                 "upstream's iommufd road: a vIOMMU)");
    nested_error("device 0x10 flags=flat delivery=iommufd vsid=3\n",
                 "nested.conf:1: vsid= needs nested=on");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=off unattributed=walk\n",
                 "nested.conf:1: unattributed= needs nested=on");
    nested_error("device 0x10 flags=flat veventq_depth=8\n",
                 "nested.conf:1: veventq_depth= needs nested=on");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=yes\n",
                 "nested.conf:1: nested=yes: expected on or off");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on nested=on\n",
                 "nested.conf:1: nested= given twice");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on unattributed=guess\n",
                 "nested.conf:1: unattributed=guess: expected forward or walk");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on veventq_depth=0\n",
                 "nested.conf:1: veventq_depth=0: expected 1 to 524288 (iommufd's limit)");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on veventq_depth=524289\n",
                 "nested.conf:1: veventq_depth=524289: expected 1 to 524288 (iommufd's limit)");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on vsid=1 vsid=2\n",
                 "nested.conf:1: vsid= given twice");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on stage=s2\n",
                 "nested.conf:1: delivery=iommufd nested=on: the nested attachment translates "
                 "by both stages (stage=nested or no stage=)");
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on l1=success,delay_ms=3\n",
                 "nested.conf:1: delivery=iommufd: l1=success,delay_ms=3: no delay_ms on the "
                 "iommufd road (a batch is answered in one write)");
    nested_error("default l1=failure\ndevice 0x10 flags=flat delivery=iommufd nested=on\n",
                 "nested.conf:2: delivery=iommufd: l1=failure: iommufd answers success or "
                 "invalid only");
    // the build decides: without the uAPI, or with one older than 6.15
    nested_error("device 0x10 flags=flat delivery=iommufd nested=on\n",
                 "nested.conf:1: nested=on: iopfd was built with an iommufd uAPI without the "
                 "vIOMMU and vEVENTQ (Linux 6.15+; configure with -DIOPF_KERNEL_UAPI=DIR of a "
                 "newer kernel)",
                 ConfigCaps{.iommufd = true, .nested = false});
    nested_error("device 0x10 flags=flat nested=on delivery=iommufd\n",
                 "nested.conf:1: nested=on: iopfd was built without the iommufd uAPI "
                 "(configure with -DIOPF_KERNEL_UAPI=DIR)",
                 ConfigCaps{.iommufd = false, .nested = false});
#ifdef IOPF_HAVE_IOMMUFD_NESTED
    CHECK(iopfd::config_caps().nested);
#else
    CHECK_FALSE(iopfd::config_caps().nested);
#endif
}

TEST_CASE("summary: vEVENTQ records and their loss, apart", "[nested][summary]") {
    Summary s;
    s.add_store_line(Json::parse(
        R"({"kind":"fault","via":"vevent","sid":16,"vsid":66,"veventq":7,"sequence":0,"books":"in_order"})"));
    s.add_store_line(Json::parse(
        R"({"kind":"loss","what":"vevent_tail","sid":16,"vsid":66,"sequence":99,"expected":4,"first":4,"lost":96})"));
    s.add_store_line(Json::parse(
        R"({"kind":"loss","what":"vevent_gap","sid":16,"vsid":66,"sequence":6,"expected":4,"first":4,"lost":2})"));
    s.add_store_line(Json::parse(
        R"({"kind":"loss","what":"vevent_inconsistent","sid":16,"vsid":66,"sequence":3,"expected":7,"why":"x"})"));
    CHECK(s.vevents.received == 1);
    CHECK(s.vevents.lost == 98);
    CHECK(s.vevents.gaps == 1);
    CHECK(s.vevents.tails == 1);
    CHECK(s.vevents.inconsistent == 1);
    CHECK(s.faults == 0); // the netlink line of the record counts it
    CHECK(s.malformed == 0);
    CHECK(s.to_json().at("vevents").at("vevents_lost").as_u64() == 98);
    CHECK(s.to_text().find("vevents (nested devices' vEVENTQs): 1 received, 98 lost") !=
          std::string::npos);
}

#ifdef IOPF_HAVE_IOMMUFD_NESTED

namespace {

static_assert(!std::is_copy_constructible_v<IommufdObject> &&
              std::is_nothrow_move_constructible_v<IommufdObject>);
static_assert(!std::is_copy_constructible_v<Viommu> && std::is_move_constructible_v<Viommu>);
static_assert(!std::is_copy_constructible_v<VeventQueue> &&
              std::is_move_constructible_v<VeventQueue>);
static_assert(!std::is_convertible_v<Vdevice, Viommu>);

UniqueFd null_fd(int flags) {
    int fd = ::open("/dev/null", flags | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return UniqueFd(fd);
}

void errno_error(const std::function<void()>& f, int err, const std::string& starts) {
    try {
        f();
        FAIL("no error, expected " << starts);
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.err() == err);
        CHECK(std::string(e.what()).starts_with(starts));
    }
}

std::vector<unsigned char> entry(uint32_t flags, uint32_t seq, const uint64_t* evt) {
    // Sized once: GCC 12's -Warray-bounds misreads insert() at -O2
    std::vector<unsigned char> b(evt ? 8 + 32 : 8);
    std::memcpy(b.data(), &flags, 4);
    std::memcpy(b.data() + 4, &seq, 4);
    if (evt)
        for (int i = 0; i < 4; i++) {
            uint64_t le = htole64(evt[i]);
            std::memcpy(b.data() + 8 + 8 * i, &le, 8);
        }
    return b;
}

} // namespace

TEST_CASE("nested: the vSTE a VMM hands iommufd", "[iommufd][nested]") {
    auto s1 = SmmuV3Vste::s1_translate();
    CHECK(s1.ste[0] == 0xb); // V, Config 0b101
    CHECK(s1.ste[1] == 0);
    CHECK(s1.config() == SmmuV3Vste::kCfgS1Translate);
    CHECK(std::string(s1.config_name()) == "s1_translate");
    CHECK(SmmuV3Vste::bypass().ste[0] == 0x9); // V, Config 0b100
    CHECK(std::string(SmmuV3Vste::bypass().config_name()) == "bypass");
    CHECK(SmmuV3Vste::abort().ste[0] == 0x1);
    CHECK(std::string(SmmuV3Vste{}.config_name()) == "abort (V clear)");
    CHECK(std::string(SmmuV3Vste::with_config(6).config_name()) == "reserved");
}

TEST_CASE("nested: every ioctl names itself and its arguments", "[iommufd][nested]") {
    Iommufd ictx(null_fd(O_RDWR));
    errno_error([&] { ictx.nest_parent_alloc(1, 2); }, ENOTTY,
                "IOMMU_HWPT_ALLOC NEST_PARENT dev_id 1 ioas 2: ");
    // owners made up for the call's arguments, released unasked
    ParentHwpt parent(ictx, 3, "nesting parent HWPT");
    Viommu vi(ictx, 4, "vIOMMU");
    errno_error([&] { ictx.viommu_alloc(1, parent); }, ENOTTY,
                "IOMMU_VIOMMU_ALLOC type 1 dev_id 1 hwpt_id 3: ");
    errno_error([&] { ictx.vdevice_alloc(vi, 1, 0x42); }, ENOTTY,
                "IOMMU_VDEVICE_ALLOC viommu_id 4 dev_id 1 virt_id 0x42: ");
    errno_error([&] { ictx.nested_hwpt_alloc(1, vi, SmmuV3Vste::s1_translate(), 5); }, ENOTTY,
                "IOMMU_HWPT_ALLOC nested dev_id 1 viommu_id 4 vSTE 0xb 0x0 (s1_translate) "
                "fault_id 5: ");
    errno_error([&] { ictx.veventq_alloc(vi, 64); }, ENOTTY,
                "IOMMU_VEVENTQ_ALLOC viommu_id 4 type 1 depth 64: ");
    // destroy() says which object failed; afterwards it is held no more
    errno_error([&] { vi.destroy(); }, ENOTTY, "vIOMMU 4: IOMMU_DESTROY id 4: ");
    CHECK_FALSE(vi);
    CHECK(parent.release() == 3); // given up: not destroyed
    CHECK_FALSE(parent);
    // reset() is quiet (the object may be gone with its device)
    NestedHwpt h(ictx, 9, "nested HWPT");
    h.reset();
    CHECK(h.id() == 0);
    // moved: one owner
    Vdevice a(ictx, 7, "vDEVICE");
    Vdevice b(std::move(a));
    CHECK(a.id() == 0);
    CHECK(b.id() == 7);
    CHECK(std::string(b.kind()) == "vDEVICE");
    b.release();
}

TEST_CASE("nested: vEVENTQ entries in the uAPI's layout", "[iommufd][nested]") {
    const uint64_t evt[4] = {0x0000004200000010ull, 0x80000000ull, 0x200000ull, 0};
    std::vector<unsigned char> b = entry(0, 0, evt);
    auto lost = entry(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 99, nullptr);
    b.insert(b.end(), lost.begin(), lost.end());
    auto next = entry(0, 100, evt);
    b.insert(b.end(), next.begin(), next.end());
    std::vector<Vevent> out;
    parse_vevents(b, 32, out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].sequence == 0);
    CHECK_FALSE(out[0].lost_events());
    CHECK(out[0].evt[0] == evt[0]);
    CHECK(out[0].evt[2] == 0x200000);
    CHECK(out[1].lost_events());
    CHECK(out[1].sequence == 99);
    CHECK(out[1].evt[0] == 0);
    CHECK(out[2].sequence == 100);

    // cut entries are the kernel's contract broken: EPROTO, named
    out.clear();
    std::vector<unsigned char> cut(b.begin(), b.begin() + 20);
    errno_error([&] { parse_vevents(cut, 32, out, "vEVENTQ 7"); }, EPROTO,
                "vEVENTQ 7: entry sequence 0 has 12 bytes of data, expected 32");
    std::vector<unsigned char> half(b.begin(), b.begin() + 44);
    out.clear();
    errno_error([&] { parse_vevents(half, 32, out); }, EPROTO,
                "vEVENTQ: 4 bytes left at offset 40, not a whole 8-byte header");

    // read(): one read(2), over a SOCK_SEQPACKET pair (one message per read)
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd peer(sv[1]);
    VeventQueue q(7, UniqueFd(sv[0]));
    CHECK(q.id() == 7);
    REQUIRE(::write(peer.get(), b.data(), b.size()) == static_cast<ssize_t>(b.size()));
    auto got = q.read(64);
    REQUIRE(got.size() == 3);
    CHECK(got[1].lost_events());
    CHECK(got[2].evt[1] == 0x80000000ull);
    // nothing queued: empty (a non-blocking fd's EAGAIN)
    REQUIRE(::fcntl(q.fd(), F_SETFL, O_NONBLOCK) == 0);
    CHECK(q.read(64).empty());
    q.reset();
    CHECK_FALSE(q);

    VeventQueue wo(8, null_fd(O_WRONLY));
    errno_error([&] { wo.read(); }, EBADF, "vEVENTQ 8: read: Bad file descriptor");
}

TEST_CASE("nested: the walk of the guest's stage 1", "[nested]") {
    std::vector<Mapping> s1 = {
        {0x10, IOPF_STAGE_1, std::nullopt, 0x100000, 0x80000000, 0x2000,
         IOPF_PERM_READ | IOPF_PERM_WRITE},
        {0x10, IOPF_STAGE_1, std::nullopt, 0x400000, 0x90000000, 0x1000, IOPF_PERM_READ},
    };
    // the table pages of the IOVAs below 4 MiB: TTB + 0 and TTB + 4 KiB
    std::vector<Mapping> s2 = {{0x10, IOPF_STAGE_2, std::nullopt, IOPF_STAGE_TTB_DEFAULT,
                                0x7f0000000000, 0x2000, IOPF_PERM_READ | IOPF_PERM_WRITE}};
    auto w = iopfd::walk_nested(0x101010, IOPF_PERM_READ, s2, s1);
    REQUIRE(w.ipa);
    CHECK(*w.ipa == 0x80001010);
    CHECK_FALSE(w.table);
    CHECK(w.what == "mapped");
    auto u = iopfd::walk_nested(0x300000, IOPF_PERM_READ, s2, s1);
    CHECK_FALSE(u.ipa);
    CHECK(u.what == "unmapped");
    // stage 1 itself refuses a write: the guest's fault, not ours
    auto p = iopfd::walk_nested(
        0x200000, IOPF_PERM_WRITE, s2,
        {{0x10, IOPF_STAGE_1, std::nullopt, 0x200000, 0x90000000, 0x1000, IOPF_PERM_READ}});
    CHECK_FALSE(p.ipa);
    CHECK(p.what == "mapped r, the access needs w");
    // the walk reads the table page through stage 2 first: 0x400000's is
    // TTB + 2 pages, which stage 2 does not map: that is the fault
    auto t = iopfd::walk_nested(0x400000, IOPF_PERM_READ, s2, s1);
    REQUIRE(t.ipa);
    CHECK(t.table);
    CHECK(*t.ipa == IOPF_STAGE_TTB_DEFAULT + 0x2000);
    CHECK(t.what == "stage-1 table page 0x40002000 unmapped in stage 2");
    // another TTB
    auto o = iopfd::walk_nested(0x101010, IOPF_PERM_READ, s2, s1, 0x1000000);
    CHECK(o.table);
    CHECK(*o.ipa == 0x1000000);

    iommu_hwpt_pgfault f{};
    f.flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    f.pasid = 3;
    f.grpid = 9;
    f.perm = IOMMU_PGFAULT_PERM_WRITE;
    f.addr = 0x300040;
    Fault g = iopfd::forwarded_fault(0x10, f);
    REQUIRE(g.is_page_req());
    CHECK(g.fault->level == 1);
    CHECK(g.event_id == EVT_ID_TRANSLATION_FAULT);
    CHECK(g.has_pasid());
    CHECK(g.fault->pasid == 3);
    CHECK(g.fault->grpid == 9);
    CHECK(g.fault->addr == 0x300040);
    CHECK(g.fault->perm == IOPF_PERM_WRITE);
}

TEST_CASE("nested: the store lines of both queues", "[nested][road]") {
    Iommufd ictx(null_fd(O_RDWR)); // the owners refer to it; destroys fail quietly
    iopfd::RoadDevice d;
    d.sid = 0x10;
    d.nested = std::make_unique<iopfd::RoadNested>();
    d.nested->cfg.vsid = 0x42;
    d.nested->cfg.unattributed = Unattributed::walk;

    // a page request taken for stage 2 at S1(IOVA)
    iommu_hwpt_pgfault f{};
    f.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    f.dev_id = 1;
    f.grpid = 7;
    f.perm = IOMMU_PGFAULT_PERM_READ;
    f.addr = 0x101010;
    f.cookie = 3;
    iopfd::PgFaultOutcome o;
    o.action = "map";
    o.code = IOMMUFD_PAGE_RESP_SUCCESS;
    o.inferred = "stage2";
    o.walk = "mapped";
    o.ipa = 0x80001010;
    o.window = {0x80001000, 1};
    o.mapped.push_back({0x10, IOPF_STAGE_2, std::nullopt, 0x80001000, 0x7f0000000000, 0x1000,
                        IOPF_PERM_READ | IOPF_PERM_WRITE});
    Json j = iopfd::pgfault_line(d, f, o, std::nullopt);
    CHECK(
        j.dump() ==
        R"({"kind":"fault","via":"iommufd","sid":16,"dev_id":1,"pasid":null,"grpid":7,"perm":["read"],"addr":"0x101010","flags":["last_page"],"cookie":3,"length":0,"action":"map","code":"success","vsid":66,"unattributed":"walk","inferred":"stage2","walk":"mapped","ipa":"0x80001010","stage":2,"window":"0x80001000","window_pages":1,"mapped":[{"addr":"0x80001000","pages":1,"perm":"rw"}],"pages":1,"already":0,"us":0,"ok":true})");
    Summary s;
    s.add_store_line(j);
    CHECK(s.iommufd.success == 1);

    // one forwarded to the guest, which mapped its stage 1
    iopfd::PgFaultOutcome g;
    g.action = "map";
    g.code = IOMMUFD_PAGE_RESP_SUCCESS;
    g.inferred = "stage1";
    g.walk = "unmapped";
    g.stage = IOPF_STAGE_1;
    g.window = {0x300000, 1};
    g.mapped.push_back({0x10, IOPF_STAGE_1, std::nullopt, 0x300000, 0x80000000, 0x1000,
                        IOPF_PERM_READ | IOPF_PERM_WRITE});
    Json k = iopfd::pgfault_line(d, f, g, std::nullopt);
    CHECK(k.at("inferred").as_string() == "stage1");
    CHECK(k.at("stage").as_u64() == 1);
    CHECK(k.at("mapped").as_array()[0].at("out_addr").as_string() == "0x80000000");
    CHECK_FALSE(k.find("ipa"));

    // a vEVENTQ record: the vSID in the record, its fields decoded
    Vevent e;
    e.sequence = 5;
    e.evt = {0x0000004200000010ull | (1ull << 11) | (3ull << 12),
             (2ull << 40) /* CLASS IN */ | (1ull << 35) /* RnW */, 0x200000, 0};
    VeventLedger l(5);
    auto fed = l.feed(e.flags, e.sequence);
    Json v = iopfd::vevent_line(d, e, fed);
    CHECK(v.at("kind").as_string() == "fault");
    CHECK(v.at("via").as_string() == "vevent");
    CHECK(v.at("sid").as_u64() == 0x10);
    CHECK(v.at("vsid").as_u64() == 0x42);
    CHECK(v.at("record_sid").as_u64() == 0x42);
    CHECK(v.at("vsid_ok").as_bool());
    CHECK(v.at("event").as_string() == "F_TRANSLATION");
    CHECK(v.at("ssid").as_u64() == 3);
    CHECK_FALSE(v.at("stall").as_bool());
    CHECK(v.at("stage").as_u64() == 1);
    CHECK(v.at("addr").as_string() == "0x200000");
    CHECK(v.at("ipa").is_null());
    CHECK(v.at("books").as_string() == "in_order");
    CHECK_FALSE(iopfd::vevent_loss_line(d, e, fed));
    s.add_store_line(v);
    CHECK(s.vevents.received == 1);

    // a LOST_EVENTS header: a loss line, with what was lost
    Vevent h;
    h.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
    h.sequence = 99;
    auto hf = l.feed(h.flags, h.sequence);
    auto loss = iopfd::vevent_loss_line(d, h, hf);
    REQUIRE(loss);
    CHECK(
        loss->dump() ==
        R"({"kind":"loss","what":"vevent_tail","sid":16,"vsid":66,"sequence":99,"expected":6,"first":6,"lost":94})");
    s.add_store_line(*loss);
    CHECK(s.vevents.lost == 94);
    Json books = iopfd::vevent_books(d); // d's own ledger: nothing fed
    CHECK(books.at("received").as_u64() == 0);
}

#endif // IOPF_HAVE_IOMMUFD_NESTED
