// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: outbound packets that an SA protects.
 *
 * The out hook hands each packet (GSO packets segment by segment) here
 * with a reference on its SA. Tunnel mode builds the outer header and
 * routes it first; then the transform runs, and output_done() finishes
 * both its synchronous and its asynchronous completion.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/dst.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include "compat.h"
#include "nfsec.h"

static void output_done(struct sk_buff *skb, struct nfsec_sa *sa, u64 seq,
			void *arg, int err)
{
	struct nfsec_net *nn = sa->nn;

	if (err) {
		nfsec_count(nn, sa, NFSEC_STAT_TX_CRYPTO_ERROR, 1);
		kfree_skb(skb);
		goto out;
	}
	if (sa->encap.type)
		nfsec_natt_out_csum(skb);
	nf_reset_ct(skb);
	rcu_read_lock_bh();
	nfsec_local_out(nn->net, skb);
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
 * The largest packet @sa can carry over @mtu: its own family's header
 * with what the SA adds must fit, and no length field may wrap.
 */
static unsigned int inner_max(const struct nfsec_sa *sa,
			      const struct sk_buff *skb, unsigned int mtu)
{
	mtu = min3(mtu, nfsec_sa_pmtu(sa), nfsec_l3_max_len(sa->family));
	return nfsec_inner_mtu(sa, mtu, nfsec_skb_family(skb));
}

/* What fits() found. */
enum { FIT, FIT_DROP, FIT_FRAG };

/*
 * Clamp a SYN to the MSS that fits the path, then judge the packet by it:
 * the path is @mtu, the route's, or what a router further on told us.
 * Too big where it may not be fragmented: tell the sender what fits. An
 * IPv4 packet that may be fragmented is, before it goes into an IPv6
 * tunnel (IPv6 routers never fragment): FIT_FRAG, with the size in
 * IPCB(skb)->frag_max_size. Otherwise the outer packet is fragmented, as
 * its inner one allowed.
 */
static int fits(struct nfsec_sa *sa, struct sk_buff *skb, unsigned int mtu)
{
	unsigned int thoff = nfsec_mss_syn(sa, skb);
	unsigned int max = inner_max(sa, skb, mtu);

	if (thoff)
		nfsec_mss_sa(sa, skb, thoff, mtu);
	if (skb->len <= max)
		return FIT;
	/*
	 * An IPv6 link carries 1280 bytes (RFC 8200 5), a tunnel too, and a
	 * sender told less would not send less: such a packet goes, its ESP
	 * packet fragmented (an outer IPv4 header without DF, RFC 4213 3.2).
	 */
	if (ip_hdr(skb)->version == 6 && skb->len <= IPV6_MIN_MTU) {
		skb->ignore_df = 1;
		return FIT;
	}
	if (!nfsec_may_frag(skb)) {
		nfsec_send_too_big(skb, max);
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_FRAG_NEEDED, 1);
		return FIT_DROP;
	}
	if (sa->mode == NFSEC_MODE_TUNNEL && sa->family == AF_INET6 &&
	    ip_hdr(skb)->version == 4) {
		IPCB(skb)->frag_max_size = max;
		return FIT_FRAG;
	}
	/* The outer length field would wrap. */
	if (skb->len > inner_max(sa, skb, UINT_MAX)) {
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_TOO_BIG, 1);
		return FIT_DROP;
	}
	return FIT;
}

static int tunnel_encap(struct net *net, struct nfsec_sa *sa,
			struct sk_buff *skb)
{
	unsigned int hlen = sa->family == AF_INET ? sizeof(struct iphdr) :
			    sizeof(struct ipv6hdr);
	union nfsec_addr daddr;
	struct dst_entry *dst;
	bool shared;
	int fit;

	dst = nfsec_route_peer(net, sa);
	if (!dst) {
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_NO_ROUTE, 1);
		return -EHOSTUNREACH;
	}
	nfsec_skb_addr(skb, &daddr, true);
	shared = nfsec_skb_family(skb) == sa->family &&
		 nfsec_addr_eq(&daddr, &sa->daddr);
	fit = fits(sa, skb, nfsec_peer_mtu(dst, sa->family, shared));
	if (fit != FIT) {
		dst_release(dst);
		return fit == FIT_FRAG ? -EAGAIN : -EMSGSIZE;
	}
	if (skb_cow_head(skb, hlen + LL_RESERVED_SPACE(dst->dev))) {
		dst_release(dst);
		nfsec_count(sa->nn, sa, NFSEC_STAT_TX_NO_MEM, 1);
		return -ENOMEM;
	}
	nfsec_push_outer(net, sa, skb, dst);
	nf_reset_ct(skb);
	return 0;
}

static void output_one(struct net *net, struct nfsec_sa *sa,
		       struct sk_buff *skb);

/*
 * ip_do_fragment() hands each fragment to a function of (net, sk, skb)
 * only: the SA it goes to waits here, per CPU, with BH off. Saved and
 * restored, in case a fragment's way out comes back to us through a
 * tunnel device before the next one.
 */
static DEFINE_PER_CPU(struct nfsec_sa *, frag_sa);

static int frag_out(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	struct nfsec_sa *sa = __this_cpu_read(frag_sa);

	if (nfsec_sa_hold(sa))
		output_one(net, sa, skb);
	else
		kfree_skb(skb);
	return 0;
}

/* Fragment @skb as fits() said, each fragment protected on its own. */
static void frag_inner(struct net *net, struct nfsec_sa *sa,
		       struct sk_buff *skb)
{
	struct nfsec_sa *prev;

	nfsec_count(sa->nn, sa, NFSEC_STAT_TX_FRAG_INNER, 1);
	local_bh_disable();
	prev = __this_cpu_read(frag_sa);
	__this_cpu_write(frag_sa, sa);
	ip_do_fragment(net, skb->sk, skb, frag_out);
	__this_cpu_write(frag_sa, prev);
	local_bh_enable();
	nfsec_sa_put(sa);
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
		err = tunnel_encap(net, sa, skb);
		if (err == -EAGAIN) {
			frag_inner(net, sa, skb);
			return;
		}
		if (err)
			goto drop_counted;
	} else if (fits(sa, skb, nfsec_peer_mtu(skb_dst(skb), sa->family,
						true)) != FIT) {
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
 * or AH adds in front (outer IPv6, UDP, ESP header and IV: 72 at most),
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
