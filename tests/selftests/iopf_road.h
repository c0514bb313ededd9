/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM's side of upstream's road, shared by the iommufd suites
 * (iopf_upstream_test, iopf_nested_test): a bridged device bound to an
 * iommufd, the fault queue, the HWPTs. Included after kselftest_harness.h
 * (road_bind() and road_open() assert).
 */
#ifndef _IOPF_ROAD_H
#define _IOPF_ROAD_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/iommufd.h>

#include "iopf_nl.h"
#include "iopf_tb.h"

#define BRIDGE_DEV	"/dev/iopf_testbed"
#define UNSAFE_MSI	"/sys/module/iommufd/parameters/allow_unsafe_interrupts"

struct road {
	struct tb t;
	int iommufd;
	int bfd;		/* /dev/iopf_testbed */
	int fault_fd;
	uint32_t sid;
	uint32_t ioas;
	uint32_t dev_id;
	uint32_t fault_id;
	uint32_t hwpt;
};

static inline int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_ioas_id;
	return 0;
}

static inline int fault_alloc(int fd, uint32_t *id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_fault_id;
	*fault_fd = cmd.out_fault_fd;
	return 0;
}

/* IOMMU_HWPT_ALLOC; fault_id (may be NULL): the HWPT's fault queue */
static inline int hwpt_alloc_data(int fd, uint32_t flags, uint32_t dev_id,
				  uint32_t pt_id, uint32_t data_type,
				  void *data, uint32_t len,
				  const uint32_t *fault_id, uint32_t *hwpt)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	if (fault_id) {
		cmd.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		cmd.fault_id = *fault_id;
	}
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &cmd))
		return -errno;
	*hwpt = cmd.out_hwpt_id;
	return 0;
}

static inline int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id,
			     const uint32_t *fault_id, uint32_t *hwpt)
{
	return hwpt_alloc_data(fd, 0, dev_id, pt_id, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, fault_id, hwpt);
}

static inline int ioas_map_fixed(int fd, uint32_t ioas, uint64_t iova, void *buf,
			  uint64_t len)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd) ? -errno : 0;
}

static inline int bridge_cmd(int bfd, unsigned long ioc, struct iopf_bridge_cmd *c)
{
	return ioctl(bfd, ioc, c) ? -errno : 0;
}

/* Read what the queue holds now (up to max), waiting up to ms for the first */
static inline int read_faults(int fd, struct iommu_hwpt_pgfault *out, int max, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return 0;
	n = read(fd, out, max * sizeof(*out));
	if (n < 0)
		return -errno;
	return n / sizeof(*out);
}

/* Exactly n faults, in as many reads as it takes */
static inline int read_n_faults(int fd, struct iommu_hwpt_pgfault *out, int n)
{
	int got = 0, r;

	while (got < n) {
		r = read_faults(fd, out + got, n - got, EV_TIMEOUT_MS);
		if (r <= 0)
			return r < 0 ? r : got;
		got += r;
	}
	return got;
}

static inline ssize_t respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = { .cookie = cookie, .code = code };
	ssize_t n = write(fd, &r, sizeof(r));

	return n < 0 ? -errno : n;
}

static inline void write_param(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0)
			perror(path);
		close(fd);
	}
}

/*
 * A fresh bridged device bound to a new iommufd, with an IOAS. Returns NULL,
 * or a SKIP reason (static).
 */
static inline const char *road_bind(struct __test_metadata *_metadata, struct road *r)
{
	struct iopf_bridge_cmd c = {};
	int ret;

	memset(r, 0, sizeof(*r));
	r->iommufd = r->bfd = r->fault_fd = -1;
	tb_setup(_metadata, &r->t);
	r->sid = tb_dev(_metadata, &r->t);
	ret = iopf_dev_set_bridge(r->t.nl, r->sid, true);
	if (ret == -EOPNOTSUPP && access("/dev/iommu", F_OK)) {
		static char why[256];

		snprintf(why, sizeof(why), "%s", r->t.nl->ext_msg);
		return why;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("DEV_SET BRIDGE 1 on a kernel with /dev/iommu: %s (%s)",
		       strerror(-ret), r->t.nl->ext_msg);
	}
	/* Platform devices have no isolated MSI: iommufd wants the opt-in */
	write_param(UNSAFE_MSI, "1");
	r->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, r->iommufd) TH_LOG("/dev/iommu: %s", strerror(errno));
	r->bfd = open(BRIDGE_DEV, O_RDWR);
	ASSERT_LE(0, r->bfd) TH_LOG(BRIDGE_DEV ": %s", strerror(errno));
	ASSERT_EQ(0, ioas_alloc(r->iommufd, &r->ioas));
	c.sid = r->sid;
	c.iommufd = r->iommufd;
	ret = bridge_cmd(r->bfd, IOPF_BRIDGE_BIND, &c);
	ASSERT_EQ(0, ret) TH_LOG("BIND: %s", strerror(-ret));
	ASSERT_NE(0u, c.dev_id);
	r->dev_id = c.dev_id;
	return NULL;
}

static inline int road_attach(struct road *r, uint32_t pt_id)
{
	struct iopf_bridge_cmd c = { .dev_id = r->dev_id, .pt_id = pt_id };
	int ret = bridge_cmd(r->bfd, IOPF_BRIDGE_ATTACH, &c);

	return ret ? ret : (c.pt_id == pt_id ? 0 : -EPROTO);
}

/*
 * Set up the road for a fresh bridged device: IOAS, binding, fault queue,
 * a fault-capable HWPT attached. Returns NULL, or a SKIP reason (static).
 */
static inline const char *road_open(struct __test_metadata *_metadata, struct road *r,
			      bool with_queue)
{
	const char *skip = road_bind(_metadata, r);
	int ret;

	if (skip)
		return skip;
	if (with_queue) {
		ASSERT_EQ(0, fault_alloc(r->iommufd, &r->fault_id, &r->fault_fd));
		ret = hwpt_alloc(r->iommufd, r->dev_id, r->ioas, &r->fault_id,
				 &r->hwpt);
	} else {
		ret = hwpt_alloc(r->iommufd, r->dev_id, r->ioas, NULL, &r->hwpt);
	}
	ASSERT_EQ(0, ret) TH_LOG("HWPT_ALLOC: %s", strerror(-ret));
	ret = road_attach(r, r->hwpt);
	ASSERT_EQ(0, ret) TH_LOG("ATTACH: %s", strerror(-ret));
	return NULL;
}

static inline void road_close(struct road *r)
{
	if (r->fault_fd >= 0)
		close(r->fault_fd);
	if (r->bfd >= 0)
		close(r->bfd);
	if (r->iommufd >= 0)
		close(r->iommufd);
	r->fault_fd = r->bfd = r->iommufd = -1;
}

#endif /* _IOPF_ROAD_H */
