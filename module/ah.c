// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: AH (RFC 4302) with HMAC-SHA-256, on an IPv4 packet whose header
 * is at skb->data: the caller has built the outer header in tunnel mode,
 * so both modes look the same here.
 *
 * The ICV covers the IPv4 header with its mutable fields and options
 * zeroed, the AH header with the ICV zeroed, the payload and, with ESN,
 * the high 32 bits of the sequence number appended (RFC 4302 2.5.1).
 * Like xfrm, the header is padded to 8 bytes unless "flag align4"; the
 * padding is covered as sent.
 */
#include <linux/ip.h>
#include <linux/scatterlist.h>
#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <net/ah.h>
#include <net/ip.h>
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
	__be32 seqhi;
	u8 tos;
	u8 ttl;
	__be16 frag_off;
	__be32 daddr;
	u8 opts[40];		/* the options as they were */
	u8 icv_in[AH_DIGEST_MAX];
	u8 icv[AH_DIGEST_MAX];
	/* struct ahash_request, then the scatterlist */
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

/*
 * One allocation per packet: context, request and scatterlist, with one
 * entry more than skb_cow_data()'s @nfrags for the ESN high bits. The
 * size allocated and the entries written both come from c->nsg.
 */
static struct ah_ctx *ctx_alloc(struct nfsec_sa *sa, struct sk_buff *skb,
				int nfrags, u64 seq, nfsec_done_t done,
				void *arg)
{
	unsigned int nsg = nfrags + 1;
	size_t len = sizeof(struct ah_ctx) + req_len(sa) +
		     nsg * sizeof(struct scatterlist);
	struct ah_ctx *c;

	/* The request must be aligned as the transform wants. */
	BUILD_BUG_ON(sizeof(struct ah_ctx) % __alignof__(struct ahash_request));
	c = nfsec_req_alloc(len);
	if (!c)
		return NULL;
	*c = (struct ah_ctx){ .done = done, .arg = arg, .skb = skb, .sa = sa,
			      .seq = seq, .size = len, .nsg = nsg,
			      .seqhi = htonl(upper_32_bits(seq)) };
	return c;
}

static void ctx_free(struct ah_ctx *c)
{
	nfsec_req_free(c, c->size);
}

/*
 * Zero what may change in transit (RFC 4302 3.3.3.1.1): mutable options
 * are zeroed whole, and with source routing the ICV is computed with the
 * final destination, as the receiver will see it.
 */
static int clear_mutable(struct iphdr *iph)
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

static int save_and_clear(struct ah_ctx *c, struct iphdr *iph)
{
	c->tos = iph->tos;
	c->ttl = iph->ttl;
	c->frag_off = iph->frag_off;
	c->daddr = iph->daddr;
	memcpy(c->opts, iph + 1, iph->ihl * 4 - sizeof(*iph));
	return clear_mutable(iph);
}

static void restore(struct ah_ctx *c, struct iphdr *iph)
{
	iph->tos = c->tos;
	iph->ttl = c->ttl;
	iph->frag_off = c->frag_off;
	iph->daddr = c->daddr;
	memcpy(iph + 1, c->opts, iph->ihl * 4 - sizeof(*iph));
	ip_send_check(iph);
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
	struct iphdr *iph = ip_hdr(skb);
	struct ip_auth_hdr *ah = (void *)((u8 *)iph + iph->ihl * 4);
	nfsec_done_t done = c->done;
	struct nfsec_sa *sa = c->sa;
	void *arg = c->arg;
	u64 seq = c->seq;

	if (!err)
		memcpy(ah->auth_data, c->icv, sa->icvlen);
	restore(c, iph);
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
 * Insert AH after the IPv4 header at skb->data. Returns -EINPROGRESS if
 * the hash completes later; otherwise @done has been called, or, for a
 * negative error, not (the caller still owns the packet).
 */
int nfsec_ah_output(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		    nfsec_done_t done, void *arg)
{
	unsigned int ahlen = nfsec_ah_hdrlen(sa), ihl;
	struct ip_auth_hdr *ah;
	struct sk_buff *trailer;
	struct iphdr *iph;
	struct ah_ctx *c;
	int nfrags, err;

	err = skb_cow_head(skb, ahlen);
	if (err)
		return err;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, seq, done, arg);
	if (!c)
		return -ENOMEM;

	ihl = ip_hdrlen(skb);
	skb_push(skb, ahlen);
	memmove(skb->data, skb->data + ahlen, ihl);
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	ah = (void *)((u8 *)iph + ihl);
	ah->nexthdr = iph->protocol;
	ah->hdrlen = (ahlen >> 2) - 2;
	ah->reserved = 0;
	ah->spi = sa->spi;
	ah->seq_no = htonl(lower_32_bits(seq));
	memset(ah->auth_data, 0, ahlen - sizeof(*ah));
	iph->protocol = IPPROTO_AH;
	iph->tot_len = htons(skb->len);

	err = save_and_clear(c, iph);
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
	struct iphdr *iph = ip_hdr(skb);
	unsigned int ihl = iph->ihl * 4;
	struct ip_auth_hdr *ah = (void *)((u8 *)iph + ihl);
	unsigned int ahlen = (ah->hdrlen + 2) << 2;
	nfsec_done_t done = c->done;
	struct nfsec_sa *sa = c->sa;
	void *arg = c->arg;
	u64 seq = c->seq;
	u8 nexthdr = ah->nexthdr;

	if (!err && crypto_memneq(c->icv, c->icv_in, sa->icvlen))
		err = -EBADMSG;
	restore(c, iph);
	ctx_free(c);
	if (!err) {
		/* Take AH out: the IPv4 header moves up over it. */
		memmove(skb->data + ahlen, skb->data, ihl);
		__skb_pull(skb, ahlen);
		skb_reset_network_header(skb);
		iph = ip_hdr(skb);
		iph->protocol = nexthdr;
		iph->tot_len = htons(skb->len);
		ip_send_check(iph);
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
 * Verify the AH packet at skb->data (its IPv4 header) and take AH out.
 * @seq is the inferred 64-bit sequence number. Returns as
 * nfsec_ah_output(); @done gets -EBADMSG for an ICV mismatch and -EINVAL
 * for a malformed header.
 */
int nfsec_ah_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		   nfsec_done_t done, void *arg)
{
	unsigned int ihl = ip_hdrlen(skb), ahlen;
	struct ip_auth_hdr *ah;
	struct sk_buff *trailer;
	struct ah_ctx *c;
	int nfrags, err;

	if (!pskb_may_pull(skb, ihl + sizeof(*ah)))
		return -EINVAL;
	ah = (void *)(skb->data + ihl);
	ahlen = (ah->hdrlen + 2) << 2;
	/* Accept either padding: the length field tells. */
	if ((ahlen != ALIGN(sizeof(*ah) + sa->icvlen, 4) &&
	     ahlen != ALIGN(sizeof(*ah) + sa->icvlen, 8)) ||
	    !pskb_may_pull(skb, ihl + ahlen))
		return -EINVAL;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, seq, done, arg);
	if (!c)
		return -ENOMEM;
	ah = (void *)(skb->data + ihl);
	memcpy(c->icv_in, ah->auth_data, sa->icvlen);
	memset(ah->auth_data, 0, sa->icvlen);
	err = save_and_clear(c, ip_hdr(skb));
	if (!err)
		err = digest(c, skb, input_done);
	if (err == -EINPROGRESS)
		return err;
	input_finish(c, err);
	return 0;
}
