// SPDX-License-Identifier: GPL-2.0
/*
 * The module's trace events (kmod/iopf_trace.h, Documentation/tracing.md),
 * created here.
 */
#include "iopf_testbed.h"

#define CREATE_TRACE_POINTS
#include "iopf_trace.h"

/*
 * Why iopf_report_device_fault() did not report a fault, from its error
 * (dev->lock held, so the handler's flags are the ones it filtered with).
 * Only called while iopf_fault_drop is enabled.
 */
u32 iopf_trace_drop_why(struct iopf_dev *dev, const struct iopf_event *evt,
			int err)
{
	lockdep_assert_held(&dev->lock);
	switch (err) {
	case -ENODEV:
		return IOPF_TRACE_DROP_REMOVED;
	case -EINVAL:
		return IOPF_TRACE_DROP_NO_HANDLER;
	case -ENOSPC:
		return IOPF_TRACE_DROP_PENDING_FULL;
	case -ENOMEM:
		return IOPF_TRACE_DROP_NO_MEMORY;
	case -EOPNOTSUPP:
		if (!dev->fault_param)
			break;
		switch (iopf_delivery(dev->fault_param->flags, &evt->fault)) {
		case IOPF_FILTER_L1:
			return IOPF_TRACE_DROP_FILTER_L1;
		case IOPF_FILTER_L2:
			return IOPF_TRACE_DROP_FILTER_L2;
		case IOPF_FILTER_UNRECOV:
			return IOPF_TRACE_DROP_FILTER_UNRECOV;
		case IOPF_FILTER_FLAT:
			return IOPF_TRACE_DROP_FILTER_FLAT;
		case IOPF_DELIVER:
			break;
		}
		break;
	}
	return IOPF_TRACE_DROP_HANDLER;
}
