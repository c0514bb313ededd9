// SPDX-License-Identifier: GPL-2.0
// The kernel-log replay parser.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include <catch2/catch.hpp>

#include "iopf/replay.hpp"

using namespace iopf;

namespace {
ReplayResult parse(const std::string& s) {
    std::istringstream in(s);
    return parse_replay(in);
}
} // namespace

namespace {
const std::string kWords = "\t0x0000001000000010\n\t0x0000020880000003\n"
                           "\t0x0000000000003000\n\t0x0000000000000000\n";
std::string dev_lines(const std::string& dev, const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        out += dev + " " + l + "\n";
    return out;
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
    CHECK(r.errors.empty());
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
    CHECK(r.errors.empty());
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
    REQUIRE(r.errors.size() == 2);
    CHECK(r.errors[0].find("line 1:") == 0);
    CHECK(r.errors[0].find("2 of 4") != std::string::npos);
    CHECK(r.errors[1].find("line 10:") == 0);
    CHECK(r.errors[1].find("end of input") != std::string::npos);
    CHECK(r.record_lines == std::vector<std::size_t>{5});
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
    CHECK(r.errors.size() == 1);
}

TEST_CASE("replay: header ID must match word 0", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x0000001000000013\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n"
                   "\t0x0000000000000000\n");
    CHECK(r.records.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("0x13") != std::string::npos);
}

TEST_CASE("replay: short hex words are not record words", "[replay]") {
    auto r = parse("event 0x10 received:\n"
                   "\t0x10\n");
    CHECK(r.records.empty());
    CHECK(r.errors.size() == 1);
    CHECK(r.skipped_lines == 1); // the 0x10 line: not a word, and it ends nothing
}

TEST_CASE("replay: empty input yields nothing", "[replay]") {
    auto r = parse("");
    CHECK(r.records.empty());
    CHECK(r.warnings.empty());
}

TEST_CASE("replay: header and word shapes", "[replay]") {
    const std::string words = "\t0x0000001000000005\n\t0x0000000000000000\n"
                              "\t0x0000000000000000\n\t0x0000000000000000\n";
    CHECK(parse("event 0x5 received:\n" + words).records.size() == 1);    // one digit
    CHECK(parse("x: event 0x05 received: \t\n" + words).records.empty()); // words not of "x:"
    CHECK(parse("x: event 0x05 received: \t\n" + dev_lines("x:", words)).records.size() == 1);
    CHECK(parse("xevent 0x05 received:\n" + words).records.empty());  // \b
    CHECK(parse("event 0x005 received:\n" + words).records.empty());  // three digits
    CHECK(parse("event 0x05 received: x\n" + words).records.empty()); // not at the end
    auto r = parse("event 0x05 received:\n"
                   "a0x0000001000000005\n"); // word glued to the prefix
    CHECK(r.records.empty());
    CHECK(r.errors.size() == 1);
    CHECK(parse("event 0x05 received:\n"
                "[1.0]0x0000001000000005\n0x0000000000000000\n"
                "0x0000000000000000\n 0x0000000000000000 \r\n")
              .records.size() == 1);
}

// std::regex recursed per blank: tests/fuzz/fuzz_replay found a stack overflow
TEST_CASE("replay: very long lines", "[replay]") {
    std::string blanks(1 << 20, ' ');
    auto r = parse("event 0x10 received:" + blanks + "\n\t0x0000001000000010" + blanks + "x\n");
    CHECK(r.records.empty());
    CHECK(r.errors.size() == 1);
    r = parse("event 0x10 received:" + blanks + "\n" + "\t0x0000001000000010" + blanks + "\n" +
              "\t0x0000000000000000\n\t0x0000000000000000\n\t0x0000000000000000\n");
    CHECK(r.records.size() == 1);
}

// ---- the cases, one by one ----------------------------------------

TEST_CASE("replay: another driver's 16-digit word inside a block feeds nothing", "[replay]") {
    const std::string smmu = "arm-smmu-v3 arm-smmu-v3.0.auto:";
    auto r = parse(smmu + " event 0x10 received:\n" + smmu + " \t0x0000001000000010\n" +
                   "foo_drv 0000:01:00.0: \t0x00000000deadbeef\n" + // word shape, other device
                   "bar: status 0x00000000deadbeef\n" + smmu + " \t0x0000020880000003\n" + smmu +
                   " \t0x0000000000003000\n" + smmu + " \t0x0000000000000000\n");
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0][2] == 0x3000);
    CHECK(r.errors.empty()); // foo_drv never logged a header: not a cut record
    CHECK(r.skipped_lines == 0 + 2);
}

TEST_CASE("replay: a record's words from another device are not taken", "[replay]") {
    // The header of smmu0, then only smmu1's words: nothing may be built
    auto r = parse(dev_lines("arm-smmu-v3 a.auto:", "event 0x10 received:") +
                   dev_lines("arm-smmu-v3 b.auto:", kWords));
    CHECK(r.records.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("line 1:") == 0); // smmu0's record, cut
    CHECK(r.skipped_lines == 4);             // b.auto logged no record: another driver
    // ... but words of a device that does log records are a cut record
    r = parse(dev_lines("arm-smmu-v3 b.auto:", "\t0x0000000000000000\n") +
              dev_lines("arm-smmu-v3 b.auto:", "event 0x10 received:\n" + kWords));
    CHECK(r.records.size() == 1);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("line 1: 1 record word line of arm-smmu-v3 b.auto ") == 0);
}

TEST_CASE("replay: the log's own losses are warnings, not errors", "[replay]") {
    auto r = parse("[1.0] arm_smmu_evtq_thread: 12 callbacks suppressed\n"
                   "[1.1] arm_smmu_dump_event: 3 callbacks suppressed\n"
                   "[1.2] iopf_smmu_log_evt: 1 callbacks suppressed\n"
                   "[1.3] net_ratelimit: 9 callbacks suppressed\n"
                   "[1.4] arm-smmu-v3 x: EVTQ overflow detected -- events lost\n"
                   "[1.5] ** 5 printk messages dropped **\n");
    CHECK(r.errors.empty());
    REQUIRE(r.warnings.size() == 5);
    CHECK(r.warnings[3].find("line 5:") == 0);
}

TEST_CASE("replay: decoded lines are checked against the words", "[replay]") {
    const std::string dev = "arm-smmu-v3 arm-smmu-v3.0.auto:";
    const std::string head = dev_lines(dev, "event 0x10 received:\n" + kWords);
    const std::string ev = dev + " event: F_TRANSLATION client: 0000:00:01.0 sid: 0x10 ssid: 0x0 ";
    const std::string acc =
        dev + " unpriv data read s1 \"Input address caused fault\" stall stag: 0x3";
    auto ok = parse(head + ev + "iova: 0x3000 ipa: 0x0\n" + acc + "\n");
    CHECK(ok.records.size() == 1);
    CHECK(ok.errors.empty());
    // glued to the next message, with or without its device prefix
    CHECK(parse(head + ev + "iova: 0x3000 ipa: 0x0" + acc + "\n").errors.empty());
    CHECK(parse(head + ev +
                "iova: 0x3000 ipa: 0x0unpriv data read s1 \"Input address caused "
                "fault\" stall stag: 0x3\n")
              .errors.empty());
    // a longer number is a disagreement, not glue
    auto longer = parse(head + ev + "iova: 0x3000 ipa: 0x00\n");
    REQUIRE(longer.errors.size() == 1);
    CHECK(longer.errors[0].find("line 6:") == 0);
    CHECK(longer.errors[0].find("disagrees with the record words of line 1") != std::string::npos);
    CHECK(longer.records.size() == 1); // the words themselves are whole
    // each field of the access line
    for (const char* bad : {"priv data read s1", "unpriv inst read s1", "unpriv data write s1",
                            "unpriv data read s2"}) {
        auto r =
            parse(head + dev + " " + bad + " \"Input address caused fault\" stall stag: 0x3\n");
        CHECK(r.errors.size() == 1);
    }
    CHECK(parse(head + dev + " unpriv data read s1 \"CD fetch\" stall stag: 0x3\n").errors.size() ==
          1);
    CHECK(parse(head + dev + " unpriv data read s1 \"Input address caused fault\" stag: 0x3\n")
              .errors.size() == 1);
    CHECK(
        parse(head + dev + " unpriv data read s1 \"Input address caused fault\" stall stag: 0x4\n")
            .errors.size() == 1);
    // decoded lines without the words they follow: a record that cannot be rebuilt
    auto alone = parse(ev + "iova: 0x3000 ipa: 0x0\n");
    CHECK(alone.records.empty());
    REQUIRE(alone.errors.size() == 1);
    CHECK(alone.errors[0].find("without the record words") != std::string::npos);
}

TEST_CASE("replay: decoded lines of fetch and configuration events", "[replay]") {
    const std::string dev = "arm-smmu-v3 s:";
    auto fetch = parse(dev_lines(dev, "event 0x03 received:\n\t0x0000000700000003\n"
                                      "\t0x0000000000000000\n\t0x0000000000000000\n"
                                      "\t0x00000000abcde008\n") +
                       dev +
                       " event: F_STE_FETCH client: (unassigned sid) sid: 0x7 ssid: 0x0 "
                       "fetch_addr: 0xabcde008\n");
    CHECK(fetch.records.size() == 1);
    CHECK(fetch.errors.empty());
    auto bad_ste = parse(dev_lines(dev, "event 0x04 received:\n\t0x0000000700000804\n"
                                        "\t0x0000000000000000\n\t0x0000000000000000\n"
                                        "\t0x0000000000000000\n") +
                         dev + " event: C_BAD_STE client: 0000:00:03.0 sid: 0x7 ssid: 0x0\n");
    CHECK(bad_ste.errors.empty()); // SSV set but SSID 0
}

TEST_CASE("replay: /dev/kmsg records and journal lines", "[replay]") {
    auto r = parse("6,10,100,-;iopf_testbed: event 0x10 received:\n"
                   " SUBSYSTEM=module\n"
                   "6,11,101,-;iopf_testbed: \\x090x0000001000000010\n"
                   "6,12,102,c;iopf_testbed: \\x090x0000020880000003\n"
                   "6,13,103,-,caller=T12;iopf_testbed: \\x090x0000000000003000\n"
                   "6,14,104,-;iopf_testbed: \\x090x0000000000000000\n");
    REQUIRE(r.records.size() == 1);
    CHECK(r.errors.empty());
    CHECK(r.skipped_lines == 1);
    auto j = parse("Dec 02 13:29:20 my-host kernel: iopf_testbed: event 0x10 received:\n" +
                   dev_lines("Dec 02 13:29:20 my-host kernel: iopf_testbed:", kWords));
    CHECK(j.records.size() == 1);
    CHECK(j.errors.empty());
}

// The corpus: real formats, their interleavings, and what each must yield
TEST_CASE("replay: the log corpus, nothing invented, every cut record reported", "[replay]") {
    namespace fs = std::filesystem;
    std::size_t logs = 0;
    for (const auto& entry : fs::directory_iterator(IOPF_REPLAY_CORPUS)) {
        if (entry.path().extension() != ".log")
            continue;
        logs++;
        const fs::path log = entry.path();
        fs::path exp = log;
        exp.replace_extension(".expected");
        INFO(log.filename().string());
        std::ifstream in(log, std::ios::binary);
        REQUIRE(in);
        std::stringstream text;
        text << in.rdbuf();
        std::istringstream again(text.str());
        ReplayResult r = parse_replay(again);

        std::string got;
        for (std::size_t i = 0; i < r.records.size(); i++) {
            got += fmt::format("record {}", r.record_lines[i]);
            for (uint64_t w : r.records[i]) {
                got += fmt::format(" {:#018x}", w);
                // nothing invented: every word is in the log
                CHECK(text.str().find(fmt::format("0x{:016x}", w)) != std::string::npos);
            }
            got += "\n";
        }
        auto line_of = [](const std::string& s) {
            return std::stoul(s.substr(5, s.find(':') - 5));
        };
        for (const auto& e : r.errors)
            got += fmt::format("error {}\n", line_of(e));
        for (const auto& w : r.warnings)
            got += fmt::format("warning {}\n", line_of(w));

        std::ifstream ein(exp);
        REQUIRE(ein);
        std::string want;
        for (std::string l; std::getline(ein, l);)
            if (!l.empty() && l[0] != '#')
                want += l + "\n";
        CHECK(got == want);
        if (got != want) {
            for (const auto& e : r.errors)
                UNSCOPED_INFO(e);
        }
    }
    CHECK(logs >= 13);
}
