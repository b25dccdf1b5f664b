/* Capability layout as QEMU 7.2 sizes it: which layouts leave 0xC8..0xCF
 * free for the clique capability. */
#include "fixture.h"

#include <errno.h>
#include <string.h>

#include "caps.h"

/* Builds a 256-byte config with capabilities at offs (ids) in chain order. */
static void make(uint8_t *c, const uint8_t *offs, const uint8_t *ids, int n)
{
	memset(c, 0, 256);
	c[6] = 0x10;
	c[0x34] = n ? offs[0] : 0;
	for (int i = 0; i < n; i++) {
		c[offs[i]] = ids[i];
		c[offs[i] + 1] = i + 1 < n ? offs[i + 1] : 0;
	}
}

static void test_msix_at_c8_is_taken(void **state)
{
	uint8_t c[256], offs[] = { 0x60, 0x68, 0x78, 0xc8 }, ids[] = { 0x01, 0x05, 0x10, 0x11 };

	make(c, offs, ids, 4);
	assert_int_equal(caps_c8_free(c, 256), 0);
}

static void test_virtio_root_bus_is_free(void **state)
{
	/* virtio-gpu-pci on q35's root bus (FACTS §6): MSI-X 0x98 then five
	 * vendor capabilities; MSI-X is 12 bytes for QEMU, so 0xC8 is free. */
	uint8_t c[256], offs[] = { 0x98, 0x84, 0x70, 0x60, 0x50, 0x40 }, ids[] = { 0x11, 9, 9, 9, 9, 9 };

	make(c, offs, ids, 6);
	assert_int_equal(caps_c8_free(c, 256), 1);
}

static void test_virtio_behind_root_port_is_taken(void **state)
{
	uint8_t c[256], offs[] = { 0xdc, 0xc8, 0xb4, 0xa0, 0x8c, 0x84, 0x70, 0x60 };
	uint8_t ids[] = { 0x11, 9, 9, 9, 9, 0x01, 0x10, 9 };

	make(c, offs, ids, 8);
	assert_int_equal(caps_c8_free(c, 256), 0);
}

static void test_last_generic_cap_reaches_end(void **state)
{
	/* QEMU sizes an unknown capability up to the next one or 0x100: a
	 * PCIe capability last at 0x78 covers 0xC8. */
	uint8_t c[256], offs[] = { 0x60, 0x68, 0x78 }, ids[] = { 0x01, 0x05, 0x10 };

	make(c, offs, ids, 3);
	assert_int_equal(caps_c8_free(c, 256), 0);
	/* ... unless another capability starts after it, below 0xC8. */
	uint8_t offs2[] = { 0x60, 0x68, 0x78, 0xb4 }, ids2[] = { 0x01, 0x05, 0x10, 0x05 };
	make(c, offs2, ids2, 4);
	assert_int_equal(caps_c8_free(c, 256), 1);
}

static void test_unreadable_and_malformed(void **state)
{
	uint8_t c[256], offs[] = { 0x60, 0x68 }, ids[] = { 0x01, 0x05 };

	make(c, offs, ids, 2);
	assert_int_equal(caps_c8_free(c, 64), -ENODATA);
	c[0x69] = 0x60; /* loop */
	assert_int_equal(caps_c8_free(c, 256), -EINVAL);
	make(c, NULL, NULL, 0);
	c[6] = 0; /* no capability list at all */
	assert_int_equal(caps_c8_free(c, 256), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_at_c8_is_taken),
		cmocka_unit_test(test_virtio_root_bus_is_free),
		cmocka_unit_test(test_virtio_behind_root_port_is_taken),
		cmocka_unit_test(test_last_generic_cap_reaches_end),
		cmocka_unit_test(test_unreadable_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
