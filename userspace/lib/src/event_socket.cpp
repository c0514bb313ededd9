// SPDX-License-Identifier: GPL-2.0
#include "iopf/event_socket.hpp"

#include <cerrno>
#include <string>

#include <fmt/core.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include "iopf/attrs.hpp"
#include "iopf/error.hpp"
#include "iopf/genl.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace iopf {

namespace {

// Ask for `bytes`; SO_RCVBUFFORCE (root) passes net.core.rmem_max,
// SO_RCVBUF is capped by it. Returns whether the forced call worked.
bool size_rcvbuf(int fd, std::size_t bytes) {
    int v = static_cast<int>(bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
        return true;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    return false;
}

std::size_t get_rcvbuf(int fd) {
    int v = 0;
    socklen_t len = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0)
        return 0;
    return static_cast<std::size_t>(v);
}

void handle_ctrl(const nlmsghdr* nlh, EventSink& sink) {
    uint8_t cmd = nl::genl_cmd(nlh);
    if (cmd != CTRL_CMD_NEWFAMILY && cmd != CTRL_CMD_DELFAMILY)
        return;
    auto* gh = static_cast<genlmsghdr*>(nlmsg_data(const_cast<nlmsghdr*>(nlh)));
    nlattr* tb[CTRL_ATTR_MAX + 1] = {};
    if (nla_parse(tb, CTRL_ATTR_MAX, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), nullptr) < 0)
        return;
    if (!tb[CTRL_ATTR_FAMILY_NAME])
        return;
    sink.on_family(cmd == CTRL_CMD_NEWFAMILY, nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]));
}

} // namespace

EventSocket::EventSocket(std::size_t rcvbuf, bool watch_ctrl)
    : sk_(nl_socket_alloc()), disp_(watch_ctrl), buf_(kSlots * kSlotBytes), iov_(kSlots),
      msgs_(kSlots), from_(kSlots) {
    if (!sk_)
        throw Error(ENOMEM, "allocating the event socket");
    // Notifications are unsolicited: no sequence numbers to check. The
    // socket is read with recvmmsg(2) on its fd, not through libnl.
    nl_socket_disable_seq_check(sk_.get());
    nl_socket_disable_auto_ack(sk_.get());
    int rc = genl_connect(sk_.get());
    if (rc < 0)
        throw Error::from_nl(rc, "connecting the event socket");
    int fd = nl_socket_get_fd(sk_.get());
    // libnl sets its own buffer size at connect: size it afterwards.
    if (rcvbuf)
        forced_ = size_rcvbuf(fd, rcvbuf);
    rcvbuf_ = get_rcvbuf(fd) / 2;
    // Without this the kernel reports a full listener as "nobody listening"
    // and counts nothing in NOTIFY_LOST.
    int one = 1;
    if (setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof(one)) < 0)
        throw Error(errno, "setting NETLINK_BROADCAST_ERROR");
    rc = nl_socket_set_nonblocking(sk_.get());
    if (rc < 0)
        throw Error::from_nl(rc, "making the event socket non-blocking");
    for (std::size_t i = 0; i < kSlots; i++) {
        iov_[i] = {buf_.data() + i * kSlotBytes, kSlotBytes};
        msgs_[i] = {};
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    if (watch_ctrl) {
        rc = genl_ctrl_resolve_grp(ctl_.get(), "nlctrl", "notify");
        if (rc < 0)
            throw Error::from_nl(rc, "resolving nlctrl/notify");
        rc = nl_socket_add_membership(sk_.get(), rc);
        if (rc < 0)
            throw Error::from_nl(rc, "joining nlctrl/notify");
    }
}

int EventSocket::fd() const noexcept {
    return nl_socket_get_fd(sk_.get());
}

void EventSocket::mark_gone() {
    family_ = -1;
    group_ = -1;
    disp_.set_family(-1);
}

bool EventSocket::subscribe() {
    // Resolution runs on a separate blocking socket: replies on this one
    // would mix with notifications.
    auto fam = ctl_.try_resolve_family(IOPF_GENL_NAME);
    if (!fam) {
        mark_gone();
        return false;
    }
    int grp = genl_ctrl_resolve_grp(ctl_.get(), IOPF_GENL_NAME, IOPF_GENL_MCGRP_FAULTS);
    if (grp < 0) {
        mark_gone();
        if (grp == -NLE_OBJ_NOTFOUND)
            return false;
        throw Error::from_nl(grp, "resolving " IOPF_GENL_NAME "/" IOPF_GENL_MCGRP_FAULTS);
    }
    // Joining again is harmless; after a reload the old membership is gone.
    int rc = nl_socket_add_membership(sk_.get(), grp);
    if (rc < 0)
        throw Error::from_nl(rc, "joining " IOPF_GENL_NAME "/" IOPF_GENL_MCGRP_FAULTS);
    family_ = *fam;
    group_ = grp;
    disp_.set_family(family_);
    return true;
}

void EventSocket::dispatch_slot(std::size_t i, EventSink& sink, std::size_t& n) {
    if (from_[i].nl_pid != 0)
        return; // only the kernel speaks on these groups
    if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC)
        disp_.truncated(msgs_[i].msg_len, sink);
    else
        n += disp_.dispatch(iov_[i].iov_base, msgs_[i].msg_len, sink);
}

std::size_t EventSocket::drain(EventSink& sink) {
    const int fd = nl_socket_get_fd(sk_.get());
    std::size_t n = 0;
    for (;;) {
        // Dispatch first what an earlier call received (a sink threw).
        while (next_ < got_)
            dispatch_slot(next_++, sink, n);
        got_ = next_ = 0;
        for (std::size_t i = 0; i < kSlots; i++) {
            msgs_[i].msg_hdr.msg_name = &from_[i];
            msgs_[i].msg_hdr.msg_namelen = sizeof(from_[i]);
            msgs_[i].msg_hdr.msg_flags = 0;
            msgs_[i].msg_len = 0;
        }
        int rc = ::recvmmsg(fd, msgs_.data(), kSlots, MSG_DONTWAIT, nullptr);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ENOBUFS) {
                // The socket overflowed and dropped notifications.
                disp_.overflowed(sink);
                continue;
            }
            throw Error(errno, "receiving notifications");
        }
        if (rc == 0)
            break;
        got_ = static_cast<std::size_t>(rc);
        if (got_ < kSlots) {
            // Fewer than asked: the queue was empty. Dispatch and stop
            // without the call that would only say EAGAIN (what arrives
            // meanwhile, or an overflow, wakes the caller's poll again).
            while (next_ < got_)
                dispatch_slot(next_++, sink, n);
            got_ = next_ = 0;
            break;
        }
    }
    return n;
}

// ---- EventDispatcher ---------------------------------------------------------

std::size_t EventDispatcher::dispatch(const void* data, std::size_t len, EventSink& sink) {
    std::size_t n = 0;
    auto* nlh = static_cast<nlmsghdr*>(const_cast<void*>(data));
    int rem = static_cast<int>(len);
    for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
        n++;
        if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
            continue; // NOOP, ERROR, DONE, OVERRUN: nothing for a listener
        message(nlh, sink);
    }
    if (rem > 0) {
        loss_.malformed++;
        sink.on_malformed("notification datagram: trailing bytes after the messages");
    }
    return n;
}

void EventDispatcher::truncated(std::size_t len, EventSink& sink) {
    loss_.malformed++;
    sink.on_malformed(fmt::format("notification of {} bytes truncated by the receive slot", len));
}

void EventDispatcher::overflowed(EventSink& sink) {
    loss_.overflows++;
    sink.on_overflow();
}

void EventDispatcher::message(const nlmsghdr* nlh, EventSink& sink) {
    try {
        if (watch_ctrl_ && nlh->nlmsg_type == GENL_ID_CTRL) {
            handle_ctrl(nlh, sink);
            return;
        }
        if (family_ < 0 || nlh->nlmsg_type != family_)
            return;
        uint8_t cmd = nl::genl_cmd(nlh);
        if (cmd == IOPF_CMD_FAULT_NTF) {
            nl::parse_fault_msg(nlh, batch_);
            for (const auto& e : batch_.errors) {
                loss_.malformed++;
                sink.on_malformed(e);
            }
            for (const auto& f : batch_.faults) {
                auto fed = ledger_.notified(*f.seq);
                if (fed.gap) {
                    loss_.gap_events++;
                    loss_.missing += fed.gap;
                    sink.on_gap(*f.seq, fed.gap);
                }
                if (fed.recovered) {
                    loss_.recovered += fed.recovered;
                    sink.on_gap_recovered(*f.seq, fed.recovered);
                }
                if (fed.late) {
                    loss_.late++;
                    sink.on_late(*f.seq);
                }
                sink.on_fault(f);
            }
        } else if (cmd == IOPF_CMD_RESUME_NTF) {
            Resume r = nl::parse_resume_msg(nlh);
            auto fed = resume_ledger_.notified(r.seq);
            if (fed.gap) {
                loss_.resume_missing += fed.gap;
                sink.on_resume_gap(r.seq, fed.gap);
            }
            if (fed.late) {
                loss_.resume_late++;
                sink.on_resume_late(r.seq);
            }
            sink.on_resume(r);
        } else if (cmd == IOPF_CMD_ACCESS_NTF) {
            // A malformed one counts as any malformed notification.
            sink.on_access_end(nl::parse_access_msg(nlh));
        }
    } catch (const ParseError& e) {
        loss_.malformed++;
        sink.on_malformed(e.what());
    }
}

bool EventDispatcher::note_resynced(uint64_t seq) {
    if (!ledger_.resynced(seq))
        return false;
    loss_.recovered++;
    return true;
}

void EventDispatcher::sync(uint64_t fault_seq, uint64_t resume_seq, EventSink& sink) {
    auto t = ledger_.sync(fault_seq);
    if (t.missing) {
        loss_.tail_missing += t.missing;
        loss_.recovered += t.recovered;
        sink.on_tail(t.first, t.missing, t.recovered);
    }
    auto rt = resume_ledger_.sync(resume_seq);
    if (rt.missing) {
        loss_.resume_missing += rt.missing;
        sink.on_resume_tail(rt.first, rt.missing);
    }
}

} // namespace iopf
