// SPDX-License-Identifier: GPL-2.0
/*
 * The bad-input catalogue of iopf_testbed (issue 4): every malformed or
 * misdirected request through debugfs and generic netlink, each a test
 * asserting the exact error the kernel returns, and that nothing changed
 * (no device created or removed, no counter moved, no notification sent).
 * Then what an unprivileged user can and cannot do. The program
 * iopf_errors_test; shares iopf_tb.h with iopf_testbed_test.
 *
 * The errors are those of the kernels the suite boots (Debian 6.1 and
 * 6.12): they are the same on both, and documented at each table.
 *   - missing required attribute: -EINVAL, NLMSGERR_ATTR_MISS_TYPE = it
 *     (the module's GENL_REQ_ATTR_CHECK; no message);
 *   - GRPID > 0xffff, PASID > 0xfffff, CODE > 2: -ERANGE "integer out of
 *     range" (NLA_POLICY_FULL_RANGE / NLA_POLICY_MAX);
 *   - FLAGS or SET with an unknown bit: -EINVAL "reserved bit set"
 *     (NLA_POLICY_MASK); MASK takes any u32;
 *   - a u32 of another size: -EINVAL "invalid attribute length"; with
 *     NLA_F_NESTED: -EINVAL "NLA_F_NESTED not expected" (strict parsing);
 *   - an attribute type above the command's maxattr, or 0: -EINVAL
 *     "Unknown attribute type"; one inside it without a policy entry
 *     (PAD): -EINVAL "Unsupported attribute";
 *   - trailing or truncated attribute bytes: -EINVAL "bytes leftover after
 *     parsing attributes";
 *   - a command the family lacks (or do/dump it does not implement):
 *     -EOPNOTSUPP;
 *   - genlmsghdr.reserved != 0: -EINVAL "genlmsghdr.reserved field is not
 *     0"; nlmsg_flags beyond REQUEST|ACK|ECHO|DUMP: -EINVAL "ambiguous or
 *     reserved bits set in nlmsg_flags" (the family leaves resv_start_op at
 *     0, so the core checks every command); genlmsghdr.version is not
 *     checked at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "iopf_dbgfs.h"
#include "iopf_nl.h"
#include "iopf_tb.h"

#ifndef NLM_F_DUMP_INTR
#define NLM_F_DUMP_INTR 0x10
#endif

/* ------------------------------------------------------------------ */
/* "Nothing changed": a snapshot of the global and per-device state     */
/* ------------------------------------------------------------------ */

struct snap {
	struct iopf_nl_stats g;
	int n;
	struct iopf_nl_dev d[TB_MAX_SIDS];
};

static void snap_take(struct __test_metadata *_metadata, struct tb *t,
		      struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	stats_get(_metadata, t, &s->g);
	for (i = 0; i < t->nsids; i++) {
		if (iopf_dev_get(t->nl, t->sids[i], &s->d[i]) == 0)
			dev_get(_metadata, t, t->sids[i], &s->d[i]);	/* balance */
		else
			s->d[i].sid = ~0u;	/* gone */
	}
	s->n = t->nsids;
}

/* The state now equals a: every counter, device, flag; no notification */
static void snap_check(struct __test_metadata *_metadata, struct tb *t,
		       const struct snap *a, const char *what)
{
	static const int g[] = { IOPF_STAT_A_RECORDS, IOPF_STAT_A_UNHANDLED_EVENT,
				 IOPF_STAT_A_UNKNOWN_SID, IOPF_STAT_A_DEVICES };
	struct snap b;
	size_t i;
	int k, j;

	snap_take(_metadata, t, &b);
	for (i = 0; i < ARRAY_SIZE(g); i++)
		ASSERT_EQ(a->g.v[g[i]], b.g.v[g[i]]) {
			TH_LOG("%s: global counter %d changed", what, g[i]);
		}
	ASSERT_EQ(a->n, b.n);
	for (k = 0; k < a->n; k++) {
		ASSERT_EQ(a->d[k].sid, b.d[k].sid) {
			TH_LOG("%s: device 0x%x appeared or vanished", what,
			       t->sids[k]);
		}
		ASSERT_EQ(a->d[k].registered, b.d[k].registered) TH_LOG("%s", what);
		ASSERT_EQ(a->d[k].flags, b.d[k].flags) TH_LOG("%s", what);
		for (j = 1; j <= IOPF_STAT_A_MAX; j++)
			ASSERT_EQ(a->d[k].stats.v[j], b.d[k].stats.v[j]) {
				TH_LOG("%s: device 0x%x counter %d changed", what,
				       t->sids[k], j);
			}
	}
	expect_quiet(_metadata, t, what);
}

/* ------------------------------------------------------------------ */
/* debugfs: bad writes (extends badwrite.*)                             */
/* ------------------------------------------------------------------ */

enum { W_TEXT, W_RAW };

FIXTURE(inject_bad) {
	struct tb t;
	uint32_t sid;
};

/*
 * text (len bytes, or strlen) goes to "inject" with each "W0" replaced by
 * a word0 aimed at the test's device; fill > 0 builds that many bytes of
 * valid lines instead, then appends text. raw: raw_len bytes of valid
 * records to "inject_raw". unmapped: the buffer is not mapped. All at
 * offset off.
 */
FIXTURE_VARIANT(inject_bad) {
	int file;
	const char *text;
	size_t len;
	size_t fill;
	size_t raw_len;
	off_t off;
	bool unmapped;
	int err;
};

#define TXT(s)	.file = W_TEXT, .text = s, .len = sizeof(s) - 1, .err = -EINVAL

FIXTURE_VARIANT_ADD(inject_bad, empty_write) { TXT("") };
FIXTURE_VARIANT_ADD(inject_bad, only_newlines) { TXT("\n\n\n") };
FIXTURE_VARIANT_ADD(inject_bad, only_blanks) { TXT(" \t\r\n   \n\t") };
FIXTURE_VARIANT_ADD(inject_bad, one_word) { TXT("W0\n") };
FIXTURE_VARIANT_ADD(inject_bad, two_words) { TXT("W0 0x880000001\n") };
FIXTURE_VARIANT_ADD(inject_bad, two_records_one_line) {
	TXT("W0 0x880000001 0x1000 0 W0 0x880000001 0x1000 0\n")
};
FIXTURE_VARIANT_ADD(inject_bad, seventeen_digits_small_value) {
	/* 16 hex digits at most, whatever the value (kstrtou64 took this) */
	TXT("W0 0x880000001 0x00000000000001000 0\n")
};
FIXTURE_VARIANT_ADD(inject_bad, bare_0x) { TXT("W0 0x 0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, double_0x) { TXT("W0 0x0x880000001 0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, plus_sign) { TXT("W0 +0x880000001 0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, trailing_comment) {
	/* iopfctl --file strips '#' comments; the kernel format has none */
	TXT("W0 0x880000001 0x1000 0 # note\n")
};
FIXTURE_VARIANT_ADD(inject_bad, comma_separated) { TXT("W0,0x880000001,0x1000,0\n") };
FIXTURE_VARIANT_ADD(inject_bad, vertical_tab) {
	/* blanks are space, tab and CR only: not isspace() */
	TXT("W0\v0x880000001 0x1000 0\n")
};
FIXTURE_VARIANT_ADD(inject_bad, form_feed) { TXT("W0 0x880000001\f0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, high_byte) { TXT("W0 0x88000000\xff 0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, nul_inside_word) { TXT("W0 0x8800\0001 0x1000 0\n") };
FIXTURE_VARIANT_ADD(inject_bad, nul_after_record) {
	/* a NUL is not a blank: the line is not four hex words */
	TXT("W0 0x880000001 0x1000 0\0junk\n")
};
FIXTURE_VARIANT_ADD(inject_bad, nul_line_after_record) {
	TXT("W0 0x880000001 0x1000 0\n\0junk\n")
};
FIXTURE_VARIANT_ADD(inject_bad, nul_between_records) {
	/* the second record must not be dropped silently */
	TXT("W0 0x880000001 0x1000 0\n\0\nW0 0x880000002 0x2000 0\n")
};
FIXTURE_VARIANT_ADD(inject_bad, nul_line_before_record) {
	TXT("\0junk\nW0 0x880000001 0x1000 0\n")
};
FIXTURE_VARIANT_ADD(inject_bad, text_at_offset_1) {
	TXT("W0 0x880000001 0x1000 0\n"), .off = 1
};
FIXTURE_VARIANT_ADD(inject_bad, text_at_offset_4g) {
	TXT("W0 0x880000001 0x1000 0\n"), .off = 1ll << 32
};
FIXTURE_VARIANT_ADD(inject_bad, text_1mib_plus_1) {
	/* valid lines, 1 MiB + 1 bytes in all */
	TXT("\n"), .fill = (1u << 20)
};
FIXTURE_VARIANT_ADD(inject_bad, text_bad_last_of_10000) {
	/* parsed whole before anything is injected */
	TXT("W0 0x880000001 0x1000\n"), .fill = 10000 * 76
};
FIXTURE_VARIANT_ADD(inject_bad, text_unmapped) {
	.file = W_TEXT, .len = 76, .unmapped = true, .err = -EFAULT
};
FIXTURE_VARIANT_ADD(inject_bad, raw_empty) { .file = W_RAW, .raw_len = 0, .err = -EINVAL };
FIXTURE_VARIANT_ADD(inject_bad, raw_1_byte) { .file = W_RAW, .raw_len = 1, .err = -EINVAL };
FIXTURE_VARIANT_ADD(inject_bad, raw_1mib_minus_1) {
	.file = W_RAW, .raw_len = (1u << 20) - 1, .err = -EINVAL
};
FIXTURE_VARIANT_ADD(inject_bad, raw_64mib) {
	.file = W_RAW, .raw_len = 64u << 20, .unmapped = true, .err = -EINVAL
};
FIXTURE_VARIANT_ADD(inject_bad, raw_at_offset_1) {
	.file = W_RAW, .raw_len = 32, .off = 1, .err = -EINVAL
};
FIXTURE_VARIANT_ADD(inject_bad, raw_unmapped) {
	.file = W_RAW, .raw_len = 64, .unmapped = true, .err = -EFAULT
};

FIXTURE_SETUP(inject_bad)
{
	tb_setup(_metadata, &self->t);
	if (_metadata->exit_code)
		return;
	/* registered FLAT: anything injected would be reported */
	self->sid = tb_dev_reg(_metadata, &self->t, IOPF_REPORT_FLAT);
}

FIXTURE_TEARDOWN(inject_bad)
{
	tb_teardown(&self->t);
}

/* Append text with "W0" replaced by word0 of a stall on sid */
static size_t put_text(char *buf, const char *text, size_t len, uint32_t sid)
{
	char w0[32];
	size_t n = 0, i;

	snprintf(w0, sizeof(w0), "0x%08x00000010", sid);
	for (i = 0; i < len; i++) {
		if (i + 1 < len && text[i] == 'W' && text[i + 1] == '0') {
			memcpy(buf + n, w0, strlen(w0));
			n += strlen(w0);
			i++;
		} else {
			buf[n++] = text[i];
		}
	}
	return n;
}

/* Valid text lines aimed at sid, exactly len bytes */
static void fill_text(char *buf, size_t len, uint32_t sid)
{
	uint64_t evt[4];
	size_t n = 0;

	stall_evt(sid, 1, 0x1000, evt);
	while (len - n >= 76) {
		iopf_fmt_record(buf + n, 77, evt);
		n += 76;
	}
	memset(buf + n, '\n', len - n);
}

static void fill_raw(uint8_t *buf, size_t len, uint32_t sid)
{
	uint64_t evt[4];
	size_t i;

	stall_evt(sid, 1, 0x1000, evt);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(evt[(i % 32) / 8] >> (8 * (i % 8)));
}

TEST_F_TIMEOUT(inject_bad, rejected, 60)
{
	struct tb *t = &self->t;
	const char *file = variant->file == W_TEXT ? "inject" : "inject_raw";
	size_t size, len = 0;
	struct snap s0;
	void *map = NULL;
	char *buf;
	int ret;

	if (variant->unmapped) {
		/* reserved, never touched: nothing behind it is readable */
		size = variant->file == W_TEXT ? variant->len : variant->raw_len;
		map = mmap(NULL, size, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ASSERT_NE(MAP_FAILED, map);
		buf = map;
		len = size;
	} else if (variant->file == W_TEXT) {
		size = variant->fill + variant->len * 10 + 64;
		buf = malloc(size);
		ASSERT_NE(NULL, buf);
		fill_text(buf, variant->fill, self->sid);
		len = variant->fill + put_text(buf + variant->fill, variant->text,
					       variant->len, self->sid);
	} else {
		buf = malloc(variant->raw_len + 1);
		ASSERT_NE(NULL, buf);
		fill_raw((uint8_t *)buf, variant->raw_len, self->sid);
		len = variant->raw_len;
	}

	snap_take(_metadata, t, &s0);
	ret = iopf_dbgfs_write_at(file, buf, len, variant->off);
	if (map)
		munmap(map, len);
	else
		free(buf);
	ASSERT_EQ(variant->err, ret) {
		TH_LOG("%s: %zu bytes at %lld: %d (%s)", file, len,
		       (long long)variant->off, ret, strerror(-ret));
	}
	snap_check(_metadata, t, &s0, "bad write");
}


/* ------------------------------------------------------------------ */
/* debugfs: what is accepted at the edges                               */
/* ------------------------------------------------------------------ */

FIXTURE(inject_edge) {
	struct tb t;
};

FIXTURE_SETUP(inject_edge)
{
	tb_setup(_metadata, &self->t);
}

FIXTURE_TEARDOWN(inject_edge)
{
	tb_teardown(&self->t);
}

/* Exactly 1 MiB, text and binary: accepted, every record counted */
TEST_F_TIMEOUT(inject_edge, exactly_1mib, 120)
{
	struct tb *t = &self->t;
	uint32_t ghost = tb_sid(t);	/* no device: unknown_sid, cheap */
	struct iopf_nl_stats s0, s1;
	size_t len = 1u << 20, nrec;
	char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	fill_text(buf, len, ghost);
	nrec = len / 76;
	stats_get(_metadata, t, &s0);
	ASSERT_EQ(0, iopf_dbgfs_write("inject", buf, len));
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, RECORDS) + nrec, GS(s1, RECORDS));
	ASSERT_EQ(GS(s0, UNKNOWN_SID) + nrec, GS(s1, UNKNOWN_SID));

	fill_raw((uint8_t *)buf, len, ghost);
	ASSERT_EQ(0, iopf_dbgfs_write("inject_raw", buf, len));
	stats_get(_metadata, t, &s0);
	ASSERT_EQ(GS(s1, RECORDS) + len / 32, GS(s0, RECORDS));
	ASSERT_EQ(GS(s1, UNKNOWN_SID) + len / 32, GS(s0, UNKNOWN_SID));
	free(buf);
	expect_quiet(_metadata, t, "1 MiB");
}

/* CRLF, no final newline, 16-digit words, long blank runs: accepted */
TEST_F(inject_edge, text_forms)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT |
					       IOPF_REPORT_UNRECOV);
	static char buf[300000];
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	size_t n = 0;
	int i;

	n += (size_t)sprintf(buf + n, "0x%08x00000012 0x0000000800000000 0x1000 0\r\n", sid);
	n += (size_t)sprintf(buf + n, "%08x00000012 0000000800000000 0x0000000000002000 0", sid);
	memset(buf + n, ' ', 200000);	/* same line: blanks */
	n += 200000;
	n += (size_t)sprintf(buf + n, "\r\n0x%08x00000012 0x800000000 0x3000 0", sid);
	ASSERT_EQ(0, iopf_dbgfs_write("inject", buf, n));
	for (i = 1; i <= 3; i++) {
		recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "text form");
		ASSERT_EQ(0x1000u * (uint64_t)i, ev.fault.addr);
	}
	expect_quiet(_metadata, t, "text forms");
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, DS(d, INJECTED));
}

/* The file position never moves: one fd takes any number of writes */
TEST_F(inject_edge, same_fd_twice)
{
	struct tb *t = &self->t;
	uint32_t sid = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT |
					       IOPF_REPORT_UNRECOV);
	uint64_t evt[4];
	char line[128];
	struct iopf_nl_dev d;
	int fd, len;

	nostall_evt(sid, 0x1000, evt);
	len = iopf_fmt_record(line, sizeof(line), evt);
	fd = open(IOPF_DBGFS_DIR "/inject", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(len, write(fd, line, (size_t)len));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(len, write(fd, line, (size_t)len));
	ASSERT_EQ(len, write(fd, line, (size_t)len));
	close(fd);
	dev_get(_metadata, t, sid, &d);
	ASSERT_EQ(3u, DS(d, INJECTED));
	ASSERT_EQ(3u, DS(d, REPORTED));
}

/* ------------------------------------------------------------------ */
/* debugfs: concurrent writers                                          */
/* ------------------------------------------------------------------ */

#define CW_THREADS	4
#define CW_BATCHES	60
#define CW_BATCH	8

struct cw_arg {
	int id;
	uint32_t sid[4];	/* flat+unrecov, nested L2, unregistered, own */
	int err;
	uint64_t sent[4];	/* records per device */
	uint64_t stalls[4];
};

/*
 * Record k of a batch: device k % 4; on device 1 (NESTED|L2) a stage-1
 * stall (filtered, aborted by the module), elsewhere an unrecoverable
 * fault except on device 2 (no handler) where every other is a stall.
 */
static void *cw_thread(void *p)
{
	struct cw_arg *a = p;
	static __thread uint64_t evt[CW_BATCH][4];
	int b, k;

	for (b = 0; b < CW_BATCHES && !a->err; b++) {
		for (k = 0; k < CW_BATCH; k++) {
			int dv = k % 4;
			uint32_t sid = a->sid[dv];

			if (dv == 1 || (dv == 2 && (b & 1))) {
				stall_evt(sid, (uint32_t)(a->id << 12 | b), 0x1000, evt[k]);
				a->stalls[dv]++;
			} else {
				nostall_evt(sid, 0x1000u * (uint32_t)k, evt[k]);
			}
			a->sent[dv]++;
		}
		a->err = (b & 1) ? iopf_inject_raw((const uint64_t (*)[4])evt, CW_BATCH)
				 : iopf_inject_many((const uint64_t (*)[4])evt, CW_BATCH);
	}
	return NULL;
}

TEST_F_TIMEOUT(inject_edge, concurrent_writers, 120)
{
	struct tb *t = &self->t;
	uint32_t shared[3];
	struct cw_arg arg[CW_THREADS];
	pthread_t th[CW_THREADS];
	struct iopf_nl_stats s0, s1;
	uint64_t want_inj[TB_MAX_SIDS] = { 0 }, want_stall[TB_MAX_SIDS] = { 0 };
	uint64_t total = 0, seq = 0, dseq[TB_MAX_SIDS] = { 0 }, got = 0;
	struct iopf_nl_event ev;
	struct iopf_nl_dev d;
	int i, k, r;

	shared[0] = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
	shared[1] = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
					     IOPF_REPORT_NESTED_L2_CONCERNED);
	shared[2] = tb_dev(_metadata, t);
	for (i = 0; i < CW_THREADS; i++) {
		memset(&arg[i], 0, sizeof(arg[i]));
		arg[i].id = i;
		memcpy(arg[i].sid, shared, sizeof(shared));
		arg[i].sid[3] = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT |
							IOPF_REPORT_UNRECOV);
	}
	stats_get(_metadata, t, &s0);
	for (i = 0; i < CW_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cw_thread, &arg[i]));
	for (i = 0; i < CW_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < CW_THREADS; i++) {
		/* a copy: GCC 12 at -O2 sees arg[CW_THREADS] in the log path */
		int err = arg[i].err;

		ASSERT_EQ(0, err) TH_LOG("writer %d: %s", i, strerror(-err));
	}

	/* t->sids: shared 0..2, then each thread's own device */
	for (i = 0; i < CW_THREADS; i++)
		for (k = 0; k < 4; k++) {
			int idx = k < 3 ? k : 3 + i;

			want_inj[idx] += arg[i].sent[k];
			want_stall[idx] += arg[i].stalls[k];
			total += arg[i].sent[k];
		}
	stats_get(_metadata, t, &s1);
	ASSERT_EQ(GS(s0, RECORDS) + total, GS(s1, RECORDS));
	ASSERT_EQ(GS(s0, UNKNOWN_SID), GS(s1, UNKNOWN_SID));
	ASSERT_EQ(GS(s0, UNHANDLED_EVENT), GS(s1, UNHANDLED_EVENT));
	for (i = 0; i < t->nsids; i++) {
		dev_get(_metadata, t, t->sids[i], &d);	/* checks the balance */
		ASSERT_EQ(want_inj[i], DS(d, INJECTED)) TH_LOG("device %d", i);
		if (i == 1) {
			ASSERT_EQ(want_inj[i], DS(d, FILTERED_L1));
			ASSERT_EQ(want_stall[i], DS(d, AUTO_ABORTS));
		} else if (i == 2) {
			ASSERT_EQ(want_inj[i], DS(d, NO_HANDLER));
			ASSERT_EQ(want_stall[i], DS(d, AUTO_ABORTS));
		} else {
			ASSERT_EQ(want_inj[i], DS(d, REPORTED));
		}
	}
	/* every reported fault notified once, SEQ and DEV_SEQ without gaps */
	while ((r = iopf_nl_recv_event(t->lis, QUIET_MS * 10, &ev)) == 1) {
		if (ev.cmd != IOPF_CMD_FAULT_NTF)
			continue;
		if (seq)
			ASSERT_EQ(seq + 1, ev.fault.seq);
		seq = ev.fault.seq;
		for (i = 0; i < t->nsids; i++)
			if (t->sids[i] == ev.fault.sid)
				break;
		ASSERT_LT(i, t->nsids);
		ASSERT_EQ(++dseq[i], ev.fault.dev_seq);
		got++;
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(want_inj[0] + want_inj[3] + want_inj[4] + want_inj[5] +
		  want_inj[6], got);
	TH_LOG("%d writers, %llu records, %llu notifications", CW_THREADS,
	       (unsigned long long)total, (unsigned long long)got);
}

/* ------------------------------------------------------------------ */
/* Generic netlink: one table of well-formed requests                   */
/* ------------------------------------------------------------------ */

/*
 * Devices of the netlink fixtures: A registered FLAT with a page request
 * (grpid 0) pending; B unregistered; C registered FLAT, nothing pending;
 * FRESH a StreamID without a device. Every request below would change
 * something if it got through (create, delete, register, update,
 * unregister, answer), so "nothing changed" proves it was refused.
 */
enum { D_A, D_B, D_C, D_FRESH, D_NONE = -1 };

struct req_attr {
	uint16_t type;
	int dev;		/* D_*: the value is that device's StreamID */
	uint32_t val;		/* otherwise (dev == D_NONE) */
};

struct cmd_desc {
	const char *name;
	uint8_t cmd;
	bool dump;
	bool admin;
	int n;
	struct req_attr a[3];
};

#define A_SID(dv)	{ IOPF_A_SID, dv, 0 }
#define A_VAL(t, v)	{ t, D_NONE, v }

static const struct cmd_desc cmds[] = {
	{ "dev_new", IOPF_CMD_DEV_NEW, false, true, 1, { A_SID(D_FRESH) } },
	{ "dev_del", IOPF_CMD_DEV_DEL, false, true, 1, { A_SID(D_C) } },
	{ "dev_get", IOPF_CMD_DEV_GET, false, false, 1, { A_SID(D_A) } },
	{ "dev_dump", IOPF_CMD_DEV_GET, true, false, 0, {} },
	{ "register", IOPF_CMD_HANDLER_REGISTER, false, true, 2,
	  { A_SID(D_B), A_VAL(IOPF_A_FLAGS, IOPF_REPORT_FLAT) } },
	{ "update", IOPF_CMD_HANDLER_UPDATE, false, true, 3,
	  { A_SID(D_C), A_VAL(IOPF_A_MASK, ~0u),
	    A_VAL(IOPF_A_SET, IOPF_REPORT_UNRECOV) } },
	{ "unregister", IOPF_CMD_HANDLER_UNREGISTER, false, true, 1, { A_SID(D_C) } },
	{ "response", IOPF_CMD_PAGE_RESPONSE, false, true, 3,
	  { A_SID(D_A), A_VAL(IOPF_A_GRPID, 0),
	    A_VAL(IOPF_A_CODE, IOPF_RESP_SUCCESS) } },
	{ "pending_dump", IOPF_CMD_PENDING_GET, true, true, 1, { A_SID(D_A) } },
	{ "stats_get", IOPF_CMD_STATS_GET, false, false, 0, {} },
};

enum { C_DEV_NEW, C_DEV_DEL, C_DEV_GET, C_DEV_DUMP, C_REGISTER, C_UPDATE,
       C_UNREGISTER, C_RESPONSE, C_PENDING_DUMP, C_STATS_GET, C_NCMDS };

struct nlctx {
	struct tb t;
	uint32_t dev[4];
};

static void nlctx_setup(struct __test_metadata *_metadata, struct nlctx *c)
{
	struct tb *t = &c->t;
	struct iopf_nl_event ev;
	uint64_t evt[4];

	tb_setup(_metadata, t);
	if (_metadata->exit_code)
		return;
	c->dev[D_A] = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	c->dev[D_B] = tb_dev(_metadata, t);
	c->dev[D_C] = tb_dev_reg(_metadata, t, IOPF_REPORT_FLAT);
	c->dev[D_FRESH] = tb_sid(t);
	stall_evt(c->dev[D_A], 0, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "setup");
	/* FRESH is deleted at teardown should a test create it */
	t->sids[t->nsids++] = c->dev[D_FRESH];
}

static uint32_t attr_val(const struct nlctx *c, const struct req_attr *a)
{
	return a->dev == D_NONE ? a->val : c->dev[a->dev];
}

/*
 * Build d's request. omit: an attribute type left out (0: none). mangle:
 * an attribute type sent as data/len/type_flags instead (0: none); its
 * offset from the start of the message goes to *offs.
 */
static void build_req(struct iopf_nl_msg *m, const struct nlctx *c,
		      const struct cmd_desc *d, uint16_t omit, uint16_t mangle,
		      const void *data, size_t len, uint16_t type_flags,
		      uint32_t *offs)
{
	int i;

	/* no offset until the mangled attribute is written (it may be absent) */
	if (offs)
		*offs = UINT32_MAX;
	iopf_msg_family(m, c->t.nl, d->cmd, d->dump);
	for (i = 0; i < d->n; i++) {
		const struct req_attr *a = &d->a[i];
		uint32_t v = attr_val(c, a);

		if (a->type == omit)
			continue;
		if (a->type == mangle) {
			if (offs)
				*offs = (uint32_t)m->len;
			iopf_msg_put(m, a->type | type_flags, data, len);
			continue;
		}
		iopf_msg_put_u32(m, a->type, v);
	}
}

/* The well-formed request: what it returns (dumps: 0 at DONE) */
static int send_good(struct nlctx *c, const struct cmd_desc *d)
{
	struct iopf_nl_msg m;

	build_req(&m, c, d, 0, 0, NULL, 0, 0, NULL);
	return iopf_nl_transact(c->t.nl, &m, NULL, NULL);
}

static void expect_good(struct __test_metadata *_metadata, struct nlctx *c,
			const struct cmd_desc *d)
{
	int ret = send_good(c, d);

	/* the same request, well formed, goes through: the error was ours */
	ASSERT_EQ(0, ret) {
		TH_LOG("%s, well formed: %s (%s)", d->name, strerror(-ret),
		       c->t.nl->ext_msg);
	}
}

/* ------------------------------------------------------------------ */
/* Netlink: each required attribute missing                             */
/* ------------------------------------------------------------------ */

FIXTURE(nl_missing) {
	struct nlctx c;
};

/* omit 0: every attribute left out; miss: the one the kernel reports */
FIXTURE_VARIANT(nl_missing) {
	int cmd;
	uint16_t omit;
	uint16_t miss;
};

FIXTURE_VARIANT_ADD(nl_missing, dev_new_sid) { C_DEV_NEW, IOPF_A_SID, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_missing, dev_del_sid) { C_DEV_DEL, IOPF_A_SID, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_missing, dev_get_sid) { C_DEV_GET, IOPF_A_SID, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_missing, register_sid) {
	C_REGISTER, IOPF_A_SID, IOPF_A_SID
};
FIXTURE_VARIANT_ADD(nl_missing, register_flags) {
	C_REGISTER, IOPF_A_FLAGS, IOPF_A_FLAGS
};
FIXTURE_VARIANT_ADD(nl_missing, register_all) { C_REGISTER, 0xffff, IOPF_A_FLAGS };
FIXTURE_VARIANT_ADD(nl_missing, update_sid) { C_UPDATE, IOPF_A_SID, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_missing, update_mask) { C_UPDATE, IOPF_A_MASK, IOPF_A_MASK };
FIXTURE_VARIANT_ADD(nl_missing, update_set) { C_UPDATE, IOPF_A_SET, IOPF_A_SET };
FIXTURE_VARIANT_ADD(nl_missing, update_all) { C_UPDATE, 0xffff, IOPF_A_MASK };
FIXTURE_VARIANT_ADD(nl_missing, unregister_sid) {
	C_UNREGISTER, IOPF_A_SID, IOPF_A_SID
};
FIXTURE_VARIANT_ADD(nl_missing, response_sid) { C_RESPONSE, IOPF_A_SID, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_missing, response_grpid) {
	C_RESPONSE, IOPF_A_GRPID, IOPF_A_GRPID
};
FIXTURE_VARIANT_ADD(nl_missing, response_code) {
	C_RESPONSE, IOPF_A_CODE, IOPF_A_CODE
};
FIXTURE_VARIANT_ADD(nl_missing, response_all) { C_RESPONSE, 0xffff, IOPF_A_GRPID };

FIXTURE_SETUP(nl_missing)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_missing)
{
	tb_teardown(&self->c.t);
}

TEST_F(nl_missing, rejected)
{
	const struct cmd_desc *d = &cmds[variant->cmd];
	struct tb *t = &self->c.t;
	struct iopf_nl_msg m;
	struct snap s0;
	int ret;

	snap_take(_metadata, t, &s0);
	if (variant->omit == 0xffff)
		iopf_msg_family(&m, t->nl, d->cmd, false);
	else
		build_req(&m, &self->c, d, variant->omit, 0, NULL, 0, 0, NULL);
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("%s: %d", d->name, ret);
	/* NLMSGERR_ATTR_MISS_TYPE names it, at the top level (no nest) */
	ASSERT_EQ((uint32_t)variant->miss, t->nl->ext_miss_type) {
		TH_LOG("%s: missing %u reported as %u (msg \"%s\")", d->name,
		       variant->miss, t->nl->ext_miss_type, t->nl->ext_msg);
	}
	ASSERT_EQ(0u, t->nl->ext_miss_nest);
	snap_check(_metadata, t, &s0, d->name);
	ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, self->c.dev[D_FRESH], &s0.d[0]));
	expect_good(_metadata, &self->c, d);
}

/* ------------------------------------------------------------------ */
/* Netlink: values the policy rejects, and the edges it accepts         */
/* ------------------------------------------------------------------ */

FIXTURE(nl_range) {
	struct nlctx c;
};

FIXTURE_VARIANT(nl_range) {
	int cmd;
	uint16_t attr;
	uint32_t val;
	int err;
	const char *msg;
};

#define RANGE(c, a, v)	{ c, a, v, -ERANGE, "integer out of range" }
#define MASKB(c, a, v)	{ c, a, v, -EINVAL, "reserved bit set" }

/* A's pending request has grpid 0: a GRPID cut to 16 bits would match */
FIXTURE_VARIANT_ADD(nl_range, grpid_0x10000) RANGE(C_RESPONSE, IOPF_A_GRPID, 0x10000);
FIXTURE_VARIANT_ADD(nl_range, grpid_u32_max) RANGE(C_RESPONSE, IOPF_A_GRPID, 0xffffffffu);
FIXTURE_VARIANT_ADD(nl_range, pasid_0x100000) RANGE(C_RESPONSE, IOPF_A_PASID, 0x100000);
FIXTURE_VARIANT_ADD(nl_range, pasid_u32_max) RANGE(C_RESPONSE, IOPF_A_PASID, 0xffffffffu);
FIXTURE_VARIANT_ADD(nl_range, code_3) RANGE(C_RESPONSE, IOPF_A_CODE, 3);
FIXTURE_VARIANT_ADD(nl_range, code_u32_max) RANGE(C_RESPONSE, IOPF_A_CODE, 0xffffffffu);
FIXTURE_VARIANT_ADD(nl_range, register_flags_0x20) MASKB(C_REGISTER, IOPF_A_FLAGS, 0x20);
FIXTURE_VARIANT_ADD(nl_range, register_flags_0x21) MASKB(C_REGISTER, IOPF_A_FLAGS, 0x21);
FIXTURE_VARIANT_ADD(nl_range, register_flags_bit31)
	MASKB(C_REGISTER, IOPF_A_FLAGS, 0x80000001u);
FIXTURE_VARIANT_ADD(nl_range, update_set_0x20) MASKB(C_UPDATE, IOPF_A_SET, 0x30);
FIXTURE_VARIANT_ADD(nl_range, update_set_u32_max) MASKB(C_UPDATE, IOPF_A_SET, 0xffffffffu);
/* the edges: through the policy, to the module (which finds no match) */
FIXTURE_VARIANT_ADD(nl_range, grpid_0xffff) {
	C_RESPONSE, IOPF_A_GRPID, 0xffff, -EINVAL, "no pending page request matches"
};
FIXTURE_VARIANT_ADD(nl_range, pasid_0xfffff_grpid_0) {
	/* PASID is not matched for SMMUv3: this one answers A's request */
	C_RESPONSE, IOPF_A_PASID, 0xfffff, 0, NULL
};

FIXTURE_SETUP(nl_range)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_range)
{
	tb_teardown(&self->c.t);
}

TEST_F(nl_range, policy)
{
	const struct cmd_desc *d = &cmds[variant->cmd];
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct iopf_nl_msg m;
	uint32_t offs = 0;
	struct snap s0;
	int ret;

	snap_take(_metadata, t, &s0);
	build_req(&m, c, d, 0, variant->attr, &variant->val, 4, 0, &offs);
	if (variant->attr == IOPF_A_PASID) {
		offs = (uint32_t)m.len;
		iopf_msg_put_u32(&m, IOPF_A_PASID, variant->val);
	}
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_EQ(variant->err, ret) {
		TH_LOG("%s attr %u = 0x%x: %d (%s)", d->name, variant->attr,
		       variant->val, ret, t->nl->ext_msg);
	}
	if (!variant->err) {
		struct iopf_nl_event ev;

		recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "edge");
		ASSERT_EQ(0u, ev.resume.stag);
		return;
	}
	ASSERT_STREQ(variant->msg, t->nl->ext_msg);
	if (variant->err == -ERANGE || !strcmp(variant->msg, "reserved bit set"))
		ASSERT_EQ(offs, t->nl->ext_offs) TH_LOG("offset of the attribute");
	if (!strcmp(variant->msg, "no pending page request matches")) {
		/* the module counts a rejected response; nothing else moves */
		struct iopf_nl_dev dv;

		dev_get(_metadata, t, c->dev[D_A], &dv);
		ASSERT_EQ(DS(s0.d[D_A], RESPONSE_ERRORS) + 1, DS(dv, RESPONSE_ERRORS));
		s0.d[D_A].stats.v[IOPF_STAT_A_RESPONSE_ERRORS]++;
	}
	snap_check(_metadata, t, &s0, d->name);
	expect_good(_metadata, c, d);
}

/* ------------------------------------------------------------------ */
/* Netlink: wrong sizes and flags of every attribute of every command   */
/* ------------------------------------------------------------------ */

FIXTURE(nl_attr_size) {
	struct nlctx c;
};

FIXTURE_VARIANT(nl_attr_size) {
	int cmd;
	uint16_t attr;
};

FIXTURE_VARIANT_ADD(nl_attr_size, dev_new_sid) { C_DEV_NEW, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, dev_del_sid) { C_DEV_DEL, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, dev_get_sid) { C_DEV_GET, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, register_sid) { C_REGISTER, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, register_flags) { C_REGISTER, IOPF_A_FLAGS };
FIXTURE_VARIANT_ADD(nl_attr_size, update_sid) { C_UPDATE, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, update_mask) { C_UPDATE, IOPF_A_MASK };
FIXTURE_VARIANT_ADD(nl_attr_size, update_set) { C_UPDATE, IOPF_A_SET };
FIXTURE_VARIANT_ADD(nl_attr_size, unregister_sid) { C_UNREGISTER, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, response_sid) { C_RESPONSE, IOPF_A_SID };
FIXTURE_VARIANT_ADD(nl_attr_size, response_grpid) { C_RESPONSE, IOPF_A_GRPID };
FIXTURE_VARIANT_ADD(nl_attr_size, response_code) { C_RESPONSE, IOPF_A_CODE };
FIXTURE_VARIANT_ADD(nl_attr_size, pending_dump_sid) { C_PENDING_DUMP, IOPF_A_SID };

FIXTURE_SETUP(nl_attr_size)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_attr_size)
{
	tb_teardown(&self->c.t);
}

TEST_F(nl_attr_size, rejected)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 5, 6, 8, 16 };
	const struct cmd_desc *d = &cmds[variant->cmd];
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct iopf_nl_msg m;
	uint8_t data[16];
	struct snap s0;
	uint32_t offs, v = 0;
	size_t i;
	int ret, k;

	for (k = 0; k < d->n; k++)
		if (d->a[k].type == variant->attr)
			v = attr_val(c, &d->a[k]);
	memset(data, 0, sizeof(data));
	memcpy(data, &v, 4);
	snap_take(_metadata, t, &s0);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		build_req(&m, c, d, 0, variant->attr, data, sizes[i], 0, &offs);
		ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("%s: %zu-byte u32: %d", d->name, sizes[i], ret);
		ASSERT_STREQ("invalid attribute length", t->nl->ext_msg);
		ASSERT_EQ(offs, t->nl->ext_offs);
	}
	/* the right size, flagged as a nest */
	build_req(&m, c, d, 0, variant->attr, data, 4, NLA_F_NESTED, &offs);
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("%s: u32 with NLA_F_NESTED: %d", d->name, ret);
	ASSERT_STREQ("NLA_F_NESTED not expected", t->nl->ext_msg);
	ASSERT_EQ(offs, t->nl->ext_offs);
	snap_check(_metadata, t, &s0, d->name);
	expect_good(_metadata, c, d);
}

/* ------------------------------------------------------------------ */
/* Netlink: attributes the command does not take                        */
/* ------------------------------------------------------------------ */

FIXTURE(nl_unknown_attr) {
	struct nlctx c;
};

FIXTURE_VARIANT(nl_unknown_attr) {
	int cmd;
	uint16_t unsupported;	/* inside maxattr, no policy: "Unsupported" */
};

FIXTURE_VARIANT_ADD(nl_unknown_attr, dev_new) { C_DEV_NEW, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, dev_del) { C_DEV_DEL, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, dev_get) { C_DEV_GET, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, dev_dump) { C_DEV_DUMP, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, handler_register) { C_REGISTER, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, handler_update) { C_UPDATE, IOPF_A_FLAGS };
FIXTURE_VARIANT_ADD(nl_unknown_attr, handler_unregister) { C_UNREGISTER, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, page_response) { C_RESPONSE, IOPF_A_MASK };
FIXTURE_VARIANT_ADD(nl_unknown_attr, pending_dump) { C_PENDING_DUMP, IOPF_A_PAD };
FIXTURE_VARIANT_ADD(nl_unknown_attr, stats_get) { C_STATS_GET, IOPF_A_PAD };

FIXTURE_SETUP(nl_unknown_attr)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_unknown_attr)
{
	tb_teardown(&self->c.t);
}

/* The command's highest attribute: its policy's maxattr */
static uint16_t cmd_maxattr(int cmd)
{
	switch (cmd) {
	case C_REGISTER:
		return IOPF_A_FLAGS;
	case C_UPDATE:
		return IOPF_A_SET;
	case C_RESPONSE:
		return IOPF_A_CODE;
	case C_STATS_GET:
		return IOPF_A_PAD;
	default:
		return IOPF_A_SID;
	}
}

TEST_F(nl_unknown_attr, rejected)
{
	const struct cmd_desc *d = &cmds[variant->cmd];
	uint16_t types[] = { 0, (uint16_t)(cmd_maxattr(variant->cmd) + 1),
			     IOPF_A_STATS, IOPF_A_MAX + 1, 0x3fff,
			     variant->unsupported };
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct iopf_nl_msg m;
	struct snap s0;
	size_t i;
	int ret;

	snap_take(_metadata, t, &s0);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		uint32_t offs, one = 1;
		bool unsupp = types[i] == variant->unsupported;

		build_req(&m, c, d, 0, 0, NULL, 0, 0, NULL);
		offs = (uint32_t)m.len;
		iopf_msg_put(&m, types[i], &one, 4);
		ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("%s + type %u: %d", d->name, types[i], ret);
		ASSERT_STREQ(unsupp ? "Unsupported attribute" : "Unknown attribute type",
			     t->nl->ext_msg) TH_LOG("%s + type %u", d->name, types[i]);
		ASSERT_EQ(offs, t->nl->ext_offs);
	}
	snap_check(_metadata, t, &s0, d->name);
	expect_good(_metadata, c, d);
}

/* ------------------------------------------------------------------ */
/* Netlink: commands and headers the family does not take               */
/* ------------------------------------------------------------------ */

FIXTURE(nl_bad_cmd) {
	struct nlctx c;
};

FIXTURE_VARIANT(nl_bad_cmd) {
	uint8_t cmd;
	bool dump;
};

FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_0_unspec) { 0, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_10_fault_ntf) { IOPF_CMD_FAULT_NTF, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_11_resume_ntf) { IOPF_CMD_RESUME_NTF, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_12_max_plus_1) { IOPF_CMD_MAX + 1, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_99) { 99, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_255) { 255, false };
FIXTURE_VARIANT_ADD(nl_bad_cmd, cmd_99_dump) { 99, true };
FIXTURE_VARIANT_ADD(nl_bad_cmd, dev_new_as_dump) { IOPF_CMD_DEV_NEW, true };
FIXTURE_VARIANT_ADD(nl_bad_cmd, dev_del_as_dump) { IOPF_CMD_DEV_DEL, true };
FIXTURE_VARIANT_ADD(nl_bad_cmd, response_as_dump) { IOPF_CMD_PAGE_RESPONSE, true };
FIXTURE_VARIANT_ADD(nl_bad_cmd, stats_get_as_dump) { IOPF_CMD_STATS_GET, true };
FIXTURE_VARIANT_ADD(nl_bad_cmd, pending_get_as_do) { IOPF_CMD_PENDING_GET, false };

FIXTURE_SETUP(nl_bad_cmd)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_bad_cmd)
{
	tb_teardown(&self->c.t);
}

TEST_F(nl_bad_cmd, eopnotsupp)
{
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct iopf_nl_msg m;
	struct snap s0;
	int ret;

	snap_take(_metadata, t, &s0);
	iopf_msg_family(&m, t->nl, variant->cmd, variant->dump);
	iopf_msg_put_u32(&m, IOPF_A_SID, c->dev[D_C]);
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_EQ(-EOPNOTSUPP, ret) TH_LOG("cmd %u%s: %d", variant->cmd,
					   variant->dump ? " dump" : "", ret);
	snap_check(_metadata, t, &s0, "bad command");
}

FIXTURE(nl_header) {
	struct nlctx c;
};

/* reserved/version/extra nlmsg_flags/length tricks on a good DEV_DEL of C */
FIXTURE_VARIANT(nl_header) {
	uint16_t reserved;
	int version;		/* -1: IOPF_GENL_VERSION */
	uint16_t nlflags;
	int trailing;		/* bytes of junk after the attributes */
	int attr_len;		/* nla_len of SID when set (else 8) */
	int truncate;		/* nlmsg_len: header plus this much (when set) */
	int err;
	const char *msg;
};

FIXTURE_VARIANT_ADD(nl_header, reserved_1) {
	.reserved = 1, .version = -1, .err = -EINVAL,
	.msg = "genlmsghdr.reserved field is not 0"
};
FIXTURE_VARIANT_ADD(nl_header, reserved_ffff) {
	.reserved = 0xffff, .version = -1, .err = -EINVAL,
	.msg = "genlmsghdr.reserved field is not 0"
};
FIXTURE_VARIANT_ADD(nl_header, nlmsg_flag_replace) {
	.version = -1, .nlflags = NLM_F_REPLACE, .err = -EINVAL,
	.msg = "ambiguous or reserved bits set in nlmsg_flags"
};
FIXTURE_VARIANT_ADD(nl_header, nlmsg_flag_excl) {
	.version = -1, .nlflags = NLM_F_EXCL, .err = -EINVAL,
	.msg = "ambiguous or reserved bits set in nlmsg_flags"
};
FIXTURE_VARIANT_ADD(nl_header, nlmsg_flag_append) {
	.version = -1, .nlflags = NLM_F_APPEND, .err = -EINVAL,
	.msg = "ambiguous or reserved bits set in nlmsg_flags"
};
FIXTURE_VARIANT_ADD(nl_header, nlmsg_flag_0x8000) {
	.version = -1, .nlflags = 0x8000, .err = -EINVAL,
	.msg = "ambiguous or reserved bits set in nlmsg_flags"
};
FIXTURE_VARIANT_ADD(nl_header, trailing_3_bytes) {
	.version = -1, .trailing = 3, .err = -EINVAL,
	.msg = "bytes leftover after parsing attributes"
};
FIXTURE_VARIANT_ADD(nl_header, attr_len_past_end) {
	.version = -1, .attr_len = 64, .err = -EINVAL,
	.msg = "bytes leftover after parsing attributes"
};
FIXTURE_VARIANT_ADD(nl_header, attr_len_below_header) {
	.version = -1, .attr_len = 2, .err = -EINVAL,
	.msg = "bytes leftover after parsing attributes"
};
FIXTURE_VARIANT_ADD(nl_header, genl_header_truncated) {
	.version = -1, .truncate = 2, .err = -EINVAL, .msg = ""
};
/* Accepted: the core checks neither the version nor ECHO */
FIXTURE_VARIANT_ADD(nl_header, version_0_accepted) { .version = 0, .err = 0 };
FIXTURE_VARIANT_ADD(nl_header, version_255_accepted) { .version = 255, .err = 0 };
FIXTURE_VARIANT_ADD(nl_header, nlmsg_flag_echo_accepted) {
	.version = -1, .nlflags = NLM_F_ECHO, .err = 0
};

FIXTURE_SETUP(nl_header)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_header)
{
	tb_teardown(&self->c.t);
}

TEST_F(nl_header, checked)
{
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct iopf_nl_msg m;
	struct genlmsghdr *g;
	struct nlmsghdr *h;
	struct nlattr *a;
	struct snap s0;
	uint32_t sid = c->dev[D_C];
	struct iopf_nl_dev d;
	int ret;

	snap_take(_metadata, t, &s0);
	iopf_msg_family(&m, t->nl, IOPF_CMD_DEV_DEL, false);
	h = (struct nlmsghdr *)m.buf;
	g = (struct genlmsghdr *)(m.buf + NLMSG_HDRLEN);
	g->reserved = variant->reserved;
	if (variant->version >= 0)
		g->version = (uint8_t)variant->version;
	h->nlmsg_flags |= variant->nlflags;
	a = (struct nlattr *)(m.buf + m.len);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	if (variant->attr_len)
		a->nla_len = (uint16_t)variant->attr_len;
	if (variant->trailing) {
		memset(m.buf + m.len, 0x5a, (size_t)variant->trailing);
		m.len += (size_t)variant->trailing;
	}
	if (variant->truncate)
		m.len = NLMSG_HDRLEN + (size_t)variant->truncate;
	ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
	ASSERT_EQ(variant->err, ret) TH_LOG("%d (%s)", ret, t->nl->ext_msg);
	if (variant->err) {
		ASSERT_STREQ(variant->msg, t->nl->ext_msg);
		snap_check(_metadata, t, &s0, "bad header");
	} else {
		ASSERT_EQ(-ENODEV, iopf_dev_get(t->nl, sid, &d));
	}
}

/* ------------------------------------------------------------------ */
/* Netlink: requests aimed at what does not exist                       */
/* ------------------------------------------------------------------ */

FIXTURE(nl_target) {
	struct nlctx c;
};

FIXTURE_SETUP(nl_target)
{
	nlctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(nl_target)
{
	tb_teardown(&self->c.t);
}

/* Every command naming a StreamID without a device: -ENODEV, extack */
TEST_F(nl_target, unknown_sid_every_command)
{
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	struct snap s0;
	int i, n = 0;

	snap_take(_metadata, t, &s0);
	for (i = 0; i < C_NCMDS; i++) {
		const struct cmd_desc *d = &cmds[i];
		struct iopf_nl_msg m;
		uint32_t ghost = 0x00fe0000u | (uint32_t)(getpid() & 0xffff);
		uint32_t offs = 0;
		int k, ret;

		if (i == C_DEV_NEW || !d->n)
			continue;
		iopf_msg_family(&m, t->nl, d->cmd, d->dump);
		for (k = 0; k < d->n; k++) {
			if (d->a[k].type == IOPF_A_SID) {
				offs = (uint32_t)m.len;
				iopf_msg_put_u32(&m, IOPF_A_SID, ghost);
			} else {
				iopf_msg_put_u32(&m, d->a[k].type, attr_val(c, &d->a[k]));
			}
		}
		ret = iopf_nl_transact(t->nl, &m, NULL, NULL);
		if (i == C_PENDING_DUMP) {
			/* a filter that matches nothing: an empty dump */
			ASSERT_EQ(0, ret);
			continue;
		}
		ASSERT_EQ(-ENODEV, ret) TH_LOG("%s: %d", d->name, ret);
		ASSERT_STREQ("no device with this StreamID", t->nl->ext_msg);
		/* DEV_DEL says so without pointing at the attribute */
		ASSERT_EQ(i == C_DEV_DEL ? 0u : offs, t->nl->ext_offs) TH_LOG("%s", d->name);
		n++;
	}
	ASSERT_EQ(6, n);
	snap_check(_metadata, t, &s0, "unknown StreamID");
}

/* Responses aimed at nothing: each error, and what the module counts */
TEST_F(nl_target, response_targets)
{
	struct nlctx *c = &self->c;
	struct tb *t = &c->t;
	uint32_t a = c->dev[D_A], b = c->dev[D_B], cc = c->dev[D_C];
	uint32_t f = tb_dev_reg(_metadata, t, IOPF_REPORT_NESTED |
					      IOPF_REPORT_NESTED_L2_CONCERNED);
	struct iopf_nl_event ev;
	struct iopf_nl_dev d0, d1;
	uint64_t evt[4];

	/* a grpid nobody asked for: counted, the pending one stays */
	dev_get(_metadata, t, a, &d0);
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, a, 1, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no pending page request matches", t->nl->ext_msg);
	dev_get(_metadata, t, a, &d1);
	ASSERT_EQ(DS(d0, RESPONSE_ERRORS) + 1, DS(d1, RESPONSE_ERRORS));
	ASSERT_EQ(1u, DS(d1, PENDING));

	/* answered once; the second answer finds nothing pending */
	ASSERT_EQ(0, iopf_page_response(t->nl, a, 0, IOPF_RESP_SUCCESS, NULL));
	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "answer");
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, a, 0, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no page request is pending", t->nl->ext_msg);
	dev_get(_metadata, t, a, &d0);
	ASSERT_EQ(DS(d1, RESPONSE_ERRORS) + 1, DS(d0, RESPONSE_ERRORS));
	ASSERT_EQ(1u, DS(d0, RESPONSES));

	/* without a handler: -ENODEV, and not counted as a response error */
	ASSERT_EQ(-ENODEV, iopf_page_response(t->nl, b, 0, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no fault handler registered", t->nl->ext_msg);
	dev_get(_metadata, t, b, &d0);
	ASSERT_EQ(0u, DS(d0, RESPONSE_ERRORS));

	/* the module already aborted a filtered request: nothing to answer */
	stall_evt(f, 7, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "auto abort");
	ASSERT_EQ((uint32_t)IOPF_ORIGIN_REPORT_FAILED, ev.resume.origin);
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, f, 7, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no page request is pending", t->nl->ext_msg);

	/* a request flushed by DEV_DEL, the device created again */
	stall_evt(cc, 9, 0x1000, evt);
	inject(_metadata, evt);
	recv_ev(_metadata, t, &ev, IOPF_CMD_FAULT_NTF, "stall");
	ASSERT_EQ(0, iopf_dev_del(t->nl, cc));
	recv_ev(_metadata, t, &ev, IOPF_CMD_RESUME_NTF, "flush");
	ASSERT_EQ(-ENODEV, iopf_page_response(t->nl, cc, 9, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no device with this StreamID", t->nl->ext_msg);
	ASSERT_EQ(0, iopf_dev_new(t->nl, cc));
	ASSERT_EQ(-ENODEV, iopf_page_response(t->nl, cc, 9, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no fault handler registered", t->nl->ext_msg);
	ASSERT_EQ(0, iopf_handler_register(t->nl, cc, IOPF_REPORT_FLAT));
	ASSERT_EQ(-EINVAL, iopf_page_response(t->nl, cc, 9, IOPF_RESP_SUCCESS, NULL));
	ASSERT_STREQ("no page request is pending", t->nl->ext_msg);
	expect_quiet(_metadata, t, "responses");
}

/* ------------------------------------------------------------------ */
/* Dumps interrupted by changes between recv() calls                    */
/* ------------------------------------------------------------------ */

#define BIG_N	600	/* devices: a DEV_GET dump takes four or more datagrams */

struct big {
	struct tb t;
	uint32_t base;
	uint8_t made[1024];
};

static uint32_t big_sid(struct big *b, int i)
{
	return b->base + (uint32_t)i;
}

static void big_setup(struct __test_metadata *_metadata, struct big *b)
{
	tb_setup(_metadata, &b->t);
	b->base = 0x02000000u | ((uint32_t)(getpid() & 0xffff) << 10);
	memset(b->made, 0, sizeof(b->made));
}

static void big_new(struct __test_metadata *_metadata, struct big *b, int i)
{
	int ret = iopf_dev_new(b->t.nl, big_sid(b, i));

	ASSERT_EQ(0, ret) TH_LOG("DEV_NEW %d: %s", i, strerror(-ret));
	b->made[i] = 1;
}

static void big_del(struct __test_metadata *_metadata, struct big *b, int i)
{
	ASSERT_EQ(0, iopf_dev_del(b->t.nl, big_sid(b, i)));
	b->made[i] = 0;
}

static void big_teardown(struct big *b)
{
	size_t i;

	for (i = 0; i < sizeof(b->made) && b->t.nl; i++)
		if (b->made[i])
			iopf_dev_del(b->t.nl, big_sid(b, (int)i));
	tb_teardown(&b->t);
}

/* What a dump of our range returned: StreamID or seq, in order */
struct seen {
	struct big *b;
	int n, msgs;
	uint32_t sid[4096];
	uint64_t seq[4096];
	int bad;
};

static int seen_dev_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		       size_t len, void *arg)
{
	struct seen *s = arg;
	struct iopf_nl_dev d;

	(void)nl;
	s->msgs++;
	if (cmd != IOPF_CMD_DEV_GET)
		s->bad++;
	iopf_nl_parse_dev(attrs, len, &d);
	if (d.sid < s->b->base || d.sid >= s->b->base + 1024)
		return 0;	/* another test's device */
	/* the per-device balance holds in every dumped message */
	if (d.stats.v[IOPF_STAT_A_INJECTED] !=
	    d.stats.v[IOPF_STAT_A_REPORTED] + d.stats.v[IOPF_STAT_A_FILTERED_L1] +
	    d.stats.v[IOPF_STAT_A_FILTERED_L2] +
	    d.stats.v[IOPF_STAT_A_FILTERED_UNRECOV] +
	    d.stats.v[IOPF_STAT_A_NO_HANDLER] + d.stats.v[IOPF_STAT_A_REPORT_FAILED])
		s->bad++;
	if (s->n < 4096)
		s->sid[s->n++] = d.sid;
	return 0;
}

static int seen_pending_cb(const struct iopf_nl *nl, uint8_t cmd,
			   const void *attrs, size_t len, void *arg)
{
	struct seen *s = arg;
	const struct nlattr *a = attrs;
	struct iopf_nl_fault f;

	(void)nl;
	s->msgs++;
	if (cmd != IOPF_CMD_PENDING_GET || len < NLA_HDRLEN ||
	    (a->nla_type & NLA_TYPE_MASK) != IOPF_A_FAULT) {
		s->bad++;
		return 0;
	}
	iopf_nl_parse_fault((const uint8_t *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN, &f);
	if (f.sid < s->b->base || f.sid >= s->b->base + 1024)
		return 0;
	if (s->n < 4096) {
		s->sid[s->n] = f.sid;
		s->seq[s->n++] = f.seq;
	}
	return 0;
}

/*
 * Read one datagram, let change() alter the state, read the rest. Returns
 * the datagrams read; *flags collects NLM_F_DUMP_INTR.
 */
static int dump_with_change(struct __test_metadata *_metadata, struct big *b,
			    uint8_t cmd, iopf_nl_cb cb, struct seen *s,
			    void (*change)(struct __test_metadata *, struct big *),
			    uint16_t *flags)
{
	struct iopf_nl *nl = iopf_nl_open();
	struct iopf_nl_msg m;
	int r, steps = 0;

	ASSERT_NE(NULL, nl);
	memset(s, 0, sizeof(*s));
	s->b = b;
	*flags = 0;
	iopf_msg_family(&m, nl, cmd, true);
	ASSERT_EQ(0, iopf_nl_dump_start(nl, &m));
	while ((r = iopf_nl_dump_step(nl, cb, s, flags)) == 1) {
		if (++steps == 1 && change)
			change(_metadata, b);
	}
	ASSERT_EQ(0, r) TH_LOG("dump: %s", strerror(-r));
	iopf_nl_close(nl);
	ASSERT_EQ(0, s->bad);
	return steps + 1;
}

FIXTURE(nl_dump) {
	struct big b;
};

FIXTURE_SETUP(nl_dump)
{
	big_setup(_metadata, &self->b);
}

FIXTURE_TEARDOWN(nl_dump)
{
	big_teardown(&self->b);
}

/*
 * After the first datagram: the last 100 devices (not dumped yet: the
 * dump is at most two datagrams ahead) and 50 already dumped go away, 20
 * new ones appear past the end. The kernel flags the dump
 * NLM_F_DUMP_INTR; what it returned is still in order, without
 * duplicates, with every device that lived throughout.
 */
static void change_devices(struct __test_metadata *_metadata, struct big *b)
{
	int i;

	for (i = BIG_N - 100; i < BIG_N; i++)
		big_del(_metadata, b, i);
	for (i = 0; i < 50; i++)
		big_del(_metadata, b, i);
	for (i = 0; i < 20; i++)
		big_new(_metadata, b, BIG_N + i);
}

TEST_F_TIMEOUT(nl_dump, dev_dump_interrupted_by_removal, 120)
{
	struct big *b = &self->b;
	static struct seen s;
	uint16_t flags;
	int i, k, dgrams;

	for (i = 0; i < BIG_N; i++)
		big_new(_metadata, b, i);
	dgrams = dump_with_change(_metadata, b, IOPF_CMD_DEV_GET, seen_dev_cb, &s,
				  change_devices, &flags);
	TH_LOG("%d datagrams, %d messages, %d of ours", dgrams, s.msgs, s.n);
	ASSERT_LE(4, dgrams) TH_LOG("the dump should span several datagrams");
	ASSERT_TRUE(flags & NLM_F_DUMP_INTR) TH_LOG("no NLM_F_DUMP_INTR");
	for (k = 1; k < s.n; k++)
		ASSERT_LT(s.sid[k - 1], s.sid[k]) TH_LOG("order/duplicate at %d", k);
	/* every device that lived throughout, once */
	for (i = 50, k = 0; i < BIG_N - 100; i++) {
		while (k < s.n && s.sid[k] < big_sid(b, i))
			k++;
		ASSERT_TRUE(k < s.n && s.sid[k] == big_sid(b, i)) {
			TH_LOG("device %d missing from the dump", i);
		}
	}
	/* those removed before the dump reached them are not there */
	for (k = 0; k < s.n; k++)
		ASSERT_TRUE(s.sid[k] < big_sid(b, BIG_N - 100) ||
			    s.sid[k] >= big_sid(b, BIG_N));
	/* an uninterrupted dump afterwards: exactly the devices there are */
	dump_with_change(_metadata, b, IOPF_CMD_DEV_GET, seen_dev_cb, &s, NULL,
			 &flags);
	ASSERT_FALSE(flags & NLM_F_DUMP_INTR);
	ASSERT_EQ(BIG_N - 150 + 20, s.n);
}

/* 300 devices with two page requests each: several datagrams of PENDING_GET */
#define PEND_DEVS	300

static void pend_fill(struct __test_metadata *_metadata, struct big *b,
		      int ndev, int per_dev)
{
	static uint64_t evt[1024][4];
	int i, k, n = 0;

	for (i = 0; i < ndev; i++) {
		big_new(_metadata, b, i);
		ASSERT_EQ(0, iopf_handler_register(b->t.nl, big_sid(b, i),
						   IOPF_REPORT_FLAT));
	}
	for (i = 0; i < ndev; i++)
		for (k = 0; k < per_dev; k++) {
			stall_evt(big_sid(b, i), (uint32_t)k, 0x1000u * (uint32_t)k, evt[n++]);
			if (n == 1024) {
				inject_many(_metadata, (const uint64_t (*)[4])evt, (size_t)n);
				n = 0;
			}
		}
	if (n)
		inject_many(_metadata, (const uint64_t (*)[4])evt, (size_t)n);
	iopf_nl_drain(b->t.lis);
}

/* What a dump returned is ordered by (StreamID, seq), without duplicates */
static void check_pending_order(struct __test_metadata *_metadata,
				const struct seen *s)
{
	int k;

	for (k = 1; k < s->n; k++) {
		ASSERT_TRUE(s->sid[k - 1] < s->sid[k] ||
			    (s->sid[k - 1] == s->sid[k] && s->seq[k - 1] < s->seq[k])) {
			TH_LOG("entry %d: sid 0x%x seq %llu after sid 0x%x seq %llu", k,
			       s->sid[k], (unsigned long long)s->seq[k], s->sid[k - 1],
			       (unsigned long long)s->seq[k - 1]);
		}
	}
}

static void change_pending_devices(struct __test_metadata *_metadata,
				   struct big *b)
{
	int i;

	for (i = PEND_DEVS - 60; i < PEND_DEVS; i++)
		big_del(_metadata, b, i);	/* flushed: answered FAILURE */
	for (i = 0; i < 20; i++)
		big_del(_metadata, b, i);
}

/*
 * PENDING_GET does not flag NLM_F_DUMP_INTR; removing devices between
 * datagrams must still give a consistent result: no duplicate, every
 * request of a device that lived throughout, none of a device removed
 * before the dump reached it.
 */
TEST_F_TIMEOUT(nl_dump, pending_dump_interrupted_by_removal, 120)
{
	struct big *b = &self->b;
	static struct seen s;
	uint16_t flags;
	int i, k, dgrams;

	pend_fill(_metadata, b, PEND_DEVS, 2);
	dgrams = dump_with_change(_metadata, b, IOPF_CMD_PENDING_GET,
				  seen_pending_cb, &s, change_pending_devices, &flags);
	TH_LOG("%d datagrams, %d messages, %d of ours%s", dgrams, s.msgs, s.n,
	       flags & NLM_F_DUMP_INTR ? ", NLM_F_DUMP_INTR" : "");
	ASSERT_LE(4, dgrams);
	check_pending_order(_metadata, &s);
	for (i = 20, k = 0; i < PEND_DEVS - 60; i++) {
		int got = 0;

		while (k < s.n && s.sid[k] < big_sid(b, i))
			k++;
		while (k < s.n && s.sid[k] == big_sid(b, i)) {
			got++;
			k++;
		}
		ASSERT_EQ(2, got) TH_LOG("device %d: %d of 2 requests", i, got);
	}
	for (k = 0; k < s.n; k++)
		ASSERT_LT(s.sid[k], big_sid(b, PEND_DEVS - 60));
	iopf_nl_drain(b->t.lis);
}

static void answer_first(struct __test_metadata *_metadata, struct big *b)
{
	/* already dumped (the first datagram starts with it) */
	ASSERT_EQ(0, iopf_page_response(b->t.nl, big_sid(b, 0), 0,
					 IOPF_RESP_SUCCESS, NULL));
}

/*
 * One device, 600 requests; after the first datagram the oldest (already
 * dumped) is answered. Either the dump says it was interrupted, or it
 * holds every request still pending.
 */
FIXTURE(pending_resume) {
	struct big b;
};

FIXTURE_VARIANT(pending_resume) {
	int unused;
};

/* the one scenario so far; others can join as variants */
FIXTURE_VARIANT_ADD(pending_resume, answer_between_datagrams) { 0 };

FIXTURE_SETUP(pending_resume)
{
	big_setup(_metadata, &self->b);
}

FIXTURE_TEARDOWN(pending_resume)
{
	big_teardown(&self->b);
}

TEST_F_TIMEOUT(pending_resume, consistent, 120)
{
	struct big *b = &self->b;
	static struct seen s;
	uint16_t flags;
	bool have[600];
	int k, dgrams, missing = 0;

	pend_fill(_metadata, b, 1, 600);
	dgrams = dump_with_change(_metadata, b, IOPF_CMD_PENDING_GET,
				  seen_pending_cb, &s, answer_first, &flags);
	TH_LOG("%d datagrams, %d entries%s", dgrams, s.n,
	       flags & NLM_F_DUMP_INTR ? ", NLM_F_DUMP_INTR" : "");
	ASSERT_LE(3, dgrams);
	check_pending_order(_metadata, &s);
	memset(have, 0, sizeof(have));
	for (k = 0; k < s.n; k++) {
		uint64_t i = s.seq[k] - s.seq[0];

		ASSERT_LT(i, 600u);
		ASSERT_FALSE(have[i]) TH_LOG("request %llu twice", (unsigned long long)i);
		have[i] = true;
	}
	for (k = 1; k < 600; k++)
		if (!have[k]) {
			if (!missing)
				TH_LOG("request %d (still pending) not in the dump", k);
			missing++;
		}
	ASSERT_TRUE(missing == 0 || (flags & NLM_F_DUMP_INTR)) {
		TH_LOG("%d pending request(s) silently missing from PENDING_GET",
		       missing);
	}
	iopf_nl_drain(b->t.lis);
}

/*
 * Known module bug (reported, patch in the report): PENDING_GET resumes
 * a device by counting entries already sent, so an answer to one of them
 * between datagrams makes it skip a request nobody has answered, and it
 * never sets NLM_F_DUMP_INTR.
 */

/* ------------------------------------------------------------------ */
/* Privileges                                                           */
/* ------------------------------------------------------------------ */

/*
 * What an unprivileged process may do. The child drops to uid/gid 65534
 * (no supplementary groups, no capabilities left: checked with capget)
 * or stays uid 0 without CAP_NET_ADMIN, runs each operation and writes
 * its result to shared memory; the parent asserts.
 *
 * Joining "faults": the module sets GENL_MCAST_CAP_NET_ADMIN when the
 * kernel defines it. Both kernels the suite boots define it (6.12, and
 * Debian's 6.1.x, which carries the backport of "genetlink: add
 * CAP_NET_ADMIN test for multicast bind"), so both refuse with -EPERM.
 * A kernel without it would let anyone listen; the test says so.
 */
enum priv_op {
	P_DEV_NEW, P_DEV_DEL, P_REGISTER, P_UPDATE, P_UNREGISTER, P_RESPONSE,
	P_DEV_NEW_BAD_ATTR, P_DEV_DEL_GHOST, P_UNKNOWN_CMD,
	P_DEV_GET, P_DEV_DUMP, P_PENDING_ALL, P_PENDING_A, P_STATS,
	P_SUBSCRIBE, P_BIND_GROUPS, P_ROOT_SOCK_DEV_NEW, P_ROOT_SOCK_SUBSCRIBE,
	P_DBG_INJECT, P_DBG_INJECT_RAW, P_DBG_STATS, P_DBG_DEV_PENDING,
	P_DBG_FAIL_TIMES, P_DBG_STAT_DIR, P_CAPS, P_NOPS
};

static const char *const priv_names[P_NOPS] = {
	"DEV_NEW", "DEV_DEL", "HANDLER_REGISTER", "HANDLER_UPDATE",
	"HANDLER_UNREGISTER", "PAGE_RESPONSE", "DEV_NEW with an unknown attribute",
	"DEV_DEL of an unknown StreamID", "command 99", "DEV_GET", "DEV_GET dump",
	"PENDING_GET dump", "PENDING_GET dump of A", "STATS_GET",
	"join faults (NETLINK_ADD_MEMBERSHIP)", "join faults (bind nl_groups)",
	"DEV_NEW on a socket opened as root", "join faults on a socket opened as root",
	"open inject", "open inject_raw", "open stats", "open devices/A/pending",
	"open fail/report_alloc/times", "stat iopf_testbed/", "capabilities left",
};

struct priv_res {
	int ret[P_NOPS];
	uint32_t a_flags, a_pending;
	int ndev, npend;
	uint64_t devices;
};

enum priv_mode { AS_NOBODY, AS_ROOT_NO_NET_ADMIN };

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capget, &h, d);
}

static int drop(enum priv_mode mode)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (mode == AS_NOBODY) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			return -errno;
	} else {
		if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ||
		    caps_get(d))
			return -errno;
		d[0].effective &= ~(1u << CAP_NET_ADMIN);
		d[0].permitted &= ~(1u << CAP_NET_ADMIN);
		d[0].inheritable &= ~(1u << CAP_NET_ADMIN);
		if (syscall(SYS_capset, &h, d))
			return -errno;
	}
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}

static int open_dbg(const char *rel, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", IOPF_DBGFS_DIR, rel);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int pending_n(struct iopf_nl *nl, const uint32_t *sid,
		     struct iopf_nl_fault *out, int max)
{
	return iopf_pending_dump(nl, sid, out, max);
}

static void priv_child(struct nlctx *c, enum priv_mode mode, struct priv_res *r)
{
	static struct iopf_nl_dev devs[512];
	static struct iopf_nl_fault pend[512];
	struct __user_cap_data_struct cd[2];
	struct iopf_nl *root_nl = iopf_nl_open();	/* before dropping */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iopf_nl_stats st;
	struct iopf_nl_msg m;
	struct iopf_nl_dev d;
	struct iopf_nl *nl;
	char rel[128];
	int i, fd, ret;

	for (i = 0; i < P_NOPS; i++)
		r->ret[i] = -9999;
	ret = drop(mode);
	if (ret || !root_nl)
		_exit(100);
	nl = iopf_nl_open();
	if (!nl)
		_exit(101);

	r->ret[P_DEV_NEW] = iopf_dev_new(nl, c->dev[D_FRESH]);
	r->ret[P_DEV_DEL] = iopf_dev_del(nl, c->dev[D_A]);
	r->ret[P_REGISTER] = iopf_handler_register(nl, c->dev[D_B], IOPF_REPORT_FLAT);
	r->ret[P_UPDATE] = iopf_handler_update(nl, c->dev[D_C], ~0u, IOPF_REPORT_UNRECOV);
	r->ret[P_UNREGISTER] = iopf_handler_unregister(nl, c->dev[D_C]);
	r->ret[P_RESPONSE] = iopf_page_response(nl, c->dev[D_A], 0, IOPF_RESP_SUCCESS, NULL);
	iopf_msg_family(&m, nl, IOPF_CMD_DEV_NEW, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, c->dev[D_FRESH]);
	iopf_msg_put_u32(&m, IOPF_A_MAX + 1, 1);
	r->ret[P_DEV_NEW_BAD_ATTR] = iopf_nl_transact(nl, &m, NULL, NULL);
	r->ret[P_DEV_DEL_GHOST] = iopf_dev_del(nl, 0x00fd0000u | (uint32_t)(getpid() & 0xffff));
	iopf_msg_family(&m, nl, 99, false);
	r->ret[P_UNKNOWN_CMD] = iopf_nl_transact(nl, &m, NULL, NULL);

	r->ret[P_DEV_GET] = iopf_dev_get(nl, c->dev[D_A], &d);
	r->a_flags = d.flags;
	r->a_pending = (uint32_t)d.stats.v[IOPF_STAT_A_PENDING];
	r->ndev = iopf_dev_dump(nl, devs, 512);
	r->ret[P_DEV_DUMP] = r->ndev < 0 ? r->ndev : 0;
	for (i = 0; i < r->ndev && i < 512; i++)
		if (devs[i].sid == c->dev[D_A] || devs[i].sid == c->dev[D_B] ||
		    devs[i].sid == c->dev[D_C])
			r->ret[P_DEV_DUMP]++;
	r->npend = pending_n(nl, NULL, pend, 512);
	r->ret[P_PENDING_ALL] = r->npend < 0 ? r->npend : 0;
	r->ret[P_PENDING_A] = pending_n(nl, &c->dev[D_A], pend, 512);
	if (r->ret[P_PENDING_A] == 1 && pend[0].grpid != 0)
		r->ret[P_PENDING_A] = -EPROTO;
	r->ret[P_STATS] = iopf_stats_get(nl, &st);
	r->devices = st.v[IOPF_STAT_A_DEVICES];

	r->ret[P_SUBSCRIBE] = iopf_nl_subscribe(nl);
	if (nl->mcgrp >= 1 && nl->mcgrp <= 32) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		sa.nl_groups = 1u << (nl->mcgrp - 1);
		r->ret[P_BIND_GROUPS] = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		close(fd);
	} else {
		r->ret[P_BIND_GROUPS] = 1;	/* the group is beyond bind()'s 32 */
	}
	r->ret[P_ROOT_SOCK_DEV_NEW] = iopf_dev_new(root_nl, c->dev[D_FRESH]);
	r->ret[P_ROOT_SOCK_SUBSCRIBE] = iopf_nl_subscribe(root_nl);

	r->ret[P_DBG_INJECT] = open_dbg("inject", O_WRONLY);
	r->ret[P_DBG_INJECT_RAW] = open_dbg("inject_raw", O_WRONLY);
	r->ret[P_DBG_STATS] = open_dbg("stats", O_RDONLY);
	snprintf(rel, sizeof(rel), "devices/0x%x/pending", c->dev[D_A]);
	r->ret[P_DBG_DEV_PENDING] = open_dbg(rel, O_RDONLY);
	r->ret[P_DBG_FAIL_TIMES] = open_dbg("fail/report_alloc/times", O_RDWR);
	{
		struct stat sb;

		r->ret[P_DBG_STAT_DIR] = stat(IOPF_DBGFS_DIR "/inject", &sb) ? -errno : 0;
	}
	r->ret[P_CAPS] = caps_get(cd) ? -errno :
			 (int)(cd[0].effective | cd[0].permitted | cd[1].effective |
			       cd[1].permitted) != 0;
	if (mode == AS_ROOT_NO_NET_ADMIN)
		r->ret[P_CAPS] = !!(cd[0].effective & (1u << CAP_NET_ADMIN));
	iopf_nl_close(nl);
	iopf_nl_close(root_nl);
	_exit(0);
}

static void run_priv(struct __test_metadata *_metadata, struct nlctx *c,
		     enum priv_mode mode, struct priv_res *r)
{
	int status = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		priv_child(c, mode, r);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(100, WEXITSTATUS(status)) TH_LOG("cannot drop privileges");
	ASSERT_NE(101, WEXITSTATUS(status)) TH_LOG("cannot resolve the family");
	ASSERT_EQ(0, WEXITSTATUS(status));
}

FIXTURE(priv) {
	struct nlctx c;
	struct priv_res *r;
	mode_t dbg_mode;
	bool chmodded;
};

FIXTURE_SETUP(priv)
{
	struct stat sb;

	self->r = MAP_FAILED;
	self->chmodded = false;
	nlctx_setup(_metadata, &self->c);
	if (_metadata->exit_code)
		return;
	self->r = mmap(NULL, sizeof(*self->r), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	ASSERT_EQ(0, stat(IOPF_DBGFS_ROOT, &sb));
	self->dbg_mode = sb.st_mode & 07777;
}

FIXTURE_TEARDOWN(priv)
{
	if (self->chmodded)
		chmod(IOPF_DBGFS_ROOT, self->dbg_mode);
	if (self->r != MAP_FAILED)
		munmap(self->r, sizeof(*self->r));
	tb_teardown(&self->c.t);
}

#define EXPECT_OP(r, op, want) EXPECT_EQ(want, (r)->ret[op]) {			\
		TH_LOG("%s: %d (%s), expected %d", priv_names[op], (r)->ret[op],	\
		       (r)->ret[op] < 0 ? strerror(-(r)->ret[op]) : "", want);	\
	}

TEST_F(priv, nobody)
{
	struct nlctx *c = &self->c;
	struct priv_res *r = self->r;
	struct iopf_nl_stats st;
	struct snap s0;
	int op;

	snap_take(_metadata, &c->t, &s0);
	run_priv(_metadata, c, AS_NOBODY, r);
	EXPECT_OP(r, P_CAPS, 0);
	/* every state-changing command: -EPERM, before validation or lookup */
	for (op = P_DEV_NEW; op <= P_DEV_DEL_GHOST; op++)
		EXPECT_OP(r, op, -EPERM);
	/* an unknown command is unknown before anything else */
	EXPECT_OP(r, P_UNKNOWN_CMD, -EOPNOTSUPP);
	/* the same socket, opened by root: the sender's credentials count */
	EXPECT_OP(r, P_ROOT_SOCK_DEV_NEW, -EPERM);
	/* read-only commands work, and show what root sees */
	EXPECT_OP(r, P_DEV_GET, 0);
	EXPECT_EQ(IOPF_REPORT_FLAT, r->a_flags);
	EXPECT_EQ(1u, r->a_pending);
	EXPECT_OP(r, P_DEV_DUMP, 3);
	/* pending requests carry fault contents: admins only, as "faults" */
	EXPECT_OP(r, P_PENDING_ALL, -EPERM);
	EXPECT_OP(r, P_PENDING_A, -EPERM);
	EXPECT_OP(r, P_STATS, 0);
	ASSERT_EQ(0, iopf_stats_get(c->t.nl, &st));
	EXPECT_EQ(GS(st, DEVICES), r->devices);
	/* faults reveal what devices touch: no listening (see above) */
	EXPECT_OP(r, P_SUBSCRIBE, -EPERM);
	EXPECT_OP(r, P_ROOT_SOCK_SUBSCRIBE, -EPERM);
	if (r->ret[P_BIND_GROUPS] != 1)
		EXPECT_OP(r, P_BIND_GROUPS, -EPERM);
	/* debugfs is mounted 0700: nothing under it is reachable */
	for (op = P_DBG_INJECT; op <= P_DBG_STAT_DIR; op++)
		EXPECT_OP(r, op, -EACCES);
	snap_check(_metadata, &c->t, &s0, "as nobody");
}

/* uid 0 without CAP_NET_ADMIN: netlink refuses; debugfs goes by uid */
TEST_F(priv, root_without_net_admin)
{
	struct nlctx *c = &self->c;
	struct priv_res *r = self->r;
	struct snap s0;
	int op;

	snap_take(_metadata, &c->t, &s0);
	run_priv(_metadata, c, AS_ROOT_NO_NET_ADMIN, r);
	EXPECT_OP(r, P_CAPS, 0);
	for (op = P_DEV_NEW; op <= P_DEV_DEL_GHOST; op++)
		EXPECT_OP(r, op, -EPERM);
	EXPECT_OP(r, P_ROOT_SOCK_DEV_NEW, -EPERM);
	EXPECT_OP(r, P_DEV_GET, 0);
	EXPECT_OP(r, P_DEV_DUMP, 3);
	EXPECT_OP(r, P_PENDING_ALL, -EPERM);
	EXPECT_OP(r, P_PENDING_A, -EPERM);
	EXPECT_OP(r, P_STATS, 0);
	EXPECT_OP(r, P_SUBSCRIBE, -EPERM);
	EXPECT_OP(r, P_ROOT_SOCK_SUBSCRIBE, -EPERM);
	/* the files are root's (0200/0400/0600): the owner may open them */
	for (op = P_DBG_INJECT; op <= P_DBG_STAT_DIR; op++)
		EXPECT_OP(r, op, 0);
	snap_check(_metadata, &c->t, &s0, "as root without CAP_NET_ADMIN");
}

/*
 * Even with the mount opened up (0755), the files themselves keep nobody
 * out: each is root's with a mode for its owner only.
 */
TEST_F(priv, nobody_debugfs_files_with_open_mount)
{
	struct nlctx *c = &self->c;
	struct priv_res *r = self->r;
	struct snap s0;
	int op;

	ASSERT_EQ(0, chmod(IOPF_DBGFS_ROOT, 0755));
	self->chmodded = true;
	snap_take(_metadata, &c->t, &s0);
	run_priv(_metadata, c, AS_NOBODY, r);
	EXPECT_OP(r, P_DBG_STAT_DIR, 0);	/* reachable now */
	for (op = P_DBG_INJECT; op <= P_DBG_FAIL_TIMES; op++)
		EXPECT_OP(r, op, -EACCES);
	ASSERT_EQ(0, chmod(IOPF_DBGFS_ROOT, self->dbg_mode));
	self->chmodded = false;
	snap_check(_metadata, &c->t, &s0, "open mount");
}

/* The modes and owners behind the two tests above */
TEST_F(priv, debugfs_modes)
{
	struct nlctx *c = &self->c;
	static const struct { const char *rel; mode_t mode; } files[] = {
		{ "inject", 0200 }, { "inject_raw", 0200 }, { "stats", 0400 },
		{ "devices/A/flags", 0400 }, { "devices/A/stats", 0400 },
		{ "devices/A/pending", 0400 }, { "devices/A/last_resume", 0400 },
		{ "fail/report_alloc/probability", 0600 },
		{ "fail/report_alloc/interval", 0600 },
		{ "fail/report_alloc/times", 0600 }, { "fail/report_alloc/seed", 0600 },
		{ "fail/report_alloc/failed", 0400 },
		{ "fail/notify_send/times", 0600 }, { "fail/notify_send/failed", 0400 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char path[256], rel[128];
		struct stat sb;
		const char *a = strstr(files[i].rel, "/A/");

		if (a)
			snprintf(rel, sizeof(rel), "devices/0x%x%s", c->dev[D_A], a + 2);
		else
			snprintf(rel, sizeof(rel), "%s", files[i].rel);
		snprintf(path, sizeof(path), "%s/%s", IOPF_DBGFS_DIR, rel);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", rel, strerror(errno));
		EXPECT_EQ(files[i].mode, sb.st_mode & 07777) TH_LOG("%s: %o", rel,
								   sb.st_mode & 07777);
		EXPECT_EQ(0u, sb.st_uid);
		EXPECT_EQ(0u, sb.st_gid);
	}
}

TEST_HARNESS_MAIN
