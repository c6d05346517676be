/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec: the keying tool's shared declarations.
 */
#ifndef NFSEC_TOOL_H
#define NFSEC_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include "../module/uapi/nfsec.h"

#define TOOL_VERSION "0.1.0"

#define __unused __attribute__((unused))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Global options. */
extern int opt_family;		/* -4, -6: AF_INET, AF_INET6; else 0 */
extern bool opt_stats;
extern bool opt_json;
/* NFSEC_DRY_RUN=1: print the request's attributes instead of sending it. */
extern bool dry_run;
/* The line of a -batch file being run, 0 outside a batch; the file's name. */
extern int batch_line;
extern const char *batch_name;
/* -atomic, -replace (atomic.c); while a batch is read, requests are collected. */
extern bool opt_atomic;
extern bool opt_replace;
extern bool collecting;
/* The last dump that nfsec_talk() read spanned a change. */
extern bool dump_interrupted;

/* netlink.c: one socket for the whole run (a batch reuses it). */
struct nl_msg *nfsec_msg(uint8_t cmd, int flags);
void nfsec_msg_free(struct nl_msg *msg);
/*
 * Send @msg (freed), call @cb on each reply, wait for the ACK or the end
 * of a dump. Prints the kernel's message on error; returns 0 or -errno.
 */
int nfsec_talk(struct nl_msg *msg, const char *what,
	       int (*cb)(struct nlattr **tb, void *arg), void *arg);
/*
 * 0 if the module's family is there, else prints why (unless @quiet and
 * the family is just absent) and returns < 0.
 */
int nfsec_nl_open(bool quiet);
void nfsec_nl_close(void);
/*
 * Join the "events" group and call @cb for each event until an error;
 * returns it (-errno), having printed why.
 */
int nfsec_nl_listen(void (*cb)(uint8_t cmd, struct nlattr **tb, void *arg),
		    void *arg);

/*
 * atomic.c: while collecting, nfsec_talk() hands each request here instead
 * of sending it; atomic_run() then checks them all and applies them.
 */
int atomic_collect(struct nl_msg *msg, const char *what);
int atomic_run(const char *file);

/* parse.c: errors are "nfsec: message", or "FILE:LINE: message" in a batch. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int parse_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An address of either family; family 0: none given. */
struct addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};
int get_addr(const char *s, struct addr *a);
int get_prefix(const char *s, struct addr *a, uint8_t *plen);
/* The family of addresses that must agree, or 0; fails if they do not. */
int same_family(const char *what, const struct addr *a, const struct addr *b);
void put_addr(struct nl_msg *msg, int t4, int t6, const struct addr *a);
/* Source and destination of one family into @nest, then its end. */
int put_endpoints(struct nl_msg *msg, struct nlattr *nest, const char *what,
		  const struct addr *src, int s4, int s6,
		  const struct addr *dst, int d4, int d6);
struct addr addr_get(struct nlattr **tb, int t4, int t6);
bool addr_eq(const struct addr *a, const struct addr *b);
int get_u32(const char *s, uint32_t *v);
int get_u64(const char *s, uint64_t *v);
int get_proto(const char *s, uint8_t *proto);
int get_xfrm_proto(const char *s, uint8_t *proto);
int get_mode(const char *s, uint8_t *mode);
int get_dir(const char *s, uint8_t *dir);
int get_port(const char *s, uint16_t *port);
int get_key(const char *s, uint8_t *key, int *len);
/* SELECTOR := [src ADDR[/PLEN]] [dst ADDR[/PLEN]] [proto P [sport N] [dport N]] */
struct sel {
	struct addr src, dst;
	uint8_t splen, dplen, proto;
	uint16_t sport, dport;
};
int parse_sel_word(int *i, int argc, char **argv, struct sel *sel);
/*
 * A policy's selector always names its family: that of its addresses,
 * else -4/-6's, else IPv4 (as ip xfrm). An SA's leaves it to the SA.
 */
int put_sel(struct nl_msg *msg, int type, const struct sel *sel, bool policy);

/* print.c: human and JSON output of the same objects. */
const char *addr_str(const struct addr *a);
const char *proto_name(uint8_t proto);
void json_str(const char *s);
int sel_family(struct nlattr *nest);
/* @family: that of the SA or policy, for a selector of both families. */
void print_sel(struct nlattr *nest, int family, bool json);
void print_stats(struct nlattr *nest, bool json, const char *indent);
uint64_t u64_or(struct nlattr **tb, int type);
void print_lifetime(struct nlattr *lft, struct nlattr *cur);
void print_last_use(const char *word, uint64_t mono);
void json_begin_list(void);
void json_end_list(void);
void json_sep(void);
void json_reset(void);
void dump_request(struct nl_msg *msg);

/* Commands. */
int do_sa(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_version(int argc, char **argv);
int do_monitor(int argc, char **argv);
/* A dump's callbacks, for `sa show` and `policy show`; @arg: a filter or NULL. */
int print_sa(struct nlattr **top, void *arg);
int print_policy(struct nlattr **top, void *arg);
int get_counts(unsigned int *sas, unsigned int *pols);
void usage_sa(FILE *f);
void usage_policy(FILE *f);

#endif
