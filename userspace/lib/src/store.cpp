// SPDX-License-Identifier: GPL-2.0
#include "iopf/store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/file.hpp"

namespace iopf {

StoreWriter::StoreWriter(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(errno, "opening store " + path);
}

StoreWriter::~StoreWriter() {
    try {
        flush();
    } catch (...) {
    }
    if (fd_ >= 0)
        ::close(fd_);
}

void StoreWriter::append(const Json& line) {
    append_raw(line.dump());
}

void StoreWriter::append_raw(std::string_view line) {
    room(line.size() + 1);
    std::memcpy(buf_.data() + used_, line.data(), line.size());
    used_ += line.size();
    buf_[used_++] = '\n';
    block();
}

void StoreWriter::room(std::size_t n) {
    if (buf_.size() - used_ < n)
        buf_.resize(std::max({used_ + n, 2 * buf_.size(), kBlock + (kBlock >> 2)}));
}

void StoreWriter::block() noexcept {
    if (used_ < kBlock)
        return;
    // Not thrown from here (the caller is in the middle of a batch): what
    // could not be written stays buffered, and the caller's next flush()
    // retries and reports the error.
    try {
        flush();
    } catch (const Error&) {
    }
}

void StoreWriter::flush() {
    std::size_t off = 0;
    while (off < used_) {
        ssize_t n = ::write(fd_, buf_.data() + off, used_ - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            std::memmove(buf_.data(), buf_.data() + off, used_ - off);
            used_ -= off;
            throw Error(errno, "writing store " + path_);
        }
        off += static_cast<std::size_t>(n);
    }
    used_ = 0;
}

void StoreWriter::sync() {
    flush();
    if (::fsync(fd_) < 0 && errno != EINVAL)
        throw Error(errno, "syncing store " + path_);
}

StoreReadResult read_store(const std::string& path, const std::function<void(const Json&)>& fn) {
    std::ifstream in = open_input(path, "opening store");
    StoreReadResult r;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        r.lines++;
        Json j;
        try {
            j = Json::parse(line);
        } catch (const ParseError&) {
            r.bad_lines++;
            continue;
        }
        fn(j);
    }
    return r;
}

} // namespace iopf
