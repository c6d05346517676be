// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: selectors and the policy database of one netns.
 *
 * One list per direction, kept in priority order (lower first, then in
 * insertion order), so the first selector that matches wins.
 */
#include <linux/inetdevice.h>
#include <linux/ip.h>
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
	/* Only the first fragment carries the ports. */
	if (!has_ports(iph->protocol) || (iph->frag_off & htons(IP_OFFSET)))
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
	policy_cache = KMEM_CACHE(nfsec_policy, 0);
	return policy_cache ? 0 : -ENOMEM;
}

void nfsec_policy_cache_exit(void)
{
	kmem_cache_destroy(policy_cache);
}

int nfsec_policy_init(struct nfsec_net *nn)
{
	int dir;

	for (dir = 0; dir < ARRAY_SIZE(nn->policies); dir++)
		INIT_LIST_HEAD(&nn->policies[dir]);
	return 0;
}

/* Called with nn->lock held, after the netns's hooks are gone. */
void nfsec_policy_exit(struct nfsec_net *nn)
{
	nfsec_policy_flush(nn, -1);
}

struct nfsec_policy *nfsec_policy_lookup(struct nfsec_net *nn, u8 dir,
					 const struct nfsec_flow *fl)
{
	struct nfsec_policy *pol;

	list_for_each_entry_rcu(pol, &nn->policies[dir], node) {
		if (nfsec_sel_match(&pol->sel, fl))
			return pol;
	}
	return NULL;
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
	pol->stats = alloc_percpu(struct nfsec_pol_stats);
	if (!pol->stats) {
		kmem_cache_free(policy_cache, pol);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(pol->stats, cpu)->syncp);
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
	list_for_each_entry(pol, &nn->policies[dir], node) {
		if (sel_equal(&pol->sel, sel))
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

int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack)
{
	struct list_head *head = &nn->policies[pol->dir];
	struct nfsec_policy *pos;

	lockdep_assert_held(&nn->lock);
	if (nfsec_policy_find(nn, pol->dir, &pol->sel)) {
		NL_SET_ERR_MSG_MOD(extack, "a policy with this selector and dir exists");
		return -EEXIST;
	}
	/* Like xfrm, the index carries the direction in its low 3 bits. */
	pol->index = (++nn->pol_next_index << 3) | pol->dir;
	list_for_each_entry(pos, head, node) {
		if (pos->priority > pol->priority)
			break;
	}
	list_add_tail_rcu(&pol->node, &pos->node);
	nn->pol_count++;
	nn->genid++;
	return 0;
}

void nfsec_policy_unlink(struct nfsec_net *nn, struct nfsec_policy *pol)
{
	lockdep_assert_held(&nn->lock);
	list_del_rcu(&pol->node);
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
	return ok;
}
#endif
