// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness for the debugfs text-record format (record_text.h).
//
// Every line of the input goes to iopf_parse_record_line(), the parser the
// module and iopfctl share, and to an independent strtoull-based oracle that
// accepts exactly the documented grammar:
//
//   line  := blank* (word blank+){3} word blank*   -> a record
//          | blank*                                 -> nothing
//   word  := ("0x" | "0X")? hexdigit{1,16}
//   blank := ' ' | '\t' | '\r'
//
// Any disagreement (accept/reject, the words, or the reason given) aborts.
// The whole input then goes through iopf::parse_record_stream() (what
// `iopfctl inject --file` runs), which must report the first bad line as
// "NAME:LINE: reason" or return exactly the oracle's records.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <iopf_testbed/record_text.h>

#include "iopf/error.hpp"
#include "iopf/record.hpp"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace {

struct Expect {
    int rc = 0;              // 1 record, 0 blank, -EINVAL bad
    const char* why = nullptr; // for rc < 0
    iopf::Record rec{};
};

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

bool is_hex(char c) {
    return std::strchr("0123456789abcdefABCDEF", c) != nullptr && c != '\0';
}

// The oracle: tokenise, then judge each token in order.
Expect oracle(std::string_view line) {
    std::vector<std::string> toks;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_blank(line[i]))
            i++;
        std::size_t start = i;
        while (i < line.size() && !is_blank(line[i]))
            i++;
        if (i > start)
            toks.emplace_back(line.substr(start, i - start));
    }
    Expect e;
    if (toks.empty())
        return e;
    for (std::size_t n = 0; n < toks.size(); n++) {
        if (n == 4)
            return {-EINVAL, "more than four words", {}};
        std::string d = toks[n];
        if (d.size() >= 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
            d = d.substr(2);
        std::size_t good = 0;
        while (good < d.size() && is_hex(d[good]))
            good++;
        // Digits are read left to right: a 17th digit fails before a later junk character.
        if (good > 16)
            return {-EINVAL, "a word is longer than 16 hex digits", {}};
        if (d.empty() || good < d.size())
            return {-EINVAL, "a word is not a hex number", {}};
        errno = 0;
        char* end = nullptr;
        unsigned long long v = std::strtoull(d.c_str(), &end, 16);
        CHECK(errno == 0 && end == d.c_str() + d.size());
        e.rec[n] = v;
    }
    if (toks.size() != 4)
        return {-EINVAL, "fewer than four words", {}};
    e.rc = 1;
    return e;
}

std::vector<std::string_view> split_lines(std::string_view s) {
    // As std::getline: a final empty segment is no line
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) {
            lines.push_back(s.substr(pos));
            break;
        }
        lines.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return lines;
}

// check_wrapper: also run iopf::parse_record_line() on a rejected line (a
// thrown exception costs more than the parse: only a few per input)
void check_line(std::string_view line, bool check_wrapper) {
    // A heap copy of exactly the line's bytes: a read past it is an ASan report.
    char* copy = static_cast<char*>(std::malloc(line.size() ? line.size() : 1));
    std::memcpy(copy, line.data(), line.size());
    u64 rec[IOPF_EVT_DWORDS] = {};
    const char* why = nullptr;
    int rc = iopf_parse_record_line(copy, line.size(), rec, &why);
    std::free(copy);

    Expect e = oracle(line);
    if (rc != e.rc || (rc < 0 && (!why || std::strcmp(why, e.why) != 0))) {
        std::fprintf(stderr, "grammar disagreement on a %zu-byte line: parser %d (%s), oracle %d (%s)\n",
                     line.size(), rc, rc < 0 && why ? why : "-", e.rc, e.why ? e.why : "-");
        std::abort();
    }
    if (rc == 1) {
        for (int i = 0; i < IOPF_EVT_DWORDS; i++)
            CHECK(rec[i] == e.rec[i]);
        // What iopfctl prints parses back to the same record
        iopf::Record r{rec[0], rec[1], rec[2], rec[3]};
        CHECK(iopf::parse_record_line(iopf::format_record(r)) == r);
        CHECK(iopf::parse_record_line(line) == r);
    } else if (check_wrapper) {
        bool threw = false;
        try {
            iopf::parse_record_line(line);
        } catch (const iopf::ParseError&) {
            threw = true;
        }
        CHECK(threw);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto lines = split_lines(in);

    // Per line, comments included: the module's grammar has none
    int wrapped = 0;
    for (auto line : lines)
        check_line(line, wrapped++ < 4);

    // The stream: '#' starts a comment, the first bad line is named
    std::vector<iopf::Record> want;
    std::optional<std::string> want_err;
    for (std::size_t n = 0; n < lines.size(); n++) {
        std::string_view l = lines[n];
        l = l.substr(0, l.find('#'));
        Expect e = oracle(l);
        if (e.rc < 0) {
            want_err = "fuzz:" + std::to_string(n + 1) + ": " + e.why;
            break;
        }
        if (e.rc == 1)
            want.push_back(e.rec);
    }
    std::istringstream ss{std::string(in)};
    try {
        auto got = iopf::parse_record_stream(ss, "fuzz");
        CHECK(!want_err);
        CHECK(got == want);
    } catch (const iopf::ParseError& err) {
        if (!want_err || *want_err != err.what()) {
            std::fprintf(stderr, "stream: got \"%s\", want \"%s\"\n", err.what(),
                         want_err ? want_err->c_str() : "success");
            std::abort();
        }
    }
    return 0;
}
