/* Per-VM clique ids (DESIGN "Cliques"): order of first appearance, the
 * operator's ids kept and joined, at least two GPUs per clique, 16 at most. */
#include "fixture.h"

#include "clique.h"

#define G(group, expl) { group, expl, -2, CLIQUE_NONE }

static void test_order_of_appearance(void **state)
{
	struct clique_gpu g[] = { G(7, -1), G(3, -1), G(7, -1), G(3, -1), G(9, -1) };

	clique_assign(g, 5);
	assert_int_equal(g[0].assigned, 0);
	assert_int_equal(g[1].assigned, 1);
	assert_int_equal(g[2].assigned, 0);
	assert_int_equal(g[3].assigned, 1);
	assert_int_equal(g[4].outcome, CLIQUE_ALONE);
	assert_int_equal(g[4].assigned, -1);
}

static void test_operator_id_joined_and_skipped(void **state)
{
	/* Group 1 has the operator's id 0 on its second GPU: the first joins
	 * it, and group 2 gets 1, skipping the operator's 0. */
	struct clique_gpu g[] = { G(1, -1), G(2, -1), G(1, 0), G(2, -1) };

	clique_assign(g, 4);
	assert_int_equal(g[0].outcome, CLIQUE_ADDED);
	assert_int_equal(g[0].assigned, 0);
	assert_int_equal(g[2].outcome, CLIQUE_EXPLICIT);
	assert_int_equal(g[1].assigned, 1);
	assert_int_equal(g[3].assigned, 1);
}

static void test_no_group(void **state)
{
	struct clique_gpu g[] = { G(-1, -1), G(4, -1), G(4, -1) };

	clique_assign(g, 3);
	assert_int_equal(g[0].outcome, CLIQUE_NO_GROUP);
	assert_int_equal(g[1].assigned, 0);
}

static void test_sixteen_at_most(void **state)
{
	struct clique_gpu g[36];

	for (int i = 0; i < 36; i++)
		g[i] = (struct clique_gpu)G(i / 2, -1);
	clique_assign(g, 36);
	assert_int_equal(g[31].assigned, 15);
	assert_int_equal(g[32].outcome, CLIQUE_FULL);
	assert_int_equal(g[35].assigned, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_of_appearance),
		cmocka_unit_test(test_operator_id_joined_and_skipped),
		cmocka_unit_test(test_no_group),
		cmocka_unit_test(test_sixteen_at_most),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
