/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module's files share. The model maps onto v5.13 plus the RFC:
 *
 *   core.c     drivers/iommu/iommu.c: the synthetic devices, fault handler
 *              registration (with the RFC's flags and update call),
 *              iommu_report_device_fault(), iommu_page_response()
 *   smmu.c     arm-smmu-v3: arm_smmu_handle_evt() and
 *              arm_smmu_page_response() (the RESUME command)
 *   netlink.c  the generic netlink family: configuration, queries, dumps
 *   notify.c   its "faults" group: the fault handler user space listens
 *              to, RESUME and ACCESS notifications, SEQs, batches, loss
 *   trace.c    trace events (iopf_trace.h)
 *   debugfs.c  the event queue (record injection) and per-device views
 *   fail.c     failure knobs for the report path
 *   stages.c   the two-stage access model: stage-1 and stage-2 tables,
 *              DMA accesses that walk them and fault as SMMUv3 would
 *   main.c     module parameters: quirks that reproduce the RFC's bugs
 *   bench.c    the benchmark's ceiling: pre-built notifications, test builds
 *   iommu.c    upstream's road: a mock IOMMU driver for bridged devices,
 *              their faults through the kernel's IOPF core into iommufd
 *   viommu.c   its vIOMMU: nested domains, vDEVICEs, the vEVENTQ
 *   iommufd_bind.c  /dev/iopf_testbed: binding them to an iommufd
 * (the last three only where the kernel has iommufd: Kbuild)
 */
#ifndef _IOPF_TESTBED_H
#define _IOPF_TESTBED_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <iopf_testbed/fault_core.h>

#include "kcompat.h"

/* Upper bounds of module parameters (written beyond: -EINVAL) */
#define IOPF_MAX_DEVICES_LIMIT		65536U
#define IOPF_ACCESS_HISTORY_LIMIT	65536U

struct dentry;
struct seq_file;
struct sk_buff;
struct iopf_dev;
struct iopf_bridge;

/* A reported fault; also the pending copy of a page request */
struct iopf_event {
	struct list_head list;		/* pending requests, oldest first */
	struct list_head same_stag;	/* pending with the same STAG, ring */
	struct iopf_model_fault fault;
	u64 record[IOPF_EVT_DWORDS];
	u64 seq;
	u64 dev_seq;
	u64 timestamp_ns;
	u64 access_id;			/* the access that faulted, 0: injected */
};

/* The RESUME command issued for a page request */
struct iopf_resume {
	u64 seq;
	u32 sid;
	u32 stag;
	u32 resp;
	u32 code;
	u32 origin;
	u64 cmd[2];
};

/* struct iommu_page_response, less argsz and version */
struct iopf_page_response {
	u32 flags;	/* IOPF_PRQ_PASID_VALID when pasid is given */
	u32 pasid;
	u32 grpid;
	u32 code;
	u64 seq;	/* 0, or only the request with this SEQ (the bridge) */
};

typedef int (*iopf_fault_handler_t)(struct iopf_dev *dev,
				    struct iopf_event *evt, void *data);

/* struct iommu_fault_param, with the RFC's flags */
struct iopf_fault_param {
	iopf_fault_handler_t handler;
	u32 flags;
	void *data;
	struct list_head faults;	/* pending page requests */
	struct xarray stags;		/* STAG -> oldest request with it */
	struct xarray seqs;		/* dev_seq -> request: dumps resume */
};

struct iopf_dev_stats {
	u64 injected;
	u64 reported;
	u64 filtered_l1;
	u64 filtered_l2;
	u64 filtered_unrecov;
	u64 no_handler;
	u64 report_failed;
	u64 notify_lost;
	u64 pending;
	u64 responses;
	u64 response_errors;
	u64 auto_aborts;
	u64 resume_lost;
	u64 notify_unheard;
	u64 pending_full;
	u64 timeouts;
	/* The access model's: kept in struct iopf_stages, copied by snapshots */
	u64 accesses;
	u64 access_faults_l1;
	u64 access_faults_l2;
	u64 access_completed;
	u64 access_aborted;
	u64 access_terminated;
	u64 mapped_s1;
	u64 mapped_s2;
	u64 access_notify_lost;
	/* Upstream's road, non-stalled records (viommu.c) */
	u64 vevents;
	u64 vevent_errors;
	u64 upstream_unhandled;
};

/* What an access is, and where it got: replies and notifications */
struct iopf_access_info {
	u64 id;
	u32 sid;
	bool has_pasid;
	bool stall;
	u32 pasid;
	u64 addr;
	u64 len;
	u32 perm;
	u32 state;		/* enum iopf_access_state */
	u32 faults;
	u32 faults_l1;
	u32 faults_l2;
	u32 retries;
	u64 done;		/* bytes translated: the walk goes on from here */
	u64 fault_seq;		/* SEQ of its last reported fault, 0: none */
	u32 stag;		/* while STALLED */
	u64 start_ns;
	u64 end_ns;
};

/* stages.c: a device's tables and accesses (Documentation/stages.md) */
struct iopf_stages {
	/* Everything below; taken after dev->lock, never with another held */
	struct mutex lock;
	bool removed;
	u32 mode;			/* IOPF_STAGE_MODE_* */
	struct xarray s1;		/* SubstreamID -> struct iopf_s1_table */
	u32 s1_tables;
	struct xarray s2;		/* IPA page -> xa_mk_value(entry) */
	u32 gen;			/* changes with the tables: MAP_GET */
	struct xarray accesses;		/* id -> struct iopf_access */
	struct xarray stags;		/* STAG -> its stalled access */
	u32 next_stag;
	u32 nlive;			/* accesses not ended */
	u32 nended;
	struct list_head ended;		/* ended accesses, oldest first */
	struct list_head retry;		/* accesses a RETRY re-walks */
	struct work_struct retry_work;
	struct iopf_dev_stats stats;	/* accesses.. mapped_s2 only */
	atomic64_t notify_lost;
};

/* A synthetic device behind the SMMU, named by its StreamID */
struct iopf_dev {
	struct kref ref;
	u32 sid;
	u32 gen;	/* iopf_devs_gen when it was created: the instance */
	/*
	 * The driver's stream lock (arm_smmu's streams_mutex): held from the
	 * look-up through the report and the abort of a request that could
	 * not be reported, and by removal. Taken before @lock.
	 */
	struct mutex stream_lock;
	/*
	 * Set first by removal, read without a lock: a long debugfs write
	 * stops at its next item instead of holding the removal (and the
	 * genl_mutex behind it) while debugfs waits for it.
	 */
	bool dying;
	/* dev_iommu->lock: everything below */
	struct mutex lock;
	bool removed;
	struct iopf_fault_param *fault_param;	/* NULL: no handler */
	struct iopf_dev_stats stats;	/* but notify_*: below */
	/* Counted when a batch is sent, under the notify lock, not ours */
	atomic64_t notify_lost;
	atomic64_t notify_unheard;
	u32 pending_limit;
	u32 timeout_ms;				/* 0: no response timeout */
	struct delayed_work timeout_work;	/* answers what timed out */
	u64 dev_seq;				/* of its last reported fault */
	struct iopf_resume last_resume;		/* seq 0: none yet */
	struct dentry *debugfs;
	struct iopf_stages stages;
	/* iommu.c: set and cleared under stream_lock; NULL: not bridged */
	struct iopf_bridge *bridge;
	struct rcu_head rcu;		/* freed after RCU look-ups: core.c */
};

/* A counter's names: one table drives both debugfs and netlink */
struct iopf_stat_field {
	const char *name;	/* debugfs */
	int attr;		/* IOPF_STAT_A_* */
	size_t offset;		/* of its u64 in the stats struct */
};

#define IOPF_STAT_FIELD(type, field, attr_name) \
	{ #field, IOPF_STAT_A_##attr_name, offsetof(type, field) }

extern const struct iopf_stat_field iopf_dev_stat_fields[];
extern const unsigned int iopf_dev_stat_nfields;
extern const struct iopf_stat_field iopf_global_stat_fields[];
extern const unsigned int iopf_global_stat_nfields;

static inline u64 iopf_stat_value(const void *stats,
				  const struct iopf_stat_field *f)
{
	return *(const u64 *)((const char *)stats + f->offset);
}

struct iopf_global_stats {
	u64 records;
	u64 unhandled_event;
	u64 unknown_sid;
	u64 devices;
	u64 fault_seq;
	u64 resume_seq;
	u64 resume_lost;
};

/* main.c: quirks=, each reproducing a bug of the RFC as posted */
#define IOPF_QUIRK_B1_LOCK_LEAK		BIT(0)	/* filtered fault keeps the lock */
#define IOPF_QUIRK_B2_UPDATE_CHECK	BIT(1)	/* update's inverted NULL check */
#define IOPF_QUIRK_B3_IPA_SHIFT		BIT(2)	/* IPA as a frame number */
/* Bugs planted in the upstream bridge (iommu.c): its suite must catch them */
#define IOPF_QUIRK_U1_GRPID_FIELD	BIT(3)	/* grpid from the SSID, not STAG */
#define IOPF_QUIRK_U2_NO_PASID_VALID	BIT(4)	/* PASID_VALID dropped */
#define IOPF_QUIRK_U3_CODE_INVERTED	BIT(5)	/* SUCCESS <-> INVALID */
#define IOPF_QUIRK_U4_PSID_LEAK		BIT(6)	/* vEVENT with the physical SID */
#define IOPF_QUIRK_U5_S2_VEVENT		BIT(7)	/* stage-2 events as stage-1 */
#define IOPF_QUIRK_ALL			GENMASK(7, 0)
extern unsigned int iopf_quirks;

static inline bool iopf_quirk(unsigned int quirk)
{
	return iopf_quirks & quirk;
}

/* core.c */
/* DEV_SET's settings; a NULL one is left as it is */
struct iopf_dev_config {
	const u32 *pending_limit;
	const u32 *timeout_ms;
	const u32 *stage_mode;
};

int iopf_dev_create(u32 sid, struct netlink_ext_ack *extack);
int iopf_dev_configure(struct iopf_dev *dev,
		       const struct iopf_dev_config *cfg,
		       struct netlink_ext_ack *extack);
int iopf_dev_destroy(u32 sid, struct netlink_ext_ack *extack);
void iopf_dev_destroy_all(void);
struct iopf_dev *iopf_dev_get(u32 sid);
struct iopf_dev *iopf_dev_find_next(unsigned long *index);
void iopf_dev_put(struct iopf_dev *dev);
void iopf_dev_snapshot(struct iopf_dev *dev, struct iopf_dev_stats *stats,
		       u32 *flags, u32 *pending_limit, u32 *timeout_ms);
u32 iopf_devs_generation(void);
int iopf_register_fault_handler(struct iopf_dev *dev,
				iopf_fault_handler_t handler, u32 flags,
				void *data, struct netlink_ext_ack *extack);
int iopf_update_fault_handler(struct iopf_dev *dev, u32 mask, u32 set,
			      struct netlink_ext_ack *extack);
int iopf_unregister_fault_handler(struct iopf_dev *dev,
				  struct netlink_ext_ack *extack);
int iopf_report_device_fault(struct iopf_dev *dev, struct iopf_event *evt);
int iopf_page_response(struct iopf_dev *dev,
		       const struct iopf_page_response *msg,
		       struct netlink_ext_ack *extack);
int iopf_page_response_from(struct iopf_dev *dev,
			    const struct iopf_page_response *msg, u32 origin,
			    struct netlink_ext_ack *extack);
void iopf_global_stats(struct iopf_global_stats *stats);
void iopf_count_record(void);
void iopf_count_unhandled(void);
void iopf_count_unknown_sid(void);
void iopf_count_resume_lost(void);

/* smmu.c */
void iopf_smmu_handle_evts(const u64 *evts, size_t n);
void iopf_smmu_handle_access_evt(const u64 *evt, u64 access_id);
int iopf_smmu_page_response(struct iopf_dev *dev,
			    const struct iopf_event *evt, u32 code, u32 origin);

/* netlink.c */
int iopf_netlink_init(void);
void iopf_netlink_exit(void);

/* notify.c */
int iopf_nl_fault_handler(struct iopf_dev *dev, struct iopf_event *evt,
			  void *data);
bool iopf_nl_notify_resume(struct iopf_resume *resume);
bool iopf_nl_notify_access(const struct iopf_access_info *info);
void iopf_nl_flush(void);
void iopf_nl_seqs(u64 *fault_seq, u64 *resume_seq);
unsigned int iopf_nl_fault_batch(void);
struct sk_buff *iopf_nl_fault_msg_build(const struct iopf_event *evt,
					unsigned int n, unsigned int cap);
int iopf_nl_multicast_clone(struct sk_buff *tmpl);

/* stages.c */
/* An ACCESS: what the device does a DMA transaction with */
struct iopf_access_req {
	bool has_pasid;
	bool stall;
	u32 pasid;
	u64 addr;
	u64 len;
	u32 perm;
};

/* A run of contiguous pages with one permission, for MAP_GET */
struct iopf_mapping {
	u64 addr;
	u64 out_addr;
	u64 len;
	u32 perm;
};

int iopf_core_module_init(void);
void iopf_core_module_exit(void);
int iopf_stages_module_init(void);
void iopf_stages_module_exit(void);
void iopf_stages_init(struct iopf_dev *dev);
void iopf_stages_teardown(struct iopf_dev *dev);
void iopf_stages_snapshot(struct iopf_dev *dev, struct iopf_dev_stats *stats);
u32 iopf_stages_mode(struct iopf_dev *dev);
int iopf_stages_set_mode(struct iopf_dev *dev, u32 mode,
			 struct netlink_ext_ack *extack);
int iopf_stages_map(struct iopf_dev *dev, u32 stage, const u32 *pasid,
		    u64 addr, u64 out_addr, u64 len, u32 perm,
		    struct netlink_ext_ack *extack);
int iopf_stages_unmap(struct iopf_dev *dev, u32 stage, const u32 *pasid,
		      u64 addr, u64 len, u64 *count,
		      struct netlink_ext_ack *extack);
int iopf_stages_ttb_set(struct iopf_dev *dev, u32 pasid, u64 ttb,
			struct netlink_ext_ack *extack);
int iopf_stages_map_check(struct iopf_dev *dev, u32 stage, const u32 *pasid,
			  struct netlink_ext_ack *extack);
bool iopf_stages_next_run(struct iopf_dev *dev, u32 stage, u32 pasid,
			  u64 *page, struct iopf_mapping *run, u32 *gen);
int iopf_access_start(struct iopf_dev *dev, const struct iopf_access_req *req,
		      struct iopf_access_info *info,
		      struct netlink_ext_ack *extack);
bool iopf_access_get(struct iopf_dev *dev, u64 id,
		     struct iopf_access_info *info);
bool iopf_access_next(struct iopf_dev *dev, u64 *id,
		      struct iopf_access_info *info);
void iopf_access_resume(struct iopf_dev *dev, const struct iopf_event *evt,
			u32 resp);
void iopf_access_reported(struct iopf_dev *dev, const struct iopf_event *evt);
void iopf_stages_show_accesses(struct iopf_dev *dev, struct seq_file *m);
void iopf_stages_show_mappings(struct iopf_dev *dev, struct seq_file *m);

/* fail.c */
enum iopf_fail_point {
	IOPF_FAIL_REPORT_ALLOC,		/* allocations on the report path */
	IOPF_FAIL_NOTIFY_SEND,		/* the multicast finds a full queue */
};

bool iopf_should_fail(enum iopf_fail_point point);
void iopf_fail_debugfs_init(struct dentry *root);

/* bench.c: the benchmark's ceiling, in test builds only (Kbuild) */
#ifdef IOPF_TESTBED_BENCH
void iopf_bench_debugfs_init(struct dentry *root);
#else
static inline void iopf_bench_debugfs_init(struct dentry *root) {}
#endif

/* iommu.c, iommufd_bind.c: where the kernel has iommufd (Kbuild) */
#ifdef IOPF_TESTBED_BRIDGE
int iopf_iommu_init(void);
void iopf_iommu_exit(void);
int iopf_bridge_add(struct iopf_dev *dev, struct netlink_ext_ack *extack);
int iopf_bridge_del(struct iopf_dev *dev, struct netlink_ext_ack *extack);
void iopf_bridge_remove(struct iopf_dev *dev);
void iopf_bridge_report(struct iopf_dev *dev, const struct iopf_event *evt);
void iopf_bridge_event(struct iopf_dev *dev, const struct iopf_event *evt);
struct device *iopf_bridge_device(struct iopf_dev *dev);
int iopf_bind_init(void);
void iopf_bind_exit(void);
void iopf_bind_remove_dev(struct iopf_dev *dev);
bool iopf_bind_info(struct iopf_dev *dev, u32 *dev_id, u32 *pt_id);
#else
/* IOPF_BRIDGE_ABSENT: Kbuild's one line on why */
static inline int iopf_iommu_init(void) { return 0; }
static inline void iopf_iommu_exit(void) {}
static inline int iopf_bridge_add(struct iopf_dev *dev,
				  struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "no bridge: " IOPF_BRIDGE_ABSENT);
	return -EOPNOTSUPP;
}

static inline int iopf_bridge_del(struct iopf_dev *dev,
				  struct netlink_ext_ack *extack)
{
	return iopf_bridge_add(dev, extack);
}

static inline void iopf_bridge_remove(struct iopf_dev *dev) {}
static inline void iopf_bridge_report(struct iopf_dev *dev,
				      const struct iopf_event *evt) {}
static inline void iopf_bridge_event(struct iopf_dev *dev,
				     const struct iopf_event *evt) {}
static inline int iopf_bind_init(void) { return 0; }
static inline void iopf_bind_exit(void) {}
static inline bool iopf_bind_info(struct iopf_dev *dev, u32 *dev_id,
				  u32 *pt_id)
{
	return false;
}
#endif

static inline bool iopf_dev_bridged(struct iopf_dev *dev)
{
	return READ_ONCE(dev->bridge);
}

/* debugfs.c */
int iopf_debugfs_init(void);
void iopf_debugfs_exit(void);
void iopf_debugfs_dev_add(struct iopf_dev *dev);
void iopf_debugfs_dev_remove(struct iopf_dev *dev);

#endif /* _IOPF_TESTBED_H */
