// SPDX-License-Identifier: GPL-2.0
// RAII owners for every libnl handle the library uses.
#pragma once

#include <memory>

#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

namespace iopf::nl {

template <auto Free> struct Deleter {
    template <typename T> void operator()(T* p) const noexcept {
        if (p)
            Free(p);
    }
};

using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nlmsg_free>>;
using CbPtr = std::unique_ptr<nl_cb, Deleter<nl_cb_put>>;

} // namespace iopf::nl
