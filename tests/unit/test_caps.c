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

/* The guest's view: the bytes the VFIO lab read back from QEMU (FACTS §6),
 * last in a list that has five other vendor capabilities (virtio). */
static void test_p2p_clique(void **state)
{
	uint8_t c[256], offs[] = { 0x98, 0x84, 0x70, 0x60, 0x50, 0x40, 0xc8 }, ids[] = { 0x11, 9, 9, 9, 9, 9, 9 };
	static const uint8_t cap[8] = { 0x09, 0x00, 0x08, 'P', '2', 'P', 0x28, 0x00 };
	int id = -1;

	make(c, offs, ids, 7);
	memcpy(c + 0xc8, cap, sizeof(cap));
	assert_int_equal(caps_p2p_clique(c, 256, &id), 1);
	assert_int_equal(id, 5);
	c[0xce] = 15 << 3;
	assert_int_equal(caps_p2p_clique(c, 256, &id), 1);
	assert_int_equal(id, 15);
	assert_int_equal(caps_p2p_clique(c, 64, &id), -ENODATA); /* unprivileged */
	c[0xcb] = 'Q'; /* another vendor capability: no clique */
	assert_int_equal(caps_p2p_clique(c, 256, &id), 0);
	make(c, NULL, NULL, 0);
	assert_int_equal(caps_p2p_clique(c, 256, &id), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_at_c8_is_taken),
		cmocka_unit_test(test_virtio_root_bus_is_free),
		cmocka_unit_test(test_virtio_behind_root_port_is_taken),
		cmocka_unit_test(test_last_generic_cap_reaches_end),
		cmocka_unit_test(test_unreadable_and_malformed),
		cmocka_unit_test(test_p2p_clique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
