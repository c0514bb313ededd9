/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kselftest-harness programs built into iopf_testbed_test share:
 * a per-test context (command socket, subscribed listener, StreamIDs
 * unique to the test process and deleted at teardown) and assertions over
 * DEV_GET / STATS_GET. Include after kselftest_harness.h.
 */
#ifndef IOPF_SELFTEST_TB_H
#define IOPF_SELFTEST_TB_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "iopf_dbgfs.h"
#include "iopf_nl.h"

#define EV_TIMEOUT_MS	3000	/* an expected notification */
#define QUIET_MS	30	/* "nothing else arrives" (reports are synchronous) */
#define TB_MAX_SIDS	16

/* Per-device counters: the ones DEV_GET must always carry */
static const int dev_stat_attrs[] = {
	IOPF_STAT_A_INJECTED, IOPF_STAT_A_REPORTED, IOPF_STAT_A_FILTERED_L1,
	IOPF_STAT_A_FILTERED_L2, IOPF_STAT_A_FILTERED_UNRECOV,
	IOPF_STAT_A_NO_HANDLER, IOPF_STAT_A_REPORT_FAILED, IOPF_STAT_A_PENDING,
	IOPF_STAT_A_RESPONSES, IOPF_STAT_A_RESPONSE_ERRORS,
	IOPF_STAT_A_AUTO_ABORTS,
};

#define DS(d, X)	((d).stats.v[IOPF_STAT_A_##X])
#define GS(s, X)	((s).v[IOPF_STAT_A_##X])

/* ------------------------------------------------------------------ */
/* Common test context                                                  */
/* ------------------------------------------------------------------ */

struct tb {
	struct iopf_nl *nl;	/* commands */
	struct iopf_nl *lis;	/* subscribed to "faults" */
	uint32_t sids[TB_MAX_SIDS];
	int nsids;
	uint32_t next_sid;
	uint64_t last_seq;		/* last FAULT SEQ seen, 0: none yet */
	uint64_t last_resume_seq;	/* last RESUME SEQ seen, 0: none yet */
};

static inline void big_rcvbuf(struct iopf_nl *nl)
{
	int sz = 8 << 20;

	/* root may exceed rmem_max; bursts must not overflow the listener */
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static inline void tb_open(struct __test_metadata *_metadata, struct tb *t)
{
	t->nl = iopf_nl_open();
	ASSERT_NE(NULL, t->nl) {
		TH_LOG("cannot resolve family %s: %s (is the module loaded?)",
		       IOPF_GENL_NAME, strerror(errno));
	}
	t->lis = iopf_nl_open();
	ASSERT_NE(NULL, t->lis);
	ASSERT_EQ(0, iopf_nl_subscribe(t->lis));
	big_rcvbuf(t->lis);
}

static inline void tb_setup(struct __test_metadata *_metadata, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	if (geteuid() != 0)
		SKIP(return, "must run as root");
	ASSERT_EQ(0, iopf_dbgfs_mount());
	ASSERT_TRUE(iopf_dbgfs_present()) {
		TH_LOG("%s missing: is iopf_testbed loaded?", IOPF_DBGFS_DIR);
	}
	/* StreamIDs unique to this test process */
	t->next_sid = 0x01000000u | ((uint32_t)(getpid() & 0xffff) << 6);
	tb_open(_metadata, t);
}

static inline void tb_teardown(struct tb *t)
{
	int i;

	for (i = 0; i < t->nsids && t->nl; i++)
		iopf_dev_del(t->nl, t->sids[i]);
	iopf_nl_close(t->nl);
	iopf_nl_close(t->lis);
	t->nl = t->lis = NULL;
}

/* A StreamID no device has (yet) */
static inline uint32_t tb_sid(struct tb *t)
{
	return t->next_sid++;
}

/* Create a device with a fresh StreamID, deleted at teardown */
static inline uint32_t tb_dev(struct __test_metadata *_metadata, struct tb *t)
{
	uint32_t sid = tb_sid(t);
	int ret;

	if (t->nsids >= TB_MAX_SIDS) {
		TH_LOG("too many devices in one test");
		ASSERT_TRUE(0);
	}
	ret = iopf_dev_new(t->nl, sid);
	ASSERT_EQ(0, ret) {
		TH_LOG("DEV_NEW 0x%x: %s (%s)", sid, strerror(-ret), t->nl->ext_msg);
	}
	t->sids[t->nsids++] = sid;
	return sid;
}

static inline uint32_t tb_dev_reg(struct __test_metadata *_metadata, struct tb *t,
			          uint32_t flags)
{
	uint32_t sid = tb_dev(_metadata, t);
	int ret = iopf_handler_register(t->nl, sid, flags);

	ASSERT_EQ(0, ret) {
		TH_LOG("REGISTER 0x%x flags 0x%x: %s (%s)", sid, flags,
		       strerror(-ret), t->nl->ext_msg);
	}
	return sid;
}

static inline void dev_get(struct __test_metadata *_metadata, struct tb *t,
		           uint32_t sid, struct iopf_nl_dev *d)
{
	size_t i;
	int ret = iopf_dev_get(t->nl, sid, d);

	ASSERT_EQ(0, ret) {
		TH_LOG("DEV_GET 0x%x: %s", sid, strerror(-ret));
	}
	ASSERT_TRUE(d->has[IOPF_A_SID]);
	ASSERT_EQ(sid, d->sid);
	ASSERT_TRUE(d->has[IOPF_A_REGISTERED]);
	ASSERT_TRUE(d->has[IOPF_A_FLAGS]);
	ASSERT_TRUE(d->has[IOPF_A_STATS]);
	for (i = 0; i < ARRAY_SIZE(dev_stat_attrs); i++)
		ASSERT_TRUE(d->stats.has[dev_stat_attrs[i]]) {
			TH_LOG("DEV_GET STATS lacks counter %d", dev_stat_attrs[i]);
		}
	/* the invariant of interfaces.md holds whenever nothing is in flight */
	ASSERT_EQ(DS(*d, INJECTED),
		  DS(*d, REPORTED) + DS(*d, FILTERED_L1) + DS(*d, FILTERED_L2) +
		  DS(*d, FILTERED_UNRECOV) + DS(*d, NO_HANDLER) +
		  DS(*d, REPORT_FAILED)) {
		TH_LOG("counter balance broken on 0x%x", sid);
	}
}

static inline void stats_get(struct __test_metadata *_metadata, struct tb *t,
		             struct iopf_nl_stats *s)
{
	ASSERT_EQ(0, iopf_stats_get(t->nl, s));
	ASSERT_TRUE(s->has[IOPF_STAT_A_RECORDS]);
	ASSERT_TRUE(s->has[IOPF_STAT_A_UNHANDLED_EVENT]);
	ASSERT_TRUE(s->has[IOPF_STAT_A_UNKNOWN_SID]);
	ASSERT_TRUE(s->has[IOPF_STAT_A_DEVICES]);
}


/* A plain stage-1 stalled translation fault, read, STAG grpid */
static inline void stall_evt(uint32_t sid, uint32_t grpid, uint64_t addr,
		             uint64_t evt[4])
{
	evt[0] = ((uint64_t)sid << 32) | 0x10;
	evt[1] = 0x0000000880000000ull | (grpid & 0xffff);
	evt[2] = addr;
	evt[3] = 0;
}

/* The same with a PASID (SSV) */
static inline void stall_evt_pasid(uint32_t sid, uint32_t grpid, uint32_t pasid,
			           uint64_t addr, uint64_t evt[4])
{
	stall_evt(sid, grpid, addr, evt);
	evt[0] |= 0x800 | ((uint64_t)(pasid & 0xfffff) << 12);
}

/* A stage-1 unrecoverable (no stall) access fault */
static inline void nostall_evt(uint32_t sid, uint64_t addr, uint64_t evt[4])
{
	evt[0] = ((uint64_t)sid << 32) | 0x12;
	evt[1] = 0x0000000800000000ull;
	evt[2] = addr;
	evt[3] = 0;
}

static inline void inject(struct __test_metadata *_metadata, const uint64_t evt[4])
{
	int ret = iopf_inject(evt);

	ASSERT_EQ(0, ret) {
		TH_LOG("inject: %s", strerror(-ret));
	}
}

static inline void inject_many(struct __test_metadata *_metadata,
			       const uint64_t (*evt)[4], size_t n)
{
	int ret = iopf_inject_many(evt, n);

	ASSERT_EQ(0, ret) {
		TH_LOG("inject %zu records: %s", n, strerror(-ret));
	}
}

static inline void recv_ev(struct __test_metadata *_metadata, struct tb *t,
		           struct iopf_nl_event *ev, int cmd, const char *what)
{
	int r = iopf_nl_recv_event(t->lis, EV_TIMEOUT_MS, ev);

	ASSERT_EQ(1, r) {
		TH_LOG("%s: no %s (%d %s)", what, iopf_nl_cmd_name(cmd), r,
		       r < 0 ? strerror(-r) : "timeout");
	}
	ASSERT_EQ(cmd, ev->cmd) {
		TH_LOG("%s: got %s, expected %s", what,
		       iopf_nl_cmd_name(ev->cmd), iopf_nl_cmd_name(cmd));
	}
}

static inline void expect_quiet(struct __test_metadata *_metadata, struct tb *t,
			        const char *what)
{
	struct iopf_nl_event ev;
	int r = iopf_nl_recv_event(t->lis, QUIET_MS, &ev);

	ASSERT_EQ(0, r) {
		TH_LOG("%s: unexpected %s (%d)", what,
		       r > 0 ? iopf_nl_cmd_name(ev.cmd) : "error", r);
	}
}

#endif /* IOPF_SELFTEST_TB_H */
