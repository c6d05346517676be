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
#include <net/ip.h>
#include "nfsec.h"

static bool prefix_match(__be32 a, __be32 b, u8 plen)
{
	return !((a ^ b) & inet_make_mask(plen));
}

bool nfsec_sel_match(const struct nfsec_sel *sel, const struct nfsec_flow *fl)
{
	return prefix_match(sel->saddr, fl->saddr, sel->splen) &&
	       prefix_match(sel->daddr, fl->daddr, sel->dplen) &&
	       (!sel->proto || sel->proto == fl->proto) &&
	       (!sel->sport || sel->sport == fl->sport) &&
	       (!sel->dport || sel->dport == fl->dport);
}

static bool has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP;
}

void nfsec_flow_from_skb(const struct sk_buff *skb, struct nfsec_flow *fl)
{
	const struct iphdr *iph = ip_hdr(skb);
	__be16 _ports[2];
	const __be16 *ports;

	fl->saddr = iph->saddr;
	fl->daddr = iph->daddr;
	fl->proto = iph->protocol;
	fl->sport = 0;
	fl->dport = 0;
	/*
	 * Only the first fragment carries the ports: those of every fragment
	 * are opaque (RFC 4301 7), so that all of a datagram's fragments meet
	 * one policy. hooks.c reassembles where a policy names ports.
	 */
	if (!has_ports(iph->protocol) || ip_is_fragment(iph))
		return;
	ports = skb_header_pointer(skb, skb_network_offset(skb) + iph->ihl * 4,
				   sizeof(_ports), _ports);
	if (ports) {
		fl->sport = ports[0];
		fl->dport = ports[1];
	}
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

static struct hlist_head *pol_head(struct nfsec_net *nn, u8 dir, u8 splen,
				   u8 dplen, __be32 saddr, __be32 daddr)
{
	u32 h = jhash_3words((__force u32)(saddr & inet_make_mask(splen)),
			     (__force u32)(daddr & inet_make_mask(dplen)),
			     dir << 16 | splen << 8 | dplen, nn->hash_seed);

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
	struct nfsec_policy *pol, *best = NULL;
	struct nfsec_pol_class *c;
	struct hlist_head *head;

	list_for_each_entry_rcu(c, &nn->pol_classes[dir], node) {
		head = pol_head(nn, dir, c->splen, c->dplen, fl->saddr, fl->daddr);
		hlist_for_each_entry_rcu(pol, head, hnode) {
			/* The chain is in priority order too. */
			if (best && !pol_before(pol, best))
				break;
			if (pol->dir == dir && pol->sel.splen == c->splen &&
			    pol->sel.dplen == c->dplen &&
			    nfsec_sel_match(&pol->sel, fl)) {
				best = pol;
				break;
			}
		}
	}
	return best;
}

void nfsec_policy_count(struct nfsec_policy *pol, unsigned int len)
{
	struct nfsec_pol_stats *s = get_cpu_ptr(pol->stats);

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
	return a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->splen == b->splen && a->dplen == b->dplen &&
	       a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport;
}

struct nfsec_policy *nfsec_policy_find(struct nfsec_net *nn, u8 dir,
				       const struct nfsec_sel *sel)
{
	struct nfsec_policy *pol;

	lockdep_assert_held(&nn->lock);
	hlist_for_each_entry(pol, pol_head(nn, dir, sel->splen, sel->dplen,
					   sel->saddr, sel->daddr), hnode) {
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
		if (c->splen == pol->sel.splen && c->dplen == pol->sel.dplen)
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
	const struct nfsec_sel *sel = &pol->sel;
	struct nfsec_policy *pos, *last = NULL;
	struct hlist_head *head;

	head = pol_head(nn, pol->dir, sel->splen, sel->dplen, sel->saddr,
			sel->daddr);
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

bool __init nfsec_policy_selftest(void)
{
	static const struct {
		struct nfsec_sel sel;
		struct nfsec_flow fl;
		bool match;
	} t[] = {
		{ {}, { htonl(0x0a000001), htonl(0x0a000002), 6 }, true },
		{ { .saddr = htonl(0x0a010000), .splen = 24 },
		  { htonl(0x0a0100fe), htonl(0x0a020001), 1 }, true },
		{ { .saddr = htonl(0x0a010000), .splen = 24 },
		  { htonl(0x0a0101fe), htonl(0x0a020001), 1 }, false },
		{ { .daddr = htonl(0x0a020001), .dplen = 32 },
		  { htonl(0x0a0100fe), htonl(0x0a020001), 1 }, true },
		{ { .daddr = htonl(0x0a020001), .dplen = 32 },
		  { htonl(0x0a0100fe), htonl(0x0a020002), 1 }, false },
		{ { .proto = 6 }, { 0, 0, 17 }, false },
		{ { .proto = 6, .dport = htons(22) },
		  { 0, 0, 6, htons(1000), htons(22) }, true },
		{ { .proto = 6, .dport = htons(22) },
		  { 0, 0, 6, htons(22), htons(1000) }, false },
		{ { .proto = 17, .sport = htons(53) },
		  { 0, 0, 17, htons(53), htons(9) }, true },
		{ { .saddr = htonl(0x80000000), .splen = 1 },
		  { htonl(0x7fffffff), 0, 0 }, false },
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
