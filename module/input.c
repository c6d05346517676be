// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: inbound ESP and AH to an SA of ours.
 *
 * The replay window is checked before the transform and advanced only
 * once the ICV verified (re-checked then: another CPU or an async request
 * may have taken the same number). nfsec_input_done() finishes both the
 * synchronous and the asynchronous completion: trailer, decapsulation,
 * the inbound policy check, and delivery with the decapsulated mark.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/dst.h>
#include <crypto/aead.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include "compat.h"
#include "nfsec.h"

/*
 * Take @len bytes out of the packet at NFSEC_CB(skb)->hlen (ESP's or
 * AH's header, or UDP's): the headers in front move up over them, and the
 * byte that named what was taken out names @nexthdr. The stack resumes
 * where it was when LOCAL_IN gave us the packet: after IPv4's header, or
 * after IPv6's hop-by-hop header, the one extension header ipv6_rcv()
 * processes. IPv6's destination options and routing headers in front of
 * ESP or AH are still the stack's to process, once, as xfrm, which takes
 * ESP and AH only after them, has them processed (IPV6_RECVDSTOPTS sees
 * them, an option that says "discard if unknown" is honoured).
 */
void nfsec_l3_cut(struct sk_buff *skb, unsigned int len, u8 nexthdr)
{
	unsigned int hlen = NFSEC_CB(skb)->hlen;
	unsigned int nhoff = NFSEC_CB(skb)->nhoff;
	unsigned int thoff;

	memmove(skb->data + len, skb->data, hlen);
	__skb_pull(skb, len);
	skb_reset_network_header(skb);
	skb->data[nhoff] = nexthdr;
	if (ip_hdr(skb)->version == 4) {
		skb_set_transport_header(skb, hlen);
	} else {
		/*
		 * As ip6_rcv_core() and ipv6_parse_hopopts() leave it. A
		 * hop-by-hop header in front of what was taken out is within
		 * @hlen; one the decapsulated packet starts with is not ours
		 * to skip (nor known to be linear): the stack judges it.
		 */
		thoff = sizeof(struct ipv6hdr);
		IP6CB(skb)->nhoff = offsetof(struct ipv6hdr, nexthdr);
		if (hlen > thoff && ipv6_hdr(skb)->nexthdr == NEXTHDR_HOP) {
			IP6CB(skb)->nhoff = thoff;
			thoff += ipv6_optlen((struct ipv6_opt_hdr *)
					     (skb->data + thoff));
		}
		skb_set_transport_header(skb, thoff);
	}
	nfsec_l3_set_len(skb);
}

/* Check and strip the ESP trailer; the ICV is still at the end. */
static int esp_trailer(struct nfsec_sa *sa, struct sk_buff *skb, u8 *nexthdr)
{
	unsigned int hlen = NFSEC_CB(skb)->hlen;
	unsigned int esplen = sizeof(struct ip_esp_hdr) + sa->ivlen;
	unsigned int elen = skb->len - hlen - esplen - sa->icvlen;
	u8 tail[2], pad[255];
	unsigned int i;

	if (skb_copy_bits(skb, skb->len - sa->icvlen - 2, tail, 2))
		return NFSEC_STAT_RX_TOO_SHORT;
	if (tail[0] + 2 > elen)
		return NFSEC_STAT_RX_BAD_TRAILER;
	if (skb_copy_bits(skb, skb->len - sa->icvlen - 2 - tail[0], pad, tail[0]))
		return NFSEC_STAT_RX_TOO_SHORT;
	for (i = 0; i < tail[0]; i++)
		if (pad[i] != i + 1)
			return NFSEC_STAT_RX_BAD_TRAILER;
	*nexthdr = tail[1];
	if (pskb_trim(skb, skb->len - sa->icvlen - 2 - tail[0]))
		return NFSEC_STAT_RX_NO_MEM;
	return 0;
}

/* Tunnel mode: leave the inner packet, checked, at the network header. */
static int decap_tunnel(struct sk_buff *skb, u8 nexthdr)
{
	u8 outer = nfsec_dsfield(skb);
	int drop;

	if (nexthdr != IPPROTO_IPIP && nexthdr != IPPROTO_IPV6)
		return NFSEC_STAT_RX_POLICY_MISMATCH;
	__skb_pull(skb, NFSEC_CB(skb)->hlen);
	skb_reset_network_header(skb);
	drop = nfsec_inner_check(skb, nexthdr == IPPROTO_IPIP ? AF_INET :
							       AF_INET6);
	if (drop)
		return drop;
	nfsec_ecn_decap(skb, outer);
	return 0;
}

/*
 * The decapsulated packet must be what the SA carries: its selector, and
 * in transport mode its peer as the source (the outer header is the
 * packet's own there, and a peer must not speak for another with its SA).
 */
static int sa_carries(struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct nfsec_flow fl;

	if (nfsec_flow_from_skb(skb, &fl))
		return NFSEC_STAT_RX_TOO_SHORT;
	if (sa->mode == NFSEC_MODE_TRANSPORT && !nfsec_addr_any(&sa->saddr) &&
	    !nfsec_addr_eq(&fl.saddr, &sa->saddr))
		return NFSEC_STAT_RX_POLICY_MISMATCH;
	if (!nfsec_sel_match(&sa->sel, &fl))
		return NFSEC_STAT_RX_POLICY_MISMATCH;
	return 0;
}

/*
 * LOCAL_IN and FORWARD, for a packet nfsec decapsulated: the policy of
 * the direction it took must accept the SA it came through. Checked here,
 * after routing, not guessed before (a broadcast, a DNAT). The flow is
 * the packet's as it left the SA, before NAT, as xfrm checks it.
 */
unsigned int nfsec_check_decap(struct nfsec_net *nn, struct sk_buff *skb,
			       u8 dir)
{
	const struct nfsec_rx_id *id = &NFSEC_CB(skb)->id;
	struct nfsec_policy *pol;
	struct nfsec_flow fl;
	struct nfsec_sa *sa;

	sa = nfsec_sa_lookup(nn, id->sa_family, &id->sa_daddr, id->spi,
			     id->sa_proto);
	if (!sa) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_SA_GONE, 1);
		return NF_DROP;
	}
	if (nfsec_flow_from_skb(skb, &fl)) {
		nfsec_count(nn, sa, NFSEC_STAT_RX_TOO_SHORT, 1);
		return NF_DROP;
	}
	nfsec_flow_unnat(skb, &fl);
	pol = nfsec_policy_lookup(nn, dir, &fl);
	if (!pol || pol->action != NFSEC_ACTION_ALLOW || !pol->has_tmpl ||
	    !nfsec_tmpl_match_sa(&pol->tmpl, sa)) {
		nfsec_count(nn, sa, NFSEC_STAT_RX_POLICY_MISMATCH, 1);
		return NF_DROP;
	}
	nfsec_policy_count(pol, skb->len);
	return NF_ACCEPT;
}

/* After PRE_ROUTING: route the inner packet if it has no route yet. */
static int deliver_finish(struct net *net, struct sock *sk,
			  struct sk_buff *skb)
{
	if (nfsec_route_input(skb)) {
		nfsec_count(nfsec_pernet(net), NULL,
			    NFSEC_STAT_RX_POLICY_MISMATCH, 1);
		kfree_skb(skb);
		return NET_RX_DROP;
	}
	return dst_input(skb);
}

/*
 * Re-enter the stack as xfrm4_transport_finish() does: PRE_ROUTING runs
 * again, so conntrack and DNAT see the inner packet, then the route
 * (transport mode keeps its local one unless DNAT dropped it) decides
 * between the local stack and forwarding, where nfsec_check_decap()
 * judges it. From the queue's poll (rxq.c), which holds @sa.
 */
void nfsec_deliver(struct sk_buff *skb, struct nfsec_sa *sa)
{
	struct net_device *dev = skb->dev;
	u8 pf = ip_hdr(skb)->version == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	NFSEC_CB(skb)->id = (struct nfsec_rx_id){
		.sa_daddr = sa->daddr,
		.spi = sa->spi,
		.sa_proto = sa->proto,
		.sa_family = sa->family,
	};
	NF_HOOK(pf, NF_INET_PRE_ROUTING, dev_net(dev), NULL, skb, dev, NULL,
		deliver_finish);
}

/* Mark the packet decapsulated and queue it; false if the queue is full. */
static bool queue(struct nfsec_sa *sa, struct sk_buff *skb)
{
	nf_reset_ct(skb);
	nfsec_set_decap(skb);
	if (sa->mode == NFSEC_MODE_TUNNEL)
		skb_dst_drop(skb);
	return nfsec_rxq_add(sa, skb);
}

/*
 * A SYN that came through @sa: its MSS tells our side what to send back
 * through the reverse SA, so clamp it to what fits the path to the peer.
 */
static void clamp_syn(struct nfsec_sa *sa, struct sk_buff *skb)
{
	unsigned int thoff = nfsec_mss_syn(sa, skb);

	/* The peer is the inbound SA's source. */
	if (thoff)
		nfsec_mss_sa(sa, skb, thoff,
			     nfsec_mtu_to(dev_net(skb->dev), sa, &sa->saddr,
					  skb->dev->mtu));
}

/*
 * After the ICV verified: the replay window and the lifetime move. An SA
 * without integrity (allowed only for tests) has nothing that tells the
 * peer's packets from anyone's: they move nothing.
 */
static int accept_seq(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq)
{
	int drop;

	if (!sa->integrity)
		return 0;
	spin_lock_bh(&sa->lock);
	/* An update copied the window already: it must not miss this one. */
	drop = sa->dead ? NFSEC_STAT_RX_SA_GONE :
	       nfsec_replay_advance(&sa->replay, seq);
	if (!drop)
		nfsec_lft_count(sa, skb->len);
	spin_unlock_bh(&sa->lock);
	if (!drop && NFSEC_CB(skb)->encap)
		nfsec_natt_check_src(sa, skb);
	return drop;
}

/*
 * Inner fragments are reassembled in a queue of the SA's own, never with
 * fragments that came another way, in clear or through another SA: a
 * datagram is delivered as protected only if all of it came through this
 * SA, and its selector is checked on the whole. 0: @skb is the datagram;
 * else ip_defrag() holds or dropped it.
 */
static int reassemble(struct nfsec_sa *sa, struct sk_buff *skb)
{
	nfsec_count(sa->nn, sa, NFSEC_STAT_RX_FRAG_REASM, 1);
	nf_reset_ct(skb);
	return nfsec_defrag(sa->nn->net, skb, sa->frag_user);
}

/* Take off ESP or AH's headers and trailer; what is left is the inner packet. */
static int decap(struct nfsec_sa *sa, struct sk_buff *skb)
{
	u8 nexthdr;
	int drop;

	if (sa->proto == IPPROTO_ESP) {
		drop = esp_trailer(sa, skb, &nexthdr);
		if (drop)
			return drop;
		nfsec_l3_cut(skb, sizeof(struct ip_esp_hdr) + sa->ivlen, nexthdr);
	} else {
		/* nfsec_ah_input() took AH out. */
		nexthdr = skb->data[NFSEC_CB(skb)->nhoff];
	}
	/* RFC 4303 2.6: traffic flow confidentiality padding. */
	if (nexthdr == IPPROTO_NONE)
		return NFSEC_STAT_RX_DUMMY;
	/* Ours to decide, not the outer reassembly's. */
	skb->ignore_df = 0;
	if (sa->mode == NFSEC_MODE_TUNNEL)
		return decap_tunnel(skb, nexthdr);
	if (skb->len <= NFSEC_CB(skb)->hlen)
		return NFSEC_STAT_RX_TOO_SHORT;
	if (NFSEC_CB(skb)->encap && !nfsec_natt_fix_csum(skb))
		return NFSEC_STAT_RX_NO_MEM;
	return 0;
}

static void input_done(struct sk_buff *skb, struct nfsec_sa *sa, u64 seq,
		       void *arg, int err)
{
	struct net_device *dev = skb->dev;
	struct nfsec_net *nn = sa->nn;
	struct nfsec_l3 l3;
	unsigned int len;
	int drop;

	if (err) {
		drop = err == -EBADMSG ? NFSEC_STAT_RX_AUTH_FAIL :
		       err == -EINVAL ? NFSEC_STAT_RX_TOO_SHORT :
		       NFSEC_STAT_RX_CRYPTO_ERROR;
		goto drop;
	}
	drop = accept_seq(sa, skb, seq);
	if (drop)
		goto drop;
	/* What the device summed was the ciphertext. */
	skb->ip_summed = CHECKSUM_NONE;
	drop = decap(sa, skb);
	if (drop)
		goto drop;
	if (nfsec_l3_parse(skb, &l3, false)) {
		drop = NFSEC_STAT_RX_TOO_SHORT;
		goto drop;
	}
	if (l3.frag) {
		err = reassemble(sa, skb);
		if (err) {
			/* Held for the rest, or dropped: counted either way. */
			if (err != -EINPROGRESS)
				nfsec_count(nn, sa, NFSEC_STAT_RX_TOO_SHORT, 1);
			dev_put(dev);
			nfsec_sa_put(sa);
			return;
		}
	}

	/* The completion may run in cryptd's process context. */
	rcu_read_lock_bh();
	drop = sa_carries(sa, skb);
	/* Transport mode keeps what ipv6_rcv() set; IPv4 parses options. */
	if (!drop && (sa->mode == NFSEC_MODE_TUNNEL || l3.family == AF_INET))
		drop = nfsec_inner_cb(skb);
	if (!drop) {
		clamp_syn(sa, skb);
		len = skb->len;
		if (queue(sa, skb)) {
			/* The queue holds the SA and the device now. */
			nfsec_count(nn, sa, NFSEC_STAT_RX_PACKETS, 1);
			nfsec_count(nn, sa, NFSEC_STAT_RX_BYTES, len);
		} else {
			drop = NFSEC_STAT_RX_NO_MEM;
		}
	}
	rcu_read_unlock_bh();
	if (!drop)
		return;
drop:
	nfsec_count(nn, sa, drop, 1);
	if (drop == NFSEC_STAT_RX_DUMMY)
		consume_skb(skb);
	else
		kfree_skb(skb);
	dev_put(dev);
	nfsec_sa_put(sa);
}

/* Before the transform: replay window and hard lifetime. */
static int precheck(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq)
{
	int ret;

	spin_lock_bh(&sa->lock);
	ret = nfsec_replay_check(&sa->replay, seq);
	if (!ret && !nfsec_lft_check(sa))
		ret = NFSEC_STAT_RX_EXPIRED;
	spin_unlock_bh(&sa->lock);
	return ret;
}

/*
 * An ESP or AH packet at skb->data (its network header, reassembled) for
 * @sa, its ESP or AH header at @l3->hlen. Consumes @skb.
 */
void nfsec_input(struct nfsec_sa *sa, struct sk_buff *skb,
		 const struct nfsec_l3 *l3)
{
	struct nfsec_net *nn = sa->nn;
	unsigned int hlen = l3->hlen, hdr, min;
	bool esn = sa->flags & NFSEC_SA_F_ESN;
	__be32 seq_lo;
	u64 seq;
	int err;

	NFSEC_CB(skb)->hlen = hlen;
	NFSEC_CB(skb)->nhoff = l3->nhoff;
	/* The headers must be linear: those in front move over them. */
	hdr = sa->proto == IPPROTO_AH ? sizeof(struct ip_auth_hdr) :
	      sizeof(struct ip_esp_hdr) + sa->ivlen;
	min = sa->proto == IPPROTO_AH ? hdr : hdr + sa->icvlen + 2;
	if (skb->len < hlen + min || !pskb_may_pull(skb, hlen + hdr)) {
		err = NFSEC_STAT_RX_TOO_SHORT;
		goto drop;
	}
	seq_lo = sa->proto == IPPROTO_AH ?
		 ((struct ip_auth_hdr *)(skb->data + hlen))->seq_no :
		 ((struct ip_esp_hdr *)(skb->data + hlen))->seq_no;
	if (sa->proto == IPPROTO_ESP && crypto_aead_blocksize(sa->aead) > 1 &&
	    (skb->len - hlen - sizeof(struct ip_esp_hdr) - sa->ivlen - sa->icvlen) %
	    crypto_aead_blocksize(sa->aead)) {
		err = NFSEC_STAT_RX_TOO_SHORT;
		goto drop;
	}
	seq = nfsec_replay_infer(&sa->replay, ntohl(seq_lo), esn);
	err = precheck(sa, skb, seq);
	if (err)
		goto drop;
	/*
	 * The route may be a noref one, valid only in this RCU section, and
	 * the device must outlive an asynchronous transform.
	 */
	if (!skb_dst_force(skb)) {
		err = NFSEC_STAT_RX_POLICY_MISMATCH;
		goto drop;
	}
	if (!nfsec_sa_hold(sa)) {
		err = NFSEC_STAT_RX_SA_GONE;
		goto drop;
	}
	dev_hold(skb->dev);
	if (sa->proto == IPPROTO_AH)
		err = nfsec_ah_input(sa, skb, seq, input_done, NULL);
	else
		err = nfsec_esp_input(sa, skb, seq, input_done, NULL);
	if (err >= 0 || err == -EINPROGRESS)
		return;
	dev_put(skb->dev);
	nfsec_sa_put(sa);
	err = err == -ENOMEM ? NFSEC_STAT_RX_NO_MEM : NFSEC_STAT_RX_TOO_SHORT;
drop:
	nfsec_count(nn, sa, err, 1);
	kfree_skb(skb);
}
