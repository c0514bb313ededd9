// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites over the pure core the module runs: the SMMUv3 event decode,
 * the reporting-flag check, the delivery decision and the RESUME encoding
 * (fault_core.h), and the text-record parser (record_text.h).
 *
 * Built into iopf_testbed.ko only when the target kernel has CONFIG_KUNIT
 * (see Kbuild); the suites then run when the module loads, their KTAP goes
 * to the kernel log and to /sys/kernel/debug/kunit/<suite>/results.
 *
 * Decode and delivery are checked against the case table the host unit
 * tests and the guest selftests share (tests/common/fault_cases.h), so the
 * three agree on what every record must become, here with the compiler,
 * flags and checkers (KASAN, ...) of the kernel the module runs on.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <iopf_testbed/fault_core.h>
#include <iopf_testbed/record_text.h>

#include "fault_cases.h"

/* --- decode ---------------------------------------------------------------- */

static void iopf_case_desc(const struct iopf_fault_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_fault_case, iopf_fault_cases, iopf_case_desc);

static void iopf_test_decode(struct kunit *test)
{
	const struct iopf_fault_case *c = test->param_value;
	struct iopf_model_fault flt;
	int ret;

	/* Fields the decode must not leave stale */
	memset(&flt, 0xa5, sizeof(flt));
	ret = iopf_decode(c->evt, &flt);
	KUNIT_ASSERT_EQ(test, ret, c->ret);

	/* What the driver reads before deciding whether to decode at all */
	KUNIT_EXPECT_EQ(test, iopf_evt_id(c->evt), c->event_id);
	KUNIT_EXPECT_EQ(test, iopf_evt_sid(c->evt), c->sid);
	KUNIT_EXPECT_EQ(test, iopf_evt_handled(c->event_id), ret == 0);
	if (ret)
		return;

	KUNIT_EXPECT_EQ(test, flt.type, c->type);
	KUNIT_EXPECT_EQ(test, flt.event_id, c->event_id);
	KUNIT_EXPECT_EQ(test, flt.level, c->level);
	KUNIT_EXPECT_EQ(test, flt.sid, c->sid);
	KUNIT_EXPECT_EQ(test, flt.flags, c->flags);
	KUNIT_EXPECT_EQ(test, flt.pasid, c->pasid);
	KUNIT_EXPECT_EQ(test, flt.grpid, c->grpid);
	KUNIT_EXPECT_EQ(test, flt.perm, c->perm);
	KUNIT_EXPECT_EQ(test, flt.reason, c->reason);
	KUNIT_EXPECT_EQ(test, flt.addr, c->addr);
	KUNIT_EXPECT_EQ(test, iopf_fault_has_pasid(&flt),
			!!(c->flags & TC_PRQ_PASID));
}

/* --- delivery -------------------------------------------------------------- */

static void iopf_test_delivery(struct kunit *test)
{
	const struct iopf_fault_case *c = test->param_value;
	struct iopf_model_fault flt;
	unsigned int i;

	if (iopf_decode(c->evt, &flt)) {
		/* Nothing to deliver: the table must say so */
		for (i = 0; i < IOPF_TC_NFLAGSETS; i++)
			KUNIT_EXPECT_EQ(test, c->verdict[i], IOPF_TC_NO_VERDICT);
		return;
	}
	for (i = 0; i < IOPF_TC_NFLAGSETS; i++)
		KUNIT_EXPECT_EQ_MSG(test, (int)iopf_delivery(iopf_tc_flagsets[i], &flt),
				    c->verdict[i], "flags %s (0x%x)",
				    iopf_tc_flagset_names[i], iopf_tc_flagsets[i]);
}

/* Flags iopf_flags_check() would refuse still get a defined answer */
static void iopf_test_delivery_invalid_flags(struct kunit *test)
{
	struct iopf_model_fault prq = { .type = IOPF_FAULT_PAGE_REQ, .level = 1 };
	struct iopf_model_fault unr = { .type = IOPF_FAULT_DMA_UNRECOV, .level = 1 };

	KUNIT_EXPECT_EQ(test, iopf_delivery(0, &prq), IOPF_FILTER_FLAT);
	KUNIT_EXPECT_EQ(test, iopf_delivery(TC_UNRECOV_OPT, &unr),
			IOPF_FILTER_FLAT);
	KUNIT_EXPECT_EQ(test, iopf_delivery(0, &unr), IOPF_FILTER_UNRECOV);
	/* NESTED alone: concerned with no level */
	KUNIT_EXPECT_EQ(test, iopf_delivery(TC_NESTED, &prq), IOPF_FILTER_L1);
	prq.level = 2;
	KUNIT_EXPECT_EQ(test, iopf_delivery(TC_NESTED, &prq), IOPF_FILTER_L2);
}

/* --- flags check ----------------------------------------------------------- */

static void iopf_test_flags_valid(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < IOPF_TC_NFLAGSETS; i++)
		KUNIT_EXPECT_NULL_MSG(test, iopf_flags_check(iopf_tc_flagsets[i]),
				      "flags %s (0x%x)", iopf_tc_flagset_names[i],
				      iopf_tc_flagsets[i]);
}

struct iopf_flags_case {
	const char *name;
	u32 flags;
	const char *why;
};

static const struct iopf_flags_case iopf_flags_cases[] = {
	{ "none", 0, "one of FLAT or NESTED is required" },
	{ "unrecov_only", TC_UNRECOV_OPT, "one of FLAT or NESTED is required" },
	{ "l1_l2_only", TC_L1 | TC_L2, "one of FLAT or NESTED is required" },
	{ "flat_nested", TC_FLAT | TC_NESTED,
	  "FLAT and NESTED are mutually exclusive" },
	{ "flat_nested_l1", TC_FLAT | TC_NESTED | TC_L1,
	  "FLAT and NESTED are mutually exclusive" },
	{ "nested_alone", TC_NESTED,
	  "NESTED needs L1_CONCERNED and/or L2_CONCERNED" },
	{ "nested_unrecov", TC_NESTED | TC_UNRECOV_OPT,
	  "NESTED needs L1_CONCERNED and/or L2_CONCERNED" },
	{ "flat_l1", TC_FLAT | TC_L1, "L1/L2_CONCERNED apply to NESTED only" },
	{ "flat_l2_unrecov", TC_FLAT | TC_L2 | TC_UNRECOV_OPT,
	  "L1/L2_CONCERNED apply to NESTED only" },
	{ "unknown_bit5", TC_FLAT | 0x20, "unknown reporting flag" },
	{ "unknown_bit31", TC_NESTED | TC_L1 | 0x80000000u,
	  "unknown reporting flag" },
	{ "all_ones", 0xffffffffu, "unknown reporting flag" },
};

static void iopf_flags_desc(const struct iopf_flags_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_flags_case, iopf_flags_cases, iopf_flags_desc);

static void iopf_test_flags_invalid(struct kunit *test)
{
	const struct iopf_flags_case *c = test->param_value;
	const char *why = iopf_flags_check(c->flags);

	KUNIT_ASSERT_NOT_NULL(test, why);
	KUNIT_EXPECT_STREQ(test, why, c->why);
}

/* --- RESUME encoding ------------------------------------------------------- */

struct iopf_resume_case {
	const char *name;
	u32 sid;
	u32 grpid;
	u32 code;
	int ret;
	u64 cmd[2];
};

/*
 * Written out by hand: word 0 = opcode 0x44 | RESP << 12 | SID << 32, with
 * RESP 1 (RETRY) for SUCCESS and 2 (ABORT) for INVALID and FAILURE;
 * word 1 = STAG (16 bits).
 */
static const struct iopf_resume_case iopf_resume_cases[] = {
	{ "success", 0x10, 7, 0, 0, { 0x0000001000001044ull, 7 } },
	{ "invalid", 0x10, 7, 1, 0, { 0x0000001000002044ull, 7 } },
	{ "failure", 0x10, 7, 2, 0, { 0x0000001000002044ull, 7 } },
	{ "sid_zero", 0, 0, 0, 0, { 0x0000000000001044ull, 0 } },
	{ "sid_grpid_max", 0xffffffffu, 0xffff, 2, 0,
	  { 0xffffffff00002044ull, 0xffff } },
	{ "grpid_beyond_stag", 0x42, 0x12345, 0, 0,
	  { 0x0000004200001044ull, 0x2345 } },
	{ "code_3", 0x10, 7, 3, -EINVAL, { 0, 0 } },
	{ "code_max", 0x10, 7, 0xffffffffu, -EINVAL, { 0, 0 } },
};

static void iopf_resume_desc(const struct iopf_resume_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_resume_case, iopf_resume_cases, iopf_resume_desc);

static void iopf_test_resume(struct kunit *test)
{
	const struct iopf_resume_case *c = test->param_value;
	const u64 poison = 0x5a5a5a5a5a5a5a5aull;
	u64 cmd[2] = { poison, poison };

	KUNIT_ASSERT_EQ(test, iopf_resume_encode(c->sid, c->grpid, c->code, cmd),
			c->ret);
	if (c->ret) {
		/* A rejected code writes nothing */
		KUNIT_EXPECT_EQ(test, cmd[0], poison);
		KUNIT_EXPECT_EQ(test, cmd[1], poison);
		return;
	}
	KUNIT_EXPECT_EQ(test, cmd[0], c->cmd[0]);
	KUNIT_EXPECT_EQ(test, cmd[1], c->cmd[1]);
}

/* --- event names ----------------------------------------------------------- */

static void iopf_test_evt_name(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x02), "C_BAD_STREAMID");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x10), "F_TRANSLATION");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x11), "F_ADDR_SIZE");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x12), "F_ACCESS");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x13), "F_PERMISSION");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x25), "F_VMS_FETCH");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0x7f), "UNKNOWN");
	KUNIT_EXPECT_STREQ(test, iopf_evt_name(0xffffffffu), "UNKNOWN");
}

/*
 * The records the access model builds (stages.c): exact words for a
 * nested CLASS TT fault, and what the decode makes of each kind.
 */
static void iopf_test_evt_build(struct kunit *test)
{
	struct iopf_evt_fields f = {
		.event_id = EVT_ID_TRANSLATION_FAULT, .sid = 0x42, .ssv = true,
		.ssid = 3, .stall = true, .stag = 0x1234,
		.perm = IOPF_PERM_WRITE | IOPF_PERM_EXEC, .s2 = true,
		.cls = IOPF_EVT_CLASS_TT, .tt_read = true, .addr = 0x200040,
		.ipa = 0x40001fffULL,
	};
	struct iopf_model_fault flt;
	u64 evt[IOPF_EVT_DWORDS];

	iopf_evt_build(&f, evt);
	KUNIT_EXPECT_EQ(test, evt[0], 0x0000004200003810ULL);
	/*
	 * Stall, STAG, S2, CLASS 1; not RnW: a write, so no InD (Data), and
	 * no TTRnW on F_TRANSLATION, as an SMMUv3 writes them
	 */
	KUNIT_EXPECT_EQ(test, evt[1], 0x0000018080001234ULL);
	KUNIT_EXPECT_EQ(test, evt[2], 0x200040ULL);
	KUNIT_EXPECT_EQ(test, evt[3], 0x40001000ULL);
	KUNIT_ASSERT_EQ(test, iopf_decode(evt, &flt), 0);
	KUNIT_EXPECT_EQ(test, flt.type, (u32)IOPF_FAULT_PAGE_REQ);
	KUNIT_EXPECT_EQ(test, flt.level, 2U);
	KUNIT_EXPECT_EQ(test, flt.grpid, 0x1234U);
	KUNIT_EXPECT_EQ(test, flt.pasid, 3U);
	KUNIT_EXPECT_EQ(test, flt.addr, 0x40001000ULL);
	KUNIT_EXPECT_EQ(test, flt.perm, (u32)IOPF_PERM_WRITE);
	KUNIT_EXPECT_EQ(test, flt.flags, (u32)(IOPF_PRQ_LAST_PAGE |
					      IOPF_PRQ_PASID_VALID | IOPF_PRQ_L2));

	/* F_PERMISSION on a table read, an instruction fetch: InD, TTRnW */
	f.event_id = EVT_ID_PERMISSION_FAULT;
	f.perm = IOPF_PERM_READ | IOPF_PERM_EXEC;
	iopf_evt_build(&f, evt);
	KUNIT_EXPECT_EQ(test, evt[1], 0x0000118c80001234ULL);
	KUNIT_ASSERT_EQ(test, iopf_decode(evt, &flt), 0);
	KUNIT_EXPECT_EQ(test, flt.perm, (u32)(IOPF_PERM_READ | IOPF_PERM_EXEC));

	/* Stage 1, no stall, read, privileged: no IPA, unrecoverable */
	f = (struct iopf_evt_fields){
		.event_id = EVT_ID_PERMISSION_FAULT, .sid = 7,
		.perm = IOPF_PERM_READ | IOPF_PERM_PRIV,
		.cls = IOPF_EVT_CLASS_IN, .addr = 0x5000, .ipa = 0x9000,
	};
	iopf_evt_build(&f, evt);
	KUNIT_EXPECT_EQ(test, evt[1], 0x0000020a00000000ULL);
	KUNIT_EXPECT_EQ(test, evt[3], 0ULL);
	KUNIT_ASSERT_EQ(test, iopf_decode(evt, &flt), 0);
	KUNIT_EXPECT_EQ(test, flt.type, (u32)IOPF_FAULT_DMA_UNRECOV);
	KUNIT_EXPECT_EQ(test, flt.reason, (u32)IOPF_REASON_PERMISSION);
	KUNIT_EXPECT_EQ(test, flt.level, 1U);
	KUNIT_EXPECT_EQ(test, flt.addr, 0x5000ULL);
	KUNIT_EXPECT_EQ(test, flt.perm, (u32)(IOPF_PERM_READ | IOPF_PERM_PRIV));

	KUNIT_EXPECT_TRUE(test, iopf_perm_granted(IOPF_PERM_READ,
						  IOPF_PERM_READ | IOPF_PERM_WRITE));
	KUNIT_EXPECT_FALSE(test, iopf_perm_granted(IOPF_PERM_READ | IOPF_PERM_PRIV,
						   IOPF_PERM_READ));
	KUNIT_EXPECT_TRUE(test, iopf_perm_granted(0, 0));
}

static struct kunit_case iopf_fault_core_cases[] = {
	KUNIT_CASE_PARAM(iopf_test_decode, iopf_fault_case_gen_params),
	KUNIT_CASE_PARAM(iopf_test_delivery, iopf_fault_case_gen_params),
	KUNIT_CASE(iopf_test_delivery_invalid_flags),
	KUNIT_CASE(iopf_test_flags_valid),
	KUNIT_CASE_PARAM(iopf_test_flags_invalid, iopf_flags_case_gen_params),
	KUNIT_CASE_PARAM(iopf_test_resume, iopf_resume_case_gen_params),
	KUNIT_CASE(iopf_test_evt_name),
	KUNIT_CASE(iopf_test_evt_build),
	{}
};

static struct kunit_suite iopf_fault_core_suite = {
	.name = "iopf_fault_core",
	.test_cases = iopf_fault_core_cases,
};

/* --- the text parser ------------------------------------------------------- */

struct iopf_text_case {
	const char *name;
	const char *line;
	size_t len;		/* 0: strlen(line) */
	int ret;
	u64 rec[IOPF_EVT_DWORDS];
	const char *why;	/* for ret < 0 */
};

#define TXT_HEX		"a word is not a hex number"
#define TXT_LONG	"a word is longer than 16 hex digits"
#define TXT_FEW		"fewer than four words"
#define TXT_MANY	"more than four words"

static const struct iopf_text_case iopf_text_cases[] = {
	{ "four_words", "1 2 3 4", 0, 1, { 1, 2, 3, 4 } },
	{ "prefixes", "0x10 0X20 ff FF", 0, 1, { 0x10, 0x20, 0xff, 0xff } },
	{ "mixed_case", "0xDeadBeef aBc 0 0", 0, 1, { 0xdeadbeef, 0xabc, 0, 0 } },
	{ "blanks_around", "\t1\t 2  3 4 \r", 0, 1, { 1, 2, 3, 4 } },
	{ "max_words", "ffffffffffffffff 0x0123456789abcdef 0 0x1", 0, 1,
	  { 0xffffffffffffffffull, 0x0123456789abcdefull, 0, 1 } },
	{ "sixteen_digits_leading_zeros", "0000000000000001 0 0 0", 0, 1,
	  { 1, 0, 0, 0 } },
	{ "real_record",
	  "0x0000010000000010 0x0000000880000011 0x0000ffff12345000 0", 0, 1,
	  { 0x0000010000000010ull, 0x0000000880000011ull,
	    0x0000ffff12345000ull, 0 } },
	/* the line ends at len: what follows is not read */
	{ "len_cuts_line", "1 2 3 4 5", 7, 1, { 1, 2, 3, 4 } },
	{ "empty", "", 0, 0 },
	{ "only_blanks", " \t \r ", 0, 0 },
	{ "seventeen_digits", "10000000000000000 0 0 0", 0, -EINVAL, {}, TXT_LONG },
	{ "seventeen_zeros", "00000000000000000 0 0 0", 0, -EINVAL, {}, TXT_LONG },
	{ "prefix_only", "0x 1 2 3", 0, -EINVAL, {}, TXT_HEX },
	{ "prefix_at_end", "1 2 3 0x", 0, -EINVAL, {}, TXT_HEX },
	{ "double_prefix", "0x0x1 0 0 0", 0, -EINVAL, {}, TXT_HEX },
	{ "not_hex", "1 2 3 g", 0, -EINVAL, {}, TXT_HEX },
	{ "negative", "-1 0 0 0", 0, -EINVAL, {}, TXT_HEX },
	{ "comma", "1,2 3 4 5", 0, -EINVAL, {}, TXT_HEX },
	{ "newline_is_not_blank", "1 2 3 4\n", 0, -EINVAL, {}, TXT_HEX },
	{ "one_word", "1", 0, -EINVAL, {}, TXT_FEW },
	{ "three_words", "1 2 3", 0, -EINVAL, {}, TXT_FEW },
	{ "five_words", "1 2 3 4 5", 0, -EINVAL, {}, TXT_MANY },
	{ "five_words_bad_fifth", "1 2 3 4 zz", 0, -EINVAL, {}, TXT_MANY },
};

static void iopf_text_desc(const struct iopf_text_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iopf_text_case, iopf_text_cases, iopf_text_desc);

static void iopf_test_parse_line(struct kunit *test)
{
	const struct iopf_text_case *c = test->param_value;
	size_t len = c->len ? c->len : strlen(c->line);
	const char *why = NULL;
	u64 rec[IOPF_EVT_DWORDS] = {};
	char *buf;
	int ret;

	/*
	 * Exactly len bytes, no terminating NUL: under KASAN, reading one
	 * byte past the line is a report.
	 */
	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	memcpy(buf, c->line, len);

	ret = iopf_parse_record_line(buf, len, rec, &why);
	KUNIT_ASSERT_EQ(test, ret, c->ret);
	if (ret < 0) {
		KUNIT_ASSERT_NOT_NULL(test, why);
		KUNIT_EXPECT_STREQ(test, why, c->why);
		return;
	}
	KUNIT_EXPECT_NULL(test, why);
	if (ret == 1)
		KUNIT_EXPECT_MEMEQ(test, rec, c->rec, sizeof(rec));
}

/* Every case of the shared table survives a print/parse round trip */
static void iopf_test_parse_roundtrip(struct kunit *test)
{
	const struct iopf_fault_case *c = test->param_value;
	const char *why = NULL;
	u64 rec[IOPF_EVT_DWORDS] = {};
	char line[4 * 19];	/* four "0x" + 16 digits + a blank or the NUL */
	int len;

	len = scnprintf(line, sizeof(line), "0x%llx %llx 0X%llX %llX",
			c->evt[0], c->evt[1], c->evt[2], c->evt[3]);
	KUNIT_ASSERT_EQ(test, iopf_parse_record_line(line, len, rec, &why), 1);
	KUNIT_EXPECT_MEMEQ(test, rec, c->evt, sizeof(rec));
}

static struct kunit_case iopf_record_text_cases[] = {
	KUNIT_CASE_PARAM(iopf_test_parse_line, iopf_text_case_gen_params),
	KUNIT_CASE_PARAM(iopf_test_parse_roundtrip, iopf_fault_case_gen_params),
	{}
};

static struct kunit_suite iopf_record_text_suite = {
	.name = "iopf_record_text",
	.test_cases = iopf_record_text_cases,
};

kunit_test_suites(&iopf_fault_core_suite, &iopf_record_text_suite);
