// SPDX-License-Identifier: GPL-2.0
// The kernel-log replay parser.
#include <sstream>

#include <catch2/catch.hpp>

#include "iopf/replay.hpp"

using namespace iopf;

namespace {
ReplayResult parse(const std::string& s) {
    std::istringstream in(s);
    return parse_replay(in);
}
} // namespace

TEST_CASE("replay: bare arm-smmu-v3 format", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x0000001000005810\n"
                   "\t0x0000000080000007\n"
                   "\t0x000000000dead000\n"
                   "\t0x0000000000000000\n");
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0] == Record{0x1000005810ULL, 0x80000007ULL, 0xdead000ULL, 0});
    CHECK(r.warnings.empty());
    CHECK(r.skipped_lines == 0);
}

TEST_CASE("replay: dmesg and dev_info prefixes, junk lines skipped", "[replay]") {
    auto r = parse("[    1.000000] Linux version 6.1.0\n"
                   "[   12.345678] iopf_testbed: event 0x13 received:\n"
                   "[   12.345679] iopf_testbed: \t0x0000002000000013\n"
                   "[   12.345680] iopf_testbed: \t0x0000000800000000\n"
                   "[   12.345681] iopf_testbed: \t0x0000000000400000\n"
                   "[   12.345682] iopf_testbed: \t0x0000000000000000\n"
                   "random junk 0x1234\n"
                   "arm-smmu-v3 arm-smmu-v3.0.auto: event 0x11 received:\n"
                   "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000300000011\n"
                   "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000\n"
                   "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000001000\n"
                   "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000\r\n"
                   "\n");
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0][0] == 0x2000000013ULL);
    CHECK(r.records[0][1] == 0x800000000ULL);
    CHECK(r.records[1][0] == 0x300000011ULL);
    CHECK(r.records[1][2] == 0x1000);
    CHECK(r.warnings.empty());
    CHECK(r.skipped_lines == 3);
}

TEST_CASE("replay: a truncated block is dropped with a warning", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x0000001000000010\n"
                   "\t0x0000000000000000\n"
                   "something else\n"
                   "event 0x12 received:\n"
                   "\t0x0000001000000012\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n"
                   "event 0x10 received:\n"
                   "\t0x0000001000000010\n");
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0][0] == 0x1000000012ULL);
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[0].find("line 1:") == 0);
    CHECK(r.warnings[0].find("2 of 4") != std::string::npos);
    CHECK(r.warnings[1].find("end of input") != std::string::npos);
}

TEST_CASE("replay: a header interrupting a block starts a new one", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x0000001000000010\n"
                   "event 0x11 received:\n"
                   "\t0x0000001000000011\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n");
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0][0] == 0x1000000011ULL);
    CHECK(r.warnings.size() == 1);
}

TEST_CASE("replay: header ID must match word 0", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x0000001000000013\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n");
    CHECK(r.records.empty());
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("0x13") != std::string::npos);
}

TEST_CASE("replay: short hex words are not record words", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x10\n");
    CHECK(r.records.empty());
    CHECK(r.warnings.size() == 1);
    CHECK(r.skipped_lines == 1); // the 0x10 line, after the block was dropped
}

TEST_CASE("replay: empty input yields nothing", "[replay]") {
    auto r = parse("");
    CHECK(r.records.empty());
    CHECK(r.warnings.empty());
}

TEST_CASE("replay: header and word shapes", "[replay]") {
    const std::string words = "\t0x0000001000000005\n\t0x0000000000000000\n"
                              "\t0x0000000000000000\n\t0x0000000000000000\n";
    CHECK(parse("event 0x5 received:\n" + words).records.size() == 1);   // one digit
    CHECK(parse("x event 0x05 received: \t\n" + words).records.size() == 1);
    CHECK(parse("xevent 0x05 received:\n" + words).records.empty());   // \b
    CHECK(parse("event 0x005 received:\n" + words).records.empty());   // three digits
    CHECK(parse("event 0x05 received: x\n" + words).records.empty());  // not at the end
    auto r = parse("event 0x05 received:\n"
                   "a0x0000001000000005\n"); // word glued to the prefix
    CHECK(r.records.empty());
    CHECK(r.warnings.size() == 1);
    CHECK(parse("event 0x05 received:\n"
                "[1.0]0x0000001000000005\n:0x0000000000000000\n"
                "0x0000000000000000\n 0x0000000000000000 \r\n")
              .records.size() == 1);
}

// std::regex recursed per blank: tests/fuzz/fuzz_replay found a stack overflow
TEST_CASE("replay: very long lines", "[replay]") {
    std::string blanks(1 << 20, ' ');
    auto r = parse("event 0x10 received:" + blanks + "\n\t0x0000001000000010" + blanks + "x\n");
    CHECK(r.records.empty());
    CHECK(r.warnings.size() == 1);
    r = parse("event 0x10 received:" + blanks + "\n" + "\t0x0000001000000010" + blanks + "\n" +
              "\t0x0000000000000000\n\t0x0000000000000000\n\t0x0000000000000000\n");
    CHECK(r.records.size() == 1);
}
