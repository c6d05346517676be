// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: `nfsec monitor`, the module's events as ip xfrm monitor prints
 * xfrm's: the object as `show` prints it, after "Updated ", "Deleted ",
 * "Moved " (an SA as it is after SA_MOVE; ip has no such event) or
 * "Expired " (then "hard 0" or "hard 1"). Two lines differ: "Flushed
 * state" and "Flushed policy" (ip adds "proto P" or "ptype main"), and
 * "acquire sel SELECTOR" then the policy that asks for an SA (ip prints
 * "acquire proto esp", then indented "sel" and "policy" lines), and
 * "Mapping change" then the SA and a line "\tnew src ADDR sport PORT"
 * (ip prints old and new on one line, the SA's id before them).
 * With -j, one JSON object a line.
 */
#include <errno.h>
#include <string.h>
#include "tool.h"

enum { WANT_SA = 1, WANT_POLICY = 2, WANT_ACQUIRE = 4 };

static const struct {
	uint8_t cmd;
	int want;
	const char *event;	/* in JSON */
	const char *prefix;	/* in text */
} events[] = {
	{ NFSEC_CMD_SA_ADD, WANT_SA, "add", "" },
	{ NFSEC_CMD_SA_UPDATE, WANT_SA, "update", "Updated " },
	{ NFSEC_CMD_SA_MOVE, WANT_SA, "move", "Moved " },
	{ NFSEC_CMD_SA_DEL, WANT_SA, "del", "Deleted " },
	{ NFSEC_CMD_SA_FLUSH, WANT_SA, "flush", "Flushed state" },
	{ NFSEC_CMD_SA_EXPIRE, WANT_SA, "expire", "Expired " },
	{ NFSEC_CMD_SA_MAPPING, WANT_SA, "mapping", "Mapping change " },
	{ NFSEC_CMD_POLICY_ADD, WANT_POLICY, "add", "" },
	{ NFSEC_CMD_POLICY_UPDATE, WANT_POLICY, "update", "Updated " },
	{ NFSEC_CMD_POLICY_DEL, WANT_POLICY, "del", "Deleted " },
	{ NFSEC_CMD_POLICY_FLUSH, WANT_POLICY, "flush", "Flushed policy" },
	{ NFSEC_CMD_SA_ACQUIRE, WANT_ACQUIRE, "acquire", "acquire sel " },
};

/* SA_MAPPING: where the SA's packets now come from. */
static void print_mapping(struct nlattr *nest)
{
	struct nlattr *tb[NFSEC_MAP_A_MAX + 1] = {};
	struct addr a;
	unsigned int port = 0;

	if (nest)
		nla_parse_nested(tb, NFSEC_MAP_A_MAX, nest, NULL);
	a = addr_get(tb, NFSEC_MAP_A_SRC, NFSEC_MAP_A_SRC6);
	if (tb[NFSEC_MAP_A_SPORT])
		port = ntohs(nla_get_u16(tb[NFSEC_MAP_A_SPORT]));
	if (opt_json)
		printf("\"new\":{\"src\":\"%s\",\"sport\":%u},",
		       a.family ? addr_str(&a) : "", port);
	else
		printf("\tnew src %s sport %u\n", a.family ? addr_str(&a) : "?", port);
}

static void print_event(uint8_t cmd, struct nlattr **tb, void *arg)
{
	int want = *(int *)arg;
	bool sa, flush, expire;
	uint8_t hard;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(events) && events[i].cmd != cmd; i++)
		;
	if (i == ARRAY_SIZE(events) || !(events[i].want & want))
		return;
	sa = events[i].want == WANT_SA;
	flush = cmd == NFSEC_CMD_SA_FLUSH || cmd == NFSEC_CMD_POLICY_FLUSH;
	expire = cmd == NFSEC_CMD_SA_EXPIRE;
	hard = tb[NFSEC_A_EXPIRE_HARD] ? nla_get_u8(tb[NFSEC_A_EXPIRE_HARD]) : 0;
	if (opt_json) {
		printf("{\"event\":\"%s\",", events[i].event);
		if (expire)
			printf("\"hard\":%s,", hard ? "true" : "false");
		if (cmd == NFSEC_CMD_SA_MAPPING)
			print_mapping(tb[NFSEC_A_MAPPING]);
		if (cmd == NFSEC_CMD_SA_ACQUIRE) {
			fputs("\"sel\":", stdout);
			print_sel(tb[NFSEC_A_ACQUIRE_SEL], AF_INET, true);
			putchar(',');
		}
		printf("\"%s\":", sa ? "sa" : "policy");
		json_reset();
		if (flush)
			fputs("null", stdout);
		else if (sa)
			print_sa(tb, NULL);
		else
			print_policy(tb, NULL);
		puts("}");
	} else if (flush) {
		puts(events[i].prefix);
	} else {
		fputs(events[i].prefix, stdout);
		if (cmd == NFSEC_CMD_SA_ACQUIRE) {
			print_sel(tb[NFSEC_A_ACQUIRE_SEL], AF_INET, false);
			putchar('\n');
		}
		if (sa)
			print_sa(tb, NULL);
		else
			print_policy(tb, NULL);
		if (expire)
			printf("\thard %u\n", hard);
		if (cmd == NFSEC_CMD_SA_MAPPING)
			print_mapping(tb[NFSEC_A_MAPPING]);
	}
	/* A reader at the other end of a pipe sees each event as it comes. */
	fflush(stdout);
}

static int usage_monitor(void)
{
	puts("Usage: nfsec [ -s ] [ -j ] monitor [ all | sa | policy | acquire ]...");
	return 0;
}

int do_monitor(int argc, char **argv)
{
	int want = 0, i;

	/* Events of both families: a prefix line must not lose its object. */
	opt_family = 0;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "all"))
			want |= WANT_SA | WANT_POLICY | WANT_ACQUIRE;
		else if (!strcmp(argv[i], "sa") || !strcmp(argv[i], "SA") ||
			 !strcmp(argv[i], "state"))
			want |= WANT_SA;
		else if (!strcmp(argv[i], "policy"))
			want |= WANT_POLICY;
		else if (!strcmp(argv[i], "acquire"))
			want |= WANT_ACQUIRE;
		else if (!strcmp(argv[i], "help"))
			return usage_monitor();
		else
			return parse_fail("unsupported word \"%s\" with monitor (all, sa, policy, acquire)",
					  argv[i]);
	}
	if (!want)
		want = WANT_SA | WANT_POLICY | WANT_ACQUIRE;
	if (dry_run)
		return 0;
	return nfsec_nl_listen(print_event, &want);
}
