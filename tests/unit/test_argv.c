/* Command-line scanning and the clique splice: JSON (compact, spaced,
 * nested, escaped) and legacy QemuOpts text. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "argv.h"

static struct vm_args scan(int argc, char **argv)
{
	struct vm_args a;

	assert_int_equal(argv_scan(argc, argv, &a), 0);
	return a;
}

static void check_splice(const char *in, const char *want)
{
	char *argv[] = { "qemu", "-device", (char *)in };
	struct vm_args a = scan(3, argv);
	char *out = NULL;

	assert_int_equal(a.n_devs, 1);
	assert_int_equal(argv_splice(in, &a.devs[0], 3, &out), 0);
	assert_string_equal(out, want);
	free(out);
	vm_args_free(&a);
}

static void test_json_splice(void **state)
{
	check_splice("{\"driver\":\"vfio-pci\",\"host\":\"0000:05:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}",
		     "{\"driver\":\"vfio-pci\",\"host\":\"0000:05:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\","
		     "\"x-nv-gpudirect-clique\":3}");
	/* Spaces, a slash and a nested object are kept byte for byte. */
	check_splice("{ \"driver\": \"vfio-pci\", \"host\": \"05:00.0\", \"romfile\": \"/a/b\", \"x\": {\"y\": 1} }  ",
		     "{ \"driver\": \"vfio-pci\", \"host\": \"05:00.0\", \"romfile\": \"/a/b\", \"x\": {\"y\": 1} ,"
		     "\"x-nv-gpudirect-clique\":3}  ");
}

static void test_legacy_splice(void **state)
{
	check_splice("vfio-pci,host=0000:05:00.0,id=hostdev0,bus=pci.2,addr=0x0",
		     "vfio-pci,host=0000:05:00.0,id=hostdev0,bus=pci.2,addr=0x0,x-nv-gpudirect-clique=3");
	/* A trailing separator comma: adding another would make ",," (a
	 * literal comma inside the previous value). */
	check_splice("vfio-pci,host=05:00.0,", "vfio-pci,host=05:00.0,x-nv-gpudirect-clique=3");
	check_splice("vfio-pci-nohotplug,host=05:00.0,romfile=/a,,b",
		     "vfio-pci-nohotplug,host=05:00.0,romfile=/a,,b,x-nv-gpudirect-clique=3");
	check_splice("driver=vfio-pci,host=05:00.0", "driver=vfio-pci,host=05:00.0,x-nv-gpudirect-clique=3");
}

static void test_fields(void **state)
{
	char *argv[] = {
		"qemu", "-name", "guest=vm-a,debug-threads=on",
		"-device", "vfio-pci,host=06:00.0,id=hostpci0,x-pci-vendor-id=0x10de,x-nv-gpudirect-clique=017",
		"--device", "{\"driver\":\"vfio-pci\",\"id\":\"hostdev1\",\"iommufd\":\"iommufd0\",\"fd\":\"23\"}",
		"-device", "{\"driver\":\"vfio-pci\",\"sysfsdev\":\"/sys/bus/mdev/devices/abc\",\"x-pci-vendor-id\":4318}",
		"-device", "e1000,netdev=n0",
		"-device", "vfio-pci,host=07:00.0,host=08:00.0,x-nv-gpudirect-clique=16",
	};
	struct vm_args a = scan(sizeof(argv) / sizeof(argv[0]), argv);

	assert_string_equal(a.name, "vm-a");
	assert_false(a.probe);
	assert_int_equal(a.n_devs, 4);
	assert_int_equal(a.devs[0].syntax, SYNTAX_LEGACY);
	assert_int_equal(a.devs[0].vendor, 0x10de);
	assert_int_equal(a.devs[0].clique, 15); /* base 0: octal, as QEMU */
	assert_string_equal(a.devs[0].id, "hostpci0");
	assert_int_equal(a.devs[1].source, SRC_FD);
	assert_string_equal(a.devs[1].source_value, "23");
	assert_int_equal(a.devs[2].source, SRC_SYSFSDEV);
	assert_int_equal(a.devs[2].vendor, 4318);
	assert_string_equal(a.devs[3].source_value, "08:00.0"); /* last wins */
	assert_int_equal(a.devs[3].clique, -2);                  /* 16 is invalid */
	vm_args_free(&a);
}

static void test_bad_json(void **state)
{
	char *argv[] = {
		"qemu",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"05:00.0\",\"host\":\"06:00.0\"}",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"05:00.0\"},\"x-nv-gpudirect-clique\":0}",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"05:00.0\",}",
		"-device", "{\"driver\":\"vfio-pci\",\"a\":{\"k\":1,\"k\":2}}",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"0\\\":\\\"\"}", /* key-like text inside a string */
	};
	struct vm_args a = scan(sizeof(argv) / sizeof(argv[0]), argv);

	assert_int_equal(a.n_bad, 4);
	assert_string_equal(a.bad[0].why, "a duplicate key in the JSON object");
	assert_string_equal(a.bad[1].why, "malformed JSON"); /* the blog script's output */
	assert_string_equal(a.bad[2].why, "malformed JSON");
	assert_string_equal(a.bad[3].why, "a duplicate key in the JSON object");
	assert_int_equal(a.n_devs, 1);
	vm_args_free(&a);
}

static void test_probes(void **state)
{
	char *probe[] = { "qemu", "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=kvm:tcg",
			  "-qmp", "unix:/x,server=on,wait=off", "-pidfile", "/p", "-daemonize" };
	char *version[] = { "qemu", "-version" };
	char *help[] = { "qemu", "-device", "help" };
	char *vm[] = { "qemu", "-machine", "nonexistent-machine" };
	struct vm_args a = scan(12, probe);

	assert_true(a.probe);
	vm_args_free(&a);
	a = scan(2, version);
	assert_true(a.probe);
	vm_args_free(&a);
	a = scan(3, help);
	assert_true(a.probe);
	vm_args_free(&a);
	a = scan(3, vm);
	assert_false(a.probe);
	vm_args_free(&a);
}

static void test_set_and_global(void **state)
{
	char *argv[] = { "qemu", "-set", "device.hostpci1.x-nv-gpudirect-clique=4", "-device",
			 "vfio-pci,host=05:00.0,id=hostpci1", "-global", "vfio-pci.x-nv-gpudirect-clique=0" };
	struct vm_args a = scan(7, argv);

	assert_int_equal(a.devs[0].clique, 4);
	assert_true(a.has_clique_global);
	vm_args_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_splice),  cmocka_unit_test(test_legacy_splice),
		cmocka_unit_test(test_fields),       cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_probes),       cmocka_unit_test(test_set_and_global),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
