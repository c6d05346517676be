// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the generic netlink family "nfsec" (see uapi/nfsec.h).
 *
 * Every request is validated against strict per-nest policies before it
 * reaches a handler; handlers then check what policies cannot express and
 * say why in the extack. Nothing changes unless the whole request is good.
 */
#include <linux/in.h>
#include <linux/inetdevice.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include "nfsec.h"
#include "genl.h"

const struct nla_policy nfsec_alg_policy[NFSEC_ALG_A_MAX + 1] = {
	[NFSEC_ALG_A_NAME] = { .type = NLA_NUL_STRING,
			       .len = NFSEC_ALG_NAME_MAX - 1 },
	[NFSEC_ALG_A_KEY] = { .type = NLA_BINARY, .len = NFSEC_KEY_MAX },
	[NFSEC_ALG_A_ICV_LEN] = NLA_POLICY_MAX(NLA_U32, 512),
	[NFSEC_ALG_A_KEY_LEN] = { .type = NLA_REJECT },
};

const struct nla_policy nfsec_sel_policy[NFSEC_SEL_A_MAX + 1] = {
	[NFSEC_SEL_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SEL_A_SRC_PLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[NFSEC_SEL_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SEL_A_DST_PLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[NFSEC_SEL_A_PROTO] = { .type = NLA_U8 },
	[NFSEC_SEL_A_SPORT] = { .type = NLA_BE16 },
	[NFSEC_SEL_A_DPORT] = { .type = NLA_BE16 },
	[NFSEC_SEL_A_FAMILY] = NLA_POLICY_MAX(NLA_U16, AF_INET6),
	[NFSEC_SEL_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_SEL_A_DST6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy nfsec_encap_policy[NFSEC_ENCAP_A_MAX + 1] = {
	[NFSEC_ENCAP_A_TYPE] = NLA_POLICY_RANGE(NLA_U16, 2, 2),
	[NFSEC_ENCAP_A_SPORT] = { .type = NLA_BE16 },
	[NFSEC_ENCAP_A_DPORT] = { .type = NLA_BE16 },
	[NFSEC_ENCAP_A_OADDR] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_ENCAP_A_OADDR6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy nfsec_lft_policy[NFSEC_LFT_A_MAX + 1] = {
	[NFSEC_LFT_A_SOFT_BYTES] = { .type = NLA_U64 },
	[NFSEC_LFT_A_HARD_BYTES] = { .type = NLA_U64 },
	[NFSEC_LFT_A_SOFT_PACKETS] = { .type = NLA_U64 },
	[NFSEC_LFT_A_HARD_PACKETS] = { .type = NLA_U64 },
	[NFSEC_LFT_A_SOFT_ADD_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LFT_A_HARD_ADD_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LFT_A_SOFT_USE_SECONDS] = { .type = NLA_U64 },
	[NFSEC_LFT_A_HARD_USE_SECONDS] = { .type = NLA_U64 },
};

const struct nla_policy nfsec_sa_policy[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP, IPPROTO_AH),
	[NFSEC_SA_A_SPI] = { .type = NLA_BE32 },
	[NFSEC_SA_A_REQID] = { .type = NLA_U32 },
	[NFSEC_SA_A_MODE] = NLA_POLICY_MAX(NLA_U8, NFSEC_MODE_TUNNEL),
	[NFSEC_SA_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, NFSEC_SA_F_ALL),
	[NFSEC_SA_A_REPLAY_WINDOW] = NLA_POLICY_MAX(NLA_U32, NFSEC_REPLAY_MAX),
	[NFSEC_SA_A_ALG_AEAD] = NLA_POLICY_NESTED(nfsec_alg_policy),
	[NFSEC_SA_A_ALG_ENC] = NLA_POLICY_NESTED(nfsec_alg_policy),
	[NFSEC_SA_A_ALG_AUTH] = NLA_POLICY_NESTED(nfsec_alg_policy),
	[NFSEC_SA_A_SEL] = NLA_POLICY_NESTED(nfsec_sel_policy),
	[NFSEC_SA_A_ENCAP] = NLA_POLICY_NESTED(nfsec_encap_policy),
	[NFSEC_SA_A_LIFETIME] = NLA_POLICY_NESTED(nfsec_lft_policy),
	[NFSEC_SA_A_SEQ] = { .type = NLA_U64 },
	[NFSEC_SA_A_OSEQ] = { .type = NLA_U64 },
	[NFSEC_SA_A_MSS] = { .type = NLA_U16 },
	[NFSEC_SA_A_CUR] = { .type = NLA_REJECT },
	[NFSEC_SA_A_STATS] = { .type = NLA_REJECT },
	[NFSEC_SA_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_SA_A_DST6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy nfsec_tmpl_policy[NFSEC_TMPL_A_MAX + 1] = {
	[NFSEC_TMPL_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_TMPL_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_TMPL_A_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP, IPPROTO_AH),
	[NFSEC_TMPL_A_SPI] = { .type = NLA_BE32 },
	[NFSEC_TMPL_A_MODE] = NLA_POLICY_MAX(NLA_U8, NFSEC_MODE_TUNNEL),
	[NFSEC_TMPL_A_REQID] = { .type = NLA_U32 },
	[NFSEC_TMPL_A_LEVEL] = NLA_POLICY_MAX(NLA_U8, NFSEC_LEVEL_USE),
	[NFSEC_TMPL_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_TMPL_A_DST6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy nfsec_pol_policy[NFSEC_POL_A_MAX + 1] = {
	[NFSEC_POL_A_SEL] = NLA_POLICY_NESTED(nfsec_sel_policy),
	[NFSEC_POL_A_DIR] = NLA_POLICY_MAX(NLA_U8, NFSEC_DIR_FWD),
	[NFSEC_POL_A_PRIORITY] = { .type = NLA_U32 },
	[NFSEC_POL_A_ACTION] = NLA_POLICY_MAX(NLA_U8, NFSEC_ACTION_BLOCK),
	[NFSEC_POL_A_INDEX] = { .type = NLA_U32 },
	[NFSEC_POL_A_TMPL] = NLA_POLICY_NESTED(nfsec_tmpl_policy),
	[NFSEC_POL_A_STATS] = { .type = NLA_REJECT },
	[NFSEC_POL_A_LAST_USE] = { .type = NLA_REJECT },
};

static const struct nla_policy nfsec_policy[NFSEC_A_MAX + 1] = {
	[NFSEC_A_SA] = NLA_POLICY_NESTED(nfsec_sa_policy),
	[NFSEC_A_POLICY] = NLA_POLICY_NESTED(nfsec_pol_policy),
	[NFSEC_A_STATS] = { .type = NLA_REJECT },
	[NFSEC_A_VERSION] = { .type = NLA_REJECT },
	[NFSEC_A_SA_COUNT] = { .type = NLA_REJECT },
	[NFSEC_A_EXPIRE_HARD] = { .type = NLA_REJECT },
	[NFSEC_A_ACQUIRE_SEL] = { .type = NLA_REJECT },
	[NFSEC_A_POLICY_COUNT] = { .type = NLA_REJECT },
	[NFSEC_A_VALIDATE] = { .type = NLA_FLAG },
	[NFSEC_A_SPI_MIN] = { .type = NLA_BE32 },
	[NFSEC_A_SPI_MAX] = { .type = NLA_BE32 },
	[NFSEC_A_SPI_TIMEOUT] = NLA_POLICY_RANGE(NLA_U32, 1, NFSEC_SPI_TIMEOUT_MAX),
	[NFSEC_A_SPI_COUNT] = { .type = NLA_REJECT },
	[NFSEC_A_MAPPING] = { .type = NLA_REJECT },
	[NFSEC_A_MOVE_TO] = NLA_POLICY_NESTED(nfsec_move_to_policy),
};

/*
 * The address of @tb[@t4] (IPv4) or @tb[@t6] (IPv6), or none, into @a.
 * Sets *@family from it, which must agree with a family already set.
 */
int nfsec_nl_get_addr(struct nlattr **tb, int t4, int t6, u8 *family,
		      union nfsec_addr *a, struct netlink_ext_ack *extack)
{
	const struct nlattr *attr = tb[t4] ?: tb[t6];
	u8 f = tb[t4] ? AF_INET : AF_INET6;

	memset(a, 0, sizeof(*a));
	if (!attr)
		return 0;
	if (tb[t4] && tb[t6]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[t6],
				    "both an IPv4 and an IPv6 address where one is needed");
		return -EINVAL;
	}
	if (*family && *family != f) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "an IPv4 address with an IPv6 one (or the reverse) where one family is needed");
		return -EINVAL;
	}
	*family = f;
	if (f == AF_INET)
		a->a4 = nla_get_in_addr(attr);
	else
		a->a6 = nla_get_in6_addr(attr);
	return 0;
}

int nfsec_nl_put_addr(struct sk_buff *msg, int t4, int t6, u8 family,
		      const union nfsec_addr *a)
{
	if (family == AF_INET6)
		return nla_put_in6_addr(msg, t6, &a->a6);
	return nla_put_in_addr(msg, t4, a->a4);
}

/* Parse @nest into @tb; -ENOENT if absent. */
int nfsec_nl_parse(struct nlattr **tb, int max, const struct nlattr *nest,
		      const struct nla_policy *policy,
		      struct netlink_ext_ack *extack)
{
	if (!nest)
		return -ENOENT;
	return nla_parse_nested(tb, max, nest, policy, extack);
}

static int sel_family(struct nlattr **tb, struct nfsec_sel *sel,
		      struct netlink_ext_ack *extack)
{
	u16 family;

	if (!tb[NFSEC_SEL_A_FAMILY])
		return 0;
	family = nla_get_u16(tb[NFSEC_SEL_A_FAMILY]);
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SEL_A_FAMILY],
				    "a selector's family is AF_INET, AF_INET6 or AF_UNSPEC");
		return -EINVAL;
	}
	sel->family = family;
	if (!family && (tb[NFSEC_SEL_A_SRC] || tb[NFSEC_SEL_A_SRC6] ||
			tb[NFSEC_SEL_A_DST] || tb[NFSEC_SEL_A_DST6] ||
			tb[NFSEC_SEL_A_SRC_PLEN] || tb[NFSEC_SEL_A_DST_PLEN])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SEL_A_FAMILY],
				    "a selector for both families (AF_UNSPEC) has no addresses");
		return -EINVAL;
	}
	return 0;
}

static int sel_plen(const struct nlattr *attr, const union nfsec_addr *a,
		    u8 family, u8 *plen, struct netlink_ext_ack *extack)
{
	u8 max = nfsec_addr_bits(family);

	*plen = attr ? nla_get_u8(attr) : (nfsec_addr_any(a) ? 0 : max);
	if (*plen > max) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "prefix length longer than the address");
		return -EINVAL;
	}
	return 0;
}

/*
 * The selector in @nest, or the one that matches everything of
 * @def_family when @nest is absent. @def_family is the family of a
 * selector that names none (by FAMILY or by its addresses).
 */
int nfsec_nl_parse_sel(const struct nlattr *nest, struct nfsec_sel *sel,
		       u8 def_family, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1] = {};
	int err;

	memset(sel, 0, sizeof(*sel));
	err = nfsec_nl_parse(tb, NFSEC_SEL_A_MAX, nest, nfsec_sel_policy,
			     extack);
	if (err && err != -ENOENT)
		return err;
	err = sel_family(tb, sel, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6,
				&sel->family, &sel->saddr, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6,
				&sel->family, &sel->daddr, extack);
	if (err)
		return err;
	if (!tb[NFSEC_SEL_A_FAMILY] && !sel->family)
		sel->family = def_family;
	if (sel->family) {
		err = sel_plen(tb[NFSEC_SEL_A_SRC_PLEN], &sel->saddr,
			       sel->family, &sel->splen, extack) ?:
		      sel_plen(tb[NFSEC_SEL_A_DST_PLEN], &sel->daddr,
			       sel->family, &sel->dplen, extack);
		if (err)
			return err;
	}
	/* Host bits beyond the prefix never matter; keep them out. */
	nfsec_addr_mask(sel->family, &sel->saddr, sel->splen);
	nfsec_addr_mask(sel->family, &sel->daddr, sel->dplen);
	if (tb[NFSEC_SEL_A_PROTO])
		sel->proto = nla_get_u8(tb[NFSEC_SEL_A_PROTO]);
	if (tb[NFSEC_SEL_A_SPORT])
		sel->sport = nla_get_be16(tb[NFSEC_SEL_A_SPORT]);
	if (tb[NFSEC_SEL_A_DPORT])
		sel->dport = nla_get_be16(tb[NFSEC_SEL_A_DPORT]);
	return 0;
}

int nfsec_nl_put_sel(struct sk_buff *msg, int type, const struct nfsec_sel *sel)
{
	struct nlattr *nest = nla_nest_start(msg, type);

	if (!nest ||
	    nla_put_u16(msg, NFSEC_SEL_A_FAMILY, sel->family) ||
	    (sel->family &&
	     (nfsec_nl_put_addr(msg, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6,
				sel->family, &sel->saddr) ||
	      nfsec_nl_put_addr(msg, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6,
				sel->family, &sel->daddr))) ||
	    nla_put_u8(msg, NFSEC_SEL_A_SRC_PLEN, sel->splen) ||
	    nla_put_u8(msg, NFSEC_SEL_A_DST_PLEN, sel->dplen) ||
	    nla_put_u8(msg, NFSEC_SEL_A_PROTO, sel->proto) ||
	    nla_put_be16(msg, NFSEC_SEL_A_SPORT, sel->sport) ||
	    nla_put_be16(msg, NFSEC_SEL_A_DPORT, sel->dport))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * NFSEC_A_VALIDATE asks whether an add or update would be accepted (the
 * tool's all-or-nothing batches check every line before changing
 * anything). A command that deletes cannot honour it: refuse it there
 * rather than delete.
 */
bool nfsec_nl_validate_only(const struct genl_info *info)
{
	return nla_get_flag(info->attrs[NFSEC_A_VALIDATE]);
}

int nfsec_nl_no_validate(const struct genl_info *info)
{
	if (!nfsec_nl_validate_only(info))
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[NFSEC_A_VALIDATE],
			    "validate is for add and update only");
	return -EOPNOTSUPP;
}

bool nfsec_nl_ports_ok(const struct nfsec_sel *sel)
{
	if (!sel->sport && !sel->dport)
		return true;
	return sel->proto == IPPROTO_TCP || sel->proto == IPPROTO_UDP ||
	       sel->proto == IPPROTO_UDPLITE || sel->proto == IPPROTO_SCTP ||
	       sel->proto == IPPROTO_DCCP;
}

/*
 * Whether the family is registered. Lifetime events come from work items,
 * which run until the netns exits, after the family is gone on rmmod: its
 * group may then belong to another family.
 */
static DECLARE_RWSEM(family_sem);
static bool family_up;

/* Tell "events" listeners; @fill adds the object, or nothing for flush. */
void nfsec_nl_notify(struct net *net, u8 cmd,
		     int (*fill)(struct sk_buff *msg, const void *obj),
		     const void *obj)
{
	struct sk_buff *msg;
	void *hdr;

	down_read(&family_sem);
	if (!family_up || !genl_has_listeners(&nfsec_family, net, 0))
		goto out;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put(msg, 0, 0, &nfsec_family, 0, cmd);
	if (!hdr || (fill && fill(msg, obj))) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&nfsec_family, net, msg, 0, 0, GFP_KERNEL);
out:
	up_read(&family_sem);
}

static int stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &nfsec_family, 0, info->genlhdr->cmd);
	if (!hdr)
		goto err;
	mutex_lock(&nn->lock);
	if (nfsec_stats_put(msg, NFSEC_A_STATS, nn->stats) ||
	    nla_put_u32(msg, NFSEC_A_SA_COUNT, nn->sa_count) ||
	    nla_put_u32(msg, NFSEC_A_POLICY_COUNT, nn->pol_count) ||
	    nla_put_u32(msg, NFSEC_A_SPI_COUNT, nn->spi_count)) {
		mutex_unlock(&nn->lock);
		goto err;
	}
	mutex_unlock(&nn->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
err:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int version_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &nfsec_family, 0, info->genlhdr->cmd);
	if (!hdr || nla_put_string(msg, NFSEC_A_VERSION, NFSEC_VERSION)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

#define NFSEC_OP(c, d, u) \
	{ .cmd = (c), .doit = (d), .dumpit = (u), .flags = GENL_UNS_ADMIN_PERM }

static const struct genl_ops nfsec_ops[] = {
	NFSEC_OP(NFSEC_CMD_SA_ADD, nfsec_nl_sa_add, NULL),
	NFSEC_OP(NFSEC_CMD_SA_UPDATE, nfsec_nl_sa_update, NULL),
	NFSEC_OP(NFSEC_CMD_SA_DEL, nfsec_nl_sa_del, NULL),
	NFSEC_OP(NFSEC_CMD_SA_GET, nfsec_nl_sa_get, nfsec_nl_sa_dump),
	NFSEC_OP(NFSEC_CMD_SA_FLUSH, nfsec_nl_sa_flush, NULL),
	NFSEC_OP(NFSEC_CMD_POLICY_ADD, nfsec_nl_pol_add, NULL),
	NFSEC_OP(NFSEC_CMD_POLICY_UPDATE, nfsec_nl_pol_add, NULL),
	NFSEC_OP(NFSEC_CMD_POLICY_DEL, nfsec_nl_pol_del, NULL),
	NFSEC_OP(NFSEC_CMD_POLICY_GET, nfsec_nl_pol_get, nfsec_nl_pol_dump),
	NFSEC_OP(NFSEC_CMD_POLICY_FLUSH, nfsec_nl_pol_flush, NULL),
	NFSEC_OP(NFSEC_CMD_STATS_GET, stats_get, NULL),
	NFSEC_OP(NFSEC_CMD_VERSION_GET, version_get, NULL),
	NFSEC_OP(NFSEC_CMD_SA_ALLOCSPI, nfsec_nl_sa_allocspi, NULL),
	NFSEC_OP(NFSEC_CMD_SA_MOVE, nfsec_nl_sa_move, NULL),
};

/* Events show the configuration: only for those who may read it. */
static const struct genl_multicast_group nfsec_mcgrps[] = {
	{ .name = NFSEC_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

struct genl_family nfsec_family __ro_after_init = {
	.name = NFSEC_GENL_NAME,
	.version = NFSEC_GENL_VERSION,
	.maxattr = NFSEC_A_MAX,
	.policy = nfsec_policy,
	.netnsok = true,
	/* Handlers serialise on the per-netns mutex, not on genl_mutex. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = nfsec_ops,
	.n_ops = ARRAY_SIZE(nfsec_ops),
	.resv_start_op = NFSEC_CMD_SA_ADD,
	.mcgrps = nfsec_mcgrps,
	.n_mcgrps = ARRAY_SIZE(nfsec_mcgrps),
};

int __init nfsec_genl_init(void)
{
	int ret = genl_register_family(&nfsec_family);

	if (!ret) {
		down_write(&family_sem);
		family_up = true;
		up_write(&family_sem);
	}
	return ret;
}

void nfsec_genl_exit(void)
{
	down_write(&family_sem);
	family_up = false;
	up_write(&family_sem);
	genl_unregister_family(&nfsec_family);
}
