// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of kmod/include/iopf_testbed/fault_core.h: decode,
 * flag validation, delivery and RESUME encoding, checked against the shared
 * case table (tests/common/fault_cases.h) whose expectations are written out
 * from the spec.
 */
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fault_cases.h"

namespace {

std::string hex(uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return buf;
}

/* Compare a decoded fault with the expectations of a table case */
void check_decoded(const iopf_fault_case &c, const iopf_model_fault &f)
{
	CHECK(f.type == c.type);
	CHECK(f.event_id == c.event_id);
	CHECK(f.level == c.level);
	CHECK(f.sid == c.sid);
	CHECK(f.flags == c.flags);
	CHECK(f.pasid == c.pasid);
	CHECK(f.grpid == c.grpid);
	CHECK(f.perm == c.perm);
	CHECK(f.reason == c.reason);
	INFO("addr " << hex(f.addr) << " expected " << hex(c.addr));
	CHECK(f.addr == c.addr);
}

/* The flag sets iopf_flags_check() must accept, spelled out */
const uint32_t valid_flag_sets[] = {
	0x01, /* FLAT */
	0x06, /* NESTED|L1 */
	0x0a, /* NESTED|L2 */
	0x0e, /* NESTED|L1|L2 */
	0x11, /* FLAT|UNRECOV */
	0x16, /* NESTED|L1|UNRECOV */
	0x1a, /* NESTED|L2|UNRECOV */
	0x1e, /* NESTED|L1|L2|UNRECOV */
};

bool is_listed_valid(uint32_t flags)
{
	for (uint32_t v : valid_flag_sets)
		if (v == flags)
			return true;
	return false;
}

} // namespace

TEST_CASE("uapi and record constants match the v5.13 + RFC values", "[constants]")
{
	/* include/uapi/linux/iommu.h (v5.13) and the RFC */
	CHECK(IOPF_REPORT_FLAT == 0x1u);
	CHECK(IOPF_REPORT_NESTED == 0x2u);
	CHECK(IOPF_REPORT_NESTED_L1_CONCERNED == 0x4u);
	CHECK(IOPF_REPORT_NESTED_L2_CONCERNED == 0x8u);
	CHECK(IOPF_REPORT_UNRECOV == 0x10u);
	CHECK(IOPF_REPORT_ALL == 0x1fu);
	CHECK(IOPF_FAULT_DMA_UNRECOV == TC_UNRECOV);
	CHECK(IOPF_FAULT_PAGE_REQ == TC_PRQ);
	CHECK(IOPF_PRQ_PASID_VALID == TC_PRQ_PASID);
	CHECK(IOPF_PRQ_LAST_PAGE == TC_PRQ_LAST);
	CHECK(IOPF_PRQ_PRIV_DATA == 0x4u);
	CHECK(IOPF_PRQ_NEEDS_PASID == 0x8u);
	CHECK(IOPF_PRQ_L2 == TC_PRQ_L2);
	CHECK(IOPF_UNRECOV_PASID_VALID == TC_UNR_PASID);
	CHECK(IOPF_UNRECOV_ADDR_VALID == TC_UNR_ADDR);
	CHECK(IOPF_UNRECOV_FETCH_ADDR_VALID == 0x4u);
	CHECK(IOPF_PERM_READ == TC_P_R);
	CHECK(IOPF_PERM_WRITE == TC_P_W);
	CHECK(IOPF_PERM_EXEC == TC_P_X);
	CHECK(IOPF_PERM_PRIV == TC_P_PRIV);
	CHECK(IOPF_REASON_PTE_FETCH == TC_R_PTE_FETCH);
	CHECK(IOPF_REASON_PERMISSION == TC_R_PERMISSION);
	CHECK(IOPF_REASON_ACCESS == TC_R_ACCESS);
	CHECK(IOPF_REASON_OOR_ADDRESS == TC_R_OOR_ADDRESS);
	CHECK(IOPF_RESP_SUCCESS == 0u);
	CHECK(IOPF_RESP_INVALID == 1u);
	CHECK(IOPF_RESP_FAILURE == 2u);
	CHECK(IOPF_RESUME_TERM == 0u);
	CHECK(IOPF_RESUME_RETRY == 1u);
	CHECK(IOPF_RESUME_ABORT == 2u);

	/* arm-smmu-v3.h record layout */
	CHECK(EVTQ_0_ID == 0x00000000000000ffull);
	CHECK(EVTQ_0_SSV == 0x0000000000000800ull);
	CHECK(EVTQ_0_SSID == 0x00000000fffff000ull);
	CHECK(EVTQ_0_SID == 0xffffffff00000000ull);
	CHECK(EVTQ_1_STAG == 0x000000000000ffffull);
	CHECK(EVTQ_1_STALL == 0x0000000080000000ull);
	CHECK(EVTQ_1_PnU == 0x0000000200000000ull);
	CHECK(EVTQ_1_InD == 0x0000000400000000ull);
	CHECK(EVTQ_1_RnW == 0x0000000800000000ull);
	CHECK(EVTQ_1_S2 == 0x0000008000000000ull);
	CHECK(EVTQ_1_CLASS == 0x0000030000000000ull);
	CHECK(EVTQ_1_TT_READ == 0x0000100000000000ull);
	CHECK(EVTQ_3_IPA == 0x000ffffffffff000ull);
	CHECK(CMDQ_OP_RESUME == 0x44u);
	CHECK(IOPF_EVT_BYTES == 32);
}

TEST_CASE("the case table is well formed", "[table]")
{
	REQUIRE(IOPF_TC_NCASES >= 40);
	for (size_t i = 0; i < IOPF_TC_NCASES; i++) {
		const iopf_fault_case &c = iopf_fault_cases[i];
		INFO("case " << c.name);
		CHECK((c.ret == 0 || c.ret == -EOPNOTSUPP));
		for (size_t j = i + 1; j < IOPF_TC_NCASES; j++)
			CHECK(std::strcmp(c.name, iopf_fault_cases[j].name) != 0);
		for (int k = 0; k < IOPF_TC_NFLAGSETS; k++) {
			if (c.ret)
				CHECK(c.verdict[k] == IOPF_TC_NO_VERDICT);
			else
				CHECK(c.verdict[k] != IOPF_TC_NO_VERDICT);
		}
	}
	for (int k = 0; k < IOPF_TC_NFLAGSETS; k++)
		CHECK(iopf_tc_flagsets[k] == valid_flag_sets[k]);
}

TEST_CASE("iopf_decode() over the case table", "[decode]")
{
	for (const iopf_fault_case &c : iopf_fault_cases) {
		DYNAMIC_SECTION(c.name) {
			iopf_model_fault f;
			std::memset(&f, 0xa5, sizeof(f));
			INFO("record " << hex(c.evt[0]) << ' ' << hex(c.evt[1]) << ' '
			     << hex(c.evt[2]) << ' ' << hex(c.evt[3]));

			CHECK(iopf_evt_id(c.evt) == c.event_id);
			CHECK(iopf_evt_sid(c.evt) == c.sid);
			CHECK(iopf_evt_handled(c.event_id) == (c.ret == 0));

			int ret = iopf_decode(c.evt, &f);
			REQUIRE(ret == c.ret);
			if (ret == 0)
				check_decoded(c, f);
		}
	}
}

TEST_CASE("iopf_delivery() for every flag set over the case table", "[delivery]")
{
	for (const iopf_fault_case &c : iopf_fault_cases) {
		if (c.ret)
			continue;
		DYNAMIC_SECTION(c.name) {
			iopf_model_fault f;
			REQUIRE(iopf_decode(c.evt, &f) == 0);
			for (int k = 0; k < IOPF_TC_NFLAGSETS; k++) {
				INFO("flags " << iopf_tc_flagset_names[k] << " ("
				     << hex(iopf_tc_flagsets[k]) << ")");
				CHECK((int)iopf_delivery(iopf_tc_flagsets[k], &f) ==
				      c.verdict[k]);
			}
		}
	}
}

TEST_CASE("iopf_delivery() works from the fault, not the record", "[delivery]")
{
	/* Hand-built faults: page request at stage 2, unrecoverable at stage 1 */
	iopf_model_fault prq2;
	std::memset(&prq2, 0, sizeof(prq2));
	prq2.type = TC_PRQ;
	prq2.level = 2;
	prq2.flags = TC_PRQ_LAST | TC_PRQ_L2;
	CHECK(iopf_delivery(0x06, &prq2) == IOPF_FILTER_L2);
	CHECK(iopf_delivery(0x0a, &prq2) == IOPF_DELIVER);
	CHECK(iopf_delivery(0x01, &prq2) == IOPF_DELIVER);
	/* neither FLAT nor NESTED (never valid, but decided deterministically) */
	CHECK(iopf_delivery(0x00, &prq2) == IOPF_FILTER_FLAT);
	CHECK(iopf_delivery(0x10, &prq2) == IOPF_FILTER_FLAT);

	iopf_model_fault unr1;
	std::memset(&unr1, 0, sizeof(unr1));
	unr1.type = TC_UNRECOV;
	unr1.level = 1;
	unr1.flags = TC_UNR_ADDR;
	unr1.reason = TC_R_ACCESS;
	CHECK(iopf_delivery(0x0a, &unr1) == IOPF_FILTER_UNRECOV);
	CHECK(iopf_delivery(0x1a, &unr1) == IOPF_FILTER_L1);
	CHECK(iopf_delivery(0x16, &unr1) == IOPF_DELIVER);
	CHECK(iopf_delivery(0x11, &unr1) == IOPF_DELIVER);
	CHECK(iopf_delivery(0x10, &unr1) == IOPF_FILTER_FLAT);
}

TEST_CASE("reserved and ignored record bits never change the decode", "[decode]")
{
	struct bitpos {
		int word;
		int bit;
	};
	/* Reserved or decode-irrelevant in every handled record */
	std::vector<bitpos> always;
	for (int b = 8; b <= 10; b++)
		always.push_back({0, b});
	for (int b = 16; b <= 30; b++)
		always.push_back({1, b});
	always.push_back({1, 32});
	for (int b = 36; b <= 38; b++)
		always.push_back({1, b});
	for (int b = 40; b <= 63; b++)	/* CLASS, TTRnW, reserved */
		always.push_back({1, b});

	for (const iopf_fault_case &c : iopf_fault_cases) {
		if (c.ret)
			continue;
		const bool stall = c.type == TC_PRQ;
		const bool s2_stall = stall && c.level == 2;
		const bool ssv = c.flags & TC_PRQ_PASID; /* bit 0 in both */
		std::vector<bitpos> bits = always;
		for (int b = 0; b < 64; b++) {
			/* word3 matters only for stage-2 page requests, 51:12 */
			if (!s2_stall || b < 12 || b > 51)
				bits.push_back({3, b});
		}
		if (!stall)
			for (int b = 0; b < 16; b++)
				bits.push_back({1, b});	/* STAG */
		if (!ssv)
			for (int b = 12; b < 32; b++)
				bits.push_back({0, b});	/* SSID */

		DYNAMIC_SECTION(c.name) {
			for (const bitpos &p : bits) {
				for (int set = 0; set < 2; set++) {
					uint64_t evt[4];
					std::memcpy(evt, c.evt, sizeof(evt));
					if (set)
						evt[p.word] |= 1ull << p.bit;
					else
						evt[p.word] &= ~(1ull << p.bit);
					INFO("word " << p.word << " bit " << p.bit
					     << (set ? " set" : " clear"));
					iopf_model_fault f;
					REQUIRE(iopf_decode(evt, &f) == 0);
					check_decoded(c, f);
				}
			}
		}
	}
}

TEST_CASE("iopf_decode() rejects every unhandled event ID", "[decode]")
{
	/* All 256 IDs: exactly 0x10..0x13 are handled */
	for (uint32_t id = 0; id < 256; id++) {
		const uint64_t evt[4] = { 0x0000000700000000ull | id,
					  0x0000000880000001ull, 0x1000, 0 };
		iopf_model_fault f;
		int ret = iopf_decode(evt, &f);
		INFO("event id " << hex(id));
		if (id >= 0x10 && id <= 0x13) {
			CHECK(ret == 0);
			CHECK(f.event_id == id);
			CHECK(iopf_evt_handled(id));
		} else {
			CHECK(ret == -EOPNOTSUPP);
			CHECK_FALSE(iopf_evt_handled(id));
		}
	}
}

TEST_CASE("iopf_evt_name() uses the architectural names", "[decode]")
{
	CHECK(std::string(iopf_evt_name(0x02)) == "C_BAD_STREAMID");
	CHECK(std::string(iopf_evt_name(0x03)) == "F_STE_FETCH");
	CHECK(std::string(iopf_evt_name(0x04)) == "C_BAD_STE");
	CHECK(std::string(iopf_evt_name(0x06)) == "F_STREAM_DISABLED");
	CHECK(std::string(iopf_evt_name(0x08)) == "C_BAD_SUBSTREAMID");
	CHECK(std::string(iopf_evt_name(0x09)) == "F_CD_FETCH");
	CHECK(std::string(iopf_evt_name(0x0a)) == "C_BAD_CD");
	CHECK(std::string(iopf_evt_name(0x10)) == "F_TRANSLATION");
	CHECK(std::string(iopf_evt_name(0x11)) == "F_ADDR_SIZE");
	CHECK(std::string(iopf_evt_name(0x12)) == "F_ACCESS");
	CHECK(std::string(iopf_evt_name(0x13)) == "F_PERMISSION");
	CHECK(std::string(iopf_evt_name(0x25)) == "F_VMS_FETCH");
	CHECK(std::string(iopf_evt_name(0x7f)) == "UNKNOWN");
}

TEST_CASE("iopf_flags_check() over all 32 flag values", "[flags]")
{
	for (uint32_t flags = 0; flags < 32; flags++) {
		/* The rule, written independently of the implementation */
		const bool flat = flags & 0x1, nested = flags & 0x2;
		const bool l1 = flags & 0x4, l2 = flags & 0x8;
		const bool rule_ok = (flat != nested) &&
				     (!nested || l1 || l2) &&
				     (!flat || (!l1 && !l2));
		INFO("flags " << hex(flags));
		REQUIRE(rule_ok == is_listed_valid(flags));

		const char *why = iopf_flags_check(flags);
		if (rule_ok) {
			CHECK(why == nullptr);
		} else {
			REQUIRE(why != nullptr);
			CHECK(std::strlen(why) > 0);
		}
	}
}

TEST_CASE("iopf_flags_check() names the problem", "[flags]")
{
	/* The two sets the RFC review is about */
	REQUIRE(iopf_flags_check(0x3) != nullptr);	/* FLAT|NESTED */
	REQUIRE(iopf_flags_check(0x2) != nullptr);	/* NESTED alone */
	REQUIRE(iopf_flags_check(0x0) != nullptr);	/* nothing */
	REQUIRE(iopf_flags_check(0x5) != nullptr);	/* FLAT|L1 */
	CHECK(std::string(iopf_flags_check(0x3)).find("FLAT") != std::string::npos);
	CHECK(std::string(iopf_flags_check(0x2)).find("NESTED") != std::string::npos);
}

TEST_CASE("iopf_flags_check() rejects unknown bits", "[flags]")
{
	for (int bit = 5; bit < 32; bit++) {
		INFO("bit " << bit);
		CHECK(iopf_flags_check(1u << bit) != nullptr);
		for (uint32_t v : valid_flag_sets)
			CHECK(iopf_flags_check(v | (1u << bit)) != nullptr);
	}
	CHECK(iopf_flags_check(0xffffffffu) != nullptr);
}

TEST_CASE("iopf_resume_encode() builds CMD_RESUME", "[resume]")
{
	struct rc {
		uint32_t sid, grpid, code;
		uint64_t w0, w1;
	};
	/* word0 = 0x44 | RESP << 12 | SID << 32; word1 = STAG */
	const rc good[] = {
		{ 0x100, 0x11, 0, 0x0000010000001044ull, 0x11 },	/* SUCCESS -> RETRY */
		{ 0x100, 0x11, 1, 0x0000010000002044ull, 0x11 },	/* INVALID -> ABORT */
		{ 0x100, 0x11, 2, 0x0000010000002044ull, 0x11 },	/* FAILURE -> ABORT */
		{ 0, 0, 0, 0x0000000000001044ull, 0 },
		{ 0xffffffffu, 0xffff, 0, 0xffffffff00001044ull, 0xffff },
		{ 0xffffffffu, 0xffff, 2, 0xffffffff00002044ull, 0xffff },
		{ 0x12345678u, 0x4242, 1, 0x1234567800002044ull, 0x4242 },
		/* STAG is 16 bits: a wider grpid is truncated to the field */
		{ 0x10, 0x12345, 0, 0x0000001000001044ull, 0x2345 },
	};
	for (const rc &r : good) {
		INFO("sid " << hex(r.sid) << " grpid " << hex(r.grpid) << " code " << r.code);
		uint64_t cmd[2] = { 0xdead, 0xbeef };
		REQUIRE(iopf_resume_encode(r.sid, r.grpid, r.code, cmd) == 0);
		CHECK(hex(cmd[0]) == hex(r.w0));
		CHECK(hex(cmd[1]) == hex(r.w1));
		/* RESP field decoded back */
		CHECK(((cmd[0] >> 12) & 0x3) == (r.code == 0 ? 1u : 2u));
		CHECK((cmd[0] & 0xff) == 0x44u);
	}

	for (uint32_t code : { 3u, 4u, 0x100u, 0x80000000u, 0xffffffffu }) {
		INFO("code " << hex(code));
		uint64_t cmd[2] = { 0, 0 };
		CHECK(iopf_resume_encode(0x100, 0x11, code, cmd) == -EINVAL);
	}
}

TEST_CASE("RESUME never uses TERM", "[resume]")
{
	for (uint32_t code = 0; code < 3; code++) {
		uint64_t cmd[2];
		REQUIRE(iopf_resume_encode(1, 1, code, cmd) == 0);
		CHECK(((cmd[0] >> 12) & 0x3) != 0u);
		/* nothing outside OP, RESP and SID */
		CHECK((cmd[0] & ~(0xffull | (0x3ull << 12) | 0xffffffff00000000ull)) == 0u);
		CHECK((cmd[1] & ~0xffffull) == 0u);
	}
}

/*
 * iopf_evt_build(), the record the access model (kmod/stages.c) writes:
 * every combination of its flags decodes back to what was built.
 */
TEST_CASE("evt_build round-trips through decode", "[fault_core][stages]")
{
	static const uint32_t ids[] = { EVT_ID_TRANSLATION_FAULT, EVT_ID_PERMISSION_FAULT };
	static const uint32_t perms[] = {
		IOPF_PERM_READ, IOPF_PERM_WRITE, IOPF_PERM_READ | IOPF_PERM_WRITE,
		IOPF_PERM_READ | IOPF_PERM_EXEC, IOPF_PERM_WRITE | IOPF_PERM_PRIV,
		IOPF_PERM_ALL,
	};

	for (uint32_t id : ids)
		for (uint32_t perm : perms)
			for (int bits = 0; bits < 16; bits++) {
				iopf_evt_fields f{};
				uint64_t evt[IOPF_EVT_DWORDS];
				iopf_model_fault flt{};

				f.event_id = id;
				f.sid = 0xfeedu;
				f.ssv = bits & 1;
				f.ssid = 0xabcde;
				f.stall = bits & 2;
				f.stag = 0xbeef;
				f.perm = perm;
				f.s2 = bits & 4;
				f.cls = (bits & 8) ? IOPF_EVT_CLASS_TT : IOPF_EVT_CLASS_IN;
				f.tt_read = bits & 8;
				f.addr = 0x123456789abcull;
				f.ipa = 0x000fedcba9876fffull;
				iopf_evt_build(&f, evt);
				INFO("id " << id << " perm " << perm << " bits " << bits);
				REQUIRE(iopf_decode(evt, &flt) == 0);
				CHECK(flt.event_id == id);
				CHECK(flt.sid == 0xfeedu);
				CHECK(flt.level == (f.s2 ? 2u : 1u));
				uint32_t want = (perm & IOPF_PERM_WRITE) ? IOPF_PERM_WRITE : IOPF_PERM_READ;
				/* as an SMMUv3 writes it: InD (EXEC) only on a read */
				if (!(perm & IOPF_PERM_WRITE))
					want |= perm & IOPF_PERM_EXEC;
				want |= perm & IOPF_PERM_PRIV;
				CHECK(flt.perm == want);
				CHECK(!((evt[1] & EVTQ_1_InD) && !(evt[1] & EVTQ_1_RnW)));
				CHECK(iopf_fault_has_pasid(&flt) == f.ssv);
				CHECK(flt.pasid == (f.ssv ? 0xabcdeu : 0u));
				CHECK(FIELD_GET(EVTQ_1_CLASS, evt[1]) == f.cls);
				/* TTRnW: F_PERMISSION of CLASS TT only (upstream reads it there) */
				CHECK(((evt[1] & EVTQ_1_TT_READ) != 0) ==
				      (f.tt_read && id == EVT_ID_PERMISSION_FAULT));
				CHECK(evt[3] == (f.s2 ? 0x000fedcba9876000ull : 0));
				if (f.stall) {
					CHECK(flt.type == IOPF_FAULT_PAGE_REQ);
					CHECK(flt.grpid == 0xbeefu);
					CHECK(flt.addr == (f.s2 ? 0x000fedcba9876000ull : f.addr));
				} else {
					CHECK(flt.type == IOPF_FAULT_DMA_UNRECOV);
					CHECK(flt.addr == f.addr);
					CHECK(flt.ipa == (f.s2 ? 0x000fedcba9876000ull : 0));
				}
			}
}

TEST_CASE("perm_granted: every bit asked must be granted", "[fault_core][stages]")
{
	CHECK(iopf_perm_granted(IOPF_PERM_READ, IOPF_PERM_READ));
	CHECK(iopf_perm_granted(IOPF_PERM_READ, IOPF_PERM_ALL));
	CHECK_FALSE(iopf_perm_granted(IOPF_PERM_WRITE, IOPF_PERM_READ));
	CHECK_FALSE(iopf_perm_granted(IOPF_PERM_READ | IOPF_PERM_EXEC, IOPF_PERM_READ));
	CHECK_FALSE(iopf_perm_granted(IOPF_PERM_READ, 0));
}

TEST_CASE("iopf_vste_check() takes what arm_smmu_validate_vste() takes", "[fault_core][nested]")
{
	const uint64_t s1 = STRTAB_STE_0_V | FIELD_PREP(STRTAB_STE_0_CFG, STRTAB_STE_0_CFG_S1_TRANS);
	const uint64_t bypass = STRTAB_STE_0_V | FIELD_PREP(STRTAB_STE_0_CFG, STRTAB_STE_0_CFG_BYPASS);
	enum iopf_vste_config cfg;

	uint64_t ste[2] = {s1 | FIELD_PREP(STRTAB_STE_0_S1CTXPTR_MASK, 0x1234u),
			   FIELD_PREP(STRTAB_STE_1_EATS, STRTAB_STE_1_EATS_TRANS) | STRTAB_STE_1_S1STALLD};
	CHECK(iopf_vste_check(ste, &cfg) == 0);
	CHECK(cfg == IOPF_VSTE_S1_TRANS);
	CHECK(ste[1] == STRTAB_STE_1_S1STALLD); /* EATS is the host's */

	uint64_t by[2] = {bypass, 0};
	CHECK(iopf_vste_check(by, &cfg) == 0);
	CHECK(cfg == IOPF_VSTE_BYPASS);

	/* Without V: zeroed, abort, whatever else it says */
	uint64_t inval[2] = {~STRTAB_STE_0_V, ~0ull};
	CHECK(iopf_vste_check(inval, &cfg) == 0);
	CHECK(cfg == IOPF_VSTE_ABORT);
	CHECK(inval[0] == 0);
	CHECK(inval[1] == 0);

	for (uint64_t c : {1u, 2u, 3u, 6u, 7u}) {
		uint64_t bad[2] = {STRTAB_STE_0_V | FIELD_PREP(STRTAB_STE_0_CFG, c), 0};
		CHECK(iopf_vste_check(bad, &cfg) == -EIO);
	}
	uint64_t high[2] = {s1 | (1ull << 52), 0};
	CHECK(iopf_vste_check(high, &cfg) == -EIO);
	uint64_t w1[2] = {s1, 1ull << 8};
	CHECK(iopf_vste_check(w1, &cfg) == -EIO);
	uint64_t s1chk[2] = {s1, FIELD_PREP(STRTAB_STE_1_EATS, 2u)};
	CHECK(iopf_vste_check(s1chk, &cfg) == -EIO);
}

TEST_CASE("iopf_vevent_build() swaps the StreamID for the vSID, nothing else", "[fault_core][nested]")
{
	const uint64_t evt[4] = {0x0000123400000000ull | EVT_ID_TRANSLATION_FAULT | EVTQ_0_SSV | (5ull << 12),
				 EVTQ_1_RnW | EVTQ_1_PnU, 0xdead000, 0x9000};
	uint64_t out[4];

	iopf_vevent_build(evt, 0x42, out);
	CHECK(FIELD_GET(EVTQ_0_SID, out[0]) == 0x42u);
	CHECK((out[0] & ~EVTQ_0_SID) == (evt[0] & ~EVTQ_0_SID));
	for (int i = 1; i < 4; i++)
		CHECK(out[i] == evt[i]);
}
