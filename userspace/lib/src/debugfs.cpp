// SPDX-License-Identifier: GPL-2.0
#include "iopf/debugfs.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/file.hpp"
#include "iopf/record.hpp"

namespace iopf {

std::string inject_text(std::span<const Record> records) {
    std::string s;
    for (const auto& r : records) {
        s += format_record(r);
        s += '\n';
    }
    return s;
}

std::size_t inject_records(const std::string& dir, const std::vector<Record>& records) {
    const std::string path = dir + "/inject";
    if (records.empty())
        throw Error(EINVAL, "writing " + path, "no records to inject");
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(errno, "opening " + path);
    std::size_t done = 0, writes = 0;
    while (done < records.size()) {
        std::size_t n = std::min(kInjectBatch, records.size() - done);
        const std::string text = inject_text(std::span(records).subspan(done, n));
        // At offset 0: the module parses each write whole and rejects writes
        // at a non-zero offset.
        ssize_t w = ::pwrite(fd, text.data(), text.size(), 0);
        int err = errno;
        if (w < 0 || static_cast<std::size_t>(w) != text.size()) {
            ::close(fd);
            std::string ctx = "writing " + path;
            if (done)
                ctx += fmt::format(" (after {} of {} records)", done, records.size());
            if (w >= 0)
                throw Error(EIO, ctx + ": short write");
            throw Error(err, ctx,
                        err == EINVAL ? "the module rejected the records (see dmesg)" : "");
        }
        done += n;
        writes++;
    }
    ::close(fd);
    return writes;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in = open_input(path, "reading");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace iopf
