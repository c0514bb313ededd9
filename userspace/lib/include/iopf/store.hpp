// SPDX-License-Identifier: GPL-2.0
// The daemon's append-only JSON-lines store. Every line is an object with a
// "kind": fault | resume | response | loss | daemon. Fault lines hold the
// fault_to_json() keys (with extras) plus "action" (what the policy chose).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "iopf/json.hpp"

namespace iopf {

// Shared by iopfd and iopfctl.
inline constexpr const char* kDefaultStore = "/var/lib/iopfd/faults.jsonl";

class StoreWriter {
  public:
    explicit StoreWriter(const std::string& path); // throws Error
    ~StoreWriter();
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    void append(const Json& line);          // buffered
    void append_raw(std::string_view line); // one JSON object, no newline; buffered
    // One line written by `write(std::string& buf)` straight into the buffer
    // (it appends one JSON object, no newline): no copy through a line.
    template <class Write> void append_with(Write&& write) {
        write(buf_);
        buf_ += '\n';
        block();
    }
    void flush();                           // write(2) what is buffered; throws Error
    void sync();                            // flush + fsync
    const std::string& path() const { return path_; }

    // Past this many buffered bytes, append*() writes them out: the daemon
    // flushes once per batch of notifications, and a long burst is written
    // in blocks of this size (the buffer stays bounded).
    static constexpr std::size_t kBlock = 256u << 10;

  private:
    void block() noexcept;

    std::string path_;
    int fd_ = -1;
    std::string buf_;
};

struct StoreReadResult {
    std::size_t lines = 0;
    std::size_t bad_lines = 0; // unparsable lines (e.g. a torn last line)
};

// Calls `fn` for every parsable line. Throws Error when the file cannot be opened.
StoreReadResult read_store(const std::string& path, const std::function<void(const Json&)>& fn);

} // namespace iopf
