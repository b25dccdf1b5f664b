/* Unit tests for the project-blind helpers of src/shared: the nearest name
 * a command, an option or a section was probably meant to be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "util.h"

static const char *const commands[] = { "topo", "plan", "refresh", "rewrite", "doctor", "status", "vms" };

static void test_nearest_word(void **state)
{
	assert_string_equal(nearest_word("top", commands, ARRAY_SIZE(commands)), "topo");
	assert_string_equal(nearest_word("TOPO", commands, ARRAY_SIZE(commands)), "topo");
	assert_string_equal(nearest_word("docter", commands, ARRAY_SIZE(commands)), "doctor");
	assert_string_equal(nearest_word("refres", commands, ARRAY_SIZE(commands)), "refresh");
	assert_string_equal(nearest_word("stauts", commands, ARRAY_SIZE(commands)), "status");
	/* nothing close enough: no guess */
	assert_null(nearest_word("bogus", commands, ARRAY_SIZE(commands)));
	assert_null(nearest_word("x", commands, ARRAY_SIZE(commands)));
	assert_null(nearest_word("", commands, ARRAY_SIZE(commands)));
	assert_null(nearest_word("topo", commands, 0));
}

static void test_nearest_long_words(void **state)
{
	static const char *const keys[] = { "hotplug_global_ok", "hotplug" };
	char longer[100];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_string_equal(nearest_word("hotplug_global", keys, ARRAY_SIZE(keys)), "hotplug_global_ok");
	/* words past the distance table are never near, and do not overflow it */
	assert_null(nearest_word(longer, keys, ARRAY_SIZE(keys)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nearest_word),
		cmocka_unit_test(test_nearest_long_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
