#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "strtab.h"

Test(strtab, empty_string_is_id_zero)
{
	struct strtab t;
	strtab_init(&t);
	cr_assert_eq(strtab_find(&t, "", 0), 0);
	cr_assert_str_eq(strtab_get(&t, 0), "");
	cr_assert_null(strtab_get(&t, 1));
	strtab_free(&t);
}

Test(strtab, ids_are_dense_and_stable_across_growth)
{
	struct strtab t;
	strtab_init(&t);
	char buf[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(buf, sizeof(buf), "comm-%d", i);
		cr_assert_eq(strtab_intern(&t, buf, (size_t)n), (uint32_t)i + 1);
	}
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(buf, sizeof(buf), "comm-%d", i);
		cr_assert_eq(strtab_intern(&t, buf, (size_t)n), (uint32_t)i + 1);
		cr_assert_str_eq(strtab_get(&t, (uint32_t)i + 1), buf);
	}
	cr_assert_eq(t.count, 5001);
	strtab_free(&t);
}

Test(strtab, embedded_lengths_are_respected)
{
	struct strtab t;
	strtab_init(&t);
	uint32_t a = strtab_intern(&t, "kmalloc-64xx", 10);
	uint32_t b = strtab_intern(&t, "kmalloc-64", 10);
	cr_assert_eq(a, b);
	cr_assert_eq(strtab_intern(&t, "x", STRTAB_MAX_LEN + 1), UINT32_MAX);
	strtab_free(&t);
}
