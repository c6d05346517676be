// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: NAT traversal, ESP in UDP (RFC 3948).
 *
 * An SA with encap sends ESP after a UDP header with its ports and a zero
 * checksum (the ICV protects what the checksum would). Receiving, a UDP
 * datagram is ours only when it goes to the address and port of an
 * encap SA: each such SA registers (its dst, its dport) here, counted, so
 * that every other UDP port stays untouched. On a registered port a
 * single 0xff byte is a NAT keep-alive and is consumed; a datagram that
 * starts with four zero bytes (the non-ESP marker) is IKE and goes on to
 * its socket; anything else is ESP, looked up by SPI. ESP in UDP to an
 * SPI nfsec does not know goes on as well (native xfrm's encap socket may
 * own it), counted as rx_no_sa.
 */
#include <linux/ip.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/stddef.h>
#include <linux/udp.h>
#include <linux/netfilter.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/udp.h>
#include "nfsec.h"

struct nfsec_natt_port {
	struct hlist_node node;
	struct rcu_head rcu;
	__be32 addr;
	__be16 port;
	unsigned int refs;		/* SAs using it, under nn->lock */
};

static struct hlist_head *port_head(struct nfsec_net *nn, __be32 addr,
				    __be16 port)
{
	u32 h = jhash_2words((__force u32)addr, (__force u32)port, nn->hash_seed);

	return &nn->natt_ports[hash_32(h, NFSEC_NATT_BITS)];
}

static struct nfsec_natt_port *port_find(struct nfsec_net *nn, __be32 addr,
					 __be16 port)
{
	struct nfsec_natt_port *p;

	hlist_for_each_entry_rcu(p, port_head(nn, addr, port), node,
				 lockdep_is_held(&nn->lock))
		if (p->addr == addr && p->port == port)
			return p;
	return NULL;
}

/* An encap SA comes into the database: receive on its port. */
int nfsec_natt_port_get(struct nfsec_net *nn, const struct nfsec_sa *sa)
{
	struct nfsec_natt_port *p;

	lockdep_assert_held(&nn->lock);
	if (!sa->encap.type)
		return 0;
	p = port_find(nn, sa->daddr.a4, sa->encap.dport);
	if (p) {
		p->refs++;
		return 0;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->addr = sa->daddr.a4;
	p->port = sa->encap.dport;
	p->refs = 1;
	hlist_add_head_rcu(&p->node, port_head(nn, p->addr, p->port));
	WRITE_ONCE(nn->natt_ports_used, nn->natt_ports_used + 1);
	return 0;
}

/* ... and leaves it. */
void nfsec_natt_port_put(struct nfsec_net *nn, const struct nfsec_sa *sa)
{
	struct nfsec_natt_port *p;

	lockdep_assert_held(&nn->lock);
	if (!sa->encap.type)
		return;
	p = port_find(nn, sa->daddr.a4, sa->encap.dport);
	if (WARN_ON_ONCE(!p) || --p->refs)
		return;
	hlist_del_rcu(&p->node);
	WRITE_ONCE(nn->natt_ports_used, nn->natt_ports_used - 1);
	kfree_rcu(p, rcu);
}

/* The UDP header in front of the ESP header at @off; @skb is complete. */
void nfsec_natt_encap(const struct nfsec_sa *sa, struct sk_buff *skb,
		      unsigned int off)
{
	struct udphdr *uh = (void *)(skb->data + off);

	uh->source = sa->encap.sport;
	uh->dest = sa->encap.dport;
	uh->len = htons(skb->len - off);
	/* RFC 3948 2.1: zero, the ESP ICV protects the datagram. */
	uh->check = 0;
	ip_hdr(skb)->protocol = IPPROTO_UDP;
}

/*
 * Take the UDP header out, leaving the ESP packet as it would have
 * arrived without NAT-T; the datagram's source port goes to the skb's
 * control block for the check after the ICV (nfsec_natt_check_src()).
 */
static int strip_udp(struct sk_buff *skb, const struct udphdr *uh)
{
	unsigned int ihl = ip_hdrlen(skb);
	__be16 sport = uh->source;
	struct iphdr *iph;

	if (ntohs(uh->len) != skb->len - ihl)
		return NFSEC_STAT_RX_TOO_SHORT;
	/* A tap (tcpdump) may share the header we are about to move. */
	if (skb_ensure_writable(skb, ihl + sizeof(*uh)))
		return NFSEC_STAT_RX_NO_MEM;
	memmove(skb->data + sizeof(*uh), skb->data, ihl);
	__skb_pull(skb, sizeof(*uh));
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, ihl);
	iph = ip_hdr(skb);
	iph->protocol = IPPROTO_ESP;
	iph->tot_len = htons(skb->len);
	ip_send_check(iph);
	NFSEC_CB(skb)->encap = true;
	NFSEC_CB(skb)->encap_sport = sport;
	return 0;
}

/* Is @skb, a UDP datagram, to the address and port of an encap SA? */
bool nfsec_natt_port(struct nfsec_net *nn, const struct sk_buff *skb)
{
	struct udphdr _uh;
	const struct udphdr *uh;

	if (!READ_ONCE(nn->natt_ports_used))
		return false;
	uh = skb_header_pointer(skb, ip_hdrlen(skb), sizeof(_uh), &_uh);
	return uh && port_find(nn, ip_hdr(skb)->daddr, uh->dest);
}

/*
 * LOCAL_IN, a UDP datagram (defragmented, its UDP header not checked
 * yet). NF_ACCEPT: not ours, the stack goes on; NF_STOLEN: consumed.
 */
unsigned int nfsec_natt_rcv(struct nfsec_net *nn, struct sk_buff *skb)
{
	unsigned int off = ip_hdrlen(skb), len = skb->len - off;
	struct udphdr _uh, *uh;
	struct nfsec_sa *sa;
	__be32 _w, *w;
	int drop;

	if (!READ_ONCE(nn->natt_ports_used))
		return NF_ACCEPT;
	uh = skb_header_pointer(skb, off, sizeof(_uh), &_uh);
	if (!uh || !port_find(nn, ip_hdr(skb)->daddr, uh->dest))
		return NF_ACCEPT;
	len -= sizeof(*uh);
	w = skb_header_pointer(skb, off + sizeof(*uh), min(len, 4u), &_w);
	if (len == 1 && *(u8 *)w == 0xff) {
		nfsec_count(nn, NULL, NFSEC_STAT_NATT_KEEPALIVE, 1);
		consume_skb(skb);
		return NF_STOLEN;
	}
	/* IKE behind its non-ESP marker, or too short to be either. */
	if (len < sizeof(struct ip_esp_hdr) || !*w)
		return NF_ACCEPT;
	sa = nfsec_sa_lookup(nn, AF_INET, NFSEC_ADDR4(ip_hdr(skb)->daddr), *w,
			     IPPROTO_ESP);
	if (!sa) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_NO_SA, 1);
		return NF_ACCEPT;
	}
	/* RFC 3948 depends on the SA: ESP in UDP only where it says so. */
	if (!sa->encap.type || sa->encap.dport != uh->dest)
		drop = NFSEC_STAT_RX_POLICY_MISMATCH;
	else
		drop = strip_udp(skb, uh);
	if (drop) {
		nfsec_count(nn, sa, drop, 1);
		kfree_skb(skb);
		return NF_STOLEN;
	}
	nfsec_input(sa, skb);
	return NF_STOLEN;
}

/*
 * After the ICV verified: did the datagram come from where the SA says
 * the peer is? A NAT that rebinds moves the peer; nfsec keeps the packet
 * (it is authentic) and counts, and the keying daemon, which watches the
 * counter or its own IKE traffic, moves the outbound SA with sa update.
 */
void nfsec_natt_check_src(struct nfsec_sa *sa, const struct sk_buff *skb)
{
	if (ip_hdr(skb)->saddr != sa->saddr.a4 ||
	    NFSEC_CB(skb)->encap_sport != sa->encap.sport)
		nfsec_count(sa->nn, sa, NFSEC_STAT_NATT_UNEXPECTED_SRC, 1);
}

/*
 * Transport mode: the TCP or UDP checksum covers addresses that a NAT
 * rewrote on the way, on either side. RFC 3948 3.1.2 lets the receiver
 * recompute it; the ICV has vouched for every byte it covers. False if
 * the header could not be made linear.
 */
bool nfsec_natt_fix_csum(struct sk_buff *skb)
{
	unsigned int thoff = ip_hdrlen(skb), len = skb->len - thoff;
	u8 proto = ip_hdr(skb)->protocol;
	unsigned int hlen, coff;
	__sum16 *check;
	__wsum csum;

	if (proto == IPPROTO_TCP) {
		hlen = sizeof(struct tcphdr);
		coff = offsetof(struct tcphdr, check);
	} else if (proto == IPPROTO_UDP) {
		hlen = sizeof(struct udphdr);
		coff = offsetof(struct udphdr, check);
	} else {
		return true;
	}
	if (ip_is_fragment(ip_hdr(skb)) || len < hlen)
		return true;
	if (!pskb_may_pull(skb, thoff + hlen))
		return false;
	check = (__sum16 *)(skb->data + thoff + coff);
	/* A UDP sender that did not sum asked for no check. */
	if (proto == IPPROTO_UDP && !*check)
		return true;
	*check = 0;
	csum = skb_checksum(skb, thoff, len, 0);
	*check = csum_tcpudp_magic(ip_hdr(skb)->saddr, ip_hdr(skb)->daddr, len,
				   proto, csum);
	if (proto == IPPROTO_UDP && !*check)
		*check = CSUM_MANGLED_0;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	return true;
}
