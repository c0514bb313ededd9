// SPDX-License-Identifier: GPL-2.0
#include "iopf/names.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include <iopf_testbed/record_text.h>

#include <fmt/core.h>

#include "iopf/error.hpp"
#include "iopf/types.hpp"

namespace iopf {

namespace {

struct Bit {
    uint32_t bit;
    const char* name;
};

constexpr std::array<Bit, 5> kReportBits{{{IOPF_REPORT_FLAT, "flat"},
                                          {IOPF_REPORT_NESTED, "nested"},
                                          {IOPF_REPORT_NESTED_L1_CONCERNED, "l1"},
                                          {IOPF_REPORT_NESTED_L2_CONCERNED, "l2"},
                                          {IOPF_REPORT_UNRECOV, "unrecov"}}};

constexpr std::array<Bit, 5> kPrqBits{{{IOPF_PRQ_PASID_VALID, "pasid_valid"},
                                       {IOPF_PRQ_LAST_PAGE, "last_page"},
                                       {IOPF_PRQ_PRIV_DATA, "priv_data"},
                                       {IOPF_PRQ_NEEDS_PASID, "needs_pasid"},
                                       {IOPF_PRQ_L2, "l2"}}};

constexpr std::array<Bit, 3> kUnrecovBits{{{IOPF_UNRECOV_PASID_VALID, "pasid_valid"},
                                           {IOPF_UNRECOV_ADDR_VALID, "addr_valid"},
                                           {IOPF_UNRECOV_FETCH_ADDR_VALID, "fetch_addr_valid"}}};

constexpr std::array<Bit, 4> kPermBits{{{IOPF_PERM_READ, "read"},
                                        {IOPF_PERM_WRITE, "write"},
                                        {IOPF_PERM_EXEC, "exec"},
                                        {IOPF_PERM_PRIV, "priv"}}};

template <std::size_t N>
std::vector<std::string> bit_names(const std::array<Bit, N>& t, uint32_t v) {
    std::vector<std::string> out;
    for (const auto& b : t) {
        if (v & b.bit) {
            out.emplace_back(b.name);
            v &= ~b.bit;
        }
    }
    for (int i = 0; i < 32; i++)
        if (v & (1U << i))
            out.push_back(fmt::format("bit{}", i));
    return out;
}

template <std::size_t N>
uint32_t bits_from(const std::array<Bit, N>& t, std::string_view name, std::string_view what) {
    for (const auto& b : t)
        if (name == b.name)
            return b.bit;
    if (name.starts_with("bit")) {
        unsigned i = 0;
        auto r = std::from_chars(name.data() + 3, name.data() + name.size(), i);
        if (r.ec == std::errc() && r.ptr == name.data() + name.size() && i < 32)
            return 1U << i;
    }
    throw ParseError(fmt::format("unknown {} '{}'", what, name));
}

std::string lower(std::string_view s) {
    std::string o(s);
    std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return std::tolower(c); });
    return o;
}

} // namespace

namespace {

bool starts_with_digit(std::string_view s) {
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s[0]));
}

} // namespace

uint32_t parse_report_flags(std::string_view list) {
    if (starts_with_digit(list)) {
        auto v = static_cast<uint32_t>(parse_report_mask(list));
        if (v & ~IOPF_REPORT_ALL)
            throw ParseError(fmt::format("{} has unknown reporting flags (known: {:#x})", list,
                                         IOPF_REPORT_ALL));
        return v;
    }
    return parse_report_mask(list);
}

uint32_t parse_report_mask(std::string_view list) {
    uint32_t flags = 0;
    if (starts_with_digit(list)) {
        try {
            return static_cast<uint32_t>(parse_uint(list, UINT32_MAX, "flags"));
        } catch (const ParseError& e) {
            // the caller names the option: "'0x1g' is not a number"
            throw ParseError(std::string(e.what()).substr(sizeof("flags: ") - 1));
        }
    }
    if (list.empty() || list == "none")
        return 0;
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string word = lower(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (word.empty())
            throw ParseError("empty word in flag list");
        bool found = false;
        for (const auto& b : kReportBits) {
            if (word == b.name) {
                flags |= b.bit;
                found = true;
            }
        }
        if (!found)
            throw ParseError(
                fmt::format("unknown flag '{}' (expected flat, nested, l1, l2, unrecov)", word));
    }
    return flags;
}

std::string format_report_flags(uint32_t flags) {
    auto names = bit_names(kReportBits, flags);
    if (names.empty())
        return "none";
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "" : ",") + n;
    return s;
}

std::vector<std::string> fault_flag_names(uint32_t type, uint32_t flags) {
    return type == IOPF_FAULT_PAGE_REQ ? bit_names(kPrqBits, flags)
                                       : bit_names(kUnrecovBits, flags);
}

uint32_t fault_flags_from_names(uint32_t type, const std::vector<std::string>& names) {
    uint32_t v = 0;
    for (const auto& n : names)
        v |= type == IOPF_FAULT_PAGE_REQ ? bits_from(kPrqBits, n, "page-request flag")
                                         : bits_from(kUnrecovBits, n, "unrecoverable flag");
    return v;
}

std::vector<std::string> perm_names(uint32_t perm) {
    return bit_names(kPermBits, perm);
}

uint32_t perm_from_names(const std::vector<std::string>& names) {
    uint32_t v = 0;
    for (const auto& n : names)
        v |= bits_from(kPermBits, n, "permission");
    return v;
}

uint32_t parse_perm_letters(std::string_view s) {
    if (s == "-")
        return 0;
    uint32_t v = 0;
    for (char c : s) {
        const char* letters = IOPF_PERM_LETTERS;
        const char* at = std::strchr(letters, c);
        if (c == '\0' || !at)
            throw ParseError(
                fmt::format("permission '{}': unknown letter '{}' (expected r, w, x, p)", s, c));
        uint32_t bit = 1U << (at - letters);
        if (v & bit)
            throw ParseError(fmt::format("permission '{}': '{}' given twice", s, c));
        v |= bit;
    }
    return v;
}

std::string perm_letters(uint32_t perm) {
    std::string s;
    constexpr std::string_view kLetters = IOPF_PERM_LETTERS;
    for (size_t i = 0; i < kLetters.size(); i++)
        if (perm & (1U << i))
            s += kLetters[i];
    return s.empty() ? "-" : s;
}

namespace {

constexpr std::array<const char*, 4> kStageModes{"none", "s1", "s2", "nested"};
constexpr std::array<const char*, kAccessRunning + 1> kAccessStates{
    "", "stalled", "completed", "aborted", "terminated", "running"};

} // namespace

std::string stage_mode_name(uint32_t mode) {
    return mode < kStageModes.size() ? kStageModes[mode] : fmt::format("mode{}", mode);
}

uint32_t parse_stage_mode(std::string_view s) {
    for (uint32_t i = 0; i < kStageModes.size(); i++)
        if (s == kStageModes[i])
            return i;
    throw ParseError(fmt::format("unknown stage mode '{}' (expected none, s1, s2, nested)", s));
}

std::string access_state_name(uint32_t state) {
    return state >= 1 && state < kAccessStates.size() ? kAccessStates[state]
                                                      : fmt::format("state{}", state);
}

uint32_t access_state_from_name(std::string_view s) {
    for (uint32_t i = 1; i < kAccessStates.size(); i++)
        if (s == kAccessStates[i])
            return i;
    throw ParseError(fmt::format("unknown access state '{}'", s));
}

std::string type_name(uint32_t type) {
    switch (type) {
    case IOPF_FAULT_PAGE_REQ:
        return "page_req";
    case IOPF_FAULT_DMA_UNRECOV:
        return "unrecov";
    default:
        return fmt::format("type{}", type);
    }
}

uint32_t type_from_name(std::string_view name) {
    if (name == "page_req")
        return IOPF_FAULT_PAGE_REQ;
    if (name == "unrecov")
        return IOPF_FAULT_DMA_UNRECOV;
    throw ParseError(fmt::format("unknown fault type '{}'", name));
}

std::string level_name(uint32_t level) {
    return fmt::format("L{}", level);
}

uint32_t level_from_name(std::string_view name) {
    if (name == "L1" || name == "l1")
        return 1;
    if (name == "L2" || name == "l2")
        return 2;
    throw ParseError(fmt::format("unknown level '{}'", name));
}

namespace {
struct Named {
    uint32_t v;
    const char* name;
};
constexpr std::array<Named, 5> kReasons{{{IOPF_REASON_UNKNOWN, "unknown"},
                                         {IOPF_REASON_PTE_FETCH, "pte_fetch"},
                                         {IOPF_REASON_PERMISSION, "permission"},
                                         {IOPF_REASON_ACCESS, "access"},
                                         {IOPF_REASON_OOR_ADDRESS, "oor_address"}}};
constexpr std::array<Named, 3> kCodes{{{IOPF_RESP_SUCCESS, "success"},
                                       {IOPF_RESP_INVALID, "invalid"},
                                       {IOPF_RESP_FAILURE, "failure"}}};
} // namespace

std::string reason_name(uint32_t reason) {
    for (const auto& r : kReasons)
        if (r.v == reason)
            return r.name;
    return fmt::format("reason{}", reason);
}

uint32_t reason_from_name(std::string_view name) {
    for (const auto& r : kReasons)
        if (name == r.name)
            return r.v;
    throw ParseError(fmt::format("unknown reason '{}'", name));
}

std::string resp_code_name(uint32_t code) {
    for (const auto& c : kCodes)
        if (c.v == code)
            return c.name;
    return fmt::format("code{}", code);
}

uint32_t parse_resp_code(std::string_view name) {
    std::string l = lower(name);
    for (const auto& c : kCodes)
        if (l == c.name)
            return c.v;
    throw ParseError(
        fmt::format("unknown response code '{}' (expected success, invalid, failure)", name));
}

std::string resume_resp_name(uint32_t resp) {
    switch (resp) {
    case IOPF_RESUME_TERM:
        return "TERM";
    case IOPF_RESUME_RETRY:
        return "RETRY";
    case IOPF_RESUME_ABORT:
        return "ABORT";
    default:
        return fmt::format("resp{}", resp);
    }
}

std::string origin_name(uint32_t origin) {
    switch (origin) {
    case IOPF_ORIGIN_RESPONSE:
        return "response";
    case IOPF_ORIGIN_REPORT_FAILED:
        return "report_failed";
    case IOPF_ORIGIN_FLUSH:
        return "flush";
    case IOPF_ORIGIN_TIMEOUT:
        return "timeout";
    default:
        return fmt::format("origin{}", origin);
    }
}

std::string verdict_name(iopf_verdict v) {
    switch (v) {
    case IOPF_DELIVER:
        return "deliver";
    case IOPF_FILTER_L1:
        return "filter_l1";
    case IOPF_FILTER_L2:
        return "filter_l2";
    case IOPF_FILTER_UNRECOV:
        return "filter_unrecov";
    case IOPF_FILTER_FLAT:
        return "filter_flat";
    }
    return "unknown";
}

std::string stat_name(int attr) {
    switch (attr) {
    case IOPF_STAT_A_INJECTED:
        return "injected";
    case IOPF_STAT_A_REPORTED:
        return "reported";
    case IOPF_STAT_A_FILTERED_L1:
        return "filtered_l1";
    case IOPF_STAT_A_FILTERED_L2:
        return "filtered_l2";
    case IOPF_STAT_A_FILTERED_UNRECOV:
        return "filtered_unrecov";
    case IOPF_STAT_A_NO_HANDLER:
        return "no_handler";
    case IOPF_STAT_A_REPORT_FAILED:
        return "report_failed";
    case IOPF_STAT_A_NOTIFY_LOST:
        return "notify_lost";
    case IOPF_STAT_A_PENDING:
        return "pending";
    case IOPF_STAT_A_RESPONSES:
        return "responses";
    case IOPF_STAT_A_RESPONSE_ERRORS:
        return "response_errors";
    case IOPF_STAT_A_AUTO_ABORTS:
        return "auto_aborts";
    case IOPF_STAT_A_RECORDS:
        return "records";
    case IOPF_STAT_A_UNHANDLED_EVENT:
        return "unhandled_event";
    case IOPF_STAT_A_UNKNOWN_SID:
        return "unknown_sid";
    case IOPF_STAT_A_DEVICES:
        return "devices";
    case IOPF_STAT_A_RESUME_LOST:
        return "resume_lost";
    case IOPF_STAT_A_NOTIFY_UNHEARD:
        return "notify_unheard";
    case IOPF_STAT_A_PENDING_FULL:
        return "pending_full";
    case IOPF_STAT_A_TIMEOUTS:
        return "timeouts";
    case IOPF_STAT_A_ACCESSES:
        return "accesses";
    case IOPF_STAT_A_ACCESS_FAULTS_L1:
        return "access_faults_l1";
    case IOPF_STAT_A_ACCESS_FAULTS_L2:
        return "access_faults_l2";
    case IOPF_STAT_A_ACCESS_COMPLETED:
        return "access_completed";
    case IOPF_STAT_A_ACCESS_ABORTED:
        return "access_aborted";
    case IOPF_STAT_A_ACCESS_TERMINATED:
        return "access_terminated";
    case IOPF_STAT_A_MAPPED_S1:
        return "mapped_s1";
    case IOPF_STAT_A_MAPPED_S2:
        return "mapped_s2";
    case IOPF_STAT_A_ACCESS_NOTIFY_LOST:
        return "access_notify_lost";
    case IOPF_STAT_A_VEVENTS:
        return "vevents";
    case IOPF_STAT_A_VEVENT_ERRORS:
        return "vevent_errors";
    case IOPF_STAT_A_UPSTREAM_UNHANDLED:
        return "upstream_unhandled";
    default:
        return fmt::format("stat{}", attr);
    }
}

uint32_t parse_event(std::string_view s) {
    std::string l = lower(s);
    if (l == "translation")
        return EVT_ID_TRANSLATION_FAULT;
    if (l == "addr-size" || l == "addr_size")
        return EVT_ID_ADDR_SIZE_FAULT;
    if (l == "access")
        return EVT_ID_ACCESS_FAULT;
    if (l == "permission")
        return EVT_ID_PERMISSION_FAULT;
    for (uint32_t id = 0; id <= 0xff; id++) {
        const char* n = iopf_evt_name(id);
        if (std::string_view(n) != "UNKNOWN" && s == n)
            return id;
    }
    if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])))
        return static_cast<uint32_t>(parse_uint(s, 0xff, "event ID"));
    throw ParseError(fmt::format(
        "unknown event '{}' (expected translation, addr-size, access, permission or an ID)", s));
}

namespace {

uint64_t parse_number(std::string_view s, uint64_t max, std::string_view what, bool hex_max) {
    int base = 10;
    std::string_view digits = s;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        base = 16;
        digits = s.substr(2);
    }
    uint64_t v = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (digits.empty() || r.ec == std::errc::invalid_argument ||
        r.ptr != digits.data() + digits.size())
        throw ParseError(fmt::format("{}: '{}' is not a number", what, s));
    if (r.ec == std::errc::result_out_of_range || v > max)
        throw ParseError(hex_max ? fmt::format("{}: {} is out of range (max {:#x})", what, s, max)
                                 : fmt::format("{}: {} is out of range (max {})", what, s, max));
    return v;
}

} // namespace

uint64_t parse_uint(std::string_view s, uint64_t max, std::string_view what) {
    return parse_number(s, max, what, true);
}

uint64_t parse_count(std::string_view s, uint64_t max, std::string_view what) {
    return parse_number(s, max, what, false);
}

uint64_t parse_hex_word(std::string_view s) {
    // The module's word grammar (record_text.h), so that what is accepted
    // here is what debugfs "inject" accepts.
    u64 v = 0;
    const char* why = "bad hex word";
    if (iopf_parse_hex_word(s.data(), s.size(), &v, &why))
        throw ParseError(fmt::format("'{}': {}", s, why));
    return v;
}

std::string hex(uint64_t v) {
    return fmt::format("{:#x}", v);
}

} // namespace iopf
