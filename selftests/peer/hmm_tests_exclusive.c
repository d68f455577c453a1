// SPDX-License-Identifier: GPL-2.0
/*
 * The peer baseline: the kernel's own hmm-tests, built unmodified from the
 * test kernel's source, restricted to the tests whose name starts with
 * HMM_TESTS_PREFIX (default "exclusive"). The 6.1 harness has no test
 * filter, so this wrapper prunes its registration lists before running it.
 */
/* The Makefile names it: selftests/vm/ up to 6.2, selftests/mm/ from 6.3. */
#define main hmm_tests_main
#include HMM_TESTS_C
#undef main

static void keep_tests_with_prefix(const char *prefix)
{
	struct __fixture_metadata *f;

	for (f = __fixture_list; f; f = f->next) {
		struct __test_metadata *t, *next, *head = NULL;

		for (t = f->tests; t; t = next) {
			next = t->next;
			if (strncmp(t->name, prefix, strlen(prefix)))
				continue;
			/* The harness's list: next is linear, head->prev is the tail. */
			t->next = NULL;
			if (!head) {
				head = t;
				t->prev = t;
			} else {
				t->prev = head->prev;
				head->prev->next = t;
				head->prev = t;
			}
		}
		f->tests = head;
	}
}

int main(int argc, char **argv)
{
	const char *prefix = getenv("HMM_TESTS_PREFIX");

	keep_tests_with_prefix(prefix ? prefix : "exclusive");
	return hmm_tests_main(argc, argv);
}
