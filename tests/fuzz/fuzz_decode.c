// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for fault_core.h, compiled as C as the module compiles
 * it: iopf_decode() of an arbitrary 32-byte record, iopf_flags_check() and
 * iopf_delivery() under every flag set, iopf_resume_encode() of the decoded
 * fault and of arbitrary values. Every invariant the model promises is
 * checked; a violation aborts (and libFuzzer keeps the input).
 *
 * Input: 32 bytes of record (little-endian words, as in the event queue),
 * then optionally 4 bytes of reporting flags, 4 of StreamID, 4 of grpid,
 * 4 of response code. Shorter inputs are zero-padded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iopf_testbed/fault_core.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: invariant violated: %s\n",   \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

static u64 le64(const uint8_t *p)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static u32 le32(const uint8_t *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u32 expected_reason(u32 id)
{
	switch (id) {
	case EVT_ID_TRANSLATION_FAULT:	return IOPF_REASON_PTE_FETCH;
	case EVT_ID_ADDR_SIZE_FAULT:	return IOPF_REASON_OOR_ADDRESS;
	case EVT_ID_ACCESS_FAULT:	return IOPF_REASON_ACCESS;
	case EVT_ID_PERMISSION_FAULT:	return IOPF_REASON_PERMISSION;
	default:			return 0;
	}
}

/* The delivery rule restated from Documentation/model.md, independently */
static enum iopf_verdict expected_verdict(u32 flags, const struct iopf_model_fault *f)
{
	int page_req = f->type == IOPF_FAULT_PAGE_REQ;
	int nested = !!(flags & IOPF_REPORT_NESTED);
	int flat = !!(flags & IOPF_REPORT_FLAT);
	int l1 = !!(flags & IOPF_REPORT_NESTED_L1_CONCERNED);
	int l2 = !!(flags & IOPF_REPORT_NESTED_L2_CONCERNED);

	if (!page_req && !(flags & IOPF_REPORT_UNRECOV))
		return IOPF_FILTER_UNRECOV;
	if (nested) {
		if (f->level == 2)
			return l2 ? IOPF_DELIVER : IOPF_FILTER_L2;
		return l1 ? IOPF_DELIVER : IOPF_FILTER_L1;
	}
	return flat ? IOPF_DELIVER : IOPF_FILTER_FLAT;
}

/* The flag rules restated: valid exactly when some fault can be delivered
 * and no bit is unknown or contradictory. */
static int expected_flags_valid(u32 flags)
{
	int flat = !!(flags & IOPF_REPORT_FLAT);
	int nested = !!(flags & IOPF_REPORT_NESTED);
	int levels = !!(flags & (IOPF_REPORT_NESTED_L1_CONCERNED |
				 IOPF_REPORT_NESTED_L2_CONCERNED));

	if (flags & ~IOPF_REPORT_ALL)
		return 0;
	if (flat == nested)
		return 0;
	return nested ? levels : !levels;
}

static void check_resume(u32 sid, u32 grpid, u32 code)
{
	u64 cmd[2] = { 0xa5a5a5a5a5a5a5a5ULL, 0x5a5a5a5a5a5a5a5aULL };
	u64 again[2] = { 0, 0 };
	int ret = iopf_resume_encode(sid, grpid, code, cmd);

	if (code > IOPF_RESP_FAILURE) {
		CHECK(ret == -EINVAL);
		/* nothing written on error */
		CHECK(cmd[0] == 0xa5a5a5a5a5a5a5a5ULL);
		CHECK(cmd[1] == 0x5a5a5a5a5a5a5a5aULL);
		return;
	}
	CHECK(ret == 0);
	CHECK((cmd[0] & 0xff) == 0x44);
	CHECK(FIELD_GET(CMDQ_0_OP, cmd[0]) == CMDQ_OP_RESUME);
	CHECK(FIELD_GET(CMDQ_RESUME_0_SID, cmd[0]) == sid);
	CHECK(FIELD_GET(CMDQ_RESUME_0_RESP, cmd[0]) ==
	      (code == IOPF_RESP_SUCCESS ? IOPF_RESUME_RETRY : IOPF_RESUME_ABORT));
	/* no stray bits: only OP, RESP and SID in word 0, STAG in word 1 */
	CHECK((cmd[0] & ~(CMDQ_0_OP | CMDQ_RESUME_0_RESP | CMDQ_RESUME_0_SID)) == 0);
	CHECK((cmd[1] & ~CMDQ_RESUME_1_STAG) == 0);
	CHECK(FIELD_GET(CMDQ_RESUME_1_STAG, cmd[1]) == (grpid & 0xffff));
	/* deterministic */
	CHECK(iopf_resume_encode(sid, grpid, code, again) == 0);
	CHECK(again[0] == cmd[0] && again[1] == cmd[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[IOPF_EVT_BYTES + 16] = { 0 };
	u64 evt[IOPF_EVT_DWORDS];
	struct iopf_model_fault flt, flt2;
	u32 fuzz_flags, fuzz_sid, fuzz_grpid, fuzz_code;
	u32 id;
	int ret, ssv, s2, stall;

	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	for (int i = 0; i < IOPF_EVT_DWORDS; i++)
		evt[i] = le64(buf + 8 * i);
	fuzz_flags = le32(buf + 32);
	fuzz_sid = le32(buf + 36);
	fuzz_grpid = le32(buf + 40);
	fuzz_code = le32(buf + 44);

	/* Flag validation, for the fuzzed set (any u32) */
	CHECK((iopf_flags_check(fuzz_flags) == NULL) ==
	      expected_flags_valid(fuzz_flags));

	/* The review's point: a set that is accepted can deliver something */
	if (iopf_flags_check(fuzz_flags) == NULL) {
		struct iopf_model_fault pr = { .type = IOPF_FAULT_PAGE_REQ, .level = 1 };
		int delivered = iopf_delivery(fuzz_flags, &pr) == IOPF_DELIVER;

		pr.level = 2;
		delivered |= iopf_delivery(fuzz_flags, &pr) == IOPF_DELIVER;
		CHECK(delivered);
	}

	/* Resume encoding of arbitrary values */
	check_resume(fuzz_sid, fuzz_grpid, fuzz_code);
	check_resume(fuzz_sid, fuzz_grpid, fuzz_code % 4);

	id = iopf_evt_id(evt);
	ssv = !!(evt[0] & EVTQ_0_SSV);
	s2 = !!(evt[1] & EVTQ_1_S2);
	stall = !!(evt[1] & EVTQ_1_STALL);
	CHECK(id <= 0xff);
	CHECK(iopf_evt_sid(evt) == (u32)(evt[0] >> 32));
	CHECK(iopf_evt_name(id) != NULL);

	memset(&flt, 0x5c, sizeof(flt));
	ret = iopf_decode(evt, &flt);
	if (!iopf_evt_handled(id)) {
		struct iopf_model_fault untouched;

		memset(&untouched, 0x5c, sizeof(untouched));
		CHECK(ret == -EOPNOTSUPP);
		CHECK(memcmp(&flt, &untouched, sizeof(flt)) == 0);
		return 0;
	}
	CHECK(ret == 0);
	CHECK(strcmp(iopf_evt_name(id), "UNKNOWN") != 0);

	/* Deterministic, and independent of what the output held before */
	memset(&flt2, 0xa3, sizeof(flt2));
	CHECK(iopf_decode(evt, &flt2) == 0);
	CHECK(memcmp(&flt, &flt2, sizeof(flt)) == 0);

	CHECK(flt.event_id == id);
	CHECK(flt.sid == (u32)(evt[0] >> 32));
	CHECK(flt.level == 1 || flt.level == 2);
	CHECK((flt.level == 2) == s2);
	CHECK((flt.perm & ~IOPF_PERM_ALL) == 0);
	/* exactly one of READ and WRITE, from RnW */
	CHECK(!!(flt.perm & IOPF_PERM_READ) != !!(flt.perm & IOPF_PERM_WRITE));
	CHECK(!!(flt.perm & IOPF_PERM_READ) == !!(evt[1] & EVTQ_1_RnW));
	CHECK(!!(flt.perm & IOPF_PERM_EXEC) == !!(evt[1] & EVTQ_1_InD));
	CHECK(!!(flt.perm & IOPF_PERM_PRIV) == !!(evt[1] & EVTQ_1_PnU));
	CHECK(flt.pasid < (1U << 20));
	CHECK(ssv ? flt.pasid == FIELD_GET(EVTQ_0_SSID, evt[0]) : flt.pasid == 0);
	CHECK(iopf_fault_has_pasid(&flt) == ssv);

	if (stall) {
		u32 known = IOPF_PRQ_PASID_VALID | IOPF_PRQ_LAST_PAGE | IOPF_PRQ_L2;

		CHECK(flt.type == IOPF_FAULT_PAGE_REQ);
		CHECK((flt.flags & ~known) == 0);
		CHECK(flt.flags & IOPF_PRQ_LAST_PAGE);
		CHECK(!!(flt.flags & IOPF_PRQ_PASID_VALID) == ssv);
		CHECK(!!(flt.flags & IOPF_PRQ_L2) == s2);
		CHECK(flt.grpid == (evt[1] & 0xffff));
		CHECK(flt.reason == 0);
		if (s2) {
			/* the IPA, in place: page aligned, below 2^52 */
			CHECK(flt.addr == (evt[3] & GENMASK_ULL(51, 12)));
			CHECK((flt.addr & 0xfff) == 0);
			CHECK(flt.addr < (1ULL << 52));
		} else {
			CHECK(flt.addr == evt[2]);
		}
	} else {
		u32 known = IOPF_UNRECOV_PASID_VALID | IOPF_UNRECOV_ADDR_VALID;

		CHECK(flt.type == IOPF_FAULT_DMA_UNRECOV);
		CHECK((flt.flags & ~known) == 0);
		CHECK(flt.flags & IOPF_UNRECOV_ADDR_VALID);
		CHECK(!!(flt.flags & IOPF_UNRECOV_PASID_VALID) == ssv);
		CHECK(flt.grpid == 0);
		CHECK(flt.reason == expected_reason(id));
		CHECK(flt.reason != IOPF_REASON_UNKNOWN);
		CHECK(flt.addr == evt[2]);
	}

	/* Delivery under every flag set, and under the fuzzed one */
	for (u32 flags = 0; flags <= IOPF_REPORT_ALL + 1; flags++) {
		u32 f = flags == IOPF_REPORT_ALL + 1 ? fuzz_flags : flags;
		enum iopf_verdict v = iopf_delivery(f, &flt);
		int valid = iopf_flags_check(f) == NULL;

		CHECK(v == expected_verdict(f, &flt));
		CHECK(v == iopf_delivery(f, &flt));
		CHECK(v >= IOPF_DELIVER && v <= IOPF_FILTER_FLAT);
		/* a registered (valid) handler never hits the FLAT filter */
		if (valid)
			CHECK(v != IOPF_FILTER_FLAT);
		/* verdict consistent with flags */
		if (v == IOPF_DELIVER) {
			CHECK(flt.type == IOPF_FAULT_PAGE_REQ ||
			      (f & IOPF_REPORT_UNRECOV));
			CHECK(f & (IOPF_REPORT_FLAT | IOPF_REPORT_NESTED));
			if ((f & IOPF_REPORT_NESTED) && flt.level == 1)
				CHECK(f & IOPF_REPORT_NESTED_L1_CONCERNED);
			if ((f & IOPF_REPORT_NESTED) && flt.level == 2)
				CHECK(f & IOPF_REPORT_NESTED_L2_CONCERNED);
		}
		if (v == IOPF_FILTER_L1)
			CHECK(flt.level == 1 && (f & IOPF_REPORT_NESTED));
		if (v == IOPF_FILTER_L2)
			CHECK(flt.level == 2 && (f & IOPF_REPORT_NESTED));
		if (v == IOPF_FILTER_UNRECOV)
			CHECK(flt.type != IOPF_FAULT_PAGE_REQ);
		/* a valid FLAT set with UNRECOV gets everything */
		if (valid && (f & IOPF_REPORT_FLAT) && (f & IOPF_REPORT_UNRECOV))
			CHECK(v == IOPF_DELIVER);
	}

	/* The RESUME for a page request names its StreamID and STAG exactly */
	if (flt.type == IOPF_FAULT_PAGE_REQ) {
		for (u32 code = IOPF_RESP_SUCCESS; code <= IOPF_RESP_FAILURE; code++) {
			u64 cmd[2];

			CHECK(iopf_resume_encode(flt.sid, flt.grpid, code, cmd) == 0);
			CHECK(FIELD_GET(CMDQ_RESUME_0_SID, cmd[0]) == flt.sid);
			CHECK(FIELD_GET(CMDQ_RESUME_1_STAG, cmd[1]) == flt.grpid);
		}
	}
	return 0;
}
