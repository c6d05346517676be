// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec sa: the words of `ip xfrm state`.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "tool.h"

void usage_sa(FILE *f)
{
	fputs("Usage: nfsec sa { add | update } ID [ ALGO-LIST ] [ mode MODE ] [ reqid REQID ]\n"
	      "        [ replay-window SIZE ] [ replay-seq SEQ ] [ replay-oseq SEQ ]\n"
	      "        [ replay-seq-hi SEQ ] [ replay-oseq-hi SEQ ] [ flag FLAG-LIST ]\n"
	      "        [ sel SELECTOR ] [ LIMIT-LIST ] [ encap ENCAP ] [ mss { auto | off | N } ]\n"
	      "       nfsec sa { del | get } ID\n"
	      "       nfsec sa move ID to src ADDR dst ADDR [ encap { ENCAP | none } ]\n"
	      "        [ reqid REQID ]\n"
	      "       nfsec [ -s ] [ -j ] sa { show | list } [ ID ] [ nokeys ]\n"
	      "       nfsec sa flush [ proto XFRM-PROTO ]\n"
	      "       nfsec sa count\n"
	      "       nfsec sa allocspi ID [ mode MODE ] [ reqid REQID ] [ min SPI max SPI ]\n"
	      "        [ timeout SECONDS ]\n"
	      "ID := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]\n"
	      "XFRM-PROTO := esp | ah\n"
	      "ALGO-LIST := [ ALGO-LIST ] ALGO\n"
	      "ALGO := { enc | auth } ALGO-NAME ALGO-KEYMAT |\n"
	      "        auth-trunc ALGO-NAME ALGO-KEYMAT ALGO-TRUNC-LEN |\n"
	      "        aead ALGO-NAME ALGO-KEYMAT ALGO-ICV-LEN\n"
	      "ALGO-NAME := rfc4106(gcm(aes)) | rfc7539esp(chacha20,poly1305) | cbc(aes) |\n"
	      "             ecb(cipher_null) | hmac(sha256) | digest_null\n"
	      "MODE := transport | tunnel\n"
	      "FLAG-LIST := [ FLAG-LIST ] { esn | align4 }\n"
	      "SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ proto PROTO [ sport PORT ] [ dport PORT ] ]\n"
	      "LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT\n"
	      "LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |\n"
	      "         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT\n"
	      "ENCAP := espinudp SPORT DPORT OADDR\n", f);
}

struct sa_args {
	struct nl_msg *msg;
	bool have_proto, have_spi;
	struct addr src, dst;		/* family 0: not given */
	uint32_t spi;
	uint8_t proto;
	uint64_t seq, oseq;
	bool have_seq, have_oseq;
};

static int put_alg(struct nl_msg *msg, int type, const char *name,
		   const char *keystr, const char *icv)
{
	uint8_t key[NFSEC_KEY_MAX];
	struct nlattr *nest;
	uint32_t bits = 0;
	int len, err;

	if (!*name || strlen(name) >= NFSEC_ALG_NAME_MAX)
		return parse_fail("algorithm name \"%s\": 1 to %d characters",
				  name, NFSEC_ALG_NAME_MAX - 1);
	err = get_key(keystr, key, &len);
	if (err)
		return err;
	if (icv && get_u32(icv, &bits))
		return -EINVAL;
	nest = nla_nest_start(msg, type | NLA_F_NESTED);
	nla_put_string(msg, NFSEC_ALG_A_NAME, name);
	nla_put(msg, NFSEC_ALG_A_KEY, len, key);
	/* "auth" without a length: 0, the algorithm's default (as xfrm). */
	if (type != NFSEC_SA_A_ALG_ENC)
		nla_put_u32(msg, NFSEC_ALG_A_ICV_LEN, bits);
	nla_nest_end(msg, nest);
	memset(key, 0, sizeof(key));
	return 0;
}

static int id_word(struct sa_args *a, const char *w, const char *v)
{
	if (!strcmp(w, "src"))
		return get_addr(v, &a->src);
	if (!strcmp(w, "dst"))
		return get_addr(v, &a->dst);
	if (!strcmp(w, "proto")) {
		a->have_proto = true;
		return get_xfrm_proto(v, &a->proto);
	}
	if (!strcmp(w, "spi")) {
		a->have_spi = true;
		if (get_u32(v, &a->spi))
			return -EINVAL;
		a->spi = htonl(a->spi);
		return 0;
	}
	return 1;
}

static const char *const unsupported_flags[] = {
	"noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp", "localok",
};

static int parse_flags(int *i, int argc, char **argv, uint32_t *flags)
{
	int n = 0;
	size_t k;

	while (*i + 1 < argc) {
		const char *f = argv[*i + 1];

		if (!strcmp(f, "esn")) {
			*flags |= NFSEC_SA_F_ESN;
		} else if (!strcmp(f, "align4")) {
			*flags |= NFSEC_SA_F_ALIGN4;
		} else if (!strcmp(f, "af-unspec")) {
			*flags |= NFSEC_SA_F_AF_UNSPEC;
		} else {
			for (k = 0; k < sizeof(unsupported_flags) / sizeof(*unsupported_flags); k++)
				if (!strcmp(f, unsupported_flags[k]))
					return parse_fail("flag %s is not supported by nfsec", f);
			break;
		}
		(*i)++;
		n++;
	}
	if (!n)
		return *i + 1 < argc ?
		       parse_fail("unknown flag \"%s\" (esn, align4, af-unspec)",
				  argv[*i + 1]) :
		       parse_fail("\"flag\" needs esn, align4 or af-unspec");
	return 0;
}

struct limits {
	uint64_t v[8];		/* NFSEC_LFT_A_SOFT_BYTES + i */
	unsigned int set;
};

static int parse_limit(struct limits *l, const char *what, const char *v)
{
	static const struct { const char *w; int type; } t[] = {
		{ "time-soft", NFSEC_LFT_A_SOFT_ADD_SECONDS },
		{ "time-hard", NFSEC_LFT_A_HARD_ADD_SECONDS },
		{ "time-use-soft", NFSEC_LFT_A_SOFT_USE_SECONDS },
		{ "time-use-hard", NFSEC_LFT_A_HARD_USE_SECONDS },
		{ "byte-soft", NFSEC_LFT_A_SOFT_BYTES },
		{ "byte-hard", NFSEC_LFT_A_HARD_BYTES },
		{ "packet-soft", NFSEC_LFT_A_SOFT_PACKETS },
		{ "packet-hard", NFSEC_LFT_A_HARD_PACKETS },
	};
	size_t k;
	int i;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		if (strcmp(what, t[k].w))
			continue;
		i = t[k].type - NFSEC_LFT_A_SOFT_BYTES;
		l->set |= 1U << i;
		return get_u64(v, &l->v[i]);
	}
	return parse_fail("unknown limit \"%s\"", what);
}

static void put_limits(struct nl_msg *m, const struct limits *l)
{
	struct nlattr *nest;
	int i;

	if (!l->set)
		return;
	nest = nla_nest_start(m, NFSEC_SA_A_LIFETIME | NLA_F_NESTED);
	for (i = 0; i < 8; i++)
		if (l->set & (1U << i))
			nla_put_u64(m, NFSEC_LFT_A_SOFT_BYTES + i, l->v[i]);
	nla_nest_end(m, nest);
}

/* One algorithm of each kind; auth and auth-trunc are the same kind. */
static int seen_alg(unsigned int *seen, const char *w)
{
	unsigned int bit = !strcmp(w, "aead") ? 1 : !strcmp(w, "enc") ? 2 : 4;

	if (*seen & bit)
		return parse_fail("\"%s\": only one %s algorithm", w,
				  bit == 4 ? "auth" : w);
	*seen |= bit;
	return 0;
}

/* How many arguments word @w of an SA takes; 0 if not an SA word here. */
static int word_args(const char *w, bool full)
{
	/* The first four are the ID, the only words of del and get. */
	static const struct { const char *w; int n; } t[] = {
		{ "src", 1 }, { "dst", 1 }, { "proto", 1 }, { "spi", 1 },
		{ "mode", 1 }, { "reqid", 1 }, { "replay-window", 1 },
		{ "replay-seq", 1 }, { "replay-oseq", 1 }, { "replay-seq-hi", 1 },
		{ "replay-oseq-hi", 1 }, { "flag", 1 }, { "sel", 1 },
		{ "limit", 2 }, { "encap", 4 }, { "mss", 1 }, { "enc", 2 },
		{ "auth", 2 }, { "auth-trunc", 3 }, { "aead", 3 },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(t); k++)
		if (!strcmp(w, t[k].w))
			return full || k < 4 ? t[k].n : 0;
	return 0;
}

/* ENCAP := espinudp SPORT DPORT OADDR, the four words at @v */
static int put_encap(struct nl_msg *m, char **v)
{
	struct nlattr *nest;
	struct addr oaddr;
	uint16_t p1, p2;

	if (strcmp(v[0], "espinudp"))
		return parse_fail("encap %s is not supported by nfsec (espinudp)",
				  v[0]);
	if (get_port(v[1], &p1) || get_port(v[2], &p2) || get_addr(v[3], &oaddr))
		return -EINVAL;
	nest = nla_nest_start(m, NFSEC_SA_A_ENCAP | NLA_F_NESTED);
	nla_put_u16(m, NFSEC_ENCAP_A_TYPE, 2);
	nla_put_u16(m, NFSEC_ENCAP_A_SPORT, p1);
	nla_put_u16(m, NFSEC_ENCAP_A_DPORT, p2);
	put_addr(m, NFSEC_ENCAP_A_OADDR, NFSEC_ENCAP_A_OADDR6, &oaddr);
	nla_nest_end(m, nest);
	return 0;
}

#define NEED(n) do { if (i + (n) >= argc) \
	return parse_fail("\"%s\" needs %d argument%s", w, (n), (n) > 1 ? "s" : ""); } while (0)

/* The words after "add"/"update" into an SA nest of @a->msg. */
static int parse_sa(int argc, char **argv, struct sa_args *a, bool full)
{
	uint32_t v32, flags = 0, hi;
	struct sel sel = {};
	bool have_sel = false;
	struct limits lim = {};
	struct nl_msg *m = a->msg;
	uint8_t mode;
	unsigned int algs = 0;
	int i, n, err;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i];

		n = word_args(w, full);
		if (!n)
			return parse_fail("unsupported word \"%s\"", w);
		NEED(n);
		err = id_word(a, w, argv[i + 1]);
		if (err <= 0) {
			if (err)
				return err;
			i++;
			continue;
		}
		if (!strcmp(w, "mode")) {
			if (get_mode(argv[++i], &mode))
				return -EINVAL;
			nla_put_u8(m, NFSEC_SA_A_MODE, mode);
		} else if (!strcmp(w, "reqid")) {
			if (get_u32(argv[++i], &v32))
				return -EINVAL;
			nla_put_u32(m, NFSEC_SA_A_REQID, v32);
		} else if (!strcmp(w, "replay-window")) {
			if (get_u32(argv[++i], &v32))
				return -EINVAL;
			if (v32 > NFSEC_REPLAY_MAX)
				return parse_fail("replay-window %u out of range (0..%d)",
						  v32, NFSEC_REPLAY_MAX);
			nla_put_u32(m, NFSEC_SA_A_REPLAY_WINDOW, v32);
		} else if (!strcmp(w, "replay-seq") || !strcmp(w, "replay-oseq") ||
			   !strcmp(w, "replay-seq-hi") || !strcmp(w, "replay-oseq-hi")) {
			bool out = strstr(w, "oseq"), high = strstr(w, "-hi");
			uint64_t *s = out ? &a->oseq : &a->seq;

			if (get_u32(argv[++i], &hi))
				return -EINVAL;
			if (high)
				*s = (*s & 0xffffffffULL) | (uint64_t)hi << 32;
			else
				*s = (*s & ~0xffffffffULL) | hi;
			*(out ? &a->have_oseq : &a->have_seq) = true;
		} else if (!strcmp(w, "flag")) {
			if (parse_flags(&i, argc, argv, &flags))
				return -EINVAL;
		} else if (!strcmp(w, "sel")) {
			have_sel = true;
			i++;
			while (i < argc && !(err = parse_sel_word(&i, argc, argv, &sel)))
				;
			if (err < 0)
				return err;
			i--;
		} else if (!strcmp(w, "limit")) {
			NEED(2);
			if (parse_limit(&lim, argv[i + 1], argv[i + 2]))
				return -EINVAL;
			i += 2;
		} else if (!strcmp(w, "encap")) {
			NEED(4);
			if (put_encap(m, argv + i + 1))
				return -EINVAL;
			i += 4;
		} else if (!strcmp(w, "mss")) {
			const char *v = argv[++i];

			if (!strcmp(v, "auto"))
				v32 = 0;
			else if (!strcmp(v, "off"))
				v32 = NFSEC_MSS_OFF;
			else if (get_u32(v, &v32) || v32 >= NFSEC_MSS_OFF)
				return parse_fail("mss is auto, off or a size");
			nla_put_u16(m, NFSEC_SA_A_MSS, v32);
		} else if (!strcmp(w, "enc") || !strcmp(w, "auth")) {
			NEED(2);
			if (seen_alg(&algs, w))
				return -EINVAL;
			err = put_alg(m, !strcmp(w, "enc") ? NFSEC_SA_A_ALG_ENC :
				      NFSEC_SA_A_ALG_AUTH, argv[i + 1], argv[i + 2], NULL);
			if (err)
				return err;
			i += 2;
		} else if (!strcmp(w, "auth-trunc") || !strcmp(w, "aead")) {
			NEED(3);
			if (seen_alg(&algs, w))
				return -EINVAL;
			err = put_alg(m, !strcmp(w, "aead") ? NFSEC_SA_A_ALG_AEAD :
				      NFSEC_SA_A_ALG_AUTH, argv[i + 1], argv[i + 2],
				      argv[i + 3]);
			if (err)
				return err;
			i += 3;
		} else {
			return parse_fail("unsupported word \"%s\"", w);
		}
	}
	put_limits(m, &lim);
	if (flags)
		nla_put_u32(m, NFSEC_SA_A_FLAGS, flags);
	if (have_sel && put_sel(m, NFSEC_SA_A_SEL, &sel, false))
		return -EINVAL;
	if (a->have_seq)
		nla_put_u64(m, NFSEC_SA_A_SEQ, a->seq);
	if (a->have_oseq)
		nla_put_u64(m, NFSEC_SA_A_OSEQ, a->oseq);
	return 0;
}

static void put_id(struct sa_args *a)
{
	put_addr(a->msg, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6, &a->src);
	put_addr(a->msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, &a->dst);
	if (a->have_proto)
		nla_put_u8(a->msg, NFSEC_SA_A_PROTO, a->proto);
	if (a->have_spi)
		nla_put_u32(a->msg, NFSEC_SA_A_SPI, a->spi);
}

/* Build and send one request about one SA. */
static int sa_request(uint8_t cmd, int argc, char **argv, bool full,
		      const char *what, int (*cb)(struct nlattr **, void *))
{
	struct sa_args a = {};
	struct nlattr *nest;
	int err;

	a.msg = nfsec_msg(cmd, 0);
	nest = nla_nest_start(a.msg, NFSEC_A_SA | NLA_F_NESTED);
	err = parse_sa(argc, argv, &a, full);
	if (err) {
		nfsec_msg_free(a.msg);
		return err;
	}
	if (!a.dst.family || !a.have_proto || !a.have_spi) {
		nfsec_msg_free(a.msg);
		return parse_fail("%s: an SA is identified by dst, proto and spi (missing %s)",
				  what, !a.dst.family ? "dst" : !a.have_proto ? "proto" : "spi");
	}
	if (same_family(what, &a.src, &a.dst) < 0) {
		nfsec_msg_free(a.msg);
		return -EINVAL;
	}
	put_id(&a);
	nla_nest_end(a.msg, nest);
	return nfsec_talk(a.msg, what, cb, NULL);
}

static void print_alg(const char *word, struct nlattr *nest)
{
	struct nlattr *tb[NFSEC_ALG_A_MAX + 1] = {};
	const char *name = "?";
	uint32_t key = 0, icv = 0;

	if (!nest)
		return;
	nla_parse_nested(tb, NFSEC_ALG_A_MAX, nest, NULL);
	if (tb[NFSEC_ALG_A_NAME])
		name = nla_get_string(tb[NFSEC_ALG_A_NAME]);
	if (tb[NFSEC_ALG_A_KEY_LEN])
		key = nla_get_u32(tb[NFSEC_ALG_A_KEY_LEN]);
	if (tb[NFSEC_ALG_A_ICV_LEN])
		icv = nla_get_u32(tb[NFSEC_ALG_A_ICV_LEN]);
	if (opt_json) {
		printf(",\"%s\":{\"name\":", word);
		json_str(name);
		printf(",\"key_len\":%u,\"icv_len\":%u}", key, icv);
		return;
	}
	/* Keys never come back: their length in bits stands in for them. */
	if (!strcmp(word, "auth") && icv)
		word = "auth-trunc";
	printf("\t%s %s (%u bits)", word, name, key);
	if (icv && strcmp(word, "enc"))
		printf(" %u", icv);
	putchar('\n');
}

static void print_flags(uint32_t flags)
{
	const char *sep = "";

	if (opt_json) {
		printf(",\"flags\":[");
		if (flags & NFSEC_SA_F_ESN)
			printf("\"esn\""), sep = ",";
		if (flags & NFSEC_SA_F_ALIGN4)
			printf("%s\"align4\"", sep), sep = ",";
		if (flags & NFSEC_SA_F_AF_UNSPEC)
			printf("%s\"af-unspec\"", sep);
		putchar(']');
		return;
	}
	if (flags)
		printf(" flag");
	if (flags & NFSEC_SA_F_ESN)
		printf(" esn");
	if (flags & NFSEC_SA_F_ALIGN4)
		printf(" align4");
	if (flags & NFSEC_SA_F_AF_UNSPEC)
		printf(" af-unspec");
}

static void print_encap(struct nlattr *nest, int family)
{
	struct nlattr *et[NFSEC_ENCAP_A_MAX + 1] = {};
	unsigned int sport = 0, dport = 0;
	struct addr oaddr;

	if (!nest)
		return;
	nla_parse_nested(et, NFSEC_ENCAP_A_MAX, nest, NULL);
	if (et[NFSEC_ENCAP_A_SPORT])
		sport = ntohs(nla_get_u16(et[NFSEC_ENCAP_A_SPORT]));
	if (et[NFSEC_ENCAP_A_DPORT])
		dport = ntohs(nla_get_u16(et[NFSEC_ENCAP_A_DPORT]));
	oaddr = addr_get(et, NFSEC_ENCAP_A_OADDR, NFSEC_ENCAP_A_OADDR6);
	if (!oaddr.family)
		oaddr.family = family;
	printf(opt_json ?
	       ",\"encap\":{\"type\":\"espinudp\",\"sport\":%u,\"dport\":%u,\"oaddr\":\"%s\"}" :
	       "\tencap type espinudp sport %u dport %u addr %s\n",
	       sport, dport, addr_str(&oaddr));
}

struct filter {
	struct sa_args id;
};

int print_sa(struct nlattr **top, void *arg)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1] = {};
	struct filter *f = arg;
	uint32_t spi, flags, window, reqid;
	struct addr src, dst;
	uint64_t seq, oseq;
	uint8_t proto, mode;
	uint16_t mss;
	const char *modestr;

	if (!top[NFSEC_A_SA] || nla_parse_nested(tb, NFSEC_SA_A_MAX, top[NFSEC_A_SA], NULL))
		return 0;
	src = addr_get(tb, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6);
	dst = addr_get(tb, NFSEC_SA_A_DST, NFSEC_SA_A_DST6);
	spi = tb[NFSEC_SA_A_SPI] ? ntohl(nla_get_u32(tb[NFSEC_SA_A_SPI])) : 0;
	proto = tb[NFSEC_SA_A_PROTO] ? nla_get_u8(tb[NFSEC_SA_A_PROTO]) : 0;
	mode = tb[NFSEC_SA_A_MODE] ? nla_get_u8(tb[NFSEC_SA_A_MODE]) : 0;
	reqid = tb[NFSEC_SA_A_REQID] ? nla_get_u32(tb[NFSEC_SA_A_REQID]) : 0;
	flags = tb[NFSEC_SA_A_FLAGS] ? nla_get_u32(tb[NFSEC_SA_A_FLAGS]) : 0;
	window = tb[NFSEC_SA_A_REPLAY_WINDOW] ? nla_get_u32(tb[NFSEC_SA_A_REPLAY_WINDOW]) : 0;
	mss = tb[NFSEC_SA_A_MSS] ? nla_get_u16(tb[NFSEC_SA_A_MSS]) : 0;
	seq = u64_or(tb, NFSEC_SA_A_SEQ);
	oseq = u64_or(tb, NFSEC_SA_A_OSEQ);
	modestr = mode == NFSEC_MODE_TUNNEL ? "tunnel" : "transport";

	if (opt_family && dst.family != opt_family)
		return 0;
	if (f && ((f->id.src.family && !addr_eq(&f->id.src, &src)) ||
		  (f->id.dst.family && !addr_eq(&f->id.dst, &dst)) ||
		  (f->id.have_proto && f->id.proto != proto) ||
		  (f->id.have_spi && ntohl(f->id.spi) != spi)))
		return 0;

	if (opt_json) {
		json_sep();
		printf("{\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"%s\",\"spi\":\"0x%08x\","
		       "\"reqid\":%u,\"mode\":\"%s\",\"replay_window\":%u",
		       addr_str(&src), addr_str(&dst), proto_name(proto), spi, reqid,
		       modestr, window);
		print_flags(flags);
	} else {
		printf("src %s dst %s\n", addr_str(&src), addr_str(&dst));
		printf("\tproto %s spi 0x%08x reqid %u mode %s\n", proto_name(proto), spi,
		       reqid, modestr);
		printf("\treplay-window %u", window);
		print_flags(flags);
		putchar('\n');
	}
	print_alg("aead", tb[NFSEC_SA_A_ALG_AEAD]);
	print_alg("enc", tb[NFSEC_SA_A_ALG_ENC]);
	print_alg("auth", tb[NFSEC_SA_A_ALG_AUTH]);
	print_encap(tb[NFSEC_SA_A_ENCAP], src.family ?: dst.family);
	if (opt_json) {
		if (mss == 0)
			printf(",\"mss\":\"auto\"");
		else if (mss == NFSEC_MSS_OFF)
			printf(",\"mss\":\"off\"");
		else
			printf(",\"mss\":%u", mss);
		printf(",\"seq\":%llu,\"oseq\":%llu,\"sel\":",
		       (unsigned long long)seq, (unsigned long long)oseq);
		print_sel(tb[NFSEC_SA_A_SEL], dst.family, true);
	} else {
		if (mss == NFSEC_MSS_OFF)
			printf("\tmss off\n");
		else if (mss)
			printf("\tmss %u\n", mss);
		printf("\tsel ");
		print_sel(tb[NFSEC_SA_A_SEL], dst.family, false);
		putchar('\n');
	}
	if (opt_stats) {
		if (opt_json) {
			print_lifetime(tb[NFSEC_SA_A_LIFETIME], tb[NFSEC_SA_A_CUR]);
			printf(",\"stats\":");
		} else {
			if (flags & NFSEC_SA_F_ESN)
				printf("\tanti-replay esn context:\n\t seq-hi 0x%x, seq 0x%x, oseq-hi 0x%x, oseq 0x%x\n",
				       (uint32_t)(seq >> 32), (uint32_t)seq,
				       (uint32_t)(oseq >> 32), (uint32_t)oseq);
			else
				printf("\tanti-replay context: seq 0x%x, oseq 0x%x\n",
				       (uint32_t)seq, (uint32_t)oseq);
			print_lifetime(tb[NFSEC_SA_A_LIFETIME], tb[NFSEC_SA_A_CUR]);
			printf("\tstats:\n");
		}
		print_stats(tb[NFSEC_SA_A_STATS], opt_json, "\t  ");
	}
	if (opt_json)
		putchar('}');
	return 0;
}

static int sa_show(int argc, char **argv)
{
	struct filter f = {};
	int i, err;

	for (i = 0; i < argc; i += 2) {
		if (!strcmp(argv[i], "nokeys")) {	/* keys never come back */
			i--;
			continue;
		}
		err = id_word(&f.id, argv[i], i + 1 < argc ? argv[i + 1] : "");
		if (err > 0)
			return parse_fail("unsupported word \"%s\"", argv[i]);
		if (i + 1 >= argc)
			return parse_fail("\"%s\" needs an argument", argv[i]);
		if (err)
			return err;
	}
	if (opt_json)
		json_begin_list();
	err = nfsec_talk(nfsec_msg(NFSEC_CMD_SA_GET, NLM_F_DUMP), "sa show", print_sa, &f);
	if (opt_json)
		json_end_list();
	return err;
}

/*
 * As ip xfrm state allocspi: reserve an SPI and print the SA to be, as
 * ip prints it. The ID's spi is the kernel's to choose.
 */
static int sa_allocspi(int argc, char **argv)
{
	struct sa_args a = {};
	struct nlattr *nest;
	uint32_t v, min = 0, max = 0, timeout = 0;
	bool have_min = false, have_max = false, have_timeout = false;
	uint8_t mode;
	int i, err;

	a.msg = nfsec_msg(NFSEC_CMD_SA_ALLOCSPI, 0);
	nest = nla_nest_start(a.msg, NFSEC_A_SA | NLA_F_NESTED);
	for (i = 0; i < argc; i += 2) {
		const char *w = argv[i];

		if (i + 1 >= argc) {
			err = parse_fail("\"%s\" needs an argument", w);
			goto fail;
		}
		err = id_word(&a, w, argv[i + 1]);
		if (err < 0)
			goto fail;
		if (!err) {
			if (a.have_spi) {
				err = parse_fail("allocspi chooses the spi: give min and max");
				goto fail;
			}
			continue;
		}
		err = -EINVAL;
		if (!strcmp(w, "mode")) {
			if (get_mode(argv[i + 1], &mode))
				goto fail;
			nla_put_u8(a.msg, NFSEC_SA_A_MODE, mode);
		} else if (!strcmp(w, "reqid")) {
			if (get_u32(argv[i + 1], &v))
				goto fail;
			nla_put_u32(a.msg, NFSEC_SA_A_REQID, v);
		} else if (!strcmp(w, "min")) {
			if (get_u32(argv[i + 1], &min))
				goto fail;
			have_min = true;
		} else if (!strcmp(w, "max")) {
			if (get_u32(argv[i + 1], &max))
				goto fail;
			have_max = true;
		} else if (!strcmp(w, "timeout")) {
			if (get_u32(argv[i + 1], &timeout))
				goto fail;
			have_timeout = true;
		} else {
			err = parse_fail("unsupported word \"%s\" (try: nfsec sa help)", w);
			goto fail;
		}
	}
	/* min > max and min 0 are the module's to refuse, with its reason. */
	if (have_min != have_max) {
		err = parse_fail("sa allocspi: \"min\" and \"max\" go together");
		goto fail;
	}
	if (!a.dst.family || !a.have_proto) {
		err = parse_fail("sa allocspi: needs dst and proto (missing %s)",
				 !a.dst.family ? "dst" : "proto");
		goto fail;
	}
	if (same_family("sa allocspi", &a.src, &a.dst) < 0) {
		err = -EINVAL;
		goto fail;
	}
	put_id(&a);
	nla_nest_end(a.msg, nest);
	if (have_min) {
		nla_put_u32(a.msg, NFSEC_A_SPI_MIN, htonl(min));
		nla_put_u32(a.msg, NFSEC_A_SPI_MAX, htonl(max));
	}
	if (have_timeout)
		nla_put_u32(a.msg, NFSEC_A_SPI_TIMEOUT, timeout);
	if (opt_json)
		json_begin_list();
	err = nfsec_talk(a.msg, "sa allocspi", print_sa, NULL);
	if (opt_json)
		json_end_list();
	return err;
fail:
	nfsec_msg_free(a.msg);
	return err;
}

/*
 * The words after "to": the SA's new addresses, and its new encap or none;
 * without encap it keeps its own.
 */
static int move_to(struct nl_msg *m, int argc, char **argv)
{
	struct addr src = {}, dst = {};
	struct nlattr *nest;
	uint32_t reqid;
	int i;

	nest = nla_nest_start(m, NFSEC_A_MOVE_TO | NLA_F_NESTED);
	for (i = 0; i < argc; i += 2) {
		const char *w = argv[i];

		if (i + 1 >= argc)
			return parse_fail("\"%s\" needs an argument", w);
		if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			if (get_addr(argv[i + 1], w[0] == 's' ? &src : &dst))
				return -EINVAL;
		} else if (!strcmp(w, "reqid")) {
			if (get_u32(argv[i + 1], &reqid))
				return -EINVAL;
			nla_put_u32(m, NFSEC_SA_A_REQID, reqid);
		} else if (!strcmp(w, "encap") && !strcmp(argv[i + 1], "none")) {
			/* An empty nest (libnl's nla_nest_end() drops one). */
			nla_put(m, NFSEC_SA_A_ENCAP | NLA_F_NESTED, 0, NULL);
		} else if (!strcmp(w, "encap")) {
			if (i + 4 >= argc)
				return parse_fail("\"encap\" needs none or 4 arguments");
			if (put_encap(m, argv + i + 1))
				return -EINVAL;
			i += 3;
		} else {
			return parse_fail("unsupported word \"%s\" after \"to\" (src, dst, encap, reqid)",
					  w);
		}
	}
	if (!src.family || !dst.family)
		return parse_fail("sa move: \"to\" needs src and dst");
	return put_endpoints(m, nest, "sa move", &src, NFSEC_SA_A_SRC, NFSEC_SA_A_SRC6,
			     &dst, NFSEC_SA_A_DST, NFSEC_SA_A_DST6);
}

/* sa move ID to src ADDR dst ADDR [ encap ... ] [ reqid N ] */
static int sa_move(int argc, char **argv)
{
	struct sa_args a = {};
	struct nlattr *nest;
	int i, err;

	a.msg = nfsec_msg(NFSEC_CMD_SA_MOVE, 0);
	nest = nla_nest_start(a.msg, NFSEC_A_SA | NLA_F_NESTED);
	for (i = 0; i < argc && strcmp(argv[i], "to"); i += 2) {
		err = i + 1 < argc ? id_word(&a, argv[i], argv[i + 1]) :
		      parse_fail("\"%s\" needs an argument", argv[i]);
		if (err > 0)
			err = parse_fail("unsupported word \"%s\" (sa move ID to src ADDR dst ADDR ...): the SA keeps its keys and settings",
					 argv[i]);
		if (err)
			goto fail;
	}
	err = -EINVAL;
	if (i >= argc) {
		parse_fail("sa move: needs \"to\" and the new addresses");
		goto fail;
	}
	if (!a.dst.family || !a.have_proto || !a.have_spi) {
		parse_fail("sa move: an SA is identified by dst, proto and spi (missing %s)",
			   !a.dst.family ? "dst" : !a.have_proto ? "proto" : "spi");
		goto fail;
	}
	if (same_family("sa move", &a.src, &a.dst) < 0)
		goto fail;
	put_id(&a);
	nla_nest_end(a.msg, nest);
	err = move_to(a.msg, argc - i - 1, argv + i + 1);
	if (err)
		goto fail;
	return nfsec_talk(a.msg, "sa move", NULL, NULL);
fail:
	nfsec_msg_free(a.msg);
	return err;
}

static int sa_flush(int argc, char **argv)
{
	struct nl_msg *msg;
	struct nlattr *nest;
	uint8_t proto;

	if (!argc)
		return nfsec_talk(nfsec_msg(NFSEC_CMD_SA_FLUSH, 0), "sa flush", NULL, NULL);
	if (strcmp(argv[0], "proto"))
		return parse_fail("unsupported word \"%s\" (sa flush [ proto XFRM-PROTO ])",
				  argv[0]);
	if (argc != 2)
		return parse_fail("sa flush takes only [ proto XFRM-PROTO ]");
	if (get_xfrm_proto(argv[1], &proto))
		return -EINVAL;
	msg = nfsec_msg(NFSEC_CMD_SA_FLUSH, 0);
	nest = nla_nest_start(msg, NFSEC_A_SA | NLA_F_NESTED);
	nla_put_u8(msg, NFSEC_SA_A_PROTO, proto);
	nla_nest_end(msg, nest);
	return nfsec_talk(msg, "sa flush", NULL, NULL);
}

int do_sa(int argc, char **argv)
{
	const char *cmd = argc ? argv[0] : "show";
	unsigned int sas, pols;
	int err;

	if (argc)
		argc--, argv++;
	if (!strcmp(cmd, "add"))
		return sa_request(NFSEC_CMD_SA_ADD, argc, argv, true, "sa add", NULL);
	if (!strcmp(cmd, "update"))
		return sa_request(NFSEC_CMD_SA_UPDATE, argc, argv, true, "sa update", NULL);
	if (!strcmp(cmd, "del") || !strcmp(cmd, "delete"))
		return sa_request(NFSEC_CMD_SA_DEL, argc, argv, false, "sa del", NULL);
	if (!strcmp(cmd, "get")) {
		if (opt_json)
			json_begin_list();
		err = sa_request(NFSEC_CMD_SA_GET, argc, argv, false, "sa get", print_sa);
		if (opt_json)
			json_end_list();
		return err;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list") || !strcmp(cmd, "lst"))
		return sa_show(argc, argv);
	if (!strcmp(cmd, "flush"))
		return sa_flush(argc, argv);
	if (!strcmp(cmd, "allocspi"))
		return sa_allocspi(argc, argv);
	if (!strcmp(cmd, "move"))
		return sa_move(argc, argv);
	if (!strcmp(cmd, "count")) {
		if (argc)
			return parse_fail("unsupported word \"%s\" (sa count)", argv[0]);
		err = get_counts(&sas, &pols);
		if (!err && !dry_run)
			printf(opt_json ? "{\"sa_count\":%u}\n" : "SAD count %u\n", sas);
		return err;
	}
	if (!strcmp(cmd, "help")) {
		usage_sa(stdout);
		return 0;
	}
	return parse_fail("unknown sa command \"%s\" (try: nfsec sa help)", cmd);
}
