// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: what differs between IPv4 and IPv6 on the packet path, and only
 * that. Everything else (hooks, transforms, queues) is written once and
 * asks these helpers where the headers are and how to send, route or
 * answer a packet of either family.
 *
 * An IPv6 packet's extension headers are walked here, with a bound: a
 * chain longer than NFSEC_EXTHDR_MAX, a truncated header or a hop-by-hop
 * header anywhere but first is malformed, and its callers drop it with a
 * counter rather than guess what it carries.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv6.h>
#include <net/addrconf.h>
#include <net/dsfield.h>
#include <net/icmp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ipv6_frag.h>
#include <net/route.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include "compat.h"
#include "nfsec.h"

/* Longer chains are malformed to nfsec (RFC 8200 sets no limit). */
#define NFSEC_EXTHDR_MAX	8

static_assert(NFSEC_DEFRAG_DIR > IP6_DEFRAG_CONNTRACK_BRIDGE_IN);

static bool is_exthdr(u8 nexthdr)
{
	return nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING ||
	       nexthdr == NEXTHDR_FRAGMENT || nexthdr == NEXTHDR_DEST;
}

/*
 * Walk the extension headers of the IPv6 packet at the network header.
 * Input (@out false): up to the first header that is none of them, or to
 * a routing header with segments left (the rest is not ours to read), or
 * to the payload of a fragment that is not the first. Output: up to where
 * ESP or AH goes in transport mode (RFC 4303 3.1.1, RFC 4302 3.1.1, as
 * ip6_find_1stfragopt()): after hop-by-hop, routing and the destination
 * options before a routing header, before a fragment header.
 */
static int parse6(const struct sk_buff *skb, struct nfsec_l3 *l3, bool out)
{
	unsigned int noff = skb_network_offset(skb);
	unsigned int off = sizeof(struct ipv6hdr);
	unsigned int nhoff = offsetof(struct ipv6hdr, nexthdr);
	const struct ipv6hdr *ip6h;
	struct ipv6hdr _ip6h;
	bool rthdr = false;
	u8 nexthdr;
	int n;

	ip6h = skb_header_pointer(skb, noff, sizeof(_ip6h), &_ip6h);
	if (!ip6h || ip6h->version != 6)
		return -EINVAL;
	nexthdr = ip6h->nexthdr;
	for (n = 0; is_exthdr(nexthdr); n++) {
		u8 _h[4];
		const u8 *h;
		unsigned int len;

		if (out && (nexthdr == NEXTHDR_FRAGMENT ||
			    (nexthdr == NEXTHDR_DEST && rthdr)))
			break;
		/* RFC 8200 4.1: hop-by-hop only right after the header. */
		if ((nexthdr == NEXTHDR_HOP && n) || n == NFSEC_EXTHDR_MAX)
			return -EINVAL;
		h = skb_header_pointer(skb, noff + off, sizeof(_h), _h);
		if (!h)
			return -EINVAL;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			__be16 frag_off = *(__be16 *)(h + 2);

			len = sizeof(struct frag_hdr);
			l3->frag = true;
			if (frag_off & htons(IP6_OFFSET)) {
				/* No headers in here, only data. */
				l3->later_frag = true;
				nhoff = off;
				nexthdr = h[0];
				off += len;
				break;
			}
		} else {
			len = (h[1] + 1) << 3;
			if (nexthdr == NEXTHDR_ROUTING) {
				rthdr = true;
				/* Segments left: a node on the way, not the end. */
				if (!out && h[3]) {
					l3->routed = true;
					break;
				}
			}
		}
		nhoff = off;
		nexthdr = h[0];
		off += len;
		if (off > skb->len - noff)
			return -EINVAL;
	}
	l3->proto = nexthdr;
	l3->hlen = off;
	l3->nhoff = nhoff;
	return 0;
}

static int parse4(const struct sk_buff *skb, struct nfsec_l3 *l3)
{
	const struct iphdr *iph = ip_hdr(skb);

	l3->proto = iph->protocol;
	l3->hlen = iph->ihl * 4;
	l3->nhoff = offsetof(struct iphdr, protocol);
	l3->frag = ip_is_fragment(iph);
	l3->later_frag = iph->frag_off & htons(IP_OFFSET);
	return 0;
}

/*
 * Fill @l3 for the packet at the network header, of the family its
 * version says (IPv4's header was checked by ip_rcv() or built by us).
 * -EINVAL: a malformed IPv6 header chain.
 */
int nfsec_l3_parse(const struct sk_buff *skb, struct nfsec_l3 *l3, bool out)
{
	memset(l3, 0, sizeof(*l3));
	l3->family = nfsec_skb_family(skb);
	if (l3->family == AF_INET)
		return parse4(skb, l3);
	if (l3->family == AF_INET6)
		return parse6(skb, l3, out);
	return -EINVAL;
}

/* After the packet's length changed: the length fields, and IPv4's checksum. */
void nfsec_l3_set_len(struct sk_buff *skb)
{
	unsigned int len = skb->len - skb_network_offset(skb);

	if (ip_hdr(skb)->version == 4) {
		ip_hdr(skb)->tot_len = htons(len);
		ip_send_check(ip_hdr(skb));
	} else {
		ipv6_hdr(skb)->payload_len = htons(len - sizeof(struct ipv6hdr));
	}
}

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

/* The longest packet a family's length field can describe. */
unsigned int nfsec_l3_max_len(u8 family)
{
	return family == AF_INET6 ? IPV6_MAXPLEN + sizeof(struct ipv6hdr) :
	       IP_MAX_MTU;
}

void nfsec_skb_addr(const struct sk_buff *skb, union nfsec_addr *a, bool dst)
{
	memset(a, 0, sizeof(*a));
	if (ip_hdr(skb)->version == 4)
		a->a4 = dst ? ip_hdr(skb)->daddr : ip_hdr(skb)->saddr;
	else
		a->a6 = dst ? ipv6_hdr(skb)->daddr : ipv6_hdr(skb)->saddr;
}

static bool has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP;
}

/*
 * Only the first fragment carries the ports: those of every fragment are
 * opaque (RFC 4301 7), so that all of a datagram's fragments meet one
 * policy. hooks.c reassembles where a policy names ports.
 */
void nfsec_flow_fill(const struct sk_buff *skb, const struct nfsec_l3 *l3,
		     struct nfsec_flow *fl)
{
	__be16 _ports[2];
	const __be16 *ports;

	memset(fl, 0, sizeof(*fl));
	fl->family = l3->family;
	nfsec_skb_addr(skb, &fl->saddr, false);
	nfsec_skb_addr(skb, &fl->daddr, true);
	fl->proto = l3->proto;
	if (!has_ports(l3->proto) || l3->frag || l3->routed)
		return;
	ports = skb_header_pointer(skb, skb_network_offset(skb) + l3->hlen,
				   sizeof(_ports), _ports);
	if (ports) {
		fl->sport = ports[0];
		fl->dport = ports[1];
	}
}

int nfsec_flow_from_skb(const struct sk_buff *skb, struct nfsec_flow *fl)
{
	struct nfsec_l3 l3;

	if (nfsec_l3_parse(skb, &l3, false))
		return -EINVAL;
	nfsec_flow_fill(skb, &l3, fl);
	return 0;
}

/*
 * The flow of a decapsulated packet as it left its SA: conntrack knows
 * what NAT (DNAT on PRE_ROUTING, say) changed since, as xfrm's policy
 * check asks nf_nat_decode_session().
 */
void nfsec_flow_unnat(const struct sk_buff *skb, struct nfsec_flow *fl)
{
	const struct nf_conntrack_tuple *t;
	enum ip_conntrack_info ctinfo;
	unsigned long dnat, snat;
	struct nf_conn *ct;
	bool ports;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || !(ct->status & IPS_NAT_MASK))
		return;
	t = &ct->tuplehash[CTINFO2DIR(ctinfo)].tuple;
	dnat = CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL ? IPS_DST_NAT :
							  IPS_SRC_NAT;
	snat = dnat ^ IPS_NAT_MASK;
	ports = fl->sport || fl->dport;
	if (ct->status & dnat) {
		memcpy(&fl->daddr, &t->dst.u3, sizeof(fl->daddr));
		if (ports)
			fl->dport = t->dst.u.all;
	}
	if (ct->status & snat) {
		memcpy(&fl->saddr, &t->src.u3, sizeof(fl->saddr));
		if (ports)
			fl->sport = t->src.u.all;
	}
}

/*
 * Reassemble the fragment @skb in queue @user. 0: @skb is the whole
 * datagram now; -EINPROGRESS: held for the rest of it; another error: it
 * was dropped (it overlaps, say), and the caller counts that.
 * ip_defrag() takes its queue's lock without disabling BH, as it runs in
 * softirq; nfsec also calls it from process context (cryptd's completion,
 * a raw socket's fragments on output).
 */
int nfsec_defrag(struct net *net, struct sk_buff *skb, u32 user)
{
	struct nfsec_l3 l3;
	int err;

	local_bh_disable();
	if (ip_hdr(skb)->version == 4)
		err = ip_defrag(net, skb, user);
	else
		err = nf_ct_frag6_gather(net, skb, user);
	local_bh_enable();
	if (err) {
		/* ip_defrag() has consumed it; nf_ct_frag6_gather() not always. */
		if (ip_hdr(skb)->version == 6 && err != -EINPROGRESS)
			kfree_skb(skb);
		return err;
	}
	/* A fragment nf_ct_frag6_gather() would not queue comes back as it was. */
	if (nfsec_l3_parse(skb, &l3, false) || l3.frag) {
		kfree_skb(skb);
		return -EINVAL;
	}
	return 0;
}

/*
 * A packet nfsec decapsulated and delivered: the in and fwd hooks let it
 * through. The control block's flags are u16s whose low bits the kernel
 * uses (up to IPSKB_MULTIPATH and IP6SKB_FAKEJUMBO); the top one is free.
 * It survives from our dst_input() to the hooks: nothing clears it there.
 */
#define NFSEC_SKB_DECAP	BIT(15)
static_assert(NFSEC_SKB_DECAP > IPSKB_MULTIPATH);
static_assert(NFSEC_SKB_DECAP > IP6SKB_FAKEJUMBO);

static u16 *cb_flags(struct sk_buff *skb)
{
	return ip_hdr(skb)->version == 4 ? &IPCB(skb)->flags :
	       &IP6CB(skb)->flags;
}

void nfsec_set_decap(struct sk_buff *skb)
{
	*cb_flags(skb) |= NFSEC_SKB_DECAP;
}

bool nfsec_is_decap(struct sk_buff *skb)
{
	return *cb_flags(skb) & NFSEC_SKB_DECAP;
}

/*
 * What the stack's receive path would have set in the control block of
 * the inner packet of a tunnel, which did not come through ip_rcv() or
 * ipv6_rcv(): IPv4's options (ICMP echoes them; record-route needs the
 * route the packet arrived on), IPv6's offsets. A hop-by-hop header inside
 * a tunnel is left to the stack's parser nfsec cannot call: dropped.
 */
int nfsec_inner_cb(struct sk_buff *skb)
{
	struct ip_options *opt = &IPCB(skb)->opt;
	struct inet6_skb_parm *h6 = IP6CB(skb);

	if (ip_hdr(skb)->version == 6) {
		memset(h6, 0, sizeof(*h6));
		if (ipv6_hdr(skb)->nexthdr == NEXTHDR_HOP)
			return NFSEC_STAT_RX_INNER_HOPOPTS;
		h6->iif = skb->dev->ifindex;
		h6->nhoff = offsetof(struct ipv6hdr, nexthdr);
		return 0;
	}
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	if (ip_hdr(skb)->ihl == 5)
		return 0;
	if (skb_cow(skb, skb_headroom(skb)))
		return NFSEC_STAT_RX_NO_MEM;
	opt->optlen = ip_hdrlen(skb) - sizeof(struct iphdr);
	if (ip_options_compile(dev_net(skb->dev), opt, skb))
		return NFSEC_STAT_RX_TOO_SHORT;
	return 0;
}

/*
 * The inner packet of a tunnel, at the network header and at most @len
 * long: is it a whole packet of the family its SA's next header said?
 * Then trimmed to its own length. ip_rcv() and ipv6_rcv() would have
 * checked the same; the inner packet skips them.
 */
int nfsec_inner_check(struct sk_buff *skb, u8 family)
{
	unsigned int len;

	if (family == AF_INET) {
		const struct iphdr *iph;

		if (!pskb_may_pull(skb, sizeof(*iph)))
			return NFSEC_STAT_RX_TOO_SHORT;
		iph = ip_hdr(skb);
		len = ntohs(iph->tot_len);
		if (iph->version != 4 || iph->ihl < 5 || len > skb->len ||
		    len < iph->ihl * 4 || !pskb_may_pull(skb, iph->ihl * 4))
			return NFSEC_STAT_RX_TOO_SHORT;
		if (ip_fast_csum(ip_hdr(skb), ip_hdr(skb)->ihl))
			return NFSEC_STAT_RX_TOO_SHORT;
	} else {
		if (!pskb_may_pull(skb, sizeof(struct ipv6hdr)))
			return NFSEC_STAT_RX_TOO_SHORT;
		len = ntohs(ipv6_hdr(skb)->payload_len) + sizeof(struct ipv6hdr);
		/* A jumbogram's length is in hop-by-hop: never inside ours. */
		if (ipv6_hdr(skb)->version != 6 || len > skb->len ||
		    !ipv6_hdr(skb)->payload_len)
			return NFSEC_STAT_RX_TOO_SHORT;
	}
	if (pskb_trim(skb, len))
		return NFSEC_STAT_RX_NO_MEM;
	skb->protocol = family == AF_INET ? htons(ETH_P_IP) : htons(ETH_P_IPV6);
	skb_set_transport_header(skb, family == AF_INET ? ip_hdrlen(skb) :
				 sizeof(struct ipv6hdr));
	return 0;
}

/* The packet's DSCP and ECN bits, of either family. */
u8 nfsec_dsfield(const struct sk_buff *skb)
{
	return ip_hdr(skb)->version == 4 ? ipv4_get_dsfield(ip_hdr(skb)) :
	       ipv6_get_dsfield(ipv6_hdr(skb));
}

/*
 * The inner ECN field as a tunnel egress leaves it, RFC 6040 4.2 (Figure
 * 4): outer CE marks an ECN-capable inner packet CE, outer ECT(1) turns
 * inner ECT(0) into ECT(1); a Not-ECT inner packet stays Not-ECT, and
 * MUST be dropped under an outer CE, whose congestion signal its sender
 * could not read. 0, or the drop reason. skb->protocol is the inner one.
 */
int nfsec_ecn_decap(struct sk_buff *skb, u8 outer)
{
	if (INET_ECN_decapsulate(skb, outer, nfsec_dsfield(skb)) == 2)
		return NFSEC_STAT_RX_ECN;
	return 0;
}

/*
 * The route to @sa's peer, from its per-CPU cache when still valid. The
 * cache wants BH off: a local sender runs POST_ROUTING in process context,
 * where a softirq on this CPU could use the same cache slot. NULL if none.
 */
struct dst_entry *nfsec_route_peer(struct net *net, struct nfsec_sa *sa)
{
	u8 proto = sa->encap.type ? IPPROTO_UDP : sa->proto;
	struct dst_entry *dst;

	local_bh_disable();
	if (sa->family == AF_INET) {
		struct flowi4 fl4 = {
			.daddr = sa->daddr.a4,
			.saddr = sa->saddr.a4,
			.flowi4_proto = proto,
			.fl4_sport = sa->encap.sport,
			.fl4_dport = sa->encap.dport,
		};
		struct rtable *rt;
		__be32 saddr;

		rt = dst_cache_get_ip4(&sa->dst_cache, &saddr);
		if (!rt) {
			rt = ip_route_output_key(net, &fl4);
			if (IS_ERR(rt))
				rt = NULL;
			else
				dst_cache_set_ip4(&sa->dst_cache, &rt->dst,
						  fl4.saddr);
		}
		dst = rt ? &rt->dst : NULL;
	} else {
		struct flowi6 fl6 = {
			.daddr = sa->daddr.a6,
			.saddr = sa->saddr.a6,
			.flowi6_proto = proto,
			.fl6_sport = sa->encap.sport,
			.fl6_dport = sa->encap.dport,
		};

		dst = dst_cache_get_ip6(&sa->dst_cache, &fl6.saddr);
		if (!dst) {
			dst = ip6_route_output(net, NULL, &fl6);
			if (dst->error) {
				dst_release(dst);
				dst = NULL;
			} else {
				dst_cache_set_ip6(&sa->dst_cache, dst, &fl6.saddr);
			}
		}
	}
	local_bh_enable();
	return dst;
}

/*
 * The MTU of the route @dst to the peer. The too-big error we send lowers
 * the PMTU of the inner destination's route; where that is the peer's
 * route too (transport mode, or a tunnel between the same two addresses),
 * its PMTU is of our making and would shrink the packets again and again:
 * take the route's own MTU there, as a forwarded packet would.
 */
unsigned int nfsec_peer_mtu(const struct dst_entry *dst, u8 family, bool shared)
{
	if (!shared)
		return dst_mtu(dst);
	return family == AF_INET ? ip_dst_mtu_maybe_forward(dst, true) :
	       ip6_dst_mtu_maybe_forward(dst, true);
}

/*
 * Would the packet at the network header be fragmented on its way, rather
 * than refused? IPv4 without DF; IPv6 never on the way (RFC 8200 5), only
 * by its local sender, which says so with ignore_df.
 */
bool nfsec_may_frag(const struct sk_buff *skb)
{
	if (skb->ignore_df)
		return true;
	return ip_hdr(skb)->version == 4 &&
	       !(ip_hdr(skb)->frag_off & htons(IP_DF));
}

/* Tell the sender of the packet that only @mtu bytes fit. */
void nfsec_send_too_big(struct sk_buff *skb, unsigned int mtu)
{
	if (ip_hdr(skb)->version == 4)
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
	else
		icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, max(mtu, IPV6_MIN_MTU));
}

/*
 * Put @sa's outer header in front of the inner packet at skb->data,
 * routed by @dst (the reference passes to @skb). The headroom is there.
 */
void nfsec_push_outer(struct net *net, struct nfsec_sa *sa,
		      struct sk_buff *skb, struct dst_entry *dst)
{
	bool v4 = ip_hdr(skb)->version == 4;
	u8 inner = v4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	/*
	 * DSCP copied (RFC 4301 5.1.2.1), and the ECN field too, CE
	 * included: RFC 6040 4.1's normal mode (Figure 3), which replaced
	 * RFC 3168 9.1.1's reset of CE to ECT(0) that xfrm still does.
	 */
	u8 ds = nfsec_dsfield(skb);
	/* IPv4's DF copied; IPv6 inside is DF unless its sender said not. */
	bool df = v4 ? !!(ip_hdr(skb)->frag_off & htons(IP_DF)) : !skb->ignore_df;
	__be32 flowlabel = 0;

	/* RFC 6438: the outer flow label from the inner flow's hash. */
	if (sa->family == AF_INET6 && ip6_default_np_autolabel(net))
		flowlabel = (__force __be32)rol32(skb_get_hash(skb), 16) &
			    IPV6_FLOWLABEL_MASK;

	if (sa->family == AF_INET) {
		struct iphdr *iph = skb_push(skb, sizeof(*iph));

		skb_reset_network_header(skb);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = ds;
		iph->frag_off = df ? htons(IP_DF) : 0;
		iph->ttl = ip4_dst_hoplimit(dst);
		iph->protocol = inner;
		iph->saddr = sa->saddr.a4;
		iph->daddr = sa->daddr.a4;
		iph->tot_len = htons(skb->len);
		__ip_select_ident(net, iph, 1);
		ip_send_check(iph);
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h = skb_push(skb, sizeof(*ip6h));

		skb_reset_network_header(skb);
		ip6_flow_hdr(ip6h, ds, flowlabel);
		ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
		ip6h->nexthdr = inner;
		ip6h->hop_limit = ip6_dst_hoplimit(dst);
		ip6h->saddr = sa->saddr.a6;
		ip6h->daddr = sa->daddr.a6;
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		skb->protocol = htons(ETH_P_IPV6);
	}
	skb_dst_drop(skb);
	skb_dst_set(skb, dst);
}

/*
 * Send what nfsec produced through LOCAL_OUT and POST_ROUTING, as xfrm
 * does in either mode, so that the firewall judges and counts it. Marked
 * as transformed, it is never transformed again.
 */
void nfsec_local_out(struct net *net, struct sk_buff *skb)
{
	if (ip_hdr(skb)->version == 4) {
		IPCB(skb)->flags |= IPSKB_XFRM_TRANSFORMED;
		nfsec_skb_route_mtu(skb);
		ip_local_out(net, skb->sk, skb);
	} else {
		IP6CB(skb)->flags |= IP6SKB_XFRM_TRANSFORMED;
		/*
		 * Judged against the path already (output.c, fits()). What
		 * IPv6 measures it by is the route's PMTU, which in transport
		 * mode our own packet-too-big lowered to what fits inside
		 * ESP: let the stack fragment it there rather than refuse.
		 */
		skb->ignore_df = 1;
		ip6_local_out(net, skb->sk, skb);
	}
}

bool nfsec_transformed(const struct sk_buff *skb)
{
	if (ip_hdr(skb)->version == 4)
		return IPCB(skb)->flags & IPSKB_XFRM_TRANSFORMED;
	return IP6CB(skb)->flags & IP6SKB_XFRM_TRANSFORMED;
}

/* The route of a decapsulated packet that has none yet. 0 or an error. */
int nfsec_route_input(struct sk_buff *skb)
{
	const struct nf_ipv6_ops *v6ops;

	if (skb_dst(skb))
		return 0;
	if (ip_hdr(skb)->version == 4)
		return ip_route_input_noref(skb, ip_hdr(skb)->daddr,
					    ip_hdr(skb)->saddr,
					    ip_hdr(skb)->tos, skb->dev);
	v6ops = nf_get_ipv6_ops();
	if (!v6ops)
		return -EHOSTUNREACH;
	v6ops->route_input(skb);
	return skb_dst(skb)->error;
}

/* The MTU of the route from us to @sa's peer, or @mtu if there is none. */
unsigned int nfsec_mtu_to(struct net *net, const struct nfsec_sa *sa,
			  const union nfsec_addr *to, unsigned int mtu)
{
	struct dst_entry *dst;

	if (sa->family == AF_INET) {
		struct flowi4 fl4 = { .daddr = to->a4 };
		struct rtable *rt = ip_route_output_key(net, &fl4);

		if (IS_ERR(rt))
			return mtu;
		dst = &rt->dst;
	} else {
		struct flowi6 fl6 = { .daddr = to->a6 };

		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error) {
			dst_release(dst);
			return mtu;
		}
	}
	mtu = dst_mtu(dst);
	dst_release(dst);
	return mtu;
}
