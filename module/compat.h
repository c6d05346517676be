/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfsec: what depends on the kernel's internals or version.
 */
#ifndef _NFSEC_COMPAT_H
#define _NFSEC_COMPAT_H

#include <net/ip.h>

/*
 * A packet nfsec decapsulated and delivered: the in and fwd hooks let it
 * through. IPCB(skb)->flags is a u16 whose low bits the kernel uses (up
 * to IPSKB_MULTIPATH, bit 9 in 6.1); the top bit is free. IPCB survives
 * from our dst_input() to the hooks, as nothing clears it on that path.
 */
#define NFSEC_IPSKB_DECAP	BIT(15)
static_assert(NFSEC_IPSKB_DECAP > IPSKB_MULTIPATH);

#endif /* _NFSEC_COMPAT_H */
