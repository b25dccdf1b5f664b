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

static bool probe_of(int argc, char **argv)
{
	struct vm_args a = scan(argc, argv);
	bool probe = a.probe;

	vm_args_free(&a);
	return probe;
}

#define PROBE(...) probe_of(sizeof((char *[]){ "qemu", __VA_ARGS__ }) / sizeof(char *), (char *[]){ "qemu", __VA_ARGS__ })

static void test_probes(void **state)
{
	/* libvirt's capability probe, and -machine none in each spelling. */
	assert_true(PROBE("-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=kvm:tcg", "-qmp",
			  "unix:/x,server=on,wait=off", "-pidfile", "/p", "-daemonize"));
	assert_true(PROBE("-M", "none"));
	assert_true(PROBE("--machine", "type=none"));
	assert_true(PROBE("-machine", "accel=tcg,type=none"));
	assert_true(PROBE("-machine", "{\"type\":\"none\"}"));
	/* -version, -help, and the help requests that make QEMU exit. */
	assert_true(PROBE("-version"));
	assert_true(PROBE("-h"));
	assert_true(PROBE("--help"));
	assert_true(PROBE("-device", "help"));
	assert_true(PROBE("-device", "?"));
	assert_true(PROBE("-device", "vfio-pci,help"));
	assert_true(PROBE("-device", "vfio-pci,?"));
	assert_true(PROBE("-cpu", "help"));
	assert_true(PROBE("-cpu", "?"));
	assert_true(PROBE("-machine", "help"));
	assert_true(PROBE("-M", "?"));
	assert_true(PROBE("-machine", "q35,help"));
	/* VM starts: Proxmox starts every VM with -daemonize and a QMP
	 * monitor; scripts pass -qmp; libvirt starts with -S. */
	assert_false(PROBE("-id", "100", "-chardev", "socket,id=qmp,path=/var/run/qemu-server/100.qmp,server=on,wait=off",
			   "-mon", "chardev=qmp,mode=control", "-pidfile", "/var/run/qemu-server/100.pid", "-daemonize",
			   "-machine", "type=q35+pve0"));
	assert_false(PROBE("-qmp", "unix:/x,server=on,wait=off", "-S", "-machine", "pc-q35-7.2"));
	assert_false(PROBE("-machine", "nonexistent-machine"));
	assert_false(PROBE("-machine", "q35,accel=kvm", "-cpu", "host,kvm=off"));
	assert_false(PROBE("-device", "e1000,romfile=/help"));
	/* An option's value is not read as an option. */
	assert_false(PROBE("-name", "-version"));
	assert_false(PROBE("-device", "-h"));
}

static void test_set_and_global(void **state)
{
	char *argv[] = { "qemu", "-device", "vfio-pci,host=05:00.0,id=hostpci1", "-set",
			 "device.hostpci1.x-nv-gpudirect-clique=4", "-global", "vfio-pci.x-nv-gpudirect-clique=0" };
	struct vm_args a = scan(7, argv);

	assert_int_equal(a.devs[0].clique, 4);
	assert_true(a.has_clique_global);
	vm_args_free(&a);
}

/* -set changes a legacy device defined before it, key by key, as QEMU's
 * QemuOpts do; not one defined after it, not a JSON one (QEMU refuses
 * both), not an id with a dot (QEMU reads the id up to the first dot). */
static void test_set_exact(void **state)
{
	char *argv[] = {
		"qemu",
		"-set", "device.early.x-nv-gpudirect-clique=3",
		"-device", "vfio-pci,host=05:00.0,id=early",
		"-device", "vfio-pci,host=06:00.0,id=gpu,",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"07:00.0\",\"id\":\"json\"}",
		"-device", "vfio-pci,host=08:00.0,id=hostpci0.0",
		"-device", "vfio-pci,host=09:00.0,id=gone",
		"-set", "device.gpu.x-pci-vendor-id=0x1234",
		"-set", "device.gpu.romfile=/a,b",
		"-set", "device.gpu.x-pci-vendor-id=0x10de",
		"-set", "device.gpu.x-pci-class-code=0x030200",
		"-set", "device.json.x-nv-gpudirect-clique=2",
		"-set", "device.hostpci0.0.x-nv-gpudirect-clique=2",
		"-set", "device.gone.driver=e1000",
	};
	struct vm_args a = scan(sizeof(argv) / sizeof(argv[0]), argv);

	assert_int_equal(a.n_devs, 4); /* "gone" is an e1000 now */
	assert_int_equal(a.devs[0].clique, -1);
	assert_int_equal(a.devs[1].vendor, 0x10de); /* the last -set wins */
	assert_int_equal(a.devs[1].class_code, 0x030200);
	assert_true(a.devs[1].trailing_comma); /* of the text the splice sees */
	assert_string_equal(a.devs[1].sets, "x-pci-vendor-id=0x1234,romfile=/a,,b,x-pci-vendor-id=0x10de,"
					    "x-pci-class-code=0x030200");
	assert_string_equal(a.devs[1].source_value, "06:00.0");
	assert_int_equal(a.devs[2].clique, -1);
	assert_int_equal(a.devs[3].clique, -1);
	vm_args_free(&a);
}

static void test_overrides_and_readconfig(void **state)
{
	char *argv[] = {
		"qemu", "-readconfig", "/usr/share/qemu-server/pve-q35-4.0.cfg", "-readconfig", "/etc/b.cfg",
		"-device", "vfio-pci,host=05:00.0,x-pci-class-code=0x030000,sysfsdev=/sys/bus/pci/devices/0000:06:00.0",
		"-device", "{\"driver\":\"vfio-pci\",\"host\":\"07:00.0\",\"x-pci-class-code\":16777216}",
	};
	struct vm_args a = scan(sizeof(argv) / sizeof(argv[0]), argv);

	assert_int_equal(a.readconfig, 2);
	assert_int_equal(a.n_readconfig, 2);
	assert_int_equal(a.devs[0].class_code, 0x030000);
	/* sysfsdev is what QEMU opens when both are given. */
	assert_int_equal(a.devs[0].source, SRC_SYSFSDEV);
	assert_int_equal(a.devs[1].class_code, -2); /* above 24 bits */
	vm_args_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_splice),  cmocka_unit_test(test_legacy_splice),
		cmocka_unit_test(test_fields),       cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_probes),       cmocka_unit_test(test_set_and_global),
		cmocka_unit_test(test_set_exact),    cmocka_unit_test(test_overrides_and_readconfig),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
