// SPDX-License-Identifier: GPL-2.0
// Issue 10's conventions for iopfctl and iopfd: --version, global -j/-p,
// prefixes and aliases, one SID syntax, flags by name or number, our own
// wording, failing stdout, examples in --help; iopfd's exit codes,
// --check-config, bounded --rcvbuf, journal severities, the store lock and
// sd_notify readiness. Nothing here needs the module.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.hpp"
#include "temp_dir.hpp"
#include "commands.hpp"
#include "iopf/cli.hpp"
#include "iopf/config.hpp"
#include "iopf/error.hpp"
#include "iopf/json.hpp"
#include "iopf/names.hpp"
#include "log.hpp"
#include "options.hpp"
#include "output.hpp"
#include "store_lock.hpp"

extern char** environ;

using iopfctl::Args;

namespace {

using iopf_test::ctl;
using iopf_test::first_line;
using iopf_test::Run;

using iopf_test::TempDir;

// A program of the host build (userspace/DIR/NAME above this binary).
std::string program(const char* dir, const char* name) {
    std::error_code ec;
    auto self = std::filesystem::canonical("/proc/self/exe", ec);
    for (auto p = self.parent_path(); !ec && p.has_relative_path(); p = p.parent_path()) {
        auto cand = p / "userspace" / dir / name;
        if (std::filesystem::exists(cand))
            return cand.string();
    }
    return {};
}

// Starts PROG ARGS with stdout/stderr to files in `t` and extra environment.
pid_t start(const TempDir& t, const std::string& tag, const std::string& prog,
            std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::string out = (t.path / (tag + ".out")).string(), err = (t.path / (tag + ".err")).string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    args.insert(args.begin(), prog);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs(env);
    for (char** e = environ; *e; e++)
        envs.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : envs)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, prog.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    return pid;
}

// Waits (10 s at most, then SIGKILL) for the exit status.
int finish(pid_t pid) {
    for (int i = 0; i < 1000; i++) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL("did not exit within 10 s");
    return -1;
}

Run run_prog(const std::string& prog, const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}) {
    TempDir t;
    int rc = finish(start(t, "p", prog, args, env));
    return {rc, t.slurp("p.out"), t.slurp("p.err")};
}

const char* const kRecord[] = {"0x1000005810", "0x8080000003", "0xdead000", "0x80001000"};

} // namespace

// ---- iopfctl ----------------------------------------------------------------

TEST_CASE("conventions: --version from the project's version", "[cli][conventions]") {
    for (const char* v : {"--version", "-V"}) {
        auto r = ctl({v});
        CHECK(r.rc == 0);
        CHECK(r.out == std::string("iopfctl ") + IOPF_VERSION + "\n");
    }
    CHECK(std::string(iopfctl::version()) == IOPF_VERSION);
    std::ostringstream out;
    CHECK_FALSE(iopfd::parse_options({"--version"}, out));
    CHECK(out.str() == std::string("iopfd ") + IOPF_VERSION + "\n");
}

TEST_CASE("conventions: global -j and -p before the command", "[cli][conventions]") {
    Args dec = {"decode", kRecord[0], kRecord[1], kRecord[2], kRecord[3]};
    auto plain = ctl(dec);
    REQUIRE(plain.rc == 0);
    CHECK(plain.out.find("FIELD") == 0);
    Args j = dec;
    j.insert(j.begin(), "-j");
    auto rj = ctl(j);
    REQUIRE(rj.rc == 0);
    CHECK(iopf::Json::parse(rj.out).at("level").as_string() == "L2");
    // the command's own --json still works, and says the same
    Args local = dec;
    local.push_back("--json");
    CHECK(ctl(local).out == rj.out);
    Args p = dec;
    p.insert(p.begin(), "--pretty");
    auto rp = ctl(p);
    REQUIRE(rp.rc == 0);
    CHECK(rp.out.find("{\n  \"seq\": null,\n") == 0);
    CHECK(iopf::Json::parse(rp.out).dump() + "\n" == rj.out);
    auto bad = ctl({"-x", "decode"});
    CHECK(bad.rc == 2);
    CHECK(first_line(bad.err) == "iopfctl: unknown option '-x'");
}

TEST_CASE("conventions: pretty JSON keeps strings intact", "[cli][conventions]") {
    CHECK(iopfctl::pretty_json(R"({"a":[1,2],"b":{},"c":"x,{:}\"]"})") ==
          "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": \"x,{:}\\\"]\"\n}");
}

TEST_CASE("conventions: prefixes and aliases", "[cli][conventions]") {
    auto r = ctl({"dec", kRecord[0], kRecord[1], kRecord[2], kRecord[3]});
    CHECK(r.rc == 0);
    r = ctl({"d"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfctl: ambiguous command 'd' (could be dev, decode)");
    r = ctl({"frob"});
    CHECK(first_line(r.err) == "iopfctl: unknown command 'frob' (expected dev, flags, inject, "
                               "replay, respond, watch, faults, stats, decode, script, map, "
                               "unmap, maps, ttb, access, accesses, scenario)");
    // a subcommand alias or prefix reaches the subcommand: here its usage error
    for (Args a : {Args{"dev", "delete"}, Args{"dev", "de"}, Args{"dev", "a"}, Args{"flags", "sh"},
                   Args{"flags", "show"}, Args{"flags", "unregister"}, Args{"flags", "del"},
                   Args{"fl", "cl"}}) {
        r = ctl(a);
        INFO(a[0] << " " << a[1] << ": " << r.err);
        CHECK(r.rc == 2);
        CHECK(first_line(r.err).ends_with(": missing SID"));
    }
    r = ctl({"dev", "frob"});
    CHECK(first_line(r.err) ==
          "iopfctl dev: unknown subcommand 'frob' (expected add, del, set, list)");
    // long options by unambiguous prefix; an ambiguous one in our words
    r = ctl({"inject", "1", "--dry", "--wr"});
    CHECK(r.rc == 0);
    CHECK(r.out == // --write: RnW clear
          "0x0000000100000010 0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    r = ctl({"inject", "1", "--st", "--dry-run"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) ==
          "iopfctl inject: ambiguous option '--st' (could be --stag, --stall)");
}

TEST_CASE("conventions: one SID syntax, --sid accepted", "[cli][conventions]") {
    auto a = ctl({"inject", "0x10", "--stall", "--dry-run"});
    auto b = ctl({"inject", "--sid", "0x10", "--stall", "--dry-run"});
    REQUIRE(a.rc == 0);
    CHECK(a.out == b.out);
    auto r = ctl({"inject", "0x10", "--sid", "0x11", "--dry-run"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfctl inject: --sid given twice");
    r = ctl({"respond", "--grpid", "1", "--code", "success"});
    CHECK(first_line(r.err) == "iopfctl respond: missing SID");
    r = ctl({"respond", "x", "--grpid", "1", "--code", "success"});
    CHECK(first_line(r.err) == "iopfctl respond: SID: 'x' is not a number");
    r = ctl({"flags", "get", "--sid", "x"});
    CHECK(first_line(r.err) == "iopfctl flags: SID: 'x' is not a number");
    r = ctl({"dev", "add", "--sid", "x"});
    CHECK(first_line(r.err) == "iopfctl dev: SID: 'x' is not a number");
    TempDir t;
    std::string store = t.file(
        "s.jsonl",
        R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x80001000","reason":null,"action":"success","resynced":false})"
        "\n"
        R"({"kind":"fault","seq":2,"sid":17,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x80001000","reason":null,"action":"success","resynced":false})"
        "\n");
    r = ctl({"-j", "faults", "0x11", "--store", store});
    CHECK(r.rc == 0);
    CHECK(iopf::Json::parse(r.out).at("seq").as_u64() == 2);
}

TEST_CASE("conventions: flags by name or number", "[cli][conventions]") {
    CHECK(iopf::parse_report_flags("0xe") == 0xe);
    CHECK(iopf::parse_report_flags("10") == 0xa);
    CHECK(iopf::parse_report_flags("nested,l2") == 0xa);
    CHECK_THROWS_WITH(iopf::parse_report_flags("0x20"),
                      "0x20 has unknown reporting flags (known: 0x1f)");
    CHECK(iopf::parse_report_mask("0xffffffff") == 0xffffffffu);
    CHECK(iopf::parse_report_mask("flat,nested") == 0x3);
    auto by_name =
        ctl({"decode", kRecord[0], kRecord[1], kRecord[2], kRecord[3], "--flags", "nested,l1"});
    auto by_number =
        ctl({"decode", kRecord[0], kRecord[1], kRecord[2], kRecord[3], "--flags", "0x6"});
    CHECK(by_name.rc == 0);
    CHECK(by_name.out == by_number.out);
    auto r = ctl({"flags", "set", "1", "--flags", "0x3"});
    CHECK(first_line(r.err) == "iopfctl flags: FLAT and NESTED are mutually exclusive");
    r = ctl({"flags", "update", "1", "--set", "flat,bogus"});
    CHECK(first_line(r.err) ==
          "iopfctl flags: --set: unknown flag 'bogus' (expected flat, nested, l1, l2, unrecov)");
    r = ctl({"flags", "update", "1", "--mask", "nested", "--set", "0x40"});
    CHECK(first_line(r.err) ==
          "iopfctl flags: --set: 0x40 has unknown reporting flags (known: 0x1f)");
}

TEST_CASE("conventions: decimal ranges for counts and times", "[cli][conventions]") {
    CHECK_THROWS_WITH(iopf::parse_count("11", 10, "n"), "n: 11 is out of range (max 10)");
    CHECK_THROWS_WITH(iopf::parse_uint("0x11", 0x10, "id"), "id: 0x11 is out of range (max 0x10)");
    auto r = ctl({"respond", "1", "--grpid", "65536", "--code", "success"});
    CHECK(first_line(r.err) == "iopfctl respond: --grpid: 65536 is out of range (max 65535)");
    r = ctl({"inject", "1", "--count", "0x1000000", "--dry-run"});
    CHECK(first_line(r.err) == "iopfctl inject: --count: 0x1000000 is out of range (max 1000000)");
}

TEST_CASE("conventions: an example in every --help", "[cli][conventions]") {
    for (const auto& c : iopfctl::commands()) {
        auto r = ctl({c.name, "--help"});
        INFO(c.name);
        CHECK(r.rc == 0);
        CHECK(r.out.find("\nexample: ") != std::string::npos);
    }
    CHECK(ctl({"--help"}).out.find("\nexample: iopfctl ") != std::string::npos);
    std::ostringstream out;
    CHECK_FALSE(iopfd::parse_options({"--help"}, out));
    CHECK(out.str().find("\nexample: iopfd ") != std::string::npos);
}

TEST_CASE("conventions: a failed write to stdout fails", "[cli][conventions]") {
    std::ostream broken(nullptr); // every write fails
    std::ostringstream err;
    iopfctl::Io io{broken, err};
    int rc = iopfctl::run({"decode", kRecord[0], kRecord[1], kRecord[2], kRecord[3]}, io);
    CHECK(rc == 1);
    CHECK(err.str().starts_with("iopfctl: writing output: "));
    std::string iopfctl = program("iopfctl", "iopfctl");
    if (iopfctl.empty() || !std::filesystem::exists("/dev/full")) {
        WARN("iopfctl or /dev/full missing: the program is not checked");
        return;
    }
    int st = std::system(("'" + iopfctl + "' decode 1 2 3 4 >/dev/full 2>/dev/null").c_str());
    CHECK(WEXITSTATUS(st) == 1);
    st = std::system(("'" + iopfctl + "' --version >/dev/full 2>/dev/null").c_str());
    CHECK(WEXITSTATUS(st) == 1);
}

// ---- iopfd ------------------------------------------------------------------

TEST_CASE("iopfd: --rcvbuf is an int-sized byte count", "[iopfd][conventions]") {
    std::ostringstream out;
    CHECK(*iopfd::parse_options({"-c", "x", "--rcvbuf", "16M"}, out)->rcvbuf == 16u << 20);
    CHECK(*iopfd::parse_options({"-c", "x", "--rcvbuf", "2047M"}, out)->rcvbuf == 2047u << 20);
    CHECK(*iopfd::parse_options({"-c", "x", "--rcvbuf", "2147483647"}, out)->rcvbuf ==
          iopf::kMaxSize);
    for (const char* bad : {"0", "2G", "2147483648", "99999999999999999999", "-1", "1T"}) {
        INFO(bad);
        CHECK_THROWS_AS(iopfd::parse_options({"-c", "x", "--rcvbuf", bad}, out),
                        std::invalid_argument);
    }
    CHECK_THROWS_WITH(iopfd::parse_options({"-c", "x", "--rcvbuf", "0"}, out),
                      "--rcvbuf: size: 0 is too small (at least 1 byte)");
}

TEST_CASE("iopfd: severities for the journal", "[iopfd][conventions]") {
    using iopfd::Severity;
    CHECK(iopfd::format_log_line(Severity::warning, "lost", true) == "<4>lost\n");
    CHECK(iopfd::format_log_line(Severity::err, "x", true) == "<3>x\n");
    CHECK(iopfd::format_log_line(Severity::debug, "x", true) == "<7>x\n");
    CHECK(iopfd::format_log_line(Severity::warning, "lost", false) == "iopfd: lost\n");
    struct stat st {};
    REQUIRE(fstat(2, &st) == 0);
    std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    CHECK(iopfd::stderr_is_journal(mine.c_str()));
    CHECK_FALSE(iopfd::stderr_is_journal(nullptr));
    CHECK_FALSE(iopfd::stderr_is_journal("garbage"));
    CHECK_FALSE(iopfd::stderr_is_journal(
        (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str()));
}

TEST_CASE("iopfd: the store lock", "[iopfd][conventions]") {
    TempDir t;
    std::string store = (t.path / "faults.jsonl").string();
    {
        iopfd::StoreLock a(store);
        CHECK(std::filesystem::exists(store));
        try {
            iopfd::StoreLock b(store);
            FAIL("locked twice");
        } catch (const std::runtime_error& e) {
            CHECK(std::string(e.what()) == "store " + store +
                                               " is in use by another iopfd (stop it, or give "
                                               "this one another store)");
        }
    }
    iopfd::StoreLock again(store); // released with its holder
    CHECK_THROWS_AS(iopfd::StoreLock("/nonexistent/x"), iopf::Error);
}

TEST_CASE("iopfd: --check-config and the config exit status", "[iopfd][conventions]") {
    std::string iopfd = program("iopfd", "iopfd");
    if (iopfd.empty()) {
        WARN("iopfd not found next to the test binary: skipped");
        return;
    }
    TempDir t;
    std::string good = t.file("good.conf", "store /var/lib/x.jsonl\ndevice 0x10 flags=0xe\n");
    auto r = run_prog(iopfd, {"-c", good, "--check-config"});
    CHECK(r.rc == 0);
    CHECK(r.out == good + ": OK, 1 device(s)\nstore /var/lib/x.jsonl (config)\n"
                          "rcvbuf 16777216 (default)\n"
                          "device 0x10 flags=nested,l1,l2 l1=success l2=success\n");
    r = run_prog(iopfd, {"-c", good, "--check-config", "--store", "/tmp/y", "--rcvbuf", "1M"});
    CHECK(r.rc == 0);
    CHECK(r.out.find("store /tmp/y (--store/--rcvbuf)\n  (the configuration's store "
                     "/var/lib/x.jsonl is overridden)\nrcvbuf 1048576 (--store/--rcvbuf)\n") !=
          std::string::npos);
    r = run_prog(iopfd,
                 {"-c", t.file("bad.conf", "device 1 flags=flat,nested\n"), "--check-config"});
    CHECK(r.rc == 78);
    CHECK(r.err == "iopfd: " + (t.path / "bad.conf").string() +
                       ":1: flags=flat,nested: FLAT and NESTED are mutually exclusive\n");
    CHECK(r.out.empty());
    r = run_prog(iopfd, {"-c", good, "--check-config"}, {"JOURNAL_STREAM=1:1"});
    CHECK(r.rc == 0);
    r = run_prog(iopfd, {"-c", good, "--bogus"});
    CHECK(r.rc == 2);
    CHECK(first_line(r.err) == "iopfd: unknown option '--bogus'");
}

TEST_CASE("iopfd: --check-config shows stage modes and map policies", "[iopfd][stages]") {
    std::string iopfd = program("iopfd", "iopfd");
    if (iopfd.empty()) {
        WARN("iopfd not found next to the test binary: skipped");
        return;
    }
    TempDir t;
    std::string conf = t.file("stages.conf", "device 0x50 flags=nested,l1,l2 stage=nested "
                                             "l1=map,base=0x80000000 l2=map,window=8,perm=rwx\n"
                                             "device 0x53 flags=nested,l1 l1=refuse\n");
    auto r = run_prog(iopfd, {"-c", conf, "--check-config"});
    CHECK(r.rc == 0);
    CHECK(r.out.find("device 0x50 flags=nested,l1,l2 stage=nested l1=map,base=0x80000000 "
                     "l2=map,window=8,perm=rwx\n"
                     "device 0x53 flags=nested,l1 l1=refuse l2=success\n") != std::string::npos);
    r = run_prog(iopfd,
                 {"-c", t.file("bad.conf", "device 1 flags=flat l2=refuse\n"), "--check-config"});
    CHECK(r.rc == 78);
    CHECK(r.err.find("bad.conf:1: l2=refuse: refuse is the guest's answer (l1= only)") !=
          std::string::npos);
}

// The daemon runs on the host too (it waits for the module): READY=1 through
// NOTIFY_SOCKET, then a second daemon on the same store refuses to start.
TEST_CASE("iopfd: sd_notify readiness and one daemon per store", "[iopfd][conventions]") {
    std::string iopfd = program("iopfd", "iopfd");
    if (iopfd.empty()) {
        WARN("iopfd not found next to the test binary: skipped");
        return;
    }
    TempDir t;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string sock = (t.path / "notify").string();
    REQUIRE(sock.size() < sizeof(sa.sun_path));
    std::strcpy(sa.sun_path, sock.c_str());
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);

    std::string conf = t.file("iopfd.conf", "device 0x10 flags=flat\n");
    std::string store = (t.path / "faults.jsonl").string();
    pid_t first = start(t, "first", iopfd, {"-c", conf, "--store", store, "--rcvbuf", "64K"},
                        {"NOTIFY_SOCKET=" + sock});
    std::string got;
    for (int i = 0; i < 100 && got.find("READY=1") == std::string::npos; i++) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            char buf[512];
            ssize_t n = recv(s, buf, sizeof(buf), 0);
            if (n > 0)
                got += std::string(buf, static_cast<std::size_t>(n)) + "\n";
        }
    }
    close(s);
    INFO(t.slurp("first.err"));
    CHECK(got.find("READY=1") != std::string::npos);
    CHECK(got.find("STATUS=") != std::string::npos);

    auto second = run_prog(iopfd, {"-c", conf, "--store", store});
    CHECK(second.rc == 1);
    CHECK(second.err == "iopfd: store " + store +
                            " is in use by another iopfd (stop it, or give this one another "
                            "store)\n");

    kill(first, SIGTERM);
    CHECK(finish(first) == 0);
    // the store is free again
    second = run_prog(iopfd, {"-c", conf, "--store", store, "--check-config"});
    CHECK(second.rc == 0);
}
