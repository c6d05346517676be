// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: output shared by the objects: addresses, selectors, counters,
 * for people (like ip xfrm) and as JSON.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
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
};

const char *ip_str(uint32_t addr)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int n;

	n = (n + 1) % 4;
	return inet_ntop(AF_INET, &addr, buf[n], sizeof(buf[n]));
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

void print_sel(struct nlattr *nest, bool json)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1] = {};
	uint32_t src = 0, dst = 0;
	uint8_t splen = 0, dplen = 0, proto = 0;
	uint16_t sport = 0, dport = 0;

	if (nest)
		nla_parse_nested(tb, NFSEC_SEL_A_MAX, nest, NULL);
	if (tb[NFSEC_SEL_A_SRC])
		src = nla_get_u32(tb[NFSEC_SEL_A_SRC]);
	if (tb[NFSEC_SEL_A_DST])
		dst = nla_get_u32(tb[NFSEC_SEL_A_DST]);
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
		       "\"sport\":%u,\"dport\":%u}", ip_str(src), splen,
		       ip_str(dst), dplen, proto, sport, dport);
		return;
	}
	printf("src %s/%u dst %s/%u", ip_str(src), splen, ip_str(dst), dplen);
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
