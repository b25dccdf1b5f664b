/* PCI address parsing: every spelling QEMU's host= accepts, and the ones it
 * rejects (set_pci_host_devaddr: hex fields, decimal function, limits). */
#include "fixture.h"

#include <string.h>

#include "pci.h"

static void test_qemu_accepts(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "0000:05:00.0", "0000:05:00.0" }, { "05:00.0", "0000:05:00.0" },
		{ "5:0.0", "0000:05:00.0" },        { "0:5:0.0", "0000:05:00.0" },
		{ "0000:F4:00.0", "0000:f4:00.0" }, { "0000:f4:1f.7", "0000:f4:1f.7" },
		{ "ffff:ff:1f.7", "ffff:ff:1f.7" }, { "0x5:0x0.0", "0000:05:00.0" },
		{ " 5:0.0", "0000:05:00.0" },       { "1:2:3.4", "0001:02:03.4" },
	};
	char buf[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pci_addr a;

		assert_int_equal(pci_addr_parse_qemu(rows[i].in, &a), 0);
		assert_string_equal(pci_addr_format(&a, buf), rows[i].out);
	}
}

static void test_qemu_rejects(void **state)
{
	static const char *const bad[] = {
		"", "05", "05:00", "05:00.8", "05:20.0", "100:00.0", "10000:00:00.0", "05:00.0 ", "05:00.a",
		"g5:00.0", "05:00:00:00.0", "-1:00.0", "05:00.0,", "0000:05:00.00x",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pci_addr a = { 0xdead, 1, 2, 3 };

		assert_int_equal(pci_addr_parse_qemu(bad[i], &a), -22);
		assert_int_equal(a.domain, 0xdead); /* untouched on failure */
	}
}

static void test_sysfs_names(void **state)
{
	struct pci_addr a;
	char buf[PCI_ADDR_STRLEN];

	assert_int_equal(pci_addr_parse_sysfs("0000:05:00.0", &a), 0);
	assert_string_equal(pci_addr_format(&a, buf), "0000:05:00.0");
	/* Intel VMD domains have five or more hex digits. */
	assert_int_equal(pci_addr_parse_sysfs("10000:e1:00.0", &a), 0);
	assert_string_equal(pci_addr_format(&a, buf), "10000:e1:00.0");
	assert_int_equal(pci_addr_parse_sysfs("5:0.0", &a), -22);
	assert_int_equal(pci_addr_parse_sysfs("0000:05:00.8", &a), -22);
	assert_int_equal(pci_addr_parse_sysfs("0000:05:00.0x", &a), -22);
	assert_int_equal(pci_addr_parse_sysfs("pci0000:00", &a), -22);
}

static void test_compare(void **state)
{
	struct pci_addr a, b;

	assert_int_equal(pci_addr_parse_qemu("5:0.0", &a), 0);
	assert_int_equal(pci_addr_parse_qemu("0000:05:00.0", &b), 0);
	assert_true(pci_addr_equal(&a, &b));
	assert_int_equal(pci_addr_parse_qemu("0000:05:00.1", &b), 0);
	assert_true(pci_addr_cmp(&a, &b) < 0);
	assert_int_equal(pci_addr_parse_qemu("0001:00:00.0", &b), 0);
	assert_true(pci_addr_cmp(&b, &a) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_accepts),
		cmocka_unit_test(test_qemu_rejects),
		cmocka_unit_test(test_sysfs_names),
		cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
