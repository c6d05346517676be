/*
 * Copyright (C) 2025 nfsec
 *
 * SPDX-License-Identifier: GPL-2.0
 */

/**
 * @defgroup kernel_nfsec kernel_nfsec
 * @ingroup cplugins
 *
 * @defgroup kernel_nfsec_plugin kernel_nfsec_plugin
 * @{ @ingroup kernel_nfsec
 */

#ifndef KERNEL_NFSEC_PLUGIN_H_
#define KERNEL_NFSEC_PLUGIN_H_

#include <library.h>
#include <plugins/plugin.h>

typedef struct kernel_nfsec_plugin_t kernel_nfsec_plugin_t;

/**
 * charon's kernel IPsec backend on nfsec (IPsec on netfilter hooks,
 * configured over the generic netlink family "nfsec").
 */
struct kernel_nfsec_plugin_t {

	/**
	 * implements plugin interface
	 */
	plugin_t plugin;
};

#endif /** KERNEL_NFSEC_PLUGIN_H_ @}*/
