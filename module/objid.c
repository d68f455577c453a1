// SPDX-License-Identifier: GPL-2.0
#include <linux/random.h>
#include <linux/siphash.h>

#include "objid.h"

static siphash_key_t devexcl_objid_key __read_mostly;

void devexcl_objid_init(void)
{
	get_random_bytes(&devexcl_objid_key, sizeof(devexcl_objid_key));
}

/**
 * devexcl_objid() - the id user space sees for a kernel object
 * @ptr: the object; NULL has id 0
 * @kind: its kind, hashed with it
 *
 * Return: a non-zero id, stable while the module stays loaded, or 0 for NULL.
 */
u64 devexcl_objid(const void *ptr, enum devexcl_objid_kind kind)
{
	u64 id;

	if (!ptr)
		return 0;
	id = siphash_2u64((u64)(unsigned long)ptr, kind, &devexcl_objid_key);
	return id ?: 1;
}
