// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: configure the nfsec IPsec datapath with the words of ip-xfrm(8).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tool.h"

int opt_family;
bool opt_stats;
bool opt_json;
bool dry_run;
int batch_line;
const char *batch_name = "-";

static void usage(FILE *f)
{
	fputs("Usage: nfsec [ -4 | -6 ] [ -s ] [ -j ] OBJECT COMMAND ...\n"
	      "       nfsec [ -4 | -6 ] [ -s ] [ -j ] [ -atomic ] [ -replace ] -batch FILE\n"
	      "OBJECT := sa | policy | stats | monitor | version | help\n"
	      "  -4, -6    IPv4 or IPv6 only: addresses given, SAs and policies shown\n"
	      "  -s        counters too\n"
	      "  -j        JSON output\n"
	      "  -batch    run the commands of FILE (- for stdin), one a line;\n"
	      "            stop at the first error\n"
	      "  -atomic   all the lines or none: check every line first, undo on\n"
	      "            a failure (see nfsec(8) for what cannot be undone)\n"
	      "  -replace  -atomic, and sa add and policy add replace an SA or policy\n"
	      "            that exists: a file applied again (boot configuration)\n"
	      "  -V        the tool's and the module's versions\n"
	      "See nfsec sa help, nfsec policy help and nfsec(8).\n", f);
}

static int do_help(int argc __unused, char **argv __unused)
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
	{ "monitor", do_monitor },
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
		if (w > r + 1)
			return -1;
	}
}

/*
 * The next command of @f into *@buf: one line, or several joined where a
 * line ends in a backslash (as ip -batch). Counts lines in *@n.
 */
static ssize_t get_command(FILE *f, char **buf, size_t *cap, int *n)
{
	char *more = NULL;
	size_t mcap = 0;
	ssize_t len, l;

	len = getline(buf, cap, f);
	if (len <= 0)
		return len;
	(*n)++;
	while (len >= 2 && (*buf)[len - 1] == '\n' && (*buf)[len - 2] == '\\') {
		len -= 2;
		l = getline(&more, &mcap, f);
		if (l <= 0)
			break;
		(*n)++;
		if ((size_t)(len + l + 1) > *cap) {
			*cap = len + l + 1;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				die("out of memory");
		}
		memcpy(*buf + len, more, l + 1);
		len += l;
	}
	(*buf)[len] = 0;
	free(more);
	return len;
}

/* A file of keys others can read is worth a word (as wg-quick says). */
static void warn_mode(FILE *f, const char *path)
{
	struct stat st;

	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fprintf(stderr, "nfsec: warning: %s can be read by others (mode %04o), and may hold keys: chmod 600\n",
			path, (unsigned int)(st.st_mode & 07777));
}

static int batch(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *argv[256];
	size_t cap = 0;
	int argc, n = 0, err = 0;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	/* Every error message says "FILE:LINE: ...". */
	batch_name = f == stdin ? "<stdin>" : path;
	if (opt_replace)
		warn_mode(f, path);
	collecting = opt_atomic;
	for (;;) {
		int first = n + 1;

		if (get_command(f, &line, &cap, &n) <= 0)
			break;
		batch_line = first;
		argc = split(line, argv, ARRAY_SIZE(argv));
		if (argc < 0) {
			err = parse_fail("unbalanced quotes or more than %zu words",
					 ARRAY_SIZE(argv));
			break;
		}
		if (!argc)
			continue;
		err = dispatch(argc, argv);
		if (err)
			break;
	}
	batch_line = 0;
	free(line);
	if (f != stdin)
		fclose(f);
	/* -atomic: every line was read and parsed; nothing was sent yet. */
	if (opt_atomic && !err)
		err = atomic_run(batch_name);
	collecting = false;
	return err;
}

int main(int argc, char **argv)
{
	const char *batch_file = NULL, *env = getenv("NFSEC_DRY_RUN");
	int err;

	dry_run = env && *env && strcmp(env, "0");
	for (argc--, argv++; argc && argv[0][0] == '-'; argc--, argv++) {
		const char *o = argv[0] + 1 + (argv[0][1] == '-');

		if (!strcmp(o, "s") || !strcmp(o, "stats") || !strcmp(o, "statistics"))
			opt_stats = true;
		else if (!strcmp(o, "4"))
			opt_family = AF_INET;
		else if (!strcmp(o, "6"))
			opt_family = AF_INET6;
		else if (!strcmp(o, "j") || !strcmp(o, "json"))
			opt_json = true;
		else if (!strcmp(o, "batch") || !strcmp(o, "b")) {
			if (argc < 2)
				die("-batch needs a file (- for stdin)");
			batch_file = argv[1];
			argc--, argv++;
		} else if (!strcmp(o, "atomic")) {
			opt_atomic = true;
		} else if (!strcmp(o, "replace")) {
			opt_atomic = opt_replace = true;
		} else if (!strcmp(o, "h") || !strcmp(o, "help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "V") || !strcmp(o, "version")) {
			argv[0] = "version";
			break;
		} else {
			usage(stderr);
			die("unknown option \"%s\"", argv[0]);
		}
	}
	if (batch_file && argc)
		die("-batch takes no command; put the commands in the file");
	if (opt_atomic && !batch_file)
		die("-atomic and -replace are for -batch FILE");
	err = batch_file ? batch(batch_file) : dispatch(argc, argv);
	fflush(stdout);
	nfsec_nl_close();
	return err ? 1 : 0;
}
