// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: netlink commands on policies.
 */
#include <linux/in.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include "genl.h"

static int parse_tmpl(const struct nlattr *nest, struct nfsec_policy *pol,
		      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_TMPL_A_MAX + 1];
	struct nfsec_tmpl *t = &pol->tmpl;
	int err;

	err = nfsec_nl_parse(tb, NFSEC_TMPL_A_MAX, nest, nfsec_tmpl_policy,
			     extack);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (!tb[NFSEC_TMPL_A_PROTO]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "a template needs proto esp or ah");
		NL_SET_ERR_ATTR_MISS(extack, nest, NFSEC_TMPL_A_PROTO);
		return -EINVAL;
	}
	t->proto = nla_get_u8(tb[NFSEC_TMPL_A_PROTO]);
	err = nfsec_nl_get_addr(tb, NFSEC_TMPL_A_SRC, NFSEC_TMPL_A_SRC6,
				&t->family, &t->saddr, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_TMPL_A_DST, NFSEC_TMPL_A_DST6,
				&t->family, &t->daddr, extack);
	if (err)
		return err;
	if (tb[NFSEC_TMPL_A_SPI])
		t->spi = nla_get_be32(tb[NFSEC_TMPL_A_SPI]);
	if (tb[NFSEC_TMPL_A_MODE])
		t->mode = nla_get_u8(tb[NFSEC_TMPL_A_MODE]);
	if (tb[NFSEC_TMPL_A_REQID])
		t->reqid = nla_get_u32(tb[NFSEC_TMPL_A_REQID]);
	if (tb[NFSEC_TMPL_A_LEVEL])
		t->level = nla_get_u8(tb[NFSEC_TMPL_A_LEVEL]);
	/*
	 * xfrm's "use" lets traffic pass in clear when no SA exists. nfsec
	 * has no optional protection: storing the word and then requiring
	 * the SA anyway would mislead whoever asked for it.
	 */
	if (t->level == NFSEC_LEVEL_USE) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_TMPL_A_LEVEL],
				    "level use (an optional SA) is not supported: nfsec always requires the template's SA");
		return -EOPNOTSUPP;
	}
	/* Outbound tunnel mode must know where to send. */
	if (t->mode == NFSEC_MODE_TUNNEL &&
	    (nfsec_addr_any(&t->saddr) || nfsec_addr_any(&t->daddr))) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "a tunnel mode template needs src and dst endpoints");
		return -EINVAL;
	}
	pol->has_tmpl = true;
	return 0;
}

static int pol_nest(struct genl_info *info, struct nlattr **tb)
{
	struct nlattr *nest = info->attrs[NFSEC_A_POLICY];

	if (!nest) {
		NL_SET_ERR_MSG_MOD(info->extack, "missing the policy attributes");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, NFSEC_A_POLICY);
		return -EINVAL;
	}
	return nla_parse_nested(tb, NFSEC_POL_A_MAX, nest, nfsec_pol_policy,
				info->extack);
}

static int need_dir(struct nlattr **tb, struct genl_info *info)
{
	if (tb[NFSEC_POL_A_DIR])
		return 0;
	NL_SET_ERR_MSG_MOD(info->extack, "a policy needs dir in, out or fwd");
	NL_SET_ERR_ATTR_MISS(info->extack, info->attrs[NFSEC_A_POLICY],
			     NFSEC_POL_A_DIR);
	return -EINVAL;
}

static int pol_from_attrs(struct nlattr **tb, struct nfsec_policy *pol,
			  struct genl_info *info)
{
	int err;

	err = need_dir(tb, info);
	if (err)
		return err;
	if (tb[NFSEC_POL_A_INDEX]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[NFSEC_POL_A_INDEX],
				    "the index is assigned by nfsec");
		return -EINVAL;
	}
	err = nfsec_nl_parse_sel(tb[NFSEC_POL_A_SEL], &pol->sel, AF_INET,
				 info->extack);
	if (err)
		return err;
	if (!pol->sel.family) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[NFSEC_POL_A_SEL],
				    "a policy's selector has one family, AF_INET or AF_INET6");
		return -EINVAL;
	}
	if (!nfsec_nl_ports_ok(&pol->sel)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[NFSEC_POL_A_SEL],
				    "selector ports need proto tcp, udp, sctp, dccp or udplite");
		return -EINVAL;
	}
	pol->dir = nla_get_u8(tb[NFSEC_POL_A_DIR]);
	if (tb[NFSEC_POL_A_PRIORITY])
		pol->priority = nla_get_u32(tb[NFSEC_POL_A_PRIORITY]);
	if (tb[NFSEC_POL_A_ACTION])
		pol->action = nla_get_u8(tb[NFSEC_POL_A_ACTION]);
	return parse_tmpl(tb[NFSEC_POL_A_TMPL], pol, info->extack);
}

static int put_tmpl(struct sk_buff *msg, const struct nfsec_tmpl *t)
{
	struct nlattr *nest = nla_nest_start(msg, NFSEC_POL_A_TMPL);

	if (!nest ||
	    (t->family &&
	     (nfsec_nl_put_addr(msg, NFSEC_TMPL_A_SRC, NFSEC_TMPL_A_SRC6,
				t->family, &t->saddr) ||
	      nfsec_nl_put_addr(msg, NFSEC_TMPL_A_DST, NFSEC_TMPL_A_DST6,
				t->family, &t->daddr))) ||
	    nla_put_u8(msg, NFSEC_TMPL_A_PROTO, t->proto) ||
	    nla_put_be32(msg, NFSEC_TMPL_A_SPI, t->spi) ||
	    nla_put_u8(msg, NFSEC_TMPL_A_MODE, t->mode) ||
	    nla_put_u32(msg, NFSEC_TMPL_A_REQID, t->reqid) ||
	    nla_put_u8(msg, NFSEC_TMPL_A_LEVEL, t->level))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_pol_stats(struct sk_buff *msg, const struct nfsec_policy *pol)
{
	u64 packets = 0, bytes = 0;
	struct nlattr *nest;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct nfsec_pol_stats *s = per_cpu_ptr(pol->stats, cpu);
		unsigned int start;
		u64 p, b;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			p = u64_stats_read(&s->packets);
			b = u64_stats_read(&s->bytes);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		packets += p;
		bytes += b;
	}
	nest = nla_nest_start(msg, NFSEC_POL_A_STATS);
	if (!nest ||
	    nla_put_u64_64bit(msg, NFSEC_POL_STAT_PACKETS + 1, packets,
			      NFSEC_POL_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, NFSEC_POL_STAT_BYTES + 1, bytes,
			      NFSEC_POL_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_pol(struct sk_buff *msg, const struct nfsec_policy *pol,
		   bool stats)
{
	struct nlattr *nest = nla_nest_start(msg, NFSEC_A_POLICY);

	if (!nest || nfsec_nl_put_sel(msg, NFSEC_POL_A_SEL, &pol->sel) ||
	    nla_put_u8(msg, NFSEC_POL_A_DIR, pol->dir) ||
	    nla_put_u32(msg, NFSEC_POL_A_PRIORITY, pol->priority) ||
	    nla_put_u8(msg, NFSEC_POL_A_ACTION, pol->action) ||
	    nla_put_u32(msg, NFSEC_POL_A_INDEX, pol->index) ||
	    (pol->has_tmpl && put_tmpl(msg, &pol->tmpl)) ||
	    (stats && put_pol_stats(msg, pol)) ||
	    (stats && READ_ONCE(pol->last_use) &&
	     nla_put_u64_64bit(msg, NFSEC_POL_A_LAST_USE,
			       READ_ONCE(pol->last_use), NFSEC_POL_A_PAD)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int pol_fill(struct sk_buff *msg, const void *obj)
{
	return put_pol(msg, obj, true);
}

struct acquire_event {
	const struct nfsec_policy *pol;
	const struct nfsec_sel *sel;
};

static int acquire_fill(struct sk_buff *msg, const void *obj)
{
	const struct acquire_event *e = obj;

	return nfsec_nl_put_sel(msg, NFSEC_A_ACQUIRE_SEL, e->sel) ?:
	       put_pol(msg, e->pol, false);
}

/* @pol is a copy without counters (acquire.c). */
void nfsec_nl_acquire(struct nfsec_net *nn, const struct nfsec_policy *pol,
		      const struct nfsec_sel *sel)
{
	struct acquire_event e = { .pol = pol, .sel = sel };

	nfsec_nl_notify(nn->net, NFSEC_CMD_SA_ACQUIRE, acquire_fill, &e);
}

/* Reply to @info with @pol; called with nn->lock held. */
static int pol_reply(struct genl_info *info, const struct nfsec_policy *pol,
		     u8 cmd)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &nfsec_family, 0, cmd);
	if (!hdr || pol_fill(msg, pol)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Add, or for POLICY_UPDATE replace the policy with the same identity. */
int nfsec_nl_pol_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	u8 cmd = info->genlhdr->cmd, event = NFSEC_CMD_POLICY_ADD;
	struct nlattr *tb[NFSEC_POL_A_MAX + 1];
	struct nfsec_policy *pol, *old = NULL;
	int err;

	err = pol_nest(info, tb);
	if (err)
		return err;
	pol = nfsec_policy_alloc();
	if (!pol) {
		NL_SET_ERR_MSG_MOD(info->extack, "out of memory");
		return -ENOMEM;
	}
	err = pol_from_attrs(tb, pol, info);
	if (err || nfsec_nl_validate_only(info)) {
		nfsec_policy_destroy(pol);
		return err;
	}
	mutex_lock(&nn->lock);
	if (cmd == NFSEC_CMD_POLICY_UPDATE)
		old = nfsec_policy_find(nn, pol->dir, &pol->sel);
	if (old) {
		err = nfsec_policy_replace(nn, old, pol);
		if (err)
			NL_SET_ERR_MSG_MOD(info->extack, "out of memory");
		event = NFSEC_CMD_POLICY_UPDATE;
	} else {
		err = nfsec_policy_insert(nn, pol, info->extack);
	}
	if (!err) {
		nfsec_nl_notify(nn->net, event, pol_fill, pol);
		/* The policy is in: a failed reply must not undo it. */
		pol_reply(info, pol, cmd);
	}
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_policy_destroy(pol);
	return err;
}

/* The policy a request names, by index or by selector and dir. */
static struct nfsec_policy *pol_find(struct nfsec_net *nn,
				     struct genl_info *info)
{
	struct nlattr *tb[NFSEC_POL_A_MAX + 1];
	struct nfsec_policy *pol;
	struct nfsec_sel sel;
	int err;

	err = pol_nest(info, tb);
	if (err)
		return ERR_PTR(err);
	if (tb[NFSEC_POL_A_INDEX]) {
		pol = nfsec_policy_find_index(nn, nla_get_u32(tb[NFSEC_POL_A_INDEX]));
	} else {
		err = need_dir(tb, info);
		if (err)
			return ERR_PTR(err);
		err = nfsec_nl_parse_sel(tb[NFSEC_POL_A_SEL], &sel, AF_INET,
					 info->extack);
		if (err)
			return ERR_PTR(err);
		pol = nfsec_policy_find(nn, nla_get_u8(tb[NFSEC_POL_A_DIR]), &sel);
	}
	if (!pol) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such policy");
		return ERR_PTR(-ENOENT);
	}
	return pol;
}

int nfsec_nl_pol_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_policy *pol;
	int err;

	err = nfsec_nl_no_validate(info);
	if (err)
		return err;
	mutex_lock(&nn->lock);
	pol = pol_find(nn, info);
	if (!IS_ERR(pol)) {
		nfsec_nl_notify(nn->net, NFSEC_CMD_POLICY_DEL, pol_fill, pol);
		nfsec_policy_unlink(nn, pol);
	}
	mutex_unlock(&nn->lock);
	return PTR_ERR_OR_ZERO(pol);
}

int nfsec_nl_pol_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_policy *pol;
	int err;

	mutex_lock(&nn->lock);
	pol = pol_find(nn, info);
	err = IS_ERR(pol) ? PTR_ERR(pol) :
	      pol_reply(info, pol, NFSEC_CMD_POLICY_GET);
	mutex_unlock(&nn->lock);
	return err;
}

/* Dump cursor: args[0] the direction, args[1] policies of it sent. */
int nfsec_nl_pol_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nfsec_net *nn = nfsec_pernet(sock_net(skb->sk));
	struct nfsec_policy *pol;
	unsigned long n;
	void *hdr;

	mutex_lock(&nn->lock);
	cb->seq = nn->genid;
	for (; cb->args[0] < ARRAY_SIZE(nn->policies); cb->args[0]++, cb->args[1] = 0) {
		n = 0;
		list_for_each_entry(pol, &nn->policies[cb->args[0]], node) {
			if (n++ < cb->args[1])
				continue;
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &nfsec_family,
					  NLM_F_MULTI, NFSEC_CMD_POLICY_GET);
			if (!hdr)
				goto out;
			genl_dump_check_consistent(cb, hdr);
			if (pol_fill(skb, pol)) {
				genlmsg_cancel(skb, hdr);
				goto out;
			}
			genlmsg_end(skb, hdr);
			cb->args[1]++;
		}
	}
out:
	mutex_unlock(&nn->lock);
	return skb->len;
}

int nfsec_nl_pol_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nlattr *tb[NFSEC_POL_A_MAX + 1];
	int dir = -1, err;

	err = nfsec_nl_no_validate(info);
	if (err)
		return err;
	if (info->attrs[NFSEC_A_POLICY]) {
		err = pol_nest(info, tb);
		if (err)
			return err;
		if (tb[NFSEC_POL_A_DIR])
			dir = nla_get_u8(tb[NFSEC_POL_A_DIR]);
	}
	mutex_lock(&nn->lock);
	nfsec_policy_flush(nn, dir);
	nfsec_nl_notify(nn->net, NFSEC_CMD_POLICY_FLUSH, NULL, NULL);
	mutex_unlock(&nn->lock);
	return 0;
}
