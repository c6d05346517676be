// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec stats and nfsec version.
 */
#include <string.h>
#include "tool.h"

static int print_netns(struct nlattr **tb, void *arg)
{
	unsigned int sas = tb[NFSEC_A_SA_COUNT] ? nla_get_u32(tb[NFSEC_A_SA_COUNT]) : 0;
	unsigned int pols = tb[NFSEC_A_POLICY_COUNT] ?
			    nla_get_u32(tb[NFSEC_A_POLICY_COUNT]) : 0;

	if (opt_json) {
		printf("{\"sa_count\":%u,\"policy_count\":%u,\"stats\":", sas, pols);
		print_stats(tb[NFSEC_A_STATS], true, "");
		puts("}");
	} else {
		printf("sa_count %u\npolicy_count %u\n", sas, pols);
		print_stats(tb[NFSEC_A_STATS], false, "");
	}
	return 0;
}

int do_stats(int argc, char **argv)
{
	if (argc)
		return parse_fail("stats takes no arguments");
	return nfsec_talk(nfsec_msg(NFSEC_CMD_STATS_GET, 0), "stats", print_netns, NULL);
}

static int print_version(struct nlattr **tb, void *arg)
{
	printf("nfsec tool %s, module %s\n", TOOL_VERSION,
	       tb[NFSEC_A_VERSION] ? nla_get_string(tb[NFSEC_A_VERSION]) : "?");
	return 0;
}

int do_version(int argc, char **argv)
{
	return nfsec_talk(nfsec_msg(NFSEC_CMD_VERSION_GET, 0), "version", print_version, NULL);
}
