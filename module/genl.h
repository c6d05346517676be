/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec: what the netlink files share.
 */
#ifndef _NFSEC_GENL_H
#define _NFSEC_GENL_H

#include <net/genetlink.h>
#include "nfsec.h"

extern struct genl_family nfsec_family;
extern const struct nla_policy nfsec_alg_policy[NFSEC_ALG_A_MAX + 1];
extern const struct nla_policy nfsec_sel_policy[NFSEC_SEL_A_MAX + 1];
extern const struct nla_policy nfsec_encap_policy[NFSEC_ENCAP_A_MAX + 1];
extern const struct nla_policy nfsec_lft_policy[NFSEC_LFT_A_MAX + 1];
extern const struct nla_policy nfsec_sa_policy[NFSEC_SA_A_MAX + 1];
extern const struct nla_policy nfsec_tmpl_policy[NFSEC_TMPL_A_MAX + 1];
extern const struct nla_policy nfsec_pol_policy[NFSEC_POL_A_MAX + 1];

int nfsec_nl_get_addr(struct nlattr **tb, int t4, int t6, u8 *family,
		      union nfsec_addr *a, struct netlink_ext_ack *extack);
int nfsec_nl_put_addr(struct sk_buff *msg, int t4, int t6, u8 family,
		      const union nfsec_addr *a);
int nfsec_nl_parse(struct nlattr **tb, int max, const struct nlattr *nest,
		   const struct nla_policy *policy,
		   struct netlink_ext_ack *extack);
int nfsec_nl_parse_sel(const struct nlattr *nest, struct nfsec_sel *sel,
		       u8 def_family, struct netlink_ext_ack *extack);
int nfsec_nl_put_sel(struct sk_buff *msg, int type, const struct nfsec_sel *sel);
bool nfsec_nl_ports_ok(const struct nfsec_sel *sel);
bool nfsec_nl_validate_only(const struct genl_info *info);
int nfsec_nl_no_validate(const struct genl_info *info);
void nfsec_nl_notify(struct net *net, u8 cmd,
		     int (*fill)(struct sk_buff *msg, const void *obj),
		     const void *obj);

/* genl_sa.c */
int nfsec_nl_sa_add(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_update(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_del(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_get(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_dump(struct sk_buff *skb, struct netlink_callback *cb);
int nfsec_nl_sa_flush(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_allocspi(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_sa_nest(struct genl_info *info, int type,
		     const struct nla_policy *policy, struct nlattr **tb);
int nfsec_nl_sa_id(struct nlattr **tb, const struct nlattr *nest,
		   u8 *family, union nfsec_addr *daddr, __be32 *spi, u8 *proto,
		   struct netlink_ext_ack *extack);
int nfsec_nl_parse_encap(const struct nlattr *nest, struct nfsec_sa *sa,
			 struct netlink_ext_ack *extack);
void nfsec_nl_sa_notify(struct nfsec_net *nn, u8 cmd, struct nfsec_sa *sa);

/* genl_move.c */
extern const struct nla_policy nfsec_move_to_policy[NFSEC_SA_A_MAX + 1];
int nfsec_nl_sa_move(struct sk_buff *skb, struct genl_info *info);
/* The SA_EXPIRE event, under nn->lock. */
void nfsec_nl_sa_mapping(struct nfsec_net *nn, struct nfsec_sa *sa,
			 const union nfsec_addr *addr, __be16 port);
void nfsec_nl_sa_expired(struct nfsec_net *nn, struct nfsec_sa *sa, bool hard);

/* genl_policy.c */
void nfsec_nl_acquire(struct nfsec_net *nn, const struct nfsec_policy *pol,
		      const struct nfsec_sel *sel);
/* POLICY_ADD and POLICY_UPDATE */
int nfsec_nl_pol_add(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_pol_del(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_pol_get(struct sk_buff *skb, struct genl_info *info);
int nfsec_nl_pol_dump(struct sk_buff *skb, struct netlink_callback *cb);
int nfsec_nl_pol_flush(struct sk_buff *skb, struct genl_info *info);

#endif /* _NFSEC_GENL_H */
