// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec -atomic -batch FILE: all the lines or none.
 *
 * Keys never come back out of the kernel, so an SA update, delete or
 * flush cannot be undone from here. Hence, in this order:
 *  1. every line is parsed (main.c collects the requests here);
 *  2. every line is checked against a model of the kernel's state, taken
 *     from a dump and advanced line by line (what a line adds must not
 *     exist, what it updates or deletes must), and every SA and policy it
 *     adds or updates is checked by the module itself (NFSEC_A_VALIDATE);
 *  3. the lines are applied: first those that can be undone, in the
 *     file's order, then SA updates, deletes and flushes (and whatever
 *     touches the same SA after one of them), in the file's order;
 *  4. if a line fails, what was applied is undone, newest first: an added
 *     SA or policy is deleted, an updated policy is put back as it was, a
 *     deleted or flushed policy is added again. An SA update, delete or
 *     flush already applied stays, and is reported as such.
 * Steps 1 and 2 change nothing; after them only a change made meanwhile
 * by someone else (another process, an SA's hard lifetime) or a lack of
 * memory can make a line fail.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "tool.h"

bool opt_atomic;
bool opt_replace;
bool collecting;

/* The bytes of some attributes, for a request built again later. */
struct blob {
	void *data;
	int len;
};

/* A selector as the module keeps it (nfsec_nl_parse_sel()). */
struct psel {
	struct addr src, dst;		/* of the selector's family, zeros if none */
	uint8_t splen, dplen, proto;
	uint16_t sport, dport;
};

struct msa {
	struct addr dst;
	uint32_t spi, window, flags;
	uint8_t proto;
	uint64_t seq, oseq;
	bool live;
};

struct mpol {
	uint8_t dir;
	struct psel sel;
	uint32_t index;		/* 0: added by this batch, not known */
	struct blob attrs;	/* the POLICY nest's content, to add it again */
	bool live;
};

struct op {
	int line;
	uint8_t cmd;
	const char *what;
	struct nl_msg *msg;
	struct nl_msg **undo;	/* sent in this order to undo the line */
	int n_undo;
	bool irreversible;
	bool deferred;		/* applied after every line that can be undone */
	struct msa id;		/* an SA line's SA (proto only for a flush) */
};

static struct op *ops;
static int n_ops;
static struct msa *sas;
static int n_sas;
static struct mpol *pols;
static int n_pols;

static void *grow(void *p, int n, size_t size)
{
	/* Doubling at each power of two. */
	if (n & (n - 1) && n > 8)
		return p;
	p = realloc(p, (n < 8 ? 8 : 2 * n) * size);
	if (!p)
		die("out of memory");
	return p;
}

static bool changes(uint8_t cmd)
{
	switch (cmd) {
	case NFSEC_CMD_SA_ADD: case NFSEC_CMD_SA_UPDATE: case NFSEC_CMD_SA_DEL:
	case NFSEC_CMD_SA_FLUSH: case NFSEC_CMD_POLICY_ADD:
	case NFSEC_CMD_POLICY_UPDATE: case NFSEC_CMD_POLICY_DEL:
	case NFSEC_CMD_POLICY_FLUSH:
		return true;
	}
	return false;
}

static uint8_t msg_cmd(struct nl_msg *msg)
{
	return ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd;
}

int atomic_collect(struct nl_msg *msg, const char *what)
{
	uint8_t cmd = msg_cmd(msg);

	if (!changes(cmd)) {
		nfsec_msg_free(msg);
		return parse_fail("%s: not in an -atomic batch, which only changes SAs and policies",
				  what);
	}
	ops = grow(ops, n_ops, sizeof(*ops));
	ops[n_ops++] = (struct op){ .line = batch_line, .cmd = cmd, .what = what,
				    .msg = msg };
	return 0;
}

/* A copy of @msg with room for @extra more bytes; never sent before. */
static struct nl_msg *msg_clone(struct nl_msg *msg, size_t extra)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nl_msg *c = nlmsg_alloc_size(NLMSG_ALIGN(h->nlmsg_len) + extra);

	if (!c)
		die("out of memory");
	memcpy(nlmsg_hdr(c), h, h->nlmsg_len);
	return c;
}

static struct nlattr *nest_of(struct nl_msg *msg, int type)
{
	struct nlattr *tb[NFSEC_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFSEC_A_MAX, NULL))
		return NULL;
	return tb[type];
}

static uint32_t get32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static uint8_t get8(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u8(tb[type]) : 0;
}

/* Clear the host bits past @plen, as the module does. */
static void mask_addr(struct addr *a, uint8_t plen)
{
	uint8_t *b = a->family == AF_INET6 ? a->v6.s6_addr : (uint8_t *)&a->v4;
	int len = a->family == AF_INET6 ? 16 : 4, i;

	for (i = 0; i < len; i++, plen = plen > 8 ? plen - 8 : 0)
		b[i] &= plen >= 8 ? 0xff : (uint8_t)(0xff00 >> plen);
}

static void parse_psel(struct nlattr *nest, struct psel *s)
{
	struct nlattr *tb[NFSEC_SEL_A_MAX + 1] = {};

	memset(s, 0, sizeof(*s));
	if (nest)
		nla_parse_nested(tb, NFSEC_SEL_A_MAX, nest, NULL);
	s->src = addr_get(tb, NFSEC_SEL_A_SRC, NFSEC_SEL_A_SRC6);
	s->dst = addr_get(tb, NFSEC_SEL_A_DST, NFSEC_SEL_A_DST6);
	s->splen = tb[NFSEC_SEL_A_SRC_PLEN] ? get8(tb, NFSEC_SEL_A_SRC_PLEN) :
		   s->src.family ? (s->src.family == AF_INET6 ? 128 : 32) : 0;
	s->dplen = tb[NFSEC_SEL_A_DST_PLEN] ? get8(tb, NFSEC_SEL_A_DST_PLEN) :
		   s->dst.family ? (s->dst.family == AF_INET6 ? 128 : 32) : 0;
	/* The family: FAMILY, else the addresses', else IPv4 (the module's default). */
	s->src.family = s->dst.family = tb[NFSEC_SEL_A_FAMILY] ?
		nla_get_u16(tb[NFSEC_SEL_A_FAMILY]) :
		s->src.family ?: s->dst.family ?: AF_INET;
	mask_addr(&s->src, s->splen);
	mask_addr(&s->dst, s->dplen);
	s->proto = get8(tb, NFSEC_SEL_A_PROTO);
	s->sport = tb[NFSEC_SEL_A_SPORT] ? nla_get_u16(tb[NFSEC_SEL_A_SPORT]) : 0;
	s->dport = tb[NFSEC_SEL_A_DPORT] ? nla_get_u16(tb[NFSEC_SEL_A_DPORT]) : 0;
}

static bool psel_eq(const struct psel *a, const struct psel *b)
{
	return addr_eq(&a->src, &b->src) && addr_eq(&a->dst, &b->dst) &&
	       a->splen == b->splen &&
	       a->dplen == b->dplen && a->proto == b->proto &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* An SA as a request or a dump names it; its content too. */
static void parse_msa(struct nlattr *nest, struct msa *m)
{
	struct nlattr *tb[NFSEC_SA_A_MAX + 1] = {};

	memset(m, 0, sizeof(*m));
	if (nest)
		nla_parse_nested(tb, NFSEC_SA_A_MAX, nest, NULL);
	m->dst = addr_get(tb, NFSEC_SA_A_DST, NFSEC_SA_A_DST6);
	m->spi = get32(tb, NFSEC_SA_A_SPI);
	m->proto = get8(tb, NFSEC_SA_A_PROTO);
	m->window = get32(tb, NFSEC_SA_A_REPLAY_WINDOW);
	m->flags = get32(tb, NFSEC_SA_A_FLAGS);
	m->seq = u64_or(tb, NFSEC_SA_A_SEQ);
	m->oseq = u64_or(tb, NFSEC_SA_A_OSEQ);
	m->live = true;
}

/* A policy's content without what only the module sets (index, counters). */
static void parse_mpol(struct nlattr *nest, struct mpol *m)
{
	struct nlattr *tb[NFSEC_POL_A_MAX + 1] = {}, *a;
	char *p;
	int rem;

	memset(m, 0, sizeof(*m));
	if (!nest)
		return;
	nla_parse_nested(tb, NFSEC_POL_A_MAX, nest, NULL);
	m->dir = get8(tb, NFSEC_POL_A_DIR);
	m->index = get32(tb, NFSEC_POL_A_INDEX);
	parse_psel(tb[NFSEC_POL_A_SEL], &m->sel);
	p = m->attrs.data = malloc(nla_len(nest));
	if (!p)
		die("out of memory");
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) == NFSEC_POL_A_INDEX || nla_type(a) == NFSEC_POL_A_STATS)
			continue;
		memcpy(p, a, nla_total_size(nla_len(a)));
		p += nla_total_size(nla_len(a));
	}
	m->attrs.len = p - (char *)m->attrs.data;
	m->live = true;
}

static int snap_sa(struct nlattr **tb, void *arg __unused)
{
	sas = grow(sas, n_sas, sizeof(*sas));
	parse_msa(tb[NFSEC_A_SA], &sas[n_sas++]);
	return 0;
}

static int snap_pol(struct nlattr **tb, void *arg __unused)
{
	pols = grow(pols, n_pols, sizeof(*pols));
	parse_mpol(tb[NFSEC_A_POLICY], &pols[n_pols++]);
	return 0;
}

/* The kernel's SAs and policies, from dumps that no change interrupted. */
static int snapshot(void)
{
	int try, err;

	for (try = 0; try < 5; try++) {
		n_sas = n_pols = 0;
		dump_interrupted = false;
		err = nfsec_talk(nfsec_msg(NFSEC_CMD_SA_GET, NLM_F_DUMP), "sa show",
				 snap_sa, NULL) ?:
		      nfsec_talk(nfsec_msg(NFSEC_CMD_POLICY_GET, NLM_F_DUMP),
				 "policy show", snap_pol, NULL);
		if (err || !dump_interrupted)
			return err;
	}
	return parse_fail("the SAs and policies kept changing while read");
}

static struct msa *find_sa(const struct msa *id)
{
	int i;

	for (i = 0; i < n_sas; i++)
		if (sas[i].live && addr_eq(&sas[i].dst, &id->dst) && sas[i].spi == id->spi &&
		    sas[i].proto == id->proto)
			return &sas[i];
	return NULL;
}

static struct mpol *find_pol(uint8_t dir, const struct psel *sel, uint32_t index)
{
	int i;

	for (i = 0; i < n_pols; i++) {
		if (!pols[i].live)
			continue;
		if (index ? pols[i].index == index :
		    pols[i].dir == dir && psel_eq(&pols[i].sel, sel))
			return &pols[i];
	}
	return NULL;
}

static void add_undo(struct op *op, struct nl_msg *msg)
{
	op->undo = grow(op->undo, op->n_undo, sizeof(*op->undo));
	op->undo[op->n_undo++] = msg;
}

static struct nl_msg *sa_del_msg(const struct msa *m)
{
	struct nl_msg *msg = nfsec_msg(NFSEC_CMD_SA_DEL, 0);
	struct nlattr *nest = nla_nest_start(msg, NFSEC_A_SA | NLA_F_NESTED);

	put_addr(msg, NFSEC_SA_A_DST, NFSEC_SA_A_DST6, &m->dst);
	nla_put_u32(msg, NFSEC_SA_A_SPI, m->spi);
	nla_put_u8(msg, NFSEC_SA_A_PROTO, m->proto);
	nla_nest_end(msg, nest);
	return msg;
}

/* POLICY_ADD or _UPDATE with @m's content; POLICY_DEL with its identity. */
static struct nl_msg *pol_msg(uint8_t cmd, const struct mpol *m)
{
	struct nl_msg *msg = nfsec_msg(cmd, 0);
	struct nlattr *nest = nla_nest_start(msg, NFSEC_A_POLICY | NLA_F_NESTED);
	struct nlattr *a;
	int rem;

	if (cmd != NFSEC_CMD_POLICY_DEL) {
		nlmsg_append(msg, m->attrs.data, m->attrs.len, 0);
	} else {
		nla_for_each_attr(a, m->attrs.data, m->attrs.len, rem)
			if (nla_type(a) == NFSEC_POL_A_SEL || nla_type(a) == NFSEC_POL_A_DIR)
				nlmsg_append(msg, a, nla_total_size(nla_len(a)), 0);
	}
	nla_nest_end(msg, nest);
	return msg;
}

static void set_cmd(struct op *op, uint8_t cmd, const char *what)
{
	op->cmd = cmd;
	((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(op->msg)))->cmd = cmd;
	op->what = what;
}

static int check_sa_update(struct op *op, struct msa *old, const struct msa *new)
{
	if (!old)
		return parse_fail("%s: no such SA to update", op->what);
	if (new->window != old->window)
		return parse_fail("%s: replay-window cannot change on update (it is %u; delete and add the SA)",
				  op->what, old->window);
	if (!(new->flags & NFSEC_SA_F_ESN) &&
	    (old->seq > UINT32_MAX || old->oseq > UINT32_MAX))
		return parse_fail("%s: sequence numbers above 2^32 need flag esn", op->what);
	old->flags = new->flags;
	op->irreversible = true;
	return 0;
}

/* One line against the model, which it then advances. */
static int model_sa(struct op *op)
{
	struct msa new, *old;
	int i;

	parse_msa(nest_of(op->msg, NFSEC_A_SA), &new);
	op->id = new;
	old = op->cmd == NFSEC_CMD_SA_FLUSH ? NULL : find_sa(&new);
	switch (op->cmd) {
	case NFSEC_CMD_SA_ADD:
		if (old && opt_replace) {
			set_cmd(op, NFSEC_CMD_SA_UPDATE, "sa add (an update: the SA exists)");
			return check_sa_update(op, old, &new);
		}
		if (old)
			return parse_fail("%s: an SA with this dst, spi and proto exists", op->what);
		sas = grow(sas, n_sas, sizeof(*sas));
		sas[n_sas++] = new;
		add_undo(op, sa_del_msg(&new));
		return 0;
	case NFSEC_CMD_SA_UPDATE:
		return check_sa_update(op, old, &new);
	case NFSEC_CMD_SA_DEL:
		if (!old)
			return parse_fail("%s: no such SA", op->what);
		old->live = false;
		op->irreversible = true;
		return 0;
	}
	for (i = 0; i < n_sas; i++)	/* flush, of new.proto if given */
		if (!new.proto || sas[i].proto == new.proto)
			sas[i].live = false;
	op->irreversible = true;
	return 0;
}

static int model_pol(struct op *op)
{
	struct nlattr *nest = nest_of(op->msg, NFSEC_A_POLICY);
	struct mpol new, *old;
	int i;

	parse_mpol(nest, &new);
	old = find_pol(new.dir, &new.sel, new.index);
	switch (op->cmd) {
	case NFSEC_CMD_POLICY_ADD:
		if (old && opt_replace)
			set_cmd(op, NFSEC_CMD_POLICY_UPDATE, "policy add (an update: the policy exists)");
		else if (old) {
			free(new.attrs.data);
			return parse_fail("%s: a policy with this selector and dir exists", op->what);
		}
		/* fall through */
	case NFSEC_CMD_POLICY_UPDATE:
		if (old) {
			add_undo(op, pol_msg(NFSEC_CMD_POLICY_UPDATE, old));
			free(old->attrs.data);
			old->attrs = new.attrs;
			return 0;
		}
		add_undo(op, pol_msg(NFSEC_CMD_POLICY_DEL, &new));
		pols = grow(pols, n_pols, sizeof(*pols));
		pols[n_pols++] = new;
		return 0;
	case NFSEC_CMD_POLICY_DEL:
		free(new.attrs.data);
		if (!old)
			return parse_fail("%s: no such policy", op->what);
		add_undo(op, pol_msg(NFSEC_CMD_POLICY_ADD, old));
		old->live = false;
		return 0;
	}
	/* flush, of one dir if given: added again in lookup order */
	for (i = 0; i < n_pols; i++) {
		if (!pols[i].live || (nest && pols[i].dir != new.dir))
			continue;
		add_undo(op, pol_msg(NFSEC_CMD_POLICY_ADD, &pols[i]));
		pols[i].live = false;
	}
	free(new.attrs.data);
	return 0;
}

/* Whether @b touches an SA that @a (earlier) touched. */
static bool same_sa(const struct op *a, const struct op *b)
{
	const struct msa *x = &a->id, *y = &b->id;

	if (a->cmd > NFSEC_CMD_SA_FLUSH || b->cmd > NFSEC_CMD_SA_FLUSH)
		return false;
	if (a->cmd == NFSEC_CMD_SA_FLUSH || b->cmd == NFSEC_CMD_SA_FLUSH)
		return !x->proto || !y->proto || x->proto == y->proto;
	return addr_eq(&x->dst, &y->dst) && x->spi == y->spi && x->proto == y->proto;
}

/*
 * What cannot be undone goes last. Lines about other SAs or about
 * policies do not depend on it; a line about the same SA after it does,
 * and waits with it, so that each SA sees its lines in the file's order.
 */
static void defer(void)
{
	int i, j;

	for (i = 0; i < n_ops; i++) {
		ops[i].deferred = ops[i].irreversible;
		for (j = 0; j < i && !ops[i].deferred; j++)
			ops[i].deferred = ops[j].deferred && same_sa(&ops[j], &ops[i]);
	}
}

/* The module checks what would be added or updated; nothing changes. */
static int validate(struct op *op)
{
	struct nl_msg *msg;

	if (op->cmd == NFSEC_CMD_SA_DEL || op->cmd == NFSEC_CMD_SA_FLUSH ||
	    op->cmd == NFSEC_CMD_POLICY_DEL || op->cmd == NFSEC_CMD_POLICY_FLUSH)
		return 0;
	msg = msg_clone(op->msg, NLA_HDRLEN);
	nla_put_flag(msg, NFSEC_A_VALIDATE);
	return nfsec_talk(msg, op->what, NULL, NULL);
}

static int check(void)
{
	int i, err;

	for (i = 0; i < n_ops; i++) {
		batch_line = ops[i].line;
		err = ops[i].cmd <= NFSEC_CMD_SA_FLUSH ? model_sa(&ops[i]) : model_pol(&ops[i]);
		if (!err && !dry_run)
			err = validate(&ops[i]);
		if (err)
			return err;
	}
	defer();
	return 0;
}

/* The lines in the order they are applied: what can be undone first. */
static int *apply_order(void)
{
	int *order = malloc((n_ops ? n_ops : 1) * sizeof(*order));
	int i, n = 0, pass;

	if (!order)
		die("out of memory");
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n_ops; i++)
			if (ops[i].deferred == pass)
				order[n++] = i;
	return order;
}

/* Undo the first @n lines of @order, newest first; say what stays. */
static void undo(const char *file, const int *order, int n)
{
	int i, k, undone = 0, failed = 0, kept = 0;

	while (n--) {
		struct op *op = &ops[order[n]];

		batch_line = op->line;
		if (op->irreversible) {
			parse_fail("%s: applied, and cannot be undone (keys never come back from the kernel)",
				   op->what);
			kept++;
			continue;
		}
		for (k = 0; k < op->n_undo; k++)
			failed += !!nfsec_talk(msg_clone(op->undo[k], 0), "undo", NULL, NULL);
		undone++;
	}
	batch_line = 0;
	i = undone != 1;
	if (!kept && !failed)
		fprintf(stderr, "nfsec: %s: nothing changed (%d applied line%s undone)\n",
			file, undone, i ? "s" : "");
	else
		fprintf(stderr, "nfsec: %s: NOT rolled back entirely: %d line%s undone, %d kept, %d undo request%s failed\n",
			file, undone, i ? "s" : "", kept, failed, failed == 1 ? "" : "s");
}

static int apply(const char *file)
{
	int *order = apply_order();
	int i, err = 0;

	for (i = 0; i < n_ops && !err; i++) {
		batch_line = ops[order[i]].line;
		err = nfsec_talk(msg_clone(ops[order[i]].msg, 0), ops[order[i]].what,
				 NULL, NULL);
	}
	if (err)
		undo(file, order, i - 1);
	free(order);
	return err;
}

static void release(void)
{
	int i, k;

	for (i = 0; i < n_ops; i++) {
		nfsec_msg_free(ops[i].msg);
		for (k = 0; k < ops[i].n_undo; k++)
			if (ops[i].undo[k])
				nfsec_msg_free(ops[i].undo[k]);
		free(ops[i].undo);
	}
	for (i = 0; i < n_pols; i++)
		free(pols[i].attrs.data);
	free(ops);
	free(sas);
	free(pols);
	ops = NULL, sas = NULL, pols = NULL;
	n_ops = n_sas = n_pols = 0;
}

/* Dry run: the requests in the order they would be sent. */
static void print_plan(void)
{
	int *order = apply_order();
	int i;

	for (i = 0; i < n_ops; i++) {
		printf("# line %d\n", ops[order[i]].line);
		dump_request(ops[order[i]].msg);
	}
	free(order);
}

int atomic_run(const char *file)
{
	int err;

	collecting = false;
	err = dry_run ? 0 : snapshot();
	if (!err)
		err = check();
	if (!err && dry_run)
		print_plan();
	else if (!err)
		err = apply(file);
	batch_line = 0;
	release();
	return err;
}
