/*
 * Copyright (C) 2025 nfsec
 *
 * SPDX-License-Identifier: GPL-2.0
 *
 * charon's kernel_ipsec_t on nfsec's generic netlink family (see
 * module/uapi/nfsec.h): SAs, policies with charon's reference counting
 * and priorities, the IKE sockets' bypass, the source routes of tunnel
 * policies, and nfsec's SA_ACQUIRE/SA_EXPIRE/SA_MAPPING events to charon.
 *
 * update_sa moves an SA (NAT rebinding, MOBIKE) with nfsec's SA_MOVE, keys
 * and state kept, within its address family.
 *
 * IPv4 and IPv6, and tunnels of one inside the other; whatever nfsec cannot
 * do (marks, interface IDs, IPComp, BEET, security labels, hardware
 * offload, TFC padding, an algorithm it lacks) fails the SA or policy with
 * a line naming the reason.
 */

#include "kernel_nfsec_ipsec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "../module/uapi/nfsec.h"

#include <daemon.h>
#include <threading/mutex.h>
#include <collections/hashtable.h>
#include <collections/linked_list.h>
#include <collections/array.h>
#include <processing/watcher.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/** Base priority of installed policies, as kernel-netlink's */
#define PRIO_BASE 200000

/** Priority of the IKE sockets' bypass policies (lower wins) */
#define PRIO_BYPASS 32

/** Receive buffer of a socket: a dump part is at most 32 KiB */
#define NL_BUFLEN 65536

typedef struct private_kernel_nfsec_ipsec_t private_kernel_nfsec_ipsec_t;

/**
 * A selector as nfsec takes it: one family, exact ports or any. Zeroed
 * before it is filled: it is hashed whole, padding included.
 */
typedef struct {
	/** AF_INET or AF_INET6 */
	uint8_t family;
	/** addresses, network order, masked to their prefix; IPv4 in the
	 * first 4 bytes */
	uint8_t src[16], dst[16];
	/** ports, network order, 0 any */
	uint16_t sport, dport;
	uint8_t splen, dplen;
	/** protocol, 0 any */
	uint8_t proto;
} nfsec_sel_t;

/**
 * A source route installed with an outbound tunnel policy (table 220).
 */
typedef struct {
	host_t *src_ip;
	host_t *gateway;
	chunk_t dst_net;
	uint8_t prefixlen;
	char *if_name;
	bool pass;
} route_t;

/**
 * One user of a policy: a CHILD_SA (or shunt) that installed it.
 */
typedef struct {
	/** priority given to nfsec when this user's policy is installed */
	uint32_t priority;
	/** automatic priority, orders users of equal manual priority */
	uint32_t auto_priority;
	policy_type_t type;
	ipsec_sa_cfg_t cfg;
	host_t *src;
	host_t *dst;
	/** outbound policies: the selectors, for the route */
	traffic_selector_t *src_ts;
	traffic_selector_t *dst_ts;
} policy_user_t;

/**
 * A policy installed in nfsec, identified as nfsec does: (selector, dir).
 */
typedef struct {
	nfsec_sel_t sel;
	policy_dir_t dir;
	/** users, ordered by priority: the first one's policy is installed */
	linked_list_t *users;
	/** route installed with it, if any */
	route_t *route;
} policy_entry_t;

/**
 * A port-based bypass policy pair of an IKE socket.
 */
typedef struct {
	int family;
	uint8_t proto;
	uint16_t port;
} bypass_t;

/**
 * Private data.
 */
struct private_kernel_nfsec_ipsec_t {

	/**
	 * Public interface.
	 */
	kernel_nfsec_ipsec_t public;

	/**
	 * Request socket, and the mutex that makes it one request at a time
	 */
	struct nl_sock *sock;
	mutex_t *sock_lock;

	/**
	 * Event socket, member of "events", read by a watcher job
	 */
	struct nl_sock *events;
	struct nl_cb *events_cb;

	/**
	 * Generic netlink family id of "nfsec"
	 */
	int family;

	/**
	 * Mutex for the policy table and the bypasses
	 */
	mutex_t *mutex;

	/**
	 * Installed policies, policy_entry_t
	 */
	hashtable_t *policies;

	/**
	 * Installed IKE bypasses, bypass_t
	 */
	array_t *bypass;

	/**
	 * Whether to install source routes with tunnel policies
	 */
	bool install_routes;
};

/*
 * ------------------------------------------------------------------
 * Generic netlink
 * ------------------------------------------------------------------
 */

/**
 * Parsed reply handler: the top-level attributes of one message.
 */
typedef void (*reply_cb_t)(struct nlattr **tb, void *arg);

/**
 * State of one request.
 */
typedef struct {
	reply_cb_t cb;
	void *arg;
	int err;
	bool done;
	char msg[256];
} talk_t;

static int talk_valid(struct nl_msg *msg, void *arg)
{
	talk_t *t = arg;
	struct nlattr *tb[NFSEC_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFSEC_A_MAX, NULL) == 0 &&
		t->cb)
	{
		t->cb(tb, t->arg);
	}
	return NL_OK;
}

/**
 * An error, with the module's extended ACK text after the capped request.
 */
static int talk_error(struct sockaddr_nl *nla, struct nlmsgerr *err,
					  void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr*)((char*)err - NLMSG_HDRLEN);
	talk_t *t = arg;
	struct nlattr *a;
	int off, rem;

	t->err = err->error;
	t->done = TRUE;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
	{
		return NL_STOP;
	}
	off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
	{
		off += err->msg.nlmsg_len - sizeof(err->msg);
	}
	rem = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	if (rem <= 0)
	{
		return NL_STOP;
	}
	nla_for_each_attr(a, (struct nlattr*)((char*)err + off), rem, rem)
	{
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
		{
			snprintf(t->msg, sizeof(t->msg), "%.*s", nla_len(a),
					 (char*)nla_data(a));
		}
	}
	return NL_STOP;
}

static int talk_ack(struct nl_msg *msg, void *arg)
{
	talk_t *t = arg;

	t->done = TRUE;
	return NL_STOP;
}

static int talk_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	talk_t *t = arg;

	t->done = TRUE;
	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
		*(int*)nlmsg_data(nlh) < 0)
	{
		t->err = *(int*)nlmsg_data(nlh);
	}
	return NL_STOP;
}

/**
 * A generic netlink socket with extended ACKs, one message per read.
 */
static struct nl_sock *open_socket()
{
	struct nl_sock *sock;
	int one = 1;

	sock = nl_socket_alloc();
	if (!sock)
	{
		return NULL;
	}
	if (genl_connect(sock))
	{
		nl_socket_free(sock);
		return NULL;
	}
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one,
			   sizeof(one));
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one,
			   sizeof(one));
	nl_socket_disable_msg_peek(sock);
	nl_socket_set_msg_buf_size(sock, NL_BUFLEN);
	nl_socket_set_buffer_size(sock, 1 << 20, 1 << 20);
	return sock;
}

/*
 * Described in header
 */
bool kernel_nfsec_available(const char **reason)
{
	struct nl_sock *sock;
	int family;

	sock = open_socket();
	if (!sock)
	{
		*reason = "cannot open a generic netlink socket";
		return FALSE;
	}
	family = genl_ctrl_resolve(sock, NFSEC_GENL_NAME);
	nl_socket_free(sock);
	if (family < 0)
	{
		*reason = family == -NLE_OBJ_NOTFOUND ?
			"nfsec module not loaded (no generic netlink family \"nfsec\")" :
			"cannot resolve the generic netlink family \"nfsec\"";
		return FALSE;
	}
	return TRUE;
}

/**
 * A request of command cmd; flags as NLM_F_DUMP.
 */
static struct nl_msg *new_msg(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
							  int flags)
{
	struct nl_msg *msg;

	msg = nlmsg_alloc_size(NL_BUFLEN);
	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, this->family, 0,
							flags, cmd, NFSEC_GENL_VERSION))
	{
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/**
 * Send msg (and free it, wiped: it may hold keys), read the replies up to
 * the ACK, the error or the end of a dump. Returns 0 or -errno; the
 * module's text of a refusal (without its "nfsec: ") in why.
 */
static int request(private_kernel_nfsec_ipsec_t *this, struct nl_msg *msg,
				   reply_cb_t cb, void *arg, char *why, size_t whylen)
{
	talk_t t = { .cb = cb, .arg = arg };
	struct nl_cb *nlcb;
	int ret;

	if (why && whylen)
	{
		why[0] = '\0';
	}
	nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nlcb)
	{
		memwipe(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, talk_valid, &t);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, talk_ack, &t);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, talk_finish, &t);
	nl_cb_err(nlcb, NL_CB_CUSTOM, talk_error, &t);

	this->sock_lock->lock(this->sock_lock);
	ret = nl_send_auto(this->sock, msg);
	memwipe(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	while (ret >= 0 && !t.done)
	{
		ret = nl_recvmsgs(this->sock, nlcb);
	}
	this->sock_lock->unlock(this->sock_lock);
	nl_cb_put(nlcb);

	if (ret == -NLE_DUMP_INTR && !t.err)
	{	/* a dump that spanned a change, good enough for a look-up */
		return 0;
	}
	if (ret < 0 && !t.err)
	{
		if (why && whylen)
		{
			snprintf(why, whylen, "%s", nl_geterror(ret));
		}
		return -EIO;
	}
	if (t.err && why && whylen)
	{
		snprintf(why, whylen, "%s", strncmp(t.msg, "nfsec: ", 7) == 0 ?
				 t.msg + 7 : t.msg);
	}
	return t.err;
}

/**
 * Format an error of request() for a log line.
 */
static char *strerr(int err, char *why, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", strerror(-err), why[0] ? ": " : "", why);
	return buf;
}

/*
 * ------------------------------------------------------------------
 * Selectors
 * ------------------------------------------------------------------
 */

/**
 * Length of an address of family.
 */
static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/**
 * Copy the address of host (IPv4 or IPv6, network order) to addr.
 */
static void host2addr(host_t *host, uint8_t *addr)
{
	chunk_t a = host->get_address(host);

	memcpy(addr, a.ptr, min(a.len, (size_t)16));
}

/**
 * Add the address of host as attribute type4 (IPv4) or type6 (IPv6).
 */
static void put_host(struct nl_msg *msg, int type4, int type6, host_t *host)
{
	chunk_t a = host->get_address(host);

	nla_put(msg, host->get_family(host) == AF_INET6 ? type6 : type4, a.len,
			a.ptr);
}

/**
 * The address of attribute type4 (IPv4) or type6 (IPv6) of tb as a host,
 * with port (host order); NULL if neither is there.
 */
static host_t *attr2host(struct nlattr **tb, int type4, int type6,
						 uint16_t port)
{
	if (tb[type4] && nla_len(tb[type4]) == 4)
	{
		return host_create_from_chunk(AF_INET,
					chunk_create(nla_data(tb[type4]), 4), port);
	}
	if (tb[type6] && nla_len(tb[type6]) == 16)
	{
		return host_create_from_chunk(AF_INET6,
					chunk_create(nla_data(tb[type6]), 16), port);
	}
	return NULL;
}

/**
 * A traffic selector's port range as nfsec's port: exact or any.
 */
static bool ts2port(traffic_selector_t *ts, uint8_t proto, uint16_t *port,
					const char **why)
{
	uint16_t from = ts->get_from_port(ts), to = ts->get_to_port(ts);

	*port = 0;
	if (from == 0 && to == 0xffff)
	{
		return TRUE;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
		proto != IPPROTO_SCTP)
	{
		*why = proto == IPPROTO_ICMP ?
			"nfsec selectors have no ICMP type or code" :
			"nfsec selectors have ports for TCP, UDP and SCTP only";
		return FALSE;
	}
	if (from != to)
	{
		*why = "nfsec selectors take one port or any, not a port range";
		return FALSE;
	}
	*port = htons(from);
	return TRUE;
}

/**
 * The addresses and protocol of a pair of traffic selectors.
 */
static bool ts2addrs(traffic_selector_t *src, traffic_selector_t *dst,
					 nfsec_sel_t *sel, const char **why)
{
	host_t *net;

	memset(sel, 0, sizeof(*sel));
	if (src->get_type(src) != dst->get_type(dst))
	{
		*why = "traffic selectors of two families";
		return FALSE;
	}
	sel->family = src->get_type(src) == TS_IPV4_ADDR_RANGE ? AF_INET
														   : AF_INET6;
	/* either may be "any" (0), the more restrictive one counts */
	sel->proto = max(src->get_protocol(src), dst->get_protocol(dst));
	/* a range that is no subnet widens to the subnet that holds it, as
	 * kernel-netlink does */
	src->to_subnet(src, &net, &sel->splen);
	host2addr(net, sel->src);
	net->destroy(net);
	dst->to_subnet(dst, &net, &sel->dplen);
	host2addr(net, sel->dst);
	net->destroy(net);
	return TRUE;
}

/**
 * Convert a pair of traffic selectors to an nfsec selector.
 */
static bool ts2sel(traffic_selector_t *src, traffic_selector_t *dst,
				   nfsec_sel_t *sel, const char **why)
{
	return ts2addrs(src, dst, sel, why) &&
		   ts2port(src, sel->proto, &sel->sport, why) &&
		   ts2port(dst, sel->proto, &sel->dport, why);
}

/**
 * Add an NFSEC_SEL_A_* nest of type.
 */
static void put_sel(struct nl_msg *msg, int type, nfsec_sel_t *sel)
{
	struct nlattr *nest;

	bool v6 = sel->family == AF_INET6;

	nest = nla_nest_start(msg, type | NLA_F_NESTED);
	nla_put_u16(msg, NFSEC_SEL_A_FAMILY, sel->family);
	nla_put(msg, v6 ? NFSEC_SEL_A_SRC6 : NFSEC_SEL_A_SRC,
			addr_len(sel->family), sel->src);
	nla_put_u8(msg, NFSEC_SEL_A_SRC_PLEN, sel->splen);
	nla_put(msg, v6 ? NFSEC_SEL_A_DST6 : NFSEC_SEL_A_DST,
			addr_len(sel->family), sel->dst);
	nla_put_u8(msg, NFSEC_SEL_A_DST_PLEN, sel->dplen);
	nla_put_u8(msg, NFSEC_SEL_A_PROTO, sel->proto);
	nla_put_u16(msg, NFSEC_SEL_A_SPORT, sel->sport);
	nla_put_u16(msg, NFSEC_SEL_A_DPORT, sel->dport);
	nla_nest_end(msg, nest);
}

/**
 * The packet's selector of an SA_ACQUIRE as a traffic selector.
 */
static traffic_selector_t *sel2ts(struct nlattr *nest, bool src)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1];
	traffic_selector_t *ts;
	int plen_type = src ? NFSEC_SEL_A_SRC_PLEN : NFSEC_SEL_A_DST_PLEN;
	int port_type = src ? NFSEC_SEL_A_SPORT : NFSEC_SEL_A_DPORT;
	uint16_t port = 0;
	uint8_t proto = 0, plen;
	host_t *host;

	if (!nest || nla_parse_nested(tb, NFSEC_SEL_A_MAX, nest, NULL))
	{
		return NULL;
	}
	host = src ? attr2host(tb, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6, 0)
			   : attr2host(tb, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6, 0);
	if (!host)
	{
		return NULL;
	}
	plen = host->get_family(host) == AF_INET6 ? 128 : 32;
	if (tb[plen_type])
	{
		plen = nla_get_u8(tb[plen_type]);
	}
	if (tb[NFSEC_SEL_A_PROTO])
	{
		proto = nla_get_u8(tb[NFSEC_SEL_A_PROTO]);
	}
	if (tb[port_type])
	{
		port = ntohs(nla_get_u16(tb[port_type]));
	}
	ts = traffic_selector_create_from_subnet(host, plen, proto, port,
											 port ?: 65535);
	return ts;
}

/*
 * ------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------
 */

static void process_acquire(private_kernel_nfsec_ipsec_t *this,
							struct nlattr **tb)
{
	struct nlattr *pol[NFSEC_POL_A_MAX + 1], *tmpl[NFSEC_TMPL_A_MAX + 1];
	kernel_acquire_data_t data = {};
	uint32_t reqid = 0;

	if (tb[NFSEC_A_POLICY] &&
		nla_parse_nested(pol, NFSEC_POL_A_MAX, tb[NFSEC_A_POLICY], NULL) == 0 &&
		pol[NFSEC_POL_A_TMPL] &&
		nla_parse_nested(tmpl, NFSEC_TMPL_A_MAX, pol[NFSEC_POL_A_TMPL],
						 NULL) == 0 && tmpl[NFSEC_TMPL_A_REQID])
	{
		reqid = nla_get_u32(tmpl[NFSEC_TMPL_A_REQID]);
	}
	data.src = sel2ts(tb[NFSEC_A_ACQUIRE_SEL], TRUE);
	data.dst = sel2ts(tb[NFSEC_A_ACQUIRE_SEL], FALSE);

	DBG2(DBG_KNL, "received an nfsec SA_ACQUIRE for reqid {%u}: %R === %R",
		 reqid, data.src, data.dst);
	charon->kernel->acquire(charon->kernel, reqid, &data);

	DESTROY_IF(data.src);
	DESTROY_IF(data.dst);
}

static void process_expire(private_kernel_nfsec_ipsec_t *this,
						   struct nlattr **tb)
{
	struct nlattr *sa[NFSEC_SA_A_MAX + 1];
	uint32_t spi;
	uint8_t proto;
	bool hard;
	host_t *dst;

	if (!tb[NFSEC_A_SA] ||
		nla_parse_nested(sa, NFSEC_SA_A_MAX, tb[NFSEC_A_SA], NULL) ||
		!sa[NFSEC_SA_A_SPI] || !sa[NFSEC_SA_A_PROTO] ||
		!(dst = attr2host(sa, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, 0)))
	{
		DBG1(DBG_KNL, "received a malformed nfsec SA_EXPIRE");
		return;
	}
	spi = nla_get_u32(sa[NFSEC_SA_A_SPI]);
	proto = nla_get_u8(sa[NFSEC_SA_A_PROTO]);
	hard = tb[NFSEC_A_EXPIRE_HARD] && nla_get_u8(tb[NFSEC_A_EXPIRE_HARD]);
	DBG2(DBG_KNL, "received an nfsec SA_EXPIRE (%s) for SPI %.8x",
		 hard ? "hard" : "soft", ntohl(spi));
	charon->kernel->expire(charon->kernel, proto, spi, dst, hard);
	dst->destroy(dst);
}

/**
 * An ESP-in-UDP peer moved (NAT rebinding): tell charon where to, as
 * kernel-netlink does for xfrm's XFRM_MSG_MAPPING.
 */
static void process_mapping(private_kernel_nfsec_ipsec_t *this,
							struct nlattr **tb)
{
	struct nlattr *sa[NFSEC_SA_A_MAX + 1], *map[NFSEC_MAP_A_MAX + 1];
	host_t *dst, *new;
	uint32_t spi;
	uint16_t sport;

	if (!tb[NFSEC_A_SA] || !tb[NFSEC_A_MAPPING] ||
		nla_parse_nested(sa, NFSEC_SA_A_MAX, tb[NFSEC_A_SA], NULL) ||
		nla_parse_nested(map, NFSEC_MAP_A_MAX, tb[NFSEC_A_MAPPING], NULL) ||
		!sa[NFSEC_SA_A_SPI] || !sa[NFSEC_SA_A_PROTO] ||
		!map[NFSEC_MAP_A_SPORT])
	{
		DBG1(DBG_KNL, "received a malformed nfsec SA_MAPPING");
		return;
	}
	if (nla_get_u8(sa[NFSEC_SA_A_PROTO]) != IPPROTO_ESP)
	{
		return;
	}
	spi = nla_get_u32(sa[NFSEC_SA_A_SPI]);
	sport = ntohs(nla_get_u16(map[NFSEC_MAP_A_SPORT]));
	dst = attr2host(sa, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, 0);
	new = attr2host(map, NFSEC_MAP_A_SRC, NFSEC_MAP_A_SRC6, sport);
	if (dst && new)
	{
		DBG2(DBG_KNL, "received an nfsec SA_MAPPING for SPI %.8x: peer now "
			 "at %#H", ntohl(spi), new);
		charon->kernel->mapping(charon->kernel, IPPROTO_ESP, spi, dst, new);
	}
	else
	{
		DBG1(DBG_KNL, "received a malformed nfsec SA_MAPPING");
	}
	DESTROY_IF(dst);
	DESTROY_IF(new);
}

static int event_valid(struct nl_msg *msg, void *arg)
{
	private_kernel_nfsec_ipsec_t *this = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[NFSEC_A_MAX + 1];

	if (nlh->nlmsg_type != this->family ||
		genlmsg_parse(nlh, 0, tb, NFSEC_A_MAX, NULL))
	{
		return NL_SKIP;
	}
	switch (((struct genlmsghdr*)nlmsg_data(nlh))->cmd)
	{
		case NFSEC_CMD_SA_ACQUIRE:
			process_acquire(this, tb);
			break;
		case NFSEC_CMD_SA_EXPIRE:
			process_expire(this, tb);
			break;
		case NFSEC_CMD_SA_MAPPING:
			process_mapping(this, tb);
			break;
		default:
			/* our own changes, and other listeners' */
			break;
	}
	return NL_OK;
}

static int event_seq(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

/**
 * Watcher callback: read what the event socket holds.
 */
CALLBACK(receive_events, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, watcher_event_t event)
{
	int err;

	err = nl_recvmsgs(this->events, this->events_cb);
	if (err == -NLE_NOMEM)
	{
		DBG1(DBG_KNL, "nfsec events lost (receive buffer overrun): acquires, "
			 "expires or mappings may be missed");
	}
	else if (err < 0 && err != -NLE_AGAIN)
	{
		DBG1(DBG_KNL, "unable to receive from the nfsec event socket: %s",
			 nl_geterror(err));
		sleep(1);
	}
	return TRUE;
}

/*
 * ------------------------------------------------------------------
 * SAs
 * ------------------------------------------------------------------
 */

METHOD(kernel_ipsec_t, get_features, kernel_feature_t,
	private_kernel_nfsec_ipsec_t *this)
{
	/* no SPIs on policies (a template takes the newest SA of its reqid,
	 * so charon must not install an outbound SA early), no TFC padding */
	return 0;
}

/**
 * Put the identity of an SA (DST, SPI, PROTO) into the open SA nest.
 */
static void put_sa_id(struct nl_msg *msg, host_t *dst, uint32_t spi,
					  uint8_t proto)
{
	put_host(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, dst);
	nla_put_u32(msg, NFSEC_SA_A_SPI, spi);
	nla_put_u8(msg, NFSEC_SA_A_PROTO, proto);
}

/**
 * A request about one SA: cmd and the SA's identity; NULL if out of memory.
 */
static struct nl_msg *sa_msg(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
							 kernel_ipsec_sa_id_t *id)
{
	struct nl_msg *msg = new_msg(this, cmd, 0);
	struct nlattr *nest;

	if (msg)
	{
		nest = nla_nest_start(msg, NFSEC_A_SA | NLA_F_NESTED);
		put_sa_id(msg, id->dst, id->spi, id->proto);
		nla_nest_end(msg, nest);
	}
	return msg;
}

/**
 * The SPI of an SA_ALLOCSPI reply.
 */
static void allocspi_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *sa[NFSEC_SA_A_MAX + 1];

	if (tb[NFSEC_A_SA] &&
		nla_parse_nested(sa, NFSEC_SA_A_MAX, tb[NFSEC_A_SA], NULL) == 0 &&
		sa[NFSEC_SA_A_SPI])
	{
		*(uint32_t*)arg = nla_get_u32(sa[NFSEC_SA_A_SPI]);
	}
}

METHOD(kernel_ipsec_t, get_spi, status_t,
	private_kernel_nfsec_ipsec_t *this, host_t *src, host_t *dst,
	uint8_t protocol, uint32_t *spi)
{
	uint32_t spi_min, spi_max, got = 0;
	struct nl_msg *msg;
	struct nlattr *nest;
	char why[256], buf[320];
	int err;

	spi_min = lib->settings->get_int(lib->settings, "%s.spi_min",
									 KERNEL_SPI_MIN, lib->ns);
	spi_max = lib->settings->get_int(lib->settings, "%s.spi_max",
									 KERNEL_SPI_MAX, lib->ns);

	/* nfsec reserves the SPI for (dst, proto), as xfrm's larval state,
	 * until the inbound SA's SA_ADD takes it over, our del_sa releases it
	 * or it expires (30 s) */
	msg = new_msg(this, NFSEC_CMD_SA_ALLOCSPI, 0);
	if (!msg)
	{
		return FAILED;
	}
	nest = nla_nest_start(msg, NFSEC_A_SA | NLA_F_NESTED);
	put_host(msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, src);
	put_host(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, dst);
	nla_put_u8(msg, NFSEC_SA_A_PROTO, protocol);
	nla_nest_end(msg, nest);
	/* nfsec refuses SPI 0 and SPIs below 0x100 are reserved (RFC 4303) */
	nla_put_u32(msg, NFSEC_A_SPI_MIN,
				htonl(max(min(spi_min, spi_max), 0x100U)));
	nla_put_u32(msg, NFSEC_A_SPI_MAX,
				htonl(max(max(spi_min, spi_max), 0x100U)));
	err = request(this, msg, allocspi_cb, &got, why, sizeof(why));
	if (err || !got)
	{
		DBG1(DBG_KNL, "unable to get SPI: %s",
			 strerr(err ?: -EIO, why, buf, sizeof(buf)));
		return FAILED;
	}
	*spi = got;
	DBG2(DBG_KNL, "got SPI %.8x", ntohl(got));
	return SUCCESS;
}

METHOD(kernel_ipsec_t, get_cpi, status_t,
	private_kernel_nfsec_ipsec_t *this, host_t *src, host_t *dst,
	uint16_t *cpi)
{
	DBG1(DBG_KNL, "unable to get CPI: IPComp is not supported by nfsec");
	return NOT_SUPPORTED;
}

/**
 * Add an NFSEC_ALG_A_* nest.
 */
static void put_alg(struct nl_msg *msg, int type, const char *name,
					chunk_t key, uint32_t icv_bits)
{
	struct nlattr *nest;

	nest = nla_nest_start(msg, type | NLA_F_NESTED);
	nla_put_string(msg, NFSEC_ALG_A_NAME, name);
	nla_put(msg, NFSEC_ALG_A_KEY, key.len, key.ptr);
	if (type != NFSEC_SA_A_ALG_ENC)
	{
		nla_put_u32(msg, NFSEC_ALG_A_ICV_LEN, icv_bits);
	}
	nla_nest_end(msg, nest);
}

/**
 * Map charon's algorithms to nfsec's into the open SA nest; the reason in
 * why if nfsec has none of them.
 */
static bool put_algs(struct nl_msg *msg, kernel_ipsec_sa_id_t *id,
					 kernel_ipsec_add_sa_t *data, char *why, size_t len)
{
	const char *enc = NULL, *aead = NULL, *auth = NULL;
	uint32_t icv = 0, trunc = 0;

	switch (data->enc_alg)
	{
		case ENCR_UNDEFINED:
			break;
		case ENCR_AES_GCM_ICV8:
			icv = 64;
			aead = "rfc4106(gcm(aes))";
			break;
		case ENCR_AES_GCM_ICV12:
			icv = 96;
			aead = "rfc4106(gcm(aes))";
			break;
		case ENCR_AES_GCM_ICV16:
			icv = 128;
			aead = "rfc4106(gcm(aes))";
			break;
		case ENCR_CHACHA20_POLY1305:
			icv = 128;
			aead = "rfc7539esp(chacha20,poly1305)";
			break;
		case ENCR_AES_CBC:
			enc = "cbc(aes)";
			break;
		case ENCR_NULL:
			enc = "ecb(cipher_null)";
			break;
		default:
			snprintf(why, len, "encryption algorithm %N is not supported by "
					 "nfsec (AES-GCM, ChaCha20-Poly1305, AES-CBC, NULL)",
					 encryption_algorithm_names, data->enc_alg);
			return FALSE;
	}
	switch (data->int_alg)
	{
		case AUTH_UNDEFINED:
			break;
		case AUTH_HMAC_SHA2_256_96:
			trunc = 96;
			auth = "hmac(sha256)";
			break;
		case AUTH_HMAC_SHA2_256_128:
			trunc = 128;
			auth = "hmac(sha256)";
			break;
		case AUTH_HMAC_SHA2_256_256:
			trunc = 256;
			auth = "hmac(sha256)";
			break;
		default:
			snprintf(why, len, "integrity algorithm %N is not supported by "
					 "nfsec (HMAC-SHA2-256)", integrity_algorithm_names,
					 data->int_alg);
			return FALSE;
	}
	if (id->proto == IPPROTO_AH)
	{
		if (enc || aead || !auth)
		{
			snprintf(why, len, "AH needs an integrity algorithm and no "
					 "encryption");
			return FALSE;
		}
	}
	else if (aead && auth)
	{
		snprintf(why, len, "an AEAD algorithm takes no integrity algorithm");
		return FALSE;
	}
	else if (!aead && !enc)
	{
		snprintf(why, len, "ESP without an encryption algorithm");
		return FALSE;
	}
	if (aead)
	{
		DBG2(DBG_KNL, "  using encryption algorithm %N with key size %d",
			 encryption_algorithm_names, data->enc_alg,
			 (int)data->enc_key.len * 8);
		put_alg(msg, NFSEC_SA_A_ALG_AEAD, aead, data->enc_key, icv);
	}
	if (enc)
	{
		DBG2(DBG_KNL, "  using encryption algorithm %N with key size %d",
			 encryption_algorithm_names, data->enc_alg,
			 (int)data->enc_key.len * 8);
		put_alg(msg, NFSEC_SA_A_ALG_ENC, enc, data->enc_key, 0);
	}
	if (auth)
	{
		DBG2(DBG_KNL, "  using integrity algorithm %N with key size %d",
			 integrity_algorithm_names, data->int_alg,
			 (int)data->int_key.len * 8);
		put_alg(msg, NFSEC_SA_A_ALG_AUTH, auth, data->int_key, trunc);
	}
	return TRUE;
}

/**
 * What an SA asks that nfsec cannot do, NULL if nothing.
 */
static const char *sa_unsupported(kernel_ipsec_sa_id_t *id,
								  kernel_ipsec_add_sa_t *data)
{
	if (id->src->get_family(id->src) != id->dst->get_family(id->dst))
	{
		return "the SA's addresses are of two families";
	}
	if (id->proto != IPPROTO_ESP && id->proto != IPPROTO_AH)
	{
		return "nfsec does ESP and AH only";
	}
	if (id->mark.value || id->mark.mask || data->mark.value ||
		data->mark.mask)
	{
		return "marks (mark_in, mark_out, set_mark_*) are not supported by "
			   "nfsec";
	}
	if (id->if_id)
	{
		return "interface IDs (if_id_in, if_id_out) are not supported by "
			   "nfsec";
	}
	if (data->ipcomp != IPCOMP_NONE || data->cpi)
	{
		return "IPComp is not supported by nfsec";
	}
	if (data->label)
	{
		return "security labels are not supported by nfsec";
	}
	if (data->hw_offload == HW_OFFLOAD_YES)
	{
		return "hardware offload (hw_offload = yes) is not supported by nfsec";
	}
	if (data->interface)
	{
		return "SAs restricted to an interface (interface) are not supported "
			   "by nfsec";
	}
	if (data->tfc)
	{
		return "TFC padding (tfc_padding) is not supported by nfsec";
	}
	if (data->encap && id->proto != IPPROTO_ESP)
	{
		return "UDP encapsulation is for ESP only";
	}
	if (data->replay_window > NFSEC_REPLAY_MAX)
	{
		return "replay windows above 4096 packets are not supported by nfsec";
	}
	switch (data->mode)
	{
		case MODE_TRANSPORT:
			break;
		case MODE_TUNNEL:
			/* nfsec copies DF and DSCP out, ECN as RFC 6040, and never
			 * DSCP in: charon's defaults */
			if (!data->copy_df)
			{
				return "copy_df = no is not supported by nfsec (it copies DF)";
			}
			if (!data->copy_ecn)
			{
				return "copy_ecn = no is not supported by nfsec (it copies "
					   "ECN)";
			}
			if (data->copy_dscp != DSCP_COPY_OUT_ONLY)
			{
				return "copy_dscp other than 'out' is not supported by nfsec";
			}
			break;
		case MODE_BEET:
			return "BEET mode is not supported by nfsec";
		default:
			return "nfsec has tunnel and transport modes only";
	}
	return NULL;
}

/**
 * Add the lifetimes: nfsec takes what xfrm does, 0 is none.
 */
static void put_lifetime(struct nl_msg *msg, lifetime_cfg_t *lft)
{
	struct nlattr *nest;
	struct {
		int type;
		uint64_t v;
	} l[] = {
		{ NFSEC_LFT_A_SOFT_BYTES, lft->bytes.rekey },
		{ NFSEC_LFT_A_HARD_BYTES, lft->bytes.life },
		{ NFSEC_LFT_A_SOFT_PACKETS, lft->packets.rekey },
		{ NFSEC_LFT_A_HARD_PACKETS, lft->packets.life },
		/* since added, not since used, as kernel-netlink */
		{ NFSEC_LFT_A_SOFT_ADD_SECONDS, lft->time.rekey },
		{ NFSEC_LFT_A_HARD_ADD_SECONDS, lft->time.life },
	};
	u_int i;

	nest = nla_nest_start(msg, NFSEC_SA_A_LIFETIME | NLA_F_NESTED);
	for (i = 0; i < countof(l); i++)
	{
		if (l[i].v)
		{
			nla_put_u64(msg, l[i].type, l[i].v);
		}
	}
	nla_nest_end(msg, nest);
}

/**
 * Whether a list of traffic selectors has one of another family than
 * family's.
 */
static bool other_family(linked_list_t *list, int family)
{
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	bool other = FALSE;

	enumerator = list->create_enumerator(list);
	while (enumerator->enumerate(enumerator, &ts))
	{
		if ((ts->get_type(ts) == TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6) !=
			family)
		{
			other = TRUE;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return other;
}

METHOD(kernel_ipsec_t, add_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_add_sa_t *data)
{
	traffic_selector_t *src_ts, *dst_ts;
	struct nlattr *sa, *nest;
	struct nl_msg *msg;
	const char *reason;
	char why[256], buf[320];
	uint32_t flags = 0;
	nfsec_sel_t sel;
	int family, err;

	DBG2(DBG_KNL, "adding SAD entry with SPI %.8x and reqid {%u}",
		 ntohl(id->spi), data->reqid);

	reason = sa_unsupported(id, data);
	if (reason)
	{
		DBG1(DBG_KNL, "unable to add SAD entry with SPI %.8x: %s",
			 ntohl(id->spi), reason);
		return FAILED;
	}
	family = id->dst->get_family(id->dst);

	msg = new_msg(this, NFSEC_CMD_SA_ADD, 0);
	if (!msg)
	{
		return FAILED;
	}
	sa = nla_nest_start(msg, NFSEC_A_SA | NLA_F_NESTED);
	put_host(msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, id->src);
	put_sa_id(msg, id->dst, id->spi, id->proto);
	nla_put_u8(msg, NFSEC_SA_A_MODE, data->mode == MODE_TUNNEL ?
			   NFSEC_MODE_TUNNEL : NFSEC_MODE_TRANSPORT);
	nla_put_u32(msg, NFSEC_SA_A_REQID, data->reqid);

	if (data->esn)
	{
		flags |= NFSEC_SA_F_ESN;
	}
	if (id->proto == IPPROTO_AH && family == AF_INET)
	{	/* RFC 4302: 32-bit alignment for IPv4 (64 for IPv6) */
		flags |= NFSEC_SA_F_ALIGN4;
	}
	if (data->mode == MODE_TUNNEL &&
		(other_family(data->src_ts, family) ||
		 other_family(data->dst_ts, family)))
	{	/* 4in6, 6in4 (or both inside): the SA takes packets of either
		 * family, its policies decide, as kernel-netlink's
		 * XFRM_STATE_AF_UNSPEC */
		flags |= NFSEC_SA_F_AF_UNSPEC;
	}
	nla_put_u32(msg, NFSEC_SA_A_FLAGS, flags);
	/* no replay window for outbound SAs, but nfsec (as xfrm) wants one
	 * with ESN */
	nla_put_u32(msg, NFSEC_SA_A_REPLAY_WINDOW, data->inbound ?
				data->replay_window : data->esn ? 1 : 0);

	why[0] = '\0';
	if (!put_algs(msg, id, data, why, sizeof(why)))
	{
		nla_nest_cancel(msg, sa);
		memwipe(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		DBG1(DBG_KNL, "unable to add SAD entry with SPI %.8x: %s",
			 ntohl(id->spi), why);
		return FAILED;
	}

	/* transport mode: the hosts' selector, without protocol and ports (so
	 * a second CHILD_SA between the hosts can use other ones); tunnel
	 * mode: any packet of the family, the policies decide */
	if (data->mode == MODE_TRANSPORT &&
		data->src_ts->get_first(data->src_ts, (void**)&src_ts) == SUCCESS &&
		data->dst_ts->get_first(data->dst_ts, (void**)&dst_ts) == SUCCESS)
	{
		if (!ts2addrs(src_ts, dst_ts, &sel, &reason))
		{
			memwipe(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
			nlmsg_free(msg);
			DBG1(DBG_KNL, "unable to add SAD entry with SPI %.8x: %s",
				 ntohl(id->spi), reason);
			return FAILED;
		}
		sel.proto = 0;
		sel.sport = sel.dport = 0;
		put_sel(msg, NFSEC_SA_A_SEL, &sel);
	}

	if (data->encap)
	{
		nest = nla_nest_start(msg, NFSEC_SA_A_ENCAP | NLA_F_NESTED);
		nla_put_u16(msg, NFSEC_ENCAP_A_TYPE, 2 /* UDP_ENCAP_ESPINUDP */);
		nla_put_u16(msg, NFSEC_ENCAP_A_SPORT, htons(id->src->get_port(id->src)));
		nla_put_u16(msg, NFSEC_ENCAP_A_DPORT, htons(id->dst->get_port(id->dst)));
		nla_nest_end(msg, nest);
	}
	put_lifetime(msg, data->lifetime);
	nla_nest_end(msg, sa);

	/* an inbound SA takes the reservation of get_spi over; if the add
	 * fails, the del_sa charon follows it with releases it */
	err = request(this, msg, NULL, NULL, why, sizeof(why));
	if (err)
	{
		DBG1(DBG_KNL, "unable to add SAD entry with SPI %.8x: %s",
			 ntohl(id->spi), strerr(err, why, buf, sizeof(buf)));
		return FAILED;
	}
	DBG2(DBG_KNL, "added SAD entry with SPI %.8x and reqid {%u}",
		 ntohl(id->spi), data->reqid);
	return SUCCESS;
}

/**
 * The new place of an SA in an SA_MOVE request: its addresses, its encap
 * (ports from the hosts, as kernel-netlink takes them) or none any more,
 * and a new reqid if charon gives one.
 */
static void put_move_to(struct nl_msg *msg, kernel_ipsec_update_sa_t *data)
{
	struct nlattr *to, *nest;

	to = nla_nest_start(msg, NFSEC_A_MOVE_TO | NLA_F_NESTED);
	put_host(msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, data->new_src);
	put_host(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, data->new_dst);
	if (data->new_reqid)
	{
		nla_put_u32(msg, NFSEC_SA_A_REQID, data->new_reqid);
	}
	if (data->new_encap)
	{
		nest = nla_nest_start(msg, NFSEC_SA_A_ENCAP | NLA_F_NESTED);
		nla_put_u16(msg, NFSEC_ENCAP_A_TYPE, 2 /* UDP_ENCAP_ESPINUDP */);
		nla_put_u16(msg, NFSEC_ENCAP_A_SPORT,
					htons(data->new_src->get_port(data->new_src)));
		nla_put_u16(msg, NFSEC_ENCAP_A_DPORT,
					htons(data->new_dst->get_port(data->new_dst)));
		nla_nest_end(msg, nest);
	}
	else if (data->encap)
	{
		/* an empty nest: no encap any more (libnl's nla_nest_end() would
		 * drop an empty one) */
		nla_put(msg, NFSEC_SA_A_ENCAP | NLA_F_NESTED, 0, NULL);
	}
	nla_nest_end(msg, to);
}

METHOD(kernel_ipsec_t, update_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_update_sa_t *data)
{
	struct nl_msg *msg;
	char why[256], buf[320];
	int err;

	/* SA_MOVE keeps the keys, sequence numbers, replay window, lifetimes
	 * and counters, but not across families: charon rekeys the CHILD_SA
	 * instead, as for NOT_SUPPORTED from any kernel interface */
	if (data->new_src->get_family(data->new_src) !=
			id->dst->get_family(id->dst) ||
		data->new_dst->get_family(data->new_dst) !=
			id->dst->get_family(id->dst))
	{
		DBG1(DBG_KNL, "unable to update SAD entry with SPI %.8x to %#H/%#H: "
			 "nfsec cannot move an SA to another address family; the "
			 "CHILD_SA gets rekeyed", ntohl(id->spi), data->new_src,
			 data->new_dst);
		return NOT_SUPPORTED;
	}
	DBG2(DBG_KNL, "updating SAD entry with SPI %.8x from %#H..%#H to "
		 "%#H..%#H", ntohl(id->spi), id->src, id->dst, data->new_src,
		 data->new_dst);

	msg = sa_msg(this, NFSEC_CMD_SA_MOVE, id);
	if (!msg)
	{
		return FAILED;
	}
	put_move_to(msg, data);
	err = request(this, msg, NULL, NULL, why, sizeof(why));
	if (!err)
	{
		DBG2(DBG_KNL, "updated SAD entry with SPI %.8x", ntohl(id->spi));
		return SUCCESS;
	}
	DBG1(DBG_KNL, "unable to update SAD entry with SPI %.8x: %s",
		 ntohl(id->spi), strerr(err, why, buf, sizeof(buf)));
	return err == -ENOENT ? NOT_FOUND : FAILED;
}

/**
 * What query_sa wants of an SA_GET reply.
 */
typedef struct {
	bool found;
	uint64_t bytes;
	uint64_t packets;
	/** CLOCK_MONOTONIC second of the last packet, 0 none */
	uint64_t last_use;
} sa_cur_t;

static void query_sa_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *sa[NFSEC_SA_A_MAX + 1], *cur[NFSEC_CUR_A_MAX + 1];
	sa_cur_t *c = arg;

	if (!tb[NFSEC_A_SA] ||
		nla_parse_nested(sa, NFSEC_SA_A_MAX, tb[NFSEC_A_SA], NULL))
	{
		return;
	}
	c->found = TRUE;
	if (sa[NFSEC_SA_A_CUR] &&
		nla_parse_nested(cur, NFSEC_CUR_A_MAX, sa[NFSEC_SA_A_CUR], NULL) == 0)
	{
		if (cur[NFSEC_CUR_A_BYTES])
		{
			c->bytes = nla_get_u64(cur[NFSEC_CUR_A_BYTES]);
		}
		if (cur[NFSEC_CUR_A_PACKETS])
		{
			c->packets = nla_get_u64(cur[NFSEC_CUR_A_PACKETS]);
		}
		if (cur[NFSEC_CUR_A_LAST_USE])
		{
			c->last_use = nla_get_u64(cur[NFSEC_CUR_A_LAST_USE]);
		}
	}
}

METHOD(kernel_ipsec_t, query_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_query_sa_t *data, uint64_t *bytes, uint64_t *packets,
	time_t *time)
{
	struct nl_msg *msg;
	sa_cur_t cur = {};
	char why[256], buf[320];
	int err;

	msg = sa_msg(this, NFSEC_CMD_SA_GET, id);
	if (!msg)
	{
		return FAILED;
	}
	err = request(this, msg, query_sa_cb, &cur, why, sizeof(why));
	if (err || !cur.found)
	{
		DBG2(DBG_KNL, "unable to query SAD entry with SPI %.8x: %s",
			 ntohl(id->spi), strerr(err ?: -ENOENT, why, buf, sizeof(buf)));
		return err == -ENOENT ? NOT_FOUND : FAILED;
	}
	if (bytes)
	{
		*bytes = cur.bytes;
	}
	if (packets)
	{
		*packets = cur.packets;
	}
	if (time)
	{	/* nfsec's LAST_USE counts in CLOCK_MONOTONIC seconds, as
		 * time_monotonic() does (where kernel-netlink converts xfrm's
		 * wall-clock XFRMA_LASTUSED); 0: never used */
		*time = cur.last_use;
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, del_sa, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_del_sa_t *data)
{
	struct nl_msg *msg;
	char why[256], buf[320];
	int err;

	DBG2(DBG_KNL, "deleting SAD entry with SPI %.8x", ntohl(id->spi));

	msg = sa_msg(this, NFSEC_CMD_SA_DEL, id);
	if (!msg)
	{
		return FAILED;
	}
	err = request(this, msg, NULL, NULL, why, sizeof(why));
	switch (err)
	{
		case 0:
			DBG2(DBG_KNL, "deleted SAD entry with SPI %.8x", ntohl(id->spi));
			return SUCCESS;
		case -ENOENT:
			/* an SA that expired hard, or a reservation of get_spi that
			 * expired (a live one goes as an SA does) */
			return NOT_FOUND;
		default:
			DBG1(DBG_KNL, "unable to delete SAD entry with SPI %.8x: %s",
				 ntohl(id->spi), strerr(err, why, buf, sizeof(buf)));
			return FAILED;
	}
}

/**
 * Flush one kind of object (SA_FLUSH, POLICY_FLUSH).
 */
static status_t flush(private_kernel_nfsec_ipsec_t *this, uint8_t cmd,
					  const char *what)
{
	struct nl_msg *msg;
	char why[256], buf[320];
	int err;

	DBG2(DBG_KNL, "flushing all %s entries", what);
	msg = new_msg(this, cmd, 0);
	if (!msg)
	{
		return FAILED;
	}
	err = request(this, msg, NULL, NULL, why, sizeof(why));
	if (err)
	{
		DBG1(DBG_KNL, "unable to flush %s entries: %s", what,
			 strerr(err, why, buf, sizeof(buf)));
		return FAILED;
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, flush_sas, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	return flush(this, NFSEC_CMD_SA_FLUSH, "SAD");
}

/*
 * ------------------------------------------------------------------
 * Policies
 * ------------------------------------------------------------------
 */

static u_int policy_hash(policy_entry_t *key)
{
	return chunk_hash_inc(chunk_from_thing(key->sel),
						  chunk_hash(chunk_from_thing(key->dir)));
}

static bool policy_equals(policy_entry_t *a, policy_entry_t *b)
{
	return memeq(&a->sel, &b->sel, sizeof(a->sel)) && a->dir == b->dir;
}

static void route_destroy(route_t *route)
{
	DESTROY_IF(route->src_ip);
	DESTROY_IF(route->gateway);
	chunk_free(&route->dst_net);
	free(route->if_name);
	free(route);
}

static bool route_equals(route_t *a, route_t *b)
{
	return a->if_name && b->if_name && streq(a->if_name, b->if_name) &&
		   a->src_ip->ip_equals(a->src_ip, b->src_ip) &&
		   a->gateway && b->gateway &&
		   a->gateway->ip_equals(a->gateway, b->gateway) &&
		   chunk_equals(a->dst_net, b->dst_net) &&
		   a->prefixlen == b->prefixlen && a->pass == b->pass;
}

static void user_destroy(policy_user_t *user)
{
	DESTROY_IF(user->src);
	DESTROY_IF(user->dst);
	DESTROY_IF(user->src_ts);
	DESTROY_IF(user->dst_ts);
	free(user);
}

static void policy_entry_destroy(policy_entry_t *policy)
{
	if (policy->route)
	{
		route_destroy(policy->route);
	}
	policy->users->destroy_function(policy->users, (void*)user_destroy);
	free(policy);
}

/**
 * The automatic priority of a policy, in kernel-netlink's order: lower
 * wins; pass policies before IPsec ones before trap ones before fallback
 * drops, then the more specific selector, then IPsec before trap.
 */
static uint32_t auto_priority(nfsec_sel_t *sel, policy_priority_t prio)
{
	uint32_t priority = PRIO_BASE;

	switch (prio)
	{
		case POLICY_PRIORITY_FALLBACK:
			priority += 2 * PRIO_BASE;
			break;
		case POLICY_PRIORITY_ROUTED:
		case POLICY_PRIORITY_DEFAULT:
			priority += PRIO_BASE;
			break;
		case POLICY_PRIORITY_PASS:
			break;
	}
	/* more specific first: prefix bits, then a protocol, then ports (an
	 * nfsec port is exact: 16 bits of mask) */
	priority -= (sel->splen + sel->dplen) * 512;
	priority -= sel->proto ? 256 : 0;
	priority -= ((sel->sport ? 16 : 0) + (sel->dport ? 16 : 0)) * 4;
	/* regular policies before trap policies of the same selector */
	priority -= prio != POLICY_PRIORITY_ROUTED;
	return priority;
}

/**
 * What a policy asks that nfsec cannot do, NULL if nothing.
 */
static const char *policy_unsupported(kernel_ipsec_policy_id_t *id,
									  kernel_ipsec_manage_policy_t *data)
{
	if (id->mark.value || id->mark.mask)
	{
		return "marks are not supported by nfsec";
	}
	if (id->if_id)
	{
		return "interface IDs are not supported by nfsec";
	}
	if (id->label)
	{
		return "security labels are not supported by nfsec";
	}
	if (id->interface)
	{
		return "policies restricted to an interface are not supported by "
			   "nfsec";
	}
	if (data->type != POLICY_IPSEC)
	{
		return NULL;
	}
	if (data->sa->ipcomp.transform != IPCOMP_NONE)
	{
		return "IPComp is not supported by nfsec";
	}
	if (data->sa->esp.use && data->sa->ah.use)
	{
		return "ESP and AH bundles are not supported by nfsec";
	}
	if (data->sa->mode == MODE_BEET)
	{
		return "BEET mode is not supported by nfsec";
	}
	return NULL;
}

/**
 * Install (or replace, atomically) the policy as its first user wants it.
 */
static int install_policy(private_kernel_nfsec_ipsec_t *this,
						  policy_entry_t *policy, policy_user_t *user,
						  char *why, size_t len)
{
	static const uint8_t dirs[] = {
		[POLICY_IN] = NFSEC_DIR_IN,
		[POLICY_OUT] = NFSEC_DIR_OUT,
		[POLICY_FWD] = NFSEC_DIR_FWD,
	};
	struct nlattr *nest, *tmpl;
	struct nl_msg *msg;

	msg = new_msg(this, NFSEC_CMD_POLICY_UPDATE, 0);
	if (!msg)
	{
		return -ENOMEM;
	}
	nest = nla_nest_start(msg, NFSEC_A_POLICY | NLA_F_NESTED);
	put_sel(msg, NFSEC_POL_A_SEL, &policy->sel);
	nla_put_u8(msg, NFSEC_POL_A_DIR, dirs[policy->dir]);
	nla_put_u32(msg, NFSEC_POL_A_PRIORITY, user->priority);
	nla_put_u8(msg, NFSEC_POL_A_ACTION, user->type == POLICY_DROP ?
			   NFSEC_ACTION_BLOCK : NFSEC_ACTION_ALLOW);
	if (user->type == POLICY_IPSEC && user->cfg.reqid)
	{
		tmpl = nla_nest_start(msg, NFSEC_POL_A_TMPL | NLA_F_NESTED);
		if (user->cfg.mode == MODE_TUNNEL)
		{	/* of either family, whatever the selector's */
			put_host(msg, NFSEC_TMPL_A_SRC, NFSEC_TMPL_A_SRC6, user->src);
			put_host(msg, NFSEC_TMPL_A_DST, NFSEC_TMPL_A_DST6, user->dst);
		}
		nla_put_u8(msg, NFSEC_TMPL_A_PROTO, user->cfg.ah.use ? IPPROTO_AH
															 : IPPROTO_ESP);
		/* no SPI: the newest SA of the reqid (see get_features) */
		nla_put_u8(msg, NFSEC_TMPL_A_MODE, user->cfg.mode == MODE_TUNNEL ?
				   NFSEC_MODE_TUNNEL : NFSEC_MODE_TRANSPORT);
		nla_put_u32(msg, NFSEC_TMPL_A_REQID, user->cfg.reqid);
		nla_put_u8(msg, NFSEC_TMPL_A_LEVEL, NFSEC_LEVEL_REQUIRED);
		nla_nest_end(msg, tmpl);
	}
	nla_nest_end(msg, nest);
	return request(this, msg, NULL, NULL, why, len);
}

/**
 * Remove the policy from nfsec.
 */
static int uninstall_policy(private_kernel_nfsec_ipsec_t *this,
							nfsec_sel_t *sel, policy_dir_t dir, char *why,
							size_t len)
{
	struct nlattr *nest;
	struct nl_msg *msg;

	msg = new_msg(this, NFSEC_CMD_POLICY_DEL, 0);
	if (!msg)
	{
		return -ENOMEM;
	}
	nest = nla_nest_start(msg, NFSEC_A_POLICY | NLA_F_NESTED);
	put_sel(msg, NFSEC_POL_A_SEL, sel);
	nla_put_u8(msg, NFSEC_POL_A_DIR, dir == POLICY_IN ? NFSEC_DIR_IN :
			   dir == POLICY_OUT ? NFSEC_DIR_OUT : NFSEC_DIR_FWD);
	nla_nest_end(msg, nest);
	return request(this, msg, NULL, NULL, why, len);
}

static void del_route(route_t *route)
{
	if (charon->kernel->del_route(charon->kernel, route->dst_net,
								  route->prefixlen, route->gateway,
								  route->src_ip, route->if_name,
								  route->pass) != SUCCESS)
	{
		DBG1(DBG_KNL, "error uninstalling route installed with policy");
	}
}

/**
 * Install a source route for an outbound tunnel (or pass) policy, as
 * kernel-netlink does: traffic to the remote subnet leaves with our
 * inner address, through the interface towards the peer (table 220).
 */
static void install_route(private_kernel_nfsec_ipsec_t *this,
						  policy_entry_t *policy, policy_user_t *user)
{
	route_t *route;
	host_t *iface;

	INIT(route,
		.prefixlen = policy->sel.dplen,
		.pass = user->type == POLICY_PASS,
	);
	if (charon->kernel->get_address_by_ts(charon->kernel, user->src_ts,
										  &route->src_ip, NULL) != SUCCESS)
	{
		if (!route->pass)
		{
			free(route);
			return;
		}
		/* a blank source for passthrough policies */
		route->src_ip = host_create_any(policy->sel.family);
	}
	route->dst_net = chunk_clone(chunk_create(policy->sel.dst,
									addr_len(policy->sel.family)));
	if (!user->dst->is_anyaddr(user->dst))
	{
		route->gateway = charon->kernel->get_nexthop(charon->kernel,
								user->dst, -1, user->src, &route->if_name);
	}
	else
	{	/* shunt policies */
		iface = host_create_from_chunk(policy->sel.family, route->dst_net,
									   0);
		route->gateway = charon->kernel->get_nexthop(charon->kernel, iface,
								policy->sel.dplen, route->src_ip,
								&route->if_name);
		iface->destroy(iface);
	}
	if (!route->if_name)
	{
		iface = user->src;
		if (iface->is_anyaddr(iface))
		{
			iface = route->src_ip;
		}
		if (!charon->kernel->get_interface(charon->kernel, iface,
										   &route->if_name) && !route->pass)
		{
			route_destroy(route);
			return;
		}
	}
	if (policy->route)
	{
		if (route_equals(policy->route, route))
		{
			route_destroy(route);
			return;
		}
		del_route(policy->route);
		route_destroy(policy->route);
		policy->route = NULL;
	}
	DBG2(DBG_KNL, "installing route: %R via %H src %H dev %s", user->dst_ts,
		 route->gateway, route->src_ip, route->if_name);
	switch (charon->kernel->add_route(charon->kernel, route->dst_net,
									  route->prefixlen, route->gateway,
									  route->src_ip, route->if_name,
									  route->pass))
	{
		case SUCCESS:
			policy->route = route;
			break;
		default:
			DBG1(DBG_KNL, "unable to install source route for %H",
				 route->src_ip);
			/* fall-through */
		case ALREADY_DONE:
			/* not ours to remove */
			route_destroy(route);
			break;
	}
}

/**
 * Install the policy for its first user, and its route; with the mutex.
 */
static status_t apply_policy(private_kernel_nfsec_ipsec_t *this,
							 policy_entry_t *policy,
							 kernel_ipsec_policy_id_t *id)
{
	policy_user_t *user;
	char why[256], buf[320];
	int err;

	if (policy->users->get_first(policy->users, (void**)&user) != SUCCESS)
	{
		return FAILED;
	}
	err = install_policy(this, policy, user, why, sizeof(why));
	if (err)
	{
		DBG1(DBG_KNL, "unable to install policy %R === %R %N: %s",
			 id->src_ts, id->dst_ts, policy_dir_names, id->dir,
			 strerr(err, why, buf, sizeof(buf)));
		return FAILED;
	}
	if (policy->dir == POLICY_OUT && this->install_routes &&
		!policy->sel.proto && !policy->sel.sport && !policy->sel.dport &&
		(user->type == POLICY_PASS ||
		 (user->type == POLICY_IPSEC && user->cfg.mode != MODE_TRANSPORT)))
	{
		install_route(this, policy, user);
	}
	return SUCCESS;
}

/**
 * Whether user a is the same as b (what del_policy gets to find it).
 */
static bool user_equals(policy_user_t *a, policy_user_t *b)
{
	return a->priority == b->priority &&
		   a->auto_priority == b->auto_priority &&
		   a->type == b->type &&
		   a->src->ip_equals(a->src, b->src) &&
		   a->dst->ip_equals(a->dst, b->dst) &&
		   ipsec_sa_cfg_equals(&a->cfg, &b->cfg);
}

METHOD(kernel_ipsec_t, add_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_entry_t *policy, *found;
	policy_user_t *user, *current;
	enumerator_t *enumerator;
	const char *reason = NULL;
	bool first = TRUE;
	status_t status;

	INIT(policy,
		.dir = id->dir,
	);
	reason = policy_unsupported(id, data);
	if (reason || !ts2sel(id->src_ts, id->dst_ts, &policy->sel, &reason))
	{
		DBG1(DBG_KNL, "unable to add policy %R === %R %N: %s", id->src_ts,
			 id->dst_ts, policy_dir_names, id->dir, reason);
		free(policy);
		return FAILED;
	}
	INIT(user,
		.type = data->type,
		.cfg = *data->sa,
		.src = data->src->clone(data->src),
		.dst = data->dst->clone(data->dst),
	);
	if (id->dir == POLICY_OUT)
	{
		user->src_ts = id->src_ts->clone(id->src_ts);
		user->dst_ts = id->dst_ts->clone(id->dst_ts);
	}
	user->auto_priority = auto_priority(&policy->sel, data->prio);
	user->priority = data->manual_prio ?: user->auto_priority;

	this->mutex->lock(this->mutex);
	found = this->policies->get(this->policies, policy);
	if (found)
	{
		DBG2(DBG_KNL, "policy %R === %R %N already exists, increasing "
			 "refcount", id->src_ts, id->dst_ts, policy_dir_names, id->dir);
		free(policy);
		policy = found;
	}
	else
	{
		policy->users = linked_list_create();
		this->policies->put(this->policies, policy, policy);
	}

	/* keep the users ordered: the first one's policy is in nfsec */
	enumerator = policy->users->create_enumerator(policy->users);
	while (enumerator->enumerate(enumerator, (void**)&current))
	{
		if (current->priority > user->priority)
		{
			break;
		}
		if (current->priority == user->priority)
		{
			if (current->auto_priority > user->auto_priority)
			{
				break;
			}
			/* users with a reqid before those without */
			if (current->auto_priority == user->auto_priority &&
				(!current->cfg.reqid || user->cfg.reqid))
			{
				break;
			}
		}
		first = FALSE;
	}
	policy->users->insert_before(policy->users, enumerator, user);
	enumerator->destroy(enumerator);

	if (!first)
	{
		DBG2(DBG_KNL, "not updating policy %R === %R %N [refcount %d]",
			 id->src_ts, id->dst_ts, policy_dir_names, id->dir,
			 policy->users->get_count(policy->users));
		this->mutex->unlock(this->mutex);
		return SUCCESS;
	}
	DBG2(DBG_KNL, "%s policy %R === %R %N [priority %u, refcount %d]",
		 found ? "updating" : "adding", id->src_ts, id->dst_ts,
		 policy_dir_names, id->dir, user->priority,
		 policy->users->get_count(policy->users));
	status = apply_policy(this, policy, id);
	if (status != SUCCESS)
	{	/* forget this user: what nfsec has is the previous one's, if any */
		policy->users->remove(policy->users, user, NULL);
		user_destroy(user);
		if (!policy->users->get_count(policy->users))
		{
			this->policies->remove(this->policies, policy);
			policy_entry_destroy(policy);
		}
	}
	this->mutex->unlock(this->mutex);
	return status;
}

/**
 * The last use of a POLICY_GET reply.
 */
typedef struct {
	bool found;
	/** CLOCK_MONOTONIC second of the last packet, 0 none */
	uint64_t last_use;
} pol_use_t;

static void query_policy_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *pol[NFSEC_POL_A_MAX + 1];
	pol_use_t *u = arg;

	if (!tb[NFSEC_A_POLICY] ||
		nla_parse_nested(pol, NFSEC_POL_A_MAX, tb[NFSEC_A_POLICY], NULL))
	{
		return;
	}
	u->found = TRUE;
	if (pol[NFSEC_POL_A_LAST_USE])
	{
		u->last_use = nla_get_u64(pol[NFSEC_POL_A_LAST_USE]);
	}
}

METHOD(kernel_ipsec_t, query_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_query_policy_t *data, time_t *use_time)
{
	policy_entry_t key = { .dir = id->dir };
	pol_use_t use = {};
	struct nlattr *nest;
	struct nl_msg *msg;
	const char *reason = NULL;
	char why[256], buf[320];
	int err;

	if (!ts2sel(id->src_ts, id->dst_ts, &key.sel, &reason))
	{
		return FAILED;
	}
	msg = new_msg(this, NFSEC_CMD_POLICY_GET, 0);
	if (!msg)
	{
		return FAILED;
	}
	nest = nla_nest_start(msg, NFSEC_A_POLICY | NLA_F_NESTED);
	put_sel(msg, NFSEC_POL_A_SEL, &key.sel);
	nla_put_u8(msg, NFSEC_POL_A_DIR, id->dir == POLICY_IN ? NFSEC_DIR_IN :
			   id->dir == POLICY_OUT ? NFSEC_DIR_OUT : NFSEC_DIR_FWD);
	nla_nest_end(msg, nest);
	err = request(this, msg, query_policy_cb, &use, why, sizeof(why));
	if (err || !use.found)
	{
		DBG2(DBG_KNL, "unable to query policy %R === %R %N: %s", id->src_ts,
			 id->dst_ts, policy_dir_names, id->dir,
			 strerr(err ?: -ENOENT, why, buf, sizeof(buf)));
		return FAILED;
	}
	/* CLOCK_MONOTONIC seconds, as time_monotonic(); 0: not used since
	 * installed or last replaced */
	*use_time = use.last_use;
	return SUCCESS;
}

METHOD(kernel_ipsec_t, del_policy, status_t,
	private_kernel_nfsec_ipsec_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	policy_entry_t key = { .dir = id->dir }, *policy;
	policy_user_t match = {
		.type = data->type,
		.cfg = *data->sa,
		.src = data->src,
		.dst = data->dst,
	}, *user;
	enumerator_t *enumerator;
	const char *reason = NULL;
	char why[256], buf[320];
	bool was_first = FALSE, first = TRUE;
	status_t status = SUCCESS;
	int err;

	DBG2(DBG_KNL, "deleting policy %R === %R %N", id->src_ts, id->dst_ts,
		 policy_dir_names, id->dir);

	if (!ts2sel(id->src_ts, id->dst_ts, &key.sel, &reason))
	{	/* never installed */
		return NOT_FOUND;
	}
	match.auto_priority = auto_priority(&key.sel, data->prio);
	match.priority = data->manual_prio ?: match.auto_priority;

	this->mutex->lock(this->mutex);
	policy = this->policies->get(this->policies, &key);
	if (!policy)
	{
		DBG1(DBG_KNL, "deleting policy %R === %R %N failed, not found",
			 id->src_ts, id->dst_ts, policy_dir_names, id->dir);
		this->mutex->unlock(this->mutex);
		return NOT_FOUND;
	}
	enumerator = policy->users->create_enumerator(policy->users);
	while (enumerator->enumerate(enumerator, (void**)&user))
	{
		if (user_equals(user, &match))
		{
			policy->users->remove_at(policy->users, enumerator);
			user_destroy(user);
			was_first = first;
			break;
		}
		first = FALSE;
	}
	enumerator->destroy(enumerator);

	if (policy->users->get_count(policy->users))
	{
		DBG2(DBG_KNL, "policy still used by another CHILD_SA, not removed");
		if (was_first)
		{	/* the next user's policy replaces it, atomically */
			status = apply_policy(this, policy, id);
		}
		this->mutex->unlock(this->mutex);
		return status;
	}

	this->policies->remove(this->policies, policy);
	if (policy->route)
	{
		del_route(policy->route);
	}
	err = uninstall_policy(this, &policy->sel, policy->dir, why, sizeof(why));
	if (err && err != -ENOENT)
	{
		DBG1(DBG_KNL, "unable to delete policy %R === %R %N: %s", id->src_ts,
			 id->dst_ts, policy_dir_names, id->dir,
			 strerr(err, why, buf, sizeof(buf)));
		status = FAILED;
	}
	this->mutex->unlock(this->mutex);
	policy_entry_destroy(policy);
	return status;
}

METHOD(kernel_ipsec_t, flush_policies, status_t,
	private_kernel_nfsec_ipsec_t *this)
{
	return flush(this, NFSEC_CMD_POLICY_FLUSH, "SPD");
}

/*
 * ------------------------------------------------------------------
 * IKE sockets
 * ------------------------------------------------------------------
 */

/**
 * Install or remove the in and out bypass of an IKE socket's port: as
 * kernel-netlink's port_bypass, at priority 32 (before any of charon's).
 */
static int manage_bypass(private_kernel_nfsec_ipsec_t *this, bool add,
						 bypass_t *bypass, policy_dir_t dir)
{
	policy_entry_t policy = { .dir = dir };
	policy_user_t user = {
		.priority = PRIO_BYPASS,
		.type = POLICY_PASS,
	};
	char why[256], buf[320];
	int err;

	policy.sel.family = bypass->family;
	policy.sel.proto = bypass->proto;
	if (dir == POLICY_IN)
	{
		policy.sel.dport = bypass->port;
	}
	else
	{
		policy.sel.sport = bypass->port;
	}
	if (add)
	{
		err = install_policy(this, &policy, &user, why, sizeof(why));
	}
	else
	{
		err = uninstall_policy(this, &policy.sel, dir, why, sizeof(why));
	}
	if (err)
	{
		DBG1(DBG_KNL, "unable to %s the %N bypass policy of IKE port %u: %s",
			 add ? "install" : "remove", policy_dir_names, dir,
			 ntohs(bypass->port), strerr(err, why, buf, sizeof(buf)));
	}
	return err;
}

METHOD(kernel_ipsec_t, bypass_socket, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	bypass_t bypass = { .family = family, .proto = IPPROTO_UDP };
	int proto;

	if (family != AF_INET && family != AF_INET6)
	{
		DBG1(DBG_KNL, "unable to bypass an IKE socket of family %d", family);
		return FALSE;
	}
	if (getsockname(fd, (struct sockaddr*)&ss, &len) != 0 ||
		ss.ss_family != family)
	{
		DBG1(DBG_KNL, "unable to bypass an IKE socket: getsockname: %s",
			 strerror(errno));
		return FALSE;
	}
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0)
	{
		bypass.proto = proto;
	}
	bypass.port = family == AF_INET6 ?
		((struct sockaddr_in6*)&ss)->sin6_port :
		((struct sockaddr_in*)&ss)->sin_port;

	if (manage_bypass(this, TRUE, &bypass, POLICY_IN))
	{
		return FALSE;
	}
	if (manage_bypass(this, TRUE, &bypass, POLICY_OUT))
	{
		manage_bypass(this, FALSE, &bypass, POLICY_IN);
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	array_insert(this->bypass, ARRAY_TAIL, &bypass);
	this->mutex->unlock(this->mutex);
	DBG2(DBG_KNL, "installed nfsec bypass policies for IKE port %u (%s)",
		 ntohs(bypass.port), family == AF_INET6 ? "IPv6" : "IPv4");
	return TRUE;
}

METHOD(kernel_ipsec_t, enable_udp_decap, bool,
	private_kernel_nfsec_ipsec_t *this, int fd, int family, uint16_t port)
{
	/* nfsec takes ESP in UDP at its hooks, by the SAs' ports: the socket
	 * needs no UDP_ENCAP */
	return TRUE;
}

METHOD(kernel_ipsec_t, destroy, void,
	private_kernel_nfsec_ipsec_t *this)
{
	enumerator_t *enumerator;
	policy_entry_t *policy;
	bypass_t bypass;

	if (this->events)
	{
		lib->watcher->remove(lib->watcher, nl_socket_get_fd(this->events));
		nl_socket_free(this->events);
	}
	if (this->events_cb)
	{
		nl_cb_put(this->events_cb);
	}
	if (this->sock)
	{
		while (array_remove(this->bypass, ARRAY_HEAD, &bypass))
		{
			manage_bypass(this, FALSE, &bypass, POLICY_OUT);
			manage_bypass(this, FALSE, &bypass, POLICY_IN);
		}
		nl_socket_free(this->sock);
	}
	array_destroy(this->bypass);
	enumerator = this->policies->create_enumerator(this->policies);
	while (enumerator->enumerate(enumerator, NULL, &policy))
	{
		policy_entry_destroy(policy);
	}
	enumerator->destroy(enumerator);
	this->policies->destroy(this->policies);
	this->sock_lock->destroy(this->sock_lock);
	this->mutex->destroy(this->mutex);
	free(this);
}

/**
 * Open the event socket, member of "events", read by a watcher job.
 */
static bool open_events(private_kernel_nfsec_ipsec_t *this)
{
	int grp, err;

	this->events = open_socket();
	if (!this->events)
	{
		DBG1(DBG_KNL, "unable to create the nfsec event socket");
		return FALSE;
	}
	grp = genl_ctrl_resolve_grp(this->events, NFSEC_GENL_NAME,
								NFSEC_MCGRP_EVENTS);
	if (grp < 0)
	{
		DBG1(DBG_KNL, "unable to resolve nfsec's \"%s\" group: %s",
			 NFSEC_MCGRP_EVENTS, nl_geterror(grp));
		return FALSE;
	}
	err = nl_socket_add_membership(this->events, grp);
	if (err)
	{
		DBG1(DBG_KNL, "unable to join nfsec's \"%s\" group: %s",
			 NFSEC_MCGRP_EVENTS, nl_geterror(err));
		return FALSE;
	}
	nl_socket_set_nonblocking(this->events);
	this->events_cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!this->events_cb)
	{
		return FALSE;
	}
	nl_cb_set(this->events_cb, NL_CB_VALID, NL_CB_CUSTOM, event_valid, this);
	/* events are not answers: no sequence numbers to match */
	nl_cb_set(this->events_cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, event_seq,
			  NULL);
	lib->watcher->add(lib->watcher, nl_socket_get_fd(this->events),
					  WATCHER_READ, receive_events, this);
	return TRUE;
}

/*
 * Described in header
 */
kernel_nfsec_ipsec_t *kernel_nfsec_ipsec_create()
{
	private_kernel_nfsec_ipsec_t *this;

	INIT(this,
		.public = {
			.interface = {
				.get_features = _get_features,
				.get_spi = _get_spi,
				.get_cpi = _get_cpi,
				.add_sa  = _add_sa,
				.update_sa = _update_sa,
				.query_sa = _query_sa,
				.del_sa = _del_sa,
				.flush_sas = _flush_sas,
				.add_policy = _add_policy,
				.query_policy = _query_policy,
				.del_policy = _del_policy,
				.flush_policies = _flush_policies,
				.bypass_socket = _bypass_socket,
				.enable_udp_decap = _enable_udp_decap,
				.destroy = _destroy,
			},
		},
		.sock_lock = mutex_create(MUTEX_TYPE_DEFAULT),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.policies = hashtable_create((hashtable_hash_t)policy_hash,
									 (hashtable_equals_t)policy_equals, 32),
		.bypass = array_create(sizeof(bypass_t), 0),
		.install_routes = lib->settings->get_bool(lib->settings,
							"%s.install_routes", TRUE, lib->ns),
	);

	this->sock = open_socket();
	if (!this->sock)
	{
		DBG1(DBG_KNL, "unable to create the nfsec netlink socket");
		destroy(this);
		return NULL;
	}
	this->family = genl_ctrl_resolve(this->sock, NFSEC_GENL_NAME);
	if (this->family < 0)
	{
		DBG1(DBG_KNL, "nfsec module not loaded (no generic netlink family "
			 "\"%s\"): %s", NFSEC_GENL_NAME, nl_geterror(this->family));
		destroy(this);
		return NULL;
	}
	if (!open_events(this))
	{
		destroy(this);
		return NULL;
	}
	DBG1(DBG_KNL, "using nfsec as kernel IPsec backend (generic netlink "
		 "family %d)", this->family);
	/* What a charon killed before it could delete its SAs and policies left
	 * in nfsec (kernel-netlink leaves xfrm's as they are, until the SAs' hard
	 * lifetimes): on a host where charon alone configures nfsec, gone before
	 * this charon installs anything. Off by default: nfsec.conf's SAs and
	 * policies (the nfsec service's) would go too. */
	if (lib->settings->get_bool(lib->settings,
					"%s.plugins.kernel-nfsec.flush_on_start", FALSE, lib->ns))
	{
		DBG1(DBG_KNL, "kernel-nfsec: flush_on_start: flushing nfsec's SAs and "
			 "policies");
		if (flush(this, NFSEC_CMD_SA_FLUSH, "SAD") != SUCCESS ||
			flush(this, NFSEC_CMD_POLICY_FLUSH, "SPD") != SUCCESS)
		{
			destroy(this);
			return NULL;
		}
	}
	return &this->public;
}
