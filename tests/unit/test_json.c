#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"

Test(json, nested_output_is_stable_and_escaped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;
	json_init(&j, f);
	json_begin_object(&j);
	json_key(&j, "name");
	json_string(&j, "a\"b\\c\n\x01");
	json_key(&j, "list");
	json_begin_array(&j);
	json_u64(&j, 1);
	json_i64(&j, -2);
	json_double(&j, 0.126, 3);
	json_end_array(&j);
	json_key(&j, "empty");
	json_begin_object(&j);
	json_end_object(&j);
	json_end_object(&j);
	json_finish(&j);
	fclose(f);
	cr_assert_str_eq(buf, "{\n  \"name\": \"a\\\"b\\\\c\\n\\u0001\",\n  \"list\": [\n    1,\n"
			      "    -2,\n    0.126\n  ],\n  \"empty\": {}\n}\n");
	free(buf);
}
