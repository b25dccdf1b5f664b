/* The wrapper's whole decision on a fixture host: eligibility, map groups,
 * the host facts guard, explicit ids, exclusion, iommufd descriptors and the
 * hotplug -global. Each case checks the exact argv and the log line. */
#include "fixture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "facts.h"
#include "rewrite.h"
#include "strbuf.h"
#include "sysfs.h"

static char *sys_root, *dir, *real_qemu;

static int setup(void **state)
{
	char *sub = NULL;

	sys_root = fixture_host("two-gpus");
	dir = fixture_tmpdir();
	real_qemu = fixture_write(dir, "qemu-system-x86_64", "#!/bin/sh\n", 0755);
	assert_true(asprintf(&sub, "%s/qemu-p2p.d", dir) > 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(sub);
	return 0;
}

static int teardown(void **state)
{
	fixture_cleanup();
	free(sys_root), free(dir), free(real_qemu);
	return 0;
}

/* Writes the operator file and a host file with current facts for
 * real_qemu (version and extra host lines given). */
static void configure(const char *op, const char *version, const char *host_extra)
{
	char *id = NULL, *host = NULL, *sub = NULL;

	free(fixture_write(dir, "qemu-p2p.conf", op, 0644));
	assert_true(asprintf(&sub, "%s/qemu-p2p.d", dir) > 0);
	if (version) {
		assert_int_equal(facts_identity(real_qemu, &id), 0);
		assert_true(asprintf(&host, "[qemu]\nbinary = %s\nversion = %s\nidentity = %s\n%s", real_qemu,
				     version, id, host_extra) > 0);
		free(fixture_write(sub, "host.conf", host, 0644));
	} else {
		char *p = NULL;

		assert_true(asprintf(&p, "%s/host.conf", sub) > 0);
		unlink(p);
		free(p);
	}
	free(id), free(host), free(sub);
}

struct result {
	char **argv;
	int argc;
	char *summary;
	bool changed;
};

static struct result run(int argc, char **argv, const struct fd_addr *fds, size_t n_fds, int proc)
{
	struct config cfg;
	struct rewrite_out out;
	struct result res;
	char *op = NULL;
	int sysfs = -1;

	assert_true(asprintf(&op, "%s/qemu-p2p.conf", dir) > 0);
	assert_int_equal(config_load(op, &cfg), 0);
	assert_int_equal(sysfs_open(sys_root, &sysfs), 0);
	struct rewrite_env env = { .sysfs = sysfs, .proc = proc, .fds = fds, .n_fds = n_fds, .real_binary = real_qemu };
	assert_int_equal(rewrite_argv(&cfg, argc, argv, &env, &out), 0);
	res.argc = out.argc;
	res.argv = calloc((size_t)out.argc + 1, sizeof(char *));
	for (int i = 0; i < out.argc; i++)
		res.argv[i] = strdup(out.argv[i]);
	res.summary = out.summary ? strdup(out.summary) : NULL;
	res.changed = out.changed;
	rewrite_out_free(&out);
	config_free(&cfg);
	close(sysfs);
	free(op);
	return res;
}

static void result_free(struct result *r)
{
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->summary);
}

#define GPU0 "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}"
#define AUDIO "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.1\",\"id\":\"hostdev1\",\"bus\":\"pci.3\",\"addr\":\"0x0\"}"
#define GPU1 "vfio-pci,host=04:00.0,id=hostdev2"
#define NIC "vfio-pci,host=0000:05:00.0,id=hostdev3"
#define MAP "[cliques]\nmode = map\n[map]\n0 = 03:00.0 04:00.0 03:00.1 05:00.0 06:00.0\n"

#define WITH(text, id) text ",\"x-nv-gpudirect-clique\":" #id "}"
#define GPU0_0 "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\",\"x-nv-gpudirect-clique\":0}"

static void expect_summary(const struct result *r, const char *fragment)
{
	if (!r->summary || !strstr(r->summary, fragment))
		fail_msg("summary '%s' lacks '%s'", r->summary ? r->summary : "(null)", fragment);
}

static void expect_unchanged(const struct result *r, int argc, char **argv)
{
	assert_false(r->changed);
	assert_int_equal(r->argc, argc);
	for (int i = 0; i < argc; i++)
		assert_string_equal(r->argv[i], argv[i]);
}

static void test_map_mode_qemu_8(void **state)
{
	char *argv[] = { "/usr/bin/qemu-system-x86_64", "-name", "guest=vm1", "-device", GPU0, "-device", AUDIO,
			 "-device", GPU1, "-device", NIC };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(11, argv, NULL, 0, -1);
	assert_true(r.changed);
	assert_int_equal(r.argc, 11);
	assert_string_equal(r.argv[4], GPU0_0);
	assert_string_equal(r.argv[6], AUDIO);
	assert_string_equal(r.argv[8], GPU1 ",x-nv-gpudirect-clique=0");
	assert_string_equal(r.argv[10], NIC);
	expect_summary(&r, "clique 0 = hostdev0 0000:03:00.0, hostdev2 0000:04:00.0 (map); skipped "
			   "hostdev1 0000:03:00.1 (class 0x040300 is not a display function); "
			   "hostdev3 0000:05:00.0 (vendor 0x8086 is not NVIDIA)");
	result_free(&r);
}

/* 1 MiB in one -device value: more than exec allows (128 KiB an argument),
 * so only reachable in-process; the splice must still be exact. */
static void test_one_mib_device(void **state)
{
	size_t big = 1 << 20;
	char *id = malloc(big + 1), *dev = NULL, *want = NULL;
	char *argv[] = { "qemu", "-device", NULL, "-device", GPU1 };
	struct result r;

	memset(id, 'x', big);
	id[big] = '\0';
	assert_true(asprintf(&dev, "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"%s\"}", id) > 0);
	assert_true(asprintf(&want, "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"%s\",\"x-nv-gpudirect-clique\":0}",
			     id) > 0);
	argv[2] = dev;
	configure(MAP, "8.2.2", "");
	r = run(5, argv, NULL, 0, -1);
	assert_true(r.changed);
	assert_string_equal(r.argv[2], want);
	assert_string_equal(r.argv[4], GPU1 ",x-nv-gpudirect-clique=0");
	result_free(&r);
	free(id), free(dev), free(want);
}

/* "[gpus] c8_free = ADDR/ID ..." for the fixture's GPUs at these buses, with
 * the ids refresh would write. */
static char *c8_lines(int n, const int *bus)
{
	struct strbuf b = { 0 };
	int sysfs = -1;

	assert_int_equal(sysfs_open(sys_root, &sysfs), 0);
	sb_addf(&b, "[gpus]\nc8_free =");
	for (int i = 0; i < n; i++) {
		struct pci_addr a = { 0, (uint8_t)bus[i], 0, 0 };
		char id[C8_ID_MAX];

		assert_int_equal(facts_gpu_id(sysfs, &a, NULL, id, sizeof(id)), 0);
		sb_addf(&b, " 0000:%02x:00.0/%s", bus[i], id);
	}
	sb_addf(&b, "\n");
	close(sysfs);
	return sb_take(&b);
}

static void test_guard_qemu_7(void **state)
{
	char *argv[] = { "qemu", "-device", GPU0, "-device", GPU1 };
	char *one = c8_lines(1, (const int[]){ 3 }), *both = c8_lines(2, (const int[]){ 3, 4 }), *saved = NULL;
	const char *modalias = "bus/pci/devices/0000:04:00.0/modalias";
	struct result r;
	size_t len;

	/* 04:00.0 has MSI-X at 0xC8 and is not in c8_free: it is skipped, and
	 * 03:00.0, alone in its group now, gets nothing either. */
	configure(MAP, "7.2.22", one);
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "hostdev2 0000:04:00.0 (QEMU 7.2.22 would refuse it: a capability covers 0xC8");
	expect_summary(&r, "hostdev0 0000:03:00.0 (the only GPU of its group in this VM)");
	result_free(&r);
	configure(MAP, "7.2.22", both);
	r = run(5, argv, NULL, 0, -1);
	assert_true(r.changed);
	assert_string_equal(r.argv[2], GPU0_0);
	result_free(&r);
	/* A card with other subsystem ids in 04:00.0 since refresh: not trusted. */
	assert_int_equal(chdir(sys_root), 0);
	assert_int_equal(read_file_at(AT_FDCWD, modalias, 256, &saved, &len), 0);
	free(fixture_write(sys_root, modalias, "pci:v000010DEd00002330sv000010DEsd00001234bc03sc02i00\n", 0644));
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "hostdev2 0000:04:00.0 (QEMU 7.2.22 puts the clique at 0xC8, and c8_free was measured "
			   "on another card here; run qemu-p2p refresh)");
	result_free(&r);
	free(fixture_write(sys_root, modalias, saved, 0644));
	free(one), free(both), free(saved);
}

static void test_facts_missing_or_stale(void **state)
{
	char *argv[] = { "qemu", "-device", GPU0, "-device", GPU1 };
	char *host = NULL;
	struct result r;

	configure(MAP, NULL, "");
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "run \"qemu-p2p refresh\" as root; unchanged");
	result_free(&r);
	assert_true(asprintf(&host, "%s/qemu-p2p.d/host.conf", dir) > 0);
	configure(MAP, "8.2.2", "");
	/* QEMU upgraded after refresh: its identity changes */
	free(fixture_write(dir, "qemu-system-x86_64", "#!/bin/sh\n# upgraded\n", 0755));
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "host facts are stale for");
	result_free(&r);
	free(host);
}

static void test_operator_id_and_exclude(void **state)
{
	char *argv[] = { "qemu", "-name", "guest=vm7", "-device", GPU0, "-device", GPU1 ",x-nv-gpudirect-clique=5" };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(7, argv, NULL, 0, -1);
	assert_string_equal(r.argv[4], WITH("{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\"", 5));
	assert_string_equal(r.argv[6], argv[6]);
	result_free(&r);
	configure("[cliques]\nmode = map\nexclude = vm6 vm7\n[map]\n0 = 03:00.0 04:00.0\n", "8.2.2", "");
	r = run(7, argv, NULL, 0, -1);
	expect_unchanged(&r, 7, argv);
	expect_summary(&r, "VM vm7 is in [cliques] exclude");
	result_free(&r);
}

static void test_vendor_override_and_fd(void **state)
{
	/* virtio-gpu (1af4) made NVIDIA with x-pci-vendor-id; the second GPU
	 * reached through an iommufd descriptor given by --fd. */
	char *argv[] = { "qemu", "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0000:06:00.0\",\"x-pci-vendor-id\":4318}",
			 "-device", "{\"driver\":\"vfio-pci\",\"id\":\"hostdev1\",\"iommufd\":\"iommufd0\",\"fd\":\"23\"}" };
	struct fd_addr fd = { 23, { 0, 3, 0, 0 } };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(5, argv, &fd, 1, -1);
	assert_string_equal(r.argv[2], "{\"driver\":\"vfio-pci\",\"host\":\"0000:06:00.0\",\"x-pci-vendor-id\":4318,\"x-nv-gpudirect-clique\":0}");
	assert_string_equal(r.argv[4], WITH("{\"driver\":\"vfio-pci\",\"id\":\"hostdev1\",\"iommufd\":\"iommufd0\",\"fd\":\"23\"", 0));
	result_free(&r);
}

static void test_fd_through_proc(void **state)
{
	char *argv[] = { "qemu", "-device", "{\"driver\":\"vfio-pci\",\"id\":\"a\",\"fd\":\"23\"}", "-device", GPU1 };
	char *proc = fixture_tmpdir(), *fddir = NULL, *fdlink = NULL;
	int procfd = -1;
	struct result r;

	assert_true(asprintf(&fddir, "%s/self/fd", proc) > 0);
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "mkdir -p '%s'", fddir) > 0);
	assert_int_equal(system(cmd), 0);
	assert_true(asprintf(&fdlink, "%s/23", fddir) > 0);
	assert_int_equal(symlink("/dev/vfio/devices/vfio3", fdlink), 0);
	assert_int_equal(sysfs_open(proc, &procfd), 0);
	configure(MAP, "8.2.2", "");
	r = run(5, argv, NULL, 0, procfd);
	assert_string_equal(r.argv[2], "{\"driver\":\"vfio-pci\",\"id\":\"a\",\"fd\":\"23\",\"x-nv-gpudirect-clique\":0}");
	expect_summary(&r, "clique 0 = a 0000:03:00.0, hostdev2 0000:04:00.0 (map)");
	result_free(&r);
	close(procfd);
	free(proc), free(fddir), free(fdlink), free(cmd);
}

static void test_hotplug_global(void **state)
{
	char *argv[] = { "qemu", "-device", GPU0, "-device", GPU1 };
	char *with_audio[] = { "qemu", "-device", GPU0, "-device", AUDIO, "-device", GPU1 };
	struct result r;

	configure("[cliques]\nmode = map\nhotplug = global\n[map]\n0 = 03:00.0 04:00.0\n", "8.2.2",
		  "[cliques]\nhotplug_global_ok = yes\n");
	r = run(5, argv, NULL, 0, -1);
	assert_int_equal(r.argc, 7);
	assert_string_equal(r.argv[5], "-global");
	assert_string_equal(r.argv[6], "vfio-pci.x-nv-gpudirect-clique=0");
	result_free(&r);
	configure("[cliques]\nmode = map\nhotplug = global\n[map]\n0 = 03:00.0 04:00.0\n", "8.2.2",
		  "[cliques]\nhotplug_global_ok = no\n");
	r = run(5, argv, NULL, 0, -1);
	assert_int_equal(r.argc, 5);
	expect_summary(&r, "hotplug = global not applied");
	result_free(&r);
	/* The GPU's audio function in the VM too: -global would give it clique 0
	 * and QEMU would refuse to start, whatever refresh found then. */
	configure("[cliques]\nmode = map\nhotplug = global\n[map]\n0 = 03:00.0 04:00.0\n", "8.2.2",
		  "[cliques]\nhotplug_global_ok = yes\n");
	r = run(7, with_audio, NULL, 0, -1);
	assert_int_equal(r.argc, 7);
	assert_string_equal(r.argv[2], GPU0_0);
	expect_summary(&r, "hotplug = global not applied: hostdev1 0000:03:00.1 is no GPU QEMU takes a clique on");
	result_free(&r);
}

static void test_probe_and_bad_config(void **state)
{
	char *probe[] = { "qemu", "-machine", "none,accel=kvm:tcg", "-qmp", "unix:/x,server=on,wait=off" };
	char *argv[] = { "qemu", "-device", GPU0, "-device", GPU1 };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(5, probe, NULL, 0, -1);
	expect_unchanged(&r, 5, probe);
	assert_null(r.summary); /* nothing to say for a probe */
	result_free(&r);
	configure("[cliques]\nmode = map\n[map]\nabc = 03:00.0\n", "8.2.2", "");
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "configuration rejected: ");
	expect_summary(&r, "qemu-p2p.conf:4: [map] label 'abc'");
	result_free(&r);
	configure("[cliques]\nmode = off\n", "8.2.2", "");
	r = run(5, argv, NULL, 0, -1);
	expect_unchanged(&r, 5, argv);
	expect_summary(&r, "mode = off");
	result_free(&r);
}

/* A Proxmox start (`qm showcmd`): -daemonize, a QMP monitor and
 * -readconfig make no probe; `args: -set device.ID.x-nv-gpudirect-clique=K`
 * is the operator's value for that GPU, and its group joins K. */
static void test_proxmox_start(void **state)
{
	char *argv[] = { "/usr/bin/kvm", "-id", "100", "-chardev",
			 "socket,id=qmp,path=/var/run/qemu-server/100.qmp,server=on,wait=off", "-mon",
			 "chardev=qmp,mode=control", "-pidfile", "/var/run/qemu-server/100.pid", "-daemonize",
			 "-readconfig", "/usr/share/qemu-server/pve-q35-4.0.cfg",
			 "-device", "vfio-pci,host=0000:03:00.0,id=hostpci0,bus=ich9-pcie-port-1,addr=0x0",
			 "-device", "vfio-pci,host=0000:04:00.0,id=hostpci1,bus=ich9-pcie-port-2,addr=0x0",
			 "-machine", "type=q35+pve0", "-set", "device.hostpci1.x-nv-gpudirect-clique=7" };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(20, argv, NULL, 0, -1);
	assert_string_equal(r.argv[13], "vfio-pci,host=0000:03:00.0,id=hostpci0,bus=ich9-pcie-port-1,addr=0x0,"
					"x-nv-gpudirect-clique=7");
	assert_string_equal(r.argv[15], argv[15]); /* no second property */
	expect_summary(&r, "clique 7 = hostpci0 0000:03:00.0, hostpci1 0000:04:00.0 (map); "
			   "devices in /usr/share/qemu-server/pve-q35-4.0.cfg are not seen (-readconfig)");
	result_free(&r);
}

/* x-pci-class-code (QEMU 10) is the class QEMU's clique check tests: an
 * audio function made a 3D controller is eligible, a GPU made an NVSwitch
 * class is not; x-pci-vendor-id likewise for the vendor. */
static void test_class_and_vendor_overrides(void **state)
{
	char *argv[] = { "qemu", "-device", GPU0, "-device", AUDIO, "-device", GPU1 ",x-pci-class-code=0x068000",
			 "-device", NIC };
	char *argv2[] = { "qemu", "-device", GPU0, "-device",
			  "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.1\",\"id\":\"hostdev1\",\"x-pci-class-code\":197120}",
			  "-device", NIC ",x-pci-vendor-id=0x10de,x-pci-class-code=0x30000" };
	struct result r;

	configure(MAP, "8.2.2", "");
	r = run(9, argv, NULL, 0, -1);
	expect_unchanged(&r, 9, argv);
	expect_summary(&r, "hostdev2 0000:04:00.0 (class 0x068000 is not a display function)");
	result_free(&r);
	r = run(7, argv2, NULL, 0, -1);
	assert_string_equal(r.argv[2], GPU0_0);
	assert_string_equal(r.argv[4], "{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.1\",\"id\":\"hostdev1\","
					"\"x-pci-class-code\":197120,\"x-nv-gpudirect-clique\":0}");
	assert_string_equal(r.argv[6], NIC ",x-pci-vendor-id=0x10de,x-pci-class-code=0x30000,x-nv-gpudirect-clique=0");
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_mode_qemu_8),
		cmocka_unit_test(test_guard_qemu_7),
		cmocka_unit_test(test_one_mib_device),
		cmocka_unit_test(test_facts_missing_or_stale),
		cmocka_unit_test(test_operator_id_and_exclude),
		cmocka_unit_test(test_vendor_override_and_fd),
		cmocka_unit_test(test_fd_through_proc),
		cmocka_unit_test(test_hotplug_global),
		cmocka_unit_test(test_probe_and_bad_config),
		cmocka_unit_test(test_proxmox_start),
		cmocka_unit_test(test_class_and_vendor_overrides),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
