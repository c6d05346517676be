// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the netfilter hooks of one netns, the same for IPv4 and IPv6.
 *
 * LOCAL_IN, last: ESP/AH to an SA of ours is taken (reassembled: IPv4 by
 * ip_local_deliver() before this hook, IPv6 here, as ipv6 reassembles
 * after it), and so is ESP in UDP to the port of an encap SA (natt.c);
 * cleartext that an in policy requires protected is dropped. ICMP
 * fragmentation-needed and ICMPv6 packet-too-big about our own packets
 * lower the SA's path MTU (pmtu.c) and go on to the stack.
 * FORWARD, after the filter table: the same check with fwd policies.
 * POST_ROUTING, last: out policies, for locally generated and forwarded
 * packets alike; what nfsec produced is marked and skipped.
 *
 * Last, because xfrm transforms after every hook has seen the packet:
 * the filter tables judge the cleartext packet, and inbound the ESP one
 * before we take it (the ESP we send passes OUTPUT and POST_ROUTING
 * afterwards: output.c), NAT has translated the addresses the policies
 * then match (as xfrm re-looks up its policy after NAT), and conntrack's
 * confirmation, which shares the last priority, runs first when
 * conntrack comes to the netns after us (equal priorities run newest
 * first), which is the usual order: a module loaded at boot, conntrack on
 * demand with the first rule.
 */
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/esp.h>
#include <net/ip.h>
#include "compat.h"
#include "nfsec.h"

/* Is @skb protected traffic for one of our SAs? Then its SA. */
static struct nfsec_sa *inbound_sa(struct nfsec_net *nn, struct sk_buff *skb,
				   const struct nfsec_l3 *l3)
{
	unsigned int off = l3->hlen;
	union nfsec_addr daddr;
	__be32 _spi, *spi;

	/* The SPI: first word of ESP, second of AH. */
	if (l3->proto == IPPROTO_AH)
		off += 4;
	spi = skb_header_pointer(skb, off, sizeof(_spi), &_spi);
	if (!spi)
		return NULL;
	nfsec_skb_addr(skb, &daddr, true);
	return nfsec_sa_lookup(nn, l3->family, &daddr, *spi, l3->proto);
}

/*
 * Ports are only in a datagram's first fragment, and policies take every
 * fragment's as opaque. Where a policy of @dir names ports, a fragment is
 * reassembled first, so that the datagram meets the policy it would whole
 * (RFC 4301 7.3): never one fragment protected and the rest in clear. The
 * output path fragments it again, as the sender did. IPv4 reaches LOCAL_IN
 * reassembled already; IPv6 only after it. False: held or dropped.
 */
static bool defrag_for_ports(struct nfsec_net *nn, struct sk_buff *skb,
			     struct nfsec_l3 *l3, u8 dir, enum nfsec_stat stat)
{
	int err;

	if (!l3->frag || !READ_ONCE(nn->pol_ports[dir]))
		return true;
	nfsec_count(nn, NULL, stat, 1);
	err = nfsec_defrag(nn->net, skb, NFSEC_DEFRAG_DIR + dir);
	if (err) {
		if (err != -EINPROGRESS)
			nfsec_count(nn, NULL, dir == NFSEC_DIR_OUT ?
				    NFSEC_STAT_TX_ERROR : NFSEC_STAT_RX_TOO_SHORT, 1);
		return false;
	}
	return !nfsec_l3_parse(skb, l3, false);
}

/*
 * An IPv6 extension header chain nfsec cannot read: whatever it carries,
 * no policy can be judged on it. Dropped, where there are policies.
 */
static unsigned int malformed(struct nfsec_net *nn, u8 dir,
			      enum nfsec_stat stat)
{
	if (list_empty(&nn->policies[dir]))
		return NF_ACCEPT;
	nfsec_count(nn, NULL, stat, 1);
	return NF_DROP;
}

/* Cleartext against in/fwd policies. */
static unsigned int check_clear(struct nfsec_net *nn, struct sk_buff *skb,
				const struct nfsec_l3 *l3, u8 dir)
{
	struct nfsec_policy *pol;
	struct nfsec_flow fl;

	if (list_empty(&nn->policies[dir]))
		return NF_ACCEPT;
	nfsec_flow_fill(skb, l3, &fl);
	pol = nfsec_policy_lookup(nn, dir, &fl);
	if (!pol)
		return NF_ACCEPT;
	if (pol->action == NFSEC_ACTION_BLOCK) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_POLICY_BLOCK, 1);
		return NF_DROP;
	}
	if (pol->has_tmpl) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_UNPROTECTED, 1);
		return NF_DROP;
	}
	nfsec_policy_count(pol, skb->len);
	return NF_ACCEPT;
}

/*
 * ESP or AH to us. IPv6 fragments of it are reassembled here, in a queue
 * of nfsec's own (IPv4 reassembles before LOCAL_IN). A packet to an SPI of
 * nfsec's is stolen; one to another (native xfrm's, maybe) goes on.
 */
static unsigned int in_ipsec(struct nfsec_net *nn, struct sk_buff *skb,
			     struct nfsec_l3 *l3)
{
	struct nfsec_sa *sa;
	int err;

	if (l3->frag) {
		err = nfsec_defrag(nn->net, skb, NFSEC_DEFRAG_IPSEC);
		if (err) {
			if (err != -EINPROGRESS)
				nfsec_count(nn, NULL, NFSEC_STAT_RX_TOO_SHORT, 1);
			return NF_STOLEN;
		}
		if (nfsec_l3_parse(skb, l3, false)) {
			nfsec_count(nn, NULL, NFSEC_STAT_RX_TOO_SHORT, 1);
			return NF_DROP;
		}
	}
	sa = inbound_sa(nn, skb, l3);
	if (!sa) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_NO_SA, 1);
		return NF_ACCEPT;
	}
	if (sa->encap.type) {
		/* Its peer sends ESP in UDP, never bare. */
		nfsec_count(nn, sa, NFSEC_STAT_RX_POLICY_MISMATCH, 1);
		return NF_DROP;
	}
	NFSEC_CB(skb)->encap = false;
	nfsec_input(sa, skb, l3);
	return NF_STOLEN;
}

static unsigned int in_merged(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state);
static unsigned int in_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state);

/*
 * A UDP fragment where encap SAs listen: ESP in UDP over IPv6 that came in
 * fragments. IPv6 reassembles after this hook, where natt.c would never
 * see the datagram: reassemble it here, in ESP's queue, and look at it
 * again whole. Whoever's it is, it goes on reassembled.
 */
static unsigned int in_udp_frag(struct nfsec_net *nn, struct sk_buff *skb,
				void *priv, const struct nf_hook_state *state)
{
	int err = nfsec_defrag(nn->net, skb, NFSEC_DEFRAG_IPSEC);

	if (err) {
		if (err != -EINPROGRESS)
			nfsec_count(nn, NULL, NFSEC_STAT_RX_TOO_SHORT, 1);
		return NF_STOLEN;
	}
	return in_hook(priv, skb, state);
}

static unsigned int in_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct nfsec_l3 l3;

	if (nfsec_is_decap(skb))
		return nfsec_check_decap(nn, skb, NFSEC_DIR_IN);
	if (nfsec_l3_parse(skb, &l3, false))
		return malformed(nn, NFSEC_DIR_IN, NFSEC_STAT_RX_TOO_SHORT);
	if ((l3.proto == IPPROTO_ESP || l3.proto == IPPROTO_AH) && !l3.routed)
		return in_ipsec(nn, skb, &l3);
	if (!defrag_for_ports(nn, skb, &l3, NFSEC_DIR_IN, NFSEC_STAT_RX_FRAG_REASM))
		return NF_STOLEN;
	if (l3.proto == IPPROTO_UDP && l3.frag && READ_ONCE(nn->natt_ports_used))
		return in_udp_frag(nn, skb, priv, state);
	if ((l3.proto == IPPROTO_ICMP || l3.proto == IPPROTO_ICMPV6) &&
	    !l3.frag && nfsec_pmtu_icmp(nn, skb, &l3))
		return NF_DROP;
	if (l3.proto == IPPROTO_UDP && !l3.frag) {
		if (skb_is_gso(skb) && nfsec_natt_port(nn, skb, &l3))
			return in_merged(priv, skb, state);
		if (nfsec_natt_rcv(nn, skb, &l3) == NF_STOLEN)
			return NF_STOLEN;
	}
	return check_clear(nn, skb, &l3, NFSEC_DIR_IN);
}

/*
 * GRO may have merged ESP-in-UDP datagrams (rx-gro-list, or
 * rx-udp-gro-forwarding with no socket on the port), each with an ESP
 * packet of its own: take them apart again, as udp_rcv_segment() does for
 * an encap socket, and let each go its way, the stack's included.
 */
static unsigned int in_merged(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct sk_buff *segs, *next;

	nfsec_count(nn, NULL, NFSEC_STAT_NATT_GRO, 1);
	segs = __skb_gso_segment(skb, NETIF_F_SG | NETIF_F_IP_CSUM |
				 NETIF_F_IPV6_CSUM, false);
	if (IS_ERR_OR_NULL(segs)) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_NO_MEM, 1);
		kfree_skb(skb);
		return NF_STOLEN;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		switch (in_hook(priv, skb, state)) {
		case NF_ACCEPT:
			state->okfn(state->net, state->sk, skb);
			break;
		case NF_DROP:
			kfree_skb(skb);
			break;
		}
	}
	return NF_STOLEN;
}

static unsigned int fwd_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct nfsec_l3 l3;

	if (nfsec_skb_bridged(skb))
		return NF_ACCEPT;
	if (nfsec_is_decap(skb))
		return nfsec_check_decap(nn, skb, NFSEC_DIR_FWD);
	if (list_empty(&nn->policies[NFSEC_DIR_FWD]))
		return NF_ACCEPT;
	if (nfsec_l3_parse(skb, &l3, false))
		return malformed(nn, NFSEC_DIR_FWD, NFSEC_STAT_RX_TOO_SHORT);
	if (!defrag_for_ports(nn, skb, &l3, NFSEC_DIR_FWD, NFSEC_STAT_RX_FRAG_REASM))
		return NF_STOLEN;
	return check_clear(nn, skb, &l3, NFSEC_DIR_FWD);
}

static unsigned int out_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct nfsec_net *nn = nfsec_pernet(state->net);
	struct nfsec_policy *pol;
	struct nfsec_flow fl;
	struct nfsec_l3 l3;
	struct nfsec_sa *sa;

	if (nfsec_skb_bridged(skb) || nfsec_transformed(skb) ||
	    list_empty(&nn->policies[NFSEC_DIR_OUT]))
		return NF_ACCEPT;
	if (nfsec_l3_parse(skb, &l3, false))
		return malformed(nn, NFSEC_DIR_OUT, NFSEC_STAT_TX_ERROR);
	if (!defrag_for_ports(nn, skb, &l3, NFSEC_DIR_OUT, NFSEC_STAT_TX_FRAG_REASM))
		return NF_STOLEN;
	nfsec_flow_fill(skb, &l3, &fl);
	pol = nfsec_policy_lookup(nn, NFSEC_DIR_OUT, &fl);
	if (!pol)
		return NF_ACCEPT;
	nfsec_policy_count(pol, skb->len);
	if (pol->action == NFSEC_ACTION_BLOCK) {
		nfsec_count(nn, NULL, NFSEC_STAT_TX_POLICY_BLOCK, 1);
		return NF_DROP;
	}
	if (!pol->has_tmpl)
		return NF_ACCEPT;
	sa = nfsec_sa_lookup_out(nn, &pol->tmpl, &fl);
	if (!sa) {
		nfsec_count(nn, NULL, NFSEC_STAT_TX_NO_SA, 1);
		nfsec_acquire(nn, pol, &fl);
		return NF_DROP;
	}
	nfsec_output(state->net, sa, skb);
	return NF_STOLEN;
}

/* The same hooks for both families, at the same places. */
#define NFSEC_HOOKS(family, last)					\
	{								\
		.hook = in_hook,					\
		.pf = family,						\
		.hooknum = NF_INET_LOCAL_IN,				\
		.priority = last,					\
	},								\
	{								\
		.hook = fwd_hook,					\
		.pf = family,						\
		.hooknum = NF_INET_FORWARD,				\
		.priority = NF_IP_PRI_FILTER + 10,			\
	},								\
	{								\
		.hook = out_hook,					\
		.pf = family,						\
		.hooknum = NF_INET_POST_ROUTING,			\
		.priority = last,					\
	}

static const struct nf_hook_ops nfsec_hook_ops[] = {
	NFSEC_HOOKS(NFPROTO_IPV4, NF_IP_PRI_LAST),
	NFSEC_HOOKS(NFPROTO_IPV6, NF_IP6_PRI_LAST),
};

int nfsec_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, nfsec_hook_ops,
				     ARRAY_SIZE(nfsec_hook_ops));
}

void nfsec_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, nfsec_hook_ops, ARRAY_SIZE(nfsec_hook_ops));
}
