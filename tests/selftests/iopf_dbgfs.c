// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs helpers for the iopf_testbed module. See iopf_dbgfs.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "iopf_dbgfs.h"

int iopf_dbgfs_mount(void)
{
	struct stat st;

	if (stat(IOPF_DBGFS_ROOT "/iopf_testbed", &st) == 0)
		return 0;
	if (mount("debugfs", IOPF_DBGFS_ROOT, "debugfs", 0, NULL) < 0 &&
	    errno != EBUSY)
		return -errno;
	return 0;
}

bool iopf_dbgfs_present(void)
{
	struct stat st;

	return stat(IOPF_DBGFS_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

int iopf_dbgfs_write_at(const char *rel, const void *buf, size_t len, off_t off)
{
	char path[256];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", IOPF_DBGFS_DIR, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (off)
		n = pwrite(fd, buf, len, off);
	else
		n = write(fd, buf, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	if ((size_t)n != len)
		return -EIO;	/* the contract: a good write returns all */
	return 0;
}

int iopf_dbgfs_write(const char *rel, const void *buf, size_t len)
{
	return iopf_dbgfs_write_at(rel, buf, len, 0);
}

int iopf_fmt_record(char *buf, size_t size, const uint64_t evt[4])
{
	return snprintf(buf, size, "0x%016llx 0x%016llx 0x%016llx 0x%016llx\n",
			(unsigned long long)evt[0], (unsigned long long)evt[1],
			(unsigned long long)evt[2], (unsigned long long)evt[3]);
}

int iopf_inject(const uint64_t evt[4])
{
	char line[128];
	int len = iopf_fmt_record(line, sizeof(line), evt);

	return iopf_dbgfs_write("inject", line, (size_t)len);
}

int iopf_inject_many(const uint64_t (*evt)[4], size_t n)
{
	size_t cap = n * 80 + 1, len = 0, i;
	char *buf = malloc(cap);
	int ret;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		len += (size_t)iopf_fmt_record(buf + len, cap - len, evt[i]);
	ret = iopf_dbgfs_write("inject", buf, len);
	free(buf);
	return ret;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int iopf_inject_raw(const uint64_t (*evt)[4], size_t n)
{
	uint8_t *buf = malloc(n * 32 + 1);
	size_t i;
	int w, ret;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		for (w = 0; w < 4; w++)
			put_le64(buf + i * 32 + w * 8, evt[i][w]);
	ret = iopf_dbgfs_write("inject_raw", buf, n * 32);
	free(buf);
	return ret;
}

ssize_t iopf_dbgfs_read(const char *rel, char *buf, size_t size)
{
	char path[256];
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", IOPF_DBGFS_DIR, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			int err = errno;

			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t iopf_dbgfs_read_dev(uint32_t sid, const char *name, char *buf,
			    size_t size)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "devices/0x%x/%s", sid, name);
	return iopf_dbgfs_read(rel, buf, size);
}

bool iopf_dbgfs_dev_exists(uint32_t sid)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/devices/0x%x", IOPF_DBGFS_DIR, sid);
	return stat(path, &st) == 0;
}

/* "0x..." as hex, else decimal; the whole token must be consumed */
static int parse_num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		*v = strtoull(s + 2, &end, 16);
	else
		*v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return -EPROTO;
	return 0;
}

int iopf_stats_text_get(const char *text, const char *name, uint64_t *v)
{
	const char *p = text;
	size_t nlen = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && !strncmp(p, name, nlen) &&
		    (p[nlen] == ' ' || p[nlen] == '\t')) {
			char num[32];
			const char *q = p + nlen;
			size_t k;

			while (*q == ' ' || *q == '\t')
				q++;
			k = llen - (size_t)(q - p);
			if (k == 0 || k >= sizeof(num))
				return -EPROTO;
			memcpy(num, q, k);
			num[k] = '\0';
			return parse_num(num, v);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -ENOENT;
}

int iopf_read_last_resume(uint32_t sid, struct iopf_last_resume *lr)
{
	char buf[256], w0[40], w1[40], resp[40], stag[40], origin[48];
	uint64_t v;
	ssize_t n;

	memset(lr, 0, sizeof(*lr));
	n = iopf_dbgfs_read_dev(sid, "last_resume", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (!strcmp(buf, "none")) {
		lr->none = true;
		return 0;
	}
	if (sscanf(buf, "%39s %39s resp=%39s stag=%39s origin=%47s",
		   w0, w1, resp, stag, origin) != 5)
		return -EPROTO;
	if (strncmp(w0, "0x", 2) || strncmp(w1, "0x", 2))
		return -EPROTO;
	if (parse_num(w0, &lr->w0) || parse_num(w1, &lr->w1))
		return -EPROTO;
	if (parse_num(stag, &v))
		return -EPROTO;
	lr->stag = (uint32_t)v;
	snprintf(lr->resp, sizeof(lr->resp), "%s", resp);
	snprintf(lr->origin, sizeof(lr->origin), "%s", origin);
	return 0;
}

int iopf_read_pending(uint32_t sid, struct iopf_pending_line *out, int max)
{
	static char buf[65536];
	char *line, *save = NULL;
	ssize_t n;
	int cnt = 0;

	n = iopf_dbgfs_read_dev(sid, "pending", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char seq[40], grpid[40], pasid[40], level[40], addr[40];
		struct iopf_pending_line pl;
		uint64_t v;

		if (!*line)
			continue;
		memset(&pl, 0, sizeof(pl));
		if (sscanf(line, "seq=%39s grpid=%39s pasid=%39s level=%39s addr=%39s",
			   seq, grpid, pasid, level, addr) != 5)
			return -EPROTO;
		if (parse_num(seq, &pl.seq) || parse_num(grpid, &v))
			return -EPROTO;
		pl.grpid = (uint32_t)v;
		if (strcmp(pasid, "-")) {
			if (parse_num(pasid, &v))
				return -EPROTO;
			pl.has_pasid = true;
			pl.pasid = (uint32_t)v;
		}
		if (parse_num(level, &v))
			return -EPROTO;
		pl.level = (uint32_t)v;
		if (strncmp(addr, "0x", 2) || parse_num(addr, &pl.addr))
			return -EPROTO;
		if (cnt < max)
			out[cnt] = pl;
		cnt++;
	}
	return cnt;
}
