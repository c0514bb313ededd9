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
    // One line written by `write(char* at)` straight into the buffer: at
    // most `bound` bytes of one JSON object, no newline; it returns where it
    // stopped. No copy through a line, no zeroing of the room.
    template <class Write> void append_with(std::size_t bound, Write&& write) {
        room(bound + 1);
        char* end = write(buf_.data() + used_);
        used_ = static_cast<std::size_t>(end - buf_.data());
        buf_[used_++] = '\n';
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
    void room(std::size_t n); // at least n bytes free after used_

    std::string path_;
    int fd_ = -1;
    // [0, used_) is what waits to be written; the string's size is the room
    // allocated so far, kept across flushes (grown, zeroed, only when short).
    std::string buf_;
    std::size_t used_ = 0;
};

struct StoreReadResult {
    std::size_t lines = 0;
    std::size_t bad_lines = 0; // unparsable lines (e.g. a torn last line)
};

// Calls `fn` for every parsable line. Throws Error when the file cannot be opened.
StoreReadResult read_store(const std::string& path, const std::function<void(const Json&)>& fn);

} // namespace iopf
