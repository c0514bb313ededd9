// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_testbed_test: kselftest-harness suite for the iopf_testbed module,
 * run as root in the QEMU guest. It drives the module through generic
 * netlink (iopf_nl.c) and debugfs (iopf_dbgfs.c) and checks the behaviour
 * described in Documentation/interfaces.md. Expectations for decoding and
 * delivery come from the case table shared with the host unit tests
 * (tests/common/fault_cases.h).
 *
 * Every test creates its own devices, with StreamIDs unique to the test
 * process, and deletes them in its teardown.
 *
 * Environment: IOPF_KO overrides the module path used by the reload test
 * (default /lib/modules/iopf_testbed.ko).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"

#include "fault_cases.h"
#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_tb.h"

/*
 * Unbuffered, so that when a test kills the guest (an oops, a hung device)
 * the console shows which test was running.
 */
static void __attribute__((constructor)) iopf_test_unbuffered(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

#define DEFAULT_KO	"/lib/modules/iopf_testbed.ko"

/* The case's record, retargeted at StreamID sid */
static void make_evt(const struct iopf_fault_case *c, uint32_t sid,
		     uint64_t evt[4])
{
	memcpy(evt, c->evt, sizeof(c->evt));
	evt[0] = (evt[0] & 0xffffffffull) | ((uint64_t)sid << 32);
}

/* Check a fault nest against a table case injected as evt on sid */
static void check_fault(struct __test_metadata *_metadata,
			const struct iopf_nl_fault *f,
			const struct iopf_fault_case *c, uint32_t sid,
			const uint64_t evt[4])
{
	uint8_t rec[32];
	int i, w;

	for (i = IOPF_FAULT_A_SEQ; i <= IOPF_FAULT_A_RECORD; i++) {
		if (i == IOPF_FAULT_A_PASID || i == IOPF_FAULT_A_GRPID ||
		    i == IOPF_FAULT_A_REASON)
			continue;
		ASSERT_TRUE(f->has[i]) {
			TH_LOG("%s: fault nest lacks attribute %d", c->name, i);
		}
	}
	ASSERT_EQ(sid, f->sid) TH_LOG("%s", c->name);
	ASSERT_EQ(c->event_id, f->event_id) TH_LOG("%s", c->name);
	ASSERT_EQ(c->type, f->type) TH_LOG("%s", c->name);
	ASSERT_EQ(c->level, f->level) TH_LOG("%s", c->name);
	ASSERT_EQ(c->flags, f->flags) TH_LOG("%s", c->name);
	ASSERT_EQ(c->perm, f->perm) TH_LOG("%s", c->name);
	ASSERT_EQ(c->addr, f->addr) {
		TH_LOG("%s: addr 0x%llx, expected 0x%llx", c->name,
		       (unsigned long long)f->addr, (unsigned long long)c->addr);
	}
	/* PASID present only with PASID_VALID (bit 0 in both flag sets) */
	if (c->flags & TC_PRQ_PASID) {
		ASSERT_TRUE(f->has[IOPF_FAULT_A_PASID]) TH_LOG("%s", c->name);
		ASSERT_EQ(c->pasid, f->pasid) TH_LOG("%s", c->name);
	} else {
		ASSERT_FALSE(f->has[IOPF_FAULT_A_PASID]) {
			TH_LOG("%s: PASID without PASID_VALID", c->name);
		}
	}
	if (c->type == TC_PRQ) {
		ASSERT_TRUE(f->has[IOPF_FAULT_A_GRPID]) TH_LOG("%s", c->name);
		ASSERT_EQ(c->grpid, f->grpid) TH_LOG("%s", c->name);
		if (f->has[IOPF_FAULT_A_REASON])
			ASSERT_EQ(0u, f->reason) TH_LOG("%s", c->name);
	} else {
		ASSERT_TRUE(f->has[IOPF_FAULT_A_REASON]) TH_LOG("%s", c->name);
		ASSERT_EQ(c->reason, f->reason) TH_LOG("%s", c->name);
		if (f->has[IOPF_FAULT_A_GRPID])
			ASSERT_EQ(0u, f->grpid) TH_LOG("%s", c->name);
	}
	/* RECORD: the 32 raw bytes, little-endian words */
	ASSERT_EQ(32u, f->record_len) TH_LOG("%s", c->name);
	for (w = 0; w < 4; w++)
		for (i = 0; i < 8; i++)
			rec[w * 8 + i] = (uint8_t)(evt[w] >> (8 * i));
	ASSERT_EQ(0, memcmp(rec, f->record, 32)) {
		TH_LOG("%s: RECORD bytes differ from the injected record", c->name);
	}
	ASSERT_GE(f->nests_in_msg, 1);
	ASSERT_NE(0u, f->seq);
	ASSERT_NE(0u, f->dev_seq);
}

/* Next FAULT SEQ must follow the last one seen */
static void check_seq(struct __test_metadata *_metadata, struct tb *t,
		      const struct iopf_nl_fault *f, uint64_t *dev_seq)
{
	if (t->last_seq)
		ASSERT_EQ(t->last_seq + 1, f->seq) TH_LOG("global SEQ gap");
	t->last_seq = f->seq;
	if (dev_seq) {
		ASSERT_EQ(*dev_seq + 1, f->dev_seq) TH_LOG("DEV_SEQ gap");
		*dev_seq = f->dev_seq;
	}
}

static uint64_t resume_w0(uint32_t sid, uint32_t resp)
{
	/* word0 = 0x44 | RESP << 12 | SID << 32 (interfaces.md) */
	return 0x44ull | ((uint64_t)resp << 12) | ((uint64_t)sid << 32);
}

static void check_resume(struct __test_metadata *_metadata, struct tb *t,
			 const struct iopf_nl_resume *r, uint32_t sid,
			 uint32_t stag, uint32_t code, uint32_t origin,
			 const char *what)
{
	uint32_t resp = code == IOPF_RESP_SUCCESS ? IOPF_RESUME_RETRY :
						    IOPF_RESUME_ABORT;
	int i;

	for (i = IOPF_RESUME_A_SEQ; i <= IOPF_RESUME_A_CMD; i++)
		ASSERT_TRUE(r->has[i]) {
			TH_LOG("%s: resume nest lacks attribute %d", what, i);
		}
	ASSERT_EQ(sid, r->sid) TH_LOG("%s", what);
	ASSERT_EQ(stag, r->stag) TH_LOG("%s", what);
	ASSERT_EQ(resp, r->resp) TH_LOG("%s", what);
	ASSERT_EQ(code, r->code) TH_LOG("%s", what);
	ASSERT_EQ(origin, r->origin) TH_LOG("%s", what);
	ASSERT_EQ(16u, r->cmd_len) TH_LOG("%s", what);
	ASSERT_EQ(resume_w0(sid, resp), r->cmd[0]) {
		TH_LOG("%s: CMD word0 0x%016llx", what,
		       (unsigned long long)r->cmd[0]);
	}
	ASSERT_EQ((uint64_t)(stag & 0xffff), r->cmd[1]) TH_LOG("%s", what);
	if (t->last_resume_seq)
		ASSERT_EQ(t->last_resume_seq + 1, r->seq) TH_LOG("%s: RESUME SEQ", what);
	ASSERT_NE(0u, r->seq);
	t->last_resume_seq = r->seq;
}

static void check_last_resume(struct __test_metadata *_metadata, uint32_t sid,
			      uint32_t stag, uint32_t code, const char *origin)
{
	uint32_t resp = code == IOPF_RESP_SUCCESS ? IOPF_RESUME_RETRY :
						    IOPF_RESUME_ABORT;
	struct iopf_last_resume lr;
	int ret = iopf_read_last_resume(sid, &lr);

	ASSERT_EQ(0, ret) TH_LOG("last_resume of 0x%x: %d", sid, ret);
	ASSERT_FALSE(lr.none);
	ASSERT_EQ(resume_w0(sid, resp), lr.w0);
	ASSERT_EQ((uint64_t)(stag & 0xffff), lr.w1);
	ASSERT_STREQ(resp == IOPF_RESUME_RETRY ? "RETRY" : "ABORT", lr.resp);
	ASSERT_EQ(stag, lr.stag);
	ASSERT_STREQ(origin, lr.origin);
}

/* Expect a RESUME notification and the matching last_resume file */
static void expect_resume(struct __test_metadata *_metadata, struct tb *t,
			  uint32_t sid, uint32_t stag, uint32_t code,
			  uint32_t origin, const char *what)
{
	static const char *const names[] = { "?", "response", "report_failed",
					     "flush" };
	struct iopf_nl_event ev;

	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, what);
	check_resume(_metadata, t, &ev.resume, sid, stag, code, origin, what);
	if (origin != IOPF_ORIGIN_FLUSH)
		check_last_resume(_metadata, sid, stag, code, names[origin]);
}

static void respond_ok(struct __test_metadata *_metadata, struct tb *t,
		       uint32_t sid, uint32_t grpid, uint32_t code)
{
	int ret = iopf_page_response(t->nl, sid, grpid, code, NULL);

	ASSERT_EQ(0, ret) {
		TH_LOG("PAGE_RESPONSE 0x%x grpid 0x%x code %u: %s (%s)", sid,
		       grpid, code, strerror(-ret), t->nl->ext_msg);
	}
	expect_resume(_metadata, t, sid, grpid, code, IOPF_ORIGIN_RESPONSE,
		      "page response");
}

static uint64_t filtered_counter(const struct iopf_nl_dev *d, int verdict)
{
	switch (verdict) {
	case IOPF_FILTER_L1:
		return DS(*d, FILTERED_L1);
	case IOPF_FILTER_L2:
		return DS(*d, FILTERED_L2);
	case IOPF_FILTER_UNRECOV:
		return DS(*d, FILTERED_UNRECOV);
	default:
		return ~0ull;
	}
}

enum inj_how { INJ_TEXT, INJ_RAW };

/*
 * Inject one table case at sid (registered with some flag set giving
 * `verdict`) and check everything that must follow: counters, FAULT_NTF,
 * pending list, and the RESUME (user's response, or the module's ABORT).
 */
static void run_case(struct __test_metadata *_metadata, struct tb *t,
		     const struct iopf_fault_case *c, uint32_t sid, int verdict,
		     enum inj_how how, uint64_t *dev_seq)
{
	struct iopf_nl_dev before, after;
	struct iopf_nl_event ev;
	uint64_t evt[4];
	const bool prq = c->type == TC_PRQ;
	int ret;

	ASSERT_EQ(0, c->ret);
	make_evt(c, sid, evt);
	dev_get(_metadata, t, sid, &before);
	ASSERT_EQ(0, iopf_nl_drain(t->lis)) TH_LOG("%s: stale events", c->name);

	if (how == INJ_RAW)
		ret = iopf_inject_raw((const uint64_t (*)[4])evt, 1);
	else
		ret = iopf_inject(evt);
	ASSERT_EQ(0, ret) TH_LOG("%s: inject: %s", c->name, strerror(-ret));

	dev_get(_metadata, t, sid, &after);
	ASSERT_EQ(DS(before, INJECTED) + 1, DS(after, INJECTED)) TH_LOG("%s", c->name);
	ASSERT_EQ(DS(before, NO_HANDLER), DS(after, NO_HANDLER));
	ASSERT_EQ(DS(before, REPORT_FAILED), DS(after, REPORT_FAILED));

	if (verdict == IOPF_DELIVER) {
		ASSERT_EQ(DS(before, REPORTED) + 1, DS(after, REPORTED)) {
			TH_LOG("%s: not reported", c->name);
		}
		ASSERT_EQ(DS(before, FILTERED_L1), DS(after, FILTERED_L1));
		ASSERT_EQ(DS(before, FILTERED_L2), DS(after, FILTERED_L2));
		ASSERT_EQ(DS(before, FILTERED_UNRECOV), DS(after, FILTERED_UNRECOV));
		ASSERT_EQ(DS(before, AUTO_ABORTS), DS(after, AUTO_ABORTS));

		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, c->name);
		check_fault(_metadata, &ev.fault, c, sid, evt);
		check_seq(_metadata, t, &ev.fault, dev_seq);

		if (prq) {
			struct iopf_nl_fault pend[2];
			struct iopf_pending_line pl[2];
			int n;

			ASSERT_EQ(DS(before, PENDING) + 1, DS(after, PENDING));
			n = iopf_pending_dump(t->nl, &sid, pend, 2);
			ASSERT_EQ(1, n) TH_LOG("%s: PENDING_GET %d", c->name, n);
			check_fault(_metadata, &pend[0], c, sid, evt);
			ASSERT_EQ(ev.fault.seq, pend[0].seq);
			ASSERT_EQ(ev.fault.dev_seq, pend[0].dev_seq);

			n = iopf_read_pending(sid, pl, 2);
			ASSERT_EQ(1, n) TH_LOG("%s: pending file %d", c->name, n);
			ASSERT_TRUE(pl[0].seq == ev.fault.seq ||
				    pl[0].seq == ev.fault.dev_seq);
			ASSERT_EQ(c->grpid, pl[0].grpid);
			ASSERT_EQ((bool)(c->flags & TC_PRQ_PASID), pl[0].has_pasid);
			if (pl[0].has_pasid)
				ASSERT_EQ(c->pasid, pl[0].pasid);
			ASSERT_EQ(c->level, pl[0].level);
			ASSERT_EQ(c->addr, pl[0].addr);

			respond_ok(_metadata, t, sid, c->grpid, IOPF_RESP_SUCCESS);
			dev_get(_metadata, t, sid, &after);
			ASSERT_EQ(DS(before, PENDING), DS(after, PENDING));
			ASSERT_EQ(DS(before, RESPONSES) + 1, DS(after, RESPONSES));
		} else {
			/* an unrecoverable fault is never pending */
			ASSERT_EQ(DS(before, PENDING), DS(after, PENDING));
			ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, NULL, 0));
		}
	} else {
		ASSERT_EQ(DS(before, REPORTED), DS(after, REPORTED)) {
			TH_LOG("%s: reported despite the flags", c->name);
		}
		ASSERT_EQ(filtered_counter(&before, verdict) + 1,
			  filtered_counter(&after, verdict)) {
			TH_LOG("%s: wrong FILTERED_* counter (verdict %d)",
			       c->name, verdict);
		}
		ASSERT_EQ(DS(before, FILTERED_L1) + DS(before, FILTERED_L2) +
			  DS(before, FILTERED_UNRECOV) + 1,
			  DS(after, FILTERED_L1) + DS(after, FILTERED_L2) +
			  DS(after, FILTERED_UNRECOV));
		ASSERT_EQ(DS(before, PENDING), DS(after, PENDING));
		if (prq) {
			/* the driver answers a failed page request itself */
			ASSERT_EQ(DS(before, AUTO_ABORTS) + 1, DS(after, AUTO_ABORTS));
			expect_resume(_metadata, t, sid, c->grpid, IOPF_RESP_FAILURE,
				      IOPF_ORIGIN_REPORT_FAILED, c->name);
		} else {
			ASSERT_EQ(DS(before, AUTO_ABORTS), DS(after, AUTO_ABORTS));
		}
	}
	expect_quiet(_metadata, t, c->name);
}

/* ------------------------------------------------------------------ */
/* Devices and handlers                                                 */
/* ------------------------------------------------------------------ */

FIXTURE(api) {
	struct tb t;
};

FIXTURE_SETUP(api)
{
	tb_setup(_metadata, &self->t);
}

FIXTURE_TEARDOWN(api)
{
	tb_teardown(&self->t);
}

TEST_F(api, dev_new_get_del)
{
	struct tb *t = &self->t;
	struct iopf_last_resume lr;
	struct iopf_nl_dev d;
	char buf[256];
	uint32_t sid = tb_dev(_metadata, t);
	size_t i;

	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(0, d.registered);
	ASSERT_EQ(0u, d.flags);
	for (i = 0; i < ARRAY_SIZE(dev_stat_attrs); i++)
		ASSERT_EQ(0u, d.stats.v[dev_stat_attrs[i]]);

	ASSERT_TRUE(iopf_dbgfs_dev_exists(sid));
	ASSERT_LT(0, iopf_dbgfs_read_dev(sid, "flags", buf, sizeof(buf)));
	ASSERT_EQ(0, strncmp(buf, "unregistered", 12)) TH_LOG("flags: %s", buf);
	ASSERT_EQ(0, iopf_read_last_resume(sid, &lr));
	ASSERT_TRUE(lr.none);
	ASSERT_EQ(0, iopf_read_pending(sid, NULL, 0));
	ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, NULL, 0));

	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));
	ASSERT_FALSE(iopf_dbgfs_dev_exists(sid));
}

TEST_F(api, dev_new_duplicate)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_dev d;

	ASSERT_EQ(-EEXIST, iopf_dev_new(t->nl, sid));
	/* the existing device is untouched */
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1, d.registered);
	ASSERT_EQ(IOPF_REPORT_FLAT, d.flags);
}

TEST_F(api, dev_del_unknown)
{
	struct tb *t = &self->t;

	ASSERT_EQ(-ENODEV, iopf_dev_del(t->nl, tb_sid(t)));
}

TEST_F(api, dev_del_twice)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);

	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
	ASSERT_EQ(-ENODEV, iopf_dev_del(t->nl, sid));
}

TEST_F(api, dev_get_unknown)
{
	struct tb *t = &self->t;
	struct iopf_nl_dev d;

	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, tb_sid(t), &d));
}

TEST_F(api, dev_dump)
{
	struct tb *t = &self->t;
	static struct iopf_nl_dev devs[256];
	uint32_t a = tb_dev(_metadata, t);
	uint32_t b = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
					      IOPF_REPORT_NESTED_L2_CONCERNED);
	uint32_t c = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	int n, i, found = 0;

	n = iopf_dev_dump(t->nl, devs, 256);
	ASSERT_GE(n, 3);
	ASSERT_LE(n, 256);
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(devs[i].has[IOPF_A_SID]);
		ASSERT_TRUE(devs[i].has[IOPF_A_STATS]);
		if (devs[i].sid == a) {
			found |= 1;
			ASSERT_EQ(0, devs[i].registered);
			ASSERT_EQ(0u, devs[i].flags);
		} else if (devs[i].sid == b) {
			found |= 2;
			ASSERT_EQ(1, devs[i].registered);
			ASSERT_EQ(0xau, devs[i].flags);
		} else if (devs[i].sid == c) {
			found |= 4;
			ASSERT_EQ(1, devs[i].registered);
			ASSERT_EQ(0x11u, devs[i].flags);
		}
	}
	ASSERT_EQ(7, found);
}

TEST_F(api, stats_devices_count)
{
	struct tb *t = &self->t;
	struct iopf_nl_stats s0, s1, s2;
	uint32_t a;

	stats_get(_metadata, t, &s0);
	a = tb_dev(_metadata, t);
	tb_dev(_metadata, t);
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, DEVICES) + 2, GS(s1, DEVICES));
	ASSERT_EQ(0, iopf_dev_del(t->nl, a));
	stats_get(_metadata, t, &s2);
	ASSERT_EQ(GS(s0, DEVICES) + 1, GS(s2, DEVICES));
}

static bool flags_valid(uint32_t f)
{
	/* interfaces.md: one of FLAT/NESTED; NESTED needs L1 and/or L2;
	 * FLAT takes neither; UNRECOV optional */
	bool flat = f & 1, nested = f & 2, l1 = f & 4, l2 = f & 8;

	if (f & ~0x1fu)
		return false;
	return flat != nested && (!nested || l1 || l2) && (!flat || (!l1 && !l2));
}

TEST_F(api, register_invalid_flags)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	struct iopf_nl_dev d;
	uint32_t f;
	int ret, nvalid = 0;

	for (f = 0; f < 32; f++) {
		if (flags_valid(f)) {
			nvalid++;
			continue;
		}
		ret = iopf_handler_register(t->nl, sid, f);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("flags 0x%x accepted (%d)", f, ret);
		ASSERT_NE(0, t->nl->ext_msg[0]) TH_LOG("flags 0x%x: no extack", f);
		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(0, d.registered) TH_LOG("flags 0x%x", f);
	}
	ASSERT_EQ(8, nvalid);

	/* the RFC accepted NESTED alone; FLAT|NESTED was its only check */
	ASSERT_EQ(-EINVAL, iopf_handler_register(t->nl, sid, IOPF_REPORT_NESTED));
	TH_LOG("NESTED alone: \"%s\"", t->nl->ext_msg);
	ASSERT_EQ(-EINVAL, iopf_handler_register(t->nl, sid,
			IOPF_REPORT_FLAT | IOPF_REPORT_NESTED |
			IOPF_REPORT_NESTED_L1_CONCERNED));
	ASSERT_NE(0, t->nl->ext_msg[0]);

	/* a valid registration still works: nothing was left locked */
	ASSERT_EQ(0, iopf_handler_register(t->nl, sid, IOPF_REPORT_FLAT));
}

TEST_F(api, register_unknown_bits)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	static const uint32_t bad[] = { 0x20, 0x21, 0x26, 0x80000001u,
					0xffffffffu, 0x100 | 0x0e };
	struct iopf_nl_dev d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = iopf_handler_register(t->nl, sid, bad[i]);

		ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) {
			TH_LOG("flags 0x%x: %d", bad[i], ret);
		}
		ASSERT_TRUE(t->nl->ext_msg[0] || t->nl->ext_offs) {
			TH_LOG("flags 0x%x: no extack", bad[i]);
		}
	}
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(0, d.registered);
}

TEST_F(api, register_every_valid_set)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	struct iopf_nl_dev d;
	char buf[128];
	int k;

	for (k = 0; k < IOPF_TC_NFLAGSETS; k++) {
		uint32_t f = iopf_tc_flagsets[k];
		unsigned long shown;
		char *end;

		ASSERT_EQ(0, iopf_handler_register(t->nl, sid, f)) {
			TH_LOG("%s: %s", iopf_tc_flagset_names[k], t->nl->ext_msg);
		}
		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(1, d.registered);
		ASSERT_EQ(f, d.flags);
		/* debugfs flags: "0x6 NESTED,L1" */
		ASSERT_LT(0, iopf_dbgfs_read_dev(sid, "flags", buf, sizeof(buf)));
		ASSERT_EQ(0, strncmp(buf, "0x", 2)) TH_LOG("flags file: %s", buf);
		shown = strtoul(buf + 2, &end, 16);
		ASSERT_EQ((unsigned long)f, shown) TH_LOG("flags file: %s", buf);
		ASSERT_EQ(' ', *end) TH_LOG("flags file: %s", buf);
		ASSERT_NE(NULL, strstr(end, (f & 1) ? "FLAT" : "NESTED"));
		ASSERT_EQ(0, iopf_handler_unregister(t->nl, sid));
		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(0, d.registered);
		ASSERT_EQ(0u, d.flags);
	}
}

TEST_F(api, register_busy)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L1_CONCERNED);
	struct iopf_nl_dev d;

	ASSERT_EQ(-EBUSY, iopf_handler_register(t->nl, sid, IOPF_REPORT_FLAT));
	ASSERT_EQ(-EBUSY, iopf_handler_register(t->nl, sid, 0x6));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(0x6u, d.flags);
}

TEST_F(api, register_unknown_sid)
{
	struct tb *t = &self->t;

	ASSERT_EQ(-ENODEV, iopf_handler_register(t->nl, tb_sid(t), IOPF_REPORT_FLAT));
}

TEST_F(api, update_without_handler)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);

	/* the RFC's inverted check (B2) dereferenced NULL here */
	ASSERT_EQ(-ENODEV, iopf_handler_update(t->nl, sid, 0xffffffffu,
					       IOPF_REPORT_FLAT));
	ASSERT_EQ(-ENODEV, iopf_handler_update(t->nl, tb_sid(t), 0, 1));
}

TEST_F(api, update_mask_set)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, 0x6);
	static const struct { uint32_t mask, set, result; } steps[] = {
		/* the RFC's idioms: ~0 keeps all, ~FLAG clears FLAG */
		{ 0xffffffffu, 0x8, 0xe },	/* add L2 */
		{ ~0x4u, 0x0, 0xa },		/* drop L1 */
		{ 0x1f, 0x10, 0x1a },		/* add UNRECOV */
		{ 0x0, 0x1, 0x1 },		/* replace: FLAT */
		{ 0xffffffffu, 0x0, 0x1 },	/* no change */
		{ 0x1, 0x10, 0x11 },
		{ 0x10, 0x6, 0x16 },		/* keep UNRECOV, NESTED|L1 */
		{ 0x0, 0xe, 0xe },
	};
	struct iopf_nl_dev d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		int ret = iopf_handler_update(t->nl, sid, steps[i].mask,
					      steps[i].set);

		/* the RFC (B2) failed every update of a registered handler */
		ASSERT_EQ(0, ret) {
			TH_LOG("step %zu: %s (%s)", i, strerror(-ret), t->nl->ext_msg);
		}
		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(1, d.registered);
		ASSERT_EQ(steps[i].result, d.flags) TH_LOG("step %zu", i);
	}
}

TEST_F(api, update_invalid_keeps_flags)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, 0x6);
	static const struct { uint32_t mask, set; } bad[] = {
		{ 0xffffffffu, 0x1 },	/* FLAT|NESTED|L1 */
		{ ~0x4u, 0x0 },		/* NESTED alone */
		{ 0x0, 0x0 },		/* nothing */
		{ 0x0, 0x2 },		/* NESTED alone */
		{ 0x0, 0x5 },		/* FLAT|L1 */
		{ 0xffffffffu, 0x20 },	/* unknown bit in SET */
		{ 0x0, 0x80000006u },	/* unknown bit in SET */
	};
	struct iopf_nl_dev d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = iopf_handler_update(t->nl, sid, bad[i].mask, bad[i].set);

		if (bad[i].set & ~0x1fu) {
			ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("%d", ret);
		} else {
			ASSERT_EQ(-EINVAL, ret) TH_LOG("step %zu", i);
		}
		ASSERT_TRUE(t->nl->ext_msg[0] || t->nl->ext_offs) TH_LOG("step %zu", i);
		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(0x6u, d.flags) TH_LOG("step %zu changed the flags", i);
		ASSERT_EQ(1, d.registered);
	}
}

TEST_F(api, update_changes_delivery)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L2_CONCERNED);
	const struct iopf_fault_case *s1 = &iopf_fault_cases[0];
	uint64_t dev_seq = 0;

	ASSERT_STREQ("translation_s1_stall", s1->name);
	run_case(_metadata, t, s1, sid, IOPF_FILTER_L1, INJ_TEXT, &dev_seq);
	ASSERT_EQ(0, iopf_handler_update(t->nl, sid, 0xffffffffu,
					 IOPF_REPORT_NESTED_L1_CONCERNED));
	run_case(_metadata, t, s1, sid, IOPF_DELIVER, INJ_TEXT, &dev_seq);
	ASSERT_EQ(0, iopf_handler_update(t->nl, sid,
					 ~IOPF_REPORT_NESTED_L1_CONCERNED, 0));
	run_case(_metadata, t, s1, sid, IOPF_FILTER_L1, INJ_TEXT, &dev_seq);
}

TEST_F(api, unregister_pending_busy)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];

	stall_evt(sid, 0x77, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	ASSERT_EQ(-EBUSY, iopf_handler_unregister(t->nl, sid));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1, d.registered);
	ASSERT_EQ(1u, DS(d, PENDING));

	respond_ok(_metadata, t, sid, 0x77, IOPF_RESP_SUCCESS);
	ASSERT_EQ(0, iopf_handler_unregister(t->nl, sid));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(0, d.registered);
	ASSERT_EQ(0u, d.flags);
	ASSERT_EQ(-ENODEV, iopf_handler_unregister(t->nl, sid));
}

TEST_F(api, unregister_unknown_sid)
{
	struct tb *t = &self->t;

	ASSERT_EQ(-ENODEV, iopf_handler_unregister(t->nl, tb_sid(t)));
}

TEST_F(api, reregister_after_unregister)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint64_t dev_seq = 0;

	ASSERT_EQ(0, iopf_handler_unregister(t->nl, sid));
	ASSERT_EQ(0, iopf_handler_register(t->nl, sid, 0x16));
	/* stage-2 stall now filtered, stage-1 delivered */
	run_case(_metadata, t, &iopf_fault_cases[1], sid, IOPF_FILTER_L2,
		 INJ_TEXT, &dev_seq);
	run_case(_metadata, t, &iopf_fault_cases[0], sid, IOPF_DELIVER,
		 INJ_TEXT, &dev_seq);
}

/* ------------------------------------------------------------------ */
/* Report path outside delivery                                         */
/* ------------------------------------------------------------------ */

TEST_F(api, no_handler)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	struct iopf_nl_dev d;
	uint64_t evt[4];

	stall_evt(sid, 0x123, 0x5000, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, INJECTED));
	ASSERT_EQ(1u, DS(d, NO_HANDLER));
	ASSERT_EQ(0u, DS(d, REPORTED));
	ASSERT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ(1u, DS(d, AUTO_ABORTS));
	expect_resume(_metadata, t, sid, 0x123, IOPF_RESP_FAILURE,
		      IOPF_ORIGIN_REPORT_FAILED, "no handler, stall");

	nostall_evt(sid, 0x6000, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(2u, DS(d, INJECTED));
	ASSERT_EQ(2u, DS(d, NO_HANDLER));
	ASSERT_EQ(1u, DS(d, AUTO_ABORTS));
	expect_quiet(_metadata, t, "no handler, no stall");
}

TEST_F(api, unknown_sid)
{
	struct tb *t = &self->t;
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_dev d;
	uint32_t ghost = tb_sid(t);
	uint64_t evt[4];

	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, ghost, &d));
	stats_get(_metadata, t, &s0);
	stall_evt(ghost, 1, 0x1000, evt);
	inject(_metadata, evt);
	nostall_evt(ghost, 0x2000, evt);
	inject(_metadata, evt);
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, UNKNOWN_SID) + 2, GS(s1, UNKNOWN_SID));
	ASSERT_EQ(GS(s0, RECORDS) + 2, GS(s1, RECORDS));
	ASSERT_EQ(GS(s0, UNHANDLED_EVENT), GS(s1, UNHANDLED_EVENT));
	expect_quiet(_metadata, t, "unknown SID");
}

TEST_F(api, unhandled_event_before_sid_lookup)
{
	struct tb *t = &self->t;
	struct iopf_nl_stats s0, s1;
	uint32_t ghost = tb_sid(t);
	uint64_t evt[4] = { ((uint64_t)ghost << 32) | 0x02, 0, 0, 0 };

	stats_get(_metadata, t, &s0);
	inject(_metadata, evt);
	stats_get(_metadata, t, &s1);
	/* decode comes first: an unhandled ID never reaches the SID lookup */
	ASSERT_EQ(GS(s0, UNHANDLED_EVENT) + 1, GS(s1, UNHANDLED_EVENT));
	ASSERT_EQ(GS(s0, UNKNOWN_SID), GS(s1, UNKNOWN_SID));
	ASSERT_EQ(GS(s0, RECORDS) + 1, GS(s1, RECORDS));
}

TEST_F(api, unrecoverable_delivered_not_pending)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];

	/* a STAG in an unrecoverable record is meaningless */
	nostall_evt(sid, 0x7000, evt);
	evt[1] |= 0x55;
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "unrecov");
	ASSERT_EQ((uint32_t)IOPF_FAULT_DMA_UNRECOV, ev.fault.type);
	ASSERT_EQ((uint32_t)IOPF_REASON_ACCESS, ev.fault.reason);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, REPORTED));
	ASSERT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, NULL, 0));
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, sid, 0x55,
					      IOPF_RESP_SUCCESS, NULL));
	expect_quiet(_metadata, t, "unrecov");
}

TEST_F(api, no_lock_leak_after_filtered)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L2_CONCERNED);
	struct iopf_nl_dev d;
	uint64_t evt[4];
	int i;

	/*
	 * B1: the RFC returned -EOPNOTSUPP with the device lock held for every
	 * filtered or unrecoverable fault; anything after it would hang.
	 */
	for (i = 0; i < 3; i++) {
		stall_evt(sid, (uint32_t)i, 0x1000, evt);	/* stage 1: filtered */
		inject(_metadata, evt);
		nostall_evt(sid, 0x2000, evt);			/* unrecov: filtered */
		inject(_metadata, evt);
	}
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(6u, DS(d, INJECTED));
	ASSERT_EQ(3u, DS(d, FILTERED_L1));
	ASSERT_EQ(3u, DS(d, FILTERED_UNRECOV));
	ASSERT_EQ(-EBUSY, iopf_handler_register(t->nl, sid, IOPF_REPORT_FLAT));
	ASSERT_EQ(0, iopf_handler_update(t->nl, sid, 0xffffffffu,
					 IOPF_REPORT_NESTED_L1_CONCERNED));
	ASSERT_EQ(0, iopf_handler_unregister(t->nl, sid));
	ASSERT_EQ(0, iopf_handler_register(t->nl, sid, IOPF_REPORT_FLAT));
	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
}

/* ------------------------------------------------------------------ */
/* Page responses and RESUME                                            */
/* ------------------------------------------------------------------ */

TEST_F(api, page_response_first_match)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_fault pend[4];
	struct iopf_nl_event ev;
	uint64_t evt[3][4], seq[3];
	struct iopf_nl_dev d;
	int i;

	stall_evt(sid, 0xa, 0x1000, evt[0]);
	stall_evt(sid, 0xa, 0x2000, evt[1]);
	stall_evt(sid, 0xb, 0x3000, evt[2]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);
	for (i = 0; i < 3; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
		seq[i] = ev.fault.seq;
		ASSERT_EQ(evt[i][2], ev.fault.addr);
	}
	ASSERT_EQ(3, iopf_pending_dump(t->nl, &sid, pend, 4));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(seq[i], pend[i].seq);

	/* the first (oldest) request with grpid 0xa is consumed */
	respond_ok(_metadata, t, sid, 0xa, IOPF_RESP_SUCCESS);
	ASSERT_EQ(2, iopf_pending_dump(t->nl, &sid, pend, 4));
	ASSERT_EQ(seq[1], pend[0].seq);
	ASSERT_EQ(0x2000u, pend[0].addr);
	ASSERT_EQ(seq[2], pend[1].seq);

	respond_ok(_metadata, t, sid, 0xb, IOPF_RESP_INVALID);
	ASSERT_EQ(1, iopf_pending_dump(t->nl, &sid, pend, 4));
	ASSERT_EQ(seq[1], pend[0].seq);
	respond_ok(_metadata, t, sid, 0xa, IOPF_RESP_FAILURE);
	ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, pend, 4));
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, sid, 0xa,
					      IOPF_RESP_SUCCESS, NULL));

	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, DS(d, RESPONSES));
	ASSERT_EQ(1u, DS(d, RESPONSE_ERRORS));
	ASSERT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ(0u, DS(d, AUTO_ABORTS));
	expect_quiet(_metadata, t, "after responses");
}

TEST_F(api, page_response_wrong_grpid)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];
	int ret;

	stall_evt(sid, 0x10, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, sid, 0x11,
					      IOPF_RESP_SUCCESS, NULL));
	ret = iopf_page_response(t->nl, sid, 0x10010, IOPF_RESP_SUCCESS, NULL);
	ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("%d", ret);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, PENDING));
	ASSERT_LE(1u, DS(d, RESPONSE_ERRORS));
	ASSERT_EQ(0u, DS(d, RESPONSES));
	expect_quiet(_metadata, t, "wrong grpid");
	respond_ok(_metadata, t, sid, 0x10, IOPF_RESP_SUCCESS);
}

TEST_F(api, page_response_nothing_pending)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_dev d;

	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, sid, 0,
					      IOPF_RESP_SUCCESS, NULL));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, RESPONSE_ERRORS));
	ASSERT_EQ(0u, DS(d, RESPONSES));
	expect_quiet(_metadata, t, "nothing pending");
}

TEST_F(api, page_response_bad_code)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static const uint32_t codes[] = { 3, 4, 0x100, 0xffffffffu };
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];
	size_t i;

	stall_evt(sid, 0x20, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		int ret = iopf_page_response(t->nl, sid, 0x20, codes[i], NULL);

		ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) {
			TH_LOG("code %u: %d", codes[i], ret);
		}
	}
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, PENDING));
	ASSERT_EQ(0u, DS(d, RESPONSES));
	expect_quiet(_metadata, t, "bad code");
	respond_ok(_metadata, t, sid, 0x20, IOPF_RESP_SUCCESS);
}

TEST_F(api, page_response_codes_and_resume)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[3][4];
	uint32_t code;

	for (code = 0; code < 3; code++)
		stall_evt(sid, 0x100 + code, 0x1000 * (code + 1), evt[code]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);
	for (code = 0; code < 3; code++)
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	/* SUCCESS -> RETRY; INVALID, FAILURE -> ABORT; word0/word1 and file */
	for (code = 0; code < 3; code++)
		respond_ok(_metadata, t, sid, 0x100 + code, code);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, DS(d, RESPONSES));
	ASSERT_EQ(0u, DS(d, PENDING));
}

TEST_F(api, page_response_with_pasid)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t pasid = 0x12345;
	struct iopf_nl_event ev;
	uint64_t evt[4];
	int ret;

	stall_evt_pasid(sid, 0x30, pasid, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall with PASID");
	ASSERT_TRUE(ev.fault.has[IOPF_FAULT_A_PASID]);
	ASSERT_EQ(pasid, ev.fault.pasid);
	ASSERT_EQ((uint32_t)(IOPF_PRQ_PASID_VALID | IOPF_PRQ_LAST_PAGE),
		  ev.fault.flags);
	ret = iopf_page_response(t->nl, sid, 0x30, IOPF_RESP_SUCCESS, &pasid);
	ASSERT_EQ(0, ret) TH_LOG("%s", t->nl->ext_msg);
	expect_resume(_metadata, t, sid, 0x30, IOPF_RESP_SUCCESS,
		      IOPF_ORIGIN_RESPONSE, "response with PASID");
}

/*
 * v5.13 matches a PASID only for requests with NEEDS_PASID, which SMMUv3
 * never sets: a response with another PASID, or none, still answers the
 * request by grpid.
 */
TEST_F(api, page_response_pasid_not_matched_for_smmuv3)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t pasid = 0x12345, other = 0x54321;
	struct iopf_nl_event ev;
	uint64_t evt[4];
	int ret;

	stall_evt_pasid(sid, 0x32, pasid, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall with PASID");
	ASSERT_EQ(0u, ev.fault.flags & IOPF_PRQ_NEEDS_PASID);
	ret = iopf_page_response(t->nl, sid, 0x32, IOPF_RESP_SUCCESS, &other);
	ASSERT_EQ(0, ret) TH_LOG("%s", t->nl->ext_msg);
	expect_resume(_metadata, t, sid, 0x32, IOPF_RESP_SUCCESS,
		      IOPF_ORIGIN_RESPONSE, "response with another PASID");

	stall_evt_pasid(sid, 0x33, pasid, 0x2000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall with PASID");
	ret = iopf_page_response(t->nl, sid, 0x33, IOPF_RESP_INVALID, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s", t->nl->ext_msg);
	expect_resume(_metadata, t, sid, 0x33, IOPF_RESP_INVALID,
		      IOPF_ORIGIN_RESPONSE, "response without PASID");
}

TEST_F(api, page_response_pasid_out_of_range)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t pasid = 0x100000;	/* 21 bits */
	struct iopf_nl_event ev;
	uint64_t evt[4];
	int ret;

	stall_evt(sid, 0x31, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	ret = iopf_page_response(t->nl, sid, 0x31, IOPF_RESP_SUCCESS, &pasid);
	ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("%d", ret);
	expect_quiet(_metadata, t, "PASID out of range");
	respond_ok(_metadata, t, sid, 0x31, IOPF_RESP_SUCCESS);
}

TEST_F(api, page_response_unknown_sid)
{
	struct tb *t = &self->t;

	ASSERT_EQ(-ENODEV, iopf_page_response(t->nl, tb_sid(t), 1,
					      IOPF_RESP_SUCCESS, NULL));
}

TEST_F(api, page_response_no_handler)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);

	ASSERT_EQ(-ENODEV, iopf_page_response(t->nl, sid, 1,
					      IOPF_RESP_SUCCESS, NULL));
}

TEST_F(api, pending_dump_filter)
{
	struct tb *t = &self->t;
	uint32_t a = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t b = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static struct iopf_nl_fault pend[512];
	uint64_t evt[3][4];
	int n, i, na = 0, nb = 0;

	stall_evt(a, 1, 0x1000, evt[0]);
	stall_evt(b, 2, 0x2000, evt[1]);
	stall_evt(a, 3, 0x3000, evt[2]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);

	ASSERT_EQ(2, iopf_pending_dump(t->nl, &a, pend, 512));
	ASSERT_EQ(a, pend[0].sid);
	ASSERT_EQ(1u, pend[0].grpid);
	ASSERT_EQ(a, pend[1].sid);
	ASSERT_EQ(3u, pend[1].grpid);
	ASSERT_EQ(1, iopf_pending_dump(t->nl, &b, pend, 512));
	ASSERT_EQ(b, pend[0].sid);
	ASSERT_EQ(2u, pend[0].grpid);

	n = iopf_pending_dump(t->nl, NULL, pend, 512);
	ASSERT_GE(n, 3);
	ASSERT_LE(n, 512);
	for (i = 0; i < n; i++) {
		na += pend[i].sid == a;
		nb += pend[i].sid == b;
	}
	ASSERT_EQ(2, na);
	ASSERT_EQ(1, nb);
}

TEST_F(api, pending_file)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_pending_line pl[4];
	struct iopf_nl_event ev;
	uint64_t evt[2][4], seq[2], dseq[2];
	int i;

	stall_evt(sid, 0x41, 0xabc000, evt[0]);
	stall_evt_pasid(sid, 0x42, 0x777, 0xdef000, evt[1]);
	evt[1][1] |= 0x0000008000000000ull;	/* stage 2 */
	evt[1][3] = 0x0000000080001fffull;
	inject_many(_metadata, (const uint64_t (*)[4])evt, 2);
	for (i = 0; i < 2; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
		seq[i] = ev.fault.seq;
		dseq[i] = ev.fault.dev_seq;
	}
	ASSERT_EQ(2, iopf_read_pending(sid, pl, 4));
	ASSERT_TRUE(pl[0].seq == seq[0] || pl[0].seq == dseq[0]);
	ASSERT_EQ(0x41u, pl[0].grpid);
	ASSERT_FALSE(pl[0].has_pasid);
	ASSERT_EQ(1u, pl[0].level);
	ASSERT_EQ(0xabc000u, pl[0].addr);
	ASSERT_TRUE(pl[1].seq == seq[1] || pl[1].seq == dseq[1]);
	ASSERT_EQ(0x42u, pl[1].grpid);
	ASSERT_TRUE(pl[1].has_pasid);
	ASSERT_EQ(0x777u, pl[1].pasid);
	ASSERT_EQ(2u, pl[1].level);
	ASSERT_EQ(0x80001000u, pl[1].addr);	/* the IPA, masked */
}

TEST_F(api, dev_del_flushes_pending)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t other = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static struct iopf_nl_fault pend[512];
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4][4];
	bool seen[3] = { false, false, false };
	int i, n;

	stall_evt(sid, 0x61, 0x1000, evt[0]);
	stall_evt_pasid(sid, 0x62, 0x5, 0x2000, evt[1]);
	stall_evt(sid, 0x63, 0x3000, evt[2]);
	stall_evt(other, 0x64, 0x4000, evt[3]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 4);
	for (i = 0; i < 4; i++)
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");

	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
	/* each pending request is answered FAILURE -> ABORT, origin FLUSH */
	for (i = 0; i < 3; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "flush");
		ASSERT_GE(ev.resume.stag, 0x61u);
		ASSERT_LE(ev.resume.stag, 0x63u);
		ASSERT_FALSE(seen[ev.resume.stag - 0x61]) TH_LOG("flushed twice");
		seen[ev.resume.stag - 0x61] = true;
		check_resume(_metadata, t, &ev.resume, sid, ev.resume.stag,
			     IOPF_RESP_FAILURE, IOPF_ORIGIN_FLUSH, "flush");
	}
	expect_quiet(_metadata, t, "after flush");
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));
	ASSERT_FALSE(iopf_dbgfs_dev_exists(sid));

	n = iopf_pending_dump(t->nl, NULL, pend, 512);
	ASSERT_GE(n, 1);
	for (i = 0; i < n && i < 512; i++)
		ASSERT_NE(sid, pend[i].sid);
	/* the other device keeps its request */
	dev_get(_metadata, t, other, &d);
	ASSERT_EQ(1u, DS(d, PENDING));
	ASSERT_EQ(1, iopf_pending_dump(t->nl, &other, pend, 512));
}

TEST_F(api, resume_seq_across_origins)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L2_CONCERNED);
	uint32_t gone = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	uint64_t evt[4];

	/* report_failed (filtered stage 1), response, flush: one sequence */
	stall_evt(sid, 1, 0x1000, evt);
	inject(_metadata, evt);
	expect_resume(_metadata, t, sid, 1, IOPF_RESP_FAILURE,
		      IOPF_ORIGIN_REPORT_FAILED, "filtered");
	stall_evt(gone, 2, 0x2000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	respond_ok(_metadata, t, gone, 2, IOPF_RESP_INVALID);
	stall_evt(gone, 3, 0x3000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	ASSERT_EQ(0, iopf_dev_del(t->nl, gone));
	expect_resume(_metadata, t, gone, 3, IOPF_RESP_FAILURE,
		      IOPF_ORIGIN_FLUSH, "flush");
}

/* ------------------------------------------------------------------ */
/* Sequence numbers, timestamps, listeners                              */
/* ------------------------------------------------------------------ */

TEST_F(api, seq_burst_two_devices)
{
	struct tb *t = &self->t;
	uint32_t a = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	uint32_t b = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	enum { N = 64 };
	static uint64_t evt[N][4];
	uint64_t first = 0, dseq[2] = { 0, 0 };
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	int i;

	for (i = 0; i < N; i++) {
		uint32_t sid = (i & 1) ? b : a;

		if (i % 4 >= 2)
			stall_evt(sid, (uint32_t)i, 0x1000u * (uint32_t)i, evt[i]);
		else
			nostall_evt(sid, 0x1000u * (uint32_t)i, evt[i]);
	}
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);
	for (i = 0; i < N; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "burst");
		ASSERT_EQ((i & 1) ? b : a, ev.fault.sid) TH_LOG("record %d", i);
		ASSERT_EQ(0x1000u * (uint64_t)i, ev.fault.addr) TH_LOG("order, %d", i);
		if (i == 0)
			first = ev.fault.seq;
		/* global SEQ strictly increasing, no gaps */
		ASSERT_EQ(first + (uint64_t)i, ev.fault.seq) TH_LOG("record %d", i);
		/* DEV_SEQ per device from 1, no gaps */
		ASSERT_EQ(++dseq[i & 1], ev.fault.dev_seq) TH_LOG("record %d", i);
	}
	expect_quiet(_metadata, t, "burst");
	dev_get(_metadata, t, a, &d);
	ASSERT_EQ((uint64_t)N / 2, DS(d, REPORTED));
	ASSERT_EQ((uint64_t)N / 4, DS(d, PENDING));
	dev_get(_metadata, t, b, &d);
	ASSERT_EQ((uint64_t)N / 2, DS(d, REPORTED));
	ASSERT_EQ((uint64_t)N / 4, DS(d, PENDING));
}

TEST_F(api, seq_skips_nothing_when_filtered)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L1_CONCERNED);
	uint64_t evt[3][4];
	struct iopf_nl_event ev;
	uint64_t s0;

	stall_evt(sid, 1, 0x1000, evt[0]);
	stall_evt(sid, 2, 0x2000, evt[1]);
	evt[1][1] |= 0x0000008000000000ull;	/* stage 2: filtered */
	stall_evt(sid, 3, 0x3000, evt[2]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "first");
	s0 = ev.fault.seq;
	ASSERT_EQ(1u, ev.fault.dev_seq);
	expect_resume(_metadata, t, sid, 2, IOPF_RESP_FAILURE,
		      IOPF_ORIGIN_REPORT_FAILED, "filtered stage 2");
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "third");
	/* only reported faults take a number */
	ASSERT_EQ(s0 + 1, ev.fault.seq);
	ASSERT_EQ(2u, ev.fault.dev_seq);
}

TEST_F(api, dev_seq_restarts_for_new_device)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_event ev;
	uint64_t evt[4], s;

	nostall_evt(sid, 0x1000, evt);
	inject(_metadata, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "1");
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "2");
	ASSERT_EQ(2u, ev.fault.dev_seq);
	s = ev.fault.seq;
	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
	ASSERT_EQ(0, iopf_dev_new(t->nl, sid));
	ASSERT_EQ(0, iopf_handler_register(t->nl, sid, 0x11));
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "recreated");
	ASSERT_EQ(1u, ev.fault.dev_seq);
	ASSERT_EQ(s + 1, ev.fault.seq);	/* the global one goes on */
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

TEST_F(api, timestamp_monotonic)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_event ev;
	uint64_t evt[4], t0, t1, prev = 0;
	int i;

	for (i = 0; i < 3; i++) {
		nostall_evt(sid, 0x1000, evt);
		t0 = mono_ns();
		inject(_metadata, evt);
		t1 = mono_ns();
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "fault");
		ASSERT_LE(t0, ev.fault.timestamp_ns);
		ASSERT_GE(t1, ev.fault.timestamp_ns);
		ASSERT_LT(prev, ev.fault.timestamp_ns);
		prev = ev.fault.timestamp_ns;
	}
}

TEST_F(api, two_listeners)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl *l2 = iopf_nl_open();
	struct iopf_nl_event e1, e2;
	uint64_t evt[4];

	ASSERT_NE(NULL, l2);
	ASSERT_EQ(0, iopf_nl_subscribe(l2));
	stall_evt(sid, 9, 0x9000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &e1, IOPF_CMD_FAULT_NTF, "listener 1");
	ASSERT_EQ(1, iopf_nl_recv_event(l2, EV_TIMEOUT_MS, &e2));
	ASSERT_EQ(IOPF_CMD_FAULT_NTF, e2.cmd);
	ASSERT_EQ(e1.fault.seq, e2.fault.seq);
	ASSERT_EQ(0, memcmp(e1.fault.record, e2.fault.record, 32));
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 9, IOPF_RESP_SUCCESS, NULL));
	ASSERT_EQ(1, iopf_nl_recv_event(l2, EV_TIMEOUT_MS, &e2));
	ASSERT_EQ(IOPF_CMD_RESUME_NTF, e2.cmd);
	ASSERT_EQ(9u, e2.resume.stag);
	iopf_nl_close(l2);
	expect_resume(_metadata, t, sid, 9, IOPF_RESP_SUCCESS,
		      IOPF_ORIGIN_RESPONSE, "listener 1 resume");
}

TEST_F(api, listener_overflow_counted)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl *small = iopf_nl_open();
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_event ev;
	enum { N = 128 };
	static uint64_t evt[N][4];
	uint64_t last = 0, lost;
	bool enobufs = false, gap = false;
	struct iopf_nl_dev d;
	int i, r, got = 0;

	ASSERT_NE(NULL, small);
	ASSERT_EQ(0, iopf_nl_subscribe(small));
	ASSERT_EQ(0, iopf_nl_set_rcvbuf(small, 1));	/* the kernel minimum */
	stats_get(_metadata, t, &s0);
	for (i = 0; i < N; i++)
		stall_evt(sid, (uint32_t)i, 0x1000u * (uint32_t)i, evt[i]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);

	/* a full listener does not fail the report; the faults stay pending */
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ((uint64_t)N, DS(d, REPORTED));
	ASSERT_EQ((uint64_t)N, DS(d, PENDING));
	ASSERT_EQ(0u, DS(d, REPORT_FAILED));
	ASSERT_EQ(0u, DS(d, AUTO_ABORTS));
	stats_get(_metadata, t, &s1);
	lost = (d.stats.has[IOPF_STAT_A_NOTIFY_LOST] ? DS(d, NOTIFY_LOST) : 0) +
	       (GS(s1, NOTIFY_LOST) - GS(s0, NOTIFY_LOST));
	ASSERT_LT(0u, lost) TH_LOG("NOTIFY_LOST not counted");

	/* the small listener sees the loss: ENOBUFS or a SEQ gap */
	while ((r = iopf_nl_recv_event(small, 50, &ev)) != 0) {
		if (r == -ENOBUFS) {
			enobufs = true;
			continue;
		}
		ASSERT_EQ(1, r);
		if (ev.cmd != IOPF_CMD_FAULT_NTF)
			continue;
		if (last && ev.fault.seq != last + 1)
			gap = true;
		last = ev.fault.seq;
		got++;
	}
	ASSERT_LT(got, N);
	ASSERT_TRUE(enobufs || gap);
	iopf_nl_close(small);

	/* the big listener got them all, in sequence */
	for (i = 0; i < N; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "big listener");
		check_seq(_metadata, t, &ev.fault, NULL);
	}
}

/*
 * A listener without NETLINK_BROADCAST_ERROR that overflows: netlink says
 * -ESRCH, as it does when nobody listens, but the group has a member, so
 * the faults it missed are NOTIFY_LOST, not NOTIFY_UNHEARD.
 */
TEST_F(api, listener_overflow_without_broadcast_error)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl *small = iopf_nl_open();
	enum { N = 64 };
	static uint64_t evt[N][4];
	struct iopf_nl_dev d;
	int zero = 0, i;

	ASSERT_NE(NULL, small);
	iopf_nl_close(t->lis);	/* small is now the only member of the group */
	t->lis = NULL;
	ASSERT_EQ(0, iopf_nl_subscribe(small));
	ASSERT_EQ(0, setsockopt(small->fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR,
				&zero, sizeof(zero)));
	ASSERT_EQ(0, iopf_nl_set_rcvbuf(small, 1));	/* the kernel minimum */
	for (i = 0; i < N; i++)
		stall_evt(sid, (uint32_t)i, 0x1000u * (uint32_t)i, evt[i]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, N);

	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ((uint64_t)N, DS(d, REPORTED));
	/* the first message fits the empty buffer; the rest overflow it */
	ASSERT_LT(0u, DS(d, NOTIFY_LOST)) TH_LOG("overflow not counted as lost");
	ASSERT_EQ(0u, DS(d, NOTIFY_UNHEARD))
		TH_LOG("%llu faults counted as unheard with a member in the group",
		       (unsigned long long)DS(d, NOTIFY_UNHEARD));
	iopf_nl_close(small);
}

/* ------------------------------------------------------------------ */
/* Counter balance                                                      */
/* ------------------------------------------------------------------ */

TEST_F(api, counter_balance)
{
	struct tb *t = &self->t;
	uint32_t a = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
					      IOPF_REPORT_NESTED_L1_CONCERNED);
	uint32_t b = tb_dev(_metadata, t);
	uint32_t ghost = tb_sid(t);
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_dev da, db, dg;
	static uint64_t evt[16][4];
	int n = 0, i;

	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, ghost, &dg));
	stats_get(_metadata, t, &s0);
	/* a: 2 delivered, 1 filtered L2, 2 filtered unrecov */
	stall_evt(a, 1, 0x1000, evt[n++]);
	stall_evt(a, 2, 0x2000, evt[n++]);
	stall_evt(a, 3, 0x3000, evt[n]);
	evt[n++][1] |= 0x0000008000000000ull;
	nostall_evt(a, 0x4000, evt[n++]);
	nostall_evt(a, 0x5000, evt[n]);
	evt[n++][1] |= 0x0000008000000000ull;
	/* b (no handler): 1 stall, 1 not */
	stall_evt(b, 4, 0x6000, evt[n++]);
	nostall_evt(b, 0x7000, evt[n++]);
	/* unknown StreamID */
	for (i = 0; i < 3; i++)
		stall_evt(ghost, 5, 0x8000, evt[n++]);
	/* unhandled IDs aimed at a */
	evt[n][0] = ((uint64_t)a << 32) | 0x04;
	evt[n][1] = evt[n][2] = evt[n][3] = 0;
	n++;
	evt[n][0] = ((uint64_t)a << 32) | 0x25;
	evt[n][1] = 0x80000000ull;
	evt[n][2] = evt[n][3] = 0;
	n++;
	inject_many(_metadata, (const uint64_t (*)[4])evt, (size_t)n);

	stats_get(_metadata, t, &s1);
	dev_get(_metadata, t, a, &da);	/* checks the per-device balance */
	dev_get(_metadata, t, b, &db);
	ASSERT_EQ(5u, DS(da, INJECTED));
	ASSERT_EQ(2u, DS(da, REPORTED));
	ASSERT_EQ(0u, DS(da, FILTERED_L1));
	ASSERT_EQ(1u, DS(da, FILTERED_L2));
	ASSERT_EQ(2u, DS(da, FILTERED_UNRECOV));
	ASSERT_EQ(0u, DS(da, NO_HANDLER));
	ASSERT_EQ(2u, DS(da, PENDING));
	ASSERT_EQ(1u, DS(da, AUTO_ABORTS));
	ASSERT_EQ(2u, DS(db, INJECTED));
	ASSERT_EQ(2u, DS(db, NO_HANDLER));
	ASSERT_EQ(1u, DS(db, AUTO_ABORTS));
	ASSERT_EQ(0u, DS(db, PENDING));
	ASSERT_EQ(GS(s0, RECORDS) + (uint64_t)n, GS(s1, RECORDS));
	ASSERT_EQ(GS(s0, UNHANDLED_EVENT) + 2, GS(s1, UNHANDLED_EVENT));
	ASSERT_EQ(GS(s0, UNKNOWN_SID) + 3, GS(s1, UNKNOWN_SID));
	/* records = unhandled_event + unknown_sid + the devices' injected */
	ASSERT_EQ(GS(s1, RECORDS) - GS(s0, RECORDS),
		  (GS(s1, UNHANDLED_EVENT) - GS(s0, UNHANDLED_EVENT)) +
		  (GS(s1, UNKNOWN_SID) - GS(s0, UNKNOWN_SID)) +
		  DS(da, INJECTED) + DS(db, INJECTED));
}

/* ------------------------------------------------------------------ */
/* debugfs                                                              */
/* ------------------------------------------------------------------ */

TEST_F(api, inject_text_formats)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	char buf[512];
	int len, i;

	/* 0x optional, any blanks, upper case, blank lines ignored */
	len = snprintf(buf, sizeof(buf),
		       "\n"
		       "0x%08x00000012 0x0000000800000000 0x1000 0x0\n"
		       "%08X00000012\t\t0000000800000000  2000\t0\n"
		       "   \n"
		       "  0X%08X00000012 0X800000000 0X3000 0  \n"
		       "\n",
		       sid, sid, sid);
	ASSERT_EQ(0, iopf_dbgfs_write("inject", buf, (size_t)len));
	for (i = 1; i <= 3; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "text");
		ASSERT_EQ(sid, ev.fault.sid);
		ASSERT_EQ(0x1000u * (uint64_t)i, ev.fault.addr);
		ASSERT_EQ((uint32_t)IOPF_PERM_READ, ev.fault.perm);
	}
	expect_quiet(_metadata, t, "text formats");
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, DS(d, INJECTED));
}

TEST_F(api, inject_raw_several)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	const struct iopf_fault_case *c[3] = { &iopf_fault_cases[0],
					       &iopf_fault_cases[1],
					       &iopf_fault_cases[16] };
	uint64_t evt[3][4];
	struct iopf_nl_event ev;
	int i;

	ASSERT_STREQ("pasid_s1_stall", c[2]->name);
	for (i = 0; i < 3; i++)
		make_evt(c[i], sid, evt[i]);
	ASSERT_EQ(0, iopf_inject_raw((const uint64_t (*)[4])evt, 3));
	for (i = 0; i < 3; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, c[i]->name);
		check_fault(_metadata, &ev.fault, c[i], sid, evt[i]);
		check_seq(_metadata, t, &ev.fault, NULL);
	}
}

TEST_F(api, debugfs_stats_files)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
						IOPF_REPORT_NESTED_L1_CONCERNED);
	static const struct { const char *name; int attr; } names[] = {
		{ "injected", IOPF_STAT_A_INJECTED },
		{ "reported", IOPF_STAT_A_REPORTED },
		{ "filtered_l1", IOPF_STAT_A_FILTERED_L1 },
		{ "filtered_l2", IOPF_STAT_A_FILTERED_L2 },
		{ "filtered_unrecov", IOPF_STAT_A_FILTERED_UNRECOV },
		{ "no_handler", IOPF_STAT_A_NO_HANDLER },
		{ "report_failed", IOPF_STAT_A_REPORT_FAILED },
		{ "pending", IOPF_STAT_A_PENDING },
		{ "responses", IOPF_STAT_A_RESPONSES },
		{ "response_errors", IOPF_STAT_A_RESPONSE_ERRORS },
		{ "auto_aborts", IOPF_STAT_A_AUTO_ABORTS },
	};
	static char buf[4096];
	struct iopf_nl_dev d;
	uint64_t evt[3][4], v;
	char *line, *save = NULL;
	size_t i;
	int matched = 0, lines = 0;

	stall_evt(sid, 1, 0x1000, evt[0]);
	stall_evt(sid, 2, 0x2000, evt[1]);
	evt[1][1] |= 0x0000008000000000ull;
	nostall_evt(sid, 0x3000, evt[2]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);
	dev_get(_metadata, t, sid, &d);

	ASSERT_LT(0, iopf_dbgfs_read_dev(sid, "stats", buf, sizeof(buf)));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (iopf_stats_text_get(buf, names[i].name, &v))
			continue;
		matched++;
		ASSERT_EQ(d.stats.v[names[i].attr], v) TH_LOG("%s", names[i].name);
	}
	ASSERT_LT(0, matched) TH_LOG("no known counter name in:\n%s", buf);
	/* every line is "name value" */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long long val;
		char extra;

		ASSERT_EQ(2, sscanf(line, "%63s %llu %c", name, &val, &extra))
			TH_LOG("bad stats line: %s", line);
		lines++;
	}
	ASSERT_LE(ARRAY_SIZE(names) - 1, (size_t)lines);

	ASSERT_LT(0, iopf_dbgfs_read("stats", buf, sizeof(buf)));
	ASSERT_EQ(0, iopf_stats_text_get(buf, "records", &v)) TH_LOG("%s", buf);
}

/*
 * The benchmark's ceiling: N pre-built notifications, fault_batch faults per
 * message, each nest with the attributes of a real unrecoverable translation
 * fault, SEQ 0; nothing of the report path counts them.
 */
TEST_F(api, bench_ceiling)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	static const char *const bad[] = { "0", "16777217", "-1", "12x", "0x10" };
	unsigned long long faults, messages, unheard, failed;
	unsigned int batch = 0, rbatch;
	enum { N = 1007 };
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_fault real;
	struct iopf_nl_event ev;
	uint64_t evt[4];
	char buf[256];
	size_t i;
	int got = 0, msgs = 0;
	FILE *f;

	if (access(IOPF_DBGFS_DIR "/bench_ceiling", F_OK))
		SKIP(return, "no bench_ceiling: a module built without CONFIG_IOPF_TESTBED_BENCH=y (as shipped)");

	f = fopen("/sys/module/iopf_testbed/parameters/fault_batch", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%u", &batch));
	fclose(f);

	/* A real one first, to compare the attribute sets */
	evt[0] = ((uint64_t)sid << 32) | 0x10;
	evt[1] = 0x0000000800000000ull;
	evt[2] = 0x5000;
	evt[3] = 0;
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "real fault");
	real = ev.fault;
	ASSERT_EQ((uint32_t)IOPF_FAULT_DMA_UNRECOV, real.type);

	stats_get(_metadata, t, &s0);
	snprintf(buf, sizeof(buf), "%d\n", N);
	ASSERT_EQ(0, iopf_dbgfs_write("bench_ceiling", buf, strlen(buf)));
	while (got < N) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "bench");
		ASSERT_EQ(0u, ev.fault.seq);
		ASSERT_EQ(0u, ev.fault.dev_seq);
		ASSERT_EQ(0, memcmp(real.has, ev.fault.has, sizeof(real.has)));
		ASSERT_EQ(real.type, ev.fault.type);
		ASSERT_EQ(32u, ev.fault.record_len);
		/* packed as real ones: full messages, then the rest */
		if (got % batch == 0) {
			ASSERT_EQ(N - got >= (int)batch ? (int)batch : N % (int)batch,
				  ev.fault.nests_in_msg);
			msgs++;
		}
		got++;
	}
	expect_quiet(_metadata, t, "bench ceiling");
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, FAULT_SEQ), GS(s1, FAULT_SEQ));
	ASSERT_EQ(GS(s0, RECORDS), GS(s1, RECORDS));

	/* The file says what the run did; a listener heard every message */
	ASSERT_LT(0, iopf_dbgfs_read("bench_ceiling", buf, sizeof(buf)));
	ASSERT_EQ(5, sscanf(buf, "faults=%llu batch=%u messages=%llu unheard=%llu failed=%llu",
			    &faults, &rbatch, &messages, &unheard, &failed))
		TH_LOG("%s", buf);
	ASSERT_EQ((unsigned long long)N, faults);
	ASSERT_EQ(batch, rbatch);
	ASSERT_EQ((unsigned long long)msgs, messages);
	ASSERT_EQ(0ull, unheard);
	ASSERT_EQ(0ull, failed);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_EQ(-EINVAL, iopf_dbgfs_write("bench_ceiling", bad[i],
						    strlen(bad[i])))
			TH_LOG("bad write %zu accepted", i);
	expect_quiet(_metadata, t, "bad bench writes");
}

/* ------------------------------------------------------------------ */
/* Generic netlink policy and permissions                               */
/* ------------------------------------------------------------------ */

TEST_F(api, nl_missing_attribute)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	struct iopf_nl_msg m;

	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_NEW, false);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
	ASSERT_TRUE(t->nl->ext_miss_type == IOPF_A_SID || t->nl->ext_msg[0]);
	if (t->nl->ext_miss_type)
		ASSERT_EQ((uint32_t)IOPF_A_SID, t->nl->ext_miss_type);

	iopf_msg_family(&m, t->nl, IOPF_CMD_HANDLER_REGISTER, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
	if (t->nl->ext_miss_type)
		ASSERT_EQ((uint32_t)IOPF_A_FLAGS, t->nl->ext_miss_type);

	iopf_msg_family(&m, t->nl, IOPF_CMD_HANDLER_UPDATE, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_MASK, 0);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));

	iopf_msg_family(&m, t->nl, IOPF_CMD_PAGE_RESPONSE, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_GRPID, 0);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
	if (t->nl->ext_miss_type)
		ASSERT_EQ((uint32_t)IOPF_A_CODE, t->nl->ext_miss_type);

	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_DEL, false);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
}

TEST_F(api, nl_unknown_attribute)
{
	struct tb *t = &self->t;
	struct iopf_nl_msg m;
	struct iopf_nl_dev d;
	uint32_t sid = tb_sid(t);

	/* beyond the attribute space */
	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_NEW, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_MAX + 5, 1);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));

	/* known to the family, not to this command */
	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_NEW, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_GRPID, 1);
	ASSERT_EQ(-EINVAL, iopf_nl_transact(t->nl, &m, NULL, NULL));
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));
}

TEST_F(api, nl_wrong_attribute_size)
{
	struct tb *t = &self->t;
	struct iopf_nl_msg m;
	struct iopf_nl_dev d;
	uint32_t sid = tb_sid(t);
	int ret;

	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_NEW, false);
	iopf_msg_put_u16(&m, IOPF_A_SID, (uint16_t)sid);
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("%d", ret);

	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_NEW, false);
	iopf_msg_put_u64(&m, IOPF_A_SID, sid);
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("%d", ret);
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));
}

TEST_F(api, nl_non_admin)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint32_t fresh = tb_sid(t);
	int status = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct iopf_nl_stats s;
		struct iopf_nl_dev d;
		struct iopf_nl *nl;
		int fails = 0;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(255);
		nl = iopf_nl_open();
		if (!nl)
			_exit(254);
		if (iopf_dev_new(nl, fresh) != -EPERM)
			fails |= 1;
		if (iopf_handler_unregister(nl, sid) != -EPERM)
			fails |= 2;
		if (iopf_dev_del(nl, sid) != -EPERM)
			fails |= 4;
		if (iopf_page_response(nl, sid, 1, 0, NULL) != -EPERM)
			fails |= 8;
		if (iopf_dev_get(nl, sid, &d) != 0)
			fails |= 16;
		if (iopf_stats_get(nl, &s) != 0)
			fails |= 32;
		if (iopf_pending_dump(nl, &sid, NULL, 0) != -EPERM)
			fails |= 64;
		if (iopf_nl_subscribe(nl) != -EPERM)
			fails |= 128;
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	status = WEXITSTATUS(status);
	ASSERT_NE(255, status) TH_LOG("cannot drop privileges");
	ASSERT_NE(254, status) TH_LOG("non-root cannot resolve the family");
	EXPECT_EQ(0, status & 1) TH_LOG("DEV_NEW allowed without CAP_NET_ADMIN");
	EXPECT_EQ(0, status & 2) TH_LOG("HANDLER_UNREGISTER allowed");
	EXPECT_EQ(0, status & 4) TH_LOG("DEV_DEL allowed");
	EXPECT_EQ(0, status & 8) TH_LOG("PAGE_RESPONSE allowed");
	EXPECT_EQ(0, status & 16) TH_LOG("DEV_GET refused");
	EXPECT_EQ(0, status & 32) TH_LOG("STATS_GET refused");
	EXPECT_EQ(0, status & 64) TH_LOG("PENDING_GET allowed");
	EXPECT_EQ(0, status & 128) TH_LOG("joining \"faults\" allowed");

	{
		struct iopf_nl_dev d;

		dev_get(_metadata, t, sid, &d);
		ASSERT_EQ(1, d.registered);
		ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, fresh, &d));
	}
}

/* ------------------------------------------------------------------ */
/* Failure knobs: debugfs fail/<point>/                                  */
/* ------------------------------------------------------------------ */

static const char *const fail_points[] = { "report_alloc", "notify_send" };
static const char *const fail_saved_files[] = { "probability", "interval" };

static int knob_write(const char *point, const char *file, const char *val)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "fail/%s/%s", point, file);
	return iopf_dbgfs_write(rel, val, strlen(val));
}

static int knob_read(const char *point, const char *file, char *buf,
		     size_t size)
{
	char rel[128];
	ssize_t n;

	snprintf(rel, sizeof(rel), "fail/%s/%s", point, file);
	n = iopf_dbgfs_read(rel, buf, size);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static uint64_t knob_failed(struct __test_metadata *_metadata,
			    const char *point)
{
	char buf[64];

	ASSERT_EQ(0, knob_read(point, "failed", buf, sizeof(buf)));
	return strtoull(buf, NULL, 0);
}

FIXTURE(fail) {
	struct tb t;
	char saved[2][2][32];	/* [point][file] */
	bool have_saved;
};

FIXTURE_SETUP(fail)
{
	int p, f;

	tb_setup(_metadata, &self->t);
	if (_metadata->exit_code)
		return;
	for (p = 0; p < 2; p++)
		for (f = 0; f < 2; f++) {
			/* copies: GCC 12 at -O2 sees index 2 in the log path */
			const char *point = fail_points[p], *file = fail_saved_files[f];

			ASSERT_EQ(0, knob_read(point, file, self->saved[p][f], 32)) {
				TH_LOG("fail/%s/%s unreadable", point, file);
			}
		}
	self->have_saved = true;
	for (p = 0; p < 2; p++)
		ASSERT_EQ(0, knob_write(fail_points[p], "times", "0"));
}

FIXTURE_TEARDOWN(fail)
{
	int p, f;

	for (p = 0; p < 2; p++) {
		knob_write(fail_points[p], "times", "0");
		for (f = 0; self->have_saved && f < 2; f++)
			knob_write(fail_points[p], fail_saved_files[f],
				   self->saved[p][f]);
	}
	tb_teardown(&self->t);
}

TEST_F(fail, report_alloc_aborts_page_request)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	uint64_t failed0 = knob_failed(_metadata, "report_alloc");
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4];

	ASSERT_EQ(0, knob_write("report_alloc", "probability", "100"));
	ASSERT_EQ(0, knob_write("report_alloc", "times", "1"));
	stall_evt(sid, 0x51, 0x1000, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, INJECTED));
	ASSERT_EQ(1u, DS(d, REPORT_FAILED));
	ASSERT_EQ(0u, DS(d, REPORTED));
	ASSERT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ(1u, DS(d, AUTO_ABORTS));
	ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, NULL, 0));
	/* the driver answers FAILURE itself; nobody is told about the fault */
	expect_resume(_metadata, t, sid, 0x51, IOPF_RESP_FAILURE,
		      IOPF_ORIGIN_REPORT_FAILED, "report_alloc");
	expect_quiet(_metadata, t, "report_alloc");
	ASSERT_EQ(failed0 + 1, knob_failed(_metadata, "report_alloc"));

	/* times is used up: the next one goes through */
	stall_evt(sid, 0x52, 0x2000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "after the knob");
	ASSERT_EQ(0x52u, ev.fault.grpid);
	ASSERT_EQ(1u, ev.fault.dev_seq);	/* the failed one took no number */
	respond_ok(_metadata, t, sid, 0x52, IOPF_RESP_SUCCESS);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, REPORTED));
	ASSERT_EQ(1u, DS(d, REPORT_FAILED));
}

TEST_F(fail, report_alloc_unrecoverable)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_dev d;
	uint64_t evt[4];

	ASSERT_EQ(0, knob_write("report_alloc", "probability", "100"));
	ASSERT_EQ(0, knob_write("report_alloc", "times", "1"));
	nostall_evt(sid, 0x1000, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(1u, DS(d, REPORT_FAILED));
	ASSERT_EQ(0u, DS(d, REPORTED));
	ASSERT_EQ(0u, DS(d, AUTO_ABORTS));	/* nothing stalled, nothing to abort */
	expect_quiet(_metadata, t, "report_alloc, no stall");
}

TEST_F(fail, report_alloc_interval)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	uint64_t failed0 = knob_failed(_metadata, "report_alloc");
	static uint64_t evt[8][4];
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	int i, got = 0;

	/* every 2nd allocation fails; one allocation per unrecoverable fault */
	ASSERT_EQ(0, knob_write("report_alloc", "probability", "100"));
	ASSERT_EQ(0, knob_write("report_alloc", "interval", "2"));
	ASSERT_EQ(0, knob_write("report_alloc", "seed", "1"));
	ASSERT_EQ(0, knob_write("report_alloc", "times", "-1"));
	for (i = 0; i < 8; i++)
		nostall_evt(sid, 0x1000u * (uint32_t)i, evt[i]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 8);
	ASSERT_EQ(0, knob_write("report_alloc", "times", "0"));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(8u, DS(d, INJECTED));
	ASSERT_EQ(4u, DS(d, REPORT_FAILED));
	ASSERT_EQ(4u, DS(d, REPORTED));
	ASSERT_EQ(failed0 + 4, knob_failed(_metadata, "report_alloc"));
	while (iopf_nl_recv_event(t->lis, QUIET_MS, &ev) == 1) {
		ASSERT_EQ(IOPF_CMD_FAULT_NTF, ev.cmd);
		check_seq(_metadata, t, &ev.fault, NULL);	/* no gap */
		got++;
	}
	ASSERT_EQ(4, got);
}

TEST_F(fail, notify_send_lost_but_pending)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static struct iopf_nl_fault pend[4];
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4], seq0, lost;

	stall_evt(sid, 1, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "first");
	seq0 = ev.fault.seq;
	stats_get(_metadata, t, &s0);

	ASSERT_EQ(0, knob_write("notify_send", "probability", "100"));
	ASSERT_EQ(0, knob_write("notify_send", "times", "1"));
	stall_evt(sid, 2, 0x2000, evt);
	inject(_metadata, evt);
	expect_quiet(_metadata, t, "lost notification");
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(2u, DS(d, REPORTED));
	ASSERT_EQ(2u, DS(d, PENDING));
	ASSERT_EQ(0u, DS(d, REPORT_FAILED));
	ASSERT_EQ(0u, DS(d, AUTO_ABORTS));
	stats_get(_metadata, t, &s1);
	lost = (d.stats.has[IOPF_STAT_A_NOTIFY_LOST] ? DS(d, NOTIFY_LOST) : 0) +
	       (GS(s1, NOTIFY_LOST) - GS(s0, NOTIFY_LOST));
	ASSERT_LE(1u, lost);

	/* the listener sees the loss as a SEQ gap */
	stall_evt(sid, 3, 0x3000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "third");
	ASSERT_EQ(seq0 + 2, ev.fault.seq);
	ASSERT_EQ(3u, ev.fault.dev_seq);

	/* the unseen request is pending and can be answered */
	ASSERT_EQ(3, iopf_pending_dump(t->nl, &sid, pend, 4));
	ASSERT_EQ(seq0 + 1, pend[1].seq);
	ASSERT_EQ(2u, pend[1].grpid);
	ASSERT_EQ(0x2000u, pend[1].addr);
	respond_ok(_metadata, t, sid, 2, IOPF_RESP_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* The flag matrix over the shared case table                           */
/* ------------------------------------------------------------------ */

FIXTURE(matrix) {
	struct tb t;
	uint32_t sid;
	uint64_t dev_seq;
};

FIXTURE_VARIANT(matrix) {
	int fs;		/* index into iopf_tc_flagsets[] */
};

FIXTURE_VARIANT_ADD(matrix, flat) { .fs = 0 };
FIXTURE_VARIANT_ADD(matrix, nested_l1) { .fs = 1 };
FIXTURE_VARIANT_ADD(matrix, nested_l2) { .fs = 2 };
FIXTURE_VARIANT_ADD(matrix, nested_l1_l2) { .fs = 3 };
FIXTURE_VARIANT_ADD(matrix, flat_unrecov) { .fs = 4 };
FIXTURE_VARIANT_ADD(matrix, nested_l1_unrecov) { .fs = 5 };
FIXTURE_VARIANT_ADD(matrix, nested_l2_unrecov) { .fs = 6 };
FIXTURE_VARIANT_ADD(matrix, nested_l1_l2_unrecov) { .fs = 7 };

FIXTURE_SETUP(matrix)
{
	struct iopf_nl_dev d;

	tb_setup(_metadata, &self->t);
	if (_metadata->exit_code)
		return;
	self->sid = tb_dev_reg(_metadata, &self->t,
			       iopf_tc_flagsets[variant->fs]);
	self->dev_seq = 0;
	dev_get(_metadata, &self->t, self->sid, &d);
	ASSERT_EQ(1, d.registered);
	ASSERT_EQ(iopf_tc_flagsets[variant->fs], d.flags);
}

FIXTURE_TEARDOWN(matrix)
{
	tb_teardown(&self->t);
}

enum tc_class { CLS_S1_STALL, CLS_S2_STALL, CLS_S1_NOSTALL, CLS_S2_NOSTALL,
		CLS_ALL };

static bool in_class(const struct iopf_fault_case *c, enum tc_class cls)
{
	bool stall = c->type == TC_PRQ;

	if (c->ret)
		return false;
	switch (cls) {
	case CLS_S1_STALL:
		return stall && c->level == 1;
	case CLS_S2_STALL:
		return stall && c->level == 2;
	case CLS_S1_NOSTALL:
		return !stall && c->level == 1;
	case CLS_S2_NOSTALL:
		return !stall && c->level == 2;
	default:
		return true;
	}
}

static void run_class(struct __test_metadata *_metadata,
		      FIXTURE_DATA(matrix) *self,
		      const FIXTURE_VARIANT(matrix) *variant,
		      enum tc_class cls, enum inj_how how)
{
	uint32_t ids = 0;
	size_t i;
	int n = 0;

	for (i = 0; i < IOPF_TC_NCASES; i++) {
		const struct iopf_fault_case *c = &iopf_fault_cases[i];

		if (!in_class(c, cls))
			continue;
		run_case(_metadata, &self->t, c, self->sid,
			 c->verdict[variant->fs], how, &self->dev_seq);
		ids |= 1u << (c->event_id - 0x10);
		n++;
	}
	/* every class covers the four handled event IDs */
	ASSERT_EQ(0xfu, ids);
	ASSERT_LE(4, n);
}

TEST_F(matrix, stage1_stall)
{
	run_class(_metadata, self, variant, CLS_S1_STALL, INJ_TEXT);
}

TEST_F(matrix, stage2_stall)
{
	run_class(_metadata, self, variant, CLS_S2_STALL, INJ_TEXT);
}

TEST_F(matrix, stage1_nostall)
{
	run_class(_metadata, self, variant, CLS_S1_NOSTALL, INJ_TEXT);
}

TEST_F(matrix, stage2_nostall)
{
	run_class(_metadata, self, variant, CLS_S2_NOSTALL, INJ_TEXT);
}

TEST_F(matrix, all_cases_raw)
{
	run_class(_metadata, self, variant, CLS_ALL, INJ_RAW);
}

TEST_F(matrix, unhandled_events)
{
	struct tb *t = &self->t;
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_dev d;
	uint64_t evt[4];
	size_t i;
	int n = 0;

	for (i = 0; i < IOPF_TC_NCASES; i++) {
		const struct iopf_fault_case *c = &iopf_fault_cases[i];

		if (!c->ret)
			continue;
		make_evt(c, self->sid, evt);
		stats_get(_metadata, t, &s0);
		inject(_metadata, evt);
		stats_get(_metadata, t, &s1);
		ASSERT_EQ(GS(s0, UNHANDLED_EVENT) + 1, GS(s1, UNHANDLED_EVENT))
			TH_LOG("%s", c->name);
		ASSERT_EQ(GS(s0, RECORDS) + 1, GS(s1, RECORDS));
		ASSERT_EQ(GS(s0, UNKNOWN_SID), GS(s1, UNKNOWN_SID));
		expect_quiet(_metadata, t, c->name);
		n++;
	}
	ASSERT_LE(9, n);
	dev_get(_metadata, t, self->sid, &d);
	ASSERT_EQ(0u, DS(d, INJECTED));
	ASSERT_EQ(0u, DS(d, AUTO_ABORTS));
}

/* All handled cases in one write: events in record order, SEQ without gaps */
TEST_F(matrix, burst_one_write)
{
	struct tb *t = &self->t;
	static uint64_t evt[IOPF_TC_NCASES][4];
	static const struct iopf_fault_case *cs[IOPF_TC_NCASES];
	static struct iopf_nl_fault pend[IOPF_TC_NCASES + 1];
	uint64_t want[5] = { 0, 0, 0, 0, 0 };	/* per verdict */
	uint64_t fault_seq[IOPF_TC_NCASES];
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	size_t i, n = 0, npend = 0, prq_filtered = 0;
	int got;

	for (i = 0; i < IOPF_TC_NCASES; i++) {
		if (iopf_fault_cases[i].ret)
			continue;
		cs[n] = &iopf_fault_cases[i];
		make_evt(cs[n], self->sid, evt[n]);
		n++;
	}
	inject_many(_metadata, (const uint64_t (*)[4])evt, n);

	for (i = 0; i < n; i++) {
		const struct iopf_fault_case *c = cs[i];
		int v = c->verdict[variant->fs];

		want[v]++;
		if (v == IOPF_DELIVER) {
			recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, c->name);
			check_fault(_metadata, &ev.fault, c, self->sid, evt[i]);
			check_seq(_metadata, t, &ev.fault, &self->dev_seq);
			if (c->type == TC_PRQ)
				fault_seq[npend++] = ev.fault.seq;
		} else if (c->type == TC_PRQ) {
			recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, c->name);
			check_resume(_metadata, t, &ev.resume, self->sid, c->grpid,
				     IOPF_RESP_FAILURE, IOPF_ORIGIN_REPORT_FAILED,
				     c->name);
			prq_filtered++;
		}
	}
	expect_quiet(_metadata, t, "burst");

	dev_get(_metadata, t, self->sid, &d);
	ASSERT_EQ((uint64_t)n, DS(d, INJECTED));
	ASSERT_EQ(want[IOPF_DELIVER], DS(d, REPORTED));
	ASSERT_EQ(want[IOPF_FILTER_L1], DS(d, FILTERED_L1));
	ASSERT_EQ(want[IOPF_FILTER_L2], DS(d, FILTERED_L2));
	ASSERT_EQ(want[IOPF_FILTER_UNRECOV], DS(d, FILTERED_UNRECOV));
	ASSERT_EQ((uint64_t)npend, DS(d, PENDING));
	ASSERT_EQ((uint64_t)prq_filtered, DS(d, AUTO_ABORTS));

	/* the pending list, oldest first, then answered in that order */
	got = iopf_pending_dump(t->nl, &self->sid, pend, IOPF_TC_NCASES + 1);
	ASSERT_EQ((int)npend, got);
	for (i = 0; i < npend; i++)
		ASSERT_EQ(fault_seq[i], pend[i].seq);
	for (i = 0; i < npend; i++)
		respond_ok(_metadata, t, self->sid, pend[i].grpid,
			   IOPF_RESP_SUCCESS);
	dev_get(_metadata, t, self->sid, &d);
	ASSERT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ((uint64_t)npend, DS(d, RESPONSES));
}

/* Reach the variant's flags through HANDLER_UPDATE instead of REGISTER */
TEST_F(matrix, via_update)
{
	struct tb *t = &self->t;
	uint32_t want = iopf_tc_flagsets[variant->fs];
	uint32_t other = (want & IOPF_REPORT_FLAT) ? 0xe : 0x1;
	static const char *const reps[] = {
		"translation_s1_stall", "addr_size_s2_stall",
		"access_s1_nostall", "permission_s2_nostall",
	};
	struct iopf_nl_dev d;
	size_t i, k;

	ASSERT_EQ(0, iopf_handler_unregister(t->nl, self->sid));
	ASSERT_EQ(0, iopf_handler_register(t->nl, self->sid, other));
	ASSERT_EQ(0, iopf_handler_update(t->nl, self->sid, 0, want)) {
		TH_LOG("%s", t->nl->ext_msg);
	}
	dev_get(_metadata, t, self->sid, &d);
	ASSERT_EQ(want, d.flags);

	for (k = 0; k < ARRAY_SIZE(reps); k++) {
		const struct iopf_fault_case *c = NULL;

		for (i = 0; i < IOPF_TC_NCASES; i++)
			if (!strcmp(iopf_fault_cases[i].name, reps[k]))
				c = &iopf_fault_cases[i];
		ASSERT_NE(NULL, c);
		run_case(_metadata, t, c, self->sid, c->verdict[variant->fs],
			 INJ_TEXT, &self->dev_seq);
	}
}

/* ------------------------------------------------------------------ */
/* Bad debugfs writes: -EINVAL and nothing injected                     */
/* ------------------------------------------------------------------ */

FIXTURE(badwrite) {
	struct tb t;
	uint32_t sid;
};

/*
 * text: written to "inject" with each "W0" replaced by a word0 aimed at
 * the test's device; or raw_len bytes of valid records to "inject_raw".
 */
FIXTURE_VARIANT(badwrite) {
	const char *text;
	size_t raw_len;
	off_t off;
};

FIXTURE_VARIANT_ADD(badwrite, too_few_words) {
	.text = "W0 0x880000001 0x1000\n",
};
FIXTURE_VARIANT_ADD(badwrite, too_many_words) {
	.text = "W0 0x880000001 0x1000 0 0\n",
};
FIXTURE_VARIANT_ADD(badwrite, non_hex) {
	.text = "W0 0x88000000g 0x1000 0\n",
};
FIXTURE_VARIANT_ADD(badwrite, negative) {
	.text = "W0 -0x880000001 0x1000 0\n",
};
FIXTURE_VARIANT_ADD(badwrite, word_over_64_bits) {
	.text = "W0 0x880000001 0x10000000000000000 0\n",
};
FIXTURE_VARIANT_ADD(badwrite, good_then_bad_line) {
	.text = "W0 0x880000001 0x1000 0\nW0 0x880000002 0x2000\n",
};
FIXTURE_VARIANT_ADD(badwrite, bad_then_good_line) {
	.text = "W0 0x880000001 0x1000 0 junk\nW0 0x880000002 0x2000 0\n",
};
FIXTURE_VARIANT_ADD(badwrite, text_at_offset) {
	.text = "W0 0x880000001 0x1000 0\n",
	.off = 7,
};
FIXTURE_VARIANT_ADD(badwrite, raw_31_bytes) {
	.raw_len = 31,
};
FIXTURE_VARIANT_ADD(badwrite, raw_33_bytes) {
	.raw_len = 33,
};
FIXTURE_VARIANT_ADD(badwrite, raw_95_bytes) {
	.raw_len = 95,
};
FIXTURE_VARIANT_ADD(badwrite, raw_at_offset) {
	.raw_len = 64,
	.off = 32,
};
FIXTURE_VARIANT_ADD(badwrite, raw_over_1mib) {
	.raw_len = (1u << 20) + 32,
};

FIXTURE_SETUP(badwrite)
{
	tb_setup(_metadata, &self->t);
	if (_metadata->exit_code)
		return;
	/* registered FLAT: anything injected would be reported */
	self->sid = tb_dev_reg(_metadata, &self->t, IOPF_REPORT_FLAT);
}

FIXTURE_TEARDOWN(badwrite)
{
	tb_teardown(&self->t);
}

TEST_F(badwrite, rejected)
{
	struct tb *t = &self->t;
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_dev d;
	char *buf;
	size_t len = 0;
	int ret;

	if (variant->text) {
		const char *p;
		char w0[32];

		snprintf(w0, sizeof(w0), "0x%08x00000010", self->sid);
		buf = malloc(strlen(variant->text) * 8 + 1);
		ASSERT_NE(NULL, buf);
		for (p = variant->text; *p; p++) {
			if (p[0] == 'W' && p[1] == '0') {
				memcpy(buf + len, w0, strlen(w0));
				len += strlen(w0);
				p++;
			} else {
				buf[len++] = *p;
			}
		}
	} else {
		uint64_t evt[4];
		size_t i;

		stall_evt(self->sid, 1, 0x1000, evt);
		buf = malloc(variant->raw_len);
		ASSERT_NE(NULL, buf);
		for (i = 0; i < variant->raw_len; i++)
			buf[i] = (char)(evt[(i % 32) / 8] >> (8 * (i % 8)));
		len = variant->raw_len;
	}

	stats_get(_metadata, t, &s0);
	ret = iopf_dbgfs_write_at(variant->text ? "inject" : "inject_raw",
				  buf, len, variant->off);
	free(buf);
	ASSERT_EQ(-EINVAL, ret);
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, RECORDS), GS(s1, RECORDS)) TH_LOG("records injected");
	dev_get(_metadata, t, self->sid, &d);
	ASSERT_EQ(0u, DS(d, INJECTED));
	ASSERT_EQ(0u, DS(d, PENDING));
	expect_quiet(_metadata, t, "bad write");
}

/* ------------------------------------------------------------------ */
/* Module unload and reload with state present (runs last)              */
/* ------------------------------------------------------------------ */

static const char *ko_path(void)
{
	const char *p = getenv("IOPF_KO");

	return p && *p ? p : DEFAULT_KO;
}

static int run_cmd(const char *fmt, const char *arg)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

FIXTURE(reload) {
	struct tb t;
};

FIXTURE_SETUP(reload)
{
	tb_setup(_metadata, &self->t);
}

FIXTURE_TEARDOWN(reload)
{
	/* never leave the guest without the module */
	if (!iopf_dbgfs_present())
		run_cmd("insmod %s", ko_path());
	tb_teardown(&self->t);
}

TEST_F_TIMEOUT(reload, unload_with_state_and_reload, 120)
{
	struct tb *t = &self->t;
	struct iopf_nl_event ev;
	struct iopf_nl_stats s;
	struct iopf_nl_dev d;
	static struct iopf_nl_dev devs[64];
	struct iopf_nl *old_nl, *old_lis, *probe;
	uint32_t a, b, sid;
	uint64_t evt[4], sum = 0;
	int i, n, r;

	if (access(ko_path(), R_OK))
		SKIP(return, "%s not found (set IOPF_KO)", ko_path());

	a = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	b = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
				     IOPF_REPORT_NESTED_L1_CONCERNED);
	stall_evt(a, 1, 0x1000, evt);
	inject(_metadata, evt);
	stall_evt(b, 2, 0x2000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "a");
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "b");
	ASSERT_LE(2, iopf_pending_dump(t->nl, NULL, NULL, 0));

	/* unload with devices, pending requests and a subscribed listener */
	ASSERT_EQ(0, run_cmd("rmmod %s", "iopf_testbed"));
	ASSERT_FALSE(iopf_dbgfs_present());
	probe = iopf_nl_open();
	ASSERT_EQ(NULL, probe);
	ASSERT_EQ(ENOENT, errno);
	ASSERT_NE(0, iopf_dev_get(t->nl, a, &d));
	/* the old listener is still a valid socket; whatever it got is fine */
	iopf_nl_drain(t->lis);

	ASSERT_EQ(0, run_cmd("insmod %s", ko_path()));
	ASSERT_TRUE(iopf_dbgfs_present());

	/* start over: a fresh family (maybe a new id) and a fresh state */
	old_nl = t->nl;
	old_lis = t->lis;
	t->nl = t->lis = NULL;
	tb_open(_metadata, t);
	iopf_nl_close(old_nl);
	iopf_nl_close(old_lis);

	stats_get(_metadata, t, &s);
	ASSERT_EQ(0u, GS(s, RECORDS));
	ASSERT_EQ(0u, GS(s, UNHANDLED_EVENT));
	ASSERT_EQ(0u, GS(s, UNKNOWN_SID));
	ASSERT_EQ(0u, GS(s, DEVICES));
	ASSERT_EQ(0, iopf_dev_dump(t->nl, devs, 64));
	ASSERT_EQ(0, iopf_pending_dump(t->nl, NULL, NULL, 0));
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, a, &d));
	ASSERT_FALSE(iopf_dbgfs_dev_exists(a));

	/* numbering restarts with the module */
	sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	stall_evt(sid, 3, 0x3000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "after reload");
	ASSERT_EQ(1u, ev.fault.seq);
	ASSERT_EQ(1u, ev.fault.dev_seq);
	r = iopf_page_response(t->nl, sid, 3, IOPF_RESP_SUCCESS, NULL);
	ASSERT_EQ(0, r);
	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "after reload");
	ASSERT_EQ(1u, ev.resume.seq);

	/* the global balance holds absolutely on a fresh module */
	nostall_evt(tb_sid(t), 0x4000, evt);
	inject(_metadata, evt);
	evt[0] = ((uint64_t)sid << 32) | 0x0a;
	inject(_metadata, evt);
	stats_get(_metadata, t, &s);
	n = iopf_dev_dump(t->nl, devs, 64);
	ASSERT_EQ(1, n);
	for (i = 0; i < n; i++)
		sum += DS(devs[i], INJECTED);
	ASSERT_EQ(3u, GS(s, RECORDS));
	ASSERT_EQ(GS(s, RECORDS),
		  GS(s, UNHANDLED_EVENT) + GS(s, UNKNOWN_SID) + sum);
}

TEST_HARNESS_MAIN
