// SPDX-License-Identifier: GPL-2.0
/*
 * nfsec: SA lifetimes (RFC 4301 4.4.2.1), as xfrm keeps them.
 *
 * Byte and packet use is counted on the packet path, under sa->lock; the
 * time limits (since the SA was added, and since its first use) are
 * watched by a timer per SA. The rule is xfrm's, so that the same limits
 * behave the same: a packet that finds its SA at or past a soft limit
 * has the keying daemon told, once, with an SA_EXPIRE event (hard 0), so
 * that it rekeys in time; a packet that finds it at or past a hard limit
 * is dropped (tx_expired, rx_expired) and the SA is deleted, with an
 * SA_EXPIRE event (hard 1). A quarter of the sequence numbers left is a
 * soft limit too (nfsec_lft_seq()). Time limits act when the timer finds them
 * reached, without waiting for a packet. Events and deletion need process
 * context: a work item per SA does them.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include "genl.h"
#include "nfsec.h"

enum {
	EXP_SOFT,		/* a soft limit was reached */
	EXP_HARD,		/* a hard limit was reached */
	EXP_SOFT_SENT,		/* and the daemon was told */
};

/* Longest sleep of the timer: a far deadline is reached in steps. */
#define MAX_WAIT (24 * 3600)

/*
 * @limit seconds have passed since @since. Never for an unset time (a
 * use time before the first use), nor for a limit of 0 or "infinite",
 * which xfrm takes as no limit too.
 */
static bool passed(time64_t since, u64 limit, time64_t now)
{
	return since && limit && limit != U64_MAX && now >= since &&
	       (u64)(now - since) >= limit;
}

static bool time_hard(const struct nfsec_sa *sa, time64_t now)
{
	return passed(sa->add_time, sa->lft.hard_add_seconds, now) ||
	       passed(sa->use_time, sa->lft.hard_use_seconds, now);
}

static bool time_soft(const struct nfsec_sa *sa, time64_t now)
{
	return passed(sa->add_time, sa->lft.soft_add_seconds, now) ||
	       passed(sa->use_time, sa->lft.soft_use_seconds, now);
}

/* Take note of an expiry and have the work item act on it. */
static void expire(struct nfsec_sa *sa, int bit)
{
	/*
	 * Past a soft limit, every packet comes here: a plain read keeps the
	 * atomic write off the packet path once the bit is set.
	 */
	if (test_bit(bit, &sa->expire) || test_and_set_bit(bit, &sa->expire))
		return;
	/* The work holds the SA; one run serves both bits. */
	if (nfsec_sa_hold(sa) && !queue_work(nfsec_wq, &sa->expire_work))
		nfsec_sa_put(sa);
}

/* Under sa->lock, before a packet is processed: false if it must be dropped. */
bool nfsec_lft_check(struct nfsec_sa *sa)
{
	const struct nfsec_lifetime *l = &sa->lft;

	if (sa->cur_bytes >= l->hard_bytes || sa->cur_packets >= l->hard_packets ||
	    time_hard(sa, ktime_get_real_seconds())) {
		expire(sa, EXP_HARD);
		return false;
	}
	if (sa->cur_bytes >= l->soft_bytes || sa->cur_packets >= l->soft_packets)
		expire(sa, EXP_SOFT);
	return true;
}

/*
 * Sequence numbers run out whatever the limits say, and the SA then stops
 * (tx_seq_overflow): warn the daemon with a soft expiry when a quarter of
 * them is left, 2^32 - 2^30 without ESN, so that it rekeys in time. With
 * ESN the same fraction of 2^64 is never reached in practice.
 */
#define SEQ_SOFT	(U32_MAX - (U32_MAX >> 2))
#define SEQ_SOFT_ESN	(U64_MAX - (U64_MAX >> 2))

/* Under sa->lock, for the sequence number a packet took. */
void nfsec_lft_seq(struct nfsec_sa *sa, u64 seq, bool esn)
{
	if (seq >= (esn ? SEQ_SOFT_ESN : SEQ_SOFT))
		expire(sa, EXP_SOFT);
}

/* Seconds from @now until passed() becomes true, U64_MAX for never. */
static u64 until(time64_t since, u64 limit, time64_t now)
{
	if (!since || !limit || limit == U64_MAX)
		return U64_MAX;
	if (now < since)	/* the clock went back */
		return limit;
	return passed(since, limit, now) ? 0 : limit - (u64)(now - since);
}

/* Under sa->lock: set the timer for the next time limit not yet reached. */
static void arm(struct nfsec_sa *sa, time64_t now)
{
	const struct nfsec_lifetime *l = &sa->lft;
	u64 wait;

	if (sa->dead || test_bit(EXP_HARD, &sa->expire))
		return;
	wait = min(until(sa->add_time, l->hard_add_seconds, now),
		   until(sa->use_time, l->hard_use_seconds, now));
	if (!test_bit(EXP_SOFT, &sa->expire))
		wait = min3(wait, until(sa->add_time, l->soft_add_seconds, now),
			    until(sa->use_time, l->soft_use_seconds, now));
	if (wait == U64_MAX)
		return;
	mod_timer(&sa->timer, jiffies + min_t(u64, wait, MAX_WAIT) * HZ);
}

/*
 * Under sa->lock, for a packet sent or received. The last use is
 * CLOCK_MONOTONIC seconds (what keying daemons compare with to skip
 * dead peer detection while traffic flows); its cache line is this
 * lock's, already written.
 */
void nfsec_lft_count(struct nfsec_sa *sa, unsigned int len)
{
	time64_t mono = ktime_get_seconds() ?: 1;

	if (sa->last_use != mono)
		sa->last_use = mono;
	sa->cur_bytes += len;
	sa->cur_packets++;
	if (!sa->use_time) {
		sa->use_time = ktime_get_real_seconds();
		/* The limits since first use start now. */
		arm(sa, sa->use_time);
	}
}

static void lft_timer(struct timer_list *t)
{
	struct nfsec_sa *sa = from_timer(sa, t, timer);
	time64_t now = ktime_get_real_seconds();

	spin_lock_bh(&sa->lock);
	if (time_hard(sa, now))
		expire(sa, EXP_HARD);
	else if (time_soft(sa, now))
		expire(sa, EXP_SOFT);
	arm(sa, now);
	spin_unlock_bh(&sa->lock);
}

static void expire_work(struct work_struct *work)
{
	struct nfsec_sa *sa = container_of(work, struct nfsec_sa, expire_work);
	struct nfsec_net *nn = sa->nn;

	mutex_lock(&nn->lock);
	/* Deleted or replaced meanwhile: there is nothing to expire. */
	if (!READ_ONCE(sa->dead)) {
		if (test_bit(EXP_SOFT, &sa->expire) &&
		    !test_and_set_bit(EXP_SOFT_SENT, &sa->expire))
			nfsec_nl_sa_expired(nn, sa, false);
		if (test_bit(EXP_HARD, &sa->expire)) {
			nfsec_nl_sa_expired(nn, sa, true);
			nfsec_sa_unlink(nn, sa);
		}
	}
	mutex_unlock(&nn->lock);
	nfsec_sa_put(sa);
}

void nfsec_lft_init(struct nfsec_sa *sa)
{
	timer_setup(&sa->timer, lft_timer, 0);
	INIT_WORK(&sa->expire_work, expire_work);
}

/* Under nn->lock, once the SA is in the database. */
void nfsec_lft_start(struct nfsec_sa *sa)
{
	spin_lock_bh(&sa->lock);
	arm(sa, ktime_get_real_seconds());
	spin_unlock_bh(&sa->lock);
}

/*
 * Before @new takes @old's place with the same limits (a move): the daemon
 * told of a soft expiry is not told again. The other bits are left for
 * @new to find again, as their work item finds @old dead.
 */
void nfsec_lft_moved(struct nfsec_sa *new, struct nfsec_sa *old)
{
	if (test_bit(EXP_SOFT_SENT, &old->expire))
		set_bit(EXP_SOFT_SENT, &new->expire);
}

/*
 * Once sa->dead is set under sa->lock, nothing arms the timer again: stop
 * it. A queued work item holds its own reference and finds the SA dead.
 */
void nfsec_lft_stop(struct nfsec_sa *sa)
{
	del_timer_sync(&sa->timer);
}
