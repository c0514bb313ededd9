/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events along a fault's path (Documentation/tracing.md): a record
 * decoded, the fault reported (with the SEQ its FAULT_NTF carries) or
 * dropped, the page response, the RESUME (with its RESUME_NTF's SEQ), and
 * the accesses of the stage model. kmod/trace.c creates them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM iopf_testbed

#if !defined(_IOPF_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _IOPF_TRACE_H

#include <linux/tracepoint.h>

#include "iopf_testbed.h"

#ifndef _IOPF_TRACE_DROP
#define _IOPF_TRACE_DROP
/* Why a fault was not reported: iopf_trace_drop_why() */
#define IOPF_TRACE_DROP_REMOVED		1
#define IOPF_TRACE_DROP_NO_HANDLER	2
#define IOPF_TRACE_DROP_FILTER_L1	3
#define IOPF_TRACE_DROP_FILTER_L2	4
#define IOPF_TRACE_DROP_FILTER_UNRECOV	5
#define IOPF_TRACE_DROP_FILTER_FLAT	6
#define IOPF_TRACE_DROP_PENDING_FULL	7
#define IOPF_TRACE_DROP_NO_MEMORY	8
#define IOPF_TRACE_DROP_HANDLER		9

u32 iopf_trace_drop_why(struct iopf_dev *dev, const struct iopf_event *evt,
			int err);
#endif

TRACE_DEFINE_ENUM(IOPF_ORIGIN_RESPONSE);
TRACE_DEFINE_ENUM(IOPF_ORIGIN_REPORT_FAILED);
TRACE_DEFINE_ENUM(IOPF_ORIGIN_FLUSH);
TRACE_DEFINE_ENUM(IOPF_ORIGIN_TIMEOUT);
TRACE_DEFINE_ENUM(IOPF_ACCESS_STALLED);
TRACE_DEFINE_ENUM(IOPF_ACCESS_COMPLETED);
TRACE_DEFINE_ENUM(IOPF_ACCESS_ABORTED);
TRACE_DEFINE_ENUM(IOPF_ACCESS_TERMINATED);
TRACE_DEFINE_ENUM(IOPF_ACCESS_RUNNING);

#define iopf_trace_type(type)						\
	__print_symbolic(type,						\
			 { IOPF_FAULT_PAGE_REQ, "page_req" },		\
			 { IOPF_FAULT_DMA_UNRECOV, "unrecov" })

#define iopf_trace_origin(origin)					\
	__print_symbolic(origin,					\
			 { IOPF_ORIGIN_RESPONSE, "response" },		\
			 { IOPF_ORIGIN_REPORT_FAILED, "report_failed" },	\
			 { IOPF_ORIGIN_FLUSH, "flush" },		\
			 { IOPF_ORIGIN_TIMEOUT, "timeout" })

#define iopf_trace_state(state)						\
	__print_symbolic(state,						\
			 { IOPF_ACCESS_STALLED, "stalled" },		\
			 { IOPF_ACCESS_COMPLETED, "completed" },	\
			 { IOPF_ACCESS_ABORTED, "aborted" },		\
			 { IOPF_ACCESS_TERMINATED, "terminated" },	\
			 { IOPF_ACCESS_RUNNING, "running" })

#define iopf_trace_code(code)						\
	__print_symbolic(code,						\
			 { IOPF_RESP_SUCCESS, "success" },		\
			 { IOPF_RESP_INVALID, "invalid" },		\
			 { IOPF_RESP_FAILURE, "failure" })

#define iopf_trace_resp(resp)						\
	__print_symbolic(resp,						\
			 { IOPF_RESUME_TERM, "term" },			\
			 { IOPF_RESUME_RETRY, "retry" },		\
			 { IOPF_RESUME_ABORT, "abort" })

#define iopf_trace_why(why)						\
	__print_symbolic(why,						\
			 { IOPF_TRACE_DROP_REMOVED, "removed" },	\
			 { IOPF_TRACE_DROP_NO_HANDLER, "no_handler" },	\
			 { IOPF_TRACE_DROP_FILTER_L1, "filtered_l1" },	\
			 { IOPF_TRACE_DROP_FILTER_L2, "filtered_l2" },	\
			 { IOPF_TRACE_DROP_FILTER_UNRECOV, "filtered_unrecov" }, \
			 { IOPF_TRACE_DROP_FILTER_FLAT, "filtered_flat" }, \
			 { IOPF_TRACE_DROP_PENDING_FULL, "pending_full" }, \
			 { IOPF_TRACE_DROP_NO_MEMORY, "no_memory" },	\
			 { IOPF_TRACE_DROP_HANDLER, "handler" })

/* An event record the driver decoded (arm_smmu_handle_evt()) */
TRACE_EVENT(iopf_record,
	    TP_PROTO(const struct iopf_model_fault *flt),
	    TP_ARGS(flt),
	    TP_STRUCT__entry(__field(u32, sid)
			     __field(u32, event_id)
			     __field(u32, stall)
			     __field(u32, stag)
			     __field(u32, pasid)
			     __field(u32, level)
			     __field(u64, addr)
			     __field(u64, ipa)
	    ),
	    TP_fast_assign(__entry->sid = flt->sid;
			   __entry->event_id = flt->event_id;
			   __entry->stall = flt->type == IOPF_FAULT_PAGE_REQ;
			   __entry->stag = flt->grpid;
			   __entry->pasid = iopf_fault_has_pasid(flt) ? flt->pasid : ~0U;
			   __entry->level = flt->level;
			   __entry->addr = flt->addr;
			   __entry->ipa = flt->ipa;
	    ),
	    TP_printk("sid=0x%x evt=0x%02x stall=%u stag=%u pasid=%d addr=0x%llx ipa=0x%llx stage=%u",
		      __entry->sid, __entry->event_id, __entry->stall,
		      __entry->stag, (int)__entry->pasid, __entry->addr,
		      __entry->ipa, __entry->level)
);

/* A fault the handler took: its SEQ is the FAULT_NTF's */
TRACE_EVENT(iopf_fault,
	    TP_PROTO(const struct iopf_event *evt),
	    TP_ARGS(evt),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(u64, dev_seq)
			     __field(u64, addr)
			     __field(u64, access_id)
			     __field(u32, sid)
			     __field(u32, level)
			     __field(u32, type)
			     __field(u32, flags)
			     __field(u32, grpid)
	    ),
	    TP_fast_assign(__entry->seq = evt->seq;
			   __entry->dev_seq = evt->dev_seq;
			   __entry->addr = evt->fault.addr;
			   __entry->access_id = evt->access_id;
			   __entry->sid = evt->fault.sid;
			   __entry->level = evt->fault.level;
			   __entry->type = evt->fault.type;
			   __entry->flags = evt->fault.flags;
			   __entry->grpid = evt->fault.grpid;
	    ),
	    TP_printk("seq=%llu dev_seq=%llu sid=0x%x L%u type=%s flags=0x%x grpid=%u addr=0x%llx access=%llu",
		      __entry->seq, __entry->dev_seq, __entry->sid,
		      __entry->level, iopf_trace_type(__entry->type),
		      __entry->flags, __entry->grpid, __entry->addr,
		      __entry->access_id)
);

/* A fault not reported, and why (which of the device's counters has it) */
TRACE_EVENT(iopf_fault_drop,
	    TP_PROTO(struct iopf_dev *dev, const struct iopf_event *evt, int err),
	    TP_ARGS(dev, evt, err),
	    TP_STRUCT__entry(__field(u64, addr)
			     __field(u32, sid)
			     __field(u32, level)
			     __field(u32, type)
			     __field(u32, grpid)
			     __field(int, err)
			     __field(u32, why)
	    ),
	    TP_fast_assign(__entry->addr = evt->fault.addr;
			   __entry->sid = evt->fault.sid;
			   __entry->level = evt->fault.level;
			   __entry->type = evt->fault.type;
			   __entry->grpid = evt->fault.grpid;
			   __entry->err = err;
			   __entry->why = iopf_trace_drop_why(dev, evt, err);
	    ),
	    TP_printk("sid=0x%x L%u type=%s grpid=%u addr=0x%llx err=%d why=%s",
		      __entry->sid, __entry->level,
		      iopf_trace_type(__entry->type), __entry->grpid,
		      __entry->addr, __entry->err,
		      iopf_trace_why(__entry->why))
);

/* A page response, before it is matched to a pending request */
TRACE_EVENT(iopf_response,
	    TP_PROTO(struct iopf_dev *dev, const struct iopf_page_response *msg,
		     u32 origin),
	    TP_ARGS(dev, msg, origin),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(u32, sid)
			     __field(u32, grpid)
			     __field(u32, code)
			     __field(u32, pasid)
			     __field(u32, origin)
	    ),
	    TP_fast_assign(__entry->seq = msg->seq;
			   __entry->sid = dev->sid;
			   __entry->grpid = msg->grpid;
			   __entry->code = msg->code;
			   __entry->pasid = (msg->flags & IOPF_PRQ_PASID_VALID) ?
					    msg->pasid : ~0U;
			   __entry->origin = origin;
	    ),
	    TP_printk("sid=0x%x grpid=%u code=%s pasid=%d seq=%llu origin=%s",
		      __entry->sid, __entry->grpid, iopf_trace_code(__entry->code),
		      (int)__entry->pasid, __entry->seq,
		      iopf_trace_origin(__entry->origin))
);

/* The RESUME command issued: its SEQ is the RESUME_NTF's */
TRACE_EVENT(iopf_resume,
	    TP_PROTO(const struct iopf_resume *resume, u64 fault_seq),
	    TP_ARGS(resume, fault_seq),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(u64, fault_seq)
			     __field(u32, sid)
			     __field(u32, stag)
			     __field(u32, resp)
			     __field(u32, code)
			     __field(u32, origin)
	    ),
	    TP_fast_assign(__entry->seq = resume->seq;
			   __entry->fault_seq = fault_seq;
			   __entry->sid = resume->sid;
			   __entry->stag = resume->stag;
			   __entry->resp = resume->resp;
			   __entry->code = resume->code;
			   __entry->origin = resume->origin;
	    ),
	    TP_printk("seq=%llu sid=0x%x stag=%u resp=%s code=%s origin=%s fault_seq=%llu",
		      __entry->seq, __entry->sid, __entry->stag,
		      iopf_trace_resp(__entry->resp),
		      iopf_trace_code(__entry->code),
		      iopf_trace_origin(__entry->origin), __entry->fault_seq)
);

/* An access of the stage model: started, and when it ended */
DECLARE_EVENT_CLASS(iopf_access,
		    TP_PROTO(const struct iopf_access_info *info),
		    TP_ARGS(info),
		    TP_STRUCT__entry(__field(u64, id)
				     __field(u64, addr)
				     __field(u64, len)
				     __field(u64, done)
				     __field(u64, fault_seq)
				     __field(u32, sid)
				     __field(u32, pasid)
				     __field(u32, state)
				     __field(u32, faults)
				     __field(u32, stag)
		    ),
		    TP_fast_assign(__entry->id = info->id;
				   __entry->addr = info->addr;
				   __entry->len = info->len;
				   __entry->done = info->done;
				   __entry->fault_seq = info->fault_seq;
				   __entry->sid = info->sid;
				   __entry->pasid = info->has_pasid ? info->pasid : ~0U;
				   __entry->state = info->state;
				   __entry->faults = info->faults;
				   __entry->stag = info->stag;
		    ),
		    TP_printk("id=%llu sid=0x%x pasid=%d addr=0x%llx len=0x%llx state=%s done=0x%llx faults=%u stag=%u fault_seq=%llu",
			      __entry->id, __entry->sid, (int)__entry->pasid,
			      __entry->addr, __entry->len,
			      iopf_trace_state(__entry->state), __entry->done,
			      __entry->faults, __entry->stag, __entry->fault_seq)
);

/* access_start: made (ACCESS), about to be walked */
DEFINE_EVENT(iopf_access, iopf_access_start,
	     TP_PROTO(const struct iopf_access_info *info),
	     TP_ARGS(info)
);

/* access_end: completed, aborted or terminated */
DEFINE_EVENT(iopf_access, iopf_access_end,
	     TP_PROTO(const struct iopf_access_info *info),
	     TP_ARGS(info)
);

#endif /* _IOPF_TRACE_H */

/* Out of tree: the header is found through -I$(src)/kmod (Kbuild) */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE iopf_trace
#include <trace/define_trace.h>
