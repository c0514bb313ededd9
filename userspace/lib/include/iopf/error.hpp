// SPDX-License-Identifier: GPL-2.0
// Typed errors: an errno plus, for kernel replies, the extack message.
#pragma once

#include <stdexcept>
#include <string>

namespace iopf {

class Error : public std::runtime_error {
  public:
    // err: a positive errno. context: what was being done.
    Error(int err, const std::string& context, std::string extack = {});

    int err() const noexcept { return err_; }
    const std::string& extack() const noexcept { return extack_; }

    // From a negative libnl error code (-NLE_*).
    static Error from_nl(int nlerr, const std::string& context);

  private:
    int err_;
    std::string extack_;
};

// Malformed input (netlink attributes, records, config, logs).
class ParseError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

} // namespace iopf
