// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec stats and nfsec version.
 */
#include <errno.h>
#include <string.h>
#include "tool.h"

static unsigned int count_of(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static int print_netns(struct nlattr **tb, void *arg __unused)
{
	unsigned int sas = count_of(tb, NFSEC_A_SA_COUNT);
	unsigned int pols = count_of(tb, NFSEC_A_POLICY_COUNT);

	if (opt_json) {
		printf("{\"sa_count\":%u,\"policy_count\":%u,\"spi_reservations\":%u,\"stats\":",
		       sas, pols, count_of(tb, NFSEC_A_SPI_COUNT));
		print_stats(tb[NFSEC_A_STATS], true, "");
		puts("}");
	} else {
		/* One "name value" a line, like /proc/net/xfrm_stat. */
		print_stats(tb[NFSEC_A_STATS], false, "");
		printf("sa_count %u\npolicy_count %u\n", sas, pols);
		if (tb[NFSEC_A_SPI_COUNT])
			printf("spi_reservations %u\n", count_of(tb, NFSEC_A_SPI_COUNT));
	}
	return 0;
}

int do_stats(int argc, char **argv)
{
	if (argc && strcmp(argv[0], "show") && strcmp(argv[0], "list"))
		return parse_fail("unsupported word \"%s\" (nfsec stats takes no arguments)",
				  argv[0]);
	if (argc > 1)
		return parse_fail("unsupported word \"%s\" (nfsec stats takes no arguments)",
				  argv[1]);
	return nfsec_talk(nfsec_msg(NFSEC_CMD_STATS_GET, 0), "stats", print_netns, NULL);
}

struct counts {
	unsigned int sas, pols;
};

static int read_counts(struct nlattr **tb, void *arg)
{
	struct counts *c = arg;

	c->sas = count_of(tb, NFSEC_A_SA_COUNT);
	c->pols = count_of(tb, NFSEC_A_POLICY_COUNT);
	return 0;
}

/* For sa count and policy count (ip xfrm's SAD/SPD count). */
int get_counts(unsigned int *sas, unsigned int *pols)
{
	struct counts c = {};
	int err;

	err = nfsec_talk(nfsec_msg(NFSEC_CMD_STATS_GET, 0), "count", read_counts, &c);
	*sas = c.sas;
	*pols = c.pols;
	return err;
}

static int print_version(struct nlattr **tb, void *arg __unused)
{
	printf("nfsec tool %s, module %s\n", TOOL_VERSION,
	       tb[NFSEC_A_VERSION] ? nla_get_string(tb[NFSEC_A_VERSION]) : "?");
	return 0;
}

int do_version(int argc, char **argv)
{
	if (argc)
		return parse_fail("unsupported word \"%s\" (nfsec version)", argv[0]);
	if (!dry_run && nfsec_nl_open(true)) {
		/* Still say which tool this is. */
		printf("nfsec tool %s\n", TOOL_VERSION);
		return parse_fail("nfsec module not loaded (no generic netlink family \"%s\")",
				  NFSEC_GENL_NAME);
	}
	return nfsec_talk(nfsec_msg(NFSEC_CMD_VERSION_GET, 0), "version", print_version, NULL);
}
