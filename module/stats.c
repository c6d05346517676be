// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: per-CPU counters, summed for netlink.
 */
#include <linux/percpu.h>
#include <net/genetlink.h>
#include "nfsec.h"

struct nfsec_stats __percpu *nfsec_stats_alloc(void)
{
	struct nfsec_stats __percpu *stats;
	int cpu;

	/* Per SA, and userns root may add SAs: charged to its memcg. */
	stats = alloc_percpu_gfp(struct nfsec_stats, GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

void nfsec_stats_free(struct nfsec_stats __percpu *stats)
{
	free_percpu(stats);
}

void nfsec_stats_sum(struct nfsec_stats __percpu *stats,
		     u64 out[__NFSEC_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __NFSEC_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct nfsec_stats *s = per_cpu_ptr(stats, cpu);
		u64 v[__NFSEC_STAT_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < __NFSEC_STAT_MAX; i++)
				v[i] = u64_stats_read(&s->c[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < __NFSEC_STAT_MAX; i++)
			out[i] += v[i];
	}
}

int nfsec_stats_put(struct sk_buff *msg, int attrtype,
		    struct nfsec_stats __percpu *stats)
{
	u64 v[__NFSEC_STAT_MAX];
	struct nlattr *nest;
	int i;

	nfsec_stats_sum(stats, v);
	nest = nla_nest_start(msg, attrtype);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < __NFSEC_STAT_MAX; i++) {
		/* Attribute type 0 is reserved, hence i + 1. */
		if (nla_put_u64_64bit(msg, i + 1, v[i], NFSEC_STATS_A_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}
