// SPDX-License-Identifier: GPL-2.0
// Loss accounting: SEQ gap detection and the summary built from the store.
#include <catch2/catch.hpp>

#include "iopf/seq_tracker.hpp"
#include "iopf/summary.hpp"

using namespace iopf;

TEST_CASE("seq: in-order faults have no gaps", "[loss]") {
    SeqTracker t;
    CHECK(t.feed(5) == 0); // a late listener: the first seq is the baseline
    CHECK(t.feed(6) == 0);
    CHECK(t.feed(7) == 0);
    CHECK(*t.last() == 7);
}

TEST_CASE("seq: gaps are counted, duplicates are not", "[loss]") {
    SeqTracker t;
    t.restart(); // fresh module: SEQ starts at 1
    CHECK(t.feed(3) == 2);
    CHECK(t.feed(4) == 0);
    CHECK(t.feed(10) == 5);
    CHECK(t.feed(9) == 0); // late/duplicate: not a gap, no rewind
    CHECK(*t.last() == 10);
    CHECK(t.feed(11) == 0);
    t.reset();
    CHECK_FALSE(t.last());
    CHECK(t.feed(100) == 0);
}

TEST_CASE("summary: counts faults, responses and loss from store lines", "[loss]") {
    Summary s;
    auto line = [](const char* text) { return Json::parse(text); };
    s.add_store_line(line(
        R"({"kind":"fault","seq":1,"sid":16,"event_id":16,"event":"F_TRANSLATION","handled":true,"type":"page_req","level":"L2","flags":["last_page","l2"],"pasid":null,"grpid":3,"perm":["read"],"addr":"0x1000","reason":null})"));
    s.add_store_line(line(
        R"({"kind":"fault","seq":2,"sid":16,"event_id":19,"event":"F_PERMISSION","handled":true,"type":"unrecov","level":"L1","flags":["addr_valid"],"pasid":null,"grpid":null,"perm":["write"],"addr":"0x2000","reason":"permission","resynced":true})"));
    s.add_store_line(line(R"({"kind":"response","ok":true,"code":"success"})"));
    s.add_store_line(line(R"({"kind":"response","ok":false,"code":"invalid"})"));
    s.add_store_line(line(R"({"kind":"resume","seq":1})"));
    s.add_store_line(line(R"({"kind":"loss","what":"overflow"})"));
    s.add_store_line(line(R"({"kind":"loss","what":"gap","seq":9,"missing":4})"));
    s.add_store_line(line(R"({"kind":"fault","sid":"bad"})"));
    s.add_store_line(line(R"({"no":"kind"})"));
    s.add_store_line(line(R"({"kind":"daemon","event":"start"})"));
    CHECK(s.faults == 2);
    CHECK(s.resynced == 1);
    CHECK(s.devices[16].page_req == 1);
    CHECK(s.devices[16].unrecov == 1);
    CHECK(s.devices[16].l1 == 1);
    CHECK(s.devices[16].l2 == 1);
    CHECK(s.events["F_PERMISSION"] == 1);
    CHECK(s.responses["success"] == 1);
    CHECK(s.response_errors == 1);
    CHECK(s.resumes == 1);
    CHECK(s.overflows == 1);
    CHECK(s.gap_events == 1);
    CHECK(s.missing == 4);
    CHECK(s.malformed == 2);
    Json j = s.to_json();
    CHECK(j.at("loss").at("missing").as_u64() == 4);
    CHECK(s.to_text().find("1 overflows (ENOBUFS), 1 seq gaps covering 4 faults") !=
          std::string::npos);
    s.add_store_line(line(R"({"kind":"loss","what":"resume_gap","seq":3,"missing":2})"));
    CHECK(s.resume_missing == 2);
    CHECK(s.malformed == 2);
}
