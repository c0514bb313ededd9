// SPDX-License-Identifier: GPL-2.0
// iopfctl decode: every field of the record, from words, a file or stdin.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "iopf/decode.hpp"
#include "iopf/json.hpp"

using iopfctl::Args;

namespace {

struct Run {
    int rc;
    std::string out, err;
};

Run run(Args args, const std::string& stdin_text = "") {
    std::ostringstream out, err;
    std::istringstream in(stdin_text);
    std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
    iopfctl::Io io{out, err};
    int rc = iopfctl::run(args, io);
    std::cin.rdbuf(saved);
    return {rc, out.str(), err.str()};
}

std::string temp_file(const std::string& content) {
    char name[] = "/tmp/iopf_decode_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
    return name;
}

bool has_row(const std::string& table, const std::string& field, const std::string& value) {
    std::istringstream in(table);
    for (std::string l; std::getline(in, l);) {
        if (l.rfind(field + " ", 0) != 0)
            continue;
        std::size_t v = l.find_first_not_of(' ', field.size());
        if (v != std::string::npos && l.compare(v, value.size(), value) == 0)
            return true;
    }
    return false;
}

// sid 0x11, translation, stall, stag 7, S2, read, CLASS 2, IOVA 0x4000, IPA 0x44000000
const Args kS2Request = {"decode", "0x0000001100000010", "0x0000028880000007", "0x4000",
                         "0x44000000"};
// sid 0x21, permission, SSV ssid 5, S2, unrecoverable, priv exec write, CLASS 1 TT read
const Args kS2Unrecov = {"decode", "0x0000002100005813", "0x0000118600000000", "0xffff80001000",
                         "0x80002000"};

} // namespace

TEST_CASE("decode: a stage-2 request shows the IOVA and the IPA", "[decode]") {
    auto r = run(kS2Request);
    REQUIRE(r.rc == 0);
    CHECK(has_row(r.out, "iova", "0x4000"));
    CHECK(has_row(r.out, "ipa", "0x44000000"));
    CHECK(has_row(r.out, "addr", "0x44000000 (reported: the IPA)"));
    CHECK(has_row(r.out, "stall", "yes"));
    CHECK(has_row(r.out, "stag", "0x7"));
    CHECK(has_row(r.out, "s2", "yes"));
    CHECK(has_row(r.out, "class", "2 Input address caused fault"));
    CHECK(has_row(r.out, "ttrnw", "- (not a table walk)"));
    CHECK(has_row(r.out, "rnw", "read"));
    CHECK(has_row(r.out, "ind", "data"));
    CHECK(has_row(r.out, "pnu", "unprivileged"));
    CHECK(has_row(r.out, "ssid", "- (SSV clear)"));
    CHECK(has_row(r.out, "record",
                  "0x0000001100000010 0x0000028880000007 0x0000000000004000 "
                  "0x0000000044000000"));
    CHECK(has_row(r.out, "grpid", "7"));
}

TEST_CASE("decode: an unrecoverable stage-2 fault shows the IPA too", "[decode]") {
    auto r = run(kS2Unrecov);
    REQUIRE(r.rc == 0);
    CHECK(has_row(r.out, "iova", "0xffff80001000"));
    CHECK(has_row(r.out, "ipa", "0x80002000"));
    CHECK(has_row(r.out, "addr", "0xffff80001000 (reported: the IOVA)"));
    CHECK(has_row(r.out, "stall", "no"));
    CHECK(has_row(r.out, "s2", "yes"));
    CHECK(has_row(r.out, "class", "1 Stage 1 translation table fetch"));
    CHECK(has_row(r.out, "ttrnw", "read"));
    CHECK(has_row(r.out, "rnw", "write"));
    CHECK(has_row(r.out, "ind", "instruction"));
    CHECK(has_row(r.out, "pnu", "privileged"));
    CHECK(has_row(r.out, "ssid", "0x5"));
    CHECK(has_row(r.out, "reason", "permission"));
}

TEST_CASE("decode: JSON carries every field", "[decode]") {
    Args a = kS2Unrecov;
    a.push_back("--json");
    auto r = run(a);
    REQUIRE(r.rc == 0);
    auto j = iopf::Json::parse(r.out);
    const auto& e = j.at("evt");
    CHECK(e.at("iova").as_string() == "0xffff80001000");
    CHECK(e.at("ipa").as_string() == "0x80002000");
    CHECK_FALSE(e.at("stall").as_bool());
    CHECK(e.at("stag").as_u64() == 0);
    CHECK(e.at("s2").as_bool());
    CHECK(e.at("class").as_u64() == 1);
    CHECK(e.at("ttrnw").as_bool());
    CHECK(e.at("ssv").as_bool());
    CHECK(e.at("ssid").as_u64() == 5);
    CHECK(e.at("pnu").as_bool());
    CHECK(e.at("ind").as_bool());
    CHECK_FALSE(e.at("rnw").as_bool());
    CHECK(e.at("fetch_addr").is_null());
    CHECK(j.at("record").as_array().size() == 4);
    CHECK(j.at("addr").as_string() == "0xffff80001000");
}

TEST_CASE("decode: fields agree with fault_core.h's decoding", "[decode]") {
    // Whatever the record, what iopf_decode() reports is one of the fields shown
    for (uint64_t w1 : {0x0ULL, 0x80000003ULL, 0x8880000007ULL, 0x118600000000ULL, ~0ULL}) {
        iopf::Record rec{0x0000001100005810ULL, w1, 0x1234000ULL, 0xabcdef123456ULL};
        auto f = iopf::decode_record(rec);
        auto e = iopf::evt_fields(rec);
        REQUIRE(f.fault);
        CHECK((f.fault->addr == e.iova || f.fault->addr == e.ipa));
        CHECK(f.fault->level == (e.s2 ? 2u : 1u));
        CHECK((f.fault->type == IOPF_FAULT_PAGE_REQ) == e.stall);
        if (e.stall)
            CHECK(f.fault->grpid == e.stag);
    }
    iopf::Record fetch{0x0000000700000003ULL, 0, 0, 0x00000000abcde00fULL};
    CHECK(iopf::evt_fields(fetch).has_fetch());
    CHECK(iopf::evt_fields(fetch).fetch == 0xabcde008ULL);
}

TEST_CASE("decode: records from a file, stdin, or a log excerpt", "[decode]") {
    std::string recs =
        temp_file("# two records\n"
                  "0x0000001100000010 0x0000028880000007 0x4000 0x44000000\n"
                  "0x0000002100005813 0x0000118600000000 0xffff80001000 0x80002000\n");
    auto r = run({"decode", "--file", recs});
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("record 1 of 2:") != std::string::npos);
    CHECK(r.out.find("record 2 of 2:") != std::string::npos);
    r = run({"decode", "--file", recs, "--json"});
    REQUIRE(r.rc == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);
    std::remove(recs.c_str());

    const std::string log = "[ 5.0] arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:\n"
                            "[ 5.0] arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000001100000010\n"
                            "[ 5.0] nvme nvme0: status 0x00000000deadbeef\n"
                            "[ 5.0] arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000028880000007\n"
                            "[ 5.0] arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000004000\n"
                            "[ 5.0] arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000044000000\n";
    r = run({"decode", "-"}, log);
    REQUIRE(r.rc == 0);
    CHECK(has_row(r.out, "ipa", "0x44000000"));
    CHECK(has_row(r.out, "iova", "0x4000"));
    // A cut record: reported, exit status 1
    r = run({"decode", "-"}, log.substr(0, log.rfind("[ 5.0]")));
    CHECK(r.rc == 1);
    CHECK(r.err.find("line 1: event 0x10 record") != std::string::npos);

    CHECK(run({"decode", "-"}, "nothing here\n").rc == 1);
    CHECK(run({"decode", "--file", "/nonexistent"}).rc == 1);
    CHECK(run({"decode", "1", "2", "3", "4", "--file", "x"}).rc == 2);
}
