// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: asking the keying daemon for an SA, as xfrm's ACQUIRE does.
 *
 * A packet whose out policy has a template that finds no SA is dropped
 * (tx_no_sa), and "events" listeners get an SA_ACQUIRE event: the policy,
 * its template, and the packet's selector, which is what an IKE daemon
 * needs to negotiate the SA (strongSwan's "trap" policies work this way).
 * A policy asks at most once every ACQ_HOLDOFF, as long as xfrm's larval
 * state waits, so a burst of packets asks once while the daemon works.
 * The holdoff is the policy's, not per destination as xfrm's larval SAs
 * are: under a wildcard transport policy, a second peer's request waits
 * for the first one's holdoff.
 */
#include <linux/jiffies.h>
#include <linux/slab.h>
#include "genl.h"
#include "nfsec.h"

#define ACQ_HOLDOFF (30 * HZ)

struct acquire {
	struct work_struct work;
	struct nfsec_net *nn;
	struct nfsec_policy pol;	/* a copy: the policy may go meanwhile */
	struct nfsec_sel sel;		/* the packet's */
};

static void acquire_work(struct work_struct *work)
{
	struct acquire *a = container_of(work, struct acquire, work);

	nfsec_nl_acquire(a->nn, &a->pol, &a->sel);
	kfree(a);
}

/* From the out hook, under RCU: @pol's template found no SA for @fl. */
void nfsec_acquire(struct nfsec_net *nn, struct nfsec_policy *pol,
		   const struct nfsec_flow *fl)
{
	unsigned long next = READ_ONCE(pol->acq_next), now = jiffies;
	struct acquire *a;

	/* A range, not before(): @next may be a wrap of jiffies ago. */
	if (time_in_range(now, next - ACQ_HOLDOFF, next - 1) ||
	    cmpxchg(&pol->acq_next, next, now + ACQ_HOLDOFF) != next)
		return;
	a = kzalloc(sizeof(*a), GFP_ATOMIC);
	if (!a) {
		/* Let the next packet ask. */
		cmpxchg(&pol->acq_next, now + ACQ_HOLDOFF, next);
		return;
	}
	INIT_WORK(&a->work, acquire_work);
	a->nn = nn;
	a->pol.sel = pol->sel;
	a->pol.dir = pol->dir;
	a->pol.action = pol->action;
	a->pol.has_tmpl = pol->has_tmpl;
	a->pol.priority = pol->priority;
	a->pol.index = pol->index;
	a->pol.tmpl = pol->tmpl;
	a->sel = (struct nfsec_sel) {
		.saddr = fl->saddr, .daddr = fl->daddr, .family = fl->family,
		.splen = nfsec_addr_bits(fl->family),
		.dplen = nfsec_addr_bits(fl->family),
		.proto = fl->proto, .sport = fl->sport, .dport = fl->dport,
	};
	queue_work(nfsec_wq, &a->work);
}

/* At netns exit, after the hooks are gone: no request may outlive it. */
void nfsec_acquire_exit(void)
{
	flush_workqueue(nfsec_wq);
}
