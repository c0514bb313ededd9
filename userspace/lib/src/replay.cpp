// SPDX-License-Identifier: GPL-2.0
#include "iopf/replay.hpp"

#include <algorithm>
#include <istream>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/core.h>

#include "iopf/decode.hpp"
#include "iopf/names.hpp"

namespace iopf {

namespace {

// Matched by hand, not with std::regex: libstdc++'s regex recurses once per
// character of a repetition, and a line of tens of thousands of blanks
// overflowed the stack (found by tests/fuzz/fuzz_replay).

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_word(char c) {
    return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

std::string_view trim_end(std::string_view s) {
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}
std::string_view trim_start(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    return s;
}

std::size_t skip(std::string_view s, std::size_t i, bool (*pred)(char)) {
    while (i < s.size() && pred(s[i]))
        i++;
    return i;
}

// ---- the envelope each log tool puts around the kernel's message ----------

// /dev/kmsg: "PRI,SEQ,USEC,FLAGS[,...];message"
bool strip_kmsg(std::string_view& s) {
    std::size_t semi = s.find(';');
    if (semi == std::string_view::npos || semi > 64)
        return false;
    std::string_view head = s.substr(0, semi);
    std::size_t i = 0;
    for (int field = 0; field < 3; field++) {
        std::size_t j = skip(head, i, is_digit);
        if (j == i || j >= head.size() || head[j] != ',')
            return false;
        i = j + 1;
    }
    for (; i < head.size(); i++)
        if (is_space(head[i]))
            return false;
    s.remove_prefix(semi + 1);
    return true;
}

// dmesg -r / syslog: "<3>"
void strip_priority(std::string_view& s) {
    if (s.empty() || s[0] != '<')
        return;
    std::size_t j = skip(s, 1, is_digit);
    if (j > 1 && j < s.size() && s[j] == '>')
        s.remove_prefix(j + 1);
}

// dmesg -x: "kern  :err   : "
void strip_facility(std::string_view& s) {
    std::size_t i = skip(s, 0, [](char c) { return is_lower(c) || is_digit(c); });
    if (i == 0)
        return;
    i = skip(s, i, [](char c) { return c == ' '; });
    if (i >= s.size() || s[i] != ':')
        return;
    std::size_t j = skip(s, i + 1, is_lower);
    if (j == i + 1)
        return;
    j = skip(s, j, [](char c) { return c == ' '; });
    if (j + 1 < s.size() && s[j] == ':' && s[j + 1] == ' ')
        s.remove_prefix(j + 2);
}

// dmesg's "[   12.345678] ", "-T"'s "[Wed Dec  2 13:29:20 2026] "
void strip_bracket(std::string_view& s) {
    if (s.empty() || s[0] != '[')
        return;
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close > 40)
        return;
    s.remove_prefix(close + 1);
    if (!s.empty() && s[0] == ' ')
        s.remove_prefix(1);
}

// --time-format iso, journalctl -o short-iso: "2026-12-02T13:29:20,123+00:00 "
void strip_iso(std::string_view& s) {
    if (s.size() < 11 || !is_digit(s[0]) || !is_digit(s[3]) || s[4] != '-' || s[7] != '-' ||
        s[10] != 'T')
        return;
    std::size_t sp = s.find(' ');
    if (sp != std::string_view::npos && sp < 40)
        s.remove_prefix(sp + 1);
}

// journalctl: "Dec 02 13:29:20 host kernel: " (the time already gone for -o
// short-iso and short-monotonic): a prefix without ": " before "kernel: ".
void strip_journal(std::string_view& s) {
    constexpr std::string_view kKernel = "kernel: ";
    if (s.starts_with(kKernel)) {
        s.remove_prefix(kKernel.size());
        return;
    }
    std::size_t k = s.find(" kernel: ");
    if (k == std::string_view::npos || k > 80 ||
        s.substr(0, k).find(": ") != std::string_view::npos)
        return;
    s.remove_prefix(k + 1 + kKernel.size());
}

// /dev/kmsg escapes unprintable bytes (the word lines' tab) as \xHH
std::string unescape_kmsg(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && is_hex(s[i + 2]) &&
            is_hex(s[i + 3])) {
            out += static_cast<char>(parse_hex_word(s.substr(i + 2, 2)));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The kernel's message of one log line, whatever tool printed it.
std::string message_of(std::string_view line) {
    std::string_view s = line;
    bool kmsg = strip_kmsg(s);
    strip_priority(s);
    strip_facility(s);
    strip_priority(s);
    strip_bracket(s);
    strip_iso(s);
    strip_journal(s);
    strip_bracket(s); // syslog's kern.log: "Dec  2 13:29:20 host kernel: [ 12.3] ..."
    return kmsg ? unescape_kmsg(s) : std::string(s);
}

// ---- the kernel's lines -----------------------------------------------------
// Each returns the device key: what dev_*() or pr_fmt() put before the text
// ("arm-smmu-v3 arm-smmu-v3.0.auto:", "iopf_testbed:", or nothing).

// "event 0x10 received:" at the end
std::optional<std::pair<std::string, uint32_t>> header_of(std::string_view m) {
    constexpr std::string_view kEvent = "event 0x";
    constexpr std::string_view kReceived = " received:";
    std::string_view s = trim_end(m);
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
    if (!s.empty() && is_word(s.back()))
        return std::nullopt;
    return std::pair{std::string(trim_end(s)), static_cast<uint32_t>(parse_hex_word(id))};
}

// "\t0x%016llx": the device key, white space, one word, nothing else
std::optional<std::pair<std::string, uint64_t>> word_of(std::string_view m) {
    std::string_view s = trim_end(m);
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
    if (!s.empty() && !is_space(s.back()))
        return std::nullopt;
    return std::pair{std::string(trim_end(s)), parse_hex_word(hex)};
}

// Where a decoded line starts: `lead` at a word boundary, `also` after it.
std::optional<std::size_t> decoded_at(std::string_view m, std::string_view lead,
                                      std::string_view also) {
    for (std::size_t p = m.find(lead); p != std::string_view::npos; p = m.find(lead, p + 1))
        if ((p == 0 || m[p - 1] == ' ') && m.find(also, p) != std::string_view::npos)
            return p;
    return std::nullopt;
}

// "Does the log say it lost events?": the reason, or nothing.
std::optional<std::string> log_gap(std::string_view m) {
    if (m.find("EVTQ overflow detected") != std::string_view::npos)
        return "the SMMU's event queue overflowed: events were lost before they were logged";
    if (m.find("EVTQ write aborted") != std::string_view::npos)
        return "the SMMU could not write its event queue: events may have been lost";
    if (auto p = m.find(" callbacks suppressed"); p != std::string_view::npos) {
        std::string_view fn = m.substr(0, p);
        if (fn.find("smmu") != std::string_view::npos || fn.find("iopf") != std::string_view::npos)
            return "the driver's rate limit suppressed records: the log holds only some events";
    }
    if (m.find("printk messages dropped") != std::string_view::npos ||
        (m.find("Missed ") != std::string_view::npos &&
         m.find(" kernel messages") != std::string_view::npos))
        return "kernel messages were dropped: records may be missing or cut";
    return std::nullopt;
}

std::string device_name(const std::string& key) {
    if (key.empty())
        return "(no device prefix)";
    return key.back() == ':' ? key.substr(0, key.size() - 1) : key;
}

// `got` begins with `want`? What follows (another message glued on) is
// returned in `rest`; a longer number is a disagreement, not glue.
bool agrees(std::string_view got, std::string_view want, std::string_view& rest) {
    if (!got.starts_with(want))
        return false;
    rest = got.substr(want.size());
    std::size_t h = skip(rest, 0, is_hex);
    if (h > 0 && (h == rest.size() || is_space(rest[h])))
        return false;
    return true;
}

class Parser {
  public:
    explicit Parser(ReplayResult& r) : r_(r) {}

    void line(std::string_view text, std::size_t no) {
        if (!text.empty() && text.back() == '\r')
            text.remove_suffix(1);
        if (!message(message_of(text), no, 0))
            r_.skipped_lines++;
    }

    void finish() {
        for (auto& [key, b] : open_)
            error(b.line, fmt::format("event {:#04x} record of {} ends after {} of 4 words "
                                      "(end of input); skipped",
                                      b.id, device_name(key), b.words));
        open_.clear();
        for (auto& [key, o] : orphans_)
            orphan_error(key, o);
        orphans_.clear();
        // Word-shaped lines of a device that never logged a record header
        // are some other driver's, not a cut record
        for (auto& [key, o] : orphan_reports_)
            if (header_keys_.count(key))
                error(o.line, fmt::format("{} record word line{} of {} without the \"event 0x.. "
                                          "received:\" line before {}; skipped",
                                          o.words, o.words == 1 ? "" : "s", device_name(key),
                                          o.words == 1 ? "it" : "them"));
        std::stable_sort(errors_.begin(), errors_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [no, what] : errors_)
            r_.errors.push_back(fmt::format("line {}: {}", no, what));
    }

  private:
    struct Block {
        std::size_t line = 0;
        uint32_t id = 0;
        Record rec{};
        std::size_t words = 0;
    };
    struct Orphan {
        std::size_t line = 0;
        std::size_t words = 0;
    };
    struct Done { // the last record of a device, for its decoded lines
        std::size_t line = 0;
        Record rec{};
        bool event_seen = false;
        bool access_seen = false;
    };

    void error(std::size_t no, std::string what) { errors_.emplace_back(no, std::move(what)); }

    // Judged at the end, when every device that logs records is known
    void orphan_error(const std::string& key, const Orphan& o) {
        orphan_reports_.emplace_back(key, o);
    }

    // One message (or what was glued after a decoded line): used for a record?
    // `glued_to`: the device of the line this text was glued to, if any.
    bool message(const std::string& m, std::size_t no, int depth,
                 const std::string* glued_to = nullptr) {
        if (auto h = header_of(m)) {
            header(h->first, h->second, no);
            return true;
        }
        if (auto w = word_of(m))
            return word(w->first, w->second, no);
        if (auto p = decoded_at(m, "event: ", " client: ")) {
            decoded(m, *p, no, depth, true, glued_to);
            return true;
        }
        std::optional<std::size_t> acc = decoded_at(m, "unpriv ", " stag: ");
        if (!acc)
            acc = decoded_at(m, "priv ", " stag: ");
        if (acc) {
            decoded(m, *acc, no, depth, false, glued_to);
            return true;
        }
        if (auto why = log_gap(m)) {
            r_.warnings.push_back(fmt::format("line {}: {}", no, *why));
            return true;
        }
        return false;
    }

    void header(const std::string& key, uint32_t id, std::size_t no) {
        if (auto b = open_.find(key); b != open_.end()) {
            error(b->second.line,
                  fmt::format("event {:#04x} record of {} ends after {} of 4 words (a new record "
                              "starts at line {}); skipped",
                              b->second.id, device_name(key), b->second.words, no));
            open_.erase(b);
        }
        if (auto o = orphans_.find(key); o != orphans_.end()) {
            orphan_error(key, o->second);
            orphans_.erase(o);
        }
        done_.erase(key);
        header_keys_.insert(key);
        open_[key] = Block{.line = no, .id = id};
    }

    // Fed to a record? Words without one count as skipped lines.
    bool word(const std::string& key, uint64_t w, std::size_t no) {
        auto it = open_.find(key);
        if (it == open_.end()) {
            Orphan& o = orphans_[key];
            if (o.words == 0)
                o.line = no;
            if (++o.words == IOPF_EVT_DWORDS) {
                orphan_error(key, o);
                orphans_.erase(key);
            }
            return false;
        }
        Block& b = it->second;
        b.rec[b.words++] = w;
        if (b.words < IOPF_EVT_DWORDS)
            return true;
        if (iopf_evt_id(b.rec.data()) != b.id) {
            error(b.line,
                  fmt::format("event {:#04x} record of {} has word 0 with event ID {:#04x}; "
                              "skipped",
                              b.id, device_name(key), iopf_evt_id(b.rec.data())));
        } else {
            r_.records.push_back(b.rec);
            r_.record_lines.push_back(b.line);
            done_[key] = Done{.line = b.line, .rec = b.rec};
        }
        open_.erase(it);
        return true;
    }

    // "event: NAME client: DEV sid: ..." (first) or "priv data read s1 ..."
    void decoded(const std::string& m, std::size_t at, std::size_t no, int depth, bool first,
                 const std::string* glued_to) {
        std::string key(trim_end(std::string_view(m).substr(0, at)));
        if (key.empty() && glued_to)
            key = *glued_to; // the rest of the same device's output
        const std::string_view text = std::string_view(m).substr(at);
        const char* what = first ? "decoded event line" : "decoded access line";
        auto d = done_.find(key);
        if (d == done_.end() || (first ? d->second.event_seen : d->second.access_seen)) {
            error(no, fmt::format("{} of {} without the record words before it: the record "
                                  "cannot be rebuilt; skipped",
                                  what, device_name(key)));
            return;
        }
        Done& done = d->second;
        (first ? done.event_seen : done.access_seen) = true;
        const EvtFields e = evt_fields(done.rec);
        std::string want;
        std::string_view got = text;
        std::string_view rest;
        bool ok;
        if (first) {
            // The client is a device name the record does not hold: skip it
            want = fmt::format("event: {} client: ", iopf_evt_name(e.id));
            std::size_t sid = text.find(" sid: ");
            ok = text.starts_with(want) && sid != std::string_view::npos;
            if (ok)
                got = text.substr(sid + 1);
            want = dump_event_tail(e);
            ok = ok && agrees(got, want, rest);
            if (!ok)
                want = fmt::format("event: {} client: ... {}", iopf_evt_name(e.id), want);
        } else {
            want = dump_event_access(e);
            ok = !want.empty() && agrees(got, want, rest);
        }
        if (!ok) {
            error(no, fmt::format("{} of {} disagrees with the record words of line {}: it says "
                                  "\"{}\", the words give \"{}\"",
                                  what, device_name(key), done.line, trim_end(text),
                                  want.empty() ? "no such line" : want));
            return;
        }
        rest = trim_start(rest);
        if (!rest.empty() && depth < 4)
            message(message_of(rest), no, depth + 1, &key);
    }

    ReplayResult& r_;
    std::map<std::string, Block> open_;
    std::map<std::string, Orphan> orphans_;
    std::map<std::string, Done> done_;
    std::set<std::string> header_keys_;
    std::vector<std::pair<std::string, Orphan>> orphan_reports_;
    std::vector<std::pair<std::size_t, std::string>> errors_;
};

} // namespace

ReplayResult parse_replay(std::istream& in) {
    ReplayResult res;
    Parser p(res);
    std::string line;
    std::size_t no = 0;
    while (std::getline(in, line))
        p.line(line, ++no);
    p.finish();
    return res;
}

} // namespace iopf
