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
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "iopf/client.hpp"
#include "iopf/config.hpp"
#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/record.hpp"

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
            throw std::invalid_argument(fmt::format("unexpected {}", k)); // not "..." + k: GCC 12 -Wrestrict
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

// Text of `n` records, cut into writes of kPerWrite records.
std::vector<std::string> make_writes(uint32_t sid, uint64_t n, bool stall) {
    std::vector<std::string> writes;
    std::string cur;
    for (uint64_t i = 0; i < n; i++) {
        iopf::RecordFields f;
        f.sid = sid;
        f.stall = stall;
        f.stag = static_cast<uint32_t>(i & 0xffff);
        f.addr = 0x100000000ull + i * 0x1000;
        cur += iopf::format_record(iopf::build_record(f));
        cur += '\n';
        if ((i + 1) % kPerWrite == 0) {
            writes.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty())
        writes.push_back(std::move(cur));
    return writes;
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

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: iopf_bench stream|parse|pending [--options]\n";
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
        std::cerr << "iopf_bench: unknown mode " << cmd << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "iopf_bench: " << e.what() << '\n';
        return 1;
    }
}
