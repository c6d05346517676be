// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the path MTU past the first hop.
 *
 * A router further on that cannot forward one of our ESP, AH or
 * ESP-in-UDP packets (DF is copied to an outer IPv4 header; IPv6 routers
 * never fragment) sends ICMP fragmentation-needed or ICMPv6 packet-too-big
 * to us, quoting the outer header and at least 8 bytes after it. Native
 * xfrm takes it in esp4_err()/esp6_err() and the like, and in its encap
 * socket; nfsec looks at it on LOCAL_IN and leaves it to the stack, but
 * for a quote of ESP in UDP on an encap SA's flow that it does not
 * believe: the kernel's UDP error handler lowers the route PMTU on any
 * quote of UDP, socket or none (6.12), so that one goes no further.
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
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include "nfsec.h"

/* What an ICMP error quotes of one of our packets. */
struct quote {
	u8 family;
	union nfsec_addr saddr;
	union nfsec_addr daddr;
	u8 proto;		/* after the outer header: ESP, AH or UDP */
	unsigned int hlen;	/* of the outer header */
	__be32 spi;
	struct udphdr uh;	/* ESP in UDP */
};

/* The quoted header at @off: IPv4, a first fragment. */
static bool quote_ip4(const struct sk_buff *skb, unsigned int off,
		      struct quote *q)
{
	struct iphdr _iph;
	const struct iphdr *iph;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5 ||
	    iph->frag_off & htons(IP_OFFSET))
		return false;
	q->saddr.a4 = iph->saddr;
	q->daddr.a4 = iph->daddr;
	q->proto = iph->protocol;
	q->hlen = iph->ihl * 4;
	return true;
}

/*
 * IPv6, past the extension headers nfsec puts in front of ESP (none of
 * its own; a quote carries what the router saw): a few, then give up.
 */
static bool quote_ip6(const struct sk_buff *skb, unsigned int off,
		      struct quote *q)
{
	struct ipv6hdr _ip6h;
	const struct ipv6hdr *ip6h;
	unsigned int len = sizeof(*ip6h);
	u8 _h[2], nexthdr;
	const u8 *h;
	int n;

	ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
	if (!ip6h || ip6h->version != 6)
		return false;
	q->saddr.a6 = ip6h->saddr;
	q->daddr.a6 = ip6h->daddr;
	nexthdr = ip6h->nexthdr;
	for (n = 0; n < 4; n++) {
		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST)
			break;
		h = skb_header_pointer(skb, off + len, sizeof(_h), _h);
		if (!h)
			return false;
		nexthdr = h[0];
		len += (h[1] + 1) << 3;
	}
	q->proto = nexthdr;
	q->hlen = len;
	return true;
}

/*
 * Read the packet quoted at @off. False if it cannot be one of ours: not
 * ESP, AH or UDP, not a first fragment, or UDP carrying IKE (the non-ESP
 * marker). A quote too short to hold the SPI gives SPI 0, no SA's.
 */
static bool read_quote(const struct sk_buff *skb, unsigned int off,
		       struct quote *q, u8 family)
{
	memset(q, 0, sizeof(*q));
	q->family = family;
	if (q->family == AF_INET ? !quote_ip4(skb, off, q) :
				   !quote_ip6(skb, off, q))
		return false;
	off += q->hlen;
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

/* Only a packet we sent can have been refused on our way. */
static bool ours(struct net *net, const struct quote *q)
{
	if (q->family == AF_INET)
		return inet_addr_type(net, q->saddr.a4) == RTN_LOCAL;
	return ipv6_chk_addr(net, &q->saddr.a6, NULL, 0);
}

/* The live SA that sent the quoted packet, or NULL. RCU reader. */
static struct nfsec_sa *quoted_sa(struct nfsec_net *nn, const struct quote *q)
{
	bool udp = q->proto == IPPROTO_UDP;
	struct nfsec_sa *sa;

	/* A quote of the peer's packet to us names an inbound SA: no. */
	if (!ours(nn->net, q))
		return NULL;
	sa = nfsec_sa_lookup(nn, q->family, &q->daddr, q->spi,
			     udp ? IPPROTO_ESP : q->proto);
	/* An SA without a source sends from any of ours. */
	if (!sa || READ_ONCE(sa->dead) ||
	    (!nfsec_addr_any(&sa->saddr) &&
	     !nfsec_addr_eq(&sa->saddr, &q->saddr)))
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
	unsigned long expires = jiffies + (sa->family == AF_INET ?
		READ_ONCE(net->ipv4.ip_rt_mtu_expires) :
		READ_ONCE(net->ipv6.sysctl.ip6_rt_mtu_expires));

	spin_lock_bh(&sa->lock);
	if (mtu <= nfsec_sa_pmtu(sa)) {
		WRITE_ONCE(sa->pmtu_expires, expires);
		WRITE_ONCE(sa->pmtu, mtu);
	}
	spin_unlock_bh(&sa->lock);
}

/*
 * The route PMTU to the peer, as esp4_err() and esp6_err() set it. In
 * transport mode our own sockets to the peer share that route: they get
 * the MTU left inside ESP, what xfrm's bundle shows them and what nfsec's
 * too-big error would tell them next. The update functions read the
 * quoted header at skb->data, where an error handler has it.
 */
static void lower_route(struct net *net, const struct nfsec_sa *sa,
			struct sk_buff *skb, unsigned int off, u32 mtu, u8 proto)
{
	unsigned int hlen = sa->family == AF_INET ? sizeof(struct iphdr) :
			    sizeof(struct ipv6hdr);

	if (sa->mode == NFSEC_MODE_TRANSPORT)
		mtu = nfsec_inner_mtu(sa, mtu, sa->family);
	if (!pskb_may_pull(skb, off + hlen))
		return;
	__skb_pull(skb, off);
	if (sa->family == AF_INET)
		ipv4_update_pmtu(skb, net, mtu, 0, proto);
	else
		ip6_update_pmtu(skb, net, htonl(mtu), 0, 0,
				sock_net_uid(net, NULL));
	__skb_push(skb, off);
}

/*
 * The MTU an ICMP(v6) error at @off (its ICMP header) reports about a
 * packet of ours: fragmentation-needed or packet-too-big. 0: not one.
 */
static u32 too_big_mtu(const struct sk_buff *skb, unsigned int off, u8 family)
{
	struct icmphdr _ih;
	const struct icmphdr *ih;

	/* Both headers: type, code, checksum, then the MTU's word. */
	ih = skb_header_pointer(skb, off, sizeof(_ih), &_ih);
	if (!ih)
		return 0;
	if (family == AF_INET)
		return ih->type == ICMP_DEST_UNREACH &&
		       ih->code == ICMP_FRAG_NEEDED ? ntohs(ih->un.frag.mtu) : 0;
	return ih->type == ICMPV6_PKT_TOOBIG ? ntohl(ih->un.gateway) : 0;
}

/*
 * LOCAL_IN, an ICMP or ICMPv6 packet (defragmented), its header at
 * @l3->hlen. True: drop it. Else sockets and xfrm's error handlers see it
 * after us.
 */
bool nfsec_pmtu_icmp(struct nfsec_net *nn, struct sk_buff *skb,
		     const struct nfsec_l3 *l3)
{
	unsigned int off = l3->hlen;
	struct net *net = nn->net;
	struct nfsec_sa *sa;
	struct quote q;
	u32 mtu;

	mtu = too_big_mtu(skb, off, l3->family);
	if (!mtu)
		return false;
	off += sizeof(struct icmphdr);
	if (!read_quote(skb, off, &q, l3->family))
		return false;
	sa = quoted_sa(nn, &q);
	if (!sa) {
		/* Quoted UDP is someone else's unless we send ESP in UDP. */
		if (q.proto != IPPROTO_UDP || READ_ONCE(nn->natt_ports_used))
			nfsec_count(nn, NULL, NFSEC_STAT_PMTU_IGNORED, 1);
		/*
		 * ESP in UDP to a peer's port of ours that no SA of ours
		 * sent: the kernel's UDP error handler would lower the
		 * route's PMTU on its word, socket or none (6.12 does), and
		 * xfrm's encap socket would not have believed it either.
		 */
		return q.proto == IPPROTO_UDP &&
		       nfsec_natt_flow(nn, q.family, &q.daddr, q.uh.dest);
	}
	/* The kernel's floor: below it, fragment rather than shrink. */
	if (l3->family == AF_INET)
		mtu = max(mtu, READ_ONCE(net->ipv4.ip_rt_min_pmtu));
	else
		mtu = max_t(u32, mtu, IPV6_MIN_MTU);
	lower_sa(net, sa, mtu);
	nfsec_count(nn, sa, NFSEC_STAT_PMTU_UPDATE, 1);
	lower_route(net, sa, skb, off, mtu, q.proto);
	return false;
}
