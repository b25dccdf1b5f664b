/* Grouping labels: one convention everywhere (0, 1, 2 ... by first
 * appearance among the GPUs given, -1 in no group), whatever the [map]
 * labels or topology components were. */
#include "fixture.h"

#include "hostplan.h"

#define N_GPUS 6

static struct host_fn fns[N_GPUS];
static struct host_fn *gpus[N_GPUS];

static int setup(void **state)
{
	static const char *const addrs[N_GPUS] = { "0000:05:00.0", "0000:06:00.0", "0000:07:00.0",
						   "0000:08:00.0", "0000:09:00.0", "0000:0a:00.0" };

	for (size_t i = 0; i < N_GPUS; i++) {
		fns[i] = (struct host_fn){ .vendor = 0x10de, .cls = 0x030200, .numa = -1, .iommu_group = -1 };
		assert_int_equal(pci_addr_parse_sysfs(addrs[i], &fns[i].addr), 0);
		gpus[i] = &fns[i];
	}
	return 0;
}

static struct map_entry entry(int label, const struct host_fn *f)
{
	return (struct map_entry){ .label = label, .addr = f->addr };
}

/* [map] labels 7, 3, 7, none, 3, 9 become 0, 1, 0, -1, 1, 2. */
static void test_map_labels_by_first_appearance(void **state)
{
	const struct map_entry map[] = { entry(3, &fns[4]), entry(7, &fns[0]), entry(9, &fns[5]),
					 entry(3, &fns[1]), entry(7, &fns[2]) };
	const int want[N_GPUS] = { 0, 1, 0, -1, 1, 2 };
	int labels[N_GPUS];
	struct grouping g;

	hostplan_group_map(map, sizeof(map) / sizeof(map[0]), gpus, N_GPUS, labels, &g);
	assert_memory_equal(labels, want, sizeof(want));
	assert_true(g.by_map);
	assert_string_equal(g.why, "[map]");
}

/* A map that names none of the GPUs given: every GPU in no group. */
static void test_map_naming_none(void **state)
{
	struct map_entry map[] = { entry(0, &fns[0]) };
	const int want[N_GPUS - 1] = { -1, -1, -1, -1, -1 };
	int labels[N_GPUS - 1];
	struct grouping g;

	hostplan_group_map(map, 1, gpus + 1, N_GPUS - 1, labels, &g);
	assert_memory_equal(labels, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_map_labels_by_first_appearance, setup),
		cmocka_unit_test_setup(test_map_naming_none, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
