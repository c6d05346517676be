// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: AH (RFC 4302) with HMAC-SHA-256, on an IPv4 or IPv6 packet whose
 * header is at skb->data: the caller has built the outer header in tunnel
 * mode, so both modes look the same here.
 *
 * The ICV covers the network header with its mutable fields zeroed: IPv4's
 * TOS, TTL, flags and offset, checksum and options but a few; IPv6's
 * traffic class, flow label and hop limit, and the options of hop-by-hop
 * and destination headers that say they may change en route (RFC 4302
 * 3.3.3.1.2), with a routing header's addresses as the destination will
 * see them. Then the AH header with the ICV zeroed, the payload and, with
 * ESN, the high 32 bits of the sequence number appended (RFC 4302 2.5.1).
 * Like xfrm, the header is padded to 8 bytes unless "flag align4"; the
 * padding is covered as sent. The headers in front of AH are saved whole
 * and put back after the hash, whatever it zeroed.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/scatterlist.h>
#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <net/ah.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include "compat.h"
#include "nfsec.h"

#define AH_DIGEST_MAX 32	/* SHA-256 */

struct ah_ctx {
	nfsec_done_t done;
	void *arg;
	struct sk_buff *skb;
	struct nfsec_sa *sa;
	u64 seq;
	unsigned int size;	/* as allocated */
	unsigned int nsg;	/* scatterlist entries */
	unsigned int hlen;	/* the headers in front of AH, saved */
	__be32 seqhi;
	u8 icv_in[AH_DIGEST_MAX];
	u8 icv[AH_DIGEST_MAX];
	/* struct ahash_request, the scatterlist, then the saved headers */
} __aligned(__alignof__(struct ahash_request));	/* CRYPTO_MINALIGN: 128 on arm64 6.1 */

unsigned int nfsec_ah_hdrlen(const struct nfsec_sa *sa)
{
	unsigned int len = sizeof(struct ip_auth_hdr) + sa->icvlen;

	return sa->flags & NFSEC_SA_F_ALIGN4 ? ALIGN(len, 4) : ALIGN(len, 8);
}

static struct ahash_request *ctx_req(struct ah_ctx *c)
{
	return (void *)(c + 1);
}

static size_t req_len(const struct nfsec_sa *sa)
{
	return ALIGN(sizeof(struct ahash_request) +
		     crypto_ahash_reqsize(sa->ahash),
		     __alignof__(struct scatterlist));
}

static struct scatterlist *ctx_sg(struct nfsec_sa *sa, struct ah_ctx *c)
{
	return (void *)((u8 *)ctx_req(c) + req_len(sa));
}

static u8 *ctx_saved(struct ah_ctx *c)
{
	return (u8 *)(ctx_sg(c->sa, c) + c->nsg);
}

/*
 * One allocation per packet: context, request, scatterlist, with one
 * entry more than skb_cow_data()'s @nfrags for the ESN high bits, and
 * room for @hlen bytes of headers. The size allocated and the entries
 * written both come from c->nsg.
 */
static struct ah_ctx *ctx_alloc(struct nfsec_sa *sa, struct sk_buff *skb,
				int nfrags, unsigned int hlen, u64 seq,
				nfsec_done_t done, void *arg)
{
	unsigned int nsg = nfrags + 1;
	size_t len = sizeof(struct ah_ctx) + req_len(sa) +
		     nsg * sizeof(struct scatterlist) + hlen;
	struct ah_ctx *c;

	/* The request must be aligned as the transform wants. */
	BUILD_BUG_ON(sizeof(struct ah_ctx) % __alignof__(struct ahash_request));
	c = nfsec_req_alloc(len);
	if (!c)
		return NULL;
	*c = (struct ah_ctx){ .done = done, .arg = arg, .skb = skb, .sa = sa,
			      .seq = seq, .size = len, .nsg = nsg,
			      .hlen = hlen,
			      .seqhi = htonl(upper_32_bits(seq)) };
	return c;
}

static void ctx_free(struct ah_ctx *c)
{
	nfsec_req_free(c, c->size);
}

/*
 * IPv4 (RFC 4302 3.3.3.1.1): mutable options are zeroed whole, and with
 * source routing the ICV is computed with the final destination, as the
 * receiver will see it.
 */
static int clear_mutable4(struct iphdr *iph)
{
	u8 *opt = (u8 *)(iph + 1);
	int l = iph->ihl * 4 - sizeof(*iph);
	int optlen;

	iph->tos = 0;
	iph->ttl = 0;
	iph->frag_off = 0;
	iph->check = 0;
	while (l > 0) {
		if (*opt == IPOPT_END)
			return 0;
		if (*opt == IPOPT_NOOP) {
			l--;
			opt++;
			continue;
		}
		optlen = l >= 2 ? opt[1] : 0;
		if (optlen < 2 || optlen > l)
			return -EINVAL;
		switch (*opt) {
		case IPOPT_SEC:
		case IPOPT_CIPSO:
		case IPOPT_RA:
		case 0x85:	/* extended security */
			break;
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			if (optlen < 7)
				return -EINVAL;
			memcpy(&iph->daddr, opt + optlen - 4, 4);
			fallthrough;
		default:
			memset(opt, 0, optlen);
		}
		l -= optlen;
		opt += optlen;
	}
	return 0;
}

/* Hop-by-hop and destination options: the data of those that may change. */
static int clear_options(u8 *h, unsigned int len)
{
	unsigned int off = 2, olen;

	while (off < len) {
		if (h[off] == IPV6_TLV_PAD1) {
			off++;
			continue;
		}
		if (off + 2 > len)
			return -EINVAL;
		olen = h[off + 1] + 2;
		if (off + olen > len)
			return -EINVAL;
		/* The third bit of the type: may change en route. */
		if (h[off] & 0x20)
			memset(h + off + 2, 0, olen - 2);
		off += olen;
	}
	return 0;
}

/*
 * A routing header as it will reach the destination: no segments left,
 * the final destination in the IPv6 header and the addresses visited in
 * the list, as ah6's ipv6_rearrange_rthdr() arranges them.
 */
static int final_route(struct ipv6hdr *ip6h, u8 *h, unsigned int len)
{
	struct ipv6_rt_hdr *rt = (void *)h;
	unsigned int segments = rt->hdrlen >> 1, left = rt->segments_left;
	struct in6_addr *addrs = (void *)(h + 8), final;

	if (!left)
		return 0;
	if (left > segments || 8 + segments * sizeof(*addrs) > len)
		return -EINVAL;
	rt->segments_left = 0;
	final = addrs[segments - 1];
	addrs += segments - left;
	memmove(addrs + 1, addrs, (left - 1) * sizeof(*addrs));
	addrs[0] = ip6h->daddr;
	ip6h->daddr = final;
	return 0;
}

/* IPv6 (RFC 4302 3.3.3.1.2), the header and those after it up to AH. */
static int clear_mutable6(u8 *hdr, unsigned int hlen)
{
	struct ipv6hdr *ip6h = (void *)hdr;
	unsigned int off = sizeof(*ip6h), len;
	u8 nexthdr = ip6h->nexthdr;
	u8 *h;
	int err;

	/* Traffic class, flow label, hop limit. */
	hdr[0] &= 0xf0;
	hdr[1] = hdr[2] = hdr[3] = 0;
	ip6h->hop_limit = 0;
	while (off < hlen) {
		h = hdr + off;
		len = (h[1] + 1) << 3;
		if (off + len > hlen)
			return -EINVAL;
		switch (nexthdr) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			err = clear_options(h, len);
			break;
		case NEXTHDR_ROUTING:
			err = final_route(ip6h, h, len);
			break;
		default:
			/* nfsec_l3_parse() puts no other in front of AH. */
			err = -EINVAL;
		}
		if (err)
			return err;
		nexthdr = h[0];
		off += len;
	}
	return 0;
}

/* Save the headers in front of AH, then zero what may change in them. */
static int save_and_clear(struct ah_ctx *c, struct sk_buff *skb)
{
	u8 *hdr = skb_network_header(skb);

	memcpy(ctx_saved(c), hdr, c->hlen);
	if (ip_hdr(skb)->version == 4)
		return clear_mutable4(ip_hdr(skb));
	return clear_mutable6(hdr, c->hlen);
}

static void restore(struct ah_ctx *c, struct sk_buff *skb)
{
	memcpy(skb_network_header(skb), ctx_saved(c), c->hlen);
}

static int digest(struct ah_ctx *c, struct sk_buff *skb,
		  crypto_completion_t complete)
{
	struct nfsec_sa *sa = c->sa;
	struct ahash_request *req = ctx_req(c);
	struct scatterlist *sg = ctx_sg(sa, c);
	bool esn = sa->flags & NFSEC_SA_F_ESN;
	int n, err;

	sg_init_table(sg, c->nsg);
	n = skb_to_sgvec_nomark(skb, sg, 0, skb->len);
	if (unlikely(n <= 0))
		return n ?: -EINVAL;
	if (esn)
		sg_set_buf(sg + n++, &c->seqhi, sizeof(c->seqhi));
	sg_mark_end(sg + n - 1);
	ahash_request_set_tfm(req, sa->ahash);
	ahash_request_set_crypt(req, sg, c->icv, skb->len + esn * 4);
	ahash_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, complete, c);
	err = crypto_ahash_digest(req);
	return err == -EBUSY ? -EINPROGRESS : err;
}

static void output_finish(struct ah_ctx *c, int err)
{
	struct sk_buff *skb = c->skb;
	struct ip_auth_hdr *ah = (void *)(skb->data + c->hlen);
	nfsec_done_t done = c->done;
	struct nfsec_sa *sa = c->sa;
	void *arg = c->arg;
	u64 seq = c->seq;

	if (!err)
		memcpy(ah->auth_data, c->icv, sa->icvlen);
	restore(c, skb);
	ctx_free(c);
	done(skb, sa, seq, arg, err);
}

static void output_done(nfsec_crypto_arg_t data, int err)
{
	if (err == -EINPROGRESS)
		return;
	output_finish(nfsec_crypto_data(data), err);
}

/*
 * Insert AH after the network header at skb->data (and the IPv6 extension
 * headers that stay in front). Returns -EINPROGRESS if the hash completes
 * later; otherwise @done has been called, or, for a negative error, not
 * (the caller still owns the packet).
 */
int nfsec_ah_output(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		    nfsec_done_t done, void *arg)
{
	unsigned int ahlen = nfsec_ah_hdrlen(sa);
	struct ip_auth_hdr *ah;
	struct sk_buff *trailer;
	struct nfsec_l3 l3;
	struct ah_ctx *c;
	int nfrags, err;

	if (nfsec_l3_parse(skb, &l3, true))
		return -EINVAL;
	err = skb_cow_head(skb, ahlen);
	if (err)
		return err;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, l3.hlen, seq, done, arg);
	if (!c)
		return -ENOMEM;

	skb_push(skb, ahlen);
	memmove(skb->data, skb->data + ahlen, l3.hlen);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, l3.hlen);
	ah = (void *)(skb->data + l3.hlen);
	ah->nexthdr = l3.proto;
	ah->hdrlen = (ahlen >> 2) - 2;
	ah->reserved = 0;
	ah->spi = sa->spi;
	ah->seq_no = htonl(lower_32_bits(seq));
	memset(ah->auth_data, 0, ahlen - sizeof(*ah));
	skb->data[l3.nhoff] = IPPROTO_AH;
	nfsec_l3_set_len(skb);

	err = save_and_clear(c, skb);
	if (!err)
		err = digest(c, skb, output_done);
	if (err == -EINPROGRESS)
		return err;
	output_finish(c, err);
	return 0;
}

static void input_finish(struct ah_ctx *c, int err)
{
	struct sk_buff *skb = c->skb;
	struct ip_auth_hdr *ah = (void *)(skb->data + c->hlen);
	unsigned int ahlen = (ah->hdrlen + 2) << 2;
	nfsec_done_t done = c->done;
	struct nfsec_sa *sa = c->sa;
	void *arg = c->arg;
	u64 seq = c->seq;
	u8 nexthdr = ah->nexthdr;

	if (!err && crypto_memneq(c->icv, c->icv_in, sa->icvlen))
		err = -EBADMSG;
	restore(c, skb);
	ctx_free(c);
	if (!err) {
		/* Take AH out: the headers in front move up over it. */
		nfsec_l3_cut(skb, ahlen, nexthdr);
		skb->ip_summed = CHECKSUM_NONE;
	}
	done(skb, sa, seq, arg, err);
}

static void input_done(nfsec_crypto_arg_t data, int err)
{
	if (err == -EINPROGRESS)
		return;
	input_finish(nfsec_crypto_data(data), err);
}

/*
 * Verify the AH packet at skb->data (its network header; AH at
 * NFSEC_CB(skb)->hlen) and take AH out. @seq is the inferred 64-bit
 * sequence number. Returns as nfsec_ah_output(); @done gets -EBADMSG for
 * an ICV mismatch and -EINVAL for a malformed header.
 */
int nfsec_ah_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		   nfsec_done_t done, void *arg)
{
	unsigned int hlen = NFSEC_CB(skb)->hlen, ahlen;
	struct ip_auth_hdr *ah;
	struct sk_buff *trailer;
	struct ah_ctx *c;
	int nfrags, err;

	if (!pskb_may_pull(skb, hlen + sizeof(*ah)))
		return -EINVAL;
	ah = (void *)(skb->data + hlen);
	ahlen = (ah->hdrlen + 2) << 2;
	/* Accept either padding: the length field tells. */
	if ((ahlen != ALIGN(sizeof(*ah) + sa->icvlen, 4) &&
	     ahlen != ALIGN(sizeof(*ah) + sa->icvlen, 8)) ||
	    !pskb_may_pull(skb, hlen + ahlen))
		return -EINVAL;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, hlen, seq, done, arg);
	if (!c)
		return -ENOMEM;
	ah = (void *)(skb->data + hlen);
	memcpy(c->icv_in, ah->auth_data, sa->icvlen);
	memset(ah->auth_data, 0, sa->icvlen);
	err = save_and_clear(c, skb);
	if (!err)
		err = digest(c, skb, input_done);
	if (err == -EINPROGRESS)
		return err;
	input_finish(c, err);
	return 0;
}
