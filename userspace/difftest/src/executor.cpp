// SPDX-License-Identifier: GPL-2.0
#include "difftest/executor.hpp"

#include <cerrno>
#include <chrono>
#include <map>
#include <thread>

#include <endian.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/core.h>

#include "iopf/client.hpp"
#include "iopf/debugfs.hpp"
#include "iopf/error.hpp"
#include "iopf/event_socket.hpp"
#include "iopf/genl.hpp"
#include "iopf/names.hpp"

namespace difftest {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Collects what one drain brings, and every sign of loss.
struct Collector : iopf::EventSink {
    std::vector<Event> events;
    std::vector<std::string>* diffs = nullptr;
    void on_fault(const iopf::Fault& f) override { events.emplace_back(f); }
    void on_resume(const iopf::Resume& r) override { events.emplace_back(r); }
    void on_access_end(const iopf::Access& a) override { events.emplace_back(a); }
    void on_overflow() override {
        diffs->push_back("listener overflow (ENOBUFS): notifications lost");
    }
    void on_gap(uint64_t seq, uint64_t missing) override {
        diffs->push_back(fmt::format("FAULT SEQ gap: {} missing before {}", missing, seq));
    }
    void on_resume_gap(uint64_t seq, uint64_t missing) override {
        diffs->push_back(fmt::format("RESUME SEQ gap: {} missing before {}", missing, seq));
    }
    void on_malformed(const std::string& why) override {
        diffs->push_back("malformed notification: " + why);
    }
};

void diff_counters(std::vector<std::string>& d, const std::string& what, const iopf::Stats& got,
                   const Counters& want, int first, int last, int xfirst, int xlast) {
    std::map<int, uint64_t> g(got.begin(), got.end());
    auto known = [&](int a) { return (a >= first && a <= last) || (a >= xfirst && a <= xlast); };
    for (int a = 0; a <= IOPF_STAT_A_MAX; a++) {
        if (!known(a))
            continue;
        auto it = g.find(a);
        if (it == g.end())
            d.push_back(fmt::format("{}: counter {} missing", what, iopf::stat_name(a)));
        else if (it->second != want[a])
            d.push_back(fmt::format("{}: {} expected {}, got {}", what, iopf::stat_name(a), want[a],
                                    it->second));
    }
    for (const auto& [a, v] : g)
        if (!known(a))
            d.push_back(fmt::format("{}: unexpected counter {} = {}", what, a, v));
}

} // namespace

bool module_loaded() {
    return access("/sys/module/iopf_testbed", F_OK) == 0;
}

Executor::Executor(ExecConfig cfg) : cfg_(std::move(cfg)) {
    if (module_loaded())
        connect();
}

Executor::~Executor() {
    close_files();
}

void Executor::close_files() {
    for (int* fd : {&inject_fd_, &raw_fd_}) {
        if (*fd >= 0)
            ::close(*fd);
        *fd = -1;
    }
}

// Client, listener (joined before any op runs) and the inject file.
void Executor::connect() {
    if (!client_)
        client_ = std::make_unique<iopf::Client>();
    else if (!client_->refresh())
        throw iopf::Error(ENOENT, "the module's family is not registered");
    if (!events_)
        events_ = std::make_unique<iopf::EventSocket>(cfg_.rcvbuf, false);
    if (!events_->subscribe())
        throw iopf::Error(ENOENT, "joining the faults group");
    events_->restart_seq();
    close_files();
    for (auto [fd, name] :
         {std::pair{&inject_fd_, "/inject"}, std::pair{&raw_fd_, "/inject_raw"}}) {
        const std::string path = cfg_.debugfs + name;
        *fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (*fd < 0)
            throw iopf::Error(errno, "opening " + path);
    }
    last_ts_ = 0;
}

bool Executor::is_fresh() {
    if (!module_loaded())
        return false;
    if (!client_)
        connect();
    auto s = client_->stats();
    for (const auto& [a, v] : s)
        if ((a == IOPF_STAT_A_RECORDS || a == IOPF_STAT_A_DEVICES) && v)
            return false;
    return true;
}

void Executor::reload() {
    // An open debugfs file pins the module: close them first.
    close_files();
    if (module_loaded()) {
        // rmmod retries briefly: a file being closed may still hold it.
        int tries = 0;
        while (syscall(SYS_delete_module, "iopf_testbed", O_NONBLOCK) != 0) {
            if ((errno != EAGAIN && errno != EBUSY) || ++tries > 50)
                throw iopf::Error(errno, "rmmod iopf_testbed");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    int fd = ::open(cfg_.module_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw iopf::Error(errno, "opening " + cfg_.module_path);
    long rc = syscall(SYS_finit_module, fd, cfg_.module_params.c_str(), 0);
    int err = errno;
    ::close(fd);
    if (rc != 0)
        throw iopf::Error(err, "insmod " + cfg_.module_path);
    connect();
}

void Executor::make_fresh() {
    if (!is_fresh())
        reload();
}

int Executor::exec(const Op& op, OpReport& rep) {
    try {
        switch (op.kind) {
        case OpKind::DevAdd:
            client_->dev_new(op.sid);
            break;
        case OpKind::DevDel:
            client_->dev_del(op.sid);
            break;
        case OpKind::Register:
            client_->handler_register(op.sid, op.flags);
            break;
        case OpKind::Update:
            client_->handler_update(op.sid, op.mask, op.set);
            break;
        case OpKind::Unregister:
            client_->handler_unregister(op.sid);
            break;
        case OpKind::Respond:
            client_->page_response(op.sid, op.grpid, op.pasid, op.code);
            break;
        case OpKind::Inject: {
            std::string text;
            if (op.raw) {
                for (const auto& r : op.recs)
                    for (uint64_t w : r) {
                        uint64_t le = htole64(w);
                        text.append(reinterpret_cast<const char*>(&le), sizeof(le));
                    }
            } else {
                text = iopf::inject_text(op.recs);
            }
            // Always at offset 0: the module refuses writes elsewhere.
            ssize_t n = ::pwrite(op.raw ? raw_fd_ : inject_fd_, text.data(), text.size(), 0);
            if (n < 0)
                return errno;
            if (static_cast<std::size_t>(n) != text.size())
                return EIO;
            break;
        }
        case OpKind::Reload:
            reload();
            break;
        case OpKind::StageMode:
            client_->dev_set(op.sid, std::nullopt, std::nullopt, op.mode);
            break;
        case OpKind::Map:
            client_->map(
                iopf::Mapping{op.sid, op.stage, op.pasid, op.addr, op.out, op.len, op.perm});
            break;
        case OpKind::Unmap:
            rep.got_count = client_->unmap(op.sid, op.stage, op.pasid, op.addr, op.len);
            break;
        case OpKind::Ttb:
            client_->ttb_set(op.sid, op.pasid, op.addr);
            break;
        case OpKind::Access:
            rep.got_access = client_->access(
                iopf::AccessRequest{op.sid, op.pasid, op.addr, op.len, op.perm, op.stall});
            break;
        }
    } catch (const iopf::Error& e) {
        return e.err();
    }
    return 0;
}

std::vector<Event> Executor::drain(std::vector<std::string>& diffs) {
    Collector c;
    c.diffs = &diffs;
    events_->drain(c);
    for (const auto& e : c.events) {
        if (const auto* f = std::get_if<iopf::Fault>(&e)) {
            uint64_t ts = f->timestamp_ns.value_or(0);
            if (ts < last_ts_)
                diffs.push_back(fmt::format("FAULT seq {}: TIMESTAMP_NS went back ({} < {})",
                                            f->seq.value_or(0), ts, last_ts_));
            last_ts_ = ts;
        }
    }
    return std::move(c.events);
}

void Executor::drain_until(std::vector<Event>& got, std::size_t want,
                           std::vector<std::string>& diffs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(cfg_.deferred_ms);
    while (got.size() < want && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        for (auto& e : drain(diffs))
            got.push_back(std::move(e));
    }
}

std::vector<std::string> Executor::check_state(const Model& m) {
    std::vector<std::string> d;
    diff_counters(d, "STATS_GET", client_->stats(), m.global(), kGlobalStatFirst, kGlobalStatLast,
                  kGlobalStatExtraFirst, kGlobalStatExtraLast);

    std::map<uint32_t, iopf::DevInfo> got;
    for (auto& di : client_->dev_list())
        got.emplace(di.sid, std::move(di));
    for (const auto& [sid, want] : m.devices()) {
        auto it = got.find(sid);
        if (it == got.end()) {
            d.push_back(fmt::format("device {:#x}: expected, missing from the DEV_GET dump", sid));
            continue;
        }
        const auto& g = it->second;
        const std::string what = fmt::format("device {:#x}", sid);
        if (g.registered != want.registered)
            d.push_back(fmt::format("{}: REGISTERED expected {}, got {}", what, want.registered,
                                    g.registered));
        if (g.flags != want.flags)
            d.push_back(fmt::format("{}: FLAGS expected {}, got {}", what, format_flags(want.flags),
                                    format_flags(g.flags)));
        diff_counters(d, what, g.stats, want.stats, kDevStatFirst, kDevStatLast, kDevStatExtraFirst,
                      kDevStatExtraLast);
        if (g.stage_mode.value_or(UINT32_MAX) != want.mode)
            d.push_back(fmt::format("{}: STAGE_MODE expected {}, got {}", what, want.mode,
                                    g.stage_mode ? std::to_string(*g.stage_mode) : "none"));
        check_tables(d, what, want);
    }
    for (const auto& [sid, g] : got)
        if (!m.device(sid))
            d.push_back(fmt::format("device {:#x}: in the DEV_GET dump, not expected", sid));

    std::map<uint32_t, std::vector<iopf::Fault>> pend;
    for (auto& f : client_->pending())
        pend[f.sid].push_back(std::move(f));
    for (const auto& [sid, want] : m.devices()) {
        const auto& g = pend[sid];
        if (g.size() != want.pending.size()) {
            d.push_back(fmt::format("device {:#x}: {} pending expected, PENDING_GET has {}", sid,
                                    want.pending.size(), g.size()));
            continue;
        }
        for (std::size_t i = 0; i < g.size(); i++)
            for (const auto& x : diff_events(want.pending[i], g[i]))
                d.push_back(fmt::format("device {:#x} pending #{}: {}", sid, i, x));
    }
    for (const auto& [sid, g] : pend)
        if (!m.device(sid) && !g.empty())
            d.push_back(
                fmt::format("PENDING_GET: {} requests of unexpected device {:#x}", g.size(), sid));

    // Every access kept (ACCESS_GET dump), field by field, in id order
    std::map<uint32_t, std::vector<iopf::Access>> acc;
    for (auto& a : client_->accesses())
        acc[a.sid].push_back(std::move(a));
    for (const auto& [sid, want] : m.devices()) {
        const auto& g = acc[sid];
        if (g.size() != want.accesses.size()) {
            d.push_back(fmt::format("device {:#x}: {} accesses expected, ACCESS_GET has {}", sid,
                                    want.accesses.size(), g.size()));
            continue;
        }
        std::size_t i = 0;
        for (const auto& [id, w] : want.accesses)
            for (const auto& x : diff_accesses(w, g[i++]))
                d.push_back(fmt::format("device {:#x} access {}: {}", sid, id, x));
    }
    for (const auto& [sid, g] : acc)
        if (!m.device(sid) && !g.empty())
            d.push_back(
                fmt::format("ACCESS_GET: {} accesses of unexpected device {:#x}", g.size(), sid));
    return d;
}

// MAP_GET of stage 2 and of every stage-1 table the model has (MAPPED_S1
// and MAPPED_S2 are compared with the counters: a table the model does not
// know of shows there).
void Executor::check_tables(std::vector<std::string>& d, const std::string& what,
                            const DevState& want) {
    auto cmp_runs = [&](const std::string& table, const std::vector<iopf::Mapping>& w,
                        const std::vector<iopf::Mapping>& g) {
        if (w == g)
            return;
        d.push_back(fmt::format("{} {}: {} runs expected, MAP_GET has {}", what, table, w.size(),
                                g.size()));
        for (std::size_t i = 0; i < std::max(w.size(), g.size()); i++) {
            auto run = [](const std::vector<iopf::Mapping>& v, std::size_t k) {
                return k < v.size() ? fmt::format("{:#x}+{:#x} -> {:#x} perm {:#x}", v[k].addr,
                                                  v[k].len, v[k].out_addr, v[k].perm)
                                    : std::string("-");
            };
            if (i >= w.size() || i >= g.size() || !(w[i] == g[i])) {
                d.push_back(fmt::format("  run {}: expected {}, got {}", i, run(w, i), run(g, i)));
                break;
            }
        }
    };
    cmp_runs("stage 2", table_runs(want.s2, want.sid, IOPF_STAGE_2, std::nullopt),
             client_->mappings(want.sid, IOPF_STAGE_2));
    for (const auto& [pasid, t] : want.s1)
        cmp_runs(fmt::format("stage 1 pasid {:#x}", pasid),
                 table_runs(t.pages, want.sid, IOPF_STAGE_1, pasid),
                 client_->mappings(want.sid, IOPF_STAGE_1, pasid));
}

RunResult Executor::run(const std::vector<Op>& ops,
                        const std::function<void(const OpReport&)>& on_op, bool keep_going) {
    RunResult res;
    const auto t0 = Clock::now();
    if (!module_loaded())
        throw iopf::Error(ENOENT, "iopf_testbed is not loaded");
    if (!client_)
        connect();
    Model model;
    std::vector<std::string> scratch;
    drain(scratch); // whatever came before us is not ours
    auto fail = [&](std::size_t i, const std::string& what) {
        if (res.first_bad == SIZE_MAX)
            res.first_bad = i;
        res.mismatches.push_back(fmt::format("op {}: {}", i + 1, what));
    };

    for (std::size_t i = 0; i < ops.size(); i++) {
        const Op& op = ops[i];
        OpReport rep;
        rep.index = i;
        rep.op = &op;
        rep.want = model.apply(op);
        try {
            rep.got_err = exec(op, rep);
            if (op.kind == OpKind::Reload)
                res.reloads++;
            rep.got = drain(rep.diffs);
            // A RETRY's re-walk runs on the module's workqueue: wait for it
            if (rep.want.deferred)
                drain_until(rep.got, rep.want.events.size(), rep.diffs);
        } catch (const std::exception& e) {
            rep.diffs.push_back(std::string("executor: ") + e.what());
        }
        for (const auto& e : rep.got) {
            if (std::holds_alternative<iopf::Fault>(e))
                res.faults++;
            else if (std::holds_alternative<iopf::Resume>(e))
                res.resumes++;
            else
                res.accesses_ended++;
        }
        if (cfg_.compare) {
            if (rep.got_err != rep.want.err)
                rep.diffs.push_back(fmt::format("errno: expected {}, got {}",
                                                errno_name(rep.want.err), errno_name(rep.got_err)));
            if (rep.want.access && rep.got_access)
                for (const auto& x : diff_accesses(*rep.want.access, *rep.got_access))
                    rep.diffs.push_back("ACCESS reply: " + x);
            else if (rep.want.access.has_value() != rep.got_access.has_value() && !rep.got_err)
                rep.diffs.push_back("ACCESS reply: expected one only on success");
            if (rep.want.count != rep.got_count && !rep.got_err && !rep.want.err)
                rep.diffs.push_back(fmt::format("UNMAP COUNT: expected {}, got {}",
                                                rep.want.count.value_or(0),
                                                rep.got_count.value_or(0)));
            std::size_t n = std::min(rep.want.events.size(), rep.got.size());
            for (std::size_t k = 0; k < n; k++)
                for (const auto& x : diff_events(rep.want.events[k], rep.got[k]))
                    rep.diffs.push_back(fmt::format("notification {}: {}", k + 1, x));
            for (std::size_t k = n; k < rep.want.events.size(); k++)
                rep.diffs.push_back("missing notification: " + format_event(rep.want.events[k]));
            for (std::size_t k = n; k < rep.got.size(); k++)
                rep.diffs.push_back("unexpected notification: " + format_event(rep.got[k]));
            const bool last = i + 1 == ops.size();
            if (last || (cfg_.check_every && (i + 1) % cfg_.check_every == 0) ||
                op.kind == OpKind::Reload) {
                rep.checked = true;
                res.checks++;
                try {
                    rep.state_diffs = check_state(model);
                } catch (const std::exception& e) {
                    rep.state_diffs.push_back(std::string("state check: ") + e.what());
                }
            }
        }
        res.ops_run = i + 1;
        for (const auto& x : rep.diffs)
            fail(i, fmt::format("{}: {}", format_op(op), x));
        for (const auto& x : rep.state_diffs)
            fail(i, "after it, " + x);
        if (on_op)
            on_op(rep);
        if (!res.mismatches.empty() && !keep_going)
            break;
    }
    res.seconds = since(t0);
    return res;
}

std::vector<Op> minimize(std::vector<Op> ops,
                         const std::function<bool(const std::vector<Op>&)>& fails,
                         unsigned max_tests, double max_seconds, unsigned* tests_run) {
    const auto t0 = Clock::now();
    unsigned tests = 0;
    std::size_t n = 2;
    auto budget_left = [&] { return tests < max_tests && since(t0) < max_seconds; };
    while (ops.size() >= 2 && budget_left()) {
        n = std::min(n, ops.size());
        const std::size_t chunk = (ops.size() + n - 1) / n;
        bool reduced = false;
        for (std::size_t c = 0; c * chunk < ops.size() && budget_left(); c++) {
            std::vector<Op> cand;
            cand.reserve(ops.size());
            for (std::size_t i = 0; i < ops.size(); i++)
                if (i / chunk != c)
                    cand.push_back(ops[i]);
            tests++;
            if (!cand.empty() && fails(cand)) {
                ops = std::move(cand);
                n = std::max<std::size_t>(n - 1, 2);
                reduced = true;
                break;
            }
        }
        if (!reduced) {
            if (n >= ops.size())
                break;
            n = std::min(n * 2, ops.size());
        }
    }
    if (tests_run)
        *tests_run = tests;
    return ops;
}

void write_annotated(std::ostream& out, const std::vector<Op>& ops,
                     const std::vector<std::string>& header) {
    for (const auto& h : header)
        out << "# " << h << '\n';
    Model m;
    for (const auto& op : ops) {
        Outcome o = m.apply(op);
        out << format_op(op);
        if (o.err || op.kind != OpKind::Inject)
            out << "  # " << errno_name(o.err);
        out << '\n';
        for (const auto& e : o.events)
            out << "#   " << format_event(e) << '\n';
    }
}

} // namespace difftest
