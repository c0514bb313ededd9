/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The decode/delivery case table shared by the host unit tests
 * (tests/unit/test_fault_core.cpp) and the guest suite
 * (tests/selftests/iopf_testbed_test.c), so both check the same cases.
 *
 * Every expected value below is written out by hand from the SMMUv3 event
 * record layout and the v5.13 + RFC semantics (shared/reference/iopf-facts.md),
 * never computed by the code under test. The TC_* constants are spelled as
 * plain numbers on purpose: they do not come from the uapi header, so a wrong
 * constant there shows up as a mismatch instead of being copied here.
 *
 * Record bit cheat-sheet used to write the words:
 *   word0: ID 7:0 | SSV 1<<11 (0x800) | SSID 31:12 | SID 63:32
 *   word1: STAG 15:0 | STALL 1<<31 (0x80000000) | PnU 1<<33 (0x2_0000_0000)
 *          | InD 1<<34 (0x4_0000_0000) | RnW 1<<35 (0x8_0000_0000)
 *          | S2 1<<39 (0x80_0000_0000) | CLASS 41:40 | TTRnW 1<<44
 *   word2: input address (IOVA)
 *   word3: IPA = word3 & GENMASK_ULL(51, 12)  (kept in place, not shifted)
 *
 * Compiles as C11 and C++20, and in the kernel.
 */
#ifndef IOPF_TESTBED_FAULT_CASES_H
#define IOPF_TESTBED_FAULT_CASES_H

#ifdef __KERNEL__		/* the module's KUnit suite (kmod/kunit_test.c) */
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdint.h>
#endif

#include "iopf_testbed/fault_core.h"

/* enum iommu_fault_type */
#define TC_UNRECOV		1u
#define TC_PRQ			2u
/* page request flags (+ the RFC's L2) */
#define TC_PRQ_PASID		0x01u
#define TC_PRQ_LAST		0x02u
#define TC_PRQ_L2		0x10u
/* unrecoverable fault flags */
#define TC_UNR_PASID		0x01u
#define TC_UNR_ADDR		0x02u
/* IOMMU_FAULT_PERM_* */
#define TC_P_R			0x1u
#define TC_P_W			0x2u
#define TC_P_X			0x4u
#define TC_P_PRIV		0x8u
/* enum iommu_fault_reason */
#define TC_R_PTE_FETCH		5u
#define TC_R_PERMISSION		6u
#define TC_R_ACCESS		7u
#define TC_R_OOR_ADDRESS	8u
/* reporting flags (RFC + UNRECOV opt-in) */
#define TC_FLAT			0x01u
#define TC_NESTED		0x02u
#define TC_L1			0x04u
#define TC_L2			0x08u
#define TC_UNRECOV_OPT		0x10u

/*
 * The representative flag sets every case is checked against, in this
 * order. All eight are valid per iopf_flags_check().
 */
#define IOPF_TC_NFLAGSETS	8
static const uint32_t iopf_tc_flagsets[IOPF_TC_NFLAGSETS] = {
	TC_FLAT,				/* 0x01 */
	TC_NESTED | TC_L1,			/* 0x06 */
	TC_NESTED | TC_L2,			/* 0x0a */
	TC_NESTED | TC_L1 | TC_L2,		/* 0x0e */
	TC_FLAT | TC_UNRECOV_OPT,		/* 0x11 */
	TC_NESTED | TC_L1 | TC_UNRECOV_OPT,	/* 0x16 */
	TC_NESTED | TC_L2 | TC_UNRECOV_OPT,	/* 0x1a */
	TC_NESTED | TC_L1 | TC_L2 | TC_UNRECOV_OPT, /* 0x1e */
};

static const char *const iopf_tc_flagset_names[IOPF_TC_NFLAGSETS] = {
	"FLAT", "NESTED|L1", "NESTED|L2", "NESTED|L1|L2",
	"FLAT|UNRECOV", "NESTED|L1|UNRECOV", "NESTED|L2|UNRECOV",
	"NESTED|L1|L2|UNRECOV",
};

/* verdict[] value for records iopf_decode() rejects */
#define IOPF_TC_NO_VERDICT	(-1)

#define TC_D	IOPF_DELIVER
#define TC_FL1	IOPF_FILTER_L1
#define TC_FL2	IOPF_FILTER_L2
#define TC_FU	IOPF_FILTER_UNRECOV
#define TC_NA	IOPF_TC_NO_VERDICT

/*
 * Expected verdicts per class of fault, columns in iopf_tc_flagsets order:
 *   FLAT, N|L1, N|L2, N|L1|L2, FLAT|U, N|L1|U, N|L2|U, N|L1|L2|U
 * Page requests: FLAT takes everything; NESTED takes the concerned levels.
 * Unrecoverable: nothing without UNRECOV, then the same level rule.
 */
#define TC_V_PRQ_S1 { TC_D, TC_D,   TC_FL1, TC_D, TC_D, TC_D,   TC_FL1, TC_D }
#define TC_V_PRQ_S2 { TC_D, TC_FL2, TC_D,   TC_D, TC_D, TC_FL2, TC_D,   TC_D }
#define TC_V_UNR_S1 { TC_FU, TC_FU, TC_FU, TC_FU, TC_D, TC_D,   TC_FL1, TC_D }
#define TC_V_UNR_S2 { TC_FU, TC_FU, TC_FU, TC_FU, TC_D, TC_FL2, TC_D,   TC_D }
#define TC_V_NONE   { TC_NA, TC_NA, TC_NA, TC_NA, TC_NA, TC_NA, TC_NA, TC_NA }

/**
 * struct iopf_fault_case - one event record and what must become of it
 * @name: unique, identifier-like
 * @evt: the four record words
 * @ret: expected iopf_decode() return: 0 or -EOPNOTSUPP
 * @type..@addr: expected struct iopf_model_fault fields when @ret is 0. When @ret
 *	is non-zero only @event_id and @sid are set: those of the record.
 * @verdict: expected iopf_delivery() per iopf_tc_flagsets[] entry
 *	(enum iopf_verdict), IOPF_TC_NO_VERDICT when @ret is non-zero
 */
struct iopf_fault_case {
	const char *name;
	uint64_t evt[4];
	int ret;
	uint32_t type;
	uint32_t event_id;
	uint32_t level;
	uint32_t sid;
	uint32_t flags;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reason;
	uint64_t addr;
	int verdict[IOPF_TC_NFLAGSETS];
};

#define TC_IOVA		0x0000ffff12345000ull

/* A record iopf_decode() must reject; only its ID and SID are expected */
#define TC_UNHANDLED(nm, id, sd, ...)					\
	{ .name = nm, .evt = __VA_ARGS__, .ret = -EOPNOTSUPP, .type = 0,	\
	  .event_id = id, .level = 0, .sid = sd, .flags = 0, .pasid = 0,	\
	  .grpid = 0, .perm = 0, .reason = 0, .addr = 0,			\
	  .verdict = TC_V_NONE }

static const struct iopf_fault_case iopf_fault_cases[] = {
	/* ---- the four handled IDs x stage 1/2 x stall/no stall ---- */
	{ .name = "translation_s1_stall",
	  .evt = { 0x0000010000000010ull, 0x0000000880000011ull, TC_IOVA, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x100,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x11, .perm = TC_P_R,
	  .reason = 0, .addr = TC_IOVA, .verdict = TC_V_PRQ_S1 },
	{ .name = "translation_s2_stall",
	  .evt = { 0x0000010000000010ull, 0x0000008880000012ull, TC_IOVA,
		   0x0000000080001000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x100,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x12,
	  .perm = TC_P_R, .reason = 0, .addr = 0x80001000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "translation_s1_nostall",
	  .evt = { 0x0000010000000010ull, 0x0000000800000013ull, TC_IOVA, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x10, .level = 1,
	  .sid = 0x100, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R, .reason = TC_R_PTE_FETCH, .addr = TC_IOVA,
	  .verdict = TC_V_UNR_S1 },
	{ .name = "translation_s2_nostall",
	  .evt = { 0x0000010000000010ull, 0x0000008800000014ull, TC_IOVA,
		   0x0000000080001000ull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x10, .level = 2,
	  .sid = 0x100, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R, .reason = TC_R_PTE_FETCH, .addr = TC_IOVA,
	  .verdict = TC_V_UNR_S2 },

	{ .name = "addr_size_s1_stall",
	  .evt = { 0x0000010100000011ull, 0x0000000080000101ull,
		   0x0000000000200000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x11, .level = 1, .sid = 0x101,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x101, .perm = TC_P_W,
	  .reason = 0, .addr = 0x200000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "addr_size_s2_stall",
	  .evt = { 0x0000010100000011ull, 0x0000008080000102ull,
		   0x0000000000200000ull, 0x00000000fee00000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x11, .level = 2, .sid = 0x101,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x102,
	  .perm = TC_P_W, .reason = 0, .addr = 0xfee00000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "addr_size_s1_nostall",
	  .evt = { 0x0000010100000011ull, 0x0000000000000103ull,
		   0x0000000000200000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x11, .level = 1,
	  .sid = 0x101, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_W, .reason = TC_R_OOR_ADDRESS, .addr = 0x200000ull,
	  .verdict = TC_V_UNR_S1 },
	{ .name = "addr_size_s2_nostall",
	  .evt = { 0x0000010100000011ull, 0x0000008000000104ull,
		   0x0000000000200000ull, 0x00000000fee00000ull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x11, .level = 2,
	  .sid = 0x101, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_W, .reason = TC_R_OOR_ADDRESS, .addr = 0x200000ull,
	  .verdict = TC_V_UNR_S2 },

	{ .name = "access_s1_stall",
	  .evt = { 0x0000010200000012ull, 0x0000000c80000201ull,
		   0x00007fffdead0000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x12, .level = 1, .sid = 0x102,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x201,
	  .perm = TC_P_R | TC_P_X, .reason = 0, .addr = 0x00007fffdead0000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "access_s2_stall",
	  .evt = { 0x0000010200000012ull, 0x0000008c80000202ull,
		   0x00007fffdead0000ull, 0x0000004000000000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x12, .level = 2, .sid = 0x102,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x202,
	  .perm = TC_P_R | TC_P_X, .reason = 0, .addr = 0x0000004000000000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "access_s1_nostall",
	  .evt = { 0x0000010200000012ull, 0x0000000c00000203ull,
		   0x00007fffdead0000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x12, .level = 1,
	  .sid = 0x102, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R | TC_P_X, .reason = TC_R_ACCESS,
	  .addr = 0x00007fffdead0000ull, .verdict = TC_V_UNR_S1 },
	{ .name = "access_s2_nostall",
	  .evt = { 0x0000010200000012ull, 0x0000008c00000204ull,
		   0x00007fffdead0000ull, 0x0000004000000000ull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x12, .level = 2,
	  .sid = 0x102, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R | TC_P_X, .reason = TC_R_ACCESS,
	  .addr = 0x00007fffdead0000ull, .verdict = TC_V_UNR_S2 },

	{ .name = "permission_s1_stall",
	  .evt = { 0x0000010300000013ull, 0x0000000a80000301ull,
		   0xffff800000001000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x13, .level = 1, .sid = 0x103,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x301,
	  .perm = TC_P_R | TC_P_PRIV, .reason = 0,
	  .addr = 0xffff800000001000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "permission_s2_stall",
	  .evt = { 0x0000010300000013ull, 0x0000008a80000302ull,
		   0xffff800000001000ull, 0x000000007ffff000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x13, .level = 2, .sid = 0x103,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x302,
	  .perm = TC_P_R | TC_P_PRIV, .reason = 0, .addr = 0x7ffff000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "permission_s1_nostall",
	  .evt = { 0x0000010300000013ull, 0x0000000a00000303ull,
		   0xffff800000001000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x13, .level = 1,
	  .sid = 0x103, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R | TC_P_PRIV, .reason = TC_R_PERMISSION,
	  .addr = 0xffff800000001000ull, .verdict = TC_V_UNR_S1 },
	{ .name = "permission_s2_nostall",
	  .evt = { 0x0000010300000013ull, 0x0000008a00000304ull,
		   0xffff800000001000ull, 0x000000007ffff000ull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x13, .level = 2,
	  .sid = 0x103, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R | TC_P_PRIV, .reason = TC_R_PERMISSION,
	  .addr = 0xffff800000001000ull, .verdict = TC_V_UNR_S2 },

	/* ---- PASID (SSV) present / absent ---- */
	{ .name = "pasid_s1_stall",
	  .evt = { 0x0000020012345810ull, 0x0000000080000021ull,
		   0x0000000000400000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x200,
	  .flags = TC_PRQ_PASID | TC_PRQ_LAST, .pasid = 0x12345, .grpid = 0x21,
	  .perm = TC_P_W, .reason = 0, .addr = 0x400000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "pasid_s2_stall",
	  .evt = { 0x0000020012345812ull, 0x0000008080000022ull,
		   0x0000000000400000ull, 0x0000000123456000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x12, .level = 2, .sid = 0x200,
	  .flags = TC_PRQ_PASID | TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0x12345,
	  .grpid = 0x22, .perm = TC_P_W, .reason = 0,
	  .addr = 0x0000000123456000ull, .verdict = TC_V_PRQ_S2 },
	{ .name = "pasid_s1_nostall",
	  .evt = { 0x0000020012345813ull, 0x0000000000000023ull,
		   0x0000000000400000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x13, .level = 1,
	  .sid = 0x200, .flags = TC_UNR_PASID | TC_UNR_ADDR, .pasid = 0x12345,
	  .grpid = 0, .perm = TC_P_W, .reason = TC_R_PERMISSION,
	  .addr = 0x400000ull, .verdict = TC_V_UNR_S1 },
	{ .name = "pasid_s2_nostall",
	  .evt = { 0x0000020012345811ull, 0x0000008000000024ull,
		   0x0000000000400000ull, 0x0000000123456000ull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x11, .level = 2,
	  .sid = 0x200, .flags = TC_UNR_PASID | TC_UNR_ADDR, .pasid = 0x12345,
	  .grpid = 0, .perm = TC_P_W, .reason = TC_R_OOR_ADDRESS,
	  .addr = 0x400000ull, .verdict = TC_V_UNR_S2 },
	{ .name = "pasid_max",
	  .evt = { 0x00000201fffff810ull, 0x0000000880000025ull,
		   0x0000000000401000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x201,
	  .flags = TC_PRQ_PASID | TC_PRQ_LAST, .pasid = 0xfffff, .grpid = 0x25,
	  .perm = TC_P_R, .reason = 0, .addr = 0x401000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "pasid_zero_valid",
	  .evt = { 0x0000020200000810ull, 0x0000000880000026ull,
		   0x0000000000402000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x202,
	  .flags = TC_PRQ_PASID | TC_PRQ_LAST, .pasid = 0, .grpid = 0x26,
	  .perm = TC_P_R, .reason = 0, .addr = 0x402000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "ssid_without_ssv_stall",
	  .evt = { 0x0000020312345010ull, 0x0000000880000027ull,
		   0x0000000000403000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x203,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x27, .perm = TC_P_R,
	  .reason = 0, .addr = 0x403000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "ssid_without_ssv_nostall",
	  .evt = { 0x0000020312345012ull, 0x0000000800000028ull,
		   0x0000000000403000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x12, .level = 1,
	  .sid = 0x203, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R, .reason = TC_R_ACCESS, .addr = 0x403000ull,
	  .verdict = TC_V_UNR_S1 },

	/* ---- every permission bit: RnW, InD, PnU ---- */
	{ .name = "perm_read",
	  .evt = { 0x0000030000000010ull, 0x0000000880000031ull,
		   0x0000000000001000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x31, .perm = TC_P_R,
	  .reason = 0, .addr = 0x1000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_write",
	  .evt = { 0x0000030000000010ull, 0x0000000080000032ull,
		   0x0000000000002000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x32, .perm = TC_P_W,
	  .reason = 0, .addr = 0x2000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_exec_read",
	  .evt = { 0x0000030000000010ull, 0x0000000c80000033ull,
		   0x0000000000003000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x33,
	  .perm = TC_P_R | TC_P_X, .reason = 0, .addr = 0x3000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_exec_write",
	  .evt = { 0x0000030000000010ull, 0x0000000480000034ull,
		   0x0000000000004000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x34,
	  .perm = TC_P_W | TC_P_X, .reason = 0, .addr = 0x4000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_priv_read",
	  .evt = { 0x0000030000000010ull, 0x0000000a80000035ull,
		   0x0000000000005000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x35,
	  .perm = TC_P_R | TC_P_PRIV, .reason = 0, .addr = 0x5000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_priv_write",
	  .evt = { 0x0000030000000010ull, 0x0000000280000036ull,
		   0x0000000000006000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x36,
	  .perm = TC_P_W | TC_P_PRIV, .reason = 0, .addr = 0x6000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_all_read",
	  .evt = { 0x0000030000000010ull, 0x0000000e80000037ull,
		   0x0000000000007000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x37,
	  .perm = TC_P_R | TC_P_X | TC_P_PRIV, .reason = 0, .addr = 0x7000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_all_write",
	  .evt = { 0x0000030000000010ull, 0x0000000680000038ull,
		   0x0000000000008000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x300,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x38,
	  .perm = TC_P_W | TC_P_X | TC_P_PRIV, .reason = 0, .addr = 0x8000ull,
	  .verdict = TC_V_PRQ_S1 },
	{ .name = "perm_all_s2_stall",
	  .evt = { 0x0000030000000013ull, 0x0000008e80000039ull,
		   0x0000000000009000ull, 0x00000000c0000000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x13, .level = 2, .sid = 0x300,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x39,
	  .perm = TC_P_R | TC_P_X | TC_P_PRIV, .reason = 0,
	  .addr = 0xc0000000ull, .verdict = TC_V_PRQ_S2 },
	{ .name = "perm_exec_priv_write_nostall",
	  .evt = { 0x0000030000000013ull, 0x000000060000003aull,
		   0x000000000000a000ull, 0 },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x13, .level = 1,
	  .sid = 0x300, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_W | TC_P_X | TC_P_PRIV, .reason = TC_R_PERMISSION,
	  .addr = 0xa000ull, .verdict = TC_V_UNR_S1 },

	/* ---- the IPA rule: word3 & GENMASK_ULL(51, 12), in place ---- */
	{ .name = "ipa_low_bits_dropped",
	  .evt = { 0x0000031000000010ull, 0x0000008880000041ull,
		   0x0000000000010000ull, 0x0000000080001fffull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x310,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x41,
	  .perm = TC_P_R, .reason = 0, .addr = 0x80001000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "ipa_high_bits_dropped",
	  .evt = { 0x0000031000000010ull, 0x0000008880000042ull,
		   0x0000000000010000ull, 0xfff0000080001000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x310,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x42,
	  .perm = TC_P_R, .reason = 0, .addr = 0x80001000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "ipa_all_ones",
	  .evt = { 0x0000031000000010ull, 0x0000008880000043ull,
		   0x0000000000010000ull, 0xffffffffffffffffull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x310,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x43,
	  .perm = TC_P_R, .reason = 0, .addr = 0x000ffffffffff000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "ipa_bit51",
	  .evt = { 0x0000031000000010ull, 0x0000008880000044ull,
		   0x0000000000010000ull, 0x0008000000000000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x310,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x44,
	  .perm = TC_P_R, .reason = 0, .addr = 0x0008000000000000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "ipa_only_low_bits_is_zero",
	  .evt = { 0x0000031000000010ull, 0x0000008880000045ull,
		   0x0000000000010000ull, 0x0000000000000fffull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 2, .sid = 0x310,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x45,
	  .perm = TC_P_R, .reason = 0, .addr = 0,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "ipa_ignored_at_stage1",
	  .evt = { 0x0000031000000010ull, 0x0000000880000046ull,
		   0x0000000000010000ull, 0xdeadbeefcafe0000ull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x310,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x46, .perm = TC_P_R,
	  .reason = 0, .addr = 0x10000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "iova_full_64bit_unaligned",
	  .evt = { 0x0000031000000010ull, 0x0000000880000047ull,
		   0xfedcba9876543211ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x310,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x47, .perm = TC_P_R,
	  .reason = 0, .addr = 0xfedcba9876543211ull, .verdict = TC_V_PRQ_S1 },

	/* ---- STAG -> grpid, 16 bits ---- */
	{ .name = "stag_max",
	  .evt = { 0x0000032000000010ull, 0x000000088000ffffull,
		   0x0000000000020000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x320,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0xffff, .perm = TC_P_R,
	  .reason = 0, .addr = 0x20000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "stag_zero",
	  .evt = { 0x0000032000000010ull, 0x0000000880000000ull,
		   0x0000000000021000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x320,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0, .perm = TC_P_R,
	  .reason = 0, .addr = 0x21000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "stag_reserved_bits_above",
	  .evt = { 0x0000032000000010ull, 0x00000008ffffabcdull,
		   0x0000000000022000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x320,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0xabcd, .perm = TC_P_R,
	  .reason = 0, .addr = 0x22000ull, .verdict = TC_V_PRQ_S1 },

	/* ---- reserved / ignored bits set: same result ---- */
	{ .name = "reserved_w0_bits_10_8",
	  .evt = { 0x0000040000000710ull, 0x0000000880000051ull,
		   0x0000000000030000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x400,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x51, .perm = TC_P_R,
	  .reason = 0, .addr = 0x30000ull, .verdict = TC_V_PRQ_S1 },
	/* word1: every bit but PnU, InD, S2 (STAG 0x4242, STALL, RnW set) */
	{ .name = "reserved_w1_s1_stall",
	  .evt = { 0x0000040100000712ull, 0xffffff79ffff4242ull,
		   0x0000000000031000ull, 0xffffffffffffffffull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x12, .level = 1, .sid = 0x401,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x4242, .perm = TC_P_R,
	  .reason = 0, .addr = 0x31000ull, .verdict = TC_V_PRQ_S1 },
	/* the same without STALL: STAG bits are ignored */
	{ .name = "reserved_w1_s1_nostall",
	  .evt = { 0x0000040200000713ull, 0xffffff797fff4242ull,
		   0x0000000000032000ull, 0xffffffffffffffffull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x13, .level = 1,
	  .sid = 0x402, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R, .reason = TC_R_PERMISSION, .addr = 0x32000ull,
	  .verdict = TC_V_UNR_S1 },
	/* with S2 too: IPA from word3 masked */
	{ .name = "reserved_w1_s2_stall",
	  .evt = { 0x0000040300000711ull, 0xfffffff9ffff4242ull,
		   0x0000000000033000ull, 0xfff0000080001fffull },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x11, .level = 2, .sid = 0x403,
	  .flags = TC_PRQ_LAST | TC_PRQ_L2, .pasid = 0, .grpid = 0x4242,
	  .perm = TC_P_R, .reason = 0, .addr = 0x80001000ull,
	  .verdict = TC_V_PRQ_S2 },
	{ .name = "reserved_w1_s2_nostall",
	  .evt = { 0x0000040400000710ull, 0xfffffff97fff4242ull,
		   0x0000000000034000ull, 0xfff0000080001fffull },
	  .ret = 0, .type = TC_UNRECOV, .event_id = 0x10, .level = 2,
	  .sid = 0x404, .flags = TC_UNR_ADDR, .pasid = 0, .grpid = 0,
	  .perm = TC_P_R, .reason = TC_R_PTE_FETCH, .addr = 0x34000ull,
	  .verdict = TC_V_UNR_S2 },
	/* CLASS = 3 and TTRnW do not matter to the decode */
	{ .name = "class_ttrnw_ignored",
	  .evt = { 0x0000040500000010ull, 0x0000130880000052ull,
		   0x0000000000035000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0x405,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x52, .perm = TC_P_R,
	  .reason = 0, .addr = 0x35000ull, .verdict = TC_V_PRQ_S1 },

	/* ---- StreamID extremes ---- */
	{ .name = "sid_zero",
	  .evt = { 0x0000000000000010ull, 0x0000000880000061ull,
		   0x0000000000040000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1, .sid = 0,
	  .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x61, .perm = TC_P_R,
	  .reason = 0, .addr = 0x40000ull, .verdict = TC_V_PRQ_S1 },
	{ .name = "sid_max",
	  .evt = { 0xffffffff00000010ull, 0x0000000880000062ull,
		   0x0000000000041000ull, 0 },
	  .ret = 0, .type = TC_PRQ, .event_id = 0x10, .level = 1,
	  .sid = 0xffffffffu, .flags = TC_PRQ_LAST, .pasid = 0, .grpid = 0x62,
	  .perm = TC_P_R, .reason = 0, .addr = 0x41000ull,
	  .verdict = TC_V_PRQ_S1 },

	/* ---- event IDs the driver does not report: -EOPNOTSUPP ---- */
	TC_UNHANDLED("evt_c_bad_streamid", 0x02, 0x500,
		     { 0x0000050000000002ull, 0x0000000880000071ull, 0x1000, 0 }),
	TC_UNHANDLED("evt_f_ste_fetch", 0x03, 0x500,
		     { 0x0000050000000003ull, 0x0000000000000000ull, 0,
		       0x0000000012345678ull }),
	TC_UNHANDLED("evt_c_bad_ste", 0x04, 0x500,
		     { 0x0000050000000004ull, 0, 0, 0 }),
	TC_UNHANDLED("evt_f_stream_disabled", 0x06, 0x500,
		     { 0x0000050000000006ull, 0, 0, 0 }),
	TC_UNHANDLED("evt_c_bad_substreamid", 0x08, 0x500,
		     { 0x0000050012345808ull, 0, 0, 0 }),
	TC_UNHANDLED("evt_f_cd_fetch", 0x09, 0x500,
		     { 0x0000050000000809ull, 0x0000000000000000ull, 0,
		       0x00000000abcdef08ull }),
	TC_UNHANDLED("evt_c_bad_cd", 0x0a, 0x500,
		     { 0x000005000000000aull, 0, 0, 0 }),
	TC_UNHANDLED("evt_f_vms_fetch", 0x25, 0x500,
		     { 0x0000050000000025ull, 0, 0, 0x0000000000001008ull }),
	TC_UNHANDLED("evt_unknown_0x7f", 0x7f, 0x500,
		     { 0x000005000000007full, 0x0000000880000072ull, 0x2000, 0 }),
	TC_UNHANDLED("evt_zero", 0x00, 0x500,
		     { 0x0000050000000000ull, 0, 0, 0 }),
	TC_UNHANDLED("evt_0x0f_below_range", 0x0f, 0x500,
		     { 0x000005000000000full, 0x0000000880000073ull, 0x3000, 0 }),
	TC_UNHANDLED("evt_0x14_above_range", 0x14, 0x500,
		     { 0x0000050000000014ull, 0x0000000880000074ull, 0x4000, 0 }),
	TC_UNHANDLED("evt_0xff", 0xff, 0x500,
		     { 0x00000500000000ffull, 0xffffffffffffffffull,
		       0xffffffffffffffffull, 0xffffffffffffffffull }),
	/* the ID is bits 7:0 only: 0x502 is event 0x02 plus reserved bits */
	TC_UNHANDLED("evt_id_reserved_bits_10_8", 0x02, 0x500,
		     { 0x0000050000000502ull, 0x0000000880000075ull, 0x5000, 0 }),
	/* stall + S2 + SSV do not make an unhandled ID handled */
	TC_UNHANDLED("evt_stall_s2_unhandled", 0x03, 0x500,
		     { 0x0000050012345803ull, 0x0000008e8000ffffull, 0x6000,
		       0x0000000080001000ull }),
};

#define IOPF_TC_NCASES \
	(sizeof(iopf_fault_cases) / sizeof(iopf_fault_cases[0]))

#endif /* IOPF_TESTBED_FAULT_CASES_H */
