// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: configure the nfsec IPsec datapath with the words of ip-xfrm(8).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

bool opt_stats;
bool opt_json;

static void usage(FILE *f)
{
	fputs("Usage: nfsec [ -s ] [ -j ] [ -batch FILE ] OBJECT COMMAND ...\n"
	      "OBJECT := sa | policy | stats | version | help\n"
	      "  -s      counters too\n"
	      "  -j      JSON output\n"
	      "  -batch  run the commands of FILE (- for stdin), one a line;\n"
	      "          stop at the first error\n"
	      "See nfsec sa help, nfsec policy help and nfsec(8).\n", f);
}

static int do_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "sa", do_sa },
	{ "state", do_sa },
	{ "policy", do_policy },
	{ "stats", do_stats },
	{ "version", do_version },
	{ "help", do_help },
};

static int dispatch(int argc, char **argv)
{
	size_t i;

	if (!argc) {
		usage(stderr);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (!strcmp(argv[0], objects[i].name))
			return objects[i].fn(argc - 1, argv + 1);
	return parse_fail("unknown object \"%s\" (try: nfsec help)", argv[0]);
}

/* Split @line into words as a shell would for '', "" and \. */
static int split(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = w;
		while (*r && *r != ' ' && *r != '\t' && *r != '\n' && *r != '\r') {
			char q = *r;

			if (q == '\'' || q == '"') {
				for (r++; *r && *r != q; r++) {
					if (q == '"' && *r == '\\' && r[1])
						r++;
					*w++ = *r;
				}
				if (!*r)
					return -1;
				r++;
			} else if (q == '\\' && r[1]) {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (*r)
			r++;
		*w++ = 0;
		if (w > r)
			return -1;
	}
}

static int batch(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *argv[128];
	size_t cap = 0;
	int argc, n = 0, err = 0;

	if (!f)
		die("cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		n++;
		argc = split(line, argv, 128);
		if (argc < 0) {
			fprintf(stderr, "nfsec: line %d: unbalanced quotes or too many words\n", n);
			err = -EINVAL;
			break;
		}
		if (!argc)
			continue;
		err = dispatch(argc, argv);
		fflush(stdout);
		if (err) {
			fprintf(stderr, "nfsec: line %d: command failed\n", n);
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

int main(int argc, char **argv)
{
	const char *batch_file = NULL;
	int err;

	for (argc--, argv++; argc && argv[0][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[0], "-s") || !strcmp(argv[0], "-stats"))
			opt_stats = true;
		else if (!strcmp(argv[0], "-j") || !strcmp(argv[0], "-json"))
			opt_json = true;
		else if (!strcmp(argv[0], "-batch") || !strcmp(argv[0], "-b")) {
			if (argc < 2)
				die("-batch needs a file");
			batch_file = argv[1];
			argc--, argv++;
		} else if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "-help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[0], "-V") || !strcmp(argv[0], "-version")) {
			argv[0] = "version";
			break;
		} else {
			usage(stderr);
			return 1;
		}
	}
	err = batch_file ? batch(batch_file) : dispatch(argc, argv);
	nfsec_nl_close();
	return err ? 1 : 0;
}
