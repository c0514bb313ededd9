#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpora of tests/fuzz/corpus/<harness>/ (run from anywhere).

The seeds are small, real inputs: event records as the tests and the demo
inject them, their text lines, the FAULT_NTF / RESUME_NTF / DEV_GET /
STATS_GET messages the module sends for them (attribute order and sizes as
kmod/netlink.c puts them), and arm-smmu-v3 / iopf_testbed log snippets.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

# uapi values (kmod/include/uapi/linux/iopf_testbed.h)
FAMILY = 0x1C
CMD_DEV_GET, CMD_STATS_GET, CMD_FAULT_NTF, CMD_RESUME_NTF = 3, 9, 10, 11
A_SID, A_FLAGS, A_REGISTERED, A_STATS, A_FAULT, A_RESUME = 2, 3, 9, 10, 11, 12
F_PAD, F_SEQ, F_DEV_SEQ, F_TS, F_SID, F_EVENT_ID, F_TYPE, F_LEVEL, F_FLAGS, \
    F_PASID, F_GRPID, F_PERM, F_REASON, F_ADDR, F_RECORD = range(1, 16)
R_SEQ, R_SID, R_STAG, R_RESP, R_CODE, R_ORIGIN, R_CMD = range(2, 9)
NLA_F_NESTED = 0x8000
# the access model's
CMD_MAP_GET, CMD_ACCESS_NTF, A_COUNT, A_MAPPING, A_ACCESS = 15, 18, 22, 23, 24
M_SID, M_STAGE, M_PASID, M_ADDR, M_OUT, M_LEN, M_PERM = range(2, 9)
AC_ID, AC_SID, AC_PASID, AC_ADDR, AC_LEN, AC_PERM, AC_STATE, AC_FAULTS, \
    AC_FAULTS_L1, AC_FAULTS_L2, AC_RETRIES, AC_DONE, AC_FAULT_SEQ, AC_STAG, \
    AC_START, AC_END, AC_STALL = range(2, 19)

STALL, PNU, IND, RNW, S2 = 1 << 31, 1 << 33, 1 << 34, 1 << 35, 1 << 39
SSV = 1 << 11


def rec(sid, event, ssid=None, stall=False, stag=0, s2=False, addr=0, ipa=0,
        read=True, exec_=False, priv=False):
    w0 = event | sid << 32
    if ssid is not None:
        w0 |= SSV | ssid << 12
    w1 = stag | (STALL if stall else 0) | (RNW if read else 0) | \
        (IND if exec_ else 0) | (PNU if priv else 0) | (S2 if s2 else 0)
    return [w0, w1, addr, ipa]


RECORDS = {
    "pr_s2_pasid": rec(0x10, 0x10, ssid=5, stall=True, stag=9, s2=True,
                       addr=0x1234000, ipa=0x80001000),
    "pr_s1": rec(0x10, 0x10, stall=True, stag=7, addr=0xdead000),
    "unrecov_perm": rec(0x20, 0x13, ssid=0xfffff, addr=0x400000, read=False,
                        exec_=True, priv=True),
    "unrecov_access_s2": rec(0x3, 0x12, s2=True, addr=0x1000),
    "addr_size": rec(0xffffffff, 0x11, stall=True, stag=0xffff, s2=True,
                     ipa=0xFFFFFFFFFF000),
    "unhandled_bad_ste": rec(0x10, 0x04),
    "unhandled_vms": rec(0x10, 0x25, stall=True),
}


def write(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def le_words(words):
    return struct.pack("<4Q", *words)


def text_line(words):
    return " ".join("0x%016x" % w for w in words)


# --- netlink -------------------------------------------------------------

def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, t) + payload + b"\0" * ((-n) % 4)


def u32(t, v):
    return nla(t, struct.pack("<I", v))


def u64(t, v):
    return nla(t, struct.pack("<Q", v))


def decode(w):
    """fault_core.h's iopf_decode(), for the seeds' attribute values."""
    eid, ssv, s2 = w[0] & 0xFF, bool(w[0] & SSV), bool(w[1] & S2)
    reasons = {0x10: 5, 0x11: 8, 0x12: 7, 0x13: 6}
    if eid not in reasons:
        return None
    f = dict(event_id=eid, level=2 if s2 else 1, sid=w[0] >> 32,
             pasid=(w[0] >> 12) & 0xFFFFF if ssv else 0,
             perm=(1 if w[1] & RNW else 2) | (4 if w[1] & IND else 0) |
             (8 if w[1] & PNU else 0), addr=w[2], grpid=0, reason=0)
    if w[1] & STALL:
        f.update(type=2, flags=2 | (1 if ssv else 0) | (16 if s2 else 0),
                 grpid=w[1] & 0xFFFF)
        if s2:
            f["addr"] = w[3] & 0x000FFFFFFFFFF000
    else:
        f.update(type=1, reason=reasons[eid], flags=2 | (1 if ssv else 0))
    return f


def fault_nest_data(w, seq, pad=False):
    f = decode(w)
    p = b""
    if pad:  # nla_put_u64_64bit on an arch needing 64-bit alignment
        p += nla(F_PAD, b"")
    p += u64(F_SEQ, seq) + u64(F_DEV_SEQ, seq) + u64(F_TS, 1000000 * seq)
    p += u32(F_SID, f["sid"]) + u32(F_EVENT_ID, f["event_id"])
    p += u32(F_TYPE, f["type"]) + u32(F_LEVEL, f["level"])
    p += u32(F_FLAGS, f["flags"]) + u32(F_PERM, f["perm"])
    p += u64(F_ADDR, f["addr"]) + nla(F_RECORD, le_words(w))
    if f["flags"] & 1:
        p += u32(F_PASID, f["pasid"])
    if f["type"] == 2:
        p += u32(F_GRPID, f["grpid"])
    else:
        p += u32(F_REASON, f["reason"])
    return p


def resume_nest_data(seq, sid, stag, code, origin):
    resp = 1 if code == 0 else 2
    cmd0 = 0x44 | resp << 12 | sid << 32
    return (u64(R_SEQ, seq) + u32(R_SID, sid) + u32(R_STAG, stag) +
            u32(R_RESP, resp) + u32(R_CODE, code) + u32(R_ORIGIN, origin) +
            nla(R_CMD, struct.pack("<2Q", cmd0, stag)))


def stats_nest_data(n):
    return b"".join(u64(t, 100 * t) for t in range(2, 2 + n))


def message(cmd, attrs):
    n = 16 + 4 + len(attrs)
    return struct.pack("<IHHII", n, FAMILY, 0, 7, 0) + \
        struct.pack("<BBH", cmd, 1, 0) + attrs


def main():
    handled = [k for k, w in RECORDS.items() if decode(w)]

    # (a) fuzz_decode: the record, then flags, sid, grpid, code (LE u32)
    for i, (name, w) in enumerate(RECORDS.items()):
        write("fuzz_decode", name, le_words(w) +
              struct.pack("<4I", [0xE, 0x11, 0x1E, 0x6][i % 4], w[0] >> 32,
                          w[1] & 0xFFFF, i % 4))

    # (b) fuzz_record_text: lines as iopfctl writes them, and by hand
    write("fuzz_record_text", "iopfctl_inject",
          "".join(text_line(w) + "\n" for w in RECORDS.values()))
    write("fuzz_record_text", "hand_written",
          "# a page request\n1000005810 80000007\tdead000  0\r\n\n"
          "0X10 0x0 0 0 # trailing\n")
    write("fuzz_record_text", "bad_words", "1 2 3\n1 2 3 4 5\n1 2 3 xyz\n")
    write("fuzz_record_text", "too_long", "1 2 3 0x10000000000000000\n")
    write("fuzz_record_text", "max", " ".join(["ffffffffffffffff"] * 4))

    # (c) fuzz_netlink: selector byte, then the payload (see the harness)
    seq = 1
    ntf = b""
    for name in handled:
        data = fault_nest_data(RECORDS[name], seq)
        write("fuzz_netlink", "fault_nest_" + name, b"\x04" + data)
        ntf += nla(A_FAULT | NLA_F_NESTED, data)
        seq += 1
    write("fuzz_netlink", "fault_ntf", b"\x00" + ntf)
    write("fuzz_netlink", "fault_ntf_pad", b"\x00" + nla(
        A_FAULT | NLA_F_NESTED, fault_nest_data(RECORDS["pr_s1"], 1, pad=True)))
    write("fuzz_netlink", "fault_ntf_raw", b"\x07" + message(CMD_FAULT_NTF, ntf))
    res = resume_nest_data(3, 0x10, 9, 0, 1)
    write("fuzz_netlink", "resume_ntf",
          b"\x01" + nla(A_RESUME | NLA_F_NESTED, res))
    write("fuzz_netlink", "resume_nest_flush",
          b"\x05" + resume_nest_data(4, 0x10, 7, 2, 3))
    write("fuzz_netlink", "resume_ntf_raw", b"\x07" + message(
        CMD_RESUME_NTF, nla(A_RESUME | NLA_F_NESTED, res)))
    stats = nla(A_STATS | NLA_F_NESTED, stats_nest_data(12))
    write("fuzz_netlink", "dev_get", b"\x02" + u32(A_SID, 0x10) +
          nla(A_REGISTERED, b"\x01") + u32(A_FLAGS, 0x1E) + stats)
    write("fuzz_netlink", "stats_get",
          b"\x03" + nla(A_STATS | NLA_F_NESTED, stats_nest_data(18)))
    write("fuzz_netlink", "stats_nest", b"\x06" + stats_nest_data(4))
    # the access model: a MAP_GET run of each stage, accesses as ACCESS_NTF
    # tells their ends, and an UNMAP reply
    s1_run = u32(M_SID, 0x60) + u32(M_STAGE, 1) + u32(M_PASID, 1) + \
        u64(M_ADDR, 0x200000) + u64(M_OUT, 0x80000000) + u64(M_LEN, 0x2000) + \
        u32(M_PERM, 3)
    s2_run = u32(M_SID, 0x60) + u32(M_STAGE, 2) + u64(M_ADDR, 0x40001000) + \
        u64(M_OUT, 0x40001000) + u64(M_LEN, 0x1000) + u32(M_PERM, 1)
    write("fuzz_netlink", "map_get_s1", b"\x08" + nla(A_MAPPING | NLA_F_NESTED, s1_run))
    write("fuzz_netlink", "mapping_nest_s2", b"\x0a" + s2_run)
    write("fuzz_netlink", "unmap_reply", b"\x08" + u64(A_COUNT, 3))
    done = u64(AC_ID, 7) + u32(AC_SID, 0x60) + u32(AC_PASID, 1) + \
        u64(AC_ADDR, 0x200000) + u64(AC_LEN, 0x2000) + u32(AC_PERM, 3) + \
        u32(AC_STATE, 2) + u32(AC_FAULTS, 5) + u32(AC_FAULTS_L1, 2) + \
        u32(AC_FAULTS_L2, 3) + u32(AC_RETRIES, 5) + u64(AC_DONE, 0x2000) + \
        u64(AC_FAULT_SEQ, 12) + u64(AC_START, 1000) + u64(AC_END, 2000) + \
        nla(AC_STALL, b"")
    stalled = u64(AC_ID, 8) + u32(AC_SID, 0x60) + u64(AC_ADDR, 0x3000) + \
        u64(AC_LEN, 0x10) + u32(AC_PERM, 1) + u32(AC_STATE, 1) + \
        u32(AC_FAULTS, 1) + u32(AC_FAULTS_L1, 0) + u32(AC_FAULTS_L2, 1) + \
        u32(AC_RETRIES, 0) + u64(AC_DONE, 0) + u32(AC_STAG, 0xffff) + \
        u64(AC_START, 1000) + u64(AC_END, 0) + nla(AC_STALL, b"")
    write("fuzz_netlink", "access_ntf_completed", b"\x09" + nla(A_ACCESS | NLA_F_NESTED, done))
    write("fuzz_netlink", "access_nest_stalled", b"\x0b" + stalled)
    write("fuzz_netlink", "access_ntf_raw", b"\x07" + message(
        CMD_ACCESS_NTF, nla(A_ACCESS | NLA_F_NESTED, done)))

    # (d) fuzz_replay: what arm-smmu-v3 and iopf_testbed log
    def block(prefix, w):
        return "%sevent 0x%02x received:\n" % (prefix, w[0] & 0xFF) + \
            "".join("%s\t0x%016x\n" % (prefix, x) for x in w)
    write("fuzz_replay", "bare", block("", RECORDS["pr_s1"]))
    write("fuzz_replay", "dmesg",
          "[    1.000000] Linux version 6.1.0\n" +
          block("[   12.345678] iopf_testbed: ", RECORDS["unrecov_perm"]) +
          "random junk 0x1234\n" +
          block("arm-smmu-v3 arm-smmu-v3.0.auto: ", RECORDS["addr_size"]))
    write("fuzz_replay", "truncated",
          "event 0x10 received:\n\t0x0000001000000010\n\t0x0000000000000000\n"
          "something else\n" + block("", RECORDS["unrecov_access_s2"]))
    write("fuzz_replay", "id_mismatch",
          "event 0x10 received:\n\t0x0000001000000013\n"
          "\t0x0000000000000000\n\t0x0000000000000000\n\t0x0000000000000000\r\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
