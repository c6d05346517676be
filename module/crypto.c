// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: which algorithms an SA may use, and their transforms.
 *
 * ESP always runs through one AEAD transform: the AEAD itself, or the
 * authenc template pairing a cipher with a MAC, as the kernel's ESP does.
 * We allocate the plain (non-IV-generating) forms and make IVs ourselves.
 */
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/rtnetlink.h>
#include <crypto/aead.h>
#include <crypto/authenc.h>
#include <crypto/hash.h>
#include <net/netlink.h>
#include "nfsec.h"

struct alg_desc {
	const char *name;	/* as ip-xfrm(8) spells it */
	const char *alias;	/* the short name iproute2 also accepts */
	u16 key_bytes[3];	/* allowed key sizes in bytes */
	u16 icv_bits[4];	/* allowed ICV/truncation lengths, bits */
	u16 default_icv;	/* for an ICV length of 0 or none (uapi) */
};

static const struct alg_desc aead_algs[] = {
	/* AES key plus the 4-byte salt; the full tag by default. */
	{ "rfc4106(gcm(aes))", NULL, { 20, 28, 36 }, { 64, 96, 128 }, 128 },
	{ "rfc7539esp(chacha20,poly1305)", NULL, { 36 }, { 128 }, 128 },
};

static const struct alg_desc enc_algs[] = {
	{ "cbc(aes)", "aes", { 16, 24, 32 } },
	{ "ecb(cipher_null)", "cipher_null", { 0 } },
};

static const struct alg_desc auth_algs[] = {
	/* xfrm's default truncation for plain "auth hmac(sha256)" is 96. */
	{ "hmac(sha256)", "sha256", { 32 }, { 96, 128, 256 }, 96 },
	{ "digest_null", NULL, { 0 }, { 0 } },
};

static const struct alg_desc *find_alg(const struct alg_desc *t, size_t n,
				       const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name) ||
		    (t[i].alias && !strcmp(t[i].alias, name)))
			return &t[i];
	return NULL;
}

static bool in_list(const u16 *list, size_t n, u32 v, bool zero_ok)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == v && (list[i] || zero_ok))
			return true;
	return false;
}

/*
 * The messages are chosen at run time, which NL_SET_ERR_MSG cannot do in
 * 6.1 (it wants a literal), so they are set directly and carry the
 * "nfsec: " prefix themselves.
 */
struct alg_msgs {
	const char *unknown;
	const char *key;
	const char *icv;
};

static const struct alg_msgs aead_msgs = {
	"nfsec: unknown aead algorithm (rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305))",
	"nfsec: aead key length does not fit the algorithm (GCM: 160/224/288 bits with salt; ChaCha20-Poly1305: 288)",
	"nfsec: aead ICV length not allowed (GCM: 64, 96, 128; ChaCha20-Poly1305: 128)",
};

static const struct alg_msgs enc_msgs = {
	"nfsec: unknown enc algorithm (cbc(aes), ecb(cipher_null))",
	"nfsec: enc key length does not fit the algorithm (cbc(aes): 128/192/256 bits; ecb(cipher_null): 0)",
	"nfsec: enc takes no ICV length",
};

static const struct alg_msgs auth_msgs = {
	"nfsec: unknown auth algorithm (hmac(sha256), digest_null)",
	"nfsec: auth key length does not fit the algorithm (hmac(sha256): 256 bits; digest_null: 0)",
	"nfsec: auth truncation length not allowed (hmac(sha256): 96, 128, 256)",
};

static void set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

/* Check @a against @t and make its name canonical. */
static const struct alg_desc *check_alg(struct nfsec_alg *a,
					const struct alg_desc *t, size_t n,
					const struct alg_msgs *msg,
					struct netlink_ext_ack *extack)
{
	const struct alg_desc *d = find_alg(t, n, a->name);

	if (!d) {
		set_msg(extack, msg->unknown);
		return NULL;
	}
	strscpy(a->name, d->name, sizeof(a->name));
	if (a->key_bits % 8 ||
	    !in_list(d->key_bytes, ARRAY_SIZE(d->key_bytes), a->key_bits / 8,
		     !d->key_bytes[0])) {
		set_msg(extack, msg->key);
		return NULL;
	}
	if (!a->icv_bits && d->default_icv)
		a->icv_bits = d->default_icv;
	if (!in_list(d->icv_bits, ARRAY_SIZE(d->icv_bits), a->icv_bits,
		     !d->icv_bits[0])) {
		set_msg(extack, msg->icv);
		return NULL;
	}
	return d;
}

static int alloc_fail(int err, struct netlink_ext_ack *extack)
{
	if (err == -ENOENT)
		NL_SET_ERR_MSG_MOD(extack, "algorithm not available in this kernel");
	else
		NL_SET_ERR_MSG_MOD(extack, "cannot allocate the crypto transform");
	return err;
}

static int aead_setup(struct nfsec_sa *sa, const char *name, const u8 *key,
		      unsigned int keylen, unsigned int icvlen,
		      struct netlink_ext_ack *extack)
{
	struct crypto_aead *aead;
	int err;

	aead = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(aead))
		return alloc_fail(PTR_ERR(aead), extack);
	sa->aead = aead;
	err = crypto_aead_setkey(aead, key, keylen);
	if (!err)
		err = crypto_aead_setauthsize(aead, icvlen);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "the crypto API refused the key or ICV length");
		return err;
	}
	sa->ivlen = crypto_aead_ivsize(aead);
	sa->icvlen = icvlen;
	/* ESP aligns the trailer to 4 bytes even for stream ciphers. */
	sa->blksize = ALIGN(crypto_aead_blocksize(aead), 4);
	return 0;
}

/* The authenc key: an rtattr with the cipher key length, then both keys. */
static int authenc_setup(struct nfsec_sa *sa, const u8 *ekey, const u8 *akey,
			 struct netlink_ext_ack *extack)
{
	unsigned int elen = sa->alg_enc.key_bits / 8;
	unsigned int alen = sa->alg_auth.key_bits / 8;
	struct crypto_authenc_key_param *param;
	char name[CRYPTO_MAX_ALG_NAME];
	unsigned int len;
	struct rtattr *rta;
	u8 *key;
	int err;

	if (snprintf(name, sizeof(name), "%s(%s,%s)",
		     sa->flags & NFSEC_SA_F_ESN ? "authencesn" : "authenc",
		     sa->alg_auth.name, sa->alg_enc.name) >= sizeof(name)) {
		NL_SET_ERR_MSG_MOD(extack, "algorithm names too long");
		return -ENAMETOOLONG;
	}
	len = RTA_SPACE(sizeof(*param)) + alen + elen;
	key = kmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!key) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory");
		return -ENOMEM;
	}
	rta = (struct rtattr *)key;
	rta->rta_type = CRYPTO_AUTHENC_KEYA_PARAM;
	rta->rta_len = RTA_LENGTH(sizeof(*param));
	param = RTA_DATA(rta);
	param->enckeylen = cpu_to_be32(elen);
	memcpy(key + RTA_SPACE(sizeof(*param)), akey, alen);
	memcpy(key + RTA_SPACE(sizeof(*param)) + alen, ekey, elen);
	err = aead_setup(sa, name, key, len, sa->alg_auth.icv_bits / 8, extack);
	kfree_sensitive(key);
	sa->esp_kind = NFSEC_ESP_AUTHENC;
	return err;
}

static int esp_setup(struct nfsec_sa *sa, const u8 *aead_key,
		     const u8 *enc_key, const u8 *auth_key,
		     struct netlink_ext_ack *extack)
{
	if (sa->alg_aead.name[0]) {
		if (sa->alg_enc.name[0] || sa->alg_auth.name[0]) {
			NL_SET_ERR_MSG_MOD(extack, "aead excludes enc and auth");
			return -EINVAL;
		}
		if (!check_alg(&sa->alg_aead, aead_algs, ARRAY_SIZE(aead_algs),
			       &aead_msgs, extack))
			return -EINVAL;
		sa->esp_kind = NFSEC_ESP_AEAD;
		sa->integrity = true;
		return aead_setup(sa, sa->alg_aead.name, aead_key,
				  sa->alg_aead.key_bits / 8,
				  sa->alg_aead.icv_bits / 8, extack);
	}
	if (!sa->alg_enc.name[0] && !sa->alg_auth.name[0]) {
		NL_SET_ERR_MSG_MOD(extack, "ESP needs aead, or enc and/or auth");
		return -EINVAL;
	}
	/* As in xfrm, a missing half is its NULL algorithm. */
	if (!sa->alg_enc.name[0])
		strscpy(sa->alg_enc.name, "ecb(cipher_null)", NFSEC_ALG_NAME_MAX);
	if (!sa->alg_auth.name[0])
		strscpy(sa->alg_auth.name, "digest_null", NFSEC_ALG_NAME_MAX);
	if (!check_alg(&sa->alg_enc, enc_algs, ARRAY_SIZE(enc_algs),
		       &enc_msgs, extack) ||
	    !check_alg(&sa->alg_auth, auth_algs, ARRAY_SIZE(auth_algs),
		       &auth_msgs, extack))
		return -EINVAL;
	/*
	 * Without an ICV anyone can send packets the SA accepts: one forged
	 * sequence number far ahead stalls its replay window, and forged
	 * traffic runs its lifetimes out. RFC 4303 allows it; only tests and
	 * benchmarks should want it.
	 */
	sa->integrity = strcmp(sa->alg_auth.name, "digest_null");
	if (!sa->integrity && !READ_ONCE(nfsec_allow_null)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "ESP without integrity (no auth, or digest_null) needs the allow_null module parameter: add auth-trunc hmac(sha256) or use an aead");
		return -EINVAL;
	}
	return authenc_setup(sa, enc_key, auth_key, extack);
}

static int ah_setup(struct nfsec_sa *sa, const u8 *auth_key,
		    struct netlink_ext_ack *extack)
{
	struct crypto_ahash *ahash;

	if (sa->alg_aead.name[0] || sa->alg_enc.name[0]) {
		NL_SET_ERR_MSG_MOD(extack, "AH takes no encryption algorithm");
		return -EINVAL;
	}
	if (!sa->alg_auth.name[0]) {
		NL_SET_ERR_MSG_MOD(extack, "AH needs an auth algorithm");
		return -EINVAL;
	}
	if (!check_alg(&sa->alg_auth, auth_algs, 1, &auth_msgs, extack))
		return -EINVAL;
	ahash = crypto_alloc_ahash(sa->alg_auth.name, 0, 0);
	if (IS_ERR(ahash))
		return alloc_fail(PTR_ERR(ahash), extack);
	sa->ahash = ahash;
	if (crypto_ahash_setkey(ahash, auth_key, sa->alg_auth.key_bits / 8)) {
		NL_SET_ERR_MSG_MOD(extack, "the crypto API refused the key");
		return -EINVAL;
	}
	sa->icvlen = sa->alg_auth.icv_bits / 8;
	sa->integrity = true;
	return 0;
}

/*
 * The transforms of an SA, shared with the SAs it moves to (SA_MOVE): a
 * packet still in the crypto layer holds the SA it began with, whose
 * transforms must outlive it, whichever of the SAs goes first. The packet
 * path reads sa->aead and sa->ahash; only setup and freeing see this.
 */
struct nfsec_tfm {
	refcount_t refcnt;
	struct crypto_aead *aead;
	struct crypto_ahash *ahash;
};

static int tfm_alloc(struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	sa->tfm = kzalloc(sizeof(*sa->tfm), GFP_KERNEL_ACCOUNT);
	if (!sa->tfm) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory");
		return -ENOMEM;
	}
	refcount_set(&sa->tfm->refcnt, 1);
	return 0;
}

int nfsec_crypto_init(struct nfsec_sa *sa, const u8 *aead_key,
		      const u8 *enc_key, const u8 *auth_key,
		      struct netlink_ext_ack *extack)
{
	int err = tfm_alloc(sa, extack);

	if (err)
		return err;
	if (sa->proto == IPPROTO_AH)
		err = ah_setup(sa, auth_key, extack);
	else
		err = esp_setup(sa, aead_key, enc_key, auth_key, extack);
	/* What was allocated, even on error: nfsec_crypto_free() frees it. */
	sa->tfm->aead = sa->aead;
	sa->tfm->ahash = sa->ahash;
	return err;
}

/* @new uses @old's transforms, and what was learnt setting them up. */
void nfsec_crypto_share(struct nfsec_sa *new, const struct nfsec_sa *old)
{
	refcount_inc(&old->tfm->refcnt);
	new->tfm = old->tfm;
	new->aead = old->aead;
	new->ahash = old->ahash;
	new->esp_kind = old->esp_kind;
	new->ivlen = old->ivlen;
	new->icvlen = old->icvlen;
	new->blksize = old->blksize;
	new->integrity = old->integrity;
	new->alg_aead = old->alg_aead;
	new->alg_enc = old->alg_enc;
	new->alg_auth = old->alg_auth;
}

/* In process context: freeing a transform may sleep. */
void nfsec_crypto_free(struct nfsec_sa *sa)
{
	struct nfsec_tfm *t = sa->tfm;

	if (!t || !refcount_dec_and_test(&t->refcnt))
		return;
	/* Both free their key schedules with kfree_sensitive(). */
	if (t->aead)
		crypto_free_aead(t->aead);
	if (t->ahash)
		crypto_free_ahash(t->ahash);
	kfree(t);
}

/*
 * Per-packet crypto contexts (our state, the request, the scatterlist).
 * Each lives for one transform, mostly within one call, so kmalloc()
 * would do, but the kernel zeroes every allocation (init_on_alloc, on in
 * Debian's kernels), which costs as much as a NULL transform. Each CPU
 * keeps the last context it freed, if of the common size, and hands it
 * out again: its user writes everything it reads. An asynchronous
 * completion frees on whatever CPU it runs on; what a slot cannot take
 * goes back to the allocator.
 */
#define REQ_CACHED_SIZE 1024

static DEFINE_PER_CPU(void *, req_slot);

void *nfsec_req_alloc(size_t len)
{
	void *p;

	if (len > REQ_CACHED_SIZE)
		return kmalloc(len, GFP_ATOMIC);
	p = this_cpu_xchg(req_slot, NULL);
	return p ?: kmalloc(REQ_CACHED_SIZE, GFP_ATOMIC);
}

/* @len as given to nfsec_req_alloc(). */
void nfsec_req_free(void *p, size_t len)
{
	if (len <= REQ_CACHED_SIZE)
		p = this_cpu_xchg(req_slot, p);
	kfree(p);
}

/* Module exit, when no packet is in flight. */
void nfsec_req_cache_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		kfree(per_cpu(req_slot, cpu));
}
