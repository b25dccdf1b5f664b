/* Topology from fixture sysfs trees: one tree per link type (FACTS §3),
 * what counts as a GPU, VMD domains, the `auto` level from host bridge
 * vendors, and grouping on the blog's 8-GPU host. */
#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostplan.h"
#include "hostscan.h"
#include "sysfs.h"

/* Reads a host from description text; only GPUs are kept in gpus[]. */
struct scan {
	struct host h;
	struct host_fn *gpus[16];
	size_t n;
	int sysfs;
};

/* Every function in full: the host bridges themselves stand in for GPUs. */
static bool want_all(const struct host_fn *f)
{
	return true;
}

static void scan_with(struct scan *s, const char *text, hostscan_want *want)
{
	char *root = fixture_host_text(text);

	memset(s, 0, sizeof(*s));
	assert_int_equal(sysfs_open(root, &s->sysfs), 0);
	assert_int_equal(hostscan_read(s->sysfs, want, &s->h), 0);
	for (size_t i = 0; i < s->h.n; i++)
		if (host_fn_is_gpu(&s->h.fns[i]) && s->n < 16)
			s->gpus[s->n++] = &s->h.fns[i];
	free(root);
}

static void scan_text(struct scan *s, const char *text)
{
	scan_with(s, text, hostscan_want_gpus);
}

static void scan_free(struct scan *s)
{
	host_free(&s->h);
	close(s->sysfs);
}

static const char *addr(const struct host_fn *f)
{
	static char buf[PCI_ADDR_STRLEN];

	return pci_addr_format(&f->addr, buf);
}

static enum link_level link_of(struct scan *s, size_t a, size_t b)
{
	enum link_level ab, ba;

	assert_true(s->gpus[a]->placed && s->gpus[b]->placed);
	ab = topo_link(&s->gpus[a]->node, &s->gpus[b]->node);
	ba = topo_link(&s->gpus[b]->node, &s->gpus[a]->node);
	assert_int_equal(ab, ba); /* symmetric */
	return ab;
}

#define GPU "class=030200 vendor=10de device=2330"

static void test_same_switch_is_pix(void **state)
{
	struct scan s;

	scan_text(&s, "root 0000:00 vendor=8086 numa=0\n"
		      "dev 0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0 " GPU "\n"
		      "dev 0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:04:00.0 " GPU "\n");
	assert_int_equal(s.n, 2);
	assert_int_equal(link_of(&s, 0, 1), LINK_PIX);
	scan_free(&s);
}

static void test_two_level_switch_is_pxb(void **state)
{
	struct scan s;

	/* Root port -> switch A -> two ports, each -> switch B/C -> GPU. */
	scan_text(&s, "root 0000:00 vendor=8086 numa=0\n"
		      "dev 0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/0000:04:00.0/0000:05:00.0 " GPU "\n"
		      "dev 0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:06:00.0/0000:07:00.0/0000:08:00.0 " GPU "\n"
		      "dev 0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:06:00.0/0000:07:01.0/0000:09:00.0 " GPU "\n");
	assert_int_equal(link_of(&s, 0, 1), LINK_PXB);
	assert_int_equal(link_of(&s, 0, 2), LINK_PXB);
	assert_int_equal(link_of(&s, 1, 2), LINK_PIX);
	scan_free(&s);
}

static void test_two_root_ports_are_phb(void **state)
{
	struct scan s;

	scan_text(&s, "root 0000:00 vendor=1022 numa=0\n"
		      "dev 0000:00:01.1/0000:01:00.0 " GPU "\n"
		      "dev 0000:00:03.1/0000:02:00.0 " GPU "\n");
	assert_int_equal(link_of(&s, 0, 1), LINK_PHB);
	scan_free(&s);
}

static void test_two_host_bridges_one_node_are_node(void **state)
{
	struct scan s;

	scan_text(&s, "root 0000:00 vendor=8086 numa=0\nroot 0000:40 vendor=8086 numa=0\n"
		      "dev 0000:00:01.0/0000:01:00.0 " GPU "\n"
		      "dev 0000:40:01.0/0000:41:00.0 " GPU "\n");
	assert_int_equal(link_of(&s, 0, 1), LINK_NODE);
	scan_free(&s);
}

static void test_two_nodes_are_sys(void **state)
{
	struct scan s;

	scan_text(&s, "root 0000:00 vendor=8086 numa=0\nroot 0000:80 vendor=8086 numa=1\n"
		      "dev 0000:00:01.0/0000:01:00.0 " GPU "\n"
		      "dev 0000:80:01.0/0000:81:00.0 " GPU "\n");
	assert_int_equal(link_of(&s, 0, 1), LINK_SYS);
	scan_free(&s);
}

static void test_unknown_numa_is_one_node(void **state)
{
	struct scan s;

	/* numa_node -1 (firmware gave none): treated as one node, so NODE. */
	scan_text(&s, "root 0000:00 vendor=8086 numa=-1\nroot 0000:80 vendor=8086 numa=1\n"
		      "dev 0000:00:01.0/0000:01:00.0 " GPU "\n"
		      "dev 0000:80:01.0/0000:81:00.0 " GPU "\n");
	assert_int_equal(s.gpus[0]->numa, -1);
	assert_int_equal(link_of(&s, 0, 1), LINK_NODE);
	scan_free(&s);
}

static void test_what_is_a_gpu(void **state)
{
	struct scan s;
	bool nvswitch = false;

	scan_text(&s, "root 0000:00 vendor=8086 numa=0\n"
		      "dev 0000:00:01.0/0000:01:00.0 class=030000 vendor=10de device=1b06\n"
		      "dev 0000:00:01.0/0000:01:00.1 class=040300 vendor=10de device=10ef\n"
		      "dev 0000:00:02.0/0000:02:00.0 class=030000 vendor=1002 device=744c\n"
		      "dev 0000:00:03.0/0000:03:00.0 class=068000 vendor=10de device=22a3\n"
		      "dev 0000:00:04.0/0000:04:00.0 class=038000 vendor=1af4 device=1050\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(addr(s.gpus[0]), "0000:01:00.0");
	for (size_t i = 0; i < s.h.n; i++)
		nvswitch |= host_fn_is_nvswitch(&s.h.fns[i]);
	assert_true(nvswitch);
	scan_free(&s);
}

static void test_functions_of_one_device_are_pix(void **state)
{
	struct topo_node a, b;

	assert_int_equal(topo_node_from_path("devices/pci0000:00/0000:00:01.0/0000:01:00.0", 0, &a), 0);
	assert_int_equal(topo_node_from_path("devices/pci0000:00/0000:00:01.0/0000:01:00.1", 0, &b), 0);
	assert_int_equal(topo_link(&a, &b), LINK_PIX);
}

static void test_vmd_domain(void **state)
{
	struct scan s;

	/* Intel VMD puts NVMe/GPUs behind a 5-digit domain. */
	scan_text(&s, "root 0000:00 vendor=8086 numa=0\nroot 10000:00 vendor=8086 numa=0\n"
		      "dev 10000:00:02.0/10000:01:00.0/10000:02:00.0/10000:03:00.0 " GPU "\n"
		      "dev 10000:00:02.0/10000:01:00.0/10000:02:01.0/10000:04:00.0 " GPU "\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(addr(s.gpus[0]), "10000:03:00.0");
	assert_string_equal(s.gpus[0]->node.root, "pci10000:00");
	assert_int_equal(link_of(&s, 0, 1), LINK_PIX);
	scan_free(&s);
}

static void test_bad_paths(void **state)
{
	struct topo_node n;

	assert_int_equal(topo_node_from_path("devices/platform/foo", 0, &n), -EINVAL);
	assert_int_equal(topo_node_from_path("devices/pci0000:00", 0, &n), -EINVAL);
	assert_int_equal(topo_node_from_path("devices/pci0000:00/zz", 0, &n), -EINVAL);
}

static enum link_level auto_on(const char *roots)
{
	struct scan s;
	const char *why;
	enum link_level l;

	scan_with(&s, roots, want_all);
	struct host_fn *fns[s.h.n + 1];

	for (size_t i = 0; i < s.h.n; i++)
		fns[i] = &s.h.fns[i];
	l = hostplan_auto_level(fns, s.h.n, &why);
	assert_non_null(why);
	scan_free(&s);
	return l;
}

static void test_auto_level_from_host_bridges(void **state)
{
	assert_int_equal(auto_on("root 0000:00 vendor=1022\nroot 0000:40 vendor=1022\n"), LINK_NODE);
	assert_int_equal(auto_on("root 0000:00 vendor=8086\nroot 0000:80 vendor=8086\n"), LINK_PHB);
	assert_int_equal(auto_on("root 0000:00 vendor=10de\n"), LINK_PXB);    /* Grace */
	assert_int_equal(auto_on("root 0000:00 vendor=8086\nroot 0000:40 vendor=1022\n"), LINK_PXB);
}

static void test_blog_host_groups(void **state)
{
	char *desc = NULL, *root;

	assert_true(asprintf(&desc, "%s/examples/blog-8gpu.host", getenv("QP2P_SRC")) > 0);
	root = fixture_host(desc);
	free(desc);
	struct host h;
	struct topo_node nodes[8];
	int sysfs, labels[8];
	size_t n = 0;
	static const int phb[8] = { 0, 0, 2, 2, 4, 4, 6, 6 }, node[8] = { 0, 0, 0, 0, 4, 4, 4, 4 };

	assert_int_equal(sysfs_open(root, &sysfs), 0);
	assert_int_equal(hostscan_read(sysfs, hostscan_want_gpus, &h), 0);
	for (size_t i = 0; i < h.n; i++)
		if (host_fn_is_gpu(&h.fns[i]))
			nodes[n++] = h.fns[i].node;
	assert_int_equal(n, 8);
	topo_group(nodes, n, LINK_PHB, labels);
	assert_memory_equal(labels, phb, sizeof(phb));
	topo_group(nodes, n, LINK_NODE, labels);
	assert_memory_equal(labels, node, sizeof(node));
	topo_group(nodes, n, LINK_SYS, labels);
	for (int i = 0; i < 8; i++)
		assert_int_equal(labels[i], 0);
	topo_group(nodes, n, LINK_PIX, labels);
	assert_memory_equal(labels, phb, sizeof(phb)); /* two GPUs per switch */
	host_free(&h);
	close(sysfs);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_switch_is_pix),
		cmocka_unit_test(test_two_level_switch_is_pxb),
		cmocka_unit_test(test_two_root_ports_are_phb),
		cmocka_unit_test(test_two_host_bridges_one_node_are_node),
		cmocka_unit_test(test_two_nodes_are_sys),
		cmocka_unit_test(test_unknown_numa_is_one_node),
		cmocka_unit_test(test_what_is_a_gpu),
		cmocka_unit_test(test_functions_of_one_device_are_pix),
		cmocka_unit_test(test_vmd_domain),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_auto_level_from_host_bridges),
		cmocka_unit_test(test_blog_host_groups),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	fixture_cleanup();
	return r;
}
