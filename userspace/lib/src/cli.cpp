// SPDX-License-Identifier: GPL-2.0
#include "iopf/cli.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>

#include <fmt/core.h>

namespace iopf::cli {

namespace {

constexpr const char* kExtra = "<unexpected>";

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v)
        s += (s.empty() ? "" : ", ") + e;
    return s;
}

} // namespace

std::string describe(const po::error& e) {
    if (auto* u = dynamic_cast<const po::unknown_option*>(&e))
        return fmt::format("unknown option '{}'", u->get_option_name());
    if (auto* a = dynamic_cast<const po::ambiguous_option*>(&e)) {
        std::vector<std::string> alts;
        for (const auto& o : a->alternatives())
            alts.push_back("--" + o);
        std::sort(alts.begin(), alts.end());
        alts.erase(std::unique(alts.begin(), alts.end()), alts.end());
        return fmt::format("ambiguous option '{}' (could be {})", a->get_option_name(),
                           join(alts));
    }
    if (auto* m = dynamic_cast<const po::multiple_occurrences*>(&e))
        return fmt::format("{} given twice", m->get_option_name());
    if (auto* s = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
        switch (s->kind()) {
        case po::invalid_syntax::missing_parameter:
            return fmt::format("{} needs a value", s->get_option_name());
        case po::invalid_syntax::extra_parameter:
            return fmt::format("{} takes no value", s->get_option_name());
        default:
            return fmt::format("malformed option '{}'", s->get_option_name());
        }
    }
    if (auto* v = dynamic_cast<const po::validation_error*>(&e))
        return fmt::format("{}: invalid value", v->get_option_name());
    if (auto* n = dynamic_cast<const po::error_with_option_name*>(&e))
        return fmt::format("bad option {}", n->get_option_name());
    if (dynamic_cast<const po::too_many_positional_options_error*>(&e))
        return "too many arguments";
    return "malformed command line";
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* pos) {
    po::positional_options_description p = pos ? *pos : po::positional_options_description{};
    po::options_description all;
    all.add(desc);
    if (p.max_total_count() != std::numeric_limits<unsigned>::max()) {
        // Catch what is left over, to name it.
        po::options_description extra;
        extra.add_options()(kExtra, po::value<std::vector<std::string>>());
        all.add(extra);
        p.add(kExtra, -1);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(p).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw CommandLineError(describe(e));
    }
    if (vm.count(kExtra)) {
        const auto& x = vm[kExtra].as<std::vector<std::string>>();
        throw CommandLineError(fmt::format("unexpected argument '{}'", x.front()));
    }
    return vm;
}

const char* match(std::string_view word, const std::vector<Word>& table, std::string_view what) {
    for (const auto& w : table) {
        if (word == w.name)
            return w.name;
        for (const char* a : w.alias)
            if (word == a)
                return w.name;
    }
    std::vector<const char*> hits;
    if (!word.empty()) {
        for (const auto& w : table) {
            bool hit = std::string_view(w.name).starts_with(word);
            for (const char* a : w.alias)
                hit |= std::string_view(a).starts_with(word);
            if (hit)
                hits.push_back(w.name);
        }
    }
    if (hits.size() == 1)
        return hits.front();
    std::vector<std::string> names;
    for (const auto& w : hits.empty() ? table : std::vector<Word>{})
        names.emplace_back(w.name);
    for (const char* h : hits)
        names.emplace_back(h);
    if (hits.empty())
        throw CommandLineError(
            fmt::format("unknown {} '{}' (expected {})", what, word, join(names)));
    throw CommandLineError(fmt::format("ambiguous {} '{}' (could be {})", what, word, join(names)));
}

bool flush_ok(std::ostream& out) {
    errno = 0;
    out.flush();
    return !out.fail();
}

} // namespace iopf::cli
