// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: NAT traversal, ESP in UDP (RFC 3948).
 *
 * An SA with encap sends ESP after a UDP header with its ports. Over IPv4
 * the checksum is zero (RFC 3948 2.1: the ICV protects what the checksum
 * would). Over IPv6 a zero checksum is not allowed (RFC 8200 8.1; RFC 6936's
 * exception needs both ends to opt in, and xfrm's esp6 does not): nfsec
 * sums what it sends, as esp6 does, and checks what it receives before
 * the datagram is ESP to it, as the UDP socket of esp6's peer would.
 *
 * Receiving, a UDP datagram is ours only when it goes to the address and
 * port of an encap SA: each such SA registers (its dst, its dport) here,
 * counted, so that every other UDP port stays untouched. On a registered
 * port a single 0xff byte is a NAT keep-alive and is consumed; a datagram
 * that starts with four zero bytes (the non-ESP marker) is IKE and goes on
 * to its socket; anything else is ESP, looked up by SPI. ESP in UDP to an
 * SPI nfsec does not know goes on as well (native xfrm's encap socket may
 * own it), counted as rx_no_sa.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/stddef.h>
#include <linux/udp.h>
#include <linux/netfilter.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/udp.h>
#include "genl.h"
#include "nfsec.h"

struct nfsec_natt_port {
	struct hlist_node node;
	struct rcu_head rcu;
	union nfsec_addr addr;
	u8 family;
	__be16 port;
	unsigned int refs;		/* SAs using it, under nn->lock */
};

static struct hlist_head *port_head(struct nfsec_net *nn,
				    const union nfsec_addr *addr, __be16 port)
{
	u32 h = jhash2((const u32 *)addr, sizeof(*addr) / sizeof(u32),
		       nn->hash_seed ^ (__force u32)port);

	return &nn->natt_ports[hash_32(h, NFSEC_NATT_BITS)];
}

static struct nfsec_natt_port *port_find(struct nfsec_net *nn, u8 family,
					 const union nfsec_addr *addr,
					 __be16 port)
{
	struct nfsec_natt_port *p;

	hlist_for_each_entry_rcu(p, port_head(nn, addr, port), node,
				 lockdep_is_held(&nn->lock))
		if (p->family == family && nfsec_addr_eq(&p->addr, addr) &&
		    p->port == port)
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
	p = port_find(nn, sa->family, &sa->daddr, sa->encap.dport);
	if (p) {
		p->refs++;
		return 0;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->addr = sa->daddr;
	p->family = sa->family;
	p->port = sa->encap.dport;
	p->refs = 1;
	hlist_add_head_rcu(&p->node, port_head(nn, &p->addr, p->port));
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
	p = port_find(nn, sa->family, &sa->daddr, sa->encap.dport);
	if (WARN_ON_ONCE(!p) || --p->refs)
		return;
	hlist_del_rcu(&p->node);
	WRITE_ONCE(nn->natt_ports_used, nn->natt_ports_used - 1);
	kfree_rcu(p, rcu);
}

/*
 * The UDP header in front of the ESP header at @off; @skb is complete.
 * IPv6's checksum waits for the ciphertext: nfsec_natt_out_csum().
 */
void nfsec_natt_encap(const struct nfsec_sa *sa, struct sk_buff *skb,
		      unsigned int off)
{
	struct udphdr *uh = (void *)(skb->data + off);

	uh->source = sa->encap.sport;
	uh->dest = sa->encap.dport;
	uh->len = htons(skb->len - off);
	uh->check = 0;
}

/* The encrypted ESP-in-UDP packet at skb->data, UDP at the transport header. */
void nfsec_natt_out_csum(struct sk_buff *skb)
{
	struct ipv6hdr *ip6h = ipv6_hdr(skb);

	if (ip6h->version == 6)
		udp6_set_csum(false, skb, &ip6h->saddr, &ip6h->daddr,
			      skb->len - skb_transport_offset(skb));
}

/*
 * Take the UDP header out, leaving the ESP packet as it would have
 * arrived without NAT-T; the datagram's source port goes to the skb's
 * control block for the check after the ICV (nfsec_natt_check_src()).
 */
static int strip_udp(struct sk_buff *skb, struct nfsec_l3 *l3,
		     const struct udphdr *uh)
{
	__be16 sport = uh->source;

	if (ntohs(uh->len) != skb->len - l3->hlen)
		return NFSEC_STAT_RX_TOO_SHORT;
	/*
	 * Zero is no checksum, not one: a sum that verifies would let it
	 * through where the right one is 0xffff, its other form.
	 */
	if (l3->family == AF_INET6 &&
	    (!uh->check ||
	     nf_checksum(skb, NF_INET_LOCAL_IN, l3->hlen, IPPROTO_UDP, AF_INET6)))
		return NFSEC_STAT_RX_BAD_CSUM;
	/* A tap (tcpdump) may share the header we are about to move. */
	if (skb_ensure_writable(skb, l3->hlen + sizeof(*uh)))
		return NFSEC_STAT_RX_NO_MEM;
	NFSEC_CB(skb)->hlen = l3->hlen;
	NFSEC_CB(skb)->nhoff = l3->nhoff;
	nfsec_l3_cut(skb, sizeof(*uh), IPPROTO_ESP);
	l3->proto = IPPROTO_ESP;
	NFSEC_CB(skb)->encap = true;
	NFSEC_CB(skb)->encap_sport = sport;
	return 0;
}

/* The UDP header of @skb if it is to the address and port of an encap SA. */
static const struct udphdr *natt_udp(struct nfsec_net *nn,
				     const struct sk_buff *skb,
				     const struct nfsec_l3 *l3,
				     struct udphdr *buf)
{
	const struct udphdr *uh;
	union nfsec_addr daddr;

	if (!READ_ONCE(nn->natt_ports_used))
		return NULL;
	uh = skb_header_pointer(skb, l3->hlen, sizeof(*buf), buf);
	if (!uh)
		return NULL;
	nfsec_skb_addr(skb, &daddr, true);
	return port_find(nn, l3->family, &daddr, uh->dest) ? uh : NULL;
}

/* Is @skb, a UDP datagram, to the address and port of an encap SA? */
bool nfsec_natt_port(struct nfsec_net *nn, const struct sk_buff *skb,
		     const struct nfsec_l3 *l3)
{
	struct udphdr _uh;

	return natt_udp(nn, skb, l3, &_uh);
}

/*
 * Is @addr, @port the address and port of an encap SA: does nfsec send
 * ESP in UDP there (or receive it)? RCU reader.
 */
bool nfsec_natt_flow(struct nfsec_net *nn, u8 family,
		     const union nfsec_addr *addr, __be16 port)
{
	return READ_ONCE(nn->natt_ports_used) &&
	       port_find(nn, family, addr, port);
}

/*
 * LOCAL_IN, a UDP datagram (defragmented, its UDP header not checked
 * yet). NF_ACCEPT: not ours, the stack goes on; NF_STOLEN: consumed.
 */
unsigned int nfsec_natt_rcv(struct nfsec_net *nn, struct sk_buff *skb,
			    struct nfsec_l3 *l3)
{
	unsigned int len = skb->len - l3->hlen;
	const struct udphdr *uh;
	union nfsec_addr daddr;
	struct udphdr _uh;
	struct nfsec_sa *sa;
	__be32 _w, *w;
	int drop;

	uh = natt_udp(nn, skb, l3, &_uh);
	if (!uh)
		return NF_ACCEPT;
	len -= sizeof(*uh);
	w = skb_header_pointer(skb, l3->hlen + sizeof(*uh), min(len, 4u), &_w);
	if (len == 1 && *(u8 *)w == 0xff) {
		nfsec_count(nn, NULL, NFSEC_STAT_NATT_KEEPALIVE, 1);
		consume_skb(skb);
		return NF_STOLEN;
	}
	/* IKE behind its non-ESP marker, or too short to be either. */
	if (len < sizeof(struct ip_esp_hdr) || !*w)
		return NF_ACCEPT;
	nfsec_skb_addr(skb, &daddr, true);
	sa = nfsec_sa_lookup(nn, l3->family, &daddr, *w, IPPROTO_ESP);
	if (!sa) {
		nfsec_count(nn, NULL, NFSEC_STAT_RX_NO_SA, 1);
		return NF_ACCEPT;
	}
	/* RFC 3948 depends on the SA: ESP in UDP only where it says so. */
	if (!sa->encap.type || sa->encap.dport != uh->dest)
		drop = NFSEC_STAT_RX_POLICY_MISMATCH;
	else
		drop = strip_udp(skb, l3, uh);
	if (drop) {
		nfsec_count(nn, sa, drop, 1);
		kfree_skb(skb);
		return NF_STOLEN;
	}
	nfsec_input(sa, skb, l3);
	return NF_STOLEN;
}

/* A new mapping is told at once, the same one again after a second. */
#define MAP_HOLDOFF HZ

struct mapping {
	struct work_struct work;
	struct nfsec_sa *sa;		/* held */
	union nfsec_addr addr;
	__be16 port;
};

static void mapping_work(struct work_struct *work)
{
	struct mapping *m = container_of(work, struct mapping, work);
	struct nfsec_net *nn = m->sa->nn;

	mutex_lock(&nn->lock);
	/* Deleted or replaced meanwhile: the daemon knows better now. */
	if (!READ_ONCE(m->sa->dead))
		nfsec_nl_sa_mapping(nn, m->sa, &m->addr, m->port);
	mutex_unlock(&nn->lock);
	nfsec_sa_put(m->sa);
	kfree(m);
}

static bool mapping_due(struct nfsec_sa *sa, const union nfsec_addr *addr,
			__be16 port)
{
	unsigned long now = jiffies;
	bool due;

	spin_lock_bh(&sa->lock);
	due = !nfsec_addr_eq(addr, &sa->map_addr) || port != sa->map_port ||
	      time_after_eq(now, sa->map_next);
	if (due) {
		sa->map_addr = *addr;
		sa->map_port = port;
		sa->map_next = now + MAP_HOLDOFF;
	}
	spin_unlock_bh(&sa->lock);
	return due;
}

/* Tell the keying daemon, from a work item: events need nn->lock. */
static void mapping(struct nfsec_sa *sa, const union nfsec_addr *addr,
		    __be16 port)
{
	struct mapping *m;

	if (!mapping_due(sa, addr, port))
		return;
	m = kzalloc(sizeof(*m), GFP_ATOMIC);
	if (!m)
		return;
	if (!nfsec_sa_hold(sa)) {
		kfree(m);
		return;
	}
	INIT_WORK(&m->work, mapping_work);
	m->sa = sa;
	m->addr = *addr;
	m->port = port;
	queue_work(nfsec_wq, &m->work);
}

/*
 * After the ICV verified: did the datagram come from where the SA says
 * the peer is? A NAT that rebinds moves the peer; nfsec keeps the packet
 * (it is authentic), counts, and tells the keying daemon (SA_MAPPING),
 * which moves the outbound SA with sa update, as xfrm's new mapping.
 */
void nfsec_natt_check_src(struct nfsec_sa *sa, const struct sk_buff *skb)
{
	union nfsec_addr saddr;
	__be16 sport = NFSEC_CB(skb)->encap_sport;

	nfsec_skb_addr(skb, &saddr, false);
	if (nfsec_addr_eq(&saddr, &sa->saddr) && sport == sa->encap.sport)
		return;
	nfsec_count(sa->nn, sa, NFSEC_STAT_NATT_UNEXPECTED_SRC, 1);
	mapping(sa, &saddr, sport);
}

/*
 * Transport mode: the TCP or UDP checksum covers addresses that a NAT
 * rewrote on the way, on either side. RFC 3948 3.1.2 lets the receiver
 * recompute it; the ICV has vouched for every byte it covers. False if
 * the header could not be made linear.
 */
bool nfsec_natt_fix_csum(struct sk_buff *skb)
{
	unsigned int thoff = NFSEC_CB(skb)->hlen, len = skb->len - thoff;
	bool v6 = ip_hdr(skb)->version == 6;
	struct nfsec_l3 l3;
	unsigned int hlen, coff;
	__sum16 *check;
	__wsum csum;

	if (nfsec_l3_parse(skb, &l3, false) || l3.frag || l3.hlen != thoff)
		return true;
	if (l3.proto == IPPROTO_TCP) {
		hlen = sizeof(struct tcphdr);
		coff = offsetof(struct tcphdr, check);
	} else if (l3.proto == IPPROTO_UDP) {
		hlen = sizeof(struct udphdr);
		coff = offsetof(struct udphdr, check);
	} else {
		return true;
	}
	if (len < hlen)
		return true;
	if (!pskb_may_pull(skb, thoff + hlen))
		return false;
	check = (__sum16 *)(skb->data + thoff + coff);
	/* An IPv4 UDP sender that did not sum asked for no check. */
	if (l3.proto == IPPROTO_UDP && !v6 && !*check)
		return true;
	*check = 0;
	csum = skb_checksum(skb, thoff, len, 0);
	if (v6)
		*check = csum_ipv6_magic(&ipv6_hdr(skb)->saddr,
					 &ipv6_hdr(skb)->daddr, len, l3.proto,
					 csum);
	else
		*check = csum_tcpudp_magic(ip_hdr(skb)->saddr,
					   ip_hdr(skb)->daddr, len, l3.proto,
					   csum);
	if (l3.proto == IPPROTO_UDP && !*check)
		*check = CSUM_MANGLED_0;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	return true;
}
