// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: the words of ip-xfrm(8) that nfsec shares.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	if (batch_line)
		fprintf(stderr, "%s:%d: ", batch_name, batch_line);
	else
		fputs("nfsec: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

int parse_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int get_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->v6) == 1)
		a->family = AF_INET6;
	else
		return parse_fail("\"%s\" is not an IPv4 or IPv6 address", s);
	if (opt_family && a->family != opt_family)
		return parse_fail("\"%s\" is not an %s address (-%c)", s,
				  opt_family == AF_INET ? "IPv4" : "IPv6",
				  opt_family == AF_INET ? '4' : '6');
	return 0;
}

int get_prefix(const char *s, struct addr *a, uint8_t *plen)
{
	char buf[64], *slash;
	unsigned int max;
	uint32_t v = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (get_addr(buf, a))
		return -EINVAL;
	max = a->family == AF_INET6 ? 128 : 32;
	*plen = max;
	if (slash) {
		if (get_u32(slash, &v) || v > max)
			return parse_fail("invalid prefix length \"%s\" (0..%u)", slash, max);
		*plen = v;
	}
	return 0;
}

int same_family(const char *what, const struct addr *a, const struct addr *b)
{
	if (a->family && b->family && a->family != b->family)
		return parse_fail("%s: an IPv4 address with an IPv6 one", what);
	return a->family ?: b->family;
}

void put_addr(struct nl_msg *msg, int t4, int t6, const struct addr *a)
{
	if (a->family == AF_INET6)
		nla_put(msg, t6, sizeof(a->v6), &a->v6);
	else if (a->family == AF_INET)
		nla_put(msg, t4, sizeof(a->v4), &a->v4);
}

int put_endpoints(struct nl_msg *msg, struct nlattr *nest, const char *what,
		  const struct addr *src, int s4, int s6,
		  const struct addr *dst, int d4, int d6)
{
	if (same_family(what, src, dst) < 0)
		return -EINVAL;
	put_addr(msg, s4, s6, src);
	put_addr(msg, d4, d6, dst);
	nla_nest_end(msg, nest);
	return 0;
}

int get_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return parse_fail("\"%s\" is not a number", s);
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return parse_fail("\"%s\" is not a number", s);
	return 0;
}

int get_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (get_u64(s, &x))
		return -EINVAL;
	if (x > UINT32_MAX)
		return parse_fail("\"%s\" is out of range", s);
	*v = x;
	return 0;
}

int get_port(const char *s, uint16_t *port)
{
	uint32_t v = 0;

	if (get_u32(s, &v) || v > 65535)
		return parse_fail("\"%s\" is not a port", s);
	*port = htons(v);
	return 0;
}

int get_proto(const char *s, uint8_t *proto)
{
	static const struct { const char *n; uint8_t p; } t[] = {
		{ "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 },
		{ "dccp", 33 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
		{ "sctp", 132 }, { "udplite", 136 },
	};
	struct protoent *pe;
	uint32_t v = 0;
	size_t i;

	if (isdigit((unsigned char)*s)) {
		if (get_u32(s, &v) || v > 255)
			return parse_fail("\"%s\" is not a protocol", s);
		*proto = v;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (!strcmp(s, t[i].n)) {
			*proto = t[i].p;
			return 0;
		}
	}
	if (!strcmp(s, "ipv6-icmp") || !strcmp(s, "mobility-header"))
		return parse_fail("proto %s: IPv6 is not supported by nfsec", s);
	pe = getprotobyname(s);
	if (!pe)
		return parse_fail("unknown protocol \"%s\"", s);
	*proto = pe->p_proto;
	return 0;
}

int get_xfrm_proto(const char *s, uint8_t *proto)
{
	if (!strcmp(s, "esp"))
		*proto = IPPROTO_ESP;
	else if (!strcmp(s, "ah"))
		*proto = IPPROTO_AH;
	else if (!strcmp(s, "comp") || !strcmp(s, "route2") ||
		 !strcmp(s, "hao") || !strcmp(s, "ipsec-any"))
		return parse_fail("proto %s is not supported by nfsec (esp, ah)", s);
	else
		return parse_fail("unknown xfrm protocol \"%s\" (esp, ah)", s);
	return 0;
}

int get_mode(const char *s, uint8_t *mode)
{
	if (!strcmp(s, "transport"))
		*mode = NFSEC_MODE_TRANSPORT;
	else if (!strcmp(s, "tunnel"))
		*mode = NFSEC_MODE_TUNNEL;
	else if (!strcmp(s, "beet") || !strcmp(s, "ro") ||
		 !strcmp(s, "in_trigger"))
		return parse_fail("mode %s is not supported by nfsec (transport, tunnel)", s);
	else
		return parse_fail("unknown mode \"%s\"", s);
	return 0;
}

int get_dir(const char *s, uint8_t *dir)
{
	if (!strcmp(s, "in"))
		*dir = NFSEC_DIR_IN;
	else if (!strcmp(s, "out"))
		*dir = NFSEC_DIR_OUT;
	else if (!strcmp(s, "fwd"))
		*dir = NFSEC_DIR_FWD;
	else
		return parse_fail("unknown dir \"%s\" (in, out, fwd)", s);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0x..." is hex; anything else is the key's bytes, as ip-xfrm takes it. */
int get_key(const char *s, uint8_t *key, int *len)
{
	size_t n = strlen(s), i;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
		if (n % 2)
			return parse_fail("key \"0x%s\": odd number of hex digits", s);
		if (n / 2 > NFSEC_KEY_MAX)
			return parse_fail("key longer than %d bytes", NFSEC_KEY_MAX);
		for (i = 0; i < n / 2; i++) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return parse_fail("key \"0x%s\": not hex", s);
			key[i] = hi << 4 | lo;
		}
		*len = n / 2;
		return 0;
	}
	if (n > NFSEC_KEY_MAX)
		return parse_fail("key longer than %d bytes", NFSEC_KEY_MAX);
	memcpy(key, s, n);
	*len = n;
	return 0;
}

static const char *need_arg(int i, int argc, char **argv)
{
	if (i + 1 >= argc) {
		parse_fail("\"%s\" needs an argument", argv[i]);
		return NULL;
	}
	return argv[i + 1];
}

/*
 * One word of a selector at argv[*i]; advances *i past its argument.
 * Returns 1 if the word is not a selector word, 0 if taken, < 0 on error.
 */
int parse_sel_word(int *i, int argc, char **argv, struct sel *sel)
{
	const char *w = argv[*i], *v;
	int err;

	if (strcmp(w, "src") && strcmp(w, "dst") && strcmp(w, "proto") &&
	    strcmp(w, "sport") && strcmp(w, "dport") && strcmp(w, "dev") &&
	    strcmp(w, "type") && strcmp(w, "code") && strcmp(w, "key"))
		return 1;
	v = need_arg(*i, argc, argv);
	if (!v)
		return -EINVAL;
	if (!strcmp(w, "src")) {
		err = get_prefix(v, &sel->src, &sel->splen);
	} else if (!strcmp(w, "dst")) {
		err = get_prefix(v, &sel->dst, &sel->dplen);
	} else if (!strcmp(w, "proto")) {
		err = get_proto(v, &sel->proto);
	} else if (!strcmp(w, "sport")) {
		err = get_port(v, &sel->sport);
	} else if (!strcmp(w, "dport")) {
		err = get_port(v, &sel->dport);
	} else {
		err = parse_fail("unsupported word \"%s\" (selector %s is not supported by nfsec)", w, w);
	}
	*i += 2;
	return err;
}

int put_sel(struct nl_msg *msg, int type, const struct sel *sel, bool policy)
{
	int family = same_family("selector", &sel->src, &sel->dst);
	struct nlattr *nest;

	if (family < 0)
		return family;
	if (!family && policy)
		family = opt_family ?: AF_INET;
	nest = nla_nest_start(msg, type | NLA_F_NESTED);
	if (!nest)
		return -ENOMEM;
	if (family)
		nla_put_u16(msg, NFSEC_SEL_A_FAMILY, family);
	if (sel->src.family) {
		put_addr(msg, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6, &sel->src);
		nla_put_u8(msg, NFSEC_SEL_A_SRC_PLEN, sel->splen);
	}
	if (sel->dst.family) {
		put_addr(msg, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6, &sel->dst);
		nla_put_u8(msg, NFSEC_SEL_A_DST_PLEN, sel->dplen);
	}
	if (sel->proto)
		nla_put_u8(msg, NFSEC_SEL_A_PROTO, sel->proto);
	if (sel->sport)
		nla_put_u16(msg, NFSEC_SEL_A_SPORT, sel->sport);
	if (sel->dport)
		nla_put_u16(msg, NFSEC_SEL_A_DPORT, sel->dport);
	nla_nest_end(msg, nest);
	return 0;
}
