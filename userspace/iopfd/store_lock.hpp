// SPDX-License-Identifier: GPL-2.0
// One daemon per store: an exclusive flock(2) on the store file, held for
// as long as the daemon writes it. A second iopfd on the same store stops
// at start with a clear message instead of interleaving lines.
#pragma once

#include <string>

namespace iopfd {

class StoreLock {
  public:
    // Creates the store if needed and locks it. Throws iopf::Error, or
    // std::runtime_error when another open file (another iopfd) holds it.
    explicit StoreLock(const std::string& path);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

    const std::string& path() const noexcept { return path_; }

  private:
    std::string path_;
    int fd_ = -1;
};

} // namespace iopfd
