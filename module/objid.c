// SPDX-License-Identifier: GPL-2.0
#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/random.h>
#include <linux/siphash.h>

#include "objid.h"

static siphash_key_t devexcl_objid_key __read_mostly;
static atomic64_t devexcl_objid_generation = ATOMIC64_INIT(0);

/*
 * Ids have the top bit clear, so none can be mistaken for a kernel address
 * (0xffff8...), and are never 0, which means "none".
 */
static u64 devexcl_objid_visible(u64 hash)
{
	hash &= ~BIT_ULL(63);
	return hash ?: 1;
}

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
	return devexcl_objid_visible(id);
}

/**
 * devexcl_objid_unique() - an id that also differs from earlier objects
 *	that lived at the same address
 * @ptr: the object
 * @kind: its kind, hashed with it
 *
 * For objects user space matches over time (contexts in events), where a
 * freed and reallocated address must not look like the same object.
 *
 * Return: a non-zero id.
 */
u64 devexcl_objid_unique(const void *ptr, enum devexcl_objid_kind kind)
{
	u64 generation = atomic64_inc_return(&devexcl_objid_generation);
	u64 id = siphash_3u64((u64)(unsigned long)ptr, kind, generation,
			      &devexcl_objid_key);

	return devexcl_objid_visible(id);
}
