/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's parameters (/sys/module/iopf_testbed/parameters/), which the
 * bounds tests lower and restore.
 */
#ifndef IOPF_SELFTEST_PARAMS_H
#define IOPF_SELFTEST_PARAMS_H

#define IOPF_PARAM_DIR	"/sys/module/iopf_testbed/parameters/"

/* The parameter's value, or -errno when it cannot be read */
long iopf_param_read(const char *name);
/* 0 or -errno */
int iopf_param_write(const char *name, long v);

#endif /* IOPF_SELFTEST_PARAMS_H */
