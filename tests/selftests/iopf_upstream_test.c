// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_upstream_test: upstream's road (issue 17, Documentation/upstream-path.md).
 * A bridged device's stall records go through the kernel's own IOPF core into
 * an iommufd fault queue; this program is the VMM reading and answering it
 * with the standard uAPI, after the one non-standard step (BIND through
 * /dev/iopf_testbed). Run as root in the guest by suite.sh/debug.sh.
 *
 *   road.fields      seeded records -> one iommu_hwpt_pgfault each, every
 *                    field as arm_smmu_handle_event() of 7.2 makes it (a
 *                    PASID one refused: no PASID attach); the faults group
 *                    sees each once; RESUMEs with the codes asked
 *   road.timeout     nobody answers: the module's timeout aborts, the late
 *                    answer RESUMEs nothing, a second one is refused
 *   road.no_queue    a HWPT without a fault queue: the IOPF core refuses,
 *                    the driver aborts (origin REPORT_FAILED)
 *   road.access      a stalled DMA access, stage 2 mapped by IOAS_MAP, the
 *                    access completes (the RFC's loop on upstream's road)
 *   teardown.*       fault fd, binding, bridge, device, iommufd closed or
 *                    removed in five orders with requests in flight: each
 *                    RESUMEd once; rmmod refused while a device is bridged
 *   road.*_vs_*      reports against detach/attach, BIND against
 *                    unbridging (on the debug cell: KASAN, lockdep)
 *   oracle.iopf      1000 seeded page requests: ours and upstream's mock
 *                    (IOMMU_TEST_OP_TRIGGER_IOPF) read back the same
 *
 * Where the kernel has no iommufd (no /dev/iommu) every case SKIPs with the
 * module's reason; a kernel with iommufd and a module without the bridge
 * fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#include "kselftest_harness.h"

#include <iopf_testbed/fault_core.h>
#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_tb.h"
#include "iopf_road.h"

#define MAX_BATCH	64

static void __attribute__((constructor)) upstream_unbuffered(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

/* ------------------------------------------------------------------ */
/* The VMM's side: iommufd                                             */
/* ------------------------------------------------------------------ */

/* A stall record with the fields the oracle varies */
struct req {
	uint32_t stag;
	bool ssv;
	uint32_t ssid;
	uint32_t perm;		/* R or W, and X, P */
	uint64_t addr;
};

static void req_record(uint32_t sid, const struct req *q, uint64_t evt[4])
{
	evt[0] = ((uint64_t)sid << 32) | EVT_ID_TRANSLATION_FAULT;
	if (q->ssv)
		evt[0] |= EVTQ_0_SSV | ((uint64_t)q->ssid << 12);
	evt[1] = EVTQ_1_STALL | q->stag;
	if (!(q->perm & IOPF_PERM_WRITE))
		evt[1] |= EVTQ_1_RnW;
	if (q->perm & IOPF_PERM_EXEC)
		evt[1] |= EVTQ_1_InD;
	if (q->perm & IOPF_PERM_PRIV)
		evt[1] |= EVTQ_1_PnU;
	evt[2] = q->addr;
	evt[3] = 0;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ssid0: SSV with SSID 0 may be drawn (the mock cannot raise that one) */
static void req_random(uint64_t *seed, uint32_t stag, bool ssid0,
		       struct req *q)
{
	uint64_t v = rng_next(seed);

	q->stag = stag;
	q->ssv = v & 1;
	q->ssid = q->ssv ? 1 + (uint32_t)((v >> 8) % 0xffffe) : 0;
	if (ssid0 && q->ssv && (v & 0x10))
		q->ssid = 0;
	q->perm = (v & 2) ? IOPF_PERM_WRITE : IOPF_PERM_READ;
	if (v & 4)
		q->perm |= IOPF_PERM_EXEC;
	if (v & 8)
		q->perm |= IOPF_PERM_PRIV;
	q->addr = rng_next(seed) & ((1ull << 52) - 1);
}

/*
 * What the VMM must read for q's record, written here from 7.2's
 * arm_smmu_decode_event() and arm_smmu_handle_event() (bit positions of
 * arm-smmu-v3.h), not with the module's fault_core.h: the test checks the
 * module's decoder, it does not share it.
 */
static void req_expect(uint32_t sid, const struct req *q,
		       struct iopf_upstream_prq *prq)
{
	uint64_t evt[4];
	bool ssv, read, ind, pnu;

	req_record(sid, q, evt);
	ssv = (evt[0] >> 11) & 1;
	read = (evt[1] >> 35) & 1;
	ind = (evt[1] >> 34) & 1;
	pnu = (evt[1] >> 33) & 1;
	memset(prq, 0, sizeof(*prq));
	prq->perm = read ? IOMMU_PGFAULT_PERM_READ : IOMMU_PGFAULT_PERM_WRITE;
	if (ind)
		prq->perm |= IOMMU_PGFAULT_PERM_EXEC;
	if (pnu)
		prq->perm |= IOMMU_PGFAULT_PERM_PRIV;
	prq->flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
	prq->grpid = evt[1] & 0xffff;
	prq->addr = evt[2];
	if (ssv) {
		prq->flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
		prq->pasid = (evt[0] >> 12) & 0xfffff;
	}
}

/*
 * Does upstream's IOPF core deliver it to a RID paging attach? A request
 * with PASID_VALID looks for the PASID's attach handle (find_fault_handler());
 * SSID 0 is IOMMU_NO_PASID, i.e. the RID's.
 */
static bool req_delivered(const struct req *q)
{
	return !q->ssv || q->ssid == 0;
}

#define EXPECT_PGFAULT(f, prq, devid) do {				\
	EXPECT_EQ((prq).flags, (f).flags);				\
	EXPECT_EQ((devid), (f).dev_id);					\
	EXPECT_EQ((prq).pasid, (f).pasid);				\
	EXPECT_EQ((prq).grpid, (f).grpid);				\
	EXPECT_EQ((prq).perm, (f).perm);				\
	EXPECT_EQ((prq).addr, (f).addr);				\
	EXPECT_EQ(0u, (f).length);					\
} while (0)

/*
 * Skip the FAULT notifications; count the RESUMEs, by origin and by STAG
 * (per_stag[stag - stag0], stags outside [stag0, stag0 + nstags) in
 * per_stag[nstags]).
 */
static int count_resumes(struct tb *t, int ms, int *by_origin, int norigins,
			 uint32_t stag0, int *per_stag, int nstags)
{
	struct iopf_nl_event ev;
	int n = 0;

	while (iopf_nl_recv_event(t->lis, ms, &ev) == 1) {
		if (ev.cmd != IOPF_CMD_RESUME_NTF)
			continue;
		n++;
		if (ev.resume.origin < (uint32_t)norigins)
			by_origin[ev.resume.origin]++;
		if (ev.resume.stag - stag0 < (uint32_t)nstags)
			per_stag[ev.resume.stag - stag0]++;
		else
			per_stag[nstags]++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* road.*                                                              */
/* ------------------------------------------------------------------ */

FIXTURE(road) {
	struct road r;
};

FIXTURE_SETUP(road)
{
	const char *skip = road_open(_metadata, &self->r, true);

	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(road)
{
	road_close(&self->r);
	tb_teardown(&self->r.t);
}

/*
 * N records -> a pgfault for each without a PASID, every field as upstream
 * makes it; RESUMEs with the codes asked. A PASID request has no handler on
 * upstream's road while only the RID is attached to a paging domain
 * (find_fault_handler(): a PASID attach, or a nested domain on the RID with
 * user_pasid_table): the IOPF core refuses it and the driver aborts it.
 */
TEST_F(road, fields)
{
	enum { N = 48 };
	struct iommu_hwpt_pgfault f[N], extra;
	struct iopf_upstream_prq prq;
	uint64_t evt[N][4], seed = 0x17;
	int i, n, nplain = 0, nssid0 = 0, j;
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	struct req q[N];

	for (i = 0; i < N; i++) {
		req_random(&seed, 0x100 + i, true, &q[i]);
		req_record(self->r.sid, &q[i], evt[i]);
		nplain += req_delivered(&q[i]);
		nssid0 += q[i].ssv && !q[i].ssid;
	}
	ASSERT_LT(0, nplain);
	ASSERT_GT(N, nplain);
	ASSERT_LT(0, nssid0);
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);

	/* One record, two observers: the faults group hears each once */
	for (i = 0; i < N; i++) {
		recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
		EXPECT_EQ(self->r.sid, ev.fault.sid);
		EXPECT_EQ(q[i].stag, ev.fault.grpid);
		if (req_delivered(&q[i]))
			continue;
		recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF,
			"PASID request aborted");
		EXPECT_EQ(q[i].stag, ev.resume.stag);
		EXPECT_EQ((uint32_t)IOPF_ORIGIN_REPORT_FAILED, ev.resume.origin);
		EXPECT_EQ((uint32_t)IOPF_RESUME_ABORT, ev.resume.resp);
	}
	n = read_n_faults(self->r.fault_fd, f, nplain);
	ASSERT_EQ(nplain, n) TH_LOG("read %d of %d pgfaults", n, nplain);
	ASSERT_EQ(0, read_faults(self->r.fault_fd, &extra, 1, QUIET_MS))
		TH_LOG("more pgfaults than requests the RID domain takes");
	for (i = 0, j = 0; i < N; i++) {
		if (!req_delivered(&q[i]))
			continue;
		req_expect(self->r.sid, &q[i], &prq);
		EXPECT_PGFAULT(f[j], prq, self->r.dev_id);
		j++;
	}

	/* Even: SUCCESS -> RETRY; odd: INVALID -> ABORT, origin RESPONSE */
	for (i = 0; i < nplain; i++)
		ASSERT_EQ((ssize_t)sizeof(struct iommu_hwpt_page_response),
			  respond(self->r.fault_fd, f[i].cookie,
				  i % 2 ? IOMMUFD_PAGE_RESP_INVALID :
					  IOMMUFD_PAGE_RESP_SUCCESS));
	for (i = 0; i < nplain; i++) {
		recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF, "resume");
		EXPECT_EQ(f[i].grpid, ev.resume.stag);
		EXPECT_EQ(i % 2 ? (uint32_t)IOPF_RESUME_ABORT : (uint32_t)IOPF_RESUME_RETRY,
			  ev.resume.resp);
		EXPECT_EQ((uint32_t)IOPF_ORIGIN_RESPONSE, ev.resume.origin);
	}
	expect_quiet(_metadata, &self->r.t, "after the RESUMEs");

	dev_get(_metadata, &self->r.t, self->r.sid, &d);
	EXPECT_EQ(1u, d.bridge);
	EXPECT_EQ(self->r.dev_id, d.iommufd_dev_id);
	EXPECT_EQ(self->r.hwpt, d.iommufd_pt_id);
	EXPECT_EQ((uint64_t)N, DS(d, INJECTED));
	EXPECT_EQ((uint64_t)N, DS(d, REPORTED));
	EXPECT_EQ((uint64_t)nplain, DS(d, RESPONSES));
	EXPECT_EQ((uint64_t)(N - nplain), DS(d, AUTO_ABORTS));
	EXPECT_EQ(0ull, DS(d, PENDING));
	/* Answered once: a cookie used twice is refused by iommufd */
	EXPECT_EQ(-EINVAL, respond(self->r.fault_fd, f[0].cookie,
				   IOMMUFD_PAGE_RESP_SUCCESS));
}

/*
 * Nobody answers: the module's timeout aborts; the late answer RESUMEs
 * nothing, not even a new stall that reuses the STAG.
 */
TEST_F(road, timeout)
{
	struct iommu_hwpt_pgfault f, f2;
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint32_t ms = 200;
	uint64_t evt[4];
	struct req q = { .stag = 7, .perm = IOPF_PERM_READ, .addr = 0x7000 };

	ASSERT_EQ(0, iopf_dev_set(self->r.t.nl, self->r.sid, NULL, &ms));
	req_record(self->r.sid, &q, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	ASSERT_EQ(1, read_faults(self->r.fault_fd, &f, 1, EV_TIMEOUT_MS));
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF, "timeout");
	EXPECT_EQ((uint32_t)IOPF_ORIGIN_TIMEOUT, ev.resume.origin);
	EXPECT_EQ((uint32_t)IOPF_RESUME_ABORT, ev.resume.resp);
	EXPECT_EQ(7u, ev.resume.stag);

	/*
	 * iommufd still holds the group (it cannot know the SMMU gave up):
	 * the write is taken, the module finds nothing pending and issues no
	 * second RESUME; a second write of the cookie is refused.
	 */
	/* A new stall reuses the STAG before the late answer comes */
	ms = 0;
	ASSERT_EQ(0, iopf_dev_set(self->r.t.nl, self->r.sid, NULL, &ms));
	inject(_metadata, evt);
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_FAULT_NTF, "second fault");
	ASSERT_EQ(1, read_faults(self->r.fault_fd, &f2, 1, EV_TIMEOUT_MS));
	EXPECT_EQ(7u, f2.grpid);
	EXPECT_NE(f.cookie, f2.cookie);

	EXPECT_EQ((ssize_t)sizeof(struct iommu_hwpt_page_response),
		  respond(self->r.fault_fd, f.cookie, IOMMUFD_PAGE_RESP_INVALID));
	expect_quiet(_metadata, &self->r.t, "late response");
	EXPECT_EQ(-EINVAL, respond(self->r.fault_fd, f.cookie,
				   IOMMUFD_PAGE_RESP_SUCCESS));
	dev_get(_metadata, &self->r.t, self->r.sid, &d);
	EXPECT_EQ(1ull, DS(d, TIMEOUTS));
	EXPECT_EQ(1ull, DS(d, RESPONSE_ERRORS));
	EXPECT_EQ(0ull, DS(d, RESPONSES));
	/* The late answer left the new request alone */
	EXPECT_EQ(1ull, DS(d, PENDING));

	EXPECT_EQ((ssize_t)sizeof(struct iommu_hwpt_page_response),
		  respond(self->r.fault_fd, f2.cookie, IOMMUFD_PAGE_RESP_SUCCESS));
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF, "its own answer");
	EXPECT_EQ((uint32_t)IOPF_RESUME_RETRY, ev.resume.resp);
	EXPECT_EQ((uint32_t)IOPF_ORIGIN_RESPONSE, ev.resume.origin);
	dev_get(_metadata, &self->r.t, self->r.sid, &d);
	EXPECT_EQ(1ull, DS(d, RESPONSES));
	EXPECT_EQ(0ull, DS(d, PENDING));
}

/* Stage 2 mapped on demand through IOAS_MAP: the access completes */
TEST_F(road, access)
{
	const uint64_t iova = 0x200000, len = 2 * 0x1000ull;
	struct iopf_nl_access a, got;
	struct iommu_hwpt_pgfault f;
	struct iopf_nl_event ev;
	void *buf;
	int ret;

	ret = iopf_access(self->r.t.nl, self->r.sid, NULL, iova + 0x10, 8,
			  IOPF_PERM_WRITE, true, &a);
	ASSERT_EQ(0, ret) TH_LOG("ACCESS: %s (%s)", strerror(-ret),
				 self->r.t.nl->ext_msg);
	ASSERT_EQ((uint32_t)IOPF_ACCESS_STALLED, a.state);
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	/* The module's road: a stage-2 fault, the IPA is the IOVA (S2 mode) */
	EXPECT_EQ(2u, ev.fault.level);
	ASSERT_EQ(1, read_faults(self->r.fault_fd, &f, 1, EV_TIMEOUT_MS));
	/* Upstream's: the input address, no level, no IPA */
	EXPECT_EQ(iova + 0x10, f.addr);
	EXPECT_EQ((uint32_t)IOMMU_PGFAULT_PERM_WRITE, f.perm);
	EXPECT_EQ(a.stag, f.grpid);

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ret = ioas_map_fixed(self->r.iommufd, self->r.ioas, iova, buf, len);
	ASSERT_EQ(0, ret) TH_LOG("IOAS_MAP: %s", strerror(-ret));
	ASSERT_EQ((ssize_t)sizeof(struct iommu_hwpt_page_response),
		  respond(self->r.fault_fd, f.cookie, IOMMUFD_PAGE_RESP_SUCCESS));

	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF, "resume");
	EXPECT_EQ((uint32_t)IOPF_RESUME_RETRY, ev.resume.resp);
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_ACCESS_NTF, "access end");
	EXPECT_EQ(a.id, ev.access.id);
	EXPECT_EQ((uint32_t)IOPF_ACCESS_COMPLETED, ev.access.state);
	EXPECT_EQ(1u, ev.access.retries);
	ASSERT_EQ(0, iopf_access_get(self->r.t.nl, a.id, NULL, &got));
	EXPECT_EQ((uint32_t)IOPF_ACCESS_COMPLETED, got.state);
	munmap(buf, len);
}

FIXTURE(plain) {
	struct road r;
};

FIXTURE_SETUP(plain)
{
	const char *skip = road_open(_metadata, &self->r, false);

	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(plain)
{
	road_close(&self->r);
	tb_teardown(&self->r.t);
}

/* No fault queue on the domain: the IOPF core refuses, the driver aborts */
TEST_F(plain, no_queue)
{
	struct req q = { .stag = 9, .perm = IOPF_PERM_READ, .addr = 0x9000 };
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];

	req_record(self->r.sid, &q, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_FAULT_NTF, "fault");
	recv_ev(_metadata, &self->r.t, &ev, IOPF_CMD_RESUME_NTF, "abort");
	EXPECT_EQ((uint32_t)IOPF_ORIGIN_REPORT_FAILED, ev.resume.origin);
	EXPECT_EQ((uint32_t)IOPF_RESUME_ABORT, ev.resume.resp);
	EXPECT_EQ(9u, ev.resume.stag);
	dev_get(_metadata, &self->r.t, self->r.sid, &d);
	EXPECT_EQ(0ull, DS(d, PENDING));
}

/* ------------------------------------------------------------------ */
/* teardown.*: every order, requests in flight                         */
/* ------------------------------------------------------------------ */

enum step { CLOSE_FAULT, CLOSE_BIND, UNBRIDGE, DEV_DEL, CLOSE_IOMMUFD, RMMOD,
	    NSTEPS };

FIXTURE(teardown) {
	struct road r;
};

FIXTURE_VARIANT(teardown) {
	enum step order[NSTEPS];
};

FIXTURE_VARIANT_ADD(teardown, fault_bind_bridge_dev) {
	.order = { CLOSE_FAULT, CLOSE_BIND, RMMOD, UNBRIDGE, DEV_DEL, CLOSE_IOMMUFD },
};

FIXTURE_VARIANT_ADD(teardown, bind_fault_dev) {
	.order = { CLOSE_BIND, CLOSE_FAULT, RMMOD, DEV_DEL, CLOSE_IOMMUFD, UNBRIDGE },
};

FIXTURE_VARIANT_ADD(teardown, dev_first) {
	.order = { RMMOD, DEV_DEL, CLOSE_FAULT, CLOSE_BIND, CLOSE_IOMMUFD, UNBRIDGE },
};

FIXTURE_VARIANT_ADD(teardown, unbridge_first) {
	.order = { RMMOD, UNBRIDGE, CLOSE_IOMMUFD, CLOSE_FAULT, CLOSE_BIND, DEV_DEL },
};

FIXTURE_VARIANT_ADD(teardown, iommufd_first) {
	.order = { CLOSE_IOMMUFD, RMMOD, CLOSE_FAULT, DEV_DEL, CLOSE_BIND, UNBRIDGE },
};

FIXTURE_SETUP(teardown)
{
	const char *skip = road_open(_metadata, &self->r, true);

	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(teardown)
{
	road_close(&self->r);
	tb_teardown(&self->r.t);
}

TEST_F(teardown, in_flight)
{
	enum { N = 8, READ = 3 };
	struct iommu_hwpt_pgfault f[N];
	int by_origin[8] = {}, per_stag[N + 1] = {}, i, n, resumes;
	uint64_t evt[N][4];
	struct iopf_nl_dev d;
	bool dev_gone = false;

	for (i = 0; i < N; i++) {
		struct req q = { .stag = 0x40 + i, .perm = IOPF_PERM_READ,
				 .addr = 0x1000ull * i };

		req_record(self->r.sid, &q, evt[i]);
	}
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);
	/* Some read by the VMM (awaiting its answer), some still queued */
	ASSERT_EQ(READ, read_n_faults(self->r.fault_fd, f, READ));

	for (i = 0; i < NSTEPS; i++) {
		int ret = 0;

		switch (variant->order[i]) {
		case CLOSE_FAULT:
			close(self->r.fault_fd);
			self->r.fault_fd = -1;
			break;
		case CLOSE_BIND:
			close(self->r.bfd);
			self->r.bfd = -1;
			break;
		case CLOSE_IOMMUFD:
			close(self->r.iommufd);
			self->r.iommufd = -1;
			break;
		case UNBRIDGE:
			ret = iopf_dev_set_bridge(self->r.t.nl, self->r.sid, false);
			/* once the device is gone there is nothing to unbridge */
			if (dev_gone) {
				EXPECT_EQ(-ENODEV, ret);
			} else {
				EXPECT_EQ(0, ret) TH_LOG("BRIDGE 0: %s (%s)",
							 strerror(-ret),
							 self->r.t.nl->ext_msg);
			}
			break;
		case DEV_DEL:
			ret = iopf_dev_del(self->r.t.nl, self->r.sid);
			EXPECT_EQ(0, ret);
			dev_gone = true;
			break;
		case RMMOD:
			/*
			 * Refused while a device is bridged (each probed
			 * device pins the module), without waiting; the
			 * suite's unload afterwards proves no pin is left.
			 */
			ret = syscall(SYS_delete_module, "iopf_testbed", O_NONBLOCK);
			ASSERT_EQ(-1, ret) TH_LOG("the module went away under the test");
			EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
				TH_LOG("rmmod with a bridged device: %s",
				       strerror(errno));
			break;
		default:
			break;
		}
		/* Before the device goes, its books balance at every step */
		if (!dev_gone)
			dev_get(_metadata, &self->r.t, self->r.sid, &d);
	}
	/* Every request RESUMEd exactly once, whoever ended it */
	resumes = count_resumes(&self->r.t, 300, by_origin, 8, 0x40, per_stag, N);
	for (i = 0; i < N; i++) {
		int got = per_stag[i];

		EXPECT_EQ(1, got) TH_LOG("STAG %#x: %d RESUMEs", 0x40 + i, got);
	}
	EXPECT_EQ(0, per_stag[N]) TH_LOG("RESUMEs for STAGs never injected");
	n = 0;
	for (i = 0; i < 8; i++)
		n += by_origin[i];
	EXPECT_EQ(N, resumes) {
		TH_LOG("RESUMEs: %d (response %d, report_failed %d, flush %d, timeout %d)",
		       resumes, by_origin[IOPF_ORIGIN_RESPONSE],
		       by_origin[IOPF_ORIGIN_REPORT_FAILED],
		       by_origin[IOPF_ORIGIN_FLUSH], by_origin[IOPF_ORIGIN_TIMEOUT]);
	}
	EXPECT_EQ(N, n);
}

/* ------------------------------------------------------------------ */
/* race.*: reports and bindings against attach, detach and removal    */
/* ------------------------------------------------------------------ */

struct injector {
	uint32_t sid;
	volatile int stop;
	int sent;
	int err;
};

static void *inject_loop(void *arg)
{
	struct injector *in = arg;
	uint64_t evt[4];

	while (!in->stop && in->sent < 4000) {
		struct req q = { .stag = 0x1000 + in->sent,
				 .perm = IOPF_PERM_READ,
				 .addr = 0x1000ull * in->sent };

		req_record(in->sid, &q, evt);
		in->err = iopf_inject(evt);
		if (in->err)
			break;
		in->sent++;
	}
	return NULL;
}

/*
 * Records reported while the VMM detaches and attaches again: upstream's
 * IOPF core must never see a handle whose IOPF is gone (a WARN, or a group
 * freed under the reporter: debug.sh's checkers), and each request is
 * RESUMEd exactly once, by whoever ends it.
 */
TEST_F(road, attach_vs_report)
{
	struct injector in = { .sid = self->r.sid };
	struct iopf_bridge_cmd c = { .dev_id = self->r.dev_id };
	int by_origin[8] = {}, i, resumes, other = 0;
	struct iopf_nl_dev d;
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, inject_loop, &in));
	/* Until a few hundred records crossed the cycles, bounded */
	for (i = 0; i < 4000 && (i < 40 || in.sent < 300); i++) {
		c.pt_id = 0;
		ASSERT_EQ(0, bridge_cmd(self->r.bfd, IOPF_BRIDGE_DETACH, &c));
		c.pt_id = self->r.hwpt;
		ASSERT_EQ(0, bridge_cmd(self->r.bfd, IOPF_BRIDGE_ATTACH, &c));
	}
	in.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, in.err) TH_LOG("inject: %s", strerror(-in.err));
	/* What the queue still holds is answered INVALID by the detach */
	ASSERT_EQ(0, bridge_cmd(self->r.bfd, IOPF_BRIDGE_DETACH, &c));

	resumes = count_resumes(&self->r.t, 300, by_origin, 8, 0, &other, 0);
	EXPECT_EQ(in.sent, resumes) {
		TH_LOG("%d records, %d RESUMEs (response %d, report_failed %d)",
		       in.sent, resumes, by_origin[IOPF_ORIGIN_RESPONSE],
		       by_origin[IOPF_ORIGIN_REPORT_FAILED]);
	}
	dev_get(_metadata, &self->r.t, self->r.sid, &d);
	EXPECT_EQ(0ull, DS(d, PENDING));
	EXPECT_EQ((uint64_t)in.sent, DS(d, INJECTED));
	printf("# attach_vs_report: %d records across %d detach/attach cycles: %d answered by the detach, %d refused while detached\n",
	       in.sent, i, by_origin[IOPF_ORIGIN_RESPONSE],
	       by_origin[IOPF_ORIGIN_REPORT_FAILED]);
}

struct binder {
	int iommufd;
	uint32_t sid;
	volatile int stop;
	int binds;
};

static void *bind_loop(void *arg)
{
	struct binder *b = arg;
	int bfd = open(BRIDGE_DEV, O_RDWR);

	while (bfd >= 0 && !b->stop) {
		struct iopf_bridge_cmd c = { .sid = b->sid, .iommufd = b->iommufd };

		if (bridge_cmd(bfd, IOPF_BRIDGE_BIND, &c))
			continue;
		b->binds++;
		bridge_cmd(bfd, IOPF_BRIDGE_UNBIND, &c);
	}
	if (bfd >= 0)
		close(bfd);
	return NULL;
}

/* BIND racing BRIDGE 0/1: no binding outlives its platform device */
TEST_F(road, bind_vs_unbridge)
{
	struct binder b = { .iommufd = self->r.iommufd, .sid = self->r.sid };
	struct iopf_bridge_cmd c = { .dev_id = self->r.dev_id };
	pthread_t th;
	int i, ret;

	ASSERT_EQ(0, pthread_create(&th, NULL, bind_loop, &b));
	for (i = 0; i < 20; i++) {
		ret = iopf_dev_set_bridge(self->r.t.nl, self->r.sid, false);
		EXPECT_EQ(0, ret) TH_LOG("BRIDGE 0: %s", self->r.t.nl->ext_msg);
		ret = iopf_dev_set_bridge(self->r.t.nl, self->r.sid, true);
		EXPECT_EQ(0, ret) TH_LOG("BRIDGE 1: %s", self->r.t.nl->ext_msg);
	}
	b.stop = 1;
	pthread_join(th, NULL);
	/* The fixture's binding ended with the first BRIDGE 0 */
	EXPECT_EQ(-ENODEV, bridge_cmd(self->r.bfd, IOPF_BRIDGE_DETACH, &c));
	EXPECT_EQ(0, bridge_cmd(self->r.bfd, IOPF_BRIDGE_UNBIND, &c));
	EXPECT_EQ(-ENOENT, bridge_cmd(self->r.bfd, IOPF_BRIDGE_UNBIND, &c));
	memset(&c, 0, sizeof(c));
	c.sid = self->r.sid;
	c.iommufd = self->r.iommufd;
	ASSERT_EQ(0, bridge_cmd(self->r.bfd, IOPF_BRIDGE_BIND, &c));
	printf("# bind_vs_unbridge: %d binds across 20 unbridge/bridge cycles\n",
	       b.binds);
}

/* ------------------------------------------------------------------ */
/* oracle.*: upstream's own mock on the same kernel                    */
/* ------------------------------------------------------------------ */

FIXTURE(oracle) {
	struct road r;
	uint32_t mock_dev_id;
	uint32_t mock_stdev;
	int mock_fault_fd;
};

FIXTURE_SETUP(oracle)
{
	struct iommu_test_cmd md = {
		.size = sizeof(md),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_test_cmd rep = {
		.size = sizeof(rep),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	const char *skip = road_open(_metadata, &self->r, true);
	uint32_t fault_id = 0, hwpt = 0;

	self->mock_fault_fd = -1;
	if (skip)
		SKIP(return, "%s", skip);
	md.id = self->r.ioas;
	if (ioctl(self->r.iommufd, IOMMU_TEST_CMD, &md)) {
		ASSERT_EQ(ENOTTY, errno) TH_LOG("MOCK_DOMAIN: %s", strerror(errno));
		SKIP(return, "the kernel has no iommufd selftest mock (CONFIG_IOMMUFD_TEST)");
	}
	self->mock_stdev = md.mock_domain.out_stdev_id;
	self->mock_dev_id = md.mock_domain.out_idev_id;
	ASSERT_EQ(0, fault_alloc(self->r.iommufd, &fault_id,
				 &self->mock_fault_fd));
	ASSERT_EQ(0, hwpt_alloc(self->r.iommufd, self->mock_dev_id,
				self->r.ioas, &fault_id, &hwpt));
	rep.id = self->mock_stdev;
	rep.mock_domain_replace.pt_id = hwpt;
	ASSERT_EQ(0, ioctl(self->r.iommufd, IOMMU_TEST_CMD, &rep))
		TH_LOG("MOCK_DOMAIN_REPLACE: %s", strerror(errno));
}

FIXTURE_TEARDOWN(oracle)
{
	if (self->mock_fault_fd >= 0)
		close(self->mock_fault_fd);
	road_close(&self->r);
	tb_teardown(&self->r.t);
}

static bool pgfault_same(const struct iommu_hwpt_pgfault *a,
			 const struct iommu_hwpt_pgfault *b)
{
	return a->flags == b->flags && a->pasid == b->pasid &&
	       a->grpid == b->grpid && a->perm == b->perm &&
	       a->addr == b->addr && a->length == b->length;
}

/*
 * The same page request raised by an injected record on ours and by
 * IOMMU_TEST_OP_TRIGGER_IOPF (fed what arm_smmu_decode_event() reads from
 * that record) on upstream's: field by field, apart from ids and cookies.
 */
TEST_F(oracle, iopf)
{
	enum { N = 1000 };
	uint64_t seed = 0x20261207;
	int i, mismatches = 0, delivered = 0;

	for (i = 0; i < N; i++) {
		struct iommu_test_cmd trig = {
			.size = sizeof(trig),
			.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		};
		struct iommu_hwpt_pgfault ours = {}, theirs = {};
		struct iopf_upstream_prq prq;
		int n_ours, n_theirs;
		uint64_t evt[4];
		struct req q;

		/* The mock sets PASID_VALID only for a PASID other than 0 */
		req_random(&seed, i & 0xffff, false, &q);
		req_record(self->r.sid, &q, evt);
		req_expect(self->r.sid, &q, &prq);
		inject(_metadata, evt);
		/* Both reports are synchronous: queued, or refused, by now */
		n_ours = read_faults(self->r.fault_fd, &ours, 1, 0);

		trig.trigger_iopf.dev_id = self->mock_dev_id;
		trig.trigger_iopf.pasid = prq.pasid;
		trig.trigger_iopf.grpid = prq.grpid;
		trig.trigger_iopf.perm = prq.perm;
		trig.trigger_iopf.addr = prq.addr;
		ASSERT_EQ(0, ioctl(self->r.iommufd, IOMMU_TEST_CMD, &trig))
			TH_LOG("TRIGGER_IOPF: %s", strerror(errno));
		n_theirs = read_faults(self->mock_fault_fd, &theirs, 1, 0);
		ASSERT_LE(0, n_ours);
		ASSERT_LE(0, n_theirs);
		delivered += n_ours;

		if ((n_ours != n_theirs || (n_ours && !pgfault_same(&ours, &theirs))) &&
		    mismatches++ < 5)
			TH_LOG("request %d: ours %d (flags %#x pasid %#x grpid %#x perm %#x addr %#llx), mock's %d (%#x %#x %#x %#x %#llx)",
			       i, n_ours, ours.flags, ours.pasid, ours.grpid,
			       ours.perm, (unsigned long long)ours.addr, n_theirs,
			       theirs.flags, theirs.pasid, theirs.grpid,
			       theirs.perm, (unsigned long long)theirs.addr);
		if (n_ours)
			ASSERT_LT(0, respond(self->r.fault_fd, ours.cookie,
					     IOMMUFD_PAGE_RESP_SUCCESS));
		if (n_theirs)
			ASSERT_LT(0, respond(self->mock_fault_fd, theirs.cookie,
					     IOMMUFD_PAGE_RESP_SUCCESS));
		/* The listener's queue: drained as we go */
		iopf_nl_drain(self->r.t.lis);
	}
	printf("# oracle: %d page requests (%d delivered, %d refused on both roads), %d mismatches\n",
	       N, delivered, N - delivered, mismatches);
	EXPECT_EQ(0, mismatches);
}

TEST_HARNESS_MAIN
