// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: decapsulated packets wait in a per-CPU queue and re-enter the
 * stack from a NAPI poll, not from inside the transform's completion.
 *
 * xfrm does the same for tunnel mode (gro_cells, or netif_rx() where the
 * device has no GRO), and it is faster for it: the completion returns
 * at once to the packet it came from, and what was decapsulated is
 * delivered in a batch, from a shallower stack, once the softirq gets to
 * it (a third more GCM tunnel throughput in `make bench`).
 *
 * Each queued packet holds its SA, so a netns going away waits for its
 * packets (nfsec_sa_exit() waits for every SA), and its device. A queue
 * is filled by its own CPU and polled there too, except when that CPU
 * goes offline: then dev_cpu_dead() hands the poll to another CPU, and
 * the first CPU may come back while it runs. The queue's lock covers
 * that; it is otherwise uncontended, and a poll takes it once per batch.
 */
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include "compat.h"
#include "nfsec.h"

struct rxq {
	struct sk_buff_head skbs;
	struct napi_struct napi;
};

static struct rxq __percpu *rxqs;
static struct net_device napi_dev;	/* a NAPI needs one; never registered */

static int rxq_poll(struct napi_struct *napi, int budget)
{
	struct rxq *q = container_of(napi, struct rxq, napi);
	struct sk_buff_head batch;
	struct net_device *dev;
	struct nfsec_sa *sa;
	struct sk_buff *skb;
	int done = 0;

	__skb_queue_head_init(&batch);
	spin_lock(&q->skbs.lock);
	while (skb_queue_len(&batch) < budget &&
	       (skb = __skb_dequeue(&q->skbs)))
		__skb_queue_tail(&batch, skb);
	spin_unlock(&q->skbs.lock);

	rcu_read_lock();
	while ((skb = __skb_dequeue(&batch))) {
		sa = NFSEC_CB(skb)->sa;
		dev = skb->dev;
		/* Not into another netns, if the device moved meanwhile. */
		if (net_eq(dev_net(dev), sa->nn->net)) {
			nfsec_deliver(skb, sa);
		} else {
			nfsec_count(sa->nn, sa, NFSEC_STAT_RX_SA_GONE, 1);
			kfree_skb(skb);
		}
		nfsec_sa_put(sa);
		dev_put(dev);
		done++;
	}
	rcu_read_unlock();
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

/*
 * With BH disabled. Takes @skb with the caller's references on @sa and
 * skb->dev, or returns false if the queue is full: then the caller keeps
 * all three.
 */
bool nfsec_rxq_add(struct nfsec_sa *sa, struct sk_buff *skb)
{
	struct rxq *q = this_cpu_ptr(rxqs);
	bool first;

	NFSEC_CB(skb)->sa = sa;
	spin_lock(&q->skbs.lock);
	if (skb_queue_len(&q->skbs) > nfsec_max_backlog()) {
		spin_unlock(&q->skbs.lock);
		return false;
	}
	__skb_queue_tail(&q->skbs, skb);
	first = skb_queue_len(&q->skbs) == 1;
	spin_unlock(&q->skbs.lock);
	/* Already scheduled, it is marked missed and polls again. */
	if (first)
		napi_schedule(&q->napi);
	return true;
}

int nfsec_rxq_init(void)
{
	int cpu;

	rxqs = alloc_percpu(struct rxq);
	if (!rxqs)
		return -ENOMEM;
	init_dummy_netdev(&napi_dev);
	for_each_possible_cpu(cpu) {
		struct rxq *q = per_cpu_ptr(rxqs, cpu);

		skb_queue_head_init(&q->skbs);
		netif_napi_add(&napi_dev, &q->napi, rxq_poll);
		napi_enable(&q->napi);
	}
	return 0;
}

/* After every netns is gone, so every queue is empty. */
void nfsec_rxq_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct rxq *q = per_cpu_ptr(rxqs, cpu);

		napi_disable(&q->napi);
		netif_napi_del(&q->napi);
		WARN_ON_ONCE(!skb_queue_empty(&q->skbs));
	}
	free_percpu(rxqs);
}
