// SPDX-License-Identifier: GPL-2.0
// The multicast listener: non-blocking, large receive buffer,
// NETLINK_BROADCAST_ERROR, loss (ENOBUFS, SEQ gaps, the tail at a sync
// point) counted and reported, with exact books (LossLedger) per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <linux/netlink.h>
#include <sys/socket.h>

#include "iopf/attrs.hpp"
#include "iopf/genl.hpp"
#include "iopf/nl_handles.hpp"
#include "iopf/seq_tracker.hpp"
#include "iopf/types.hpp"

namespace iopf {

struct LossCounters {
    uint64_t overflows = 0;      // ENOBUFS seen on the socket
    uint64_t gap_events = 0;     // SEQ jumps seen
    uint64_t missing = 0;        // sequence numbers skipped by those jumps
    uint64_t malformed = 0;      // nests or messages that failed to parse
    uint64_t resume_missing = 0; // RESUME sequence numbers skipped (gaps and tails)
    uint64_t tail_missing = 0;   // faults missing at a sync point (no later SEQ showed them)
    uint64_t recovered = 0;      // missing faults taken from a PENDING_GET dump
    uint64_t late = 0;           // counted missing at a sync point, arrived after all
    uint64_t resume_late = 0;    // likewise, RESUMEs
};

class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void on_fault(const Fault& f) = 0;
    virtual void on_resume(const Resume& r) = 0;
    // The socket overflowed: an unknown number of notifications are gone.
    virtual void on_overflow() = 0;
    // `missing` sequence numbers were skipped before `seq`.
    virtual void on_gap(uint64_t seq, uint64_t missing) = 0;
    // Likewise for RESUME notifications (their own SEQ).
    virtual void on_resume_gap(uint64_t seq, uint64_t missing) = 0;
    virtual void on_malformed(const std::string& why) = 0;
    // Of the `count` sequence numbers a gap before `seq` skipped, `count`
    // were already taken from a PENDING_GET dump (missing, but recovered).
    virtual void on_gap_recovered(uint64_t seq, uint64_t count) { (void)seq, (void)count; }
    // A sync point found `missing` faults after the last SEQ seen, from
    // `first` on, `recovered` of them already taken from a dump.
    virtual void on_tail(uint64_t first, uint64_t missing, uint64_t recovered) {
        (void)first, (void)missing, (void)recovered;
    }
    // Likewise for RESUMEs (never recoverable).
    virtual void on_resume_tail(uint64_t first, uint64_t missing) { (void)first, (void)missing; }
    // A fault (RESUME) counted missing at a sync point arrived after all:
    // the count is taken back (on_fault/on_resume follows as usual).
    virtual void on_late(uint64_t seq) { (void)seq; }
    virtual void on_resume_late(uint64_t seq) { (void)seq; }
    // An ACCESS_NTF: an access ended (completed, aborted or terminated).
    // Accesses carry no SEQ: nothing here enters the loss books.
    virtual void on_access_end(const Access& a) { (void)a; }
    // nlctrl announced a family (dis)appearing (only with watch_ctrl).
    virtual void on_family(bool added, const std::string& name) { (void)added, (void)name; }
};

// What a listener does with the bytes it received: parse every netlink
// message of a datagram, keep the books (LossLedger per stream, LossCounters)
// and call the sink. No I/O: EventSocket feeds it, the unit tests too.
class EventDispatcher {
  public:
    explicit EventDispatcher(bool watch_ctrl) : watch_ctrl_(watch_ctrl) {}

    // The family's current id (-1: none; its messages are then ignored).
    void set_family(int family) noexcept { family_ = family; }
    int family() const noexcept { return family_; }

    // Every netlink message of one datagram (as recvmsg returned it).
    // Returns the messages handled. What the sink throws propagates; the
    // rest of that datagram is then skipped.
    std::size_t dispatch(const void* data, std::size_t len, EventSink& sink);
    // A datagram that did not fit the receive slot (MSG_TRUNC).
    void truncated(std::size_t len, EventSink& sink);
    void overflowed(EventSink& sink);

    const LossCounters& loss() const noexcept { return loss_; }
    const LossLedger& ledger() const noexcept { return ledger_; }
    const LossLedger& resume_ledger() const noexcept { return resume_ledger_; }
    void reset_seq() { ledger_.start_unknown(), resume_ledger_.start_unknown(); }
    void restart_seq() { ledger_.start(0), resume_ledger_.start(0); }
    void start_seq(uint64_t fault_base, uint64_t resume_base) {
        ledger_.start(fault_base), resume_ledger_.start(resume_base);
    }
    bool note_resynced(uint64_t seq);
    void sync(uint64_t fault_seq, uint64_t resume_seq, EventSink& sink);

  private:
    void message(const nlmsghdr* nlh, EventSink& sink);

    int family_ = -1;
    bool watch_ctrl_;
    LossCounters loss_;
    LossLedger ledger_;
    LossLedger resume_ledger_;
    nl::FaultBatch batch_; // reused: no allocation per fault once warm
};

class EventSocket {
  public:
    // rcvbuf: bytes wanted (0 keeps libnl's default); watch_ctrl: also join
    // nlctrl's "notify" group to see families come and go.
    EventSocket(std::size_t rcvbuf, bool watch_ctrl);

    int fd() const noexcept;
    // (Re)join the faults group of the current family instance. False when
    // the family is not registered. The caller decides what a new family
    // instance means for the books (start_seq(), restart_seq()).
    bool subscribe();
    bool subscribed() const noexcept { return family_ >= 0; }
    int family() const noexcept { return family_; }
    void mark_gone();
    // The receive buffer the kernel granted (getsockopt, halved like the
    // kernel reports it doubled).
    std::size_t rcvbuf() const noexcept { return rcvbuf_; }
    bool rcvbuf_forced() const noexcept { return forced_; }

    // Read and dispatch until the socket is empty: recvmmsg(2), up to
    // kSlots datagrams per call. Returns messages read. When the sink
    // throws, the datagrams already received are dispatched by the next
    // call (none is dropped).
    std::size_t drain(EventSink& sink);

    static constexpr std::size_t kSlots = 32;            // datagrams per recvmmsg
    static constexpr std::size_t kSlotBytes = 32u << 10; // > the largest notification

    const LossCounters& loss() const noexcept { return disp_.loss(); }
    const LossLedger& ledger() const noexcept { return disp_.ledger(); }
    const LossLedger& resume_ledger() const noexcept { return disp_.resume_ledger(); }
    // The books of both streams: reset_seq() when joining late with no idea
    // of the history (the first SEQ is the baseline), restart_seq() for a
    // fresh module instance (SEQ from 1), start_seq() with what STATS_GET
    // said after subscribing (the exact baseline: what came before is not
    // this listener's loss).
    void reset_seq() { disp_.reset_seq(); }
    void restart_seq() { disp_.restart_seq(); }
    void start_seq(uint64_t fault_base, uint64_t resume_base) {
        disp_.start_seq(fault_base, resume_base);
    }

    // A fault with `seq` was taken from a PENDING_GET dump: true when its
    // notification was counted missing (a recovery).
    bool note_resynced(uint64_t seq) { return disp_.note_resynced(seq); }
    // A sync point: the module's last FAULT_SEQ and RESUME_SEQ (STATS_GET).
    // What lies between the last SEQ seen and them is missing. Call it only
    // with the socket drained and no injection in flight (see LossLedger).
    void sync(uint64_t fault_seq, uint64_t resume_seq, EventSink& sink) {
        disp_.sync(fault_seq, resume_seq, sink);
    }

  private:
    nl::GenlSocket ctl_; // resolution requests
    nl::SockPtr sk_;     // owns the fd; libnl only connects and joins groups
    int family_ = -1;
    int group_ = -1;
    std::size_t rcvbuf_ = 0;
    bool forced_ = false;
    EventDispatcher disp_;
    // recvmmsg state: kSlots receive slots, and the datagrams of the last
    // call not yet dispatched ([next_, got_)).
    std::vector<unsigned char> buf_;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> msgs_;
    std::vector<sockaddr_nl> from_;
    std::size_t got_ = 0;
    std::size_t next_ = 0;

    void dispatch_slot(std::size_t i, EventSink& sink, std::size_t& n);
};

} // namespace iopf
