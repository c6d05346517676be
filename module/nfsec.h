/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the nfsec module: the objects every file shares.
 *
 * Locking: each netns has one mutex (nn->lock) for every update of its SA
 * and policy databases. The packet path reads both under RCU, without
 * locks; an SA's mutable per-packet state (sequence numbers, replay window,
 * lifetime use) is under sa->lock, a spinlock taken in softirq context.
 * An SA lives while it is in the database or a packet holds a reference
 * (async crypto): nfsec_sa_hold()/nfsec_sa_put().
 */
#ifndef _NFSEC_H
#define _NFSEC_H

#include <linux/types.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/dst_cache.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include "uapi/nfsec.h"

#define NFSEC_VERSION "0.1.0"

struct crypto_aead;
struct crypto_ahash;
struct nfsec_tfm;

/* Counters: one per-CPU block per SA and one per netns. */
struct nfsec_stats {
	u64_stats_t c[__NFSEC_STAT_MAX];
	struct u64_stats_sync syncp;
};

struct nfsec_stats __percpu *nfsec_stats_alloc(void);
void nfsec_stats_free(struct nfsec_stats __percpu *stats);
void nfsec_stats_sum(struct nfsec_stats __percpu *stats,
		     u64 out[__NFSEC_STAT_MAX]);
int nfsec_stats_put(struct sk_buff *msg, int attrtype,
		    struct nfsec_stats __percpu *stats);

/*
 * An address of either family, with the family kept beside it. An IPv4
 * address is a4 with the rest zero, so that a whole union compares and
 * hashes the same way for both.
 */
union nfsec_addr {
	__be32 a4;
	struct in6_addr a6;
};

static inline bool nfsec_addr_eq(const union nfsec_addr *a,
				 const union nfsec_addr *b)
{
	return ipv6_addr_equal(&a->a6, &b->a6);
}

static inline bool nfsec_addr_any(const union nfsec_addr *a)
{
	return ipv6_addr_any(&a->a6);
}

/* A pointer to IPv4 address @x as a union, for lookups. */
#define NFSEC_ADDR4(x) (&(union nfsec_addr){ .a4 = (x) })

/* The highest prefix length of @family's addresses. */
static inline u8 nfsec_addr_bits(u8 family)
{
	return family == AF_INET6 ? 128 : 32;
}

bool nfsec_prefix_match(u8 family, const union nfsec_addr *a,
			const union nfsec_addr *b, u8 plen);
void nfsec_addr_mask(u8 family, union nfsec_addr *a, u8 plen);

/* A packet's 5-tuple, as selectors see it. */
struct nfsec_flow {
	union nfsec_addr saddr;
	union nfsec_addr daddr;
	u8 family;		/* AF_INET or AF_INET6 */
	u8 proto;
	__be16 sport;
	__be16 dport;
};

struct nfsec_sel {
	union nfsec_addr saddr;
	union nfsec_addr daddr;
	u8 family;		/* AF_UNSPEC: any (an SA's, af-unspec) */
	u8 splen;
	u8 dplen;
	u8 proto;		/* 0: any */
	__be16 sport;		/* 0: any */
	__be16 dport;		/* 0: any */
};

bool nfsec_sel_match(const struct nfsec_sel *sel, const struct nfsec_flow *fl);

struct nfsec_alg {
	char name[NFSEC_ALG_NAME_MAX];	/* empty: not configured */
	u32 key_bits;
	u32 icv_bits;
};

struct nfsec_lifetime {
	u64 soft_bytes;
	u64 hard_bytes;
	u64 soft_packets;
	u64 hard_packets;
	u64 soft_add_seconds;
	u64 hard_add_seconds;
	u64 soft_use_seconds;
	u64 hard_use_seconds;
};

/* RFC 6479 window: a ring of 64-bit blocks, one block more than needed. */
struct nfsec_replay {
	u64 top;		/* highest sequence number accepted */
	u32 size;		/* window in packets, 0: off */
	u32 nblocks;		/* power of two */
	u64 *bmp;
};

enum nfsec_esp_kind {
	NFSEC_ESP_AEAD,		/* rfc4106(gcm(aes)), rfc7539esp(...) */
	NFSEC_ESP_AUTHENC,	/* authenc / authencesn(hmac, cbc or null) */
};

struct nfsec_net;

struct nfsec_sa {
	struct hlist_node spi_node;	/* nn->sa_spi */
	struct hlist_node dst_node;	/* nn->sa_dst, outbound lookup */
	struct rcu_work free_work;	/* crypto is freed in process context */
	refcount_t refcnt;
	struct nfsec_net *nn;

	/* Configuration: fixed once the SA is published. */
	union nfsec_addr saddr;
	union nfsec_addr daddr;
	u8 family;			/* of saddr, daddr: the outer header */
	__be32 spi;
	u8 proto;			/* IPPROTO_ESP or IPPROTO_AH */
	u8 mode;			/* enum nfsec_mode */
	u32 reqid;
	u32 flags;			/* NFSEC_SA_F_* */
	struct nfsec_sel sel;
	struct {
		u16 type;		/* 0: none, UDP_ENCAP_ESPINUDP */
		__be16 sport;
		__be16 dport;
		union nfsec_addr oaddr;	/* of the SA's family */
	} encap;
	struct nfsec_lifetime lft;
	u16 mss;			/* 0 auto, NFSEC_MSS_OFF, or value */
	struct nfsec_alg alg_aead;
	struct nfsec_alg alg_enc;
	struct nfsec_alg alg_auth;

	/* Crypto, set up by nfsec_crypto_init(). */
	struct nfsec_tfm *tfm;		/* owns aead, ahash; shared by moves */
	struct crypto_aead *aead;	/* ESP */
	struct crypto_ahash *ahash;	/* AH: hmac(sha256) */
	u8 esp_kind;			/* enum nfsec_esp_kind */
	unsigned int ivlen;		/* bytes on the wire */
	unsigned int icvlen;		/* bytes */
	unsigned int blksize;		/* ESP padding alignment, >= 4 */
	bool integrity;			/* an ICV authenticates packets */
	u64 iv_salt;			/* AEAD IV = seq ^ iv_salt; random */

	struct dst_cache dst_cache;	/* tunnel mode: the route to the peer */
	/* pmtu.c: learnt from ICMP, written under @lock, read without */
	u32 pmtu;			/* 0: none */
	unsigned long pmtu_expires;	/* jiffies */

	/* Per-packet state under @lock. */
	spinlock_t lock;
	u64 oseq;			/* last sequence number sent */
	struct nfsec_replay replay;
	u64 cur_bytes;
	u64 cur_packets;
	time64_t add_time;
	time64_t use_time;		/* 0: never used */
	time64_t last_use;		/* monotonic seconds, 0: never */
	bool dead;			/* unlinked: send no more */

	/* lifetime.c */
	unsigned long expire;		/* soft, hard reached; soft told */
	struct timer_list timer;	/* the next time limit */
	struct work_struct expire_work;	/* tells, and deletes at hard */

	/* natt.c: the last mapping told, under lock */
	union nfsec_addr map_addr;
	__be16 map_port;
	unsigned long map_next;		/* jiffies: when it may be told again */

	struct nfsec_stats __percpu *stats;
	u32 frag_user;			/* ip_defrag() queue of its inner fragments */
};

struct nfsec_tmpl {
	union nfsec_addr saddr;		/* tunnel endpoints */
	union nfsec_addr daddr;
	u8 family;			/* of the endpoints, AF_UNSPEC: none */
	__be32 spi;			/* 0: any */
	u8 proto;
	u8 mode;
	u8 level;			/* enum nfsec_tmpl_level */
	u32 reqid;			/* 0: any */
};

struct nfsec_pol_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

struct nfsec_policy {
	struct list_head node;		/* nn->policies[dir], by priority */
	struct hlist_node hnode;	/* nn->pol_hash, by priority */
	struct rcu_head rcu;
	u64 seq;			/* insertion order: older wins a tie */
	struct nfsec_sel sel;
	u8 dir;				/* enum nfsec_dir */
	u8 action;			/* enum nfsec_action */
	bool has_tmpl;			/* false: bypass (allow) */
	u32 priority;
	u32 index;
	struct nfsec_tmpl tmpl;
	struct nfsec_pol_stats __percpu *stats;
	unsigned long acq_next;		/* jiffies: no SA_ACQUIRE before */
	time64_t last_use;		/* monotonic seconds, 0: never */
};

#define NFSEC_HASH_BITS 12
#define NFSEC_HASH_SIZE (1U << NFSEC_HASH_BITS)
#define NFSEC_NATT_BITS 6
#define NFSEC_SPI_BITS 8

struct nfsec_net {
	struct net *net;
	struct mutex lock;		/* every update below */
	struct hlist_head *sa_spi;	/* by (daddr, spi, proto) */
	struct hlist_head *sa_dst;	/* by (daddr, proto) for output */
	unsigned int sa_count;
	atomic_t sa_alive;		/* inserted SAs not yet freed */
	struct list_head policies[3];	/* enum nfsec_dir */
	/* policy.c: the packet path's view of the same policies */
	struct hlist_head *pol_hash;
	struct list_head pol_classes[3];
	u64 pol_seq;
	unsigned int pol_count;
	unsigned int pol_ports[3];	/* policies naming ports, per dir */
	u32 pol_next_index;		/* counter of policy.c's index_alloc() */
	bool pol_index_wrapped;		/* indexes may be in use: check */
	u32 genid;			/* bumped on every change; dumps */
	u32 hash_seed;
	struct nfsec_stats __percpu *stats;
	/* natt.c: (address, port) pairs that encap SAs receive on */
	struct hlist_head natt_ports[1 << NFSEC_NATT_BITS];
	unsigned int natt_ports_used;
	/* spi.c: SPI reservations (SA_ALLOCSPI), under @lock only */
	struct hlist_head spi_resv[1 << NFSEC_SPI_BITS];
	unsigned int spi_count;
	struct delayed_work spi_gc;	/* frees them as they expire */
	bool hooks_registered;
};

/*
 * A decapsulated packet on its way back through the stack: the SA it came
 * through, for the in or fwd policy check at LOCAL_IN or FORWARD,
 * whichever it reaches. The flow is read from the packet there.
 */
struct nfsec_rx_id {
	union nfsec_addr sa_daddr;
	__be32 spi;
	u8 sa_proto;
	u8 sa_family;
};

/*
 * The control block of a packet on nfsec's receive path: IPCB() or
 * IP6CB() first, as the stack keeps using it, then nfsec's own state.
 */
struct nfsec_skb_cb {
	union {
		struct inet_skb_parm h4;
		struct inet6_skb_parm h6;
	};
	union {
		struct {			/* up to and in the rx queue */
			struct nfsec_sa *sa;	/* in the queue: a reference */
			u16 hlen;		/* of the headers before ESP/AH */
			u16 nhoff;		/* the byte that named ESP/AH */
			__be16 encap_sport;
			bool encap;		/* the ESP came in UDP */
		};
		struct nfsec_rx_id id;		/* delivered (nfsec_is_decap()) */
	};
};
#define NFSEC_CB(skb) ((struct nfsec_skb_cb *)(skb)->cb)
static_assert(sizeof(struct nfsec_skb_cb) <= sizeof_field(struct sk_buff, cb));

extern unsigned int nfsec_net_id;
extern struct workqueue_struct *nfsec_wq;
extern bool nfsec_allow_null;		/* module parameters */
extern unsigned int nfsec_max_sas;	/* per netns, 0: no limit */
extern unsigned int nfsec_max_policies;

struct nfsec_net *nfsec_pernet(const struct net *net);

/* family.c: what differs between IPv4 and IPv6. */

/*
 * A packet's network layer as nfsec reads it: the upper-layer protocol
 * (ESP, AH, TCP, ...) past the IPv6 extension headers, and where it
 * starts. On output, where ESP or AH goes in transport mode.
 */
struct nfsec_l3 {
	u8 family;
	u8 proto;		/* of the header at @hlen */
	u16 hlen;		/* bytes from the network header to it */
	u16 nhoff;		/* the byte that names it */
	bool frag;		/* a fragment */
	bool later_frag;	/* not the first: no upper-layer header */
	bool routed;		/* IPv6 routing header with segments left */
};

static inline u8 nfsec_skb_family(const struct sk_buff *skb)
{
	switch (ip_hdr(skb)->version) {
	case 4:
		return AF_INET;
	case 6:
		return AF_INET6;
	}
	return AF_UNSPEC;
}

int nfsec_l3_parse(const struct sk_buff *skb, struct nfsec_l3 *l3, bool out);
/* The source (@dst false) or destination address of the packet. */
void nfsec_skb_addr(const struct sk_buff *skb, union nfsec_addr *a, bool dst);
void nfsec_l3_set_len(struct sk_buff *skb);
void nfsec_l3_cut(struct sk_buff *skb, unsigned int len, u8 nexthdr);
unsigned int nfsec_l3_max_len(u8 family);
/*
 * Fill @fl from the packet at the network header; ports are 0 for
 * fragments and protocols without ports. -EINVAL: a malformed header chain.
 */
int nfsec_flow_from_skb(const struct sk_buff *skb, struct nfsec_flow *fl);
/* The same, for a packet already parsed. */
void nfsec_flow_fill(const struct sk_buff *skb, const struct nfsec_l3 *l3,
		     struct nfsec_flow *fl);
void nfsec_flow_unnat(const struct sk_buff *skb, struct nfsec_flow *fl);
int nfsec_defrag(struct net *net, struct sk_buff *skb, u32 user);
void nfsec_set_decap(struct sk_buff *skb);
bool nfsec_is_decap(struct sk_buff *skb);
int nfsec_inner_cb(struct sk_buff *skb);
int nfsec_inner_check(struct sk_buff *skb, u8 family);
u8 nfsec_dsfield(const struct sk_buff *skb);
int nfsec_ecn_decap(struct sk_buff *skb, u8 outer);
struct dst_entry *nfsec_route_peer(struct net *net, struct nfsec_sa *sa);
unsigned int nfsec_peer_mtu(const struct dst_entry *dst, u8 family,
			    bool shared);
bool nfsec_may_frag(const struct sk_buff *skb);
void nfsec_send_too_big(struct sk_buff *skb, unsigned int mtu);
void nfsec_push_outer(struct net *net, struct nfsec_sa *sa,
		      struct sk_buff *skb, struct dst_entry *dst);
void nfsec_local_out(struct net *net, struct sk_buff *skb);
bool nfsec_transformed(const struct sk_buff *skb);
int nfsec_route_input(struct sk_buff *skb);
unsigned int nfsec_mtu_to(struct net *net, const struct nfsec_sa *sa,
			  const union nfsec_addr *to, unsigned int mtu);

/* sa.c */
int nfsec_sa_cache_init(void);
void nfsec_sa_cache_exit(void);
int nfsec_sa_init(struct nfsec_net *nn);
void nfsec_sa_exit(struct nfsec_net *nn);
/* RCU readers; no reference taken. */
struct nfsec_sa *nfsec_sa_lookup(struct nfsec_net *nn, u8 family,
				 const union nfsec_addr *daddr, __be32 spi,
				 u8 proto);
/* The SA that carries @fl under template @t, or NULL. */
struct nfsec_sa *nfsec_sa_lookup_out(struct nfsec_net *nn,
				     const struct nfsec_tmpl *t,
				     const struct nfsec_flow *fl);
bool nfsec_tmpl_match_sa(const struct nfsec_tmpl *t,
			 const struct nfsec_sa *sa);
static inline bool nfsec_sa_hold(struct nfsec_sa *sa)
{
	return refcount_inc_not_zero(&sa->refcnt);
}
void nfsec_sa_put(struct nfsec_sa *sa);
/* Control plane, under nn->lock. */
struct nfsec_sa *nfsec_sa_alloc(void);
void nfsec_sa_destroy(struct nfsec_sa *sa);
int nfsec_sa_insert(struct nfsec_net *nn, struct nfsec_sa *sa,
		    struct netlink_ext_ack *extack);
void nfsec_sa_unlink(struct nfsec_net *nn, struct nfsec_sa *sa);
int nfsec_sa_replace(struct nfsec_net *nn, struct nfsec_sa *old,
		     struct nfsec_sa *new, struct netlink_ext_ack *extack);
struct nfsec_sa *nfsec_sa_dup(const struct nfsec_sa *old);
int nfsec_sa_move(struct nfsec_net *nn, struct nfsec_sa *old,
		  struct nfsec_sa *new, struct netlink_ext_ack *extack);
unsigned int nfsec_sa_flush(struct nfsec_net *nn, u8 proto);
int nfsec_sa_walk(struct nfsec_net *nn, unsigned long *bucket,
		  unsigned long *skip,
		  int (*fn)(struct nfsec_sa *sa, void *arg), void *arg);

/* spi.c: SPI reservations, under nn->lock. */
void nfsec_spi_init(struct nfsec_net *nn);
void nfsec_spi_exit(struct nfsec_net *nn);
int nfsec_spi_alloc(struct nfsec_net *nn, u8 family,
		    const union nfsec_addr *daddr, u8 proto, u32 min, u32 max,
		    unsigned int timeout, __be32 *spi,
		    struct netlink_ext_ack *extack);
bool nfsec_spi_reserved(struct nfsec_net *nn, u8 family,
			const union nfsec_addr *daddr, __be32 spi, u8 proto);
bool nfsec_spi_release(struct nfsec_net *nn, u8 family,
		       const union nfsec_addr *daddr, __be32 spi, u8 proto);
unsigned int nfsec_spi_flush(struct nfsec_net *nn, u8 proto);

/* acquire.c */
void nfsec_acquire(struct nfsec_net *nn, struct nfsec_policy *pol,
		   const struct nfsec_flow *fl);
void nfsec_acquire_exit(void);

/* lifetime.c */
void nfsec_lft_init(struct nfsec_sa *sa);
void nfsec_lft_start(struct nfsec_sa *sa);
void nfsec_lft_stop(struct nfsec_sa *sa);
void nfsec_lft_moved(struct nfsec_sa *new, struct nfsec_sa *old);
/* Under sa->lock, on the packet path. */
bool nfsec_lft_check(struct nfsec_sa *sa);
void nfsec_lft_count(struct nfsec_sa *sa, unsigned int len);
void nfsec_lft_seq(struct nfsec_sa *sa, u64 seq, bool esn);

/* policy.c: RCU readers; first match by priority, NULL if none. */
int nfsec_policy_cache_init(void);
void nfsec_policy_cache_exit(void);
int nfsec_policy_init(struct nfsec_net *nn);
void nfsec_policy_exit(struct nfsec_net *nn);
struct nfsec_policy *nfsec_policy_lookup(struct nfsec_net *nn, u8 dir,
					 const struct nfsec_flow *fl);
void nfsec_policy_count(struct nfsec_policy *pol, unsigned int len);
/* Control plane, under nn->lock. */
struct nfsec_policy *nfsec_policy_alloc(void);
void nfsec_policy_destroy(struct nfsec_policy *pol);
int nfsec_policy_insert(struct nfsec_net *nn, struct nfsec_policy *pol,
			struct netlink_ext_ack *extack);
struct nfsec_policy *nfsec_policy_find(struct nfsec_net *nn, u8 dir,
				       const struct nfsec_sel *sel);
struct nfsec_policy *nfsec_policy_find_index(struct nfsec_net *nn, u32 index);
int nfsec_policy_replace(struct nfsec_net *nn, struct nfsec_policy *old,
			 struct nfsec_policy *pol);
void nfsec_policy_unlink(struct nfsec_net *nn, struct nfsec_policy *pol);
unsigned int nfsec_policy_flush(struct nfsec_net *nn, int dir);
bool nfsec_policy_selftest(void);
bool nfsec_replay_selftest(void);

/* crypto.c: validate algorithms and keys, allocate transforms. */
int nfsec_crypto_init(struct nfsec_sa *sa, const u8 *aead_key,
		      const u8 *enc_key, const u8 *auth_key,
		      struct netlink_ext_ack *extack);
void nfsec_crypto_share(struct nfsec_sa *new, const struct nfsec_sa *old);
void nfsec_crypto_free(struct nfsec_sa *sa);
void *nfsec_req_alloc(size_t len);
void nfsec_req_free(void *p, size_t len);
void nfsec_req_cache_exit(void);

/* replay.c */
int nfsec_replay_init(struct nfsec_replay *r, u32 size, u64 seq);
void nfsec_replay_free(struct nfsec_replay *r);
/* Infer the 64-bit sequence number of @seq_lo (RFC 4303 Appendix A). */
u64 nfsec_replay_infer(const struct nfsec_replay *r, u32 seq_lo, bool esn);
/* 0 if @seq may be accepted; else NFSEC_STAT_RX_REPLAY_OLD or _DUP. */
int nfsec_replay_check(const struct nfsec_replay *r, u64 seq);
/* Like check, and marks @seq seen: call after the ICV verified. */
int nfsec_replay_advance(struct nfsec_replay *r, u64 seq);

/*
 * Completion of a packet's transform, synchronous or not: one function
 * finishes both. @err < 0: drop the packet.
 */
typedef void (*nfsec_done_t)(struct sk_buff *skb, struct nfsec_sa *sa,
			     u64 seq, void *arg, int err);

/* esp.c */
int nfsec_esp_output(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		     nfsec_done_t done, void *arg);
int nfsec_esp_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		    nfsec_done_t done, void *arg);

/* output.c, input.c: the packet path below the hooks. */
void nfsec_output(struct net *net, struct nfsec_sa *sa, struct sk_buff *skb);
void nfsec_input(struct nfsec_sa *sa, struct sk_buff *skb,
		 const struct nfsec_l3 *l3);
void nfsec_deliver(struct sk_buff *skb, struct nfsec_sa *sa);
unsigned int nfsec_check_decap(struct nfsec_net *nn, struct sk_buff *skb,
			       u8 dir);

/* rxq.c */
bool nfsec_rxq_add(struct nfsec_sa *sa, struct sk_buff *skb);
int nfsec_rxq_init(void);
void nfsec_rxq_exit(void);

/* ah.c */
unsigned int nfsec_ah_hdrlen(const struct nfsec_sa *sa);
int nfsec_ah_output(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		    nfsec_done_t done, void *arg);
int nfsec_ah_input(struct nfsec_sa *sa, struct sk_buff *skb, u64 seq,
		   nfsec_done_t done, void *arg);

/* natt.c: under nn->lock, but nfsec_natt_rcv() (RCU). */
int nfsec_natt_port_get(struct nfsec_net *nn, const struct nfsec_sa *sa);
void nfsec_natt_port_put(struct nfsec_net *nn, const struct nfsec_sa *sa);
void nfsec_natt_encap(const struct nfsec_sa *sa, struct sk_buff *skb,
		      unsigned int off);
bool nfsec_natt_port(struct nfsec_net *nn, const struct sk_buff *skb,
		     const struct nfsec_l3 *l3);
bool nfsec_natt_flow(struct nfsec_net *nn, u8 family,
		     const union nfsec_addr *addr, __be16 port);
unsigned int nfsec_natt_rcv(struct nfsec_net *nn, struct sk_buff *skb,
			    struct nfsec_l3 *l3);
void nfsec_natt_out_csum(struct sk_buff *skb);
void nfsec_natt_check_src(struct nfsec_sa *sa, const struct sk_buff *skb);
bool nfsec_natt_fix_csum(struct sk_buff *skb);

/* pmtu.c */
bool nfsec_pmtu_icmp(struct nfsec_net *nn, struct sk_buff *skb,
		     const struct nfsec_l3 *l3);

/*
 * The path MTU learnt for @sa while it lasts, else UINT_MAX. Read without
 * the lock: a reader that sees a new MTU with its old expiry ignores it
 * once, no worse than a packet earlier.
 */
static inline unsigned int nfsec_sa_pmtu(const struct nfsec_sa *sa)
{
	u32 mtu = READ_ONCE(sa->pmtu);

	if (mtu && time_before(jiffies, READ_ONCE(sa->pmtu_expires)))
		return mtu;
	return UINT_MAX;
}

/* mss.c */
unsigned int nfsec_mss_for(const struct nfsec_sa *sa, unsigned int mtu,
			   u8 family);
unsigned int nfsec_inner_mtu(const struct nfsec_sa *sa, unsigned int mtu,
			     u8 family);
bool nfsec_mss_clamp(struct sk_buff *skb, unsigned int thoff, u16 mss);
unsigned int nfsec_mss_syn(const struct nfsec_sa *sa, const struct sk_buff *skb);
void nfsec_mss_sa(struct nfsec_sa *sa, struct sk_buff *skb,
		  unsigned int thoff, unsigned int mtu);
bool nfsec_mss_selftest(void);

/* hooks.c: netfilter hooks of one netns. */
int nfsec_hooks_register(struct net *net);
void nfsec_hooks_unregister(struct net *net);

/* genl.c */
int nfsec_genl_init(void);
void nfsec_genl_exit(void);

/* stats helpers for the packet path: count on the SA (if any) and netns. */
static inline void nfsec_stats_add(struct nfsec_stats __percpu *stats,
				   enum nfsec_stat i, u64 n)
{
	struct nfsec_stats *s = get_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->c[i], n);
	u64_stats_update_end(&s->syncp);
	put_cpu_ptr(stats);
}

static inline void nfsec_count(struct nfsec_net *nn, struct nfsec_sa *sa,
			       enum nfsec_stat i, u64 n)
{
	if (sa)
		nfsec_stats_add(sa->stats, i, n);
	nfsec_stats_add(nn->stats, i, n);
}

#endif /* _NFSEC_H */
