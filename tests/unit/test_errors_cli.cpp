// SPDX-License-Identifier: GPL-2.0
// The error paths of iopfctl and iopfd (issue 4): malformed numbers,
// conflicting options, unreadable files, bad configuration lines. Each case
// checks the exit status and the one-line message. Nothing here needs the
// module: a case that would reach it is a bug, or says so.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.hpp"
#include "temp_dir.hpp"
#include "commands.hpp"
#include "iopf/config.hpp"
#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "options.hpp"

using iopfctl::Args;

namespace {

using iopf_test::ctl;
using iopf_test::first_line;
using iopf_test::Run;

// A usage error: exit 2, "iopfctl CMD: MESSAGE" alone on the first line of
// stderr, then the command's usage; nothing on stdout.
void usage_error(Args args, const std::string& line) {
    auto r = ctl(args);
    INFO("iopfctl " << [&] {
        std::string s;
        for (const auto& a : args)
            s += a + " ";
        return s;
    }());
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == line);
    CHECK(r.err.find("\nusage: iopfctl " + args[0]) != std::string::npos);
    CHECK(r.out.empty());
}

// A failure: exit 1, exactly one line "iopfctl CMD: MESSAGE" on stderr.
void failure(Args args, const std::string& line) {
    auto r = ctl(args);
    INFO(r.err);
    CHECK(r.rc == 1);
    CHECK(r.err == line + "\n");
    CHECK(r.out.empty());
}

using iopf_test::TempDir;

iopf::Config parse(const std::string& s) {
    std::istringstream in(s);
    return iopf::parse_config(in, "t.conf");
}

void config_error(const std::string& text, const std::string& what) {
    INFO(text);
    try {
        parse(text);
        FAIL("accepted");
    } catch (const iopf::ParseError& e) {
        CHECK(std::string(e.what()) == what);
    }
}

void iopfd_usage_error(const std::vector<std::string>& args, const std::string& what) {
    std::ostringstream out;
    try {
        iopfd::parse_options(args, out);
        FAIL("accepted");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()) == what);
    }
}

// A program of the host build, next to this test binary's tree; empty if
// the build put it elsewhere.
std::string program(const char* dir, const char* name) {
    std::error_code ec;
    auto self = std::filesystem::canonical("/proc/self/exe", ec);
    if (ec)
        return {};
    for (auto p = self.parent_path(); p.has_relative_path(); p = p.parent_path()) {
        auto cand = p / "userspace" / dir / name;
        if (std::filesystem::exists(cand))
            return cand.string();
    }
    return {};
}

// Runs a program (10 s at most), stdout and stderr apart
Run spawn(const std::string& prog, const std::vector<std::string>& args) {
    TempDir t;
    std::string cmd = "timeout 10 " + prog;
    for (const auto& a : args)
        cmd += " '" + a + "'";
    cmd += " >" + (t.path / "out").string() + " 2>" + (t.path / "err").string() + " </dev/null";
    int st = std::system(cmd.c_str());
    auto slurp = [](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(t.path / "out"), slurp(t.path / "err")};
}

} // namespace

// ---- malformed numbers --------------------------------------------------

TEST_CASE("errors: malformed StreamIDs", "[errors][cli]") {
    // decimal or 0x hex, whole string, no sign, no blanks, 32 bits
    usage_error({"dev", "add", "0x"}, "iopfctl dev: SID: '0x' is not a number");
    usage_error({"dev", "add", " 12"}, "iopfctl dev: SID: ' 12' is not a number");
    usage_error({"dev", "add", "12 "}, "iopfctl dev: SID: '12 ' is not a number");
    usage_error({"dev", "add", "+5"}, "iopfctl dev: SID: '+5' is not a number");
    usage_error({"dev", "add", "1e3"}, "iopfctl dev: SID: '1e3' is not a number");
    usage_error({"dev", "add", "0x1_0"}, "iopfctl dev: SID: '0x1_0' is not a number");
    usage_error({"dev", "add", "0b101"}, "iopfctl dev: SID: '0b101' is not a number");
    usage_error({"dev", "del", ""}, "iopfctl dev: SID: '' is not a number");
    usage_error({"dev", "add", "4294967296"},
                "iopfctl dev: SID: 4294967296 is out of range (max 0xffffffff)");
    usage_error({"dev", "add", "0x100000000"},
                "iopfctl dev: SID: 0x100000000 is out of range (max 0xffffffff)");
    usage_error({"dev", "add", "99999999999999999999999"},
                "iopfctl dev: SID: 99999999999999999999999 is out of range (max 0xffffffff)");
    // a negative number reads as an option
    usage_error({"dev", "add", "-1"}, "iopfctl dev: unknown option '-1'");
    // one bad SID among good ones: nothing is attempted
    usage_error({"dev", "add", "1", "2", "x"}, "iopfctl dev: SID: 'x' is not a number");
    usage_error({"flags", "get", "0xfffffffff"},
                "iopfctl flags: SID: 0xfffffffff is out of range (max 0xffffffff)");
    usage_error({"faults", "--sid", "0x"}, "iopfctl faults: SID: '0x' is not a number");
}

TEST_CASE("errors: malformed numbers of inject, respond, flags", "[errors][cli]") {
    usage_error({"respond", "--sid", "1", "--grpid", "0xg", "--code", "success"},
                "iopfctl respond: --grpid: '0xg' is not a number");
    usage_error(
        {"respond", "--sid", "1", "--grpid", "1", "--pasid", "0x100000", "--code", "success"},
        "iopfctl respond: --pasid: 0x100000 is out of range (max 0xfffff)");
    // the STAG is 16 bits: the module's policy refuses more
    usage_error({"respond", "--sid", "1", "--grpid", "0x10000", "--code", "success"},
                "iopfctl respond: --grpid: 0x10000 is out of range (max 65535)");
    usage_error({"respond", "--sid", "1", "--grpid", "0xffffffff", "--code", "success"},
                "iopfctl respond: --grpid: 0xffffffff is out of range (max 65535)");
    usage_error({"inject", "--sid", "1", "--stag", "0x10000", "--dry-run"},
                "iopfctl inject: stag 0x10000 does not fit (max 0xffff)");
    usage_error({"inject", "--sid", "1", "--ssid", "0x100000", "--dry-run"},
                "iopfctl inject: ssid 0x100000 does not fit (max 0xfffff)");
    usage_error({"inject", "--sid", "1", "--ipa", "0x1001", "--dry-run"},
                "iopfctl inject: ipa 0x1001 must be 4 KiB aligned and below 2^52 (word 3 bits "
                "51:12)");
    usage_error({"inject", "--sid", "1", "--ipa", "0x10000000000000", "--dry-run"},
                "iopfctl inject: ipa 0x10000000000000 must be 4 KiB aligned and below 2^52 "
                "(word 3 bits 51:12)");
    usage_error({"inject", "--sid", "1", "--event", "0x100", "--dry-run"},
                "iopfctl inject: --event: event ID: 0x100 is out of range (max 0xff)");
    usage_error({"inject", "--sid", "1", "--count", "0", "--dry-run"},
                "iopfctl inject: --count must be at least 1");
    usage_error({"inject", "--sid", "1", "--count", "1000001", "--dry-run"},
                "iopfctl inject: --count: 1000001 is out of range (max 1000000)");
    usage_error({"inject", "--sid", "1", "--addr", "0x1g", "--dry-run"},
                "iopfctl inject: --addr: '0x1g' is not a number");
    usage_error({"flags", "update", "1", "--mask", "0x1g"},
                "iopfctl flags: --mask: '0x1g' is not a number");
    usage_error({"flags", "update", "1", "--set", "0x100000000"},
                "iopfctl flags: --set: 0x100000000 is out of range (max 0xffffffff)");
}

// DEV_SET's ranges (uapi), counted in decimal; refused before netlink.
TEST_CASE("errors: dev set values out of the module's ranges", "[errors][cli]") {
    usage_error({"dev", "set", "1", "--pending-limit", "0"},
                "iopfctl dev: --pending-limit must be at least 1");
    usage_error({"dev", "set", "1", "--pending-limit", "65537"},
                "iopfctl dev: --pending-limit: 65537 is out of range (max 65536)");
    usage_error({"dev", "set", "1", "--timeout-ms", "600001"},
                "iopfctl dev: --timeout-ms: 600001 is out of range (max 600000)");
    usage_error({"dev", "set", "1", "--timeout-ms", "1s"},
                "iopfctl dev: --timeout-ms: '1s' is not a number");
    // prefixes, as everywhere: --timeout is --timeout-ms
    usage_error({"dev", "set", "1", "--timeout", "x"},
                "iopfctl dev: --timeout-ms: 'x' is not a number");
    usage_error({"dev", "set", "0x", "--timeout-ms", "1"},
                "iopfctl dev: SID: '0x' is not a number");
    usage_error({"dev", "set", "1", "--limit", "4"}, "iopfctl dev: unknown option '--limit'");
    // upstream's road: --bridge on|off (1|0), a prefix as any long option
    usage_error({"dev", "set", "1", "--bridge", "yes"},
                "iopfctl dev: --bridge: 'yes' is neither on nor off");
    usage_error({"dev", "set", "1", "--bri", "ON"},
                "iopfctl dev: --bridge: 'ON' is neither on nor off");
    usage_error({"dev", "set", "1", "--bridge", ""},
                "iopfctl dev: --bridge: '' is neither on nor off");
    usage_error({"dev", "set", "1", "--bridge"}, "iopfctl dev: --bridge needs a value");
}

TEST_CASE("errors: malformed words, sizes, times, lists", "[errors][cli]") {
    // words as --file and the module take them (record_text.h): 1-16 hex
    // digits, 0x optional; a 17th digit is refused even when it is a zero
    usage_error({"decode", "1", "2", "3", "0x10000000000000000"},
                "iopfctl decode: '0x10000000000000000': a word is longer than 16 hex digits");
    usage_error({"decode", "1", "2", "3", "00000000000000001"},
                "iopfctl decode: '00000000000000001': a word is longer than 16 hex digits");
    usage_error({"inject", "--raw", "1", "2", "3", "0x00000000000000001", "--dry-run"},
                "iopfctl inject: --raw: '0x00000000000000001': a word is longer than 16 hex "
                "digits");
    usage_error({"decode", "1", "2", "3", "zz"},
                "iopfctl decode: 'zz': a word is not a hex number");
    usage_error({"decode", "1", "2", "3", "0x"},
                "iopfctl decode: '0x': a word is not a hex number");
    usage_error({"decode", "1", "2", "3", "4 "},
                "iopfctl decode: '4 ': a word is not a hex number");
    usage_error({"inject", "--raw", "1", "2", "3", "0x-4", "--dry-run"},
                "iopfctl inject: --raw: '0x-4': a word is not a hex number");
    // 16 digits, either case, 0X too: accepted
    auto r =
        ctl({"inject", "--raw", "0XffffFFFFffffFFFF", "0000000000000002", "3", "4", "--dry-run"});
    CHECK(r.rc == 0);
    CHECK(r.out == "0xffffffffffffffff 0x0000000000000002 0x0000000000000003 0x0000000000000004\n");
    // a negative word reads as an option
    usage_error({"inject", "--raw", "1", "2", "3", "-4", "--dry-run"},
                "iopfctl inject: unknown option '-4'");
    usage_error({"decode", "1", "2", "3", "4", "--flags", "flat,,l1"},
                "iopfctl decode: --flags: empty word in flag list");
    usage_error({"watch", "--count", "abc"}, "iopfctl watch: --count: 'abc' is not a number");
    usage_error({"watch", "--timeout", "abc"},
                "iopfctl watch: --timeout: 'abc' is not a number of seconds");
    usage_error({"watch", "--timeout", "-1"},
                "iopfctl watch: --timeout: '-1' is not a number of seconds");
    usage_error({"watch", "--timeout", "86401"},
                "iopfctl watch: --timeout: 86401 is out of range (max 86400)");
    usage_error({"watch", "--rcvbuf", "12Q"},
                "iopfctl watch: --rcvbuf: size: '12Q' is not a size (a number, optionally K, "
                "M or G)");
    // a socket buffer is an int: 2G would wrap (to a 1,152-byte buffer)
    usage_error({"watch", "--rcvbuf", "4G"},
                "iopfctl watch: --rcvbuf: size: 4G is too large (at most 2147483647 bytes, 2G-1)");
    usage_error({"watch", "--rcvbuf", "2G"},
                "iopfctl watch: --rcvbuf: size: 2G is too large (at most 2147483647 bytes, 2G-1)");
    usage_error({"watch", "--rcvbuf", "0"},
                "iopfctl watch: --rcvbuf: size: 0 is too small (at least 1 byte)");
    usage_error({"faults", "--level", "L3"}, "iopfctl faults: unknown level 'L3'");
}

// ---- conflicting and missing options ------------------------------------

TEST_CASE("errors: conflicting options", "[errors][cli]") {
    usage_error({"inject", "--sid", "1", "--read", "--write", "--dry-run"},
                "iopfctl inject: --read and --write are exclusive");
    usage_error({"inject", "--sid", "1", "--raw", "1", "2", "3", "4"},
                "iopfctl inject: give exactly one of: fields (SID ...), --raw, --file");
    usage_error({"inject", "--raw", "1", "2", "3", "4", "--file", "x"},
                "iopfctl inject: give exactly one of: fields (SID ...), --raw, --file");
    usage_error({"inject", "--count", "2", "--file", "x"},
                "iopfctl inject: give exactly one of: fields (SID ...), --raw, --file");
    usage_error({"flags", "update", "1", "--nested", "--mask", "1"},
                "iopfctl flags: give either flag switches or --mask/--set, not both");
    usage_error({"flags", "set", "1"}, "iopfctl flags: no flags given");
    usage_error({"flags", "update", "1"}, "iopfctl flags: no flags given");
    usage_error({"respond", "--sid", "1", "--grpid", "2"}, "iopfctl respond: --code is required");
    usage_error({"respond", "--grpid", "2", "--code", "success"}, "iopfctl respond: missing SID");
    usage_error({"dev", "add", "1", "--json"}, "iopfctl dev: unknown option '--json'");
    usage_error({"dev", "list", "extra"}, "iopfctl dev: unexpected argument 'extra'");
    usage_error({"dev", "set", "1"},
                "iopfctl dev: no setting given (--pending-limit, --timeout-ms, --stage-mode or "
                "--bridge)");
    usage_error({"dev", "set", "--pending-limit", "4"}, "iopfctl dev: missing SID");
    usage_error({"dev", "set", "1", "2", "--timeout-ms", "5"},
                "iopfctl dev: unexpected argument '2'");
    usage_error({"flags", "frob", "1"},
                "iopfctl flags: unknown subcommand 'frob' (expected set, update, get, clear)");
}

// Flag sets the module refuses are refused before any netlink traffic
// (iopf_flags_check(), as decode does), not by the kernel, which without the
// module ends in "is the module loaded?".
TEST_CASE("errors: flags set with a set the module refuses", "[errors][cli]") {
    usage_error({"flags", "set", "1", "--flat", "--nested"},
                "iopfctl flags: FLAT and NESTED are mutually exclusive");
    usage_error({"flags", "set", "1", "--flat", "--l1"},
                "iopfctl flags: L1/L2_CONCERNED apply to NESTED only");
    usage_error({"flags", "set", "1", "--nested"},
                "iopfctl flags: NESTED needs L1_CONCERNED and/or L2_CONCERNED");
    usage_error({"flags", "set", "1", "--unrecov"},
                "iopfctl flags: one of FLAT or NESTED is required");
    usage_error({"flags", "set", "1", "--flags", "flat,nested"},
                "iopfctl flags: FLAT and NESTED are mutually exclusive");
    // update with flags replaces the set (mask 0): the same check
    usage_error({"flags", "update", "1", "--nested"},
                "iopfctl flags: NESTED needs L1_CONCERNED and/or L2_CONCERNED");
    // with --mask/--set the result depends on the current flags, which only
    // the kernel knows: SET's bits are all that is checked here
    usage_error({"flags", "update", "1", "--mask", "0x1", "--set", "0x20"},
                "iopfctl flags: --set: 0x20 has unknown reporting flags (known: 0x1f)");
    usage_error({"flags", "update", "1", "--set", "0x80000000"},
                "iopfctl flags: --set: 0x80000000 has unknown reporting flags (known: 0x1f)");
}

TEST_CASE("errors: iopfd command line", "[errors][iopfd]") {
    iopfd_usage_error({}, "--config is required");
    iopfd_usage_error({"-c", "x", "extra"}, "unexpected argument 'extra'");
    iopfd_usage_error({"-c", "x", "--bogus"}, "unknown option '--bogus'");
    iopfd_usage_error({"-c"}, "--config needs a value");
    iopfd_usage_error({"-c", "x", "--poll-ms", "0"}, "--poll-ms must be positive");
    iopfd_usage_error({"-c", "x", "--poll-ms", "abc"}, "--poll-ms: 'abc' is not a number");
    iopfd_usage_error({"-c", "x", "--rcvbuf", "lots"},
                      "--rcvbuf: size: 'lots' is not a size (a number, optionally K, M or G)");
    iopfd_usage_error({"-c", "x", "-c", "y"}, "--config given twice");
}

// boost would read "-1" as an unsigned 4294967295: a 49-day poll interval
TEST_CASE("errors: iopfd --poll-ms -1", "[errors][iopfd]") {
    iopfd_usage_error({"-c", "x", "--poll-ms", "-1"}, "--poll-ms: '-1' is not a number");
    iopfd_usage_error({"-c", "x", "--sync-idle-ms", "99999999999"},
                      "--sync-idle-ms: 99999999999 is out of range (max 3600000)");
}

// ---- unreadable files ----------------------------------------------------

TEST_CASE("errors: files that cannot be read", "[errors][cli]") {
    failure({"inject", "--file", "/nonexistent/records", "--dry-run"},
            "iopfctl inject: opening /nonexistent/records: No such file or directory");
    failure({"inject", "--file", "/etc/passwd/x", "--dry-run"},
            "iopfctl inject: opening /etc/passwd/x: Not a directory");
    failure({"replay", "/nonexistent/log", "--dry-run"},
            "iopfctl replay: opening /nonexistent/log: No such file or directory");
    failure({"faults", "--store", "/nonexistent/s.jsonl"},
            "iopfctl faults: opening store /nonexistent/s.jsonl: No such file or directory");
    failure({"stats", "--store", "/nonexistent/s.jsonl"},
            "iopfctl stats: opening store /nonexistent/s.jsonl: No such file or directory");
    CHECK_THROWS_AS(iopf::load_config("/etc/passwd/x"), iopf::Error);
    try {
        iopf::load_config("/nonexistent/iopfd.conf");
    } catch (const iopf::Error& e) {
        CHECK(e.err() == ENOENT);
        CHECK(std::string(e.what()) ==
              "opening config /nonexistent/iopfd.conf: No such file or directory");
    }
}

TEST_CASE("errors: bad lines in a record file", "[errors][cli]") {
    TempDir t;
    // the module's parser (record_text.h), with FILE:LINE in front
    failure({"inject", "--file", t.file("a", "1 2 3 4\n1 2 3 zz\n"), "--dry-run"},
            "iopfctl inject: " + (t.path / "a").string() + ":2: a word is not a hex number");
    failure({"inject", "--file", t.file("b", "1 2 3 00000000000000001\n"), "--dry-run"},
            "iopfctl inject: " + (t.path / "b").string() +
                ":1: a word is longer than 16 hex digits");
    failure({"inject", "--file", t.file("c", "\n\n1 2 3 4 5\n"), "--dry-run"},
            "iopfctl inject: " + (t.path / "c").string() + ":3: more than four words");
    failure({"inject", "--file", t.file("d", "1\t2\n"), "--dry-run"},
            "iopfctl inject: " + (t.path / "d").string() + ":1: fewer than four words");
    // comments and blank lines are the file format's, not the module's
    auto r = ctl({"inject", "--file", t.file("e", "# c\n\n1 2 3 4 # c\n"), "--dry-run"});
    CHECK(r.rc == 0);
    CHECK(r.out == "0x0000000000000001 0x0000000000000002 0x0000000000000003 0x0000000000000004\n");
}

// A directory or an empty file holds no record: an error, not "injected 0
// records" (and a zero-length write the module refuses)
TEST_CASE("errors: inject --file with no records", "[errors][cli]") {
    TempDir t;
    std::string dbg = t.path.string();
    t.file("inject", "");
    failure({"inject", "--file", t.file("empty", ""), "--debugfs", dbg},
            "iopfctl inject: " + (t.path / "empty").string() + ": no records");
    failure({"inject", "--file", t.file("blank", "\n# nothing\n"), "--debugfs", dbg},
            "iopfctl inject: " + (t.path / "blank").string() + ": no records");
    failure({"inject", "--file", t.file("blank2", "\n"), "--dry-run"},
            "iopfctl inject: " + (t.path / "blank2").string() + ": no records");
    failure({"inject", "--file", "/tmp", "--debugfs", dbg},
            "iopfctl inject: opening /tmp: Is a directory");
    failure({"replay", "/tmp", "--dry-run"}, "iopfctl replay: opening /tmp: Is a directory");
    // nothing was written
    CHECK(std::filesystem::file_size(t.path / "inject") == 0);
    // the library refuses an empty batch too
    CHECK_THROWS_AS(iopf::inject_records(dbg, {}), iopf::Error);
}

// A directory is an error for every reader, not an empty store or config
TEST_CASE("errors: a directory as store or config", "[errors][cli]") {
    failure({"faults", "--store", "/tmp"}, "iopfctl faults: opening store /tmp: Is a directory");
    failure({"stats", "--store", "/tmp"}, "iopfctl stats: opening store /tmp: Is a directory");
    try {
        iopf::load_config("/tmp");
        FAIL("accepted");
    } catch (const iopf::Error& e) {
        CHECK(e.err() == EISDIR);
        CHECK(std::string(e.what()) == "opening config /tmp: Is a directory");
    }
    CHECK_THROWS_AS(iopf::read_text_file("/tmp"), iopf::Error);
}

// The module takes at most 1 MiB per write: records go in writes of
// iopf::kInjectBatch, each at offset 0 (here a plain file, so the last
// write is what the file starts with)
TEST_CASE("inject: large counts in several writes", "[errors][cli]") {
    TempDir t;
    std::string dbg = t.path.string();
    t.file("inject", "");
    auto r = ctl({"inject", "--sid", "1", "--count", "3000", "--debugfs", dbg, "--verbose"});
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(r.out == "injected 3000 records\n3 writes to " + dbg + "/inject\n");
    std::ifstream in(t.path / "inject");
    std::string first;
    std::getline(in, first);
    // record 2048 opens the third write: STAG 0x800 (RnW), ADDR 2048 pages in
    CHECK(first == "0x0000000100000010 0x0000000800000800 0x0000000000800000 "
                   "0x0000000000000000");
    CHECK(std::filesystem::file_size(t.path / "inject") == iopf::kInjectBatch * 76);
    // 20000 records (1.5 MiB of text) would have been one refused write
    std::vector<iopf::Record> recs(20000, iopf::Record{1, 2, 3, 4});
    CHECK(iopf::inject_records(dbg, recs) == 20);
    // one record: one write; without --verbose, no count
    r = ctl({"inject", "--raw", "1", "2", "3", "4", "--debugfs", dbg, "-v"});
    CHECK(first_line(r.out) == "injected 0x0000000000000001 0x0000000000000002 "
                               "0x0000000000000003 0x0000000000000004");
    CHECK(r.out.ends_with("\n1 write to " + dbg + "/inject\n"));
    r = ctl({"inject", "--sid", "1", "--count", "2", "--debugfs", dbg});
    CHECK(r.out == "injected 2 records\n");
}

// ---- bad configuration lines (beyond test_config.cpp) --------------------

TEST_CASE("errors: bad configuration lines", "[errors][config]") {
    config_error("device 1 flags=\n", "t.conf:1: flags=: one of FLAT or NESTED is required");
    config_error("device 1 flags=flat,nested,l1\n",
                 "t.conf:1: flags=flat,nested,l1: FLAT and NESTED are mutually exclusive");
    config_error("device 1 flags=flat,bogus\n",
                 "t.conf:1: unknown flag 'bogus' (expected flat, nested, l1, l2, unrecov)");
    config_error("device 1 flags=flat l1=\n",
                 "t.conf:1: unknown response code '' (expected success, invalid, failure)");
    config_error("device 1 flags=flat l1=success,,delay_ms=1\n",
                 "t.conf:1: 'success,,delay_ms=1': unknown action option ''");
    config_error("device 1 flags=flat l1=success,delay_ms=3600001\n",
                 "t.conf:1: delay_ms: 3600001 is out of range (max 3600000)");
    config_error("device 1 flags=flat l1=success,delay_ms=-1\n",
                 "t.conf:1: delay_ms: '-1' is not a number");
    config_error("default l1=pending,delay_ms=1\n",
                 "t.conf:1: 'pending,delay_ms=1': pending takes no options");
    config_error("device 1 flags=flat =x\n", "t.conf:1: expected key=value, got '=x'");
    config_error("device -1 flags=flat\n", "t.conf:1: StreamID: '-1' is not a number");
    config_error("DEVICE 1 flags=flat\n", "t.conf:1: unknown keyword 'DEVICE'");
    config_error("store a b\n", "t.conf:1: store takes one path");
    config_error("rcvbuf\n", "t.conf:1: rcvbuf takes one size");
    config_error("rcvbuf -1\n",
                 "t.conf:1: size: '-1' is not a size (a number, optionally K, M or G)");
    config_error("rcvbuf 3G\n", "t.conf:1: size: 3G is too large (at most 2147483647 bytes, 2G-1)");
    config_error("rcvbuf 0\n", "t.conf:1: size: 0 is too small (at least 1 byte)");
    // the line number counts blank and comment lines
    config_error("# c\n\n   \ndevice 1 flags=flat\nbogus\n", "t.conf:5: unknown keyword 'bogus'");
    // what is accepted: CRLF line ends, flag names in any case, comments
    auto c = parse("device 1 flags=FLAT,Unrecov\r\ndevice 2 flags=nested,l2 # x\r\n");
    REQUIRE(c.devices.size() == 2);
    CHECK(c.devices[0].flags == 0x11u);
    CHECK(c.devices[1].flags == 0xau);
}

// A setting given twice is an error naming the second line, not "the last
// one counts"
TEST_CASE("errors: a setting given twice", "[errors][config]") {
    config_error("device 3 flags=flat flags=nested,l1\n", "t.conf:1: flags= given twice");
    config_error("device 3 flags=flat l1=success l1=invalid\n", "t.conf:1: l1= given twice");
    config_error("device 3 flags=nested,l2 l2=success l2=success\n", "t.conf:1: l2= given twice");
    config_error("default l1=success l1=invalid\n", "t.conf:1: default l1= given twice");
    // defaults apply to the whole file: twice on two lines too
    config_error("default l2=success\ndevice 1 flags=flat\ndefault l1=failure l2=invalid\n",
                 "t.conf:3: default l2= given twice");
    config_error("store /a\n# c\nstore /b\n", "t.conf:3: store given twice");
    config_error("rcvbuf 1M\nrcvbuf 1M\n", "t.conf:2: rcvbuf given twice");
    // l1 and l2 on separate default lines are one each
    auto c = parse("default l1=failure\ndevice 1 flags=flat\ndefault l2=invalid\n");
    CHECK(c.devices[0].l1.code == IOPF_RESP_FAILURE);
    CHECK(c.devices[0].l2.code == IOPF_RESP_INVALID);
}

// ---- the programs: exit status and the one line ---------------------------

TEST_CASE("errors: iopfd and iopfctl exit with one line", "[errors][iopfd][cli]") {
    std::string iopfd = program("iopfd", "iopfd"), iopfctl = program("iopfctl", "iopfctl");
    if (iopfd.empty() || iopfctl.empty()) {
        WARN("iopfd/iopfctl not found next to the test binary: skipped");
        return;
    }
    TempDir t;
    // a configuration error has its own status (78, EX_CONFIG: not restarted)
    auto r = spawn(iopfd, {"-c", "/nonexistent/iopfd.conf"});
    CHECK(r.rc == 78);
    CHECK(r.err == "iopfd: opening config /nonexistent/iopfd.conf: No such file or directory\n");
    r = spawn(iopfd, {"-c", t.file("bad.conf", "device 1 flags=flat\nbogus\n")});
    CHECK(r.rc == 78);
    CHECK(r.err == "iopfd: " + (t.path / "bad.conf").string() + ":2: unknown keyword 'bogus'\n");
    r = spawn(iopfd, {});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfd: --config is required");
    r = spawn(iopfd, {"-c", "x", "--poll-ms", "0"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfd: --poll-ms must be positive");
    r = spawn(iopfd,
              {"-c", t.file("ok.conf", "device 1 flags=flat\n"), "--store", "/nonexistent/s"});
    CHECK(r.rc == 1);
    CHECK(r.err == "iopfd: opening store /nonexistent/s: No such file or directory\n");
    r = spawn(iopfctl, {"frobnicate"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err).starts_with("iopfctl: unknown command 'frobnicate' (expected dev, "));
    r = spawn(iopfctl, {"dev", "add", "0x"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfctl dev: SID: '0x' is not a number");
    r = spawn(iopfctl, {});
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
}
