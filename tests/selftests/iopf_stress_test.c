// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_stress_test: concurrency stress for iopf_testbed, bounded in time
 * (IOPF_STRESS_SECONDS, default 10) and run in the guest by suite.sh.
 *
 * stress.mixed: at once
 *   - 3 injector threads writing batches of records (text and binary) at
 *     stable devices, churned devices, "wild" devices, StreamIDs without a
 *     device and unhandled event IDs;
 *   - a listener thread reading FAULT_NTF/RESUME_NTF, checking SEQ, and
 *     handing each page request to a responder thread (PAGE_RESPONSE);
 *   - an updater thread changing handler flags (HANDLER_UPDATE) and
 *     unregistering/registering a handler;
 *   - a churn thread deleting and re-creating devices;
 *   - a dumper thread running DEV_GET and PENDING_GET dumps, STATS_GET and
 *     reading debugfs files.
 * Accounting: every record written is counted by the injectors. A churned
 * device is retired first (injectors stop aiming at it, under a lock only
 * held around each write), its counters read, then deleted: its injected
 * count must equal what was aimed at it. Wild devices are created and
 * deleted with no coordination at all (an injection races the removal):
 * their share is bounded from both sides. Afterwards, per device
 *   injected = reported + filtered_l1 + filtered_l2 + filtered_unrecov +
 *              no_handler + report_failed
 * (also in every DEV_GET and every dumped message during the run), and
 * globally records = unhandled_event + unknown_sid + the injected of every
 * device that existed. suite.sh's dmesg_clean then looks for BUG, WARNING,
 * Oops, "blocked for more than" and lockdep splats.
 *
 * stress.unload_reload: the module unloaded with listeners subscribed and
 * page requests pending (and refused while a dump or a debugfs file holds
 * it), then loaded again with the same quirks=.
 *
 * stress.pending_dump_full: PENDING_GET of a device holding the most page
 * requests it may, with page responses between the dump's parts; prints
 * the dump's cost at 1,024 and at the full count. stress.timeout_sweep:
 * thousands of requests time out at once while DEV_GET and a response get
 * through.
 *
 * Environment: IOPF_KO overrides the module path (default
 * /lib/modules/iopf_testbed.ko), IOPF_STRESS_SECONDS the duration,
 * IOPF_STRESS_PENDING the requests those two hold (default 65536 and half
 * of 16384; 32768 and half of 4096 on a kernel with lockdep).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"

#include "iopf_dbgfs.h"
#include "iopf_nl.h"

static void __attribute__((constructor)) stress_unbuffered(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

#define DEFAULT_KO	"/lib/modules/iopf_testbed.ko"

#define NSTABLE		4	/* always there; flags change under load */
#define NCHURN		4	/* retired, read, deleted, created again */
#define NWILD		2	/* created and deleted with no coordination */
#define NGHOST		2	/* never a device */
#define NINJ		3
#define BATCH		16
#define INJ_PAUSE_US	3000	/* between an injector's writes */
#define RQ_LEN		4096	/* page requests waiting for the responder */

#define SIDX(d, X)	((d)->stats.v[IOPF_STAT_A_##X])

static const uint32_t valid_flags[] = {
	0x1, 0x11, 0x6, 0xa, 0xe, 0x16, 0x1a, 0x1e,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift, one state per thread */
static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static bool balanced(const struct iopf_nl_dev *d)
{
	return SIDX(d, INJECTED) == SIDX(d, REPORTED) + SIDX(d, FILTERED_L1) +
				    SIDX(d, FILTERED_L2) + SIDX(d, FILTERED_UNRECOV) +
				    SIDX(d, NO_HANDLER) + SIDX(d, REPORT_FAILED);
}

struct stress {
	uint32_t stable[NSTABLE], churn[NCHURN], wild[NWILD], ghost[NGHOST];
	uint64_t deadline;
	atomic_int stop;
	atomic_int lis_stop;	/* the listener runs until the rest is done */

	/* injectors hold it for reading around each write; churn retires */
	pthread_rwlock_t churn_lock;
	atomic_int churn_live[NCHURN];
	atomic_int wild_exists[NWILD];

	/* what was aimed where */
	atomic_ullong aim_stable[NSTABLE];
	atomic_ullong aim_churn[NCHURN];	/* at the current instance */
	atomic_ullong aim_wild, aim_ghost, aim_unhandled, records, writes;
	atomic_ullong writes_text, writes_raw;

	/* what the deleted devices held */
	atomic_ullong churn_deleted_injected;	/* exact */
	atomic_ullong wild_deleted_seen;	/* lower bound */

	/* page requests for the responder */
	pthread_mutex_t rq_lock;
	pthread_cond_t rq_cond;
	uint32_t rq_sid[RQ_LEN], rq_grpid[RQ_LEN];
	unsigned int rq_head, rq_tail;

	/* operation counts */
	atomic_ullong updates, reregs, creates, deletes, responses_ok,
		responses_stale, dev_dumps, pending_dumps, stats_gets,
		dbgfs_reads, faults_seen, resumes_seen, rq_dropped;

	/* failures found by the threads (first message kept) */
	atomic_int errors;
	char first_error[256];
	pthread_mutex_t err_lock;
};

static void fail(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->err_lock);
	if (!atomic_fetch_add(&s->errors, 1)) {
		va_start(ap, fmt);
		vsnprintf(s->first_error, sizeof(s->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->err_lock);
	atomic_store(&s->stop, 1);
}


static bool running(struct stress *s)
{
	if (atomic_load(&s->stop))
		return false;
	if (now_ns() >= s->deadline) {
		atomic_store(&s->stop, 1);
		return false;
	}
	return true;
}

static void open_or_die(struct stress *s, struct iopf_nl **nl)
{
	*nl = iopf_nl_open();
	if (!*nl)
		fail(s, "cannot open a netlink socket: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Injectors                                                            */
/* ------------------------------------------------------------------ */

enum tgt { T_STABLE, T_CHURN, T_WILD, T_GHOST, T_UNHANDLED };

static void make_record(uint32_t *r, uint32_t sid, uint64_t evt[4])
{
	uint32_t kind = rnd(r) % 8, grpid = rnd(r) & 0xffff;

	evt[0] = (uint64_t)sid << 32;
	evt[2] = (uint64_t)(rnd(r) & 0xfffff) << 12;
	evt[3] = 0;
	switch (kind) {
	case 0: case 1: case 2:		/* stage-1 stall */
		evt[0] |= 0x10;
		evt[1] = 0x0000000880000000ull | grpid;
		break;
	case 3: case 4:			/* stage-2 stall, with the IPA */
		evt[0] |= 0x10 + (rnd(r) % 4);
		evt[1] = 0x0000008880000000ull | grpid;
		evt[3] = 0x80000000ull | evt[2];
		break;
	case 5:				/* stage-1 unrecoverable */
		evt[0] |= 0x12;
		evt[1] = 0x0000000800000000ull;
		break;
	default:			/* stage-2 unrecoverable */
		evt[0] |= 0x13;
		evt[1] = 0x0000008800000000ull;
		evt[3] = 0x40000000ull;
		break;
	}
}

struct inj_arg {
	struct stress *s;
	int id;
};

static void *injector(void *p)
{
	struct inj_arg *a = p;
	struct stress *s = a->s;
	uint32_t r = 0x9e3779b9u * (uint32_t)(a->id + 1);
	static __thread uint64_t evt[BATCH][4];
	uint64_t n_stable[NSTABLE], n_churn[NCHURN], n_wild, n_ghost, n_unh;
	int i, k, ret;

	while (running(s)) {
		memset(n_stable, 0, sizeof(n_stable));
		memset(n_churn, 0, sizeof(n_churn));
		n_wild = n_ghost = n_unh = 0;
		pthread_rwlock_rdlock(&s->churn_lock);
		for (i = 0; i < BATCH; i++) {
			uint32_t pick = rnd(&r) % 100;

			if (pick < 50) {
				k = (int)(rnd(&r) % NSTABLE);
				make_record(&r, s->stable[k], evt[i]);
				n_stable[k]++;
			} else if (pick < 75) {
				k = (int)(rnd(&r) % NCHURN);
				if (!atomic_load(&s->churn_live[k])) {
					k = (int)(rnd(&r) % NSTABLE);
					make_record(&r, s->stable[k], evt[i]);
					n_stable[k]++;
					continue;
				}
				make_record(&r, s->churn[k], evt[i]);
				n_churn[k]++;
			} else if (pick < 90) {
				make_record(&r, s->wild[rnd(&r) % NWILD], evt[i]);
				n_wild++;
			} else if (pick < 95) {
				make_record(&r, s->ghost[rnd(&r) % NGHOST], evt[i]);
				n_ghost++;
			} else {
				/* an event ID the driver does not report */
				evt[i][0] = (uint64_t)s->stable[0] << 32 |
					    (0x01 + rnd(&r) % 9);
				evt[i][1] = evt[i][2] = evt[i][3] = 0;
				n_unh++;
			}
		}
		if (a->id == 0) {
			ret = iopf_inject_raw((const uint64_t (*)[4])evt, BATCH);
			atomic_fetch_add(&s->writes_raw, 1);
		} else {
			ret = iopf_inject_many((const uint64_t (*)[4])evt, BATCH);
			atomic_fetch_add(&s->writes_text, 1);
		}
		if (ret) {
			pthread_rwlock_unlock(&s->churn_lock);
			fail(s, "injector %d: write: %s", a->id, strerror(-ret));
			break;
		}
		for (k = 0; k < NSTABLE; k++)
			atomic_fetch_add(&s->aim_stable[k], n_stable[k]);
		for (k = 0; k < NCHURN; k++)
			atomic_fetch_add(&s->aim_churn[k], n_churn[k]);
		atomic_fetch_add(&s->aim_wild, n_wild);
		atomic_fetch_add(&s->aim_ghost, n_ghost);
		atomic_fetch_add(&s->aim_unhandled, n_unh);
		atomic_fetch_add(&s->records, BATCH);
		atomic_fetch_add(&s->writes, 1);
		pthread_rwlock_unlock(&s->churn_lock);
		/* leave the two vCPUs to the other threads too */
		usleep(INJ_PAUSE_US);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Listener and responder                                               */
/* ------------------------------------------------------------------ */

static void *listener(void *p)
{
	struct stress *s = p;
	struct iopf_nl *nl;
	struct iopf_nl_event ev;
	uint64_t last_seq = 0, last_rseq = 0;
	bool overflowed = false;
	int sz = 16 << 20, r;

	open_or_die(s, &nl);
	if (!nl)
		return NULL;
	if (iopf_nl_subscribe(nl)) {
		fail(s, "listener: cannot join faults");
		iopf_nl_close(nl);
		return NULL;
	}
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	/* runs until told: the last notifications arrive after the deadline */
	while (!atomic_load(&s->lis_stop)) {
		r = iopf_nl_recv_event(nl, 50, &ev);
		if (r == 0)
			continue;
		if (r == -ENOBUFS) {
			overflowed = true;
			continue;
		}
		if (r < 0) {
			fail(s, "listener: %s", strerror(-r));
			break;
		}
		if (ev.cmd == IOPF_CMD_RESUME_NTF) {
			if (last_rseq && ev.resume.seq != last_rseq + 1 && !overflowed)
				fail(s, "RESUME SEQ %llu after %llu without an overflow",
				     (unsigned long long)ev.resume.seq,
				     (unsigned long long)last_rseq);
			last_rseq = ev.resume.seq;
			atomic_fetch_add(&s->resumes_seen, 1);
			continue;
		}
		if (last_seq && ev.fault.seq != last_seq + 1 && !overflowed)
			fail(s, "FAULT SEQ %llu after %llu without an overflow",
			     (unsigned long long)ev.fault.seq,
			     (unsigned long long)last_seq);
		last_seq = ev.fault.seq;
		atomic_fetch_add(&s->faults_seen, 1);
		if (ev.fault.type != IOPF_FAULT_PAGE_REQ)
			continue;
		pthread_mutex_lock(&s->rq_lock);
		if ((s->rq_tail + 1) % RQ_LEN == s->rq_head) {
			atomic_fetch_add(&s->rq_dropped, 1);	/* stays pending */
		} else {
			s->rq_sid[s->rq_tail] = ev.fault.sid;
			s->rq_grpid[s->rq_tail] = ev.fault.grpid;
			s->rq_tail = (s->rq_tail + 1) % RQ_LEN;
			pthread_cond_signal(&s->rq_cond);
		}
		pthread_mutex_unlock(&s->rq_lock);
	}
	iopf_nl_close(nl);
	return NULL;
}

static void *responder(void *p)
{
	struct stress *s = p;
	uint32_t r = 0x1234567u;
	struct iopf_nl *nl;

	open_or_die(s, &nl);
	if (!nl)
		return NULL;
	while (!atomic_load(&s->stop)) {
		struct timespec ts;
		uint32_t sid, grpid;
		int ret;

		pthread_mutex_lock(&s->rq_lock);
		if (s->rq_head == s->rq_tail) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&s->rq_cond, &s->rq_lock, &ts);
			pthread_mutex_unlock(&s->rq_lock);
			continue;
		}
		sid = s->rq_sid[s->rq_head];
		grpid = s->rq_grpid[s->rq_head];
		s->rq_head = (s->rq_head + 1) % RQ_LEN;
		pthread_mutex_unlock(&s->rq_lock);

		ret = iopf_page_response(nl, sid, grpid, rnd(&r) % 3, NULL);
		if (!ret)
			atomic_fetch_add(&s->responses_ok, 1);
		else if (ret == -ENODEV || ret == -EINVAL)
			/* removed, unregistered, flushed, or answered by grpid */
			atomic_fetch_add(&s->responses_stale, 1);
		else
			fail(s, "PAGE_RESPONSE 0x%x/%u: %s (%s)", sid, grpid,
			     strerror(-ret), nl->ext_msg);
	}
	iopf_nl_close(nl);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Updater, churn, dumper                                               */
/* ------------------------------------------------------------------ */

static void *updater(void *p)
{
	struct stress *s = p;
	uint32_t r = 0xabcdef1u;
	struct iopf_nl *nl;

	open_or_die(s, &nl);
	if (!nl)
		return NULL;
	while (running(s)) {
		uint32_t pick = rnd(&r) % 10;
		uint32_t f = valid_flags[rnd(&r) % ARRAY_SIZE(valid_flags)];
		int ret;

		if (pick < 6) {
			/* replace the flags of a stable device (0..2) */
			ret = iopf_handler_update(nl, s->stable[rnd(&r) % 3], 0, f);
			if (ret)
				fail(s, "HANDLER_UPDATE: %s (%s)", strerror(-ret), nl->ext_msg);
			atomic_fetch_add(&s->updates, 1);
		} else if (pick < 8) {
			/* a churned device: gone or unregistered at times */
			ret = iopf_handler_update(nl, s->churn[rnd(&r) % NCHURN], 0, f);
			if (ret && ret != -ENODEV)
				fail(s, "HANDLER_UPDATE (churn): %s (%s)",
				     strerror(-ret), nl->ext_msg);
			atomic_fetch_add(&s->updates, 1);
		} else {
			/* stable[3]: off and on again; busy while requests wait */
			ret = iopf_handler_unregister(nl, s->stable[3]);
			if (ret && ret != -EBUSY && ret != -ENODEV)
				fail(s, "HANDLER_UNREGISTER: %s", strerror(-ret));
			ret = iopf_handler_register(nl, s->stable[3], f);
			if (ret && ret != -EBUSY)
				fail(s, "HANDLER_REGISTER: %s (%s)", strerror(-ret),
				     nl->ext_msg);
			atomic_fetch_add(&s->reregs, 1);
		}
	}
	iopf_nl_close(nl);
	return NULL;
}

static int dev_get_checked(struct stress *s, struct iopf_nl *nl, uint32_t sid,
			   struct iopf_nl_dev *d)
{
	int ret = iopf_dev_get(nl, sid, d);

	if (ret)
		return ret;
	if (!balanced(d))
		fail(s, "device 0x%x: counters out of balance", sid);
	return 0;
}

static void churn_one(struct stress *s, struct iopf_nl *nl, int k, uint32_t *r)
{
	uint32_t sid = s->churn[k];
	struct iopf_nl_dev d;
	uint64_t aimed;
	int ret;

	/* retire: once the lock is ours no write aims at it any more */
	pthread_rwlock_wrlock(&s->churn_lock);
	atomic_store(&s->churn_live[k], 0);
	aimed = atomic_exchange(&s->aim_churn[k], 0);
	pthread_rwlock_unlock(&s->churn_lock);

	ret = dev_get_checked(s, nl, sid, &d);
	if (ret) {
		fail(s, "DEV_GET of churned 0x%x: %s", sid, strerror(-ret));
		return;
	}
	if (SIDX(&d, INJECTED) != aimed)
		fail(s, "churned 0x%x: injected %llu, %llu aimed at it", sid,
		     (unsigned long long)SIDX(&d, INJECTED),
		     (unsigned long long)aimed);
	atomic_fetch_add(&s->churn_deleted_injected, SIDX(&d, INJECTED));
	ret = iopf_dev_del(nl, sid);
	if (ret)
		fail(s, "DEV_DEL 0x%x: %s", sid, strerror(-ret));
	atomic_fetch_add(&s->deletes, 1);
	ret = iopf_dev_new(nl, sid);
	if (ret)
		fail(s, "DEV_NEW 0x%x: %s", sid, strerror(-ret));
	atomic_fetch_add(&s->creates, 1);
	if (rnd(r) % 4) {
		ret = iopf_handler_register(nl, sid, valid_flags[rnd(r) % 8]);
		if (ret)
			fail(s, "HANDLER_REGISTER 0x%x: %s", sid, strerror(-ret));
	}
	atomic_store(&s->churn_live[k], 1);
}

static void wild_one(struct stress *s, struct iopf_nl *nl, int k)
{
	uint32_t sid = s->wild[k];
	struct iopf_nl_dev d;
	int ret;

	if (atomic_load(&s->wild_exists[k])) {
		/* injections race this: what lands after the read is unseen */
		if (dev_get_checked(s, nl, sid, &d) == 0)
			atomic_fetch_add(&s->wild_deleted_seen, SIDX(&d, INJECTED));
		ret = iopf_dev_del(nl, sid);
		if (ret)
			fail(s, "DEV_DEL wild 0x%x: %s", sid, strerror(-ret));
		atomic_store(&s->wild_exists[k], 0);
		atomic_fetch_add(&s->deletes, 1);
	} else {
		ret = iopf_dev_new(nl, sid);
		if (!ret)
			ret = iopf_handler_register(nl, sid, IOPF_REPORT_FLAT |
							     IOPF_REPORT_UNRECOV);
		if (ret)
			fail(s, "DEV_NEW/REGISTER wild 0x%x: %s", sid, strerror(-ret));
		atomic_store(&s->wild_exists[k], 1);
		atomic_fetch_add(&s->creates, 1);
	}
}

static void *churner(void *p)
{
	struct stress *s = p;
	uint32_t r = 0x7777777u;
	struct iopf_nl *nl;

	open_or_die(s, &nl);
	if (!nl)
		return NULL;
	while (running(s)) {
		if (rnd(&r) % 3)
			churn_one(s, nl, (int)(rnd(&r) % NCHURN), &r);
		else
			wild_one(s, nl, (int)(rnd(&r) % NWILD));
		usleep(2000);
	}
	iopf_nl_close(nl);
	return NULL;
}

static bool ours(const struct stress *s, uint32_t sid)
{
	return (sid & ~0x3fu) == (s->stable[0] & ~0x3fu);
}

static void *dumper(void *p)
{
	struct stress *s = p;
	static struct iopf_nl_dev devs[1024];
	static struct iopf_nl_fault pend[4096];
	static char buf[8192];
	uint32_t r = 0x31415926u;
	struct iopf_nl *nl;

	open_or_die(s, &nl);
	if (!nl)
		return NULL;
	while (running(s)) {
		uint32_t pick = rnd(&r) % 4, seen[64];
		int n, i, j, nseen = 0;

		if (pick == 0) {
			n = iopf_dev_dump(nl, devs, 1024);
			if (n < 0) {
				fail(s, "DEV_GET dump: %s", strerror(-n));
				break;
			}
			for (i = 0; i < n && i < 1024; i++) {
				if (!ours(s, devs[i].sid))
					continue;
				if (!balanced(&devs[i]))
					fail(s, "dumped 0x%x out of balance", devs[i].sid);
				for (j = 0; j < nseen; j++)
					if (seen[j] == devs[i].sid)
						fail(s, "0x%x twice in a dump", devs[i].sid);
				if (nseen < 64)
					seen[nseen++] = devs[i].sid;
			}
			atomic_fetch_add(&s->dev_dumps, 1);
		} else if (pick == 1) {
			n = iopf_pending_dump(nl, NULL, pend, 4096);
			if (n < 0) {
				fail(s, "PENDING_GET dump: %s", strerror(-n));
				break;
			}
			for (i = 1; i < n && i < 4096; i++)
				if (pend[i].sid == pend[i - 1].sid &&
				    pend[i].seq <= pend[i - 1].seq)
					fail(s, "PENDING_GET: seq %llu after %llu",
					     (unsigned long long)pend[i].seq,
					     (unsigned long long)pend[i - 1].seq);
			atomic_fetch_add(&s->pending_dumps, 1);
		} else if (pick == 2) {
			struct iopf_nl_stats st;

			n = iopf_stats_get(nl, &st);
			if (n)
				fail(s, "STATS_GET: %s", strerror(-n));
			atomic_fetch_add(&s->stats_gets, 1);
		} else {
			static const char *const files[] = {
				"stats", "pending", "flags", "last_resume"
			};
			uint32_t sid = (rnd(&r) & 1) ? s->churn[rnd(&r) % NCHURN] :
						       s->wild[rnd(&r) % NWILD];
			ssize_t len = iopf_dbgfs_read_dev(sid, files[rnd(&r) % 4],
							  buf, sizeof(buf));

			/* a device being removed: gone, or its files dead */
			if (len < 0 && len != -ENOENT && len != -EIO)
				fail(s, "debugfs of 0x%x: %s", sid, strerror((int)-len));
			len = iopf_dbgfs_read_dev(s->stable[rnd(&r) % NSTABLE], "stats",
						  buf, sizeof(buf));
			if (len <= 0)
				fail(s, "debugfs stats of a stable device: %zd", len);
			atomic_fetch_add(&s->dbgfs_reads, 2);
		}
	}
	iopf_nl_close(nl);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* stress.mixed                                                         */
/* ------------------------------------------------------------------ */

FIXTURE(stress) {
	struct iopf_nl *nl;
	struct stress *s;
	uint32_t base;
};

FIXTURE_SETUP(stress)
{
	self->nl = NULL;
	self->s = NULL;
	if (geteuid() != 0)
		SKIP(return, "must run as root");
	ASSERT_EQ(0, iopf_dbgfs_mount());
	ASSERT_TRUE(iopf_dbgfs_present()) TH_LOG("is iopf_testbed loaded?");
	self->nl = iopf_nl_open();
	ASSERT_NE(NULL, self->nl);
	self->base = 0x03000000u | ((uint32_t)(getpid() & 0xffff) << 6);
}

static void delete_range(struct iopf_nl *nl, uint32_t base)
{
	uint32_t i;

	for (i = 0; i < 64; i++)
		iopf_dev_del(nl, base + i);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->nl) {
		delete_range(self->nl, self->base);
		iopf_nl_close(self->nl);
	}
	free(self->s);
}

static unsigned int stress_seconds(void)
{
	const char *e = getenv("IOPF_STRESS_SECONDS");
	unsigned int v = e ? (unsigned int)strtoul(e, NULL, 0) : 0;

	return v ? v : 10;
}

TEST_F_TIMEOUT(stress, mixed, 180)
{
	struct iopf_nl *nl = self->nl;
	struct stress *s = calloc(1, sizeof(*s));
	struct inj_arg ia[NINJ];
	pthread_t inj[NINJ], lis, resp, upd, chu, dmp;
	struct iopf_nl_stats g0, g1;
	struct iopf_nl_dev d;
	uint64_t t0, t1, sum_stable = 0, sum_churn_live = 0, sum_wild_live = 0;
	uint64_t d_records, d_unhandled, d_unknown, wild_landed;
	int i;

	ASSERT_NE(NULL, s);
	self->s = s;
	{
		pthread_rwlockattr_t ra;

		/* glibc prefers readers: three injectors would starve the churn */
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&s->churn_lock, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	pthread_mutex_init(&s->rq_lock, NULL);
	pthread_cond_init(&s->rq_cond, NULL);
	pthread_mutex_init(&s->err_lock, NULL);
	for (i = 0; i < NSTABLE; i++) {
		s->stable[i] = self->base + (uint32_t)i;
		ASSERT_EQ(0, iopf_dev_new(nl, s->stable[i]));
		ASSERT_EQ(0, iopf_handler_register(nl, s->stable[i], valid_flags[i]));
	}
	for (i = 0; i < NCHURN; i++) {
		s->churn[i] = self->base + 8 + (uint32_t)i;
		ASSERT_EQ(0, iopf_dev_new(nl, s->churn[i]));
		ASSERT_EQ(0, iopf_handler_register(nl, s->churn[i], IOPF_REPORT_FLAT));
		atomic_store(&s->churn_live[i], 1);
	}
	for (i = 0; i < NWILD; i++)
		s->wild[i] = self->base + 16 + (uint32_t)i;
	for (i = 0; i < NGHOST; i++)
		s->ghost[i] = self->base + 24 + (uint32_t)i;

	ASSERT_EQ(0, iopf_stats_get(nl, &g0));
	t0 = now_ns();
	s->deadline = t0 + (uint64_t)stress_seconds() * 1000000000ull;
	ASSERT_EQ(0, pthread_create(&lis, NULL, listener, s));
	usleep(100000);	/* subscribed before the first record */
	ASSERT_EQ(0, pthread_create(&resp, NULL, responder, s));
	ASSERT_EQ(0, pthread_create(&upd, NULL, updater, s));
	ASSERT_EQ(0, pthread_create(&chu, NULL, churner, s));
	ASSERT_EQ(0, pthread_create(&dmp, NULL, dumper, s));
	for (i = 0; i < NINJ; i++) {
		ia[i].s = s;
		ia[i].id = i;
		ASSERT_EQ(0, pthread_create(&inj[i], NULL, injector, &ia[i]));
	}
	for (i = 0; i < NINJ; i++)
		pthread_join(inj[i], NULL);
	pthread_join(upd, NULL);
	pthread_join(chu, NULL);
	pthread_join(dmp, NULL);
	atomic_store(&s->stop, 1);
	pthread_join(resp, NULL);
	usleep(200000);	/* the last notifications */
	atomic_store(&s->lis_stop, 1);
	pthread_join(lis, NULL);
	t1 = now_ns();

	printf("# stress: %.1f s: %llu records in %llu writes (%llu text, %llu binary; "
	       "%llu stable, %llu churned, %llu wild, %llu without a device, %llu unhandled)\n",
	       (double)(t1 - t0) / 1e9,
	       (unsigned long long)s->records, (unsigned long long)s->writes,
	       (unsigned long long)s->writes_text, (unsigned long long)s->writes_raw,
	       (unsigned long long)(s->aim_stable[0] + s->aim_stable[1] +
				    s->aim_stable[2] + s->aim_stable[3]),
	       (unsigned long long)(s->churn_deleted_injected + s->aim_churn[0] +
				    s->aim_churn[1] + s->aim_churn[2] + s->aim_churn[3]),
	       (unsigned long long)s->aim_wild, (unsigned long long)s->aim_ghost,
	       (unsigned long long)s->aim_unhandled);
	printf("# stress: %llu flag updates, %llu unregister/register, %llu creates, "
	       "%llu deletes, %llu responses (%llu ok, %llu stale), %llu DEV_GET dumps, "
	       "%llu PENDING_GET dumps, %llu STATS_GET, %llu debugfs reads, "
	       "%llu faults and %llu resumes notified\n",
	       (unsigned long long)s->updates, (unsigned long long)s->reregs,
	       (unsigned long long)s->creates, (unsigned long long)s->deletes,
	       (unsigned long long)(s->responses_ok + s->responses_stale),
	       (unsigned long long)s->responses_ok, (unsigned long long)s->responses_stale,
	       (unsigned long long)s->dev_dumps, (unsigned long long)s->pending_dumps,
	       (unsigned long long)s->stats_gets, (unsigned long long)s->dbgfs_reads,
	       (unsigned long long)s->faults_seen, (unsigned long long)s->resumes_seen);

	ASSERT_EQ(0, atomic_load(&s->errors)) TH_LOG("%d failures, the first: %s", s->errors,
				       s->first_error);
	ASSERT_LT(0u, atomic_load(&s->records));
	ASSERT_LT(0u, atomic_load(&s->deletes));

	/* quiescent now: the balances, exactly */
	ASSERT_EQ(0, iopf_stats_get(nl, &g1));
	for (i = 0; i < NSTABLE; i++) {
		ASSERT_EQ(0, dev_get_checked(s, nl, s->stable[i], &d));
		ASSERT_EQ(atomic_load(&s->aim_stable[i]), SIDX(&d, INJECTED)) TH_LOG("stable %d", i);
		sum_stable += SIDX(&d, INJECTED);
	}
	for (i = 0; i < NCHURN; i++) {
		ASSERT_EQ(0, dev_get_checked(s, nl, s->churn[i], &d));
		ASSERT_EQ(atomic_load(&s->aim_churn[i]), SIDX(&d, INJECTED)) TH_LOG("churn %d", i);
		sum_churn_live += SIDX(&d, INJECTED);
	}
	for (i = 0; i < NWILD; i++)
		if (dev_get_checked(s, nl, s->wild[i], &d) == 0)
			sum_wild_live += SIDX(&d, INJECTED);
	ASSERT_EQ(0, atomic_load(&s->errors)) TH_LOG("%s", s->first_error);

	d_records = g1.v[IOPF_STAT_A_RECORDS] - g0.v[IOPF_STAT_A_RECORDS];
	d_unhandled = g1.v[IOPF_STAT_A_UNHANDLED_EVENT] - g0.v[IOPF_STAT_A_UNHANDLED_EVENT];
	d_unknown = g1.v[IOPF_STAT_A_UNKNOWN_SID] - g0.v[IOPF_STAT_A_UNKNOWN_SID];
	ASSERT_EQ(atomic_load(&s->records), d_records);
	ASSERT_EQ(atomic_load(&s->aim_unhandled), d_unhandled);
	/* records = unhandled + unknown_sid + injected of every device */
	ASSERT_LE(atomic_load(&s->aim_ghost), d_unknown);
	ASSERT_LE(d_unhandled + d_unknown + sum_stable + sum_churn_live +
		  atomic_load(&s->churn_deleted_injected), d_records);
	wild_landed = d_records - d_unhandled - d_unknown - sum_stable -
		      sum_churn_live - s->churn_deleted_injected;
	/* what wild devices took: between what was seen of them and all aimed */
	ASSERT_LE(atomic_load(&s->wild_deleted_seen) + sum_wild_live, wild_landed);
	ASSERT_LE(wild_landed, atomic_load(&s->aim_wild));
	printf("# stress: balance: %llu records = %llu unhandled + %llu unknown_sid + "
	       "%llu on stable + %llu on churned (%llu on deleted instances) + %llu on wild "
	       "devices (at least %llu seen)\n",
	       (unsigned long long)d_records, (unsigned long long)d_unhandled,
	       (unsigned long long)d_unknown, (unsigned long long)sum_stable,
	       (unsigned long long)(sum_churn_live + s->churn_deleted_injected),
	       (unsigned long long)s->churn_deleted_injected,
	       (unsigned long long)wild_landed,
	       (unsigned long long)(s->wild_deleted_seen + sum_wild_live));
}

/* ------------------------------------------------------------------ */
/* stress.unload_reload                                                 */
/* ------------------------------------------------------------------ */

static const char *ko_path(void)
{
	const char *p = getenv("IOPF_KO");

	return p && *p ? p : DEFAULT_KO;
}

static int unload(void)
{
	/* what rmmod does: O_NONBLOCK, a busy module is refused at once */
	if (syscall(SYS_delete_module, "iopf_testbed", O_NONBLOCK | O_EXCL))
		return -errno;
	return 0;
}

/* Not inlined into a test: its locals would be live across the harness's setjmp */
static __attribute__((noinline)) int load(const char *params)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = -errno;
	close(fd);
	return ret;
}

static bool loaded(void)
{
	struct stat st;

	return stat("/sys/module/iopf_testbed", &st) == 0;
}

FIXTURE(reload) {
	struct iopf_nl *nl;
	char params[64];
	uint32_t base;
};

FIXTURE_SETUP(reload)
{
	char q[32] = "0";
	FILE *f;

	self->nl = NULL;
	if (geteuid() != 0)
		SKIP(return, "must run as root");
	if (access(ko_path(), R_OK))
		SKIP(return, "%s not found (set IOPF_KO)", ko_path());
	ASSERT_EQ(0, iopf_dbgfs_mount());
	/* load it again as it was: a teeth run's quirks= stay */
	f = fopen("/sys/module/iopf_testbed/parameters/quirks", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(q, sizeof(q), f));
	fclose(f);
	q[strcspn(q, "\n")] = '\0';
	snprintf(self->params, sizeof(self->params), "quirks=%s", q);
	self->nl = iopf_nl_open();
	ASSERT_NE(NULL, self->nl);
	self->base = 0x04000000u | ((uint32_t)(getpid() & 0xffff) << 9);
}

FIXTURE_TEARDOWN(reload)
{
	/* never leave the guest without the module */
	if (!loaded())
		load(self->params);
	if (self->nl) {
		struct iopf_nl *nl = iopf_nl_open();
		uint32_t i;

		for (i = 0; nl && i < 512; i++)
			iopf_dev_del(nl, self->base + i);
		iopf_nl_close(nl);
		iopf_nl_close(self->nl);
	}
}

#define RL_DEVS		300
#define RL_PENDING	8	/* devices with page requests waiting */

TEST_F_TIMEOUT(reload, unload_with_listeners_and_pending, 180)
{
	struct iopf_nl *nl = self->nl, *lis, *small, *dump, *probe;
	static uint64_t evt[RL_PENDING * 50][4];
	struct iopf_nl_event ev;
	struct iopf_nl_stats st;
	struct iopf_nl_msg m;
	struct iopf_nl_dev d;
	uint16_t flags = 0;
	int i, k, n = 0, fd, ret, tries;

	for (i = 0; i < RL_DEVS; i++)
		ASSERT_EQ(0, iopf_dev_new(nl, self->base + (uint32_t)i));
	for (i = 0; i < RL_PENDING; i++) {
		ASSERT_EQ(0, iopf_handler_register(nl, self->base + (uint32_t)i,
						   IOPF_REPORT_FLAT));
		for (k = 0; k < 50; k++) {
			evt[n][0] = (uint64_t)(self->base + (uint32_t)i) << 32 | 0x10;
			evt[n][1] = 0x0000000880000000ull | (uint32_t)k;
			evt[n][2] = 0x1000u * (uint32_t)k;
			evt[n][3] = 0;
			n++;
		}
	}
	lis = iopf_nl_open();
	small = iopf_nl_open();
	ASSERT_NE(NULL, lis);
	ASSERT_NE(NULL, small);
	ASSERT_EQ(0, iopf_nl_subscribe(lis));
	ASSERT_EQ(0, iopf_nl_subscribe(small));
	ASSERT_EQ(0, iopf_nl_set_rcvbuf(small, 1));	/* overflows at once */
	i = 8 << 20;
	setsockopt(lis->fd, SOL_SOCKET, SO_RCVBUFFORCE, &i, sizeof(i));
	ASSERT_EQ(0, iopf_inject_many((const uint64_t (*)[4])evt, (size_t)n));
	ASSERT_EQ(RL_PENDING * 50, iopf_pending_dump(nl, NULL, NULL, 0));
	ASSERT_EQ(1, iopf_nl_recv_event(lis, 3000, &ev));
	ASSERT_EQ(IOPF_CMD_FAULT_NTF, ev.cmd);

	/*
	 * An open debugfs file holds the module (the debugfs proxy takes a
	 * reference to its fops' owner while open): unloading is refused,
	 * as rmmod does it (O_NONBLOCK: -EAGAIN at once). Both kernels.
	 */
	fd = open(IOPF_DBGFS_DIR "/inject", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EAGAIN, unload()) TH_LOG("unloaded with a debugfs file open");
	ASSERT_TRUE(loaded());
	close(fd);

	/* so does a dump half read (netlink_dump_start's module reference) */
	dump = iopf_nl_open();
	ASSERT_NE(NULL, dump);
	iopf_msg_family(&m, dump, IOPF_CMD_DEV_GET, true);
	ASSERT_EQ(0, iopf_nl_dump_start(dump, &m));
	ASSERT_EQ(1, iopf_nl_dump_step(dump, NULL, NULL, &flags));
	ASSERT_EQ(-EAGAIN, unload()) TH_LOG("unloaded under a running dump");
	ASSERT_TRUE(loaded());
	/* the reference goes with the socket (maybe a moment later) */
	iopf_nl_close(dump);
	for (tries = 0; (ret = unload()) == -EAGAIN && tries < 50; tries++)
		usleep(100000);
	ASSERT_EQ(0, ret) TH_LOG("rmmod: %s", strerror(-ret));
	ASSERT_FALSE(loaded());
	ASSERT_FALSE(iopf_dbgfs_present());

	/*
	 * The family went first: the requests the unload flushed were
	 * answered, but no listener hears of it; the sockets stay usable.
	 */
	iopf_nl_drain(lis);
	ASSERT_EQ(0, iopf_nl_recv_event(lis, 200, &ev));
	iopf_nl_drain(small);
	probe = iopf_nl_open();
	ASSERT_EQ(NULL, probe);
	ASSERT_EQ(ENOENT, errno);
	ASSERT_NE(0, iopf_dev_get(nl, self->base, &d));

	ret = load(self->params);
	ASSERT_EQ(0, ret) TH_LOG("finit_module %s %s: %s", ko_path(), self->params,
				 strerror(-ret));
	ASSERT_TRUE(iopf_dbgfs_present());

	/* fresh: nothing survived, the old listeners are members of nothing */
	iopf_nl_close(nl);
	self->nl = nl = iopf_nl_open();
	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, iopf_stats_get(nl, &st));
	ASSERT_EQ(0u, st.v[IOPF_STAT_A_RECORDS]);
	ASSERT_EQ(0u, st.v[IOPF_STAT_A_DEVICES]);
	ASSERT_EQ(0, iopf_pending_dump(nl, NULL, NULL, 0));
	ASSERT_EQ(0, iopf_dev_new(nl, self->base));
	ASSERT_EQ(0, iopf_handler_register(nl, self->base, IOPF_REPORT_FLAT));
	evt[0][0] = (uint64_t)self->base << 32 | 0x10;
	evt[0][1] = 0x0000000880000007ull;
	evt[0][2] = 0x7000;
	evt[0][3] = 0;
	ASSERT_EQ(0, iopf_inject((const uint64_t *)evt[0]));
	ASSERT_EQ(0, iopf_nl_recv_event(lis, 200, &ev)) TH_LOG("old listener still hears");
	probe = iopf_nl_open();
	ASSERT_NE(NULL, probe);
	ASSERT_EQ(1, iopf_pending_dump(probe, &self->base, NULL, 0));
	ASSERT_EQ(0, iopf_page_response(probe, self->base, 7, IOPF_RESP_SUCCESS, NULL));
	iopf_nl_close(probe);
	iopf_nl_close(lis);
	iopf_nl_close(small);
}

/* ------------------------------------------------------------------ */
/* stress.one_stall_one_resume                                          */
/* ------------------------------------------------------------------ */

/*
 * Every stall record the driver accepts (its StreamID had a device) ends
 * in exactly one RESUME, whatever answers it: a response, the driver's
 * abort (no handler, filtered, over the pending limit), the flush of a
 * DEV_DEL, or the timeout. Stalls are injected at one StreamID with STAGs
 * never reused, while another thread deletes and re-creates the device,
 * registers a handler or not, and sets a small pending limit or a short
 * timeout. A listener with a big buffer counts the RESUMEs per STAG and by
 * origin and answers every third fault. Then: every STAG has 0 or 1
 * RESUME, and the STAGs with none are exactly the records counted as an
 * unknown StreamID; no RESUME notification lost (RESUME_LOST, SEQ gaps).
 */
#define OS_STAGS	65536

struct one_stall {
	uint32_t sid;
	atomic_int stop, lis_stop;
	atomic_uint injected;		/* STAGs 0..injected-1 were written */
	atomic_uchar resumes[OS_STAGS];
	atomic_ullong by_origin[IOPF_ORIGIN_TIMEOUT + 1];
	atomic_ullong other_sid, overflow, rseq_gaps, faults, answered;
	uint64_t deadline;
	char err[256];
	atomic_int failed;
};

static void os_fail(struct one_stall *o, const char *why)
{
	if (!atomic_exchange(&o->failed, 1))
		snprintf(o->err, sizeof(o->err), "%s", why);
}

static void *os_injector(void *p)
{
	struct one_stall *o = p;
	uint64_t evt[8][4];
	unsigned int k, i;

	while (!atomic_load(&o->stop) && now_ns() < o->deadline) {
		k = atomic_load(&o->injected);
		if (k + 8 > OS_STAGS)
			break;
		for (i = 0; i < 8; i++) {
			evt[i][0] = (uint64_t)o->sid << 32 | 0x10;
			evt[i][1] = 0x0000000880000000ull | ((k + i) & 0xffff);
			evt[i][2] = 0x1000ull * (k + i);
			evt[i][3] = 0;
		}
		if (iopf_inject_raw((const uint64_t (*)[4])evt, 8)) {
			os_fail(o, "inject_raw failed");
			break;
		}
		atomic_store(&o->injected, k + 8);
		usleep(1000);
	}
	return NULL;
}

static void *os_listener(void *p)
{
	struct one_stall *o = p;
	struct iopf_nl *lis = iopf_nl_open(), *cmd = iopf_nl_open();
	struct iopf_nl_event ev;
	uint64_t last_rseq = 0;
	int sz = 16 << 20, r;

	if (!lis || !cmd || iopf_nl_subscribe(lis)) {
		os_fail(o, "listener: cannot open or subscribe");
		goto out;
	}
	setsockopt(lis->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	atomic_store(&o->lis_stop, 0);
	while (!atomic_load(&o->lis_stop)) {
		r = iopf_nl_recv_event(lis, 100, &ev);
		if (r == 0)
			continue;
		if (r < 0) {
			atomic_fetch_add(&o->overflow, 1);
			continue;
		}
		if (ev.cmd == IOPF_CMD_FAULT_NTF) {
			if (ev.fault.sid != o->sid)
				continue;
			/* answer every third: the rest wait for the others */
			if (atomic_fetch_add(&o->faults, 1) % 3 == 0 &&
			    !iopf_page_response(cmd, o->sid, ev.fault.grpid,
						IOPF_RESP_SUCCESS, NULL))
				atomic_fetch_add(&o->answered, 1);
			continue;
		}
		if (last_rseq && ev.resume.seq != last_rseq + 1)
			atomic_fetch_add(&o->rseq_gaps, 1);
		last_rseq = ev.resume.seq;
		if (ev.resume.sid != o->sid) {
			atomic_fetch_add(&o->other_sid, 1);
			continue;
		}
		if (ev.resume.origin > IOPF_ORIGIN_TIMEOUT || ev.resume.stag >= OS_STAGS) {
			os_fail(o, "a RESUME with an unknown origin or STAG");
			continue;
		}
		atomic_fetch_add(&o->resumes[ev.resume.stag], 1);
		atomic_fetch_add(&o->by_origin[ev.resume.origin], 1);
	}
out:
	iopf_nl_close(cmd);
	iopf_nl_close(lis);
	return NULL;
}

static void *os_churner(void *p)
{
	struct one_stall *o = p;
	struct iopf_nl *nl = iopf_nl_open();
	uint32_t r = 0x9e3779b9u, limit = 4, tmo;

	if (!nl) {
		os_fail(o, "churner: cannot open");
		return NULL;
	}
	while (!atomic_load(&o->stop) && now_ns() < o->deadline) {
		iopf_dev_del(nl, o->sid);
		usleep(rnd(&r) % 3000);
		if (iopf_dev_new(nl, o->sid)) {
			os_fail(o, "DEV_NEW failed");
			break;
		}
		switch (rnd(&r) % 4) {
		case 0:		/* no handler: the driver aborts */
			break;
		case 1:		/* a few pending at most */
			iopf_dev_set(nl, o->sid, &limit, NULL);
			iopf_handler_register(nl, o->sid, IOPF_REPORT_FLAT);
			break;
		case 2:		/* a short timeout */
			tmo = 1 + rnd(&r) % 20;
			iopf_dev_set(nl, o->sid, NULL, &tmo);
			iopf_handler_register(nl, o->sid, IOPF_REPORT_FLAT);
			break;
		default:	/* stage 1 filtered out: aborted */
			iopf_handler_register(nl, o->sid, (rnd(&r) & 1) ?
					      IOPF_REPORT_FLAT :
					      IOPF_REPORT_NESTED |
					      IOPF_REPORT_NESTED_L2_CONCERNED);
			break;
		}
		usleep(2000 + rnd(&r) % 20000);
	}
	iopf_nl_close(nl);
	return NULL;
}

TEST_F_TIMEOUT(stress, one_stall_one_resume, 180)
{
	struct iopf_nl *nl = self->nl;
	struct one_stall *o = calloc(1, sizeof(*o));
	pthread_t inj, lis, chu;
	struct iopf_nl_stats g0, g1;
	uint64_t unknown, none = 0, once = 0, twice = 0, sum = 0, t0;
	unsigned int k, n;

	ASSERT_NE(NULL, o);
	o->sid = self->base + 40;
	ASSERT_EQ(0, iopf_stats_get(nl, &g0));
	atomic_store(&o->lis_stop, 1);
	ASSERT_EQ(0, pthread_create(&lis, NULL, os_listener, o));
	for (k = 0; k < 100 && atomic_load(&o->lis_stop); k++)
		usleep(10000);
	ASSERT_EQ(0, iopf_dev_new(nl, o->sid));
	o->deadline = now_ns() + (uint64_t)stress_seconds() * 1000000000ull;
	ASSERT_EQ(0, pthread_create(&inj, NULL, os_injector, o));
	ASSERT_EQ(0, pthread_create(&chu, NULL, os_churner, o));
	pthread_join(inj, NULL);
	atomic_store(&o->stop, 1);
	pthread_join(chu, NULL);
	/* what is still pending is flushed: one RESUME each */
	iopf_dev_del(nl, o->sid);
	ASSERT_EQ(0, iopf_stats_get(nl, &g1));
	/* the listener has heard up to the last RESUME handed out */
	t0 = now_ns();
	while (now_ns() - t0 < 10000000000ull) {
		sum = 0;
		for (k = 0; k < OS_STAGS; k++)
			sum += atomic_load(&o->resumes[k]);
		if (sum + atomic_load(&o->other_sid) >=
		    g1.v[IOPF_STAT_A_RESUME_SEQ] - g0.v[IOPF_STAT_A_RESUME_SEQ])
			break;
		usleep(50000);
	}
	atomic_store(&o->lis_stop, 1);
	pthread_join(lis, NULL);
	ASSERT_EQ(0, atomic_load(&o->failed)) TH_LOG("%s", o->err);

	n = atomic_load(&o->injected);
	for (k = 0; k < n; k++) {
		unsigned int c = atomic_load(&o->resumes[k]);

		none += c == 0;
		once += c == 1;
		twice += c > 1;
	}
	unknown = g1.v[IOPF_STAT_A_UNKNOWN_SID] - g0.v[IOPF_STAT_A_UNKNOWN_SID];
	TH_LOG("%u stalls: %llu with one RESUME (response %llu, report_failed %llu, flush %llu, timeout %llu), %llu with none (unknown StreamID %llu), %llu with more; %llu faults heard, %llu answered",
	       n, (unsigned long long)once,
	       (unsigned long long)atomic_load(&o->by_origin[IOPF_ORIGIN_RESPONSE]),
	       (unsigned long long)atomic_load(&o->by_origin[IOPF_ORIGIN_REPORT_FAILED]),
	       (unsigned long long)atomic_load(&o->by_origin[IOPF_ORIGIN_FLUSH]),
	       (unsigned long long)atomic_load(&o->by_origin[IOPF_ORIGIN_TIMEOUT]),
	       (unsigned long long)none, (unsigned long long)unknown,
	       (unsigned long long)twice, (unsigned long long)atomic_load(&o->faults),
	       (unsigned long long)atomic_load(&o->answered));
	EXPECT_EQ(0u, atomic_load(&o->overflow));
	EXPECT_EQ(0u, atomic_load(&o->rseq_gaps));
	EXPECT_EQ(g0.v[IOPF_STAT_A_RESUME_LOST], g1.v[IOPF_STAT_A_RESUME_LOST]);
	EXPECT_EQ(0u, twice);
	EXPECT_EQ(unknown, none);
	EXPECT_EQ((uint64_t)n, once + none);
	/* every path was taken */
	EXPECT_LT(0u, atomic_load(&o->by_origin[IOPF_ORIGIN_RESPONSE]));
	EXPECT_LT(0u, atomic_load(&o->by_origin[IOPF_ORIGIN_REPORT_FAILED]));
	EXPECT_LT(0u, atomic_load(&o->by_origin[IOPF_ORIGIN_FLUSH]));
	EXPECT_LT(0u, atomic_load(&o->by_origin[IOPF_ORIGIN_TIMEOUT]));
	EXPECT_LT(0u, unknown);
	free(o);
}

/* ------------------------------------------------------------------ */
/* stress.pending_dump_full and stress.timeout_sweep                    */
/* ------------------------------------------------------------------ */

/*
 * How many page requests the two cases below hold on one device:
 * IOPF_STRESS_PENDING (a kernel command line's NAME=value reaches init's
 * environment), else dflt, or dflt_debug on a kernel with lockdep (the
 * debug cell: several times slower, every notification checked, and a
 * budget for all programs together). At least 2048, so that the 1,024
 * figure has a bigger one to compare with.
 */
static unsigned int stress_pending(unsigned int dflt, unsigned int dflt_debug)
{
	const char *e = getenv("IOPF_STRESS_PENDING");
	unsigned long v = e ? strtoul(e, NULL, 0) : 0;

	if (!v)
		return access("/proc/lockdep_stats", F_OK) ? dflt : dflt_debug;
	if (v < 2048)
		return 2048;
	return v > IOPF_PENDING_LIMIT_MAX ? IOPF_PENDING_LIMIT_MAX : (unsigned int)v;
}

/* Stalls with STAGs first..first+n-1 at sid, in writes of up to 1 MiB */
static int inject_stalls(uint32_t sid, unsigned int first, unsigned int n)
{
	static uint64_t evt[32768][4];
	unsigned int k, i, chunk;
	int ret;

	for (k = 0; k < n; k += chunk) {
		chunk = n - k < 32768 ? n - k : 32768;
		for (i = 0; i < chunk; i++) {
			evt[i][0] = (uint64_t)sid << 32 | 0x10;
			evt[i][1] = 0x0000000880000000ull |
				    ((first + k + i) & 0xffff);
			evt[i][2] = 0x1000ull * (first + k + i);
			evt[i][3] = 0;
		}
		ret = iopf_inject_raw((const uint64_t (*)[4])evt, chunk);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Whole PENDING_GETs of sid, reps of them: the best one's wall time, as a
 * diagnostic line (the best: a TCG guest on a shared host is noisy)
 */
static int timed_pending_dump(struct iopf_nl *nl, uint32_t sid,
			      struct iopf_nl_fault *out, int max, int reps)
{
	uint64_t t0, dt, best = UINT64_MAX;
	int n = 0, i;

	for (i = 0; i < reps; i++) {
		t0 = now_ns();
		n = iopf_pending_dump(nl, &sid, out, max);
		dt = now_ns() - t0;
		if (n < 0)
			return n;
		best = dt < best ? dt : best;
	}
	best = best ? best : 1;
	printf("# PENDING_GET of %d pending, best of %d: %.1f ms, %.0f entries/s\n",
	       n, reps, best / 1e6, n * 1e9 / best);
	return n;
}

struct pd_walk {
	uint64_t last_seq;
	int last_stag;
	unsigned char *seen;
	unsigned int n, bad_order, bad_sid, twice;
	uint32_t sid;
};

static int pd_walk_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		      size_t len, void *arg)
{
	struct pd_walk *w = arg;
	const struct nlattr *a = attrs;
	struct iopf_nl_fault f;

	(void)nl;
	(void)cmd;
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == IOPF_A_FAULT) {
			memset(&f, 0, sizeof(f));
			if (iopf_nl_parse_fault((const char *)a + NLA_HDRLEN,
						a->nla_len - NLA_HDRLEN, &f))
				return -EPROTO;
			if (f.sid != w->sid)
				w->bad_sid++;
			if (f.seq <= w->last_seq || (int)f.grpid <= w->last_stag)
				w->bad_order++;
			if (w->seen[f.grpid & 0xffff]++)
				w->twice++;
			w->last_seq = f.seq;
			w->last_stag = (int)f.grpid;
			w->n++;
		}
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return 0;
}

/*
 * PENDING_GET of one device holding the most page requests it may: every
 * one is dumped once, in SEQ order, while page responses (to requests the
 * dump has passed and to ones it has not reached) come between its parts.
 * Answered ones may or may not appear; none twice; none of those still
 * pending missing. Also prints the dump's cost at 1,024 and at the full
 * count: the per-entry cost must stay flat (a figure, not an assertion).
 */
TEST_F_TIMEOUT(stress, pending_dump_full, 600)
{
	unsigned int n = stress_pending(IOPF_PENDING_LIMIT_MAX, 32768);
	struct iopf_nl *nl = self->nl, *rsp = iopf_nl_open();
	struct iopf_nl_fault *out = calloc(n, sizeof(*out));
	unsigned char *answered = calloc(65536, 1);
	struct pd_walk w = { .last_stag = -1 };
	uint32_t sid = self->base + 41, limit = n, r = 0x2545f491u;
	unsigned int k, steps = 0, nanswered = 0, missing = 0;
	struct iopf_nl_dev d;
	struct iopf_nl_msg m;
	uint16_t flags = 0;
	uint64_t t_start = now_ns();
	int ret, i;

	ASSERT_NE(NULL, rsp);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, answered);
	w.seen = calloc(65536, 1);
	ASSERT_NE(NULL, w.seen);
	w.sid = sid;
	ASSERT_EQ(0, iopf_dev_new(nl, sid));
	ASSERT_EQ(0, iopf_dev_set(nl, sid, &limit, NULL)) TH_LOG("%s", nl->ext_msg);
	ASSERT_EQ(0, iopf_handler_register(nl, sid, IOPF_REPORT_FLAT));

	/* 1,024 pending: the small figure */
	ASSERT_EQ(0, inject_stalls(sid, 0, 1024));
	ASSERT_EQ(1024, timed_pending_dump(nl, sid, out, (int)n, 25));
	/* all of them: the big one */
	ASSERT_EQ(0, inject_stalls(sid, 1024, n - 1024));
	ASSERT_EQ(0, iopf_dev_get(nl, sid, &d));
	ASSERT_EQ((uint64_t)n, d.stats.v[IOPF_STAT_A_PENDING]);
	ASSERT_EQ((int)n, timed_pending_dump(nl, sid, out, (int)n, 3));
	for (i = 0; i < (int)n; i++)
		ASSERT_EQ((uint32_t)i, out[i].grpid) TH_LOG("entry %d", i);

	/* Again, answering between its parts: behind it, ahead of it, next */
	iopf_msg_family(&m, nl, IOPF_CMD_PENDING_GET, true);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	ASSERT_EQ(0, iopf_nl_dump_start(nl, &m));
	do {
		ret = iopf_nl_dump_step(nl, pd_walk_cb, &w, &flags);
		ASSERT_LE(0, ret) TH_LOG("dump step %u: %s", steps, strerror(-ret));
		steps++;
		for (k = 0; k < 4; k++) {
			uint32_t stag;

			if (k == 0)		/* the next one the dump would send */
				stag = (uint32_t)(w.last_stag + 1);
			else if (k == 1 && w.last_stag >= 0)	/* passed */
				stag = rnd(&r) % (uint32_t)(w.last_stag + 1);
			else			/* anywhere */
				stag = rnd(&r) % n;
			if (stag >= n || answered[stag])
				continue;
			ASSERT_EQ(0, iopf_page_response(rsp, sid, stag,
							IOPF_RESP_SUCCESS, NULL))
				TH_LOG("response to STAG %u: %s", stag, rsp->ext_msg);
			answered[stag] = 1;
			nanswered++;
		}
	} while (ret > 0);

	for (k = 0; k < n; k++)
		if (!answered[k] && w.seen[k] != 1)
			missing++;
	printf("# interleaved dump: %u parts, %u entries, %u answered meanwhile\n",
	       steps, w.n, nanswered);
	EXPECT_EQ(0u, w.bad_sid);
	EXPECT_EQ(0u, w.bad_order);
	EXPECT_EQ(0u, w.twice);
	EXPECT_EQ(0u, missing);
	EXPECT_LT(10u, steps);
	ASSERT_EQ(0, iopf_dev_get(nl, sid, &d));
	EXPECT_EQ((uint64_t)(n - nanswered), d.stats.v[IOPF_STAT_A_PENDING]);
	EXPECT_EQ((uint64_t)nanswered, d.stats.v[IOPF_STAT_A_RESPONSES]);

	/* removal flushes the rest */
	EXPECT_EQ(0, iopf_dev_del(nl, sid));
	printf("# %u pending: the case took %.1f s\n", n,
	       (now_ns() - t_start) / 1e9);
	iopf_nl_close(rsp);
	free(w.seen);
	free(answered);
	free(out);
}

struct sweep {
	uint32_t sid;
	atomic_int stop, ready;
	atomic_ullong by_origin[IOPF_ORIGIN_TIMEOUT + 1];
	atomic_ullong overflow, other;
};

static void *sweep_listener(void *p)
{
	struct sweep *sw = p;
	struct iopf_nl *lis = iopf_nl_open();
	struct iopf_nl_event ev;
	int sz = 32 << 20, r;

	if (!lis || iopf_nl_subscribe(lis)) {
		atomic_fetch_add(&sw->overflow, 1);
		atomic_store(&sw->ready, 1);
		iopf_nl_close(lis);
		return NULL;
	}
	setsockopt(lis->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	atomic_store(&sw->ready, 1);
	while (!atomic_load(&sw->stop)) {
		r = iopf_nl_recv_event(lis, 100, &ev);
		if (r == 0 || (r > 0 && ev.cmd != IOPF_CMD_RESUME_NTF))
			continue;
		if (r < 0) {
			atomic_fetch_add(&sw->overflow, 1);
			continue;
		}
		if (ev.resume.sid != sw->sid ||
		    ev.resume.origin > IOPF_ORIGIN_TIMEOUT) {
			atomic_fetch_add(&sw->other, 1);
			continue;
		}
		atomic_fetch_add(&sw->by_origin[ev.resume.origin], 1);
	}
	iopf_nl_close(lis);
	return NULL;
}

/*
 * Thousands of page requests time out at once: the sweep answers every
 * one (a RESUME each, counted as a timeout), in runs short enough that a
 * DEV_GET and a page response get the device in between (the sweep must
 * not hold it from first to last).
 */
TEST_F_TIMEOUT(stress, timeout_sweep, 300)
{
	unsigned int n = stress_pending(16384, 4096) / 2;
	struct iopf_nl *nl = self->nl;
	struct sweep *sw = calloc(1, sizeof(*sw));
	uint32_t limit = n, tmo = 200, sid = self->base + 42;
	uint64_t t0, pending, mid_gets = 0, gets = 0, worst = 0, t, sweep_ns;
	uint64_t t_start = now_ns();
	bool answered_mid = false;
	struct iopf_nl_dev d;
	pthread_t lis;

	ASSERT_NE(NULL, sw);
	sw->sid = sid;
	ASSERT_EQ(0, pthread_create(&lis, NULL, sweep_listener, sw));
	while (!atomic_load(&sw->ready))
		usleep(1000);
	ASSERT_EQ(0, iopf_dev_new(nl, sid));
	ASSERT_EQ(0, iopf_dev_set(nl, sid, &limit, NULL));
	ASSERT_EQ(0, iopf_handler_register(nl, sid, IOPF_REPORT_FLAT));
	t0 = now_ns();
	ASSERT_EQ(0, inject_stalls(sid, 0, n));
	printf("# %u stalls injected in %.1f ms\n", n, (now_ns() - t0) / 1e6);
	ASSERT_EQ(0, iopf_dev_get(nl, sid, &d));
	ASSERT_EQ((uint64_t)n, d.stats.v[IOPF_STAT_A_PENDING]);
	/* No timeout until every one is older than it: all due at once */
	usleep((tmo + 100) * 1000);
	ASSERT_EQ(0, iopf_dev_set(nl, sid, NULL, &tmo));

	/* DEV_GET in a loop until nothing is pending */
	t0 = now_ns();
	do {
		t = now_ns();
		ASSERT_EQ(0, iopf_dev_get(nl, sid, &d));
		t = now_ns() - t;
		worst = t > worst ? t : worst;
		gets++;
		pending = d.stats.v[IOPF_STAT_A_PENDING];
		if (pending && d.stats.v[IOPF_STAT_A_TIMEOUTS]) {
			mid_gets++;
			/* the youngest is the last due: answer it mid-sweep */
			if (!answered_mid &&
			    !iopf_page_response(nl, sid, n - 1,
						IOPF_RESP_SUCCESS, NULL))
				answered_mid = true;
		}
		ASSERT_GT(60000000000ull, now_ns() - t0) TH_LOG("still %llu pending",
			(unsigned long long)pending);
	} while (pending);
	sweep_ns = now_ns() - t0;

	/* every RESUME heard */
	t0 = now_ns();
	while (atomic_load(&sw->by_origin[IOPF_ORIGIN_TIMEOUT]) +
	       atomic_load(&sw->by_origin[IOPF_ORIGIN_RESPONSE]) < n &&
	       now_ns() - t0 < 10000000000ull)
		usleep(10000);
	atomic_store(&sw->stop, 1);
	pthread_join(lis, NULL);
	printf("# timeout sweep of %u: %.1f ms, %llu DEV_GETs, %llu of them mid-sweep, slowest %.1f ms; response mid-sweep: %s\n",
	       n, sweep_ns / 1e6, (unsigned long long)gets,
	       (unsigned long long)mid_gets, worst / 1e6,
	       answered_mid ? "yes" : "no");
	EXPECT_EQ(0u, atomic_load(&sw->overflow));
	EXPECT_EQ(0u, atomic_load(&sw->other));
	EXPECT_EQ(d.stats.v[IOPF_STAT_A_TIMEOUTS],
		  atomic_load(&sw->by_origin[IOPF_ORIGIN_TIMEOUT]));
	EXPECT_EQ(d.stats.v[IOPF_STAT_A_RESPONSES],
		  atomic_load(&sw->by_origin[IOPF_ORIGIN_RESPONSE]));
	EXPECT_EQ((uint64_t)n, d.stats.v[IOPF_STAT_A_TIMEOUTS] +
			       d.stats.v[IOPF_STAT_A_RESPONSES]);
	EXPECT_EQ((uint64_t)(answered_mid ? 1 : 0), d.stats.v[IOPF_STAT_A_RESPONSES]);
	/* the device answered while the sweep was under way */
	EXPECT_LT(0u, mid_gets);
	EXPECT_TRUE(answered_mid);
	EXPECT_EQ(0, iopf_dev_del(nl, sid));
	printf("# %u pending: the case took %.1f s\n", n,
	       (now_ns() - t_start) / 1e9);
	free(sw);
}

/* ------------------------------------------------------------------ */
/* reload.race_with_churn_and_injection                                 */
/* ------------------------------------------------------------------ */

/*
 * rmmod/insmod in a loop while other threads create and delete devices on
 * fresh StreamIDs, register handlers and inject stalls at them: every call
 * may find the module gone or a new one. The module must not mind (the
 * debug kernel's KASAN, lockdep and kmemleak watch; suite.sh checks the
 * log). Bounded: RACE_ROUNDS unload attempts or IOPF_STRESS_SECONDS * 3
 * (an insmod takes a few hundred ms under TCG, more on the debug kernel).
 */
#define RACE_ROUNDS	300
#define RACE_SIDS	200

static void race_evt(uint32_t sid, uint32_t stag, bool stall, uint64_t evt[4])
{
	evt[0] = (uint64_t)sid << 32 | 0x10;
	evt[1] = 0x0000000800000000ull | (stall ? 0x80000000ull | (stag & 0xffff) : 0);
	evt[2] = 0x1000;
	evt[3] = 0;
}

struct race {
	uint32_t base;
	atomic_int stop;
	atomic_ullong news, injects;
};

static void *race_churner(void *p)
{
	struct race *r = p;
	uint32_t sid = r->base, x = 0x12345u;
	uint64_t evt[2][4];

	while (!atomic_load(&r->stop)) {
		struct iopf_nl *nl = iopf_nl_open();	/* the family may be new */

		if (!nl) {
			usleep(1000);
			continue;
		}
		sid = r->base + (sid - r->base + 1) % RACE_SIDS;
		if (!iopf_dev_new(nl, sid)) {
			atomic_fetch_add(&r->news, 1);
			iopf_handler_register(nl, sid, IOPF_REPORT_FLAT);
			race_evt(sid, rnd(&x), true, evt[0]);
			race_evt(sid, 0, false, evt[1]);
			if (!iopf_inject_raw((const uint64_t (*)[4])evt, 2))
				atomic_fetch_add(&r->injects, 1);
			if (rnd(&x) & 1)
				iopf_dev_del(nl, sid);
		}
		iopf_nl_close(nl);
	}
	return NULL;
}

static void *race_injector(void *p)
{
	struct race *r = p;
	uint32_t x = 0x777u;
	uint64_t evt[4][4];
	int i;

	while (!atomic_load(&r->stop)) {
		for (i = 0; i < 4; i++)
			race_evt(r->base + rnd(&x) % RACE_SIDS, rnd(&x), true,
				 evt[i]);
		if (!iopf_inject_raw((const uint64_t (*)[4])evt, 4))
			atomic_fetch_add(&r->injects, 1);
		/* an open inject_raw holds the module: leave rmmod a chance */
		usleep(5000);
	}
	return NULL;
}

TEST_F_TIMEOUT(reload, race_with_churn_and_injection, 300)
{
	struct race r = { .base = self->base + 300 };
	pthread_t chu[2], inj;
	uint64_t deadline = now_ns() + 3ull * stress_seconds() * 1000000000ull;
	unsigned int rounds = 0, unloaded = 0, busy = 0;
	/* Set in a loop after the harness's setjmp (-Wclobbered at -O2) */
	volatile int ret;
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&chu[i], NULL, race_churner, &r));
	ASSERT_EQ(0, pthread_create(&inj, NULL, race_injector, &r));
	while (rounds < RACE_ROUNDS && now_ns() < deadline) {
		rounds++;
		ret = unload();
		if (ret == -EAGAIN || ret == -EBUSY) {
			busy++;	/* a debugfs file or a dump holds it */
			ret = 0;	/* not a failure, even in the last round */
			usleep(500);
			continue;
		}
		if (ret) {
			TH_LOG("rmmod: %s", strerror(-ret));
			break;
		}
		unloaded++;
		ret = load(self->params);
		if (ret) {
			TH_LOG("insmod: %s", strerror(-ret));
			break;
		}
		usleep(2000);
	}
	atomic_store(&r.stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(chu[i], NULL);
	pthread_join(inj, NULL);
	if (!loaded())
		ASSERT_EQ(0, load(self->params));
	TH_LOG("%u rounds: %u unloads and reloads, %u refused while busy; %llu devices created, %llu writes injected",
	       rounds, unloaded, busy, (unsigned long long)atomic_load(&r.news),
	       (unsigned long long)atomic_load(&r.injects));
	ASSERT_EQ(0, ret);
	/*
	 * The race ran: reloads while devices came and went and records were
	 * injected. How many fit in the time is the kernel's speed, not a
	 * verdict (Debian's kernels: 60-170 reloads; the debug cell, whose
	 * KUnit suites run at every load: a handful).
	 */
	EXPECT_LE(1u, unloaded);
	EXPECT_LT(0u, atomic_load(&r.news));
	EXPECT_LT(0u, atomic_load(&r.injects));
}

TEST_HARNESS_MAIN
