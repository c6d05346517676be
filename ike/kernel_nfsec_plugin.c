/*
 * Copyright (C) 2025 nfsec
 *
 * SPDX-License-Identifier: GPL-2.0
 *
 * The kernel-nfsec plugin: charon's kernel IPsec backend on nfsec. It
 * provides "kernel-ipsec" only; kernel-netlink stays loaded for
 * "kernel-net" (addresses, routes, roaming) and must load after this
 * plugin, or its xfrm backend registers first.
 */

#include "kernel_nfsec_plugin.h"
#include "kernel_nfsec_ipsec.h"

#include <daemon.h>

typedef struct private_kernel_nfsec_plugin_t private_kernel_nfsec_plugin_t;

/**
 * private data of kernel nfsec plugin
 */
struct private_kernel_nfsec_plugin_t {

	/**
	 * implements plugin interface
	 */
	kernel_nfsec_plugin_t public;
};

METHOD(plugin_t, get_name, char*,
	private_kernel_nfsec_plugin_t *this)
{
	return "kernel-nfsec";
}

METHOD(plugin_t, get_features, int,
	private_kernel_nfsec_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK(kernel_ipsec_register, kernel_nfsec_ipsec_create),
			PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_kernel_nfsec_plugin_t *this)
{
	free(this);
}

/*
 * See header
 */
plugin_t *kernel_nfsec_plugin_create()
{
	private_kernel_nfsec_plugin_t *this;
	const char *reason;

	if (!lib->caps->keep(lib->caps, CAP_NET_ADMIN))
	{
		DBG1(DBG_KNL, "kernel-nfsec plugin requires CAP_NET_ADMIN capability");
		return NULL;
	}
	/* Refuse here, loudly, rather than let kernel-netlink's xfrm backend
	 * take the SAs: with "kernel-nfsec!" in charon.load, charon does not
	 * start at all. */
	if (!kernel_nfsec_available(&reason))
	{
		DBG1(DBG_KNL, "kernel-nfsec: %s; refusing to load: IPsec SAs would "
			 "go to another backend (xfrm) unless charon.load lists "
			 "'kernel-nfsec!'", reason);
		return NULL;
	}

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.destroy = _destroy,
			},
		},
	);

	return &this->public.plugin;
}
