/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module is written against the newest kernel's API (7.2); this file
 * gives older kernels (6.1 on) what they lack. Feature tests only (a macro
 * that exists), never LINUX_VERSION_CODE. One more test lives where it is
 * used: GENL_MCAST_CAP_NET_ADMIN in netlink.c (6.6 on).
 */
#ifndef _IOPF_KCOMPAT_H
#define _IOPF_KCOMPAT_H

#include <linux/slab.h>

/* kzalloc_obj() (7.x): one zeroed object of the type of P */
#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP) kzalloc(sizeof(P), GFP)
#endif

#endif /* _IOPF_KCOMPAT_H */
