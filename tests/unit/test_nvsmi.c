/* nvsmi_parse on nvidia-smi output: the matrix as published (OK only when
 * both directions say so), bus ids by index, and an error for each part
 * missing that names the file, the line where there is one, and what to
 * paste. */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "nvsmi.h"

#define BUS_IDS "index, pci.bus_id\n0, 00000000:05:00.0\n1, 00000000:06:00.0\n2, 00000000:76:00.0\n"

static void test_matrix_and_ids(void **state)
{
	const char *text = " \tGPU0\tGPU1\tGPU2\n"
			   " GPU0\tX\tOK\tNS\n"
			   " GPU1\tOK\tX\tOK\n"
			   " GPU2\tNS\tCNS\tX\n"
			   "\nLegend:\n\n  X    = Self\n  OK   = Status Ok\n\n" BUS_IDS;
	struct nvsmi n;
	struct err e = { { 0 } };
	char a[PCI_ADDR_STRLEN];

	assert_int_equal(nvsmi_parse("p2p.txt", text, &n, &e), 0);
	assert_int_equal(n.n, 3);
	assert_true(n.ok[0][1] && n.ok[1][0]);
	assert_false(n.ok[0][2] || n.ok[2][0]);
	/* GPU1 -> GPU2 says OK, GPU2 -> GPU1 says CNS: not OK either way */
	assert_false(n.ok[1][2] || n.ok[2][1]);
	assert_false(n.ok[0][0]);
	assert_string_equal(pci_addr_format(&n.addr[2], a), "0000:76:00.0");
}

/* The published fixture, from a file as plan --from-nvidia-smi reads it. */
static void test_fixture_not_transitive(void **state)
{
	char *path = NULL, *text = NULL;
	struct nvsmi n;
	size_t len;

	assert_true(asprintf(&path, "%s/../nvsmi/not-transitive.txt", getenv("HOSTS")) > 0);
	assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 16, &text, &len), 0);
	assert_int_equal(nvsmi_parse(path, text, &n, NULL), 0);
	assert_int_equal(n.n, 4);
	assert_true(n.ok[0][1] && n.ok[1][2] && n.ok[1][3] && n.ok[2][3]);
	assert_false(n.ok[0][2] || n.ok[0][3]);
	free(path), free(text);
}

static void expect_error(const char *text, const char *needle)
{
	struct nvsmi n;
	struct err e = { { 0 } };

	assert_int_equal(nvsmi_parse("p2p.txt", text, &n, &e), -EINVAL);
	if (!strstr(e.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_errors(void **state)
{
	expect_error("nothing here\n", "p2p.txt: no `nvidia-smi topo -p2p r` matrix found");
	expect_error(" GPU0 GPU1 GPU2\n GPU0 X OK\n" BUS_IDS, "p2p.txt:2: a matrix row with 2 cells where the header has 3");
	expect_error(" GPU0 GPU1\n GPU0 X OK\nindex, pci.bus_id\n0, 00000000:05:00.0\n1, 00000000:06:00.0\n",
		     "p2p.txt: the matrix has no row GPU1");
	expect_error(" GPU0 GPU1\n GPU0 X OK\n GPU1 OK X\n", "no bus id for GPU0; append the output of `nvidia-smi");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix_and_ids),
		cmocka_unit_test(test_fixture_not_transitive),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
