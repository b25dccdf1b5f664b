/* partition_best: groups in which every pair may talk, keeping as many
 * pairs as possible, ties going to the lowest addresses; labels name the
 * first GPU of each group. */
#include "fixture.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "partition.h"

struct graph {
	size_t n;
	bool ok[PARTITION_MAX][PARTITION_MAX];
	struct pci_addr addr[PARTITION_MAX];
};

static void init(struct graph *g, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->n = n;
	for (size_t i = 0; i < n; i++)
		g->addr[i] = (struct pci_addr){ 0, (uint8_t)(0x10 + i), 0, 0 };
}

static void edge(struct graph *g, size_t a, size_t b)
{
	g->ok[a][b] = g->ok[b][a] = true;
}

static int best(struct graph *g, int *labels)
{
	return partition_best(g->n, (const bool(*)[PARTITION_MAX])g->ok, g->addr, labels);
}

static void test_all_and_none(void **state)
{
	struct graph g;
	int labels[PARTITION_MAX];

	init(&g, 5);
	for (size_t i = 0; i < 5; i++)
		for (size_t k = i + 1; k < 5; k++)
			edge(&g, i, k);
	assert_int_equal(best(&g, labels), 10);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(labels[i], 0);
	init(&g, 4);
	assert_int_equal(best(&g, labels), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(labels[i], (int)i);
}

/* 0-1, 1-2, 1-3, 2-3: pairing 0 with 1 first (greedy) keeps 2 pairs; the
 * triangle {1,2,3} keeps 3. */
static void test_not_greedy(void **state)
{
	struct graph g;
	int labels[PARTITION_MAX];

	init(&g, 4);
	edge(&g, 0, 1), edge(&g, 1, 2), edge(&g, 1, 3), edge(&g, 2, 3);
	assert_int_equal(best(&g, labels), 3);
	assert_int_equal(labels[0], 0);
	assert_int_equal(labels[1], 1);
	assert_int_equal(labels[2], 1);
	assert_int_equal(labels[3], 1);
}

/* A chain 0-1-2: {0,1} and {1,2} keep one pair each; the lower addresses
 * win the tie. Labels follow addresses, not input order. */
static void test_tie_lowest_addresses(void **state)
{
	struct graph g;
	int labels[PARTITION_MAX];

	init(&g, 3);
	edge(&g, 0, 1), edge(&g, 1, 2);
	assert_int_equal(best(&g, labels), 1);
	assert_int_equal(labels[0], 0);
	assert_int_equal(labels[1], 0);
	assert_int_equal(labels[2], 2);
	/* the same chain with GPU 2 at the lowest address: {1,2} wins now */
	g.addr[2].bus = 0x01;
	assert_int_equal(best(&g, labels), 1);
	assert_int_equal(labels[0], 0);
	assert_int_equal(labels[1], labels[2]);
	assert_int_not_equal(labels[0], labels[1]);
}

/* Two cliques of eight joined by one stray pair: 2 x 28 pairs, exact at
 * the largest size. */
static void test_sixteen_and_too_many(void **state)
{
	struct graph g;
	int labels[PARTITION_MAX];

	init(&g, 16);
	for (size_t h = 0; h < 16; h += 8)
		for (size_t i = h; i < h + 8; i++)
			for (size_t k = i + 1; k < h + 8; k++)
				edge(&g, i, k);
	edge(&g, 7, 8);
	assert_int_equal(best(&g, labels), 56);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(labels[i], i < 8 ? 0 : 8);
	assert_int_equal(partition_best(PARTITION_MAX + 1, (const bool(*)[PARTITION_MAX])g.ok, g.addr, labels),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_and_none),
		cmocka_unit_test(test_not_greedy),
		cmocka_unit_test(test_tie_lowest_addresses),
		cmocka_unit_test(test_sixteen_and_too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
