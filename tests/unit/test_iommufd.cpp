// SPDX-License-Identifier: GPL-2.0
// The iommufd client (upstream's road) without a kernel: the fault queue's
// records over a socketpair (one read of a batch, one write of the answers,
// in the uAPI's layout), move-only ownership, and errors that name the ioctl,
// from /dev/null (ENOTTY) and missing device nodes. Built only with an
// iommufd uAPI that has the fault queue (IOPF_KERNEL_UAPI).
#ifdef IOPF_HAVE_IOMMUFD

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/iommufd.hpp"

using namespace iopf;

namespace {

static_assert(!std::is_copy_constructible_v<UniqueFd> &&
              std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(!std::is_copy_constructible_v<FaultQueue> &&
              std::is_move_constructible_v<FaultQueue>);
static_assert(!std::is_copy_constructible_v<Iommufd> && std::is_move_constructible_v<Iommufd>);
static_assert(!std::is_copy_constructible_v<Bridge> && std::is_move_constructible_v<Bridge>);

struct Pair {
    UniqueFd ours, peer;
};

Pair socket_pair(int type) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0);
    return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

iommu_hwpt_pgfault pgfault(uint32_t i) {
    iommu_hwpt_pgfault f{};
    f.flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | (i % 2 ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0);
    f.dev_id = 1;
    f.pasid = 5 + i;
    f.grpid = 0x100 + i;
    f.perm = IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE;
    f.addr = 0x80000000ull + 0x1000ull * i;
    f.length = 0;
    f.cookie = 40 + i;
    return f;
}

void put_faults(int fd, uint32_t first, uint32_t n) {
    std::vector<iommu_hwpt_pgfault> v;
    for (uint32_t i = first; i < first + n; i++)
        v.push_back(pgfault(i));
    const auto bytes = static_cast<ssize_t>(v.size() * sizeof(v[0]));
    REQUIRE(::write(fd, v.data(), static_cast<size_t>(bytes)) == bytes);
}

void check_fault(const iommu_hwpt_pgfault& got, uint32_t i) {
    const iommu_hwpt_pgfault want = pgfault(i);
    INFO("record " << i);
    CHECK(got.flags == want.flags);
    CHECK(got.dev_id == want.dev_id);
    CHECK(got.pasid == want.pasid);
    CHECK(got.grpid == want.grpid);
    CHECK(got.perm == want.perm);
    CHECK(got.addr == want.addr);
    CHECK(got.cookie == want.cookie);
}

UniqueFd dev_null(int flags) {
    int fd = ::open("/dev/null", flags | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return UniqueFd(fd);
}

bool closed(int fd) {
    return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// Runs `f`, which must throw iopf::Error with `err` and text starting `what`.
template <typename F> void expect_error(F&& f, int err, const std::string& what) {
    try {
        f();
        FAIL("no error; expected " << what);
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.err() == err);
        CHECK(std::string(e.what()).rfind(what, 0) == 0);
    }
}

} // namespace

TEST_CASE("iommufd: a FaultQueue reads a batch of records in one read", "[iommufd]") {
    auto [ours, peer] = socket_pair(SOCK_STREAM);
    FaultQueue fq(7, std::move(ours));
    CHECK(fq.id() == 7);

    put_faults(peer.get(), 0, 3);
    auto got = fq.read(8);
    REQUIRE(got.size() == 3);
    for (uint32_t i = 0; i < 3; i++)
        check_fault(got[i], i);

    // at most `max` records per read; the rest stays for the next one
    put_faults(peer.get(), 3, 5);
    got = fq.read(2);
    REQUIRE(got.size() == 2);
    check_fault(got[0], 3);
    check_fault(got[1], 4);
    got = fq.read(64);
    REQUIRE(got.size() == 3);
    check_fault(got[2], 7);
    CHECK(fq.read(0).empty());

    // nothing pending: EAGAIN on a non-blocking fd is an empty batch...
    REQUIRE(::fcntl(fq.fd(), F_SETFL, O_NONBLOCK) == 0);
    CHECK(fq.read().empty());
    // ... as is the kernel's 0-byte read (here: the peer gone)
    peer.reset();
    CHECK(fq.read().empty());
}

TEST_CASE("iommufd: a read that is not whole records is EPROTO", "[iommufd]") {
    auto [ours, peer] = socket_pair(SOCK_STREAM);
    FaultQueue fq(3, std::move(ours));
    const iommu_hwpt_pgfault f = pgfault(0);
    REQUIRE(::write(peer.get(), &f, 20) == 20);
    expect_error([&] { fq.read(4); }, EPROTO,
                 "IOMMU fault queue 3: read 20 bytes, not whole 40-byte records");
}

TEST_CASE("iommufd: responses are written in the uAPI's layout, one write per batch", "[iommufd]") {
    // SOCK_SEQPACKET keeps write boundaries: one message per write(2)
    auto [ours, peer] = socket_pair(SOCK_SEQPACKET);
    FaultQueue fq(9, std::move(ours));

    const std::vector<iommu_hwpt_page_response> rs = {
        {41, IOMMUFD_PAGE_RESP_SUCCESS},
        {43, IOMMUFD_PAGE_RESP_INVALID},
        {0xfffffffe, IOMMUFD_PAGE_RESP_SUCCESS},
    };
    fq.respond_batch(rs);
    uint32_t words[16] = {};
    ssize_t n = ::recv(peer.get(), words, sizeof(words), 0);
    REQUIRE(n == 24); // the three answers in one message
    const uint32_t want[] = {41, 0, 43, 1, 0xfffffffe, 0};
    CHECK(std::memcmp(words, want, sizeof(want)) == 0);

    fq.respond(45, IOMMUFD_PAGE_RESP_INVALID);
    n = ::recv(peer.get(), words, sizeof(words), 0);
    REQUIRE(n == 8);
    CHECK(words[0] == 45);
    CHECK(words[1] == IOMMUFD_PAGE_RESP_INVALID);

    fq.respond_batch({}); // nothing to write: no write
    REQUIRE(::fcntl(peer.get(), F_SETFL, O_NONBLOCK) == 0);
    n = ::recv(peer.get(), words, sizeof(words), 0);
    const int err = errno;
    CHECK(n == -1);
    CHECK(err == EAGAIN);
}

TEST_CASE("iommufd: errors carry the errno and name the call", "[iommufd]") {
    // a fault fd that refuses: the answer that failed is named
    FaultQueue ro(3, dev_null(O_RDONLY));
    const std::vector<iommu_hwpt_page_response> rs = {{5, IOMMUFD_PAGE_RESP_SUCCESS},
                                                      {6, IOMMUFD_PAGE_RESP_INVALID}};
    expect_error([&] { ro.respond_batch(rs); }, EBADF,
                 "IOMMU fault queue 3: response 1 of 2 (cookie 5, code 0): Bad file descriptor");
    FaultQueue wo(4, dev_null(O_WRONLY));
    expect_error([&] { wo.read(); }, EBADF, "IOMMU fault queue 4: read: Bad file descriptor");

    expect_error([] { Iommufd i("/nonexistent/iommu"); }, ENOENT, "open /nonexistent/iommu");
    expect_error([] { Bridge b("/nonexistent/iopf_testbed"); }, ENOENT,
                 "open /nonexistent/iopf_testbed");

    // /dev/null has no ioctls: ENOTTY, with the ioctl and its arguments
    Iommufd ictx(dev_null(O_RDWR));
    expect_error([&] { ictx.ioas_alloc(); }, ENOTTY, "IOMMU_IOAS_ALLOC: ");
    char page[4096];
    expect_error([&] { ictx.ioas_map(2, 0x100000, page, sizeof(page)); }, ENOTTY,
                 "IOMMU_IOAS_MAP ioas 2 iova 0x100000 length 0x1000: ");
    expect_error([&] { ictx.ioas_map(2, std::nullopt, page, sizeof(page), Iommufd::kRead); },
                 ENOTTY, "IOMMU_IOAS_MAP ioas 2 iova any length 0x1000: ");
    // refused before the kernel is asked
    expect_error([&] { ictx.ioas_map(2, 0, page, sizeof(page), 0x8); }, EINVAL,
                 "IOMMU_IOAS_MAP ioas 2 iova 0x0 length 0x1000: prot 0x8");
    expect_error([&] { ictx.fault_queue_alloc(); }, ENOTTY, "IOMMU_FAULT_QUEUE_ALLOC: ");
    expect_error([&] { ictx.hwpt_alloc(1, 2, 3); }, ENOTTY,
                 "IOMMU_HWPT_ALLOC dev_id 1 pt_id 2 fault_id 3: ");
    expect_error([&] { ictx.hwpt_alloc(1, 2); }, ENOTTY, "IOMMU_HWPT_ALLOC dev_id 1 pt_id 2: ");
    expect_error([&] { ictx.destroy(9); }, ENOTTY, "IOMMU_DESTROY id 9: ");

    Bridge br(dev_null(O_RDWR));
    expect_error([&] { br.bind(0x10, ictx); }, ENOTTY, "IOPF_BRIDGE_BIND sid 0x10: ");
    expect_error([&] { br.attach(1, 2); }, ENOTTY, "IOPF_BRIDGE_ATTACH dev_id 1 pt_id 2: ");
    expect_error([&] { br.detach(1); }, ENOTTY, "IOPF_BRIDGE_DETACH dev_id 1: ");
    expect_error([&] { br.unbind(1); }, ENOTTY, "IOPF_BRIDGE_UNBIND dev_id 1: ");
}

TEST_CASE("iommufd: UniqueFd closes once, its last owner", "[iommufd]") {
    UniqueFd n = dev_null(O_RDONLY);
    const int fd = n.get();
    {
        UniqueFd a(n.release());
        CHECK(!n);
        UniqueFd b(std::move(a));
        CHECK(!a);
        CHECK(b.get() == fd);
        Iommufd ictx(std::move(b));
        CHECK(ictx.fd() == fd);
        Iommufd moved(std::move(ictx));
        CHECK(moved.fd() == fd);
        CHECK(::fcntl(fd, F_GETFD) >= 0);
    }
    CHECK(closed(fd));

    // assignment closes what it held
    UniqueFd x = dev_null(O_RDONLY);
    const int old = x.get();
    x = dev_null(O_RDONLY);
    CHECK(x.get() != old);
    CHECK(closed(old));
}

#endif // IOPF_HAVE_IOMMUFD
