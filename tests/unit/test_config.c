/* Configuration files: values, continuation lines, the 200-character limit,
 * unknown keys, bad values, file ownership and mode, and precedence. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static struct conf_file parse(const char *text, bool host)
{
	struct conf_file f = { 0 };

	assert_int_equal(config_parse_text("t.conf", text, strlen(text), host, &f), 0);
	return f;
}

static void expect_error(const char *text, const char *fragment)
{
	struct conf_file f = parse(text, false);

	assert_non_null(f.error);
	if (!strstr(f.error, fragment))
		fail_msg("error '%s' lacks '%s'", f.error, fragment);
	conf_file_free(&f);
}

static void test_values(void **state)
{
	struct conf_file f = parse("[qemu]\nbinary = /usr/bin/qemu-system-x86_64\n"
				   "[cliques]\nmode = map ; inline comment\nlevel = pxb\nexclude = a b\n  c\n"
				   "hotplug = global\n[map]\n0 = 0000:05:00.0 06:00.0\n    0000:76:00.0\n12 = 85:00.0\n"
				   "[log]\ntarget = both\n",
				   false);

	assert_null(f.error);
	assert_string_equal(f.binary, "/usr/bin/qemu-system-x86_64");
	assert_int_equal(f.mode, MODE_MAP);
	assert_int_equal(f.level, LINK_PXB);
	assert_int_equal(f.n_exclude, 3);
	assert_string_equal(f.exclude[2], "c");
	assert_int_equal(f.hotplug, HOTPLUG_GLOBAL);
	assert_int_equal(f.n_map, 4);
	assert_int_equal(f.map[2].label, 0); /* continuation line */
	assert_int_equal(f.map[2].addr.bus, 0x76);
	assert_int_equal(f.map[3].label, 12);
	assert_int_equal(f.log, LOGT_BOTH);
	conf_file_free(&f);
}

static void test_bad_values(void **state)
{
	expect_error("[map]\nabc = 05:00.0\n", "t.conf:2: [map] label 'abc'");
	expect_error("[map]\n-1 = 05:00.0\n", "label '-1'");
	expect_error("[map]\n10000 = 05:00.0\n", "label '10000'");
	expect_error("[map]\n0 = 05:00.0\n1 = 0000:05:00.0\n", "t.conf:3: 0000:05:00.0 is in group 0 and in group 1");
	expect_error("[map]\n0 = 05:00.0 zz:00.0\n", "'zz:00.0' is not a PCI address");
	expect_error("[cliques]\nmode = sometimes\n", "t.conf:2: mode = sometimes");
	expect_error("[cliques]\nlevel = NV4\n", "level = NV4");
	expect_error("[log]\ntarget = file\n", "target = file");
	expect_error("[qemu]\nbinary = qemu\n", "absolute path");
	expect_error("[cliques]\nmode = map\n  off\n", "t.conf:3: mode takes one value");
	expect_error("[cliques\nmode = map\n", "t.conf:1: not a 'key = value' line");
	expect_error("just words\n", "t.conf:1:");
}

/* What operators write (issue 23): an indented key right under a header,
 * '#' comments after a value, names in any case, a key written twice. */
static void test_dialect(void **state)
{
	struct conf_file f = parse("[Cliques]\n  Mode = map   # our GPUs\n  level = PHB\n"
				   "exclude = a b # not c\n  d\n\n[MAP]\n0 = 05:00.0 # first\n    06:00.0 ; second\n"
				   "7 = 10000:05:00.0\n[log]\ntarget = both # a comment\n",
				   false);

	assert_null(f.error);
	assert_int_equal(f.mode, MODE_MAP);
	assert_int_equal(f.level, LINK_PHB);
	assert_int_equal(f.n_exclude, 3); /* a b, then d on the continuation */
	assert_string_equal(f.exclude[2], "d");
	assert_int_equal(f.n_map, 3);
	assert_int_equal(f.map[1].addr.bus, 6);
	assert_int_equal(f.map[2].addr.domain, 0x10000); /* a VMD domain (sysfsdev) */
	assert_int_equal(f.n_warnings, 0);
	conf_file_free(&f);
	/* '#' inside a word is not a comment: the whole value is checked. */
	expect_error("[log]\ntarget = both#x\n", "t.conf:2: target = both#x");

	f = parse("[cliques]\nmode = map\nmode = off\nexclude = a b\nexclude = c\n[map]\n0 = 05:00.0\n0 = 06:00.0\n", false);
	assert_null(f.error);
	assert_int_equal(f.mode, MODE_OFF);
	assert_int_equal(f.n_exclude, 1); /* the last value wins, lists too */
	assert_string_equal(f.exclude[0], "c");
	assert_int_equal(f.n_map, 2);
	assert_int_equal(f.n_warnings, 3);
	assert_string_equal(f.warnings[0], "t.conf:3: 'mode' set again; the last value wins");
	assert_string_equal(f.warnings[1], "t.conf:5: 'exclude' set again; the last value wins");
	assert_string_equal(f.warnings[2], "t.conf:8: [map] label 0 set again; its addresses join the same group");
	conf_file_free(&f);
}

/* The hint names the part of the address the operator got wrong, in the
 * form they wrote; never an example that reads like another device. */
/* An address listed twice in one group counts once; in two groups it is an
 * error naming the line. Checked among 1,000 addresses, 250 lines. */
static void test_map_duplicates(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct conf_file f;

	fprintf(m, "[map]\n");
	for (int g = 0; g < 250; g++)
		fprintf(m, "%d = %04x:%02x:00.0 %04x:%02x:00.0 %04x:%02x:00.0 %04x:%02x:00.0\n", g, g / 64, g % 64 * 4,
			g / 64, g % 64 * 4 + 1, g / 64, g % 64 * 4 + 2, g / 64, g % 64 * 4 + 3);
	fprintf(m, "7 = 0000:1c:00.0 0000:1d:00.0\n");
	fclose(m);
	f = parse(text, false);
	assert_null(f.error);
	assert_int_equal(f.n_map, 1000);
	conf_file_free(&f);
	free(text);
	expect_error("[map]\n0 = 05:00.0 06:00.0\n1 = 07:00.0\n\n2 = 08:00.0 06:00.0\n",
		     "t.conf:5: 06:00.0 is in group 0 and in group 2: an address belongs to one group");
}

static void test_address_hints(void **state)
{
	expect_error("[map]\n0 = 0000:4g:00.0\n", "'0000:4g:00.0' is not a PCI address: bus '4g' is not a hex number");
	expect_error("[map]\n0 = 0000:05:00\n", "no function: write 0000:05:00.F");
	expect_error("[map]\n0 = 05:20.0\n", "slot 20 is above 1f");
	expect_error("[map]\n0 = 05:00.9\n", "function 9 is above 7");
}

static void test_long_line(void **state)
{
	char text[400] = "[map]\n0 = ";

	for (int i = 0; i < 16; i++)
		strcat(text, "0000:05:00.0 "); /* "0 = " and 16 x 13 characters */
	strcat(text, "\n");
	expect_error(text, "t.conf:2: line is 212 characters long, the limit is 199");
}

static void test_unknown_key_warns(void **state)
{
	struct conf_file f = parse("[cliques]\nmode = map\ncolour = blue\n[future]\nx = 1\n", false);

	assert_null(f.error);
	assert_int_equal(f.n_warnings, 2);
	assert_string_equal(f.warnings[0], "t.conf:3: unknown key 'colour' in [cliques], ignored");
	assert_string_equal(f.warnings[1], "t.conf:4: unknown section [future], ignored with its keys");
	conf_file_free(&f);
	/* A mistyped section: said once, at its own line, with the nearest. */
	f = parse("# c\n[clique]\nmode = map\nlevel = PIX\n", false);
	assert_int_equal(f.n_warnings, 1);
	assert_string_equal(f.warnings[0],
			    "t.conf:2: unknown section [clique], ignored with its keys; did you mean [cliques]?");
	conf_file_free(&f);
	/* Facts are not the operator's to write: unknown in the operator file. */
	f = parse("[qemu]\nidentity = 1:2:3:4\n", false);
	assert_int_equal(f.n_warnings, 1);
	assert_null(f.identity);
	conf_file_free(&f);
}

static void test_files_and_precedence(void **state)
{
	char *dir = fixture_tmpdir(), *sub = NULL, *op, *host;
	struct config cfg;

	assert_true(asprintf(&sub, "%s/qemu-p2p.d", dir) > 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	op = fixture_write(dir, "qemu-p2p.conf", "[cliques]\nlevel = PIX\n[map]\n3 = 05:00.0 06:00.0\n", 0644);
	host = fixture_write(sub, "host.conf",
			     "[qemu]\nbinary = /usr/bin/q\nversion = 7.2.22\nidentity = 1:2:3:4\n"
			     "[cliques]\nmode = map\nlevel = SYS\n[map]\n0 = 85:00.0 86:00.0\n",
			     0644);
	assert_int_equal(config_load(op, &cfg), 0);
	assert_true(cfg.valid);
	assert_int_equal(cfg.mode, MODE_MAP);   /* host file */
	assert_int_equal(cfg.level, LINK_PIX);  /* operator wins */
	assert_int_equal(cfg.n_map, 2);         /* [map] whole from the operator */
	assert_int_equal(cfg.map[0].label, 3);
	assert_string_equal(cfg.binary, "/usr/bin/q");
	assert_string_equal(cfg.host.identity, "1:2:3:4");
	config_free(&cfg);

	/* group-writable: ignored as a whole, and the configuration rejected */
	assert_int_equal(chmod(op, 0664), 0);
	assert_int_equal(config_load(op, &cfg), 0);
	assert_false(cfg.valid);
	assert_non_null(strstr(cfg.error, "writable by group or others"));
	config_free(&cfg);

	/* a symbolic link is refused (O_NOFOLLOW) */
	assert_int_equal(chmod(op, 0644), 0);
	char *link = NULL;
	assert_true(asprintf(&link, "%s/link.conf", dir) > 0);
	assert_int_equal(symlink(op, link), 0);
	assert_int_equal(config_load(link, &cfg), 0);
	assert_false(cfg.valid);
	assert_non_null(strstr(cfg.error, "symbolic link"));
	config_free(&cfg);

	/* a bad value rejects the configuration but keeps its binary */
	free(op);
	op = fixture_write(dir, "qemu-p2p.conf", "[qemu]\nbinary = /opt/q\n[cliques]\nmode = maybe\n", 0644);
	assert_int_equal(config_load(op, &cfg), 0);
	assert_false(cfg.valid);
	assert_string_equal(cfg.binary, "/opt/q");
	config_free(&cfg);

	/* no files at all: valid, defaults, no facts */
	free(op);
	assert_true(asprintf(&op, "%s/none/qemu-p2p.conf", dir) > 0);
	assert_int_equal(config_load(op, &cfg), 0);
	assert_true(cfg.valid);
	assert_int_equal(cfg.mode, MODE_AUTO);
	assert_null(cfg.host.identity);
	config_free(&cfg);
	free(op), free(host), free(link), free(sub), free(dir);
}

static void test_host_path(void **state)
{
	char *p = config_host_path("/x/qemu-p2p.conf");

	assert_string_equal(p, "/x/qemu-p2p.d/host.conf");
	free(p);
}

static int teardown(void **state)
{
	fixture_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),         cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_long_line),      cmocka_unit_test(test_unknown_key_warns),
		cmocka_unit_test(test_files_and_precedence), cmocka_unit_test(test_host_path),
		cmocka_unit_test(test_dialect),        cmocka_unit_test(test_address_hints),
		cmocka_unit_test(test_map_duplicates),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
