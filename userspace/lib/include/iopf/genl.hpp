// SPDX-License-Identifier: GPL-2.0
// A generic netlink socket: family/group resolution and request/ack with
// the kernel's extack text surfaced as iopf::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "iopf/nl_handles.hpp"

struct nlmsghdr;

namespace iopf::nl {

using AttrWriter = std::function<void(nl_msg*)>;
using ReplyHandler = std::function<void(nlmsghdr*)>;

// What an NLMSG_ERROR (or an NLMSG_DONE carrying an error) says: a positive
// errno (0 for a plain ack) and the extack message, if any.
struct AckInfo {
    int err = 0;
    std::string extack;
};

class GenlSocket {
  public:
    GenlSocket();

    nl_sock* get() const noexcept { return sk_.get(); }
    int fd() const noexcept;

    // The family's id, or nullopt when it is not registered.
    std::optional<int> try_resolve_family(const char* name);
    // Throws Error(ENOENT) naming the family when it is not registered.
    int resolve_family(const char* name);
    int resolve_group(const char* family, const char* group);

    // Send one request and wait for its ack (or, for dumps, NLMSG_DONE).
    // reply is called for every reply message. Throws Error on a kernel
    // error (with extack text) or a socket error; exceptions thrown by the
    // handler propagate after the exchange completed.
    void request(int family, uint8_t cmd, int flags, const AttrWriter& attrs,
                 const ReplyHandler& reply, const std::string& context);

    // Requests with no reply but an ack (PAGE_RESPONSE): all sent, then
    // all acks read. Returns, per request in order, its ack (err 0: done).
    // Throws Error only when the socket fails.
    std::vector<AckInfo> request_batch(int family, uint8_t cmd,
                                       const std::vector<AttrWriter>& attrs,
                                       const std::string& context);

  private:
    static constexpr uint32_t kBatchSeqBase = 0x80000000u;
    SockPtr sk_;
    uint32_t batch_seq_ = kBatchSeqBase; // request_batch()'s sequence numbers
};

AckInfo parse_ack(const nlmsghdr* nlh);

// Enable extended acks on a socket (best effort: old kernels lack it).
void enable_ext_ack(nl_sock* sk);

// Throw Error(EMSGSIZE) when an nla_put*() failed.
void check_put(int rc, const char* what);

} // namespace iopf::nl
