// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: TCP MSS clamping, so that TCP through an SA never needs
 * fragmentation.
 *
 * The largest segment that fits the path MTU once encapsulated:
 *
 *   mtu - outer IPv4 or IPv6 header (the packet's own in transport mode)
 *       - UDP (NAT-T) - ESP header - IV - ICV
 *       = room for the encrypted part, a multiple of the cipher block;
 *   rounded down to the block, minus pad length and next header (2),
 *   is the largest ESP payload; minus the inner IPv4 or IPv6 header
 *   (tunnel) and the TCP header, the MSS. IPv6 extension headers are not
 *   counted: TCP's own MSS leaves no room for them either.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/esp.h>
#include <net/ah.h>
#include <net/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include "compat.h"
#include "nfsec.h"

static unsigned int l3_hdr(u8 family)
{
	return family == AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
}

/*
 * The MSS an SA allows for TCP over @family over a path of @mtu bytes; 0
 * if none fits.
 */
unsigned int nfsec_mss_for(const struct nfsec_sa *sa, unsigned int mtu,
			   u8 family)
{
	unsigned int over = l3_hdr(sa->family);
	unsigned int hdrs = sizeof(struct tcphdr);
	unsigned int room;

	if (sa->mode == NFSEC_MODE_TUNNEL)
		hdrs += l3_hdr(family);
	if (sa->encap.type)
		over += sizeof(struct udphdr);
	if (sa->proto == IPPROTO_AH)
		over += nfsec_ah_hdrlen(sa);
	else
		over += sizeof(struct ip_esp_hdr) + sa->ivlen + sa->icvlen;
	if (mtu <= over)
		return 0;
	room = mtu - over;
	if (sa->proto == IPPROTO_ESP) {
		room = rounddown(room, sa->blksize);
		room = room > 2 ? room - 2 : 0;
	}
	return room > hdrs ? room - hdrs : 0;
}

/* The largest @family packet that fits @mtu once encapsulated. */
unsigned int nfsec_inner_mtu(const struct nfsec_sa *sa, unsigned int mtu,
			     u8 family)
{
	unsigned int mss = nfsec_mss_for(sa, mtu, family);

	return mss + sizeof(struct tcphdr) + l3_hdr(family);
}

/*
 * Lower the MSS option of the TCP SYN at @thoff in @skb to @mss. Returns
 * true if it changed; the checksum is updated incrementally.
 */
bool nfsec_mss_clamp(struct sk_buff *skb, unsigned int thoff, u16 mss)
{
	const struct tcphdr *th;
	struct tcphdr _th, *wth;
	unsigned int len, i;
	u8 *opt;
	u16 old;

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	/* Only SYNs carry the option; skip fragments' tails and oddities. */
	if (!th || !th->syn || th->doff * 4 <= sizeof(*th))
		return false;
	len = th->doff * 4;
	if (skb_ensure_writable(skb, thoff + len))
		return false;
	wth = (struct tcphdr *)(skb->data + thoff);
	opt = (u8 *)(wth + 1);
	for (i = 0; i + sizeof(*wth) < len;) {
		if (opt[i] == TCPOPT_EOL)
			break;
		if (opt[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 + sizeof(*wth) >= len || opt[i + 1] < 2 ||
		    i + opt[i + 1] + sizeof(*wth) > len)
			break;
		if (opt[i] == TCPOPT_MSS && opt[i + 1] == TCPOLEN_MSS) {
			old = get_unaligned_be16(opt + i + 2);
			if (old <= mss)
				return false;
			put_unaligned_be16(mss, opt + i + 2);
			inet_proto_csum_replace2(&wth->check, skb, htons(old),
						 htons(mss), false);
			return true;
		}
		i += opt[i + 1];
	}
	return false;
}

/*
 * The offset of the TCP header of @skb (network header at skb->data) when
 * it is a SYN whose MSS @sa clamps, else 0. Cheap, for every packet.
 */
unsigned int nfsec_mss_syn(const struct nfsec_sa *sa, const struct sk_buff *skb)
{
	u8 nexthdr = ipv6_hdr(skb)->nexthdr;
	struct tcphdr _th;
	const struct tcphdr *th;
	struct nfsec_l3 l3;
	unsigned int thoff;

	if (sa->mss == NFSEC_MSS_OFF)
		return 0;
	if (ip_hdr(skb)->version == 4) {
		if (ip_hdr(skb)->protocol != IPPROTO_TCP ||
		    ip_is_fragment(ip_hdr(skb)))
			return 0;
		thoff = ip_hdrlen(skb);
	} else if (nexthdr == IPPROTO_TCP) {
		thoff = sizeof(struct ipv6hdr);
	} else {
		/* Behind extension headers, seldom: walk them. */
		if (!ipv6_ext_hdr(nexthdr) || nfsec_l3_parse(skb, &l3, false) ||
		    l3.proto != IPPROTO_TCP || l3.frag || l3.routed)
			return 0;
		thoff = l3.hlen;
	}
	thoff += skb_network_offset(skb);
	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	return th && th->syn ? thoff : 0;
}

/*
 * Lower the SYN's MSS (TCP header at @thoff) to what @sa allows over a
 * path of @mtu to the peer, or to the SA's fixed value, and count it.
 */
void nfsec_mss_sa(struct nfsec_sa *sa, struct sk_buff *skb,
		  unsigned int thoff, unsigned int mtu)
{
	unsigned int mss = sa->mss ?: nfsec_mss_for(sa, mtu,
						    nfsec_skb_family(skb));

	if (mss && nfsec_mss_clamp(skb, thoff, mss))
		nfsec_count(sa->nn, sa, NFSEC_STAT_MSS_CLAMPED, 1);
}

#ifdef DEBUG
bool __init nfsec_mss_selftest(void)
{
	/* Outer (the SA's) and inner family: 4in4, 6in6, 4in6, 6in4. */
	enum { V44, V66, V46, V64 };
	static const struct {
		u8 proto, mode, ivlen, icvlen, blksize, fam;
		bool udp;
		u32 flags;
		unsigned int mtu, mss;
	} t[] = {
		/* GCM-128, ICV 16, 4-byte alignment */
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V44, false, 0, 1500, 1406 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V44, true, 0, 1500, 1398 },
		{ IPPROTO_ESP, NFSEC_MODE_TRANSPORT, 8, 16, 4, V44, false, 0, 1500, 1426 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V44, false, 0, 1400, 1306 },
		/* The same over and for IPv6: 20 bytes more per IPv6 header */
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V66, false, 0, 1500, 1366 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V46, false, 0, 1500, 1386 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V64, false, 0, 1500, 1386 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V66, true, 0, 1500, 1358 },
		{ IPPROTO_ESP, NFSEC_MODE_TRANSPORT, 8, 16, 4, V66, false, 0, 1500, 1406 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V66, false, 0, 1280, 1146 },
		/* CBC + HMAC-SHA-256-128: 16-byte IV and blocks */
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 16, 16, 16, V44, false, 0, 1500, 1398 },
		{ IPPROTO_ESP, NFSEC_MODE_TRANSPORT, 16, 16, 16, V44, false, 0, 1500, 1418 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 16, 16, 16, V66, false, 0, 1500, 1346 },
		/* AH, HMAC-SHA-256-128: 32 bytes as xfrm pads, 28 with align4 */
		{ IPPROTO_AH, NFSEC_MODE_TRANSPORT, 0, 16, 4, V44, false, 0, 1500, 1428 },
		{ IPPROTO_AH, NFSEC_MODE_TUNNEL, 0, 16, 4, V44, false, 0, 1500, 1408 },
		{ IPPROTO_AH, NFSEC_MODE_TRANSPORT, 0, 16, 4, V44, false,
		  NFSEC_SA_F_ALIGN4, 1500, 1432 },
		{ IPPROTO_AH, NFSEC_MODE_TRANSPORT, 0, 16, 4, V66, false, 0, 1500, 1408 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, V44, false, 0, 60, 0 },
	};
	static const u8 outer[] = { AF_INET, AF_INET6, AF_INET6, AF_INET };
	static const u8 inner[] = { AF_INET, AF_INET6, AF_INET, AF_INET6 };
	struct nfsec_sa sa = {};
	unsigned int mss;
	bool ok = true;
	int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		sa.proto = t[i].proto;
		sa.mode = t[i].mode;
		sa.ivlen = t[i].ivlen;
		sa.icvlen = t[i].icvlen;
		sa.blksize = t[i].blksize;
		sa.encap.type = t[i].udp ? 2 : 0;
		sa.flags = t[i].flags;
		sa.family = outer[t[i].fam];
		mss = nfsec_mss_for(&sa, t[i].mtu, inner[t[i].fam]);
		if (mss != t[i].mss) {
			pr_err("mss self-test %d: %u, want %u: fail\n", i + 1,
			       mss, t[i].mss);
			ok = false;
		}
	}
	if (ok)
		pr_info("mss self-tests: pass\n");
	return ok;
}
#endif
