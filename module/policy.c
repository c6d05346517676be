// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: selectors and the policy database of one netns.
 *
 * The policy that applies to a packet is the first whose selector
 * matches, in priority order (lower first, then the older). The control
 * plane keeps one list per direction in that order, for dumps. The packet
 * path must not walk 10,000 policies: each policy is also hashed by its
 * direction, its two prefix lengths and its addresses masked to them,
 * each chain kept in priority order, and the prefix-length pairs that a
 * direction uses form its "classes". A lookup hashes the packet once per
 * class (a handful: /32 hosts, /24 subnets, /0 catch-alls) and keeps the
 * best first match.
 */
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/ip.h>
#include "nfsec.h"

bool nfsec_prefix_match(u8 family, const union nfsec_addr *a,
			const union nfsec_addr *b, u8 plen)
{
	if (family == AF_INET6)
		return ipv6_prefix_equal(&a->a6, &b->a6, plen);
	return !((a->a4 ^ b->a4) & inet_make_mask(plen));
}

/* Clear the host bits past @plen. */
void nfsec_addr_mask(u8 family, union nfsec_addr *a, u8 plen)
{
	struct in6_addr pfx;

	if (family == AF_INET6) {
		ipv6_addr_prefix(&pfx, &a->a6, plen);
		a->a6 = pfx;
	} else {
		a->a4 &= inet_make_mask(plen);
	}
}

/*
 * A selector of family AF_UNSPEC (an SA's, af-unspec) has no addresses,
 * and matches packets of both families.
 */
bool nfsec_sel_match(const struct nfsec_sel *sel, const struct nfsec_flow *fl)
{
	if (sel->family && sel->family != fl->family)
		return false;
	return nfsec_prefix_match(fl->family, &sel->saddr, &fl->saddr,
				  sel->splen) &&
	       nfsec_prefix_match(fl->family, &sel->daddr, &fl->daddr,
				  sel->dplen) &&
	       (!sel->proto || sel->proto == fl->proto) &&
	       (!sel->sport || sel->sport == fl->sport) &&
	       (!sel->dport || sel->dport == fl->dport);
}

static struct kmem_cache *policy_cache __read_mostly;

int __init nfsec_policy_cache_init(void)
{
	/* Charged to the memcg of whoever adds policies (userns root). */
	policy_cache = KMEM_CACHE(nfsec_policy, SLAB_ACCOUNT);
	return policy_cache ? 0 : -ENOMEM;
}

void nfsec_policy_cache_exit(void)
{
	kmem_cache_destroy(policy_cache);
}

/* A pair of prefix lengths that policies of one direction use. */
struct nfsec_pol_class {
	struct list_head node;		/* nn->pol_classes[dir] */
	struct rcu_head rcu;
	u8 family;
	u8 splen;
	u8 dplen;
	unsigned int refs;		/* policies, under nn->lock */
};

int nfsec_policy_init(struct nfsec_net *nn)
{
	int dir;

	nn->pol_hash = kvcalloc(NFSEC_HASH_SIZE, sizeof(*nn->pol_hash),
				GFP_KERNEL);
	if (!nn->pol_hash)
		return -ENOMEM;
	for (dir = 0; dir < ARRAY_SIZE(nn->policies); dir++) {
		INIT_LIST_HEAD(&nn->policies[dir]);
		INIT_LIST_HEAD(&nn->pol_classes[dir]);
	}
	return 0;
}

/* Called with nn->lock held, after the netns's hooks are gone. */
void nfsec_policy_exit(struct nfsec_net *nn)
{
	nfsec_policy_flush(nn, -1);
	kvfree(nn->pol_hash);
}

/*
 * The chain of the policies of @dir whose selectors have @sel's family and
 * prefix lengths and @sel's addresses once masked to them. A packet's flow
 * is looked up as such a selector, once per class.
 */
static struct hlist_head *pol_head(struct nfsec_net *nn, u8 dir,
				   const struct nfsec_sel *sel)
{
	u32 key = sel->family << 24 | dir << 16 | sel->splen << 8 | sel->dplen;
	union nfsec_addr a[2] = { sel->saddr, sel->daddr };
	u32 h;

	nfsec_addr_mask(sel->family, &a[0], sel->splen);
	nfsec_addr_mask(sel->family, &a[1], sel->dplen);
	if (sel->family == AF_INET6)
		h = jhash2((__force const u32 *)a[0].a6.s6_addr32, 4,
			   jhash2((__force const u32 *)a[1].a6.s6_addr32, 4,
				  nn->hash_seed ^ key));
	else
		h = jhash_3words((__force u32)a[0].a4, (__force u32)a[1].a4,
				 key, nn->hash_seed);
	return &nn->pol_hash[hash_32(h, NFSEC_HASH_BITS)];
}

static bool pol_before(const struct nfsec_policy *a,
		       const struct nfsec_policy *b)
{
	return a->priority < b->priority ||
	       (a->priority == b->priority && a->seq < b->seq);
}

struct nfsec_policy *nfsec_policy_lookup(struct nfsec_net *nn, u8 dir,
					 const struct nfsec_flow *fl)
{
	struct nfsec_sel key = {
		.saddr = fl->saddr, .daddr = fl->daddr, .family = fl->family,
	};
	struct nfsec_policy *pol, *best = NULL;
	struct nfsec_pol_class *c;
	struct hlist_head *head;

	list_for_each_entry_rcu(c, &nn->pol_classes[dir], node) {
		if (c->family != fl->family)
			continue;
		key.splen = c->splen;
		key.dplen = c->dplen;
		head = pol_head(nn, dir, &key);
		hlist_for_each_entry_rcu(pol, head, hnode) {
			/* The chain is in priority order too. */
			if (best && !pol_before(pol, best))
				break;
			if (pol->dir == dir && pol->sel.family == c->family &&
			    pol->sel.splen == c->splen &&
			    pol->sel.dplen == c->dplen &&
			    nfsec_sel_match(&pol->sel, fl)) {
				best = pol;
				break;
			}
		}
	}
	return best;
}

/*
 * Count a packet that matched @pol, and note when (CLOCK_MONOTONIC
 * seconds): a plain store, at most once a second, so that CPUs sharing
 * a policy do not bounce its cache line at every packet.
 */
void nfsec_policy_count(struct nfsec_policy *pol, unsigned int len)
{
	struct nfsec_pol_stats *s;
	time64_t mono = ktime_get_seconds() ?: 1;

	if (READ_ONCE(pol->last_use) != mono)
		WRITE_ONCE(pol->last_use, mono);
	s = get_cpu_ptr(pol->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, len);
	u64_stats_update_end(&s->syncp);
	put_cpu_ptr(pol->stats);
}

struct nfsec_policy *nfsec_policy_alloc(void)
{
	struct nfsec_policy *pol;
	int cpu;

	pol = kmem_cache_zalloc(policy_cache, GFP_KERNEL);
	if (!pol)
		return NULL;
	pol->stats = alloc_percpu_gfp(struct nfsec_pol_stats, GFP_KERNEL_ACCOUNT);
	if (!pol->stats) {
		kmem_cache_free(policy_cache, pol);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(pol->stats, cpu)->syncp);
	pol->acq_next = jiffies;
	return pol;
}

void nfsec_policy_destroy(struct nfsec_policy *pol)
{
	free_percpu(pol->stats);
	kmem_cache_free(policy_cache, pol);
}

static void policy_free_rcu(struct rcu_head *rcu)
{
	nfsec_policy_destroy(container_of(rcu, struct nfsec_policy, rcu));
}

static bool sel_equal(const struct nfsec_sel *a, const struct nfsec_sel *b)
{
	return a->family == b->family && nfsec_addr_eq(&a->saddr, &b->saddr) &&
	       nfsec_addr_eq(&a->daddr, &b->daddr) &&
	       a->splen == b->splen && a->dplen == b->dplen &&
	       a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport;
}

struct nfsec_policy *nfsec_policy_find(struct nfsec_net *nn, u8 dir,
				       const struct nfsec_sel *sel)
{
	struct nfsec_policy *pol;

	lockdep_assert_held(&nn->lock);
	hlist_for_each_entry(pol, pol_head(nn, dir, sel), hnode) {
		if (pol->dir == dir && sel_equal(&pol->sel, sel))
			return pol;
	}
	return NULL;
}

struct nfsec_policy *nfsec_policy_find_index(struct nfsec_net *nn, u32 index)
{
	u8 dir = index & 7;
	struct nfsec_policy *pol;

	lockdep_assert_held(&nn->lock);
	if (dir >= ARRAY_SIZE(nn->policies))
		return NULL;
	list_for_each_entry(pol, &nn->policies[dir], node) {
		if (pol->index == index)
			return pol;
	}
	return NULL;
}

static struct nfsec_pol_class *class_find(struct nfsec_net *nn,
					  const struct nfsec_policy *pol)
{
	struct nfsec_pol_class *c;

	list_for_each_entry(c, &nn->pol_classes[pol->dir], node)
		if (c->family == pol->sel.family &&
		    c->splen == pol->sel.splen && c->dplen == pol->sel.dplen)
			return c;
	return NULL;
}

static int class_get(struct nfsec_net *nn, const struct nfsec_policy *pol)
{
	struct nfsec_pol_class *c = class_find(nn, pol);

	if (c) {
		c->refs++;
		return 0;
	}
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	c->family = pol->sel.family;
	c->splen = pol->sel.splen;
	c->dplen = pol->sel.dplen;
	c->refs = 1;
	list_add_tail_rcu(&c->node, &nn->pol_classes[pol->dir]);
	return 0;
}

static void class_put(struct nfsec_net *nn, const struct nfsec_policy *pol)
{
	struct nfsec_pol_class *c = class_find(nn, pol);

	if (WARN_ON_ONCE(!c) || --c->refs)
		return;
	list_del_rcu(&c->node);
	kfree_rcu(c, rcu);
}

/* Into its hash chain, in priority order. */
static void chain_add(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	struct hlist_head *head = pol_head(nn, pol->dir, &pol->sel);
	struct nfsec_policy *pos, *last = NULL;

	hlist_for_each_entry(pos, head, hnode) {
		if (pol_before(pol, pos)) {
			hlist_add_before_rcu(&pol->hnode, &pos->hnode);
			return;
		}
		last = pos;
	}
	if (last)
		hlist_add_behind_rcu(&pol->hnode, &last->hnode);
	else
		hlist_add_head_rcu(&pol->hnode, head);
}

/* Into the list and its hash chain: visible to the packet path. */
static void pol_link(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	struct list_head *head = &nn->policies[pol->dir];
	struct nfsec_policy *pos;

	/* In lookup order: from the tail, after the last that goes first. */
	list_for_each_entry_reverse(pos, head, node) {
		if (!pol_before(pol, pos))
			break;
	}
	list_add_rcu(&pol->node, &pos->node);
	chain_add(nn, pol);
	if (pol->sel.sport || pol->sel.dport)
		WRITE_ONCE(nn->pol_ports[pol->dir], nn->pol_ports[pol->dir] + 1);
	nn->pol_count++;
	nn->genid++;
}

#define POL_INDEX_MASK (BIT(29) - 1)	/* the counter above the dir bits */

/*
 * Like xfrm, the index carries the direction in its low 3 bits and a
 * counter above them. The counter wraps after 2^29 insertions: from then
 * on skip indexes still in use, as an index must name one policy (del and
 * get by index). Until then every index is fresh, and insertion (the
 * scale test's 10,000 policies) needs no walk of the list.
 */
static u32 index_alloc(struct nfsec_net *nn, u8 dir)
{
	u32 index;

	for (;;) {
		nn->pol_next_index = (nn->pol_next_index + 1) & POL_INDEX_MASK;
		if (!nn->pol_next_index) {
			/* 0 is not an index: a policy's is never 0..7 */
			nn->pol_index_wrapped = true;
			continue;
		}
		index = nn->pol_next_index << 3 | dir;
		if (!nn->pol_index_wrapped || !nfsec_policy_find_index(nn, index))
			return index;
	}
}

int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack)
{
	unsigned int max = READ_ONCE(nfsec_max_policies);

	lockdep_assert_held(&nn->lock);
	if (nfsec_policy_find(nn, pol->dir, &pol->sel)) {
		NL_SET_ERR_MSG_MOD(extack, "a policy with this selector and dir exists");
		return -EEXIST;
	}
	if (max && nn->pol_count >= max) {
		NL_SET_ERR_MSG_MOD(extack, "this netns has as many policies as the max_policies module parameter allows");
		return -ENOSPC;
	}
	if (class_get(nn, pol)) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory");
		return -ENOMEM;
	}
	pol->index = index_alloc(nn, pol->dir);
	pol->seq = ++nn->pol_seq;
	pol_link(nn, pol);
	return 0;
}

/*
 * @pol takes the place of @old, which has the same selector and dir, so
 * the same hash chain: its index, and its age among policies of one
 * priority. @pol goes in before @old goes out, so a packet meanwhile
 * finds one of them, never neither (and falls through to a policy below,
 * or to none). Where @pol goes after @old in the chain, a reader past
 * @old still reaches it. Where it goes before (a better priority), a
 * reader between the two would lose both once @old is unlinked: wait for
 * such readers first.
 */
int nfsec_policy_replace(struct nfsec_net *nn, struct nfsec_policy *old,
			 struct nfsec_policy *pol)
{
	lockdep_assert_held(&nn->lock);
	if (class_get(nn, pol))
		return -ENOMEM;
	pol->index = old->index;
	pol->seq = old->seq;
	pol_link(nn, pol);
	if (pol_before(pol, old))
		synchronize_rcu();
	nfsec_policy_unlink(nn, old);
	return 0;
}

void nfsec_policy_unlink(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	lockdep_assert_held(&nn->lock);
	list_del_rcu(&pol->node);
	hlist_del_rcu(&pol->hnode);
	class_put(nn, pol);
	if (pol->sel.sport || pol->sel.dport)
		WRITE_ONCE(nn->pol_ports[pol->dir], nn->pol_ports[pol->dir] - 1);
	nn->pol_count--;
	nn->genid++;
	call_rcu(&pol->rcu, policy_free_rcu);
}

/* Remove the policies of @dir, or all of them when @dir < 0. */
unsigned int nfsec_policy_flush(struct nfsec_net *nn, int dir)
{
	struct nfsec_policy *pol, *tmp;
	unsigned int n = 0;
	int d;

	lockdep_assert_held(&nn->lock);
	for (d = 0; d < ARRAY_SIZE(nn->policies); d++) {
		if (dir >= 0 && d != dir)
			continue;
		list_for_each_entry_safe(pol, tmp, &nn->policies[d], node) {
			nfsec_policy_unlink(nn, pol);
			n++;
		}
	}
	return n;
}

#ifdef DEBUG
/*
 * Index allocation across the counter's wrap: fresh indexes without a
 * check before it, indexes in use (1 and 2 in dir out) skipped after.
 */
static bool __init index_selftest(void)
{
	static const struct {
		u32 next;		/* counter before the call */
		bool wrapped;
		u32 want;		/* counter part of the index */
	} t[] = {
		{ 0, false, 1 },
		{ 5, false, 6 },
		{ 1, false, 2 },		/* before the wrap: no check */
		{ POL_INDEX_MASK - 1, false, POL_INDEX_MASK },
		{ POL_INDEX_MASK, false, 3 },	/* wraps, skips 0, 1, 2 */
		{ 1, true, 3 },
		{ 3, true, 4 },
	};
	static struct nfsec_policy used[2];
	struct nfsec_net *nn;
	bool ok = true;
	u32 got;
	int i;

	nn = kzalloc(sizeof(*nn), GFP_KERNEL);
	if (!nn)
		return false;
	mutex_init(&nn->lock);
	for (i = 0; i < ARRAY_SIZE(nn->policies); i++)
		INIT_LIST_HEAD(&nn->policies[i]);
	for (i = 0; i < ARRAY_SIZE(used); i++) {
		used[i].index = (i + 1) << 3 | NFSEC_DIR_OUT;
		list_add_tail(&used[i].node, &nn->policies[NFSEC_DIR_OUT]);
	}
	mutex_lock(&nn->lock);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		nn->pol_next_index = t[i].next;
		nn->pol_index_wrapped = t[i].wrapped;
		got = index_alloc(nn, NFSEC_DIR_OUT);
		if (got != (t[i].want << 3 | NFSEC_DIR_OUT)) {
			pr_err("policy index self-test %d: fail (%#x)\n", i + 1, got);
			ok = false;
		}
	}
	mutex_unlock(&nn->lock);
	kfree(nn);
	if (ok)
		pr_info("policy index self-tests: pass\n");
	return ok;
}

#define V4(a) { .a4 = htonl(a) }
#define V6(a, b, c, d) { .a6.s6_addr32 = { htonl(a), htonl(b), htonl(c), htonl(d) } }
#define FL4(s, d, p, ...) { .saddr = V4(s), .daddr = V4(d), .family = AF_INET, \
			   .proto = (p), __VA_ARGS__ }
#define FL6(s, d, p) { .saddr = s, .daddr = d, .family = AF_INET6, .proto = (p) }

bool __init nfsec_policy_selftest(void)
{
	static const struct {
		struct nfsec_sel sel;
		struct nfsec_flow fl;
		bool match;
	} t[] = {
		{ { .family = AF_INET }, FL4(0x0a000001, 0x0a000002, 6), true },
		{ { .family = AF_INET, .saddr = V4(0x0a010000), .splen = 24 },
		  FL4(0x0a0100fe, 0x0a020001, 1), true },
		{ { .family = AF_INET, .saddr = V4(0x0a010000), .splen = 24 },
		  FL4(0x0a0101fe, 0x0a020001, 1), false },
		{ { .family = AF_INET, .daddr = V4(0x0a020001), .dplen = 32 },
		  FL4(0x0a0100fe, 0x0a020001, 1), true },
		{ { .family = AF_INET, .daddr = V4(0x0a020001), .dplen = 32 },
		  FL4(0x0a0100fe, 0x0a020002, 1), false },
		{ { .family = AF_INET, .proto = 6 }, FL4(0, 0, 17), false },
		{ { .family = AF_INET, .proto = 6, .dport = htons(22) },
		  FL4(0, 0, 6, .sport = htons(1000), .dport = htons(22)), true },
		{ { .family = AF_INET, .proto = 6, .dport = htons(22) },
		  FL4(0, 0, 6, .sport = htons(22), .dport = htons(1000)), false },
		{ { .family = AF_INET, .proto = 17, .sport = htons(53) },
		  FL4(0, 0, 17, .sport = htons(53), .dport = htons(9)), true },
		{ { .family = AF_INET, .saddr = V4(0x80000000), .splen = 1 },
		  FL4(0x7fffffff, 0, 0), false },
		/* Families: ::/0 is not 0.0.0.0/0; af-unspec takes both. */
		{ { .family = AF_INET6 }, FL4(0x0a000001, 0x0a000002, 6), false },
		{ { .family = AF_INET }, FL6(V6(0x20010db8, 0, 0, 1),
					    V6(0x20010db8, 0, 0, 2), 6), false },
		{ { .family = AF_UNSPEC }, FL4(0x0a000001, 0x0a000002, 6), true },
		{ { .family = AF_UNSPEC }, FL6(V6(0x20010db8, 0, 0, 1),
					      V6(0x20010db8, 0, 0, 2), 6), true },
		/* IPv6 prefixes: /0, /32, /64, /127, /128. */
		{ { .family = AF_INET6 }, FL6(V6(0x20010db8, 0, 0, 1),
					     V6(0xfe800000, 0, 0, 2), 58), true },
		{ { .family = AF_INET6, .saddr = V6(0x20010db8, 0, 0, 0), .splen = 32 },
		  FL6(V6(0x20010db8, 0xffff, 0, 1), V6(0, 0, 0, 1), 6), true },
		{ { .family = AF_INET6, .saddr = V6(0x20010db8, 0, 0, 0), .splen = 32 },
		  FL6(V6(0x20010db9, 0, 0, 1), V6(0, 0, 0, 1), 6), false },
		{ { .family = AF_INET6, .daddr = V6(0x20010db8, 1, 0, 0), .dplen = 64 },
		  FL6(V6(0, 0, 0, 1), V6(0x20010db8, 1, 0xffff, 7), 6), true },
		{ { .family = AF_INET6, .daddr = V6(0x20010db8, 1, 0, 0), .dplen = 64 },
		  FL6(V6(0, 0, 0, 1), V6(0x20010db8, 2, 0, 7), 6), false },
		{ { .family = AF_INET6, .daddr = V6(0x20010db8, 0, 0, 2), .dplen = 127 },
		  FL6(V6(0, 0, 0, 1), V6(0x20010db8, 0, 0, 3), 6), true },
		{ { .family = AF_INET6, .daddr = V6(0x20010db8, 0, 0, 2), .dplen = 127 },
		  FL6(V6(0, 0, 0, 1), V6(0x20010db8, 0, 0, 4), 6), false },
		{ { .family = AF_INET6, .daddr = V6(0x20010db8, 0, 0, 2), .dplen = 128 },
		  FL6(V6(0, 0, 0, 1), V6(0x20010db8, 0, 0, 3), 6), false },
		/* An IPv4 address is not the IPv6 one with the same first word. */
		{ { .family = AF_INET6, .daddr = V6(0x0a000002, 0, 0, 0), .dplen = 128 },
		  FL4(0x0a000001, 0x0a000002, 6), false },
	};
	bool ok = true;
	int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (nfsec_sel_match(&t[i].sel, &t[i].fl) != t[i].match) {
			pr_err("selector self-test %d: fail\n", i + 1);
			ok = false;
		}
	}
	if (ok)
		pr_info("selector self-tests: pass\n");
	return index_selftest() && ok;
}
#endif
