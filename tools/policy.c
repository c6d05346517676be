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
	fputs("Usage: nfsec policy add SELECTOR dir DIR [ priority PRIORITY ]\n"
	      "        [ action ACTION ] [ ptype main ] [ tmpl TMPL ]\n"
	      "       nfsec policy { del | get } { SELECTOR dir DIR | index INDEX dir DIR }\n"
	      "       nfsec [ -s ] [ -j ] policy { show | list }\n"
	      "       nfsec policy flush [ ptype main ]\n"
	      "SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ proto PROTO [ sport PORT ] [ dport PORT ] ]\n"
	      "DIR := in | out | fwd\n"
	      "ACTION := allow | block\n"
	      "TMPL := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]\n"
	      "        [ mode MODE ] [ reqid REQID ] [ level { required | use } ]\n", f);
}

static int parse_tmpl(int *i, int argc, char **argv, struct nl_msg *m)
{
	struct nlattr *nest = nla_nest_start(m, NFSEC_POL_A_TMPL | NLA_F_NESTED);
	uint32_t v32;
	uint8_t v8;

	for ((*i)++; *i < argc; *i += 2) {
		const char *w = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;

		if (!strcmp(w, "tmpl"))
			return parse_fail("only one template is supported by nfsec");
		if (!v)
			return parse_fail("\"%s\" needs an argument", w);
		if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			if (get_addr(v, &v32))
				return -EINVAL;
			nla_put_u32(m, !strcmp(w, "src") ? NFSEC_TMPL_A_SRC :
				    NFSEC_TMPL_A_DST, v32);
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
			if (!strcmp(v, "required"))
				v8 = NFSEC_LEVEL_REQUIRED;
			else if (!strcmp(v, "use"))
				v8 = NFSEC_LEVEL_USE;
			else
				return parse_fail("unknown level \"%s\" (required, use)", v);
			nla_put_u8(m, NFSEC_TMPL_A_LEVEL, v8);
		} else {
			return parse_fail("unsupported template word \"%s\"", w);
		}
	}
	nla_nest_end(m, nest);
	return 0;
}

/* Policy words into an open POLICY nest; @add allows the add-only words. */
static int parse_policy(int argc, char **argv, struct nl_msg *m, bool add)
{
	struct sel sel = {};
	bool have_dir = false;
	uint32_t v32;
	uint8_t v8;
	int i, err;

	for (i = 0; i < argc;) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		err = parse_sel_word(&i, argc, argv, &sel);
		if (err <= 0) {
			if (err)
				return err;
			continue;
		}
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
			/* The template takes the rest of the line. */
			err = parse_tmpl(&i, argc, argv, m);
			if (err)
				return err;
			break;
		} else {
			return parse_fail("unsupported word \"%s\"", w);
		}
		i += 2;
	}
	put_sel(m, NFSEC_POL_A_SEL, &sel);
	return have_dir ? 0 : parse_fail("a policy needs dir in, out or fwd");
}

static const char *const dirs[] = { "in", "out", "fwd" };

static int print_policy(struct nlattr **top, void *arg)
{
	struct nlattr *tb[NFSEC_POL_A_MAX + 1] = {}, *tt[NFSEC_TMPL_A_MAX + 1] = {};
	uint8_t dir, action, mode = 0;
	uint32_t prio, index;

	if (!top[NFSEC_A_POLICY] ||
	    nla_parse_nested(tb, NFSEC_POL_A_MAX, top[NFSEC_A_POLICY], NULL))
		return 0;
	dir = tb[NFSEC_POL_A_DIR] ? nla_get_u8(tb[NFSEC_POL_A_DIR]) : 0;
	action = tb[NFSEC_POL_A_ACTION] ? nla_get_u8(tb[NFSEC_POL_A_ACTION]) : 0;
	prio = tb[NFSEC_POL_A_PRIORITY] ? nla_get_u32(tb[NFSEC_POL_A_PRIORITY]) : 0;
	index = tb[NFSEC_POL_A_INDEX] ? nla_get_u32(tb[NFSEC_POL_A_INDEX]) : 0;
	if (tb[NFSEC_POL_A_TMPL])
		nla_parse_nested(tt, NFSEC_TMPL_A_MAX, tb[NFSEC_POL_A_TMPL], NULL);
	if (tt[NFSEC_TMPL_A_MODE])
		mode = nla_get_u8(tt[NFSEC_TMPL_A_MODE]);

	if (opt_json) {
		json_sep();
		printf("{\"sel\":");
		print_sel(stdout, tb[NFSEC_POL_A_SEL], true);
		printf(",\"dir\":\"%s\",\"priority\":%u,\"action\":\"%s\",\"index\":%u",
		       dirs[dir % 3], prio, action ? "block" : "allow", index);
	} else {
		print_sel(stdout, tb[NFSEC_POL_A_SEL], false);
		printf("\n\tdir %s priority %u action %s index %u\n", dirs[dir % 3], prio,
		       action ? "block" : "allow", index);
	}
	if (tb[NFSEC_POL_A_TMPL]) {
		uint32_t src = tt[NFSEC_TMPL_A_SRC] ? nla_get_u32(tt[NFSEC_TMPL_A_SRC]) : 0;
		uint32_t dst = tt[NFSEC_TMPL_A_DST] ? nla_get_u32(tt[NFSEC_TMPL_A_DST]) : 0;
		uint32_t spi = tt[NFSEC_TMPL_A_SPI] ? ntohl(nla_get_u32(tt[NFSEC_TMPL_A_SPI])) : 0;
		uint32_t reqid = tt[NFSEC_TMPL_A_REQID] ? nla_get_u32(tt[NFSEC_TMPL_A_REQID]) : 0;
		uint8_t proto = tt[NFSEC_TMPL_A_PROTO] ? nla_get_u8(tt[NFSEC_TMPL_A_PROTO]) : 0;
		uint8_t level = tt[NFSEC_TMPL_A_LEVEL] ? nla_get_u8(tt[NFSEC_TMPL_A_LEVEL]) : 0;

		printf(opt_json ?
		       ",\"tmpl\":{\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"%s\",\"spi\":\"0x%08x\","
		       "\"reqid\":%u,\"mode\":\"%s\",\"level\":\"%s\"}" :
		       "\ttmpl src %s dst %s\n\t\tproto %s spi 0x%08x reqid %u mode %s level %s\n",
		       ip_str(src), ip_str(dst), proto_name(proto), spi, reqid,
		       mode ? "tunnel" : "transport", level ? "use" : "required");
	}
	if (opt_stats && tb[NFSEC_POL_A_STATS]) {
		struct nlattr *st[NFSEC_POL_STATS_A_PAD + 1] = {};
		unsigned long long p = 0, b = 0;

		nla_parse_nested(st, NFSEC_POL_STATS_A_PAD, tb[NFSEC_POL_A_STATS], NULL);
		if (st[NFSEC_POL_STAT_PACKETS + 1])
			p = nla_get_u64(st[NFSEC_POL_STAT_PACKETS + 1]);
		if (st[NFSEC_POL_STAT_BYTES + 1])
			b = nla_get_u64(st[NFSEC_POL_STAT_BYTES + 1]);
		printf(opt_json ? ",\"stats\":{\"packets\":%llu,\"bytes\":%llu}" :
		       "\tstats: %llu packets, %llu bytes\n", p, b);
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
		nlmsg_free(m);
		return err;
	}
	nla_nest_end(m, nest);
	return nfsec_talk(m, what, cb, NULL);
}

/* add replies with the policy (for its index); nothing to print. */
static int ignore(struct nlattr **tb, void *arg)
{
	return 0;
}

int do_policy(int argc, char **argv)
{
	const char *cmd = argc ? argv[0] : "show";
	int err, tries;

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
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list")) {
		if (argc)
			return parse_fail("policy show takes no arguments");
		for (tries = 0; tries < 5; tries++) {
			if (opt_json)
				json_begin_list();
			err = nfsec_talk(nfsec_msg(NFSEC_CMD_POLICY_GET, NLM_F_DUMP), "policy show",
				      print_policy, NULL);
			if (opt_json)
				json_end_list();
			if (err != -EAGAIN)
				break;
		}
		return err;
	}
	if (!strcmp(cmd, "flush")) {
		if (argc && !(argc == 2 && !strcmp(argv[0], "ptype") && !strcmp(argv[1], "main")))
			return parse_fail("policy flush takes only [ ptype main ]");
		return nfsec_talk(nfsec_msg(NFSEC_CMD_POLICY_FLUSH, 0), "policy flush", NULL, NULL);
	}
	if (!strcmp(cmd, "update"))
		return parse_fail("policy update is not supported by nfsec: del, then add");
	if (!strcmp(cmd, "help")) {
		usage_policy(stdout);
		return 0;
	}
	return parse_fail("unknown policy command \"%s\" (try: nfsec policy help)", cmd);
}
