// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal generic netlink client for the iopf_testbed family: raw sockets,
 * extack, dumps, and the "faults" multicast group. See iopf_nl.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "iopf_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
/* enum nlmsgerr_attrs, spelled out for older headers */
#define IOPF_NLMSGERR_ATTR_MSG		1
#define IOPF_NLMSGERR_ATTR_OFFS		2
#define IOPF_NLMSGERR_ATTR_MISS_TYPE	5
#define IOPF_NLMSGERR_ATTR_MISS_NEST	6

#define IOPF_NL_RCVBUF		(64 * 1024)
#define IOPF_NL_REPLY_TIMEOUT_MS 10000

/* ---- attribute iteration ---- */

struct attr_it {
	const uint8_t *p;
	size_t rem;
};

static void attr_it_init(struct attr_it *it, const void *data, size_t len)
{
	it->p = data;
	it->rem = len;
}

static const struct nlattr *attr_next(struct attr_it *it)
{
	const struct nlattr *a;
	size_t step;

	if (it->rem < NLA_HDRLEN)
		return NULL;
	a = (const struct nlattr *)it->p;
	if (a->nla_len < NLA_HDRLEN || a->nla_len > it->rem)
		return NULL;
	step = NLA_ALIGN(a->nla_len);
	if (step > it->rem)
		step = it->rem;
	it->p += step;
	it->rem -= step;
	return a;
}

static uint16_t attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static const void *attr_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* Exact-size getters: a wrong size reads as "absent" */
static bool attr_u8(const struct nlattr *a, uint8_t *v)
{
	if (attr_len(a) != 1)
		return false;
	memcpy(v, attr_data(a), 1);
	return true;
}

static bool attr_u16(const struct nlattr *a, uint16_t *v)
{
	if (attr_len(a) != 2)
		return false;
	memcpy(v, attr_data(a), 2);
	return true;
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (attr_len(a) != 4)
		return false;
	memcpy(v, attr_data(a), 4);
	return true;
}

static bool attr_u64(const struct nlattr *a, uint64_t *v)
{
	if (attr_len(a) != 8)
		return false;
	memcpy(v, attr_data(a), 8);
	return true;
}

/* ---- nest parsers ---- */

int iopf_nl_parse_fault(const void *data, size_t len, struct iopf_nl_fault *f)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(f, 0, sizeof(*f));
	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);
		bool ok = false;

		switch (t) {
		case IOPF_FAULT_A_SEQ:
			ok = attr_u64(a, &f->seq);
			break;
		case IOPF_FAULT_A_DEV_SEQ:
			ok = attr_u64(a, &f->dev_seq);
			break;
		case IOPF_FAULT_A_TIMESTAMP_NS:
			ok = attr_u64(a, &f->timestamp_ns);
			break;
		case IOPF_FAULT_A_SID:
			ok = attr_u32(a, &f->sid);
			break;
		case IOPF_FAULT_A_EVENT_ID:
			ok = attr_u32(a, &f->event_id);
			break;
		case IOPF_FAULT_A_TYPE:
			ok = attr_u32(a, &f->type);
			break;
		case IOPF_FAULT_A_LEVEL:
			ok = attr_u32(a, &f->level);
			break;
		case IOPF_FAULT_A_FLAGS:
			ok = attr_u32(a, &f->flags);
			break;
		case IOPF_FAULT_A_PASID:
			ok = attr_u32(a, &f->pasid);
			break;
		case IOPF_FAULT_A_GRPID:
			ok = attr_u32(a, &f->grpid);
			break;
		case IOPF_FAULT_A_PERM:
			ok = attr_u32(a, &f->perm);
			break;
		case IOPF_FAULT_A_REASON:
			ok = attr_u32(a, &f->reason);
			break;
		case IOPF_FAULT_A_ADDR:
			ok = attr_u64(a, &f->addr);
			break;
		case IOPF_FAULT_A_IPA:
			ok = attr_u64(a, &f->ipa);
			break;
		case IOPF_FAULT_A_RECORD:
			f->record_len = (uint32_t)attr_len(a);
			if (attr_len(a) == sizeof(f->record)) {
				memcpy(f->record, attr_data(a), sizeof(f->record));
				ok = true;
			}
			break;
		default:
			break;	/* PAD and future attributes */
		}
		if (ok && t <= IOPF_FAULT_A_MAX)
			f->has[t] = true;
	}
	return 0;
}

int iopf_nl_parse_resume(const void *data, size_t len, struct iopf_nl_resume *r)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(r, 0, sizeof(*r));
	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);
		bool ok = false;

		switch (t) {
		case IOPF_RESUME_A_SEQ:
			ok = attr_u64(a, &r->seq);
			break;
		case IOPF_RESUME_A_SID:
			ok = attr_u32(a, &r->sid);
			break;
		case IOPF_RESUME_A_STAG:
			ok = attr_u32(a, &r->stag);
			break;
		case IOPF_RESUME_A_RESP:
			ok = attr_u32(a, &r->resp);
			break;
		case IOPF_RESUME_A_CODE:
			ok = attr_u32(a, &r->code);
			break;
		case IOPF_RESUME_A_ORIGIN:
			ok = attr_u32(a, &r->origin);
			break;
		case IOPF_RESUME_A_CMD:
			r->cmd_len = (uint32_t)attr_len(a);
			if (attr_len(a) == sizeof(r->cmd)) {
				memcpy(r->cmd, attr_data(a), sizeof(r->cmd));
				ok = true;
			}
			break;
		default:
			break;
		}
		if (ok && t <= IOPF_RESUME_A_MAX)
			r->has[t] = true;
	}
	return 0;
}

int iopf_nl_parse_stats(const void *data, size_t len, struct iopf_nl_stats *s)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(s, 0, sizeof(*s));
	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);

		if (t == IOPF_STAT_A_UNSPEC || t == IOPF_STAT_A_PAD ||
		    t > IOPF_STAT_A_MAX)
			continue;
		if (attr_u64(a, &s->v[t]))
			s->has[t] = true;
	}
	return 0;
}

int iopf_nl_parse_access(const void *data, size_t len,
			 struct iopf_nl_access *x)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(x, 0, sizeof(*x));
	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);
		bool ok = false;

		switch (t) {
		case IOPF_ACCESS_A_ID:
			ok = attr_u64(a, &x->id);
			break;
		case IOPF_ACCESS_A_SID:
			ok = attr_u32(a, &x->sid);
			break;
		case IOPF_ACCESS_A_PASID:
			ok = attr_u32(a, &x->pasid);
			break;
		case IOPF_ACCESS_A_ADDR:
			ok = attr_u64(a, &x->addr);
			break;
		case IOPF_ACCESS_A_LEN:
			ok = attr_u64(a, &x->len);
			break;
		case IOPF_ACCESS_A_PERM:
			ok = attr_u32(a, &x->perm);
			break;
		case IOPF_ACCESS_A_STATE:
			ok = attr_u32(a, &x->state);
			break;
		case IOPF_ACCESS_A_FAULTS:
			ok = attr_u32(a, &x->faults);
			break;
		case IOPF_ACCESS_A_FAULTS_L1:
			ok = attr_u32(a, &x->faults_l1);
			break;
		case IOPF_ACCESS_A_FAULTS_L2:
			ok = attr_u32(a, &x->faults_l2);
			break;
		case IOPF_ACCESS_A_RETRIES:
			ok = attr_u32(a, &x->retries);
			break;
		case IOPF_ACCESS_A_DONE:
			ok = attr_u64(a, &x->done);
			break;
		case IOPF_ACCESS_A_FAULT_SEQ:
			ok = attr_u64(a, &x->fault_seq);
			break;
		case IOPF_ACCESS_A_STAG:
			ok = attr_u32(a, &x->stag);
			break;
		case IOPF_ACCESS_A_START_NS:
			ok = attr_u64(a, &x->start_ns);
			break;
		case IOPF_ACCESS_A_END_NS:
			ok = attr_u64(a, &x->end_ns);
			break;
		case IOPF_ACCESS_A_STALL:
			ok = attr_len(a) == 0;
			x->stall = ok;
			break;
		default:
			break;
		}
		if (ok && t <= IOPF_ACCESS_A_MAX)
			x->has[t] = true;
	}
	return 0;
}

int iopf_nl_parse_mapping(const void *data, size_t len,
			  struct iopf_nl_mapping *x)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(x, 0, sizeof(*x));
	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);
		bool ok = false;

		switch (t) {
		case IOPF_MAPPING_A_SID:
			ok = attr_u32(a, &x->sid);
			break;
		case IOPF_MAPPING_A_STAGE:
			ok = attr_u32(a, &x->stage);
			break;
		case IOPF_MAPPING_A_PASID:
			ok = attr_u32(a, &x->pasid);
			break;
		case IOPF_MAPPING_A_ADDR:
			ok = attr_u64(a, &x->addr);
			break;
		case IOPF_MAPPING_A_OUT_ADDR:
			ok = attr_u64(a, &x->out_addr);
			break;
		case IOPF_MAPPING_A_LEN:
			ok = attr_u64(a, &x->len);
			break;
		case IOPF_MAPPING_A_PERM:
			ok = attr_u32(a, &x->perm);
			break;
		default:
			break;
		}
		if (ok && t <= IOPF_MAPPING_A_MAX)
			x->has[t] = true;
	}
	return 0;
}

int iopf_nl_parse_dev(const void *attrs, size_t len, struct iopf_nl_dev *d)
{
	const struct nlattr *a;
	struct attr_it it;

	memset(d, 0, sizeof(*d));
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		uint16_t t = attr_type(a);
		bool ok = false;

		switch (t) {
		case IOPF_A_SID:
			ok = attr_u32(a, &d->sid);
			break;
		case IOPF_A_REGISTERED:
			ok = attr_u8(a, &d->registered);
			break;
		case IOPF_A_FLAGS:
			ok = attr_u32(a, &d->flags);
			break;
		case IOPF_A_PENDING_LIMIT:
			ok = attr_u32(a, &d->pending_limit);
			break;
		case IOPF_A_TIMEOUT_MS:
			ok = attr_u32(a, &d->timeout_ms);
			break;
		case IOPF_A_STAGE_MODE:
			ok = attr_u32(a, &d->stage_mode);
			break;
		case IOPF_A_BRIDGE:
			ok = attr_u8(a, &d->bridge);
			break;
		case IOPF_A_IOMMUFD_DEV_ID:
			ok = attr_u32(a, &d->iommufd_dev_id);
			break;
		case IOPF_A_IOMMUFD_PT_ID:
			ok = attr_u32(a, &d->iommufd_pt_id);
			break;
		case IOPF_A_STATS:
			iopf_nl_parse_stats(attr_data(a), attr_len(a), &d->stats);
			ok = true;
			break;
		default:
			break;
		}
		if (ok && t <= IOPF_A_MAX)
			d->has[t] = true;
	}
	return 0;
}

/* ---- message building ---- */

void iopf_msg_init(struct iopf_nl_msg *m, uint16_t type, uint16_t flags,
		   uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nest_depth = 0;
}

void iopf_msg_family(struct iopf_nl_msg *m, const struct iopf_nl *nl,
		     uint8_t cmd, bool dump)
{
	iopf_msg_init(m, nl->family, dump ? NLM_F_DUMP : 0, cmd,
		      IOPF_GENL_VERSION);
}

void iopf_msg_put(struct iopf_nl_msg *m, uint16_t type, const void *data,
		  size_t len)
{
	struct nlattr *a;
	size_t total = NLA_HDRLEN + len;

	if (m->len + NLA_ALIGN(total) > sizeof(m->buf)) {
		fprintf(stderr, "iopf_nl: request too large\n");
		abort();
	}
	a = (struct nlattr *)(m->buf + m->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)total;
	if (len)
		memcpy(m->buf + m->len + NLA_HDRLEN, data, len);
	memset(m->buf + m->len + total, 0, NLA_ALIGN(total) - total);
	m->len += NLA_ALIGN(total);
}

void iopf_msg_put_u8(struct iopf_nl_msg *m, uint16_t type, uint8_t v)
{
	iopf_msg_put(m, type, &v, sizeof(v));
}

void iopf_msg_put_u16(struct iopf_nl_msg *m, uint16_t type, uint16_t v)
{
	iopf_msg_put(m, type, &v, sizeof(v));
}

void iopf_msg_put_u32(struct iopf_nl_msg *m, uint16_t type, uint32_t v)
{
	iopf_msg_put(m, type, &v, sizeof(v));
}

void iopf_msg_put_u64(struct iopf_nl_msg *m, uint16_t type, uint64_t v)
{
	iopf_msg_put(m, type, &v, sizeof(v));
}

void iopf_msg_put_str(struct iopf_nl_msg *m, uint16_t type, const char *s)
{
	iopf_msg_put(m, type, s, strlen(s) + 1);
}

/* ---- receiving ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to timeout_ms for one datagram; returns its length, 0, -errno */
static ssize_t nl_recv(struct iopf_nl *nl, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - now_ms();
		ssize_t n;
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		n = recv(nl->fd, nl->rcvbuf, nl->rcvbuf_len,
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if ((size_t)n > nl->rcvbuf_len)
			return -EMSGSIZE;
		return n;
	}
}

static void parse_ext_tlvs(struct iopf_nl *nl, const void *data, size_t len)
{
	const struct nlattr *a;
	struct attr_it it;

	attr_it_init(&it, data, len);
	while ((a = attr_next(&it))) {
		switch (attr_type(a)) {
		case IOPF_NLMSGERR_ATTR_MSG: {
			size_t l = attr_len(a);

			if (l >= sizeof(nl->ext_msg))
				l = sizeof(nl->ext_msg) - 1;
			memcpy(nl->ext_msg, attr_data(a), l);
			nl->ext_msg[l] = '\0';
			break;
		}
		case IOPF_NLMSGERR_ATTR_OFFS:
			attr_u32(a, &nl->ext_offs);
			break;
		case IOPF_NLMSGERR_ATTR_MISS_TYPE:
			attr_u32(a, &nl->ext_miss_type);
			break;
		case IOPF_NLMSGERR_ATTR_MISS_NEST:
			attr_u32(a, &nl->ext_miss_nest);
			break;
		default:
			break;
		}
	}
}

static void ext_clear(struct iopf_nl *nl)
{
	nl->ext_msg[0] = '\0';
	nl->ext_miss_type = 0;
	nl->ext_miss_nest = 0;
	nl->ext_offs = 0;
}

static void enqueue(struct iopf_nl *nl, const struct iopf_nl_event *ev)
{
	unsigned int next = (nl->qtail + 1) % IOPF_NL_QLEN;

	if (next == nl->qhead) {
		nl->pending_err = -ENOSPC;	/* our queue, not the socket */
		return;
	}
	nl->q[nl->qtail] = *ev;
	nl->qtail = next;
}

/* A multicast message of our family: queue its events */
static void queue_ntf(struct iopf_nl *nl, const struct nlmsghdr *h)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const void *attrs = (const uint8_t *)g + GENL_HDRLEN;
	size_t len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct iopf_nl_event ev;	/* not static: sockets live in threads */
	const struct nlattr *a;
	struct attr_it it;
	int nests = 0;

	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	if (g->cmd == IOPF_CMD_FAULT_NTF) {
		attr_it_init(&it, attrs, len);
		while ((a = attr_next(&it)))
			if (attr_type(a) == IOPF_A_FAULT)
				nests++;
	}
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		memset(&ev, 0, sizeof(ev));
		if (g->cmd == IOPF_CMD_FAULT_NTF && attr_type(a) == IOPF_A_FAULT) {
			ev.cmd = IOPF_CMD_FAULT_NTF;
			iopf_nl_parse_fault(attr_data(a), attr_len(a), &ev.fault);
			ev.fault.nests_in_msg = nests;
			enqueue(nl, &ev);
		} else if (g->cmd == IOPF_CMD_RESUME_NTF &&
			   attr_type(a) == IOPF_A_RESUME) {
			ev.cmd = IOPF_CMD_RESUME_NTF;
			iopf_nl_parse_resume(attr_data(a), attr_len(a), &ev.resume);
			enqueue(nl, &ev);
		} else if (g->cmd == IOPF_CMD_ACCESS_NTF &&
			   attr_type(a) == IOPF_A_ACCESS) {
			ev.cmd = IOPF_CMD_ACCESS_NTF;
			iopf_nl_parse_access(attr_data(a), attr_len(a), &ev.access);
			enqueue(nl, &ev);
		}
	}
}

int iopf_nl_transact(struct iopf_nl *nl, struct iopf_nl_msg *m,
		     iopf_nl_cb cb, void *arg)
{
	struct nlmsghdr *req = (struct nlmsghdr *)m->buf;
	bool dump = req->nlmsg_flags & NLM_F_DUMP;
	int cb_err = 0;

	req->nlmsg_len = (uint32_t)m->len;
	req->nlmsg_seq = ++nl->seq;
	req->nlmsg_pid = 0;
	if (!dump)
		req->nlmsg_flags |= NLM_F_ACK;
	ext_clear(nl);

	if (send(nl->fd, m->buf, m->len, 0) < 0)
		return -errno;

	for (;;) {
		ssize_t n = nl_recv(nl, IOPF_NL_REPLY_TIMEOUT_MS);
		struct nlmsghdr *h;
		size_t rem;

		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0) {
			if (n == -ENOBUFS && nl->subscribed) {
				nl->pending_err = -ENOBUFS;
				continue;
			}
			return (int)n;
		}
		rem = (size_t)n;
		for (h = (struct nlmsghdr *)nl->rcvbuf; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_seq == 0 && h->nlmsg_pid == 0 &&
			    h->nlmsg_type == nl->family) {
				queue_ntf(nl, h);
				continue;
			}
			if (h->nlmsg_seq != nl->seq)
				continue;	/* stale */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				size_t off = sizeof(*e);

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
					return -EPROTO;
				if (!(h->nlmsg_flags & NLM_F_CAPPED))
					off += NLMSG_ALIGN(e->msg.nlmsg_len -
							   NLMSG_HDRLEN);
				if ((h->nlmsg_flags & NLM_F_ACK_TLVS) &&
				    NLMSG_HDRLEN + off < h->nlmsg_len)
					parse_ext_tlvs(nl, (const uint8_t *)e + off,
						       h->nlmsg_len - NLMSG_HDRLEN - off);
				return e->error ? e->error : cb_err;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
					memcpy(&err, NLMSG_DATA(h), sizeof(int));
				if ((h->nlmsg_flags & NLM_F_ACK_TLVS) &&
				    h->nlmsg_len > NLMSG_HDRLEN + sizeof(int))
					parse_ext_tlvs(nl,
						(const uint8_t *)NLMSG_DATA(h) + sizeof(int),
						h->nlmsg_len - NLMSG_HDRLEN - sizeof(int));
				return err ? err : cb_err;
			}
			if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
				continue;
			if (cb) {
				const struct genlmsghdr *g = NLMSG_DATA(h);
				int r = cb(nl, g->cmd,
					   (const uint8_t *)g + GENL_HDRLEN,
					   h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
					   arg);
				if (r < 0 && !cb_err)
					cb_err = r;
			}
		}
	}
}

int iopf_nl_dump_start(struct iopf_nl *nl, struct iopf_nl_msg *m)
{
	struct nlmsghdr *req = (struct nlmsghdr *)m->buf;

	req->nlmsg_len = (uint32_t)m->len;
	req->nlmsg_seq = ++nl->seq;
	req->nlmsg_pid = 0;
	ext_clear(nl);
	if (send(nl->fd, m->buf, m->len, 0) < 0)
		return -errno;
	return 0;
}

int iopf_nl_dump_step(struct iopf_nl *nl, iopf_nl_cb cb, void *arg,
		      uint16_t *flags)
{
	ssize_t n = nl_recv(nl, IOPF_NL_REPLY_TIMEOUT_MS);
	struct nlmsghdr *h;
	size_t rem;

	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return (int)n;
	rem = (size_t)n;
	for (h = (struct nlmsghdr *)nl->rcvbuf; NLMSG_OK(h, rem);
	     h = NLMSG_NEXT(h, rem)) {
		if (h->nlmsg_seq == 0 && h->nlmsg_pid == 0 &&
		    h->nlmsg_type == nl->family) {
			queue_ntf(nl, h);
			continue;
		}
		if (h->nlmsg_seq != nl->seq)
			continue;
		if (flags)
			*flags |= h->nlmsg_flags;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
				return -EPROTO;
			return e->error ? e->error : -EPROTO;
		}
		if (h->nlmsg_type == NLMSG_DONE) {
			int err = 0;

			if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
				memcpy(&err, NLMSG_DATA(h), sizeof(int));
			return err;
		}
		if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
			continue;
		if (cb) {
			const struct genlmsghdr *g = NLMSG_DATA(h);

			cb(nl, g->cmd, (const uint8_t *)g + GENL_HDRLEN,
			   h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, arg);
		}
	}
	return 1;
}

/* ---- family resolution ---- */

struct resolve_arg {
	const char *grp_name;
	uint16_t id;
	uint32_t grp;
	bool got_id;
};

static int resolve_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		      size_t len, void *arg)
{
	struct resolve_arg *ra = arg;
	const struct nlattr *a;
	struct attr_it it;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		if (attr_type(a) == CTRL_ATTR_FAMILY_ID) {
			ra->got_id = attr_u16(a, &ra->id);
		} else if (attr_type(a) == CTRL_ATTR_MCAST_GROUPS && ra->grp_name) {
			const struct nlattr *g;
			struct attr_it git;

			attr_it_init(&git, attr_data(a), attr_len(a));
			while ((g = attr_next(&git))) {
				const struct nlattr *f;
				struct attr_it fit;
				const char *name = NULL;
				uint32_t id = 0;

				attr_it_init(&fit, attr_data(g), attr_len(g));
				while ((f = attr_next(&fit))) {
					if (attr_type(f) == CTRL_ATTR_MCAST_GRP_NAME &&
					    attr_len(f) > 0 &&
					    ((const char *)attr_data(f))[attr_len(f) - 1] == '\0')
						name = attr_data(f);
					else if (attr_type(f) == CTRL_ATTR_MCAST_GRP_ID)
						attr_u32(f, &id);
				}
				if (name && !strcmp(name, ra->grp_name))
					ra->grp = id;
			}
		}
	}
	return 0;
}

int iopf_nl_resolve(struct iopf_nl *nl, const char *family,
		    const char *mcgrp_name, uint16_t *id, uint32_t *grp)
{
	struct resolve_arg ra = { .grp_name = mcgrp_name };
	struct iopf_nl_msg *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	iopf_msg_init(m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	iopf_msg_put_str(m, CTRL_ATTR_FAMILY_NAME, family);
	ret = iopf_nl_transact(nl, m, resolve_cb, &ra);
	free(m);
	if (ret)
		return ret;
	if (!ra.got_id)
		return -EPROTO;
	*id = ra.id;
	if (grp)
		*grp = ra.grp;
	return 0;
}

struct iopf_nl *iopf_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iopf_nl *nl;
	int one = 1, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return NULL;
	nl->rcvbuf_len = IOPF_NL_RCVBUF;
	nl->rcvbuf = malloc(nl->rcvbuf_len);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (!nl->rcvbuf || nl->fd < 0)
		goto err;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	ret = iopf_nl_resolve(nl, IOPF_GENL_NAME, IOPF_GENL_MCGRP_FAULTS,
			      &nl->family, &nl->mcgrp);
	if (ret) {
		errno = -ret;
		goto err;
	}
	return nl;
err:
	ret = errno;
	iopf_nl_close(nl);
	errno = ret;
	return NULL;
}

void iopf_nl_close(struct iopf_nl *nl)
{
	if (!nl)
		return;
	if (nl->fd >= 0)
		close(nl->fd);
	free(nl->rcvbuf);
	free(nl);
}

/* ---- family commands ---- */

static int sid_cmd(struct iopf_nl *nl, uint8_t cmd, uint32_t sid)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, cmd, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_dev_new(struct iopf_nl *nl, uint32_t sid)
{
	return sid_cmd(nl, IOPF_CMD_DEV_NEW, sid);
}

int iopf_dev_del(struct iopf_nl *nl, uint32_t sid)
{
	return sid_cmd(nl, IOPF_CMD_DEV_DEL, sid);
}

int iopf_handler_unregister(struct iopf_nl *nl, uint32_t sid)
{
	return sid_cmd(nl, IOPF_CMD_HANDLER_UNREGISTER, sid);
}

struct dev_arg {
	struct iopf_nl_dev *out;
	int max;
	int n;
};

static int dev_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		  size_t len, void *arg)
{
	struct dev_arg *da = arg;

	(void)nl;
	(void)cmd;
	if (da->n < da->max)
		iopf_nl_parse_dev(attrs, len, &da->out[da->n]);
	da->n++;
	return 0;
}

int iopf_dev_get(struct iopf_nl *nl, uint32_t sid, struct iopf_nl_dev *out)
{
	struct dev_arg da = { .out = out, .max = 1 };
	struct iopf_nl_msg m;
	int ret;

	iopf_msg_family(&m, nl, IOPF_CMD_DEV_GET, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	ret = iopf_nl_transact(nl, &m, dev_cb, &da);
	if (ret)
		return ret;
	return da.n == 1 ? 0 : -EPROTO;
}

int iopf_dev_dump(struct iopf_nl *nl, struct iopf_nl_dev *out, int max)
{
	return iopf_dev_dump_sid(nl, NULL, out, max);
}

int iopf_dev_dump_sid(struct iopf_nl *nl, const uint32_t *sid,
		      struct iopf_nl_dev *out, int max)
{
	struct dev_arg da = { .out = out, .max = max };
	struct iopf_nl_msg m;
	int ret;

	iopf_msg_family(&m, nl, IOPF_CMD_DEV_GET, true);
	if (sid)
		iopf_msg_put_u32(&m, IOPF_A_SID, *sid);
	ret = iopf_nl_transact(nl, &m, dev_cb, &da);
	return ret ? ret : da.n;
}

int iopf_dev_set(struct iopf_nl *nl, uint32_t sid, const uint32_t *pending_limit,
		 const uint32_t *timeout_ms)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_DEV_SET, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	if (pending_limit)
		iopf_msg_put_u32(&m, IOPF_A_PENDING_LIMIT, *pending_limit);
	if (timeout_ms)
		iopf_msg_put_u32(&m, IOPF_A_TIMEOUT_MS, *timeout_ms);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_dev_set_mode(struct iopf_nl *nl, uint32_t sid, uint32_t mode)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_DEV_SET, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_STAGE_MODE, mode);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_dev_set_bridge(struct iopf_nl *nl, uint32_t sid, bool on)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_DEV_SET, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u8(&m, IOPF_A_BRIDGE, on);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_map(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
	     const uint32_t *pasid, uint64_t addr, uint64_t out_addr,
	     uint64_t len, uint32_t perm)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_MAP, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_STAGE, stage);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	iopf_msg_put_u64(&m, IOPF_A_ADDR, addr);
	iopf_msg_put_u64(&m, IOPF_A_OUT_ADDR, out_addr);
	iopf_msg_put_u64(&m, IOPF_A_LEN, len);
	iopf_msg_put_u32(&m, IOPF_A_PERM, perm);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

static int count_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		    size_t len, void *arg)
{
	const struct nlattr *a;
	struct attr_it it;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it)))
		if (attr_type(a) == IOPF_A_COUNT && attr_u64(a, arg))
			return 0;
	return -EPROTO;
}

int iopf_unmap(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
	       const uint32_t *pasid, uint64_t addr, uint64_t len,
	       uint64_t *count)
{
	struct iopf_nl_msg m;
	uint64_t dummy;

	iopf_msg_family(&m, nl, IOPF_CMD_UNMAP, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_STAGE, stage);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	iopf_msg_put_u64(&m, IOPF_A_ADDR, addr);
	iopf_msg_put_u64(&m, IOPF_A_LEN, len);
	return iopf_nl_transact(nl, &m, count_cb, count ? count : &dummy);
}

struct mapping_arg {
	struct iopf_nl_mapping *out;
	int max;
	int n;
};

static int mapping_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		      size_t len, void *arg)
{
	struct mapping_arg *ma = arg;
	const struct nlattr *a;
	struct attr_it it;
	int nests = 0;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		if (attr_type(a) != IOPF_A_MAPPING)
			continue;
		if (ma->n < ma->max)
			iopf_nl_parse_mapping(attr_data(a), attr_len(a),
					      &ma->out[ma->n]);
		ma->n++;
		nests++;
	}
	return nests == 1 ? 0 : -EPROTO;
}

int iopf_map_dump(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
		  const uint32_t *pasid, struct iopf_nl_mapping *out, int max)
{
	struct mapping_arg ma = { .out = out, .max = max };
	struct iopf_nl_msg m;
	int ret;

	iopf_msg_family(&m, nl, IOPF_CMD_MAP_GET, true);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_STAGE, stage);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	ret = iopf_nl_transact(nl, &m, mapping_cb, &ma);
	return ret ? ret : ma.n;
}

int iopf_ttb_set(struct iopf_nl *nl, uint32_t sid, const uint32_t *pasid,
		 uint64_t ttb)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_TTB_SET, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	iopf_msg_put_u64(&m, IOPF_A_TTB, ttb);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

struct access_arg {
	struct iopf_nl_access *out;
	int max;
	int n;
};

static int access_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		     size_t len, void *arg)
{
	struct access_arg *xa = arg;
	const struct nlattr *a;
	struct attr_it it;
	int nests = 0;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		if (attr_type(a) != IOPF_A_ACCESS)
			continue;
		if (xa->n < xa->max)
			iopf_nl_parse_access(attr_data(a), attr_len(a),
					     &xa->out[xa->n]);
		xa->n++;
		nests++;
	}
	return nests == 1 ? 0 : -EPROTO;
}

int iopf_access(struct iopf_nl *nl, uint32_t sid, const uint32_t *pasid,
		uint64_t addr, uint64_t len, uint32_t perm, bool stall,
		struct iopf_nl_access *out)
{
	struct iopf_nl_access dummy;
	struct access_arg xa = { .out = out ? out : &dummy, .max = 1 };
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_ACCESS, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	iopf_msg_put_u64(&m, IOPF_A_ADDR, addr);
	iopf_msg_put_u64(&m, IOPF_A_LEN, len);
	iopf_msg_put_u32(&m, IOPF_A_PERM, perm);
	if (stall)
		iopf_msg_put(&m, IOPF_A_STALL, "", 0);
	return iopf_nl_transact(nl, &m, access_cb, &xa);
}

int iopf_access_get(struct iopf_nl *nl, uint64_t id, const uint32_t *sid,
		    struct iopf_nl_access *out)
{
	struct access_arg xa = { .out = out, .max = 1 };
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_ACCESS_GET, false);
	iopf_msg_put_u64(&m, IOPF_A_ACCESS_ID, id);
	if (sid)
		iopf_msg_put_u32(&m, IOPF_A_SID, *sid);
	return iopf_nl_transact(nl, &m, access_cb, &xa);
}

int iopf_access_dump(struct iopf_nl *nl, const uint32_t *sid,
		     struct iopf_nl_access *out, int max)
{
	struct access_arg xa = { .out = out, .max = max };
	struct iopf_nl_msg m;
	int ret;

	iopf_msg_family(&m, nl, IOPF_CMD_ACCESS_GET, true);
	if (sid)
		iopf_msg_put_u32(&m, IOPF_A_SID, *sid);
	ret = iopf_nl_transact(nl, &m, access_cb, &xa);
	return ret ? ret : xa.n;
}

int iopf_handler_register(struct iopf_nl *nl, uint32_t sid, uint32_t flags)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_HANDLER_REGISTER, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_FLAGS, flags);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_handler_update(struct iopf_nl *nl, uint32_t sid, uint32_t mask,
			uint32_t set)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_HANDLER_UPDATE, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_MASK, mask);
	iopf_msg_put_u32(&m, IOPF_A_SET, set);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

int iopf_page_response(struct iopf_nl *nl, uint32_t sid, uint32_t grpid,
		       uint32_t code, const uint32_t *pasid)
{
	struct iopf_nl_msg m;

	iopf_msg_family(&m, nl, IOPF_CMD_PAGE_RESPONSE, false);
	iopf_msg_put_u32(&m, IOPF_A_SID, sid);
	iopf_msg_put_u32(&m, IOPF_A_GRPID, grpid);
	if (pasid)
		iopf_msg_put_u32(&m, IOPF_A_PASID, *pasid);
	iopf_msg_put_u32(&m, IOPF_A_CODE, code);
	return iopf_nl_transact(nl, &m, NULL, NULL);
}

struct pending_arg {
	struct iopf_nl_fault *out;
	int max;
	int n;
};

static int pending_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		      size_t len, void *arg)
{
	struct pending_arg *pa = arg;
	const struct nlattr *a;
	struct attr_it it;
	int nests = 0;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it))) {
		if (attr_type(a) != IOPF_A_FAULT)
			continue;
		if (pa->n < pa->max) {
			iopf_nl_parse_fault(attr_data(a), attr_len(a),
					    &pa->out[pa->n]);
			pa->out[pa->n].nests_in_msg = 1;
		}
		pa->n++;
		nests++;
	}
	/* "one message per pending page request, each with one FAULT nest" */
	return nests == 1 ? 0 : -EPROTO;
}

int iopf_pending_dump(struct iopf_nl *nl, const uint32_t *sid,
		      struct iopf_nl_fault *out, int max)
{
	struct pending_arg pa = { .out = out, .max = max };
	struct iopf_nl_msg m;
	int ret;

	iopf_msg_family(&m, nl, IOPF_CMD_PENDING_GET, true);
	if (sid)
		iopf_msg_put_u32(&m, IOPF_A_SID, *sid);
	ret = iopf_nl_transact(nl, &m, pending_cb, &pa);
	return ret ? ret : pa.n;
}

static int stats_cb(const struct iopf_nl *nl, uint8_t cmd, const void *attrs,
		    size_t len, void *arg)
{
	struct iopf_nl_stats *s = arg;
	const struct nlattr *a;
	struct attr_it it;

	(void)nl;
	(void)cmd;
	attr_it_init(&it, attrs, len);
	while ((a = attr_next(&it)))
		if (attr_type(a) == IOPF_A_STATS)
			return iopf_nl_parse_stats(attr_data(a), attr_len(a), s);
	return -EPROTO;
}

int iopf_stats_get(struct iopf_nl *nl, struct iopf_nl_stats *out)
{
	struct iopf_nl_msg m;

	memset(out, 0, sizeof(*out));
	iopf_msg_family(&m, nl, IOPF_CMD_STATS_GET, false);
	return iopf_nl_transact(nl, &m, stats_cb, out);
}

/* ---- multicast ---- */

int iopf_nl_subscribe(struct iopf_nl *nl)
{
	int one = 1;

	if (!nl->mcgrp)
		return -ENOENT;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &nl->mcgrp, sizeof(nl->mcgrp)) < 0)
		return -errno;
	/* let the module see (and count) our overflows */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one,
		   sizeof(one));
	nl->subscribed = true;
	return 0;
}

int iopf_nl_set_rcvbuf(struct iopf_nl *nl, int bytes)
{
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

static bool dequeue(struct iopf_nl *nl, struct iopf_nl_event *ev)
{
	if (nl->qhead == nl->qtail)
		return false;
	*ev = nl->q[nl->qhead];
	nl->qhead = (nl->qhead + 1) % IOPF_NL_QLEN;
	return true;
}

int iopf_nl_recv_event(struct iopf_nl *nl, int timeout_ms,
		       struct iopf_nl_event *ev)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left;
		ssize_t n;
		struct nlmsghdr *h;
		size_t rem;

		if (dequeue(nl, ev))
			return 1;
		if (nl->pending_err) {
			int e = nl->pending_err;

			nl->pending_err = 0;
			return e;
		}
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		n = nl_recv(nl, (int)left);
		if (n == 0)
			return 0;
		if (n < 0)
			return (int)n;
		rem = (size_t)n;
		for (h = (struct nlmsghdr *)nl->rcvbuf; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem))
			if (h->nlmsg_type == nl->family)
				queue_ntf(nl, h);
	}
}

int iopf_nl_drain(struct iopf_nl *nl)
{
	struct iopf_nl_event *ev = malloc(sizeof(*ev));
	int n = 0, r;

	if (!ev)
		return -ENOMEM;
	while ((r = iopf_nl_recv_event(nl, 0, ev)) != 0) {
		if (r > 0)
			n++;
		else if (r != -ENOBUFS && r != -ENOSPC)
			break;
	}
	free(ev);
	return n;
}

const char *iopf_nl_cmd_name(int cmd)
{
	switch (cmd) {
	case IOPF_CMD_FAULT_NTF:
		return "FAULT_NTF";
	case IOPF_CMD_RESUME_NTF:
		return "RESUME_NTF";
	case IOPF_CMD_ACCESS_NTF:
		return "ACCESS_NTF";
	default:
		return "?";
	}
}
