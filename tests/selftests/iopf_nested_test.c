// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_nested_test: nested translation on upstream's road (issue 18,
 * Documentation/upstream-path.md). A bridged device attached to a nested
 * HWPT of the mock SMMU's vIOMMU; this program is the VMM: NEST_PARENT
 * stage 2, vIOMMU, vDEVICE (the guest's StreamID), a fault queue on the
 * nested HWPT, a vEVENTQ. Run as root in the guest by upstream.sh.
 *
 *   nested.vsid         a non-stalled stage-1 event -> the vEVENTQ, the raw
 *                       record with the vSID in place of the StreamID
 *   nested.stall_s2     a stalled stage-2 fault -> the nested HWPT's fault
 *                       queue with addr = the IOVA (no IPA, no stage), as
 *                       upstream does; the answer RESUMEs it
 *   nested.s2_dropped   a non-stalled stage-2 event reaches no queue; the
 *                       module counts it (UPSTREAM_UNHANDLED)
 *   nested.two_roads    each kind of record on the RFC's road and on
 *                       upstream's, side by side (the docs' table)
 *   nested.flood        depth 4, 100 events: 4 read, then LOST_EVENTS with
 *                       the sequence of the last one lost; the next goes on
 *   nested.no_veventq   no vEVENTQ: the event is counted (VEVENT_ERRORS)
 *   nested.access       a stalled DMA access whose stage-1 table walk faults
 *                       at stage 2: the VMM reads a page request for the
 *                       IOVA, exactly as for a stage-1 fault
 *   attach.*            the vDEVICE first for a translating vSTE; invalid
 *                       vSTEs refused -EIO as arm_smmu_validate_vste()
 *   teardown_orders     vEVENTQ, vDEVICE, nested HWPT, vIOMMU destroyed in
 *                       all 24 orders with events and a request in flight
 *   oracle_vevent       the header semantics of upstream's own mock
 *                       (IOMMU_TEST_OP_TRIGGER_VEVENT) and ours agree
 *
 * The sequence wraps at 2^31 (iommufd: & INT_MAX) inside iommufd, which no
 * driver can move: the readers' wrap is unit-tested in user space.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#include "kselftest_harness.h"

#include <iopf_testbed/fault_core.h>
#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_tb.h"
#include "iopf_road.h"

#define VSID		0x42u
#define VSTE_S1		(STRTAB_STE_0_V | \
			 ((uint64_t)STRTAB_STE_0_CFG_S1_TRANS << 1))
#define VSTE_BYPASS	(STRTAB_STE_0_V | \
			 ((uint64_t)STRTAB_STE_0_CFG_BYPASS << 1))

static void __attribute__((constructor)) nested_unbuffered(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

struct vevent {
	struct iommufd_vevent_header hdr;
	struct iommu_vevent_arm_smmuv3 evt;
};

struct nest {
	struct road r;
	uint32_t parent;
	uint32_t viommu;
	uint32_t vdev;
	uint32_t nested;
	uint32_t veventq;
	int veventq_fd;
};

static int iommu_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd) ? -errno : 0;
}

static int parent_alloc(int fd, uint32_t dev_id, uint32_t ioas, uint32_t *id)
{
	return hwpt_alloc_data(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, dev_id, ioas,
			       IOMMU_HWPT_DATA_NONE, NULL, 0, NULL, id);
}

static int viommu_alloc(int fd, uint32_t type, uint32_t dev_id,
			uint32_t parent, void *data, uint32_t len,
			uint32_t *id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = parent,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	if (ioctl(fd, IOMMU_VIOMMU_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_viommu_id;
	return 0;
}

static int vdevice_alloc(int fd, uint32_t viommu, uint32_t dev_id,
			 uint64_t virt_id, uint32_t *id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};

	if (ioctl(fd, IOMMU_VDEVICE_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_vdevice_id;
	return 0;
}

static int nested_alloc(int fd, uint32_t dev_id, uint32_t viommu,
			uint32_t data_type, void *data, uint32_t len,
			const uint32_t *fault_id, uint32_t *id)
{
	return hwpt_alloc_data(fd, 0, dev_id, viommu, data_type, data, len,
			       fault_id, id);
}

static int vste_alloc(struct nest *n, uint64_t ste0, uint64_t ste1,
		      uint32_t *id)
{
	struct iommu_hwpt_arm_smmuv3 vste = { .ste = { ste0, ste1 } };

	return nested_alloc(n->r.iommufd, n->r.dev_id, n->viommu,
			    IOMMU_HWPT_DATA_ARM_SMMUV3, &vste, sizeof(vste),
			    &n->r.fault_id, id);
}

static int veventq_alloc(int fd, uint32_t viommu, uint32_t type,
			 uint32_t depth, uint32_t *id, int *qfd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = type,
		.veventq_depth = depth,
	};

	if (ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_veventq_id;
	*qfd = cmd.out_veventq_fd;
	return 0;
}

/*
 * Everything but the vDEVICE's use and the vEVENTQ: bound, IOAS, NEST_PARENT
 * stage 2, vIOMMU, fault queue. Returns NULL or a SKIP reason.
 */
static const char *nest_base(struct __test_metadata *_metadata, struct nest *n)
{
	const char *skip;
	int ret;

	memset(n, 0, sizeof(*n));
	n->veventq_fd = -1;
	skip = road_bind(_metadata, &n->r);
	if (skip)
		return skip;
	ret = parent_alloc(n->r.iommufd, n->r.dev_id, n->r.ioas, &n->parent);
	ASSERT_EQ(0, ret) TH_LOG("NEST_PARENT HWPT: %s", strerror(-ret));
	ret = viommu_alloc(n->r.iommufd, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
			   n->r.dev_id, n->parent, NULL, 0, &n->viommu);
	ASSERT_EQ(0, ret) TH_LOG("VIOMMU_ALLOC: %s", strerror(-ret));
	ASSERT_EQ(0, fault_alloc(n->r.iommufd, &n->r.fault_id,
				 &n->r.fault_fd));
	return NULL;
}

/* The whole nest: vDEVICE, translating nested HWPT attached, vEVENTQ */
static const char *nest_open(struct __test_metadata *_metadata, struct nest *n,
			     uint32_t depth)
{
	const char *skip = nest_base(_metadata, n);
	int ret;

	if (skip)
		return skip;
	ret = vdevice_alloc(n->r.iommufd, n->viommu, n->r.dev_id, VSID,
			    &n->vdev);
	ASSERT_EQ(0, ret) TH_LOG("VDEVICE_ALLOC: %s", strerror(-ret));
	ret = vste_alloc(n, VSTE_S1, 0, &n->nested);
	ASSERT_EQ(0, ret) TH_LOG("nested HWPT: %s", strerror(-ret));
	ret = road_attach(&n->r, n->nested);
	ASSERT_EQ(0, ret) TH_LOG("ATTACH nested: %s", strerror(-ret));
	if (depth) {
		ret = veventq_alloc(n->r.iommufd, n->viommu,
				    IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, depth,
				    &n->veventq, &n->veventq_fd);
		ASSERT_EQ(0, ret) TH_LOG("VEVENTQ_ALLOC: %s", strerror(-ret));
	}
	return NULL;
}

static void nest_close(struct nest *n)
{
	if (n->veventq_fd >= 0)
		close(n->veventq_fd);
	n->veventq_fd = -1;
	road_close(&n->r);
}

/* A record: stage-1 or -2 translation fault, stalled or not */
static void evt_record(uint32_t sid, bool stall, bool s2, uint32_t stag,
		       uint64_t iova, uint64_t ipa, uint64_t evt[4])
{
	evt[0] = ((uint64_t)sid << 32) | EVT_ID_TRANSLATION_FAULT;
	evt[1] = EVTQ_1_RnW | ((uint64_t)IOPF_EVT_CLASS_IN << 40);
	if (stall)
		evt[1] |= EVTQ_1_STALL | stag;
	if (s2)
		evt[1] |= EVTQ_1_S2;
	evt[2] = iova;
	evt[3] = s2 ? ipa : 0;
}

/* Whole entries of the vEVENTQ: a LOST_EVENTS header is 8 bytes alone */
static int read_vevents(int fd, struct vevent *out, int max, int ms)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t len;
	int n = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	len = read(fd, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	while (off + sizeof(struct iommufd_vevent_header) <= (size_t)len &&
	       n < max) {
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n].hdr, buf + off, sizeof(out[n].hdr));
		off += sizeof(out[n].hdr);
		if (!(out[n].hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
			if (off + sizeof(out[n].evt) > (size_t)len)
				return -EPROTO;
			memcpy(&out[n].evt, buf + off, sizeof(out[n].evt));
			off += sizeof(out[n].evt);
		}
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* nested.*                                                            */
/* ------------------------------------------------------------------ */

FIXTURE(nested) {
	struct nest n;
};

FIXTURE_SETUP(nested)
{
	const char *skip = nest_open(_metadata, &self->n, 64);

	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(nested)
{
	nest_close(&self->n);
	tb_teardown(&self->n.r.t);
}

TEST_F(nested, vsid)
{
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	struct vevent v[2];
	uint64_t evt[4];
	int i;

	evt_record(self->n.r.sid, false, false, 0, 0x123000, 0, evt);
	evt[1] |= EVTQ_1_PnU | EVTQ_1_InD;
	inject(_metadata, evt);
	recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	EXPECT_EQ(self->n.r.sid, ev.fault.sid);

	ASSERT_EQ(1, read_vevents(self->n.veventq_fd, v, 2, EV_TIMEOUT_MS));
	EXPECT_EQ(0u, v[0].hdr.flags);
	EXPECT_EQ(0u, v[0].hdr.sequence);
	EXPECT_EQ((evt[0] & ~EVTQ_0_SID) | ((uint64_t)VSID << 32),
		  (uint64_t)le64toh(v[0].evt.evt[0]))
		TH_LOG("the vSID replaces the StreamID, nothing else changes");
	for (i = 1; i < 4; i++)
		EXPECT_EQ(evt[i], (uint64_t)le64toh(v[0].evt.evt[i]));
	EXPECT_EQ(0, read_vevents(self->n.veventq_fd, v, 2, QUIET_MS));

	dev_get(_metadata, &self->n.r.t, self->n.r.sid, &d);
	EXPECT_EQ(1ull, DS(d, VEVENTS));
	EXPECT_EQ(0ull, DS(d, VEVENT_ERRORS));
	EXPECT_EQ(0ull, DS(d, UPSTREAM_UNHANDLED));
	EXPECT_EQ(1ull, DS(d, INJECTED));
}

TEST_F(nested, stall_s2)
{
	struct iommu_hwpt_pgfault f;
	struct iopf_nl_event ev;
	struct vevent v;
	uint64_t evt[4];

	evt_record(self->n.r.sid, true, true, 0x21, 0x5000, 0x9000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	/* The RFC's road says it is stage 2, with the IPA */
	EXPECT_NE(0u, ev.fault.flags & (uint32_t)IOPF_PRQ_L2);
	EXPECT_EQ(0x9000ull, ev.fault.addr);

	ASSERT_EQ(1, read_faults(self->n.r.fault_fd, &f, 1, EV_TIMEOUT_MS));
	/* Upstream's: the IOVA, and nothing says which stage */
	EXPECT_EQ(0x5000ull, f.addr);
	EXPECT_EQ(0x21u, f.grpid);
	EXPECT_EQ(self->n.r.dev_id, f.dev_id);
	EXPECT_EQ((uint32_t)IOMMU_PGFAULT_FLAGS_LAST_PAGE, f.flags);
	EXPECT_EQ(0, read_vevents(self->n.veventq_fd, &v, 1, QUIET_MS));

	ASSERT_EQ((ssize_t)sizeof(struct iommu_hwpt_page_response),
		  respond(self->n.r.fault_fd, f.cookie,
			  IOMMUFD_PAGE_RESP_SUCCESS));
	recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_RESUME_NTF, "resume");
	EXPECT_EQ(0x21u, ev.resume.stag);
	EXPECT_EQ((uint32_t)IOPF_RESUME_RETRY, ev.resume.resp);
	EXPECT_EQ((uint32_t)IOPF_ORIGIN_RESPONSE, ev.resume.origin);
}

TEST_F(nested, s2_dropped)
{
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	struct iommu_hwpt_pgfault f;
	struct vevent v;
	uint64_t evt[4];

	evt_record(self->n.r.sid, false, true, 0, 0x6000, 0xa000, evt);
	inject(_metadata, evt);
	/* Heard once on the RFC's road: stage 2, the IOVA and the IPA */
	recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	EXPECT_EQ(2u, ev.fault.level);
	EXPECT_EQ(0x6000ull, ev.fault.addr);
	EXPECT_EQ(0xa000ull, ev.fault.ipa);
	EXPECT_EQ(0, read_vevents(self->n.veventq_fd, &v, 1, QUIET_MS))
		TH_LOG("a stage-2 event reached the vEVENTQ");
	EXPECT_EQ(0, read_faults(self->n.r.fault_fd, &f, 1, 0));
	dev_get(_metadata, &self->n.r.t, self->n.r.sid, &d);
	EXPECT_EQ(1ull, DS(d, UPSTREAM_UNHANDLED));
	EXPECT_EQ(0ull, DS(d, VEVENTS));
}

TEST_F(nested, no_veventq)
{
	struct iopf_nl_dev d;
	uint64_t evt[4];

	close(self->n.veventq_fd);
	self->n.veventq_fd = -1;
	ASSERT_EQ(0, iommu_destroy(self->n.r.iommufd, self->n.veventq));
	evt_record(self->n.r.sid, false, false, 0, 0x7000, 0, evt);
	inject(_metadata, evt);
	dev_get(_metadata, &self->n.r.t, self->n.r.sid, &d);
	EXPECT_EQ(1ull, DS(d, VEVENT_ERRORS));
	EXPECT_EQ(0ull, DS(d, VEVENTS));
}

/*
 * The RFC's loop on upstream's road: the guest mapped stage 1, the VMM has
 * not mapped stage 2 (not pinned). The walk of the stage-1 table faults at
 * stage 2; the VMM reads a page request for the IOVA, which the same access
 * would raise for a missing stage-1 page.
 */
TEST_F(nested, access)
{
	struct iommu_hwpt_pgfault f;
	struct iopf_nl_access a;
	struct iopf_nl_event ev;
	int ret;

	ret = iopf_map(self->n.r.t.nl, self->n.r.sid, IOPF_STAGE_1, NULL,
		       0x40000, 0x80000, 0x1000, IOPF_PERM_READ);
	ASSERT_EQ(0, ret) TH_LOG("stage-1 map: %s", strerror(-ret));
	ret = iopf_access(self->n.r.t.nl, self->n.r.sid, NULL, 0x40000, 0x100,
			  IOPF_PERM_READ, true, &a);
	ASSERT_EQ(0, ret) TH_LOG("ACCESS: %s", strerror(-ret));
	recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	EXPECT_NE(0u, ev.fault.flags & (uint32_t)IOPF_PRQ_L2);
	ASSERT_EQ(1, read_faults(self->n.r.fault_fd, &f, 1, EV_TIMEOUT_MS));
	EXPECT_EQ(0x40000ull, f.addr);
	EXPECT_EQ((uint32_t)IOMMU_PGFAULT_FLAGS_LAST_PAGE, f.flags);
	ASSERT_LT(0, respond(self->n.r.fault_fd, f.cookie,
			     IOMMUFD_PAGE_RESP_INVALID));
}

/*
 * The RFC's question, record by record: what the RFC's road (the faults
 * group: level, IPA) and upstream's road (fault queue, vEVENTQ) make of each
 * kind of record of one nested device. Prints the table
 * Documentation/upstream-path.md shows, each row checked.
 */
TEST_F(nested, two_roads)
{
	static const struct {
		const char *kind;
		bool stall, s2, tt, ssv;
		uint64_t iova, ipa;
		/* the RFC's road */
		uint32_t level;
		uint64_t rfc_addr;
		/* upstream's: 'f' fault queue, 'v' vEVENTQ, '-' nowhere */
		char up;
	} k[] = {
		{ "stalled, stage 1", true, false, false, false, 0x1000, 0, 1, 0x1000, 'f' },
		{ "stalled, stage 1, SubstreamID 5", true, false, false, true, 0x1000, 0, 1, 0x1000, 'f' },
		{ "stalled, stage 2 (the input's IPA)", true, true, false, false, 0x2000, 0x8000, 2, 0x8000, 'f' },
		{ "stalled, stage 2 (the stage-1 table walk)", true, true, true, false, 0x3000, 0x7f000, 2, 0x7f000, 'f' },
		{ "not stalled, stage 1", false, false, false, false, 0x4000, 0, 1, 0x4000, 'v' },
		{ "not stalled, stage 2", false, true, false, false, 0x5000, 0x9000, 2, 0x5000, '-' },
	};
	unsigned int i;

	printf("# two-roads | record of a nested device | the RFC's road (faults group) | upstream's road (iommufd) |\n");
	printf("# two-roads |---|---|---|\n");
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct iommu_hwpt_pgfault f;
		struct iopf_nl_event ev;
		char rfc[96], up[128];
		struct vevent v;
		uint64_t evt[4];
		int nf, nv;

		evt_record(self->n.r.sid, k[i].stall, k[i].s2, 0x40 + i,
			   k[i].iova, k[i].ipa, evt);
		if (k[i].tt)
			evt[1] = (evt[1] & ~EVTQ_1_CLASS) | EVTQ_1_TT_READ |
				 ((uint64_t)IOPF_EVT_CLASS_TT << 40);
		if (k[i].ssv)
			evt[0] |= EVTQ_0_SSV | (5ull << 12);
		inject(_metadata, evt);
		recv_ev(_metadata, &self->n.r.t, &ev, IOPF_CMD_FAULT_NTF, k[i].kind);
		EXPECT_EQ(k[i].level, ev.fault.level) TH_LOG("%s", k[i].kind);
		EXPECT_EQ(k[i].rfc_addr, ev.fault.addr) TH_LOG("%s", k[i].kind);
		if (!k[i].stall && k[i].s2)
			EXPECT_EQ(k[i].ipa, ev.fault.ipa) TH_LOG("%s", k[i].kind);
		if (!k[i].stall && k[i].s2)
			snprintf(rfc, sizeof(rfc),
				 "unrecoverable, stage 2, IOVA 0x%llx, IPA 0x%llx",
				 (unsigned long long)ev.fault.addr,
				 (unsigned long long)ev.fault.ipa);
		else
			snprintf(rfc, sizeof(rfc), "%s, stage %u, %s 0x%llx%s",
				 k[i].stall ? "page request" : "unrecoverable",
				 ev.fault.level,
				 ev.fault.level == 2 ? "IPA" : "IOVA",
				 (unsigned long long)ev.fault.addr,
				 k[i].ssv ? ", PASID 5" : "");

		nf = read_faults(self->n.r.fault_fd, &f, 1, k[i].up == 'f' ?
				 EV_TIMEOUT_MS : QUIET_MS);
		nv = read_vevents(self->n.veventq_fd, &v, 1, k[i].up == 'v' ?
				  EV_TIMEOUT_MS : QUIET_MS);
		EXPECT_EQ(k[i].up == 'f', nf == 1) TH_LOG("%s", k[i].kind);
		EXPECT_EQ(k[i].up == 'v', nv == 1) TH_LOG("%s", k[i].kind);
		if (nf == 1) {
			EXPECT_EQ(k[i].iova, f.addr) TH_LOG("%s", k[i].kind);
			snprintf(up, sizeof(up),
				 "fault queue: page request, IOVA 0x%llx%s, no stage",
				 (unsigned long long)f.addr,
				 f.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ?
					 ", PASID_VALID" : "");
			respond(self->n.r.fault_fd, f.cookie,
				IOMMUFD_PAGE_RESP_INVALID);
		} else if (nv == 1) {
			snprintf(up, sizeof(up),
				 "vEVENTQ: the raw record, StreamID 0x%llx (the vSID)",
				 (unsigned long long)(le64toh(v.evt.evt[0]) >> 32));
		} else {
			snprintf(up, sizeof(up), "nowhere (UPSTREAM_UNHANDLED)");
		}
		printf("# two-roads | %s | %s | %s |\n", k[i].kind, rfc, up);
		/* Its RESUME (the answer above, or the driver's abort) */
		if (k[i].stall)
			recv_ev(_metadata, &self->n.r.t, &ev,
				IOPF_CMD_RESUME_NTF, "resume");
	}
}

/* Depth 4, 100 events: the first 4, then one LOST_EVENTS header */
TEST_F(nested, flood)
{
	enum { N = 100, DEPTH = 4 };
	struct nest *n = &self->n;
	uint64_t evt[N][4];
	struct vevent v[N];
	struct iopf_nl_dev d;
	int i, got;

	/* One vEVENTQ per type: the fixture's goes, one of depth 4 comes */
	close(n->veventq_fd);
	n->veventq_fd = -1;
	ASSERT_EQ(0, iommu_destroy(n->r.iommufd, n->veventq));
	ASSERT_EQ(0, veventq_alloc(n->r.iommufd, n->viommu,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, DEPTH,
				   &n->veventq, &n->veventq_fd));
	for (i = 0; i < N; i++)
		evt_record(n->r.sid, false, false, 0, 0x1000ull * i, 0, evt[i]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);
	got = read_vevents(n->veventq_fd, v, N, EV_TIMEOUT_MS);
	ASSERT_EQ(DEPTH + 1, got);
	for (i = 0; i < DEPTH; i++) {
		EXPECT_EQ(0u, v[i].hdr.flags);
		EXPECT_EQ((uint32_t)i, v[i].hdr.sequence);
		EXPECT_EQ(0x1000ull * i, (uint64_t)le64toh(v[i].evt.evt[2]));
	}
	EXPECT_EQ((uint32_t)IOMMU_VEVENTQ_FLAG_LOST_EVENTS, v[DEPTH].hdr.flags);
	EXPECT_EQ((uint32_t)(N - 1), v[DEPTH].hdr.sequence)
		TH_LOG("the LOST_EVENTS header has the last lost event's sequence");
	printf("# flood: %d events sent to a vEVENTQ of depth %d: %d read, %d reported lost (LOST_EVENTS, sequence %u)\n",
	       N, DEPTH, DEPTH, N - DEPTH, v[DEPTH].hdr.sequence);

	/* Read out: the next event goes on after the lost ones */
	inject(_metadata, evt[0]);
	ASSERT_EQ(1, read_vevents(n->veventq_fd, v, N, EV_TIMEOUT_MS));
	EXPECT_EQ(0u, v[0].hdr.flags);
	EXPECT_EQ((uint32_t)N, v[0].hdr.sequence);

	/* The module handed all of them over: the loss is iommufd's queue */
	dev_get(_metadata, &n->r.t, n->r.sid, &d);
	EXPECT_EQ((uint64_t)N + 1, DS(d, VEVENTS));
	EXPECT_EQ(0ull, DS(d, VEVENT_ERRORS));
}

/* ------------------------------------------------------------------ */
/* attach.*: the vDEVICE and the vSTE                                  */
/* ------------------------------------------------------------------ */

FIXTURE(attach) {
	struct nest n;
};

FIXTURE_SETUP(attach)
{
	const char *skip = nest_base(_metadata, &self->n);

	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(attach)
{
	nest_close(&self->n);
	tb_teardown(&self->n.r.t);
}

/* arm_smmu_attach_prepare_vmaster(): translate needs the vSID first */
TEST_F(attach, vdevice_first)
{
	struct iopf_nl_dev d;
	uint32_t s1 = 0, bypass = 0;
	uint64_t evt[4];

	ASSERT_EQ(0, vste_alloc(&self->n, VSTE_S1, 0, &s1));
	EXPECT_EQ(-ENOENT, road_attach(&self->n.r, s1));
	/* Bypass needs none; without a vmaster its events go nowhere */
	ASSERT_EQ(0, vste_alloc(&self->n, VSTE_BYPASS, 0, &bypass));
	ASSERT_EQ(0, road_attach(&self->n.r, bypass));
	evt_record(self->n.r.sid, false, false, 0, 0x1000, 0, evt);
	inject(_metadata, evt);
	dev_get(_metadata, &self->n.r.t, self->n.r.sid, &d);
	EXPECT_EQ(1ull, DS(d, UPSTREAM_UNHANDLED));
	EXPECT_EQ((uint32_t)IOPF_STAGE_MODE_S2, d.stage_mode);

	ASSERT_EQ(0, vdevice_alloc(self->n.r.iommufd, self->n.viommu,
				   self->n.r.dev_id, VSID, &self->n.vdev));
	ASSERT_EQ(0, road_attach(&self->n.r, s1));
	dev_get(_metadata, &self->n.r.t, self->n.r.sid, &d);
	EXPECT_EQ((uint32_t)IOPF_STAGE_MODE_NESTED, d.stage_mode);
	EXPECT_EQ(s1, d.iommufd_pt_id);
}

static int nest_parent_with_queue(struct nest *n)
{
	uint32_t id = 0;

	return hwpt_alloc_data(n->r.iommufd, IOMMU_HWPT_ALLOC_NEST_PARENT,
			       n->r.dev_id, n->r.ioas, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, &n->r.fault_id, &id);
}

/* arm_smmu_validate_vste(): -EIO for what a guest may not ask */
TEST_F(attach, vste)
{
	static const struct {
		uint64_t ste0, ste1;
		int ret;
		const char *what;
	} c[] = {
		{ VSTE_S1, 0, 0, "stage-1 translate" },
		{ VSTE_BYPASS, 0, 0, "bypass" },
		{ STRTAB_STE_0_V, 0, 0, "abort" },
		{ 0, 0, 0, "not valid (abort)" },
		{ 0, ~0ull, 0, "not valid: the rest is ignored" },
		{ STRTAB_STE_0_V | (6ull << 1), 0, -EIO, "Config stage 2 only" },
		{ STRTAB_STE_0_V | (7ull << 1), 0, -EIO, "Config nested" },
		{ VSTE_S1 | (1ull << 52), 0, -EIO, "a bit above S1ContextPtr" },
		{ VSTE_S1, 1ull << 8, -EIO, "STE word 1 outside the allowed" },
		{ VSTE_S1, 2ull << 28, -EIO, "EATS S1CHK" },
		{ VSTE_S1, (1ull << 28) | 3, 0, "EATS trans, S1DSS" },
		{ VSTE_S1 | (0x1234ull << 6) | (3ull << 59), 1ull << 27, 0,
		  "S1ContextPtr, S1CDMax, S1STALLD" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint32_t id = 0;
		int ret = vste_alloc(&self->n, c[i].ste0, c[i].ste1, &id);

		EXPECT_EQ(c[i].ret, ret) TH_LOG("%s: %s", c[i].what,
						strerror(-ret));
		if (!ret)
			EXPECT_EQ(0, iommu_destroy(self->n.r.iommufd, id));
	}
	/* iommufd's own rule: no fault queue on a nesting parent */
	EXPECT_EQ(-EOPNOTSUPP, nest_parent_with_queue(&self->n));
}

/* ------------------------------------------------------------------ */
/* teardown.orders                                                     */
/* ------------------------------------------------------------------ */

/* The k-th permutation of {0, 1, 2, 3} */
static void perm4(int k, int p[4])
{
	int pool[4] = { 0, 1, 2, 3 }, n = 4, i, j;

	for (i = 0; i < 4; i++) {
		int f = 1, idx;

		for (j = 2; j < n; j++)
			f *= j;
		idx = k / f;
		k %= f;
		p[i] = pool[idx];
		for (j = idx; j < n - 1; j++)
			pool[j] = pool[j + 1];
		n--;
	}
}

/*
 * Each order: events waiting on the vEVENTQ and a request pending on the
 * fault queue; destroy the four objects in that order (the vEVENTQ's fd
 * closed just before its turn; each 0 or -EBUSY: a vIOMMU with users, an
 * attached HWPT), detach, destroy what is left in the same order until none
 * is. The request is RESUMEd exactly once.
 */
TEST(teardown_orders)
{
	static const char *const name[] = {
		"vEVENTQ", "vDEVICE", "nested HWPT", "vIOMMU"
	};
	int k, i, pass;

	for (k = 0; k < 24; k++) {
		struct iopf_bridge_cmd c = {};
		struct iopf_nl_event ev;
		uint32_t id[4];
		bool gone[4] = {};
		int order[4], left = 4, resumes = 0, ret;
		const char *skip;
		struct nest n;
		uint64_t evt[4];

		perm4(k, order);
		skip = nest_open(_metadata, &n, 8);
		if (skip) {
			tb_teardown(&n.r.t);
			SKIP(return, "%s", skip);
		}
		for (i = 0; i < 3; i++) {
			evt_record(n.r.sid, false, false, 0, 0x1000, 0, evt);
			inject(_metadata, evt);
		}
		evt_record(n.r.sid, true, false, 0x30 + k, 0x2000, 0, evt);
		inject(_metadata, evt);
		id[0] = n.veventq;
		id[1] = n.vdev;
		id[2] = n.nested;
		id[3] = n.viommu;

		for (pass = 0; pass < 3 && left; pass++) {
			if (pass == 1) {
				c.dev_id = n.r.dev_id;
				ret = bridge_cmd(n.r.bfd, IOPF_BRIDGE_DETACH, &c);
				ASSERT_EQ(0, ret) TH_LOG("DETACH: %s",
							 strerror(-ret));
			}
			for (i = 0; i < 4; i++) {
				int o = order[i];

				if (gone[o])
					continue;
				/* Its fd holds the vEVENTQ: it goes first */
				if (o == 0 && n.veventq_fd >= 0) {
					close(n.veventq_fd);
					n.veventq_fd = -1;
				}
				ret = iommu_destroy(n.r.iommufd, id[o]);
				ASSERT_TRUE(ret == 0 || ret == -EBUSY)
					TH_LOG("order %d: destroy %s: %s", k,
					       name[o], strerror(-ret));
				if (!ret) {
					gone[o] = true;
					left--;
				}
			}
		}
		ASSERT_EQ(0, left) TH_LOG("order %d: objects left", k);
		while (iopf_nl_recv_event(n.r.t.lis, QUIET_MS, &ev) == 1)
			if (ev.cmd == IOPF_CMD_RESUME_NTF &&
			    ev.resume.stag == 0x30u + k)
				resumes++;
		EXPECT_EQ(1, resumes) TH_LOG("order %d: RESUMEs", k);
		nest_close(&n);
		tb_teardown(&n.r.t);
	}
}

/* ------------------------------------------------------------------ */
/* oracle.vevent: upstream's own mock on the same kernel               */
/* ------------------------------------------------------------------ */

/* Upstream's mock: a device nested under a SELFTEST vIOMMU, its vEVENTQ */
static const char *mock_vevent_open(struct __test_metadata *_metadata,
				    struct nest *n, uint32_t depth,
				    uint32_t *mock_dev_id, int *qfd)
{
	struct iommu_test_cmd md = {
		.size = sizeof(md),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_test_cmd rep = {
		.size = sizeof(rep),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	struct iommu_viommu_selftest vdata = { .in_data = 0xbeef };
	struct iommu_hwpt_selftest hdata = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	uint32_t parent = 0, viommu = 0, vdev = 0, nested = 0, q = 0;

	md.id = n->r.ioas;
	if (ioctl(n->r.iommufd, IOMMU_TEST_CMD, &md)) {
		ASSERT_EQ(ENOTTY, errno) TH_LOG("MOCK_DOMAIN: %s", strerror(errno));
		return "the kernel has no iommufd selftest mock (CONFIG_IOMMUFD_TEST)";
	}
	*mock_dev_id = md.mock_domain.out_idev_id;
	ASSERT_EQ(0, parent_alloc(n->r.iommufd, *mock_dev_id, n->r.ioas,
				  &parent));
	ASSERT_EQ(0, viommu_alloc(n->r.iommufd, IOMMU_VIOMMU_TYPE_SELFTEST,
				  *mock_dev_id, parent, &vdata, sizeof(vdata),
				  &viommu));
	ASSERT_EQ(0, vdevice_alloc(n->r.iommufd, viommu, *mock_dev_id, 0x99,
				   &vdev));
	ASSERT_EQ(0, nested_alloc(n->r.iommufd, *mock_dev_id, viommu,
				  IOMMU_HWPT_DATA_SELFTEST, &hdata,
				  sizeof(hdata), NULL, &nested));
	rep.id = md.mock_domain.out_stdev_id;
	rep.mock_domain_replace.pt_id = nested;
	ASSERT_EQ(0, ioctl(n->r.iommufd, IOMMU_TEST_CMD, &rep))
		TH_LOG("MOCK_DOMAIN_REPLACE: %s", strerror(errno));
	ASSERT_EQ(0, veventq_alloc(n->r.iommufd, viommu,
				   IOMMU_VEVENTQ_TYPE_SELFTEST, depth, &q, qfd));
	return NULL;
}

/* Only the headers: the mock's payload is 4 bytes, ours 32 */
static int read_headers(int fd, size_t payload,
			struct iommufd_vevent_header *out, int max)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t len;
	int n = 0;

	if (poll(&p, 1, EV_TIMEOUT_MS) != 1)
		return 0;
	len = read(fd, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	while (off + sizeof(*out) <= (size_t)len && n < max) {
		memcpy(&out[n], buf + off, sizeof(*out));
		off += sizeof(*out);
		if (!(out[n].flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS))
			off += payload;
		n++;
	}
	return n;
}

/*
 * Rounds of events into a vEVENTQ of depth 4 on both roads, each read out
 * in full: the same headers (flags and sequence), round after round.
 */
TEST(oracle_vevent)
{
	static const int rounds[] = { 1, 3, 4, 5, 9, 2, 40, 1 };
	struct iommufd_vevent_header ours[64], theirs[64];
	struct iommu_test_cmd trig = {
		.size = sizeof(trig),
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
	};
	uint32_t mock_dev_id = 0;
	int mock_q = -1, r, i, no, nt, mismatches = 0, total = 0;
	const char *skip;
	struct nest n;
	uint64_t evt[4];

	skip = nest_open(_metadata, &n, 4);
	if (!skip)
		skip = mock_vevent_open(_metadata, &n, 4, &mock_dev_id,
					&mock_q);
	if (skip) {
		nest_close(&n);
		tb_teardown(&n.r.t);
		SKIP(return, "%s", skip);
	}
	trig.trigger_vevent.dev_id = mock_dev_id;
	evt_record(n.r.sid, false, false, 0, 0x1000, 0, evt);
	for (r = 0; r < (int)(sizeof(rounds) / sizeof(rounds[0])); r++) {
		for (i = 0; i < rounds[r]; i++) {
			inject(_metadata, evt);
			ASSERT_EQ(0, ioctl(n.r.iommufd, IOMMU_TEST_CMD, &trig))
				TH_LOG("TRIGGER_VEVENT: %s", strerror(errno));
		}
		total += rounds[r];
		no = read_headers(n.veventq_fd,
				  sizeof(struct iommu_vevent_arm_smmuv3), ours,
				  64);
		nt = read_headers(mock_q,
				  sizeof(struct iommu_viommu_event_selftest),
				  theirs, 64);
		EXPECT_EQ(nt, no) TH_LOG("round %d: %d entries, the mock's %d",
					 r, no, nt);
		for (i = 0; i < no && i < nt; i++)
			if (ours[i].flags != theirs[i].flags ||
			    ours[i].sequence != theirs[i].sequence) {
				mismatches++;
				TH_LOG("round %d entry %d: ours %#x/%u, the mock's %#x/%u",
				       r, i, ours[i].flags, ours[i].sequence,
				       theirs[i].flags, theirs[i].sequence);
			}
	}
	EXPECT_EQ(0, mismatches);
	printf("# oracle.vevent: %d events in %zu rounds into depth 4 on both roads, %d header mismatches\n",
	       total, sizeof(rounds) / sizeof(rounds[0]), mismatches);
	close(mock_q);
	nest_close(&n);
	tb_teardown(&n.r.t);
}

TEST_HARNESS_MAIN
