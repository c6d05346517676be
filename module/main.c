// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: module init and per-netns state.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/genetlink.h>
#include "nfsec.h"

unsigned int nfsec_net_id __read_mostly;
struct workqueue_struct *nfsec_wq __read_mostly;

bool nfsec_allow_null;
/* Writable, so that tests can allow it for their own SAs only. */
module_param_named(allow_null, nfsec_allow_null, bool, 0644);
MODULE_PARM_DESC(allow_null,
		 "accept ESP without integrity (no auth, or digest_null), with or without encryption (benchmarks and tests only: one forged packet can disrupt such an SA)");

/*
 * Root of a user namespace may configure its own netns: bound what one
 * netns holds (memory is also charged to the adder's memcg).
 */
unsigned int nfsec_max_sas = 100000;
module_param_named(max_sas, nfsec_max_sas, uint, 0644);
MODULE_PARM_DESC(max_sas, "most SAs in one network namespace (0: no limit; default 100000)");

unsigned int nfsec_max_policies = 100000;
module_param_named(max_policies, nfsec_max_policies, uint, 0644);
MODULE_PARM_DESC(max_policies,
		 "most policies in one network namespace (0: no limit; default 100000)");

struct nfsec_net *nfsec_pernet(const struct net *net)
{
	return net_generic(net, nfsec_net_id);
}

static int __net_init nfsec_net_init(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);
	int ret;

	nn->net = net;
	mutex_init(&nn->lock);
	nn->stats = nfsec_stats_alloc();
	if (!nn->stats)
		return -ENOMEM;
	ret = nfsec_sa_init(nn);
	if (ret)
		goto err_stats;
	ret = nfsec_policy_init(nn);
	if (ret)
		goto err_sa;
	ret = nfsec_hooks_register(net);
	if (ret)
		goto err_policy;
	return 0;

err_policy:
	mutex_lock(&nn->lock);
	nfsec_policy_exit(nn);
	mutex_unlock(&nn->lock);
err_sa:
	nfsec_sa_exit(nn);
err_stats:
	nfsec_stats_free(nn->stats);
	return ret;
}

/*
 * Unregistering a hook does not wait for a CPU already in it; the netns
 * core waits for RCU readers between pre_exit and exit, so that no hook
 * runs once exit frees the databases.
 */
static void __net_exit nfsec_net_pre_exit(struct net *net)
{
	nfsec_hooks_unregister(net);
}

static void __net_exit nfsec_net_exit(struct net *net)
{
	struct nfsec_net *nn = nfsec_pernet(net);

	nfsec_acquire_exit();
	mutex_lock(&nn->lock);
	nfsec_policy_exit(nn);
	mutex_unlock(&nn->lock);
	nfsec_sa_exit(nn);
	nfsec_stats_free(nn->stats);
}

static struct pernet_operations nfsec_net_ops = {
	.init = nfsec_net_init,
	.pre_exit = nfsec_net_pre_exit,
	.exit = nfsec_net_exit,
	.id = &nfsec_net_id,
	.size = sizeof(struct nfsec_net),
};

static int __init nfsec_init(void)
{
	int ret;

#ifdef DEBUG
	if (!nfsec_replay_selftest() || !nfsec_policy_selftest() ||
	    !nfsec_mss_selftest())
		return -ENOTRECOVERABLE;
#endif
	nfsec_wq = alloc_workqueue("nfsec", 0, 0);
	if (!nfsec_wq)
		return -ENOMEM;
	ret = nfsec_sa_cache_init();
	if (ret)
		goto err_wq;
	ret = nfsec_policy_cache_init();
	if (ret)
		goto err_sa_cache;
	ret = nfsec_rxq_init();
	if (ret)
		goto err_policy_cache;
	ret = register_pernet_subsys(&nfsec_net_ops);
	if (ret)
		goto err_rxq;
	ret = nfsec_genl_init();
	if (ret)
		goto err_pernet;
	pr_info("version %s loaded\n", NFSEC_VERSION);
	return 0;

err_pernet:
	unregister_pernet_subsys(&nfsec_net_ops);
err_rxq:
	nfsec_rxq_exit();
err_policy_cache:
	nfsec_policy_cache_exit();
err_sa_cache:
	nfsec_sa_cache_exit();
err_wq:
	destroy_workqueue(nfsec_wq);
	return ret;
}

static void __exit nfsec_exit(void)
{
	nfsec_genl_exit();
	unregister_pernet_subsys(&nfsec_net_ops);
	/* Every deferred free has run once the workqueue is drained. */
	rcu_barrier();
	destroy_workqueue(nfsec_wq);
	nfsec_rxq_exit();
	nfsec_req_cache_exit();
	nfsec_policy_cache_exit();
	nfsec_sa_cache_exit();
}

module_init(nfsec_init);
module_exit(nfsec_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("IPsec ESP and AH datapath on netfilter hooks");
MODULE_AUTHOR("nfsec developers");
MODULE_VERSION(NFSEC_VERSION);
MODULE_ALIAS_GENL_FAMILY(NFSEC_GENL_NAME);
