// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_trace_test: the module's trace events (Documentation/tracing.md),
 * run as root in the guest by suite.sh with the module loaded.
 *
 * Each test enables the iopf_testbed events in a tracefs instance of its
 * own (its own buffer: a developer's global trace is left alone), drives one
 * stalled record through the module and reads the instance's trace back:
 *
 *   trace.answered   decoded -> reported -> response -> RESUME, in order,
 *                    with the SID of the record and the SEQ numbers the
 *                    FAULT_NTF and RESUME_NTF carried;
 *   trace.filtered   a stage-1 fault a NESTED/L2-only handler filters:
 *                    decoded -> dropped (why=filtered_l1) -> RESUME
 *                    (origin=report_failed), with the RESUME_NTF's SEQ;
 *   trace.access     an access of the stage model that stalls and is
 *                    aborted: access_start -> ... -> access_end, one id.
 *
 * A kernel without tracefs or event tracing is a SKIP, with the reason.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"

#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_tb.h"

#define TRACE_BUF_SIZE	(1 << 20)
#define TRACE_MAX_EV	64

/* ------------------------------------------------------------------ */
/* tracefs                                                              */
/* ------------------------------------------------------------------ */

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * The tracefs root: /sys/kernel/tracing (mounted if need be), else the
 * debugfs view. NULL, with why, when the kernel has no event tracing.
 */
static const char *tracefs_root(const char **why)
{
	if (is_dir("/sys/kernel/tracing/events"))
		return "/sys/kernel/tracing";
	if (is_dir("/sys/kernel/tracing") &&
	    !mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    is_dir("/sys/kernel/tracing/events"))
		return "/sys/kernel/tracing";
	/* Before 4.1, or tracefs not mountable there: debugfs's view */
	if (!iopf_dbgfs_mount() && is_dir("/sys/kernel/debug/tracing/events"))
		return "/sys/kernel/debug/tracing";
	*why = "no tracefs with events (kernel without CONFIG_EVENT_TRACING?)";
	return NULL;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static ssize_t read_all(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return len;
}

/* ------------------------------------------------------------------ */
/* The events read back                                                 */
/* ------------------------------------------------------------------ */

enum {
	EV_RECORD, EV_FAULT, EV_DROP, EV_RESPONSE, EV_RESUME, EV_ACC_START,
	EV_ACC_END, EV_OTHER
};

struct tev {
	int kind;
	char name[32];
	char args[256];		/* what TP_printk printed */
	char line[384];		/* the whole line, as tracefs has it */
};

/* "key=value" of an event's fields: 0, or -ENOENT */
static int tev_u64(const struct tev *e, const char *key, uint64_t *v)
{
	char pat[40];
	const char *p = e->args;
	size_t n = snprintf(pat, sizeof(pat), "%s=", key);

	while ((p = strstr(p, pat))) {
		if (p == e->args || p[-1] == ' ') {
			*v = strtoull(p + n, NULL, 0);
			return 0;
		}
		p += n;
	}
	return -ENOENT;
}

static bool tev_has(const struct tev *e, const char *kv)
{
	size_t n = strlen(kv);
	const char *p = e->args;

	while ((p = strstr(p, kv))) {
		if ((p == e->args || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * The instance's trace, one struct tev per iopf_testbed event of @sid, in
 * the buffer's (timestamp) order. Returns how many, or -errno.
 */
static int trace_parse(char *text, uint32_t sid, struct tev *out, int max)
{
	static const char *const names[] = {
		[EV_RECORD] = "iopf_record", [EV_FAULT] = "iopf_fault",
		[EV_DROP] = "iopf_fault_drop", [EV_RESPONSE] = "iopf_response",
		[EV_RESUME] = "iopf_resume", [EV_ACC_START] = "iopf_access_start",
		[EV_ACC_END] = "iopf_access_end",
	};
	char *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon, *name;
		struct tev e = { .kind = EV_OTHER };
		uint64_t v;
		size_t i;

		if (line[0] == '#')
			continue;
		snprintf(e.line, sizeof(e.line), "%s", line);
		/* "  task-pid  [cpu] flags  ts: iopf_xxx: args" */
		name = strstr(line, ": iopf_");
		if (!name)
			continue;
		name += 2;
		colon = strchr(name, ':');
		if (!colon)
			continue;
		snprintf(e.name, sizeof(e.name), "%.*s", (int)(colon - name), name);
		snprintf(e.args, sizeof(e.args), "%s", colon + 1 + (colon[1] == ' '));
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(e.name, names[i]))
				e.kind = i;
		if (tev_u64(&e, "sid", &v) || v != sid)
			continue;
		if (n >= max)
			return -E2BIG;
		out[n++] = e;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Fixture: a device, and a tracefs instance with our events on          */
/* ------------------------------------------------------------------ */

FIXTURE(trace) {
	struct tb t;
	char inst[256];		/* the instance's directory, "" if none */
	char *buf;
};

FIXTURE_SETUP(trace)
{
	const char *why = NULL, *root;
	char path[320];
	int ret;

	self->inst[0] = '\0';
	self->buf = NULL;
	tb_setup(_metadata, &self->t);
	if (_metadata->exit_code)
		return;
	root = tracefs_root(&why);
	if (!root)
		SKIP(return, "%s", why);
	if (!is_dir("/sys/kernel/tracing/instances") &&
	    !is_dir("/sys/kernel/debug/tracing/instances"))
		SKIP(return, "tracefs has no instances");
	snprintf(path, sizeof(path), "%s/events/iopf_testbed", root);
	/* Event tracing is there: the module must have brought its events */
	ASSERT_TRUE(is_dir(path)) {
		TH_LOG("%s missing: module built without its trace events?", path);
	}
	snprintf(self->inst, sizeof(self->inst), "%s/instances/iopf_trace_%d",
		 root, getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0755)) {
		TH_LOG("mkdir %s: %s", self->inst, strerror(errno));
		self->inst[0] = '\0';
	}
	/* One clock for every CPU: the order read back is the order of events */
	snprintf(path, sizeof(path), "%s/trace_clock", self->inst);
	write_str(path, "global");
	snprintf(path, sizeof(path), "%s/events/iopf_testbed/enable", self->inst);
	ret = write_str(path, "1");
	ASSERT_EQ(0, ret) {
		TH_LOG("enable %s: %s", path, strerror(-ret));
	}
	snprintf(path, sizeof(path), "%s/tracing_on", self->inst);
	ASSERT_EQ(0, write_str(path, "1"));
	self->buf = malloc(TRACE_BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(trace)
{
	char path[320];

	if (self->inst[0]) {
		snprintf(path, sizeof(path), "%s/events/iopf_testbed/enable",
			 self->inst);
		write_str(path, "0");
		/* -EBUSY while someone reads it: the instance is then left */
		rmdir(self->inst);
	}
	free(self->buf);
	tb_teardown(&self->t);
}

/* Stop the instance's tracing and parse its buffer */
static int trace_read(struct __test_metadata *_metadata,
		      FIXTURE_DATA(trace) *self, uint32_t sid,
		      struct tev *ev, int max)
{
	char path[320];
	ssize_t len;
	int n;

	snprintf(path, sizeof(path), "%s/tracing_on", self->inst);
	write_str(path, "0");
	snprintf(path, sizeof(path), "%s/trace", self->inst);
	len = read_all(path, self->buf, TRACE_BUF_SIZE);
	if (len < 0) {
		TH_LOG("read %s: %s", path, strerror(-len));
		return (int)len;
	}
	n = trace_parse(self->buf, sid, ev, max);
	return n;
}

static void dump_tev(struct __test_metadata *_metadata,
		     const struct tev *ev, int n)
{
	int i;

	for (i = 0; i < n; i++)
		TH_LOG("%s", ev[i].line);
}

/* The index of the first event of @kind at or after @from, or -1 */
static int find_kind(const struct tev *ev, int n, int from, int kind)
{
	int i;

	for (i = from; i < n; i++)
		if (ev[i].kind == kind)
			return i;
	return -1;
}

static uint64_t field(struct __test_metadata *_metadata, const struct tev *e,
		      const char *key)
{
	uint64_t v = ~0ull;

	EXPECT_EQ(0, tev_u64(e, key, &v)) {
		TH_LOG("%s has no %s=: %s", e->name, key, e->args);
	}
	return v;
}

TEST_F(trace, answered)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	const uint32_t stag = 0x2a;
	struct iopf_nl_event fault, resume;
	struct tev ev[TRACE_MAX_EV];
	int n, i_rec, i_flt, i_rsp, i_res, ret;
	uint64_t evt[4];

	stall_evt(sid, stag, 0x7000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &fault, IOPF_CMD_FAULT_NTF, "stalled record");
	ASSERT_EQ(sid, fault.fault.sid);
	ASSERT_NE(0u, fault.fault.seq);
	ret = iopf_page_response(t->nl, sid, stag, IOPF_RESP_SUCCESS, NULL);
	ASSERT_EQ(0, ret) {
		TH_LOG("PAGE_RESPONSE: %s (%s)", strerror(-ret), t->nl->ext_msg);
	}
	recv_ev(_metadata, t, &resume, IOPF_CMD_RESUME_NTF, "page response");
	ASSERT_EQ(sid, resume.resume.sid);

	n = trace_read(_metadata, self, sid, ev, TRACE_MAX_EV);
	ASSERT_LE(4, n) {
		TH_LOG("%d events of sid 0x%x in the trace, 4 expected", n, sid);
	}
	i_rec = find_kind(ev, n, 0, EV_RECORD);
	i_flt = i_rec < 0 ? -1 : find_kind(ev, n, i_rec + 1, EV_FAULT);
	i_rsp = i_flt < 0 ? -1 : find_kind(ev, n, i_flt + 1, EV_RESPONSE);
	i_res = i_rsp < 0 ? -1 : find_kind(ev, n, i_rsp + 1, EV_RESUME);
	ASSERT_LE(0, i_res) {
		TH_LOG("not record -> fault -> response -> resume (%d %d %d %d):",
		       i_rec, i_flt, i_rsp, i_res);
		dump_tev(_metadata, ev, n);
	}
	EXPECT_EQ(-1, find_kind(ev, n, 0, EV_DROP));

	/* decoded: the record's fields */
	EXPECT_EQ(stag, field(_metadata, &ev[i_rec], "stag"));
	EXPECT_EQ(1u, field(_metadata, &ev[i_rec], "stall"));
	EXPECT_EQ(0x7000u, field(_metadata, &ev[i_rec], "addr"));
	EXPECT_EQ(1u, field(_metadata, &ev[i_rec], "stage"));
	EXPECT_EQ(0x10u, field(_metadata, &ev[i_rec], "evt"));
	/* reported: the FAULT_NTF's numbers */
	EXPECT_EQ(fault.fault.seq, field(_metadata, &ev[i_flt], "seq"));
	EXPECT_EQ(fault.fault.dev_seq, field(_metadata, &ev[i_flt], "dev_seq"));
	EXPECT_EQ(stag, field(_metadata, &ev[i_flt], "grpid"));
	EXPECT_TRUE(tev_has(&ev[i_flt], "type=page_req"));
	EXPECT_TRUE(tev_has(&ev[i_flt], "L1"));
	/* the response user space sent */
	EXPECT_EQ(stag, field(_metadata, &ev[i_rsp], "grpid"));
	EXPECT_TRUE(tev_has(&ev[i_rsp], "code=success"));
	EXPECT_TRUE(tev_has(&ev[i_rsp], "origin=response"));
	/* the RESUME: the RESUME_NTF's SEQ, answering the fault's */
	EXPECT_EQ(resume.resume.seq, field(_metadata, &ev[i_res], "seq"));
	EXPECT_EQ(fault.fault.seq, field(_metadata, &ev[i_res], "fault_seq"));
	EXPECT_EQ(stag, field(_metadata, &ev[i_res], "stag"));
	EXPECT_TRUE(tev_has(&ev[i_res], "resp=retry"));
	EXPECT_TRUE(tev_has(&ev[i_res], "origin=response"));
	/* What was captured, in the log (Documentation/tracing.md) */
	dump_tev(_metadata, ev, n);
}

TEST_F(trace, filtered)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
				  IOPF_REPORT_NESTED_L2_CONCERNED);
	const uint32_t stag = 0x33;
	struct iopf_nl_event resume;
	struct tev ev[TRACE_MAX_EV];
	int n, i_rec, i_drop, i_res;
	uint64_t evt[4];

	/* A stage-1 fault: not the handler's concern, the driver aborts it */
	stall_evt(sid, stag, 0x9000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &resume, IOPF_CMD_RESUME_NTF, "filtered record");
	ASSERT_EQ(sid, resume.resume.sid);
	ASSERT_EQ((uint32_t)IOPF_ORIGIN_REPORT_FAILED, resume.resume.origin);

	n = trace_read(_metadata, self, sid, ev, TRACE_MAX_EV);
	ASSERT_LE(3, n) {
		TH_LOG("%d events of sid 0x%x in the trace, 3 expected", n, sid);
	}
	i_rec = find_kind(ev, n, 0, EV_RECORD);
	i_drop = i_rec < 0 ? -1 : find_kind(ev, n, i_rec + 1, EV_DROP);
	i_res = i_drop < 0 ? -1 : find_kind(ev, n, i_drop + 1, EV_RESUME);
	ASSERT_LE(0, i_res) {
		TH_LOG("not record -> fault_drop -> resume (%d %d %d):",
		       i_rec, i_drop, i_res);
		dump_tev(_metadata, ev, n);
	}
	EXPECT_EQ(-1, find_kind(ev, n, 0, EV_FAULT));
	EXPECT_EQ(-1, find_kind(ev, n, 0, EV_RESPONSE));
	EXPECT_EQ(stag, field(_metadata, &ev[i_drop], "grpid"));
	EXPECT_TRUE(tev_has(&ev[i_drop], "why=filtered_l1")) {
		TH_LOG("fault_drop: %s", ev[i_drop].args);
	}
	EXPECT_EQ(resume.resume.seq, field(_metadata, &ev[i_res], "seq"));
	EXPECT_TRUE(tev_has(&ev[i_res], "origin=report_failed"));
	EXPECT_TRUE(tev_has(&ev[i_res], "resp=abort"));
	dump_tev(_metadata, ev, n);
}

TEST_F(trace, access)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	struct iopf_nl_event fault, resume;
	struct tev ev[TRACE_MAX_EV];
	struct iopf_nl_access a;
	int n, i, i_start, i_flt, i_res, i_end, ret;

	/* Stage 2 only, nothing mapped: the access stalls at stage 2 */
	ret = iopf_dev_set_mode(t->nl, sid, IOPF_STAGE_MODE_S2);
	ASSERT_EQ(0, ret) {
		TH_LOG("STAGE_MODE: %s (%s)", strerror(-ret), t->nl->ext_msg);
	}
	ret = iopf_access(t->nl, sid, NULL, 0x20000, 0x1000, IOPF_PERM_READ,
			  true, &a);
	ASSERT_EQ(0, ret) {
		TH_LOG("ACCESS: %s (%s)", strerror(-ret), t->nl->ext_msg);
	}
	ASSERT_EQ((uint32_t)IOPF_ACCESS_STALLED, a.state);
	recv_ev(_metadata, t, &fault, IOPF_CMD_FAULT_NTF, "stalled access");
	ret = iopf_page_response(t->nl, sid, a.stag, IOPF_RESP_FAILURE, NULL);
	ASSERT_EQ(0, ret) {
		TH_LOG("PAGE_RESPONSE: %s (%s)", strerror(-ret), t->nl->ext_msg);
	}
	/* The RESUME_NTF, whatever else the listener hears before it */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, iopf_nl_recv_event(t->lis, EV_TIMEOUT_MS, &resume));
		if (resume.cmd == IOPF_CMD_RESUME_NTF)
			break;
	}
	ASSERT_EQ(IOPF_CMD_RESUME_NTF, resume.cmd);

	n = trace_read(_metadata, self, sid, ev, TRACE_MAX_EV);
	i_start = find_kind(ev, n, 0, EV_ACC_START);
	i_flt = i_start < 0 ? -1 : find_kind(ev, n, i_start + 1, EV_FAULT);
	i_res = i_flt < 0 ? -1 : find_kind(ev, n, i_flt + 1, EV_RESUME);
	i_end = i_res < 0 ? -1 : find_kind(ev, n, i_res + 1, EV_ACC_END);
	ASSERT_LE(0, i_end) {
		TH_LOG("not access_start -> fault -> resume -> access_end (%d %d %d %d):",
		       i_start, i_flt, i_res, i_end);
		dump_tev(_metadata, ev, n);
	}
	EXPECT_EQ(a.id, field(_metadata, &ev[i_start], "id"));
	EXPECT_EQ(a.id, field(_metadata, &ev[i_flt], "access"));
	EXPECT_EQ(a.id, field(_metadata, &ev[i_end], "id"));
	EXPECT_TRUE(tev_has(&ev[i_flt], "L2"));
	EXPECT_EQ(fault.fault.seq, field(_metadata, &ev[i_res], "fault_seq"));
	EXPECT_EQ(resume.resume.seq, field(_metadata, &ev[i_res], "seq"));
	EXPECT_TRUE(tev_has(&ev[i_end], "state=aborted"));
	EXPECT_EQ(fault.fault.seq, field(_metadata, &ev[i_end], "fault_seq"));
	dump_tev(_metadata, ev, n);
}

TEST_HARNESS_MAIN
