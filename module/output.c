// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: outbound packets that an SA protects.
 *
 * The out hook hands each packet (GSO packets segment by segment) here
 * with a reference on its SA. Tunnel mode builds the outer header and
 * routes it first; then the transform runs, and output_done() finishes
 * both its synchronous and its asynchronous completion.
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <net/dst.h>
#include <net/icmp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/netfilter/nf_conntrack.h>
#include "compat.h"
#include "nfsec.h"

/*
 * Send the ESP or AH packet as xfrm does, through LOCAL_OUT and
 * POST_ROUTING again in either mode, so that the firewall judges and
 * counts it, and conntrack sees a flow of its own.
 */
static void output_done(struct sk_buff *skb, struct nfsec_sa *sa, u64 seq,
			void *arg, int err)
{
	struct nfsec_net *nn = sa->nn;
	struct net *net = nn->net;

	if (err) {
		nfsec_count(nn, sa, NFSEC_STAT_TX_CRYPTO_ERROR, 1);
		kfree_skb(skb);
		goto out;
	}
	/* Never transform this packet again, nor its outer header. */
	IPCB(skb)->flags |= IPSKB_XFRM_TRANSFORMED;
	nfsec_skb_route_mtu(skb);
	nf_reset_ct(skb);
	rcu_read_lock_bh();
	ip_local_out(net, skb->sk, skb);
	rcu_read_unlock_bh();
out:
	nfsec_sa_put(sa);
}

/* Sequence number and hard lifetime, under the SA's lock. */
static int next_seq(struct nfsec_sa *sa, unsigned int len, u64 *seq)
{
	bool esn = sa->flags & NFSEC_SA_F_ESN;
	int ret = 0;

	spin_lock_bh(&sa->lock);
	if (sa->dead) {
		/*
		 * Updated (or deleted) since the lookup: the new SA took over
		 * this one's sequence numbers, and with the same key, a
		 * number sent twice would be an AEAD nonce used twice.
		 */
		ret = NFSEC_STAT_TX_SA_GONE;
	} else if (sa->oseq >= (esn ? U64_MAX : U32_MAX)) {
		/* RFC 4303 3.3.3: the counter must not cycle. */
		ret = NFSEC_STAT_TX_SEQ_OVERFLOW;
	} else if (!nfsec_lft_check(sa)) {
		ret = NFSEC_STAT_TX_EXPIRED;
	} else {
		*seq = ++sa->oseq;
		nfsec_lft_count(sa, len);
		nfsec_lft_seq(sa, *seq, esn);
	}
	spin_unlock_bh(&sa->lock);
	return ret;
}

/*
 * The route to the peer, from the SA's per-CPU cache when still valid.
 * The cache wants BH off: a local sender runs POST_ROUTING in process
 * context, where a softirq on this CPU could use the same cache slot.
 */
static struct rtable *route_peer(struct net *net, struct nfsec_sa *sa)
{
	struct flowi4 fl = {
		.daddr = sa->daddr.a4,
		.saddr = sa->saddr.a4,
		.flowi4_proto = sa->encap.type ? IPPROTO_UDP : sa->proto,
		.fl4_sport = sa->encap.sport,
		.fl4_dport = sa->encap.dport,
	};
	struct rtable *rt;
	__be32 saddr;

	local_bh_disable();
	rt = dst_cache_get_ip4(&sa->dst_cache, &saddr);
	if (!rt) {
		rt = ip_route_output_key(net, &fl);
		if (IS_ERR(rt))
			rt = NULL;
		else
			dst_cache_set_ip4(&sa->dst_cache, &rt->dst, fl.saddr);
	}
	local_bh_enable();
	return rt;
}

/*
 * The MTU of the path to the peer. The frag-needed we send lowers the
 * PMTU of the inner destination's route; where that is the peer's route
 * too (transport mode, or a tunnel between the same two addresses), its
 * PMTU is of our making and would shrink the packets again and again:
 * take the route's own MTU there.
 */
static unsigned int peer_mtu(const struct dst_entry *dst, bool shared)
{
	return shared ? ip_dst_mtu_maybe_forward(dst, true) : dst_mtu(dst);
}

/* Too big with DF set: tell the sender the MTU that fits, and drop. */
static bool too_big(struct nfsec_sa *sa, struct sk_buff *skb,
		    unsigned int mtu)
{
	unsigned int max = nfsec_inner_mtu(sa, mtu);

	if (skb->len <= max || !(ip_hdr(skb)->frag_off & htons(IP_DF)) ||
	    skb->ignore_df)
		return false;
	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(max));
	nfsec_count(sa->nn, sa, NFSEC_STAT_TX_FRAG_NEEDED, 1);
	return true;
}

/* IPv4's tot_len: no packet, an outer one neither, can be longer. */
#define MAX_TOT_LEN	0xffffU

/*
 * Clamp a SYN to the MSS that fits the path, then judge the packet by it:
 * the path is @mtu, the route's, or what a router further on told us.
 */
static bool fits(struct nfsec_sa *sa, struct sk_buff *skb, unsigned int mtu)
{
	unsigned int thoff = nfsec_mss_syn(sa, skb);

	mtu = min3(mtu, nfsec_sa_pmtu(sa), MAX_TOT_LEN);
	if (thoff)
		nfsec_mss_sa(sa, skb, thoff, mtu);
	if (too_big(sa, skb, mtu))
		return false;
	/* Without DF too: the outer tot_len would wrap, the packet vanish. */
	if (skb->len > nfsec_inner_mtu(sa, MAX_TOT_LEN)) {
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_TOO_BIG, 1);
		return false;
	}
	return true;
}

static int tunnel_encap(struct net *net, struct nfsec_sa *sa,
			struct sk_buff *skb)
{
	const struct iphdr *inner = ip_hdr(skb);
	struct rtable *rt;
	struct iphdr *iph;

	rt = route_peer(net, sa);
	if (!rt) {
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_NO_ROUTE, 1);
		return -EHOSTUNREACH;
	}
	if (!fits(sa, skb, peer_mtu(&rt->dst, inner->daddr == sa->daddr.a4))) {
		ip_rt_put(rt);
		return -EMSGSIZE;
	}
	if (skb_cow_head(skb, sizeof(*iph) + LL_RESERVED_SPACE(rt->dst.dev))) {
		ip_rt_put(rt);
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_NO_MEM, 1);
		return -ENOMEM;
	}
	inner = ip_hdr(skb);
	skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = 5;
	/* DSCP copied; ECN as RFC 6040's normal mode: CE becomes ECT(0). */
	iph->tos = INET_ECN_encapsulate(inner->tos, inner->tos);
	iph->frag_off = inner->frag_off & htons(IP_DF);
	iph->ttl = ip4_dst_hoplimit(&rt->dst);
	iph->protocol = IPPROTO_IPIP;
	iph->saddr = sa->saddr.a4;
	iph->daddr = sa->daddr.a4;
	iph->tot_len = htons(skb->len);
	__ip_select_ident(net, iph, 1);
	ip_send_check(iph);

	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	skb_dst_drop(skb);
	skb_dst_set(skb, &rt->dst);
	nf_reset_ct(skb);
	skb->protocol = htons(ETH_P_IP);
	return 0;
}

/* One non-GSO packet; consumes @skb and the caller's SA reference. */
static void output_one(struct net *net, struct nfsec_sa *sa,
		       struct sk_buff *skb)
{
	unsigned int len = skb->len;
	u64 seq;
	int err;

	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		err = NFSEC_STAT_TX_ERROR;
		goto drop;
	}
	if (sa->mode == NFSEC_MODE_TUNNEL) {
		if (tunnel_encap(net, sa, skb))
			goto drop_counted;
	} else if (!fits(sa, skb, peer_mtu(skb_dst(skb), true))) {
		goto drop_counted;
	} else if (!skb_dst_force(skb)) {
		/* TCP's noref route is valid in this RCU section only. */
		err = NFSEC_STAT_TX_NO_ROUTE;
		goto drop;
	}
	/* Only a packet that leaves takes a number and counts as use. */
	err = next_seq(sa, len, &seq);
	if (err)
		goto drop;
	nfsec_count(sa->nn, sa, NFSEC_STAT_TX_PACKETS, 1);
	nfsec_count(sa->nn, sa, NFSEC_STAT_TX_BYTES, len);
	if (sa->proto == IPPROTO_AH)
		err = nfsec_ah_output(sa, skb, seq, output_done, NULL);
	else
		err = nfsec_esp_output(sa, skb, seq, output_done, NULL);
	if (err >= 0 || err == -EINPROGRESS)
		return;
	err = err == -ENOMEM ? NFSEC_STAT_TX_NO_MEM : NFSEC_STAT_TX_ERROR;
drop:
	nfsec_count(sa->nn, sa, err, 1);
drop_counted:
	kfree_skb(skb);
	nfsec_sa_put(sa);
}

/*
 * Headroom for each segment: the device's link-layer header and what ESP
 * or AH adds in front (outer IPv4, UDP, ESP header and IV: 52 at most),
 * with room to spare. Less is still correct: skb_cow_head() grows it.
 */
#define SEG_HEADROOM 128

/*
 * skb_segment() copies each segment into a buffer with the GSO packet's
 * headroom, for TCP MAX_TCP_HEADER: a full-sized segment then needs a
 * little over 2 KB, so gets a 4 KB buffer, which the kernel zeroes before
 * the copy when init_on_alloc is on (Debian's default). Give the GSO
 * packet a head with the headroom we need instead: its header bytes are
 * copied, its payload pages shared, and the socket's send accounting
 * moves with it, as tcp_gso_segment() moves it to the segments.
 */
static struct sk_buff *fit_headroom(struct sk_buff *skb)
{
	struct sk_buff *nskb;

	if (skb_headroom(skb) < SEG_HEADROOM + 64)
		return skb;
	nskb = __pskb_copy(skb, SEG_HEADROOM, GFP_ATOMIC);
	if (!nskb)
		return skb;
	/* The header offsets count from the head: the copy's starts later. */
	skb_headers_offset_update(nskb, SEG_HEADROOM - (int)skb_headroom(skb));
	swap(nskb->sk, skb->sk);
	swap(nskb->destructor, skb->destructor);
	nskb->truesize = skb->truesize;
	consume_skb(skb);
	return nskb;
}

/*
 * Protect @skb with @sa; always consumes @skb. What comes out is sent
 * through LOCAL_OUT and POST_ROUTING again (output_done()), not on to
 * the hook's okfn.
 */
void nfsec_output(struct net *net, struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct sk_buff *segs, *next;

	if (!skb_is_gso(skb)) {
		if (nfsec_sa_hold(sa))
			output_one(net, sa, skb);
		else
			kfree_skb(skb);
		return;
	}
	/* Encrypt segments, not super-packets. */
	skb = fit_headroom(skb);
	segs = skb_gso_segment(skb, 0);
	if (IS_ERR_OR_NULL(segs)) {
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_ERROR, 1);
		kfree_skb(skb);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, segs, next) {
		skb_mark_not_on_list(segs);
		if (nfsec_sa_hold(sa))
			output_one(net, sa, segs);
		else
			kfree_skb(segs);
	}
}
