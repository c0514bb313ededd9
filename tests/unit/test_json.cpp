// SPDX-License-Identifier: GPL-2.0
// The JSON shape of faults and resumes, and the small JSON codec.
#include <limits>

#include <catch2/catch.hpp>

#include "../common/fault_cases.h"
#include "iopf/decode.hpp"
#include "iopf/error.hpp"
#include "iopf/fault_json.hpp"
#include "iopf/json.hpp"

using namespace iopf;

namespace {
std::vector<std::string> keys(const Json& j) {
    std::vector<std::string> k;
    for (const auto& [name, v] : j.as_object())
        k.push_back(name);
    return k;
}

const std::vector<std::string> kFaultKeys = {"seq",  "sid",   "event_id", "event", "handled",
                                             "type", "level", "flags",    "pasid", "grpid",
                                             "perm", "addr",  "reason"};
} // namespace

TEST_CASE("json: a page request has exactly the documented keys", "[json]") {
    Fault f = decode_record({0x0000001000005810ULL, 0x0000008080000003ULL, 0xdead000, 0x80001000});
    f.seq = 42;
    Json j = fault_to_json(f);
    CHECK(keys(j) == kFaultKeys);
    CHECK(j.dump() ==
          R"({"seq":42,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,)"
          R"("type":"page_req","level":"L2","flags":["pasid_valid","last_page","l2"],"pasid":5,)"
          R"("grpid":3,"perm":["write"],"addr":"0x80001000","reason":null})");
}

TEST_CASE("json: an unrecoverable fault, with delivery for given flags", "[json]") {
    // F_PERMISSION, no stall, RnW|InD|PnU, no SSV
    Fault f = decode_record({0x0000000700000013ULL, 0x0000000e00000000ULL, 0x4000, 0});
    Json j = fault_to_json(f, {.report_flags = IOPF_REPORT_FLAT});
    auto k = kFaultKeys;
    k.push_back("delivered");
    k.push_back("verdict");
    CHECK(keys(j) == k);
    CHECK(j.at("seq").is_null());
    CHECK(j.at("type").as_string() == "unrecov");
    CHECK(j.at("level").as_string() == "L1");
    CHECK(j.at("pasid").is_null());
    CHECK(j.at("grpid").is_null());
    CHECK(j.at("reason").as_string() == "permission");
    CHECK(j.at("perm").dump() == R"(["read","exec","priv"])");
    CHECK(j.at("flags").dump() == R"(["addr_valid"])");
    CHECK_FALSE(j.at("delivered").as_bool());
    CHECK(j.at("verdict").as_string() == "filter_unrecov");

    j = fault_to_json(f, {.report_flags = IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV});
    CHECK(j.at("delivered").as_bool());
}

TEST_CASE("json: unhandled events", "[json]") {
    Fault f = decode_record({0x0000000900000002ULL, 0, 0, 0});
    Json j = fault_to_json(f, {.report_flags = IOPF_REPORT_FLAT});
    CHECK(j.at("event").as_string() == "C_BAD_STREAMID");
    CHECK_FALSE(j.at("handled").as_bool());
    CHECK(j.at("sid").as_u64() == 9);
    for (const char* k : {"type", "level", "flags", "pasid", "grpid", "perm", "addr", "reason",
                          "delivered", "verdict"})
        CHECK(j.at(k).is_null());
}

TEST_CASE("json: extras and the round trip over the shared case table", "[json]") {
    for (const auto& c : iopf_fault_cases) {
        INFO(c.name);
        Record r{c.evt[0], c.evt[1], c.evt[2], c.evt[3]};
        Fault f = decode_record(r);
        f.seq = 7;
        f.dev_seq = 3;
        f.timestamp_ns = 1ULL << 63;
        Json j = fault_to_json(f, {.report_flags = std::nullopt, .extra = true});
        Json back_j = Json::parse(j.dump());
        CHECK(back_j == j);
        Fault g = fault_from_json(back_j);
        CHECK(g.seq == f.seq);
        CHECK(g.dev_seq == f.dev_seq);
        CHECK(g.timestamp_ns == f.timestamp_ns);
        CHECK(g.sid == f.sid);
        CHECK(g.event_id == f.event_id);
        CHECK(g.handled == f.handled);
        CHECK(g.record == f.record);
        REQUIRE(g.fault.has_value() == f.fault.has_value());
        if (f.fault) {
            const iopf_model_fault &a = *g.fault, &b = *f.fault;
            CHECK(a.type == b.type);
            CHECK(a.event_id == b.event_id);
            CHECK(a.level == b.level);
            CHECK(a.sid == b.sid);
            CHECK(a.flags == b.flags);
            CHECK(a.pasid == b.pasid);
            CHECK(a.grpid == b.grpid);
            CHECK(a.perm == b.perm);
            CHECK(a.reason == b.reason);
            CHECK(a.addr == b.addr);
        }
    }
}

TEST_CASE("json: fault_from_json rejects wrong shapes", "[json]") {
    Fault f = decode_record({0x0000001000005810ULL, 0x0000008080000003ULL, 0xdead000, 0x80001000});
    Json good = fault_to_json(f);
    auto broken = [&](const char* key, Json v) {
        Json j = good;
        j.set(key, std::move(v));
        return j;
    };
    CHECK_THROWS_AS(fault_from_json(broken("sid", "16")), ParseError);
    CHECK_THROWS_AS(fault_from_json(broken("sid", uint64_t{1} << 32)), ParseError);
    CHECK_THROWS_AS(fault_from_json(broken("type", "weird")), ParseError);
    CHECK_THROWS_AS(fault_from_json(broken("level", "L7")), ParseError);
    CHECK_NOTHROW(fault_from_json(broken("perm", Json::array())));
    CHECK_THROWS_AS(fault_from_json(broken("perm", Json(Json::Array{Json("fly")}))), ParseError);
}

TEST_CASE("json: resumes", "[json]") {
    Resume r;
    r.seq = 2;
    r.sid = 0x10;
    r.stag = 3;
    r.resp = IOPF_RESUME_ABORT;
    r.code = IOPF_RESP_INVALID;
    r.origin = IOPF_ORIGIN_FLUSH;
    r.cmd = {0x0000001000002044ULL, 3};
    Json j = resume_to_json(r);
    CHECK(j.dump() == R"({"seq":2,"sid":16,"stag":3,"resp":"ABORT","code":"invalid",)"
                      R"("origin":"flush","cmd":["0x0000001000002044","0x0000000000000003"]})");
    Resume b = resume_from_json(Json::parse(j.dump()));
    CHECK(b.cmd == r.cmd);
    CHECK(b.origin == r.origin);
    CHECK(b.resp == r.resp);
}

TEST_CASE("json: codec", "[json]") {
    Json j = Json::parse(R"( {"a": [1, -2, 3.5, true, null, "x\"\\\n\u00e9"], "b": {}} )");
    CHECK(j.at("a").as_array().size() == 6);
    CHECK(j.at("a").as_array()[1].as_i64() == -2);
    CHECK(j.at("a").as_array()[5].as_string() == "x\"\\\n\xc3\xa9");
    CHECK(j.at("b").as_object().empty());
    CHECK(Json::parse(j.dump()) == j);
    CHECK(Json::parse("18446744073709551615").as_u64() == UINT64_MAX);
    CHECK(Json(std::string("\x01")).dump() == "\"\\u0001\"");
    for (const char* bad :
         {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "1 2", "{1:2}", "\"\\x\"", "-"}) {
        INFO(bad);
        CHECK_THROWS_AS(Json::parse(bad), ParseError);
    }
    CHECK_THROWS_AS(Json::parse("-1").as_u64(), ParseError);
    CHECK_THROWS_AS(Json::parse("{}").at("x"), ParseError);
}

// The codec is nlohmann-json's now: what the old hand-written one wrote
// (the store's lines on disk) must read back and be written byte for byte.
TEST_CASE("json: the store's lines are unchanged", "[json]") {
    for (
        const char* line :
        {R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":1,"perm":["read"],"addr":"0x80001000","reason":null,"dev_seq":1,"timestamp_ns":123456789,"record":["0x0000001000000010","0x0000008080000001","0x0000000000001000","0x0000000080001000"],"action":"success","resynced":false})",
         R"({"kind":"loss","what":"gap","first":3,"missing":2,"recovered":0})",
         R"({"kind":"daemon","event":"start","pid":42,"config":"/etc/iopfd.conf","note":"tab\tquote\"back\\slash\u001f é"})"}) {
        INFO(line);
        CHECK(Json::parse(line).dump() == line);
    }
}

TEST_CASE("json: invalid text is impossible", "[json]") {
    // Bytes that are not UTF-8 (a path from the command line) become U+FFFD
    Json j = Json::object();
    j.set("store", std::string("/var/lib/\xff\xfe/faults\x80.jsonl"));
    j.set("cut", std::string("caf\xc3")); // a multi-byte sequence cut short
    const std::string out = j.dump();
    CHECK(out == "{\"store\":\"/var/lib/\xef\xbf\xbd\xef\xbf\xbd/faults\xef\xbf\xbd.jsonl\","
                 "\"cut\":\"caf\xef\xbf\xbd\"}");
    CHECK_NOTHROW(Json::parse(out));
    // ... and reading refuses what is not UTF-8, or nested beyond reason
    CHECK_THROWS_AS(Json::parse("\"\xff\""), ParseError);
    CHECK_THROWS_AS(Json::parse(std::string(100, '[') + std::string(100, ']')), ParseError);
    CHECK_NOTHROW(Json::parse(std::string(60, '[') + std::string(60, ']')));
    // NaN and infinities have no JSON spelling
    CHECK(Json(std::numeric_limits<double>::quiet_NaN()).dump() == "null");
}
