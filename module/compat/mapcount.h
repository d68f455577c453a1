/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading mapcounts as the running kernel keeps them.
 *
 * 6.1 counts a THP mapped by both a PMD and PTEs as "double mapped" and
 * exports neither folio_mapcount() nor a page_mapcount() that handles
 * hugetlb the way its own callers do. 6.2 removed double mapping, and by
 * 6.12 folio_mapcount() is an inline over the folio's _large_mapcount and
 * page_mapcount() is gone: a page's mapcount is its _mapcount plus the
 * folio's entire (PMD) mapcount.
 */
#ifndef _DEVEXCL_COMPAT_MAPCOUNT_H
#define _DEVEXCL_COMPAT_MAPCOUNT_H

#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
/* 6.1's folio_mapcount() (mm/util.c), which is not exported. */
static inline int devexcl_folio_mapcount(struct folio *folio)
{
	int i, compound, nr, ret;

	if (!folio_test_large(folio))
		return atomic_read(&folio->_mapcount) + 1;
	compound = folio_entire_mapcount(folio);
	if (folio_test_hugetlb(folio))
		return compound;
	ret = compound;
	nr = folio_nr_pages(folio);
	for (i = 0; i < nr; i++)
		ret += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	if (!folio_test_anon(folio))
		return ret - compound * nr;
	if (folio_test_double_map(folio))
		ret -= nr;
	return ret;
}

static inline int devexcl_page_mapcount(struct folio *folio,
					struct page *page)
{
	return page_mapcount(page);
}
#else
static inline int devexcl_folio_mapcount(struct folio *folio)
{
	return folio_mapcount(folio);
}

static inline int devexcl_page_mapcount(struct folio *folio,
					struct page *page)
{
	int mapcount = atomic_read(&page->_mapcount) + 1;

	/* A page type (e.g. a slab or a table) overlays _mapcount. */
	if (mapcount < 0)
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
}
#endif

#endif /* _DEVEXCL_COMPAT_MAPCOUNT_H */
