/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * nfsec: IPsec (ESP/AH) datapath on netfilter hooks, configured over
 * generic netlink. This header is shared by the module and the tool.
 *
 * Family "nfsec", version 1, multicast group "events". All commands need
 * CAP_NET_ADMIN over the network namespace of the socket, and all state
 * lives in that namespace.
 *
 * Addresses are IPv4, 4 bytes in network order. Ports and SPIs are in
 * network order too; everything else is host order.
 *
 * NFSEC_CMD_SA_ADD, NFSEC_CMD_SA_UPDATE (do)
 *   NFSEC_A_SA: nest
 *     SRC, DST, PROTO, SPI               identity is (DST, SPI, PROTO)
 *     MODE, REQID, FLAGS, REPLAY_WINDOW
 *     ALG_AEAD | ALG_ENC + ALG_AUTH | ALG_AUTH: nest NFSEC_ALG_A_*
 *     SEL: nest NFSEC_SEL_A_*          optional, default: any
 *     ENCAP: nest NFSEC_ENCAP_A_*      optional, ESP only
 *     LIFETIME: nest NFSEC_LFT_A_*     optional, default: infinite
 *     SEQ, OSEQ                         optional initial sequence numbers
 *     MSS                               optional clamp: 0 auto (default),
 *                                       NFSEC_MSS_OFF, or a fixed value
 *   UPDATE replaces every field of an existing SA except its identity and
 *   its sequence and replay state, and cannot change REPLAY_WINDOW, nor
 *   drop flag esn once the sequence numbers are above 2^32.
 *   With NFSEC_A_VALIDATE (flag) beside the nest, the SA is built and
 *   checked as the command would (algorithms, keys, lengths, ...) and
 *   thrown away: nothing changes, and the current state is not consulted
 *   (whether the SA exists, or what an update could not change).
 *
 * NFSEC_CMD_SA_DEL, NFSEC_CMD_SA_GET (do)
 *   NFSEC_A_SA: nest of DST, SPI, PROTO
 * NFSEC_CMD_SA_GET (dump): every SA; each reply as for SA_ADD, without
 *   keys, plus NFSEC_ALG_A_KEY_LEN, NFSEC_SA_A_CUR and NFSEC_SA_A_STATS.
 *   NFSEC_SA_A_CUR holds ADD_TIME and USE_TIME (the first use), in
 *   seconds since the epoch as xfrm's, and LAST_USE, the CLOCK_MONOTONIC
 *   second of the last packet (xfrm's XFRMA_LASTUSED, but monotonic).
 * NFSEC_CMD_SA_FLUSH (do)
 *   NFSEC_A_SA: optional nest of PROTO; without it, every SA goes, and
 *   with it, every SPI reservation of that proto too.
 *
 * NFSEC_CMD_SA_ALLOCSPI (do), as xfrm's XFRM_MSG_ALLOCSPI
 *   NFSEC_A_SA: nest of DST, PROTO, and optional SRC, MODE, REQID (no SPI)
 *   NFSEC_A_SPI_MIN, NFSEC_A_SPI_MAX: optional range, default
 *     NFSEC_SPI_MIN_DEFAULT..NFSEC_SPI_MAX_DEFAULT; MIN <= MAX, MIN not 0
 *   NFSEC_A_SPI_TIMEOUT: optional, 1..NFSEC_SPI_TIMEOUT_MAX seconds,
 *     default NFSEC_SPI_TIMEOUT_DEFAULT
 *   reserves an SPI of the range that no SA and no other reservation of
 *   (DST, PROTO) has, until the timeout; reply: NFSEC_A_SA with SRC, DST,
 *   PROTO, SPI, MODE, REQID, and NFSEC_A_SPI_TIMEOUT. A reservation is
 *   not an SA: no packet matches it, and gets and dumps do not show it
 *   (STATS_GET counts them in NFSEC_A_SPI_COUNT). SA_ADD, or SA_UPDATE
 *   where no SA exists yet, of its (DST, SPI, PROTO) turns it into that SA,
 *   from any socket; SA_DEL of it releases it. Reservations count against
 *   the max_sas module parameter.
 *
 * NFSEC_CMD_SA_MOVE (do), as xfrm's XFRM_MSG_MIGRATE of one SA
 *   NFSEC_A_SA: nest of DST, SPI, PROTO and optional SRC: the SA as it is
 *     (with SRC, only if its source is that)
 *   NFSEC_A_MOVE_TO: nest of SRC and DST, the SA's new addresses (of its
 *     family: a move cannot change it), and optional ENCAP, its new
 *     ESP-in-UDP ports and original address (without it, the SA keeps its
 *     encap, or none)
 *   the SA goes to its new addresses and ports with everything else it
 *   has: keys and transforms, sequence numbers, replay window, lifetimes
 *   and their use, counters, times; its identity becomes (new DST, SPI,
 *   PROTO), which no other SA nor SPI reservation may have (-EEXIST). Any
 *   other attribute in either nest is refused. NFSEC_A_VALIDATE is refused.
 *   The "events" group gets SA_MOVE with the SA as it is now.
 *
 * NFSEC_CMD_POLICY_ADD (do)
 *   NFSEC_A_POLICY: nest
 *     SEL, DIR, PRIORITY, ACTION, TMPL (nest NFSEC_TMPL_A_*, optional)
 *   identity is (SEL, DIR); the reply carries the assigned INDEX.
 * NFSEC_CMD_POLICY_UPDATE (do): as POLICY_ADD, but a policy with the same
 *   identity is replaced (it keeps its INDEX), atomically for the packet
 *   path; without one, the policy is added.
 *   POLICY_ADD and POLICY_UPDATE take NFSEC_A_VALIDATE as the SA commands
 *   do (no reply then); SA_DEL, SA_FLUSH, POLICY_DEL and POLICY_FLUSH
 *   refuse it.
 * NFSEC_CMD_POLICY_DEL, NFSEC_CMD_POLICY_GET (do)
 *   NFSEC_A_POLICY: nest of SEL and DIR, or of INDEX
 * NFSEC_CMD_POLICY_GET (dump): every policy, as for POLICY_ADD plus INDEX,
 *   NFSEC_POL_A_STATS and, once a packet matched it, NFSEC_POL_A_LAST_USE
 *   (an update starts a new policy: none again, as xfrm's use_time).
 * NFSEC_CMD_POLICY_FLUSH (do)
 *   NFSEC_A_POLICY: optional nest of DIR
 *
 * NFSEC_CMD_STATS_GET (do)
 *   reply: NFSEC_A_STATS, nest of u64 counters, attribute type
 *          NFSEC_STAT_x + 1; NFSEC_A_SA_COUNT, NFSEC_A_POLICY_COUNT,
 *          NFSEC_A_SPI_COUNT
 * NFSEC_CMD_VERSION_GET (do)
 *   reply: NFSEC_A_VERSION (string)
 *
 * Events: SA_ADD, SA_UPDATE, SA_MOVE, SA_DEL, SA_FLUSH, POLICY_ADD, POLICY_UPDATE,
 * POLICY_DEL, POLICY_FLUSH are multicast to "events" with the object as in a dump
 * (flushes without one). Joining "events" needs CAP_NET_ADMIN too.
 * SA_EXPIRE, an event only, carries the SA and NFSEC_A_EXPIRE_HARD: 0 when
 * a soft lifetime is reached (once per SA: time to rekey), 1 when a hard
 * one is, and the SA has been deleted. SA_ACQUIRE, an event only, asks for
 * an SA: an out policy's template found none for a packet. It carries the
 * policy (without counters) and NFSEC_A_ACQUIRE_SEL, the packet's /32
 * selector; a policy asks at most once in 30 s. SA_MAPPING, an event only,
 * as xfrm's XFRM_MSG_MAPPING: an authenticated ESP-in-UDP packet of an
 * inbound SA came from another address or port than the SA's (a NAT
 * rebound). It carries the SA, with the source and ports it has, and
 * NFSEC_A_MAPPING, where the packet came from; at most once a second per
 * SA for the same new address and port, at once for another.
 */
#ifndef _UAPI_LINUX_NFSEC_H
#define _UAPI_LINUX_NFSEC_H

#include <linux/types.h>

#define NFSEC_GENL_NAME		"nfsec"
#define NFSEC_GENL_VERSION	1
#define NFSEC_MCGRP_EVENTS	"events"

#define NFSEC_ALG_NAME_MAX	64	/* with the NUL */
#define NFSEC_KEY_MAX		128	/* bytes */
#define NFSEC_REPLAY_MAX	4096	/* packets */
#define NFSEC_MSS_OFF		0xffff
/* SA_ALLOCSPI: defaults (ip xfrm state allocspi's range) and bounds */
#define NFSEC_SPI_MIN_DEFAULT	0x100
#define NFSEC_SPI_MAX_DEFAULT	0x0fffffff
#define NFSEC_SPI_TIMEOUT_DEFAULT 30	/* seconds, xfrm's acquire expiry */
#define NFSEC_SPI_TIMEOUT_MAX	3600

enum nfsec_cmd {
	NFSEC_CMD_UNSPEC,
	NFSEC_CMD_SA_ADD,
	NFSEC_CMD_SA_UPDATE,
	NFSEC_CMD_SA_DEL,
	NFSEC_CMD_SA_GET,
	NFSEC_CMD_SA_FLUSH,
	NFSEC_CMD_POLICY_ADD,
	NFSEC_CMD_POLICY_DEL,
	NFSEC_CMD_POLICY_GET,
	NFSEC_CMD_POLICY_FLUSH,
	NFSEC_CMD_STATS_GET,
	NFSEC_CMD_VERSION_GET,
	NFSEC_CMD_POLICY_UPDATE,
	NFSEC_CMD_SA_EXPIRE,		/* event only */
	NFSEC_CMD_SA_ACQUIRE,		/* event only */
	NFSEC_CMD_SA_ALLOCSPI,
	NFSEC_CMD_SA_MAPPING,		/* event only */
	NFSEC_CMD_SA_MOVE,
	__NFSEC_CMD_MAX
};
#define NFSEC_CMD_MAX (__NFSEC_CMD_MAX - 1)

enum nfsec_attr {
	NFSEC_A_UNSPEC,
	NFSEC_A_SA,		/* nest: NFSEC_SA_A_* */
	NFSEC_A_POLICY,		/* nest: NFSEC_POL_A_* */
	NFSEC_A_STATS,		/* nest: u64 counters */
	NFSEC_A_VERSION,	/* string */
	NFSEC_A_SA_COUNT,	/* u32 */
	NFSEC_A_POLICY_COUNT,	/* u32 */
	NFSEC_A_EXPIRE_HARD,	/* u8, SA_EXPIRE: 0 soft, 1 hard */
	NFSEC_A_ACQUIRE_SEL,	/* nest: NFSEC_SEL_A_*, SA_ACQUIRE: the packet */
	NFSEC_A_VALIDATE,	/* flag: check the request, change nothing */
	NFSEC_A_SPI_MIN,	/* be32, SA_ALLOCSPI: lowest SPI, not 0 */
	NFSEC_A_SPI_MAX,	/* be32, SA_ALLOCSPI: highest SPI */
	NFSEC_A_SPI_TIMEOUT,	/* u32 seconds, SA_ALLOCSPI: how long the
				 * reservation lasts */
	NFSEC_A_SPI_COUNT,	/* u32, STATS_GET: SPI reservations */
	NFSEC_A_MAPPING,	/* nest: NFSEC_MAP_A_*, SA_MAPPING */
	NFSEC_A_MOVE_TO,	/* nest: NFSEC_SA_A_*, SA_MOVE: SRC, DST, ENCAP */
	__NFSEC_A_MAX
};
#define NFSEC_A_MAX (__NFSEC_A_MAX - 1)

enum nfsec_mode {
	NFSEC_MODE_TRANSPORT,
	NFSEC_MODE_TUNNEL,
};

enum nfsec_sa_flags {
	NFSEC_SA_F_ESN = 1U << 0,	/* 64-bit sequence numbers */
	NFSEC_SA_F_ALIGN4 = 1U << 1,	/* AH: pad to 4 bytes, not xfrm's 8 */
	NFSEC_SA_F_AF_UNSPEC = 1U << 2,	/* tunnel: inner packets of both
					 * families (a selector without one) */
	NFSEC_SA_F_ALL = NFSEC_SA_F_ESN | NFSEC_SA_F_ALIGN4 |
			 NFSEC_SA_F_AF_UNSPEC,
};

enum nfsec_sa_attr {
	NFSEC_SA_A_UNSPEC,
	NFSEC_SA_A_SRC,			/* be32: IPv4; or SRC6 */
	NFSEC_SA_A_DST,			/* be32: IPv4; or DST6 */
	NFSEC_SA_A_PROTO,		/* u8: IPPROTO_ESP or IPPROTO_AH */
	NFSEC_SA_A_SPI,			/* be32, not 0 */
	NFSEC_SA_A_REQID,		/* u32 */
	NFSEC_SA_A_MODE,		/* u8: enum nfsec_mode */
	NFSEC_SA_A_FLAGS,		/* u32: enum nfsec_sa_flags */
	NFSEC_SA_A_REPLAY_WINDOW,	/* u32: 0..NFSEC_REPLAY_MAX */
	NFSEC_SA_A_ALG_AEAD,		/* nest: NFSEC_ALG_A_* */
	NFSEC_SA_A_ALG_ENC,		/* nest: NFSEC_ALG_A_* */
	NFSEC_SA_A_ALG_AUTH,		/* nest: NFSEC_ALG_A_* (auth-trunc) */
	NFSEC_SA_A_SEL,			/* nest: NFSEC_SEL_A_* */
	NFSEC_SA_A_ENCAP,		/* nest: NFSEC_ENCAP_A_* */
	NFSEC_SA_A_LIFETIME,		/* nest: NFSEC_LFT_A_* */
	NFSEC_SA_A_SEQ,			/* u64: highest sequence received */
	NFSEC_SA_A_OSEQ,		/* u64: last sequence sent */
	NFSEC_SA_A_MSS,			/* u16: 0 auto, NFSEC_MSS_OFF, value */
	NFSEC_SA_A_CUR,			/* nest: NFSEC_CUR_A_*, reply only */
	NFSEC_SA_A_STATS,		/* nest: u64 counters, reply only */
	NFSEC_SA_A_PAD,
	NFSEC_SA_A_SRC6,		/* struct in6_addr */
	NFSEC_SA_A_DST6,		/* struct in6_addr */
	__NFSEC_SA_A_MAX
};
#define NFSEC_SA_A_MAX (__NFSEC_SA_A_MAX - 1)

enum nfsec_alg_attr {
	NFSEC_ALG_A_UNSPEC,
	NFSEC_ALG_A_NAME,	/* string: crypto API name as ip-xfrm(8) */
	NFSEC_ALG_A_KEY,	/* binary, request only, never replied */
	NFSEC_ALG_A_ICV_LEN,	/* u32 bits: AEAD ICV or auth-trunc length;
				 * 0 or absent: the algorithm's default */
	NFSEC_ALG_A_KEY_LEN,	/* u32 bits, reply only */
	__NFSEC_ALG_A_MAX
};
#define NFSEC_ALG_A_MAX (__NFSEC_ALG_A_MAX - 1)

/*
 * A selector; an absent attribute matches anything, but for the family:
 * FAMILY, else that of the addresses given, else AF_INET (as ip-xfrm's
 * default); an SA's selector defaults to the SA's family, and to
 * AF_UNSPEC (both) with NFSEC_SA_F_AF_UNSPEC.
 */
enum nfsec_sel_attr {
	NFSEC_SEL_A_UNSPEC,
	NFSEC_SEL_A_SRC,	/* be32: IPv4; or SRC6 */
	NFSEC_SEL_A_SRC_PLEN,	/* u8: 0..32, 0..128 for IPv6 */
	NFSEC_SEL_A_DST,	/* be32: IPv4; or DST6 */
	NFSEC_SEL_A_DST_PLEN,	/* u8: 0..32, 0..128 for IPv6 */
	NFSEC_SEL_A_PROTO,	/* u8: 0 any */
	NFSEC_SEL_A_SPORT,	/* be16: 0 any; TCP, UDP, SCTP */
	NFSEC_SEL_A_DPORT,	/* be16: 0 any */
	NFSEC_SEL_A_FAMILY,	/* u16: AF_INET, AF_INET6; AF_UNSPEC: both */
	NFSEC_SEL_A_SRC6,	/* struct in6_addr */
	NFSEC_SEL_A_DST6,	/* struct in6_addr */
	__NFSEC_SEL_A_MAX
};
#define NFSEC_SEL_A_MAX (__NFSEC_SEL_A_MAX - 1)

enum nfsec_encap_attr {
	NFSEC_ENCAP_A_UNSPEC,
	NFSEC_ENCAP_A_TYPE,	/* u16: 2 espinudp (UDP_ENCAP_ESPINUDP) */
	NFSEC_ENCAP_A_SPORT,	/* be16 */
	NFSEC_ENCAP_A_DPORT,	/* be16 */
	NFSEC_ENCAP_A_OADDR,	/* be32: original address, for checksums */
	NFSEC_ENCAP_A_OADDR6,	/* struct in6_addr: the same, IPv6 SAs */
	__NFSEC_ENCAP_A_MAX
};
#define NFSEC_ENCAP_A_MAX (__NFSEC_ENCAP_A_MAX - 1)

/* SA_MAPPING: where an inbound SA's packet came from */
enum nfsec_map_attr {
	NFSEC_MAP_A_UNSPEC,
	NFSEC_MAP_A_SRC,	/* be32: IPv4 SAs */
	NFSEC_MAP_A_SRC6,	/* struct in6_addr: IPv6 SAs */
	NFSEC_MAP_A_SPORT,	/* be16 */
	__NFSEC_MAP_A_MAX
};
#define NFSEC_MAP_A_MAX (__NFSEC_MAP_A_MAX - 1)

/* Lifetimes: an absent limit, or U64_MAX, is no limit. */
enum nfsec_lft_attr {
	NFSEC_LFT_A_UNSPEC,
	NFSEC_LFT_A_SOFT_BYTES,		/* u64 */
	NFSEC_LFT_A_HARD_BYTES,		/* u64 */
	NFSEC_LFT_A_SOFT_PACKETS,	/* u64 */
	NFSEC_LFT_A_HARD_PACKETS,	/* u64 */
	NFSEC_LFT_A_SOFT_ADD_SECONDS,	/* u64 */
	NFSEC_LFT_A_HARD_ADD_SECONDS,	/* u64 */
	NFSEC_LFT_A_SOFT_USE_SECONDS,	/* u64 */
	NFSEC_LFT_A_HARD_USE_SECONDS,	/* u64 */
	NFSEC_LFT_A_PAD,
	__NFSEC_LFT_A_MAX
};
#define NFSEC_LFT_A_MAX (__NFSEC_LFT_A_MAX - 1)

enum nfsec_cur_attr {
	NFSEC_CUR_A_UNSPEC,
	NFSEC_CUR_A_BYTES,	/* u64 */
	NFSEC_CUR_A_PACKETS,	/* u64 */
	NFSEC_CUR_A_ADD_TIME,	/* u64: seconds since the epoch */
	NFSEC_CUR_A_USE_TIME,	/* u64: 0 never used */
	NFSEC_CUR_A_PAD,
	NFSEC_CUR_A_LAST_USE,	/* u64: CLOCK_MONOTONIC seconds of the last
				 * packet; absent: never used */
	__NFSEC_CUR_A_MAX
};
#define NFSEC_CUR_A_MAX (__NFSEC_CUR_A_MAX - 1)

enum nfsec_dir {
	NFSEC_DIR_IN,
	NFSEC_DIR_OUT,
	NFSEC_DIR_FWD,
};

enum nfsec_action {
	NFSEC_ACTION_ALLOW,
	NFSEC_ACTION_BLOCK,
};

enum nfsec_pol_attr {
	NFSEC_POL_A_UNSPEC,
	NFSEC_POL_A_SEL,	/* nest: NFSEC_SEL_A_* */
	NFSEC_POL_A_DIR,	/* u8: enum nfsec_dir */
	NFSEC_POL_A_PRIORITY,	/* u32: lower wins */
	NFSEC_POL_A_ACTION,	/* u8: enum nfsec_action */
	NFSEC_POL_A_INDEX,	/* u32: assigned by the module */
	NFSEC_POL_A_TMPL,	/* nest: NFSEC_TMPL_A_*; none: bypass */
	NFSEC_POL_A_STATS,	/* nest: NFSEC_POL_STAT_*, reply only */
	NFSEC_POL_A_PAD,
	NFSEC_POL_A_LAST_USE,	/* u64, reply only: CLOCK_MONOTONIC seconds
				 * of the last packet that matched; absent:
				 * none yet */
	__NFSEC_POL_A_MAX
};
#define NFSEC_POL_A_MAX (__NFSEC_POL_A_MAX - 1)

enum nfsec_tmpl_level {
	NFSEC_LEVEL_REQUIRED,
	NFSEC_LEVEL_USE,	/* refused: nfsec has no optional SAs */
};

enum nfsec_tmpl_attr {
	NFSEC_TMPL_A_UNSPEC,
	NFSEC_TMPL_A_SRC,	/* be32: tunnel source, tunnel mode; or SRC6 */
	NFSEC_TMPL_A_DST,	/* be32: tunnel destination; or DST6 */
	NFSEC_TMPL_A_PROTO,	/* u8: IPPROTO_ESP or IPPROTO_AH */
	NFSEC_TMPL_A_SPI,	/* be32: 0 any */
	NFSEC_TMPL_A_MODE,	/* u8: enum nfsec_mode */
	NFSEC_TMPL_A_REQID,	/* u32: 0 any */
	NFSEC_TMPL_A_LEVEL,	/* u8: enum nfsec_tmpl_level */
	NFSEC_TMPL_A_SRC6,	/* struct in6_addr */
	NFSEC_TMPL_A_DST6,	/* struct in6_addr */
	__NFSEC_TMPL_A_MAX
};
#define NFSEC_TMPL_A_MAX (__NFSEC_TMPL_A_MAX - 1)

enum nfsec_pol_stat {
	NFSEC_POL_STAT_PACKETS,	/* u64: packets that matched */
	NFSEC_POL_STAT_BYTES,	/* u64 */
	__NFSEC_POL_STAT_MAX
};
/* In a policy stats nest the attribute type is NFSEC_POL_STAT_x + 1. */
#define NFSEC_POL_STATS_A_PAD (__NFSEC_POL_STAT_MAX + 1)

/*
 * Counters, per SA and per netns (the netns ones are the sum plus drops
 * that have no SA). In a stats nest the attribute type is NFSEC_STAT_x + 1.
 */
enum nfsec_stat {
	NFSEC_STAT_RX_PACKETS,
	NFSEC_STAT_RX_BYTES,
	NFSEC_STAT_TX_PACKETS,
	NFSEC_STAT_TX_BYTES,
	NFSEC_STAT_RX_NO_SA,		/* unknown SPI: passed to the stack */
	NFSEC_STAT_RX_REPLAY_OLD,	/* left of the replay window */
	NFSEC_STAT_RX_REPLAY_DUP,	/* already seen */
	NFSEC_STAT_RX_AUTH_FAIL,	/* ICV mismatch */
	NFSEC_STAT_RX_BAD_TRAILER,	/* padding or next header */
	NFSEC_STAT_RX_TOO_SHORT,	/* truncated or malformed */
	NFSEC_STAT_RX_POLICY_MISMATCH,	/* inner packet vs selector/policy */
	NFSEC_STAT_RX_UNPROTECTED,	/* cleartext where policy protects */
	NFSEC_STAT_RX_POLICY_BLOCK,	/* in/fwd policy says block */
	NFSEC_STAT_RX_NO_MEM,
	NFSEC_STAT_RX_CRYPTO_ERROR,
	NFSEC_STAT_RX_EXPIRED,		/* hard lifetime reached */
	NFSEC_STAT_TX_POLICY_BLOCK,	/* out policy says block */
	NFSEC_STAT_TX_NO_SA,		/* template resolves to no SA */
	NFSEC_STAT_TX_SEQ_OVERFLOW,	/* sequence number would cycle */
	NFSEC_STAT_TX_NO_MEM,
	NFSEC_STAT_TX_CRYPTO_ERROR,
	NFSEC_STAT_TX_NO_ROUTE,		/* no route to the tunnel peer */
	NFSEC_STAT_TX_FRAG_NEEDED,	/* DF set, too big: ICMP sent */
	NFSEC_STAT_TX_EXPIRED,		/* hard lifetime reached */
	NFSEC_STAT_TX_ERROR,		/* malformed packet, output error */
	NFSEC_STAT_NATT_KEEPALIVE,	/* NAT keep-alives consumed */
	NFSEC_STAT_NATT_UNEXPECTED_SRC,	/* ESP-in-UDP from another address */
	NFSEC_STAT_MSS_CLAMPED,		/* SYNs whose MSS was lowered */
	NFSEC_STAT_RX_SA_GONE,		/* SA deleted or updated meanwhile */
	NFSEC_STAT_TX_SA_GONE,		/* SA deleted or updated meanwhile */
	NFSEC_STAT_RX_FRAG_REASM,	/* inner fragments held for reassembly */
	NFSEC_STAT_RX_DUMMY,		/* dummy packets (next header 59) */
	NFSEC_STAT_TX_FRAG_REASM,	/* forwarded fragments reassembled */
	NFSEC_STAT_TX_TOO_BIG,		/* cannot grow past 64 KiB */
	NFSEC_STAT_PMTU_UPDATE,		/* frag-needed about our packets */
	NFSEC_STAT_PMTU_IGNORED,	/* ICMP error quoting no live SA */
	NFSEC_STAT_NATT_GRO,		/* merged ESP-in-UDP datagrams */
	NFSEC_STAT_TX_FRAG_INNER,	/* IPv4 fragmented for an IPv6 tunnel */
	NFSEC_STAT_RX_INNER_HOPOPTS,	/* IPv6 hop-by-hop inside a tunnel */
	NFSEC_STAT_RX_BAD_CSUM,		/* ESP in UDP/IPv6, bad UDP checksum */
	NFSEC_STAT_RX_ECN,		/* outer CE over a Not-ECT inner packet */
	__NFSEC_STAT_MAX
};
#define NFSEC_STAT_MAX (__NFSEC_STAT_MAX - 1)
#define NFSEC_STATS_A_PAD (__NFSEC_STAT_MAX + 1)	/* padding in a stats nest */

#endif /* _UAPI_LINUX_NFSEC_H */
