// SPDX-License-Identifier: GPL-2.0
// iopfd's configuration file.
#include <sstream>

#include <catch2/catch.hpp>

#include "iopf/config.hpp"
#include <iopf_testbed/fault_core.h>

#include "iopf/error.hpp"

using namespace iopf;
using namespace std::chrono_literals;

namespace {
Config parse(const std::string& s) {
    std::istringstream in(s);
    return parse_config(in, "test.conf");
}

void expect_error(const std::string& text, const std::string& what) {
    try {
        parse(text);
        FAIL("accepted: " << text);
    } catch (const ParseError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
}
} // namespace

TEST_CASE("config: a full file", "[config]") {
    Config c = parse("# comment\n"
                     "store /tmp/faults.jsonl\n"
                     "rcvbuf 16M\n"
                     "\n"
                     "device 0x10 flags=nested,l1,l2 l1=invalid,delay_ms=5 l2=success  # vm0\n"
                     "device 17 flags=flat,unrecov l1=pending\n"
                     "default l1=code:failure l2=success,delay_ms=1\n");
    CHECK(*c.store == "/tmp/faults.jsonl");
    CHECK(*c.rcvbuf == 16u << 20);
    REQUIRE(c.devices.size() == 2);
    const DeviceConfig& d = c.devices[0];
    CHECK(d.sid == 0x10);
    CHECK(d.flags == 0xe);
    CHECK_FALSE(d.l1.pending);
    CHECK(d.l1.code == IOPF_RESP_INVALID);
    CHECK(d.l1.delay == 5ms);
    CHECK(d.l2.code == IOPF_RESP_SUCCESS);
    CHECK(d.l2.delay == 0ms);
    CHECK(d.action_for_level(2) == d.l2);
    const DeviceConfig* e = c.find(17);
    REQUIRE(e);
    CHECK(e->flags == (IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV));
    CHECK(e->l1.pending);
    // the default line applies even though it comes last
    CHECK(e->l2.code == IOPF_RESP_SUCCESS);
    CHECK(e->l2.delay == 1ms);
    CHECK_FALSE(c.find(99));
}

TEST_CASE("config: defaults when nothing is said", "[config]") {
    Config c = parse("device 1 flags=nested,l2\n");
    CHECK_FALSE(c.store);
    CHECK_FALSE(c.rcvbuf);
    CHECK(c.devices[0].l1 == Action{});
    CHECK(c.devices[0].l2.code == IOPF_RESP_SUCCESS);
    CHECK(parse("").devices.empty());
}

TEST_CASE("config: actions", "[config]") {
    CHECK(parse_action("success").to_string() == "success");
    CHECK(parse_action("code:invalid,delay_ms=5").to_string() == "invalid,delay_ms=5");
    CHECK(parse_action("failure,delay_ms=0").to_string() == "failure");
    CHECK(parse_action("pending").pending);
    CHECK_THROWS_AS(parse_action("pending,delay_ms=3"), ParseError);
    CHECK_THROWS_AS(parse_action("retry"), ParseError);
    CHECK_THROWS_AS(parse_action("success,delay=3"), ParseError);
    CHECK_THROWS_AS(parse_action("success,delay_ms=x"), ParseError);
    CHECK_THROWS_AS(parse_action("success,delay_ms=99999999"), ParseError);
}

TEST_CASE("config: malformed input names file and line", "[config]") {
    expect_error("device 1 flags=nested,l1\nbogus line\n", "test.conf:2: unknown keyword 'bogus'");
    expect_error("device 1\n", "test.conf:1: device 0x1 has no flags=");
    expect_error("device\n", "needs a StreamID");
    expect_error("device zz flags=flat\n", "not a number");
    expect_error("device 0x100000000 flags=flat\n", "out of range");
    expect_error("device 1 flags=nested\n", "NESTED needs L1_CONCERNED and/or L2_CONCERNED");
    expect_error("device 1 flags=flat,nested\n", "mutually exclusive");
    expect_error("device 1 flags=flat,l1\n", "apply to NESTED only");
    expect_error("device 1 flags=warp\n", "unknown flag 'warp'");
    expect_error("device 1 flags=flat l3=success\n", "unknown key 'l3'");
    expect_error("device 1 flags=flat l1\n", "expected key=value");
    expect_error("device 1 flags=flat\ndevice 0x1 flags=flat\n",
                 "test.conf:2: device 0x1 configured twice");
    expect_error("device 1 flags=flat l1=maybe\n", "unknown response code 'maybe'");
    expect_error("store\n", "store takes one path");
    expect_error("rcvbuf 12Q\n", "not a size");
    expect_error("rcvbuf 4G\n", "too large");
    expect_error("default\n", "default needs");
    expect_error("default l3=success\n", "unknown key 'l3'");
}

TEST_CASE("config: sizes", "[config]") {
    CHECK(parse_size("65536") == 65536);
    CHECK(parse_size("512K") == 512u << 10);
    CHECK(parse_size("16m") == 16u << 20);
    CHECK(parse_size("1G") == 1u << 30);
    CHECK_THROWS_AS(parse_size(""), ParseError);
    CHECK_THROWS_AS(parse_size("M"), ParseError);
}

TEST_CASE("config: a missing file is an Error", "[config]") {
    CHECK_THROWS_AS(load_config("/nonexistent/iopfd.conf"), Error);
}
