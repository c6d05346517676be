// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: SA_MOVE, an SA to new addresses and ESP-in-UDP ports with its
 * keys and state (a NAT rebinding, a MOBIKE address change).
 *
 * SA_UPDATE cannot do it: it needs the keys, which never leave the module,
 * and keeps the identity (dst, spi, proto). A move builds a new SA that
 * shares the old one's transforms (sa.c, crypto.c) and takes over its
 * sequence numbers, replay window, lifetimes and counters.
 */
#include <linux/in.h>
#include <net/genetlink.h>
#include "genl.h"

/*
 * Keys and algorithms, and in the SA's id an encap, pass the policies
 * (strict validation would refuse a nest in an NLA_REJECT slot for its
 * NLA_F_NESTED flag before the slot's message could say why) to be refused
 * with a reason by no_keys(); whatever else neither policy lists, the
 * netlink core refuses ("Unsupported attribute").
 */
#define KEYS \
	[NFSEC_SA_A_ALG_AEAD] = NLA_POLICY_NESTED(nfsec_alg_policy), \
	[NFSEC_SA_A_ALG_ENC] = NLA_POLICY_NESTED(nfsec_alg_policy), \
	[NFSEC_SA_A_ALG_AUTH] = NLA_POLICY_NESTED(nfsec_alg_policy)

/* NFSEC_A_SA: the SA as it is, by dst, spi, proto and maybe src. */
static const struct nla_policy move_id_policy[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP, IPPROTO_AH),
	[NFSEC_SA_A_SPI] = { .type = NLA_BE32 },
	[NFSEC_SA_A_REQID] = { .type = NLA_REJECT,
			       .reject_message = "SA_MOVE takes the new reqid in NFSEC_A_MOVE_TO" },
	[NFSEC_SA_A_ENCAP] = NLA_POLICY_NESTED(nfsec_encap_policy),
	[NFSEC_SA_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_SA_A_DST6] = NLA_POLICY_EXACT_LEN(16),
	KEYS,
};

/* NFSEC_A_MOVE_TO: where it goes. */
const struct nla_policy nfsec_move_to_policy[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_SPI] = { .type = NLA_REJECT, .reject_message = "SA_MOVE keeps the SPI" },
	[NFSEC_SA_A_REQID] = { .type = NLA_U32 },
	/* An empty nest: no encap any more. */
	[NFSEC_SA_A_ENCAP] = NLA_POLICY_NESTED(nfsec_encap_policy),
	[NFSEC_SA_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_SA_A_DST6] = NLA_POLICY_EXACT_LEN(16),
	KEYS,
};

/* A move takes no keys nor algorithms: it keeps the SA's. */
static int no_keys(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	const struct nlattr *alg = tb[NFSEC_SA_A_ALG_AEAD] ?:
				   tb[NFSEC_SA_A_ALG_ENC] ?: tb[NFSEC_SA_A_ALG_AUTH];

	if (!alg)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, alg,
			    "SA_MOVE keeps the SA's keys, algorithms and settings: it changes only src, dst, encap and reqid");
	return -EINVAL;
}

struct move_req {
	u8 family;			/* the SA's: of its dst */
	union nfsec_addr daddr;
	__be32 spi;
	u8 proto;
	bool check_src;
	union nfsec_addr saddr;		/* if check_src */
	union nfsec_addr to_saddr;
	union nfsec_addr to_daddr;
	const struct nlattr *encap;	/* NULL: kept */
	const struct nlattr *reqid;	/* NULL: kept */
};

static int parse_from(struct genl_info *info, struct move_req *r)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];
	int err;

	err = nfsec_nl_sa_nest(info, NFSEC_A_SA, move_id_policy, tb) ?:
	      no_keys(tb, extack) ?:
	      nfsec_nl_sa_id(tb, info->attrs[NFSEC_A_SA], &r->family,
			     &r->daddr, &r->spi, &r->proto, extack);
	if (err)
		return err;
	if (tb[NFSEC_SA_A_ENCAP]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_ENCAP],
				    "SA_MOVE takes the new encap in NFSEC_A_MOVE_TO");
		return -EINVAL;
	}
	r->check_src = tb[NFSEC_SA_A_SRC] || tb[NFSEC_SA_A_SRC6];
	return nfsec_nl_get_addr(tb, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6,
				 &r->family, &r->saddr, extack);
}

static int parse_to(struct genl_info *info, struct move_req *r)
{
	struct nlattr *nest = info->attrs[NFSEC_A_MOVE_TO];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];
	u8 family = AF_UNSPEC;
	int err;

	err = nfsec_nl_sa_nest(info, NFSEC_A_MOVE_TO, nfsec_move_to_policy, tb) ?:
	      no_keys(tb, extack);
	if (err)
		return err;
	if ((!tb[NFSEC_SA_A_SRC] && !tb[NFSEC_SA_A_SRC6]) ||
	    (!tb[NFSEC_SA_A_DST] && !tb[NFSEC_SA_A_DST6])) {
		NL_SET_ERR_MSG_MOD(extack, "SA_MOVE needs the new src and dst");
		NL_SET_ERR_ATTR_MISS(extack, nest, tb[NFSEC_SA_A_DST] ||
				     tb[NFSEC_SA_A_DST6] ? NFSEC_SA_A_SRC :
							   NFSEC_SA_A_DST);
		return -EINVAL;
	}
	err = nfsec_nl_get_addr(tb, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, &family,
				&r->to_daddr, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, &family,
				&r->to_saddr, extack);
	if (err)
		return err;
	if (family != r->family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_DST] ?: tb[NFSEC_SA_A_DST6],
				    "SA_MOVE cannot change the SA's address family");
		return -EINVAL;
	}
	r->encap = tb[NFSEC_SA_A_ENCAP];
	r->reqid = tb[NFSEC_SA_A_REQID];
	return 0;
}

/* The SA the request names, under nn->lock. */
static struct nfsec_sa *find_sa(struct nfsec_net *nn, const struct move_req *r,
				struct netlink_ext_ack *extack)
{
	struct nfsec_sa *sa;

	sa = nfsec_sa_lookup(nn, r->family, &r->daddr, r->spi, r->proto);
	if (!sa) {
		NL_SET_ERR_MSG_MOD(extack, "no such SA to move");
		return ERR_PTR(-ENOENT);
	}
	if (r->check_src && !nfsec_addr_eq(&sa->saddr, &r->saddr)) {
		NL_SET_ERR_MSG_MOD(extack, "no such SA to move: its src is another");
		return ERR_PTR(-ENOENT);
	}
	return sa;
}

/*
 * As strongSwan's kernel-netlink moves an SA: a selector naming the old
 * address as a host names the new one.
 */
static void sel_follow(struct nfsec_sa *sa, union nfsec_addr *a, u8 plen,
		       const union nfsec_addr *from, const union nfsec_addr *to)
{
	if (sa->sel.family == sa->family &&
	    plen == nfsec_addr_bits(sa->family) && nfsec_addr_eq(a, from))
		*a = *to;
}

/* Give @sa, a copy of @old, what the request changes. */
static int move_to(struct nfsec_sa *sa, const struct nfsec_sa *old,
		   const struct move_req *r, struct netlink_ext_ack *extack)
{
	if (sa->mode == NFSEC_MODE_TUNNEL &&
	    (nfsec_addr_any(&r->to_saddr) || nfsec_addr_any(&r->to_daddr))) {
		NL_SET_ERR_MSG_MOD(extack, "tunnel mode needs src and dst endpoints");
		return -EINVAL;
	}
	sa->saddr = r->to_saddr;
	sa->daddr = r->to_daddr;
	sel_follow(sa, &sa->sel.saddr, sa->sel.splen, &old->saddr, &sa->saddr);
	sel_follow(sa, &sa->sel.daddr, sa->sel.dplen, &old->daddr, &sa->daddr);
	if (r->reqid)
		sa->reqid = nla_get_u32(r->reqid);
	if (!r->encap)
		return 0;
	memset(&sa->encap, 0, sizeof(sa->encap));
	if (!nla_len(r->encap))
		return 0;
	return nfsec_nl_parse_encap(r->encap, sa, extack);
}

int nfsec_nl_sa_move(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa *old, *sa = NULL;
	struct move_req r = {};
	int err;

	err = nfsec_nl_no_validate(info) ?: parse_from(info, &r) ?:
	      parse_to(info, &r);
	if (err)
		return err;
	mutex_lock(&nn->lock);
	old = find_sa(nn, &r, info->extack);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out;
	}
	sa = nfsec_sa_dup(old);
	if (!sa) {
		NL_SET_ERR_MSG_MOD(info->extack, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	err = move_to(sa, old, &r, info->extack) ?:
	      nfsec_sa_move(nn, old, sa, info->extack);
	if (!err)
		nfsec_nl_sa_notify(nn, NFSEC_CMD_SA_MOVE, sa);
out:
	mutex_unlock(&nn->lock);
	if (err && sa)
		nfsec_sa_destroy(sa);
	return err;
}
