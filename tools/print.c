// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: output shared by the objects: addresses, selectors, counters,
 * for people (like ip xfrm) and as JSON.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <time.h>
#include "tool.h"

static const char *const stat_names[__NFSEC_STAT_MAX] = {
	[NFSEC_STAT_RX_PACKETS] = "rx_packets",
	[NFSEC_STAT_RX_BYTES] = "rx_bytes",
	[NFSEC_STAT_TX_PACKETS] = "tx_packets",
	[NFSEC_STAT_TX_BYTES] = "tx_bytes",
	[NFSEC_STAT_RX_NO_SA] = "rx_no_sa",
	[NFSEC_STAT_RX_REPLAY_OLD] = "rx_replay_old",
	[NFSEC_STAT_RX_REPLAY_DUP] = "rx_replay_dup",
	[NFSEC_STAT_RX_AUTH_FAIL] = "rx_auth_fail",
	[NFSEC_STAT_RX_BAD_TRAILER] = "rx_bad_trailer",
	[NFSEC_STAT_RX_TOO_SHORT] = "rx_too_short",
	[NFSEC_STAT_RX_POLICY_MISMATCH] = "rx_policy_mismatch",
	[NFSEC_STAT_RX_UNPROTECTED] = "rx_unprotected",
	[NFSEC_STAT_RX_POLICY_BLOCK] = "rx_policy_block",
	[NFSEC_STAT_RX_NO_MEM] = "rx_no_mem",
	[NFSEC_STAT_RX_CRYPTO_ERROR] = "rx_crypto_error",
	[NFSEC_STAT_RX_EXPIRED] = "rx_expired",
	[NFSEC_STAT_TX_POLICY_BLOCK] = "tx_policy_block",
	[NFSEC_STAT_TX_NO_SA] = "tx_no_sa",
	[NFSEC_STAT_TX_SEQ_OVERFLOW] = "tx_seq_overflow",
	[NFSEC_STAT_TX_NO_MEM] = "tx_no_mem",
	[NFSEC_STAT_TX_CRYPTO_ERROR] = "tx_crypto_error",
	[NFSEC_STAT_TX_NO_ROUTE] = "tx_no_route",
	[NFSEC_STAT_TX_FRAG_NEEDED] = "tx_frag_needed",
	[NFSEC_STAT_TX_EXPIRED] = "tx_expired",
	[NFSEC_STAT_TX_ERROR] = "tx_error",
	[NFSEC_STAT_NATT_KEEPALIVE] = "natt_keepalive",
	[NFSEC_STAT_NATT_UNEXPECTED_SRC] = "natt_unexpected_src",
	[NFSEC_STAT_MSS_CLAMPED] = "mss_clamped",
	[NFSEC_STAT_RX_SA_GONE] = "rx_sa_gone",
	[NFSEC_STAT_TX_SA_GONE] = "tx_sa_gone",
	[NFSEC_STAT_RX_FRAG_REASM] = "rx_frag_reasm",
	[NFSEC_STAT_RX_DUMMY] = "rx_dummy",
	[NFSEC_STAT_TX_FRAG_REASM] = "tx_frag_reasm",
	[NFSEC_STAT_TX_TOO_BIG] = "tx_too_big",
	[NFSEC_STAT_PMTU_UPDATE] = "pmtu_update",
	[NFSEC_STAT_PMTU_IGNORED] = "pmtu_ignored",
	[NFSEC_STAT_NATT_GRO] = "natt_gro",
	[NFSEC_STAT_TX_FRAG_INNER] = "tx_frag_inner",
	[NFSEC_STAT_RX_INNER_HOPOPTS] = "rx_inner_hopopts",
	[NFSEC_STAT_RX_BAD_CSUM] = "rx_bad_csum",
	[NFSEC_STAT_RX_ECN] = "rx_ecn",
};

/* As ip prints it: an SA or policy line holds up to four. */
const char *addr_str(const struct addr *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int n;

	n = (n + 1) % 4;
	if (a->family == AF_INET6)
		return inet_ntop(AF_INET6, &a->v6, buf[n], sizeof(buf[n]));
	return inet_ntop(AF_INET, &a->v4, buf[n], sizeof(buf[n]));
}

/* The address in @tb[@t4] or @tb[@t6]; family 0 if neither. */
struct addr addr_get(struct nlattr **tb, int t4, int t6)
{
	struct addr a = {};

	if (tb[t6] && nla_len(tb[t6]) == sizeof(a.v6)) {
		a.family = AF_INET6;
		memcpy(&a.v6, nla_data(tb[t6]), sizeof(a.v6));
	} else if (tb[t4] && nla_len(tb[t4]) == sizeof(a.v4)) {
		a.family = AF_INET;
		memcpy(&a.v4, nla_data(tb[t4]), sizeof(a.v4));
	}
	return a;
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET6)
		return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
	return a->v4.s_addr == b->v4.s_addr;
}

const char *proto_name(uint8_t proto)
{
	static char buf[8];
	struct protoent *pe;

	switch (proto) {
	case IPPROTO_ESP: return "esp";
	case IPPROTO_AH: return "ah";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_SCTP: return "sctp";
	}
	pe = getprotobynumber(proto);
	if (pe)
		return pe->p_name;
	snprintf(buf, sizeof(buf), "%u", proto);
	return buf;
}

static bool json_first = true;

void json_begin_list(void)
{
	json_first = true;
	putchar('[');
}

void json_end_list(void)
{
	puts("]");
}

void json_sep(void)
{
	if (!json_first)
		putchar(',');
	json_first = false;
}

/* The next object is the first of its line (monitor: one a line). */
void json_reset(void)
{
	json_first = true;
}

void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The family a selector nest names; AF_INET if it names none. */
int sel_family(struct nlattr *nest)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1] = {};

	if (nest)
		nla_parse_nested(tb, NFSEC_SEL_A_MAX, nest, NULL);
	if (tb[NFSEC_SEL_A_FAMILY] && nla_len(tb[NFSEC_SEL_A_FAMILY]) >= 2 &&
	    nla_get_u16(tb[NFSEC_SEL_A_FAMILY]) == AF_INET6)
		return AF_INET6;
	return AF_INET;
}

/*
 * A selector of both families has no addresses: like ip, print it with
 * the family of its SA, its addresses all zeros.
 */
void print_sel(struct nlattr *nest, int family, bool json)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1] = {};
	uint8_t splen = 0, dplen = 0, proto = 0;
	uint16_t sport = 0, dport = 0;
	struct addr src, dst;

	if (nest)
		nla_parse_nested(tb, NFSEC_SEL_A_MAX, nest, NULL);
	if (tb[NFSEC_SEL_A_FAMILY] && nla_get_u16(tb[NFSEC_SEL_A_FAMILY]))
		family = nla_get_u16(tb[NFSEC_SEL_A_FAMILY]);
	src = addr_get(tb, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6);
	dst = addr_get(tb, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6);
	src.family = dst.family = family == AF_INET6 ? AF_INET6 : AF_INET;
	if (tb[NFSEC_SEL_A_SRC_PLEN])
		splen = nla_get_u8(tb[NFSEC_SEL_A_SRC_PLEN]);
	if (tb[NFSEC_SEL_A_DST_PLEN])
		dplen = nla_get_u8(tb[NFSEC_SEL_A_DST_PLEN]);
	if (tb[NFSEC_SEL_A_PROTO])
		proto = nla_get_u8(tb[NFSEC_SEL_A_PROTO]);
	if (tb[NFSEC_SEL_A_SPORT])
		sport = ntohs(nla_get_u16(tb[NFSEC_SEL_A_SPORT]));
	if (tb[NFSEC_SEL_A_DPORT])
		dport = ntohs(nla_get_u16(tb[NFSEC_SEL_A_DPORT]));
	if (json) {
		printf("{\"src\":\"%s/%u\",\"dst\":\"%s/%u\",\"proto\":%u,"
		       "\"sport\":%u,\"dport\":%u}", addr_str(&src), splen,
		       addr_str(&dst), dplen, proto, sport, dport);
		return;
	}
	printf("src %s/%u dst %s/%u", addr_str(&src), splen, addr_str(&dst), dplen);
	if (proto)
		printf(" proto %s", proto_name(proto));
	if (sport)
		printf(" sport %u", sport);
	if (dport)
		printf(" dport %u", dport);
}

void print_stats(struct nlattr *nest, bool json, const char *indent)
{
	struct nlattr *tb[__NFSEC_STAT_MAX + 2] = {};
	int i;

	if (!nest)
		return;
	nla_parse_nested(tb, __NFSEC_STAT_MAX + 1, nest, NULL);
	if (json)
		putchar('{');
	for (i = 0; i < __NFSEC_STAT_MAX; i++) {
		unsigned long long v = tb[i + 1] ? nla_get_u64(tb[i + 1]) : 0;

		if (json)
			printf("%s\"%s\":%llu", i ? "," : "", stat_names[i], v);
		else
			printf("%s%s %llu\n", indent, stat_names[i], v);
	}
	if (json)
		putchar('}');
}

uint64_t u64_or(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

static void print_limit(const char *fmt, uint64_t v)
{
	if (v == UINT64_MAX)
		printf(fmt, "(INF)");
	else {
		char buf[24];

		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		printf(fmt, buf);
	}
}

static void print_time(const char *word, uint64_t t)
{
	char buf[32];
	time_t tt = t;
	struct tm tm;

	if (t && localtime_r(&tt, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		printf("%s %s", word, buf);
	else
		printf("%s -", word);
}

/*
 * A last use from the module, in CLOCK_MONOTONIC seconds (0: never), as
 * a date like ip's: the same distance before now on the real clock.
 */
void print_last_use(const char *word, uint64_t mono)
{
	struct timespec m;
	uint64_t now;

	if (!mono || clock_gettime(CLOCK_MONOTONIC, &m)) {
		print_time(word, 0);
		return;
	}
	now = m.tv_sec;
	print_time(word, (uint64_t)time(NULL) - (now > mono ? now - mono : 0));
}

/* -s: the lifetime configuration and current use, as ip -s xfrm state. */
void print_lifetime(struct nlattr *lft, struct nlattr *cur)
{
	static const char *const names[] = {
		"byte_soft", "byte_hard", "packet_soft", "packet_hard",
		"time_soft", "time_hard", "time_use_soft", "time_use_hard",
	};
	static const char *const fmts[] = {
		"\t  limit: soft %s(bytes), ", "hard %s(bytes)\n",
		"\t  limit: soft %s(packets), ", "hard %s(packets)\n",
		"\t  expire add: soft %s(sec), ", "hard %s(sec)\n",
		"\t  expire use: soft %s(sec), ", "hard %s(sec)\n",
	};
	struct nlattr *tb[NFSEC_LFT_A_MAX + 1] = {}, *ct[NFSEC_CUR_A_MAX + 1] = {};
	int k;

	if (lft)
		nla_parse_nested(tb, NFSEC_LFT_A_MAX, lft, NULL);
	if (cur)
		nla_parse_nested(ct, NFSEC_CUR_A_MAX, cur, NULL);
	if (opt_json) {
		printf(",\"lifetime\":{");
		for (k = 0; k < 8; k++) {
			uint64_t v = tb[NFSEC_LFT_A_SOFT_BYTES + k] ?
				     nla_get_u64(tb[NFSEC_LFT_A_SOFT_BYTES + k]) : UINT64_MAX;

			printf("%s\"%s\":", k ? "," : "", names[k]);
			if (v == UINT64_MAX)
				printf("null");	/* infinite */
			else
				printf("%llu", (unsigned long long)v);
		}
		printf("},\"current\":{\"bytes\":%llu,\"packets\":%llu,\"add_time\":%llu,\"use_time\":%llu,\"last_use\":",
		       (unsigned long long)u64_or(ct, NFSEC_CUR_A_BYTES),
		       (unsigned long long)u64_or(ct, NFSEC_CUR_A_PACKETS),
		       (unsigned long long)u64_or(ct, NFSEC_CUR_A_ADD_TIME),
		       (unsigned long long)u64_or(ct, NFSEC_CUR_A_USE_TIME));
		/* CLOCK_MONOTONIC seconds, as the module gives it; null: never */
		if (ct[NFSEC_CUR_A_LAST_USE])
			printf("%llu}", (unsigned long long)u64_or(ct, NFSEC_CUR_A_LAST_USE));
		else
			printf("null}");
		return;
	}
	printf("\tlifetime config:\n");
	for (k = 0; k < 8; k++)
		print_limit(fmts[k], tb[NFSEC_LFT_A_SOFT_BYTES + k] ?
			    nla_get_u64(tb[NFSEC_LFT_A_SOFT_BYTES + k]) : UINT64_MAX);
	printf("\tlifetime current:\n\t  %llu(bytes), %llu(packets)\n\t  ",
	       (unsigned long long)u64_or(ct, NFSEC_CUR_A_BYTES),
	       (unsigned long long)u64_or(ct, NFSEC_CUR_A_PACKETS));
	print_time("add", u64_or(ct, NFSEC_CUR_A_ADD_TIME));
	putchar(' ');
	print_time("use", u64_or(ct, NFSEC_CUR_A_USE_TIME));
	/* ip prints XFRMA_LASTUSED so, on a line of its own */
	printf("\n\t");
	print_last_use("lastused", u64_or(ct, NFSEC_CUR_A_LAST_USE));
	putchar('\n');
}

/*
 * NFSEC_DRY_RUN=1: the request as "PATH VALUE" lines, e.g.
 * "SA.ALG_AEAD.ICV_LEN 128", for testing the parser without the module.
 */
struct attr_desc {
	const char *name;
	char kind;	/* a IPv4, 6 IPv6 address, 1/2/4/8 host uN, n be16, N be32, s string, b bytes */
	const struct attr_desc *nest;
	int max;
};

#define A(t, n, k) [t] = { n, k, NULL, 0 }
#define N(t, n, c) [t] = { n, 0, c, ARRAY_SIZE(c) - 1 }

static const struct attr_desc alg_d[NFSEC_ALG_A_MAX + 1] = {
	A(NFSEC_ALG_A_NAME, "NAME", 's'), A(NFSEC_ALG_A_KEY, "KEY", 'b'),
	A(NFSEC_ALG_A_ICV_LEN, "ICV_LEN", '4'),
	A(NFSEC_ALG_A_KEY_LEN, "KEY_LEN", '4'),
};
static const struct attr_desc sel_d[NFSEC_SEL_A_MAX + 1] = {
	A(NFSEC_SEL_A_SRC, "SRC", 'a'), A(NFSEC_SEL_A_SRC_PLEN, "SRC_PLEN", '1'),
	A(NFSEC_SEL_A_DST, "DST", 'a'), A(NFSEC_SEL_A_DST_PLEN, "DST_PLEN", '1'),
	A(NFSEC_SEL_A_PROTO, "PROTO", '1'), A(NFSEC_SEL_A_SPORT, "SPORT", 'n'),
	A(NFSEC_SEL_A_DPORT, "DPORT", 'n'), A(NFSEC_SEL_A_FAMILY, "FAMILY", '2'),
	A(NFSEC_SEL_A_SRC6, "SRC6", '6'), A(NFSEC_SEL_A_DST6, "DST6", '6'),
};
static const struct attr_desc encap_d[NFSEC_ENCAP_A_MAX + 1] = {
	A(NFSEC_ENCAP_A_TYPE, "TYPE", '2'), A(NFSEC_ENCAP_A_SPORT, "SPORT", 'n'),
	A(NFSEC_ENCAP_A_DPORT, "DPORT", 'n'), A(NFSEC_ENCAP_A_OADDR, "OADDR", 'a'),
	A(NFSEC_ENCAP_A_OADDR6, "OADDR6", '6'),
};
static const struct attr_desc lft_d[NFSEC_LFT_A_MAX + 1] = {
	A(NFSEC_LFT_A_SOFT_BYTES, "SOFT_BYTES", '8'),
	A(NFSEC_LFT_A_HARD_BYTES, "HARD_BYTES", '8'),
	A(NFSEC_LFT_A_SOFT_PACKETS, "SOFT_PACKETS", '8'),
	A(NFSEC_LFT_A_HARD_PACKETS, "HARD_PACKETS", '8'),
	A(NFSEC_LFT_A_SOFT_ADD_SECONDS, "SOFT_ADD_SECONDS", '8'),
	A(NFSEC_LFT_A_HARD_ADD_SECONDS, "HARD_ADD_SECONDS", '8'),
	A(NFSEC_LFT_A_SOFT_USE_SECONDS, "SOFT_USE_SECONDS", '8'),
	A(NFSEC_LFT_A_HARD_USE_SECONDS, "HARD_USE_SECONDS", '8'),
};
static const struct attr_desc sa_d[NFSEC_SA_A_MAX + 1] = {
	A(NFSEC_SA_A_SRC, "SRC", 'a'), A(NFSEC_SA_A_DST, "DST", 'a'),
	A(NFSEC_SA_A_PROTO, "PROTO", '1'), A(NFSEC_SA_A_SPI, "SPI", 'N'),
	A(NFSEC_SA_A_REQID, "REQID", '4'), A(NFSEC_SA_A_MODE, "MODE", '1'),
	A(NFSEC_SA_A_FLAGS, "FLAGS", '4'),
	A(NFSEC_SA_A_REPLAY_WINDOW, "REPLAY_WINDOW", '4'),
	N(NFSEC_SA_A_ALG_AEAD, "ALG_AEAD", alg_d),
	N(NFSEC_SA_A_ALG_ENC, "ALG_ENC", alg_d),
	N(NFSEC_SA_A_ALG_AUTH, "ALG_AUTH", alg_d),
	N(NFSEC_SA_A_SEL, "SEL", sel_d), N(NFSEC_SA_A_ENCAP, "ENCAP", encap_d),
	N(NFSEC_SA_A_LIFETIME, "LIFETIME", lft_d),
	A(NFSEC_SA_A_SEQ, "SEQ", '8'), A(NFSEC_SA_A_OSEQ, "OSEQ", '8'),
	A(NFSEC_SA_A_MSS, "MSS", '2'),
	A(NFSEC_SA_A_SRC6, "SRC6", '6'), A(NFSEC_SA_A_DST6, "DST6", '6'),
};
static const struct attr_desc tmpl_d[NFSEC_TMPL_A_MAX + 1] = {
	A(NFSEC_TMPL_A_SRC, "SRC", 'a'), A(NFSEC_TMPL_A_DST, "DST", 'a'),
	A(NFSEC_TMPL_A_PROTO, "PROTO", '1'), A(NFSEC_TMPL_A_SPI, "SPI", 'N'),
	A(NFSEC_TMPL_A_MODE, "MODE", '1'), A(NFSEC_TMPL_A_REQID, "REQID", '4'),
	A(NFSEC_TMPL_A_LEVEL, "LEVEL", '1'),
	A(NFSEC_TMPL_A_SRC6, "SRC6", '6'), A(NFSEC_TMPL_A_DST6, "DST6", '6'),
};
static const struct attr_desc pol_d[NFSEC_POL_A_MAX + 1] = {
	N(NFSEC_POL_A_SEL, "SEL", sel_d), A(NFSEC_POL_A_DIR, "DIR", '1'),
	A(NFSEC_POL_A_PRIORITY, "PRIORITY", '4'),
	A(NFSEC_POL_A_ACTION, "ACTION", '1'), A(NFSEC_POL_A_INDEX, "INDEX", '4'),
	N(NFSEC_POL_A_TMPL, "TMPL", tmpl_d),
};
static const struct attr_desc top_d[NFSEC_A_MAX + 1] = {
	N(NFSEC_A_SA, "SA", sa_d), N(NFSEC_A_POLICY, "POLICY", pol_d),
	A(NFSEC_A_SPI_MIN, "SPI_MIN", 'N'), A(NFSEC_A_SPI_MAX, "SPI_MAX", 'N'),
	A(NFSEC_A_SPI_TIMEOUT, "SPI_TIMEOUT", '4'),
	N(NFSEC_A_MOVE_TO, "MOVE_TO", sa_d),
};

static void dump_attrs(const char *path, struct nlattr *head, int len,
		       const struct attr_desc *d, int max)
{
	struct nlattr *a;
	int rem, i;

	nla_for_each_attr(a, head, len, rem) {
		int t = nla_type(a);
		const struct attr_desc *e = t <= max && d[t].name ? &d[t] : NULL;
		char name[128];

		snprintf(name, sizeof(name), "%s%s%s%s", path, *path ? "." : "",
			 e ? e->name : "", e ? "" : "?");
		if (!e) {
			printf("%s%d len %d\n", name, t, nla_len(a));
			continue;
		}
		if (e->nest) {
			printf("%s%s\n", name, a->nla_type & NLA_F_NESTED ? "" : " (not NLA_F_NESTED)");
			dump_attrs(name, nla_data(a), nla_len(a), e->nest, e->max);
			continue;
		}
		printf("%s ", name);
		switch (e->kind) {
		case 'a':
		case '6': {
			struct addr ad = { .family = e->kind == 'a' ? AF_INET : AF_INET6 };

			memcpy(&ad.v6, nla_data(a), e->kind == 'a' ? 4 : 16);
			printf("%s", addr_str(&ad));
			break;
		}
		case '1':
			printf("%u", nla_get_u8(a));
			break;
		case '2':
			printf("%u", nla_get_u16(a));
			break;
		case 'n':
			printf("%u", ntohs(nla_get_u16(a)));
			break;
		case '4':
			printf("%u", nla_get_u32(a));
			break;
		case 'N':
			printf("0x%08x", ntohl(nla_get_u32(a)));
			break;
		case '8':
			printf("%llu", (unsigned long long)nla_get_u64(a));
			break;
		case 's':
			json_str(nla_get_string(a));
			break;
		default:
			printf("(%d bytes) ", nla_len(a));
			for (i = 0; i < nla_len(a); i++)
				printf("%02x", ((uint8_t *)nla_data(a))[i]);
		}
		putchar('\n');
	}
}

void dump_request(struct nl_msg *msg)
{
	static const char *const cmds[] = {
		[NFSEC_CMD_SA_ADD] = "SA_ADD", [NFSEC_CMD_SA_UPDATE] = "SA_UPDATE",
		[NFSEC_CMD_SA_DEL] = "SA_DEL", [NFSEC_CMD_SA_GET] = "SA_GET",
		[NFSEC_CMD_SA_FLUSH] = "SA_FLUSH",
		[NFSEC_CMD_POLICY_ADD] = "POLICY_ADD",
		[NFSEC_CMD_POLICY_UPDATE] = "POLICY_UPDATE",
		[NFSEC_CMD_POLICY_DEL] = "POLICY_DEL",
		[NFSEC_CMD_POLICY_GET] = "POLICY_GET",
		[NFSEC_CMD_POLICY_FLUSH] = "POLICY_FLUSH",
		[NFSEC_CMD_STATS_GET] = "STATS_GET",
		[NFSEC_CMD_VERSION_GET] = "VERSION_GET",
		[NFSEC_CMD_SA_ALLOCSPI] = "SA_ALLOCSPI",
		[NFSEC_CMD_SA_MOVE] = "SA_MOVE",
	};
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);

	printf("NFSEC_CMD_%s%s\n", g->cmd <= NFSEC_CMD_MAX && cmds[g->cmd] ?
	       cmds[g->cmd] : "?", nlh->nlmsg_flags & NLM_F_DUMP ? " dump" : "");
	dump_attrs("", genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), top_d,
		   NFSEC_A_MAX);
}
