// SPDX-License-Identifier: GPL-2.0
/* The module's parameters, read and written through sysfs */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "iopf_params.h"

long iopf_param_read(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), IOPF_PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtol(buf, NULL, 0);
}

int iopf_param_write(const char *name, long v)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), IOPF_PARAM_DIR "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", v) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}
