/*
 * Copyright (C) 2025 nfsec
 *
 * SPDX-License-Identifier: GPL-2.0
 */

/**
 * @defgroup kernel_nfsec_ipsec_i kernel_nfsec_ipsec
 * @{ @ingroup kernel_nfsec
 */

#ifndef KERNEL_NFSEC_IPSEC_H_
#define KERNEL_NFSEC_IPSEC_H_

#include <kernel/kernel_ipsec.h>

typedef struct kernel_nfsec_ipsec_t kernel_nfsec_ipsec_t;

/**
 * Implementation of the kernel IPsec interface on nfsec's generic netlink
 * family.
 */
struct kernel_nfsec_ipsec_t {

	/**
	 * Implements kernel_ipsec_t interface
	 */
	kernel_ipsec_t interface;
};

/**
 * Whether nfsec's generic netlink family exists in this network namespace.
 *
 * @param reason		set to a static string saying why not
 * @return				TRUE if the family resolves
 */
bool kernel_nfsec_available(const char **reason);

/**
 * Create an nfsec kernel IPsec interface instance.
 *
 * @return			kernel_nfsec_ipsec_t instance, NULL if nfsec is missing
 */
kernel_nfsec_ipsec_t *kernel_nfsec_ipsec_create();

#endif /** KERNEL_NFSEC_IPSEC_H_ @}*/
