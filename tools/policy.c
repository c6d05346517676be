// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec policy: the words of `ip xfrm policy`.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "tool.h"

void usage_policy(FILE *f)
{
	fputs("Usage: nfsec policy { add | update } SELECTOR dir DIR [ priority PRIORITY ]\n"
	      "        [ action ACTION ] [ ptype main ] [ tmpl TMPL ]\n"
	      "       nfsec policy { del | delete | get } { SELECTOR | index INDEX } dir DIR\n"
	      "        [ ptype main ]\n"
	      "       nfsec [ -s ] [ -j ] policy { show | list } [ dir DIR ] [ index INDEX ]\n"
	      "       nfsec policy flush [ ptype main ]\n"
	      "       nfsec policy count\n"
	      "SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ UPSPEC ]\n"
	      "UPSPEC := proto { PROTO | { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] }\n"
	      "DIR := in | out | fwd\n"
	      "ACTION := allow | block\n"
	      "TMPL := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]\n"
	      "        [ mode MODE ] [ reqid REQID ] [ level LEVEL ]\n"
	      "XFRM-PROTO := esp | ah\n"
	      "MODE := transport | tunnel\n"
	      "LEVEL := required\n"
	      "Only one tmpl; no limit, flag, mark, ctx, if_id; no index on add or update.\n", f);
}

static int parse_tmpl(int *i, int argc, char **argv, struct nl_msg *m)
{
	struct nlattr *nest = nla_nest_start(m, NFSEC_POL_A_TMPL | NLA_F_NESTED);
	struct addr src = {}, dst = {};
	uint32_t v32;
	uint8_t v8;

	static const char *const words[] = {
		"src", "dst", "proto", "spi", "mode", "reqid", "level",
	};

	/* The template's words, up to the first that is not one of them. */
	for ((*i)++; *i < argc; *i += 2) {
		const char *w = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(words) && strcmp(w, words[k]); k++)
			;
		if (k == ARRAY_SIZE(words))
			break;
		if (!v)
			return parse_fail("\"%s\" needs an argument", w);
		if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			if (get_addr(v, !strcmp(w, "src") ? &src : &dst))
				return -EINVAL;
		} else if (!strcmp(w, "proto")) {
			if (get_xfrm_proto(v, &v8))
				return -EINVAL;
			nla_put_u8(m, NFSEC_TMPL_A_PROTO, v8);
		} else if (!strcmp(w, "spi")) {
			if (get_u32(v, &v32))
				return -EINVAL;
			nla_put_u32(m, NFSEC_TMPL_A_SPI, htonl(v32));
		} else if (!strcmp(w, "mode")) {
			if (get_mode(v, &v8))
				return -EINVAL;
			nla_put_u8(m, NFSEC_TMPL_A_MODE, v8);
		} else if (!strcmp(w, "reqid")) {
			if (get_u32(v, &v32))
				return -EINVAL;
			nla_put_u32(m, NFSEC_TMPL_A_REQID, v32);
		} else if (!strcmp(w, "level")) {
			/* nfsec has no optional SAs (xfrm's "use"). */
			if (!strcmp(v, "required"))
				v8 = NFSEC_LEVEL_REQUIRED;
			else if (!strcmp(v, "use"))
				return parse_fail("level use is not supported by nfsec (optional SAs; every template's SA is required)");
			else
				return parse_fail("unknown level \"%s\" (required)", v);
			nla_put_u8(m, NFSEC_TMPL_A_LEVEL, v8);
		}
	}
	return put_endpoints(m, nest, "tmpl", &src, NFSEC_TMPL_A_SRC, NFSEC_TMPL_A_SRC6,
			     &dst, NFSEC_TMPL_A_DST, NFSEC_TMPL_A_DST6);
}

/* Policy words into an open POLICY nest; @add allows the add-only words. */
static int parse_policy(int argc, char **argv, struct nl_msg *m, bool add)
{
	struct sel sel = {};
	bool have_dir = false, have_sel = false, have_index = false;
	bool have_tmpl = false;
	uint32_t v32;
	uint8_t v8;
	int i, err;

	for (i = 0; i < argc;) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		/* The template took src, dst and proto; the selector is done. */
		if (have_tmpl && (!strcmp(w, "sport") || !strcmp(w, "dport")))
			return parse_fail("selector word \"%s\" after tmpl: the SELECTOR comes first", w);
		err = parse_sel_word(&i, argc, argv, &sel);
		if (err <= 0) {
			if (err)
				return err;
			have_sel = true;
			continue;
		}
		if (add && !strcmp(w, "index"))
			return parse_fail("unsupported word \"index\" with add or update: nfsec assigns the index");
		if (add && !strcmp(w, "limit"))
			return parse_fail("unsupported word \"limit\": policy lifetimes are not supported by nfsec");
		if (strcmp(w, "dir") && strcmp(w, "index") && strcmp(w, "ptype") &&
		    (!add || (strcmp(w, "priority") && strcmp(w, "action") &&
			      strcmp(w, "tmpl"))))
			return parse_fail("unsupported word \"%s\"", w);
		if (!v)
			return parse_fail("\"%s\" needs an argument", w);
		if (!strcmp(w, "dir")) {
			if (get_dir(v, &v8))
				return -EINVAL;
			nla_put_u8(m, NFSEC_POL_A_DIR, v8);
			have_dir = true;
		} else if (!strcmp(w, "index") && !add) {
			if (get_u32(v, &v32))
				return -EINVAL;
			nla_put_u32(m, NFSEC_POL_A_INDEX, v32);
			have_index = true;
		} else if (!strcmp(w, "ptype")) {
			if (strcmp(v, "main"))
				return parse_fail("ptype %s is not supported by nfsec (main)", v);
		} else if (!strcmp(w, "priority") && add) {
			if (get_u32(v, &v32))
				return -EINVAL;
			nla_put_u32(m, NFSEC_POL_A_PRIORITY, v32);
		} else if (!strcmp(w, "action") && add) {
			if (!strcmp(v, "allow"))
				v8 = NFSEC_ACTION_ALLOW;
			else if (!strcmp(v, "block"))
				v8 = NFSEC_ACTION_BLOCK;
			else
				return parse_fail("unknown action \"%s\" (allow, block)", v);
			nla_put_u8(m, NFSEC_POL_A_ACTION, v8);
		} else if (!strcmp(w, "tmpl") && add) {
			if (have_tmpl)
				return parse_fail("only one template supported by nfsec (a second \"tmpl\")");
			have_tmpl = true;
			err = parse_tmpl(&i, argc, argv, m);
			if (err)
				return err;
			continue;
		} else {
			return parse_fail("unsupported word \"%s\"", w);
		}
		i += 2;
	}
	if (have_index && have_sel)
		return parse_fail("a policy is named by SELECTOR or by index, not both");
	if (!have_index && put_sel(m, NFSEC_POL_A_SEL, &sel, true))
		return -EINVAL;
	return have_dir ? 0 : parse_fail("a policy needs dir in, out or fwd");
}

static const char *const dirs[] = { "in", "out", "fwd" };

/* A template without endpoints prints them as ip does: zeros of @family. */
static void print_tmpl(struct nlattr *nest, int family)
{
	struct nlattr *tt[NFSEC_TMPL_A_MAX + 1] = {};
	uint32_t spi = 0, reqid = 0;
	uint8_t proto = 0, mode = 0, level = 0;
	struct addr src, dst;

	nla_parse_nested(tt, NFSEC_TMPL_A_MAX, nest, NULL);
	src = addr_get(tt, NFSEC_TMPL_A_SRC, NFSEC_TMPL_A_SRC6);
	dst = addr_get(tt, NFSEC_TMPL_A_DST, NFSEC_TMPL_A_DST6);
	if (!src.family)
		src.family = dst.family ?: family;
	if (!dst.family)
		dst.family = src.family;
	if (tt[NFSEC_TMPL_A_SPI])
		spi = ntohl(nla_get_u32(tt[NFSEC_TMPL_A_SPI]));
	if (tt[NFSEC_TMPL_A_REQID])
		reqid = nla_get_u32(tt[NFSEC_TMPL_A_REQID]);
	if (tt[NFSEC_TMPL_A_PROTO])
		proto = nla_get_u8(tt[NFSEC_TMPL_A_PROTO]);
	if (tt[NFSEC_TMPL_A_MODE])
		mode = nla_get_u8(tt[NFSEC_TMPL_A_MODE]);
	if (tt[NFSEC_TMPL_A_LEVEL])
		level = nla_get_u8(tt[NFSEC_TMPL_A_LEVEL]);
	/* As ip xfrm policy: "level use" only when optional. */
	printf(opt_json ?
	       ",\"tmpl\":{\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"%s\",\"spi\":\"0x%08x\","
	       "\"reqid\":%u,\"mode\":\"%s\",\"level\":\"%s\"}" :
	       "\ttmpl src %s dst %s\n\t\tproto %s spi 0x%08x reqid %u mode %s%s\n",
	       addr_str(&src), addr_str(&dst), proto_name(proto), spi, reqid,
	       mode == NFSEC_MODE_TUNNEL ? "tunnel" : "transport",
	       opt_json ? (level ? "use" : "required") : (level ? " level use" : ""));
}

struct pol_filter {
	bool have_dir, have_index;
	uint8_t dir;
	uint32_t index;
};

int print_policy(struct nlattr **top, void *arg)
{
	struct nlattr *tb[NFSEC_POL_A_MAX + 1] = {};
	struct pol_filter *f = arg;
	uint8_t dir, action;
	uint32_t prio, index;
	int family;

	if (!top[NFSEC_A_POLICY] ||
	    nla_parse_nested(tb, NFSEC_POL_A_MAX, top[NFSEC_A_POLICY], NULL))
		return 0;
	family = sel_family(tb[NFSEC_POL_A_SEL]);
	if (opt_family && family != opt_family)
		return 0;
	dir = tb[NFSEC_POL_A_DIR] ? nla_get_u8(tb[NFSEC_POL_A_DIR]) : 0;
	action = tb[NFSEC_POL_A_ACTION] ? nla_get_u8(tb[NFSEC_POL_A_ACTION]) : 0;
	prio = tb[NFSEC_POL_A_PRIORITY] ? nla_get_u32(tb[NFSEC_POL_A_PRIORITY]) : 0;
	index = tb[NFSEC_POL_A_INDEX] ? nla_get_u32(tb[NFSEC_POL_A_INDEX]) : 0;
	if (f && ((f->have_dir && f->dir != dir) ||
		  (f->have_index && f->index != index)))
		return 0;

	if (opt_json) {
		json_sep();
		printf("{\"sel\":");
		print_sel(tb[NFSEC_POL_A_SEL], family, true);
		printf(",\"dir\":\"%s\",\"priority\":%u,\"action\":\"%s\",\"index\":%u",
		       dirs[dir % 3], prio, action ? "block" : "allow", index);
	} else {
		print_sel(tb[NFSEC_POL_A_SEL], family, false);
		printf("\n\tdir %s priority %u action %s index %u\n", dirs[dir % 3], prio,
		       action ? "block" : "allow", index);
	}
	if (tb[NFSEC_POL_A_TMPL])
		print_tmpl(tb[NFSEC_POL_A_TMPL], family);
	if (opt_stats && tb[NFSEC_POL_A_STATS]) {
		struct nlattr *st[NFSEC_POL_STATS_A_PAD + 1] = {};
		unsigned long long p = 0, b = 0;

		nla_parse_nested(st, NFSEC_POL_STATS_A_PAD, tb[NFSEC_POL_A_STATS], NULL);
		if (st[NFSEC_POL_STAT_PACKETS + 1])
			p = nla_get_u64(st[NFSEC_POL_STAT_PACKETS + 1]);
		if (st[NFSEC_POL_STAT_BYTES + 1])
			b = nla_get_u64(st[NFSEC_POL_STAT_BYTES + 1]);
		printf(opt_json ? ",\"stats\":{\"packets\":%llu,\"bytes\":%llu}" :
		       "\tstats:\n\t  %llu(packets), %llu(bytes)\n", p, b);
		/* the last packet's time: ip -s xfrm policy's "use" */
		if (opt_json && tb[NFSEC_POL_A_LAST_USE])
			printf(",\"last_use\":%llu",
			       (unsigned long long)nla_get_u64(tb[NFSEC_POL_A_LAST_USE]));
		else if (opt_json)
			printf(",\"last_use\":null");
		else {
			printf("\t  ");
			print_last_use("use", tb[NFSEC_POL_A_LAST_USE] ?
				       nla_get_u64(tb[NFSEC_POL_A_LAST_USE]) : 0);
			putchar('\n');
		}
	}
	if (opt_json)
		putchar('}');
	return 0;
}

static int policy_request(uint8_t cmd, int argc, char **argv, bool add,
			  const char *what, int (*cb)(struct nlattr **, void *))
{
	struct nl_msg *m = nfsec_msg(cmd, 0);
	struct nlattr *nest = nla_nest_start(m, NFSEC_A_POLICY | NLA_F_NESTED);
	int err;

	err = parse_policy(argc, argv, m, add);
	if (err) {
		nfsec_msg_free(m);
		return err;
	}
	nla_nest_end(m, nest);
	return nfsec_talk(m, what, cb, NULL);
}

/* add and update reply with the policy (for its index); nothing to print. */
static int ignore(struct nlattr **tb __unused, void *arg __unused)
{
	return 0;
}

/* policy show [ dir DIR ] [ index INDEX ] [ ptype main ] */
static int policy_show(int argc, char **argv)
{
	struct pol_filter f = {};
	int i, err;

	for (i = 0; i < argc; i += 2) {
		const char *w = argv[i];

		if (strcmp(w, "dir") && strcmp(w, "index") && strcmp(w, "ptype"))
			return parse_fail("unsupported word \"%s\" (policy show [ dir DIR ] [ index INDEX ])",
					  w);
		if (i + 1 >= argc)
			return parse_fail("\"%s\" needs an argument", w);
		if (!strcmp(w, "dir")) {
			if (get_dir(argv[i + 1], &f.dir))
				return -EINVAL;
			f.have_dir = true;
		} else if (!strcmp(w, "index")) {
			if (get_u32(argv[i + 1], &f.index))
				return -EINVAL;
			f.have_index = true;
		} else if (strcmp(argv[i + 1], "main")) {
			return parse_fail("ptype %s is not supported by nfsec (main)", argv[i + 1]);
		}
	}
	if (opt_json)
		json_begin_list();
	err = nfsec_talk(nfsec_msg(NFSEC_CMD_POLICY_GET, NLM_F_DUMP), "policy show",
			 print_policy, &f);
	if (opt_json)
		json_end_list();
	return err;
}

int do_policy(int argc, char **argv)
{
	const char *cmd = argc ? argv[0] : "show";
	unsigned int sas, pols;
	int err;

	if (argc)
		argc--, argv++;
	if (!strcmp(cmd, "add"))
		return policy_request(NFSEC_CMD_POLICY_ADD, argc, argv, true, "policy add",
				      ignore);
	if (!strcmp(cmd, "del") || !strcmp(cmd, "delete"))
		return policy_request(NFSEC_CMD_POLICY_DEL, argc, argv, false, "policy del",
				      NULL);
	if (!strcmp(cmd, "get")) {
		if (opt_json)
			json_begin_list();
		err = policy_request(NFSEC_CMD_POLICY_GET, argc, argv, false, "policy get",
				     print_policy);
		if (opt_json)
			json_end_list();
		return err;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list") || !strcmp(cmd, "lst"))
		return policy_show(argc, argv);
	if (!strcmp(cmd, "flush")) {
		if (argc && strcmp(argv[0], "ptype"))
			return parse_fail("unsupported word \"%s\" (policy flush [ ptype main ])",
					  argv[0]);
		if (argc == 2 && strcmp(argv[1], "main"))
			return parse_fail("ptype %s is not supported by nfsec (main)", argv[1]);
		if (argc && argc != 2)
			return parse_fail("policy flush takes only [ ptype main ]");
		return nfsec_talk(nfsec_msg(NFSEC_CMD_POLICY_FLUSH, 0), "policy flush",
				  NULL, NULL);
	}
	if (!strcmp(cmd, "count")) {
		if (argc)
			return parse_fail("unsupported word \"%s\" (policy count)", argv[0]);
		err = get_counts(&sas, &pols);
		if (!err && !dry_run)
			printf(opt_json ? "{\"policy_count\":%u}\n" : "SPD count %u\n", pols);
		return err;
	}
	if (!strcmp(cmd, "update"))
		return policy_request(NFSEC_CMD_POLICY_UPDATE, argc, argv, true,
				      "policy update", ignore);
	if (!strcmp(cmd, "help")) {
		usage_policy(stdout);
		return 0;
	}
	return parse_fail("unknown policy command \"%s\" (try: nfsec policy help)", cmd);
}
