// SPDX-License-Identifier: GPL-2.0
// iopfd's log lines on stderr. Under systemd, stderr is the journal
// (JOURNAL_STREAM names it): each line then starts with its syslog
// severity, "<3>" to "<7>", and the journal adds the program name.
#pragma once

#include <string>
#include <string_view>

namespace iopfd {

enum class Severity { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Whether stderr is the stream JOURNAL_STREAM ("DEV:INODE") describes.
// `journal_stream` is the variable's value (null: unset).
bool stderr_is_journal(const char* journal_stream);

// One line as written: "<4>text" for the journal, else "iopfd: text".
std::string format_log_line(Severity s, std::string_view text, bool journal);

// Writes one line to stderr (the journal is detected once).
void log_line(Severity s, std::string_view text);

} // namespace iopfd
