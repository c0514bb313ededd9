// SPDX-License-Identifier: GPL-2.0
/*
 * An independent iopf_testbed client: it uses only the code the kernel's
 * tools/net/ynl generates from Documentation/netlink/iopf_testbed.yaml and
 * libynl, never the project's own netlink code, so the spec is proved by
 * driving the module with it. Prints KTAP; exit status 0 when all passed.
 * Built by scripts/ynl.sh build, run in the guest by tests/guest/ynl.sh.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ynl.h>
#include "iopf_testbed-user.h"

#define SID	0x5a
#define STAG	0x42
#define ADDR	0x12345000ULL
#define INJECT	"/sys/kernel/debug/iopf_testbed/inject"

static int num, failed;

static bool check(bool ok, const char *name, struct ynl_sock *ys)
{
	num++;
	if (!ok)
		failed++;
	printf("%sok %d %s", ok ? "" : "not ", num, name);
	if (!ok && ys && ys->err.code)
		printf(" # ynl error %d: %s", ys->err.code, ys->err.msg);
	printf("\n");
	return ok;
}

/* Wait up to 5 s for a notification of this command, dequeue it */
static struct ynl_ntf_base_type *wait_ntf(struct ynl_sock *ys, int cmd)
{
	struct pollfd pfd = { .fd = ynl_socket_get_fd(ys), .events = POLLIN };
	struct ynl_ntf_base_type *ntf;

	for (int i = 0; i < 50; i++) {
		while ((ntf = ynl_ntf_dequeue(ys))) {
			if (ntf->cmd == cmd)
				return ntf;
			ynl_ntf_free(ntf);
		}
		if (poll(&pfd, 1, 100) > 0 && ynl_ntf_check(ys) < 0)
			return NULL;
	}
	return NULL;
}

int main(void)
{
	/* Translation fault, stage 1, stalled (a page request), read */
	const unsigned long long evt[4] = {
		0x10 | (unsigned long long)SID << 32,
		STAG | 1ULL << 31 | 1ULL << 35, ADDR, 0 };
	struct iopf_testbed_fault_ntf *fntf = NULL;
	struct iopf_testbed_resume_ntf *rntf = NULL;
	struct iopf_testbed_dev_get_rsp *dev;
	struct iopf_testbed_stats_get_rsp *st;
	struct ynl_error yerr;
	struct ynl_sock *ys;
	FILE *f;

	printf("KTAP version 1\n1..11\n");
	ys = ynl_sock_create(&ynl_iopf_testbed_family, &yerr);
	if (!ys) {
		printf("# ynl_sock_create: %s\nBail out!\n", yerr.msg);
		return 1;
	}
	check(!ynl_subscribe(ys, "faults"), "subscribe_faults", ys);

	struct iopf_testbed_dev_new_req *nreq = iopf_testbed_dev_new_req_alloc();
	iopf_testbed_dev_new_req_set_sid(nreq, SID);
	check(!iopf_testbed_dev_new(ys, nreq), "dev_new", ys);
	/* The same SID again: refused, with an extack message */
	check(iopf_testbed_dev_new(ys, nreq) && ys->err.code == EEXIST && ys->err.msg[0],
	      "dev_new_again_eexist_with_extack", NULL);
	printf("# extack: %s\n", ys->err.msg);
	iopf_testbed_dev_new_req_free(nreq);

	struct iopf_testbed_handler_register_req *hreq =
		iopf_testbed_handler_register_req_alloc();
	iopf_testbed_handler_register_req_set_sid(hreq, SID);
	iopf_testbed_handler_register_req_set_flags(hreq, IOPF_REPORT_FLAT);
	check(!iopf_testbed_handler_register(ys, hreq), "handler_register", ys);
	iopf_testbed_handler_register_req_free(hreq);

	f = fopen(INJECT, "w");
	check(f && fprintf(f, "0x%016llx 0x%016llx 0x%016llx 0x%016llx\n",
			   evt[0], evt[1], evt[2], evt[3]) > 0 && !fclose(f),
	      "inject_page_request", NULL);

	fntf = (struct iopf_testbed_fault_ntf *)wait_ntf(ys, IOPF_CMD_FAULT_NTF);
	if (fntf && fntf->obj.n_fault == 1) {
		struct iopf_testbed_fault *flt = &fntf->obj.fault[0];

		printf("# fault seq %llu sid %#x type %s grpid %#x addr %#llx perm %#x\n",
		       (unsigned long long)flt->seq, flt->sid,
		       iopf_testbed_fault_type_str(flt->type), flt->grpid,
		       (unsigned long long)flt->addr, flt->perm);
		check(flt->sid == SID && flt->type == IOPF_FAULT_PAGE_REQ &&
		      flt->grpid == STAG && flt->addr == ADDR &&
		      flt->perm == IOPF_PERM_READ && flt->_present.seq &&
		      flt->_present.record_len == 32, "fault_ntf", NULL);
	} else {
		check(false, "fault_ntf", ys);
	}

	struct iopf_testbed_dev_get_req *greq = iopf_testbed_dev_get_req_alloc();
	iopf_testbed_dev_get_req_set_sid(greq, SID);
	dev = iopf_testbed_dev_get(ys, greq);
	check(dev && dev->sid == SID && dev->registered == 1 &&
	      dev->flags == IOPF_REPORT_FLAT && dev->stats.injected == 1 &&
	      dev->stats.reported == 1 && dev->stats.pending == 1,
	      "dev_get_flags_and_stats", ys);
	if (dev)
		iopf_testbed_dev_get_rsp_free(dev);

	st = iopf_testbed_stats_get(ys);
	check(st && st->stats._present.fault_seq && fntf &&
	      st->stats.fault_seq == fntf->obj.fault[0].seq && st->stats.devices >= 1,
	      "stats_get", ys);
	if (st)
		iopf_testbed_stats_get_rsp_free(st);

	struct iopf_testbed_page_response_req *preq =
		iopf_testbed_page_response_req_alloc();
	iopf_testbed_page_response_req_set_sid(preq, SID);
	iopf_testbed_page_response_req_set_grpid(preq, STAG);
	iopf_testbed_page_response_req_set_code(preq, IOPF_RESP_SUCCESS);
	check(!iopf_testbed_page_response(ys, preq), "page_response", ys);
	iopf_testbed_page_response_req_free(preq);

	rntf = (struct iopf_testbed_resume_ntf *)wait_ntf(ys, IOPF_CMD_RESUME_NTF);
	check(rntf && rntf->obj.resume.sid == SID && rntf->obj.resume.stag == STAG &&
	      rntf->obj.resume.resp == IOPF_RESUME_RETRY &&
	      rntf->obj.resume.origin == IOPF_ORIGIN_RESPONSE, "resume_ntf", ys);

	struct iopf_testbed_dev_del_req *dreq = iopf_testbed_dev_del_req_alloc();
	iopf_testbed_dev_del_req_set_sid(dreq, SID);
	check(!iopf_testbed_dev_del(ys, dreq) && !iopf_testbed_dev_get(ys, greq) &&
	      ys->err.code == ENODEV, "dev_del_then_enodev", ys);
	iopf_testbed_dev_del_req_free(dreq);
	iopf_testbed_dev_get_req_free(greq);

	if (fntf)
		iopf_testbed_fault_ntf_free(fntf);
	if (rntf)
		iopf_testbed_resume_ntf_free(rntf);
	ynl_sock_destroy(ys);
	printf("# Totals: pass:%d fail:%d skip:0\n", num - failed, failed);
	return failed ? 1 : 0;
}
