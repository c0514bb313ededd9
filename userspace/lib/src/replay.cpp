// SPDX-License-Identifier: GPL-2.0
#include "iopf/replay.hpp"

#include <istream>
#include <optional>
#include <regex>

#include <fmt/core.h>

#include "iopf/names.hpp"

namespace iopf {

namespace {

// `event 0x10 received:` anywhere in the line (after any prefix).
const std::regex kHeader(R"(\bevent (0x[0-9a-fA-F]{1,2}) received:\s*$)");
// A line ending in one 0x%016llx word (after any prefix and a tab).
const std::regex kWord(R"((?:^|[\s:\]])0x([0-9a-fA-F]{16})\s*$)");

std::optional<uint32_t> header_id(const std::string& line) {
    std::smatch m;
    if (!std::regex_search(line, m, kHeader))
        return std::nullopt;
    return static_cast<uint32_t>(parse_hex_word(m[1].str()));
}

std::optional<uint64_t> word_of(const std::string& line) {
    std::smatch m;
    if (!std::regex_search(line, m, kWord))
        return std::nullopt;
    return parse_hex_word(m[1].str());
}

} // namespace

ReplayResult parse_replay(std::istream& in) {
    ReplayResult res;
    std::string line;
    std::size_t no = 0;
    // The block being collected: its header's line and event ID, words so far.
    std::optional<uint32_t> id;
    std::size_t header_line = 0;
    Record rec{};
    std::size_t words = 0;

    auto abandon = [&](const std::string& why) {
        res.warnings.push_back(
            fmt::format("line {}: event {:#04x} block {}; skipped", header_line, *id, why));
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
                    if (iopf_evt_id(rec.data()) != *id)
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
