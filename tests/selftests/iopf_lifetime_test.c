// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_lifetime_test: bounds, timeouts and exact books (issue 9), run as
 * root in the guest by suite.sh with the module loaded.
 *
 *   bounds.*   the per-device pending limit (module parameter, DEV_SET
 *              override, what the driver does at the limit), the device
 *              limit (-ENOSPC), two requests with one STAG, DEV_SET input;
 *   timeout.*  the optional response timeout at a few values, nobody
 *              answering;
 *   books.*    lost RESUME notifications and unheard faults counted;
 *   small.*    HANDLER_REGISTER checks flags first, the DEV_GET dump
 *              filter, dumps at StreamID 0xffffffff, the IPA of stage-2
 *              unrecoverable faults;
 *   figures.*  memory per pending request and per device, and the time to
 *              delete a device holding the most requests (printed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_params.h"
#include "iopf_tb.h"

static void __attribute__((constructor)) lifetime_unbuffered(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_limit(struct __test_metadata *_metadata, struct tb *t,
		      uint32_t sid, uint32_t limit)
{
	int ret = iopf_dev_set(t->nl, sid, &limit, NULL);

	ASSERT_EQ(0, ret) TH_LOG("DEV_SET limit %u: %s (%s)", limit,
				 strerror(-ret), t->nl->ext_msg);
}

static void set_timeout(struct __test_metadata *_metadata, struct tb *t,
			uint32_t sid, uint32_t ms)
{
	int ret = iopf_dev_set(t->nl, sid, NULL, &ms);

	ASSERT_EQ(0, ret) TH_LOG("DEV_SET timeout %u: %s (%s)", ms,
				 strerror(-ret), t->nl->ext_msg);
}

/* The next RESUME (faults skipped), which must be for sid and stag */
static void expect_resume_of(struct __test_metadata *_metadata, struct tb *t,
			     uint32_t sid, uint32_t stag, uint32_t origin,
			     int timeout_ms)
{
	struct iopf_nl_event ev;
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int r;

	for (;;) {
		int left = (int)(end > now_ms() ? end - now_ms() : 0);

		r = iopf_nl_recv_event(t->lis, left, &ev);
		ASSERT_EQ(1, r) TH_LOG("no RESUME for stag %u (%d)", stag, r);
		if (ev.cmd == IOPF_CMD_RESUME_NTF)
			break;
	}
	ASSERT_EQ(sid, ev.resume.sid);
	ASSERT_EQ(stag, ev.resume.stag);
	ASSERT_EQ(origin, ev.resume.origin);
	ASSERT_EQ((uint32_t)IOPF_RESUME_ABORT, ev.resume.resp);
}

FIXTURE(life) {
	struct tb t;
};

FIXTURE_SETUP(life)
{
	tb_setup(_metadata, &self->t);
}

FIXTURE_TEARDOWN(life)
{
	tb_teardown(&self->t);
}

/* ------------------------------------------------------------------ */
/* bounds                                                               */
/* ------------------------------------------------------------------ */

TEST_F(life, pending_limit_default)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t);
	struct iopf_nl_dev d;

	dev_get(_metadata, t, sid, &d);
	ASSERT_TRUE(d.has[IOPF_A_PENDING_LIMIT]);
	ASSERT_TRUE(d.has[IOPF_A_TIMEOUT_MS]);
	EXPECT_EQ(1024, iopf_param_read("pending_limit"));
	EXPECT_EQ(1024u, d.pending_limit);
	EXPECT_EQ(0u, d.timeout_ms);	/* the timeout is off by default */
	EXPECT_EQ(1024, iopf_param_read("max_devices"));
}

/* Beyond the limit the report fails and the driver aborts, counted */
TEST_F(life, pending_limit_aborts)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[6][4];
	int i, faults = 0;

	set_limit(_metadata, t, sid, 3);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, d.pending_limit);
	for (i = 0; i < 5; i++)
		stall_evt(sid, 100 + i, 0x1000 * (i + 1), evt[i]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 5);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(1, iopf_nl_recv_event(t->lis, EV_TIMEOUT_MS, &ev));
		if (ev.cmd == IOPF_CMD_FAULT_NTF) {
			faults++;
			ASSERT_GT(103u, ev.fault.grpid);
		} else {
			ASSERT_EQ(IOPF_CMD_RESUME_NTF, ev.cmd);
			ASSERT_LE(103u, ev.resume.stag);
			ASSERT_EQ((uint32_t)IOPF_ORIGIN_REPORT_FAILED, ev.resume.origin);
			ASSERT_EQ((uint32_t)IOPF_RESUME_ABORT, ev.resume.resp);
		}
	}
	ASSERT_EQ(3, faults);
	expect_quiet(_metadata, t, "after the limit");
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(3u, DS(d, PENDING));
	EXPECT_EQ(3u, DS(d, REPORTED));
	EXPECT_EQ(2u, DS(d, PENDING_FULL));
	EXPECT_EQ(2u, DS(d, REPORT_FAILED));
	EXPECT_EQ(2u, DS(d, AUTO_ABORTS));

	/* One answered: room for one more */
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 100, IOPF_RESP_SUCCESS, NULL));
	stall_evt(sid, 105, 0x9000, evt[5]);
	inject(_metadata, evt[5]);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(3u, DS(d, PENDING));
	EXPECT_EQ(2u, DS(d, PENDING_FULL));

	/* A lower limit keeps what is pending, refuses more */
	set_limit(_metadata, t, sid, 1);
	stall_evt(sid, 106, 0xa000, evt[5]);
	inject(_metadata, evt[5]);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(3u, DS(d, PENDING));
	EXPECT_EQ(3u, DS(d, PENDING_FULL));
}

TEST_F(life, dev_set_bad_input)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev(_metadata, t), ghost = tb_sid(t);
	uint32_t zero = 0, big = IOPF_PENDING_LIMIT_MAX + 1, max = IOPF_PENDING_LIMIT_MAX;
	uint32_t long_tmo = IOPF_TIMEOUT_MS_MAX + 1;
	struct iopf_nl_dev d;

	EXPECT_EQ(-ERANGE, iopf_dev_set(t->nl, sid, &zero, NULL));
	EXPECT_EQ(-ERANGE, iopf_dev_set(t->nl, sid, &big, NULL));
	EXPECT_EQ(-ERANGE, iopf_dev_set(t->nl, sid, NULL, &long_tmo));
	EXPECT_EQ(-ENODEV, iopf_dev_set(t->nl, ghost, &max, NULL));
	EXPECT_NE(0, t->nl->ext_msg[0]);
	/* Nothing changed by the refused ones; nothing given is refused */
	EXPECT_EQ(-EINVAL, iopf_dev_set(t->nl, sid, NULL, NULL));
	EXPECT_NE(NULL, strstr(t->nl->ext_msg, "nothing to set"))
		TH_LOG("extack: '%s'", t->nl->ext_msg);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(1024u, d.pending_limit);
	EXPECT_EQ(0u, d.timeout_ms);
	EXPECT_EQ(0, iopf_dev_set(t->nl, sid, &max, NULL));
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ((uint32_t)IOPF_PENDING_LIMIT_MAX, d.pending_limit);
}

/* Write a module parameter; 0 or -errno */
static int param_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/module/iopf_testbed/parameters/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Parameters that bound what a user can make the module hold: 1-65536 */
TEST_F(life, param_bounds)
{
	static const char *const names[] = { "max_devices", "access_history" };
	static const char *const bad[] = { "0", "65537", "4294967295", "-1", "x" };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++)
			/* (indices: GCC 12 -O2 sees a NULL %s in the arrays) */
			EXPECT_EQ(-EINVAL, param_write(names[i], bad[j]))
				TH_LOG("parameter %zu accepted bad value %zu", i, j);
		EXPECT_EQ(0, param_write(names[i], "65536"));
		EXPECT_EQ(0, param_write(names[i], "1024"));
	}
}

/* The device limit: -ENOSPC with a reason, and room again after a delete */
TEST_F(life, device_limit)
{
	struct tb *t = &self->t;
	long saved = iopf_param_read("max_devices");
	struct iopf_nl_stats s;
	uint32_t extra;
	int ret;

	ASSERT_LT(0, saved);
	tb_dev(_metadata, t);
	stats_get(_metadata, t, &s);
	/* Lowered only around the one call: an assertion must not leave it */
	ASSERT_EQ(0, iopf_param_write("max_devices", (long)GS(s, DEVICES)));
	extra = tb_sid(t);
	ret = iopf_dev_new(t->nl, extra);
	ASSERT_EQ(0, iopf_param_write("max_devices", saved));
	ASSERT_EQ(-ENOSPC, ret);
	EXPECT_NE(NULL, strstr(t->nl->ext_msg, "too many devices"))
		TH_LOG("extack: '%s'", t->nl->ext_msg);
	ASSERT_EQ(-ENODEV, iopf_dev_del(t->nl, extra));
	ASSERT_EQ(0, iopf_dev_new(t->nl, extra));
	t->sids[t->nsids++] = extra;
}

/*
 * Two pending requests with one STAG (hardware never does it; the module
 * takes both): a response answers the oldest, the next one the other.
 */
TEST_F(life, same_stag_oldest_first)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static struct iopf_nl_fault pend[4];
	uint64_t evt[3][4];

	stall_evt(sid, 7, 0xa000, evt[0]);
	stall_evt(sid, 8, 0xb000, evt[1]);
	stall_evt(sid, 7, 0xc000, evt[2]);
	inject_many(_metadata, (const uint64_t (*)[4])evt, 3);
	ASSERT_EQ(3, iopf_pending_dump(t->nl, &sid, pend, 4));
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 7, IOPF_RESP_SUCCESS, NULL));
	ASSERT_EQ(2, iopf_pending_dump(t->nl, &sid, pend, 4));
	EXPECT_EQ(8u, pend[0].grpid);
	EXPECT_EQ(7u, pend[1].grpid);
	EXPECT_EQ(0xc000u, pend[1].addr);
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 7, IOPF_RESP_INVALID, NULL));
	ASSERT_EQ(1, iopf_pending_dump(t->nl, &sid, pend, 4));
	EXPECT_EQ(8u, pend[0].grpid);
	EXPECT_EQ(-EINVAL, iopf_page_response(t->nl, sid, 7, IOPF_RESP_SUCCESS, NULL));
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 8, IOPF_RESP_SUCCESS, NULL));
	ASSERT_EQ(0, iopf_pending_dump(t->nl, &sid, pend, 4));
}

/* ------------------------------------------------------------------ */
/* timeout                                                              */
/* ------------------------------------------------------------------ */

static void timeout_at(struct __test_metadata *_metadata, struct tb *t,
		       uint32_t ms)
{
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[2][4], t0, elapsed;

	set_timeout(_metadata, t, sid, ms);
	stall_evt(sid, 1, 0x1000, evt[0]);
	stall_evt(sid, 2, 0x2000, evt[1]);
	t0 = now_ms();
	inject_many(_metadata, (const uint64_t (*)[4])evt, 2);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "the faults");
	if (ev.fault.nests_in_msg < 2)
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "the second fault");
	/* Nobody answers */
	expect_resume_of(_metadata, t, sid, 1, IOPF_ORIGIN_TIMEOUT, (int)ms + 5000);
	elapsed = now_ms() - t0;
	expect_resume_of(_metadata, t, sid, 2, IOPF_ORIGIN_TIMEOUT, 5000);
	EXPECT_LE(ms, elapsed) TH_LOG("timed out after %llu ms, set %u",
				      (unsigned long long)elapsed, ms);
	TH_LOG("timeout %u ms: answered after %llu ms", ms,
	       (unsigned long long)elapsed);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(2u, DS(d, TIMEOUTS));
	EXPECT_EQ(0u, DS(d, PENDING));
	EXPECT_EQ(0u, DS(d, RESPONSES));
	EXPECT_EQ(0u, DS(d, AUTO_ABORTS));
}

TEST_F(life, timeout_50ms)
{
	timeout_at(_metadata, &self->t, 50);
}

TEST_F(life, timeout_300ms)
{
	timeout_at(_metadata, &self->t, 300);
}

TEST_F(life, timeout_1500ms)
{
	struct tb *t = &self->t;

	timeout_at(_metadata, t, 1500);
}

/* Not before its time, answered requests are not timed out, and 0 stops it */
TEST_F(life, timeout_not_early_and_off)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_last_resume lr;
	struct iopf_nl_dev d;
	uint64_t evt[4];

	set_timeout(_metadata, t, sid, 2000);
	stall_evt(sid, 1, 0x1000, evt);
	inject(_metadata, evt);
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 1, IOPF_RESP_SUCCESS, NULL));
	stall_evt(sid, 2, 0x2000, evt);
	inject(_metadata, evt);
	usleep(500 * 1000);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(1u, DS(d, PENDING));
	EXPECT_EQ(0u, DS(d, TIMEOUTS));
	set_timeout(_metadata, t, sid, 0);
	usleep(2000 * 1000);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(1u, DS(d, PENDING));
	EXPECT_EQ(0u, DS(d, TIMEOUTS));
	/* Switched on again with the request already overdue: answered now */
	set_timeout(_metadata, t, sid, 100);
	usleep(1000 * 1000);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(0u, DS(d, PENDING));
	EXPECT_EQ(1u, DS(d, TIMEOUTS));
	ASSERT_EQ(0, iopf_read_last_resume(sid, &lr));
	EXPECT_STREQ("timeout", lr.origin);
	EXPECT_EQ(2u, lr.stag);
}

/*
 * A shorter timeout set while nothing is pending applies to the next
 * request, though the work was queued for the old, longer one.
 */
TEST_F(life, timeout_lowered_when_idle)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_last_resume lr;
	struct iopf_nl_dev d;
	uint64_t evt[4];
	int i;

	set_timeout(_metadata, t, sid, IOPF_TIMEOUT_MS_MAX);
	stall_evt(sid, 1, 0x1000, evt);
	inject(_metadata, evt);
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 1, IOPF_RESP_SUCCESS, NULL));
	set_timeout(_metadata, t, sid, 100);
	stall_evt(sid, 2, 0x2000, evt);
	inject(_metadata, evt);
	/* Well within the old ten minutes, generously for a slow guest */
	for (i = 0; i < 100; i++) {
		usleep(100 * 1000);
		dev_get(_metadata, t, sid, &d);
		if (DS(d, TIMEOUTS))
			break;
	}
	EXPECT_EQ(1u, DS(d, TIMEOUTS));
	EXPECT_EQ(0u, DS(d, PENDING));
	ASSERT_EQ(0, iopf_read_last_resume(sid, &lr));
	EXPECT_STREQ("timeout", lr.origin);
	EXPECT_EQ(2u, lr.stag);
}

/* ------------------------------------------------------------------ */
/* books                                                                */
/* ------------------------------------------------------------------ */

static int knob(const char *file, const char *val)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "fail/notify_send/%s", file);
	return iopf_dbgfs_write(rel, val, strlen(val));
}

/* A RESUME whose notification is dropped is counted, per device and globally */
TEST_F(life, resume_lost_counted)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_stats s0, s1;
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	uint64_t evt[4], rseq;

	stall_evt(sid, 1, 0x1000, evt);
	inject(_metadata, evt);
	stall_evt(sid, 2, 0x2000, evt);
	inject(_metadata, evt);
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 1, IOPF_RESP_SUCCESS, NULL));
	do {
		ASSERT_EQ(1, iopf_nl_recv_event(t->lis, EV_TIMEOUT_MS, &ev));
	} while (ev.cmd != IOPF_CMD_RESUME_NTF);
	rseq = ev.resume.seq;
	stats_get(_metadata, t, &s0);
	ASSERT_TRUE(s0.has[IOPF_STAT_A_RESUME_LOST]);

	ASSERT_EQ(0, knob("probability", "100"));
	ASSERT_EQ(0, knob("interval", "1"));
	ASSERT_EQ(0, knob("times", "1"));
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 2, IOPF_RESP_SUCCESS, NULL));
	knob("times", "0");
	expect_quiet(_metadata, t, "a lost RESUME");
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(1u, DS(d, RESUME_LOST));
	EXPECT_EQ(0u, DS(d, NOTIFY_LOST));
	EXPECT_EQ(2u, DS(d, RESPONSES));
	stats_get(_metadata, t, &s1);
	EXPECT_EQ(GS(s0, RESUME_LOST) + 1, GS(s1, RESUME_LOST));
	EXPECT_EQ(rseq + 1, GS(s1, RESUME_SEQ));

	/* The next one arrives, one SEQ further: a gap of exactly the loss */
	stall_evt(sid, 3, 0x3000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "fault 3");
	ASSERT_EQ(0, iopf_page_response(t->nl, sid, 3, IOPF_RESP_SUCCESS, NULL));
	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "RESUME 3");
	EXPECT_EQ(rseq + 2, ev.resume.seq);
}

/* A fault multicast nobody hears is counted as such, not as delivered */
TEST_F(life, unheard_counted)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_dev d;
	uint64_t evt[4];

	nostall_evt(sid, 0x1000, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(0u, DS(d, NOTIFY_UNHEARD));

	iopf_nl_close(t->lis);	/* the only listener in the guest */
	t->lis = NULL;
	inject(_metadata, evt);
	inject(_metadata, evt);
	dev_get(_metadata, t, sid, &d);
	EXPECT_EQ(2u, DS(d, NOTIFY_UNHEARD));
	EXPECT_EQ(0u, DS(d, NOTIFY_LOST));
	EXPECT_EQ(3u, DS(d, REPORTED));
}

/* Stalls and answers on @sid until killed: one RESUME per round */
static void __attribute__((noreturn)) resume_producer(uint32_t sid)
{
	struct iopf_nl *nl = iopf_nl_open();
	uint64_t evt[4];
	uint32_t g;

	if (!nl)
		_exit(1);
	for (g = 0;; g = (g + 1) & 0xffff) {
		stall_evt(sid, g, 0x1000, evt);
		if (iopf_inject(evt) < 0)
			_exit(2);
		if (iopf_page_response(nl, sid, g, IOPF_RESP_SUCCESS, NULL))
			_exit(3);
	}
}

/*
 * Listeners join while two devices' RESUMEs are numbered. From the first
 * RESUME a listener sees, each later SEQ arrives or is counted in
 * RESUME_LOST (its buffer is big: nothing of its own overflows). The
 * kernel decides "somebody listens" under the lock that hands out the SEQ;
 * deciding before it let a joining listener see a gap nobody counted.
 */
TEST_F_TIMEOUT(life, resume_books_across_listener_joins, 300)
{
	struct tb *t = &self->t;
	uint32_t sid[2] = {
		tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT),
		tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT),
	};
	enum { JOINS = 300, SEEN = 8 };
	uint64_t gaps = 0, seen = 0;
	struct iopf_nl_stats s0, s1;
	pid_t pid[2];
	int i, j, status;

	iopf_nl_close(t->lis);	/* no listener between the joins */
	t->lis = NULL;
	stats_get(_metadata, t, &s0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			resume_producer(sid[i]);
	}
	for (i = 0; i < JOINS; i++) {
		struct iopf_nl *lis = iopf_nl_open();
		struct iopf_nl_event ev;
		uint64_t last = 0;

		ASSERT_NE(NULL, lis);
		ASSERT_EQ(0, iopf_nl_subscribe(lis));
		big_rcvbuf(lis);
		for (j = 0; j < SEEN;) {
			ASSERT_EQ(1, iopf_nl_recv_event(lis, EV_TIMEOUT_MS, &ev));
			if (ev.cmd != IOPF_CMD_RESUME_NTF)
				continue;
			if (last && ev.resume.seq != last + 1)
				gaps += ev.resume.seq - last - 1;
			last = ev.resume.seq;
			j++;
		}
		seen += SEEN;
		iopf_nl_close(lis);
	}
	for (i = 0; i < 2; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], &status, 0);
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("producer %d exited %d", i,
							 WEXITSTATUS(status));
	}
	stats_get(_metadata, t, &s1);
	TH_LOG("%d joins, %llu RESUMEs seen, %llu missed, RESUME_LOST +%llu",
	       JOINS, (unsigned long long)seen, (unsigned long long)gaps,
	       (unsigned long long)(GS(s1, RESUME_LOST) - GS(s0, RESUME_LOST)));
	/* Every gap a listener saw is a loss the kernel counted */
	ASSERT_LE(gaps, GS(s1, RESUME_LOST) - GS(s0, RESUME_LOST));
}

/* ------------------------------------------------------------------ */
/* small findings                                                       */
/* ------------------------------------------------------------------ */

/* As iommu_register_device_fault_handler(): bad flags before a bad device */
TEST_F(life, register_flags_before_sid)
{
	struct tb *t = &self->t;
	uint32_t ghost = tb_sid(t);

	EXPECT_EQ(-EINVAL, iopf_handler_register(t->nl, ghost,
						 IOPF_REPORT_FLAT | IOPF_REPORT_NESTED));
	EXPECT_NE(NULL, strstr(t->nl->ext_msg, "mutually exclusive"))
		TH_LOG("extack: '%s'", t->nl->ext_msg);
	EXPECT_EQ(-EINVAL, iopf_handler_register(t->nl, ghost, IOPF_REPORT_NESTED));
	EXPECT_EQ(-ENODEV, iopf_handler_register(t->nl, ghost, IOPF_REPORT_FLAT));
}

TEST_F(life, dev_dump_sid_filter)
{
	struct tb *t = &self->t;
	uint32_t a = tb_dev(_metadata, t), b = tb_dev(_metadata, t);
	uint32_t ghost = tb_sid(t);
	static struct iopf_nl_dev out[4];

	ASSERT_EQ(1, iopf_dev_dump_sid(t->nl, &a, out, 4));
	EXPECT_EQ(a, out[0].sid);
	ASSERT_EQ(1, iopf_dev_dump_sid(t->nl, &b, out, 4));
	EXPECT_EQ(b, out[0].sid);
	EXPECT_EQ(0, iopf_dev_dump_sid(t->nl, &ghost, out, 4));
}

/* StreamIDs 0 and 0xffffffff: each dumped once, and the dumps end */
TEST_F(life, dump_ends_at_max_sid)
{
	struct tb *t = &self->t;
	static struct iopf_nl_dev devs[2048];
	static struct iopf_nl_fault pend[64];
	const uint32_t top = 0xffffffffu, zero = 0;
	int n, i, seen_top = 0, seen_zero = 0, ret;
	uint64_t evt[4];

	ret = iopf_dev_new(t->nl, top);
	ASSERT_TRUE(ret == 0 || ret == -EEXIST);
	t->sids[t->nsids++] = top;
	ret = iopf_dev_new(t->nl, zero);
	ASSERT_TRUE(ret == 0 || ret == -EEXIST);
	t->sids[t->nsids++] = zero;
	iopf_handler_unregister(t->nl, top);
	ASSERT_EQ(0, iopf_handler_register(t->nl, top, IOPF_REPORT_FLAT));

	n = iopf_dev_dump(t->nl, devs, 2048);
	ASSERT_LE(2, n);
	ASSERT_GE(2048, n);
	for (i = 0; i < n; i++) {
		seen_top += devs[i].sid == top;
		seen_zero += devs[i].sid == zero;
	}
	EXPECT_EQ(1, seen_top);
	EXPECT_EQ(1, seen_zero);
	ASSERT_EQ(1, iopf_dev_dump_sid(t->nl, &top, devs, 4));
	EXPECT_EQ(top, devs[0].sid);

	stall_evt(top, 9, 0x9000, evt);
	inject(_metadata, evt);
	n = iopf_pending_dump(t->nl, NULL, pend, 64);
	seen_top = 0;
	for (i = 0; i < n && i < 64; i++)
		seen_top += pend[i].sid == top;
	EXPECT_EQ(1, seen_top);
	ASSERT_EQ(1, iopf_pending_dump(t->nl, &top, pend, 64));
	EXPECT_EQ(9u, pend[0].grpid);
}

/* A stage-2 unrecoverable fault: the IOVA as ADDR, the IPA as IPA */
TEST_F(life, s2_unrecoverable_carries_ipa)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	struct iopf_nl_event ev;
	uint64_t evt[4];

	evt[0] = ((uint64_t)sid << 32) | 0x10;	/* F_TRANSLATION */
	evt[1] = (1ull << 39) | (1ull << 35);	/* S2, read, no stall */
	evt[2] = 0x12345000ull;			/* IOVA */
	evt[3] = 0x80001000ull | 0xfffull;	/* IPA 51:12, junk below */
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "s2 unrecoverable");
	EXPECT_EQ((uint32_t)IOPF_FAULT_DMA_UNRECOV, ev.fault.type);
	EXPECT_EQ(2u, ev.fault.level);
	EXPECT_EQ(0x12345000ull, ev.fault.addr);
	ASSERT_TRUE(ev.fault.has[IOPF_FAULT_A_IPA]);
	EXPECT_EQ(0x80001000ull, ev.fault.ipa);

	evt[1] = 1ull << 35;			/* stage 1: no IPA */
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "s1 unrecoverable");
	EXPECT_FALSE(ev.fault.has[IOPF_FAULT_A_IPA]);
}

/* ------------------------------------------------------------------ */
/* figures                                                              */
/* ------------------------------------------------------------------ */

/* Slab + vmalloc'ed + page tables in kB: what kernel objects cost */
static long kernel_kb(void)
{
	static const char *const keys[] = { "Slab:", "VmallocUsed:", "Percpu:" };
	char line[128];
	long sum = 0, v;
	size_t i;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%ld", &v) == 1)
				sum += v;
	fclose(f);
	return sum;
}

static void settle(void)
{
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");

	sync();
	if (f) {
		fputs("2\n", f);
		fclose(f);
	}
	usleep(200 * 1000);
}

#define FIG_PENDING	IOPF_PENDING_LIMIT_MAX
#define FIG_DEVS	256

/*
 * The figure is for production kernels: under the debug cell's checkers
 * (kmemleak, KASAN, lockdep) each request costs ~20 times more, and the
 * whole limit would take minutes of CI for a number nobody quotes.
 */
static uint32_t fig_pending(void)
{
	return access("/sys/kernel/debug/kmemleak", F_OK) ? FIG_PENDING :
							     FIG_PENDING / 16;
}

TEST_F_TIMEOUT(life, figures_pending_max_and_delete, 600)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	static uint64_t evt[FIG_PENDING / 2][4];
	long kb0, kb1;
	struct iopf_nl_dev d;
	uint64_t t0, t_inj, t_del;
	uint32_t i, half, n = fig_pending();
	int ret;

	set_limit(_metadata, t, sid, n);
	iopf_nl_close(t->lis);	/* nobody listens: only the module's cost */
	t->lis = NULL;
	settle();
	kb0 = kernel_kb();
	t0 = now_ms();
	for (half = 0; half < 2; half++) {
		for (i = 0; i < n / 2; i++)
			stall_evt(sid, half * (n / 2) + i, 0x1000ull * i, evt[i]);
		ret = iopf_inject_raw((const uint64_t (*)[4])evt, n / 2);
		ASSERT_EQ(0, ret) TH_LOG("inject_raw: %s", strerror(-ret));
	}
	t_inj = now_ms() - t0;
	/* One more: over the limit */
	stall_evt(sid, 0, 0x1000, evt[0]);
	ASSERT_EQ(0, iopf_inject_raw((const uint64_t (*)[4])evt, 1));
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ((uint64_t)n, DS(d, PENDING));
	ASSERT_EQ(1u, DS(d, PENDING_FULL));
	settle();
	kb1 = kernel_kb();

	t0 = now_ms();
	ASSERT_EQ(0, iopf_dev_del(t->nl, sid));
	t_del = now_ms() - t0;
	t->nsids = 0;
	/* A figure, not a timed test: nothing asserts on the times */
	TH_LOG("FIGURE pending: %u requests took %ld kB of kernel memory (%ld bytes each); injected in %llu ms; DEV_DEL of the device holding them: %llu ms",
	       n, kb1 - kb0, (kb1 - kb0) * 1024 / (long)n,
	       (unsigned long long)t_inj, (unsigned long long)t_del);
}

TEST_F_TIMEOUT(life, figures_per_device, 300)
{
	struct tb *t = &self->t;
	uint32_t base = 0x05000000u | ((uint32_t)(getpid() & 0xfff) << 10);
	struct iopf_nl_stats s;
	long kb0, kb1;
	uint64_t t0, t_new;
	int i, ret;

	stats_get(_metadata, t, &s);
	ASSERT_GE(1024u - FIG_DEVS, GS(s, DEVICES));
	settle();
	kb0 = kernel_kb();
	t0 = now_ms();
	for (i = 0; i < FIG_DEVS; i++) {
		ret = iopf_dev_new(t->nl, base + (uint32_t)i);
		if (ret)
			break;
	}
	t_new = now_ms() - t0;
	settle();
	kb1 = kernel_kb();
	for (i = 0; i < FIG_DEVS; i++)
		iopf_dev_del(t->nl, base + (uint32_t)i);
	ASSERT_EQ(0, ret) TH_LOG("DEV_NEW: %s", strerror(-ret));
	TH_LOG("FIGURE devices: %d devices took %ld kB (%ld bytes each, debugfs included); created in %llu ms",
	       FIG_DEVS, kb1 - kb0, (kb1 - kb0) * 1024 / FIG_DEVS,
	       (unsigned long long)t_new);
}

TEST_HARNESS_MAIN
