/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one implementation of the rules the test bed models, compiled both in
 * the kernel module and in user space (unit tests, iopfctl decode):
 *
 *  - the SMMUv3 event-record layout and its decoding, as arm_smmu_handle_evt()
 *    does it in v5.13 with the RFC "iommu: Evolve to support more scenarios of
 *    using IOPF" applied (stage-2 faults reported with the IPA);
 *  - the validation of reporting flags and the delivery decision of
 *    iommu_report_device_fault() under those flags;
 *  - the encoding of the RESUME command arm_smmu_page_response() issues.
 *
 * Nothing here allocates, locks or logs: callers do.
 */
#ifndef _IOPF_TESTBED_FAULT_CORE_H
#define _IOPF_TESTBED_FAULT_CORE_H

#include "compat.h"
#include "../uapi/linux/iopf_testbed.h"

/* SMMUv3 event record: four little-endian 64-bit words (arm-smmu-v3.h) */
#define IOPF_EVT_DWORDS			4
#define IOPF_EVT_BYTES			(IOPF_EVT_DWORDS * 8)

#define EVTQ_0_ID			GENMASK_ULL(7, 0)
#define EVTQ_0_SSV			BIT_ULL(11)
#define EVTQ_0_SSID			GENMASK_ULL(31, 12)
#define EVTQ_0_SID			GENMASK_ULL(63, 32)
#define EVTQ_1_STAG			GENMASK_ULL(15, 0)
#define EVTQ_1_STALL			BIT_ULL(31)
#define EVTQ_1_PnU			BIT_ULL(33)
#define EVTQ_1_InD			BIT_ULL(34)
#define EVTQ_1_RnW			BIT_ULL(35)
#define EVTQ_1_S2			BIT_ULL(39)
#define EVTQ_1_CLASS			GENMASK_ULL(41, 40)
#define EVTQ_1_TT_READ			BIT_ULL(44)
#define EVTQ_2_ADDR			GENMASK_ULL(63, 0)
/* The IPA stays in place: FIELD_GET() here would yield a frame number (B3) */
#define EVTQ_3_IPA			GENMASK_ULL(51, 12)
#define EVTQ_3_FETCH_ADDR		GENMASK_ULL(51, 3)

/* Event IDs (SMMUv3 spec, table 7.x) */
#define EVT_ID_BAD_STREAMID		0x02
#define EVT_ID_STE_FETCH_FAULT		0x03
#define EVT_ID_BAD_STE			0x04
#define EVT_ID_STREAM_DISABLED		0x06
#define EVT_ID_BAD_SUBSTREAMID		0x08
#define EVT_ID_CD_FETCH_FAULT		0x09
#define EVT_ID_BAD_CD			0x0a
#define EVT_ID_TRANSLATION_FAULT	0x10
#define EVT_ID_ADDR_SIZE_FAULT		0x11
#define EVT_ID_ACCESS_FAULT		0x12
#define EVT_ID_PERMISSION_FAULT		0x13
#define EVT_ID_VMS_FETCH		0x25

/* CLASS (word 1, bits 41:40): what a stage-2 fault's access was for */
#define IOPF_EVT_CLASS_CD		0	/* context descriptor fetch */
#define IOPF_EVT_CLASS_TT		1	/* stage-1 translation table */
#define IOPF_EVT_CLASS_IN		2	/* the input address's output */

/* CMD_RESUME, as arm_smmu_cmdq_build_cmd() encodes it */
#define CMDQ_OP_RESUME			0x44
#define CMDQ_0_OP			GENMASK_ULL(7, 0)
#define CMDQ_RESUME_0_RESP		GENMASK_ULL(13, 12)
#define CMDQ_RESUME_0_SID		GENMASK_ULL(63, 32)
#define CMDQ_RESUME_1_STAG		GENMASK_ULL(15, 0)

/* What iopf_delivery() decides for one fault */
enum iopf_verdict {
	IOPF_DELIVER,
	IOPF_FILTER_L1,		/* NESTED without L1_CONCERNED, stage-1 fault */
	IOPF_FILTER_L2,		/* NESTED without L2_CONCERNED, stage-2 fault */
	IOPF_FILTER_UNRECOV,	/* unrecoverable without REPORT_UNRECOV */
	IOPF_FILTER_FLAT,	/* neither NESTED nor FLAT (invalid flags) */
};

/**
 * struct iopf_model_fault - a decoded event, the model's struct iommu_fault
 * @type: IOPF_FAULT_PAGE_REQ or IOPF_FAULT_DMA_UNRECOV
 * @event_id: SMMUv3 event ID the fault came from
 * @level: 1 (stage 1) or 2 (stage 2, the record's S2 bit)
 * @sid: StreamID
 * @flags: IOPF_PRQ_* for page requests, IOPF_UNRECOV_* for unrecoverable
 * @pasid: SubstreamID, meaningful only with the PASID_VALID flag
 * @grpid: page request group index (the STAG), page requests only
 * @perm: IOPF_PERM_* bits
 * @reason: IOPF_REASON_* for unrecoverable faults, 0 otherwise
 * @addr: faulting address: the IPA for stage-2 page requests, else the IOVA
 * @ipa: the IPA of a stage-2 unrecoverable fault (its @addr is the IOVA)
 */
struct iopf_model_fault {
	u32 type;
	u32 event_id;
	u32 level;
	u32 sid;
	u32 flags;
	u32 pasid;
	u32 grpid;
	u32 perm;
	u32 reason;
	u64 addr;
	u64 ipa;
};

static inline u32 iopf_evt_id(const u64 *evt)
{
	return (u32)FIELD_GET(EVTQ_0_ID, evt[0]);
}

static inline u32 iopf_evt_sid(const u64 *evt)
{
	return (u32)FIELD_GET(EVTQ_0_SID, evt[0]);
}

static inline bool iopf_evt_handled(u32 event_id)
{
	switch (event_id) {
	case EVT_ID_TRANSLATION_FAULT:
	case EVT_ID_ADDR_SIZE_FAULT:
	case EVT_ID_ACCESS_FAULT:
	case EVT_ID_PERMISSION_FAULT:
		return true;
	default:
		return false;
	}
}

/* The event's architectural name, for logs and user-space output */
static inline const char *iopf_evt_name(u32 event_id)
{
	switch (event_id) {
	case EVT_ID_BAD_STREAMID:	return "C_BAD_STREAMID";
	case EVT_ID_STE_FETCH_FAULT:	return "F_STE_FETCH";
	case EVT_ID_BAD_STE:		return "C_BAD_STE";
	case EVT_ID_STREAM_DISABLED:	return "F_STREAM_DISABLED";
	case EVT_ID_BAD_SUBSTREAMID:	return "C_BAD_SUBSTREAMID";
	case EVT_ID_CD_FETCH_FAULT:	return "F_CD_FETCH";
	case EVT_ID_BAD_CD:		return "C_BAD_CD";
	case EVT_ID_TRANSLATION_FAULT:	return "F_TRANSLATION";
	case EVT_ID_ADDR_SIZE_FAULT:	return "F_ADDR_SIZE";
	case EVT_ID_ACCESS_FAULT:	return "F_ACCESS";
	case EVT_ID_PERMISSION_FAULT:	return "F_PERMISSION";
	case EVT_ID_VMS_FETCH:		return "F_VMS_FETCH";
	default:			return "UNKNOWN";
	}
}

/**
 * iopf_decode() - decode an event record as arm_smmu_handle_evt() does
 * @evt: the four record words, CPU order
 * @flt: filled on success
 *
 * Return: 0, or -EOPNOTSUPP for events the driver does not report.
 */
static inline int iopf_decode(const u64 *evt, struct iopf_model_fault *flt)
{
	u32 id = iopf_evt_id(evt);
	bool ssv = evt[0] & EVTQ_0_SSV;
	bool s2 = evt[1] & EVTQ_1_S2;
	u32 reason;

	switch (id) {
	case EVT_ID_TRANSLATION_FAULT:
		reason = IOPF_REASON_PTE_FETCH;
		break;
	case EVT_ID_ADDR_SIZE_FAULT:
		reason = IOPF_REASON_OOR_ADDRESS;
		break;
	case EVT_ID_ACCESS_FAULT:
		reason = IOPF_REASON_ACCESS;
		break;
	case EVT_ID_PERMISSION_FAULT:
		reason = IOPF_REASON_PERMISSION;
		break;
	default:
		return -EOPNOTSUPP;
	}

	/* Field by field: this must also compile as C++ */
	__builtin_memset(flt, 0, sizeof(*flt));
	flt->event_id = id;
	flt->level = s2 ? 2 : 1;
	flt->sid = iopf_evt_sid(evt);
	flt->pasid = ssv ? (u32)FIELD_GET(EVTQ_0_SSID, evt[0]) : 0;
	flt->perm = (evt[1] & EVTQ_1_RnW) ? IOPF_PERM_READ : IOPF_PERM_WRITE;
	flt->addr = FIELD_GET(EVTQ_2_ADDR, evt[2]);
	if (evt[1] & EVTQ_1_InD)
		flt->perm |= IOPF_PERM_EXEC;
	if (evt[1] & EVTQ_1_PnU)
		flt->perm |= IOPF_PERM_PRIV;

	if (evt[1] & EVTQ_1_STALL) {
		flt->type = IOPF_FAULT_PAGE_REQ;
		flt->flags = IOPF_PRQ_LAST_PAGE;
		flt->grpid = (u32)FIELD_GET(EVTQ_1_STAG, evt[1]);
		if (ssv)
			flt->flags |= IOPF_PRQ_PASID_VALID;
		/* The RFC: stage-2 faults are reported, with the IPA */
		if (s2) {
			flt->flags |= IOPF_PRQ_L2;
			flt->addr = evt[3] & EVTQ_3_IPA;
		}
	} else {
		flt->type = IOPF_FAULT_DMA_UNRECOV;
		flt->reason = reason;
		flt->flags = IOPF_UNRECOV_ADDR_VALID;
		if (s2)
			flt->ipa = evt[3] & EVTQ_3_IPA;
		if (ssv)
			flt->flags |= IOPF_UNRECOV_PASID_VALID;
	}
	return 0;
}

static inline bool iopf_fault_has_pasid(const struct iopf_model_fault *flt)
{
	/* PASID_VALID is bit 0 in both the page-request and unrecov flags */
	return flt->flags & IOPF_PRQ_PASID_VALID;
}

/**
 * struct iopf_evt_fields - what a translation-fault record says
 * @event_id: EVT_ID_TRANSLATION_FAULT, EVT_ID_PERMISSION_FAULT...
 * @sid: StreamID
 * @ssv: a SubstreamID is given
 * @ssid: the SubstreamID (20 bits), with @ssv
 * @stall: the transaction stalls (a page request): Stall and @stag
 * @stag: STAG (16 bits), with @stall
 * @perm: IOPF_PERM_* of the access: RnW unless WRITE, InD, PnU
 * @s2: the fault is at stage 2
 * @cls: IOPF_EVT_CLASS_*
 * @tt_read: TTRnW, a table read (CLASS TT; written on permission faults)
 * @addr: input address (IOVA)
 * @ipa: stage-2 faults: the IPA stage 2 failed on (bits 51:12 kept)
 */
struct iopf_evt_fields {
	u32 event_id;
	u32 sid;
	bool ssv;
	u32 ssid;
	bool stall;
	u32 stag;
	u32 perm;
	bool s2;
	u32 cls;
	bool tt_read;
	u64 addr;
	u64 ipa;
};

/**
 * iopf_evt_build() - the record an SMMUv3 writes for a translation fault
 * @f: its fields; values are truncated to their field widths
 * @evt: the four words, CPU order
 *
 * iopf_decode() of the result gives back what @f says (the permission as
 * READ or WRITE, not both: an access that writes is a write, and its data
 * access is never an instruction fetch), as an SMMUv3 writes it: InD only
 * with RnW, TTRnW only on F_PERMISSION of CLASS TT.
 */
static inline void iopf_evt_build(const struct iopf_evt_fields *f, u64 *evt)
{
	evt[0] = FIELD_PREP(EVTQ_0_ID, (u64)f->event_id) |
		 FIELD_PREP(EVTQ_0_SID, (u64)f->sid);
	if (f->ssv)
		evt[0] |= EVTQ_0_SSV | FIELD_PREP(EVTQ_0_SSID, (u64)f->ssid);
	evt[1] = FIELD_PREP(EVTQ_1_CLASS, (u64)f->cls);
	if (f->stall)
		evt[1] |= EVTQ_1_STALL | FIELD_PREP(EVTQ_1_STAG, (u64)f->stag);
	if (!(f->perm & IOPF_PERM_WRITE))
		evt[1] |= EVTQ_1_RnW;
	/* InD is Data (0) when RnW is 0: an instruction fetch is a read */
	if ((f->perm & IOPF_PERM_EXEC) && !(f->perm & IOPF_PERM_WRITE))
		evt[1] |= EVTQ_1_InD;
	if (f->perm & IOPF_PERM_PRIV)
		evt[1] |= EVTQ_1_PnU;
	if (f->s2)
		evt[1] |= EVTQ_1_S2;
	/* TTRnW is defined for a permission fault on a table access only */
	if (f->tt_read && f->event_id == EVT_ID_PERMISSION_FAULT &&
	    f->cls == IOPF_EVT_CLASS_TT)
		evt[1] |= EVTQ_1_TT_READ;
	evt[2] = f->addr;
	evt[3] = f->s2 ? (f->ipa & EVTQ_3_IPA) : 0;
}

/* The text forms' letters (debugfs, iopfctl): IOPF_PERM_* bit i is letter i */
#define IOPF_PERM_LETTERS		"rwxp"

/* Does a mapping granting @granted allow an access asking @asked? */
static inline bool iopf_perm_granted(u32 asked, u32 granted)
{
	return !(asked & ~granted);
}

/**
 * iopf_flags_check() - may a handler be registered with these flags?
 * @flags: IOPF_REPORT_* bits
 *
 * The RFC rejected only FLAT together with NESTED; the review pointed out
 * that sets which can never deliver anything were accepted too. Reject them.
 *
 * Return: NULL when valid, else why not (for an extack message).
 */
static inline const char *iopf_flags_check(u32 flags)
{
	u32 levels = IOPF_REPORT_NESTED_L1_CONCERNED |
		     IOPF_REPORT_NESTED_L2_CONCERNED;

	if (flags & ~IOPF_REPORT_ALL)
		return "unknown reporting flag";
	if ((flags & IOPF_REPORT_FLAT) && (flags & IOPF_REPORT_NESTED))
		return "FLAT and NESTED are mutually exclusive";
	if (!(flags & (IOPF_REPORT_FLAT | IOPF_REPORT_NESTED)))
		return "one of FLAT or NESTED is required";
	if ((flags & IOPF_REPORT_NESTED) && !(flags & levels))
		return "NESTED needs L1_CONCERNED and/or L2_CONCERNED";
	if ((flags & IOPF_REPORT_FLAT) && (flags & levels))
		return "L1/L2_CONCERNED apply to NESTED only";
	return NULL;
}

/**
 * iopf_delivery() - does a handler registered with @flags get @flt?
 * @flags: the handler's IOPF_REPORT_* flags (valid per iopf_flags_check())
 * @flt: the decoded fault
 *
 * Page requests follow the RFC: NESTED delivers the levels the handler is
 * concerned with, FLAT delivers everything. Unrecoverable faults, which the
 * RFC stopped reporting, are delivered under the same level rule when the
 * handler opted in with IOPF_REPORT_UNRECOV (the RFC author's stated plan).
 *
 * Return: IOPF_DELIVER, or the IOPF_FILTER_* reason the fault is dropped
 * (iommu_report_device_fault() returns -EOPNOTSUPP for those).
 */
static inline enum iopf_verdict iopf_delivery(u32 flags,
					      const struct iopf_model_fault *flt)
{
	if (flt->type != IOPF_FAULT_PAGE_REQ && !(flags & IOPF_REPORT_UNRECOV))
		return IOPF_FILTER_UNRECOV;
	if (flags & IOPF_REPORT_NESTED) {
		if (flt->level == 2 &&
		    !(flags & IOPF_REPORT_NESTED_L2_CONCERNED))
			return IOPF_FILTER_L2;
		if (flt->level != 2 &&
		    !(flags & IOPF_REPORT_NESTED_L1_CONCERNED))
			return IOPF_FILTER_L1;
		return IOPF_DELIVER;
	}
	return (flags & IOPF_REPORT_FLAT) ? IOPF_DELIVER : IOPF_FILTER_FLAT;
}

/**
 * iopf_resume_encode() - the CMD_RESUME arm_smmu_page_response() issues
 * @sid: StreamID
 * @grpid: STAG of the stalled transaction
 * @code: IOPF_RESP_* page response code
 * @cmd: filled with the two command words
 *
 * Return: 0, or -EINVAL for a code the driver does not know.
 */
static inline int iopf_resume_encode(u32 sid, u32 grpid, u32 code, u64 *cmd)
{
	u64 resp;

	switch (code) {
	case IOPF_RESP_SUCCESS:
		resp = IOPF_RESUME_RETRY;
		break;
	case IOPF_RESP_INVALID:
	case IOPF_RESP_FAILURE:
		resp = IOPF_RESUME_ABORT;
		break;
	default:
		return -EINVAL;
	}
	cmd[0] = FIELD_PREP(CMDQ_0_OP, CMDQ_OP_RESUME) |
		 FIELD_PREP(CMDQ_RESUME_0_RESP, resp) |
		 FIELD_PREP(CMDQ_RESUME_0_SID, (u64)sid);
	cmd[1] = FIELD_PREP(CMDQ_RESUME_1_STAG, (u64)grpid);
	return 0;
}

/*
 * Upstream's road: what arm_smmu_handle_event() of Linux 7.2 does with a
 * record of a device whose domain takes faults (the module's mock IOMMU,
 * kmod/iommu.c). Only the eight event IDs below are handled; a stalled one
 * becomes a page request for iommu_report_device_fault() with addr = the
 * input address whatever the stage (upstream has no IPA and no level), a
 * non-stalled stage-1 one of a nested device goes to the vIOMMU's vEVENTQ,
 * and everything else is dropped ("Unhandled events should be pinned").
 */
enum iopf_upstream_route {
	IOPF_UP_PAGE_REQ,	/* iommu_report_device_fault() */
	IOPF_UP_VEVENT,		/* arm_vmaster_report_event(), nested only */
	IOPF_UP_UNHANDLED,	/* -EOPNOTSUPP */
};

/**
 * struct iopf_upstream_prq - upstream's struct iommu_fault_page_request
 * @flags: IOPF_PRQ_LAST_PAGE, IOPF_PRQ_PASID_VALID (the uAPI's
 *         IOMMU_PGFAULT_FLAGS_* have the same values)
 * @pasid: the SubstreamID when SSV, else 0 (IOMMU_NO_PASID)
 * @grpid: the STAG
 * @perm: IOPF_PERM_* (the same values as IOMMU_PGFAULT_PERM_*)
 * @addr: the input address, stage 1 and stage 2 alike
 */
struct iopf_upstream_prq {
	u32 flags;
	u32 pasid;
	u32 grpid;
	u32 perm;
	u64 addr;
};

static inline bool iopf_upstream_handled(u32 event_id)
{
	switch (event_id) {
	case EVT_ID_BAD_STE:
	case EVT_ID_STREAM_DISABLED:
	case EVT_ID_BAD_SUBSTREAMID:
	case EVT_ID_BAD_CD:
	case EVT_ID_TRANSLATION_FAULT:
	case EVT_ID_ADDR_SIZE_FAULT:
	case EVT_ID_ACCESS_FAULT:
	case EVT_ID_PERMISSION_FAULT:
		return true;
	default:
		return false;
	}
}

/**
 * iopf_upstream_decode() - arm_smmu_decode_event() + arm_smmu_handle_event()
 * @evt: the record, words in CPU order
 * @nested: the device is attached to a nested domain of a vIOMMU
 * @prq: filled for IOPF_UP_PAGE_REQ
 *
 * Return: where upstream sends the record.
 */
static inline enum iopf_upstream_route
iopf_upstream_decode(const u64 *evt, bool nested, struct iopf_upstream_prq *prq)
{
	bool ssv = evt[0] & EVTQ_0_SSV;

	if (!iopf_upstream_handled(iopf_evt_id(evt)))
		return IOPF_UP_UNHANDLED;
	if (!(evt[1] & EVTQ_1_STALL))
		return nested && !(evt[1] & EVTQ_1_S2) ? IOPF_UP_VEVENT :
							 IOPF_UP_UNHANDLED;
	__builtin_memset(prq, 0, sizeof(*prq));
	prq->perm = (evt[1] & EVTQ_1_RnW) ? IOPF_PERM_READ : IOPF_PERM_WRITE;
	if (evt[1] & EVTQ_1_InD)
		prq->perm |= IOPF_PERM_EXEC;
	if (evt[1] & EVTQ_1_PnU)
		prq->perm |= IOPF_PERM_PRIV;
	prq->flags = IOPF_PRQ_LAST_PAGE;
	prq->grpid = (u32)FIELD_GET(EVTQ_1_STAG, evt[1]);
	prq->addr = FIELD_GET(EVTQ_2_ADDR, evt[2]);
	if (ssv) {
		prq->flags |= IOPF_PRQ_PASID_VALID;
		prq->pasid = (u32)FIELD_GET(EVTQ_0_SSID, evt[0]);
	}
	return IOPF_UP_PAGE_REQ;
}

/*
 * The vIOMMU's two records (Linux 7.2, arm-smmu-v3-iommufd.c).
 *
 * A guest's Stream Table Entry, as iommufd takes it for a nested domain
 * (struct iommu_hwpt_arm_smmuv3, words in CPU order here): only the fields a
 * guest may own (STRTAB_STE_*_NESTING_ALLOWED), and Config abort, bypass
 * (stage 2 only) or stage-1 translate (both stages).
 */
#define STRTAB_STE_0_V			BIT_ULL(0)
#define STRTAB_STE_0_CFG		GENMASK_ULL(3, 1)
#define STRTAB_STE_0_CFG_ABORT		0
#define STRTAB_STE_0_CFG_BYPASS		4
#define STRTAB_STE_0_CFG_S1_TRANS	5
#define STRTAB_STE_0_S1FMT		GENMASK_ULL(5, 4)
#define STRTAB_STE_0_S1CTXPTR_MASK	GENMASK_ULL(51, 6)
#define STRTAB_STE_0_S1CDMAX		GENMASK_ULL(63, 59)
#define STRTAB_STE_0_NESTING_ALLOWED					\
	(STRTAB_STE_0_V | STRTAB_STE_0_CFG | STRTAB_STE_0_S1FMT |	\
	 STRTAB_STE_0_S1CTXPTR_MASK | STRTAB_STE_0_S1CDMAX)
#define STRTAB_STE_1_S1DSS		GENMASK_ULL(1, 0)
#define STRTAB_STE_1_S1CIR		GENMASK_ULL(3, 2)
#define STRTAB_STE_1_S1COR		GENMASK_ULL(5, 4)
#define STRTAB_STE_1_S1CSH		GENMASK_ULL(7, 6)
#define STRTAB_STE_1_S1STALLD		BIT_ULL(27)
#define STRTAB_STE_1_EATS		GENMASK_ULL(29, 28)
#define STRTAB_STE_1_EATS_ABT		0
#define STRTAB_STE_1_EATS_TRANS		1
#define STRTAB_STE_1_NESTING_ALLOWED					\
	(STRTAB_STE_1_S1DSS | STRTAB_STE_1_S1CIR | STRTAB_STE_1_S1COR |	\
	 STRTAB_STE_1_S1CSH | STRTAB_STE_1_S1STALLD | STRTAB_STE_1_EATS)

/* What a nested domain makes of its device (arm_smmu_make_nested_domain_ste) */
enum iopf_vste_config {
	IOPF_VSTE_ABORT,	/* also a vSTE without V */
	IOPF_VSTE_BYPASS,	/* stage 2 only */
	IOPF_VSTE_S1_TRANS,	/* stage 1, then stage 2 */
};

/**
 * iopf_vste_check() - arm_smmu_validate_vste()
 * @ste: the vSTE, words in CPU order; without V it is zeroed, and EATS is
 *       cleared (the host sets it), as upstream does
 * @cfg: what the domain does
 *
 * Return: 0, or -EIO for a field a guest may not set or a Config or EATS
 * value the host does not take (the errno iommufd returns).
 */
static inline int iopf_vste_check(u64 *ste, enum iopf_vste_config *cfg)
{
	u64 eats;

	*cfg = IOPF_VSTE_ABORT;
	if (!(ste[0] & STRTAB_STE_0_V)) {
		ste[0] = 0;
		ste[1] = 0;
		return 0;
	}
	if ((ste[0] & ~STRTAB_STE_0_NESTING_ALLOWED) ||
	    (ste[1] & ~STRTAB_STE_1_NESTING_ALLOWED))
		return -EIO;
	switch (FIELD_GET(STRTAB_STE_0_CFG, ste[0])) {
	case STRTAB_STE_0_CFG_ABORT:
		break;
	case STRTAB_STE_0_CFG_BYPASS:
		*cfg = IOPF_VSTE_BYPASS;
		break;
	case STRTAB_STE_0_CFG_S1_TRANS:
		*cfg = IOPF_VSTE_S1_TRANS;
		break;
	default:
		return -EIO;
	}
	eats = FIELD_GET(STRTAB_STE_1_EATS, ste[1]);
	if (eats != STRTAB_STE_1_EATS_ABT && eats != STRTAB_STE_1_EATS_TRANS)
		return -EIO;
	ste[1] &= ~STRTAB_STE_1_EATS;
	return 0;
}

/**
 * iopf_vevent_build() - arm_vmaster_report_event(): the record a vEVENTQ
 * carries, the physical StreamID replaced by the guest's
 * @evt: the record, words in CPU order
 * @vsid: the vDEVICE's virtual ID
 * @out: the vEVENTQ's record, words in CPU order (iommufd's are LE)
 */
static inline void iopf_vevent_build(const u64 *evt, u32 vsid, u64 *out)
{
	int i;

	out[0] = (evt[0] & ~EVTQ_0_SID) | FIELD_PREP(EVTQ_0_SID, (u64)vsid);
	for (i = 1; i < IOPF_EVT_DWORDS; i++)
		out[i] = evt[i];
}

#endif /* _IOPF_TESTBED_FAULT_CORE_H */
