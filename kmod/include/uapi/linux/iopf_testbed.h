/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * iopf_testbed: the generic netlink protocol of the test bed, and the IOMMU
 * fault constants it carries. The one definition, shared by the module and
 * user space. Documentation/netlink/iopf_testbed.yaml describes the same.
 *
 * Values of the IOMMU constants are those of include/uapi/linux/iommu.h
 * (v5.13) and of the RFC "iommu: Evolve to support more scenarios of using
 * IOPF", which no kernel carries.
 */
#ifndef _UAPI_LINUX_IOPF_TESTBED_H
#define _UAPI_LINUX_IOPF_TESTBED_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOPF_GENL_NAME			"iopf_testbed"
#define IOPF_GENL_VERSION		1
#define IOPF_GENL_MCGRP_FAULTS		"faults"

/* Reporting flags of iommu_register_device_fault_handler() (RFC) */
#define IOPF_REPORT_FLAT			(1U << 0)
#define IOPF_REPORT_NESTED			(1U << 1)
#define IOPF_REPORT_NESTED_L1_CONCERNED		(1U << 2)
#define IOPF_REPORT_NESTED_L2_CONCERNED		(1U << 3)
/* Opt in to unrecoverable faults: the RFC author's planned extension */
#define IOPF_REPORT_UNRECOV			(1U << 4)
#define IOPF_REPORT_ALL				0x1fU

/* enum iommu_fault_type */
#define IOPF_FAULT_DMA_UNRECOV		1
#define IOPF_FAULT_PAGE_REQ		2

/* struct iommu_fault_page_request flags, plus the RFC's L2 */
#define IOPF_PRQ_PASID_VALID		(1U << 0)
#define IOPF_PRQ_LAST_PAGE		(1U << 1)
#define IOPF_PRQ_PRIV_DATA		(1U << 2)
#define IOPF_PRQ_NEEDS_PASID		(1U << 3)
#define IOPF_PRQ_L2			(1U << 4)

/* struct iommu_fault_unrecoverable flags */
#define IOPF_UNRECOV_PASID_VALID	(1U << 0)
#define IOPF_UNRECOV_ADDR_VALID		(1U << 1)
#define IOPF_UNRECOV_FETCH_ADDR_VALID	(1U << 2)

/* IOMMU_FAULT_PERM_* */
#define IOPF_PERM_READ			(1U << 0)
#define IOPF_PERM_WRITE			(1U << 1)
#define IOPF_PERM_EXEC			(1U << 2)
#define IOPF_PERM_PRIV			(1U << 3)
#define IOPF_PERM_ALL			0xfU

/* enum iommu_fault_reason */
#define IOPF_REASON_UNKNOWN		0
#define IOPF_REASON_PTE_FETCH		5
#define IOPF_REASON_PERMISSION		6
#define IOPF_REASON_ACCESS		7
#define IOPF_REASON_OOR_ADDRESS		8

/* enum iommu_page_response_code */
#define IOPF_RESP_SUCCESS		0
#define IOPF_RESP_INVALID		1
#define IOPF_RESP_FAILURE		2

/* CMD_RESUME RESP field */
#define IOPF_RESUME_TERM		0
#define IOPF_RESUME_RETRY		1
#define IOPF_RESUME_ABORT		2

/* Why a RESUME was issued */
enum iopf_resume_origin {
	IOPF_ORIGIN_RESPONSE = 1,	/* a page response from user space */
	IOPF_ORIGIN_REPORT_FAILED,	/* report failed: the driver aborts */
	IOPF_ORIGIN_FLUSH,		/* the device went away while pending */
	IOPF_ORIGIN_TIMEOUT,		/* nobody answered within the timeout */
};

/* IOPF_A_PENDING_LIMIT: 1 to one request per STAG (16 bits) */
#define IOPF_PENDING_LIMIT_MAX		65536
/* IOPF_A_TIMEOUT_MS: 0 (off) to ten minutes */
#define IOPF_TIMEOUT_MS_MAX		600000

/*
 * The two-stage access model (Documentation/stages.md). A device translates
 * DMA through stage 1 (IOVA -> IPA, per SubstreamID), stage 2 (IPA -> PA,
 * per device), or both (nested). Tables are exact, in 4 KiB pages.
 */
#define IOPF_STAGE_PAGE_SHIFT		12
#define IOPF_STAGE_PAGE_SIZE		(1ULL << IOPF_STAGE_PAGE_SHIFT)

/* IOPF_A_STAGE_MODE: how a device translates (default: none, accesses -EINVAL) */
#define IOPF_STAGE_MODE_NONE		0
#define IOPF_STAGE_MODE_S1		1	/* stage 1 only: IOVA -> PA */
#define IOPF_STAGE_MODE_S2		2	/* stage 2 only: IOVA is the IPA */
#define IOPF_STAGE_MODE_NESTED		3	/* stage 1 then stage 2 */

/* IOPF_A_STAGE: which table MAP/UNMAP/MAP_GET act on */
#define IOPF_STAGE_1			1
#define IOPF_STAGE_2			2

/* IOPF_A_LEN of MAP, UNMAP and ACCESS: at most this many pages per command */
#define IOPF_STAGE_MAX_PAGES_PER_CMD	65536

/*
 * In nested mode the stage-1 walk of an IOVA reads a descriptor at an IPA,
 * which stage 2 must map (a CLASS TT fault otherwise): the leaf table page
 * of the 2 MiB block holding the IOVA, IPA = TTB + (IOVA >> 21) * 4 KiB.
 * TTB is per (device, SubstreamID), set with IOPF_A_TTB (default below).
 */
#define IOPF_STAGE_TTB_DEFAULT		0x40000000ULL
#define IOPF_STAGE_TABLE_SPAN_SHIFT	21

/*
 * Input and output addresses are below 2^52 (ADDR + LEN too). A TTB leaves
 * room for the table pages of every 52-bit IOVA: TTB <= IOPF_STAGE_TTB_MAX.
 */
#define IOPF_STAGE_ADDR_BITS		52
#define IOPF_STAGE_TTB_MAX		0xff80000000000ULL

/* IOPF_ACCESS_A_STATE */
enum iopf_access_state {
	IOPF_ACCESS_STALLED = 1,	/* faulted, waiting for its RESUME */
	IOPF_ACCESS_COMPLETED,		/* every page translated */
	IOPF_ACCESS_ABORTED,		/* RESUME ABORT (or TERM) */
	IOPF_ACCESS_TERMINATED,		/* faulted without Stall: terminated */
	IOPF_ACCESS_RUNNING,		/* RESUME RETRY: being walked again */
};

/*
 * Commands. DEV_SET: SID, [PENDING_LIMIT], [TIMEOUT_MS], [STAGE_MODE].
 * MAP: SID, STAGE, [PASID], ADDR, OUT_ADDR, LEN, PERM; -EEXIST if any page
 * is mapped, and then nothing is. UNMAP: SID, STAGE, [PASID], ADDR, LEN;
 * pages not mapped are skipped; the reply has COUNT. MAP_GET dumps SID's
 * STAGE table ([PASID] for stage 1), one MAPPING nest (a run of contiguous
 * pages with one permission) per message. ACCESS: SID, [PASID], ADDR, LEN,
 * PERM, [STALL]; the reply has one ACCESS nest. ACCESS_GET: do ACCESS_ID
 * ([SID] to look on one device only), dump [SID]; one ACCESS nest per
 * message. ACCESS_NTF: one ACCESS nest when an access ends (completed,
 * aborted or terminated). TTB_SET: SID, [PASID], TTB.
 */
enum iopf_cmd {
	IOPF_CMD_UNSPEC,
	IOPF_CMD_DEV_NEW,		/* SID; admin */
	IOPF_CMD_DEV_DEL,		/* SID; admin; flushes pending requests */
	IOPF_CMD_DEV_GET,		/* do: SID; dump: all devices */
	IOPF_CMD_HANDLER_REGISTER,	/* SID, FLAGS; admin */
	IOPF_CMD_HANDLER_UPDATE,	/* SID, MASK, SET; admin */
	IOPF_CMD_HANDLER_UNREGISTER,	/* SID; admin; -EBUSY while pending */
	IOPF_CMD_PAGE_RESPONSE,		/* SID, GRPID, [PASID], CODE; admin */
	IOPF_CMD_PENDING_GET,		/* dump: [SID]; one FAULT per message */
	IOPF_CMD_STATS_GET,		/* do: global STATS */
	IOPF_CMD_FAULT_NTF,		/* multicast: one or more FAULT nests */
	IOPF_CMD_RESUME_NTF,		/* multicast: one RESUME nest */
	IOPF_CMD_DEV_SET,		/* admin: see above */
	IOPF_CMD_MAP,			/* admin */
	IOPF_CMD_UNMAP,			/* admin */
	IOPF_CMD_MAP_GET,		/* dump; admin */
	IOPF_CMD_ACCESS,		/* admin */
	IOPF_CMD_ACCESS_GET,		/* do, dump; admin */
	IOPF_CMD_ACCESS_NTF,		/* multicast */
	IOPF_CMD_TTB_SET,		/* admin */

	__IOPF_CMD_MAX,
	IOPF_CMD_MAX = __IOPF_CMD_MAX - 1
};

enum iopf_attr {
	IOPF_A_UNSPEC,
	IOPF_A_PAD,
	IOPF_A_SID,			/* u32 */
	IOPF_A_FLAGS,			/* u32: IOPF_REPORT_* */
	IOPF_A_MASK,			/* u32: update keeps flags & MASK ... */
	IOPF_A_SET,			/* u32: ... then ORs SET */
	IOPF_A_GRPID,			/* u32 */
	IOPF_A_PASID,			/* u32, 20 bits */
	IOPF_A_CODE,			/* u32: IOPF_RESP_* */
	IOPF_A_REGISTERED,		/* u8: a handler is registered */
	IOPF_A_STATS,			/* nest: IOPF_STAT_* */
	IOPF_A_FAULT,			/* nest: IOPF_FAULT_A_*; may repeat */
	IOPF_A_RESUME,			/* nest: IOPF_RESUME_A_* */
	IOPF_A_PENDING_LIMIT,		/* u32: page requests pending at most */
	IOPF_A_TIMEOUT_MS,		/* u32: answer with ABORT after; 0 off */
	IOPF_A_STAGE_MODE,		/* u32: IOPF_STAGE_MODE_* */
	IOPF_A_STAGE,			/* u32: IOPF_STAGE_1 or IOPF_STAGE_2 */
	IOPF_A_ADDR,			/* u64: input address, page aligned */
	IOPF_A_OUT_ADDR,		/* u64: output address, page aligned */
	IOPF_A_LEN,			/* u64: bytes; MAP/UNMAP: pages multiple */
	IOPF_A_PERM,			/* u32: IOPF_PERM_* */
	IOPF_A_STALL,			/* flag: a faulting access stalls */
	IOPF_A_COUNT,			/* u64: pages unmapped */
	IOPF_A_MAPPING,			/* nest: IOPF_MAPPING_A_* */
	IOPF_A_ACCESS,			/* nest: IOPF_ACCESS_A_* */
	IOPF_A_ACCESS_ID,		/* u64: from 1, global */
	IOPF_A_TTB,			/* u64: stage-1 table base IPA, page aligned */
	IOPF_A_BRIDGE,			/* u8: DEV_SET 1 bridges, 0 unbridges */
	IOPF_A_IOMMUFD_DEV_ID,		/* u32: DEV_GET, the iommufd device id */
	IOPF_A_IOMMUFD_PT_ID,		/* u32: DEV_GET, the HWPT attached */

	__IOPF_A_MAX,
	IOPF_A_MAX = __IOPF_A_MAX - 1
};

enum iopf_fault_attr {
	IOPF_FAULT_A_UNSPEC,
	IOPF_FAULT_A_PAD,
	IOPF_FAULT_A_SEQ,		/* u64: global, from 1, no gaps */
	IOPF_FAULT_A_DEV_SEQ,		/* u64: per device, from 1, no gaps */
	IOPF_FAULT_A_TIMESTAMP_NS,	/* u64: CLOCK_MONOTONIC at report */
	IOPF_FAULT_A_SID,		/* u32 */
	IOPF_FAULT_A_EVENT_ID,		/* u32: SMMUv3 event ID */
	IOPF_FAULT_A_TYPE,		/* u32: IOPF_FAULT_* */
	IOPF_FAULT_A_LEVEL,		/* u32: 1 or 2 */
	IOPF_FAULT_A_FLAGS,		/* u32: IOPF_PRQ_* or IOPF_UNRECOV_* */
	IOPF_FAULT_A_PASID,		/* u32: only when PASID_VALID */
	IOPF_FAULT_A_GRPID,		/* u32: page requests only */
	IOPF_FAULT_A_PERM,		/* u32: IOPF_PERM_* */
	IOPF_FAULT_A_REASON,		/* u32: unrecoverable only */
	IOPF_FAULT_A_ADDR,		/* u64: IPA for stage-2 page requests */
	IOPF_FAULT_A_RECORD,		/* binary: the 32-byte event record */
	IOPF_FAULT_A_IPA,		/* u64: stage-2 unrecoverable faults */

	__IOPF_FAULT_A_MAX,
	IOPF_FAULT_A_MAX = __IOPF_FAULT_A_MAX - 1
};

enum iopf_resume_attr {
	IOPF_RESUME_A_UNSPEC,
	IOPF_RESUME_A_PAD,
	IOPF_RESUME_A_SEQ,		/* u64: global RESUME count, from 1 */
	IOPF_RESUME_A_SID,		/* u32 */
	IOPF_RESUME_A_STAG,		/* u32: the page request's grpid */
	IOPF_RESUME_A_RESP,		/* u32: IOPF_RESUME_RETRY/ABORT */
	IOPF_RESUME_A_CODE,		/* u32: the IOPF_RESP_* it answers */
	IOPF_RESUME_A_ORIGIN,		/* u32: enum iopf_resume_origin */
	IOPF_RESUME_A_CMD,		/* binary: the two 64-bit command words */

	__IOPF_RESUME_A_MAX,
	IOPF_RESUME_A_MAX = __IOPF_RESUME_A_MAX - 1
};

enum iopf_mapping_attr {
	IOPF_MAPPING_A_UNSPEC,
	IOPF_MAPPING_A_PAD,
	IOPF_MAPPING_A_SID,		/* u32 */
	IOPF_MAPPING_A_STAGE,		/* u32 */
	IOPF_MAPPING_A_PASID,		/* u32: stage 1 only */
	IOPF_MAPPING_A_ADDR,		/* u64: first input address */
	IOPF_MAPPING_A_OUT_ADDR,	/* u64: its output address */
	IOPF_MAPPING_A_LEN,		/* u64: bytes, contiguous in and out */
	IOPF_MAPPING_A_PERM,		/* u32: IOPF_PERM_* (same for the run) */

	__IOPF_MAPPING_A_MAX,
	IOPF_MAPPING_A_MAX = __IOPF_MAPPING_A_MAX - 1
};

enum iopf_access_attr {
	IOPF_ACCESS_A_UNSPEC,
	IOPF_ACCESS_A_PAD,
	IOPF_ACCESS_A_ID,		/* u64 */
	IOPF_ACCESS_A_SID,		/* u32 */
	IOPF_ACCESS_A_PASID,		/* u32: when the access had one */
	IOPF_ACCESS_A_ADDR,		/* u64: IOVA */
	IOPF_ACCESS_A_LEN,		/* u64 */
	IOPF_ACCESS_A_PERM,		/* u32: IOPF_PERM_* asked for */
	IOPF_ACCESS_A_STATE,		/* u32: enum iopf_access_state */
	IOPF_ACCESS_A_FAULTS,		/* u32: event records it produced */
	IOPF_ACCESS_A_FAULTS_L1,	/* u32: of which stage 1 (S2 clear) */
	IOPF_ACCESS_A_FAULTS_L2,	/* u32: of which stage 2 */
	IOPF_ACCESS_A_RETRIES,		/* u32: RESUME RETRYs that re-walked it */
	IOPF_ACCESS_A_DONE,		/* u64: bytes translated so far */
	IOPF_ACCESS_A_FAULT_SEQ,	/* u64: SEQ of its last fault, if reported */
	IOPF_ACCESS_A_STAG,		/* u32: STAG while stalled */
	IOPF_ACCESS_A_START_NS,		/* u64: CLOCK_MONOTONIC at ACCESS */
	IOPF_ACCESS_A_END_NS,		/* u64: when it ended (0 while stalled) */
	IOPF_ACCESS_A_STALL,		/* flag: it stalls on a fault */

	__IOPF_ACCESS_A_MAX,
	IOPF_ACCESS_A_MAX = __IOPF_ACCESS_A_MAX - 1
};

/*
 * Counters, all u64. Per device:
 *   injected = reported + filtered_* + no_handler + report_failed
 *   pending_full is part of report_failed (and of auto_aborts)
 * Global (IOPF_CMD_STATS_GET):
 *   records = unhandled_event + unknown_sid + the devices' injected
 */
enum iopf_stat_attr {
	IOPF_STAT_A_UNSPEC,
	IOPF_STAT_A_PAD,
	IOPF_STAT_A_INJECTED,		/* records routed to the device */
	IOPF_STAT_A_REPORTED,		/* delivered to the handler */
	IOPF_STAT_A_FILTERED_L1,	/* nested, stage 1 not concerned */
	IOPF_STAT_A_FILTERED_L2,	/* nested, stage 2 not concerned */
	IOPF_STAT_A_FILTERED_UNRECOV,	/* unrecoverable, not opted in */
	IOPF_STAT_A_NO_HANDLER,		/* no handler registered */
	IOPF_STAT_A_REPORT_FAILED,	/* the handler failed (e.g. -ENOMEM) */
	IOPF_STAT_A_NOTIFY_LOST,	/* a listener's queue was full */
	IOPF_STAT_A_PENDING,		/* page requests awaiting a response */
	IOPF_STAT_A_RESPONSES,		/* page responses that matched */
	IOPF_STAT_A_RESPONSE_ERRORS,	/* no request pending or matching */
	IOPF_STAT_A_AUTO_ABORTS,	/* ABORTs of requests not reported */
	IOPF_STAT_A_RECORDS,		/* global: records injected */
	IOPF_STAT_A_UNHANDLED_EVENT,	/* global: event IDs not reported */
	IOPF_STAT_A_UNKNOWN_SID,	/* global: no device with that SID */
	IOPF_STAT_A_DEVICES,		/* global: devices that exist */
	IOPF_STAT_A_FAULT_SEQ,		/* global: SEQ of the last fault */
	IOPF_STAT_A_RESUME_SEQ,		/* global: SEQ of the last RESUME */
	IOPF_STAT_A_RESUME_LOST,	/* RESUME notifications lost; also global */
	IOPF_STAT_A_NOTIFY_UNHEARD,	/* faults sent while nobody listened */
	IOPF_STAT_A_PENDING_FULL,	/* page requests over the pending limit */
	IOPF_STAT_A_TIMEOUTS,		/* requests the timeout answered */
	IOPF_STAT_A_ACCESSES,		/* ACCESS commands accepted */
	IOPF_STAT_A_ACCESS_FAULTS_L1,	/* records the walk built, stage 1 */
	IOPF_STAT_A_ACCESS_FAULTS_L2,	/* records the walk built, stage 2 */
	IOPF_STAT_A_ACCESS_COMPLETED,	/* accesses that translated fully */
	IOPF_STAT_A_ACCESS_ABORTED,	/* ended by RESUME ABORT/TERM */
	IOPF_STAT_A_ACCESS_TERMINATED,	/* faulted without Stall */
	IOPF_STAT_A_MAPPED_S1,		/* stage-1 pages mapped now */
	IOPF_STAT_A_MAPPED_S2,		/* stage-2 pages mapped now */
	IOPF_STAT_A_ACCESS_NOTIFY_LOST,	/* ACCESS_NTF that could not be sent */
	/* Upstream's road: a bridged device's non-stalled records */
	IOPF_STAT_A_VEVENTS,		/* put on its vIOMMU's vEVENTQ */
	IOPF_STAT_A_VEVENT_ERRORS,	/* for a vEVENTQ, but none took it */
	IOPF_STAT_A_UPSTREAM_UNHANDLED,	/* upstream delivers them nowhere */

	__IOPF_STAT_A_MAX,
	IOPF_STAT_A_MAX = __IOPF_STAT_A_MAX - 1
};

/*
 * Upstream's road (Documentation/upstream-path.md): a bridged device
 * (DEV_SET BRIDGE 1) is a platform device of the module's mock IOMMU. The
 * misc device /dev/iopf_testbed binds it to an iommufd, as a VFIO cdev binds
 * its device, and attaches it to an IOAS or HWPT of that iommufd; the rest is
 * the iommufd uAPI. One struct for every ioctl:
 *   BIND    in: sid, iommufd (an fd of /dev/iommu); out: dev_id
 *   ATTACH  in: dev_id, pt_id (an IOAS or HWPT); out: pt_id (the HWPT)
 *           (attached already: replaces)
 *   DETACH  in: dev_id
 *   UNBIND  in: dev_id (closing the file unbinds what it bound; a binding
 *           whose device was removed is forgotten)
 * Errors: -ENODEV (not bridged, or removed since), -EBUSY (bound already, or
 * this file holds the same dev_id of another iommufd), -ENOENT (no such
 * dev_id in this file), iommufd's own errors otherwise.
 */
struct iopf_bridge_cmd {
	__u32 sid;
	__s32 iommufd;
	__u32 dev_id;
	__u32 pt_id;
	__u32 flags;			/* 0 */
	__u32 __reserved;		/* 0 */
};

#define IOPF_BRIDGE_IOC_MAGIC		0xb7
#define IOPF_BRIDGE_BIND	_IOWR(IOPF_BRIDGE_IOC_MAGIC, 1, struct iopf_bridge_cmd)
#define IOPF_BRIDGE_ATTACH	_IOWR(IOPF_BRIDGE_IOC_MAGIC, 2, struct iopf_bridge_cmd)
#define IOPF_BRIDGE_DETACH	_IOW(IOPF_BRIDGE_IOC_MAGIC, 3, struct iopf_bridge_cmd)
#define IOPF_BRIDGE_UNBIND	_IOW(IOPF_BRIDGE_IOC_MAGIC, 4, struct iopf_bridge_cmd)

#endif /* _UAPI_LINUX_IOPF_TESTBED_H */
