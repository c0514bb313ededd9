// SPDX-License-Identifier: GPL-2.0
// iopfctl's command line, run in-process (no module needed: decode,
// inject --dry-run, replay --dry-run, faults/stats on a store, usage errors).
#include <cstdio>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "cli_run.hpp"
#include "commands.hpp"
#include "iopf/json.hpp"
#include "options.hpp"

using iopfctl::Args;

namespace {

using iopf_test::Run;

Run run(Args args) {
    return iopf_test::ctl(std::move(args));
}

std::string temp_file(const std::string& content) {
    char name[] = "/tmp/iopf_cli_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
    return name;
}

} // namespace

TEST_CASE("cli: the table lists every group and dispatches", "[cli]") {
    std::vector<std::string> names;
    for (const auto& c : iopfctl::commands())
        names.emplace_back(c.name);
    CHECK(names == std::vector<std::string>{"dev", "flags", "inject", "replay", "respond", "watch",
                                            "faults", "stats", "decode", "script", "map", "unmap",
                                            "maps", "ttb", "access", "accesses", "scenario"});
    auto r = run({"--help"});
    CHECK(r.rc == 0);
    CHECK(r.out.find("decode") != std::string::npos);
    r = run({});
    CHECK(r.rc == 2);
    r = run({"frobnicate"});
    CHECK(r.rc == 2);
    CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
    r = run({"inject", "--help"});
    CHECK(r.rc == 0);
    CHECK(r.out.find("--stall") != std::string::npos);
}

TEST_CASE("cli: inject builds records from fields", "[cli]") {
    auto r = run({"inject", "--sid", "0x10", "--ssid", "5", "--stall", "--stag", "3", "--s2",
                  "--ipa", "0x80001000", "--addr", "0xdead000", "--write", "--dry-run"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "0x0000001000005810 0x0000008080000003 0x000000000dead000 0x0000000080001000\n");

    r = run({"inject", "--sid", "1", "--event", "permission", "--read", "--exec", "--priv",
             "--dry-run"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "0x0000000100000013 0x0000000e00000000 0x0000000000000000 0x0000000000000000\n");

    r = run({"inject", "--sid", "2", "--stall", "--stag", "1", "--addr", "0x1000", "--count", "3",
             "--dry-run"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "0x0000000200000010 0x0000000880000001 0x0000000000001000 0x0000000000000000\n"
                   "0x0000000200000010 0x0000000880000002 0x0000000000002000 0x0000000000000000\n"
                   "0x0000000200000010 0x0000000880000003 0x0000000000003000 0x0000000000000000\n");
}

TEST_CASE("cli: inject --raw and --file", "[cli]") {
    auto r = run({"inject", "--raw", "0x10", "2", "3", "4", "--dry-run"});
    REQUIRE(r.rc == 0);
    CHECK(r.out == "0x0000000000000010 0x0000000000000002 0x0000000000000003 0x0000000000000004\n");
    std::string f = temp_file("# two records\n1 2 3 4\n0x10 0 0 0\n");
    r = run({"inject", "--file", f, "--dry-run"});
    CHECK(r.rc == 0);
    CHECK(r.out.size() == 2 * 76);
    std::string bad = temp_file("1 2 3\n");
    r = run({"inject", "--file", bad, "--dry-run"});
    CHECK(r.rc == 1);
    CHECK(r.err.find(":1: fewer than four words") != std::string::npos);
    std::remove(f.c_str());
    std::remove(bad.c_str());
}

TEST_CASE("cli: inject usage errors", "[cli]") {
    auto check_usage = [](Args a, const char* text) {
        auto r = run(a);
        INFO(r.err);
        CHECK(r.rc == 2);
        CHECK(r.err.find(text) != std::string::npos);
        CHECK(r.err.find("usage: iopfctl inject") != std::string::npos);
    };
    check_usage({"inject", "--dry-run"}, "exactly one of");
    check_usage({"inject", "--sid", "1", "--raw", "1", "2", "3", "4"}, "exactly one of");
    check_usage({"inject", "--raw", "1", "2", "3"}, "four words");
    check_usage({"inject", "--raw", "1", "2", "3", "zz"}, "not a hex number");
    check_usage({"inject", "--stall"}, "missing SID");
    check_usage({"inject", "--sid", "0x1g"}, "not a number");
    check_usage({"inject", "--sid", "1", "--event", "nope"}, "unknown event");
    check_usage({"inject", "--sid", "1", "--read", "--write"}, "exclusive");
    check_usage({"inject", "--sid", "1", "--ssid", "0x100000"}, "ssid");
    check_usage({"inject", "--sid", "1", "--bogus"}, "unknown option '--bogus'");
}

TEST_CASE("cli: decode, human and JSON", "[cli]") {
    auto r = run({"decode", "0x0000001000005810", "0x0000008080000003", "0xdead000", "0x80001000",
                  "--flags", "nested,l1"});
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("F_TRANSLATION") != std::string::npos);
    CHECK(r.out.find("filter_l2 under nested,l1") != std::string::npos);
    CHECK(r.out.find("0x80001000") != std::string::npos);

    r = run({"decode", "0x1000005810", "0x8080000003", "0xdead000", "0x80001000", "--flags",
             "nested,l2", "--json"});
    REQUIRE(r.rc == 0);
    auto j = iopf::Json::parse(r.out);
    CHECK(j.at("delivered").as_bool());
    CHECK(j.at("verdict").as_string() == "deliver");
    CHECK(j.at("level").as_string() == "L2");
    CHECK(j.at("seq").is_null());

    r = run({"decode", "1", "2", "3"});
    CHECK(r.rc == 2);
    r = run({"decode", "1", "2", "3", "4", "--flags", "nested,bogus"});
    CHECK(r.rc == 2);
    CHECK(r.err.find("unknown flag 'bogus'") != std::string::npos);
    // Flags the module would reject still decode, with a note
    r = run({"decode", "0x1000000010", "0x80000000", "0", "0", "--flags", "nested"});
    CHECK(r.rc == 0);
    CHECK(r.err.find("would reject") != std::string::npos);
}

TEST_CASE("cli: replay --dry-run", "[cli]") {
    std::string f = temp_file("[ 1.0] iopf_testbed: event 0x10 received:\n"
                              "[ 1.0] iopf_testbed: \t0x0000001000000010\n"
                              "[ 1.0] iopf_testbed: \t0x0000000000000000\n"
                              "[ 1.0] iopf_testbed: \t0x0000000000001000\n"
                              "[ 1.0] iopf_testbed: \t0x0000000000000000\n");
    auto r = run({"replay", f, "--dry-run"});
    CHECK(r.rc == 0);
    CHECK(r.out == "0x0000001000000010 0x0000000000000000 0x0000000000001000 0x0000000000000000\n");
    std::string junk = temp_file("nothing here\n");
    r = run({"replay", junk, "--dry-run"});
    CHECK(r.rc == 1);
    CHECK(r.err.find("no event records") != std::string::npos);
    r = run({"replay"});
    CHECK(r.rc == 2);
    std::remove(f.c_str());
    std::remove(junk.c_str());
}

TEST_CASE("cli: subcommand and option errors without touching the module", "[cli]") {
    CHECK(run({"dev"}).rc == 2);
    CHECK(run({"dev", "frob"}).rc == 2);
    CHECK(run({"dev", "add"}).rc == 2);
    CHECK(run({"dev", "add", "xyz"}).rc == 2);
    CHECK(run({"dev", "set"}).rc == 2);
    CHECK(run({"dev", "set", "0x10"}).rc == 2); // nothing to set
    CHECK(run({"dev", "set", "0x10", "--pending-limit", "0"}).rc == 2);
    CHECK(run({"dev", "s", "0x10", "--timeout-ms", "1"}).rc == 2); // set or show
    CHECK(run({"flags", "set"}).rc == 2);
    CHECK(run({"flags", "set", "0x10"}).rc == 2); // no flags
    CHECK(run({"flags", "set", "0x10", "--flags", "nested,l9"}).rc == 2);
    CHECK(run({"flags", "update", "0x10", "--nested", "--mask", "1"}).rc == 2);
    CHECK(run({"respond", "--sid", "1", "--grpid", "2"}).rc == 2);
    CHECK(run({"respond", "--sid", "1", "--grpid", "2", "--code", "maybe"}).rc == 2);
    CHECK(run({"respond", "--sid", "1", "--grpid", "2", "--pasid", "0x100000", "--code", "success"})
              .rc == 2);
    CHECK(run({"watch", "--timeout", "-1"}).rc == 2);
    CHECK(run({"faults", "--level", "L3"}).rc == 2);
}

TEST_CASE("cli: faults and stats read the daemon's store", "[cli]") {
    std::string store = temp_file(
        R"({"kind":"daemon","event":"start","pid":1})"
        "\n"
        R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x80001000","reason":null,"dev_seq":1,"action":"success","resynced":false})"
        "\n"
        R"({"kind":"fault","seq":2,"sid":17,"event_id":19,"event":"F_PERMISSION","handled":true,"type":"unrecov","level":"L1","flags":["pasid_valid","addr_valid"],"pasid":5,"grpid":null,"perm":["write"],"addr":"0x4000","reason":"permission","action":"record","resynced":true})"
        "\n"
        R"({"kind":"response","seq":1,"sid":16,"grpid":3,"pasid":null,"code":"success","ok":true})"
        "\n"
        R"({"kind":"loss","what":"gap","seq":5,"missing":2})"
        "\n"
        "{torn line\n");
    auto r = run({"faults", "--store", store});
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("SEQ") == 0);
    CHECK(r.out.find("F_PERMISSION") != std::string::npos);
    CHECK(r.out.find("record (resync)") != std::string::npos);
    CHECK(r.err.find("1 unreadable line") != std::string::npos);

    r = run({"faults", "--store", store, "--json", "--sid", "0x10"});
    REQUIRE(r.rc == 0);
    auto j = iopf::Json::parse(r.out);
    CHECK(j.at("seq").as_u64() == 1);
    CHECK(j.at("action").as_string() == "success");

    r = run({"faults", "--store", store, "--json", "--level", "L1"});
    CHECK(iopf::Json::parse(r.out).at("sid").as_u64() == 17);

    r = run({"stats", "--store", store, "--json"});
    REQUIRE(r.rc == 0);
    auto s = iopf::Json::parse(r.out);
    CHECK(s.at("faults").as_u64() == 2);
    CHECK(s.at("resynced").as_u64() == 1);
    CHECK(s.at("responses").at("success").as_u64() == 1);
    CHECK(s.at("loss").at("missing").as_u64() == 2);

    r = run({"stats", "--store", store});
    CHECK(r.out.find("faults: 2") == 0);
    std::remove(store.c_str());

    r = run({"faults", "--store", "/nonexistent/x.jsonl"});
    CHECK(r.rc == 1);
    CHECK(r.err.find("/nonexistent/x.jsonl") != std::string::npos);
}

TEST_CASE("iopfd: command line", "[cli][iopfd]") {
    std::ostringstream out;
    auto o = iopfd::parse_options({"-c", "/etc/iopfd.conf", "--store", "/tmp/s.jsonl", "--rcvbuf",
                                   "4M", "--ready-file", "/tmp/r", "-v"},
                                  out);
    REQUIRE(o);
    CHECK(o->config == "/etc/iopfd.conf");
    CHECK(*o->store == "/tmp/s.jsonl");
    CHECK(*o->rcvbuf == 4u << 20);
    CHECK(*o->ready_file == "/tmp/r");
    CHECK(o->verbose);
    CHECK_FALSE(iopfd::parse_options({"--help"}, out));
    CHECK(out.str().find("--config") != std::string::npos);
    CHECK_THROWS_AS(iopfd::parse_options({}, out), std::invalid_argument);
    CHECK_THROWS_AS(iopfd::parse_options({"-c", "x", "--rcvbuf", "lots"}, out),
                    std::invalid_argument);
    CHECK_THROWS_AS(iopfd::parse_options({"-c", "x", "extra"}, out), std::invalid_argument);
}
