/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec: what depends on the kernel's internals or version.
 */
#ifndef _NFSEC_COMPAT_H
#define _NFSEC_COMPAT_H

#include <linux/crypto.h>
#include <linux/netfilter_bridge.h>
#include <linux/version.h>
#include <net/ip.h>

/*
 * Headers that moved. skb_gso_segment() went to net/gso.h in 6.4; the
 * unaligned accessors to linux/unaligned.h in 6.12, which dropped
 * asm/unaligned.h; net_hotdata (below) is in net/hotdata.h since 6.9.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#include <net/gso.h>
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <net/hotdata.h>
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * A crypto completion gets the request's data pointer since 6.3, the
 * request itself before. Callbacks take an nfsec_crypto_arg_t and read
 * their context with nfsec_crypto_data().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
typedef void *nfsec_crypto_arg_t;

static inline void *nfsec_crypto_data(void *data)
{
	return data;
}
#else
typedef struct crypto_async_request *nfsec_crypto_arg_t;

static inline void *nfsec_crypto_data(struct crypto_async_request *req)
{
	return req->data;
}
#endif

/*
 * net.core.netdev_max_backlog, the bound of nfsec's per-CPU receive
 * queues as of the stack's own: in net_hotdata since 6.9.
 */
static inline int nfsec_max_backlog(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return READ_ONCE(net_hotdata.max_backlog);
#else
	return READ_ONCE(netdev_max_backlog);
#endif
}

/*
 * ip_defrag() keys its queues by a "user" as well as the datagram's
 * addresses, id and protocol; the kernel's own users are a small enum.
 * nfsec's are above them: one per direction for cleartext it reassembles
 * before a policy that names ports, and one per SA for the inner
 * fragments that come out of it, so that these never join fragments that
 * came any other way.
 */
#define NFSEC_DEFRAG_DIR	0x4e460000	/* + enum nfsec_dir */
#define NFSEC_DEFRAG_IPSEC	0x4e460003	/* IPv6 ESP and AH to us */
#define NFSEC_DEFRAG_SA		0x80000000	/* | the SA's number */
static_assert(NFSEC_DEFRAG_DIR > IP_DEFRAG_MACVLAN);

/*
 * ip_finish_output() measures a local packet against the path MTU of its
 * route, which nfsec's own frag-needed lowered to what fits inside ESP
 * when the inner destination is the peer (transport mode): the ESP packet
 * would never fit. nfsec has judged DF against the right MTU already, so
 * have the ESP packet measured as forwarded ones are, against the route's
 * own MTU (ip_dst_mtu_maybe_forward()).
 */
static inline void nfsec_skb_route_mtu(struct sk_buff *skb)
{
	IPCB(skb)->flags |= IPSKB_FORWARDED;
}

/*
 * br_netfilter runs the IPv4 FORWARD and POST_ROUTING hooks on bridged
 * frames too, with its own okfn and its own use of skb->cb; xfrm never
 * sees those frames, and neither should nfsec.
 */
static inline bool nfsec_skb_bridged(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	return nf_bridge_info_exists(skb);
#else
	return false;
#endif
}

#endif /* _NFSEC_COMPAT_H */
