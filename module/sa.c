// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the Security Association database of one netns.
 *
 * Two hash tables index every SA: by (daddr, spi, proto) for inbound
 * packets, and by (daddr, proto) for outbound template resolution. Readers
 * walk them under RCU; writers hold nn->lock.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/wait_bit.h>
#include <crypto/aead.h>
#include <crypto/hash.h>
#include "compat.h"
#include "nfsec.h"


/*
 * A cache of its own makes SAs countable in /proc/slabinfo (tests). Root
 * of a user namespace may add SAs: charge them to its memory cgroup.
 */
static struct kmem_cache *sa_cache __read_mostly;

int __init nfsec_sa_cache_init(void)
{
	sa_cache = KMEM_CACHE(nfsec_sa, SLAB_ACCOUNT);
	return sa_cache ? 0 : -ENOMEM;
}

void nfsec_sa_cache_exit(void)
{
	kmem_cache_destroy(sa_cache);
}

/* IPv4 addresses hash as before IPv6 came, in one word. */
static u32 addr_hash(const struct nfsec_net *nn, u8 family,
		     const union nfsec_addr *a)
{
	if (family == AF_INET6)
		return jhash2((__force const u32 *)a->a6.s6_addr32, 4, nn->hash_seed);
	return (__force u32)a->a4;
}

static u32 spi_hash(const struct nfsec_net *nn, u8 family,
		    const union nfsec_addr *daddr, __be32 spi, u8 proto)
{
	return jhash_3words(addr_hash(nn, family, daddr), (__force u32)spi,
			    family << 8 | proto, nn->hash_seed) &
	       (NFSEC_HASH_SIZE - 1);
}

static u32 dst_hash(const struct nfsec_net *nn, u8 family,
		    const union nfsec_addr *daddr, u8 proto)
{
	return jhash_2words(addr_hash(nn, family, daddr), family << 8 | proto,
			    nn->hash_seed) & (NFSEC_HASH_SIZE - 1);
}

int nfsec_sa_init(struct nfsec_net *nn)
{
	nn->hash_seed = get_random_u32();
	nn->sa_spi = kvcalloc(NFSEC_HASH_SIZE, sizeof(*nn->sa_spi), GFP_KERNEL);
	nn->sa_dst = kvcalloc(NFSEC_HASH_SIZE, sizeof(*nn->sa_dst), GFP_KERNEL);
	if (!nn->sa_spi || !nn->sa_dst) {
		kvfree(nn->sa_spi);
		kvfree(nn->sa_dst);
		return -ENOMEM;
	}
	nfsec_spi_init(nn);
	return 0;
}

/*
 * Called after the netns's hooks are gone. Packets still in the crypto
 * layer hold their SA and count on nn->stats: wait for the last one.
 */
void nfsec_sa_exit(struct nfsec_net *nn)
{
	nfsec_spi_exit(nn);
	mutex_lock(&nn->lock);
	nfsec_sa_flush(nn, 0);
	mutex_unlock(&nn->lock);
	wait_var_event(&nn->sa_alive, !atomic_read(&nn->sa_alive));
	kvfree(nn->sa_spi);
	kvfree(nn->sa_dst);
}

struct nfsec_sa *nfsec_sa_alloc(void)
{
	static atomic_t frag_ids = ATOMIC_INIT(0);
	struct nfsec_sa *sa;

	sa = kmem_cache_zalloc(sa_cache, GFP_KERNEL);
	if (!sa)
		return NULL;
	refcount_set(&sa->refcnt, 1);
	spin_lock_init(&sa->lock);
	nfsec_lft_init(sa);
	sa->add_time = ktime_get_real_seconds();
	sa->frag_user = NFSEC_DEFRAG_SA |
			((u32)atomic_inc_return(&frag_ids) & ~NFSEC_DEFRAG_SA);
	/*
	 * Manual keying reuses keys (both directions, or an SA deleted and
	 * added again): a random per-SA offset keeps GCM and ChaCha20 nonces
	 * apart where the sequence numbers alone would repeat them.
	 */
	get_random_bytes(&sa->iv_salt, sizeof(sa->iv_salt));
	sa->stats = nfsec_stats_alloc();
	if (!sa->stats)
		goto free;
	if (dst_cache_init(&sa->dst_cache, GFP_KERNEL_ACCOUNT))
		goto free_stats;
	return sa;
free_stats:
	nfsec_stats_free(sa->stats);
free:
	kmem_cache_free(sa_cache, sa);
	return NULL;
}

static void sa_free(struct nfsec_sa *sa)
{
	struct nfsec_net *nn = sa->nn;

	if (nn && atomic_dec_and_test(&nn->sa_alive))
		wake_up_var(&nn->sa_alive);
	nfsec_crypto_free(sa);
	nfsec_replay_free(&sa->replay);
	nfsec_stats_free(sa->stats);
	dst_cache_destroy(&sa->dst_cache);
	kmem_cache_free(sa_cache, sa);
}

static void sa_free_work(struct work_struct *work)
{
	sa_free(container_of(to_rcu_work(work), struct nfsec_sa, free_work));
}

/* For an SA that was never published. */
void nfsec_sa_destroy(struct nfsec_sa *sa)
{
	sa_free(sa);
}

void nfsec_sa_put(struct nfsec_sa *sa)
{
	/* Readers may still see it; and freeing a transform may sleep. */
	if (refcount_dec_and_test(&sa->refcnt)) {
		INIT_RCU_WORK(&sa->free_work, sa_free_work);
		queue_rcu_work(nfsec_wq, &sa->free_work);
	}
}

struct nfsec_sa *nfsec_sa_lookup(struct nfsec_net *nn, u8 family,
				 const union nfsec_addr *daddr, __be32 spi,
				 u8 proto)
{
	struct hlist_head *head;
	struct nfsec_sa *sa;

	head = &nn->sa_spi[spi_hash(nn, family, daddr, spi, proto)];
	hlist_for_each_entry_rcu(sa, head, spi_node,
				 lockdep_is_held(&nn->lock)) {
		if (sa->spi == spi && sa->proto == proto &&
		    sa->family == family && nfsec_addr_eq(&sa->daddr, daddr))
			return sa;
	}
	return NULL;
}

bool nfsec_tmpl_match_sa(const struct nfsec_tmpl *t, const struct nfsec_sa *sa)
{
	if (t->proto != sa->proto || t->mode != sa->mode)
		return false;
	if ((t->reqid && t->reqid != sa->reqid) || (t->spi && t->spi != sa->spi))
		return false;
	/*
	 * In transport mode too (xfrm ignores them there): a template that
	 * names the peers accepts only their SAs.
	 */
	if (!t->family)
		return true;
	return t->family == sa->family &&
	       (nfsec_addr_any(&t->saddr) ||
		nfsec_addr_eq(&t->saddr, &sa->saddr)) &&
	       (nfsec_addr_any(&t->daddr) ||
		nfsec_addr_eq(&t->daddr, &sa->daddr));
}

struct nfsec_sa *nfsec_sa_lookup_out(struct nfsec_net *nn,
				     const struct nfsec_tmpl *t,
				     const struct nfsec_flow *fl)
{
	bool tunnel = t->mode == NFSEC_MODE_TUNNEL;
	const union nfsec_addr *daddr = tunnel ? &t->daddr : &fl->daddr;
	u8 family = tunnel ? t->family : fl->family;
	struct hlist_head *head;
	struct nfsec_sa *sa;

	head = &nn->sa_dst[dst_hash(nn, family, daddr, t->proto)];
	hlist_for_each_entry_rcu(sa, head, dst_node) {
		if (sa->family != family || !nfsec_addr_eq(&sa->daddr, daddr) ||
		    !nfsec_tmpl_match_sa(t, sa))
			continue;
		/* In transport mode the SA's source is the packet's. */
		if (!tunnel && !nfsec_addr_any(&sa->saddr) &&
		    !nfsec_addr_eq(&sa->saddr, &fl->saddr))
			continue;
		/*
		 * A dead SA (replaced by an update, or being deleted) is
		 * still returned: next_seq() drops the packet (tx_sa_gone).
		 * Skipping it would report no SA, and ask the keying daemon
		 * for one (acquire.c) in the middle of an update.
		 */
		if (nfsec_sel_match(&sa->sel, fl))
			return sa;
	}
	return NULL;
}

/* Publish @sa at its identity. */
static void sa_link(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	sa->nn = nn;
	atomic_inc(&nn->sa_alive);
	hlist_add_head_rcu(&sa->spi_node,
			   &nn->sa_spi[spi_hash(nn, sa->family, &sa->daddr,
						sa->spi, sa->proto)]);
	hlist_add_head_rcu(&sa->dst_node,
			   &nn->sa_dst[dst_hash(nn, sa->family, &sa->daddr,
						sa->proto)]);
}

/*
 * Insert @sa. A reservation of its SPI (spi.c) becomes the SA, whoever
 * made it: the SA takes its place in the count against max_sas.
 */
int nfsec_sa_insert(struct nfsec_net *nn, struct nfsec_sa *sa,
		    struct netlink_ext_ack *extack)
{
	unsigned int max = READ_ONCE(nfsec_max_sas);
	bool resv;

	lockdep_assert_held(&nn->lock);
	if (nfsec_sa_lookup(nn, sa->family, &sa->daddr, sa->spi, sa->proto)) {
		NL_SET_ERR_MSG_MOD(extack, "an SA with this dst, spi and proto exists");
		return -EEXIST;
	}
	resv = nfsec_spi_reserved(nn, sa->family, &sa->daddr, sa->spi, sa->proto);
	if (max && nn->sa_count + nn->spi_count - resv >= max) {
		NL_SET_ERR_MSG_MOD(extack, "this netns has as many SAs as the max_sas module parameter allows");
		return -ENOSPC;
	}
	if (nfsec_natt_port_get(nn, sa)) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the ESP-in-UDP port");
		return -ENOMEM;
	}
	if (resv)
		nfsec_spi_release(nn, sa->family, &sa->daddr, sa->spi, sa->proto);
	sa_link(nn, sa);
	nn->sa_count++;
	nn->genid++;
	nfsec_lft_start(sa);
	return 0;
}

void nfsec_sa_unlink(struct nfsec_net *nn, struct nfsec_sa *sa)
{
	lockdep_assert_held(&nn->lock);
	hlist_del_rcu(&sa->spi_node);
	hlist_del_rcu(&sa->dst_node);
	nfsec_natt_port_put(nn, sa);
	/* Under the lock that the packet path arms the timer under. */
	spin_lock_bh(&sa->lock);
	WRITE_ONCE(sa->dead, true);
	spin_unlock_bh(&sa->lock);
	nfsec_lft_stop(sa);
	nn->sa_count--;
	nn->genid++;
	nfsec_sa_put(sa);
}

/*
 * Whether @old's sequence numbers fit @new: an update dropping flag esn
 * must not leave an SA above 2^32 without it, which SA_ADD refuses (its
 * next packet would overflow, and no packet could pass the replay check).
 */
static bool seq_fits(struct nfsec_sa *old, const struct nfsec_sa *new)
{
	bool fits;

	if (new->flags & NFSEC_SA_F_ESN)
		return true;
	spin_lock_bh(&old->lock);
	fits = old->oseq <= U32_MAX && old->replay.top <= U32_MAX;
	spin_unlock_bh(&old->lock);
	return fits;
}

/*
 * @new takes @old's place with the state that packets built up in it: the
 * sequence numbers, the IV salt (the IVs stay unique only if both continue
 * together), the replay state, the lifetime use, the times and the
 * counters. Packets in flight finish through @old, dead: they hold it.
 * @new may have another destination (a move): it is then hashed there,
 * and the path MTU learnt towards the old one is not kept.
 */
static int sa_take_over(struct nfsec_net *nn, struct nfsec_sa *old,
			struct nfsec_sa *new, struct netlink_ext_ack *extack)
{
	bool same_dst = nfsec_addr_eq(&old->daddr, &new->daddr);
	u64 v[__NFSEC_STAT_MAX];
	int i;

	if (nfsec_natt_port_get(nn, new)) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the ESP-in-UDP port");
		return -ENOMEM;
	}
	nfsec_natt_port_put(nn, old);
	nfsec_stats_sum(old->stats, v);
	for (i = 0; i < __NFSEC_STAT_MAX; i++)
		nfsec_stats_add(new->stats, i, v[i]);

	spin_lock_bh(&old->lock);
	new->oseq = old->oseq;
	new->iv_salt = old->iv_salt;
	new->replay.top = old->replay.top;
	if (old->replay.bmp)
		memcpy(new->replay.bmp, old->replay.bmp,
		       old->replay.nblocks * sizeof(u64));
	new->cur_bytes = old->cur_bytes;
	new->cur_packets = old->cur_packets;
	new->add_time = old->add_time;
	new->use_time = old->use_time;
	new->last_use = old->last_use;
	/* Fragments half through the old SA complete through the new one. */
	new->frag_user = old->frag_user;
	if (same_dst) {
		new->pmtu = old->pmtu;
		new->pmtu_expires = old->pmtu_expires;
	}
	WRITE_ONCE(old->dead, true);
	spin_unlock_bh(&old->lock);

	if (same_dst) {
		new->nn = nn;
		atomic_inc(&nn->sa_alive);
		hlist_replace_rcu(&old->spi_node, &new->spi_node);
		hlist_replace_rcu(&old->dst_node, &new->dst_node);
	} else {
		/* Readers on the old chains go on past @old. */
		hlist_del_rcu(&old->spi_node);
		hlist_del_rcu(&old->dst_node);
		sa_link(nn, new);
	}
	nn->genid++;
	nfsec_lft_stop(old);
	nfsec_lft_start(new);
	nfsec_sa_put(old);
	return 0;
}

/*
 * Update keeps the identity and the state of @old (sa_take_over());
 * everything else comes from @new.
 */
int nfsec_sa_replace(struct nfsec_net *nn, struct nfsec_sa *old,
		     struct nfsec_sa *new, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&nn->lock);
	if (new->replay.size != old->replay.size) {
		NL_SET_ERR_MSG_MOD(extack, "replay-window cannot change on update");
		return -EINVAL;
	}
	if (!seq_fits(old, new)) {
		NL_SET_ERR_MSG_MOD(extack, "sequence numbers above 2^32 need flag esn");
		return -EINVAL;
	}
	return sa_take_over(nn, old, new, extack);
}

/*
 * A copy of @old's configuration for nfsec_sa_move(), sharing its
 * transforms (never its key bytes, which nfsec does not keep). The caller
 * gives it its new addresses.
 */
struct nfsec_sa *nfsec_sa_dup(const struct nfsec_sa *old)
{
	struct nfsec_sa *sa = nfsec_sa_alloc();

	if (!sa)
		return NULL;
	if (nfsec_replay_init(&sa->replay, old->replay.size, 0)) {
		nfsec_sa_destroy(sa);
		return NULL;
	}
	sa->saddr = old->saddr;
	sa->daddr = old->daddr;
	sa->family = old->family;
	sa->spi = old->spi;
	sa->proto = old->proto;
	sa->mode = old->mode;
	sa->reqid = old->reqid;
	sa->flags = old->flags;
	sa->sel = old->sel;
	sa->encap = old->encap;
	sa->lft = old->lft;
	sa->mss = old->mss;
	nfsec_crypto_share(sa, old);
	return sa;
}

/*
 * Move keeps everything of @old (sa_take_over()) but the addresses, encap
 * and reqid that @new (from nfsec_sa_dup()) has; its identity is then
 * @new's destination, which nothing else may have.
 */
int nfsec_sa_move(struct nfsec_net *nn, struct nfsec_sa *old,
		  struct nfsec_sa *new, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&nn->lock);
	if (!nfsec_addr_eq(&old->daddr, &new->daddr)) {
		if (nfsec_sa_lookup(nn, new->family, &new->daddr, new->spi,
				    new->proto)) {
			NL_SET_ERR_MSG_MOD(extack, "an SA with the new dst, this spi and proto exists");
			return -EEXIST;
		}
		if (nfsec_spi_reserved(nn, new->family, &new->daddr, new->spi,
				       new->proto)) {
			NL_SET_ERR_MSG_MOD(extack, "this spi is reserved (allocspi) at the new dst");
			return -EEXIST;
		}
	}
	/* The same limits: a soft expiry told is not told again. */
	nfsec_lft_moved(new, old);
	return sa_take_over(nn, old, new, extack);
}

/* Remove every SA, or those of @proto. Returns how many went. */
unsigned int nfsec_sa_flush(struct nfsec_net *nn, u8 proto)
{
	struct hlist_node *tmp;
	struct nfsec_sa *sa;
	unsigned int i, n = 0;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < NFSEC_HASH_SIZE; i++) {
		hlist_for_each_entry_safe(sa, tmp, &nn->sa_spi[i], spi_node) {
			if (proto && sa->proto != proto)
				continue;
			nfsec_sa_unlink(nn, sa);
			n++;
		}
	}
	return n;
}

/*
 * Dump cursor: the bucket and how many SAs of it were already sent. Every
 * change bumps nn->genid, which the caller reports through
 * genl_dump_check_consistent() so that userspace can retry.
 */
int nfsec_sa_walk(struct nfsec_net *nn, unsigned long *bucket,
		  unsigned long *skip,
		  int (*fn)(struct nfsec_sa *sa, void *arg), void *arg)
{
	struct nfsec_sa *sa;
	unsigned long n;
	int ret;

	lockdep_assert_held(&nn->lock);
	for (; *bucket < NFSEC_HASH_SIZE; (*bucket)++, *skip = 0) {
		n = 0;
		hlist_for_each_entry(sa, &nn->sa_spi[*bucket], spi_node) {
			if (n++ < *skip)
				continue;
			ret = fn(sa, arg);
			if (ret)
				return ret;
			(*skip)++;
		}
	}
	return 0;
}
