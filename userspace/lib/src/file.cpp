// SPDX-License-Identifier: GPL-2.0
#include "iopf/file.hpp"

#include <cerrno>

#include <sys/stat.h>

#include "iopf/error.hpp"

namespace iopf {

std::ifstream open_input(const std::string& path, const std::string& context) {
    errno = 0;
    std::ifstream in(path);
    if (!in)
        throw Error(errno ? errno : ENOENT, context + " " + path);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(EISDIR, context + " " + path);
    return in;
}

} // namespace iopf
