// SPDX-License-Identifier: GPL-2.0
#include "iopf/replay.hpp"

#include <istream>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "iopf/names.hpp"

namespace iopf {

namespace {

// The two line shapes, matched by hand: std::regex (libstdc++) recurses once
// per character of a repetition, and a line with tens of thousands of blanks
// overflowed the stack (found by tests/fuzz/fuzz_replay). Same grammar as the
// ECMAScript patterns they replace, in the "C" locale:
//   header: \bevent (0x[0-9a-fA-F]{1,2}) received:\s*$
//   word:   (?:^|[\s:\]])0x([0-9a-fA-F]{16})\s*$

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_word(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// The line without its trailing white space
std::string_view trim_end(std::string_view s) {
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// `event 0x10 received:` at the end of the line (after any prefix).
std::optional<uint32_t> header_id(std::string_view line) {
    constexpr std::string_view kEvent = "event 0x";
    constexpr std::string_view kReceived = " received:";
    std::string_view s = trim_end(line);
    if (!s.ends_with(kReceived))
        return std::nullopt;
    s.remove_suffix(kReceived.size());
    std::size_t digits = 0;
    while (digits < 2 && digits < s.size() && is_hex(s[s.size() - 1 - digits]))
        digits++;
    if (digits == 0)
        return std::nullopt;
    std::string_view id = s.substr(s.size() - digits);
    s.remove_suffix(digits);
    if (!s.ends_with(kEvent))
        return std::nullopt;
    s.remove_suffix(kEvent.size());
    if (!s.empty() && is_word(s.back())) // \b before "event"
        return std::nullopt;
    return static_cast<uint32_t>(parse_hex_word(id));
}

// A line ending in one 0x%016llx word (after any prefix and a tab).
std::optional<uint64_t> word_of(std::string_view line) {
    std::string_view s = trim_end(line);
    if (s.size() < 18)
        return std::nullopt;
    std::string_view hex = s.substr(s.size() - 16);
    for (char c : hex)
        if (!is_hex(c))
            return std::nullopt;
    s.remove_suffix(16);
    if (!s.ends_with("0x"))
        return std::nullopt;
    s.remove_suffix(2);
    if (!s.empty() && !is_space(s.back()) && s.back() != ':' && s.back() != ']')
        return std::nullopt;
    return parse_hex_word(hex);
}

} // namespace

ReplayResult parse_replay(std::istream& in) {
    ReplayResult res;
    std::string line;
    std::size_t no = 0;
    // The block being collected: its header's line and event ID, words so far.
    std::optional<uint32_t> id;
    std::size_t header_line = 0;
    uint32_t block_id = 0; // *id, copied: GCC 12 -O2 warns (falsely) that *id is uninitialized
    Record rec{};
    std::size_t words = 0;

    auto abandon = [&](const std::string& why) {
        res.warnings.push_back(fmt::format("line {}: event {:#04x} block {}; skipped", header_line,
                                           block_id, why));
        id.reset();
    };

    while (std::getline(in, line)) {
        no++;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (id) {
            if (auto w = word_of(line)) {
                rec[words++] = *w;
                if (words == rec.size()) {
                    if (iopf_evt_id(rec.data()) != block_id)
                        abandon(fmt::format("has word 0 with event ID {:#04x}",
                                            iopf_evt_id(rec.data())));
                    else
                        res.records.push_back(rec);
                    id.reset();
                }
                continue;
            }
            abandon(fmt::format("ends after {} of 4 words", words));
            // This line may itself start the next block: fall through.
        }
        if (auto h = header_id(line)) {
            id = h;
            block_id = *h;
            header_line = no;
            words = 0;
            rec = {};
            continue;
        }
        res.skipped_lines++;
    }
    if (id)
        abandon(fmt::format("ends after {} of 4 words (end of input)", words));
    return res;
}

} // namespace iopf
