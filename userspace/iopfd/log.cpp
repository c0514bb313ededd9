// SPDX-License-Identifier: GPL-2.0
#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

namespace iopfd {

bool stderr_is_journal(const char* journal_stream) {
    if (!journal_stream)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

std::string format_log_line(Severity s, std::string_view text, bool journal) {
    if (journal)
        return fmt::format("<{}>{}\n", static_cast<int>(s), text);
    return fmt::format("iopfd: {}\n", text);
}

void log_line(Severity s, std::string_view text) {
    static const bool journal = stderr_is_journal(std::getenv("JOURNAL_STREAM"));
    std::cerr << format_log_line(s, text, journal);
}

} // namespace iopfd
