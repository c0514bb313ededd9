// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "iopf_testbed": device and handler
 * configuration, page responses, dumps, and the "faults" multicast group
 * that carries every reported fault and every RESUME command (its messages
 * are notify.c's).
 *
 * Plain struct genl_ops with per-op policies: the same code on 6.1 (no split
 * ops) and later kernels. The family is not parallel_ops, so its handlers
 * run serialised under the genetlink mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/genetlink.h>

#include "iopf_testbed.h"
#include "netlink.h"

/*
 * Faults reveal what devices touch: admins only. A kernel without the flag
 * (before 6.7 and its stable backports) would let anyone join: refuse to
 * build rather than open the group. IOPF_TEST_NO_MCAST_CAP proves it.
 */
#if !defined(GENL_MCAST_CAP_NET_ADMIN) || defined(IOPF_TEST_NO_MCAST_CAP)
#error "GENL_MCAST_CAP_NET_ADMIN is missing: the faults group would be open to everyone"
#endif

static const struct genl_multicast_group iopf_nl_mcgrps[] = {
	[IOPF_NL_MCGRP_FAULTS] = {
		.name = IOPF_GENL_MCGRP_FAULTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

/* Not const: 6.1's policy takes a non-const pointer */
static struct netlink_range_validation iopf_grpid_range = {
	.max = 0xffff,	/* the STAG is 16 bits */
};

static struct netlink_range_validation iopf_pasid_range = {
	.max = 0xfffff,	/* SubstreamIDs are 20 bits */
};

static const struct nla_policy iopf_sid_policy[IOPF_A_SID + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
};

static const struct nla_policy iopf_register_policy[IOPF_A_FLAGS + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, IOPF_REPORT_ALL),
};

static const struct nla_policy iopf_update_policy[IOPF_A_SET + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_MASK] = { .type = NLA_U32 },	/* ~0 keeps everything */
	[IOPF_A_SET] = NLA_POLICY_MASK(NLA_U32, IOPF_REPORT_ALL),
};

static const struct nla_policy iopf_response_policy[IOPF_A_CODE + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_GRPID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_grpid_range),
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
	[IOPF_A_CODE] = NLA_POLICY_MAX(NLA_U32, IOPF_RESP_FAILURE),
};

static struct netlink_range_validation iopf_pending_limit_range = {
	.min = 1,
	.max = IOPF_PENDING_LIMIT_MAX,
};

static struct netlink_range_validation iopf_timeout_range = {
	.max = IOPF_TIMEOUT_MS_MAX,
};

static const struct nla_policy iopf_set_policy[IOPF_A_BRIDGE + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_PENDING_LIMIT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pending_limit_range),
	[IOPF_A_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_timeout_range),
	[IOPF_A_STAGE_MODE] = NLA_POLICY_MAX(NLA_U32, IOPF_STAGE_MODE_NESTED),
	[IOPF_A_BRIDGE] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* The access model's: alignment and ranges are checked by stages.c */
static const struct nla_policy iopf_map_policy[IOPF_A_PERM + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_STAGE] = NLA_POLICY_RANGE(NLA_U32, IOPF_STAGE_1, IOPF_STAGE_2),
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
	[IOPF_A_ADDR] = { .type = NLA_U64 },
	[IOPF_A_OUT_ADDR] = { .type = NLA_U64 },
	[IOPF_A_LEN] = { .type = NLA_U64 },
	[IOPF_A_PERM] = NLA_POLICY_MASK(NLA_U32, IOPF_PERM_ALL),
};

static const struct nla_policy iopf_unmap_policy[IOPF_A_LEN + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_STAGE] = NLA_POLICY_RANGE(NLA_U32, IOPF_STAGE_1, IOPF_STAGE_2),
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
	[IOPF_A_ADDR] = { .type = NLA_U64 },
	[IOPF_A_LEN] = { .type = NLA_U64 },
};

static const struct nla_policy iopf_map_get_policy[IOPF_A_STAGE + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_STAGE] = NLA_POLICY_RANGE(NLA_U32, IOPF_STAGE_1, IOPF_STAGE_2),
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
};

static const struct nla_policy iopf_access_policy[IOPF_A_STALL + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
	[IOPF_A_ADDR] = { .type = NLA_U64 },
	[IOPF_A_LEN] = { .type = NLA_U64 },
	[IOPF_A_PERM] = NLA_POLICY_MASK(NLA_U32, IOPF_PERM_ALL),
	[IOPF_A_STALL] = { .type = NLA_FLAG },
};

static const struct nla_policy iopf_access_get_policy[IOPF_A_ACCESS_ID + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_ACCESS_ID] = { .type = NLA_U64 },
};

static const struct nla_policy iopf_ttb_policy[IOPF_A_TTB + 1] = {
	[IOPF_A_SID] = { .type = NLA_U32 },
	[IOPF_A_PASID] = NLA_POLICY_FULL_RANGE(NLA_U32, &iopf_pasid_range),
	[IOPF_A_TTB] = { .type = NLA_U64 },
};

/* No attributes at all: any is rejected by strict validation */
static const struct nla_policy iopf_empty_policy[IOPF_A_PAD + 1] = {
};

/* A STATS nest of every counter a table names */
static int iopf_nl_put_stats(struct sk_buff *skb, const void *stats,
			     const struct iopf_stat_field *fields,
			     unsigned int nfields)
{
	struct nlattr *nest = nla_nest_start(skb, IOPF_A_STATS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < nfields; i++) {
		if (iopf_nl_put_u64(skb, fields[i].attr,
				    iopf_stat_value(stats, &fields[i]),
				    IOPF_STAT_A_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int iopf_nl_fill_dev(struct sk_buff *skb, struct iopf_dev *dev,
			    u32 portid, u32 seq, int flags,
			    struct netlink_callback *cb)
{
	struct iopf_dev_stats stats;
	u32 hflags, limit, timeout, dev_id = 0, pt_id = 0;
	bool bridged, bound;
	void *hdr;

	/* Registered handlers always have valid, hence non-zero, flags */
	iopf_dev_snapshot(dev, &stats, &hflags, &limit, &timeout);
	bridged = iopf_dev_bridged(dev);
	bound = iopf_bind_info(dev, &dev_id, &pt_id);

	hdr = genlmsg_put(skb, portid, seq, &iopf_nl_family, flags,
			  IOPF_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_u32(skb, IOPF_A_SID, dev->sid) ||
	    nla_put_u8(skb, IOPF_A_REGISTERED, !!hflags) ||
	    nla_put_u32(skb, IOPF_A_FLAGS, hflags) ||
	    nla_put_u32(skb, IOPF_A_PENDING_LIMIT, limit) ||
	    nla_put_u32(skb, IOPF_A_TIMEOUT_MS, timeout) ||
	    nla_put_u32(skb, IOPF_A_STAGE_MODE, iopf_stages_mode(dev)) ||
	    nla_put_u8(skb, IOPF_A_BRIDGE, bridged) ||
	    (bound && (nla_put_u32(skb, IOPF_A_IOMMUFD_DEV_ID, dev_id) ||
		       (pt_id && nla_put_u32(skb, IOPF_A_IOMMUFD_PT_ID, pt_id)))) ||
	    iopf_nl_put_stats(skb, &stats, iopf_dev_stat_fields,
			      iopf_dev_stat_nfields)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* The device named by the request's IOPF_A_SID, referenced */
static struct iopf_dev *iopf_nl_get_dev(struct genl_info *info)
{
	struct iopf_dev *dev;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_SID))
		return ERR_PTR(-EINVAL);
	dev = iopf_dev_get(nla_get_u32(info->attrs[IOPF_A_SID]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[IOPF_A_SID],
				    "no device with this StreamID");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

static int iopf_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_SID))
		return -EINVAL;
	return iopf_dev_create(nla_get_u32(info->attrs[IOPF_A_SID]),
			       info->extack);
}

static int iopf_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_SID))
		return -EINVAL;
	return iopf_dev_destroy(nla_get_u32(info->attrs[IOPF_A_SID]),
				info->extack);
}

static int iopf_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_dev *dev = iopf_nl_get_dev(info);
	struct sk_buff *msg;
	int ret;

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		iopf_dev_put(dev);
		return -ENOMEM;
	}
	ret = iopf_nl_fill_dev(msg, dev, info->snd_portid, info->snd_seq, 0,
			       NULL);
	iopf_dev_put(dev);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/*
 * Dumps walk StreamIDs with cb->args[0] the next to visit and
 * cb->args[IOPF_NL_DUMP_LAST] 1 + the last one (0: all): an IOPF_A_SID in
 * the request restricts the dump to that device. A dump past StreamID
 * 0xffffffff ends: args[0] goes to 2^32 only where a long holds it, so the
 * end is told by iopf_nl_dump_next() instead.
 */
#define IOPF_NL_DUMP_LAST	2
#define IOPF_NL_DUMP_DONE	3
/* PENDING_GET: the instance (struct iopf_dev gen) cb->args[1] belongs to */
#define IOPF_NL_DUMP_GEN	4

static void iopf_nl_dump_filter_sid(struct netlink_callback *cb,
				    struct nlattr **tb)
{
	if (tb[IOPF_A_SID]) {
		cb->args[0] = nla_get_u32(tb[IOPF_A_SID]);
		cb->args[IOPF_NL_DUMP_LAST] = 1 + (unsigned long)cb->args[0];
	}
}

static int iopf_nl_dump_start_sid(struct netlink_callback *cb)
{
	struct nlattr *tb[IOPF_A_SID + 1];
	int ret;

	/* Parsed here, the same way on every kernel generation */
	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, IOPF_A_SID,
			  iopf_sid_policy, cb->extack);
	if (ret)
		return ret;
	iopf_nl_dump_filter_sid(cb, tb);
	return 0;
}

/* With the command's own policy: ACCESS_ID is known, and refused by name */
static int iopf_nl_access_dump_start(struct netlink_callback *cb)
{
	struct nlattr *tb[ARRAY_SIZE(iopf_access_get_policy)];
	int ret;

	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb,
			  ARRAY_SIZE(iopf_access_get_policy) - 1,
			  iopf_access_get_policy, cb->extack);
	if (ret)
		return ret;
	if (tb[IOPF_A_ACCESS_ID]) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[IOPF_A_ACCESS_ID],
				    "ACCESS_ID names one access: ask without NLM_F_DUMP");
		return -EINVAL;
	}
	iopf_nl_dump_filter_sid(cb, tb);
	return 0;
}

/* The next device of the dump at or after *index, or NULL at its end */
static struct iopf_dev *iopf_nl_dump_next(struct netlink_callback *cb,
					  unsigned long *index)
{
	unsigned long last = cb->args[IOPF_NL_DUMP_LAST] ?
			     cb->args[IOPF_NL_DUMP_LAST] - 1 : U32_MAX;
	struct iopf_dev *dev;

	if (cb->args[IOPF_NL_DUMP_DONE] || *index > last)
		return NULL;
	dev = iopf_dev_find_next(index);
	if (dev && *index > last) {
		iopf_dev_put(dev);
		return NULL;
	}
	return dev;
}

/* Moves the dump past @sid, which has been sent whole */
static void iopf_nl_dump_past(struct netlink_callback *cb, u32 sid)
{
	if (sid == U32_MAX)
		cb->args[IOPF_NL_DUMP_DONE] = 1;
	else
		cb->args[0] = (unsigned long)sid + 1;
}

static int iopf_nl_dev_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	unsigned long index = cb->args[0];
	struct iopf_dev *dev;
	int ret = 0;

	cb->seq = iopf_devs_generation();
	while ((dev = iopf_nl_dump_next(cb, &index))) {
		ret = iopf_nl_fill_dev(skb, dev, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI, cb);
		iopf_dev_put(dev);
		if (ret)
			break;
		iopf_nl_dump_past(cb, index);
		index = cb->args[0];
		cond_resched();
	}
	/* A device too large for an empty message would loop forever */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

static int iopf_nl_register_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_dev *dev;
	int ret;

	const char *why;
	u32 flags;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_FLAGS))
		return -EINVAL;
	/* Flags before the device, as iommu_register_device_fault_handler() */
	flags = nla_get_u32(info->attrs[IOPF_A_FLAGS]);
	why = iopf_flags_check(flags);
	if (why) {
		/* fault_core.h's reasons are string literals: static storage */
		info->extack->_msg = why;
		info->extack->bad_attr = info->attrs[IOPF_A_FLAGS];
		return -EINVAL;
	}
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_register_fault_handler(dev, iopf_nl_fault_handler, flags,
					  NULL, info->extack);
	iopf_dev_put(dev);
	return ret;
}

static int iopf_nl_update_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_MASK) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_SET))
		return -EINVAL;
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_update_fault_handler(dev,
					nla_get_u32(info->attrs[IOPF_A_MASK]),
					nla_get_u32(info->attrs[IOPF_A_SET]),
					info->extack);
	iopf_dev_put(dev);
	return ret;
}

static int iopf_nl_unregister_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct iopf_dev *dev = iopf_nl_get_dev(info);
	int ret;

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_unregister_fault_handler(dev, info->extack);
	iopf_dev_put(dev);
	return ret;
}

static int iopf_nl_response_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_page_response msg = {};
	struct iopf_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_GRPID) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_CODE))
		return -EINVAL;
	msg.grpid = nla_get_u32(info->attrs[IOPF_A_GRPID]);
	msg.code = nla_get_u32(info->attrs[IOPF_A_CODE]);
	if (info->attrs[IOPF_A_PASID]) {
		msg.flags |= IOPF_PRQ_PASID_VALID;
		msg.pasid = nla_get_u32(info->attrs[IOPF_A_PASID]);
	}

	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_page_response(dev, &msg, info->extack);
	iopf_dev_put(dev);
	return ret;
}

/*
 * As the DEV_GET dump, and cb->args[1]: SEQ of the device's last entry
 * sent (the list is in SEQ order, so answers in between cannot make the
 * dump skip one).
 */

static int iopf_nl_pending_fill_dev(struct sk_buff *skb,
				    struct netlink_callback *cb,
				    struct iopf_dev *dev)
{
	unsigned long last = cb->args[1], index;
	struct iopf_event *evt;
	int ret = 0;

	/*
	 * A device deleted and created again at this StreamID between two
	 * parts numbers its faults from 1 again: all of its are new.
	 */
	if (cb->args[IOPF_NL_DUMP_GEN] != dev->gen) {
		cb->args[IOPF_NL_DUMP_GEN] = dev->gen;
		last = 0;
	}
	mutex_lock(&dev->lock);
	if (!dev->fault_param)
		goto out_unlock;
	/*
	 * Where the last part ended, by the device's SEQ: what was answered
	 * since is simply not there, and nothing is visited twice.
	 */
	xa_for_each_start(&dev->fault_param->seqs, index, evt, last + 1) {
		void *hdr;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &iopf_nl_family,
				  NLM_F_MULTI, IOPF_CMD_PENDING_GET);
		if (!hdr) {
			ret = -EMSGSIZE;
			break;
		}
		if (iopf_nl_put_fault(skb, evt)) {
			genlmsg_cancel(skb, hdr);
			ret = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = index;
		/* Up to 64Ki requests: a full dump is long */
		cond_resched();
	}
out_unlock:
	mutex_unlock(&dev->lock);
	return ret;
}

/*
 * A dump of per-device items: cb->args[0] the device, cb->args[1] where
 * @fill resumes within it (0 at a new device)
 */
static int iopf_nl_dump_per_dev(struct sk_buff *skb, struct netlink_callback *cb,
				int (*fill)(struct sk_buff *skb,
					    struct netlink_callback *cb,
					    struct iopf_dev *dev))
{
	unsigned long index = cb->args[0];
	struct iopf_dev *dev;
	int ret = 0;

	while ((dev = iopf_nl_dump_next(cb, &index))) {
		if (index != cb->args[0]) {
			cb->args[0] = index;	/* a new device */
			cb->args[1] = 0;
		}
		ret = fill(skb, cb, dev);
		iopf_dev_put(dev);
		if (ret)
			break;
		iopf_nl_dump_past(cb, index);
		cb->args[1] = 0;
		index = cb->args[0];
	}
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

static int iopf_nl_pending_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return iopf_nl_dump_per_dev(skb, cb, iopf_nl_pending_fill_dev);
}

static int iopf_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_dev_config cfg = {};
	struct nlattr *bridge;
	u32 limit, timeout, mode;
	struct iopf_dev *dev;
	int ret;

	if (info->attrs[IOPF_A_PENDING_LIMIT]) {
		limit = nla_get_u32(info->attrs[IOPF_A_PENDING_LIMIT]);
		cfg.pending_limit = &limit;
	}
	if (info->attrs[IOPF_A_TIMEOUT_MS]) {
		timeout = nla_get_u32(info->attrs[IOPF_A_TIMEOUT_MS]);
		cfg.timeout_ms = &timeout;
	}
	if (info->attrs[IOPF_A_STAGE_MODE]) {
		mode = nla_get_u32(info->attrs[IOPF_A_STAGE_MODE]);
		cfg.stage_mode = &mode;
	}
	bridge = info->attrs[IOPF_A_BRIDGE];
	if (!cfg.pending_limit && !cfg.timeout_ms && !cfg.stage_mode &&
	    !bridge) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: PENDING_LIMIT, TIMEOUT_MS, STAGE_MODE or BRIDGE");
		return -EINVAL;
	}
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = 0;
	if (cfg.pending_limit || cfg.timeout_ms || cfg.stage_mode)
		ret = iopf_dev_configure(dev, &cfg, info->extack);
	/* The bridge last: it sets the stage mode it needs (S2) */
	if (!ret && bridge)
		ret = nla_get_u8(bridge) ? iopf_bridge_add(dev, info->extack) :
					   iopf_bridge_del(dev, info->extack);
	iopf_dev_put(dev);
	return ret;
}

/* The optional PASID of a request */
static const u32 *iopf_nl_pasid(struct genl_info *info, u32 *pasid)
{
	if (!info->attrs[IOPF_A_PASID])
		return NULL;
	*pasid = nla_get_u32(info->attrs[IOPF_A_PASID]);
	return pasid;
}

static int iopf_nl_map_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	const u32 *pasidp;
	struct iopf_dev *dev;
	u32 pasid;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_STAGE) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_OUT_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_LEN) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_PERM))
		return -EINVAL;
	pasidp = iopf_nl_pasid(info, &pasid);
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_stages_map(dev, nla_get_u32(tb[IOPF_A_STAGE]), pasidp,
			      nla_get_u64(tb[IOPF_A_ADDR]),
			      nla_get_u64(tb[IOPF_A_OUT_ADDR]),
			      nla_get_u64(tb[IOPF_A_LEN]),
			      nla_get_u32(tb[IOPF_A_PERM]), info->extack);
	iopf_dev_put(dev);
	return ret;
}

static int iopf_nl_unmap_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	const u32 *pasidp;
	struct iopf_dev *dev;
	struct sk_buff *msg;
	u64 count = 0;
	void *hdr;
	u32 pasid;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_STAGE) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_LEN))
		return -EINVAL;
	pasidp = iopf_nl_pasid(info, &pasid);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev)) {
		nlmsg_free(msg);
		return PTR_ERR(dev);
	}
	ret = iopf_stages_unmap(dev, nla_get_u32(tb[IOPF_A_STAGE]), pasidp,
				nla_get_u64(tb[IOPF_A_ADDR]),
				nla_get_u64(tb[IOPF_A_LEN]), &count,
				info->extack);
	iopf_dev_put(dev);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	hdr = genlmsg_put_reply(msg, info, &iopf_nl_family, 0, IOPF_CMD_UNMAP);
	if (!hdr || iopf_nl_put_u64(msg, IOPF_A_COUNT, count, IOPF_A_PAD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int iopf_nl_ttb_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_dev *dev;
	u32 pasid = 0;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_TTB))
		return -EINVAL;
	iopf_nl_pasid(info, &pasid);
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	ret = iopf_stages_ttb_set(dev, pasid,
				  nla_get_u64(info->attrs[IOPF_A_TTB]),
				  info->extack);
	iopf_dev_put(dev);
	return ret;
}

/*
 * MAP_GET: cb->args[0] the next page, [1] the StreamID, [2] the stage, [3]
 * the PASID; one MAPPING nest per message.
 */
static int iopf_nl_map_get_start(struct netlink_callback *cb)
{
	struct nlattr *tb[IOPF_A_STAGE + 1];
	struct iopf_dev *dev;
	u32 stage, pasid;
	int ret;

	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, IOPF_A_STAGE,
			  iopf_map_get_policy, cb->extack);
	if (ret)
		return ret;
	if (!tb[IOPF_A_SID] || !tb[IOPF_A_STAGE]) {
		NL_SET_ERR_MSG(cb->extack, "SID and STAGE are required");
		return -EINVAL;
	}
	stage = nla_get_u32(tb[IOPF_A_STAGE]);
	pasid = tb[IOPF_A_PASID] ? nla_get_u32(tb[IOPF_A_PASID]) : 0;
	dev = iopf_dev_get(nla_get_u32(tb[IOPF_A_SID]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[IOPF_A_SID],
				    "no device with this StreamID");
		return -ENODEV;
	}
	ret = iopf_stages_map_check(dev, stage,
				    tb[IOPF_A_PASID] ? &pasid : NULL,
				    cb->extack);
	iopf_dev_put(dev);
	if (ret)
		return ret;
	cb->args[0] = 0;
	cb->args[1] = nla_get_u32(tb[IOPF_A_SID]);
	cb->args[2] = stage;
	cb->args[3] = pasid;
	return 0;
}

static int iopf_nl_put_mapping(struct sk_buff *skb, u32 sid, u32 stage,
			       u32 pasid, const struct iopf_mapping *run)
{
	struct nlattr *nest = nla_nest_start(skb, IOPF_A_MAPPING);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, IOPF_MAPPING_A_SID, sid) ||
	    nla_put_u32(skb, IOPF_MAPPING_A_STAGE, stage) ||
	    (stage == IOPF_STAGE_1 &&
	     nla_put_u32(skb, IOPF_MAPPING_A_PASID, pasid)) ||
	    iopf_nl_put_u64(skb, IOPF_MAPPING_A_ADDR, run->addr,
			    IOPF_MAPPING_A_PAD) ||
	    iopf_nl_put_u64(skb, IOPF_MAPPING_A_OUT_ADDR, run->out_addr,
			    IOPF_MAPPING_A_PAD) ||
	    iopf_nl_put_u64(skb, IOPF_MAPPING_A_LEN, run->len,
			    IOPF_MAPPING_A_PAD) ||
	    nla_put_u32(skb, IOPF_MAPPING_A_PERM, run->perm)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int iopf_nl_map_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	u32 sid = cb->args[1], stage = cb->args[2], pasid = cb->args[3];
	struct iopf_mapping run;
	struct iopf_dev *dev;
	u64 page = cb->args[0];
	u32 gen = cb->seq;

	dev = iopf_dev_get(sid);
	if (!dev) {
		/* What was sent is not the whole table, nor will be */
		NL_SET_ERR_MSG(cb->extack, "the device was deleted during the dump");
		return -ENODEV;
	}
	while (iopf_stages_next_run(dev, stage, pasid, &page, &run, &gen)) {
		void *hdr;

		cb->seq = gen;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &iopf_nl_family,
				  NLM_F_MULTI, IOPF_CMD_MAP_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (iopf_nl_put_mapping(skb, sid, stage, pasid, &run)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = page;
		cond_resched();
	}
	/*
	 * Also when no run was left: a change that removed the rest flags
	 * the NLMSG_DONE that netlink_dump() checks with it.
	 */
	cb->seq = gen;
	iopf_dev_put(dev);
	return skb->len;
}

static int iopf_nl_access_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_access_req req = {};
	struct iopf_access_info ai;
	struct nlattr **tb = info->attrs;
	struct iopf_dev *dev;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_LEN) ||
	    GENL_REQ_ATTR_CHECK(info, IOPF_A_PERM))
		return -EINVAL;
	req.has_pasid = iopf_nl_pasid(info, &req.pasid);
	req.addr = nla_get_u64(tb[IOPF_A_ADDR]);
	req.len = nla_get_u64(tb[IOPF_A_LEN]);
	req.perm = nla_get_u32(tb[IOPF_A_PERM]);
	req.stall = nla_get_flag(tb[IOPF_A_STALL]);

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	dev = iopf_nl_get_dev(info);
	if (IS_ERR(dev)) {
		nlmsg_free(msg);
		return PTR_ERR(dev);
	}
	ret = iopf_access_start(dev, &req, &ai, info->extack);
	iopf_dev_put(dev);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	hdr = genlmsg_put_reply(msg, info, &iopf_nl_family, 0, IOPF_CMD_ACCESS);
	if (!hdr || iopf_nl_put_access(msg, &ai)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int iopf_nl_access_get_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct iopf_access_info ai;
	unsigned long index = 0;
	struct iopf_dev *dev;
	struct sk_buff *msg;
	bool found = false;
	void *hdr;
	u64 id;

	if (GENL_REQ_ATTR_CHECK(info, IOPF_A_ACCESS_ID))
		return -EINVAL;
	id = nla_get_u64(info->attrs[IOPF_A_ACCESS_ID]);
	if (info->attrs[IOPF_A_SID]) {
		dev = iopf_nl_get_dev(info);
		if (IS_ERR(dev))
			return PTR_ERR(dev);
		found = iopf_access_get(dev, id, &ai);
		iopf_dev_put(dev);
	} else {
		/* Without the StreamID, every device is asked */
		while (!found && (dev = iopf_dev_find_next(&index))) {
			found = iopf_access_get(dev, id, &ai);
			iopf_dev_put(dev);
			if (index++ == U32_MAX)
				break;
		}
	}
	if (!found) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[IOPF_A_ACCESS_ID],
				    "no access with this ID (or no longer kept)");
		return -ENOENT;
	}
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &iopf_nl_family, 0,
				IOPF_CMD_ACCESS_GET);
	if (!hdr || iopf_nl_put_access(msg, &ai)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* As the PENDING_GET dump, cb->args[1] the next access id of the device */
static int iopf_nl_access_fill_dev(struct sk_buff *skb,
				   struct netlink_callback *cb,
				   struct iopf_dev *dev)
{
	struct iopf_access_info ai;
	u64 id = cb->args[1];

	while (iopf_access_next(dev, &id, &ai)) {
		void *hdr;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &iopf_nl_family,
				  NLM_F_MULTI, IOPF_CMD_ACCESS_GET);
		if (!hdr)
			return -EMSGSIZE;
		if (iopf_nl_put_access(skb, &ai)) {
			genlmsg_cancel(skb, hdr);
			return -EMSGSIZE;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = id;
		cond_resched();
	}
	return 0;
}

static int iopf_nl_access_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	return iopf_nl_dump_per_dev(skb, cb, iopf_nl_access_fill_dev);
}

static int iopf_nl_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct iopf_global_stats s;
	struct sk_buff *msg;
	void *hdr;

	iopf_global_stats(&s);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &iopf_nl_family, 0,
				IOPF_CMD_STATS_GET);
	if (!hdr)
		goto nospace;
	if (iopf_nl_put_stats(msg, &s, iopf_global_stat_fields,
			      iopf_global_stat_nfields))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_ops iopf_nl_ops[] = {
	{
		.cmd = IOPF_CMD_DEV_NEW,
		.doit = iopf_nl_dev_new_doit,
		.policy = iopf_sid_policy,
		.maxattr = ARRAY_SIZE(iopf_sid_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_DEV_DEL,
		.doit = iopf_nl_dev_del_doit,
		.policy = iopf_sid_policy,
		.maxattr = ARRAY_SIZE(iopf_sid_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_DEV_GET,
		.doit = iopf_nl_dev_get_doit,
		.start = iopf_nl_dump_start_sid,
		.dumpit = iopf_nl_dev_get_dumpit,
		.policy = iopf_sid_policy,
		.maxattr = ARRAY_SIZE(iopf_sid_policy) - 1,
	},
	{
		.cmd = IOPF_CMD_HANDLER_REGISTER,
		.doit = iopf_nl_register_doit,
		.policy = iopf_register_policy,
		.maxattr = ARRAY_SIZE(iopf_register_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_HANDLER_UPDATE,
		.doit = iopf_nl_update_doit,
		.policy = iopf_update_policy,
		.maxattr = ARRAY_SIZE(iopf_update_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_HANDLER_UNREGISTER,
		.doit = iopf_nl_unregister_doit,
		.policy = iopf_sid_policy,
		.maxattr = ARRAY_SIZE(iopf_sid_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_PAGE_RESPONSE,
		.doit = iopf_nl_response_doit,
		.policy = iopf_response_policy,
		.maxattr = ARRAY_SIZE(iopf_response_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_PENDING_GET,
		.start = iopf_nl_dump_start_sid,
		.dumpit = iopf_nl_pending_dumpit,
		.policy = iopf_sid_policy,
		.maxattr = ARRAY_SIZE(iopf_sid_policy) - 1,
		/* Fault contents, as the faults group: admins only */
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_STATS_GET,
		.doit = iopf_nl_stats_doit,
		.policy = iopf_empty_policy,
		.maxattr = ARRAY_SIZE(iopf_empty_policy) - 1,
	},
	{
		.cmd = IOPF_CMD_DEV_SET,
		.doit = iopf_nl_dev_set_doit,
		.policy = iopf_set_policy,
		.maxattr = ARRAY_SIZE(iopf_set_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_MAP,
		.doit = iopf_nl_map_doit,
		.policy = iopf_map_policy,
		.maxattr = ARRAY_SIZE(iopf_map_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_UNMAP,
		.doit = iopf_nl_unmap_doit,
		.policy = iopf_unmap_policy,
		.maxattr = ARRAY_SIZE(iopf_unmap_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_MAP_GET,
		.start = iopf_nl_map_get_start,
		.dumpit = iopf_nl_map_get_dumpit,
		.policy = iopf_map_get_policy,
		.maxattr = ARRAY_SIZE(iopf_map_get_policy) - 1,
		/* The memory layout of a guest: admins only */
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_ACCESS,
		.doit = iopf_nl_access_doit,
		.policy = iopf_access_policy,
		.maxattr = ARRAY_SIZE(iopf_access_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_ACCESS_GET,
		.doit = iopf_nl_access_get_doit,
		.start = iopf_nl_access_dump_start,
		.dumpit = iopf_nl_access_dumpit,
		.policy = iopf_access_get_policy,
		.maxattr = ARRAY_SIZE(iopf_access_get_policy) - 1,
		/* What devices touch, as the faults group: admins only */
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IOPF_CMD_TTB_SET,
		.doit = iopf_nl_ttb_set_doit,
		.policy = iopf_ttb_policy,
		.maxattr = ARRAY_SIZE(iopf_ttb_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
};

struct genl_family iopf_nl_family __ro_after_init = {
	.name = IOPF_GENL_NAME,
	.version = IOPF_GENL_VERSION,
	.maxattr = IOPF_A_MAX,
	.module = THIS_MODULE,
	.ops = iopf_nl_ops,
	.n_ops = ARRAY_SIZE(iopf_nl_ops),
	.mcgrps = iopf_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(iopf_nl_mcgrps),
};

int iopf_netlink_init(void)
{
	int ret = genl_register_family(&iopf_nl_family);

	if (ret)
		return ret;
	iopf_nl_notify_start();
	return 0;
}

void iopf_netlink_exit(void)
{
	iopf_nl_notify_stop();
	genl_unregister_family(&iopf_nl_family);
}
