// SPDX-License-Identifier: GPL-2.0
// The multicast listener: non-blocking, large receive buffer,
// NETLINK_BROADCAST_ERROR, loss (ENOBUFS, SEQ gaps) counted and reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

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
    uint64_t resume_missing = 0; // RESUME sequence numbers skipped
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
    // nlctrl announced a family (dis)appearing (only with watch_ctrl).
    virtual void on_family(bool added, const std::string& name) { (void)added, (void)name; }
};

class EventSocket {
  public:
    // rcvbuf: bytes wanted (0 keeps libnl's default); watch_ctrl: also join
    // nlctrl's "notify" group to see families come and go.
    EventSocket(std::size_t rcvbuf, bool watch_ctrl);

    int fd() const noexcept;
    // (Re)join the faults group of the current family instance. False when
    // the family is not registered. The caller decides what a new family
    // instance means for the SEQ tracker (seq().restart()).
    bool subscribe();
    bool subscribed() const noexcept { return family_ >= 0; }
    int family() const noexcept { return family_; }
    void mark_gone();
    // The receive buffer the kernel granted (getsockopt, halved like the
    // kernel reports it doubled).
    std::size_t rcvbuf() const noexcept { return rcvbuf_; }
    bool rcvbuf_forced() const noexcept { return forced_; }

    // Read and dispatch until the socket is empty. Returns messages read.
    std::size_t drain(EventSink& sink);

    const LossCounters& loss() const noexcept { return loss_; }
    SeqTracker& seq() noexcept { return seq_; }
    SeqTracker& resume_seq() noexcept { return resume_seq_; }
    // Both trackers: reset() when joining late, restart() for a new module instance.
    void reset_seq() { seq_.reset(), resume_seq_.reset(); }
    void restart_seq() { seq_.restart(), resume_seq_.restart(); }

  private:
    struct Dispatch;
    static int on_valid(nl_msg* msg, void* arg);

    nl::GenlSocket ctl_; // resolution requests
    nl::SockPtr sk_;
    nl::CbPtr cb_;
    int family_ = -1;
    int group_ = -1;
    bool watch_ctrl_;
    std::size_t rcvbuf_ = 0;
    bool forced_ = false;
    LossCounters loss_;
    SeqTracker seq_;
    SeqTracker resume_seq_;
    EventSink* sink_ = nullptr;
    std::exception_ptr pending_exc_;
};

} // namespace iopf
