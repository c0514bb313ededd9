// SPDX-License-Identifier: GPL-2.0
#include "store_lock.hpp"

#include <cerrno>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "iopf/error.hpp"

namespace iopfd {

StoreLock::StoreLock(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw iopf::Error(errno, "opening store " + path);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            throw std::runtime_error("store " + path +
                                     " is in use by another iopfd (stop it, or give this one "
                                     "another store)");
        throw iopf::Error(err, "locking store " + path);
    }
}

StoreLock::~StoreLock() {
    if (fd_ >= 0)
        ::close(fd_); // releases the lock
}

} // namespace iopfd
