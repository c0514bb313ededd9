/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Just enough of the kernel's types and bitfield helpers for fault_core.h to
 * compile unchanged in user space.
 */
#ifndef _IOPF_TESTBED_COMPAT_H
#define _IOPF_TESTBED_COMPAT_H

#ifdef __KERNEL__
#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#ifndef BIT_ULL
#define BIT_ULL(nr) (1ULL << (nr))
#endif
#ifndef GENMASK_ULL
#define GENMASK_ULL(h, l) \
	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#endif
#ifndef FIELD_GET
#define FIELD_GET(mask, val) \
	(((val) & (mask)) >> __builtin_ctzll(mask))
#define FIELD_PREP(mask, val) \
	(((val) << __builtin_ctzll(mask)) & (mask))
#endif
#endif /* __KERNEL__ */

#endif /* _IOPF_TESTBED_COMPAT_H */
