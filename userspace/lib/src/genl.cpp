// SPDX-License-Identifier: GPL-2.0
#include "iopf/genl.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <sys/socket.h>

#include <uapi/linux/iopf_testbed.h>

#include "iopf/error.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace iopf::nl {

namespace {

struct Exchange {
    bool done = false;
    int err = 0; // positive errno from the kernel
    std::string extack;
    const ReplyHandler* reply = nullptr;
    std::exception_ptr exc;
};

// The extack TLVs behind a struct nlmsgerr (or NLMSG_DONE's int).
std::string extack_msg(const nlmsghdr* nlh, std::size_t payload_used) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
        return {};
    const auto* base = reinterpret_cast<const char*>(nlh) + NLMSG_HDRLEN;
    long len = static_cast<long>(nlh->nlmsg_len) - NLMSG_HDRLEN - static_cast<long>(payload_used);
    if (len <= 0)
        return {};
    nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
    auto* attrs = reinterpret_cast<nlattr*>(const_cast<char*>(base + payload_used));
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, static_cast<int>(len), nullptr) < 0)
        return {};
    if (!tb[NLMSGERR_ATTR_MSG] || nla_len(tb[NLMSGERR_ATTR_MSG]) < 1)
        return {};
    const char* s = static_cast<const char*>(nla_data(tb[NLMSGERR_ATTR_MSG]));
    return std::string(s, strnlen(s, static_cast<std::size_t>(nla_len(tb[NLMSGERR_ATTR_MSG]))));
}

int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
    auto* x = static_cast<Exchange*>(arg);
    const auto* nlh =
        reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
    AckInfo a = parse_ack(nlh);
    x->err = a.err;
    x->extack = std::move(a.extack);
    x->done = true;
    return NL_STOP;
}

int on_ack(nl_msg*, void* arg) {
    static_cast<Exchange*>(arg)->done = true;
    return NL_STOP;
}

int on_finish(nl_msg* msg, void* arg) {
    auto* x = static_cast<Exchange*>(arg);
    // A dump may end with an error in NLMSG_DONE.
    AckInfo a = parse_ack(nlmsg_hdr(msg));
    x->err = a.err;
    x->extack = std::move(a.extack);
    x->done = true;
    return NL_STOP;
}

int on_valid(nl_msg* msg, void* arg) {
    auto* x = static_cast<Exchange*>(arg);
    if (x->exc || !x->reply || !*x->reply)
        return NL_OK;
    try {
        (*x->reply)(nlmsg_hdr(msg));
    } catch (...) {
        // Keep reading to the ack so the socket stays in sequence.
        x->exc = std::current_exception();
    }
    return NL_OK;
}

} // namespace

AckInfo parse_ack(const nlmsghdr* nlh) {
    AckInfo a;
    const std::size_t payload = nlh->nlmsg_len >= NLMSG_HDRLEN ? nlh->nlmsg_len - NLMSG_HDRLEN : 0;
    const char* data = reinterpret_cast<const char*>(nlh) + NLMSG_HDRLEN;
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        if (payload < sizeof(nlmsgerr))
            return {EBADMSG, "truncated NLMSG_ERROR"};
        nlmsgerr e;
        std::memcpy(&e, data, sizeof(e));
        std::size_t used = sizeof(e);
        // Without NLM_F_CAPPED the request's payload is echoed before the TLVs.
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e.msg.nlmsg_len >= NLMSG_HDRLEN)
            used += NLMSG_ALIGN(e.msg.nlmsg_len - NLMSG_HDRLEN);
        a.err = -e.error;
        if (a.err)
            a.extack = extack_msg(nlh, used);
    } else if (nlh->nlmsg_type == NLMSG_DONE && payload >= sizeof(int)) {
        int err;
        std::memcpy(&err, data, sizeof(err));
        if (err < 0) {
            a.err = -err;
            a.extack = extack_msg(nlh, sizeof(int));
        }
    }
    return a;
}

void enable_ext_ack(nl_sock* sk) {
    int one = 1;
    setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
}

void check_put(int rc, const char* what) {
    if (rc < 0)
        throw Error(EMSGSIZE, std::string("building message: ") + what);
}

GenlSocket::GenlSocket() : sk_(nl_socket_alloc()) {
    if (!sk_)
        throw Error(ENOMEM, "nl_socket_alloc");
    int rc = genl_connect(sk_.get());
    if (rc < 0)
        throw Error::from_nl(rc, "connecting a generic netlink socket");
    enable_ext_ack(sk_.get());
    // Replies (dumps of many devices) may exceed a page.
    nl_socket_enable_msg_peek(sk_.get());
}

int GenlSocket::fd() const noexcept {
    return nl_socket_get_fd(sk_.get());
}

std::optional<int> GenlSocket::try_resolve_family(const char* name) {
    int id = genl_ctrl_resolve(sk_.get(), name);
    if (id < 0) {
        if (id == -NLE_OBJ_NOTFOUND)
            return std::nullopt;
        throw Error::from_nl(id, std::string("resolving family ") + name);
    }
    return id;
}

int GenlSocket::resolve_family(const char* name) {
    auto id = try_resolve_family(name);
    if (!id)
        throw Error(ENOENT,
                    std::string("generic netlink family '") + name + "' (is the module loaded?)");
    return *id;
}

int GenlSocket::resolve_group(const char* family, const char* group) {
    int id = genl_ctrl_resolve_grp(sk_.get(), family, group);
    if (id < 0)
        throw Error::from_nl(id, std::string("resolving multicast group ") + family + "/" + group);
    return id;
}

void GenlSocket::request(int family, uint8_t cmd, int flags, const AttrWriter& attrs,
                         const ReplyHandler& reply, const std::string& context) {
    MsgPtr msg(nlmsg_alloc());
    if (!msg)
        throw Error(ENOMEM, context);
    if (!genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
                     IOPF_GENL_VERSION))
        throw Error(EMSGSIZE, context);
    if (attrs)
        attrs(msg.get());

    CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
    if (!cb)
        throw Error(ENOMEM, context);
    Exchange x;
    x.reply = &reply;
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
    nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &x);
    nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &x);
    nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &x);

    int rc = nl_send_auto(sk_.get(), msg.get());
    if (rc < 0)
        throw Error::from_nl(rc, context);
    while (!x.done) {
        rc = nl_recvmsgs(sk_.get(), cb.get());
        if (x.err)
            break;
        if (rc < 0)
            throw Error::from_nl(rc, context);
    }
    if (x.err)
        throw Error(x.err, context, x.extack);
    if (x.exc)
        std::rethrow_exception(x.exc);
}

std::vector<AckInfo> GenlSocket::request_batch(int family, uint8_t cmd,
                                               const std::vector<AttrWriter>& attrs,
                                               const std::string& context) {
    std::vector<AckInfo> acks(attrs.size());
    if (attrs.empty())
        return acks;
    // All sent first (the kernel handles each in our sendmsg and queues its
    // ack), then the acks read back: one wait for the lot, not one each.
    // Their sequence numbers are our own, above libnl's (which counts from
    // the time of day): libnl's expected number must not move, or the next
    // request() would see a mismatch.
    if (batch_seq_ > UINT32_MAX - attrs.size())
        batch_seq_ = kBatchSeqBase;
    const uint32_t first = batch_seq_;
    batch_seq_ += static_cast<uint32_t>(attrs.size());
    for (std::size_t i = 0; i < attrs.size(); i++) {
        MsgPtr msg(nlmsg_alloc());
        if (!msg)
            throw Error(ENOMEM, context);
        if (!genlmsg_put(msg.get(), NL_AUTO_PORT, first + static_cast<uint32_t>(i), family, 0, 0,
                         cmd, IOPF_GENL_VERSION))
            throw Error(EMSGSIZE, context);
        attrs[i](msg.get());
        int rc = nl_send_auto(sk_.get(), msg.get());
        if (rc < 0)
            throw Error::from_nl(rc, context);
    }
    std::vector<bool> seen(attrs.size());
    std::size_t left = attrs.size();
    while (left) {
        sockaddr_nl from{};
        unsigned char* raw = nullptr;
        int n = nl_recv(sk_.get(), &from, &raw, nullptr);
        std::unique_ptr<unsigned char, decltype(&std::free)> buf(raw, &std::free);
        if (n <= 0)
            throw Error::from_nl(n < 0 ? n : -NLE_FAILURE, context + ": reading the acks");
        auto* h = reinterpret_cast<nlmsghdr*>(buf.get());
        for (; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
            if (h->nlmsg_type != NLMSG_ERROR)
                continue;
            const uint32_t i = h->nlmsg_seq - first; // sequence numbers are consecutive
            if (i >= attrs.size() || seen[i])
                continue;
            seen[i] = true;
            acks[i] = parse_ack(h);
            left--;
        }
    }
    return acks;
}

} // namespace iopf::nl
