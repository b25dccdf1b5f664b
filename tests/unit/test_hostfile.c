/* The generated host file: what hostfile_format writes reads back through
 * the configuration parser as the same values; lines stay short however
 * many addresses; the atomic write creates, replaces, and says which step
 * failed. */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "hostfile.h"

static struct pci_addr gpu(int bus)
{
	return (struct pci_addr){ 0, (uint8_t)bus, 0, 0 };
}

/* 20 GPUs in groups 0 (12 of them) and 1, 6 with 0xC8 free. */
static void sample(struct conf_file *h, struct map_entry *map, struct c8_entry *c8)
{
	*h = (struct conf_file){ 0 };
	h->binary = (char *)"/usr/bin/qemu-system-x86_64";
	h->version = (char *)"7.2.19";
	h->identity = (char *)"2049:1234:5678:1700000000";
	h->set = SET_MODE | SET_LEVEL | SET_MAP | SET_C8_FREE;
	h->mode = MODE_MAP;
	h->level = LINK_PHB;
	h->hotplug_global_ok = true;
	for (int i = 0; i < 20; i++)
		map[i] = (struct map_entry){ .label = i % 5 == 4 || i >= 16 ? 1 : 0, .addr = gpu(0x10 + i) };
	h->map = map, h->n_map = 20;
	for (int i = 0; i < 6; i++) {
		c8[i] = (struct c8_entry){ .addr = gpu(0x10 + i) };
		snprintf(c8[i].id, sizeof(c8[i].id), "10de:2330:10de:16c1:%08x", 0xabcdef00u + i);
	}
	c8[5].id[0] = '\0'; /* an entry from before ids stays one */
	h->c8_free = c8, h->n_c8_free = 6;
}

static void test_round_trip(void **state)
{
	struct map_entry map[20];
	struct c8_entry c8[6];
	struct conf_file h, back = { 0 };
	_cleanup_free_ char *text = NULL;

	sample(&h, map, c8);
	assert_int_equal(hostfile_format(&h, &text), 0);
	for (char *line = text, *end; *line; line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		assert_true(end - line < CONFIG_MAX_LINE);
	}
	assert_int_equal(config_parse_text("host.conf", text, strlen(text), true, &back), 0);
	assert_null(back.error);
	assert_string_equal(back.binary, h.binary);
	assert_string_equal(back.version, h.version);
	assert_string_equal(back.identity, h.identity);
	assert_int_equal(back.mode, MODE_MAP);
	assert_int_equal(back.level, LINK_PHB);
	assert_true(back.hotplug_global_ok);
	assert_int_equal(back.n_c8_free, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_true(pci_addr_equal(&back.c8_free[i].addr, &c8[i].addr));
		assert_string_equal(back.c8_free[i].id, c8[i].id);
	}
	assert_int_equal(back.n_map, 20);
	for (size_t i = 0; i < 20; i++) {
		size_t k = 0;

		while (k < back.n_map && !pci_addr_equal(&back.map[k].addr, &map[i].addr))
			k++;
		assert_true(k < back.n_map);
		assert_int_equal(back.map[k].label, map[i].label);
	}
	conf_file_free(&back);
}

/* One group of 300 GPUs (a big host under one label) comes back whole. */
static void test_big_group(void **state)
{
	static struct map_entry map[300];
	struct conf_file h = { .set = SET_MAP, .map = map, .n_map = 300 }, back = { 0 };
	_cleanup_free_ char *text = NULL;

	for (int i = 0; i < 300; i++)
		map[i] = (struct map_entry){ .label = 7, .addr = { (uint32_t)(i / 200), (uint8_t)(i % 200), 0, 0 } };
	assert_int_equal(hostfile_format(&h, &text), 0);
	assert_int_equal(config_parse_text("host.conf", text, strlen(text), true, &back), 0);
	assert_null(back.error);
	assert_int_equal(back.n_map, 300);
	assert_true(pci_addr_equal(&back.map[299].addr, &map[299].addr));
	conf_file_free(&back);
}

/* An invalid old file gives an empty copy; a valid one its host keys. */
static void test_clone(void **state)
{
	struct map_entry map[20];
	struct c8_entry c8[6];
	struct conf_file h, copy;

	sample(&h, map, c8);
	h.trusted = true;
	assert_int_equal(hostfile_clone(&h, &copy), 0);
	assert_string_equal(copy.identity, h.identity);
	assert_int_equal(copy.n_map, 20);
	assert_ptr_not_equal(copy.map, h.map);
	conf_file_free(&copy);
	h.error = (char *)"host.conf:3: bad";
	assert_int_equal(hostfile_clone(&h, &copy), 0);
	assert_null(copy.identity);
	assert_int_equal(copy.set, 0);
	assert_int_equal(copy.n_map, 0);
}

static void test_write_atomic(void **state)
{
	char *t = fixture_tmpdir(), *path = NULL, *text = NULL, *blocked = NULL;
	struct err e = { { 0 } };
	struct stat st;
	size_t len;

	assert_true(asprintf(&path, "%s/qemu-p2p.d/host.conf", t) > 0);
	/* a missing directory is named, never created: a file there is one no
	 * wrapper reads (a mistyped --config) */
	assert_int_equal(hostfile_write_atomic(path, "[qemu]\n", &e), -ENOENT);
	if (!strstr(e.msg, "qemu-p2p.d: no such directory"))
		fail_msg("error \"%s\" does not name the directory", e.msg);
	assert_int_equal(stat(path, &st), -1);
	assert_true(strlen(path) > strlen("/host.conf"));
	path[strlen(path) - strlen("/host.conf")] = '\0';
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(mkdir(path, 0755), 0);
	strcat(path, "/host.conf");
	e.msg[0] = '\0';
	assert_int_equal(hostfile_write_atomic(path, "[qemu]\n", &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(hostfile_write_atomic(path, "[cliques]\nmode = auto\n", &e), 0);
	assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &text, &len), 0);
	assert_string_equal(text, "[cliques]\nmode = auto\n");
	/* a file where the directory should be: an error that names the path */
	free(fixture_write(t, "plain", "", 0644));
	assert_true(asprintf(&blocked, "%s/plain/host.conf", t) > 0);
	assert_true(hostfile_write_atomic(blocked, "x\n", &e) < 0);
	if (!strstr(e.msg, "plain"))
		fail_msg("error \"%s\" does not name the path", e.msg);
	free(t), free(path), free(text), free(blocked);
}

static int teardown(void **state)
{
	fixture_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_big_group),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_write_atomic),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
