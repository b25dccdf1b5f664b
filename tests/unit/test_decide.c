/* The wrapper's decision without a sysfs tree: facts are given as the read
 * phase would leave them (devfacts.h), and the decision must add exactly
 * the expected ids and say why in one line. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "decide.h"

#define GPU_CLASS 0x030200
#define NVIDIA 0x10de

struct run {
	struct vm_args va;
	struct dev_facts facts[8];
	struct rewrite_out out;
	struct strbuf log;
};

static struct config map_config(const struct map_entry *map, size_t n, const char *version)
{
	static struct config cfg;

	cfg = (struct config){ .valid = true, .mode = MODE_MAP, .map = map, .n_map = n };
	cfg.host.version = (char *)version;
	return cfg;
}

/* Scans argv and gives each device the facts a reader would: located at
 * its host= address, with vendor and class as listed (0 vendor: skipped
 * as unreadable). */
static void setup(struct run *r, int argc, char **argv, const unsigned long *vendor, const unsigned long *cls)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(argv_scan(argc, argv, &r->va), 0);
	for (size_t i = 0; i < r->va.n_devs; i++) {
		struct dev_facts *f = &r->facts[i];

		f->dev = &r->va.devs[i];
		assert_int_equal(pci_addr_parse_qemu(f->dev->source_value, &f->addr), 0);
		f->located = true;
		f->vendor = vendor[i];
		f->cls = cls[i];
		f->fn = (struct host_fn){ .addr = f->addr, .numa = -1 };
		if (!vendor[i])
			devfacts_skip(f, "vendor unknown: %s", "Permission denied");
	}
	r->out.argv = calloc((size_t)argc + 3, sizeof(char *));
	memcpy(r->out.argv, argv, (size_t)argc * sizeof(char *));
	r->out.argc = argc;
}

static void finish(struct run *r)
{
	char *summary = sb_take(&r->log);

	r->out.summary = summary;
	rewrite_out_free(&r->out);
	vm_args_free(&r->va);
}

static void expect_log(struct run *r, const char *want)
{
	if (!r->log.s || !strstr(r->log.s, want))
		fail_msg("log '%s' lacks '%s'", r->log.s ? r->log.s : "", want);
}

static void test_map_and_skips(void **state)
{
	static const struct map_entry map[] = { { 7, { 0, 5, 0, 0 } }, { 7, { 0, 6, 0, 0 } }, { 7, { 0, 5, 0, 1 } } };
	char *argv[] = { "qemu", "-device", "vfio-pci,host=05:00.0,id=a", "-device", "vfio-pci,host=05:00.1,id=audio",
			 "-device", "{\"driver\":\"vfio-pci\",\"host\":\"06:00.0\",\"id\":\"b\"}", "-device",
			 "vfio-pci,host=07:00.0,id=c" };
	static const unsigned long vendor[] = { NVIDIA, NVIDIA, NVIDIA, 0 };
	static const unsigned long cls[] = { GPU_CLASS, 0x040300, GPU_CLASS, GPU_CLASS };
	struct config cfg = map_config(map, 3, "8.2.2");
	struct run r;

	setup(&r, 9, argv, vendor, cls);
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_true(r.out.changed);
	assert_string_equal(r.out.argv[2], "vfio-pci,host=05:00.0,id=a,x-nv-gpudirect-clique=0");
	assert_string_equal(r.out.argv[4], argv[4]);
	assert_string_equal(r.out.argv[6], "{\"driver\":\"vfio-pci\",\"host\":\"06:00.0\",\"id\":\"b\",\"x-nv-gpudirect-clique\":0}");
	assert_string_equal(r.out.argv[8], argv[8]);
	expect_log(&r, "clique 0 = a 0000:05:00.0, b 0000:06:00.0 (map); skipped audio 0000:05:00.1 (class 0x040300 is "
		       "not a display function); c 0000:07:00.0 (vendor unknown: Permission denied)");
	finish(&r);
}

#define CARD "10de:2bb1:10de:204b:5f3a9c21"

/* QEMU 7.2: no c8_free, no clique; with it, the clique, but only for the
 * card refresh measured (the live id matches), and never for an entry that
 * has no id (a host file from before ids). */
static void test_guard(void **state)
{
	static const struct map_entry map[] = { { 0, { 0, 5, 0, 0 } }, { 0, { 0, 6, 0, 0 } } };
	char *argv[] = { "qemu", "-device", "vfio-pci,host=05:00.0", "-device", "vfio-pci,host=06:00.0" };
	static const unsigned long vendor[] = { NVIDIA, NVIDIA }, cls[] = { GPU_CLASS, GPU_CLASS };
	struct c8_entry free_c8[] = { { { 0, 5, 0, 0 }, CARD }, { { 0, 6, 0, 0 }, CARD } };
	struct config cfg = map_config(map, 2, "7.2.22");
	struct run r;

	setup(&r, 5, argv, vendor, cls);
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_false(r.out.changed);
	expect_log(&r, "(no id) 0000:05:00.0, (no id) 0000:06:00.0 (QEMU 7.2.22 would refuse it");
	finish(&r);
	cfg.host.c8_free = free_c8;
	cfg.host.n_c8_free = 2;
	setup(&r, 5, argv, vendor, cls);
	strcpy(r.facts[0].gpu_id, CARD), strcpy(r.facts[1].gpu_id, CARD);
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_true(r.out.changed);
	finish(&r);
	/* 06:00.0 is another card now (other subsystem ids), 05:00.0 unreadable */
	setup(&r, 5, argv, vendor, cls);
	strcpy(r.facts[1].gpu_id, "10de:2bb1:10de:0000:5f3a9c21");
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_false(r.out.changed);
	expect_log(&r, "c8_free was measured on another card here; run qemu-p2p refresh");
	finish(&r);
	free_c8[1].id[0] = '\0';
	setup(&r, 5, argv, vendor, cls);
	strcpy(r.facts[0].gpu_id, CARD), strcpy(r.facts[1].gpu_id, CARD);
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_false(r.out.changed);
	expect_log(&r, "(no id) 0000:06:00.0 (QEMU 7.2.22 puts the clique at 0xC8, and c8_free has no card ids");
	finish(&r);
}

/* Auto mode on places in the tree: two GPUs under one switch of an Intel
 * root complex (PHB level), a third on another root (NODE: no group). */
static void test_auto(void **state)
{
	char *argv[] = { "qemu", "-device", "vfio-pci,host=03:00.0", "-device", "vfio-pci,host=04:00.0", "-device",
			 "vfio-pci,host=81:00.0" };
	static const unsigned long vendor[] = { NVIDIA, NVIDIA, NVIDIA }, cls[] = { GPU_CLASS, GPU_CLASS, GPU_CLASS };
	static const char *const paths[] = {
		"devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0",
		"devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:04:00.0",
		"devices/pci0000:80/0000:80:01.0/0000:81:00.0",
	};
	struct config cfg = { .valid = true, .mode = MODE_AUTO, .level = LINK_AUTO };
	struct run r;

	cfg.host.version = "8.2.2";
	setup(&r, 7, argv, vendor, cls);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(topo_node_from_path(paths[i], 0, &r.facts[i].fn.node), 0);
		r.facts[i].fn.placed = true;
		r.facts[i].fn.bridge_vendor = 0x8086;
	}
	assert_int_equal(decide_rewrite(&cfg, &r.va, r.facts, argv, &r.out, &r.log), 0);
	assert_string_equal(r.out.argv[2], "vfio-pci,host=03:00.0,x-nv-gpudirect-clique=0");
	assert_string_equal(r.out.argv[4], "vfio-pci,host=04:00.0,x-nv-gpudirect-clique=0");
	assert_string_equal(r.out.argv[6], argv[6]);
	expect_log(&r, "(auto, PHB); skipped (no id) 0000:81:00.0 (the only GPU of its group in this VM)");
	finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_and_skips),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_auto),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
