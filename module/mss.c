// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: TCP MSS clamping, so that TCP through an SA never needs
 * fragmentation.
 *
 * The largest segment that fits the path MTU once encapsulated:
 *
 *   mtu - outer IPv4 (tunnel) - UDP (NAT-T) - ESP header - IV - ICV
 *       = room for the encrypted part, a multiple of the cipher block;
 *   rounded down to the block, minus pad length and next header (2),
 *   is the largest ESP payload; minus the inner IPv4 header (tunnel) and
 *   the TCP header, the MSS.
 */
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/esp.h>
#include <net/ah.h>
#include <net/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include "compat.h"
#include "nfsec.h"

/* The MSS an SA allows over a path of @mtu bytes; 0 if none fits. */
unsigned int nfsec_mss_for(const struct nfsec_sa *sa, unsigned int mtu)
{
	/* The outer header in tunnel mode, the packet's own in transport. */
	unsigned int over = sizeof(struct iphdr);
	unsigned int hdrs = sizeof(struct tcphdr);
	unsigned int room;

	if (sa->mode == NFSEC_MODE_TUNNEL)
		hdrs += sizeof(struct iphdr);
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

/* The largest inner packet that fits @mtu once encapsulated. */
unsigned int nfsec_inner_mtu(const struct nfsec_sa *sa, unsigned int mtu)
{
	unsigned int mss = nfsec_mss_for(sa, mtu);

	return mss + sizeof(struct tcphdr) + sizeof(struct iphdr);
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
 * The offset of the TCP header of @skb (IPv4 header at skb->data) when it
 * is a SYN whose MSS @sa clamps, else 0. Cheap, for every packet.
 */
unsigned int nfsec_mss_syn(const struct nfsec_sa *sa, const struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int thoff = skb_network_offset(skb) + ip_hdrlen(skb);
	struct tcphdr _th;
	const struct tcphdr *th;

	if (sa->mss == NFSEC_MSS_OFF || iph->protocol != IPPROTO_TCP ||
	    ip_is_fragment(iph))
		return 0;
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
	unsigned int mss = sa->mss ?: nfsec_mss_for(sa, mtu);

	if (mss && nfsec_mss_clamp(skb, thoff, mss))
		nfsec_count(sa->nn, sa, NFSEC_STAT_MSS_CLAMPED, 1);
}

#ifdef DEBUG
bool __init nfsec_mss_selftest(void)
{
	static const struct {
		u8 proto, mode, ivlen, icvlen, blksize;
		bool udp;
		u32 flags;
		unsigned int mtu, mss;
	} t[] = {
		/* GCM-128, ICV 16, 4-byte alignment */
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, false, 0, 1500, 1406 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, true, 0, 1500, 1398 },
		{ IPPROTO_ESP, NFSEC_MODE_TRANSPORT, 8, 16, 4, false, 0, 1500, 1426 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, false, 0, 1400, 1306 },
		/* CBC + HMAC-SHA-256-128: 16-byte IV and blocks */
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 16, 16, 16, false, 0, 1500, 1398 },
		{ IPPROTO_ESP, NFSEC_MODE_TRANSPORT, 16, 16, 16, false, 0, 1500, 1418 },
		/* AH, HMAC-SHA-256-128: 32 bytes as xfrm pads, 28 with align4 */
		{ IPPROTO_AH, NFSEC_MODE_TRANSPORT, 0, 16, 4, false, 0, 1500, 1428 },
		{ IPPROTO_AH, NFSEC_MODE_TUNNEL, 0, 16, 4, false, 0, 1500, 1408 },
		{ IPPROTO_AH, NFSEC_MODE_TRANSPORT, 0, 16, 4, false,
		  NFSEC_SA_F_ALIGN4, 1500, 1432 },
		{ IPPROTO_ESP, NFSEC_MODE_TUNNEL, 8, 16, 4, false, 0, 60, 0 },
	};
	struct nfsec_sa sa = {};
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
		if (nfsec_mss_for(&sa, t[i].mtu) != t[i].mss) {
			pr_err("mss self-test %d: %u, want %u: fail\n", i + 1,
			       nfsec_mss_for(&sa, t[i].mtu), t[i].mss);
			ok = false;
		}
	}
	if (ok)
		pr_info("mss self-tests: pass\n");
	return ok;
}
#endif
