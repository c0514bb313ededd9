// SPDX-License-Identifier: GPL-2.0
// iopf_bench: the figures of Documentation/performance.md, measured in the
// guest (tests/guest/bench.sh runs it). Not a test: it prints numbers.
//
//   iopf_bench stream  [--faults N] [--listen] [--rcvbuf BYTES] [--sid SID]
//       N unrecoverable faults (a FLAT|UNRECOV device: nothing stays pending)
//       written to debugfs inject as text, 1024 records per write(2), from
//       CPU 0. With --listen, the library's EventSocket (libnl) drains them
//       on CPU 1; loss is what its LossLedger counts missing (gaps, and the
//       tail against STATS_GET FAULT_SEQ). Without, nobody listens: the
//       write time is the kernel's cost (parse, decode, report, build and
//       multicast the notification).
//   iopf_bench inject  [--faults N] [--per-write K] [--format text|raw]
//       injection alone (nobody listening): N unrecoverable faults written K
//       records per write(2), as text (inject) or binary (inject_raw).
//   iopf_bench ceiling [--faults N] [--rcvbuf BYTES]
//       the guest's ceiling: debugfs bench_ceiling multicasts N pre-built
//       fault notifications (fault_batch per message, packed as real ones);
//       a listener that only counts them (recvmmsg, 32 per call, the same
//       buffer as iopfd) on CPU 1.
//   iopf_bench bare    [--faults N] [--per-write K] [--format text|raw] [--rcvbuf BYTES]
//                      [--pace FAULTS_PER_S]
//       e2e's injection (same records, writes and device flags) received by
//       the ceiling's counting listener instead of iopfd: the rate and the
//       latency (write start -> received) of the path with a consumer that
//       costs nothing.
//   iopf_bench e2e     [--faults N] [--per-write K] [--format text|raw]
//                      [--pace FAULTS_PER_S] [--rcvbuf BYTES] [--trace FILE]
//       end to end into iopfd's store: starts iopfd (CPU 1) on a fresh store
//       with a FLAT|UNRECOV device, injects N faults (K per write, back to
//       back or paced), tails the store (inotify) until every fault is
//       stored or nothing comes for 3 s, reads iopfd's RSS, stops it and
//       reads its books. Latency = when the fault's line was read from the
//       store - when the write that injected it started. --trace: one line
//       per write, "START_MS WORST_LATENCY_MS" (where a latency tail comes from).
//   iopf_bench devices [--count N]
//       memory per device: slab before and after N devices with a handler.
//   iopf_bench parse   [--reps R]
//       the in-kernel text parse per record: a write of 1024 good records
//       and a bad last line (parsed whole, then refused) against one of the
//       same size whose first line is bad (refused at once).
//   iopf_bench pending [--count N] [--sid SID]
//       memory per pending page request: /proc/meminfo (Slab, MemAvailable)
//       and the kmalloc caches of /proc/slabinfo before and after N page
//       requests nobody answers; the device is removed afterwards.
// Output: one "key=value ..." line per run.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <fmt/core.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iopf/client.hpp"
#include "iopf/config.hpp"
#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/genl.hpp"
#include "iopf/json.hpp"
#include "iopf/nl_handles.hpp"
#include "iopf/record.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPerWrite = 1024;

double secs(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set); // best effort
}

struct Args {
    std::map<std::string, std::string> kv;
    bool has(const std::string& k) const { return kv.count(k) > 0; }
    uint64_t num(const std::string& k, uint64_t def) const {
        auto it = kv.find(k);
        return it == kv.end() ? def : std::stoull(it->second, nullptr, 0);
    }
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 2; i < argc; i++) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0)
            throw std::invalid_argument(
                fmt::format("unexpected {}", k)); // not "..." + k: GCC 12 -Wrestrict
        k = k.substr(2);
        // Whole strings moved in, not char* assigned: GCC 12 -O3 -Wrestrict
        if (k == "listen")
            a.kv[k] = std::string(1, '1');
        else if (i + 1 < argc)
            a.kv[k] = std::string(argv[++i]);
        else
            throw std::invalid_argument(fmt::format("--{} needs a value", k));
    }
    return a;
}

// A fresh device with a handler, removed (pending flushed) at the end.
struct Device {
    iopf::Client& c;
    uint32_t sid;
    Device(iopf::Client& cl, uint32_t s, uint32_t flags) : c(cl), sid(s) {
        try {
            c.dev_del(sid);
        } catch (const iopf::Error&) {
        }
        c.dev_new(sid);
        c.handler_register(sid, flags);
    }
    ~Device() {
        try {
            c.dev_del(sid);
        } catch (...) {
        }
    }
};

// `n` records, cut into writes of `per` records: text for inject, or
// 32-byte little-endian records for inject_raw.
std::vector<std::string> make_writes(uint32_t sid, uint64_t n, bool stall, uint64_t per = kPerWrite,
                                     bool raw = false) {
    std::vector<std::string> writes;
    std::string cur;
    for (uint64_t i = 0; i < n; i++) {
        iopf::RecordFields f;
        f.sid = sid;
        f.stall = stall;
        f.stag = static_cast<uint32_t>(i & 0xffff);
        f.addr = 0x100000000ull + (i & 0xfffff) * 0x1000;
        auto rec = iopf::build_record(f);
        if (raw) {
            for (uint64_t w : rec) {
                uint64_t le = htole64(w);
                cur.append(reinterpret_cast<const char*>(&le), sizeof(le));
            }
        } else {
            cur += iopf::format_record(rec);
            cur += '\n';
        }
        if ((i + 1) % per == 0) {
            writes.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty())
        writes.push_back(std::move(cur));
    return writes;
}

int open_debugfs(const char* name) {
    const std::string path = std::string(iopf::kDefaultDebugfs) + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw iopf::Error(errno, "opening " + path);
    return fd;
}

bool raw_format(const Args& a) {
    if (!a.has("format") || a.kv.at("format") == "text")
        return false;
    if (a.kv.at("format") == "raw")
        return true;
    throw std::invalid_argument("--format: text or raw");
}

int open_inject() {
    const std::string path = std::string(iopf::kDefaultDebugfs) + "/inject";
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw iopf::Error(errno, "opening " + path);
    return fd;
}

// One write at offset 0 (the module refuses others); returns errno or 0.
int write_at0(int fd, const std::string& s) {
    ssize_t n = ::pwrite(fd, s.data(), s.size(), 0);
    if (n < 0)
        return errno;
    if (static_cast<std::size_t>(n) != s.size())
        throw iopf::Error(EIO, "short write to inject");
    return 0;
}

struct Counter : iopf::EventSink {
    std::atomic<uint64_t> faults{0};
    Clock::time_point last{};
    void on_fault(const iopf::Fault&) override {
        faults.fetch_add(1, std::memory_order_relaxed);
        last = Clock::now();
    }
    void on_resume(const iopf::Resume&) override {}
    void on_overflow() override {}
    void on_gap(uint64_t, uint64_t) override {}
    void on_resume_gap(uint64_t, uint64_t) override {}
    void on_malformed(const std::string&) override {}
};

int cmd_stream(const Args& a) {
    const uint64_t n = a.num("faults", 262144);
    const uint32_t sid = static_cast<uint32_t>(a.num("sid", 0x50));
    const bool listen = a.has("listen");
    const std::size_t rcvbuf =
        a.has("rcvbuf") ? iopf::parse_size(a.kv.at("rcvbuf")) : std::size_t(16) << 20;
    iopf::Client c;
    Device dev(c, sid, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
    auto writes = make_writes(sid, n, false);
    int fd = open_inject();

    std::unique_ptr<iopf::EventSocket> sock;
    Counter sink;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> target{0};
    std::thread listener;
    if (listen) {
        sock = std::make_unique<iopf::EventSocket>(rcvbuf, false);
        if (!sock->subscribe())
            throw iopf::Error(ENOENT, "subscribing");
        auto m = c.seq_marks();
        sock->start_seq(m.fault_seq, m.resume_seq);
        listener = std::thread([&] {
            pin(1);
            auto idle_since = Clock::now();
            for (;;) {
                pollfd p{sock->fd(), POLLIN, 0};
                int r = ::poll(&p, 1, 20);
                std::size_t got = r > 0 ? sock->drain(sink) : 0;
                if (got)
                    idle_since = Clock::now();
                if (done.load()) {
                    auto last = sock->ledger().last();
                    if (last && *last >= target.load())
                        break; // everything seen
                    if (Clock::now() - idle_since > std::chrono::milliseconds(300))
                        break; // the tail was lost
                }
            }
        });
    }
    pin(0);
    auto t0 = Clock::now();
    for (const auto& w : writes)
        if (int e = write_at0(fd, w))
            throw iopf::Error(e, "writing inject");
    auto t1 = Clock::now();
    ::close(fd);
    auto marks = c.seq_marks();
    double inject_s = secs(t1 - t0);
    std::string line = fmt::format("mode={} faults={} writes={} inject_s={:.4f} inject_rate={:.0f} "
                                   "ns_per_fault={:.0f}",
                                   listen ? "listen" : "nolisten", n, writes.size(), inject_s,
                                   n / inject_s, inject_s * 1e9 / n);
    if (listen) {
        target = marks.fault_seq;
        done = true;
        listener.join();
        sock->sync(marks.fault_seq, marks.resume_seq, sink); // the tail, all quiet now
        const auto& l = sock->ledger();
        uint64_t got = sink.faults.load();
        auto end = std::max(sink.last, t1);
        double span = secs(end - t0);
        line += fmt::format(" received={} missed={} loss_pct={:.2f} deliver_s={:.4f} "
                            "delivered_rate={:.0f} end_to_end_rate={:.0f} overflows={} rcvbuf={}",
                            got, l.missing(), 100.0 * l.missing() / n, span, got / span, n / span,
                            sock->loss().overflows, sock->rcvbuf());
        if (got + l.missing() != n)
            line += fmt::format(" BOOKS_OFF={}", static_cast<int64_t>(n - got - l.missing()));
    }
    std::cout << line << std::endl;
    return 0;
}

int cmd_parse(const Args& a) {
    const uint64_t reps = a.num("reps", 200);
    // 1024 good records then a bad line, and the same bytes with the bad
    // line first: both refused with EINVAL, nothing injected.
    auto good = make_writes(0x7fff, kPerWrite, false).front();
    const std::string bad = "zz zz zz zz\n";
    std::string bad_last = good + bad;
    std::string bad_first = bad + good;
    int fd = open_inject();
    std::vector<double> last_t, first_t;
    for (uint64_t i = 0; i < reps; i++) {
        for (int which = 0; which < 2; which++) {
            const std::string& s = which ? bad_first : bad_last;
            auto t0 = Clock::now();
            int e = write_at0(fd, s);
            auto t1 = Clock::now();
            if (e != EINVAL)
                throw iopf::Error(e ? e : EIO, "a bad write was not refused with EINVAL");
            (which ? first_t : last_t).push_back(secs(t1 - t0));
        }
    }
    ::close(fd);
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    double ml = median(last_t), mf = median(first_t);
    std::cout << fmt::format("mode=parse records={} bytes={} write_bad_last_us={:.1f} "
                             "write_bad_first_us={:.1f} parse_ns_per_record={:.0f}",
                             kPerWrite, bad_last.size(), ml * 1e6, mf * 1e6,
                             (ml - mf) * 1e9 / kPerWrite)
              << std::endl;
    return 0;
}

std::map<std::string, long long> meminfo() {
    std::map<std::string, long long> m;
    std::ifstream in("/proc/meminfo");
    std::string k;
    long long v;
    std::string unit;
    while (in >> k >> v) {
        std::getline(in, unit);
        if (!k.empty() && k.back() == ':')
            k.pop_back();
        m[k] = v * 1024;
    }
    return m;
}

// Bytes held by each slab cache (active objects × object size).
std::map<std::string, long long> slabinfo() {
    std::map<std::string, long long> m;
    std::ifstream in("/proc/slabinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.rfind("slabinfo", 0) == 0)
            continue;
        std::istringstream ss(line);
        std::string name;
        long long active, num, objsize;
        if (ss >> name >> active >> num >> objsize)
            m[name] = active * objsize;
    }
    return m;
}

int cmd_pending(const Args& a) {
    const uint64_t n = a.num("count", 10000);
    const uint32_t sid = static_cast<uint32_t>(a.num("sid", 0x51));
    if (n > 0x10000)
        throw std::invalid_argument("--count: at most 65536 (16-bit STAGs)");
    iopf::Client c;
    auto writes = make_writes(sid, n, true);
    int fd = open_inject();
    long long slab_d = 0, avail_d = 0;
    std::map<std::string, long long> caches;
    {
        Device dev(c, sid, IOPF_REPORT_FLAT);
        ::sync();
        auto m0 = meminfo();
        auto s0 = slabinfo();
        for (const auto& w : writes)
            if (int e = write_at0(fd, w))
                throw iopf::Error(e, "writing inject");
        auto m1 = meminfo();
        auto s1 = slabinfo();
        auto info = c.dev_get(sid);
        uint64_t pending = iopf::stat_value(info.stats, IOPF_STAT_A_PENDING).value_or(0);
        if (pending != n)
            throw iopf::Error(EIO, fmt::format("{} pending, {} expected", pending, n));
        slab_d = (m1["Slab"] - m0["Slab"]);
        avail_d = (m0["MemAvailable"] - m1["MemAvailable"]);
        for (const auto& [k, v] : s1) {
            long long d = v - (s0.count(k) ? s0[k] : 0);
            if (d > static_cast<long long>(n) * 16) // the caches that grew with n
                caches[k] = d;
        }
    }
    ::close(fd);
    std::string grew;
    for (const auto& [k, v] : caches)
        grew += fmt::format(" {}:{:.0f}", k, double(v) / n);
    std::cout << fmt::format("mode=pending count={} slab_bytes={} slab_per_request={:.0f} "
                             "memavail_per_request={:.0f} caches_per_request={}",
                             n, slab_d, double(slab_d) / n, double(avail_d) / n,
                             grew.empty() ? std::string("-") : grew.substr(1))
              << std::endl;
    return 0;
}

// ---- injection alone -----------------------------------------------------------

int cmd_inject(const Args& a) {
    const uint64_t n = a.num("faults", 131072);
    const uint64_t per = a.num("per-write", kPerWrite);
    const bool raw = raw_format(a);
    const uint32_t sid = static_cast<uint32_t>(a.num("sid", 0x52));
    iopf::Client c;
    Device dev(c, sid, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
    auto writes = make_writes(sid, n, false, per, raw);
    int fd = open_debugfs(raw ? "inject_raw" : "inject");
    pin(0);
    auto t0 = Clock::now();
    for (const auto& w : writes)
        if (int e = write_at0(fd, w))
            throw iopf::Error(e, "writing inject");
    auto t1 = Clock::now();
    ::close(fd);
    double sec = secs(t1 - t0);
    std::cout << fmt::format("mode=inject format={} per_write={} faults={} inject_s={:.4f} "
                             "inject_rate={:.0f} ns_per_fault={:.0f}",
                             raw ? "raw" : "text", per, n, sec, n / sec, sec * 1e9 / n)
              << std::endl;
    return 0;
}

// Writes `writes` (of `per` records each) to an inject file back to back, or
// paced at `pace` faults/s on absolute times; `started(i, when)` before each.
void inject_writes(int fd, const std::vector<std::string>& writes, uint64_t per, uint64_t pace,
                   const std::function<void(std::size_t, Clock::time_point)>& started) {
    const double interval_ns =
        pace ? 1e9 * static_cast<double>(per) / static_cast<double>(pace) : 0;
    timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (std::size_t i = 0; i < writes.size(); i++) {
        if (pace) {
            auto at = static_cast<int64_t>(start.tv_sec) * 1000000000 + start.tv_nsec +
                      static_cast<int64_t>(interval_ns * static_cast<double>(i));
            timespec ts{static_cast<time_t>(at / 1000000000), static_cast<long>(at % 1000000000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
        }
        started(i, Clock::now());
        if (int e = write_at0(fd, writes[i]))
            throw iopf::Error(e, "writing inject");
    }
}

double pct(std::vector<double>& v, double p) {
    if (v.empty())
        return 0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

// ---- the ceiling -------------------------------------------------------------------

// A listener that only counts FAULT nests: its own netlink socket (libnl
// connects it and joins the group), the receive buffer iopfd asks for,
// recvmmsg 32 datagrams per call.
class CountingListener {
  public:
    explicit CountingListener(std::size_t rcvbuf) : sk_(nl_socket_alloc()) {
        if (!sk_)
            throw iopf::Error(ENOMEM, "allocating a socket");
        nl_socket_disable_seq_check(sk_.get());
        if (int rc = genl_connect(sk_.get()); rc < 0)
            throw iopf::Error::from_nl(rc, "connecting");
        int fd = nl_socket_get_fd(sk_.get());
        int v = static_cast<int>(rcvbuf);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
            throw iopf::Error(errno, "SO_RCVBUFFORCE");
        int one = 1;
        setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof(one));
        iopf::nl::GenlSocket ctl;
        family_ = ctl.resolve_family(IOPF_GENL_NAME);
        int grp = ctl.resolve_group(IOPF_GENL_NAME, IOPF_GENL_MCGRP_FAULTS);
        if (int rc = nl_socket_add_membership(sk_.get(), grp); rc < 0)
            throw iopf::Error::from_nl(rc, "joining the faults group");
        for (std::size_t i = 0; i < kSlots; i++) {
            iov_[i] = {buf_.data() + i * kSlot, kSlot};
            msgs_[i] = {};
            msgs_[i].msg_hdr.msg_iov = &iov_[i];
            msgs_[i].msg_hdr.msg_iovlen = 1;
        }
    }
    int fd() const { return nl_socket_get_fd(sk_.get()); }
    // Reads what is queued; returns the nests counted.
    uint64_t drain() {
        uint64_t got = 0;
        for (;;) {
            int r = ::recvmmsg(fd(), msgs_.data(), kSlots, MSG_DONTWAIT, nullptr);
            if (r < 0) {
                if (errno == ENOBUFS) {
                    overflows++;
                    continue;
                }
                if (errno == EINTR)
                    continue;
                break;
            }
            for (int i = 0; i < r; i++)
                got += count(iov_[i].iov_base, msgs_[i].msg_len);
        }
        return got;
    }
    uint64_t overflows = 0;

  private:
    uint64_t count(void* data, unsigned len) const {
        uint64_t n = 0;
        auto* nlh = static_cast<nlmsghdr*>(data);
        int rem = static_cast<int>(len);
        for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
            if (nlh->nlmsg_type != family_)
                continue;
            auto* gh = static_cast<genlmsghdr*>(nlmsg_data(nlh));
            nlattr* at;
            int arem;
            nla_for_each_attr(at, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), arem) {
                n += nla_type(at) == IOPF_A_FAULT;
            }
        }
        return n;
    }
    static constexpr std::size_t kSlots = 32, kSlot = 32u << 10;
    iopf::nl::SockPtr sk_;
    int family_ = -1;
    std::vector<unsigned char> buf_ = std::vector<unsigned char>(kSlots * kSlot);
    std::vector<iovec> iov_ = std::vector<iovec>(kSlots);
    std::vector<mmsghdr> msgs_ = std::vector<mmsghdr>(kSlots);
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// Counts what `send` makes the module multicast, on CPU 1 while `send`
// runs on CPU 0, until n nests arrived or nothing came for 500 ms after it.
struct Counted {
    uint64_t got = 0, overflows = 0;
    double send_s = 0, span_s = 0; // span: first write to the last receive
    // (faults counted so far, ns since t0) after each drain that got some:
    // notifications arrive in order, so fault i arrived at the first entry
    // counting more than i.
    std::vector<std::pair<uint64_t, int64_t>> arrivals;
    Clock::time_point t0;
};
Counted count_while(uint64_t n, std::size_t rcvbuf, const std::function<void()>& send) {
    CountingListener l(rcvbuf);
    std::atomic<bool> done{false};
    std::atomic<uint64_t> got{0};
    Clock::time_point last{};
    Counted r;
    r.arrivals.reserve(1u << 16);
    r.t0 = Clock::now();
    std::thread t([&] {
        pin(1);
        auto idle = Clock::now();
        for (;;) {
            pollfd p{l.fd(), POLLIN, 0};
            ::poll(&p, 1, 20);
            uint64_t g = l.drain();
            if (g) {
                got += g;
                last = idle = Clock::now();
                r.arrivals.emplace_back(got.load(), (last - r.t0).count());
            }
            if (got.load() >= n || (done && Clock::now() - idle > std::chrono::milliseconds(500)))
                break;
        }
    });
    pin(0);
    const auto t0 = Clock::now();
    try {
        send();
    } catch (...) {
        done = true;
        t.join();
        throw;
    }
    auto t1 = Clock::now();
    done = true;
    t.join();
    r.got = got.load();
    r.overflows = l.overflows;
    r.send_s = secs(t1 - t0);
    r.span_s = secs(std::max(last, t1) - t0);
    return r;
}

int cmd_ceiling(const Args& a) {
    const uint64_t n = a.num("faults", 1000000);
    const std::size_t rcvbuf =
        a.has("rcvbuf") ? iopf::parse_size(a.kv.at("rcvbuf")) : std::size_t(16) << 20;
    int fd = open_debugfs("bench_ceiling");
    const std::string w = std::to_string(n);
    Counted r = count_while(n, rcvbuf, [&] {
        if (int e = write_at0(fd, w))
            throw iopf::Error(e, "writing bench_ceiling");
    });
    ::close(fd);
    const std::string kernel = read_text(std::string(iopf::kDefaultDebugfs) + "/bench_ceiling");
    std::cout << fmt::format("mode=ceiling faults={} received={} lost={} overflows={} "
                             "send_s={:.4f} span_s={:.4f} ceiling_rate={:.0f} kernel: {}",
                             n, r.got, n - r.got, r.overflows, r.send_s, r.span_s,
                             r.got / r.span_s, kernel)
              << std::endl;
    return 0;
}

// The same injection as e2e (records, writes, device flags), received by a
// listener that only counts: what the guest carries from injection to a
// consumer that costs nothing. iopfd's rate over this one is what the
// daemon itself costs; the ceiling's excludes the injection.
int cmd_bare(const Args& a) {
    const uint64_t n = a.num("faults", 262144);
    const uint64_t per = a.num("per-write", kPerWrite);
    const uint64_t pace = a.num("pace", 0); // faults/s, 0: full rate
    const bool raw = raw_format(a);
    const std::size_t rcvbuf =
        a.has("rcvbuf") ? iopf::parse_size(a.kv.at("rcvbuf")) : std::size_t(16) << 20;
    const uint32_t sid = 0x61;
    iopf::Client c;
    Device dev(c, sid, IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV);
    auto writes = make_writes(sid, n, false, per, raw);
    int fd = open_debugfs(raw ? "inject_raw" : "inject");
    std::vector<Clock::time_point> started(writes.size());
    Counted r = count_while(n, rcvbuf, [&] {
        inject_writes(fd, writes, per, pace,
                      [&](std::size_t i, Clock::time_point at) { started[i] = at; });
    });
    ::close(fd);
    // Latency: fault i arrived with the first drain that counted past i.
    std::vector<double> lat;
    lat.reserve(r.got);
    std::size_t k = 0;
    for (uint64_t i = 0; i < r.got; i++) {
        while (k < r.arrivals.size() && r.arrivals[k].first <= i)
            k++;
        if (k == r.arrivals.size())
            break;
        auto at = r.t0 + Clock::duration(r.arrivals[k].second);
        lat.push_back(secs(at - started[i / per]) * 1e3);
    }
    std::cout << fmt::format("mode=bare format={} per_write={} pace={} faults={} received={} "
                             "lost={} overflows={} inject_s={:.4f} span_s={:.4f} bare_rate={:.0f} "
                             "p50_ms={:.3f} p99_ms={:.3f} max_ms={:.3f}",
                             raw ? "raw" : "text", per, pace, n, r.got, n - r.got, r.overflows,
                             r.send_s, r.span_s, r.got / r.span_s, pct(lat, 0.5), pct(lat, 0.99),
                             pct(lat, 1.0))
              << std::endl;
    return 0;
}

// ---- end to end into iopfd's store ---------------------------------------------------

uint64_t proc_status_kb(pid_t pid, const char* key) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    const std::string k = std::string(key) + ":";
    while (std::getline(in, line))
        if (line.rfind(k, 0) == 0)
            return std::stoull(line.substr(k.size()));
    return 0;
}

// A process's CPU time in seconds: user (utime) and system (stime).
std::pair<double, double> proc_cpu_s(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream ss(all.substr(all.rfind(')') + 2));
    std::string f;
    double ticks[2] = {};
    for (int i = 3; i <= 15 && ss >> f; i++)
        if (i >= 14)
            ticks[i - 14] = std::stod(f);
    const auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    return {ticks[0] / hz, ticks[1] / hz};
}

// iopfd, started by the bench on CPU 1 and stopped by it (SIGTERM).
class Iopfd {
  public:
    Iopfd(const std::string& dir, const std::string& rcvbuf) {
        const std::string conf = dir + "/iopfd.conf";
        store = dir + "/store.jsonl";
        ready_ = dir + "/ready";
        log = dir + "/iopfd.log";
        std::remove(store.c_str());
        std::remove(ready_.c_str());
        {
            std::ofstream c(conf);
            c << "device 0x60 flags=flat,unrecov l1=success l2=success\n";
        }
        // Created here so the bench can watch it before iopfd writes.
        ::close(::open(store.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        pid_ = ::fork();
        if (pid_ < 0)
            throw iopf::Error(errno, "fork");
        if (pid_ == 0) {
            pin(1);
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0)
                ::dup2(fd, 2);
            sigset_t set;
            sigemptyset(&set);
            sigprocmask(SIG_SETMASK, &set, nullptr);
            ::execlp("iopfd", "iopfd", "--config", conf.c_str(), "--store", store.c_str(),
                     "--ready-file", ready_.c_str(), "--rcvbuf", rcvbuf.c_str(), nullptr);
            _exit(127);
        }
        for (int i = 0; i < 1000; i++) {
            if (read_text(ready_).find("up=1") != std::string::npos)
                return;
            int st;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                throw iopf::Error(ECHILD, "iopfd exited before it was ready: " + read_text(log));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw iopf::Error(ETIMEDOUT, "iopfd not ready within 10 s");
    }
    ~Iopfd() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    // SIGTERM and wait (at most 30 s); returns the exit status.
    int stop() {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 3000; i++) {
            int st;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw iopf::Error(ETIMEDOUT, "iopfd did not stop within 30 s");
    }
    std::string store, log;

  private:
    std::string ready_;
    pid_t pid_ = -1;
};

// Reads the store as iopfd appends it (inotify), noting when each fault of
// (base, base + n] was first read; punches out what it has read (tmpfs:
// the memory of a million lines is given back).
class StoreTail {
  public:
    StoreTail(const std::string& path, uint64_t base, uint64_t n, Clock::time_point t0)
        : seen_ns(n, -1), base_(base), n_(n), t0_(t0) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        in_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd_ < 0 || in_ < 0 || ::inotify_add_watch(in_, path.c_str(), IN_MODIFY) < 0)
            throw iopf::Error(errno, "watching the store");
        buf_.resize(1u << 20);
    }
    ~StoreTail() {
        ::close(fd_);
        ::close(in_);
    }
    // Reads what was appended; true when something was.
    bool step(int timeout_ms) {
        pollfd p{in_, POLLIN, 0};
        ::poll(&p, 1, timeout_ms);
        char ev[4096];
        while (::read(in_, ev, sizeof(ev)) > 0) {
        }
        bool any = false;
        for (;;) {
            ssize_t r = ::pread(fd_, buf_.data() + have_, buf_.size() - have_,
                                static_cast<off_t>(off_ + have_));
            if (r <= 0)
                break;
            any = true;
            const int64_t now = (Clock::now() - t0_).count();
            have_ += static_cast<std::size_t>(r);
            std::size_t start = 0;
            for (;;) {
                auto* nl =
                    static_cast<char*>(std::memchr(buf_.data() + start, '\n', have_ - start));
                if (!nl)
                    break;
                line(std::string_view(buf_.data() + start, nl - (buf_.data() + start)), now);
                start = static_cast<std::size_t>(nl - buf_.data()) + 1;
            }
            std::memmove(buf_.data(), buf_.data() + start, have_ - start);
            have_ -= start;
            off_ += start;
            if (off_ - punched_ >= (4u << 20)) {
                off_t upto = static_cast<off_t>(off_ & ~uint64_t(4095));
                ::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            static_cast<off_t>(punched_), upto - static_cast<off_t>(punched_));
                punched_ = static_cast<uint64_t>(upto);
            }
        }
        return any;
    }
    uint64_t stored = 0, dup = 0, others = 0, loss_lines = 0;
    int64_t last_ns = 0;
    std::vector<int64_t> seen_ns; // per fault, -1: not stored
    std::string stop_line;

  private:
    void line(std::string_view l, int64_t now) {
        static constexpr std::string_view kFault = "{\"kind\":\"fault\",\"seq\":";
        if (l.substr(0, kFault.size()) == kFault) {
            uint64_t seq = 0;
            for (std::size_t i = kFault.size(); i < l.size() && l[i] >= '0' && l[i] <= '9'; i++)
                seq = seq * 10 + static_cast<uint64_t>(l[i] - '0');
            if (seq > base_ && seq <= base_ + n_) {
                auto& s = seen_ns[seq - base_ - 1];
                if (s >= 0) {
                    dup++;
                } else {
                    s = now;
                    stored++;
                    last_ns = now;
                }
            } else {
                others++;
            }
        } else if (l.find("\"kind\":\"loss\"") != std::string_view::npos) {
            loss_lines++;
        } else if (l.find("\"event\":\"stop\"") != std::string_view::npos) {
            stop_line = l;
        }
    }
    uint64_t base_, n_;
    Clock::time_point t0_;
    int fd_ = -1, in_ = -1;
    std::vector<char> buf_;
    std::size_t have_ = 0;
    uint64_t off_ = 0, punched_ = 0;
};

int cmd_e2e(const Args& a) {
    const uint64_t n = a.num("faults", 262144);
    const uint64_t per = a.num("per-write", kPerWrite);
    const uint64_t pace = a.num("pace", 0); // faults/s, 0: full rate
    const bool raw = raw_format(a);
    const std::string rcvbuf = a.has("rcvbuf") ? a.kv.at("rcvbuf") : "16M";
    const std::string dir = a.has("dir") ? a.kv.at("dir") : "/tmp/iopf_bench_e2e";
    ::mkdir(dir.c_str(), 0755);
    const uint32_t sid = 0x60;
    auto writes = make_writes(sid, n, false, per, raw);
    iopf::Client c;
    Iopfd d(dir, rcvbuf);
    const uint64_t base = c.seq_marks().fault_seq;
    int fd = open_debugfs(raw ? "inject_raw" : "inject");
    pin(0);
    std::vector<int64_t> write_ns(writes.size());
    const auto t0 = Clock::now();
    StoreTail tail(d.store, base, n, t0);
    std::atomic<bool> injected{false};
    // The store's reader: at full rate on the injecting CPU (off iopfd's);
    // paced, on iopfd's CPU, so that reading a line iopfd just wrote costs
    // no wake-up of a halted vCPU of its own (under TCG, ms in the tail):
    // the latency is the path's, not the reader's.
    std::thread reader([&] {
        pin(pace ? 1 : 0);
        auto idle = Clock::now();
        for (;;) {
            if (tail.step(20))
                idle = Clock::now();
            if (tail.stored >= n)
                break;
            if (injected && Clock::now() - idle > std::chrono::seconds(3))
                break; // nothing more is coming
        }
    });
    inject_writes(fd, writes, per, pace, [&](std::size_t i, Clock::time_point at) {
        write_ns[i] = (at - t0).count();
    });
    const double inject_s = secs(Clock::now() - t0);
    ::close(fd);
    const uint64_t handed = c.seq_marks().fault_seq - base;
    injected = true;
    reader.join();
    const uint64_t rss_kb = proc_status_kb(d.pid(), "VmRSS");
    const uint64_t hwm_kb = proc_status_kb(d.pid(), "VmHWM");
    const auto [iopfd_user, iopfd_sys] = proc_cpu_s(d.pid());
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double bench_cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    const int rc = d.stop();
    for (int i = 0; i < 100 && tail.stop_line.empty(); i++)
        tail.step(10);

    std::vector<double> lat;
    lat.reserve(n);
    for (uint64_t i = 0; i < n; i++)
        if (tail.seen_ns[i] >= 0)
            lat.push_back(static_cast<double>(tail.seen_ns[i] - write_ns[i / per]) / 1e6);
    if (a.has("trace")) { // per write: when it started, its faults' worst latency
        std::ofstream tr(a.kv.at("trace"));
        for (std::size_t w = 0; w < write_ns.size(); w++) {
            int64_t worst = -1;
            for (uint64_t i = w * per; i < std::min<uint64_t>(n, (w + 1) * per); i++)
                worst = std::max(worst, tail.seen_ns[i] < 0 ? -1 : tail.seen_ns[i] - write_ns[w]);
            tr << fmt::format("{:.3f} {:.3f}\n", static_cast<double>(write_ns[w]) / 1e6,
                              static_cast<double>(worst) / 1e6);
        }
    }
    const double span = static_cast<double>(tail.last_ns) / 1e9;
    std::string books = "books=none";
    if (!tail.stop_line.empty()) {
        auto j = iopf::Json::parse(tail.stop_line);
        if (const iopf::Json* b = j.find("books"))
            books = fmt::format("books_handed_out={} books_stored={} books_lost={} balanced={}",
                                b->at("handed_out").as_u64(), b->at("stored").as_u64(),
                                b->at("lost").as_u64(), b->at("balanced").as_bool() ? 1 : 0);
    }
    std::cout << fmt::format(
                     "mode=e2e format={} per_write={} pace={} faults={} injected={} "
                     "stored={} lost={} dup={} loss_lines={} inject_s={:.4f} "
                     "inject_rate={:.0f} e2e_s={:.4f} e2e_rate={:.0f} p50_ms={:.3f} "
                     "p99_ms={:.3f} max_ms={:.3f} rss_kb={} hwm_kb={} iopfd_us_per_fault={:.2f} "
                     "iopfd_user_us={:.2f} iopfd_sys_us={:.2f} "
                     "bench_us_per_fault={:.2f} exit={} {}",
                     raw ? "raw" : "text", per, pace, n, handed, tail.stored, n - tail.stored,
                     tail.dup, tail.loss_lines, inject_s, static_cast<double>(n) / inject_s, span,
                     span > 0 ? static_cast<double>(tail.stored) / span : 0.0, pct(lat, 0.5),
                     pct(lat, 0.99), pct(lat, 1.0), rss_kb, hwm_kb,
                     (iopfd_user + iopfd_sys) * 1e6 / static_cast<double>(n),
                     iopfd_user * 1e6 / static_cast<double>(n),
                     iopfd_sys * 1e6 / static_cast<double>(n),
                     bench_cpu * 1e6 / static_cast<double>(n), rc, books)
              << std::endl;
    return 0;
}

// ---- memory per device ----------------------------------------------------------------

int cmd_devices(const Args& a) {
    const uint64_t n = a.num("count", 1000);
    const uint32_t first = 0x1000;
    iopf::Client c;
    for (uint64_t i = 0; i < n; i++) {
        try {
            c.dev_del(first + static_cast<uint32_t>(i));
        } catch (const iopf::Error&) {
        }
    }
    ::sync();
    auto m0 = meminfo();
    for (uint64_t i = 0; i < n; i++) {
        c.dev_new(first + static_cast<uint32_t>(i));
        c.handler_register(first + static_cast<uint32_t>(i), IOPF_REPORT_FLAT);
    }
    auto m1 = meminfo();
    for (uint64_t i = 0; i < n; i++)
        c.dev_del(first + static_cast<uint32_t>(i));
    long long slab = m1["Slab"] - m0["Slab"];
    std::cout << fmt::format("mode=devices count={} slab_bytes={} slab_per_device={:.0f}", n, slab,
                             static_cast<double>(slab) / static_cast<double>(n))
              << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr
            << "usage: iopf_bench stream|inject|ceiling|bare|e2e|parse|pending|devices [--options]\n";
        return 2;
    }
    try {
        Args a = parse_args(argc, argv);
        std::string cmd = argv[1];
        if (cmd == "stream")
            return cmd_stream(a);
        if (cmd == "parse")
            return cmd_parse(a);
        if (cmd == "pending")
            return cmd_pending(a);
        if (cmd == "inject")
            return cmd_inject(a);
        if (cmd == "ceiling")
            return cmd_ceiling(a);
        if (cmd == "e2e")
            return cmd_e2e(a);
        if (cmd == "bare")
            return cmd_bare(a);
        if (cmd == "devices")
            return cmd_devices(a);
        std::cerr << "iopf_bench: unknown mode " << cmd << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "iopf_bench: " << e.what() << '\n';
        return 1;
    }
}
