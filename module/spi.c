// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: SPI reservations (SA_ALLOCSPI), as xfrm's larval states.
 *
 * A keying daemon picks its inbound SPI before it has keys: it asks for an
 * SPI of a range that no SA and no other reservation of (dst, proto) has,
 * and the SPI stays its own for a while (30 s by default, xfrm's acquire
 * expiry), so that two daemons, or a daemon and a person, never pick the
 * same. SA_ADD of that (dst, spi, proto), or SA_UPDATE where no SA exists
 * yet (charon installs its inbound SAs that way), turns the reservation
 * into the SA, from whichever socket (sa.c); SA_DEL releases it.
 *
 * A reservation is not an SA: it is kept here, in a table of its own that
 * only the control plane reads (under nn->lock), never by the packet path.
 * A packet for a reserved SPI finds no SA: rx_no_sa, as for any unknown
 * SPI. It counts against max_sas, as xfrm's larval states count among its
 * states. An expired one is no longer a reservation, whatever its memory
 * does: a work item frees them, late by up to a second.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include "nfsec.h"

struct spi_resv {
	struct hlist_node node;		/* nn->spi_resv */
	union nfsec_addr daddr;
	u8 family;
	u8 proto;
	__be32 spi;
	unsigned long expires;		/* jiffies */
};

static struct hlist_head *spi_head(struct nfsec_net *nn, u8 family,
				   const union nfsec_addr *daddr, __be32 spi,
				   u8 proto)
{
	u32 h = jhash2((__force const u32 *)daddr->a6.s6_addr32, 4,
		       nn->hash_seed);

	h = jhash_3words(h, (__force u32)spi, family << 8 | proto,
			 nn->hash_seed);
	return &nn->spi_resv[h & ((1U << NFSEC_SPI_BITS) - 1)];
}

static struct spi_resv *spi_find(struct nfsec_net *nn, u8 family,
				 const union nfsec_addr *daddr, __be32 spi,
				 u8 proto)
{
	struct spi_resv *r;

	lockdep_assert_held(&nn->lock);
	hlist_for_each_entry(r, spi_head(nn, family, daddr, spi, proto), node)
		if (r->spi == spi && r->proto == proto &&
		    r->family == family && nfsec_addr_eq(&r->daddr, daddr))
			return r;
	return NULL;
}

static void spi_free(struct nfsec_net *nn, struct spi_resv *r)
{
	hlist_del(&r->node);
	nn->spi_count--;
	kfree(r);
}

static bool spi_expired(const struct spi_resv *r)
{
	return time_after_eq(jiffies, r->expires);
}

/* Have the work item run when the first reservation expires. */
static void spi_gc_arm(struct nfsec_net *nn, unsigned long when)
{
	unsigned long now = jiffies;

	/* A second late is fine: expired ones are ignored already. */
	when = round_jiffies_up(when);
	if (!delayed_work_pending(&nn->spi_gc) ||
	    time_before(when, READ_ONCE(nn->spi_gc.timer.expires)))
		mod_delayed_work(nfsec_wq, &nn->spi_gc,
				 time_after(when, now) ? when - now : 0);
}

static void spi_gc(struct work_struct *work)
{
	struct nfsec_net *nn = container_of(to_delayed_work(work),
					    struct nfsec_net, spi_gc);
	unsigned long next = 0;
	struct hlist_node *tmp;
	struct spi_resv *r;
	bool more = false;
	unsigned int i;

	mutex_lock(&nn->lock);
	for (i = 0; i < ARRAY_SIZE(nn->spi_resv); i++) {
		hlist_for_each_entry_safe(r, tmp, &nn->spi_resv[i], node) {
			if (spi_expired(r)) {
				spi_free(nn, r);
			} else if (!more || time_before(r->expires, next)) {
				next = r->expires;
				more = true;
			}
		}
	}
	if (more)
		spi_gc_arm(nn, next);
	mutex_unlock(&nn->lock);
}

void nfsec_spi_init(struct nfsec_net *nn)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nn->spi_resv); i++)
		INIT_HLIST_HEAD(&nn->spi_resv[i]);
	INIT_DELAYED_WORK(&nn->spi_gc, spi_gc);
}

/* The netns goes (or the module): no request can come any more. */
void nfsec_spi_exit(struct nfsec_net *nn)
{
	cancel_delayed_work_sync(&nn->spi_gc);
	mutex_lock(&nn->lock);
	nfsec_spi_flush(nn, 0);
	mutex_unlock(&nn->lock);
}

/* Whether (dst, spi, proto) is free for a new reservation. */
static bool spi_free_for(struct nfsec_net *nn, u8 family,
			 const union nfsec_addr *daddr, __be32 spi, u8 proto)
{
	struct spi_resv *r;

	if (nfsec_sa_lookup(nn, family, daddr, spi, proto))
		return false;
	r = spi_find(nn, family, daddr, spi, proto);
	if (!r)
		return true;
	if (!spi_expired(r))
		return false;
	spi_free(nn, r);
	return true;
}

/*
 * Reserve an SPI of [@min, @max] (host order, 0 < @min <= @max) for
 * @timeout seconds. The search starts at a random SPI of the range and
 * takes the next free one: it looks at no more SPIs than there are SAs
 * and reservations, plus one, and finds the last free SPI of a range.
 */
int nfsec_spi_alloc(struct nfsec_net *nn, u8 family,
		    const union nfsec_addr *daddr, u8 proto, u32 min, u32 max,
		    unsigned int timeout, __be32 *spi,
		    struct netlink_ext_ack *extack)
{
	unsigned int limit = READ_ONCE(nfsec_max_sas);
	u32 range = max - min + 1;	/* min > 0: no overflow */
	u32 off, i;
	struct spi_resv *r;

	lockdep_assert_held(&nn->lock);
	if (limit && nn->sa_count + nn->spi_count >= limit) {
		NL_SET_ERR_MSG_MOD(extack, "this netns has as many SAs and SPI reservations as the max_sas module parameter allows");
		return -ENOSPC;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory");
		return -ENOMEM;
	}
	off = get_random_u32_below(range);
	for (i = 0; i < range; i++) {
		u32 v = min + (u32)(((u64)off + i) % range);

		if (spi_free_for(nn, family, daddr, htonl(v), proto)) {
			r->spi = htonl(v);
			break;
		}
		if (!(i & 1023))
			cond_resched();
	}
	if (!r->spi) {
		kfree(r);
		NL_SET_ERR_MSG_MOD(extack, "every SPI of the range is used by an SA or reserved");
		return -EADDRINUSE;
	}
	r->daddr = *daddr;
	r->family = family;
	r->proto = proto;
	r->expires = jiffies + timeout * HZ;
	hlist_add_head(&r->node, spi_head(nn, family, daddr, r->spi, proto));
	nn->spi_count++;
	spi_gc_arm(nn, r->expires);
	*spi = r->spi;
	return 0;
}

/*
 * Whether a reservation holds (dst, spi, proto) in nn->spi_count: one
 * that has expired too, until it is freed, so that an SA that takes it
 * over never finds the netns fuller than before.
 */
bool nfsec_spi_reserved(struct nfsec_net *nn, u8 family,
			const union nfsec_addr *daddr, __be32 spi, u8 proto)
{
	return spi_find(nn, family, daddr, spi, proto);
}

/* Drop the reservation of (dst, spi, proto); false if there was none. */
bool nfsec_spi_release(struct nfsec_net *nn, u8 family,
		       const union nfsec_addr *daddr, __be32 spi, u8 proto)
{
	struct spi_resv *r = spi_find(nn, family, daddr, spi, proto);
	bool live = r && !spi_expired(r);

	if (r)
		spi_free(nn, r);
	return live;
}

/* Drop every reservation, or those of @proto. Returns how many went. */
unsigned int nfsec_spi_flush(struct nfsec_net *nn, u8 proto)
{
	struct hlist_node *tmp;
	struct spi_resv *r;
	unsigned int i, n = 0;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < ARRAY_SIZE(nn->spi_resv); i++) {
		hlist_for_each_entry_safe(r, tmp, &nn->spi_resv[i], node) {
			if (proto && r->proto != proto)
				continue;
			spi_free(nn, r);
			n++;
		}
	}
	return n;
}
