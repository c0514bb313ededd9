/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the family and its commands (netlink.c) and the notification
 * engine of its "faults" group (notify.c): what one file uses of the other.
 */
#ifndef _IOPF_NETLINK_H
#define _IOPF_NETLINK_H

#include <net/genetlink.h>

#include "iopf_testbed.h"

extern struct genl_family iopf_nl_family;

enum iopf_nl_mcgrp { IOPF_NL_MCGRP_FAULTS };

/* Message builders, shared by notifications and dumps */
int iopf_nl_put_u64(struct sk_buff *skb, int attr, u64 val, int pad);
int iopf_nl_put_fault(struct sk_buff *skb, const struct iopf_event *evt);
int iopf_nl_put_access(struct sk_buff *skb, const struct iopf_access_info *a);

void iopf_nl_notify_start(void);
void iopf_nl_notify_stop(void);

#endif /* _IOPF_NETLINK_H */
