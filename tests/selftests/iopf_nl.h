/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal generic netlink client for the iopf_testbed family, on raw
 * AF_NETLINK sockets (no libnl: the guest binary is static and small).
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; the extack message and missing-attribute type of the last error
 * are kept in struct iopf_nl.
 */
#ifndef IOPF_SELFTEST_NL_H
#define IOPF_SELFTEST_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/linux/iopf_testbed.h"

#define IOPF_NL_QLEN	512

/* A decoded IOPF_A_FAULT nest */
struct iopf_nl_fault {
	bool has[IOPF_FAULT_A_MAX + 1];
	uint64_t seq;
	uint64_t dev_seq;
	uint64_t timestamp_ns;
	uint32_t sid;
	uint32_t event_id;
	uint32_t type;
	uint32_t level;
	uint32_t flags;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reason;
	uint64_t addr;
	uint64_t ipa;
	uint8_t record[32];
	uint32_t record_len;
	int nests_in_msg;	/* how many FAULT nests its message carried */
};

/* A decoded IOPF_A_RESUME nest */
struct iopf_nl_resume {
	bool has[IOPF_RESUME_A_MAX + 1];
	uint64_t seq;
	uint32_t sid;
	uint32_t stag;
	uint32_t resp;
	uint32_t code;
	uint32_t origin;
	uint64_t cmd[2];
	uint32_t cmd_len;
};

/* A decoded IOPF_A_ACCESS nest */
struct iopf_nl_access {
	bool has[IOPF_ACCESS_A_MAX + 1];
	uint64_t id;
	uint32_t sid;
	uint32_t pasid;
	uint64_t addr;
	uint64_t len;
	uint32_t perm;
	uint32_t state;
	uint32_t faults;
	uint32_t faults_l1;
	uint32_t faults_l2;
	uint32_t retries;
	uint64_t done;
	uint64_t fault_seq;
	uint32_t stag;
	uint64_t start_ns;
	uint64_t end_ns;
	bool stall;
};

/* A decoded IOPF_A_MAPPING nest */
struct iopf_nl_mapping {
	bool has[IOPF_MAPPING_A_MAX + 1];
	uint32_t sid;
	uint32_t stage;
	uint32_t pasid;
	uint64_t addr;
	uint64_t out_addr;
	uint64_t len;
	uint32_t perm;
};

/* One multicast event: a fault (one nest of a FAULT_NTF), a resume, an access */
struct iopf_nl_event {
	int cmd;		/* IOPF_CMD_FAULT_NTF, RESUME_NTF or ACCESS_NTF */
	union {
		struct iopf_nl_fault fault;
		struct iopf_nl_resume resume;
		struct iopf_nl_access access;
	};
};

struct iopf_nl_stats {
	bool has[IOPF_STAT_A_MAX + 1];
	uint64_t v[IOPF_STAT_A_MAX + 1];
};

struct iopf_nl_dev {
	bool has[IOPF_A_MAX + 1];
	uint32_t sid;
	uint8_t registered;
	uint32_t flags;
	uint32_t pending_limit;
	uint32_t timeout_ms;
	uint32_t stage_mode;
	uint8_t bridge;
	uint32_t iommufd_dev_id;
	uint32_t iommufd_pt_id;
	struct iopf_nl_stats stats;
};

struct iopf_nl {
	int fd;
	uint32_t seq;
	uint16_t family;
	uint32_t mcgrp;			/* the "faults" group id */
	bool subscribed;
	/* extack of the last error */
	char ext_msg[256];
	uint32_t ext_miss_type;
	uint32_t ext_miss_nest;
	uint32_t ext_offs;
	/* multicast events received but not yet returned */
	struct iopf_nl_event q[IOPF_NL_QLEN];
	unsigned int qhead, qtail;
	int pending_err;		/* e.g. -ENOBUFS seen on receive */
	size_t rcvbuf_len;
	uint8_t *rcvbuf;
};

/* Open a socket and resolve the family; NULL with errno on failure */
struct iopf_nl *iopf_nl_open(void);
void iopf_nl_close(struct iopf_nl *nl);
/* Resolve a family name: its id, and the id of mcgrp_name (0 if none) */
int iopf_nl_resolve(struct iopf_nl *nl, const char *family,
		    const char *mcgrp_name, uint16_t *id, uint32_t *grp);

/* Request building */
struct iopf_nl_msg {
	uint8_t buf[8192];
	size_t len;
	size_t nest_at[4];
	int nest_depth;
};

void iopf_msg_init(struct iopf_nl_msg *m, uint16_t type, uint16_t flags,
		   uint8_t cmd, uint8_t version);
void iopf_msg_put(struct iopf_nl_msg *m, uint16_t type, const void *data,
		  size_t len);
void iopf_msg_put_u8(struct iopf_nl_msg *m, uint16_t type, uint8_t v);
void iopf_msg_put_u16(struct iopf_nl_msg *m, uint16_t type, uint16_t v);
void iopf_msg_put_u32(struct iopf_nl_msg *m, uint16_t type, uint32_t v);
void iopf_msg_put_u64(struct iopf_nl_msg *m, uint16_t type, uint64_t v);
void iopf_msg_put_str(struct iopf_nl_msg *m, uint16_t type, const char *s);

/*
 * Called for every reply message of a request: the genetlink payload
 * (attributes) and its length.
 */
typedef int (*iopf_nl_cb)(const struct iopf_nl *nl, uint8_t cmd,
			  const void *attrs, size_t len, void *arg);

/*
 * Send a prepared message (its sequence number is set here) and read replies
 * until the ACK, error or DONE. Returns 0 or -errno from the kernel.
 */
int iopf_nl_transact(struct iopf_nl *nl, struct iopf_nl_msg *m,
		     iopf_nl_cb cb, void *arg);

/*
 * A dump read one datagram at a time, so that a test can change state
 * between the kernel's dumpit calls (the next part of a dump is built when
 * the previous one has been read). iopf_nl_dump_start() sends m (a request
 * with NLM_F_DUMP); iopf_nl_dump_step() reads one datagram, calls cb for
 * each message in it and ORs every message's nlmsg_flags (NLM_F_DUMP_INTR,
 * on DONE too) into *flags. Returns 1 while the dump goes on, 0 after
 * NLMSG_DONE, or -errno.
 */
int iopf_nl_dump_start(struct iopf_nl *nl, struct iopf_nl_msg *m);
int iopf_nl_dump_step(struct iopf_nl *nl, iopf_nl_cb cb, void *arg,
		      uint16_t *flags);

/* Start a request to the iopf_testbed family ("do" when !dump) */
void iopf_msg_family(struct iopf_nl_msg *m, const struct iopf_nl *nl,
		     uint8_t cmd, bool dump);

/* Family commands */
int iopf_dev_new(struct iopf_nl *nl, uint32_t sid);
int iopf_dev_del(struct iopf_nl *nl, uint32_t sid);
int iopf_dev_get(struct iopf_nl *nl, uint32_t sid, struct iopf_nl_dev *out);
/* Dump all devices into out[max]; returns the count (may exceed max) */
int iopf_dev_dump(struct iopf_nl *nl, struct iopf_nl_dev *out, int max);
/* The same with an IOPF_A_SID filter when sid != NULL */
int iopf_dev_dump_sid(struct iopf_nl *nl, const uint32_t *sid,
		      struct iopf_nl_dev *out, int max);
/* DEV_SET: NULL leaves a setting out of the request */
int iopf_dev_set(struct iopf_nl *nl, uint32_t sid, const uint32_t *pending_limit,
		 const uint32_t *timeout_ms);
/* The access model (Documentation/stages.md); pasid NULL: none */
int iopf_dev_set_mode(struct iopf_nl *nl, uint32_t sid, uint32_t mode);
/* Upstream's road (Documentation/upstream-path.md) */
int iopf_dev_set_bridge(struct iopf_nl *nl, uint32_t sid, bool on);
int iopf_map(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
	     const uint32_t *pasid, uint64_t addr, uint64_t out_addr,
	     uint64_t len, uint32_t perm);
/* count (may be NULL): the pages UNMAP's reply says it unmapped */
int iopf_unmap(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
	       const uint32_t *pasid, uint64_t addr, uint64_t len,
	       uint64_t *count);
/* MAP_GET into out[max]; returns the count of runs (may exceed max) */
int iopf_map_dump(struct iopf_nl *nl, uint32_t sid, uint32_t stage,
		  const uint32_t *pasid, struct iopf_nl_mapping *out, int max);
int iopf_ttb_set(struct iopf_nl *nl, uint32_t sid, const uint32_t *pasid,
		 uint64_t ttb);
/* out (may be NULL): the reply's ACCESS nest */
int iopf_access(struct iopf_nl *nl, uint32_t sid, const uint32_t *pasid,
		uint64_t addr, uint64_t len, uint32_t perm, bool stall,
		struct iopf_nl_access *out);
int iopf_access_get(struct iopf_nl *nl, uint64_t id, const uint32_t *sid,
		    struct iopf_nl_access *out);
/* ACCESS_GET dump (of one SID when sid != NULL); returns the count */
int iopf_access_dump(struct iopf_nl *nl, const uint32_t *sid,
		     struct iopf_nl_access *out, int max);
int iopf_nl_parse_access(const void *data, size_t len,
			 struct iopf_nl_access *out);
int iopf_nl_parse_mapping(const void *data, size_t len,
			  struct iopf_nl_mapping *out);

int iopf_handler_register(struct iopf_nl *nl, uint32_t sid, uint32_t flags);
int iopf_handler_update(struct iopf_nl *nl, uint32_t sid, uint32_t mask,
			uint32_t set);
int iopf_handler_unregister(struct iopf_nl *nl, uint32_t sid);
/* pasid: NULL for no PASID attribute */
int iopf_page_response(struct iopf_nl *nl, uint32_t sid, uint32_t grpid,
		       uint32_t code, const uint32_t *pasid);
/* Dump pending requests (of one SID when sid != NULL); returns the count */
int iopf_pending_dump(struct iopf_nl *nl, const uint32_t *sid,
		      struct iopf_nl_fault *out, int max);
int iopf_stats_get(struct iopf_nl *nl, struct iopf_nl_stats *out);

/* Parsing helpers (exported for tests that build odd requests) */
int iopf_nl_parse_fault(const void *data, size_t len, struct iopf_nl_fault *f);
int iopf_nl_parse_resume(const void *data, size_t len,
			 struct iopf_nl_resume *r);
int iopf_nl_parse_stats(const void *data, size_t len, struct iopf_nl_stats *s);
int iopf_nl_parse_dev(const void *attrs, size_t len, struct iopf_nl_dev *d);

/* Multicast */
int iopf_nl_subscribe(struct iopf_nl *nl);
int iopf_nl_set_rcvbuf(struct iopf_nl *nl, int bytes);
/*
 * Next event, waiting up to timeout_ms. Returns 1 with *ev filled, 0 on
 * timeout, or a negative errno (-ENOBUFS once after the socket overflowed).
 */
int iopf_nl_recv_event(struct iopf_nl *nl, int timeout_ms,
		       struct iopf_nl_event *ev);
/* Discard everything queued or readable now; returns how many events */
int iopf_nl_drain(struct iopf_nl *nl);

const char *iopf_nl_cmd_name(int cmd);

#endif /* IOPF_SELFTEST_NL_H */
