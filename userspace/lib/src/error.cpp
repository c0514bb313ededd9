// SPDX-License-Identifier: GPL-2.0
#include "iopf/error.hpp"

#include <cerrno>
#include <cstring>

#include <netlink/errno.h>

namespace iopf {

namespace {

std::string compose(int err, const std::string& context, const std::string& extack) {
    std::string s = context + ": " + std::strerror(err);
    if (!extack.empty())
        s += ": " + extack;
    return s;
}

int nl_to_errno(int nlerr) {
    switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_NOMEM:
        return ENOMEM;
    case NLE_PERM:
        return EPERM;
    case NLE_OBJ_NOTFOUND:
        return ENOENT;
    case NLE_AGAIN:
        return EAGAIN;
    case NLE_INVAL:
        return EINVAL;
    case NLE_RANGE:
        return ERANGE;
    case NLE_MSGSIZE:
        return EMSGSIZE;
    case NLE_BUSY:
        return EBUSY;
    case NLE_EXIST:
        return EEXIST;
    case NLE_NODEV:
        return ENODEV;
    case NLE_OPNOTSUPP:
        return EOPNOTSUPP;
    case NLE_NOACCESS:
        return EACCES;
    default:
        return EIO;
    }
}

} // namespace

Error::Error(int err, const std::string& context, std::string extack)
    : std::runtime_error(compose(err, context, extack)), err_(err), extack_(std::move(extack)) {}

Error Error::from_nl(int nlerr, const std::string& context) {
    return Error(nl_to_errno(nlerr), context + " (libnl: " + nl_geterror(nlerr) + ")");
}

} // namespace iopf
