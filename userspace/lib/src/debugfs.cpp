// SPDX-License-Identifier: GPL-2.0
#include "iopf/debugfs.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "iopf/error.hpp"
#include "iopf/record.hpp"

namespace iopf {

std::string inject_text(const std::vector<Record>& records) {
    std::string s;
    for (const auto& r : records) {
        s += format_record(r);
        s += '\n';
    }
    return s;
}

void inject_records(const std::string& dir, const std::vector<Record>& records) {
    const std::string path = dir + "/inject";
    const std::string text = inject_text(records);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(errno, "opening " + path);
    // One write: the module rejects writes at a non-zero offset.
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = errno;
    ::close(fd);
    if (n < 0)
        throw Error(err, "writing " + path,
                    err == EINVAL ? "the module rejected the records (see dmesg)" : "");
    if (static_cast<std::size_t>(n) != text.size())
        throw Error(EIO, "writing " + path + ": short write");
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw Error(errno ? errno : ENOENT, "reading " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace iopf
