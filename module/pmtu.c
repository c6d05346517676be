// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the path MTU past the first hop.
 *
 * A router further on that cannot forward one of our ESP, AH or
 * ESP-in-UDP packets (DF is copied to the outer header) sends ICMP
 * fragmentation-needed to us, quoting the outer header and at least 8
 * bytes after it. Native xfrm takes it in esp4_err()/ah4_err() and in its
 * encap socket; nfsec looks at it on LOCAL_IN and leaves it to the stack.
 * Anyone can send ICMP, so it is believed only when the quoted source is
 * one of our addresses and the quoted SPI is a live SA of ours between
 * the quoted addresses (and UDP ports). Then the SA's path MTU goes down
 * for as long as the kernel keeps a learnt route PMTU (ip_rt_mtu_expires),
 * and the route PMTU to the peer with it, as xfrm does. The output path
 * takes the lower of the route's MTU and the SA's (nfsec_sa_pmtu()); the
 * SA's is what counts in transport mode, where the route's PMTU is of
 * nfsec's own making (output.c, peer_mtu()).
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/route.h>
#include "nfsec.h"

/* What an ICMP error quotes of one of our packets. */
struct quote {
	__be32 saddr;
	__be32 daddr;
	u8 proto;		/* of the outer header: ESP, AH or UDP */
	__be32 spi;
	struct udphdr uh;	/* ESP in UDP */
};

/*
 * Read the packet quoted at @off. False if it cannot be one of ours: not
 * ESP, AH or UDP, not a first fragment, or UDP carrying IKE (the non-ESP
 * marker). A quote too short to hold the SPI gives SPI 0, no SA's.
 */
static bool read_quote(const struct sk_buff *skb, unsigned int off,
		       struct quote *q)
{
	struct iphdr _iph;
	const struct iphdr *iph;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5 ||
	    iph->frag_off & htons(IP_OFFSET))
		return false;
	q->saddr = iph->saddr;
	q->daddr = iph->daddr;
	q->proto = iph->protocol;
	q->spi = 0;
	off += iph->ihl * 4;
	switch (q->proto) {
	case IPPROTO_AH:
		/* Next header, length and reserved come first. */
		off += 4;
		break;
	case IPPROTO_ESP:
		break;
	case IPPROTO_UDP:
		if (skb_copy_bits(skb, off, &q->uh, sizeof(q->uh)))
			return false;
		off += sizeof(q->uh);
		break;
	default:
		return false;
	}
	skb_copy_bits(skb, off, &q->spi, sizeof(q->spi));
	return q->proto != IPPROTO_UDP || q->spi;
}

/* The live SA that sent the quoted packet, or NULL. RCU reader. */
static struct nfsec_sa *quoted_sa(struct nfsec_net *nn, const struct quote *q)
{
	bool udp = q->proto == IPPROTO_UDP;
	struct nfsec_sa *sa;

	/*
	 * Only a packet we sent can have been refused on our way: its source
	 * is one of our addresses. A quote of the peer's packet to us names
	 * an inbound SA, which sends nothing.
	 */
	if (inet_addr_type(nn->net, q->saddr) != RTN_LOCAL)
		return NULL;
	sa = nfsec_sa_lookup(nn, AF_INET, NFSEC_ADDR4(q->daddr), q->spi,
			     udp ? IPPROTO_ESP : q->proto);
	/* An SA without a source sends from any of ours. */
	if (!sa || READ_ONCE(sa->dead) ||
	    (sa->saddr.a4 && sa->saddr.a4 != q->saddr))
		return NULL;
	if (!sa->encap.type != !udp)
		return NULL;
	if (udp && (q->uh.source != sa->encap.sport ||
		    q->uh.dest != sa->encap.dport))
		return NULL;
	return sa;
}

/* Lower @sa's path MTU to @mtu, or refresh it; never raise it. */
static void lower_sa(struct net *net, struct nfsec_sa *sa, u32 mtu)
{
	unsigned long expires = jiffies + READ_ONCE(net->ipv4.ip_rt_mtu_expires);

	spin_lock_bh(&sa->lock);
	if (mtu <= nfsec_sa_pmtu(sa)) {
		WRITE_ONCE(sa->pmtu_expires, expires);
		WRITE_ONCE(sa->pmtu, mtu);
	}
	spin_unlock_bh(&sa->lock);
}

/*
 * The route PMTU to the peer, as esp4_err() sets it. In transport mode our
 * own sockets to the peer share that route: they get the MTU left inside
 * ESP, what xfrm's bundle shows them and what nfsec's frag-needed would
 * tell them next. ipv4_update_pmtu() reads the quoted header at
 * skb->data, where an error handler has it.
 */
static void lower_route(struct net *net, const struct nfsec_sa *sa,
			struct sk_buff *skb, unsigned int off, u32 mtu, u8 proto)
{
	if (sa->mode == NFSEC_MODE_TRANSPORT)
		mtu = nfsec_inner_mtu(sa, mtu);
	if (!pskb_may_pull(skb, off + sizeof(struct iphdr)))
		return;
	__skb_pull(skb, off);
	ipv4_update_pmtu(skb, net, mtu, 0, proto);
	__skb_push(skb, off);
}

/*
 * LOCAL_IN, an ICMP packet (defragmented). Never consumed: sockets and
 * xfrm's error handlers see it after us.
 */
void nfsec_pmtu_icmp(struct nfsec_net *nn, struct sk_buff *skb)
{
	unsigned int off = ip_hdrlen(skb);
	struct net *net = nn->net;
	struct icmphdr _ih;
	const struct icmphdr *ih;
	struct nfsec_sa *sa;
	struct quote q;
	u32 mtu;

	ih = skb_header_pointer(skb, off, sizeof(_ih), &_ih);
	if (!ih || ih->type != ICMP_DEST_UNREACH ||
	    ih->code != ICMP_FRAG_NEEDED)
		return;
	off += sizeof(*ih);
	mtu = ntohs(ih->un.frag.mtu);
	if (!read_quote(skb, off, &q))
		return;
	sa = quoted_sa(nn, &q);
	if (!sa) {
		/* Quoted UDP is someone else's unless we send ESP in UDP. */
		if (q.proto != IPPROTO_UDP || READ_ONCE(nn->natt_ports_used))
			nfsec_count(nn, NULL, NFSEC_STAT_PMTU_IGNORED, 1);
		return;
	}
	/* The kernel's floor: below it, fragment rather than shrink. */
	mtu = max(mtu, READ_ONCE(net->ipv4.ip_rt_min_pmtu));
	lower_sa(net, sa, mtu);
	nfsec_count(nn, sa, NFSEC_STAT_PMTU_UPDATE, 1);
	lower_route(net, sa, skb, off, mtu, q.proto);
}
