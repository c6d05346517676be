// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: talking to the module's generic netlink family.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include "tool.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct nl_sock *sock;
static int family = -1;
bool dump_interrupted;

int nfsec_nl_open(bool quiet)
{
	int one = 1, err;

	if (sock)
		return 0;
	sock = nl_socket_alloc();
	if (!sock)
		die("out of memory");
	err = genl_connect(sock);
	if (err)
		die("cannot open a generic netlink socket: %s", nl_geterror(err));
	/* Let the kernel say why it refused, and keep its ACKs short. */
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	/*
	 * One recvmsg() per message, no MSG_PEEK: a dump part is at most
	 * 32 KiB, so a 64 KiB buffer always holds it.
	 */
	nl_socket_disable_msg_peek(sock);
	nl_socket_set_msg_buf_size(sock, 65536);
	nl_socket_set_buffer_size(sock, 1 << 20, 1 << 20);
	family = genl_ctrl_resolve(sock, NFSEC_GENL_NAME);
	if (family < 0) {
		if (family == -NLE_OBJ_NOTFOUND && quiet)
			;
		else if (family == -NLE_OBJ_NOTFOUND)
			parse_fail("nfsec module not loaded (no generic netlink family \"%s\")",
				   NFSEC_GENL_NAME);
		else
			parse_fail("cannot resolve the generic netlink family \"%s\": %s",
				   NFSEC_GENL_NAME, nl_geterror(family));
		nl_socket_free(sock);
		sock = NULL;
		return -ENOENT;
	}
	return 0;
}

void nfsec_nl_close(void)
{
	if (sock)
		nl_socket_free(sock);
	sock = NULL;
}

struct nl_msg *nfsec_msg(uint8_t cmd, int flags)
{
	struct nl_msg *msg;

	/* The family is filled in when sent: parse errors come first. */
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, 0, 0, flags,
				 cmd, NFSEC_GENL_VERSION))
		die("out of memory");
	return msg;
}

/* Free @msg, wiping it first: it may hold key bytes. */
void nfsec_msg_free(struct nl_msg *msg)
{
	memset(nlmsg_hdr(msg), 0, nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
}

struct talk {
	int (*cb)(struct nlattr **tb, void *arg);
	void *arg;
	int err;
	bool done;	/* the ACK, the error or the end of the dump came */
	char msg[512];
};

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;
	struct nlattr *tb[NFSEC_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFSEC_A_MAX, NULL))
		return NL_SKIP;
	if (t->cb && t->cb(tb, t->arg))
		return NL_STOP;
	return NL_OK;
}

/* The extended ACK's text follows the (capped) request in the error. */
static int error_cb(struct sockaddr_nl *nla __unused, struct nlmsgerr *err,
		    void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct talk *t = arg;
	struct nlattr *a;
	int off, rem;

	t->err = err->error;
	t->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(err->msg);
	rem = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	if (rem <= 0)
		return NL_STOP;
	nla_for_each_attr(a, (struct nlattr *)((char *)err + off), rem, rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
			snprintf(t->msg, sizeof(t->msg), "%.*s", nla_len(a),
				 (char *)nla_data(a));
		else if (nla_type(a) == NLMSGERR_ATTR_MISS_TYPE && !t->msg[0] &&
			 nla_len(a) >= 4)
			snprintf(t->msg, sizeof(t->msg), "missing attribute %u",
				 nla_get_u32(a));
	}
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg __unused, void *arg)
{
	struct talk *t = arg;

	t->done = true;
	return NL_STOP;
}

/* NLMSG_DONE ends a dump; a dump that failed part way carries -errno. */
static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct talk *t = arg;

	t->done = true;
	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *(int *)nlmsg_data(nlh) < 0)
		t->err = *(int *)nlmsg_data(nlh);
	return NL_STOP;
}

int nfsec_talk(struct nl_msg *msg, const char *what,
	       int (*cb)(struct nlattr **tb, void *arg), void *arg)
{
	struct talk t = { .cb = cb, .arg = arg };
	struct nl_cb *nlcb;
	const char *m;
	int ret;

	if (collecting)
		return atomic_collect(msg, what);
	if (dry_run) {
		dump_request(msg);
		nfsec_msg_free(msg);
		return 0;
	}
	if (nfsec_nl_open(false)) {
		nfsec_msg_free(msg);
		return -ENOENT;
	}
	nlmsg_hdr(msg)->nlmsg_type = family;
	nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nlcb)
		die("out of memory");
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &t);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &t);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &t);
	nl_cb_err(nlcb, NL_CB_CUSTOM, error_cb, &t);
	ret = nl_send_auto(sock, msg);
	nfsec_msg_free(msg);
	/*
	 * nl_recvmsgs() returns after a reply that is not part of a dump,
	 * before the ACK that follows it: read on until the ACK, the error or
	 * NLMSG_DONE, or the next request of a batch would take this one's.
	 */
	while (ret >= 0 && !t.done)
		ret = nl_recvmsgs(sock, nlcb);
	nl_cb_put(nlcb);
	/* As ip: a dump that spanned a change is still printed. */
	if (ret == -NLE_DUMP_INTR && !t.err) {
		dump_interrupted = true;
		fflush(stdout);
		fprintf(stderr, "nfsec: %s: dump was interrupted and may be inconsistent\n",
			what);
		return 0;
	}
	if (ret < 0 && !t.err) {
		parse_fail("%s: %s", what, nl_geterror(ret));
		return -EIO;
	}
	if (!t.err)
		return 0;
	/* The kernel's own words; the module prefixes them "nfsec: ". */
	m = t.msg;
	if (!strncmp(m, "nfsec: ", 7))
		m += 7;
	if (!*m && t.err == -EPERM)
		m = "needs CAP_NET_ADMIN in the network namespace";
	parse_fail("%s: %s%s%s", what, strerror(-t.err), *m ? ": " : "", m);
	return t.err;
}

struct listen {
	void (*cb)(uint8_t cmd, struct nlattr **tb, void *arg);
	void *arg;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[NFSEC_A_MAX + 1];
	struct listen *l = arg;

	if (nlh->nlmsg_type != family ||
	    genlmsg_parse(nlh, 0, tb, NFSEC_A_MAX, NULL))
		return NL_SKIP;
	l->cb(((struct genlmsghdr *)nlmsg_data(nlh))->cmd, tb, l->arg);
	return NL_OK;
}

static int any_seq(struct nl_msg *msg __unused, void *arg __unused)
{
	return NL_OK;
}

int nfsec_nl_listen(void (*cb)(uint8_t cmd, struct nlattr **tb, void *arg),
		    void *arg)
{
	struct listen l = { .cb = cb, .arg = arg };
	struct nl_cb *nlcb;
	int grp, err;

	if (nfsec_nl_open(false))
		return -ENOENT;
	grp = genl_ctrl_resolve_grp(sock, NFSEC_GENL_NAME, NFSEC_MCGRP_EVENTS);
	if (grp < 0) {
		parse_fail("monitor: no group \"%s\": %s", NFSEC_MCGRP_EVENTS,
			   nl_geterror(grp));
		return -ENOENT;
	}
	err = nl_socket_add_membership(sock, grp);
	if (err) {
		parse_fail("monitor: %s%s", nl_geterror(err), err == -NLE_PERM ?
			   ": needs CAP_NET_ADMIN in the network namespace" : "");
		return -EPERM;
	}
	nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nlcb)
		die("out of memory");
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &l);
	/* Events are not answers: no sequence numbers to match. */
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);
	for (;;) {
		err = nl_recvmsgs(sock, nlcb);
		/* ENOBUFS: the kernel dropped events we were too slow for. */
		if (err == -NLE_NOMEM) {
			fprintf(stderr, "nfsec: monitor: events lost (receive buffer overrun)\n");
			continue;
		}
		if (err < 0)
			break;
	}
	nl_cb_put(nlcb);
	parse_fail("monitor: %s", nl_geterror(err));
	return -EIO;
}
