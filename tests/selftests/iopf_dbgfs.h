/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debugfs helpers for /sys/kernel/debug/iopf_testbed/: inject records, read
 * the global and per-device files. Return 0 / a length, or -errno.
 */
#ifndef IOPF_SELFTEST_DBGFS_H
#define IOPF_SELFTEST_DBGFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IOPF_DBGFS_ROOT		"/sys/kernel/debug"
#define IOPF_DBGFS_DIR		IOPF_DBGFS_ROOT "/iopf_testbed"

/* Make sure debugfs is mounted; 0 or -errno */
int iopf_dbgfs_mount(void);
bool iopf_dbgfs_present(void);

/* Write buf[len] to a file under IOPF_DBGFS_DIR at offset off in one call */
int iopf_dbgfs_write_at(const char *rel, const void *buf, size_t len, off_t off);
int iopf_dbgfs_write(const char *rel, const void *buf, size_t len);

/* One record as a text line "0x.. 0x.. 0x.. 0x..\n" to inject */
int iopf_inject(const uint64_t evt[4]);
/* n records in one text write */
int iopf_inject_many(const uint64_t (*evt)[4], size_t n);
/* n records in one binary (little-endian) write to inject_raw */
int iopf_inject_raw(const uint64_t (*evt)[4], size_t n);
/* Format one record as the text line the inject file takes */
int iopf_fmt_record(char *buf, size_t size, const uint64_t evt[4]);

/* Read a whole file under IOPF_DBGFS_DIR (NUL-terminated); length or -errno */
ssize_t iopf_dbgfs_read(const char *rel, char *buf, size_t size);
/* Per-device file devices/0x<sid>/<name> */
ssize_t iopf_dbgfs_read_dev(uint32_t sid, const char *name, char *buf,
			    size_t size);
bool iopf_dbgfs_dev_exists(uint32_t sid);

/* Find "name value" in a stats file's text; 0 and *v, or -ENOENT */
int iopf_stats_text_get(const char *text, const char *name, uint64_t *v);

/* devices/0x<sid>/last_resume */
struct iopf_last_resume {
	bool none;
	uint64_t w0, w1;
	char resp[40];		/* RETRY / ABORT */
	uint32_t stag;
	char origin[48];	/* response / report_failed / flush */
};
int iopf_read_last_resume(uint32_t sid, struct iopf_last_resume *lr);

/* One line of devices/0x<sid>/pending */
struct iopf_pending_line {
	uint64_t seq;
	uint32_t grpid;
	bool has_pasid;
	uint32_t pasid;
	uint32_t level;
	uint64_t addr;
};
/* Parse the pending file; the number of lines, or -errno (-EPROTO on junk) */
int iopf_read_pending(uint32_t sid, struct iopf_pending_line *out, int max);

#endif /* IOPF_SELFTEST_DBGFS_H */
