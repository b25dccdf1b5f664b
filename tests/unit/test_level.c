/* Link levels: names and parsing both ways, any case. */
#include "fixture.h"

#include <errno.h>

#include "level.h"

static void test_names_round_trip(void **state)
{
	static const char *const names[] = { "auto", "PIX", "PXB", "PHB", "NODE", "SYS" };

	for (enum link_level l = LINK_AUTO; l <= LINK_SYS; l++) {
		enum link_level back = LINK_SYS + 1;

		assert_string_equal(link_level_name(l), names[l]);
		assert_int_equal(link_level_parse(names[l], &back), 0);
		assert_int_equal(back, l);
	}
}

static void test_parse_any_case_and_rejects(void **state)
{
	enum link_level l = LINK_AUTO;

	assert_int_equal(link_level_parse("phb", &l), 0);
	assert_int_equal(l, LINK_PHB);
	assert_int_equal(link_level_parse("Node", &l), 0);
	assert_int_equal(l, LINK_NODE);
	l = LINK_PIX;
	assert_int_equal(link_level_parse("NV12", &l), -EINVAL);
	assert_int_equal(link_level_parse("", &l), -EINVAL);
	assert_int_equal(link_level_parse("PHB ", &l), -EINVAL);
	assert_int_equal(l, LINK_PIX); /* untouched on failure */
}

static void test_unknown_value_named(void **state)
{
	assert_string_equal(link_level_name((enum link_level)(LINK_SYS + 1)), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_parse_any_case_and_rejects),
		cmocka_unit_test(test_unknown_value_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
