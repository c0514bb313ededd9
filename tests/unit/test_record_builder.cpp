// SPDX-License-Identifier: GPL-2.0
// Field builder -> record -> the shared decode (fault_core.h), and the text
// record format of the inject file.
#include <sstream>

#include <catch2/catch.hpp>

#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "iopf/record.hpp"

using namespace iopf;

TEST_CASE("builder: stage-1 page request with PASID round-trips through iopf_decode", "[record]") {
    RecordFields f;
    f.sid = 0x10;
    f.ssid = 0x5;
    f.event_id = EVT_ID_TRANSLATION_FAULT;
    f.stall = true;
    f.stag = 7;
    f.addr = 0x7f0000001000;
    f.read = false;
    f.exec = true;
    Record r = build_record(f);
    // Hand-written words: ID 0x10 | SSV 0x800 | SSID 5<<12 | SID 0x10<<32
    CHECK(r[0] == 0x0000001000005810ULL);
    // STAG 7 | STALL 1<<31 | InD 1<<34, RnW clear (write)
    CHECK(r[1] == 0x0000000480000007ULL);
    CHECK(r[2] == 0x7f0000001000ULL);
    CHECK(r[3] == 0);

    Fault d = decode_record(r);
    REQUIRE(d.fault);
    CHECK(d.handled);
    CHECK(d.sid == 0x10);
    CHECK(d.fault->type == IOPF_FAULT_PAGE_REQ);
    CHECK(d.fault->level == 1);
    CHECK(d.fault->flags == (IOPF_PRQ_LAST_PAGE | IOPF_PRQ_PASID_VALID));
    CHECK(d.fault->pasid == 5);
    CHECK(d.fault->grpid == 7);
    CHECK(d.fault->perm == (IOPF_PERM_WRITE | IOPF_PERM_EXEC));
    CHECK(d.fault->addr == 0x7f0000001000ULL);
}

TEST_CASE("builder: stage-2 page request reports the IPA in place", "[record]") {
    RecordFields f;
    f.sid = 0x11;
    f.stall = true;
    f.stag = 0xffff;
    f.s2 = true;
    f.ipa = 0x80001000;
    f.addr = 0x1234000;
    f.priv = true;
    Record r = build_record(f);
    CHECK(r[1] == (0x8000000000ULL | 0x800000000ULL | 0x200000000ULL | 0x80000000ULL | 0xffff));
    CHECK(r[3] == 0x80001000ULL);
    Fault d = decode_record(r);
    REQUIRE(d.fault);
    CHECK(d.fault->level == 2);
    CHECK(d.fault->flags == (IOPF_PRQ_LAST_PAGE | IOPF_PRQ_L2));
    CHECK(d.fault->addr == 0x80001000ULL); // not the frame number 0x80001 (B3)
    CHECK(d.fault->perm == (IOPF_PERM_READ | IOPF_PERM_PRIV));
    CHECK_FALSE(d.has_pasid());
}

TEST_CASE("builder: unrecoverable faults carry the reason per event", "[record]") {
    struct {
        const char* event;
        uint32_t reason;
    } cases[] = {{"translation", IOPF_REASON_PTE_FETCH},
                 {"addr-size", IOPF_REASON_OOR_ADDRESS},
                 {"access", IOPF_REASON_ACCESS},
                 {"permission", IOPF_REASON_PERMISSION}};
    for (const auto& c : cases) {
        RecordFields f;
        f.sid = 3;
        f.event_id = parse_event(c.event);
        f.addr = 0xabc000;
        Fault d = decode_record(build_record(f));
        REQUIRE(d.fault);
        CHECK(d.fault->type == IOPF_FAULT_DMA_UNRECOV);
        CHECK(d.fault->reason == c.reason);
        CHECK(d.fault->flags == IOPF_UNRECOV_ADDR_VALID);
        CHECK(d.fault->addr == 0xabc000);
    }
}

TEST_CASE("builder: unhandled events decode as not handled", "[record]") {
    RecordFields f;
    f.sid = 0x42;
    f.event_id = EVT_ID_BAD_STE;
    Fault d = decode_record(build_record(f));
    CHECK_FALSE(d.handled);
    CHECK_FALSE(d.fault);
    CHECK(d.sid == 0x42);
    CHECK(d.event_id == 0x04);
    CHECK_FALSE(delivery(IOPF_REPORT_FLAT, d));
}

TEST_CASE("builder: delivery verdicts come from iopf_delivery", "[record]") {
    RecordFields f;
    f.stall = true;
    f.s2 = true;
    Fault s2 = decode_record(build_record(f));
    CHECK(*delivery(IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L1_CONCERNED, s2) == IOPF_FILTER_L2);
    CHECK(*delivery(IOPF_REPORT_NESTED | IOPF_REPORT_NESTED_L2_CONCERNED, s2) == IOPF_DELIVER);
    f.stall = false;
    Fault unrecov = decode_record(build_record(f));
    CHECK(*delivery(IOPF_REPORT_FLAT, unrecov) == IOPF_FILTER_UNRECOV);
}

TEST_CASE("builder: fields that do not fit are rejected", "[record]") {
    RecordFields f;
    f.ssid = 1U << 20;
    CHECK_THROWS_AS(build_record(f), ParseError);
    f = {};
    f.stag = 0x10000;
    CHECK_THROWS_AS(build_record(f), ParseError);
    f = {};
    f.event_id = 0x100;
    CHECK_THROWS_AS(build_record(f), ParseError);
    f = {};
    f.ipa = 0x80001001; // not 4K aligned
    CHECK_THROWS_AS(build_record(f), ParseError);
    f.ipa = 1ULL << 52; // above bit 51
    CHECK_THROWS_AS(build_record(f), ParseError);
}

TEST_CASE("record text: format and parse round-trip", "[record]") {
    Record r{0x0000001000005810ULL, 0x80000007ULL, 0xdead000ULL, 0};
    std::string s = format_record(r);
    CHECK(s == "0x0000001000005810 0x0000000080000007 0x000000000dead000 0x0000000000000000");
    CHECK(parse_record_line(s) == r);
    CHECK(parse_record_line("1000005810 80000007\tdead000  0") == r);
    CHECK_THROWS_AS(parse_record_line("1 2 3"), ParseError);
    CHECK_THROWS_AS(parse_record_line("1 2 3 4 5"), ParseError);
    CHECK_THROWS_AS(parse_record_line("1 2 3 xyz"), ParseError);
    CHECK_THROWS_AS(parse_record_line("1 2 3 0x10000000000000000"), ParseError);
}

TEST_CASE("record text: a stream names the bad line", "[record]") {
    std::istringstream ok("# comment\n0x10 0 0 0\n\n  1 2 3 4 # trailing\n");
    auto v = parse_record_stream(ok, "f");
    REQUIRE(v.size() == 2);
    CHECK(v[1] == Record{1, 2, 3, 4});
    std::istringstream bad("0x10 0 0 0\n1 2 3\n");
    try {
        parse_record_stream(bad, "recs.txt");
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(std::string(e.what()) == "recs.txt:2: fewer than four words");
    }
}

// parse_record_line() is record_text.h's iopf_parse_record_line(), the
// module's debugfs parser: these pin the grammar both sides share.
TEST_CASE("record text: the module's grammar", "[record]") {
    auto why = [](std::string_view l) {
        try {
            parse_record_line(l);
        } catch (const ParseError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(parse_record_line("0X1 0xA ffffffffffffffff 0000000000000000\r") ==
          Record{1, 0xa, UINT64_MAX, 0});
    CHECK(parse_record_line(" \t1\t\r2 3 4 ") == Record{1, 2, 3, 4});
    CHECK(why("1 2 3") == "fewer than four words");
    CHECK(why("1 2 3 4 5") == "more than four words");
    CHECK(why("1 2 3 xyz") == "a word is not a hex number");
    CHECK(why("1 2 3 0x") == "a word is not a hex number");
    CHECK(why("1 2 3 -1") == "a word is not a hex number");
    CHECK(why("1 2 3 +1") == "a word is not a hex number");
    CHECK(why("1 2 3 0x0x1") == "a word is not a hex number");
    CHECK(why("1 2 3 0x10000000000000000") == "a word is longer than 16 hex digits");
    CHECK(why("1 2 3 00000000000000001") == "a word is longer than 16 hex digits");
    // Only space, tab and CR separate words, as in the module
    CHECK(why("1 2 3\v4") == "a word is not a hex number");
    CHECK(why("1 2 3\f4") == "a word is not a hex number");
    CHECK(why(std::string_view("1 2 3 4\0", 8)) == "a word is not a hex number");
    CHECK(why("  \t") == "no words, expected four");
}

TEST_CASE("record text: stream names the line and the reason", "[record]") {
    std::istringstream in("1 2 3 4\r\n# only a comment\n\t\r\n5 6 7 8 # c\n1 2 3 4 0x\n");
    try {
        parse_record_stream(in, "f.txt");
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(std::string(e.what()) == "f.txt:5: more than four words");
    }
    std::istringstream last("1 2 3 4\n5 6 7 8"); // no final newline
    auto v = parse_record_stream(last, "-");
    REQUIRE(v.size() == 2);
    CHECK(v[1] == Record{5, 6, 7, 8});
}

TEST_CASE("names: events, flags, numbers", "[names]") {
    CHECK(parse_event("translation") == 0x10);
    CHECK(parse_event("addr-size") == 0x11);
    CHECK(parse_event("access") == 0x12);
    CHECK(parse_event("permission") == 0x13);
    CHECK(parse_event("F_PERMISSION") == 0x13);
    CHECK(parse_event("0x25") == 0x25);
    CHECK(parse_event("4") == 4);
    CHECK_THROWS_AS(parse_event("bogus"), ParseError);
    CHECK_THROWS_AS(parse_event("0x100"), ParseError);

    CHECK(parse_report_flags("nested,l1,l2") == 0xe);
    CHECK(parse_report_flags("FLAT,unrecov") == 0x11);
    CHECK(parse_report_flags("") == 0);
    CHECK_THROWS_AS(parse_report_flags("nested,l3"), ParseError);
    CHECK_THROWS_AS(parse_report_flags("nested,,l1"), ParseError);
    CHECK(format_report_flags(0x1e) == "nested,l1,l2,unrecov");
    CHECK(format_report_flags(0) == "none");

    CHECK(parse_uint("0x10", 0xff, "x") == 16);
    CHECK(parse_uint("16", 0xff, "x") == 16);
    CHECK_THROWS_AS(parse_uint("256", 0xff, "x"), ParseError);
    CHECK_THROWS_AS(parse_uint("-1", 0xff, "x"), ParseError);
    CHECK_THROWS_AS(parse_uint("0x", 0xff, "x"), ParseError);
    CHECK_THROWS_AS(parse_uint("12a", 0xff, "x"), ParseError);
}
