// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: anti-replay (RFC 4303 3.4.3) with an RFC 6479 window: a ring of
 * 64-bit blocks, one more than the window needs, so that sliding the
 * window clears whole blocks instead of shifting bits. With ESN the high
 * 32 bits are inferred as in RFC 4303 Appendix A.
 */
#include <linux/slab.h>
#include <linux/log2.h>
#include "nfsec.h"

#define BLOCK_BITS 64

int nfsec_replay_init(struct nfsec_replay *r, u32 size, u64 seq)
{
	r->top = seq;
	r->size = size;
	r->nblocks = 0;
	r->bmp = NULL;
	if (!size)
		return 0;
	r->nblocks = roundup_pow_of_two(DIV_ROUND_UP(size, BLOCK_BITS) + 1);
	r->bmp = kcalloc(r->nblocks, sizeof(u64), GFP_KERNEL_ACCOUNT);
	return r->bmp ? 0 : -ENOMEM;
}

void nfsec_replay_free(struct nfsec_replay *r)
{
	kfree(r->bmp);
	r->bmp = NULL;
}

/*
 * RFC 4303 Appendix A: the window is [top - size + 1, top]; a low half at
 * or above the window's bottom is in the same 2^32 epoch as the bottom,
 * below it the next one.
 */
u64 nfsec_replay_infer(const struct nfsec_replay *r, u32 seq_lo, bool esn)
{
	u32 tl = lower_32_bits(r->top), th = upper_32_bits(r->top);
	u32 w = r->size ? r->size : 1;
	u32 bottom = tl - w + 1;

	if (!esn)
		return seq_lo;
	if (tl >= w - 1) {
		/* Window inside one epoch. */
		if (seq_lo >= bottom)
			return (u64)th << 32 | seq_lo;
		return (u64)(th + 1) << 32 | seq_lo;
	}
	/* Window spans two epochs: bottom is in th - 1. */
	if (seq_lo >= bottom)
		return th ? (u64)(th - 1) << 32 | seq_lo : seq_lo;
	return (u64)th << 32 | seq_lo;
}

static u64 *block(const struct nfsec_replay *r, u64 seq)
{
	return &r->bmp[(seq / BLOCK_BITS) & (r->nblocks - 1)];
}

int nfsec_replay_check(const struct nfsec_replay *r, u64 seq)
{
	if (!r->size)
		return 0;
	/* Sequence number 0 is never sent (RFC 4303 3.3.3). */
	if (!seq)
		return NFSEC_STAT_RX_REPLAY_OLD;
	if (seq > r->top)
		return 0;
	if (seq + r->size <= r->top)
		return NFSEC_STAT_RX_REPLAY_OLD;
	if (*block(r, seq) & BIT_ULL(seq % BLOCK_BITS))
		return NFSEC_STAT_RX_REPLAY_DUP;
	return 0;
}

int nfsec_replay_advance(struct nfsec_replay *r, u64 seq)
{
	u64 b, from, to;
	int ret;

	ret = nfsec_replay_check(r, seq);
	if (ret)
		return ret;
	if (!r->size) {
		if (seq > r->top)
			r->top = seq;
		return 0;
	}
	if (seq > r->top) {
		/* Clear the blocks the window slides onto, if it leaves its block. */
		from = r->top / BLOCK_BITS + 1;
		to = seq / BLOCK_BITS;
		if (to >= from) {
			if (to - from >= r->nblocks)
				from = to - r->nblocks + 1;
			for (b = from; b <= to; b++)
				r->bmp[b & (r->nblocks - 1)] = 0;
		}
		r->top = seq;
	}
	*block(r, seq) |= BIT_ULL(seq % BLOCK_BITS);
	return 0;
}

#ifdef DEBUG
struct replay_step {
	u32 lo;
	u64 want_seq;
	int want;
};

static bool run_case(u32 size, u64 start, bool esn,
		     const struct replay_step *s, int n, int c)
{
	struct nfsec_replay r;
	bool ok = true;
	int i;

	if (nfsec_replay_init(&r, size, start))
		return false;
	for (i = 0; i < n; i++) {
		u64 seq = nfsec_replay_infer(&r, s[i].lo, esn);
		int got = seq == s[i].want_seq ? nfsec_replay_advance(&r, seq) : -1;

		if (got != s[i].want) {
			pr_err("replay self-test %d.%d: seq %llx got %d want %d: fail\n",
			       c, i + 1, seq, got, s[i].want);
			ok = false;
		}
	}
	nfsec_replay_free(&r);
	return ok;
}

#define OLD NFSEC_STAT_RX_REPLAY_OLD
#define DUP NFSEC_STAT_RX_REPLAY_DUP
#define RUN(size, start, esn, steps) \
	(ok &= run_case(size, start, esn, steps, ARRAY_SIZE(steps), ++c))

bool __init nfsec_replay_selftest(void)
{
	static const struct replay_step inorder[] = {
		{ 1, 1, 0 }, { 2, 2, 0 }, { 2, 2, DUP }, { 1, 1, DUP },
		{ 0, 0, OLD }, { 40, 40, 0 }, { 9, 9, 0 }, { 8, 8, OLD },
		{ 9, 9, DUP }, { 41, 41, 0 },
	};
	static const struct replay_step big[] = {
		{ 5000, 5000, 0 }, { 905, 905, 0 }, { 904, 904, OLD },
		{ 905, 905, DUP }, { 9000, 9000, 0 }, { 5000, 5000, DUP },
		{ 4905, 4905, 0 }, { 4904, 4904, OLD }, { 8000, 8000, 0 },
		{ 8000, 8000, DUP },
	};
	/* Far from 0, where a slide within one block once cleared it all. */
	static const struct replay_step high[] = {
		{ 0x7ffffff1, 0x7ffffff1, 0 }, { 0x7ffffff2, 0x7ffffff2, 0 },
		{ 0x7ffffff1, 0x7ffffff1, DUP }, { 0x80000005, 0x80000005, 0 },
		{ 0x7ffffff2, 0x7ffffff2, DUP }, { 0x7ffffff3, 0x7ffffff3, 0 },
		{ 0x7fffffe5, 0x7fffffe5, OLD },
	};
	static const struct replay_step off[] = {
		{ 5, 5, 0 }, { 5, 5, 0 }, { 1, 1, 0 },
	};
	/* ESN: start just below 2^32 and cross it both in and out of order. */
	static const struct replay_step esn[] = {
		{ 0xfffffff1, 0xfffffff1ULL, 0 }, { 0xfffffffe, 0xfffffffeULL, 0 },
		{ 0x00000002, 0x100000002ULL, 0 }, { 0xffffffff, 0xffffffffULL, 0 },
		{ 0xffffffff, 0xffffffffULL, DUP }, { 0x00000001, 0x100000001ULL, 0 },
		{ 0x00000001, 0x100000001ULL, DUP }, { 0xfffffff1, 0xfffffff1ULL, DUP },
		{ 0x00000002, 0x100000002ULL, DUP }, { 0x00000100, 0x100000100ULL, 0 },
		{ 0xfffffff0, 0x1fffffff0ULL, 0 },
	};
	bool ok = true;
	int c = 0;

	RUN(32, 0, false, inorder);
	RUN(4096, 0, false, big);
	RUN(32, 0x7ffffff0, false, high);
	RUN(0, 0, false, off);
	RUN(64, 0, true, esn);
	if (ok)
		pr_info("replay self-tests: pass\n");
	return ok;
}
#endif
