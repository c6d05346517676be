// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: netlink commands on Security Associations.
 */
#include <linux/in.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "genl.h"

struct sa_keys {
	const u8 *aead;
	const u8 *enc;
	const u8 *auth;
};

static int parse_alg(const struct nlattr *nest, struct nfsec_alg *alg,
		     const u8 **key, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_ALG_A_MAX + 1];
	int err;

	err = nfsec_nl_parse(tb, NFSEC_ALG_A_MAX, nest, nfsec_alg_policy, extack);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (!tb[NFSEC_ALG_A_NAME] ||
	    nla_strscpy(alg->name, tb[NFSEC_ALG_A_NAME], sizeof(alg->name)) <= 0) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "algorithm without a name");
		return -EINVAL;
	}
	if (tb[NFSEC_ALG_A_KEY]) {
		*key = nla_data(tb[NFSEC_ALG_A_KEY]);
		alg->key_bits = nla_len(tb[NFSEC_ALG_A_KEY]) * 8;
	}
	if (tb[NFSEC_ALG_A_ICV_LEN])
		alg->icv_bits = nla_get_u32(tb[NFSEC_ALG_A_ICV_LEN]);
	return 0;
}

/* Key bytes must not linger in the request once the transform has them. */
static void wipe_keys(struct nlattr **tb)
{
	static const int algs[] = {
		NFSEC_SA_A_ALG_AEAD, NFSEC_SA_A_ALG_ENC, NFSEC_SA_A_ALG_AUTH,
	};
	struct nlattr *a;
	int i, rem;

	for (i = 0; i < ARRAY_SIZE(algs); i++) {
		if (!tb[algs[i]])
			continue;
		nla_for_each_nested(a, tb[algs[i]], rem)
			if (nla_type(a) == NFSEC_ALG_A_KEY)
				memzero_explicit(nla_data(a), nla_len(a));
	}
}

static int parse_algs(struct nlattr **tb, struct nfsec_sa *sa,
		      struct sa_keys *keys, struct netlink_ext_ack *extack)
{
	return parse_alg(tb[NFSEC_SA_A_ALG_AEAD], &sa->alg_aead, &keys->aead,
			 extack) ?:
	       parse_alg(tb[NFSEC_SA_A_ALG_ENC], &sa->alg_enc, &keys->enc,
			 extack) ?:
	       parse_alg(tb[NFSEC_SA_A_ALG_AUTH], &sa->alg_auth, &keys->auth,
			 extack);
}

static u64 lft_get(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : U64_MAX;
}

static int parse_lifetime(const struct nlattr *nest, struct nfsec_lifetime *l,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_LFT_A_MAX + 1] = {};
	int err;

	err = nfsec_nl_parse(tb, NFSEC_LFT_A_MAX, nest, nfsec_lft_policy, extack);
	if (err && err != -ENOENT)
		return err;
	l->soft_bytes = lft_get(tb, NFSEC_LFT_A_SOFT_BYTES);
	l->hard_bytes = lft_get(tb, NFSEC_LFT_A_HARD_BYTES);
	l->soft_packets = lft_get(tb, NFSEC_LFT_A_SOFT_PACKETS);
	l->hard_packets = lft_get(tb, NFSEC_LFT_A_HARD_PACKETS);
	l->soft_add_seconds = lft_get(tb, NFSEC_LFT_A_SOFT_ADD_SECONDS);
	l->hard_add_seconds = lft_get(tb, NFSEC_LFT_A_HARD_ADD_SECONDS);
	l->soft_use_seconds = lft_get(tb, NFSEC_LFT_A_SOFT_USE_SECONDS);
	l->hard_use_seconds = lft_get(tb, NFSEC_LFT_A_HARD_USE_SECONDS);
	return 0;
}

int nfsec_nl_parse_encap(const struct nlattr *nest, struct nfsec_sa *sa,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFSEC_ENCAP_A_MAX + 1];
	u8 family;
	int err;

	err = nfsec_nl_parse(tb, NFSEC_ENCAP_A_MAX, nest, nfsec_encap_policy,
			     extack);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (sa->proto != IPPROTO_ESP) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "encap is for ESP only");
		return -EINVAL;
	}
	if (!tb[NFSEC_ENCAP_A_TYPE] || !tb[NFSEC_ENCAP_A_SPORT] ||
	    !tb[NFSEC_ENCAP_A_DPORT] || !nla_get_be16(tb[NFSEC_ENCAP_A_SPORT]) ||
	    !nla_get_be16(tb[NFSEC_ENCAP_A_DPORT])) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "encap needs a type and non-zero ports");
		return -EINVAL;
	}
	sa->encap.type = nla_get_u16(tb[NFSEC_ENCAP_A_TYPE]);
	sa->encap.sport = nla_get_be16(tb[NFSEC_ENCAP_A_SPORT]);
	sa->encap.dport = nla_get_be16(tb[NFSEC_ENCAP_A_DPORT]);
	family = sa->family;
	return nfsec_nl_get_addr(tb, NFSEC_ENCAP_A_OADDR, NFSEC_ENCAP_A_OADDR6,
				 &family, &sa->encap.oaddr, extack);
}

/* The SA's identity: (dst, spi, proto), and dst's family. */
int nfsec_nl_sa_id(struct nlattr **tb, const struct nlattr *nest,
		   u8 *family, union nfsec_addr *daddr, __be32 *spi, u8 *proto,
		   struct netlink_ext_ack *extack)
{
	static const int need[] = {
		NFSEC_SA_A_DST, NFSEC_SA_A_SPI, NFSEC_SA_A_PROTO,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(need); i++) {
		if (need[i] == NFSEC_SA_A_DST && tb[NFSEC_SA_A_DST6])
			continue;
		if (!tb[need[i]]) {
			NL_SET_ERR_MSG_MOD(extack, "an SA is identified by dst, spi and proto");
			NL_SET_ERR_ATTR_MISS(extack, nest, need[i]);
			return -EINVAL;
		}
	}
	if (!nla_get_be32(tb[NFSEC_SA_A_SPI])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_SPI], "SPI 0 is reserved");
		return -EINVAL;
	}
	*spi = nla_get_be32(tb[NFSEC_SA_A_SPI]);
	*proto = nla_get_u8(tb[NFSEC_SA_A_PROTO]);
	*family = AF_UNSPEC;
	return nfsec_nl_get_addr(tb, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, family,
				 daddr, extack);
}

/*
 * Transport mode carries packets of its own addresses' family; a tunnel
 * carries either inside either (its selector, or flag af-unspec for both).
 */
static int check_family(struct nlattr **tb, const struct nfsec_sa *sa,
			struct netlink_ext_ack *extack)
{
	if (sa->mode == NFSEC_MODE_TRANSPORT && sa->sel.family != sa->family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_SEL],
				    "a transport mode SA's selector has the SA's family");
		return -EINVAL;
	}
	return 0;
}

/* Its selector: af-unspec SAs carry both families, others their own. */
static int parse_sa_sel(struct nlattr **tb, struct nfsec_sa *sa,
			struct netlink_ext_ack *extack)
{
	bool any = sa->flags & NFSEC_SA_F_AF_UNSPEC;

	if (any && sa->mode != NFSEC_MODE_TUNNEL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_FLAGS],
				    "flag af-unspec is for tunnel mode SAs");
		return -EINVAL;
	}
	return nfsec_nl_parse_sel(tb[NFSEC_SA_A_SEL], &sa->sel,
				  any ? AF_UNSPEC : sa->family, extack);
}

static int check_config(struct nlattr **tb, const struct nlattr *nest,
			struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	if (!tb[NFSEC_SA_A_SRC] && !tb[NFSEC_SA_A_SRC6]) {
		NL_SET_ERR_MSG_MOD(extack, "an SA needs src");
		NL_SET_ERR_ATTR_MISS(extack, nest, NFSEC_SA_A_SRC);
		return -EINVAL;
	}
	if (sa->mode == NFSEC_MODE_TUNNEL &&
	    (nfsec_addr_any(&sa->saddr) || nfsec_addr_any(&sa->daddr))) {
		NL_SET_ERR_MSG_MOD(extack, "tunnel mode needs src and dst endpoints");
		return -EINVAL;
	}
	if (!nfsec_nl_ports_ok(&sa->sel)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_SEL],
				    "selector ports need proto tcp, udp, sctp, dccp or udplite");
		return -EINVAL;
	}
	if (sa->mss && sa->mss != NFSEC_MSS_OFF && sa->mss < TCP_MIN_MSS) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFSEC_SA_A_MSS],
				    "mss below TCP's minimum of 88");
		return -EINVAL;
	}
	return 0;
}

static u32 get_u32(const struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static int parse_seq(struct nlattr **tb, struct nfsec_sa *sa, u64 *seq,
		     struct netlink_ext_ack *extack)
{
	bool esn = sa->flags & NFSEC_SA_F_ESN;

	*seq = tb[NFSEC_SA_A_SEQ] ? nla_get_u64(tb[NFSEC_SA_A_SEQ]) : 0;
	sa->oseq = tb[NFSEC_SA_A_OSEQ] ? nla_get_u64(tb[NFSEC_SA_A_OSEQ]) : 0;
	if (!esn && (*seq > U32_MAX || sa->oseq > U32_MAX)) {
		NL_SET_ERR_MSG_MOD(extack, "sequence numbers above 2^32 need flag esn");
		return -EINVAL;
	}
	if (esn && !get_u32(tb[NFSEC_SA_A_REPLAY_WINDOW])) {
		NL_SET_ERR_MSG_MOD(extack, "flag esn needs a replay-window");
		return -EINVAL;
	}
	return 0;
}

/* Fill a fresh @sa from a request, crypto included. */
static int sa_from_attrs(struct nlattr **tb, const struct nlattr *nest,
			 struct nfsec_sa *sa, struct netlink_ext_ack *extack)
{
	struct sa_keys keys = {};
	u32 window;
	u64 seq;
	int err;

	err = nfsec_nl_sa_id(tb, nest, &sa->family, &sa->daddr, &sa->spi,
			     &sa->proto, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6,
				&sa->family, &sa->saddr, extack);
	if (err)
		return err;
	sa->reqid = get_u32(tb[NFSEC_SA_A_REQID]);
	sa->mode = tb[NFSEC_SA_A_MODE] ? nla_get_u8(tb[NFSEC_SA_A_MODE]) : 0;
	sa->flags = get_u32(tb[NFSEC_SA_A_FLAGS]);
	sa->mss = tb[NFSEC_SA_A_MSS] ? nla_get_u16(tb[NFSEC_SA_A_MSS]) : 0;
	window = get_u32(tb[NFSEC_SA_A_REPLAY_WINDOW]);

	err = parse_sa_sel(tb, sa, extack) ?:
	      check_family(tb, sa, extack) ?:
	      check_config(tb, nest, sa, extack) ?:
	      parse_seq(tb, sa, &seq, extack) ?:
	      parse_lifetime(tb[NFSEC_SA_A_LIFETIME], &sa->lft, extack) ?:
	      nfsec_nl_parse_encap(tb[NFSEC_SA_A_ENCAP], sa, extack) ?:
	      parse_algs(tb, sa, &keys, extack);
	if (err)
		return err;
	err = nfsec_replay_init(&sa->replay, window, seq);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot allocate the replay window");
		return err;
	}
	return nfsec_crypto_init(sa, keys.aead, keys.enc, keys.auth, extack);
}

static int put_alg(struct sk_buff *msg, int type, const struct nfsec_alg *a)
{
	struct nlattr *nest;

	if (!a->name[0])
		return 0;
	nest = nla_nest_start(msg, type);
	if (!nest || nla_put_string(msg, NFSEC_ALG_A_NAME, a->name) ||
	    nla_put_u32(msg, NFSEC_ALG_A_KEY_LEN, a->key_bits) ||
	    nla_put_u32(msg, NFSEC_ALG_A_ICV_LEN, a->icv_bits))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_lifetime(struct sk_buff *msg, const struct nfsec_lifetime *l)
{
	struct nlattr *nest = nla_nest_start(msg, NFSEC_SA_A_LIFETIME);
	const u64 v[] = {
		l->soft_bytes, l->hard_bytes, l->soft_packets, l->hard_packets,
		l->soft_add_seconds, l->hard_add_seconds,
		l->soft_use_seconds, l->hard_use_seconds,
	};
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (nla_put_u64_64bit(msg, NFSEC_LFT_A_SOFT_BYTES + i, v[i],
				      NFSEC_LFT_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_encap(struct sk_buff *msg, const struct nfsec_sa *sa)
{
	struct nlattr *nest;

	if (!sa->encap.type)
		return 0;
	nest = nla_nest_start(msg, NFSEC_SA_A_ENCAP);
	if (!nest || nla_put_u16(msg, NFSEC_ENCAP_A_TYPE, sa->encap.type) ||
	    nla_put_be16(msg, NFSEC_ENCAP_A_SPORT, sa->encap.sport) ||
	    nla_put_be16(msg, NFSEC_ENCAP_A_DPORT, sa->encap.dport) ||
	    nfsec_nl_put_addr(msg, NFSEC_ENCAP_A_OADDR, NFSEC_ENCAP_A_OADDR6,
			      sa->family, &sa->encap.oaddr))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

struct sa_state {
	u64 oseq;
	u64 seq;
	u64 bytes;
	u64 packets;
	time64_t use_time;
	time64_t last_use;
};

static int put_state(struct sk_buff *msg, struct nfsec_sa *sa)
{
	struct sa_state st;
	struct nlattr *nest;

	spin_lock_bh(&sa->lock);
	st = (struct sa_state){ sa->oseq, sa->replay.top, sa->cur_bytes,
				sa->cur_packets, sa->use_time, sa->last_use };
	spin_unlock_bh(&sa->lock);

	if (nla_put_u64_64bit(msg, NFSEC_SA_A_SEQ, st.seq, NFSEC_SA_A_PAD) ||
	    nla_put_u64_64bit(msg, NFSEC_SA_A_OSEQ, st.oseq, NFSEC_SA_A_PAD))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, NFSEC_SA_A_CUR);
	if (!nest ||
	    nla_put_u64_64bit(msg, NFSEC_CUR_A_BYTES, st.bytes, NFSEC_CUR_A_PAD) ||
	    nla_put_u64_64bit(msg, NFSEC_CUR_A_PACKETS, st.packets,
			      NFSEC_CUR_A_PAD) ||
	    nla_put_u64_64bit(msg, NFSEC_CUR_A_ADD_TIME, sa->add_time,
			      NFSEC_CUR_A_PAD) ||
	    nla_put_u64_64bit(msg, NFSEC_CUR_A_USE_TIME, st.use_time,
			      NFSEC_CUR_A_PAD) ||
	    (st.last_use &&
	     nla_put_u64_64bit(msg, NFSEC_CUR_A_LAST_USE, st.last_use,
			       NFSEC_CUR_A_PAD)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return nfsec_stats_put(msg, NFSEC_SA_A_STATS, sa->stats);
}

/* Everything but key bytes, which never leave the kernel. */
static int sa_fill(struct sk_buff *msg, struct nfsec_sa *sa)
{
	struct nlattr *nest = nla_nest_start(msg, NFSEC_A_SA);

	if (!nest ||
	    nfsec_nl_put_addr(msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, sa->family,
			      &sa->saddr) ||
	    nfsec_nl_put_addr(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, sa->family,
			      &sa->daddr) ||
	    nla_put_u8(msg, NFSEC_SA_A_PROTO, sa->proto) ||
	    nla_put_be32(msg, NFSEC_SA_A_SPI, sa->spi) ||
	    nla_put_u32(msg, NFSEC_SA_A_REQID, sa->reqid) ||
	    nla_put_u8(msg, NFSEC_SA_A_MODE, sa->mode) ||
	    nla_put_u32(msg, NFSEC_SA_A_FLAGS, sa->flags) ||
	    nla_put_u32(msg, NFSEC_SA_A_REPLAY_WINDOW, sa->replay.size) ||
	    nla_put_u16(msg, NFSEC_SA_A_MSS, sa->mss) ||
	    put_alg(msg, NFSEC_SA_A_ALG_AEAD, &sa->alg_aead) ||
	    put_alg(msg, NFSEC_SA_A_ALG_ENC, &sa->alg_enc) ||
	    put_alg(msg, NFSEC_SA_A_ALG_AUTH, &sa->alg_auth) ||
	    nfsec_nl_put_sel(msg, NFSEC_SA_A_SEL, &sa->sel) ||
	    put_encap(msg, sa) || put_lifetime(msg, &sa->lft) ||
	    put_state(msg, sa))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int sa_fill_event(struct sk_buff *msg, const void *sa)
{
	return sa_fill(msg, (struct nfsec_sa *)sa);
}

/* Under nn->lock: tell "events" of @sa, as a dump shows it. */
void nfsec_nl_sa_notify(struct nfsec_net *nn, u8 cmd, struct nfsec_sa *sa)
{
	nfsec_nl_notify(nn->net, cmd, sa_fill_event, sa);
}

struct expire_event {
	struct nfsec_sa *sa;
	bool hard;
};

static int sa_fill_expire(struct sk_buff *msg, const void *obj)
{
	const struct expire_event *e = obj;

	return sa_fill(msg, e->sa) ?: nla_put_u8(msg, NFSEC_A_EXPIRE_HARD, e->hard);
}

void nfsec_nl_sa_expired(struct nfsec_net *nn, struct nfsec_sa *sa, bool hard)
{
	struct expire_event e = { .sa = sa, .hard = hard };

	nfsec_nl_notify(nn->net, NFSEC_CMD_SA_EXPIRE, sa_fill_expire, &e);
}

struct mapping_event {
	struct nfsec_sa *sa;
	const union nfsec_addr *addr;
	__be16 port;
};

static int sa_fill_mapping(struct sk_buff *msg, const void *obj)
{
	const struct mapping_event *e = obj;
	struct nlattr *nest;

	if (sa_fill(msg, e->sa))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, NFSEC_A_MAPPING);
	if (!nest ||
	    nfsec_nl_put_addr(msg, NFSEC_MAP_A_SRC, NFSEC_MAP_A_SRC6,
			      e->sa->family, e->addr) ||
	    nla_put_be16(msg, NFSEC_MAP_A_SPORT, e->port))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* Under nn->lock: @sa's packets come from @addr, @port. */
void nfsec_nl_sa_mapping(struct nfsec_net *nn, struct nfsec_sa *sa,
			 const union nfsec_addr *addr, __be16 port)
{
	struct mapping_event e = { .sa = sa, .addr = addr, .port = port };

	nfsec_nl_notify(nn->net, NFSEC_CMD_SA_MAPPING, sa_fill_mapping, &e);
}

/*
 * The request's nest @type (NFSEC_A_SA, NFSEC_A_MOVE_TO) of SA attributes
 * into @tb, checked against @policy; -EINVAL if it has none.
 */
int nfsec_nl_sa_nest(struct genl_info *info, int type,
		     const struct nla_policy *policy, struct nlattr **tb)
{
	struct nlattr *nest = info->attrs[type];

	if (!nest) {
		if (type == NFSEC_A_SA)
			NL_SET_ERR_MSG_MOD(info->extack, "missing the SA attributes");
		else
			NL_SET_ERR_MSG_MOD(info->extack, "SA_MOVE needs where to: NFSEC_A_MOVE_TO");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, type);
		return -EINVAL;
	}
	return nla_parse_nested(tb, NFSEC_SA_A_MAX, nest, policy, info->extack);
}

static int sa_nest(struct genl_info *info, struct nlattr **tb)
{
	return nfsec_nl_sa_nest(info, NFSEC_A_SA, nfsec_sa_policy, tb);
}

static struct nfsec_sa *sa_build(struct genl_info *info)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];
	struct nfsec_sa *sa;
	int err;

	err = sa_nest(info, tb);
	if (err)
		return ERR_PTR(err);
	sa = nfsec_sa_alloc();
	if (!sa) {
		wipe_keys(tb);
		NL_SET_ERR_MSG_MOD(info->extack, "out of memory");
		return ERR_PTR(-ENOMEM);
	}
	err = sa_from_attrs(tb, info->attrs[NFSEC_A_SA], sa, info->extack);
	wipe_keys(tb);
	if (err) {
		nfsec_sa_destroy(sa);
		return ERR_PTR(err);
	}
	return sa;
}

/* A request with NFSEC_A_VALIDATE ends once its SA could be built. */
static bool sa_validated(struct nfsec_sa *sa, const struct genl_info *info)
{
	if (!nfsec_nl_validate_only(info))
		return false;
	nfsec_sa_destroy(sa);
	return true;
}

int nfsec_nl_sa_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa *sa;
	int err;

	/* Transforms are allocated outside the lock: that may sleep long. */
	sa = sa_build(info);
	if (IS_ERR(sa) || sa_validated(sa, info))
		return PTR_ERR_OR_ZERO(sa);
	mutex_lock(&nn->lock);
	err = nfsec_sa_insert(nn, sa, info->extack);
	if (!err)
		nfsec_nl_sa_notify(nn, NFSEC_CMD_SA_ADD, sa);
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_sa_destroy(sa);
	return err;
}

int nfsec_nl_sa_update(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa *sa, *old;
	int err = -ENOENT;

	sa = sa_build(info);
	if (IS_ERR(sa) || sa_validated(sa, info))
		return PTR_ERR_OR_ZERO(sa);
	mutex_lock(&nn->lock);
	old = nfsec_sa_lookup(nn, sa->family, &sa->daddr, sa->spi, sa->proto);
	if (old)
		err = nfsec_sa_replace(nn, old, sa, info->extack);
	/* As xfrm's update of a larval state: the reserver installs it. */
	else if (nfsec_spi_reserved(nn, sa->family, &sa->daddr, sa->spi,
				    sa->proto))
		err = nfsec_sa_insert(nn, sa, info->extack);
	else
		NL_SET_ERR_MSG_MOD(info->extack, "no such SA to update");
	if (!err)
		nfsec_nl_sa_notify(nn, NFSEC_CMD_SA_UPDATE, sa);
	mutex_unlock(&nn->lock);
	if (err)
		nfsec_sa_destroy(sa);
	return err;
}

struct sa_id {
	union nfsec_addr daddr;
	__be32 spi;
	u8 family;
	u8 proto;
};

static int sa_id_parse(struct genl_info *info, struct sa_id *id)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];

	return sa_nest(info, tb) ?:
	       nfsec_nl_sa_id(tb, info->attrs[NFSEC_A_SA], &id->family,
			      &id->daddr, &id->spi, &id->proto, info->extack);
}

static struct nfsec_sa *sa_id_find(struct nfsec_net *nn, const struct sa_id *id)
{
	return nfsec_sa_lookup(nn, id->family, &id->daddr, id->spi, id->proto);
}

/* The SA a request names; called with nn->lock held. */
static struct nfsec_sa *sa_find(struct nfsec_net *nn, struct genl_info *info)
{
	struct nfsec_sa *sa;
	struct sa_id id;
	int err;

	err = sa_id_parse(info, &id);
	if (err)
		return ERR_PTR(err);
	sa = sa_id_find(nn, &id);
	if (!sa) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such SA");
		return ERR_PTR(-ENOENT);
	}
	return sa;
}

int nfsec_nl_sa_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nfsec_sa *sa;
	struct sa_id id;
	int err;

	err = nfsec_nl_no_validate(info) ?: sa_id_parse(info, &id);
	if (err)
		return err;
	mutex_lock(&nn->lock);
	sa = sa_id_find(nn, &id);
	if (sa) {
		nfsec_nl_sa_notify(nn, NFSEC_CMD_SA_DEL, sa);
		nfsec_sa_unlink(nn, sa);
	} else if (!nfsec_spi_release(nn, id.family, &id.daddr, id.spi,
				      id.proto)) {
		/* A reservation is released as xfrm deletes a larval state. */
		NL_SET_ERR_MSG_MOD(info->extack, "no such SA");
		err = -ENOENT;
	}
	mutex_unlock(&nn->lock);
	return err;
}

/* A reply to @info, its header put; NULL if out of memory. */
static struct sk_buff *reply_new(struct genl_info *info, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &nfsec_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Send the reply if its filling went well (@err 0), else drop it. */
static int reply_send(struct genl_info *info, struct sk_buff *msg, void *hdr,
		      int err)
{
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int nfsec_nl_sa_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct sk_buff *msg;
	struct nfsec_sa *sa;
	void *hdr;
	int err;

	msg = reply_new(info, NFSEC_CMD_SA_GET, &hdr);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&nn->lock);
	sa = sa_find(nn, info);
	err = IS_ERR(sa) ? PTR_ERR(sa) : sa_fill(msg, sa);
	mutex_unlock(&nn->lock);
	return reply_send(info, msg, hdr, err);
}

struct dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int sa_dump_one(struct nfsec_sa *sa, void *arg)
{
	struct dump_ctx *ctx = arg;
	void *hdr;

	hdr = genlmsg_put(ctx->skb, NETLINK_CB(ctx->cb->skb).portid,
			  ctx->cb->nlh->nlmsg_seq, &nfsec_family, NLM_F_MULTI,
			  NFSEC_CMD_SA_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(ctx->cb, hdr);
	if (sa_fill(ctx->skb, sa)) {
		genlmsg_cancel(ctx->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(ctx->skb, hdr);
	return 0;
}

int nfsec_nl_sa_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nfsec_net *nn = nfsec_pernet(sock_net(skb->sk));
	struct dump_ctx ctx = { skb, cb };
	int err;

	mutex_lock(&nn->lock);
	cb->seq = nn->genid;
	err = nfsec_sa_walk(nn, &cb->args[0], &cb->args[1], sa_dump_one, &ctx);
	mutex_unlock(&nn->lock);
	/* A full buffer ends this part; the cursor resumes the next. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

int nfsec_nl_sa_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];
	u8 proto = 0;
	int err;

	err = nfsec_nl_no_validate(info);
	if (err)
		return err;
	if (info->attrs[NFSEC_A_SA]) {
		err = sa_nest(info, tb);
		if (err)
			return err;
		if (tb[NFSEC_SA_A_PROTO])
			proto = nla_get_u8(tb[NFSEC_SA_A_PROTO]);
	}
	mutex_lock(&nn->lock);
	nfsec_sa_flush(nn, proto);
	nfsec_spi_flush(nn, proto);
	nfsec_nl_notify(nn->net, NFSEC_CMD_SA_FLUSH, NULL, NULL);
	mutex_unlock(&nn->lock);
	return 0;
}

/* SA_ALLOCSPI: the nest names the SA to be, without its SPI. */
static const struct nla_policy allocspi_policy[NFSEC_SA_A_MAX + 1] = {
	[NFSEC_SA_A_SRC] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_DST] = NLA_POLICY_EXACT_LEN(4),
	[NFSEC_SA_A_PROTO] = NLA_POLICY_RANGE(NLA_U8, IPPROTO_ESP, IPPROTO_AH),
	[NFSEC_SA_A_SPI] = { .type = NLA_REJECT,
			     .reject_message = "allocspi chooses the SPI: give a range with min and max" },
	[NFSEC_SA_A_REQID] = { .type = NLA_U32 },
	[NFSEC_SA_A_MODE] = NLA_POLICY_MAX(NLA_U8, NFSEC_MODE_TUNNEL),
	[NFSEC_SA_A_SRC6] = NLA_POLICY_EXACT_LEN(16),
	[NFSEC_SA_A_DST6] = NLA_POLICY_EXACT_LEN(16),
};

struct allocspi_req {
	union nfsec_addr saddr;
	union nfsec_addr daddr;
	u8 family;
	u8 proto;
	u8 mode;
	u32 reqid;
	u32 min;
	u32 max;
	u32 timeout;
	__be32 spi;
};

static int allocspi_parse(struct genl_info *info, struct allocspi_req *r)
{
	struct nlattr *nest = info->attrs[NFSEC_A_SA];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[NFSEC_SA_A_MAX + 1];
	struct nlattr **a = info->attrs;
	int err;

	err = nfsec_nl_sa_nest(info, NFSEC_A_SA, allocspi_policy, tb);
	if (err)
		return err;
	if ((!tb[NFSEC_SA_A_DST] && !tb[NFSEC_SA_A_DST6]) ||
	    !tb[NFSEC_SA_A_PROTO]) {
		NL_SET_ERR_MSG_MOD(extack, "allocspi needs dst and proto");
		NL_SET_ERR_ATTR_MISS(extack, nest, tb[NFSEC_SA_A_PROTO] ?
				     NFSEC_SA_A_DST : NFSEC_SA_A_PROTO);
		return -EINVAL;
	}
	r->family = AF_UNSPEC;
	err = nfsec_nl_get_addr(tb, NFSEC_SA_A_DST, NFSEC_SA_A_DST6,
				&r->family, &r->daddr, extack) ?:
	      nfsec_nl_get_addr(tb, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6,
				&r->family, &r->saddr, extack);
	if (err)
		return err;
	r->proto = nla_get_u8(tb[NFSEC_SA_A_PROTO]);
	r->mode = tb[NFSEC_SA_A_MODE] ? nla_get_u8(tb[NFSEC_SA_A_MODE]) : 0;
	r->reqid = get_u32(tb[NFSEC_SA_A_REQID]);
	r->min = a[NFSEC_A_SPI_MIN] ? ntohl(nla_get_be32(a[NFSEC_A_SPI_MIN])) :
				      NFSEC_SPI_MIN_DEFAULT;
	r->max = a[NFSEC_A_SPI_MAX] ? ntohl(nla_get_be32(a[NFSEC_A_SPI_MAX])) :
				      NFSEC_SPI_MAX_DEFAULT;
	r->timeout = a[NFSEC_A_SPI_TIMEOUT] ?
		     nla_get_u32(a[NFSEC_A_SPI_TIMEOUT]) :
		     NFSEC_SPI_TIMEOUT_DEFAULT;
	if (!r->min) {
		NL_SET_ERR_MSG_ATTR(extack, a[NFSEC_A_SPI_MIN],
				    "SPI 0 is reserved: min must be 1 or more");
		return -EINVAL;
	}
	if (r->min > r->max) {
		NL_SET_ERR_MSG_ATTR(extack, a[NFSEC_A_SPI_MAX] ?: a[NFSEC_A_SPI_MIN],
				    "the SPI range is empty: min is above max");
		return -EINVAL;
	}
	return 0;
}

static int allocspi_fill(struct sk_buff *msg, const struct allocspi_req *r)
{
	struct nlattr *nest = nla_nest_start(msg, NFSEC_A_SA);

	if (!nest ||
	    (!nfsec_addr_any(&r->saddr) &&
	     nfsec_nl_put_addr(msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, r->family,
			       &r->saddr)) ||
	    nfsec_nl_put_addr(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, r->family,
			      &r->daddr) ||
	    nla_put_u8(msg, NFSEC_SA_A_PROTO, r->proto) ||
	    nla_put_be32(msg, NFSEC_SA_A_SPI, r->spi) ||
	    nla_put_u32(msg, NFSEC_SA_A_REQID, r->reqid) ||
	    nla_put_u8(msg, NFSEC_SA_A_MODE, r->mode))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return nla_put_u32(msg, NFSEC_A_SPI_TIMEOUT, r->timeout);
}

int nfsec_nl_sa_allocspi(struct sk_buff *skb, struct genl_info *info)
{
	struct nfsec_net *nn = nfsec_pernet(genl_info_net(info));
	struct allocspi_req r = {};
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = nfsec_nl_no_validate(info) ?: allocspi_parse(info, &r);
	if (err)
		return err;
	msg = reply_new(info, NFSEC_CMD_SA_ALLOCSPI, &hdr);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&nn->lock);
	err = nfsec_spi_alloc(nn, r.family, &r.daddr, r.proto, r.min, r.max,
			      r.timeout, &r.spi, info->extack);
	/*
	 * The reply cannot fail to fit; if it did, the reservation would
	 * only expire unused.
	 */
	if (!err)
		err = allocspi_fill(msg, &r);
	mutex_unlock(&nn->lock);
	return reply_send(info, msg, hdr, err);
}
