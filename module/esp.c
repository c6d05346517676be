// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: ESP (RFC 4303) on an IPv4 or IPv6 packet whose header is at
 * skb->data. In tunnel mode the caller has already built the outer
 * header, so both modes look the same here: ESP goes after the network
 * header (and, for IPv6, the extension headers that stay in front: see
 * nfsec_l3_parse()), or after a UDP header for NAT-T (natt.c).
 *
 * The AEAD sees: AAD = SPI || [seq_hi ||] seq_lo from a buffer of ours,
 * then the explicit IV, the payload and the ICV, in place in the packet.
 * The IV is part of assoclen, as the plain rfc4106, rfc7539esp and
 * authenc(esn) templates want; with authencesn the high sequence bits are
 * moved behind the ciphertext by the template itself.
 */
#include <linux/ip.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/udp.h>
#include <crypto/aead.h>
#include <net/esp.h>
#include <net/ip.h>
#include "compat.h"
#include "nfsec.h"

struct esp_ctx {
	nfsec_done_t done;
	void *arg;
	struct sk_buff *skb;
	struct nfsec_sa *sa;
	u64 seq;
	unsigned int size;		/* as allocated */
	unsigned int nsg;		/* scatterlist entries */
	__be32 aad[3];
	u8 iv[16];
	/* struct aead_request, then the scatterlist */
} __aligned(__alignof__(struct aead_request));	/* CRYPTO_MINALIGN: 128 on arm64 6.1 */

static size_t req_len(const struct nfsec_sa *sa)
{
	return ALIGN(sizeof(struct aead_request) + crypto_aead_reqsize(sa->aead),
		     __alignof__(struct scatterlist));
}

static struct aead_request *ctx_req(struct esp_ctx *c)
{
	return (void *)(c + 1);
}

static struct scatterlist *ctx_sg(struct esp_ctx *c)
{
	return (void *)((u8 *)ctx_req(c) + req_len(c->sa));
}

/*
 * @nfrags is what skb_cow_data() counted; the scatterlist has one entry
 * more, for the AAD. The size allocated and the entries written both come
 * from c->nsg, set here and nowhere else.
 */
static struct esp_ctx *ctx_alloc(struct nfsec_sa *sa, struct sk_buff *skb,
				 int nfrags, u64 seq, nfsec_done_t done,
				 void *arg)
{
	unsigned int nsg = nfrags + 1;
	size_t size = sizeof(struct esp_ctx) + req_len(sa) +
		      nsg * sizeof(struct scatterlist);
	struct esp_ctx *c;

	BUILD_BUG_ON(sizeof(struct esp_ctx) % __alignof__(struct aead_request));
	c = nfsec_req_alloc(size);
	if (!c)
		return NULL;
	c->size = size;
	c->nsg = nsg;
	c->done = done;
	c->arg = arg;
	c->skb = skb;
	c->sa = sa;
	c->seq = seq;
	c->aad[0] = sa->spi;
	if (sa->flags & NFSEC_SA_F_ESN) {
		c->aad[1] = htonl(upper_32_bits(seq));
		c->aad[2] = htonl(lower_32_bits(seq));
	} else {
		c->aad[1] = htonl(lower_32_bits(seq));
	}
	return c;
}

static void ctx_free(struct esp_ctx *c)
{
	nfsec_req_free(c, c->size);
}

static unsigned int aad_len(const struct nfsec_sa *sa)
{
	return sa->flags & NFSEC_SA_F_ESN ? 12 : 8;
}

/* The AAD buffer, then @len bytes of the packet from @off (IV onwards). */
static int build_sg(struct esp_ctx *c, unsigned int off, unsigned int len)
{
	struct scatterlist *sg = ctx_sg(c);
	int n;

	sg_init_table(sg, c->nsg);
	sg_set_buf(sg, c->aad, aad_len(c->sa));
	/* Marks the end, which may come before c->nsg entries. */
	n = skb_to_sgvec(c->skb, sg + 1, off, len);
	return n < 0 ? n : 0;
}

static void output_done(nfsec_crypto_arg_t data, int err)
{
	struct esp_ctx *c = nfsec_crypto_data(data);
	nfsec_done_t done = c->done;
	struct sk_buff *skb = c->skb;
	struct nfsec_sa *sa = c->sa;
	void *arg = c->arg;
	u64 seq = c->seq;

	if (err == -EINPROGRESS)
		return;
	ctx_free(c);
	done(skb, sa, seq, arg, err);
}

/*
 * Encrypt the packet at skb->data with @seq. Returns -EINPROGRESS if the
 * AEAD completes later; otherwise @done has been called (0), or not (a
 * negative error: the caller still owns the packet).
 */
int nfsec_esp_output(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		     nfsec_done_t done, void *arg)
{
	unsigned int hlen, esplen, plen, clen, padlen, tlen, i, encap;
	struct aead_request *req;
	struct ip_esp_hdr *esph;
	struct sk_buff *trailer;
	struct nfsec_l3 l3;
	struct esp_ctx *c;
	int nfrags, err;
	u8 *tail;

	if (nfsec_l3_parse(skb, &l3, true))
		return -EINVAL;
	hlen = l3.hlen;
	encap = sa->encap.type ? sizeof(struct udphdr) : 0;
	esplen = sizeof(*esph) + sa->ivlen;
	plen = skb->len - hlen;
	clen = ALIGN(plen + 2, sa->blksize);
	padlen = clen - plen - 2;
	/* What goes behind the payload: the room made is the room filled. */
	tlen = padlen + 2 + sa->icvlen;

	err = skb_cow_head(skb, encap + esplen);
	if (err)
		return err;
	nfrags = skb_cow_data(skb, tlen, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, seq, done, arg);
	if (!c)
		return -ENOMEM;

	/* Trailer: 1, 2, 3, ... padding, its length, the next header. */
	tail = pskb_put(skb, trailer, tlen);
	for (i = 0; i < padlen; i++)
		tail[i] = i + 1;
	tail[padlen] = padlen;
	tail[padlen + 1] = l3.proto;

	skb_push(skb, encap + esplen);
	memmove(skb->data, skb->data + encap + esplen, hlen);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, hlen);
	skb->data[l3.nhoff] = encap ? IPPROTO_UDP : IPPROTO_ESP;
	esph = (void *)(skb->data + hlen + encap);
	esph->spi = sa->spi;
	esph->seq_no = htonl(lower_32_bits(seq));
	if (encap)
		nfsec_natt_encap(sa, skb, hlen);
	nfsec_l3_set_len(skb);

	/*
	 * GCM and ChaCha20 need an IV never repeated under one key. The
	 * sequence number is unique within the SA, but users reuse keys
	 * across SAs: XORing in the SA's random salt (as seqiv does) keeps
	 * those apart too (RFC 4106 section 8). CBC needs an unpredictable IV.
	 */
	if (sa->esp_kind == NFSEC_ESP_AEAD)
		put_unaligned_be64(seq ^ sa->iv_salt, c->iv);
	else if (sa->ivlen)
		get_random_bytes(c->iv, sa->ivlen);
	memcpy(esph + 1, c->iv, sa->ivlen);

	err = build_sg(c, hlen + encap + sizeof(*esph),
		       sa->ivlen + clen + sa->icvlen);
	if (err) {
		ctx_free(c);
		return err;
	}
	req = ctx_req(c);
	aead_request_set_tfm(req, sa->aead);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, output_done, c);
	aead_request_set_crypt(req, ctx_sg(c), ctx_sg(c), clen, c->iv);
	aead_request_set_ad(req, aad_len(sa) + sa->ivlen);
	err = crypto_aead_encrypt(req);
	if (err == -EINPROGRESS || err == -EBUSY)
		return -EINPROGRESS;
	ctx_free(c);
	done(skb, sa, seq, arg, err);
	return 0;
}

static void input_done(nfsec_crypto_arg_t data, int err)
{
	output_done(data, err);
}

/*
 * Decrypt and verify the ESP packet at skb->data (its network header; ESP
 * at NFSEC_CB(skb)->hlen), already checked to hold the header and IV,
 * with the inferred @seq.
 * Returns as nfsec_esp_output(); @done gets -EBADMSG for a bad ICV.
 * The plaintext (with its trailer) stays in place, the ICV trimmed off.
 */
int nfsec_esp_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		    nfsec_done_t done, void *arg)
{
	unsigned int off, elen;
	struct aead_request *req;
	struct sk_buff *trailer;
	struct esp_ctx *c;
	int nfrags, err;

	off = NFSEC_CB(skb)->hlen + sizeof(struct ip_esp_hdr);
	elen = skb->len - off - sa->ivlen - sa->icvlen;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	c = ctx_alloc(sa, skb, nfrags, seq, done, arg);
	if (!c)
		return -ENOMEM;
	skb_copy_bits(skb, off, c->iv, sa->ivlen);
	err = build_sg(c, off, sa->ivlen + elen + sa->icvlen);
	if (err) {
		ctx_free(c);
		return err;
	}
	req = ctx_req(c);
	aead_request_set_tfm(req, sa->aead);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, input_done, c);
	aead_request_set_crypt(req, ctx_sg(c), ctx_sg(c), elen + sa->icvlen, c->iv);
	aead_request_set_ad(req, aad_len(sa) + sa->ivlen);
	err = crypto_aead_decrypt(req);
	if (err == -EINPROGRESS || err == -EBUSY)
		return -EINPROGRESS;
	ctx_free(c);
	done(skb, sa, seq, arg, err);
	return 0;
}
